"""Quantization-aware training: fine-tune a trained model through the int8 model's rounding.

:func:`qat_model` wraps a trained chain model of :mod:`kws.models` in a Keras model that
computes what the int8 model of :mod:`kws.train.quantize` computes, in float: each convolution
with its batch normalization folded in (``w * gamma / sqrt(var + eps)``, bias
``beta - mean * gamma / sqrt(var + eps)``, the moving statistics frozen), its weights
fake-quantized per output channel, symmetric, narrow range (``scale = max|w| / 127``, as the
TFLite converter does), its activation applied, and its output fake-quantized per tensor over
the range the converter will calibrate (8 bits, asymmetric, zero exactly representable). The
average pool's output takes its input's range (TFLite's int8 AVERAGE_POOL_2D keeps the scale),
and the dense layer's output (the logits) gets its own.

The wrapper *shares* the trained model's variables, so fine-tuning it trains the plain model,
which is then converted exactly as without QAT (no fake-quantization op reaches the converter,
which would otherwise add DEQUANTIZE/QUANTIZE pairs in front of the first convolution).
The converter calibrates every activation range as the min and max of the float model over the
representative examples; :func:`calibrate` computes the same ranges the same way, before every
epoch of fine-tuning, so the ranges the training sees are those the int8 model gets.
Gradients pass straight through the rounding (TensorFlow's FakeQuant gradient).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kws.errors import KwsError

_CONV = ("Conv2D", "DepthwiseConv2D")


def _keras() -> Any:
    import keras

    return keras


def _fake_quant_per_channel(w: Any) -> Any:
    """Symmetric narrow-range int8 fake quantization per output channel (the last axis)."""
    import tensorflow as tf

    axes = list(range(len(w.shape) - 1))
    m = tf.stop_gradient(tf.maximum(tf.reduce_max(tf.abs(w), axis=axes), 1e-8))
    return tf.quantization.fake_quant_with_min_max_vars_per_channel(
        w, -m, m, num_bits=8, narrow_range=True)


def _fake_quant(x: Any, rng: Any) -> Any:
    """Asymmetric int8 fake quantization of a tensor over ``rng = [min, max]``."""
    import tensorflow as tf

    return tf.quantization.fake_quant_with_min_max_vars(x, rng[0], rng[1], num_bits=8)


def _activation(layer: Any | None) -> str | None:
    """``"relu"`` for a plain ReLU layer, None for none; raise for anything else."""
    if layer is None:
        return None
    cfg = layer.get_config()
    plain = type(layer).__name__ == "ReLU" and not cfg.get("max_value") and \
        not cfg.get("negative_slope") and not cfg.get("threshold")
    if not plain and not (type(layer).__name__ == "Activation" and cfg["activation"] == "relu"):
        raise KwsError(f"quantization-aware training: activation layer {layer.name} is not a "
                       f"plain ReLU")
    return "relu"


class QuantizedRange:
    """Mixin: a non-trainable ``[min, max]`` activation range set by :func:`calibrate`."""

    def _add_range(self) -> None:
        self.act_range = self.add_weight(shape=(2,), initializer="zeros", trainable=False,
                                         name="act_range")


def _make_layers() -> tuple[type, type, type]:
    """The Keras layer classes (defined lazily so that importing this module needs no TF)."""
    keras = _keras()

    class FoldedConv(keras.layers.Layer, QuantizedRange):
        """A convolution + batch normalization + ReLU as the int8 model computes it."""

        def __init__(self, conv: Any, bn: Any | None, act: str | None, **kw: Any) -> None:
            super().__init__(name=f"{conv.name}_qat", **kw)
            self.conv, self.bn, self.act = conv, bn, act
            self.depthwise = type(conv).__name__ == "DepthwiseConv2D"
            self._add_range()

        def folded(self) -> tuple[Any, Any]:
            """(kernel, bias) with the batch normalization folded in (float)."""
            import tensorflow as tf

            kernel = self.conv.kernel
            c = kernel.shape[2] if self.depthwise else kernel.shape[-1]
            bias = self.conv.bias if self.conv.use_bias else tf.zeros((c,), kernel.dtype)
            if self.bn is None:
                return kernel, bias
            s = self.bn.gamma * tf.math.rsqrt(self.bn.moving_variance + self.bn.epsilon)
            bias = self.bn.beta + (bias - self.bn.moving_mean) * s
            if self.depthwise:
                return kernel * tf.reshape(s, (1, 1, -1, 1)), bias
            return kernel * s, bias

        def forward(self, x: Any, *, quantize: bool) -> Any:
            """The layer's output, with int8 rounding of weights and output when ``quantize``."""
            import tensorflow as tf

            kernel, bias = self.folded()
            ops = keras.ops
            cfg = dict(strides=self.conv.strides, padding=self.conv.padding,
                       dilation_rate=self.conv.dilation_rate)
            if self.depthwise:
                if quantize:
                    kh, kw, c, _ = kernel.shape
                    kernel = tf.reshape(_fake_quant_per_channel(tf.reshape(kernel, (kh, kw, c))),
                                        (kh, kw, c, 1))
                y = ops.depthwise_conv(x, kernel, **cfg)
            else:
                if quantize:
                    kernel = _fake_quant_per_channel(kernel)
                y = ops.conv(x, kernel, **cfg)
            y = y + bias
            if self.act == "relu":
                y = tf.nn.relu(y)
            return _fake_quant(y, self.act_range) if quantize else y

        def call(self, x: Any) -> Any:
            return self.forward(x, quantize=True)

    class QuantDense(keras.layers.Layer, QuantizedRange):
        """A dense layer with int8 weights and int8 output, then its activation (softmax)."""

        def __init__(self, dense: Any, **kw: Any) -> None:
            super().__init__(name=f"{dense.name}_qat", **kw)
            self.dense = dense
            self._add_range()

        def forward(self, x: Any, *, quantize: bool) -> Any:
            """The logits (quantized when ``quantize``); :meth:`call` applies the activation."""
            kernel = _fake_quant_per_channel(self.dense.kernel) if quantize else self.dense.kernel
            y = keras.ops.matmul(x, kernel)
            if self.dense.use_bias:
                y = y + self.dense.bias
            return _fake_quant(y, self.act_range) if quantize else y

        def call(self, x: Any) -> Any:
            return self.dense.activation(self.forward(x, quantize=True))

    class SameRange(keras.layers.Layer, QuantizedRange):
        """A layer whose int8 output keeps its input's quantization (average pooling)."""

        def __init__(self, inner: Any, **kw: Any) -> None:
            super().__init__(name=f"{inner.name}_qat", **kw)
            self.inner = inner
            self._add_range()

        def forward(self, x: Any, *, quantize: bool) -> Any:
            y = self.inner(x)
            return _fake_quant(y, self.act_range) if quantize else y

        def call(self, x: Any) -> Any:
            return self.forward(x, quantize=True)

    return FoldedConv, QuantDense, SameRange


