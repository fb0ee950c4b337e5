"""Speaker, room and microphone diversity (kws.data.speakers) and its place in augmentation."""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest

from kws.data import augment as aug
from kws.data import speakers as spk
from kws.errors import KwsError

pytest.importorskip("audiomentations")
pytest.importorskip("pyroomacoustics")

SR = 16000
OFF = dict(vtlp_prob=0.0, pitch_prob=0.0, tempo_prob=0.0, room_prob=0.0, mic_eq_prob=0.0,
           band_limit_prob=0.0, rooms=4)


def _tones(freqs: tuple[float, ...], n: int = SR) -> np.ndarray:
    t = np.arange(n) / SR
    return (sum(np.sin(2 * np.pi * f * t) for f in freqs) / (2 * len(freqs))).astype(np.float32)


def _peaks(x: np.ndarray, k: int) -> list[float]:
    """The k strongest frequencies (Hz) of x, at least 50 Hz apart, ascending."""
    spec = np.abs(np.fft.rfft(x))
    f = np.fft.rfftfreq(len(x), 1 / SR)
    out: list[float] = []
    for i in np.argsort(spec)[::-1]:
        if all(abs(f[i] - g) > 50 for g in out):
            out.append(float(f[i]))
        if len(out) == k:
            break
    return sorted(out)


@pytest.mark.parametrize("alpha", [0.85, 0.92, 1.0, 1.1, 1.2])
def test_vtlp_scales_frequencies_below_the_boundary(alpha: float) -> None:
    y = spk.vtlp(_tones((500.0, 1500.0, 3000.0)), alpha)
    assert y.dtype == np.float32 and len(y) == SR
    assert _peaks(y, 3) == pytest.approx([alpha * 500, alpha * 1500, alpha * 3000], abs=8)


def test_vtlp_keeps_nyquist_fixed_above_the_boundary() -> None:
    # 7 kHz lies above the knee: it moves less than alpha would move it, and stays below 8 kHz
    y = spk.vtlp(_tones((7000.0,)), 1.2)
    (peak,) = _peaks(y, 1)
    assert 7000 < peak < 7600


@pytest.mark.parametrize("alpha", [0.3, 2.5])
def test_vtlp_rejects_extreme_warps(alpha: float) -> None:
    with pytest.raises(KwsError, match="alpha"):
        spk.vtlp(_tones((500.0,)), alpha)


def _perturb(x: np.ndarray, seed: int, **kw: float) -> np.ndarray:
    cfg = spk.SpeakerConfig(**{**OFF, **kw})
    return spk.perturb_speaker(x, rng=np.random.default_rng(seed), config=cfg)


def test_all_off_is_the_identity() -> None:
    x = _tones((440.0,))
    assert np.array_equal(_perturb(x, 0), x)


def test_pitch_moves_a_tone_by_semitones() -> None:
    y = _perturb(_tones((400.0,)), 0, pitch_prob=1.0, pitch_semitones=(5.0, 5.0))
    assert len(y) == SR
    assert _peaks(y[2000:-2000], 1)[0] == pytest.approx(400 * 2 ** (5 / 12), abs=8)


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_tempo_changes_duration_not_pitch(rate: float) -> None:
    y = _perturb(_tones((400.0,)), 0, tempo_prob=1.0, tempo=(rate, rate))
    assert len(y) == pytest.approx(SR / rate, rel=0.02)
    assert _peaks(y[2000:-2000], 1)[0] == pytest.approx(400, abs=8)


def test_room_adds_a_tail_at_the_same_peak_level() -> None:
    x = np.zeros(SR, np.float32)
    x[1000:1400] = _tones((700.0,), 400)
    y = _perturb(x, 0, room_prob=1.0)
    assert np.max(np.abs(y)) == pytest.approx(np.max(np.abs(x)), rel=1e-5)
    assert np.sqrt(np.mean(y[1600:4000] ** 2)) > 1e-3      # reverberation after the burst
    assert np.max(np.abs(y[:1000])) < 1e-6                  # causal (FFT round-off only)


def test_microphone_colouring_and_band_limit_change_the_spectrum() -> None:
    x = _tones((100.0, 1000.0, 6000.0))
    eq = _perturb(x, 1, mic_eq_prob=1.0)
    band = _perturb(x, 1, band_limit_prob=1.0)
    spec = lambda v: np.abs(np.fft.rfft(v))[[100, 1000, 6000]]  # noqa: E731
    assert not np.allclose(spec(eq) / spec(eq)[1], spec(x) / spec(x)[1], rtol=0.05)
    ratio = spec(band) / spec(x)
    assert ratio[0] < 0.5 * ratio[1] and ratio[2] < 0.5 * ratio[1]   # a band pass


