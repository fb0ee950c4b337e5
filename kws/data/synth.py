"""The offline synthetic corpus: keywords, ``_unknown_`` words and ``_silence_``, spoken by TTS.

``synthesize_corpus(words=["yes", "no"], per_word=500, out_dir="D")`` writes
``D/<label>/<engine>_<n>.wav`` (16 kHz mono int16, exactly 1 s) and ``D/manifest.csv``.

How a clip is made (every random choice is drawn up front from ``seed``, so the corpus is the
same whatever ``jobs`` is):

1. An engine (weighted; see :data:`ENGINE_WEIGHTS`), one of its voices (uniform), the text
   (the word, with ``""``, ``"."``, ``"!"`` or ``"?"`` for varied intonation), a speed factor
   (log-uniform in :data:`SPEED_RANGE`), a pitch factor (:data:`PITCH_RANGE`) and an intonation
   range factor.
2. The engine speaks it; the audio is resampled to 16 kHz with a "tape" factor (log-uniform in
   :data:`TAPE_RANGE`) that shifts formants and pitch together, like a longer or shorter vocal
   tract.
3. Leading and trailing silence is trimmed (10 ms frames more than 40 dB below the loudest
   frame), the clip is scaled to a random peak level (:data:`PEAK_DBFS`), and placed at a
   uniformly random offset within 1 s (a clip longer than 1 s is sped up to fit).

``_unknown_`` clips say a word drawn from :data:`UNKNOWN_WORDS`, without the keywords, phrases
that contain one, and their homophones (see :func:`unknown_words`).
``_silence_`` clips are synthesized white, pink or brown noise at -70 to -10 dBFS RMS (real
Speech Commands ``_silence_`` clips range from -66 to -12 dBFS); training-time augmentation
adds the recorded background noise on top.

Each clip goes to ``validation`` with probability ``validation_fraction``, else ``train``.

Work is split into fixed batches of clips, each made in a fresh ``python -m kws.data.synth``
process (eSpeak NG's output depends on what its process spoke before; see :mod:`kws.data.tts`),
``jobs`` at a time. Writes are atomic, so an interrupted run leaves only whole WAVs (and perhaps
hidden ``.*.tmp`` files, removed by the next run); re-running with the same settings resumes:
batches whose clips all exist are kept, the others are made again whole, and the manifest is
written last. The result equals an uninterrupted run's, byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.audio import SAMPLE_RATE, quantize_int16
from kws.data import tts
from kws.data.augment import colored_noise
from kws.data.manifest import MANIFEST_NAME, SILENCE, UNKNOWN, Entry, write_manifest
from kws.errors import KwsError
from kws.fileio import write_bytes_atomic, write_text_atomic
from kws.paths import REPO_ROOT

CLIP_SAMPLES = SAMPLE_RATE

#: Relative weight of each engine when it is selected (normalized over the selected ones).
#: espeak has by far the most voices (8 dialects x 68 variants), so it gets the largest share;
#: piper is a single but natural-sounding voice.
ENGINE_WEIGHTS: dict[str, float] = {"espeak": 0.5, "flite": 0.2, "festival": 0.2, "piper": 0.1}
#: Engines used when none are named (those installed). piper is optional (two extra PyPI
#: packages, and ~7 utterances/s against espeak's ~1,000), but where it is installed its one
#: natural voice at a 10 % share raised real-speech accuracy: on the real yes/no validation
#: split, a small DS-CNN trained on espeak+flite+festival scored 75.8 % (natural, mean of 4
#: training seeds: 69.8-81.2 %) and 82.3 % with piper added (81.4-83.0 %).
DEFAULT_ENGINES: tuple[str, ...] = ("espeak", "flite", "festival", "piper")
SPEED_RANGE = (0.75, 1.35)
PITCH_RANGE = (0.7, 1.45)
INTONATION_RANGE = (0.5, 1.6)
TAPE_RANGE = (0.88, 1.12)
PEAK_DBFS = (-18.0, -1.0)
SILENCE_DBFS = (-70.0, -10.0)
PUNCTUATION = ("", ".", "!", "?")
TRIM_DB = 40.0

#: Other words for ``_unknown_``: the Speech Commands vocabulary, near-misses of common
#: keywords, and everyday words.
UNKNOWN_WORDS: tuple[str, ...] = (
    # Speech Commands v0.02 words
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward",
    "four", "go", "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on",
    "one", "right", "seven", "sheila", "six", "stop", "three", "tree", "two", "up", "visual",
    "wow", "yes", "zero",
    # near-misses
    "yet", "yeah", "yell", "less", "mess", "guess", "chess", "nose", "know", "now", "snow",
    "note", "toe", "slow", "low", "though", "goal", "oh", "go on", "oak", "bow", "boat",
    "cup", "pup", "ups", "top", "drop", "shop", "step", "light", "lift", "fight", "write",
    "bright", "town", "brown", "crown", "gone", "dawn", "own", "of", "off it", "tough",
    # everyday words
    "hello", "okay", "please", "thanks", "sorry", "music", "water", "coffee", "morning",
    "night", "open", "close", "start", "play", "pause", "next", "back", "volume", "table",
    "window", "computer", "phone", "maybe", "never", "always", "today", "tomorrow", "really",
    "wait", "listen", "help", "time", "what", "where", "when", "why", "who", "how",
    "to", "too", "for", "ate", "won", "know", "write", "sea", "see", "bye", "buy",
)


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    """Everything needed to make one clip, drawn up front from the seed."""

    index: int
    label: str
    split: str
    engine: str  # a TTS engine, or "noise" for _silence_
    request: tts.Request | None
    tape: float = 1.0
    peak_dbfs: float = -3.0
    offset_u: float = 0.5  # uniform [0, 1): where the utterance sits in the free space
    noise_colour: str = ""
    noise_dbfs: float = 0.0
    noise_seed: int = 0
    name: str = ""  # file name in the label's folder (default ``<engine>_<index:06d>.wav``)

    @property
    def path(self) -> str:
        """The clip's file, relative to the corpus folder."""
        return f"{self.label}/{self.name or f'{self.engine}_{self.index:06d}.wav'}"

    def params(self) -> dict:
        """What made the clip (the manifest's ``params``)."""
        if self.request is None:
            return {"colour": self.noise_colour, "dbfs": round(self.noise_dbfs, 2),
                    "seed": self.noise_seed}
        r = self.request
        return {"text": r.text, "voice": r.voice, "speed": round(r.speed, 4),
                "pitch": round(r.pitch, 4), "intonation": round(r.pitch_range, 4),
                "tape": round(self.tape, 4), "peak_dbfs": round(self.peak_dbfs, 2)}

    def entry(self) -> Entry:
        """The clip's manifest entry."""
        speaker = f"{self.engine}:{self.request.voice}" if self.request else "noise"
        source = self.engine
        return Entry(path=self.path, label=self.label, split=self.split, speaker=speaker,
                     source=source, params=json.dumps(self.params(), sort_keys=True))


