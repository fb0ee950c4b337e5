"""A small offline synthetic corpus for training, built with the Debian TTS engines.

This is the training side's stand-in until the data helper's ``kws data synth`` lands on main:
:func:`build_synth_corpus` is the one function the trainer calls, so swapping it is one line.
It speaks every keyword (and ``_unknown_`` words from :data:`UNKNOWN_WORDS`) with

- espeak-ng (command line): 8 English accents x 40 voice variants, speed 110-230 wpm,
  pitch 15-85;
- flite: its 5 built-in voices, duration stretch 0.8-1.3, mean F0 80-220 Hz;
- festival: kal and ked diphone voices and the slt HTS voice, duration stretch 0.8-1.3, in
  one batch process per call;

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
import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kws.audio import load_audio, save_wav
from kws.data.manifest import Entry, read_manifest, write_manifest
from kws.errors import KwsError
from kws.train.data import UNKNOWN

CORPUS_VERSION = 2
ESPEAK_ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt3", "klatt4", "klatt6", "Andy", "Annie", "Alex",
                   "Alicia", "Belinda", "Benjamin", "Caleb", "David", "Ed", "Edward", "Gene",
                   "Hugo", "Jacky", "John", "Lee", "Linda", "Max", "Michael", "Mike", "Paul",
                   "Steph", "Storm")
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")
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


@dataclasses.dataclass(frozen=True)
class Utterance:
    """One clip to synthesize."""

    text: str
    label: str
    engine: str
    voice: str
    speed: float
    pitch: float
    offset: float          # fraction of the free time in the 1 s clip before the word
    index: int

    @property
    def relpath(self) -> str:
        return f"{self.label}/{self.engine}_{self.text}_{self.index:05d}.wav"


def _draw(rng: np.random.Generator, text: str, label: str, index: int) -> Utterance:
    engine = str(rng.choice(["espeak", "espeak", "flite", "festival"]))
    if engine == "espeak":
        voice = f"{rng.choice(ESPEAK_ACCENTS)}+{rng.choice(ESPEAK_VARIANTS)}"
        speed, pitch = float(rng.uniform(110, 230)), float(rng.uniform(15, 85))
    elif engine == "flite":
        voice = str(rng.choice(FLITE_VOICES))
        speed, pitch = float(rng.uniform(0.8, 1.3)), float(rng.uniform(80, 220))
    else:
        voice = str(rng.choice(FESTIVAL_VOICES))
        speed, pitch = float(rng.uniform(0.8, 1.3)), 0.0
    return Utterance(text, label, engine, voice, round(speed, 3), round(pitch, 1),
                     float(rng.random()), index)


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


def _render_cli(u: Utterance, tmp: Path) -> np.ndarray:
    wav = tmp / f"{u.index}_{u.label}.wav"
    if u.engine == "espeak":
        cmd = ["espeak-ng", "-v", u.voice, "-s", str(int(u.speed)), "-p", str(int(u.pitch)),
               "-w", str(wav), u.text]
    else:
        cmd = ["flite", "-voice", u.voice, "--setf", f"duration_stretch={u.speed}",
               "--setf", f"int_f0_target_mean={u.pitch}", "-t", u.text, "-o", str(wav)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return load_audio(wav)


def _render_festival(batch: list[Utterance], tmp: Path) -> list[np.ndarray]:
    script = io.StringIO()
    for u in batch:
        script.write(f"(voice_{u.voice})\n(Parameter.set 'Duration_Stretch {u.speed})\n"
                     f"(utt.save.wave (SynthText \"{u.text}\") \"{tmp}/fest_{u.index}_"
                     f"{u.label}.wav\" 'riff)\n")
    scm = tmp / f"batch_{batch[0].index}_{batch[0].label}.scm"
    scm.write_text(script.getvalue())
    subprocess.run(["festival", "-b", str(scm)], check=True, capture_output=True, timeout=600)
    return [load_audio(tmp / f"fest_{u.index}_{u.label}.wav") for u in batch]


def engines_available() -> list[str]:
    """The TTS engines found on this machine."""
    found = {"espeak": "espeak-ng", "flite": "flite", "festival": "festival"}
    return [e for e, exe in found.items() if shutil.which(exe)]


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
    engines = engines_available()
    if not engines:
        raise KwsError("no TTS engine found (need espeak-ng, flite or festival on PATH)")
    unknown_count = per_word * len(words) if unknown_count is None else unknown_count
    request = json.dumps({"v": CORPUS_VERSION, "words": words, "per_word": per_word,
                          "unknown": unknown_count, "seed": seed, "exclude": list(exclude),
                          "engines": engines})
    stamp = out / "request.json"
    if stamp.is_file() and stamp.read_text() == request and (out / "manifest.csv").is_file():
        read_manifest(out)
        return out
    rng = np.random.default_rng(seed)
    todo: list[Utterance] = []
    for w in words:
        todo += [_draw(rng, w, w, i) for i in range(per_word)]
    others = [w for w in UNKNOWN_WORDS if w not in words and w not in exclude]
    todo += [_draw(rng, str(others[i % len(others)]), UNKNOWN, i) for i in range(unknown_count)]
    todo = [u if u.engine in engines else dataclasses.replace(u, engine=engines[0],
            voice="en" if engines[0] == "espeak" else u.voice) for u in todo]
    entries: list[Entry] = []
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kws-tts-") as tmpname, \
            concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        tmp = Path(tmpname)
        fest = [u for u in todo if u.engine == "festival"]
        jobs = {pool.submit(_render_cli, u, tmp): [u] for u in todo if u.engine != "festival"}
        for k in range(0, len(fest), 100):
            jobs[pool.submit(_render_festival, fest[k:k + 100], tmp)] = fest[k:k + 100]
        bar = tqdm(total=len(todo), desc="synthesize", unit="clip", leave=False,
                   disable=not sys.stderr.isatty())
        for fut in concurrent.futures.as_completed(jobs):
            batch = jobs[fut]
            try:
                result = fut.result()
                clips = result if isinstance(result, list) else [result]
            except (subprocess.SubprocessError, KwsError, OSError):
                failed += len(batch)
                bar.update(len(batch))
                continue
            for u, clip in zip(batch, clips):
                try:
                    save_wav(out / u.relpath, _place(clip, u.offset))
                except KwsError:
                    failed += 1
                    continue
                split = "validation" if int(hashlib.sha1(u.relpath.encode()).hexdigest(), 16) \
                    % 10 == 0 else "train"
                entries.append(Entry(path=u.relpath, label=u.label, split=split,
                                     speaker=f"{u.engine}:{u.voice}", source=u.engine,
                                     params=json.dumps({"text": u.text, "voice": u.voice,
                                                        "speed": u.speed, "pitch": u.pitch})))
            bar.update(len(batch))
        bar.close()
    if failed:
        print(f"kws: warning: {failed} of {len(todo)} TTS clips failed", file=sys.stderr)
    entries.sort(key=lambda e: e.path)
    write_manifest(out, entries)
    from kws.fileio import write_text_atomic

    write_text_atomic(stamp, request)
    return out
