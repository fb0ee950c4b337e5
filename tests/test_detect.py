"""The integer streaming detector: the one-step class and the vectorized function agree."""

from __future__ import annotations

import numpy as np
import pytest

from kws.detect import Detector, DetectorConfig, detect, posteriors_uint8, smoothed
from kws.errors import KwsError


def stepwise(p: np.ndarray, cfg: DetectorConfig) -> list[tuple[int, int]]:
    d = Detector(cfg)
    out = []
    for n, row in enumerate(p):
        c = d.step(row)
        if c >= 0:
            out.append((n, c))
    return out


def cases():
    rng = np.random.default_rng(7)
    for i in range(40):
        c = int(rng.integers(3, 8))
        n = int(rng.integers(1, 400))
        p = rng.integers(0, 256, (n, c)).astype(np.uint8)
        yield p, int(rng.integers(1, 9)), int(rng.integers(0, 256)), int(rng.integers(0, 30))
    yield np.full((100, 4), 255, np.uint8), 3, 255, 5        # saturated
    yield np.zeros((100, 4), np.uint8), 1, 0, 0              # all zero, threshold 0
    tie = np.zeros((50, 4), np.uint8)
    tie[:, 2:] = 200                                         # ties between keywords
    yield tie, 2, 100, 3
    burst = np.zeros((300, 3), np.uint8)
    burst[100:110, 2] = 255                                  # one impulse-like event
    yield burst, 5, 128, 25


@pytest.mark.parametrize("case", list(cases()))
def test_stepwise_equals_vectorized(case) -> None:
    p, k, thr, refr = case
    c = p.shape[1]
    cfg = DetectorConfig(num_classes=c, keywords=tuple(range(2, c)), smooth=k,
                         thresholds=tuple([thr] * c), refractory=refr)
    assert stepwise(p, cfg) == detect(p, cfg)


def test_smoothed_is_floor_mean_with_zero_history() -> None:
    p = np.array([[255], [255], [1], [0]], np.uint8)
    assert smoothed(p, 2)[:, 0].tolist() == [127, 255, 128, 0]


def test_posteriors_uint8() -> None:
    assert posteriors_uint8(np.array([-128, 0, 127], np.int8)).tolist() == [0, 128, 255]


def test_bad_config() -> None:
    with pytest.raises(KwsError):
        DetectorConfig(num_classes=3, keywords=(2,), smooth=0, thresholds=(0, 0, 0))
    with pytest.raises(KwsError):
        DetectorConfig(num_classes=3, keywords=(2,), thresholds=(0, 0))
    with pytest.raises(KwsError):
        DetectorConfig(num_classes=3, keywords=(2, 1), thresholds=(0, 0, 0))
