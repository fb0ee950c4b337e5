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


def test_posteriors_of_the_three_backends_are_identical(tmp_path: Path, tiny_run: Path,
                                                        real_audio: Path, capsys) -> None:
    """``kws stream --posteriors``: our C runtime (python), the TFLite Micro interpreter on
    every window (tflm) and the firmware under QEMU give the same int8 outputs at the same
    times, with the gate on (a silent stretch is skipped) and, for python/tflm, off."""
    from kws.audio import save_wav
    from kws.cli import main
    from kws.data.labelled_stream import parity_stream

    samples, _ = parity_stream(real_audio, seconds=8.0, seed=6)
    samples = np.concatenate([samples[:16000 * 4], np.zeros(16000 * 3, np.int16),
                              samples[16000 * 4:]])
    wav = tmp_path / "stream.wav"
    save_wav(wav, samples)
    got = {}
    for backend, gate in (("python", "on"), ("tflm", "on"), ("qemu", "on"),
                          ("python", "off"), ("tflm", "off")):
        out = tmp_path / f"{backend}_{gate}.npy"
        assert main(["stream", str(tiny_run), str(wav), "--backend", backend, "--posteriors",
                     str(out), "--gate", gate, "--jobs", "1"]) == 0
        got[backend, gate] = (np.load(out), np.load(out.with_suffix(".times.npy")))
    capsys.readouterr()
    ref_out, ref_t = got["tflm", "on"]
    assert ref_out.dtype == np.int8 and ref_out.shape == (len(ref_t), 4)
    for key in (("python", "on"), ("qemu", "on")):
        assert np.array_equal(got[key][0], ref_out) and np.array_equal(got[key][1], ref_t), key
    all_out, all_t = got["tflm", "off"]
    assert np.array_equal(got["python", "off"][0], all_out)
    assert np.array_equal(got["python", "off"][1], all_t)
    # every 2 hops (40 ms) from 990 ms; the gate skipped the silent stretch and nothing else
    assert all_t.tolist() == list(range(990, 990 + 40 * len(all_t), 40))
    assert 0 < len(ref_t) < len(all_t) - 40
    assert set(ref_t.tolist()) <= set(all_t.tolist())
    kept = np.isin(all_t, ref_t)
    assert np.array_equal(all_out[kept], ref_out)


def test_posteriors_bad_output_name(tmp_path: Path, tiny_run: Path, capsys) -> None:
    from kws.cli import main

    assert main(["stream", str(tiny_run), str(tmp_path / "x.wav"), "--posteriors",
                 str(tmp_path / "p.txt")]) == 2
    assert "must be a .npy file" in capsys.readouterr().err
    assert not (tmp_path / "p.txt").exists()


def test_firmware_report_json(tiny_run: Path, capsys) -> None:
    """``kws firmware report RUN --json``: the named figures, consistent with each other and
    with the counted stages; the gate (on by default) makes silence cheaper than speech."""
    import json

    from kws.cli import main
    from kws.device.report import REFERENCE_MHZ

    assert main(["firmware", "report", str(tiny_run), "--json", "--seconds", "3"]) == 0
    f = json.loads(capsys.readouterr().out)
    for key in ("instructions_per_second", "decision_interval_ms", "duty_cycle_80mhz",
                "min_clock_mhz", "flash_bytes", "ram_bytes", "stack_bytes"):
        assert key in f, key
    assert f["gate"] is True and f["decision_interval_ms"] == 40.0
    per_hop = f["instructions_per_hop_frontend"] + f["instructions_per_hop_gate_detector"]
    per_second = 50 * per_hop + 25 * f["instructions_per_inference"]
    # measured per hop in steady state == the sum of the stages counted apart, within 1 %
    assert abs(f["instructions_per_second"] - per_second) < 0.01 * per_second
    assert f["streaming"] is False
    assert 40_000 < f["instructions_per_hop_frontend"] < 60_000       # README: 47.0k
    assert 0 < f["instructions_per_hop_gate_detector"] < 10_000
    assert abs(f["duty_cycle_80mhz"] - f["cycles_per_second"] / (REFERENCE_MHZ * 1e6)) < 1e-3
    assert abs(f["min_clock_mhz"] - f["cycles_per_second"] / 1e6) < 0.01
    assert f["cycles_per_second"] > f["instructions_per_second"]      # loads/branches > 1 cycle
    # in silence: front end + gate only (no inference), well below the speech figure
    silence = f["instructions_per_second_silence"]
    assert 50 * f["instructions_per_hop_frontend"] <= silence < \
        50 * (f["instructions_per_hop_frontend"] + f["instructions_per_hop_gate_detector"]) + 1e4
    assert 0 < f["stack_bytes"] < 8192 and f["ram_bytes"] > f["stack_bytes"]
    assert main(["firmware", "report", str(tiny_run), "--seconds", "1"]) == 2


