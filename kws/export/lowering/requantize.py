"""QUANTIZE between int8 and uint8 tensors -> requantize; float boundaries are refused by name."""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.export import quant
from kws.export.lowering.layer import Layer
from kws.export.tflite_model import Op, Tensor, TfliteModel

#: (input dtype, output dtype) -> C kernel suffix of ``kws_requantize_*``.
KERNELS = {("INT8", "INT8"): "s8", ("INT8", "UINT8"): "s8_u8", ("UINT8", "INT8"): "u8_s8"}


def _tensor(m: TfliteModel, op: Op, idx: int, what: str) -> Tensor:
    t = m.tensors[idx]
    if t.scale.size != 1:
        raise KwsError(f"{m.path}: operator {op.index} QUANTIZE {what} tensor {t.name!r} needs "
                       f"one scale, has {t.scale.size}")
    if t.data is not None:
        raise KwsError(f"{m.path}: operator {op.index} QUANTIZE {what} tensor {t.name!r} is "
                       f"constant; not supported")
    return t


def lower_quantize(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """QUANTIZE int8 -> int8, int8 -> uint8 or uint8 -> int8 (TFLite's Requantize): the
    effective scale input_scale / output_scale (in double, from the float32 scales) as a
    Q31 multiplier and shift, and the two zero points."""
    src, dst = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    kernel = KERNELS.get((src.dtype, dst.dtype))
    if kernel is None:
        raise KwsError(f"{m.path}: operator {op.index} QUANTIZE from {src.dtype} to "
                       f"{dst.dtype} is not supported: the C runtime requantizes between "
                       f"int8 and uint8 only (convert with inference_input_type / "
                       f"inference_output_type tf.int8 or tf.uint8)")
    x, y = _tensor(m, op, op.inputs[0], "input"), _tensor(m, op, op.outputs[0], "output")
    real = float(np.float32(x.scale[0])) / float(np.float32(y.scale[0]))
    mult, shift = quant.quantize_multiplier(real)
    params = dict(input_zero_point=int(x.zero_point[0]), multiplier=mult, shift=shift,
                  output_zero_point=int(y.zero_point[0]), variant=kernel)
    return Layer(op.index, op.kind, "requantize", [x.index], [y.index], params)
