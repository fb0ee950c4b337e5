"""Training-time augmentation: time shift, speed, speech level, background noise, silence.

The training recipe (:func:`augment_clip`, :func:`make_silence`, :class:`AugmentConfig`), built
from :mod:`kws.data.augment`'s primitives (the noise bank with its first-80 %/last-20 %
split, coloured noise, synthetic room impulse responses, one-pole colouring, linear speed
change). ``kws.data.augment.augment`` is a second recipe over the same primitives (batched,
seeded per clip key, soxr speed, frequency-domain colouring, speech-RMS SNR); this one keeps
the parameters and choices below because the default model's real-speech accuracy was
measured with them. Where they differ for the same purpose: speed 0.8-1.3 on 80 % of clips by
linear interpolation (data: off by default, soxr), reverb on 50 % with RT60 0.1-0.7 s cut at
0.5 s and a 1 ms pre-delay (data: 20 %, 0.15-0.8 s), colouring by time-domain one-pole filters
with uniform corners (data: magnitude responses, log-uniform corners), peak -40..-1 dBFS (data:
-45..-1), SNR 0-40 dB against the whole clip's RMS (data: -5..30 dB against the speech RMS),
``_silence_`` 10 % digital near-silence (data: replaces or adds noise).

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
- ``_silence_`` clips: noise only, RMS uniform -70 to -10 dBFS (real Speech Commands silence
  spans -66 to -12 dBFS; the six background files alone are -45 to -53 dBFS, so without this
  wide gain loud hiss would look like speech), 10 % of them digital near-silence.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from kws.data.augment import (NOISE_COLOURS, NoiseBank, apply_rir, colored_noise, one_pole,
                               speed_linear, synthetic_rir)

#: Fraction at the end of every background file reserved for evaluation (never augmentation;
#: the default of :meth:`kws.data.augment.NoiseBank.from_files`).
HOLDOUT_FRACTION = 0.2
#: Bump when augmentation changes its output for the same config (part of the feature-cache
#: key). 2: the primitives moved to :mod:`kws.data.augment`.
AUGMENT_VERSION = 2


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

    def to_json(self) -> str:
        """Canonical JSON, part of the feature-cache key."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def noise_segment(noise: NoiseBank, rng: np.random.Generator, n: int, *,
                  synthetic_prob: float = 0.3) -> np.ndarray:
    """A noise segment of ``n`` samples: recorded (a random excerpt of the bank), or with
    probability ``synthetic_prob`` (always, for an empty bank) white, pink or brown noise at
    RMS 0.1."""
    if not noise.segments or rng.random() < synthetic_prob:
        colour = NOISE_COLOURS[int(rng.integers(len(NOISE_COLOURS)))]
        return 0.1 * colored_noise(n, colour=colour, rng=rng)
    return noise.pick(n, rng)[0]


def _db(level: float) -> float:
    return float(10.0 ** (level / 20.0))


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(x * 32768.0 + 0.5), -32768, 32767).astype(np.int16)


def reverb(x: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """Convolve with a synthetic room impulse response (see the module docstring): at most
    0.5 s long, no reflection in the first millisecond."""
    rt60 = float(rng.uniform(*config.rt60_s))
    drr = float(rng.uniform(*config.drr_db))
    rir = synthetic_rir(rng, rt60=rt60, drr_db=drr, max_seconds=0.5, predelay=16)
    return apply_rir(x, rir)


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
    x = samples.astype(np.float64) / 32768.0
    if rng.random() < config.speed_prob:
        x = speed_linear(x, rng.uniform(*config.speed))
    if rng.random() < config.reverb_prob:
        x = reverb(x, rng, config)
    if rng.random() < config.eq_prob:
        x = one_pole(x, rng.uniform(60.0, 400.0), highpass=True)
        x = one_pole(x, rng.uniform(2500.0, 7500.0), highpass=False)
    out = np.zeros(num_samples, dtype=np.float64)
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
        n = noise_segment(noise, rng, num_samples, synthetic_prob=config.synthetic_noise_prob)
        n_rms = max(float(np.sqrt(np.mean(n * n))), 1e-9)
        out += n * (rms / n_rms / _db(rng.uniform(*config.snr_db)))
    return _to_int16(out)


def make_silence(*, rng: np.random.Generator, noise: NoiseBank, config: AugmentConfig,
                 num_samples: int = 16000) -> np.ndarray:
    """A ``_silence_`` clip: background noise at a random level (int16, (num_samples,))."""
    if rng.random() < 0.1:
        return _to_int16(rng.standard_normal(num_samples) * _db(-90.0))
    n = noise_segment(noise, rng, num_samples, synthetic_prob=config.synthetic_noise_prob)
    n_rms = max(float(np.sqrt(np.mean(n * n))), 1e-9)
    return _to_int16(n * (_db(rng.uniform(*config.silence_dbfs)) / n_rms))