@pytest.fixture(scope="session")
def stream_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A RUN folder holding the streamable DS-CNN test model (random weights, calibrated on
    feature-like input so that its outputs move along a stream)."""
    from kws.fileio import write_text_atomic
    from kws.frontend.settings import FrontendSettings
    from kws.runtime.testmodels import ensure_model

    run = tmp_path_factory.mktemp("stream_run")
    shutil.copyfile(ensure_model("stream_ds_cnn"), run / "model.tflite")
    write_text_atomic(run / "labels.txt", "_silence_\n_unknown_\nyes\nno\n")
    write_text_atomic(run / "settings.json", FrontendSettings().to_json() + "\n")
    return run


def test_streaming_firmware_equals_python(tmp_path: Path, stream_run: Path,
                                          real_audio: Path) -> None:
    """The firmware running the generated step function (a step per hop while the gate is
    open, caught up when it reopens) prints every inference's output equal to the window model
    run by TFLite Micro on that window, and the same detection lines, decisions every hop."""
    from kws.data.labelled_stream import parity_stream
    from kws.gate import GateSettings
    from kws.simulate import detector_settings_for, is_streamable, load_run_model

    model = load_run_model(stream_run)
    assert is_streamable(model) and detector_settings_for(model).model_every_hops == 1
    samples, _ = parity_stream(real_audio, seconds=24.0, seed=7)
    samples = np.concatenate([samples[:16000 * 8], np.zeros(16000 * 3, np.int16),
                              samples[16000 * 8:]])
    summary = _stepping_parity(tmp_path, model, samples, gate=GateSettings())
    assert summary["skipped"] >= 100                # the silent stretch was gated


def test_streaming_posteriors_python_step_equals_tflm(tmp_path: Path, stream_run: Path,
                                                      real_audio: Path, capsys) -> None:
    """``--backend python`` on a streamable model steps kws_model_step over every frame on the
    host; its posteriors equal TFLite Micro's on every window (gate off and on)."""
    from kws.audio import save_wav
    from kws.cli import main
    from kws.data.labelled_stream import parity_stream

    samples, _ = parity_stream(real_audio, seconds=10.0, seed=8)
    wav = tmp_path / "s.wav"
    save_wav(wav, samples)
    for gate in ("off", "on"):
        got = {}
        for backend in ("python", "tflm"):
            out = tmp_path / f"{backend}_{gate}.npy"
            assert main(["stream", str(stream_run), str(wav), "--backend", backend,
                         "--posteriors", str(out), "--gate", gate, "--jobs", "1"]) == 0
            got[backend] = (np.load(out), np.load(out.with_suffix(".times.npy")))
        assert np.array_equal(got["python"][0], got["tflm"][0])
        assert np.array_equal(got["python"][1], got["tflm"][1])
        if gate == "off":
            assert len(got["python"][1]) == (len(samples) - 480) // 320 + 1 - 48   # every hop
    capsys.readouterr()


def test_ensemble_firmware_equals_python(tmp_path: Path, stream_run: Path,
                                         real_audio: Path) -> None:
    """An ensemble of two streamable models of different families (``kws ensemble``): the
    firmware steps both every hop and prints, for every inference, the mean of their outputs
    that the Python simulation computes, and the same detection lines."""
    from kws.data.labelled_stream import parity_stream
    from kws.device.pipeline import _build
    from kws.ensemble import create_ensemble
    from kws.runtime.testmodels import ensure_model
    from kws.simulate import detector_settings_for, load_run_model

    other = tmp_path / "tcn"
    shutil.copytree(stream_run, other)
    shutil.copyfile(ensure_model("stream_tcn"), other / "model.tflite")
    model = load_run_model(create_ensemble([stream_run, other], tmp_path / "ens"))
    samples, _ = parity_stream(real_audio, seconds=12.0, seed=9)
    _stepping_parity(tmp_path, model, samples)
    assert (tmp_path / "build" / "model" / "kws_member1.c").is_file()
    single = load_run_model(stream_run)
    assert _build(single, detector_settings_for(single), tmp_path / "build").is_file()
    assert not list((tmp_path / "build" / "model").glob("kws_member*"))


def _stepping_parity(tmp_path: Path, model, samples: np.ndarray, *, gate=None) -> dict:
    """Thresholds at each keyword's 95th percentile (so that detections happen), then the
    firmware built with the streaming step function and printing every output against the
    simulation: the same inference times, int8 outputs and detection lines. Returns the
    firmware's summary."""
    from kws.detect import DetectorSettings
    from kws.device.pipeline import _build, parse_output_lines, run_firmware
    from kws.simulate import detect_all, detection_lines, posteriors, tflm_model_fn

    model_fn = tflm_model_fn(model, workers=1)
    probe = DetectorSettings(labels=model.labels, thresholds=(256,) * 4, model_every_hops=1)
    _, raw = posteriors(samples, frontend=model.frontend, detector=probe, model_fn=model_fn)
    u = raw.astype(int) - model.output_zero_point
    th = tuple(256 if lab.startswith("_") else max(1, int(np.percentile(u[:, i], 95)))
               for i, lab in enumerate(model.labels))
    det = DetectorSettings(labels=model.labels, thresholds=th, average_window=3,
                           model_every_hops=1, refractory_ms=500, gate=gate)
    times, outputs = posteriors(samples, frontend=model.frontend, detector=det,
                                model_fn=model_fn)
    expected = detection_lines(detect_all(times, outputs, detector=det,
                                          output_zero_point=model.output_zero_point))
    elf = _build(model, det, tmp_path / "build", print_outputs=True, stream=True)
    run = run_firmware(elf, samples, workdir=tmp_path / "run")
    lines, got_t, got = parse_output_lines(run.lines, num_classes=4)
    assert run.summary["overruns"] == 0 and run.summary["steps"] > 0
    assert got_t.tolist() == times.tolist() and np.array_equal(got, outputs)
    assert lines == expected and len(expected) >= 2
    return run.summary
