"""Test and benchmark signals for the front end: random and adversarial int16 clips.

Used by the parity tests (C == NumPy), the fuzzer and ``kws bench frontend``.

Example
-------
>>> clips, kinds = adversarial_clips(16000, seed=0)
>>> clips.dtype, clips.shape[1], len(kinds) == clips.shape[0]
(dtype('int16'), 16000, True)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.errors import KwsError


def to_int16(x: np.ndarray) -> np.ndarray:
    """Round half up and saturate float samples (int16 units) to int16."""
    return np.clip(np.floor(np.asarray(x, dtype=np.float64) + 0.5), -32768, 32767).astype(np.int16)


def noise_at(level_db: float, length: int, rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise with RMS ``level_db`` dBFS (0 dBFS = 32768 RMS, so it clips)."""
    return to_int16(rng.standard_normal(length) * 32768.0 * 10.0 ** (level_db / 20.0))


def scale_to_peak(x: np.ndarray, level_db: float) -> np.ndarray:
    """Scale int16 audio so that its peak is ``level_db`` dBFS (silence stays silence)."""
    x = np.asarray(x, dtype=np.float64)
    peak = np.max(np.abs(x)) if x.size else 0.0
    if peak == 0:
        return x.astype(np.int16)
    return to_int16(x / peak * 32767.0 * 10.0 ** (level_db / 20.0))


def adversarial_clips(length: int, *, seed: int = 0, repeat: int = 1
                      ) -> tuple[np.ndarray, list[str]]:
    """Synthetic clips covering the corners of the fixed-point ranges.

    Parameters
    ----------
    length : int
        Samples per clip.
    seed : int, keyword-only
        Random seed.
    repeat : int, keyword-only
        Each family is generated ``repeat`` times with new random parameters.

    Returns
    -------
    (ndarray of int16 (clips, length), list of str)
        The clips and a short label per clip (the family).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(length) / 16000.0
    out: list[np.ndarray] = []
    kinds: list[str] = []

    def add(kind: str, x: np.ndarray) -> None:
        out.append(np.asarray(x, dtype=np.int16))
        kinds.append(kind)

    for _ in range(repeat):
        for db in range(-90, 1, 5):  # noise from -90 to 0 dBFS
            add(f"noise{db}", noise_at(db + rng.uniform(-2, 0), length, rng))
        add("silence", np.zeros(length))
        add("lsb", rng.integers(-1, 2, length))
        for amp in (32767, 32768, 1000, 1):  # full-scale and tiny square waves
            f = rng.uniform(50, 7000)
            sq = np.where(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) >= 0, 1, -1)
            add("square", np.clip(sq * amp, -32768, 32767))
        add("square-nyquist", np.where(np.arange(length) % 2 == 0, 32767, -32768))
        add("max", np.full(length, 32767))
        add("min", np.full(length, -32768))
        for db in (-60, -20, 0):  # sweeps 20 Hz -> 8 kHz
            f0, f1 = 20.0, 8000.0
            phase = 2 * np.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * t[-1] if t[-1] else 1))
            add(f"sweep{db}", to_int16(np.sin(phase) * 32767 * 10 ** (db / 20)))
        for gain in (4.0, 30.0):  # clipping
            x = np.sin(2 * np.pi * rng.uniform(100, 3000) * t) + 0.3 * rng.standard_normal(length)
            add("clipped", to_int16(x * 32767 * gain))
        for dc in (-32768, -20000, 5000, 32767):  # DC offset, with and without noise
            add("dc", np.full(length, dc))
            add("dc+noise", to_int16(dc + rng.standard_normal(length) * rng.uniform(1, 3000)))
        for amp in (32767, -32768, 1, -1, int(rng.integers(-32768, 32768))):  # impulses
            x = np.zeros(length)
            x[int(rng.integers(0, length))] = amp
            add("impulse", x)
        add("uniform", rng.integers(-32768, 32768, length))
    return np.stack(out), kinds


def real_clips(length: int, *, root: str | Path, limit: int | None = None,
               include_noise: bool = True) -> tuple[np.ndarray, list[str]]:
    """The recordings of a folder of ``<word>/<clip>`` files as int16 clips of ``length``.

    Word clips are zero-padded / trimmed at the end; the long background-noise files are cut
    into consecutive pieces (at most 8 each).

    Parameters
    ----------
    length : int
        Samples per clip.
    limit : int, optional
        At most this many clips.
    include_noise : bool
        Take pieces of ``_background_noise_`` too.
    root : path-like
        The folder (.wav or .flac; linked folders are followed).

    Raises
    ------
    KwsError
        If the folder is missing or holds no clips.
    """
    from kws.audio import AUDIO_SUFFIXES, fit_clip, load_audio
    from kws.fileio import class_files

    folder = Path(root)
    if not folder.is_dir():
        raise KwsError(f"{folder}: missing (a folder of <word>/<clip> recordings)")
    clips, names = [], []
    for word, path in class_files(folder, AUDIO_SUFFIXES):
        x = load_audio(path)
        if word == "_background_noise_":
            if not include_noise:
                continue
            for i in range(min(x.size // length, 8)):
                clips.append(x[i * length:(i + 1) * length])
                names.append(f"{path.name}#{i}")
        else:
            clips.append(fit_clip(x, length))
            names.append(f"{word}/{path.name}")
        if limit is not None and len(clips) >= limit:
            break
    if not clips:
        raise KwsError(f"{folder}: no .wav or .flac clips in its word folders")
    return np.stack(clips[:limit]), names[:limit]


def random_settings(rng: np.random.Generator):
    """A random valid :class:`~kws.frontend.settings.FrontendSettings` (for parity tests).

    Covers both sample rates, every FFT size 128..2048, windows from a quarter of the FFT to all
    of it, hops from 1 sample to the whole window, 1..128 mel bands, random band edges,
    coefficient counts, MFCC and log-mel output, ``log_eps`` 1e-8..1e-3 and random int8 output
    quantization.
    """
    from kws.frontend.settings import FrontendSettings

    sr = int(rng.choice([8000, 16000]))
    fft = int(rng.choice([128, 256, 512, 1024, 2048]))
    win = int(rng.integers(max(fft // 4, 16), fft + 1))
    if rng.random() < 0.2:
        hop = int(rng.integers(1, win + 1))
    else:
        hop = int(rng.integers(win // 4 + 1, win + 1))
    lo = float(rng.uniform(0, sr / 4))
    hi = float(rng.uniform(lo + 50, sr / 2))
    mel = int(rng.integers(1, 129))
    dct = bool(rng.random() < 0.7)
    return FrontendSettings(
        sample_rate=sr, window_ms=win * 1000.0 / sr, hop_ms=hop * 1000.0 / sr, fft_size=fft,
        num_mel=mel, lower_hz=lo, upper_hz=hi, num_coeffs=int(rng.integers(1, mel + 1)),
        dct=dct, log_eps=float(10 ** rng.uniform(-8, -3)),
        output_scale=float(rng.uniform(0.05, 2.0)),
        output_zero_point=int(rng.integers(-128, 128)))
