"""The :class:`Layer`: one kernel call of the generated C, and the tensor checks lowerers share."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kws.errors import KwsError
from kws.export.tflite_model import Tensor, TfliteModel


@dataclasses.dataclass
class Layer:
    """One kernel call.

    ``inputs`` and ``outputs`` are tensor indices; ``input`` / ``output`` the first of each.
    """

    index: int
    op: str                       # the .tflite operator
    kernel: str                   # conv2d, pointwise, depthwise, avgpool, fc, softmax, reshape
    inputs: list[int]
    outputs: list[int]
    params: dict[str, Any]        # scalar parameters of the C call
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    macs: int = 0
    scratch: int = 0              # scratch bytes of the DSP path (conv2d, pointwise, depthwise)

    @property
    def input(self) -> int:
        """The first input tensor."""
        return self.inputs[0]

    @property
    def output(self) -> int:
        """The first output tensor."""
        return self.outputs[0]


def act_tensor(m: TfliteModel, idx: int, what: str) -> Tensor:
    """Tensor ``idx`` as an int8 activation with one scale; :class:`KwsError` otherwise."""
    t = m.tensors[idx]
    if t.dtype != "INT8":
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} is {t.dtype}; only int8 "
                       f"activations are supported (quantize the model fully to int8)")
    if t.scale.size != 1:
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} needs one scale, has {t.scale.size}")
    if t.data is not None:
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} is constant; not supported")
    return t


def io_tensors(m: TfliteModel, op: Any) -> tuple[Tensor, Tensor]:
    """The first input and output of ``op`` as int8 activations."""
    return (act_tensor(m, op.inputs[0], f"{op.kind} input"),
            act_tensor(m, op.outputs[0], f"{op.kind} output"))


def weights(m: TfliteModel, idx: int, channels: int, dim: int, what: str) -> Tensor:
    """Tensor ``idx`` as constant symmetric int8 weights, per tensor or per channel ``dim``."""
    t = m.tensors[idx]
    if t.data is None:
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} must be constant")
    if t.dtype != "INT8":
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} is {t.dtype}; only int8 weights "
                       f"are supported")
    if t.scale.size not in (1, channels) or (t.scale.size > 1 and t.quantized_dim != dim):
        raise KwsError(f"{m.path}: {what} tensor {t.name!r}: quantization must be per tensor "
                       f"or per output channel (dimension {dim})")
    if np.any(t.zero_point != 0):
        raise KwsError(f"{m.path}: {what} tensor {t.name!r}: asymmetric int8 weights "
                       f"(zero point != 0) are not supported")
    return t


def bias(m: TfliteModel, op_inputs: list[int], channels: int) -> np.ndarray | None:
    """The constant int32 bias (input 2) of a conv / fully-connected operator, or None."""
    if len(op_inputs) < 3 or op_inputs[2] < 0:
        return None
    t = m.tensors[op_inputs[2]]
    if t.data is None or t.dtype != "INT32" or t.size != channels:
        raise KwsError(f"{m.path}: bias tensor {t.name!r} must be constant int32 with "
                       f"{channels} values (is {t.dtype})")
    return t.data.reshape(-1).astype(np.int32)


def padding(kind: str, stride: int, in_size: int, k: int, out_size: int, path: str) -> int:
    """Leading padding of SAME / VALID padding (TFLite's), checked against the output size."""
    if kind == "SAME":
        expect = (in_size + stride - 1) // stride
    else:
        expect = (in_size + stride - k) // stride
    if expect != out_size:
        raise KwsError(f"{path}: output size {out_size} does not match {kind} padding "
                       f"(expected {expect})")
    return max(0, (out_size - 1) * stride + k - in_size) // 2


def hwc(t: Tensor, path: str) -> tuple[int, int, int]:
    """(H, W, C) of a [1, H, W, C] tensor."""
    if len(t.shape) != 4 or t.shape[0] != 1:
        raise KwsError(f"{path}: tensor {t.name!r} has shape {t.shape}; expected [1, H, W, C]")
    return t.shape[1], t.shape[2], t.shape[3]
