"""The operators beyond DS-CNN and the models users bring, against TFLite Micro bit for bit.

- every added operator (ADD / MUL with broadcasting, MEAN, MAX_POOL_2D, CONCATENATION, PAD,
  STRIDED_SLICE, SPLIT / SPLIT_V, LOGISTIC) in a small plain-Keras model of random shape and
  quantization (:mod:`kws.runtime.corpus`), portable and DSP-emulated paths;
- whole networks converted the plain Keras way with a dynamic batch (DS-CNN with Flatten,
  TC-ResNet, BC-ResNet, MaxPool / Concat) and the published models in tests/data/models;
- the refusals, static shape folding and the front-end settings marking.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kws.errors import KwsError

tf = pytest.importorskip("tensorflow", reason="TensorFlow generates the test models")
pytest.importorskip("tflite_micro", reason="tflite-micro is the reference interpreter")
if shutil.which("cmake") is None or shutil.which("cc") is None:
    pytest.skip("cmake and a C compiler build the runtime", allow_module_level=True)

from kws.export import export_model
from kws.export.lowering import lower
from kws.export.tflite_model import load_tflite
from kws.frontend.settings import FrontendSettings
from kws.runtime.host import HostModel
from kws.runtime.infer import infer, run_tflm
from kws.runtime.testmodels import ensure_model, parity_inputs

DATA = Path(__file__).parent / "data" / "models"
PUBLISHED = ["mlperf_kws_ref_model", "mlperf_str_ww_ref_model", "mlperf_ic_resnet_quant",
             "mlperf_ad01_int8", "tflm_micro_speech_quantized"]
#: Every broadcast / constant-operand variant of ADD and MUL, two shapes of the others.
OP_MODELS = ([f"op_{k}_{s}" for k in ("add", "mul", "slice", "split") for s in range(4)]
             + [f"op_{k}_{s}" for k in ("mean", "maxpool", "concat", "pad", "logistic")
                for s in range(2)])
SLOW_OP_MODELS = [f"op_{k}_{s}" for k in ("add", "mul", "mean", "maxpool", "concat", "pad",
                                          "slice", "split", "logistic") for s in range(4, 8)]
ARCHS = ["keras_ds_cnn_flatten", "keras_tc_resnet", "keras_bc_resnet", "keras_maxpool_concat"]


def _assert_parity(model: Path, n: int, seed: int = 0, extra: np.ndarray | None = None) -> int:
    """C (portable and DSP-emulated) == TFLM on ``n`` inputs (adversarial first); returns
    the number of inputs checked."""
    m = load_tflite(model)
    x = m.tensors[m.inputs[0]]
    xs = parity_inputs(x.shape, int(x.zero_point[0]), n=n, seed=seed)
    if extra is not None:
        xs = np.concatenate([xs, extra.reshape((-1,) + x.shape)])
    want = run_tflm(model, xs)
    for path in ("portable", "dsp"):
        hm = HostModel(model, path=path)
        got = np.stack([hm.invoke(v) for v in xs])
        bad = np.flatnonzero((got != want).reshape(len(xs), -1).any(axis=1))
        assert bad.size == 0, f"{model.name} {path}: {bad.size}/{len(xs)} inputs differ"
    return len(xs)


@pytest.mark.parametrize("name", OP_MODELS)
def test_op_parity(name: str) -> None:
    assert _assert_parity(ensure_model(name), 60) == 60


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_OP_MODELS)
def test_op_parity_more_shapes(name: str) -> None:
    _assert_parity(ensure_model(name), 100, seed=1)


@pytest.mark.parametrize("name", ARCHS)
def test_keras_networks_parity(name: str) -> None:
    assert _assert_parity(ensure_model(name), 60) == 60


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_models_parity(name: str) -> None:
    assert _assert_parity(DATA / f"{name}.tflite", 60) == 60


def test_audio_models_on_real_features(real_audio: Path) -> None:
    """The 49 x 10 feature models on the front end's features of real recordings."""
    import soundfile as sf

    from kws.audio import AUDIO_SUFFIXES
    from kws.fileio import class_files
    from kws.frontend.fixed import features_numpy

    fe = FrontendSettings()
    clips = []
    for word, wav in class_files(real_audio, AUDIO_SUFFIXES)[:60]:
        x, sr = sf.read(wav, dtype="int16")
        if sr == fe.sample_rate and x.ndim == 1 and not word.startswith("_"):
            clip = np.zeros(fe.clip_samples, np.int16)
            clip[:min(len(x), len(clip))] = x[:len(clip)]
            clips.append(clip)
    assert clips, "no 16 kHz mono clips found"
    feats = features_numpy(np.stack(clips), fe).astype(np.int8)
    for model in [ensure_model(a) for a in ARCHS] + [DATA / "mlperf_kws_ref_model.tflite"]:
        want = run_tflm(model, feats.reshape((-1, 1, 49, 10, 1)))
        for path in ("portable", "dsp"):
            hm = HostModel(model, path=path)
            got = np.stack([hm.invoke(f.reshape(1, 49, 10, 1)) for f in feats])
            np.testing.assert_array_equal(got, want, err_msg=f"{model.name} {path}")


