"""Negatives at scale for training: long keyword-free audio cut into the detector's windows.

Sources (all keyword-free, generated offline and cached):

- **TTS running speech**: sentences (quotations and a small grammar,
  :mod:`kws.data.sentences`) from every installed engine and voice
  (:mod:`kws.data.running_speech`; the spoken sentence bank is cached once for every keyword
  set, the sentences holding a keyword or a homophone are dropped per run);
- **babble**: three to five overlapping running-speech excerpts at random levels;
- **confusable words**: words one phone away from a keyword in the CMU dictionary
  (:mod:`kws.data.confusables`; "guess", "yet", "less" for "yes"; "go", "snow", "known" for
  "no"), spoken one at a time by every voice (a quarter of ``minutes``);
- **the user's recordings** (``kws train --negatives DIR``): the training part of the files
  (:func:`kws.train.detector.negatives_part`; the other quarter calibrates the detector).

Each long recording gets recorded background noise (the training part of the noise files) at
5-30 dB below the speech, then is cut into windows as the detector sees them
(:func:`kws.train.windows.stream_windows`, 100 ms stride). Adjacent windows become the
augmented copies of one ``_unknown_`` example, so each epoch sees a different shift.
The windows are cached per keyword set and source (``cache/negatives/<key>.npy``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.audio import quantize_int16
from kws.frontend.settings import FrontendSettings

SAMPLE_RATE = 16000
STRIDE_FRAMES = 5


def add_noise(x: np.ndarray, noise: Any, rng: np.random.Generator) -> np.ndarray:
    """``x`` (int16) plus noise from the bank at 5-30 dB below its RMS, in 10 s pieces."""
    y = x.astype(np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(y ** 2))) if len(y) else 0.0
    if noise is None or rms <= 0:
        return x
    seg = 10 * SAMPLE_RATE
    for start in range(0, len(y), seg):
        n = min(seg, len(y) - start)
        z, _ = noise.pick(n, rng)
        z = np.asarray(z, np.float64)
        zr = float(np.sqrt(np.mean(z ** 2)))
        if zr > 0:
            y[start:start + n] += z * (rms * 10 ** (-rng.uniform(5, 30) / 20) / zr)
    return quantize_int16(np.clip(y, -1.0, 1.0))


def babble(speech: np.ndarray, *, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """``seconds`` of 3-5 overlapping excerpts of ``speech`` (int16) at random gains."""
    n = int(seconds * SAMPLE_RATE)
    if len(speech) <= n:
        return speech[:n].copy()
    out = np.zeros(n)
    for _ in range(int(rng.integers(3, 6))):
        s = int(rng.integers(len(speech) - n))
        out += speech[s:s + n] * 10 ** (rng.uniform(-12, 0) / 20)
    peak = float(np.abs(out).max()) or 1.0
    return quantize_int16(out / peak * 10 ** (rng.uniform(-20, -3) / 20))


def _confusables(words: Sequence[str], seed: int) -> list[str]:
    """Confusable words of every keyword (:mod:`kws.data.confusables`), minus the keywords;
    none (with a warning) when the dictionary is not installed or lacks a keyword."""
    import sys

    from kws.data.confusables import confusable_words
    from kws.errors import KwsError

    out: set[str] = set()
    for w in words:
        try:
            out |= set(confusable_words(w, seed=seed, exclude=words))
        except KwsError as exc:
            print(f"kws: warning: {exc}", file=sys.stderr)
    return sorted(out)


def negative_sources(*, words: Sequence[str], cache: Path, seed: int, minutes: float,
                     user_dir: str | None) -> list[tuple[str, np.ndarray]]:
    """(name, int16 recording) of every source (module docstring)."""
    from kws.data.running_speech import running_speech, spoken_words
    from kws.train.detector import negative_recordings

    out = []
    if minutes > 0:
        speech = running_speech(minutes=minutes, keywords=words, seed=seed,
                                cache_dir=cache / "running_speech")
        out.append(("tts running speech", speech))
        rng = np.random.default_rng([seed, 0xbab])
        out.append(("babble", babble(speech, seconds=minutes * 60 / 4, rng=rng)))
        confusable = _confusables(words, seed)
        if confusable:
            out.append(("confusable words", spoken_words(
                confusable, minutes=minutes / 4, seed=seed, cache_dir=cache / "running_speech")))
    out += negative_recordings(user_dir, "training")
    return out


def negative_windows(*, words: Sequence[str], settings: FrontendSettings, cache: Path,
                     seed: int, minutes: float, user_dir: str | None, copies: int,
                     noise: Any = None) -> np.ndarray:
    """int8 windows (N, copies, num_frames, num_outputs) of every negative source, cached.

    Returns an empty (0, copies, ...) array when there is no source.
    """
    user = sorted(str(p) + str(p.stat().st_size) for p in Path(user_dir).rglob("*")
                  if p.is_file()) if user_dir else []
    from kws.data.sentences import source

    key = hashlib.sha256(json.dumps([sorted(w.lower() for w in words), settings.to_dict(),
                                     seed, minutes, user, copies, STRIDE_FRAMES,
                                     noise is not None, source()], sort_keys=True).encode()
                         ).hexdigest()[:16]
    path = cache / "negatives" / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    from kws.train.windows import stream_windows

    rng = np.random.default_rng([seed, 0x4e6])
    parts = []
    for _, x in negative_sources(words=words, cache=cache, seed=seed, minutes=minutes,
                                 user_dir=user_dir):
        w = stream_windows(add_noise(x, noise, rng), settings, stride_frames=STRIDE_FRAMES)
        n = len(w) // copies
        parts.append(w[:n * copies].reshape(n, copies, *w.shape[1:]))
    shape = (0, copies, settings.num_frames, settings.num_outputs)
    x = np.concatenate(parts) if parts else np.zeros(shape, np.int8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, x)
    os.replace(tmp, path)
    return x
