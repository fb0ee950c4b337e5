"""Ensembles (``kws ensemble``): the mean of the members' int8 outputs, the ensemble folder, the
simulation of it, and the exported C that steps every member and averages, equal to the mean
of the members' own step functions over random and adversarial frames."""

from __future__ import annotations

import ctypes
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kws.ensemble import create_ensemble, mean_outputs
from kws.errors import KwsError

LABELS = "_silence_\n_unknown_\nyes\nno\n"


def test_mean_outputs_rounds_half_up_by_hand() -> None:
    a = np.array([[0, 255, 254, 7]], np.uint8)
    b = np.array([[1, 255, 255, 8]], np.uint8)
    c = np.array([[1, 254, 255, 9]], np.uint8)
    assert mean_outputs([a, b]).tolist() == [[1, 255, 255, 8]]        # 0.5 -> 1, 254.5 -> 255
    assert mean_outputs([a, b, c]).tolist() == [[1, 255, 255, 8]]     # 2/3 -> 1, 764/3 -> 255
    assert mean_outputs([a, b]).dtype == np.uint8
    s = np.array([-128, -3, 127], np.int8)
    t = np.array([-127, -4, 127], np.int8)
    assert mean_outputs([s, t]).tolist() == [-127, -3, 127]          # -127.5 -> -127, -3.5 -> -3
    assert mean_outputs([s]).tolist() == s.tolist()


def test_mean_outputs_against_exact_rationals_on_random_members() -> None:
    rng = np.random.default_rng(0)
    for n in (2, 3, 4, 5):
        ms = [rng.integers(-128, 128, size=(50, 6)).astype(np.int8) for _ in range(n)]
        got = mean_outputs(ms)
        exact = np.sum([m.astype(np.int64) for m in ms], axis=0) / n
        assert np.all(got >= np.floor(exact)) and np.all(got <= np.ceil(exact))
        assert np.all(np.abs(got - exact) <= 0.5)
        half = (exact - np.floor(exact)) == 0.5
        assert np.all(got[half] == np.ceil(exact[half]))


def test_mean_outputs_rejects_mismatched_members() -> None:
    with pytest.raises(KwsError, match="no outputs"):
        mean_outputs([])
    with pytest.raises(KwsError, match="shape or type"):
        mean_outputs([np.zeros((2, 3), np.int8), np.zeros((2, 4), np.int8)])
    with pytest.raises(KwsError, match="shape or type"):
        mean_outputs([np.zeros(3, np.int8), np.zeros(3, np.uint8)])


def _run(folder: Path, model: Path, labels: str = LABELS) -> Path:
    from kws.fileio import write_text_atomic
    from kws.frontend.settings import FrontendSettings

    folder.mkdir(parents=True)
    shutil.copyfile(model, folder / "model.tflite")
    write_text_atomic(folder / "labels.txt", labels)
    write_text_atomic(folder / "settings.json", FrontendSettings().to_json() + "\n")
    return folder


