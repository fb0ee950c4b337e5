"""Training-time augmentation (kws.data.augment)."""

from __future__ import annotations

import numpy as np
import pytest

from kws.data import augment as aug
from kws.errors import KwsError


def _speech(n: int, seed: int = 0) -> np.ndarray:
    """Word-like test clips: a 300 ms tone burst at a random place, int16 (n, 16000)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 16000))
    for i in range(n):
        start = int(rng.integers(2000, 11000))
        f = rng.uniform(150, 600)
        x[i, start: start + 4800] = 0.5 * np.sin(2 * np.pi * f * np.arange(4800) / 16000)
    return (x * 32767).astype(np.int16)


def _bank(seconds: float = 10.0) -> aug.NoiseBank:
    rng = np.random.default_rng(1)
    recs = [0.01 * rng.standard_normal(int(seconds * 16000)),
            0.02 * np.sin(np.arange(int(seconds * 16000)) * 0.05)]
    return aug.NoiseBank(recs, ["hiss", "hum"])


def _db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean((x.astype(np.float64) / 32768) ** 2)))


def _one(x: np.ndarray, cfg: aug.AugmentConfig, seed: int = 0,
         bank: aug.NoiseBank | None = None) -> np.ndarray:
    return aug.augment_clip(x, rng=np.random.default_rng(seed), noise=bank or _bank(),
                            config=cfg)


QUIET = dict(noise_prob=0.0, reverb_prob=0.0, eq_prob=0.0, speed_prob=0.0)


def test_copy_depends_only_on_the_generator() -> None:
    x = _speech(1)[0]
    cfg = aug.AugmentConfig()
    assert np.array_equal(_one(x, cfg, 3), _one(x, cfg, 3))
    assert not np.array_equal(_one(x, cfg, 3), _one(x, cfg, 4))


def test_gain_puts_peaks_in_range() -> None:
    cfg = aug.AugmentConfig(**QUIET)
    peaks = np.array([20 * np.log10(np.abs(_one(c, cfg, i)).max() / 32768)
                      for i, c in enumerate(_speech(40))])
    lo, hi = cfg.peak_dbfs
    assert np.all(peaks >= lo - 0.5) and np.all(peaks <= hi + 0.1)
    assert peaks.max() - peaks.min() > 20  # wide


def test_snr_is_as_drawn() -> None:
    cfg = aug.AugmentConfig(**{**QUIET, "noise_prob": 1.0}, synthetic_noise_prob=1.0,
                            shift_ms=0.0, snr_db=(10.0, 10.0), peak_dbfs=(-6.0, -6.0))
    clean_cfg = aug.AugmentConfig(**QUIET, shift_ms=0.0, peak_dbfs=(-6.0, -6.0))
    for i, x in enumerate(_speech(10)):
        c = _one(x, clean_cfg, i).astype(float)
        n = _one(x, cfg, i).astype(float)
        snr = 20 * np.log10(np.sqrt(np.mean(c ** 2)) / np.sqrt(np.mean((n - c) ** 2)))
        assert abs(snr - 10.0) < 1.0     # against the whole clip's RMS


def test_silence_levels_cover_the_real_range() -> None:
    cfg = aug.AugmentConfig()
    rng = np.random.default_rng(0)
    levels = np.array([_db(aug.make_silence(rng=rng, noise=_bank(), config=cfg))
                       for _ in range(200)])
    assert levels.min() < -60 and levels.max() > -15  # real _silence_: -66 to -12 dBFS


def test_shift_moves_and_zero_fills() -> None:
    cfg = aug.AugmentConfig(**QUIET, peak_dbfs=(-6.0, -6.0))
    x = np.zeros(16000, np.int16)
    x[8000] = 20000
    moved = set()
    for seed in range(20):
        where = np.flatnonzero(_one(x, cfg, seed))
        assert len(where) == 1 and abs(where[0] - 8000) <= 1600
        moved.add(int(where[0]))
    assert len(moved) > 10


def test_reverb_adds_a_decaying_tail() -> None:
    cfg = aug.AugmentConfig(**{**QUIET, "reverb_prob": 1.0}, shift_ms=0.0, rt60_s=(0.5, 0.5),
                            drr_db=(0.0, 0.0), peak_dbfs=(-6.0, -6.0))
    x = np.zeros(16000, np.int16)
    x[1000] = 20000
    out = _one(x, cfg).astype(float)
    early, late = out[1100:3000], out[7000:9000]
    assert np.abs(early).mean() > 5 * np.abs(late).mean() > 0
    assert np.all(out[:1000] == 0)


def test_speed_changes_length_of_content() -> None:
    cfg = aug.AugmentConfig(**{**QUIET, "speed_prob": 1.0}, shift_ms=0.0, speed=(1.25, 1.25),
                            peak_dbfs=(-6.0, -6.0))
    x = np.zeros(16000, np.int16)
    x[4000:12000] = 10000
    active = np.flatnonzero(np.abs(_one(x, cfg)) > 1000)
    assert 6000 < active[-1] - active[0] < 7000  # 8000 / 1.25 = 6400


def test_microphone_colouring_band_limits() -> None:
    cfg = aug.AugmentConfig(**{**QUIET, "eq_prob": 1.0}, shift_ms=0.0, peak_dbfs=(-6.0, -6.0))
    t = np.arange(16000) / 16000
    x = sum((0.3 * np.sin(2 * np.pi * f * t) * 32767) for f in (20.0, 1000.0, 7900.0))
    for seed in range(10):  # one-pole corners: high-pass 60-400 Hz, low-pass 2.5-7.5 kHz
        spec = np.abs(np.fft.rfft(_one(x.astype(np.int16), cfg, seed).astype(float)))
        assert spec[1000] > 3 * spec[20] and spec[1000] > 1.05 * spec[7900]  # 1.0 unfiltered


def test_noise_bank_segment_is_float32_and_falls_back_to_synthetic() -> None:
    rng = np.random.default_rng(0)
    seg = _bank().segment(rng, 16000, synthetic_prob=0.0)
    assert seg.dtype == np.float32 and seg.shape == (16000,)
    empty = aug.NoiseBank([], [])
    s = empty.segment(rng, 1000, synthetic_prob=0.0)
    assert abs(np.sqrt(np.mean(s.astype(float) ** 2)) - 0.1) < 1e-3


@pytest.mark.parametrize("colour, slope", [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_colored_noise_spectrum(colour: str, slope: float) -> None:
    x = aug.colored_noise(1 << 16, colour=colour, rng=np.random.default_rng(0))
    assert abs(np.sqrt(np.mean(x ** 2)) - 1) < 1e-9
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.arange(len(p))
    band = (f > 100) & (f < 20000)
    fit = np.polyfit(np.log(f[band]), np.log(p[band] + 1e-30), 1)[0]
    assert abs(fit - slope) < 0.15


def test_noise_bank_parts_are_disjoint() -> None:
    rec = np.arange(100000, dtype=np.float64)
    train = aug.NoiseBank([rec], ["r"], part="train")
    held = aug.NoiseBank([rec], ["r"], part="heldout")
    assert train.segments[0][-1] < held.segments[0][0]
    assert len(held.segments[0]) == 20000
    rng = np.random.default_rng(0)
    for _ in range(50):
        seg, _ = train.pick(16000, rng)
        assert seg.max() < 80000


def test_noise_bank_from_real_background(real_audio) -> None:
    bank = aug.NoiseBank.from_folder(real_audio / "_background_noise_")
    assert len(bank.segments) == 6
    levels = [20 * np.log10(np.sqrt(np.mean(s ** 2))) for s in bank.segments]
    assert all(-70 < lv < 0 for lv in levels)


def test_bad_input() -> None:
    with pytest.raises(KwsError, match="noise_prob"):
        aug.AugmentConfig(noise_prob=1.5)
    with pytest.raises(KwsError, match="reversed"):
        aug.AugmentConfig(snr_db=(10.0, 0.0))
    with pytest.raises(KwsError, match="colour"):
        aug.colored_noise(10, colour="blue", rng=np.random.default_rng(0))
    with pytest.raises(KwsError, match="not found"):
        aug.NoiseBank.from_folder("/nonexistent/noise")


def test_synthetic_background_is_the_same_everywhere_and_varied() -> None:
    a = aug.synthetic_background(seconds=5.0)
    b = aug.synthetic_background(seconds=5.0)
    assert a.names == b.names and len(a.names) == 6
    assert all(n.startswith(f"synthetic-v{aug.SYNTHETIC_BACKGROUND_VERSION}-") for n in a.names)
    assert all(np.array_equal(x, y) for x, y in zip(a.segments, b.segments))
    assert all(len(s) == 4 * 16000 for s in a.segments)         # the training 80 %
    held = aug.synthetic_background(seconds=5.0, part="heldout")
    assert all(len(s) == 16000 for s in held.segments)
    assert not np.array_equal(a.segments[0], aug.synthetic_background(seconds=5.0,
                                                                      seed=1).segments[0])
    whole = aug.synthetic_background(seconds=5.0, part="all")
    for s in whole.segments:
        assert abs(20 * np.log10(np.sqrt(np.mean(s ** 2))) + 30) < 1.5
    # spectral balance differs: share of energy below 500 Hz
    low = []
    for s in whole.segments:
        p = np.abs(np.fft.rfft(s)) ** 2
        low.append(p[: len(p) * 500 // 8000].sum() / p.sum())
    assert low[0] < 0.1 and low[2] > 0.9 and low[3] > 0.5        # white, brown, hum
    assert len({round(v, 2) for v in low}) == 6