def qat_model(model: Any) -> Any:
    """A Keras model that computes ``model``'s int8 version in float, sharing its variables.

    Parameters
    ----------
    model : keras.Model
        A trained chain model of :mod:`kws.models`: convolutions each followed by a batch
        normalization and a ReLU, dropout, an average pool, a reshape and a dense layer.

    Returns
    -------
    keras.Model
        Same input and output; its layers are wrappers of ``model``'s (training it trains
        ``model``). Call :func:`calibrate` before using it.

    Raises
    ------
    KwsError
        A layer the int8 model's arithmetic is not reproduced for.
    """
    import tensorflow as tf

    from kws.train.prune import chain_layers

    FoldedConv, QuantDense, SameRange = _make_layers()
    layers = chain_layers(model)[1:]
    x = inp = tf.keras.Input(shape=model.inputs[0].shape[1:], name="features")
    i = 0
    while i < len(layers):
        layer, kind = layers[i], type(layers[i]).__name__
        nxt = [type(v).__name__ for v in layers[i + 1:i + 3]]
        if kind in _CONV:
            bn = layers[i + 1] if nxt[:1] == ["BatchNormalization"] else None
            j = i + 1 + (bn is not None)
            act_layer = layers[j] if j < len(layers) and \
                type(layers[j]).__name__ in ("ReLU", "Activation") else None
            x = FoldedConv(layer, bn, _activation(act_layer))(x)
            i = j + (act_layer is not None)
            continue
        if kind == "Dense":
            x = QuantDense(layer)(x)
        elif kind == "AveragePooling2D":
            x = SameRange(type(layer).from_config(layer.get_config()))(x)
        elif kind in ("Dropout", "Reshape"):
            x = type(layer).from_config(layer.get_config())(x)
        else:
            raise KwsError(f"quantization-aware training: no int8 model of layer {layer.name} "
                           f"({kind})")
        i += 1
    return tf.keras.Model(inp, x, name=f"{model.name}_qat")


