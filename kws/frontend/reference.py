"""Float64 reference of the front end's definition, used only to measure accuracy.

This is the mathematical definition (MLPerf Tiny KWS's formula without per-clip peak
normalization). The fixed-point pipeline (:mod:`kws.frontend.fixed`) approximates it; the
accuracy benchmark counts how many int8 outputs land within one LSB of it.
"""

from __future__ import annotations

import numpy as np

from kws.frontend.settings import FrontendSettings
from kws.frontend.tables import dct_matrix, hann_periodic, mel_weight_matrix


def frame_signal(samples: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """Cut (..., T) samples into (..., frames, window) frames at the settings' hop.

    Frame t covers samples ``[t * hop, t * hop + window)``; a trailing partial frame is dropped.
    """
    samples = np.asarray(samples)
    num = settings.frames_for(samples.shape[-1])
    win, hop = settings.window_samples, settings.hop_samples
    idx = np.arange(num)[:, None] * hop + np.arange(win)[None, :]
    return samples[..., idx]


def log_mel_float(samples: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """Float64 log-mel energies ``ln(mel + eps)``, shaped (..., frames, num_mel).

    Parameters
    ----------
    samples : ndarray of int16, shape (..., T)
        16 kHz mono audio; scaled to [-1, 1) by 1/32768.
    settings : FrontendSettings
        The configuration.
    """
    frames = frame_signal(samples, settings).astype(np.float64) / 32768.0
    frames = frames * hann_periodic(settings.window_samples)
    mag = np.abs(np.fft.rfft(frames, n=settings.fft_size, axis=-1))
    mel = mag @ mel_weight_matrix(settings)
    return np.log(mel + settings.log_eps)


def features_float(samples: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """Float64 features (MFCC or log-mel), shaped (..., frames, num_outputs)."""
    log_mel = log_mel_float(samples, settings)
    if not settings.dct:
        return log_mel
    return log_mel @ dct_matrix(settings.num_coeffs, settings.num_mel).T


def quantize_output(values: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """Quantize float features to int8 the way the fixed-point output stage does.

    ``q = clamp(floor(v / scale + 0.5) + zero_point, -128, 127)`` (round half up).
    """
    q = np.floor(np.asarray(values, dtype=np.float64) / settings.output_scale + 0.5)
    return np.clip(q + settings.output_zero_point, -128, 127).astype(np.int8)