@pytest.mark.parametrize("scale,zero_point", [(0.02, 0), (0.1, -30), (0.5, 100)])
def test_logistic_table_on_every_int8_value(tmp_path: Path, scale: float,
                                            zero_point: int) -> None:
    """LOGISTIC alone on an input holding all 256 int8 values, for three quantizations."""
    lo, hi = scale * (-128 - zero_point), scale * (127 - zero_point)
    inp = tf.keras.layers.Input((256,))
    model = tf.keras.Model(inp, tf.keras.layers.Activation("sigmoid")(inp))

    def rep():
        for _ in range(4):
            yield [np.linspace(lo, hi, 256, dtype=np.float32)[None]]
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    path = tmp_path / "logistic.tflite"
    path.write_bytes(conv.convert())
    assert [o.kind for o in load_tflite(path).ops] == ["LOGISTIC"]
    every = np.arange(-128, 128, dtype=np.int8).reshape(1, 1, 256)
    np.testing.assert_array_equal(infer(path, every, backend="c"),
                                  infer(path, every, backend="tflm"))


def test_flatten_shape_arithmetic_is_folded() -> None:
    path = ensure_model("keras_ds_cnn_flatten")
    m = load_tflite(path)
    kinds = [o.kind for o in m.ops]
    assert {"SHAPE", "STRIDED_SLICE", "PACK"} <= set(kinds)   # what Keras's Flatten becomes
    layers = lower(m)
    assert [l.op for l in layers] == [k for k in kinds
                                      if k not in ("SHAPE", "STRIDED_SLICE", "PACK")]


def test_lstm_is_refused_by_name_but_runs_on_tflm(tmp_path: Path) -> None:
    path = DATA / "tflm_micro_speech_lstm.tflite"
    with pytest.raises(KwsError, match="UNIDIRECTIONAL_SEQUENCE_LSTM is not supported"):
        export_model(path, tmp_path, allow_unknown_frontend=True)
    x = load_tflite(path).tensors[load_tflite(path).inputs[0]]
    xs = parity_inputs(x.shape, int(x.zero_point[0]), n=3)
    ys = infer(path, xs, backend="tflm")          # TFLM runs it: so does kws infer
    assert ys.shape[0] == 3
    with pytest.raises(KwsError, match="UNIDIRECTIONAL_SEQUENCE_LSTM"):
        infer(path, xs, backend="c")


def test_unnamed_tensors_are_not_corrupted(tmp_path: Path) -> None:
    """A valid model whose tensors carry no names reads, exports and runs."""
    from tensorflow.lite.python import schema_py_generated as schema

    data = ensure_model("tiny").read_bytes()
    obj = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    for t in obj.subgraphs[0].tensors:
        t.name = None
    import flatbuffers

    b = flatbuffers.Builder(1024)
    b.Finish(obj.Pack(b), file_identifier=b"TFL3")
    path = tmp_path / "unnamed.tflite"
    path.write_bytes(bytes(b.Output()))
    m = load_tflite(path)
    assert m.tensors[0].name == "#0"
    xs = parity_inputs((1, 49, 10, 1), 78, n=5)
    np.testing.assert_array_equal(infer(path, xs, backend="c"), infer(path, xs, backend="tflm"))


def _compile(src: Path, *defines: str) -> subprocess.CompletedProcess:
    from kws.runtime.host import common_include_dir, runtime_dir

    return subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", "-c",
                           f"-I{runtime_dir() / 'include'}", f"-I{common_include_dir()}",
                           *defines, str(src / "kws_model.c"), "-o", str(src / "m.o")],
                          capture_output=True, text=True)


def test_frontend_settings_are_required_or_marked_unknown(tmp_path: Path) -> None:
    model = tmp_path / "model.tflite"
    shutil.copy(ensure_model("tiny"), model)
    with pytest.raises(KwsError, match="no settings.json beside the model"):
        export_model(model, tmp_path / "a")
    r = export_model(model, tmp_path / "unknown", allow_unknown_frontend=True)
    h = r.header.read_text()
    assert r.settings_hash is None and "KWS_MODEL_FRONTEND_UNKNOWN 1" in h
    assert "KWS_MODEL_FRONTEND_SETTINGS_HASH" not in h.replace("no\n * KWS_MODEL_FRONTEND_"
                                                                "SETTINGS_HASH", "")
    assert _compile(tmp_path / "unknown").returncode == 0
    bad = _compile(tmp_path / "unknown", "-DKWS_FRONTEND_SETTINGS_HASH=0x1u")
    assert bad.returncode != 0 and "front end unknown" in bad.stderr
    fe = FrontendSettings(num_mel=32)
    (tmp_path / "fe.json").write_text(fe.to_json())
    r = export_model(model, tmp_path / "given", settings_file=tmp_path / "fe.json")
    assert r.settings_hash == fe.hash()
    assert _compile(tmp_path / "given", f"-DKWS_FRONTEND_SETTINGS_HASH=0x{fe.hash():08x}u"
                    ).returncode == 0


def test_cli_export_names_the_settings_flags(tmp_path: Path) -> None:
    from kws.cli import main

    shutil.copy(ensure_model("tiny"), tmp_path / "model.tflite")
    assert main(["export", str(tmp_path / "model.tflite"), "--out", str(tmp_path / "o")]) == 2
    assert main(["export", str(tmp_path / "model.tflite"), "--out", str(tmp_path / "o"),
                 "--frontend-unknown"]) == 0


def test_bench_runtime_prints_peers_only_where_measured(capsys) -> None:
    from kws.bench import runtime as bench

    assert bench.main(["--model", "op_add_0", "--inputs", "2", "--no-qemu"]) == 0
    out = capsys.readouterr().out
    assert "none measured for this model" in out and "CMSIS-NN" not in out.replace(
        "TFLM + CMSIS-NN figures: none", "")
    assert bench.cited_peers_apply("x", DATA / "mlperf_kws_ref_model.tflite")
    assert not bench.cited_peers_apply("x", DATA / "mlperf_ad01_int8.tflite")
