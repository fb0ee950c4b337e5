"""Run a .tflite model on TensorFlow's reference kernels: the oracle of every int8 parity check.

The model's structure (tensors, operators, quantization) is read by
:mod:`kws.export.tflite_model`; this module only executes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.models import dequantize_features


class ReferenceInterpreter:
    """A .tflite model run by a reference interpreter, batched.

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
