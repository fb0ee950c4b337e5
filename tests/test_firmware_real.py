"""The real firmware (dsp/ front end + exported int8 model + runtime) under QEMU == Python.

The model is a tiny DS-CNN trained for a few seconds on tests/data (cached under build/),
so its posteriors move with the audio; parity needs no accuracy. The stream is 60 s of real
keyword clips in background noise.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from kws.device.build import REPO, real_backend_missing

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None or
                       shutil.which("arm-none-eabi-gcc") is None,
                       reason="needs qemu-system-arm and arm-none-eabi-gcc"),
    pytest.mark.skipif(bool(real_backend_missing()),
                       reason=f"this checkout lacks {', '.join(real_backend_missing())}"),
]


@pytest.fixture(scope="session")
def tiny_run(real_audio: Path) -> Path:
    """A tiny trained yes/no DS-CNN RUN folder, cached across sessions under build/."""
    from kws.frontend.settings import FrontendSettings
    from kws.frontend.tables import arithmetic_digest
    from kws.runtime.testmodels import make_trained_run

    # keyed by the front end's arithmetic: a model trained on older features is not reused
    key = arithmetic_digest(FrontendSettings())[:12]
    run = REPO / "build" / "test-runs" / f"tiny_yes_no_v1-{key}"
    if not (run / "model.tflite").is_file():
        make_trained_run(run, real_audio)
    return run


def _parity(tmp_path: Path, run_dir: Path, real_audio: Path, seconds: float) -> int:
    from kws.data.labelled_stream import parity_stream
    from kws.detect import DetectorSettings
    from kws.device.pipeline import _build, run_firmware
    from kws.frontend.fixed import features_numpy
    from kws.simulate import detection_lines, load_run_model, simulate, tflm_model_fn

    model = load_run_model(run_dir)
    samples, events = parity_stream(real_audio, seconds=seconds, seed=3)
    fe = model.frontend
    feats = features_numpy(samples, fe)
    model_fn = tflm_model_fn(model, workers=1)
    # thresholds at the 95th percentile of each keyword's raw posterior: detections happen
    wins = np.lib.stride_tricks.sliding_window_view(feats, (fe.num_frames, fe.num_outputs))
    u = model_fn(np.ascontiguousarray(wins[:, 0][::2])).astype(int) - model.output_zero_point
    th = tuple(256 if lab.startswith("_") else max(1, int(np.percentile(u[:, i], 95)))
               for i, lab in enumerate(model.labels))
    det = DetectorSettings(labels=model.labels, thresholds=th, average_window=3,
                           model_every_hops=2, refractory_ms=1000)
    expected = detection_lines(simulate(samples, frontend=fe, detector=det, model_fn=model_fn,
                                        output_zero_point=model.output_zero_point,
                                        features=feats))
    elf = _build(model, det, tmp_path / "build")
    run = run_firmware(elf, samples, workdir=tmp_path / "run")
    assert run.summary["overruns"] == 0
    assert run.summary["blocks"] == len(samples) // 320
    assert len(expected) >= 3, "the parity run should see detections"
    assert run.lines == expected
    return len(expected)


def test_firmware_equals_python_on_60s_stream(tmp_path: Path, tiny_run: Path,
                                              real_audio: Path) -> None:
    _parity(tmp_path, tiny_run, real_audio, 60.0)


@pytest.mark.slow
def test_ds_cnn_s_firmware_equals_python(tmp_path: Path, real_audio: Path) -> None:
    """The full-size DS-CNN-S (trained briefly, so its posteriors move) on a 30 s stream."""
    from kws.frontend.settings import FrontendSettings
    from kws.frontend.tables import arithmetic_digest
    from kws.runtime.testmodels import make_trained_run

    key = arithmetic_digest(FrontendSettings())[:12]
    run = REPO / "build" / "test-runs" / f"ds_cnn_s_yes_no_v1-{key}"
    if not (run / "model.tflite").is_file():
        make_trained_run(run, real_audio, channels=64, blocks=4, epochs=4)
    _parity(tmp_path, run, real_audio, 30.0)


def test_kws_stream_backends_print_the_same_lines(tmp_path: Path, tiny_run: Path,
                                                  real_audio: Path, capsys) -> None:
    from kws.audio import save_wav
    from kws.cli import main
    from kws.data.labelled_stream import parity_stream

    samples, _ = parity_stream(real_audio, seconds=12.0, seed=4)
    wav = tmp_path / "stream.wav"
    save_wav(wav, samples)
    outs = {}
    for backend in ("python", "qemu"):  # the tiny model (trained on tests/data) scores low:
        assert main(["stream", str(tiny_run), str(wav), "--backend", backend,  # 3 detections
                     "--threshold", "80"]) == 0
        outs[backend] = capsys.readouterr().out.splitlines()
    assert outs["python"] == outs["qemu"]
    assert outs["python"], "the stream should produce detections"


@pytest.mark.slow
def test_ds_cnn_s_fits_the_targets(tmp_path: Path) -> None:
    """DS-CNN-S (random weights; the footprint does not depend on them): RAM <= 32 KB and
    flash <= 96 KB, with the stack high-water mark measured by painting."""
    from kws.device.pipeline import _build, run_firmware
    from kws.device.report import footprint
    from kws.runtime.testmodels import make_random_run
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(make_random_run(tmp_path / "run"))
    elf = _build(model, detector_settings_for(model), tmp_path / "build")
    rng = np.random.default_rng(0)
    run = run_firmware(elf, rng.integers(-2000, 2000, 16000 * 2).astype(np.int16),
                       workdir=tmp_path / "q")
    fp = footprint(elf, stack_used=run.summary["stack_bytes"])
    assert fp.ram <= 32 * 1024 and fp.flash <= 96 * 1024, fp.lines()
