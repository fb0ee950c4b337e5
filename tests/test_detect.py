"""The detector: Python definition (kws/detect.py) == C twin (firmware/detector) exactly."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import kws.detect
from kws.detect import Detector, DetectorSettings
from kws.device.host import CDetector, DetectConfig, load_library
from kws.errors import KwsError


def test_doctest() -> None:
    assert doctest.testmod(kws.detect).failed == 0


def _settings(rng: np.random.Generator, classes: int) -> DetectorSettings:
    th = rng.integers(0, 257, size=classes)
    th[rng.random(classes) < 0.2] = 256
    return DetectorSettings(labels=tuple(f"w{i}" for i in range(classes)),
                            thresholds=tuple(int(t) for t in th),
                            average_window=int(rng.integers(1, 17)),
                            refractory_ms=int(rng.choice([0, 1, 40, 500, 1000])))


def _outputs(rng: np.random.Generator, kind: str, steps: int, classes: int) -> np.ndarray:
    if kind == "random":
        return rng.integers(-128, 128, size=(steps, classes))
    if kind == "max":
        return np.full((steps, classes), 127)
    if kind == "min":
        return np.full((steps, classes), -128)
    if kind == "ties":           # several classes always equal: lowest index must win
        col = rng.integers(-128, 128, size=(steps, 1))
        return np.repeat(col, classes, axis=1)
    if kind == "bursts":         # one-hot posteriors in bursts, like keywords in speech
        out = np.full((steps, classes), -128)
        for s in range(0, steps, 7):
            out[s:s + int(rng.integers(1, 6)), int(rng.integers(classes))] = 127
        return out
    if kind == "alternate":
        out = np.full((steps, classes), -128)
        out[::2, 0] = 127
        out[1::2, classes - 1] = 127
        return out
    raise AssertionError(kind)


KINDS = ("random", "max", "min", "ties", "bursts", "alternate")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(25))
def test_c_equals_python(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed * 31 + KINDS.index(kind))
    classes = int(rng.integers(1, 33))
    settings = _settings(rng, classes)
    zp = int(rng.choice([-128, -128, 0, 127, int(rng.integers(-128, 128))]))
    py, c = Detector(settings, output_zero_point=zp), CDetector(settings, output_zero_point=zp)
    steps = 300
    out = _outputs(rng, kind, steps, classes).astype(np.int8)
    times = np.cumsum(rng.integers(0, 60, size=steps))          # repeats allowed (step 0)
    py_hits, c_hits = [], []
    for q, t in zip(out, times):
        py_hits.append(py.process(q, time_ms=int(t)))
        c_hits.append(c.process(q, time_ms=int(t)))
    assert py_hits == c_hits
    if kind == "max" and zp == -128 and min(settings.thresholds) <= 255:
        assert any(h is not None for h in py_hits)   # the comparison saw detections


def test_smoothing_by_hand() -> None:
    s = DetectorSettings(labels=("a", "b"), thresholds=(256, 100), average_window=4,
                         refractory_ms=100)
    d = Detector(s, output_zero_point=-128)
    # u = q + 128; b's sum after each step: 100, 200, 300, 400 -> scores 25, 50, 75, 100
    hits = [d.process([-128, -28], time_ms=t) for t in (0, 20, 40, 60)]
    assert hits[:3] == [None, None, None]
    assert hits[3] == kws.detect.Detection(60, "b", 100)
    assert d.process([-128, -28], time_ms=159) is None      # 159 < 60 + 100
    assert d.process([-128, -28], time_ms=160) == kws.detect.Detection(160, "b", 100)


def test_bad_settings() -> None:
    with pytest.raises(KwsError, match="thresholds"):
        DetectorSettings(labels=("a",), thresholds=(257,))
    with pytest.raises(KwsError, match="average_window"):
        DetectorSettings(labels=("a",), thresholds=(1,), average_window=17)
    with pytest.raises(KwsError, match="2 values for 1 labels"):
        DetectorSettings(labels=("a",), thresholds=(1, 2))
    with pytest.raises(KwsError, match="unknown detector"):
        DetectorSettings.from_dict({"labels": ["a"], "thresholds": [1], "bogus": 1})


def test_c_error_codes() -> None:
    import ctypes

    lib = load_library()
    state = (ctypes.c_uint64 * 512)()
    th = (ctypes.c_uint16 * 2)(10, 256)
    assert lib.kws_detect_init(None, ctypes.byref(DetectConfig(2, 3, 0, -128, th))) == -1
    assert lib.kws_detect_init(state, ctypes.byref(DetectConfig(2, 0, 0, -128, th))) == -2
    assert lib.kws_detect_init(state, ctypes.byref(DetectConfig(33, 1, 0, -128, th))) == -2
    assert lib.kws_detect_init(state, ctypes.byref(DetectConfig(2, 1, 0, -129, th))) == -2
    bad = (ctypes.c_uint16 * 2)(10, 257)
    assert lib.kws_detect_init(state, ctypes.byref(DetectConfig(2, 1, 0, -128, bad))) == -2
    assert lib.kws_detect_init(state, ctypes.byref(DetectConfig(2, 1, 0, -128, th))) == 0
    q = (ctypes.c_int8 * 3)()
    from kws.device.host import CDetection
    hit = CDetection()
    assert lib.kws_detect_process_s8(state, q, 3, 0, ctypes.byref(hit)) == -3
    assert lib.kws_detect_process_s8(state, None, 2, 0, ctypes.byref(hit)) == -1
    assert lib.kws_detect_process_s8(state, q, 2, 0, None) == -1


@pytest.mark.parametrize("seed", range(6))
def test_word_classes_are_never_detected(seed: int) -> None:
    """Word classes (non-keyword words trained as classes of their own) are disabled by the
    default settings; Python, C and the vectorized detector report keywords only, even when
    a word class has the highest score."""
    from kws.scoring import detect_all

    labels = ("_silence_", "_unknown_", "yes", "no", "_word_go", "_word_down")
    base = DetectorSettings.default_for(labels, threshold=150, average_window=2,
                                        refractory_ms=100)
    assert base.thresholds == (256, 256, 150, 150, 256, 256)
    assert [kws.detect.is_keyword(lab) for lab in labels] == [False, False, True, True,
                                                              False, False]
    rng = np.random.default_rng(seed)
    steps = 400
    out = np.full((steps, len(labels)), -128, np.int8)
    for s in range(0, steps, 5):       # bursts: a word class alone, or above a keyword
        c = int(rng.choice([2, 3, 4, 4, 5, 5]))
        out[s:s + 3, c] = 120
        out[s:s + 3, 4 if c < 4 else c] = 127
    times = np.arange(steps) * 40
    py, c_det = Detector(base, output_zero_point=-128), CDetector(base, output_zero_point=-128)
    py_hits = [py.process(q, time_ms=int(t)) for q, t in zip(out, times)]
    c_hits = [c_det.process(q, time_ms=int(t)) for q, t in zip(out, times)]
    assert py_hits == c_hits
    hits = [h for h in py_hits if h is not None]
    assert hits and {h.label for h in hits} <= {"yes", "no"}
    assert detect_all(out, times, base, -128) == hits
    # a word class outscores every keyword it fires alongside, yet is never reported
    assert (out[:, 4:].max(axis=1) > out[:, 2:4].max(axis=1))[out[:, 2:4].max(axis=1) > 0].all()
