"""The training default's synthetic corpus: a recipe beside :mod:`kws.data.synth`.

Two corpus recipes exist: ``kws data synth`` (:mod:`kws.data.synth`) and this one share the
clip description (:class:`kws.data.synth.ClipSpec`) and the engine wrappers
(:func:`kws.data.tts.speak`, the one place that runs each engine), but this recipe keeps its
own sampling (engine mix :data:`ENGINE_WEIGHTS`, every installed voice, speeds, pitches, word
list, counts, trimming and placement); ``kws data synth`` draws differently (a tape factor,
its own unknown words) and has not been measured as the training default.
:func:`build_synth_corpus` is the one function the trainer calls.

It speaks every keyword (and ``_unknown_`` words from :data:`UNKNOWN_WORDS`) with every voice
each engine has installed here (:func:`corpus_voices`; version 2 used 320 of eSpeak's
voices, 8 accents x 40 variants, and no piper):

- espeak-ng (its command line, :mod:`kws.data.tts`'s ``espeak-cli``): all English voices
  (8 accents x 66 variants here), speed 110-230 wpm, pitch 15-85;
- flite: its 5 built-in voices, duration stretch 0.8-1.3, mean F0 80-220 Hz;
- festival: kal and ked diphone voices and the slt HTS voice, duration stretch 0.8-1.3, in
  one batch process per call;
- piper: its installed neural voice(s) (``joe``), duration stretch 0.8-1.3, deterministic
  (noise scales 0), in batches of 50 on a loaded model per thread, submitted first (the
  slowest engine, and half of the clips);

converts each clip to 16 kHz mono int16, trims leading and trailing silence (-40 dB below
the peak), and places it at a random offset within 1 s. Parameters are drawn up front from
the seed, so the corpus is deterministic; rendering runs on two threads. The manifest records
the engine, voice and parameters of every file; 10 % of each word's clips (by index) form the
validation split.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm import tqdm

from kws.audio import quantize_int16, save_wav
from kws.data import tts
from kws.data.manifest import UNKNOWN, Entry, read_manifest, write_manifest
from kws.data.synth import ClipSpec
from kws.data.tts import Request
from kws.errors import KwsError

#: 4: piper speaks half of the clips (3: a fifth; 2: a fixed subset of eSpeak NG's voices).
CORPUS_VERSION = 4
#: The engine mix (relative weights). piper, the one natural neural voice (and the slowest),
#: speaks half: on real speech (kws bench detection, seeds 0-2) clip accuracy rose for every
#: seed and the model misses fewer keywords at 2-10 FA/h on average than with a fifth (README,
#: "The synthetic corpus's engine mix"); three quarters or piper alone were worse (the other
#: engines' many voices matter).
ENGINE_WEIGHTS = {"espeak": 2.0, "flite": 1.0, "festival": 1.0, "piper": 4.0}
#: Other words for ``_unknown_``: common short English words, many of them command-like (the
#: rest of the 35-word Speech Commands vocabulary among them), excluding any keyword. Exact
#: homophones and near-synonyms of likely keywords ("know", "yeah", "nope", "yet") are left out:
#: TTS speaks them too much like the keyword, and a model that learns them as _unknown_
#: rejects real keywords.
UNKNOWN_WORDS = (
    "down", "go", "left", "right", "stop", "up", "on", "off", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine", "zero", "bed", "bird", "cat", "dog", "happy",
    "house", "marvin", "sheila", "tree", "wow", "backward", "forward", "follow", "learn",
    "visual", "yes", "no", "hello", "open", "close", "start", "play", "pause", "next", "back",
    "light", "music", "volume", "yellow", "nose", "now", "less", "guess",
    "noon", "snow", "slow", "test", "year", "kiss", "note", "sure", "okay", "hey",
    "lamp", "door", "window", "water", "coffee", "timer", "alarm", "phone", "table", "red",
    "green", "blue", "stay", "wait", "turn", "call", "home", "time", "today", "mess", "boat",
    "goat", "toe", "dress", "press", "bless", "chess", "nest", "west", "knee", "nail", "name",
)


def corpus_voices() -> dict[str, list[str]]:
    """Every voice of every engine of this corpus installed here (engine -> sorted voices;
    engines without voices left out): all English eSpeak NG voices (accent + variant), flite's,
    festival's and piper's."""
    found = {e: sorted(tts.engine_voices(w)) for e, w in WRAPPER.items()}
    return {e: v for e, v in found.items() if v}


def _draw(rng: np.random.Generator, voices: dict[str, list[str]]
          ) -> tuple[str, str, float, float, float]:
    """(engine, voice, speed, pitch, offset) of one clip, in the engine's own units, among
    the engines and voices of ``voices``."""
    engines = sorted(voices)
    w = np.array([ENGINE_WEIGHTS[e] for e in engines])
    engine = engines[int(rng.choice(len(engines), p=w / w.sum()))]
    voice = voices[engine][int(rng.integers(len(voices[engine])))]
    if engine == "espeak":
        speed, pitch = float(rng.uniform(110, 230)), float(rng.uniform(15, 85))
    elif engine == "flite":
        speed, pitch = float(rng.uniform(0.8, 1.3)), float(rng.uniform(80, 220))
    else:
        speed, pitch = float(rng.uniform(0.8, 1.3)), 0.0
    return engine, voice, round(speed, 3), round(pitch, 1), float(rng.random())


def _spec(rng: np.random.Generator, text: str, label: str, index: int,
          voices: dict[str, list[str]]) -> ClipSpec:
    """The :class:`ClipSpec` of one clip."""
    engine, voice, speed, pitch, offset = _draw(rng, voices)
    name = f"{engine}_{text}_{index:05d}.wav"
    split = "validation" if int(hashlib.sha1(f"{label}/{name}".encode()).hexdigest(), 16) \
        % 10 == 0 else "train"
    return ClipSpec(index=index, label=label, split=split, engine=engine,
                    request=_request(engine, text, voice, speed, pitch), offset_u=offset,
                    name=name)


def _place(samples: np.ndarray, offset: float, n: int = 16000) -> np.ndarray:
    """Trim silence (-40 dB below the peak) and place the word at ``offset`` within n samples."""
    x = samples.astype(np.int32)
    peak = int(np.max(np.abs(x))) if len(x) else 0
    if peak == 0:
        raise KwsError("TTS produced silence")
    loud = np.nonzero(np.abs(x) >= peak // 100)[0]
    x = x[loud[0]:loud[-1] + 1]
    if len(x) > n:
        x = x[:n]
    out = np.zeros(n, dtype=np.int16)
    start = int(offset * (n - len(x)))
    out[start:start + len(x)] = x
    return out


def _request(engine: str, text: str, voice: str, speed: float, pitch: float) -> Request:
    """The :class:`kws.data.tts.Request` that renders a clip as this corpus always has.

    espeak: ``speed`` is words/min and ``pitch`` eSpeak's 0-100 pitch (the engine's
    defaults are 175 and 50); flite: ``speed`` is the duration stretch and ``pitch`` the
    mean F0 in Hz (the wrapper's reference F0 is 170 Hz for slt, 110 Hz otherwise); festival:
    ``speed`` is the duration stretch, the voice's own intonation.
    """
    if engine == "espeak":
        return Request(text, voice, speed=int(speed) / 175.0, pitch=int(pitch) / 50.0)
    if engine == "flite":
        return Request(text, voice, speed=1.0 / speed,
                       pitch=pitch / (170.0 if voice == "slt" else 110.0))
    return Request(text, voice, speed=1.0 / speed)     # festival, piper


def _to_16k(x: np.ndarray, rate: int) -> np.ndarray:
    """Float samples at ``rate`` -> 16 kHz int16, as :func:`kws.audio.load_audio` converts."""
    if rate != 16000:
        import soxr

        x = soxr.resample(x, rate, 16000, quality="VHQ")
    return quantize_int16(x)


#: The :mod:`kws.data.tts` engine behind each engine name of this corpus: eSpeak NG through
#: its Debian binary (``espeak-cli``), as the measured corpus was made; the in-process library
#: (``espeak``) ships other data (e.g. klatt voices at about half the level) and carries state
#: between utterances.
WRAPPER = {"espeak": "espeak-cli", "flite": "flite", "festival": "festival", "piper": "piper"}


def _render(engine: str, batch: list[ClipSpec]) -> list[np.ndarray]:
    """Render clips of one engine through :func:`kws.data.tts.speak`."""
    spoken = tts.speak(WRAPPER[engine], [u.request for u in batch])
    return [_to_16k(x, rate) for x, rate in spoken]


def engines_available() -> list[str]:
    """The TTS engines of this corpus (espeak, flite, festival, piper) found on this
    machine."""
    return [e for e, w in WRAPPER.items() if tts.engine_voices(w)]


def build_synth_corpus(words: list[str], out_dir: str | Path, *, per_word: int = 400,
                       unknown_count: int | None = None, seed: int = 0,
                       exclude: tuple[str, ...] = ()) -> Path:
    """Synthesize (or reuse) a corpus of the keywords plus ``_unknown_`` words.

    Parameters
    ----------
    words : list of str
        Keywords, spoken as written.
    out_dir : path-like
        Corpus folder; reused as is when its manifest was written for the same request.
    per_word : int, keyword-only
        Clips per keyword.
    unknown_count : int, optional, keyword-only
        ``_unknown_`` clips (default ``per_word * len(words)``), spread over
        :data:`UNKNOWN_WORDS` minus the keywords.
    seed : int, keyword-only
        Seed of every random choice.
    exclude : tuple of str, keyword-only
        Words never spoken as ``_unknown_`` (besides the keywords).

    Returns
    -------
    Path
        The corpus folder, holding ``manifest.csv``.
    """
    out = Path(out_dir)
    voices = corpus_voices()
    if not voices:
        raise KwsError("no TTS engine found (need espeak-ng, flite or festival on PATH)")
    unknown_count = per_word * len(words) if unknown_count is None else unknown_count
    request = json.dumps({"v": CORPUS_VERSION, "words": words, "per_word": per_word,
                          "unknown": unknown_count, "seed": seed, "exclude": list(exclude),
                          "voices": {e: hashlib.sha1("\n".join(v).encode()).hexdigest()[:12]
                                     for e, v in voices.items()}})
    stamp = out / "request.json"
    if stamp.is_file() and stamp.read_text() == request and (out / "manifest.csv").is_file():
        read_manifest(out)
        return out
    rng = np.random.default_rng(seed)
    todo: list[ClipSpec] = []
    for w in words:
        todo += [_spec(rng, w, w, i, voices) for i in range(per_word)]
    others = [w for w in UNKNOWN_WORDS if w not in words and w not in exclude]
    todo += [_spec(rng, str(others[i % len(others)]), UNKNOWN, i, voices)
             for i in range(unknown_count)]
    entries, failed = _render_all(todo, out)
    if failed:
        print(f"kws: warning: {failed} of {len(todo)} TTS clips failed", file=sys.stderr)
    entries.sort(key=lambda e: e.path)
    write_manifest(out, entries)
    from kws.fileio import write_text_atomic

    write_text_atomic(stamp, request)
    return out


def _rendered(todo: list[ClipSpec], pool: concurrent.futures.Executor
              ) -> Iterator[tuple[list[ClipSpec], list[np.ndarray] | None]]:
    """(batch, clips, or None when the engine failed) as the rendering jobs finish: one clip
    per job; piper (the slowest, submitted first) in batches of 50 (a loaded voice per
    thread), festival in batches of 100 (one process each)."""
    batched = {"piper": 50, "festival": 100}
    jobs = {}
    for engine, size in batched.items():
        group = [u for u in todo if u.engine == engine]
        for k in range(0, len(group), size):
            jobs[pool.submit(_render, engine, group[k:k + size])] = group[k:k + size]
    jobs.update({pool.submit(_render, u.engine, [u]): [u] for u in todo
                 if u.engine not in batched})
    for fut in concurrent.futures.as_completed(jobs):
        try:
            yield jobs[fut], fut.result()
        except (subprocess.SubprocessError, KwsError, OSError):
            yield jobs[fut], None


def _render_all(todo: list[ClipSpec], out: Path) -> tuple[list[Entry], int]:
    """Render, place and write every clip (two threads); returns the manifest entries of the
    clips written and the number that failed."""
    entries: list[Entry] = []
    failed = 0
    bar = tqdm(total=len(todo), desc="synthesize", unit="clip", leave=False,
               disable=not sys.stderr.isatty())
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for batch, clips in _rendered(todo, pool):
            for u, clip in zip(batch, clips or [None] * len(batch)):
                try:
                    if clip is None:
                        raise KwsError("the engine failed")
                    save_wav(out / u.path, _place(clip, u.offset_u))
                except KwsError:
                    failed += 1
                    continue
                r = u.request
                entries.append(dataclasses.replace(u.entry(), params=json.dumps(
                    {"text": r.text, "voice": r.voice, "speed": round(r.speed, 4),
                     "pitch": round(r.pitch, 4)}, sort_keys=True)))
            bar.update(len(batch))
    bar.close()
    return entries, failed
