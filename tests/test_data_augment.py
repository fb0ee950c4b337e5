"""Training-time augmentation (kws.data.augment)."""

from __future__ import annotations

import dataclasses

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


def test_copy_depends_only_on_clip_seed_and_copy() -> None:
    clips = _speech(6)
    keys = [aug.clip_key(c) for c in clips]
    full = aug.augment(clips, keys=keys, copy=2, seed=9, noise=_bank())
    part = aug.augment(clips[3:5], keys=keys[3:5], copy=2, seed=9, noise=_bank())
    assert np.array_equal(full[3:5], part)
    assert not np.array_equal(full, aug.augment(clips, keys=keys, copy=3, seed=9, noise=_bank()))
    assert not np.array_equal(full, aug.augment(clips, keys=keys, copy=2, seed=8, noise=_bank()))


def test_augmented_copies_shape_and_clean_copy() -> None:
    clips = _speech(4)
    out = aug.augmented_copies(clips, k=3, seed=1, noise=_bank())
    assert out.shape == (4, 3, 16000) and out.dtype == np.int16
    assert np.array_equal(out[:, 0], clips)
    assert not np.array_equal(out[:, 1], out[:, 2])
    again = aug.augmented_copies(clips[::-1], k=3, seed=1, noise=_bank())
    assert np.array_equal(again[::-1], out)  # keys come from the samples, not the order


def test_gain_puts_peaks_in_range() -> None:
    cfg = aug.AugmentConfig(noise_prob=0.0, reverb_prob=0.0)
    clips = _speech(40)
    out, params = aug.augment(clips, keys=range(40), config=cfg, return_params=True)
    peaks = 20 * np.log10(np.abs(out).max(axis=1) / 32768)
    lo, hi = cfg.peak_dbfs
    assert np.all(peaks >= lo - 0.5) and np.all(peaks <= hi + 0.1)
    assert peaks.max() - peaks.min() > 20  # wide
    for p, pk in zip(params, peaks):
        assert abs(p["peak_dbfs"] - pk) < 0.5


def test_snr_is_as_drawn() -> None:
    cfg = aug.AugmentConfig(noise_prob=1.0, synthetic_noise_prob=1.0, reverb_prob=0.0, eq_prob=0.0,
                            shift_ms=0.0, snr_db=(10.0, 10.0))
    clips = _speech(10)
    clean = aug.augment(clips, keys=range(10), config=dataclasses.replace(cfg, noise_prob=0.0))
    noisy = aug.augment(clips, keys=range(10), config=cfg)
    for c, n in zip(clean.astype(float), noisy.astype(float)):
        speech = c[np.abs(c) > 0]
        noise = (n - c)
        snr = 20 * np.log10(np.sqrt(np.mean(speech ** 2)) / np.sqrt(np.mean(noise ** 2)))
        assert abs(snr - 10.0) < 1.0


def test_silence_levels_cover_the_real_range() -> None:
    n = 200
    clips = np.zeros((n, 16000), np.int16)
    out, params = aug.augment(clips, keys=range(n), is_silence=np.ones(n, bool), noise=_bank(),
                              return_params=True)
    levels = np.array([_db(c) for c in out])
    assert levels.min() < -60 and levels.max() > -15  # real _silence_: -66 to -12 dBFS
    drawn = np.array([p["noise_dbfs"] for p in params])
    assert np.all(np.abs(levels - drawn) < 1.5)


def test_shift_moves_and_zero_fills() -> None:
    cfg = aug.AugmentConfig(noise_prob=0.0, reverb_prob=0.0, eq_prob=0.0, peak_dbfs=(-6.0, -6.0))
    x = np.zeros((1, 16000), np.int16)
    x[0, 8000] = 20000
    for key in range(20):
        out, params = aug.augment(x, keys=[key], config=cfg, return_params=True)
        where = np.flatnonzero(out[0])
        assert len(where) == 1
        assert where[0] - 8000 == round(params[0]["shift_ms"] * 16)
        assert abs(where[0] - 8000) <= 1600


def test_reverb_adds_a_decaying_tail() -> None:
    cfg = aug.AugmentConfig(noise_prob=0.0, reverb_prob=1.0, shift_ms=0.0, eq_prob=0.0,
                            rt60_range=(0.5, 0.5),
                            drr_db_range=(0.0, 0.0), peak_dbfs=(-6.0, -6.0))
    x = np.zeros((1, 16000), np.int16)
    x[0, 1000] = 20000
    out = aug.augment(x, keys=[0], config=cfg)[0].astype(float)
    early, late = out[1100:3000], out[7000:9000]
    assert np.abs(early).mean() > 5 * np.abs(late).mean() > 0
    assert np.all(out[:1000] == 0)


def test_speed_changes_length_of_content() -> None:
    cfg = aug.AugmentConfig(noise_prob=0.0, reverb_prob=0.0, shift_ms=0.0, speed_prob=1.0,
                            eq_prob=0.0,
                            speed_range=(1.25, 1.25), peak_dbfs=(-6.0, -6.0))
    x = np.zeros((1, 16000), np.int16)
    x[0, 4000:12000] = 10000
    out = aug.augment(x, keys=[0], config=cfg)[0]
    active = np.flatnonzero(np.abs(out) > 1000)
    assert 6000 < active[-1] - active[0] < 7000  # 8000 / 1.25 = 6400


def test_microphone_colouring_band_limits() -> None:
    cfg = aug.AugmentConfig(noise_prob=0.0, reverb_prob=0.0, shift_ms=0.0, eq_prob=1.0,
                            highpass_hz=(300.0, 300.0), lowpass_hz=(3000.0, 3000.0),
                            peak_dbfs=(-6.0, -6.0))
    t = np.arange(16000) / 16000
    tones = {f: (0.3 * np.sin(2 * np.pi * f * t) * 32767).astype(np.int16)
             for f in (50.0, 1000.0, 7000.0)}
    x = np.stack([tones[50.0] + tones[1000.0] + tones[7000.0]])
    out = aug.augment(x, keys=[0], config=cfg)[0].astype(float)
    spec = np.abs(np.fft.rfft(out))
    a50, a1k, a7k = spec[50], spec[1000], spec[7000]
    assert a1k > 4 * a50 and a1k > 2 * a7k


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
    with pytest.raises(KwsError, match="int16"):
        aug.augment(np.zeros((2, 100)), keys=[0, 1])
    with pytest.raises(KwsError, match="keys"):
        aug.augment(np.zeros((2, 100), np.int16), keys=[0])
    with pytest.raises(KwsError, match="noise_prob"):
        aug.AugmentConfig(noise_prob=1.5)
    with pytest.raises(KwsError, match="reversed"):
        aug.AugmentConfig(snr_db=(10.0, 0.0))
    with pytest.raises(KwsError, match="colour"):
        aug.colored_noise(10, colour="blue", rng=np.random.default_rng(0))
    with pytest.raises(KwsError, match="not found"):
        aug.NoiseBank.from_folder("/nonexistent/noise")
