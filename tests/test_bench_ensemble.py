"""``kws bench ensemble``: the members' outputs averaged as a device would, scored as one model."""

from __future__ import annotations

import numpy as np
import pytest

from kws.bench.ensemble import ensemble_scored, main, mean_outputs
from kws.detect import DetectorSettings
from kws.errors import KwsError
from kws.evaluate import Scored


def test_mean_outputs_rounds_half_up_by_hand() -> None:
    a = np.array([[0, 255, 254, 7]], np.uint8)
    b = np.array([[1, 255, 255, 8]], np.uint8)
    c = np.array([[1, 254, 255, 9]], np.uint8)
    assert mean_outputs([a, b]).tolist() == [[1, 255, 255, 8]]        # 0.5 -> 1, 254.5 -> 255
    assert mean_outputs([a, b, c]).tolist() == [[1, 255, 255, 8]]     # 2/3 -> 1, 764/3 -> 255
    assert mean_outputs([a, b]).dtype == np.uint8
    s = np.array([-128, -3, 127], np.int8)
    t = np.array([-127, -4, 127], np.int8)
    assert mean_outputs([s, t]).tolist() == [-127, -3, 127]          # -127.5 -> -127, -3.5 -> -3
    assert mean_outputs([s]).tolist() == s.tolist()


def test_mean_outputs_against_exact_rationals_on_random_members() -> None:
    rng = np.random.default_rng(0)
    for n in (2, 3, 4, 5):
        ms = [rng.integers(-128, 128, size=(50, 6)).astype(np.int8) for _ in range(n)]
        got = mean_outputs(ms)
        exact = np.sum([m.astype(np.int64) for m in ms], axis=0) / n
        assert np.all(got >= np.floor(exact)) and np.all(got <= np.ceil(exact))
        assert np.all(np.abs(got - exact) <= 0.5)
        half = (exact - np.floor(exact)) == 0.5
        assert np.all(got[half] == np.ceil(exact[half]))


def test_mean_outputs_rejects_mismatched_members() -> None:
    with pytest.raises(KwsError, match="no outputs"):
        mean_outputs([])
    with pytest.raises(KwsError, match="shape or type"):
        mean_outputs([np.zeros((2, 3), np.int8), np.zeros((2, 4), np.int8)])
    with pytest.raises(KwsError, match="shape or type"):
        mean_outputs([np.zeros(3, np.int8), np.zeros(3, np.uint8)])


def _scored(keyword_scores: list[int], times: np.ndarray) -> Scored:
    """One keyword-free recording, classes (_silence_, _unknown_, yes), int8 outputs."""
    q = np.full((len(keyword_scores), 3), -128, np.int8)
    q[:, 2] = np.array(keyword_scores) - 128
    q[:, 1] = 127 - q[:, 2].astype(np.int64) - 128
    return Scored([(q, times)], [None], [3600.0], output_zero_point=-128, names=["neg"])


def test_an_ensemble_fires_where_its_mean_does() -> None:
    times = np.arange(6) * 20.0
    a = _scored([0, 0, 250, 0, 0, 0], times)       # member a fires once at a high threshold
    b = _scored([0, 0, 10, 0, 0, 0], times)        # member b does not
    ens = ensemble_scored([a, b])
    assert ens.outputs[0][0][:, 2].tolist() == [-128, -128, 2, -128, -128, -128]   # 130 - 128
    det = DetectorSettings(labels=("_silence_", "_unknown_", "yes"), thresholds=(256, 256, 200),
                           average_window=1, refractory_ms=1000)
    assert a.at(det)["false_accepts"] == 1
    assert ens.at(det)["false_accepts"] == 0                    # mean 130 < 200
    low = DetectorSettings(labels=det.labels, thresholds=(256, 256, 120), average_window=1,
                           refractory_ms=1000)
    assert ens.at(low)["false_accepts"] == 1                    # 130 >= 120
    same = ensemble_scored([a, a])
    def fas(sc: Scored) -> list[int]:
        return [p["false_accepts"] for p in sc.curve(det)]

    assert fas(same) == fas(a) and fas(ens) != fas(a)


def test_ensemble_scored_rejects_members_of_other_recordings() -> None:
    a = _scored([0, 1, 2], np.arange(3) * 20.0)
    with pytest.raises(KwsError, match="same recordings"):
        ensemble_scored([a, _scored([0, 1, 2], np.arange(3) * 40.0)])


def test_main_needs_two_runs() -> None:
    with pytest.raises(KwsError, match="at least two RUN"):
        main(["only-one-run"])


def test_main_checks_its_arguments_before_loading_runs() -> None:
    with pytest.raises(KwsError, match="1..16"):
        main(["missing-a", "missing-b", "--smoothing", "20"])
    with pytest.raises(KwsError, match="budget"):
        main(["missing-a", "missing-b", "--budgets", "x"])
