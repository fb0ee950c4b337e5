"""Training-time augmentation: noise at a random SNR, time shift, wide gain, reverb, speed.

Every random choice of one augmented copy comes from ``numpy.random.default_rng([seed, key,
copy])``, where ``key`` identifies the clip (e.g. :func:`clip_key` of its samples). So copy ``j``
of a clip is the same whatever batch it is computed in, and a feature cache keyed by (audio
hash, front-end config, seed, copy) stays valid. :func:`augmented_copies` makes the ``K``
seeded copies of each clip that such a cache holds (random per-epoch augmentation would never
hit a cache).

Stages, in order, with the defaults of :class:`AugmentConfig`:

1. **Speed** (off by default; ``speed_prob``): resample by a factor in ``speed_range``
   (pitch and tempo together), then cut or zero-pad back to the clip length.
2. **Time shift**: roll by a uniform integer in ``[-shift_ms, shift_ms]`` ms (100 ms), with
   zeros shifted in, as in the Speech Commands recipe.
3. **Reverb** (``reverb_prob`` = 0.2): convolve with a synthetic room impulse response:
   exponentially decaying Gaussian noise with RT60 uniform in ``rt60_range`` (0.15-0.8 s),
   a direct path of 1, and the tail's energy scaled to a direct-to-reverberant ratio uniform
   in ``drr_db_range`` (0-15 dB).
4. **Microphone colouring** (``eq_prob`` = 0.5): a first-order high-pass with its corner
   log-uniform in ``highpass_hz`` (30-400 Hz) and a first-order low-pass with its corner
   log-uniform in ``lowpass_hz`` (2.5-8 kHz), applied as magnitude responses in the frequency
   domain: cheap phones and laptops are band-limited, TTS is not.
5. **Gain** (wide): speech clips are scaled so that their peak sits at a level uniform in
   ``peak_dbfs`` (-45 to -1 dBFS). Real Speech Commands clips are recorded at very different
   levels; quiet keywords must not become ``_silence_``.
6. **Noise** (``noise_prob`` = 0.8): a recorded background segment (from the first
   ``1 - heldout_fraction`` = 80 % of each background file; the last 20 % is held out for
   ``_silence_`` evaluation clips) or, with probability ``synthetic_noise_prob`` (0.3),
   synthesized white, pink or brown noise. Speech clips get it at an SNR uniform in
   ``snr_db`` (-5 to 30 dB) relative to the clip's speech RMS (over 10 ms frames within 30 dB
   of the loudest). ``_silence_`` clips (the
   ``is_silence`` mask) get noise at an absolute RMS level uniform in ``silence_dbfs``
   (-70 to -10 dBFS; real ``_silence_`` clips range from -66 to -12 dBFS, far louder than the
   background files), replacing their content with probability ``silence_replace_prob`` (0.5)
   and adding to it otherwise — so loud hiss is seen as silence, not as a keyword.
7. Round and saturate to int16.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.audio import quantize_int16
from kws.errors import KwsError

SAMPLE_RATE = 16000
NOISE_COLOURS = ("white", "pink", "brown")


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Augmentation parameters (see the module docstring for what each stage does)."""

    shift_ms: float = 100.0
    peak_dbfs: tuple[float, float] = (-45.0, -1.0)
    noise_prob: float = 0.8
    synthetic_noise_prob: float = 0.3
    snr_db: tuple[float, float] = (-5.0, 30.0)
    silence_dbfs: tuple[float, float] = (-70.0, -10.0)
    silence_replace_prob: float = 0.5
    reverb_prob: float = 0.2
    rt60_range: tuple[float, float] = (0.15, 0.8)
    drr_db_range: tuple[float, float] = (0.0, 15.0)
    speed_prob: float = 0.0
    speed_range: tuple[float, float] = (0.9, 1.1)
    eq_prob: float = 0.5
    highpass_hz: tuple[float, float] = (30.0, 400.0)
    lowpass_hz: tuple[float, float] = (2500.0, 8000.0)

    def __post_init__(self) -> None:
        for name in ("noise_prob", "synthetic_noise_prob", "silence_replace_prob",
                     "reverb_prob", "speed_prob", "eq_prob"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise KwsError(f"augmentation: {name} must be in [0, 1] (got {v})")
        for name in ("peak_dbfs", "snr_db", "silence_dbfs", "rt60_range", "drr_db_range",
                     "speed_range", "highpass_hz", "lowpass_hz"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise KwsError(f"augmentation: {name} range ({lo}, {hi}) is reversed")
        if self.shift_ms < 0:
            raise KwsError(f"augmentation: shift_ms must be >= 0 (got {self.shift_ms})")
        if min(self.speed_range[0], self.rt60_range[0], self.highpass_hz[0],
               self.lowpass_hz[0]) <= 0:
            raise KwsError("augmentation: speed_range, rt60_range, highpass_hz and lowpass_hz "
                           "must be positive")


def colored_noise(n: int, *, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with a 1/f^a power spectrum (white a=0, pink a=1, brown a=2).

    Parameters
    ----------
    n : int
        Number of samples.
    colour : {"white", "pink", "brown"}, keyword-only
    rng : numpy Generator, keyword-only

    Returns
    -------
    ndarray of float64, shape (n,)
        Zero mean, unit RMS.

    Examples
    --------
    >>> x = colored_noise(16000, colour="pink", rng=np.random.default_rng(0))
    >>> round(float(np.sqrt(np.mean(x ** 2))), 6)
    1.0
    """
    if colour not in NOISE_COLOURS:
        raise KwsError(f"noise colour {colour!r} unknown (expected {', '.join(NOISE_COLOURS)})")
    white = rng.standard_normal(n)
    if colour != "white":
        alpha = {"pink": 1.0, "brown": 2.0}[colour]
        spec = np.fft.rfft(white)
        f = np.arange(len(spec), dtype=np.float64)
        f[0] = 1.0
        spec *= f ** (-alpha / 2)
        spec[0] = 0.0
        white = np.fft.irfft(spec, n)
    white = white - white.mean()
    rms = float(np.sqrt(np.mean(white ** 2)))
    return white / rms if rms > 0 else white


class NoiseBank:
    """Recorded background noise, float64 in [-1, 1), and which part of each file to use.

    Parameters
    ----------
    recordings : sequence of ndarray
        Float64 mono 16 kHz recordings.
    names : sequence of str
        Their names (for messages and params).
    part : {"train", "heldout", "all"}, keyword-only
        ``train``: the first ``1 - heldout_fraction`` of each recording; ``heldout``: the rest.
    heldout_fraction : float, keyword-only
    """

    def __init__(self, recordings: Sequence[np.ndarray], names: Sequence[str], *,
                 part: str = "train", heldout_fraction: float = 0.2) -> None:
        if part not in ("train", "heldout", "all"):
            raise KwsError(f"noise bank part {part!r} unknown (train, heldout or all)")
        self.names = list(names)
        self.segments: list[np.ndarray] = []
        for rec in recordings:
            cut = int(round(len(rec) * (1.0 - heldout_fraction)))
            seg = rec[:cut] if part == "train" else rec[cut:] if part == "heldout" else rec
            self.segments.append(np.asarray(seg, dtype=np.float64))

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str], *, part: str = "train",
                    heldout_fraction: float = 0.2, min_seconds: float = 1.0) -> "NoiseBank":
        """Load every .wav/.flac in ``folder`` (e.g. ``_background_noise_``).

        Unreadable files raise :class:`KwsError`; files shorter than ``min_seconds`` in the
        chosen part are skipped.
        """
        from kws.audio import load_audio

        path = Path(folder)
        if not path.is_dir():
            raise KwsError(f"{path}: background-noise folder not found")
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".wav", ".flac"))
        recs, names = [], []
        for f in files:
            recs.append(load_audio(f).astype(np.float64) / 32768.0)
            names.append(f.name)
        bank = cls(recs, names, part=part, heldout_fraction=heldout_fraction)
        keep = [i for i, s in enumerate(bank.segments) if len(s) >= min_seconds * SAMPLE_RATE]
        bank.segments = [bank.segments[i] for i in keep]
        bank.names = [bank.names[i] for i in keep]
        if not bank.segments:
            raise KwsError(f"{path}: no background-noise recording of at least {min_seconds} s")
        return bank

    def pick(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """A random ``n``-sample excerpt (looped if a recording is shorter) and its name."""
        i = int(rng.integers(len(self.segments)))
        seg = self.segments[i]
        if len(seg) >= n:
            start = int(rng.integers(len(seg) - n + 1))
            return seg[start: start + n], self.names[i]
        reps = -(-n // len(seg))
        return np.tile(seg, reps)[:n], self.names[i]


def shared_folder() -> Path:
    """:func:`kws.paths.shared_dir` (development data; never a default input)."""
    from kws.paths import shared_dir

    return shared_dir()


def default_noise_folder() -> Path | None:
    """``<shared>/audio/_background_noise_`` if it exists (development data only)."""
    p = shared_folder() / "audio" / "_background_noise_"
    return p if p.is_dir() else None


def clip_key(samples: np.ndarray) -> int:
    """A 63-bit key of a clip's int16 samples (SHA-1), to seed its augmentation."""
    digest = hashlib.sha1(np.ascontiguousarray(samples, dtype=np.int16).tobytes()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def synthetic_rir(rng: np.random.Generator, *, rt60: float, drr_db: float,
                  sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A synthetic room impulse response: direct path 1, then a decaying noise tail.

    The tail decays by 60 dB in ``rt60`` seconds and its energy is ``drr_db`` below the
    direct path's. Returns float64 of length ``rt60 * sample_rate`` (at least 2).
    """
    n = max(2, int(rt60 * sample_rate))
    t = np.arange(1, n) / sample_rate
    tail = rng.standard_normal(n - 1) * np.exp(-6.9078 * t / rt60)  # ln(1000) = 6.9078
    energy = float(np.sum(tail ** 2))
    if energy > 0:
        tail *= np.sqrt(10 ** (-drr_db / 10) / energy)
    return np.concatenate([[1.0], tail])


def _speech_rms(x: np.ndarray) -> float:
    """RMS over the active 10 ms frames: those within 30 dB of the loudest frame (so the
    silence around a word does not count)."""
    hop = SAMPLE_RATE // 100
    n = len(x) // hop
    if n == 0:
        return float(np.sqrt(np.mean(x ** 2))) if len(x) else 0.0
    e = (x[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    return float(np.sqrt(e[e >= e.max() * 1e-3].mean()))


def augment(clips: np.ndarray, *, keys: Sequence[int], copy: int = 0, seed: int = 0,
            is_silence: Sequence[bool] | np.ndarray | None = None,
            config: AugmentConfig | None = None, noise: NoiseBank | None = None,
            return_params: bool = False) -> np.ndarray | tuple[np.ndarray, list[dict]]:
    """Augment a batch of clips.

    Parameters
    ----------
    clips : ndarray of int16, shape (N, T)
    keys : sequence of int, length N, keyword-only
        One key per clip (e.g. :func:`clip_key`); with ``seed`` and ``copy`` it seeds the clip's
        random choices.
    copy : int, keyword-only
        Which augmented copy (0, 1, ...).
    seed : int, keyword-only
    is_silence : bool array, shape (N,), keyword-only
        Which clips are ``_silence_`` (noise at an absolute level, no speech gain).
    config : AugmentConfig, keyword-only
        Default: ``AugmentConfig()``.
    noise : NoiseBank or None, keyword-only
        Recorded noise; if None, only synthesized noise is used.
    return_params : bool, keyword-only
        Also return each clip's random choices.

    Returns
    -------
    ndarray of int16, shape (N, T)
        (and a list of N dicts if ``return_params``)
    """
    cfg = config or AugmentConfig()
    x = np.asarray(clips)
    if x.ndim != 2 or x.dtype != np.int16:
        raise KwsError(f"augment: clips must be an int16 array of shape (N, T), got "
                       f"{x.dtype} {x.shape}")
    n, t = x.shape
    if len(keys) != n:
        raise KwsError(f"augment: {len(keys)} keys for {n} clips")
    sil = np.zeros(n, bool) if is_silence is None else np.asarray(is_silence, bool)
    if sil.shape != (n,):
        raise KwsError(f"augment: is_silence has shape {sil.shape}, expected ({n},)")
    y = x.astype(np.float64) / 32768.0
    rngs = [np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, int(k) & 0xFFFFFFFFFFFFFFFF, copy])
            for k in keys]
    params: list[dict] = [{} for _ in range(n)]

    # 1. speed (per clip: needs resampling)
    for i, rng in enumerate(rngs):
        if rng.uniform() < cfg.speed_prob and not sil[i]:
            import soxr

            f = float(rng.uniform(*cfg.speed_range))
            z = soxr.resample(y[i], SAMPLE_RATE * f, SAMPLE_RATE, quality="HQ")
            y[i] = np.pad(z, (0, max(0, t - len(z))))[:t]
            params[i]["speed"] = round(f, 4)

    # 2. time shift (vectorized gather with zero fill)
    max_shift = int(cfg.shift_ms * SAMPLE_RATE / 1000)
    shifts = np.array([int(r.integers(-max_shift, max_shift + 1)) for r in rngs])
    shifts[sil] = 0
    src = np.arange(t)[None, :] - shifts[:, None]
    valid = (src >= 0) & (src < t)
    y = np.where(valid, np.take_along_axis(y, np.clip(src, 0, t - 1), axis=1), 0.0)
    for i in range(n):
        params[i]["shift_ms"] = round(shifts[i] * 1000 / SAMPLE_RATE, 2)

    # 3. reverb (FFT convolution of the clips that get it)
    rirs = {}
    for i, rng in enumerate(rngs):
        if rng.uniform() < cfg.reverb_prob and not sil[i]:
            rt60 = float(rng.uniform(*cfg.rt60_range))
            drr = float(rng.uniform(*cfg.drr_db_range))
            rirs[i] = synthetic_rir(rng, rt60=rt60, drr_db=drr)
            params[i]["rt60"], params[i]["drr_db"] = round(rt60, 3), round(drr, 2)
    if rirs:
        idx = np.array(sorted(rirs))
        m = max(len(r) for r in rirs.values())
        nfft = 1 << int(np.ceil(np.log2(t + m - 1)))
        h = np.zeros((len(idx), m))
        for j, i in enumerate(idx):
            h[j, : len(rirs[i])] = rirs[i]
        wet = np.fft.irfft(np.fft.rfft(y[idx], nfft) * np.fft.rfft(h, nfft), nfft)[:, :t]
        y[idx] = wet

    # 4. microphone colouring: first-order high-pass and low-pass magnitude responses
    eq = {}
    for i, rng in enumerate(rngs):
        if rng.uniform() < cfg.eq_prob and not sil[i]:
            hp = float(np.exp(rng.uniform(*np.log(cfg.highpass_hz))))
            lp = float(np.exp(rng.uniform(*np.log(cfg.lowpass_hz))))
            eq[i] = (hp, lp)
            params[i]["highpass_hz"], params[i]["lowpass_hz"] = round(hp, 1), round(lp, 1)
    if eq:
        idx = np.array(sorted(eq))
        f = np.fft.rfftfreq(t, 1.0 / SAMPLE_RATE)[None, :]
        hp = np.array([eq[i][0] for i in idx])[:, None]
        lp = np.array([eq[i][1] for i in idx])[:, None]
        with np.errstate(divide="ignore"):
            h = 1.0 / np.sqrt(1.0 + (hp / np.maximum(f, 1e-9)) ** 2)
        h = h / np.sqrt(1.0 + (f / lp) ** 2)
        y[idx] = np.fft.irfft(np.fft.rfft(y[idx], axis=1) * h, t, axis=1)

    # 5. gain: speech peak to a random level
    peak_target = np.array([10 ** (r.uniform(*cfg.peak_dbfs) / 20) for r in rngs])
    peaks = np.abs(y).max(axis=1)
    gain = np.where((peaks > 0) & ~sil, peak_target / np.maximum(peaks, 1e-12), 1.0)
    y *= gain[:, None]
    for i in range(n):
        if not sil[i]:
            params[i]["peak_dbfs"] = round(20 * np.log10(peak_target[i]), 2)

    # 6. noise
    for i, rng in enumerate(rngs):
        use = sil[i] or rng.uniform() < cfg.noise_prob
        synthetic = noise is None or rng.uniform() < cfg.synthetic_noise_prob
        if not use:
            continue
        if synthetic:
            colour = NOISE_COLOURS[int(rng.integers(len(NOISE_COLOURS)))]
            z = colored_noise(t, colour=colour, rng=rng)
            params[i]["noise"] = colour
        else:
            z, name = noise.pick(t, rng)
            z = z.copy()
            params[i]["noise"] = name
        z_rms = float(np.sqrt(np.mean(z ** 2)))
        if z_rms <= 0:
            continue
        if sil[i]:
            level = float(rng.uniform(*cfg.silence_dbfs))
            replace = rng.uniform() < cfg.silence_replace_prob
            z *= 10 ** (level / 20) / z_rms
            y[i] = z if replace else y[i] + z
            params[i]["noise_dbfs"] = round(level, 2)
        else:
            snr = float(rng.uniform(*cfg.snr_db))
            s_rms = _speech_rms(y[i])
            if s_rms <= 0:
                continue
            y[i] += z * (s_rms / z_rms) * 10 ** (-snr / 20)
            params[i]["snr_db"] = round(snr, 2)

    out = quantize_int16(np.clip(y, -1.0, 1.0))
    return (out, params) if return_params else out


def augmented_copies(clips: np.ndarray, *, k: int, keys: Sequence[int] | None = None,
                     seed: int = 0, is_silence: Sequence[bool] | np.ndarray | None = None,
                     config: AugmentConfig | None = None, noise: NoiseBank | None = None,
                     include_clean: bool = True) -> np.ndarray:
    """``k`` seeded augmented copies of every clip.

    Parameters
    ----------
    clips : ndarray of int16, shape (N, T)
    k : int, keyword-only
        Copies per clip.
    keys : sequence of int, keyword-only
        Per-clip keys (default: :func:`clip_key` of each clip, so a copy depends only on the
        clip's samples, ``seed`` and its copy number).
    include_clean : bool, keyword-only
        Copy 0 is the clip itself, unaugmented.
    seed, is_silence, config, noise
        As for :func:`augment`.

    Returns
    -------
    ndarray of int16, shape (N, k, T)
    """
    x = np.asarray(clips)
    if k < 1:
        raise KwsError(f"augmented_copies: k must be at least 1 (got {k})")
    if keys is None:
        keys = [clip_key(c) for c in x]
    out = np.empty((x.shape[0], k) + x.shape[1:], dtype=np.int16)
    for j in range(k):
        if include_clean and j == 0:
            out[:, 0] = x
        else:
            out[:, j] = augment(x, keys=keys, copy=j, seed=seed, is_silence=is_silence,
                                config=config, noise=noise)
    return out
