"""kws.audio: the one converter to 16 kHz mono int16, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from kws.audio import fit_clip, load_audio, quantize_int16
from kws.errors import KwsError


def test_int16_16k_is_taken_as_is(tmp_path):
    x = np.random.default_rng(0).integers(-32768, 32768, 4000).astype(np.int16)
    sf.write(tmp_path / "a.wav", x, 16000, subtype="PCM_16")
    assert np.array_equal(load_audio(tmp_path / "a.wav"), x)


@pytest.mark.parametrize("subtype,tol", [("PCM_U8", 0), ("PCM_24", 0), ("PCM_32", 0)])
def test_other_integer_widths_round_to_16_bits(tmp_path, subtype, tol):
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.9, 0.9, 2000)
    sf.write(tmp_path / "a.wav", x, 16000, subtype=subtype)
    stored = sf.read(tmp_path / "a.wav", dtype="float64")[0]
    assert np.array_equal(load_audio(tmp_path / "a.wav"), quantize_int16(stored))


def test_float_is_clipped_and_rounded(tmp_path):
    x = np.array([0.0, 0.5, -0.5, 1.5, -2.0, 1.0 / 65536, -1.0 / 65536], dtype=np.float32)
    sf.write(tmp_path / "f.wav", x, 16000, subtype="FLOAT")
    assert load_audio(tmp_path / "f.wav").tolist() == [0, 16384, -16384, 32767, -32768, 1, 0]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_nan_inf_is_an_error(tmp_path, bad):
    x = np.zeros(100, dtype=np.float32)
    x[10] = bad
    sf.write(tmp_path / "f.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(KwsError, match="NaN or Inf"):
        load_audio(tmp_path / "f.wav")


def test_stereo_is_mixed_down(tmp_path):
    left = np.full(100, 1000, dtype=np.int16)
    right = np.full(100, -3000, dtype=np.int16)
    sf.write(tmp_path / "s.wav", np.stack([left, right], 1), 16000, subtype="PCM_16")
    assert np.all(load_audio(tmp_path / "s.wav") == -1000)


@pytest.mark.parametrize("rate", [44100, 48000, 8000])
def test_resampled_to_16k(tmp_path, rate):
    t = np.arange(rate) / rate
    x = 0.5 * np.sin(2 * np.pi * 440 * t)
    sf.write(tmp_path / "r.wav", x, rate, subtype="PCM_16")
    y = load_audio(tmp_path / "r.wav").astype(np.float64) / 32768
    assert len(y) == 16000
    spectrum = np.abs(np.fft.rfft(y[1000:-1000]))
    peak_hz = np.argmax(spectrum) * 16000 / len(y[1000:-1000])
    assert abs(peak_hz - 440) < 2


def test_flac_reads(tmp_path):
    x = np.arange(-500, 500, dtype=np.int16)
    sf.write(tmp_path / "a.flac", x, 16000, subtype="PCM_16")
    assert np.array_equal(load_audio(tmp_path / "a.flac"), x)


def test_bad_files_name_the_file(tmp_path):
    cases = {}
    cases["missing.wav"] = None
    (tmp_path / "empty.wav").write_bytes(b"")
    cases["empty.wav"] = "empty"
    (tmp_path / "text.wav").write_text("this is not audio\n" * 20)
    cases["text.wav"] = "not a readable audio file"
    sf.write(tmp_path / "full.wav", np.ones(8000, dtype=np.int16), 16000, subtype="PCM_16")
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "trunc.wav").write_bytes(data[: len(data) // 2])
    cases["trunc.wav"] = "truncated"
    sf.write(tmp_path / "zero.wav", np.zeros(0, dtype=np.int16), 16000, subtype="PCM_16")
    cases["zero.wav"] = "no audio samples"
    for name, what in cases.items():
        with pytest.raises(KwsError) as err:
            load_audio(tmp_path / name)
        msg = str(err.value)
        assert name in msg and "\n" not in msg
        if what:
            assert what in msg


def test_fit_clip_pads_and_trims():
    x = np.arange(10, dtype=np.int16)
    assert fit_clip(x, 12).tolist() == list(range(10)) + [0, 0]
    assert fit_clip(x, 4).tolist() == [0, 1, 2, 3]
