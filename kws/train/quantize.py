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


class TfliteModel:
    """A .tflite model on reference kernels, batched.

    ``backend="litert"`` uses ai-edge-litert with the BUILTIN_REF op resolver (the reference
    kernels; its default optimized kernels are not bit-exact with the device), resized to the
    batch. ``backend="micro"`` uses the PyPI tflite-micro interpreter, one clip at a time.

    Parameters
    ----------
    tflite : bytes
        The model.
    backend : {"litert", "micro"}, keyword-only
        Which reference interpreter.
    """

    def __init__(self, tflite: bytes, *, backend: str = "litert") -> None:
        if backend not in ("litert", "micro"):
            raise KwsError(f"unknown interpreter backend {backend!r}; use litert or micro")
        self.tflite = tflite
        self.backend = backend
        if backend == "micro":
            from tflite_micro.python.tflite_micro import runtime

            self._micro = runtime.Interpreter.from_bytes(tflite)
            self.input_details = self._micro.get_input_details(0)
            self.output_details = self._micro.get_output_details(0)
        else:
            from ai_edge_litert.interpreter import Interpreter, OpResolverType

            self._lite = Interpreter(model_content=tflite,
                                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
            self._batch = 0
            self.input_details = self._lite.get_input_details()[0]
            self.output_details = self._lite.get_output_details()[0]

    @property
    def input_dtype(self) -> Any:
        """numpy dtype of the input tensor (int8 or float32)."""
        return np.dtype(self.input_details["dtype"])

    def predict_raw(self, x: np.ndarray, *, batch: int = 256) -> np.ndarray:
        """Run the model on inputs already in its input dtype, shaped (N, frames, coeffs[, 1]).

        Returns the raw outputs (int8 for a quantized model), shaped (N, classes).
        """
        x = np.asarray(x, dtype=self.input_dtype)
        shape = tuple(int(v) for v in self.input_details["shape"][1:])
        x = x.reshape((len(x),) + shape)
        outs = []
        if self.backend == "micro":
            for i in range(len(x)):
                self._micro.set_input(x[i:i + 1], 0)
                self._micro.invoke()
                outs.append(self._micro.get_output(0).copy())
            return np.concatenate(outs) if outs else np.zeros((0, self.num_classes))
        for start in range(0, len(x), batch):
            part = x[start:start + batch]
            if len(part) != self._batch:
                idx = self.input_details["index"]
                self._lite.resize_tensor_input(idx, (len(part),) + shape)
                self._lite.allocate_tensors()
                self._batch = len(part)
            self._lite.set_tensor(self.input_details["index"], part)
            self._lite.invoke()
            outs.append(self._lite.get_tensor(self.output_details["index"]).copy())
        return np.concatenate(outs) if outs else np.zeros((0, self.num_classes))

    @property
    def num_classes(self) -> int:
        """Number of output classes."""
        return int(self.output_details["shape"][-1])

    def predict_features(self, q: np.ndarray, settings: FrontendSettings) -> np.ndarray:
        """Class probabilities (float, (N, classes)) for int8 front-end features (N, F, C).

        An int8 model gets the features as they are; a float model gets them dequantized.
        """
        if self.input_dtype == np.int8:
            raw = self.predict_raw(q)
        else:
            raw = self.predict_raw(dequantize_features(q, settings))
        if self.output_details["dtype"] == np.int8:
            scale, zp = self.output_details["quantization"][:2]
            return (raw.astype(np.float32) - zp) * scale
        return raw.astype(np.float32)


def load_interpreter(tflite: bytes, *, backend: str = "litert") -> TfliteModel:
    """A :class:`TfliteModel` for ``tflite`` bytes."""
    return TfliteModel(tflite, backend=backend)
