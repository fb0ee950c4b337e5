"""The NumPy fixed-point front end: shapes, settings checks and accuracy against float64."""

from __future__ import annotations

import numpy as np
import pytest

from kws.errors import KwsError
from kws.frontend import fixed, reference
from kws.frontend.settings import FrontendSettings
from kws.frontend.tables import dit_permutation, fft_radices, make_tables


def test_default_shape_is_49_by_10():
    s = FrontendSettings()
    out = fixed.features_numpy(np.zeros((3, 16000), dtype=np.int16), s)
    assert out.shape == (3, 49, 10) and out.dtype == np.int8


def test_silence_is_log_eps():
    s = FrontendSettings()
    out = fixed.features_numpy(np.zeros(16000, dtype=np.int16), s)
    want = reference.quantize_output(reference.features_float(np.zeros(16000, np.int16), s), s)
    assert np.array_equal(out, want)


@pytest.mark.parametrize("bad", [dict(fft_size=300), dict(window_ms=40.0, fft_size=512),
                                 dict(num_coeffs=50), dict(upper_hz=9000.0),
                                 dict(hop_ms=0.01), dict(output_zero_point=200)])
def test_bad_settings_raise(bad):
    with pytest.raises(KwsError):
        FrontendSettings(**bad)


@pytest.mark.parametrize("m", [64, 128, 256, 512, 1024])
def test_fft_stage_matches_numpy_fft(m):
    """The fixed-point complex FFT (and the real-FFT split after it) equal DFT/M (rfft/N) to
    within a few LSB of their 2^29 scale."""
    s = FrontendSettings(fft_size=2 * m, window_ms=2 * m / 16.0, hop_ms=2.0)
    tab = make_tables(s)
    assert sorted(dit_permutation(m, fft_radices(m)).tolist()) == list(range(m))
    rng = np.random.default_rng(m)
    p = rng.integers(-(1 << 28), 1 << 28, size=(4, 2 * m))
    re, im = fixed.fft_stage(p, tab, 2 * m)
    want = np.fft.fft(p[:, 0::2] + 1j * p[:, 1::2], axis=1) / m
    err = np.max(np.abs(re + 1j * im - want))
    # Q31 twiddles with rounded products: the floor shifts of the stages dominate, about one
    # LSB per stage (3.5 LSB at M = 64 to 5.9 at M = 1024 measured), i.e. ~-160 dB of the
    # 2^29 scale; the former Q15 twiddles gave ~1000x more (2^-16 of full scale).
    assert err < 2.0 * np.log2(m)
    x_re, x_im = fixed.split_stage(re, im, tab)
    want_x = np.fft.rfft(p, axis=1) / (2 * m)
    assert np.max(np.abs(x_re + 1j * x_im - want_x)) < 2.0 * np.log2(m)


@pytest.mark.parametrize("level_db", [0, -20, -40, -60])
def test_within_one_lsb_of_float(level_db):
    rng = np.random.default_rng(7)
    t = np.arange(16000) / 16000
    sig = np.sin(2 * np.pi * (200 + 3000 * t) * t) + 0.3 * rng.standard_normal(16000)
    x = np.round(sig / np.max(np.abs(sig)) * 32767 * 10 ** (level_db / 20)).astype(np.int16)
    s = FrontendSettings()
    got = fixed.features_numpy(x, s).astype(int)
    want = reference.quantize_output(reference.features_float(x, s), s).astype(int)
    assert np.mean(np.abs(got - want) <= 1) >= 0.99


def test_arithmetic_digest_keys_feature_caches(monkeypatch):
    """Feature caches are keyed by the tables and the arithmetic version: both change it."""
    from kws.frontend import tables

    base = tables.arithmetic_digest(FrontendSettings())
    assert base == tables.arithmetic_digest(FrontendSettings())
    assert base != tables.arithmetic_digest(FrontendSettings(num_mel=32))
    tables.arithmetic_digest.cache_clear()
    monkeypatch.setattr(tables, "ARITHMETIC_VERSION", tables.ARITHMETIC_VERSION + 1)
    assert tables.arithmetic_digest(FrontendSettings()) != base
    tables.arithmetic_digest.cache_clear()
