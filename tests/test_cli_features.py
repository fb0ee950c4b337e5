"""``kws features``: shapes, padding/trimming, --stream, backends agree, errors."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from kws.audio import save_wav
from kws.cli import main
from kws.frontend import fixed
from kws.frontend.settings import FrontendSettings

S = FrontendSettings()
needs_c = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake needed for dsp/")


@pytest.fixture()
def wavs(tmp_path):
    rng = np.random.default_rng(0)
    short = (rng.standard_normal(9000) * 2000).astype(np.int16)
    long = (rng.standard_normal(40000) * 2000).astype(np.int16)
    save_wav(tmp_path / "short.wav", short)
    save_wav(tmp_path / "long.wav", long)
    return tmp_path, short, long


@needs_c
@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_clip_mode_pads_and_trims_at_the_end(wavs, backend):
    d, short, long = wavs
    out = d / "f.npy"
    assert main(["features", str(d / "short.wav"), str(d / "long.wav"), "--backend", backend,
                 "--out", str(out)]) == 0
    got = np.load(out)
    assert got.shape == (2, S.num_frames, S.num_outputs) and got.dtype == np.int8
    want = fixed.features_numpy(np.stack([np.pad(short, (0, 16000 - short.size)), long[:16000]]), S)
    assert np.array_equal(got, want)


@needs_c
def test_clip_seconds_and_stream(wavs):
    d, _, long = wavs
    out = d / "f.npy"
    assert main(["features", str(d / "long.wav"), "--clip-seconds", "2", "--out", str(out)]) == 0
    assert np.load(out).shape == (1, S.frames_for(32000), S.num_outputs)
    assert main(["features", str(d / "long.wav"), "--stream", "--out", str(out)]) == 0
    got = np.load(out)
    assert got.shape == (1, S.frames_for(long.size), S.num_outputs)
    assert np.array_equal(got[0], fixed.features_numpy(long, S))


def test_errors_exit_nonzero(wavs, capsys):
    d, _, _ = wavs
    assert main(["features", str(d / "missing.wav"), "--out", str(d / "x.npy")]) == 2
    assert "missing.wav" in capsys.readouterr().err
    assert main(["features", str(d / "short.wav"), "--clip-seconds", "0",
                 "--out", str(d / "x.npy")]) == 2
    assert "--clip-seconds" in capsys.readouterr().err
    assert main(["features", str(d / "short.wav"), str(d / "long.wav"), "--stream",
                 "--out", str(d / "x.npy")]) == 2
    assert not (d / "x.npy").exists()
