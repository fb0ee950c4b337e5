"""Quantization-aware training (kws.train.qat): the QAT model computes what the int8 model
computes (ranges as the converter calibrates them, closer to the int8 outputs than the float
model), trains the plain model's variables, exports bit-exact with TFLite Micro; and
``kws train --prune --qat`` end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.models import build_model, dequantize_features

tf = pytest.importorskip("tensorflow")

from kws.runtime.reference import ReferenceInterpreter  # noqa: E402
from kws.train.qat import calibrate, qat_model  # noqa: E402
from kws.train.quantize import convert, representative_examples  # noqa: E402
from tests.test_prune import random_statistics  # noqa: E402

SETTINGS = FrontendSettings()


def constructed(name: str, seed: int = 0):
    """A model with random batch-norm statistics and logits centred and scaled to a standard
    deviation of 3 over the test features (posteriors that are neither flat nor saturated, so
    the int8 output moves), its calibration examples and test features."""
    model = build_model(name, num_classes=4, settings=SETTINGS)
    random_statistics(model, seed=seed)
    rng = np.random.default_rng(seed)
    feats = rng.integers(-128, 128, size=(260, SETTINGS.num_frames, SETTINGS.num_outputs),
                         dtype=np.int8)
    x = dequantize_features(feats[200:], SETTINGS)[..., None]
    pooled = tf.keras.Model(model.inputs, model.get_layer("flatten").output)(x).numpy()
    dense = model.get_layer("logits")
    w, _ = dense.get_weights()
    logits = pooled @ w
    scale = 3.0 / max(float((logits - logits.mean(axis=0)).std()), 1e-6)
    dense.set_weights([w * scale, -scale * logits.mean(axis=0)])
    return model, representative_examples(feats[:200], SETTINGS), feats[200:]


def lsb(p: np.ndarray) -> np.ndarray:
    """Posteriors in units of the int8 output's step (1/256)."""
    return np.asarray(p, dtype=np.float64) * 256.0


@pytest.mark.parametrize("name", ["tcn-stream", "ds-cnn-s"])
def test_qat_model_predicts_the_int8_model(name: str) -> None:
    """The QAT model's float outputs are within a fraction of the float model's distance to the
    int8 model's outputs (it rounds weights and activations as the int8 model does)."""
    tf.keras.utils.set_random_seed(0)  # the same network every run
    model, rep, feats = constructed(name)
    qat = qat_model(model)
    calibrate(qat, rep)
    int8 = convert(model, representative=rep)
    x = dequantize_features(feats, SETTINGS)[..., None]
    p_int8 = lsb(ReferenceInterpreter(int8).predict_features(feats, SETTINGS))
    d_float = np.abs(lsb(model.predict(x, verbose=0)) - p_int8).mean()
    d_qat = np.abs(lsb(qat.predict(x, verbose=0)) - p_int8).mean()
    assert d_float > 0.5, f"the constructed case is too easy: {d_float:.2f} LSB"
    # seeded networks: 0.56x on tcn-stream, under 0.5x on the others
    assert d_qat < 0.6 * d_float, f"QAT {d_qat:.2f} LSB vs float {d_float:.2f} LSB"


def test_calibrated_ranges_are_the_converters() -> None:
    """Every activation scale the QAT model uses, (max - min) / 255, is one the converter gave
    the int8 model's tensors."""
    model, rep, _ = constructed("ds-cnn-xs", seed=3)
    qat = qat_model(model)
    calibrate(qat, rep)
    interp = tf.lite.Interpreter(model_content=convert(model, representative=rep))
    scales = np.array([t["quantization"][0] for t in interp.get_tensor_details()
                       if t["quantization"][0] > 0])
    ranges = [layer.act_range.numpy() for layer in qat.layers if hasattr(layer, "act_range")]
    assert len(ranges) == 2 * 2 + 1 + 1 + 1   # conv0, 2 x (dw, pw), pool, logits
    for lo, hi in ranges:
        assert lo <= 0.0 <= hi and hi > lo
        rel = np.abs(scales - (hi - lo) / 255.0) / ((hi - lo) / 255.0)
        assert rel.min() < 1e-4, f"range [{lo}, {hi}] not among the converter's scales"


