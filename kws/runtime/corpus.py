"""Test models the way users build them: plain Keras, dynamic batch, the default converter.

Beside :mod:`kws.runtime.testmodels` (which pins a static batch of 1), these models keep
Keras's dynamic batch, so ``Flatten`` converts to SHAPE / STRIDED_SLICE / PACK / RESHAPE and
``GlobalAveragePooling2D`` to MEAN, as they do for a user. Two families, by name:

- ``keras_<arch>``: whole networks with random weights for a 49 x 10 x 1 feature input:
  ``ds_cnn_flatten`` (DS-CNN ending in Flatten + Dense), ``tc_resnet`` (TC-ResNet8: temporal
  convolutions over the coefficients as channels, residual ADDs, MEAN), ``bc_resnet``
  (BC-ResNet-1 style: frequency-wise depthwise convs, sub-spectral mean over frequency,
  broadcast residual ADDs, MEAN), ``maxpool_concat`` (MaxPool, two branches concatenated,
  zero padding).
- ``op_<kind>_<seed>``: one operator of a random shape and quantization around a small conv
  (see :data:`OP_KINDS`), for the per-operator parity tests.

Every model is full-int8 post-training quantized (int8 input and output) with a
representative set that pins the input range. Cached by :mod:`kws.runtime.testmodels`
(``ensure_model``), keyed by a hash of the spec.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np

from kws.errors import KwsError

#: Whole-network test models.
ARCHS = ("ds_cnn_flatten", "tc_resnet", "bc_resnet", "maxpool_concat")

#: Kinds of single-operator models.
OP_KINDS = ("add", "mul", "mean", "maxpool", "concat", "pad", "slice", "split", "logistic")

#: Bump when a generator changes the models it makes.
CORPUS_VERSION = 1


def spec_of(name: str) -> dict[str, Any] | None:
    """The spec of corpus model ``name``, or None if it is not a corpus name."""
    if name.startswith("keras_") and name[6:] in ARCHS:
        return {"kind": "keras", "arch": name[6:], "version": CORPUS_VERSION}
    parts = name.split("_")
    if len(parts) == 3 and parts[0] == "op" and parts[1] in OP_KINDS and parts[2].isdigit():
        return _op_spec(parts[1], int(parts[2]))
    return None


def _op_spec(kind: str, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 13])
    h, w, c = int(rng.integers(2, 12)), int(rng.integers(2, 10)), int(rng.integers(1, 17))
    return {"kind": "op", "op": kind, "seed": seed, "version": CORPUS_VERSION,
            "input": [h, w, c], "variant": seed % 4,
            "act": str(rng.choice(["none", "relu"])),
            "input_range": [float(-rng.uniform(0.5, 20)), float(rng.uniform(0.5, 20))]}


def _conv1x1(L: Any, x: Any, c: int, rng: np.random.Generator) -> Any:
    return L.Conv2D(c, 1, bias_initializer="random_normal",
                    kernel_initializer=_init(rng, float(rng.uniform(0.2, 3.0))))(x)


def _init(rng: np.random.Generator, std: float) -> Any:
    import tensorflow as tf

    return tf.keras.initializers.RandomNormal(stddev=std, seed=int(rng.integers(0, 2**31)))


def _op_model(spec: dict[str, Any], rng: np.random.Generator) -> Any:
    """A Keras model around one operator (dynamic batch)."""
    import tensorflow as tf

    L = tf.keras.layers
    h, w, c = spec["input"]
    v, op = spec["variant"], spec["op"]
    inp = L.Input((h, w, c))
    a = _conv1x1(L, inp, c, rng)
    if op in ("add", "mul"):
        layer = L.Add() if op == "add" else L.Multiply()
        if v == 0:
            b = inp                                                       # same shape
        elif v == 1:
            b = L.Lambda(lambda t: tf.reduce_mean(t, axis=2, keepdims=True))(inp)  # (h, 1, c)
        elif v == 2:
            b = L.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True))(inp)
        else:
            const = rng.uniform(-2, 2, size=(c,)).astype(np.float32)
            b = L.Lambda(lambda t: t * 0.0 + const)(inp)                  # a constant operand
        y = layer([a, b])
        if spec["act"] == "relu":
            y = L.ReLU()(y)
    elif op == "mean":
        axes = [[1], [2], [1, 2], [3], [2, 3], [1, 2, 3]][int(rng.integers(0, 6))]
        keep = bool(v % 2)
        y = L.Lambda(lambda t: tf.reduce_mean(t, axis=axes, keepdims=keep))(a)
    elif op == "maxpool":
        pool = (int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1)))
        y = L.MaxPooling2D(pool, strides=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                           padding=["same", "valid"][v % 2])(a)
    elif op == "concat":
        b = _conv1x1(L, inp, int(rng.integers(1, 9)), rng)
        y = L.Concatenate(axis=-1 if v < 2 else 1)([a, b] if v % 2 else [b, inp, a]) \
            if v < 2 else L.Concatenate(axis=[1, 2][v % 2])([a, inp])
    elif op == "pad":
        pads = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(2))
        if v % 2:
            y = L.ZeroPadding2D(pads)(a)
        else:
            cval = float(rng.uniform(-1, 1))
            y = L.Lambda(lambda t: tf.pad(t, [[0, 0], list(pads[0]), list(pads[1]), [0, 1]],
                                          constant_values=cval))(a)
    elif op == "slice":
        sl = [(int(rng.integers(0, d)), None, int(rng.integers(1, 3))) for d in (h, w, c)]
        if v == 0:
            y = L.Lambda(lambda t: t[:, sl[0][0]::sl[0][2], :, sl[2][0]:])(a)
        elif v == 1:
            y = L.Lambda(lambda t: t[:, -1, ::-1, :])(a)                  # shrink + reverse
        elif v == 2:
            y = L.Lambda(lambda t: t[:, :, sl[1][0]:, ::sl[2][2]])(a)
        else:
            y = L.Lambda(lambda t: t[:, ::-2, 1:, :])(a)
    elif op == "split":
        axis = [1, 2, 3][v % 3]
        n = int(inp.shape[axis])
        if v == 3 or n % 2:
            sizes = [1, n - 1] if n > 1 else [1]                         # SPLIT_V
        else:
            sizes = 2                                                     # SPLIT
        y = L.Lambda(lambda t: tf.concat(tf.split(t, sizes, axis=axis)[::-1], axis=axis))(a)
        y = _conv1x1(L, y, c, rng)
    elif op == "logistic":
        y = L.Activation("sigmoid")(a)
        if v % 2:
            g = L.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True))(a)
            y = L.Multiply()([a, L.Activation("sigmoid")(g)])             # squeeze-excite gate
    else:
        raise KwsError(f"unknown operator test kind {op!r}")
    return tf.keras.Model(inp, y)


def _keras_arch(arch: str, rng: np.random.Generator) -> Any:
    import tensorflow as tf

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(int(rng.integers(0, 2**31)))
    inp = L.Input((49, 10, 1))
    if arch == "ds_cnn_flatten":
        x = L.Conv2D(32, (10, 4), strides=(2, 2), padding="same", activation="relu")(inp)
        for _ in range(2):
            x = L.DepthwiseConv2D(3, padding="same")(x)
            x = L.BatchNormalization()(x)
            x = L.ReLU()(x)
            x = L.Conv2D(32, 1, activation="relu")(x)
        x = L.AveragePooling2D((5, 1))(x)
        x = L.Flatten()(x)
        out = L.Dense(12, activation="softmax")(x)
    elif arch == "tc_resnet":
        x = L.Reshape((49, 1, 10))(inp)                 # coefficients as channels
        x = L.Conv2D(16, (3, 1), padding="same", use_bias=False)(x)
        for ch, s in ((24, 2), (32, 2), (48, 2)):
            y = L.Conv2D(ch, (9, 1), strides=(s, 1), padding="same", use_bias=False)(x)
            y = L.BatchNormalization()(y)
            y = L.ReLU()(y)
            y = L.Conv2D(ch, (9, 1), padding="same", use_bias=False)(y)
            y = L.BatchNormalization()(y)
            r = L.Conv2D(ch, 1, strides=(s, 1), use_bias=False)(x)
            r = L.BatchNormalization()(r)
            r = L.ReLU()(r)
            x = L.ReLU()(L.Add()([y, r]))
        x = L.GlobalAveragePooling2D()(x)
        out = L.Dense(12, activation="softmax")(x)
    elif arch == "bc_resnet":
        x = L.Conv2D(16, (5, 5), strides=(2, 1), padding="same")(inp)   # (25, 10, 16)
        for _ in range(2):
            f2 = L.DepthwiseConv2D((1, 3), padding="same")(x)           # frequency-wise
            f2 = L.BatchNormalization()(f2)
            f1 = L.Lambda(lambda t: tf.reduce_mean(t, axis=2, keepdims=True))(f2)  # (25,1,16)
            f1 = L.DepthwiseConv2D((3, 1), padding="same")(f1)          # temporal
            f1 = L.BatchNormalization()(f1)
            f1 = L.Activation("swish")(f1) if False else L.ReLU()(f1)
            f1 = L.Conv2D(16, 1)(f1)
            x = L.ReLU()(L.Add()([L.Add()([x, f2]), f1]))               # broadcast over freq
        x = L.Conv2D(12, 1)(x)
        x = L.GlobalAveragePooling2D()(x)
        out = L.Softmax()(x)
    elif arch == "maxpool_concat":
        x = L.ZeroPadding2D(((1, 1), (1, 1)))(inp)
        x = L.Conv2D(16, 3, activation="relu")(x)
        x = L.MaxPooling2D((2, 2))(x)
        a = L.Conv2D(8, 1, activation="relu")(x)
        b = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        x = L.Concatenate()([a, b])
        x = L.MaxPooling2D((2, 1), strides=(2, 1), padding="same")(x)
        x = L.GlobalAveragePooling2D()(x)
        out = L.Dense(12, activation="softmax")(x)
    else:
        raise KwsError(f"unknown corpus model {arch!r}")
    model = tf.keras.Model(inp, out)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 2.0, n).astype(np.float32))
            layer.beta.assign(rng.normal(0.0, 0.5, n).astype(np.float32))
            layer.moving_mean.assign(rng.normal(0.0, 0.5, n).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.5, 4.0, n).astype(np.float32))
    return model


def convert(spec: dict[str, Any]) -> bytes:
    """Build the model of ``spec`` and convert it to full int8 the plain Keras way."""
    import tensorflow as tf

    from kws.frontend.settings import FrontendSettings

    rng = np.random.default_rng([spec.get("seed", 0), CORPUS_VERSION, len(str(spec))])
    if spec["kind"] == "keras":
        model = _keras_arch(spec["arch"], rng)
        fe = FrontendSettings()
        lo = fe.output_scale * (-128 - fe.output_zero_point)
        hi = fe.output_scale * (127 - fe.output_zero_point)
    else:
        tf.keras.utils.set_random_seed(int(rng.integers(0, 2**31)))
        model = _op_model(spec, rng)
        lo, hi = spec["input_range"]
    shape = tuple(int(d) for d in model.input.shape[1:])

    def representative():
        for _ in range(24):
            x = rng.uniform(lo, hi, size=(1,) + shape).astype(np.float32)
            x.reshape(-1)[0], x.reshape(-1)[-1] = lo, hi
            yield [x]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return conv.convert()