@dataclasses.dataclass
class SynthReport:
    """What :func:`synthesize_corpus` did."""

    out_dir: Path
    entries: list[Entry]
    made: int
    reused: int
    seconds: dict[str, float]  # per engine: seconds spent speaking (summed over workers)
    counts: dict[str, int]  # per engine: clips made

    def rates(self) -> dict[str, float]:
        """Utterances per second of each engine (per worker process)."""
        return {e: self.counts[e] / s for e, s in self.seconds.items() if s > 0}


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def plan_corpus(*, words: Sequence[str], per_word: int, unknown: int, silence: int,
                engines: Sequence[str], seed: int, validation_fraction: float = 0.1
                ) -> list[ClipSpec]:
    """Draw every clip's parameters; deterministic for the arguments.

    Returns
    -------
    list of ClipSpec
        ``per_word`` clips per keyword, ``unknown`` ``_unknown_`` and ``silence`` ``_silence_``
        clips, in that order.
    """
    voices = {e: tts.engine_voices(e) for e in engines}
    weights = np.array([ENGINE_WEIGHTS[e] for e in engines])
    weights = weights / weights.sum()
    unknown_pool = unknown_words(words)
    rng = np.random.default_rng([seed, 0x5EED])
    specs: list[ClipSpec] = []

    def speech(label: str, word: str) -> ClipSpec:
        engine = engines[int(rng.choice(len(engines), p=weights))]
        vs = voices[engine]
        req = tts.Request(
            text=word + PUNCTUATION[int(rng.integers(len(PUNCTUATION)))],
            voice=vs[int(rng.integers(len(vs)))],
            speed=_log_uniform(rng, *SPEED_RANGE),
            pitch=_log_uniform(rng, *PITCH_RANGE),
            pitch_range=_log_uniform(rng, *INTONATION_RANGE))
        return ClipSpec(index=len(specs), label=label,
                        split=_split(rng, validation_fraction), engine=engine, request=req,
                        tape=_log_uniform(rng, *TAPE_RANGE),
                        peak_dbfs=float(rng.uniform(*PEAK_DBFS)),
                        offset_u=float(rng.uniform()))

    for word in words:
        for _ in range(per_word):
            specs.append(speech(word, word))
    for _ in range(unknown):
        specs.append(speech(UNKNOWN, unknown_pool[int(rng.integers(len(unknown_pool)))]))
    for _ in range(silence):
        specs.append(ClipSpec(index=len(specs), label=SILENCE,
                              split=_split(rng, validation_fraction), engine="noise",
                              request=None,
                              noise_colour=("white", "pink", "brown")[int(rng.integers(3))],
                              noise_dbfs=float(rng.uniform(*SILENCE_DBFS)),
                              noise_seed=int(rng.integers(2**31))))
    return specs