def test_qat_trains_the_plain_models_variables() -> None:
    model, rep, feats = constructed("ds-cnn-xs", seed=1)
    qat = qat_model(model)
    calibrate(qat, rep)
    assert {id(v) for v in qat.trainable_weights} == {id(v) for v in model.trainable_weights}
    before = [w.copy() for w in model.get_weights()]
    stats = [v.numpy().copy() for v in model.non_trainable_weights]
    qat.compile(optimizer=tf.keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x = dequantize_features(feats, SETTINGS)[..., None]
    qat.fit(x, np.arange(len(x)) % 4, epochs=1, batch_size=20, verbose=0)
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    for v, s in zip(model.non_trainable_weights, stats):     # batch-norm statistics frozen
        np.testing.assert_array_equal(v.numpy(), s)


def test_unsupported_layer_is_refused() -> None:
    L = tf.keras.layers
    inp = L.Input((49, 10, 1))
    x = L.Conv2D(4, 3, name="c0")(inp)
    x = L.LeakyReLU(negative_slope=0.1, name="leaky")(x)
    model = tf.keras.Model(inp, x)
    with pytest.raises(KwsError, match="leaky"):
        qat_model(model)


def test_residual_model_is_refused_in_one_line() -> None:
    """A residual connection: one line naming the model, the layer and why."""
    L = tf.keras.layers
    inp = L.Input((49, 10, 1))
    a = L.Conv2D(8, 3, padding="same", use_bias=False, name="c0")(inp)
    b = L.BatchNormalization(name="b0")(a)
    x = L.Add(name="skip")([a, b])
    model = tf.keras.Model(inp, x, name="resnet_like")
    with pytest.raises(KwsError) as info:
        qat_model(model)
    msg = str(info.value)
    assert "\n" not in msg and "resnet_like" in msg and "skip" in msg
    assert "residual" in msg and "chain models only" in msg


needs_c = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("cc") is None,
                             reason="cmake and a C compiler build the runtime")


@needs_c
def test_qat_int8_model_is_bit_exact_with_tflm(tmp_path) -> None:
    pytest.importorskip("tflite_micro")
    from kws.runtime.host import HostModel
    from kws.runtime.infer import run_tflm
    from kws.runtime.testmodels import parity_inputs

    tf.keras.utils.set_random_seed(2)  # the same network every run (its outputs move)
    model, rep, feats = constructed("ds-cnn-stream", seed=2)
    qat = qat_model(model)
    qat.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    x = dequantize_features(feats, SETTINGS)[..., None]
    for _ in range(2):
        calibrate(qat, rep)
        qat.fit(x, np.arange(len(x)) % 4, epochs=1, batch_size=20, verbose=0)
    path = tmp_path / "qat.tflite"
    path.write_bytes(convert(model, representative=rep))
    xs = parity_inputs((1, SETTINGS.num_frames, SETTINGS.num_outputs, 1),
                       SETTINGS.output_zero_point, n=200, seed=5)
    want = run_tflm(path, xs)
    assert len(np.unique(want.reshape(len(xs), -1), axis=0)) >= 4, "outputs do not move"
    for kernel_path in ("portable", "dsp"):
        hm = HostModel(path, path=kernel_path)
        got = np.stack([hm.invoke(v) for v in xs])
        bad = np.flatnonzero((got != want).reshape(len(xs), -1).any(axis=1))
        assert bad.size == 0, f"{kernel_path}: {bad.size}/{len(xs)} inputs differ"


def test_train_with_prune_and_qat(tmp_path) -> None:
    """``kws train --prune 0.5 --qat`` on the tiny dataset: a run folder whose int8 model is
    the pruned one (fewer parameters), metrics that say what pruning and QAT did; bad ratios
    are refused by the CLI naming the flag."""
    from kws.export.tflite_model import load_tflite
    from kws.train.trainer import train
    from tests.test_train import tiny_config
    from tests.tiny_data import make_tiny_speech_commands

    data = make_tiny_speech_commands(tmp_path / "sc")
    run = tmp_path / "run"
    metrics = train(tiny_config(data, run, tmp_path / "cache", prune=0.5, prune_epochs=1,
                                qat=True, qat_epochs=1, calibration_minutes=0.2))
    p = metrics["pruning"]
    assert p["channels_before"] == {"conv0": 32, "pw1": 32, "pw2": 32}
    assert p["channels_after"] == {"conv0": 16, "pw1": 16, "pw2": 16}
    assert p["params_after"] < 0.5 * p["params_before"]
    keys = {"float", "int8", "disagree", "posterior_lsb"}
    for key in ("accuracy_before", "accuracy_pruned_not_tuned", "accuracy_after"):
        assert set(p[key]["validation"]) == keys
    for key in ("accuracy_before", "accuracy_after"):
        v = metrics["qat"][key]["validation"]
        assert set(v) == keys and 0.0 <= v["disagree"] <= 1.0 and v["posterior_lsb"] >= 0.0
    assert json.loads((run / "metrics.json").read_text())["pruning"]["ratio"] == 0.5
    m = load_tflite(run / "model.tflite")
    widths = {int(m.tensors[t].shape[-1]) for op in m.ops for t in op.outputs}
    assert 32 not in widths and 16 in widths
    bad = subprocess.run([sys.executable, "-m", "kws.cli", "train", "--words", "yes,no",
                          "--prune", "1.5", "--out", str(tmp_path / "bad")],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "--prune" in bad.stderr and "[0, 1)" in bad.stderr
    assert not (tmp_path / "bad").exists()
