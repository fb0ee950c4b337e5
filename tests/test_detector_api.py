"""The kws_detector C API (host build) == the Python streaming simulation (kws/simulate.py).

Front end and model are passed to the C API as callbacks (the NumPy front end on the window,
a fixed random int8 linear model), so this checks the C orchestration: hop schedule, the
sliding feature window, the every-N-hops model schedule, detection times, the detector.
"""

from __future__ import annotations

import numpy as np
import pytest

from kws.detect import DetectorSettings
from kws.device.host import CStreamDetector
from kws.frontend.fixed import features_frames
from kws.frontend.settings import FrontendSettings
from kws.simulate import simulate

SETTINGS = FrontendSettings()


class LinearModel:
    """int8 features (frames, coeffs) -> int8 scores: a fixed random projection, clipped."""

    def __init__(self, classes: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.w = rng.integers(-3, 4, size=(classes, SETTINGS.num_frames * SETTINGS.num_outputs))

    def one(self, x: np.ndarray) -> np.ndarray:
        return np.clip((self.w @ x.reshape(-1).astype(np.int64)) >> 6, -128, 127).astype(np.int8)

    def batch(self, xs: np.ndarray) -> np.ndarray:
        return np.stack([self.one(x) for x in xs]) if len(xs) else np.zeros((0, 3), np.int8)


def _c_detector(det: DetectorSettings, model: LinearModel, **kw) -> CStreamDetector:
    return CStreamDetector(
        sample_rate=SETTINGS.sample_rate, window=SETTINGS.window_samples,
        hop=SETTINGS.hop_samples, num_frames=SETTINGS.num_frames,
        num_features=SETTINGS.num_outputs, detector=det, output_zero_point=-128,
        frame_fn=lambda w: features_frames(w[None, :], SETTINGS)[0], model_fn=model.one, **kw)


def _signal(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    t = np.arange(n)
    if kind == "noise":
        level = 10 ** (rng.uniform(-90, 0) / 20) * 32767
        x = rng.normal(0, level, n)
    elif kind == "bursts":       # loud tone bursts in quiet noise: scores that move
        x = rng.normal(0, 30, n)
        for start in range(0, n, 16000):
            seg = x[start:start + 6000]
            seg += 20000 * np.sin(2 * np.pi * rng.uniform(200, 3000) * t[:len(seg)] / 16000)
    elif kind == "square":
        x = np.where((t // 40) % 2 == 0, 32767, -32768).astype(np.float64)
    elif kind == "silence":
        x = np.zeros(n)
    else:
        raise AssertionError(kind)
    return np.clip(np.floor(x + 0.5), -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("kind,seed", [("bursts", 0), ("bursts", 1), ("noise", 2),
                                       ("square", 3), ("silence", 4), ("bursts", 5)])
def test_c_api_equals_simulation(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    samples = _signal(rng, kind, 16000 * 8 + int(rng.integers(0, 700)))
    model = LinearModel(3, seed)
    every = int(rng.integers(1, 4))
    outputs = model.batch(np.lib.stride_tricks.sliding_window_view(
        features_frames(np.lib.stride_tricks.sliding_window_view(
            samples, SETTINGS.window_samples)[::SETTINGS.hop_samples], SETTINGS),
        (SETTINGS.num_frames, SETTINGS.num_outputs))[:, 0][::every])
    # thresholds from the score distribution, so that the comparison sees detections
    th = int(np.percentile(outputs[:, 1].astype(int) + 128, 90)) if len(outputs) else 0
    det = DetectorSettings(labels=("_silence_", "yes", "no"), thresholds=(256, th, th),
                           average_window=int(rng.integers(1, 5)), model_every_hops=every,
                           refractory_ms=int(rng.choice([0, 300, 1000])))
    expected = simulate(samples, frontend=SETTINGS, detector=det, model_fn=model.batch,
                        output_zero_point=-128)
    c = _c_detector(det, model)
    got, pos = [], 0
    while pos < len(samples):                 # random chunk sizes, like DMA blocks of any size
        n = int(rng.integers(1, 4000))
        got += c.process(samples[pos:pos + n], max_events=64)
        pos += n
    assert got == expected
    if kind == "bursts":
        assert len(expected) >= 2


def test_settings_hash_mismatch_fails_init() -> None:
    det = DetectorSettings(labels=("a", "b", "c"), thresholds=(256, 200, 200))
    model = LinearModel(3, 0)
    assert _c_detector(det, model, frontend_hash=0x1234, model_hash=0x1234).init_rc == 0
    assert _c_detector(det, model, frontend_hash=0x1234, model_hash=0x1235).init_rc == -3


def test_gap_restarts_the_sample_history() -> None:
    """After kws_detector_skip the next frame starts on fresh samples and the clock jumps."""
    det = DetectorSettings(labels=("a", "b", "c"), thresholds=(0, 256, 256),
                           average_window=1, model_every_hops=1, refractory_ms=0)
    windows: list[np.ndarray] = []

    def frame_fn(w: np.ndarray) -> np.ndarray:
        windows.append(w.copy())
        return np.zeros(SETTINGS.num_outputs, np.int8)

    c = CStreamDetector(sample_rate=16000, window=480, hop=320, num_frames=2, num_features=10,
                        detector=det, output_zero_point=-128, frame_fn=frame_fn,
                        model_fn=lambda x: np.array([0, -128, -128], np.int8))
    first = c.process(np.full(800, 1, np.int16))     # frames end at 480, 800
    c.skip(3200)                                     # 200 ms dropped
    second = c.process(np.full(500, 2, np.int16))    # fresh window: frame ends at 800+3200+480
    assert [d.time_ms for d in first] == [50]
    assert [d.time_ms for d in second] == [(800 + 3200 + 480) * 1000 // 16000]
    assert all(np.all(w == w[0]) for w in windows)   # no window mixes both sides of the gap
