"""Synthetic test streams for firmware parity: keyword clips at known times in noise.

A stand-in for ``kws data stream`` (issue B's data helper) so that the firmware tests do not
depend on it: real Speech Commands clips from ``../shared/audio/<word>/`` placed at known times
over background noise from ``../shared/audio/_background_noise_/`` (or white noise when that
folder is missing), deterministic for a seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from kws.audio import load_audio
from kws.errors import KwsError

SAMPLE_RATE = 16000


class StreamEvent(NamedTuple):
    """A clip placed in the stream: start and end in ms, and its word."""

    start_ms: int
    end_ms: int
    label: str


def make_test_stream(audio_dir: str | Path, *, seconds: float = 60.0,
                     words: Sequence[str] = ("yes", "no"),
                     distractors: Sequence[str] = ("up", "down", "left"),
                     snr_db: tuple[float, float] = (5.0, 25.0), seed: int = 0
                     ) -> tuple[np.ndarray, list[StreamEvent]]:
    """Build an int16 16 kHz stream of ``seconds`` with one clip every 1.5-3 s.

    Parameters
    ----------
    audio_dir : path
        Folder with one sub-folder of WAV clips per word (e.g. ../shared/audio).
    seconds : float
        Stream length.
    words, distractors : sequence of str
        Keywords (three quarters of the clips) and other words (the rest).
    snr_db : (low, high)
        Range of the clip-to-noise ratio, drawn per clip.
    seed : int
        Everything random is drawn from ``numpy.random.default_rng(seed)``.

    Returns
    -------
    samples : ndarray of int16, shape (round(seconds * 16000),)
    events : list of StreamEvent, in time order
    """
    root = Path(audio_dir)
    rng = np.random.default_rng(seed)
    total = int(round(seconds * SAMPLE_RATE))
    clips: dict[str, list[Path]] = {}
    for word in (*words, *distractors):
        files = sorted((root / word).glob("*.wav"))
        if not files:
            raise KwsError(f"{root / word}: no WAV clips for the test stream")
        clips[word] = files
    noise_files = sorted((root / "_background_noise_").glob("*.wav"))
    if noise_files:
        noise = load_audio(noise_files[int(rng.integers(len(noise_files)))]).astype(np.float64)
        start = int(rng.integers(len(noise)))
        noise = np.tile(noise, -(-(start + total) // len(noise)))[start:start + total]
    else:
        noise = rng.normal(0.0, 300.0, total)
    noise_rms = float(np.sqrt(np.mean(noise ** 2))) or 1.0
    out = noise.copy()
    events: list[StreamEvent] = []
    pos = int(rng.integers(SAMPLE_RATE // 2, SAMPLE_RATE))
    while pos + SAMPLE_RATE <= total:
        word = (words[int(rng.integers(len(words)))] if rng.random() < 0.75
                else distractors[int(rng.integers(len(distractors)))])
        clip = load_audio(clips[word][int(rng.integers(len(clips[word])))]).astype(np.float64)
        clip = clip[:total - pos]
        rms = float(np.sqrt(np.mean(clip ** 2))) or 1.0
        snr = rng.uniform(*snr_db)
        out[pos:pos + len(clip)] += clip * (noise_rms / rms) * 10 ** (snr / 20.0)
        events.append(StreamEvent(pos * 1000 // SAMPLE_RATE,
                                  (pos + len(clip)) * 1000 // SAMPLE_RATE, word))
        pos += len(clip) + int(rng.integers(SAMPLE_RATE // 2, 2 * SAMPLE_RATE))
    peak = float(np.max(np.abs(out))) or 1.0
    if peak > 32767:
        out *= 32767 / peak
    return np.floor(out + 0.5).astype(np.int16), events
