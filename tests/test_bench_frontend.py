"""The arm_mfcc_q15 accuracy column of ``kws bench frontend`` (host build of CMSIS-DSP)."""

from __future__ import annotations

import numpy as np
import pytest

from kws.bench import frontend as bench
from kws.errors import KwsError
from kws.frontend import reference, signals
from kws.frontend.settings import FrontendSettings


@pytest.fixture(scope="module")
def cmsis():
    from kws.bench import cmsis_mfcc
    try:
        cmsis_mfcc._library()
    except KwsError as exc:
        pytest.skip(f"CMSIS-DSP host library unavailable (scripts/fetch_third_party.sh): {exc}")
    return cmsis_mfcc


def test_arm_mfcc_column_shape_and_accuracy(cmsis):
    s = FrontendSettings()
    rng = np.random.default_rng(3)
    noise = rng.normal(0.0, 1.0, (3, s.clip_samples))
    tone = np.sin(2 * np.pi * 700.0 * np.arange(s.clip_samples) / s.sample_rate)[None]
    clips = np.stack([signals.scale_to_peak(c, -20) for c in np.concatenate([noise, tone])])
    got = bench.arm_mfcc_q15_column(clips, s)
    want = reference.quantize_output(reference.features_float(clips, s), s)
    assert got.shape == want.shape
    assert got.min() >= -128 and got.max() <= 127
    # clip by clip == the whole batch (frames are cut per clip, not across clips)
    assert np.array_equal(bench.arm_mfcc_q15_column(clips[1:2], s), got[1:2])
    share = np.mean(np.abs(got.astype(int) - want.astype(int)) <= 1)
    assert 0.5 < share <= 1.0, share  # bench: 0.89-0.93 at -20 dBFS


def test_accuracy_rows_carry_the_column(cmsis, monkeypatch):
    s = FrontendSettings()
    monkeypatch.setattr(bench, "ACCURACY_COLUMNS", {})
    bench.register_accuracy_column("arm_mfcc_q15", bench.arm_mfcc_q15_column)
    clips, _ = signals.adversarial_clips(s.clip_samples, seed=2)
    rows = bench.accuracy_rows(clips[:3], s, "synthetic")
    assert [r["level_db"] for r in rows] == list(bench.LEVELS_DB)
    for r in rows:
        assert 0.0 <= r["arm_mfcc_q15_within1"] <= 1.0
        assert 0.0 <= r["arm_mfcc_q15_saturated"] <= 1.0
