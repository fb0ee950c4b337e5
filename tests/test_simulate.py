"""The Python streaming simulation: schedule, settings, errors, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kws.cli import main
from kws.detect import DetectorSettings
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.simulate import (
    detector_settings_for,
    inference_frames,
    inference_times_ms,
    load_run_model,
    simulate,
)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kws.runtime.testmodels import make_random_run

    return make_random_run(tmp_path_factory.mktemp("run"), channels=8, blocks=1)


def test_schedule() -> None:
    fe = FrontendSettings()
    frames = inference_frames(60, window_frames=49, every=2)
    assert frames.tolist() == [48, 50, 52, 54, 56, 58]
    # frame 48 ends at sample 48 * 320 + 480 = 15840 -> 990 ms
    assert inference_times_ms(frames, fe).tolist() == [990, 1030, 1070, 1110, 1150, 1190]


def test_simulate_calls_the_model_on_the_sliding_window() -> None:
    fe = FrontendSettings()
    feats = np.arange(53 * 10, dtype=np.int64).reshape(53, 10).astype(np.int8)
    seen = []

    def model(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return np.full((len(x), 2), -128, np.int8)

    det = DetectorSettings(labels=("a", "b"), thresholds=(256, 256), model_every_hops=2)
    samples = np.zeros(fe.window_samples + 52 * fe.hop_samples, np.int16)
    assert simulate(samples, frontend=fe, detector=det, model_fn=model, output_zero_point=-128,
                    features=feats) == []
    (batch,) = seen
    assert batch.shape == (3, 49, 10)
    assert np.array_equal(batch[1], feats[2:51]) and np.array_equal(batch[2], feats[4:53])


def test_detector_settings_file_and_overrides(small_run: Path, tmp_path: Path) -> None:
    model = load_run_model(small_run)
    d = detector_settings_for(model, threshold=99, model_every_hops=3)
    assert d.model_every_hops == 3
    assert [t for t, lab in zip(d.thresholds, d.labels) if not lab.startswith("_")] == [99, 99]
    assert [t for t, lab in zip(d.thresholds, d.labels) if lab.startswith("_")] == [256, 256]
    (small_run / "detector.json").write_text(json.dumps(
        DetectorSettings(labels=model.labels, thresholds=(256, 256, 10, 20),
                         average_window=5).to_dict()))
    try:
        d = detector_settings_for(model)
        assert d.thresholds == (256, 256, 10, 20) and d.average_window == 5
    finally:
        (small_run / "detector.json").unlink()


def test_bad_inputs(small_run: Path, tmp_path: Path) -> None:
    with pytest.raises(KwsError, match="no such model file"):
        load_run_model(tmp_path / "nothing")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(KwsError, match="model.tflite"):
        load_run_model(bad)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "model.tflite").write_bytes((small_run / "model.tflite").read_bytes())
    (labels / "labels.txt").write_text("a\nb\n")
    with pytest.raises(KwsError, match="2 labels for a model with 4 outputs"):
        load_run_model(labels)
    assert main(["stream", str(tmp_path / "nothing"), str(tmp_path / "x.wav")]) == 2


def test_cli_python_backend(small_run: Path, tmp_path: Path, capsys) -> None:
    from kws.audio import save_wav
    from kws.simulate import detection_lines, stream_file

    rng = np.random.default_rng(0)
    wav = tmp_path / "a.wav"
    save_wav(wav, rng.integers(-8000, 8000, 16000 * 4).astype(np.int16))
    # stationary noise: the default gate would close after 1 s; this checks the thresholds
    assert main(["stream", str(small_run), str(wav), "--threshold", "0", "--jobs", "1",
                 "--gate", "off"]) == 0
    out = capsys.readouterr().out.splitlines()
    det = detector_settings_for(load_run_model(small_run), threshold=0, gate=False)
    assert out == detection_lines(stream_file(small_run, wav, detector=det, workers=1))
    assert len(out) >= 2                       # threshold 0: fires after each refractory time
    assert all(json.loads(line)["label"] in ("yes", "no") for line in out)


@pytest.mark.skipif(not __import__("kws.simulate", fromlist=["x"]).c_runtime_available(),
                    reason="needs the host C runtime binding (kws.runtime.host)")
def test_c_engine_equals_tflm(small_run: Path, real_audio: Path) -> None:
    from kws.data.labelled_stream import parity_stream
    from kws.simulate import tflm_model_fn

    model = load_run_model(small_run)
    samples, _ = parity_stream(real_audio, seconds=20.0, seed=5)
    from kws.frontend.fixed import features_numpy

    feats = features_numpy(samples, model.frontend)
    wins = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(
        feats, (model.frontend.num_frames, model.frontend.num_outputs))[:, 0])
    c = tflm_model_fn(model, workers=1, engine="c")(wins)
    ref = tflm_model_fn(model, workers=1, engine="tflm")(wins)
    assert np.array_equal(c, ref)


@pytest.mark.skipif(not __import__("kws.simulate", fromlist=["x"]).c_runtime_available(),
                    reason="needs the host C runtime binding (kws.runtime.host)")
def test_stepped_recording_outputs_equal_the_window_model(tmp_path: Path,
                                                          real_audio: Path) -> None:
    """A streamable model scored by its step function (kws.evaluate.score_recordings' path for
    one) gives the window model's outputs and times on the same schedule, every hop and every
    2 hops, over several recordings (speech, noise, one shorter than a window), with 1 and 2
    worker processes."""
    from kws.data.labelled_stream import parity_stream
    from kws.runtime.testmodels import make_stream_run
    from kws.simulate import (
        is_streamable,
        recording_outputs,
        recording_outputs_stepped,
        tflm_model_fn,
    )

    model = load_run_model(make_stream_run(tmp_path / "run", family="tcn-stream"))
    assert is_streamable(model)
    speech, _ = parity_stream(real_audio, seconds=12.0, seed=3)
    noise = np.random.default_rng(1).normal(0, 2000, 16000 * 3).astype(np.int16)
    recs = [speech, np.zeros(4000, np.int16), noise]
    for every, workers in ((1, 2), (2, 1)):
        got = recording_outputs_stepped(recs, model=model, model_every_hops=every,
                                        workers=workers)
        want = recording_outputs(recs, frontend=model.frontend, model_every_hops=every,
                                 model_fn=tflm_model_fn(model, workers=1, engine="tflm"))
        assert len(got) == len(want) == 3 and len(got[0][0]) > 100 and len(got[1][1]) == 0
        for (go, gt), (wo, wt) in zip(got, want):
            assert np.array_equal(gt, wt)
            assert go.size == wo.size and np.array_equal(go.reshape(wo.shape), wo)
        assert len(np.unique(got[0][0], axis=0)) > 3      # the outputs move
