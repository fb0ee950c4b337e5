"""Keras keyword-spotting models: the DS-CNN family of Hello Edge (Zhang et al., 2017) and
MLPerf Tiny KWS, an extra-small DS-CNN for two-word tasks, and two streamable families.

The streamable families (``ds-cnn-stream``, ``tcn-stream``, ``tcn-stream-max`` and its wider
``tcn-stream-max-96``) use ``valid``
padding and stride 1 along time in every layer and end in an average (``tcn-stream-max``: a
maximum) pool over all remaining time slices, so that the
window model's output is a function of per-time-slice computations a device can carry from one
hop to the next: ``kws export`` generates a step function (:mod:`kws.export.streaming`) that
computes only the newest time slice of every layer and equals the window model bit for bit.

Every model takes the front end's features as float ``real = scale * (q - zero_point)`` shaped
``(num_frames, num_outputs, 1)`` and ends in a softmax. The int8 model's input scale and zero
point must equal the front end's output quantization, so that the device feeds int8 frames
straight in: :mod:`kws.train.quantize` pins them by calibrating the input over exactly
:func:`input_range` (the converter derives ``scale = (max - min) / 255`` and
``zero_point = -128 - min / scale`` from the calibrated range; a fake-quantization layer would
instead add a DEQUANTIZE/QUANTIZE pair in front of the first convolution). Batch normalization
is folded into the convolutions by the TFLite converter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings


@dataclasses.dataclass(frozen=True)
class DsCnnShape:
    """Shape of a DS-CNN: one standard convolution, then depthwise-separable blocks.

    Parameters
    ----------
    filters : int
        Channels of every layer.
    first_kernel, first_strides : tuple of int
        Kernel (time, frequency) and strides of the first, standard convolution.
    blocks : int
        Number of depthwise (3x3) + pointwise (1x1) blocks.
    dropout_in, dropout_out : float
        Dropout after the first convolution and before the pooling.
    """

    filters: int
    first_kernel: tuple[int, int]
    first_strides: tuple[int, int]
    blocks: int
    dropout_in: float = 0.2
    dropout_out: float = 0.4


#: The model family. S is MLPerf Tiny's KWS reference (64 channels, first conv stride 2x2,
#: 4 blocks); M (172 channels, 4 blocks) and L (276 channels, 5 blocks) are Hello Edge's, with
#: its first-conv stride of 2x1. XS is ours, for two-word tasks: 32 channels, 2 blocks.
MODELS: dict[str, DsCnnShape | StreamDsCnnShape | TcnShape] = {
    "ds-cnn-xs": DsCnnShape(32, (10, 4), (2, 2), 2, 0.1, 0.2),
    "ds-cnn-s": DsCnnShape(64, (10, 4), (2, 2), 4),
    "ds-cnn-m": DsCnnShape(172, (10, 4), (2, 1), 4),
    "ds-cnn-l": DsCnnShape(276, (10, 4), (2, 1), 5),
}


@dataclasses.dataclass(frozen=True)
class StreamDsCnnShape:
    """A DS-CNN with ``valid`` padding (no look-ahead in time), for streaming inference.

    A ``first_kernel`` standard convolution (stride 1), then ``blocks`` depthwise 3x3 +
    pointwise blocks, all ``valid``: each block shortens the time axis by 2 and the frequency
    axis by 2 (10 coefficients, a 10x4 first kernel: 7 -> 5 -> 3 -> 1 frequency columns), then
    an average pool over the remaining time slices (49 - 9 - 2 * blocks) and a dense layer.

    Parameters
    ----------
    filters : int
        Channels of every layer.
    first_kernel : tuple of int
        Kernel (time, frequency) of the first convolution.
    blocks : int
        Depthwise-separable blocks.
    dropout_in, dropout_out : float
        Dropout after the first convolution and before the pooling.
    """

    filters: int
    first_kernel: tuple[int, int]
    blocks: int
    dropout_in: float = 0.1
    dropout_out: float = 0.3


@dataclasses.dataclass(frozen=True)
class TcnShape:
    """A temporal-convolution network (features as channels), like MLPerf Tiny's streaming
    wake-word reference: a ``(first_time, coefficients)`` convolution that turns each frame
    group into ``filters`` channels, then ``blocks`` of depthwise ``(kernel, 1)`` over time +
    pointwise 1x1, all ``valid`` and stride 1, then an average pool over the remaining time
    slices (49 - (first_time - 1) - blocks * (kernel - 1)) and a dense layer.

    Parameters
    ----------
    filters : int
        Channels of every layer.
    first_time : int
        Frames of the first convolution's kernel.
    kernel : int
        Frames of each depthwise temporal kernel.
    blocks : int
        Depthwise-separable temporal blocks.
    dropout_in, dropout_out : float
        Dropout after the first convolution and before the pooling.
    pool : str
        ``avg`` or ``max``: the pool over the remaining time slices (the step function runs
        an average as a running sum, a maximum over a buffer of the pool's input slices).
    """

    filters: int
    first_time: int
    kernel: int
    blocks: int
    dropout_in: float = 0.1
    dropout_out: float = 0.3
    pool: str = "avg"

    def __post_init__(self) -> None:
        if self.pool not in ("avg", "max"):
            raise KwsError(f"pool must be avg or max (got {self.pool!r})")


#: The streamable families: valid padding and stride 1 along time everywhere.
STREAM_MODELS: dict[str, StreamDsCnnShape | TcnShape] = {
    "ds-cnn-stream": StreamDsCnnShape(32, (10, 4), 3),
    "tcn-stream": TcnShape(64, 3, 7, 4),
    "tcn-stream-max": TcnShape(64, 3, 7, 4, pool="max"),
    # The same at 96 channels: 9.5 M instructions/s and about 90 KB of flash on the M4, over
    # the default's 8 M/s and 64 KB; for a larger budget (README, "measured in session 10").
    "tcn-stream-max-96": TcnShape(96, 3, 7, 4, pool="max"),
}
MODELS.update(STREAM_MODELS)  # type: ignore[arg-type]


def register_model(name: str, shape: DsCnnShape | StreamDsCnnShape | TcnShape) -> None:
    """Make ``shape`` buildable as ``name`` in this process (:func:`build_model`, ``kws train``
    pieces): how the architecture search trains a candidate that is none of the named sizes.
    Re-registering a name with the same shape is a no-op; another shape is an error."""
    if not isinstance(shape, (DsCnnShape, StreamDsCnnShape, TcnShape)):
        raise KwsError(f"model {name!r}: not a model shape: {shape!r}")
    old = MODELS.get(name)
    if old is not None and old != shape:
        raise KwsError(f"model {name!r} is already registered with another shape")
    MODELS[name] = shape


def input_range(settings: FrontendSettings) -> tuple[float, float]:
    """The real-valued range of the front end's int8 output: ``scale * (-128 - zp)`` to
    ``scale * (127 - zp)``. A uint8 fake quantization over it has exactly the front end's
    scale, ``(max - min) / 255``, and zero point, ``-128 - min / scale``."""
    s, zp = settings.output_scale, settings.output_zero_point
    return s * (-128 - zp), s * (127 - zp)


def dequantize_features(q: Any, settings: FrontendSettings) -> Any:
    """int8 features -> the model's float input ``scale * (q - zp)`` (float32 NumPy array)."""
    import numpy as np

    return (np.asarray(q, dtype=np.float32) - np.float32(settings.output_zero_point)) \
        * np.float32(settings.output_scale)


def build_model(name: str, *, num_classes: int, settings: FrontendSettings) -> Any:
    """Build a DS-CNN ``tf.keras.Model``.

    Parameters
    ----------
    name : str
        One of :data:`MODELS` (``ds-cnn-xs``, ``ds-cnn-s``, ``ds-cnn-m``, ``ds-cnn-l``, and the
        streamable ``ds-cnn-stream``, ``tcn-stream``, ``tcn-stream-max``,
        ``tcn-stream-max-96``).
    num_classes : int, keyword-only
        Output classes (softmax).
    settings : FrontendSettings, keyword-only
        Gives the input shape ``(num_frames, num_outputs, 1)`` and the input quantization.

    Returns
    -------
    tf.keras.Model
        Input float32 ``(batch, frames, coeffs, 1)``, output softmax ``(batch, num_classes)``.
    """
    import tensorflow as tf

    if name not in MODELS:
        raise KwsError(f"unknown model {name!r}; available: {', '.join(MODELS)}")
    if num_classes < 2:
        raise KwsError(f"model {name}: need at least 2 classes, got {num_classes}")
    shape = MODELS[name]
    L = tf.keras.layers
    reg = tf.keras.regularizers.l2(1e-4)
    inp = L.Input(shape=(settings.num_frames, settings.num_outputs, 1), name="features")
    if isinstance(shape, StreamDsCnnShape):
        x = _stream_ds_cnn(L, reg, inp, shape)
    elif isinstance(shape, TcnShape):
        x = _tcn(L, reg, inp, shape)
    else:
        x = _ds_cnn(L, reg, inp, shape)
    filters = int(x.shape[-1])
    # AVERAGE_POOL_2D (or MAX_POOL_2D) over the whole feature map (TFLite's MEAN op, which
    # GlobalAveragePooling2D becomes, is not among the C runtime's kernels), then a reshape.
    pool = L.MaxPooling2D if getattr(shape, "pool", "avg") == "max" else L.AveragePooling2D
    x = pool(pool_size=tuple(int(d) for d in x.shape[1:3]), name="pool")(x)
    x = L.Reshape((filters,), name="flatten")(x)
    out = L.Dense(num_classes, activation="softmax", name="logits")(x)
    return tf.keras.Model(inp, out, name=name.replace("-", "_"))


def _bn_relu(L: Any, x: Any, name: str) -> Any:
    x = L.BatchNormalization(name=f"{name}_bn")(x)
    return L.ReLU(name=f"{name}_relu")(x)


def _ds_cnn(L: Any, reg: Any, inp: Any, shape: DsCnnShape) -> Any:
    """The DS-CNN body (``same`` padding), up to the pooling."""
    x = L.Conv2D(shape.filters, shape.first_kernel, strides=shape.first_strides,
                 padding="same", use_bias=False, kernel_regularizer=reg, name="conv0")(inp)
    x = L.BatchNormalization(name="bn0")(x)
    x = L.ReLU(name="relu0")(x)
    x = L.Dropout(shape.dropout_in)(x)
    for i in range(1, shape.blocks + 1):
        x = L.DepthwiseConv2D((3, 3), padding="same", use_bias=False,
                              depthwise_regularizer=reg, name=f"dw{i}")(x)
        x = L.BatchNormalization(name=f"dw{i}_bn")(x)
        x = L.ReLU(name=f"dw{i}_relu")(x)
        x = L.Conv2D(shape.filters, (1, 1), use_bias=False, kernel_regularizer=reg,
                     name=f"pw{i}")(x)
        x = L.BatchNormalization(name=f"pw{i}_bn")(x)
        x = L.ReLU(name=f"pw{i}_relu")(x)
    return L.Dropout(shape.dropout_out)(x)


def _stream_ds_cnn(L: Any, reg: Any, inp: Any, shape: StreamDsCnnShape) -> Any:
    """The streamable DS-CNN body (``valid``, stride 1), up to the pooling."""
    x = L.Conv2D(shape.filters, shape.first_kernel, padding="valid", use_bias=False,
                 kernel_regularizer=reg, name="conv0")(inp)
    x = L.Dropout(shape.dropout_in)(_bn_relu(L, x, "conv0"))
    for i in range(1, shape.blocks + 1):
        kf = 3 if int(x.shape[2]) >= 3 else 1
        x = L.DepthwiseConv2D((3, kf), padding="valid", use_bias=False,
                              depthwise_regularizer=reg, name=f"dw{i}")(x)
        x = _bn_relu(L, x, f"dw{i}")
        x = L.Conv2D(shape.filters, (1, 1), use_bias=False, kernel_regularizer=reg,
                     name=f"pw{i}")(x)
        x = _bn_relu(L, x, f"pw{i}")
    return L.Dropout(shape.dropout_out)(x)


def _tcn(L: Any, reg: Any, inp: Any, shape: TcnShape) -> Any:
    """The temporal-convolution body (``valid``, stride 1), up to the pooling."""
    x = L.Conv2D(shape.filters, (shape.first_time, int(inp.shape[2])), padding="valid",
                 use_bias=False, kernel_regularizer=reg, name="conv0")(inp)
    x = L.Dropout(shape.dropout_in)(_bn_relu(L, x, "conv0"))
    for i in range(1, shape.blocks + 1):
        x = L.DepthwiseConv2D((shape.kernel, 1), padding="valid", use_bias=False,
                              depthwise_regularizer=reg, name=f"dw{i}")(x)
        x = _bn_relu(L, x, f"dw{i}")
        x = L.Conv2D(shape.filters, (1, 1), use_bias=False, kernel_regularizer=reg,
                     name=f"pw{i}")(x)
        x = _bn_relu(L, x, f"pw{i}")
    return L.Dropout(shape.dropout_out)(x)
