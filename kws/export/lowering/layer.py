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
    kernel: str                   # a key of kws.export.emit_calls.EMITTERS
    inputs: list[int]
    outputs: list[int]
    params: dict[str, Any]        # scalar parameters of the C call
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    macs: int = 0
    scratch: int = 0              # scratch bytes of the DSP path (convs)
    scratch_min: int | None = None  # least scratch the kernel takes; None: exactly scratch
    plain_arrays: dict[str, np.ndarray] | None = None  # the int8 arrays prepared ones replaced
    reuse_input: bool = False     # int8 pointwise: widened rows in its dying input / output

    def unprepared(self) -> Layer:
        """The layer with TFLite's int8 arrays again where prepared ones replaced them
        (prepared depthwise weights), for exports that read that layout (the blob)."""
        if self.plain_arrays is None:
            return self
        params = {k: v for k, v in self.params.items() if k != "dw_prepared"}
        scratch = 0
        if self.kernel == "depthwise":
            from kws.export.lowering.conv import scratch_bytes

            scratch = scratch_bytes("depthwise", params)
        return dataclasses.replace(self, params=params, arrays=self.plain_arrays,
                                   plain_arrays=None, scratch=scratch)

    @property
    def least_scratch(self) -> int:
        """The least scratch bytes the kernel runs with (``scratch_min``, else ``scratch``)."""
        return self.scratch if self.scratch_min is None else self.scratch_min

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
    _int8_operand(m, t, what)
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


def operand(m: TfliteModel, idx: int, what: str) -> Tensor:
    """Tensor ``idx`` as an int8 operand with one scale: an activation or an int8 constant."""
    t = m.tensors[idx]
    _int8_operand(m, t, what)
    return t


def _int8_operand(m: TfliteModel, t: Tensor, what: str) -> None:
    """:class:`KwsError` naming the feature unless ``t`` is int8 with one scale."""
    if t.dtype != "INT8":
        kind = t.dtype.lower()
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} is {t.dtype}: {kind} activations "
                       f"are not supported (the C runtime runs int8 models; quantize fully "
                       f"to int8)")
    if t.scale.size != 1:
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} needs one scale, has {t.scale.size}")


def int_constant(m: TfliteModel, idx: int, what: str) -> np.ndarray:
    """The data of constant integer tensor ``idx`` (axes, sizes, paddings) as int64."""
    t = m.tensors[idx]
    if t.data is None or t.dtype not in ("INT32", "INT64"):
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} must be a constant int32 "
                       f"(a value computed at run time is not supported)")
    return t.data.astype(np.int64)


def dims4(t: Tensor, path: str) -> tuple[int, int, int, int]:
    """``t``'s shape padded to rank 4 with leading 1s."""
    if len(t.shape) > 4:
        raise KwsError(f"{path}: tensor {t.name!r} has rank {len(t.shape)}; at most 4 is "
                       f"supported")
    return tuple([1] * (4 - len(t.shape)) + list(t.shape))  # type: ignore[return-value]


def same_quantization(a: Tensor, b: Tensor) -> bool:
    """True if ``a`` and ``b`` have the same scale and zero point."""
    return (np.float32(a.scale[0]) == np.float32(b.scale[0])
            and int(a.zero_point[0]) == int(b.zero_point[0]))


def axis_of(axis: int, rank: int, what: str, path: str) -> int:
    """A possibly negative axis of a rank-``rank`` tensor as 0..rank-1."""
    if not -rank <= axis < rank:
        raise KwsError(f"{path}: {what}: axis {axis} out of range for rank {rank}")
    return axis % rank
