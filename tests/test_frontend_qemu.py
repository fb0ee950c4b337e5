"""The front end on the Cortex-M4 (QEMU): M4 == host C == NumPy, and the ``qemu`` backend."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from kws import qemu
from kws.errors import KwsError
from kws.frontend import compute_features
from kws.frontend.settings import FrontendSettings
from kws.frontend.signals import adversarial_clips, real_clips
from tests.real_data import REAL_AUDIO

pytestmark = pytest.mark.qemu
if shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None:
    pytestmark = [pytest.mark.qemu,
                  pytest.mark.skip(reason="qemu-system-arm or arm-none-eabi-gcc missing")]
elif not (qemu.REPO_ROOT / "dsp" / "src" / "frontend.c").is_file():
    pytestmark = [pytest.mark.qemu, pytest.mark.skip(reason="dsp/ (the C front end) missing")]


def _corpus() -> np.ndarray:
    adv, _ = adversarial_clips(16000, seed=7)
    return np.concatenate([adv, real_clips(16000, limit=10, root=REAL_AUDIO)[0]]).astype(np.int16)


def test_m4_equals_host_c_equals_numpy() -> None:
    from kws.frontend.qemubackend import run_frontend_m4

    s = FrontendSettings()
    clips = _corpus()
    parts = []
    for chunk in np.array_split(clips, 2):  # the firmware's input buffer holds ~47 clips
        per_hop, streamed, run = run_frontend_m4(chunk, s)
        assert np.array_equal(per_hop, streamed)  # per-hop calls == streaming 320-sample blocks
        assert "stack_high_water=" in run.stdout
        parts.append(per_hop)
    m4 = np.concatenate(parts).reshape(len(clips), s.num_frames, s.num_outputs)
    assert np.array_equal(m4, compute_features(clips, s, backend="c"))
    assert np.array_equal(m4, compute_features(clips, s, backend="numpy"))
    assert len(np.unique(m4)) > 50  # the corpus exercises the output range


@pytest.mark.parametrize("settings", [
    FrontendSettings(dct=False, num_mel=32, fft_size=512),
    FrontendSettings(window_ms=25.0, hop_ms=10.0, num_coeffs=13, num_mel=40),
], ids=["logmel32", "25ms-10ms-13c"])
def test_qemu_backend_other_settings(settings: FrontendSettings) -> None:
    clips = adversarial_clips(8000, seed=3)[0][:12]
    got = compute_features(clips, settings, backend="qemu")
    assert got.shape == (12, settings.frames_for(8000), settings.num_outputs)
    assert np.array_equal(got, compute_features(clips, settings, backend="numpy"))


def test_qemu_backend_rejects_what_the_device_cannot_hold() -> None:
    from kws.frontend.qemubackend import run_frontend_m4

    s = FrontendSettings(fft_size=2048, window_ms=100.0)  # beyond the M4 build's KWS_FFT_MAX=512
    with pytest.raises(KwsError, match="rejected the tables"):
        run_frontend_m4(np.zeros((1, 16000), np.int16), s)
    with pytest.raises(KwsError, match="int16"):
        run_frontend_m4(np.zeros((1, 16000), np.float32), s)


def test_cli_features_qemu_backend(tmp_path) -> None:
    import soundfile as sf

    from kws.cli import main

    x = adversarial_clips(16000, seed=5)[0][:3]
    paths = []
    for i, clip in enumerate(x):
        p = tmp_path / f"c{i}.wav"
        sf.write(p, clip, 16000, subtype="PCM_16")
        paths.append(str(p))
    out = tmp_path / "f.npy"
    assert main(["features", *paths, "--backend", "qemu", "--out", str(out)]) == 0
    assert np.array_equal(np.load(out), compute_features(x, backend="numpy"))


def _stream(audio: np.ndarray, shift: int) -> tuple[dict[str, int], np.ndarray]:
    elf = qemu.build_firmware("stream_frontend")
    res = qemu.run_elf(elf, args=["a.raw", "o.bin"], files={"a.raw": audio.astype("<i2").tobytes()},
                       icount_shift=shift, timeout=120)
    assert res.exit_code == 0, res.stdout
    stats = {k: int(v) for k, v in (kv.split("=") for kv in res.stdout.split())}
    return stats, np.frombuffer(res.files["o.bin"], np.int8).reshape(-1, 10)


def test_timer_driven_stream_is_real_time_exact_and_deterministic() -> None:
    audio = np.concatenate(adversarial_clips(16000, seed=1)[0][20:23])  # 3 s, 150 blocks
    stats, frames = _stream(audio, 3)  # 8 ns per instruction: a ~125 MHz M4
    assert stats["blocks"] == 150 and stats["dropped"] == 0
    assert stats["period_ticks"] == 500000  # 20 ms at 25 MHz
    assert stats["max_block_ticks"] < stats["period_ticks"]
    assert np.array_equal(frames, compute_features(audio, backend="numpy"))
    again, frames2 = _stream(audio, 3)
    assert again == stats and np.array_equal(frames, frames2)
    # 512 ns per instruction (~2 MHz): a hop takes longer than 20 ms, so blocks are dropped.
    slow, _ = _stream(audio, 9)
    assert slow["dropped"] > 0 and slow["max_block_ticks"] > slow["period_ticks"]


def test_bench_m4_frontend_runs(capsys) -> None:
    from kws.bench import m4_frontend

    assert m4_frontend.main(["--clips", "2"]) == 0
    out = capsys.readouterr().out
    assert "ratio kws / arm_mfcc_q15" in out and "kws_fft_process" in out
    assert "per-hop == streamed frames: True" in out