def test_perturbation_depends_only_on_the_generator_and_leaves_globals_alone() -> None:
    x = _tones((300.0, 900.0))
    full = dict(vtlp_prob=1.0, pitch_prob=1.0, tempo_prob=1.0, room_prob=1.0,
                mic_eq_prob=1.0, band_limit_prob=1.0)
    random.seed(7)
    np.random.seed(7)
    before = (random.random(), np.random.random())
    random.seed(7)
    np.random.seed(7)
    a = _perturb(x, 5, **full)
    after = (random.random(), np.random.random())
    assert before == after
    random.seed(99)
    np.random.seed(99)
    assert np.array_equal(a, _perturb(x, 5, **full))
    assert not np.array_equal(a, _perturb(x, 6, **full))


def test_room_bank_is_seeded_unit_energy_and_starts_at_the_direct_path() -> None:
    spk.room_bank.cache_clear()
    bank = spk.room_bank(3, rt60_s=(0.3, 0.6), seed=2)
    spk.room_bank.cache_clear()
    again = spk.room_bank(3, rt60_s=(0.3, 0.6), seed=2)
    assert len(bank) == 3
    for a, b in zip(bank, again):
        assert np.array_equal(a, b)
        assert np.sum(a.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-4)
        assert int(np.argmax(np.abs(a))) == 0
        assert len(a) <= spk.MAX_RIR_S * SR
    with pytest.raises(KwsError):
        spk.room_bank(0)


@pytest.mark.parametrize("bad", [dict(pitch_prob=1.5), dict(tempo=(1.2, 0.8)),
                                 dict(vtlp_alpha=(0.2, 1.0)), dict(rooms=0)])
def test_bad_speaker_config(bad: dict) -> None:
    with pytest.raises(KwsError):
        spk.SpeakerConfig(**bad)


def test_presets_and_cache_key() -> None:
    basic, speakers = aug.augment_preset("basic"), aug.augment_preset("speakers")
    assert "speaker" not in json.loads(basic.to_json())      # earlier caches stay valid
    assert json.loads(speakers.to_json())["speaker"]["vtlp_prob"] > 0
    assert basic.to_json() != speakers.to_json()
    assert dataclasses.replace(speakers, speaker=None).to_json() == basic.to_json()
    with pytest.raises(KwsError, match="unknown"):
        aug.augment_preset("loud")


def test_speaker_recipe_in_augment_clip() -> None:
    x = (_tones((250.0, 750.0), 9000) * 32767).astype(np.int16)
    cfg = dataclasses.replace(aug.augment_preset("speakers"),
                              speaker=spk.SpeakerConfig(rooms=4))
    bank = aug.synthetic_background(seconds=5.0)
    outs = [aug.augment_clip(x, rng=np.random.default_rng(s), noise=bank, config=cfg)
            for s in (0, 0, 1)]
    assert all(o.dtype == np.int16 and o.shape == (SR,) for o in outs)
    assert np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[0], outs[2])


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """int16 bursts of tones (0.3 s on, 0.2 s off) with a little noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    gate = ((t % 0.5) < 0.3).astype(np.float32)
    x = gate * (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 1300 * t))
    x = x + rng.normal(0, 0.01, n)
    return np.clip(np.rint(x * 32767), -32768, 32767).astype(np.int16)


def test_perturb_long_gives_each_piece_its_own_speaker_at_its_own_level() -> None:
    x = _speechlike(12.0)
    cfg = spk.SpeakerConfig(rooms=4)
    a = spk.perturb_long(x, rng=np.random.default_rng(3), config=cfg)
    assert a.dtype == np.int16
    assert np.array_equal(a, spk.perturb_long(x, rng=np.random.default_rng(3), config=cfg))
    assert not np.array_equal(a, spk.perturb_long(x, rng=np.random.default_rng(4), config=cfg))
    lo, hi = cfg.tempo
    assert len(x) / hi - 1 <= len(a) <= len(x) / lo + 1       # tempo per piece, nothing lost
    assert len(a) != len(x) or not np.array_equal(a, x)
    # each piece keeps its peak level: the whole keeps the input's (within rounding)
    assert np.abs(a).max() == pytest.approx(np.abs(x).max(), abs=2)
    # a perturbation with everything off changes only the 10 ms fades at the joins
    off = spk.perturb_long(x, rng=np.random.default_rng(3), config=spk.SpeakerConfig(**OFF))
    assert len(off) == len(x)
    joins = np.abs(off.astype(int) - x.astype(int)) > 2
    assert 0 < joins.mean() < 0.05
    # silence and empty input pass through
    z = np.zeros(3 * SR, np.int16)
    assert np.array_equal(spk.perturb_long(z, rng=np.random.default_rng(0), config=cfg), z)
    assert len(spk.perturb_long(z[:0], rng=np.random.default_rng(0), config=cfg)) == 0
