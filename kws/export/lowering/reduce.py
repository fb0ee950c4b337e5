"""MEAN (int8, over any axes, keep_dims or not) -> mean, TFLite's integer QuantizedMeanOrSum."""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.export import quant
from kws.export.lowering.layer import Layer, axis_of, dims4, int_constant, io_tensors
from kws.export.tflite_model import Op, TfliteModel


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """(multiplier, shift) of the mean of ``count`` values: QuantizeMultiplier(in / out), then
    1 / count folded in as TFLite does (a left shift of floor(log2(count)), clamped, and an
    integer division of the multiplier)."""
    real = float(np.float32(input_scale)) / float(np.float32(output_scale))
    mult, shift = quant.quantize_multiplier(real)
    s = min(count.bit_length() - 1, 32, 31 + shift)
    return int((mult << s) // count), shift - s


def lower_mean(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """MEAN over constant axes."""
    x, y = io_tensors(m, op)
    rank = len(x.shape)
    axes = {axis_of(int(a), rank, f"operator {op.index} MEAN", m.path)
            for a in int_constant(m, op.inputs[1], "MEAN axis").reshape(-1)}
    d = dims4(x, m.path)
    mask = 0
    for a in axes:
        mask |= 1 << (a + 4 - rank)
    count = int(np.prod([d[i] for i in range(4) if mask >> i & 1]))
    if y.size * count != x.size:
        raise KwsError(f"{m.path}: operator {op.index} MEAN: output shape {y.shape} does not "
                       f"match input {x.shape} over axes {sorted(axes)}")
    mult, shift = mean_multiplier(float(x.scale[0]), float(y.scale[0]), count)
    params = dict(input_zero_point=int(x.zero_point[0]), output_zero_point=int(y.zero_point[0]),
                  multiplier=mult, shift=shift, in_dims=d, axis_mask=mask)
    return Layer(op.index, op.kind, "mean", [x.index], [y.index], params, macs=x.size)
