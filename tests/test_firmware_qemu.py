"""The streaming firmware under QEMU (mps2-an386, Cortex-M4F, deterministic -icount).

Parity: the firmware's JSON lines == the Python simulation's, on a 60 s stream of real
keyword clips in noise. These runs use the app's integer test doubles for the front end and
the model (firmware/app/backend_doubles.c, mirrored exactly by kws/device/doubles.py), so
they check the firmware's own parts: timer-driven DMA blocks, the ring, the hop and model
schedule, the detector and the printed lines.
"""

from __future__ import annotations

import json
import shutil
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from kws.detect import DetectorSettings
from kws.device import doubles
from kws.device.build import AppConfig, build_app, check_no_heap, write_audio_raw
from kws.device.host import load_library
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.qemu import run_elf
from kws.simulate import detection_lines, simulate

pytestmark = pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
    reason="needs qemu-system-arm and arm-none-eabi-gcc")

FE = FrontendSettings()
LABELS = ("_silence_", "_unknown_", "yes", "no")


def _features(samples: np.ndarray) -> np.ndarray:
    return doubles.features(samples, window=FE.window_samples, hop=FE.hop_samples,
                            num_features=FE.num_outputs)


def _detector(samples: np.ndarray, *, seed: int, every: int, k: int,
              refractory: int) -> DetectorSettings:
    """Thresholds at the 90th percentile of the raw scores, so that detections happen."""
    w = doubles.weights(len(LABELS), FE.num_frames * FE.num_outputs, seed)
    wins = np.lib.stride_tricks.sliding_window_view(
        _features(samples), (FE.num_frames, FE.num_outputs))[:, 0][::every]
    u = doubles.model(wins, w).astype(int) + 128
    th = tuple(256 if lab.startswith("_") else int(np.percentile(u[:, i], 90))
               for i, lab in enumerate(LABELS))
    return DetectorSettings(labels=LABELS, thresholds=th, average_window=k,
                            model_every_hops=every, refractory_ms=refractory)


def _run(tmp: Path, samples: np.ndarray, cfg: AppConfig, seed: int):
    elf = build_app(tmp / "fw", cfg, backend="doubles", doubles_seed=seed)
    write_audio_raw(tmp / "audio.raw", samples)
    res = run_elf(elf, args=["audio.raw"], workdir=tmp, timeout=300)
    summary = json.loads(res.stderr.strip().splitlines()[-1])
    return res, summary


@pytest.mark.qemu
@pytest.mark.parametrize("seed,every,k,refractory,block_ms", [(1, 2, 3, 1000, 20),
                                                              (2, 1, 4, 500, 10)])
def test_firmware_lines_equal_python(tmp_path: Path, real_audio: Path, seed: int, every: int,
                                     k: int, refractory: int, block_ms: int) -> None:
    from kws.data.labelled_stream import parity_stream

    samples, events = parity_stream(real_audio, seconds=60.0, seed=seed)
    assert len(samples) >= 60 * 16000 and len(events) >= 15
    det = _detector(samples, seed=seed, every=every, k=k, refractory=refractory)
    w = doubles.weights(len(LABELS), FE.num_frames * FE.num_outputs, seed)
    expected = detection_lines(simulate(samples, frontend=FE, detector=det,
                                        model_fn=lambda x: doubles.model(x, w),
                                        output_zero_point=-128, features=_features(samples)))
    res, summary = _run(tmp_path, samples, AppConfig(frontend=FE, detector=det,
                                                     block_ms=block_ms), seed)
    assert res.exit_code == 0, res.stderr
    assert len(expected) >= 5
    assert res.stdout.splitlines() == expected
    assert summary["overruns"] == 0                      # parity runs never drop audio
    block = 16000 * block_ms // 1000
    assert summary["blocks"] == len(samples) // block
    assert summary["tail_samples"] == len(samples) % block
    check_no_heap(tmp_path / "fw" / "kws_fw.map")


def _expected_drops(blocks: int, capacity: int, ticks_per_block: int) -> int:
    """Tick t (1, 2, ...) delivers block t-1; the consumer takes one block, then is busy until
    the tick `ticks_per_block` later (its wait ends right after that tick's delivery)."""
    ring: deque[int] = deque()
    drops, busy_until = 0, 0
    for tick in range(1, blocks + 1):
        if len(ring) < capacity:
            ring.append(tick - 1)
        else:
            drops += 1
        if tick >= busy_until and ring:
            ring.popleft()
            busy_until = tick + ticks_per_block
    return drops


@pytest.mark.qemu
@pytest.mark.parametrize("capacity,ticks", [(2, 2), (4, 3), (3, 5)])
def test_overruns_drop_exact_block_counts(tmp_path: Path, capacity: int, ticks: int) -> None:
    rng = np.random.default_rng(capacity * 10 + ticks)
    samples = rng.integers(-3000, 3000, size=16000 * 4 + 100).astype(np.int16)
    det = DetectorSettings(labels=LABELS, thresholds=(256, 256, 200, 200))
    cfg = AppConfig(frontend=FE, detector=det, ring_blocks=capacity,
                    slow_ticks_per_block=ticks)
    res, summary = _run(tmp_path, samples, cfg, seed=0)
    assert res.exit_code == 0, res.stderr
    blocks = len(samples) // 320
    assert summary["blocks"] == blocks
    assert summary["overruns"] == _expected_drops(blocks, capacity, ticks)
    assert summary["overruns"] > 0


@pytest.mark.qemu
def test_settings_hash_mismatch_fails_build_and_init(tmp_path: Path) -> None:
    det = DetectorSettings(labels=LABELS, thresholds=(256, 256, 200, 200))
    cfg = AppConfig(frontend=FE, detector=det, model_hash=FE.hash() ^ 1)
    with pytest.raises(KwsError, match="front-end settings"):
        build_app(tmp_path / "bad", cfg, backend="doubles")
    elf = build_app(tmp_path / "bad2", cfg, backend="doubles",
                    defines=["KWS_APP_TEST_SKIP_STATIC_HASH_CHECK"])
    write_audio_raw(tmp_path / "audio.raw", np.zeros(16000, np.int16))
    res = run_elf(elf, args=["audio.raw"], workdir=tmp_path, timeout=60)
    assert res.exit_code == 2 and "kws_detector_init failed" in res.stderr


def test_jsonl_formatter_matches_python() -> None:
    import ctypes

    from kws.detect import Detection

    lib = load_library()
    buf = ctypes.create_string_buffer(128)
    for t, label, score in [(0, "yes", 0), (4294967295, "_unknown_", 255), (1230, "a-b c", 7)]:
        n = lib.kws_jsonl_detection(buf, 128, t, label.encode(), score)
        assert buf.raw[:n].decode() == Detection(t, label, score).to_json() + "\n"
    assert lib.kws_jsonl_detection(buf, 20, 1, b"yes", 1) == -1      # does not fit
    assert lib.kws_fmt_u32(buf, 9, 4294967295) == -1
    assert lib.kws_fmt_u32(buf, 10, 4294967295) == 10
