"""Training-time augmentation (the one module): time shift, speed, reverb, microphone
colouring, speech level, background noise, ``_silence_`` clips; and the noise sources
(:class:`NoiseBank` of recordings, :func:`colored_noise` and :func:`synthetic_noise`).

:func:`augment_clip` makes one augmented copy of a clip, :func:`make_silence` one ``_silence_``
clip; the caller seeds the generator (:mod:`kws.train.features` seeds it per clip and
setting, so a feature cache stays valid). The default model's real-speech accuracy (``kws bench
accuracy``) was measured with this recipe; a batched variant with other numbers (formerly in
this package) gave no better accuracy and was removed.

Every background file is split once: the first 80 % is for augmentation, the last 20 %
(:data:`HOLDOUT_FRACTION`) only ever for evaluation (``part="heldout"``).

Defaults (:class:`AugmentConfig`), chosen for real far-field-ish speech such as Speech Commands:

- time shift: uniform in +-100 ms (zero fill);
- speed (tempo, pitch and formants together, by linear resampling): uniform in 0.8-1.3, 80 %
  of the clips (most TTS voices are adult male; faster playback stands in for higher voices);
- room reverb, 50 % of clips: a synthetic impulse response (direct path plus exponentially
  decaying noise, RT60 uniform 0.1-0.7 s, direct-to-reverb ratio 0-15 dB);
- microphone colouring, 50 % of clips: a one-pole high-pass (60-400 Hz) and low-pass
  (2.5-7.5 kHz);
- speech level: the clip's peak is set to uniform -40 to -1 dBFS (TTS comes out loud and
  clean; real clips peak anywhere in that range);
- background noise, 80 % of clips: a random segment of a background file (only the first 80 %
  of each file; the last 20 % is held out for evaluation's ``_silence_``) or synthesized white,
  pink or brown noise, at an SNR uniform in 0-40 dB against the speech's RMS;
- speaker, room and microphone diversity (:mod:`kws.data.speakers`: VTLP, pitch, tempo, a
  simulated room, microphone EQ and band limits), first, when ``speaker`` is set;
- ``_silence_`` clips: noise only, RMS uniform -70 to -10 dBFS (real Speech Commands silence
  spans -66 to -12 dBFS; the six background files alone are -45 to -53 dBFS, so without this
  wide gain loud hiss would look like speech), 10 % of them digital near-silence.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.audio import AUDIO_SUFFIXES, SAMPLE_RATE, load_audio
from kws.data.speakers import SpeakerConfig, perturb_speaker
from kws.errors import KwsError

#: Fraction at the end of every background file reserved for evaluation (never augmentation).
HOLDOUT_FRACTION = 0.2
#: The colours of :func:`colored_noise`.
NOISE_COLOURS = ("white", "pink", "brown")


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Augmentation parameters (see the module docstring for the defaults' reasons)."""

    shift_ms: float = 100.0
    speed: tuple[float, float] = (0.8, 1.3)
    speed_prob: float = 0.8
    reverb_prob: float = 0.5
    rt60_s: tuple[float, float] = (0.1, 0.7)
    drr_db: tuple[float, float] = (0.0, 15.0)
    eq_prob: float = 0.5
    peak_dbfs: tuple[float, float] = (-40.0, -1.0)
    noise_prob: float = 0.8
    snr_db: tuple[float, float] = (0.0, 40.0)
    silence_dbfs: tuple[float, float] = (-70.0, -10.0)
    synthetic_noise_prob: float = 0.3
    speaker: SpeakerConfig | None = None

    def __post_init__(self) -> None:
        for name in ("speed_prob", "reverb_prob", "eq_prob", "noise_prob",
                     "synthetic_noise_prob"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise KwsError(f"augmentation: {name} must be in [0, 1] (got {v})")
        for name in ("speed", "rt60_s", "drr_db", "peak_dbfs", "snr_db", "silence_dbfs"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise KwsError(f"augmentation: {name} range ({lo}, {hi}) is reversed")
        if self.shift_ms < 0:
            raise KwsError(f"augmentation: shift_ms must be >= 0 (got {self.shift_ms})")
        if min(self.speed[0], self.rt60_s[0]) <= 0:
            raise KwsError("augmentation: speed and rt60_s must be positive")

    def to_json(self) -> str:
        """Canonical JSON, part of the feature-cache key (without ``speaker`` when it is
        None, so caches made before it existed stay valid)."""
        d = dataclasses.asdict(self)
        if d["speaker"] is None:
            del d["speaker"]
        return json.dumps(d, sort_keys=True)


#: Named augmentation recipes (``kws train --augment``): ``basic`` is the recipe above;
#: ``speakers`` adds :mod:`kws.data.speakers`' speaker, room and microphone diversity.
AUGMENT_PRESETS = ("basic", "speakers")


def augment_preset(name: str) -> AugmentConfig:
    """The :class:`AugmentConfig` of a named recipe (:data:`AUGMENT_PRESETS`).

    Raises
    ------
    KwsError
        ``name`` is not a recipe.
    """
    if name == "basic":
        return AugmentConfig()
    if name == "speakers":
        return AugmentConfig(speaker=SpeakerConfig())
    raise KwsError(f"augmentation recipe {name!r} unknown ({', '.join(AUGMENT_PRESETS)})",
                   argument="augment")


class NoiseBank:
    """Background-noise recordings (float64 in [-1, 1)), cut to the part in use.

    Parameters
    ----------
    recordings : sequence of ndarray
        Mono 16 kHz recordings, float in [-1, 1).
    names : sequence of str
        Their names (for messages and parameters).
    part : {"train", "heldout", "all"}, keyword-only
        ``train``: the first ``1 - heldout_fraction`` of each recording; ``heldout``: the rest.
    heldout_fraction : float, keyword-only
    """

    def __init__(self, recordings: Sequence[np.ndarray], names: Sequence[str], *,
                 part: str = "train", heldout_fraction: float = HOLDOUT_FRACTION) -> None:
        if part not in ("train", "heldout", "all"):
            raise KwsError(f"noise bank part {part!r} unknown (train, heldout or all)")
        self.names = list(names)
        self.segments: list[np.ndarray] = []
        for rec in recordings:
            cut = int(len(rec) * (1.0 - heldout_fraction))
            seg = rec[:cut] if part == "train" else rec[cut:] if part == "heldout" else rec
            self.segments.append(np.asarray(seg, dtype=np.float64))

    @classmethod
    def from_files(cls, files: Sequence[str | os.PathLike[str]], *, part: str = "train",
                   heldout_fraction: float = HOLDOUT_FRACTION,
                   min_seconds: float = 0.0) -> "NoiseBank":
        """Load audio files (any format :func:`kws.audio.load_audio` converts); recordings
        shorter than ``min_seconds`` in the chosen part are left out."""
        recs = [load_audio(f).astype(np.float64) / 32768.0 for f in files]
        bank = cls(recs, [Path(f).name for f in files], part=part,
                   heldout_fraction=heldout_fraction)
        keep = [i for i, s in enumerate(bank.segments) if len(s) >= min_seconds * SAMPLE_RATE]
        bank.segments = [bank.segments[i] for i in keep]
        bank.names = [bank.names[i] for i in keep]
        return bank

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str], *, part: str = "train",
                    heldout_fraction: float = HOLDOUT_FRACTION,
                    min_seconds: float = 1.0) -> "NoiseBank":
        """Load every .wav/.flac in ``folder`` (e.g. ``_background_noise_``).

        Raises
        ------
        KwsError
            The folder is missing, a file is unreadable, or no recording is long enough.
        """
        path = Path(folder)
        if not path.is_dir():
            raise KwsError(f"{path}: background-noise folder not found")
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        bank = cls.from_files(files, part=part, heldout_fraction=heldout_fraction,
                              min_seconds=min_seconds)
        if not bank.segments:
            raise KwsError(f"{path}: no background-noise recording of at least {min_seconds} s")
        return bank

    @staticmethod
    def find(*folders: str | os.PathLike[str] | None) -> list[Path]:
        """The .wav files of the first of ``folders`` that exists and holds any."""
        for folder in folders:
            if folder is not None and Path(folder).is_dir():
                files = sorted(Path(folder).glob("*.wav"))
                if files:
                    return files
        return []

    def pick(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """A random ``n``-sample excerpt (float64, looped if a recording is shorter) and its
        name (the draw of test streams and evaluation)."""
        i = int(rng.integers(len(self.segments)))
        seg = self.segments[i]
        if len(seg) >= n:
            start = int(rng.integers(len(seg) - n + 1))
            return seg[start: start + n], self.names[i]
        return np.resize(seg, n), self.names[i]

    def segment(self, rng: np.random.Generator, n: int, *, synthetic_prob: float = 0.3
                ) -> np.ndarray:
        """A float32 noise segment of ``n`` samples for augmentation: recorded, or
        :func:`synthetic_noise` with probability ``synthetic_prob`` and when the bank is empty
        (the training recipe's draw)."""
        if not self.segments or rng.random() < synthetic_prob:
            return synthetic_noise(rng, n)
        clip = self.segments[int(rng.integers(len(self.segments)))]
        if len(clip) <= n:
            return np.resize(clip, n).astype(np.float32)
        start = int(rng.integers(len(clip) - n))
        return clip[start:start + n].astype(np.float32)


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


#: Version of :func:`synthetic_background`'s recipe (part of the recordings' names, so feature
#: caches made with another recipe are not reused).
SYNTHETIC_BACKGROUND_VERSION = 1


def synthetic_background(*, part: str = "train", seconds: float = 60.0,
                         seed: int = 0) -> NoiseBank:
    """The default background noise: six seeded, synthesized recordings, the same on every
    machine (no file is read).

    Like the six files of Speech Commands' ``_background_noise_`` (white and pink noise and
    four room recordings), they are: white, pink and brown noise; mains hum (50 Hz and its
    harmonics, slowly drifting in level) over hiss; a fan (brown noise through a resonance,
    a wobbling blade tone, amplitude modulated at the blade rate); and clatter over running
    water (damped 1-5 kHz "clinks" at random times over band-limited noise whose level
    flickers).

    Parameters
    ----------
    part : {"train", "heldout", "all"}, keyword-only
        As for :class:`NoiseBank` (the last 20 % of each recording is held out).
    seconds : float, keyword-only
        Length of each recording.
    seed : int, keyword-only

    Returns
    -------
    NoiseBank
        Recordings at -30 dBFS RMS, named ``synthetic-v<version>-<kind>``.
    """
    n = int(seconds * SAMPLE_RATE)
    rng = np.random.default_rng([seed, SYNTHETIC_BACKGROUND_VERSION])
    t = np.arange(n) / SAMPLE_RATE
    recs = {colour: colored_noise(n, colour=colour, rng=rng) for colour in NOISE_COLOURS}
    recs["hum"] = _hum(t, rng)
    recs["fan"] = _fan(t, rng)
    recs["clatter"] = _clatter(t, rng)
    level = 10 ** (-30 / 20)
    arrays = [level * x / max(float(np.sqrt(np.mean(x ** 2))), 1e-12) for x in recs.values()]
    names = [f"synthetic-v{SYNTHETIC_BACKGROUND_VERSION}-{k}" for k in recs]
    return NoiseBank(arrays, names, part=part)


def _slow(t: np.ndarray, rng: np.random.Generator, *, rate_hz: float, depth: float
          ) -> np.ndarray:
    """A smooth random gain around 1 (a few random sinusoids below ``rate_hz``)."""
    g = np.zeros_like(t)
    for _ in range(4):
        g += np.sin(2 * np.pi * rng.uniform(0.1, 1.0) * rate_hz * t + rng.uniform(0, 2 * np.pi))
    return 1.0 + depth * g / 4


def _hum(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mains hum: 50 Hz and harmonics with falling levels, drifting; pink hiss below it."""
    x = sum(rng.uniform(0.3, 1.0) / k * np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.3))
            for k in range(1, 12))
    return x * _slow(t, rng, rate_hz=0.2, depth=0.3) + 0.1 * colored_noise(
        len(t), colour="pink", rng=rng)


def _fan(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fan: resonant brown noise, a wobbling blade tone, blade-rate amplitude modulation."""
    n = len(t)
    spec = np.fft.rfft(colored_noise(n, colour="brown", rng=rng) + 0.3 * rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    centre = rng.uniform(300, 900)
    spec *= 1.0 + 4.0 / (1.0 + ((f - centre) / 80.0) ** 2)
    body = np.fft.irfft(spec, n)
    body /= max(float(np.sqrt(np.mean(body ** 2))), 1e-12)
    blade = rng.uniform(20, 40)
    f0 = rng.uniform(120, 200) * (1 + 0.01 * np.sin(2 * np.pi * 0.3 * t))
    tone = 0.5 * np.sin(2 * np.pi * np.cumsum(f0) / SAMPLE_RATE)
    return (body + tone) * (1 + 0.2 * np.sin(2 * np.pi * blade * t))


def _clatter(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Clatter over running water: damped 1-5 kHz clinks at random times over band-limited
    noise whose level flickers."""
    n = len(t)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    spec *= ((f > 300) & (f < 6000)).astype(float)
    water = np.fft.irfft(spec, n)
    water /= max(float(np.sqrt(np.mean(water ** 2))), 1e-12)
    flicker = np.repeat(rng.uniform(0.5, 1.5, size=n // 160 + 1), 160)[:n]
    x = water * flicker
    clink_len = SAMPLE_RATE // 4
    k = np.arange(clink_len) / SAMPLE_RATE
    for start in np.sort(rng.integers(0, n - clink_len, size=int(len(t) / SAMPLE_RATE * 2))):
        clink = np.sin(2 * np.pi * rng.uniform(1000, 5000) * k) * np.exp(-k / rng.uniform(
            0.01, 0.06))
        x[start:start + clink_len] += rng.uniform(2, 8) * clink
    return x


def synthetic_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """White, pink or brown noise of ``n`` samples, RMS 0.1, float32 (the training recipe's
    synthetic noise; unlike :func:`colored_noise` it keeps the DC bin)."""
    kind = int(rng.integers(3))
    white = rng.standard_normal(n)
    if kind == 0:
        x = white
    else:
        spec = np.fft.rfft(white)
        f = np.arange(len(spec), dtype=np.float64)
        f[0] = 1.0
        spec /= f ** (0.5 if kind == 1 else 1.0)
        x = np.fft.irfft(spec, n)
    return (0.1 * x / max(np.sqrt(np.mean(x * x)), 1e-12)).astype(np.float32)


def _db(level: float) -> float:
    return float(10.0 ** (level / 20.0))


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(x * 32768.0 + 0.5), -32768, 32767).astype(np.int16)


def reverb(x: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """Convolve with a synthetic room impulse response (see the module docstring)."""
    rt60 = rng.uniform(*config.rt60_s)
    n = int(min(rt60, 0.5) * 16000)
    t = np.arange(n) / 16000.0
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail[:16] = 0.0
    tail *= 1.0 / max(np.sqrt(np.sum(tail * tail)), 1e-12) / _db(rng.uniform(*config.drr_db))
    tail[0] = 1.0
    y = np.fft.irfft(np.fft.rfft(x, len(x) + n) * np.fft.rfft(tail, len(x) + n), len(x) + n)
    return y[:len(x)].astype(np.float32)


def one_pole(x: np.ndarray, cutoff_hz: float, *, highpass: bool) -> np.ndarray:
    """A one-pole low-pass (or its complement, a high-pass) at ``cutoff_hz``."""
    from scipy.signal import lfilter

    a = float(np.exp(-2.0 * np.pi * cutoff_hz / 16000.0))
    low = lfilter([1.0 - a], [1.0, -a], x)
    return (x - low if highpass else low).astype(np.float32)


def augment_clip(samples: np.ndarray, *, rng: np.random.Generator, noise: NoiseBank,
                 config: AugmentConfig, num_samples: int = 16000) -> np.ndarray:
    """One augmented copy of a speech clip.

    Parameters
    ----------
    samples : ndarray of int16, shape (T,)
        The clip (16 kHz).
    rng : numpy Generator, keyword-only
        Source of every random choice (seeded by the caller, so copies are reproducible).
    noise : NoiseBank, keyword-only
        Background noise (training part).
    config : AugmentConfig, keyword-only
        The parameters.
    num_samples : int, keyword-only
        Output length.

    Returns
    -------
    ndarray of int16, shape (num_samples,)
    """
    x = samples.astype(np.float32) / 32768.0
    if config.speaker is not None:
        x = perturb_speaker(x, rng=rng, config=config.speaker)
    if rng.random() < config.speed_prob:
        rate = rng.uniform(*config.speed)
        pos = np.arange(0, len(x) - 1, rate)
        x = np.interp(pos, np.arange(len(x)), x).astype(np.float32)
    if rng.random() < config.reverb_prob:
        x = reverb(x, rng, config)
    if rng.random() < config.eq_prob:
        x = one_pole(x, rng.uniform(60.0, 400.0), highpass=True)
        x = one_pole(x, rng.uniform(2500.0, 7500.0), highpass=False)
    out = np.zeros(num_samples, dtype=np.float32)
    shift = int(rng.uniform(-config.shift_ms, config.shift_ms) * 16)
    src = x[max(0, -shift):]
    dst0 = max(0, shift)
    m = min(len(src), num_samples - dst0)
    if m > 0:
        out[dst0:dst0 + m] = src[:m]
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out *= _db(rng.uniform(*config.peak_dbfs)) / peak
    if rng.random() < config.noise_prob:
        rms = float(np.sqrt(np.mean(out * out)))
        n = noise.segment(rng, num_samples, synthetic_prob=config.synthetic_noise_prob)
        n_rms = max(float(np.sqrt(np.mean(n * n))), 1e-9)
        out += n * (rms / n_rms / _db(rng.uniform(*config.snr_db)))
    return _to_int16(out)


def make_silence(*, rng: np.random.Generator, noise: NoiseBank, config: AugmentConfig,
                 num_samples: int = 16000) -> np.ndarray:
    """A ``_silence_`` clip: background noise at a random level (int16, (num_samples,))."""
    if rng.random() < 0.1:
        return _to_int16(rng.standard_normal(num_samples) * _db(-90.0))
    n = noise.segment(rng, num_samples, synthetic_prob=config.synthetic_noise_prob)
    n_rms = max(float(np.sqrt(np.mean(n * n))), 1e-9)
    return _to_int16(n * (_db(rng.uniform(*config.silence_dbfs)) / n_rms))
