"""LOGISTIC (int8) -> a 256-entry table of TFLite's integer arithmetic (kws_lut_s8)."""

from __future__ import annotations

import math

import numpy as np

from kws.errors import KwsError
from kws.export import fixedpoint as fp
from kws.export.lowering.layer import Layer, io_tensors
from kws.export.quant import round_half_away
from kws.export.tflite_model import Op, TfliteModel

_INPUT_INTEGER_BITS = 4


def logistic_params(input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, input_range_radius) as TFLite's Prepare."""
    real = float(np.float32(input_scale)) * float(1 << (31 - _INPUT_INTEGER_BITS))
    q, shift = math.frexp(real)
    mult = int(round_half_away(q * (1 << 31)))
    radius = math.floor(((1 << _INPUT_INTEGER_BITS) - 1)
                        * float(1 << (31 - _INPUT_INTEGER_BITS)) / float(1 << shift))
    return mult, shift, radius


def logistic_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """int8 LOGISTIC of every int8 input (index v + 128), TFLite's reference arithmetic."""
    mult, shift, radius = logistic_params(input_scale)
    out = np.zeros(256, np.int8)
    for v in range(-128, 128):
        x = v - input_zero_point
        if x <= -radius:
            y = -128
        elif x >= radius:
            y = 127
        else:
            q4 = fp.requantize(x, mult, shift)
            y = min(max(fp.rdivpot(fp.logistic_q0(q4, _INPUT_INTEGER_BITS), 23) - 128, -128),
                    127)
        out[v + 128] = y
    return out


def lower_logistic(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """LOGISTIC with an int8 output of zero point -128 (TFLite's requirement)."""
    x, y = io_tensors(m, op)
    if int(y.zero_point[0]) != -128:
        raise KwsError(f"{m.path}: operator {op.index} LOGISTIC: the output zero point must "
                       f"be -128")
    table = logistic_table(float(x.scale[0]), int(x.zero_point[0]))
    return Layer(op.index, op.kind, "lut", [x.index], [y.index], {"size": x.size},
                 {"table": table})