@pytest.fixture(scope="module")
def member_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two streamable runs of different families (so their states differ in size and the
    ensemble's state offsets matter), random weights with moving outputs."""
    from kws.runtime.testmodels import ensure_model

    root = tmp_path_factory.mktemp("members")
    return [_run(root / name, ensure_model(name)) for name in ("stream_tcn", "stream_ds_cnn")]


@pytest.fixture(scope="module")
def ensemble(member_runs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_ensemble(member_runs, tmp_path_factory.mktemp("ens") / "ens")


def test_ensemble_folder(ensemble: Path, member_runs: list[Path]) -> None:
    from kws.run import ensemble_members, model_path
    from kws.simulate import is_streamable, load_run_model

    meta = json.loads((ensemble / "ensemble.json").read_text())
    assert meta["members"] == ["members/0", "members/1"]
    members = ensemble_members(ensemble)
    assert members == (ensemble / "members/0/model.tflite", ensemble / "members/1/model.tflite")
    for m, r in zip(members, member_runs):
        assert m.read_bytes() == (r / "model.tflite").read_bytes()
    assert (ensemble / "labels.txt").read_text() == LABELS
    model = load_run_model(ensemble)
    assert model.members == members and model.model_files == members
    assert model.path == ensemble / "ensemble.json" and model.labels[2:] == ("yes", "no")
    assert is_streamable(model)
    assert load_run_model(member_runs[0]).model_files == (member_runs[0] / "model.tflite",)
    with pytest.raises(KwsError, match="an ensemble .* has no single model.tflite"):
        model_path(ensemble)


def test_create_ensemble_refusals(ensemble: Path, member_runs: list[Path],
                                  tmp_path: Path) -> None:
    a, b = member_runs
    with pytest.raises(KwsError, match="give 2 to 8"):
        create_ensemble([a], tmp_path / "one")
    with pytest.raises(KwsError, match="not an empty folder"):
        create_ensemble([a, b], ensemble)
    with pytest.raises(KwsError, match="is an ensemble"):
        create_ensemble([a, ensemble], tmp_path / "nested")
    other = _run(tmp_path / "other", a / "model.tflite", labels="_silence_\n_unknown_\nup\nno\n")
    with pytest.raises(KwsError, match="labels differ"):
        create_ensemble([a, other], tmp_path / "labels")
    with pytest.raises(KwsError, match="no such model file"):
        create_ensemble([a, tmp_path / "missing"], tmp_path / "missing_member")
    assert not (tmp_path / "labels").exists() and not (tmp_path / "one").exists()


def test_create_ensemble_leaves_nothing_when_calibration_fails(member_runs: list[Path],
                                                               tmp_path: Path) -> None:
    def fail(folder: Path) -> None:
        assert (folder / "ensemble.json").is_file()
        raise KwsError("calibration failed")

    with pytest.raises(KwsError, match="calibration failed"):
        create_ensemble(member_runs, tmp_path / "ens", calibrate=fail)
    assert list(tmp_path.iterdir()) == []


def test_bad_ensemble_json(tmp_path: Path) -> None:
    from kws.run import ensemble_members

    (tmp_path / "ensemble.json").write_text('{"members": ["members/0"]}')
    with pytest.raises(KwsError, match="two or more"):
        ensemble_members(tmp_path)
    (tmp_path / "ensemble.json").write_text('{"members": ["../a", "b"]}')
    with pytest.raises(KwsError, match="two or more"):
        ensemble_members(tmp_path)
    (tmp_path / "ensemble.json").write_text('{"members": ["a", "b"]}')
    with pytest.raises(KwsError, match="member model .* is missing"):
        ensemble_members(tmp_path)
    assert ensemble_members(tmp_path.parent) is None


def _frames(n: int, size: int, zero_point: int, seed: int) -> np.ndarray:
    """Random int8 frames with adversarial stretches: all -128, all 127, the zero point."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (n, size)).astype(np.int8)
    x[60:110] = -128
    x[160:210] = 127
    x[260:300] = zero_point
    return x


class _EnsembleLib:
    """The exported ensemble (``kws_model.c`` + members) built for the host."""

    def __init__(self, model_dir: Path) -> None:
        from kws import cbuild
        from kws.runtime.host import build_runtime, common_include_dir, runtime_dir

        so = model_dir / "libensemble.so"
        cbuild.cc_shared_library(sorted(model_dir.glob("*.c")), so,
                                 libraries=[build_runtime("dsp")],
                                 flags=["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"],
                                 includes=[runtime_dir() / "include", common_include_dir(),
                                           model_dir])
        self.lib = ctypes.CDLL(str(so))
        v, s = ctypes.c_void_p, ctypes.c_size_t
        self.lib.kws_model_stream_reset.argtypes = [v, s]
        self.lib.kws_model_step.argtypes = [v, s, v, s, v, s, v, s, v]
        self.lib.kws_model_invoke.argtypes = [v, s, v, s, v, s]


def test_exported_ensemble_equals_the_mean_of_its_members(ensemble: Path, tmp_path: Path
                                                           ) -> None:
    from kws.export.ensemble import export_ensemble
    from kws.run import ensemble_members
    from kws.runtime.host import HostModel

    members = ensemble_members(ensemble)
    ex = export_ensemble(members, tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "kws_member0.c", "kws_member0.h", "kws_member1.c", "kws_member1.h", "kws_model.c",
        "kws_model.h"]
    hosts = [HostModel(m, path="dsp") for m in members]
    sp = ex.stream
    assert sp is not None and sp.state_offsets == [0, hosts[0].export.stream.state_size]
    assert sp.state_size == sum(h.export.stream.state_size for h in hosts)
    assert hosts[0].export.stream.state_size != hosts[1].export.stream.state_size
    lib = _EnsembleLib(tmp_path / "model").lib
    zp = int(ex.members[0].model.tensors[ex.members[0].model.inputs[0]].zero_point[0])
    frames = _frames(400, sp.frame_size, zp, seed=3)
    state = np.zeros(sp.state_size // 4, np.uint32)
    arena = np.zeros(sp.arena_size // 4 + 1, np.uint32)
    assert lib.kws_model_stream_reset(state.ctypes.data, state.nbytes) == 0
    got = np.zeros((len(frames), sp.output_size), np.int8)
    ready = ctypes.c_int(0)
    readies = []
    for i, f in enumerate(frames):
        assert lib.kws_model_step(state.ctypes.data, state.nbytes, f.ctypes.data, f.size,
                                  got[i].ctypes.data, sp.output_size, arena.ctypes.data,
                                  arena.nbytes, ctypes.byref(ready)) == 0
        readies.append(ready.value)
    outs = []
    for h in hosts:
        h.stream_reset()
        outs.append(h.steps(frames)[0])
    assert np.array_equal(got, mean_outputs(outs))
    assert readies == [int(i >= sp.window - 1) for i in range(len(frames))]
    assert np.count_nonzero(outs[0] != outs[1]) > 200          # the members disagree
    sums = outs[0].astype(int) + outs[1].astype(int)
    assert np.any(sums % 2 != 0)                               # halves were rounded
    # the window model: every member's kws_model_invoke, averaged
    shape = hosts[0].input_shape
    xs = _frames(40, int(np.prod(shape)), zp, seed=4)
    warena = np.zeros(ex.arena_size // 4 + 1, np.uint32)
    for x in xs:
        y = np.zeros(sp.output_size, np.int8)
        assert lib.kws_model_invoke(x.ctypes.data, x.size, y.ctypes.data, y.size,
                                    warena.ctypes.data, warena.nbytes) == 0
        want = mean_outputs([h.invoke(x.reshape(shape)).reshape(-1) for h in hosts])
        assert np.array_equal(y, want)
    # status codes: a short state, arena or output; NULL pointers
    f = frames[0]
    y = np.zeros(sp.output_size, np.int8)
    short = lib.kws_model_step(state.ctypes.data, state.nbytes - 4, f.ctypes.data, f.size,
                               y.ctypes.data, y.size, arena.ctypes.data, arena.nbytes, None)
    short_out = lib.kws_model_step(state.ctypes.data, state.nbytes, f.ctypes.data, f.size,
                                   y.ctypes.data, y.size - 1, arena.ctypes.data, arena.nbytes,
                                   None)
    null = lib.kws_model_step(None, state.nbytes, f.ctypes.data, f.size, y.ctypes.data,
                              y.size, arena.ctypes.data, arena.nbytes, None)
    assert short == short_out != 0 and null not in (0, short)
    assert lib.kws_model_stream_reset(state.ctypes.data, state.nbytes - 4) == short


def test_export_ensemble_refusals(member_runs: list[Path], tmp_path: Path) -> None:
    from kws.export import renamed
    from kws.export.ensemble import export_ensemble

    with pytest.raises(KwsError, match="two or more"):
        export_ensemble([member_runs[0] / "model.tflite"], tmp_path)
    other = _run(tmp_path / "other", member_runs[0] / "model.tflite",
                 labels="_silence_\n_unknown_\nup\nno\n")
    with pytest.raises(KwsError, match="labels or front end differ"):
        export_ensemble([member_runs[0] / "model.tflite", other / "model.tflite"],
                        tmp_path / "x")
    with pytest.raises(KwsError, match="not a lower-case C identifier"):
        renamed("x", "Kws-Model")
    text = '#include "kws_model.h"\n#ifdef KWS_MODEL_HOOKS\n#include "kws_model_hooks.h"\n' \
           'int kws_model_step(void); enum { KWS_MODEL_INPUT_SIZE = 1 };\n'
    assert renamed(text, "kws_member3") == (
        '#include "kws_member3.h"\n#ifdef KWS_MODEL_HOOKS\n#include "kws_model_hooks.h"\n'
        'int kws_member3_step(void); enum { KWS_MEMBER3_INPUT_SIZE = 1 };\n')


def test_simulation_of_an_ensemble_is_the_mean_of_its_members(ensemble: Path,
                                                              member_runs: list[Path]) -> None:
    """The C engine (each member's step function) and TFLite Micro (each member's window
    model) give the ensemble the same outputs: the mean of the members' own."""
    from kws.detect import DetectorSettings
    from kws.simulate import (
        host_step_fn,
        load_run_model,
        posteriors,
        recording_outputs_stepped,
        tflm_model_fn,
    )
    from tests.product_runs import stream_samples

    samples = stream_samples(seconds=4.0, seed=2)
    model = load_run_model(ensemble)
    det = DetectorSettings(labels=model.labels, thresholds=(256,) * 4, model_every_hops=1)
    t_c, c = posteriors(samples, frontend=model.frontend, detector=det,
                        step_fn=host_step_fn(model))
    t_t, t = posteriors(samples, frontend=model.frontend, detector=det,
                        model_fn=tflm_model_fn(model, workers=1))
    assert np.array_equal(t_c, t_t) and np.array_equal(c, t)
    each = [posteriors(samples, frontend=model.frontend, detector=det,
                       model_fn=tflm_model_fn(load_run_model(r), workers=1))[1]
            for r in member_runs]
    assert np.array_equal(c, mean_outputs(each)) and not np.array_equal(each[0], each[1])
    (out, times), = recording_outputs_stepped([samples], model=model, model_every_hops=1,
                                               workers=1)
    assert np.array_equal(out, c) and np.array_equal(times, t_c)


def test_clip_scores_of_an_ensemble_average_its_members(member_runs: list[Path],
                                                        tmp_path: Path) -> None:
    """``kws bench detection``'s clip accuracy of an ensemble: the argmax of the members'
    averaged int8 outputs (and of their averaged float probabilities)."""
    from kws.bench.accuracy import score
    from kws.frontend.settings import FrontendSettings
    from kws.runtime.reference import ReferenceInterpreter

    runs = []
    for r in member_runs:        # float models: here the int8 ones again (any model will do)
        runs.append(tmp_path / r.name)
        shutil.copytree(r, runs[-1])
        shutil.copyfile(r / "model.tflite", runs[-1] / "model_float.tflite")
    ens = create_ensemble(runs, tmp_path / "ens")
    assert (ens / "members" / "1" / "model_float.tflite").is_file()
    rng = np.random.default_rng(5)
    feats = rng.integers(-128, 128, (120, 49, 10)).astype(np.int8)
    labels = list(rng.choice(["yes", "no", "_silence_", "go"], size=len(feats)))
    raw = [ReferenceInterpreter((r / "model.tflite").read_bytes()).predict_raw(feats)
           for r in runs]
    pred = mean_outputs(raw).argmax(axis=1)
    classes = ["_silence_", "_unknown_", "yes", "no"]
    y = np.array([classes.index(lab if lab in classes else "_unknown_") for lab in labels])
    rep = score(ens, feats, labels, FrontendSettings())
    assert rep["int8"]["accuracy"] == pytest.approx(float(np.mean(pred == y)))
    probs = np.mean([ReferenceInterpreter((r / "model_float.tflite").read_bytes())
                     .predict_features(feats, FrontendSettings()) for r in runs], axis=0)
    assert rep["float"]["accuracy"] == pytest.approx(float(np.mean(probs.argmax(axis=1) == y)))
    assert score(runs[0], feats, labels, FrontendSettings())["int8"]["accuracy"] == \
        pytest.approx(float(np.mean(raw[0].argmax(axis=1) == y)))


def test_kws_eval_clips_of_an_ensemble(ensemble: Path, member_runs: list[Path], tmp_path: Path,
                                       capsys) -> None:
    """``kws eval ENS --wavs DIR`` scores the members' averaged int8 outputs (no float
    models here: the int8 report only) and writes its confusion matrix into the folder."""
    from kws.cli import main
    from kws.evaluate import clip_features, labelled_files, predict_classes
    from kws.frontend.settings import FrontendSettings
    from kws.runtime.reference import ReferenceInterpreter
    from tests.real_data import REAL_AUDIO

    out = tmp_path / "eval.json"
    assert main(["eval", str(ensemble), "--wavs", str(REAL_AUDIO), "--json", str(out)]) == 0
    capsys.readouterr()
    rep = json.loads(out.read_text())
    assert "float" not in rep and (ensemble / "confusion_eval.png").is_file()
    classes = ["_silence_", "_unknown_", "yes", "no"]
    feats, labels, _ = clip_features(labelled_files(REAL_AUDIO, classes), FrontendSettings())
    members = [(r / "model.tflite").read_bytes() for r in member_runs]
    pred = predict_classes(members, feats, FrontendSettings())
    raw = [ReferenceInterpreter(m).predict_raw(feats) for m in members]
    assert np.array_equal(pred, mean_outputs(raw).argmax(axis=1))
    y = np.array([classes.index(lab) for lab in labels])
    assert rep["int8"]["accuracy"] == pytest.approx(float(np.mean(pred == y)))
