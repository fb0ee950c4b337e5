"""QUANTIZE int8 -> int8 -> requantize; the float / uint8 boundaries are refused by name."""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.export import quant
from kws.export.lowering.layer import Layer, io_tensors
from kws.export.tflite_model import Op, TfliteModel


def lower_quantize(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """QUANTIZE between two int8 tensors (TFLite's Requantize)."""
    src, dst = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    if (src.dtype, dst.dtype) != ("INT8", "INT8"):
        raise KwsError(f"{m.path}: operator {op.index} QUANTIZE from {src.dtype} to "
                       f"{dst.dtype} is not supported: the C runtime takes and returns int8 "
                       f"only (convert with inference_input_type / inference_output_type "
                       f"tf.int8)")
    x, y = io_tensors(m, op)
    real = float(np.float32(x.scale[0])) / float(np.float32(y.scale[0]))
    mult, shift = quant.quantize_multiplier(real)
    params = dict(input_zero_point=int(x.zero_point[0]), multiplier=mult, shift=shift,
                  output_zero_point=int(y.zero_point[0]))
    return Layer(op.index, op.kind, "requantize", [x.index], [y.index], params)
