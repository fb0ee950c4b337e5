"""The voice-activity gate: the Python definition (kws/gate.py) == its C twin, exactly."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import kws.gate
from kws.detect import DetectorSettings
from kws.device.host import CGate, load_library
from kws.errors import KwsError
from kws.gate import Gate, GateSettings, frame_magnitudes, gate_open, log2_q3


def test_doctest() -> None:
    assert doctest.testmod(kws.gate).failed == 0


def test_log2_q3_equals_c_on_edges_and_random() -> None:
    lib = load_library()
    edges = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 2**31 - 1, 2**31, 2**32 - 1]
    edges += [(1 << k) + d for k in range(32) for d in (-1, 0, 1) if 0 <= (1 << k) + d < 2**32]
    rnd = np.random.default_rng(0).integers(0, 2**32, size=20000, dtype=np.uint64)
    for v in [*edges, *(int(x) for x in rnd)]:
        assert lib.kws_gate_log2_q3(v) == log2_q3(v), v
    # monotone, and at most 0.22 octave below the true log2 (3 mantissa bits, linear)
    vals = np.unique(np.concatenate([np.array(edges, np.float64), rnd.astype(np.float64)]))
    vals = vals[vals > 0]
    q = np.array([log2_q3(int(v)) for v in vals])
    assert np.all(np.diff(q) >= 0)
    assert np.all((q / 8 <= np.log2(vals) + 1e-9) & (np.log2(vals) < q / 8 + 0.22))


def _settings(rng: np.random.Generator) -> GateSettings:
    return GateSettings(margin=int(rng.integers(0, 256)), min_level=int(rng.integers(0, 256)),
                        rise=int(rng.choice([0, 1, 20, 300, 65535])),
                        hangover=int(rng.choice([1, 2, 49, 65535])))


def _magnitudes(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "random":
        return rng.integers(0, 320 * 32768 + 1, size=n)
    if kind == "log-uniform":          # every level from 0 to full scale
        return np.floor(2.0 ** rng.uniform(0, np.log2(320 * 32768), size=n)).astype(np.int64)
    if kind == "zeros":
        return np.zeros(n, np.int64)
    if kind == "full":                 # |x| = 32768 on every sample
        return np.full(n, 320 * 32768)
    if kind == "bursts":               # speech-like bursts over a drifting noise floor
        base = 2.0 ** (12 + np.cumsum(rng.normal(0, 0.05, n)))
        burst = (rng.random(n) < 0.05).astype(float).cumsum() % 2 * 2.0 ** rng.uniform(2, 6)
        return np.clip(base * (1 + burst), 0, 2**32 - 1).astype(np.int64)
    if kind == "steps":                # noise-level steps up and down by 20 dB
        return np.repeat(rng.choice([2**10, 2**13, 2**16], size=n // 50 + 1), 50)[:n]
    if kind == "max-u32":              # the largest magnitudes a uint32 holds
        return rng.integers(2**32 - 4, 2**32, size=n, dtype=np.uint64).astype(np.int64)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["random", "log-uniform", "zeros", "full", "bursts", "steps",
                                  "max-u32"])
def test_gate_steps_equal_c(kind: str) -> None:
    rng = np.random.default_rng(abs(hash(kind)) % 2**32)
    for trial in range(12):
        s = GateSettings() if trial == 0 else _settings(rng)
        mags = _magnitudes(rng, kind, 3000)
        py, c = Gate(s), CGate(s)
        assert c.init_rc == 0
        got_py = [py.step(int(v)) for v in mags]
        got_c = [c.step(int(v)) for v in mags]
        assert got_py == got_c, (kind, s)
        py.reset()
        c.reset()
        assert [py.step(int(v)) for v in mags[:200]] == [c.step(int(v)) for v in mags[:200]]


def test_gate_on_samples_equals_c_and_closes_in_silence() -> None:
    rng = np.random.default_rng(7)
    quiet = rng.normal(0, 30, 16000 * 4)
    speech = rng.normal(0, 3000, 16000)
    x = np.clip(np.concatenate([quiet, speech, quiet, [32767] * 320, [-32768] * 320, quiet]),
                -32768, 32767).astype(np.int16)
    s = GateSettings()
    expected = gate_open(x, s, window=480, hop=320)
    c = CGate(s)
    got = [c.process(x[f * 320 + 160:f * 320 + 480]) for f in range(len(expected))]
    assert got == expected.tolist()
    # open at the start (hangover), closed in the quiet noise, open over the burst and one
    # window after it, closed again, open on the two full-scale hops
    assert expected[:48].all() and not expected[60:195].any()
    assert expected[202:249 + 49].all() and not expected[310:440].any()
    assert expected[451:451 + 49].all() and not expected[520:].any()


def test_disabled_gate_is_always_open_and_bad_config() -> None:
    c = CGate(None)
    assert c.init_rc == 0 and all(c.step(v) for v in (0, 1, 2**32 - 1))
    lib = load_library()
    assert lib.kws_gate_process_s16(None, None, 0) == -1
    for bad in ({"margin": 256}, {"hangover": 0}, {"rise": -1}, {"min_level": 1.5}):
        with pytest.raises(KwsError, match="gate setting"):
            GateSettings(**bad)
    with pytest.raises(KwsError, match="unknown gate setting"):
        GateSettings.from_dict({"margin": 1, "loud": 2})
    with pytest.raises(KwsError, match="hop"):
        frame_magnitudes(np.zeros(10, np.int16), window=480, hop=0)


def test_detector_settings_carry_the_gate() -> None:
    d = DetectorSettings(labels=("a", "b"), thresholds=(256, 100), gate=GateSettings(margin=3))
    again = DetectorSettings.from_dict(d.to_dict())
    assert again == d and again.gate == GateSettings(margin=3)
    assert "gate" not in DetectorSettings(labels=("a",), thresholds=(1,)).to_dict()
