"""Full-integer post-training quantization with TFLite's converter, and int8 inference on
reference kernels.

The int8 model's input quantization must equal the front end's output quantization
(``real = output_scale * (q - output_zero_point)``), so that the device feeds its int8 feature
frames straight into the model. The converter calibrates every activation range from the
representative data, the input's included; we pin the input's range by prepending one
calibration example that holds both ends of the front end's int8 range (features never leave
it), so the calibrated range is exactly :func:`kws.models.input_range` and the converter
derives ``scale = (max - min) / 255 = output_scale`` and ``zero_point = output_zero_point``.
:func:`check_input_quantization` verifies the result after every conversion.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any, Iterator

import numpy as np

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.models import dequantize_features
from kws.runtime.reference import ReferenceInterpreter


def representative_examples(features: np.ndarray, settings: FrontendSettings, *,
                            count: int = 300, seed: int = 0) -> np.ndarray:
    """Calibration inputs: ``count`` random training clips plus one pinning example.

    Parameters
    ----------
    features : ndarray of int8, shape (N, frames, coeffs)
        Training features.
    settings : FrontendSettings
        The front end's quantization.
    count : int, keyword-only
        How many training clips to draw.
    seed : int, keyword-only
        Seed of the draw.

    Returns
    -------
    ndarray of float32, shape (count + 1, frames, coeffs, 1)
        The first example holds -128 and 127 (dequantized) and zeros elsewhere.
    """
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(features), size=min(count, len(features)), replace=False)
    pin = np.full((1,) + features.shape[1:], settings.output_zero_point, dtype=np.int8)
    pin.reshape(-1)[0], pin.reshape(-1)[-1] = -128, 127
    q = np.concatenate([pin, features[np.sort(idx)]])
    return dequantize_features(q, settings)[..., None]


def convert(model: Any, *, representative: np.ndarray | None = None) -> bytes:
    """Convert a Keras model to TFLite: float32, or full int8 when ``representative`` is given.

    Parameters
    ----------
    model : tf.keras.Model
        The trained model.
    representative : ndarray of float32, optional, keyword-only
        Calibration inputs (:func:`representative_examples`). With them the model is quantized
        to int8 throughout, input and output included.

    Returns
    -------
    bytes
        The .tflite flatbuffer.
    """
    import tensorflow as tf

    if model.inputs[0].shape[0] is None:
        # A static batch of 1: with a dynamic batch, the converter lowers reshapes to
        # SHAPE/STRIDED_SLICE/PACK ops, which the C runtime has no kernels for.
        fixed = tf.keras.models.clone_model(
            model, input_tensors=tf.keras.Input(shape=model.inputs[0].shape[1:], batch_size=1))
        fixed.set_weights(model.get_weights())
        model = fixed
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if representative is not None:
        def gen() -> Iterator[list[np.ndarray]]:
            for i in range(len(representative)):
                yield [representative[i:i + 1]]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = gen
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    # The converter prints its SavedModel signature on stdout and warns about the pinned
    # input statistics; neither tells the user anything.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return conv.convert()


def input_quantization(tflite: bytes) -> tuple[float, int]:
    """The (scale, zero_point) of a .tflite model's input tensor."""
    details = load_interpreter(tflite).input_details
    return float(details["quantization"][0]), int(details["quantization"][1])


def check_input_quantization(tflite: bytes, settings: FrontendSettings, *,
                             name: str = "model.tflite") -> None:
    """Raise :class:`KwsError` unless the int8 input quantization equals the front end's.

    The scale is stored as float32, so it is compared with ``float32(output_scale)``.
    """
    scale, zp = input_quantization(tflite)
    if np.float32(scale) != np.float32(settings.output_scale) or zp != settings.output_zero_point:
        raise KwsError(f"{name}: input quantization scale={scale!r} zero_point={zp} differs from "
                       f"the front end's scale={settings.output_scale} "
                       f"zero_point={settings.output_zero_point}")


def load_interpreter(tflite: bytes, *, backend: str = "litert") -> ReferenceInterpreter:
    """A :class:`~kws.runtime.reference.ReferenceInterpreter` for ``tflite`` bytes."""
    return ReferenceInterpreter(tflite, backend=backend)
