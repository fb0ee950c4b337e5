"""``kws bench ensemble``: the members' outputs averaged as a device would, scored as one model."""

from __future__ import annotations

import numpy as np
import pytest

from kws.bench.ensemble import ensemble_scored, main
from kws.detect import DetectorSettings
from kws.errors import KwsError
from kws.evaluate import Scored


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