def calibrate(qat: Any, representative: np.ndarray, *, batch: int = 128) -> None:
    """Set every activation range of a :func:`qat_model` as the converter calibrates it: the
    min and max of the float model's activation over ``representative`` (widened to hold 0).
    An average pool takes its input's range.

    Parameters
    ----------
    qat : keras.Model
        From :func:`qat_model`.
    representative : ndarray of float32, shape (N, frames, coeffs, 1)
        The converter's calibration inputs (:func:`kws.train.quantize.representative_examples`).
    batch : int, keyword-only
        Examples per forward pass.
    """
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    for start in range(0, len(representative), batch):
        x = representative[start:start + batch]
        prev = None
        for layer in qat.layers[1:]:
            if hasattr(layer, "act_range"):
                x = layer.forward(x, quantize=False)
                if type(layer).__name__ == "SameRange" and prev is not None:
                    lo[layer.name], hi[layer.name] = lo[prev], hi[prev]
                else:
                    v = np.asarray(x)
                    lo[layer.name] = min(lo.get(layer.name, 0.0), float(v.min()))
                    hi[layer.name] = max(hi.get(layer.name, 0.0), float(v.max()))
                prev = layer.name
            elif type(layer).__name__ != "Dropout":
                x = layer(x)
    for layer in qat.layers:
        if layer.name in lo:
            layer.act_range.assign(np.array([lo[layer.name], hi[layer.name]], np.float32))


def quantization_aware_training(model: Any, data: Any, cfg: Any,
                                settings: Any) -> dict[str, Any]:
    """``kws train --qat``: fine-tune a trained model ``cfg.qat_epochs`` epochs through its
    int8 rounding (:func:`qat_model`; activation ranges recalibrated before every epoch on the
    converter's calibration examples), at 5 % down to 1 % of the training rate.

    Parameters
    ----------
    model : keras.Model
        The trained model; its weights are changed in place.
    data : kws.train.trainer.TrainingData
        The run's features.
    cfg : kws.train.trainer.TrainConfig
        The run's configuration (``qat_epochs``, ``learning_rate``, ``seed``).
    settings : FrontendSettings
        The front end.

    Returns
    -------
    dict
        ``epochs`` and the float/int8 accuracy of every evaluation split before
        (post-training quantization alone) and after quantization-aware training.
    """
    import tensorflow as tf

    from kws.train.quantize import representative_examples
    from kws.train.trainer import accuracy_snapshot, fine_tune, real_eval_dir

    real = real_eval_dir(cfg)
    before = accuracy_snapshot(model, data, settings, seed=cfg.seed, real_dir=real)
    rep = representative_examples(data.train.x[:, 0], settings, seed=cfg.seed)
    qat = qat_model(model)
    qat.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fine_tune(qat, data, cfg, settings, epochs=cfg.qat_epochs,
              learning_rate=(0.05 * cfg.learning_rate, 0.01 * cfg.learning_rate),
              seed_offset=20_000, before_epoch=lambda e: calibrate(qat, rep))
    return {"epochs": cfg.qat_epochs, "accuracy_before": before,
            "accuracy_after": accuracy_snapshot(model, data, settings, seed=cfg.seed,
                                                real_dir=real)}
