"""Exact Python mirrors of the firmware's integer test doubles (firmware/app/backend_doubles.c).

They let the QEMU parity tests check the firmware's plumbing (timer-driven DMA blocks, the
ring, the hop and model schedule, the detector, the printed lines) independently of the front
end and the runtime. They are not a feature extractor or a classifier.
"""

from __future__ import annotations

import numpy as np


def coefficients(num_features: int, window: int) -> np.ndarray:
    """``c[f, j] = (j * (2f + 1) + f) % 9 - 4``, int64 (num_features, window)."""
    f = np.arange(num_features)[:, None]
    j = np.arange(window)[None, :]
    return (j * (2 * f + 1) + f) % 9 - 4


def frames(windows: np.ndarray, num_features: int) -> np.ndarray:
    """int16 windows (B, L) -> int8 frames (B, num_features): ``clamp((x . c) >> 10)``."""
    c = coefficients(num_features, windows.shape[1])
    acc = windows.astype(np.int64) @ c.T
    return np.clip(acc >> 10, -128, 127).astype(np.int8)


def features(samples: np.ndarray, *, window: int, hop: int, num_features: int) -> np.ndarray:
    """All frames of a stream, frame t on samples [t*hop, t*hop + window)."""
    if len(samples) < window:
        return np.zeros((0, num_features), np.int8)
    wins = np.lib.stride_tricks.sliding_window_view(samples, window)[::hop]
    return frames(wins, num_features)


def weights(num_classes: int, num_inputs: int, seed: int) -> np.ndarray:
    """The model double's int8 weights, in [-3, 3]."""
    return np.random.default_rng(seed).integers(-3, 4, size=(num_classes, num_inputs)
                                                ).astype(np.int8)


def model(inputs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """int8 (B, frames, features) -> int8 (B, classes): ``clamp((W x) >> 4)``."""
    x = inputs.reshape(len(inputs), -1).astype(np.int64)
    return np.clip((x @ w.astype(np.int64).T) >> 4, -128, 127).astype(np.int8)