def unknown_words(keywords: Sequence[str]) -> list[str]:
    """:data:`UNKNOWN_WORDS` without the keywords, phrases containing one, and homophones.

    A homophone is a word that eSpeak NG (en-us) spells with the same phonemes, stress aside
    ("know" for "no", "write" for "right"); without eSpeak NG only exact words are removed.
    """
    keys = {k.lower().strip() for k in keywords}
    pool = [w for w in UNKNOWN_WORDS if w not in keys and not (set(w.split()) & keys)]
    key_phones = {p for p in (tts.espeak_phonemes(k) for k in keys) if p}
    if key_phones:
        pool = [w for w in pool if tts.espeak_phonemes(w) not in key_phones]
    if not pool:
        raise KwsError("no _unknown_ words left after removing the keywords",
                       argument="words")
    return pool


def _split(rng: np.random.Generator, validation_fraction: float) -> str:
    return "validation" if rng.uniform() < validation_fraction else "train"


def trim_silence(x: np.ndarray, *, sample_rate: int = SAMPLE_RATE, threshold_db: float = TRIM_DB
                 ) -> np.ndarray:
    """Drop leading/trailing 10 ms frames more than ``threshold_db`` below the loudest frame.

    Parameters
    ----------
    x : ndarray of float, shape (T,)
    sample_rate : int, keyword-only
    threshold_db : float, keyword-only

    Returns
    -------
    ndarray, shape (T',)
        A view of ``x``; empty if ``x`` is all zeros.
    """
    hop = sample_rate // 100
    n = len(x) // hop
    if n == 0:
        return x
    energy = (x[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    peak = energy.max()
    if peak <= 0:
        return x[:0]
    loud = np.flatnonzero(energy >= peak * 10 ** (-threshold_db / 10))
    return x[loud[0] * hop: (loud[-1] + 1) * hop]


def render_speech(samples: np.ndarray, rate: int, spec: ClipSpec) -> tuple[np.ndarray, dict]:
    """Turn an engine's output into the 1 s int16 clip of ``spec``; returns (clip, extra params)."""
    import soxr

    extra: dict = {}
    x = np.asarray(samples, dtype=np.float64)
    # Tape factor: read the audio as if recorded at rate * tape.
    x = soxr.resample(x, rate * spec.tape, SAMPLE_RATE, quality="HQ")
    x = trim_silence(x)
    if len(x) == 0:
        raise KwsError(f"{spec.engine}: voice {spec.request.voice if spec.request else ''} "
                       f"produced silence for {spec.request.text if spec.request else ''!r}")
    if len(x) > CLIP_SAMPLES:
        fit = len(x) / CLIP_SAMPLES
        x = soxr.resample(x, SAMPLE_RATE * fit, SAMPLE_RATE, quality="HQ")[:CLIP_SAMPLES]
        extra["fit"] = round(fit, 4)
    x = x * (10 ** (spec.peak_dbfs / 20) / max(np.abs(x).max(), 1e-9))
    out = np.zeros(CLIP_SAMPLES)
    start = int(spec.offset_u * (CLIP_SAMPLES - len(x) + 1))
    out[start: start + len(x)] = x
    extra["start_ms"] = round(start * 1000 / SAMPLE_RATE, 1)
    extra["length_ms"] = round(len(x) * 1000 / SAMPLE_RATE, 1)
    return quantize_int16(out), extra


def render_silence(spec: ClipSpec) -> np.ndarray:
    """The ``_silence_`` clip of ``spec``: coloured noise at ``spec.noise_dbfs`` RMS."""
    rng = np.random.default_rng(spec.noise_seed)
    noise = colored_noise(CLIP_SAMPLES, colour=spec.noise_colour, rng=rng)
    noise *= 10 ** (spec.noise_dbfs / 20) / max(float(np.sqrt(np.mean(noise ** 2))), 1e-12)
    return quantize_int16(np.clip(noise, -1.0, 1.0 - 2 ** -15))


def wav_bytes(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A mono 16-bit PCM WAV file's bytes (the same bytes libsndfile writes, ~7x faster)."""
    data = np.asarray(samples, dtype="<i2").tobytes()
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, 2 * sample_rate, 2, 16)
            + b"data" + struct.pack("<I", len(data)) + data)


def _run_batch(engine: str, specs: Sequence[ClipSpec], out_dir: str
               ) -> tuple[str, float, list[tuple[int, dict]]]:
    """Make and write a batch of clips (in a worker). Returns engine, seconds, extra params."""
    t0 = time.perf_counter()
    results = []
    if engine == "noise":
        for s in specs:
            write_bytes_atomic(Path(out_dir) / s.path, wav_bytes(render_silence(s)))
            results.append((s.index, {}))
    else:
        try:
            spoken = tts.speak(engine, [s.request for s in specs])
            fallback = [False] * len(specs)
        except KwsError:
            # An engine can fail on one rare combination (festival's diphone voices on a very
            # low, slow, flat "no!"): speak the batch one by one, and where a request still
            # fails, use the voice's default prosody, and say so in the clip's params.
            spoken, fallback = [], []
            for s in specs:
                try:
                    spoken += tts.speak(engine, [s.request])
                    fallback.append(False)
                except KwsError:
                    neutral = tts.Request(text=s.request.text, voice=s.request.voice)
                    spoken += tts.speak(engine, [neutral])
                    fallback.append(True)
        for s, (x, rate), fb in zip(specs, spoken, fallback):
            clip, extra = render_speech(x, rate, s)
            if fb:
                extra["fallback"] = "default prosody"
            write_bytes_atomic(Path(out_dir) / s.path, wav_bytes(clip))
            results.append((s.index, extra))
    return engine, time.perf_counter() - t0, results


def _run_batch_in_subprocess(engine: str, specs: Sequence[ClipSpec], out_dir: Path
                             ) -> tuple[str, float, list[tuple[int, dict]]]:
    """Run :func:`_run_batch` in a fresh ``python -m kws.data.synth`` process.

    A plain subprocess rather than multiprocessing: it needs no ``if __name__ == "__main__"``
    guard in the caller's script, and no fork of a process that may hold TensorFlow's threads.
    """
    payload = json.dumps({"engine": engine, "out_dir": str(out_dir),
                          "specs": [dataclasses.asdict(s) for s in specs]})
    pkg_root = str(REPO_ROOT)
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    res = subprocess.run([sys.executable, "-m", "kws.data.synth"], input=payload.encode(),
                         capture_output=True, env=env)
    if res.returncode != 0:
        lines = res.stderr.decode(errors="replace").strip().splitlines()
        raise KwsError(f"{out_dir}: {engine} worker failed: "
                       f"{lines[-1] if lines else res.returncode}")
    engine, secs, items = json.loads(res.stdout.decode().strip().splitlines()[-1])
    return engine, secs, [(int(i), extra) for i, extra in items]


def _worker_main() -> int:
    """Entry point of a batch worker: JSON batch on stdin, JSON result on stdout."""
    job = json.loads(sys.stdin.read())
    specs = []
    for d in job["specs"]:
        req = tts.Request(**d["request"]) if d["request"] is not None else None
        specs.append(ClipSpec(**{**d, "request": req}))
    try:
        result = _run_batch(job["engine"], specs, job["out_dir"])
    except KwsError as exc:
        print(f"kws: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


SLOWEST_FIRST = ("piper", "flite", "festival", "espeak", "noise")

#: Clips per work unit; each unit runs in a fresh process (~0.5 s to start; festival's own
#: start costs ~1 s more, piper's model load ~1 s).
BATCH = {"espeak": 500, "flite": 50, "festival": 100, "piper": 100, "noise": 500}


def synthesize_corpus(*, words: Sequence[str], per_word: int, out_dir: str | os.PathLike[str],
                      unknown: int | None = None, silence: int | None = None,
                      engines: Sequence[str] | None = None, seed: int = 0, jobs: int = 2,
                      validation_fraction: float = 0.1, progress: bool = True) -> SynthReport:
    """Synthesize a keyword corpus into ``out_dir`` and write its manifest.

    Parameters
    ----------
    words : sequence of str, keyword-only
        The keywords (each becomes a label).
    per_word : int, keyword-only
        Clips per keyword.
    out_dir : path-like, keyword-only
        Dataset folder (created).
    unknown, silence : int, keyword-only
        Number of ``_unknown_`` and ``_silence_`` clips (default: ``per_word`` and
        ``per_word // 2``).
    engines : sequence of str, keyword-only
        TTS engines (default: every installed one of :data:`DEFAULT_ENGINES`).
    seed : int, keyword-only
        The corpus is a pure function of the arguments other than ``jobs`` and ``progress``.
    jobs : int, keyword-only
        Worker processes (each batch of clips runs in a fresh one, even with ``jobs=1``).
    validation_fraction : float, keyword-only
        Fraction of clips assigned to the validation split.
    progress : bool, keyword-only
        Show a tqdm progress bar.

    Returns
    -------
    SynthReport

    Raises
    ------
    KwsError
        Bad words, counts or engines, or ``out_dir`` holding a corpus made with other settings.
    """
    words, unknown, silence, engines = _checked(words, per_word, unknown, silence, jobs,
                                                engines)
    out = Path(out_dir)
    _claim_folder(out, {"format": 1, "words": words, "per_word": per_word, "unknown": unknown,
                        "silence": silence, "engines": engines, "seed": seed,
                        "validation_fraction": validation_fraction,
                        "voices": {e: len(tts.engine_voices(e)) for e in engines}})
    specs = plan_corpus(words=words, per_word=per_word, unknown=unknown, silence=silence,
                        engines=engines, seed=seed, validation_fraction=validation_fraction)
    batches, reused = _batches(specs, engines, out)
    seconds, counts, extras = _run_batches(batches, out, jobs=jobs, total=len(specs),
                                           reused=reused, progress=progress)
    entries = _entries(specs, extras)
    if reused:
        # Clips made by an earlier, interrupted run: take their extra params from the
        # manifest-in-progress if present; they are otherwise identical by construction.
        entries = _merge_previous(out, entries, set(extras))
    write_manifest(out, entries)
    return SynthReport(out_dir=out, entries=entries, made=len(specs) - reused, reused=reused,
                       seconds=seconds, counts=counts)


def _checked(words: Sequence[str], per_word: int, unknown: int | None, silence: int | None,
             jobs: int, engines: Sequence[str] | None
             ) -> tuple[list[str], int, int, list[str]]:
    """The arguments of :func:`synthesize_corpus` checked, with their defaults filled in."""
    words = [w.strip() for w in words]
    if not words or any(not w for w in words):
        raise KwsError("give one or more non-empty words, e.g. yes,no", argument="words")
    if len(set(words)) != len(words):
        raise KwsError(f"repeated word in {','.join(words)}", argument="words")
    for w in words:
        if w in (UNKNOWN, SILENCE) or "/" in w or w.startswith("."):
            raise KwsError(f"{w!r} cannot be a keyword", argument="words")
    if per_word < 1:
        raise KwsError(f"must be at least 1 (got {per_word})", argument="per_word")
    unknown = per_word if unknown is None else unknown
    silence = per_word // 2 if silence is None else silence
    if unknown < 0 or silence < 0:
        raise KwsError(f"counts cannot be negative (got {unknown}, {silence})",
                       argument="unknown" if unknown < 0 else "silence")
    if jobs < 1:
        raise KwsError(f"must be at least 1 (got {jobs})", argument="jobs")
    if engines is None:
        engines = [e for e in tts.available_engines() if e in DEFAULT_ENGINES]
        if not engines:
            raise KwsError("no TTS engine installed (pip install espeakng-loader, or apt-get "
                           "install flite festival)")
    engines = list(dict.fromkeys(engines))
    for e in engines:
        if not tts.engine_voices(e):
            raise KwsError(f"{e} is not installed here (installed: "
                           f"{', '.join(tts.available_engines()) or 'none'})",
                           argument="engines")
    return words, unknown, silence, engines


def _claim_folder(out: Path, config: dict) -> None:
    """Make ``out`` this corpus's folder: empty, or holding a corpus of the same ``config``
    (then resumed); clear the temporaries of a run that was killed."""
    cfg_path = out / "synth.json"
    if cfg_path.exists():
        try:
            old = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if old != config:
            raise KwsError(f"{cfg_path}: this folder holds a corpus made with other settings; "
                           "use another out_dir or delete it")
    elif out.exists() and any(out.iterdir()):
        raise KwsError(f"{out}: folder is not empty and holds no synth.json; use another "
                       "out_dir")
    write_text_atomic(cfg_path, json.dumps(config, indent=1, sort_keys=True) + "\n")
    for stale in out.glob("*/.*.tmp"):  # temporaries of a run that was killed
        stale.unlink()


def _batches(specs: list[ClipSpec], engines: list[str], out: Path
             ) -> tuple[list[tuple[str, list[ClipSpec]]], int]:
    """The batches still to make (engine, clips) and the number of clips already made.

    eSpeak NG keeps synthesis state from one utterance to the next (its output for a request
    depends on what the process spoke before), so every batch runs in a fresh process, and
    batches are fixed slices of each engine's clips: a batch is redone whole if any of its
    clips is missing. The corpus is then the same for any ``jobs`` and after a resume.
    """
    batches: list[tuple[str, list[ClipSpec]]] = []
    reused = 0
    # The slowest engines go first, so that the workers finish together.
    for engine in sorted(engines + ["noise"], key=lambda e: SLOWEST_FIRST.index(e)):
        mine = [s for s in specs if s.engine == engine]
        step = BATCH[engine]
        for i in range(0, len(mine), step):
            group = mine[i: i + step]
            if all((out / s.path).exists() for s in group):
                reused += len(group)
            else:
                batches.append((engine, group))
    return batches, reused


def _run_batches(batches: list[tuple[str, list[ClipSpec]]], out: Path, *, jobs: int,
                 total: int, reused: int, progress: bool
                 ) -> tuple[dict[str, float], dict[str, int], dict[int, dict]]:
    """Make the batches, ``jobs`` at a time: seconds and clips per engine, and the extra
    parameters of every clip made (by index)."""
    from tqdm import tqdm

    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    extras: dict[int, dict] = {}
    bar = tqdm(total=total, initial=reused, desc="synth", unit="clip", disable=not progress)

    def collect(res: tuple[str, float, list[tuple[int, dict]]]) -> None:
        engine, secs, items = res
        seconds[engine] = seconds.get(engine, 0.0) + secs
        counts[engine] = counts.get(engine, 0) + len(items)
        extras.update(items)
        bar.update(len(items))

    try:
        if batches:
            with ThreadPoolExecutor(max_workers=jobs) as ex:
                futures = [ex.submit(_run_batch_in_subprocess, e, g, out) for e, g in batches]
                for f in futures:
                    collect(f.result())
    finally:
        bar.close()
    return seconds, counts, extras


def _entries(specs: list[ClipSpec], extras: dict[int, dict]) -> list[Entry]:
    """The manifest entries of the clips, with the extra parameters their rendering found."""
    entries = []
    for s in specs:
        e = s.entry()
        if s.index in extras and extras[s.index]:
            p = json.loads(e.params)
            p.update(extras[s.index])
            e = dataclasses.replace(e, params=json.dumps(p, sort_keys=True))
        entries.append(e)
    return entries


def _merge_previous(out: Path, entries: list[Entry], fresh: set[int]) -> list[Entry]:
    """Keep the previous manifest's params for clips that were not remade in this run."""
    from kws.data.manifest import read_manifest

    if not (out / MANIFEST_NAME).exists():
        return entries
    try:
        previous = {e.path: e for e in read_manifest(out)}
    except KwsError:
        return entries
    merged = []
    for i, e in enumerate(entries):
        old = previous.get(e.path)
        merged.append(old if (i not in fresh and old is not None) else e)
    return merged


if __name__ == "__main__":  # a batch worker (see _run_batch_in_subprocess)
    sys.exit(_worker_main())
