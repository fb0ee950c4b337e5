"""Checkpoint choice by false accepts per hour under a target, then the best recall: episodes
counted by hand, the cut-off and the winning epoch of constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from kws.errors import KwsError
from kws.train.select import EpochScore, best, episodes, score_epoch


@pytest.mark.parametrize("top, cutoff, gap, expected", [
    ([0.1, 0.2, 0.3], 0.5, 10, 0),
    ([0.9, 0.9, 0.9], 0.5, 10, 1),                       # one run
    ([0.9, 0.1, 0.9], 0.5, 1, 2),                        # 2 windows apart > gap 1
    ([0.9, 0.1, 0.9], 0.5, 2, 1),                        # within the refractory gap
    ([0.9] + [0.0] * 10 + [0.6, 0.7], 0.65, 3, 2),       # 0.6 below the cut-off
    ([0.5, 0.49], 0.5, 1, 1),                            # >= the cut-off counts
])
def test_episodes_by_hand(top: list[float], cutoff: float, gap: int, expected: int) -> None:
    assert episodes(np.array(top), cutoff, gap=gap) == expected


def test_score_epoch_lowest_cutoff_within_target() -> None:
    # half an hour of negatives: one window at 0.72 and one at 0.93 (far apart)
    neg = np.zeros(2000)
    neg[100], neg[1500] = 0.72, 0.93
    kp = np.array([0.99, 0.95, 0.9, 0.8, 0.6])
    # target 2/h: both episodes = 4/h fail below 0.75; from 0.75 one episode = 2/h passes
    s = score_epoch(3, negative_top=[neg], negative_hours=0.5, keyword_probs=kp,
                    target_fa_per_hour=2.0, gap=5, cutoffs=(0.5, 0.7, 0.75, 0.95))
    assert (s.cutoff, s.fa_per_hour, s.met) == (0.75, 2.0, True)
    assert s.recall == pytest.approx(4 / 5)
    # target 0: needs a cut-off above 0.93
    s0 = score_epoch(3, negative_top=[neg], negative_hours=0.5, keyword_probs=kp,
                     target_fa_per_hour=0.0, gap=5, cutoffs=(0.5, 0.7, 0.75, 0.95))
    assert (s0.cutoff, s0.recall, s0.met) == (0.95, 0.4, True)
    # no cut-off meets it: recall 0, the last cut-off's FA/h
    s1 = score_epoch(3, negative_top=[neg], negative_hours=0.5, keyword_probs=kp,
                     target_fa_per_hour=0.0, gap=5, cutoffs=(0.5, 0.7))
    assert (s1.met, s1.recall, s1.fa_per_hour) == (False, 0.0, 4.0)
    with pytest.raises(KwsError, match="no held-out negative"):
        score_epoch(0, negative_top=[], negative_hours=0.0, keyword_probs=kp,
                    target_fa_per_hour=1.0, gap=5)


def test_best_epoch_rule() -> None:
    a = EpochScore(10, 0.9, 0.5, 0.80, True)
    b = EpochScore(11, 0.8, 1.0, 0.90, True)
    c = EpochScore(12, 0.99, 3.0, 0.0, False)             # misses the target: never preferred
    d = EpochScore(13, 0.8, 0.0, 0.90, True)               # ties b on recall: the later wins
    assert best([a, b, c]) == b
    assert best([a, b, c, d]) == d
    assert best([c, EpochScore(14, 0.99, 2.0, 0.0, False)]).epoch == 14   # fewest FA/h
    with pytest.raises(KwsError):
        best([])


def test_held_out_windows_and_gap() -> None:
    from kws.frontend.settings import FrontendSettings
    from kws.train.select import held_out

    s = FrontendSettings()
    rng = np.random.default_rng(0)
    recs = [rng.normal(0, 1000, 3 * 16000).astype(np.int16),
            rng.normal(0, 1000, 16000 // 2).astype(np.int16)]        # shorter than a window
    val_x = rng.integers(-128, 128, (6, s.num_frames, s.num_outputs)).astype(np.int8)
    val_y = np.array([0, 2, 3, 1, 2, 2])
    h = held_out(recs, val_x, val_y, keyword_columns=[2, 3], settings=s)
    assert [len(w) for w in h.negatives] == [(s.frames_for(3 * 16000) - s.num_frames) // 5 + 1,
                                             0]
    assert h.negative_hours == pytest.approx(3.5 / 3600)
    assert h.keywords_y.tolist() == [2, 3, 2, 2]
    assert np.array_equal(h.keywords_x, val_x[[1, 2, 4, 5]])
    assert h.gap == 10                                   # 1 s at 100 ms per window
