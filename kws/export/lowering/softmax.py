"""SOFTMAX -> softmax (int8 in, int8 out with scale 1/256 and zero point -128)."""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.export import quant
from kws.export.lowering.layer import Layer, io_tensors
from kws.export.tflite_model import Op, TfliteModel


def lower_softmax(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """SOFTMAX over the last axis."""
    x, y = io_tensors(m, op)
    if int(y.zero_point[0]) != -128 or float(y.scale[0]) != np.float32(1 / 256):
        raise KwsError(f"{m.path}: operator {op.index} SOFTMAX: output must have scale "
                       f"1/256 and zero point -128")
    depth = x.shape[-1] if x.shape else 1
    mult, shift, diff_min = quant.softmax_params(op.options["beta"], float(x.scale[0]))
    return Layer(op.index, op.kind, "softmax", [x.index], [y.index],
                 dict(rows=x.size // depth, depth=depth, input_multiplier=mult,
                      input_left_shift=shift, diff_min=diff_min))
