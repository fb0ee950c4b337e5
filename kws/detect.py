"""Streaming detection: posterior smoothing, thresholds and a refractory time, in integers.

The firmware mirrors this module exactly, so it is defined on integers only.

Definition
----------
The model runs every ``stride`` front-end hops on the last ``num_frames`` frames and outputs
int8 softmax posteriors ``q`` (TFLite's fixed softmax output quantization: scale 1/256, zero
point -128). Per inference ``n``:

1. ``p[c] = q[c] + 128``                             uint8, 0..255 (probability * 256)
2. ``S[c] = p_n[c] + p_{n-1}[c] + ... + p_{n-K+1}[c]`` the sum of the last ``K`` posteriors, with
   posteriors before the first inference taken as 0 (a ring buffer of K uint8 rows initialised to
   zero), fits in uint16 for K <= 257; ``m[c] = S[c] // K`` (floor division), uint8.
3. If ``refractory_left > 0``: decrement it, no detection.
   Otherwise, among the keyword classes with ``m[c] >= threshold[c]``, the one with the largest
   ``m[c]`` (the lowest index on ties) is detected, and ``refractory_left = R`` inferences.

``_silence_`` and ``_unknown_`` (classes 0 and 1) never fire. Time of a detection: the end of
the window of inference ``n``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kws.errors import KwsError


@dataclasses.dataclass(frozen=True)
class DetectorConfig:
    """Parameters of :class:`Detector` (integers, as the firmware holds them).

    Parameters
    ----------
    num_classes : int
        Model outputs.
    keywords : tuple of int
        Indices of the classes that may fire.
    smooth : int
        ``K``, posteriors averaged (1..255).
    thresholds : tuple of int
        Per class, 0..255 on the uint8 posterior scale (ignored for non-keywords).
    refractory : int
        ``R``, inferences after a detection during which nothing fires.
    """

    num_classes: int
    keywords: tuple[int, ...]
    smooth: int = 3
    thresholds: tuple[int, ...] = ()
    refractory: int = 25

    def __post_init__(self) -> None:
        if not 1 <= self.smooth <= 255:
            raise KwsError(f"detector smooth={self.smooth}: must be in 1..255")
        if self.refractory < 0:
            raise KwsError(f"detector refractory={self.refractory}: must be >= 0")
        if len(self.thresholds) != self.num_classes:
            raise KwsError(f"detector: {len(self.thresholds)} thresholds for "
                           f"{self.num_classes} classes")
        if list(self.keywords) != sorted(set(self.keywords)) or any(
                not 0 <= c < self.num_classes for c in self.keywords):
            raise KwsError("detector: keywords must be ascending, distinct class indices")
        if any(not 0 <= t <= 255 for t in self.thresholds):
            raise KwsError("detector: thresholds must be in 0..255")


def posteriors_uint8(q: np.ndarray) -> np.ndarray:
    """int8 softmax outputs (scale 1/256, zero point -128) -> uint8 ``q + 128``."""
    return (np.asarray(q, dtype=np.int16) + 128).astype(np.uint8)


def smoothed(p: np.ndarray, k: int) -> np.ndarray:
    """``m[n, c] = (p[n] + ... + p[n-k+1]) // k`` with zeros before the start; uint8 (N, C)."""
    p = np.asarray(p, dtype=np.int64)
    c = np.cumsum(np.vstack([np.zeros((1, p.shape[1]), np.int64), p]), axis=0)
    n = np.arange(1, len(p) + 1)
    s = c[n] - c[np.maximum(n - k, 0)]
    return (s // k).astype(np.uint8)


def detect(p: np.ndarray, cfg: DetectorConfig) -> list[tuple[int, int]]:
    """Run the detector over uint8 posteriors (N, C); returns ``[(inference, class), ...]``.

    Equivalent to feeding :class:`Detector` one row at a time, but vectorized.
    """
    m = smoothed(p, cfg.smooth).astype(np.int64)
    thr = np.asarray(cfg.thresholds, dtype=np.int64)
    mask = np.zeros(cfg.num_classes, dtype=bool)
    mask[list(cfg.keywords)] = True
    ok = (m >= thr) & mask
    score = np.where(ok, m, -1)
    best = score.argmax(axis=1)          # first maximum = lowest index on ties
    fire = np.nonzero(score.max(axis=1) >= 0)[0]
    out: list[tuple[int, int]] = []
    last = -(10 ** 12)
    for n in fire:
        if n - last > cfg.refractory:
            out.append((int(n), int(best[n])))
            last = n
    return out


class Detector:
    """The streaming detector, one inference at a time (the firmware's structure).

    Examples
    --------
    >>> cfg = DetectorConfig(num_classes=3, keywords=(2,), smooth=2, thresholds=(0, 0, 200),
    ...                      refractory=1)
    >>> d = Detector(cfg)
    >>> [d.step(np.array([0, 0, v], np.uint8)) for v in (250, 250, 250, 250)]
    [-1, 2, -1, 2]
    """

    def __init__(self, cfg: DetectorConfig) -> None:
        self.cfg = cfg
        self.reset()

    def reset(self) -> None:
        """Zero the ring buffer and the refractory counter."""
        self.ring = np.zeros((self.cfg.smooth, self.cfg.num_classes), dtype=np.uint8)
        self.pos = 0
        self.sums = np.zeros(self.cfg.num_classes, dtype=np.uint16)
        self.refractory_left = 0

    def step(self, p: np.ndarray) -> int:
        """Feed one row of uint8 posteriors; return the detected class or -1."""
        p = np.asarray(p, dtype=np.uint8)
        self.sums = (self.sums + p - self.ring[self.pos].astype(np.uint16)).astype(np.uint16)
        self.ring[self.pos] = p
        self.pos = (self.pos + 1) % self.cfg.smooth
        m = self.sums // self.cfg.smooth
        if self.refractory_left > 0:
            self.refractory_left -= 1
            return -1
        best, best_m = -1, -1
        for c in self.cfg.keywords:
            if m[c] >= self.cfg.thresholds[c] and m[c] > best_m:
                best, best_m = c, int(m[c])
        if best >= 0:
            self.refractory_left = self.cfg.refractory
        return best
