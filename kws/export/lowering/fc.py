"""FULLY_CONNECTED -> fc."""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.export import quant
from kws.export.lowering.layer import Layer, bias, io_tensors, weights
from kws.export.tflite_model import Op, TfliteModel


def lower_fc(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """FULLY_CONNECTED with batch 1, per-tensor or per-channel int8 weights."""
    x, y = io_tensors(m, op)
    w = m.tensors[op.inputs[1]]
    if len(w.shape) != 2:
        raise KwsError(f"{m.path}: operator {op.index} FULLY_CONNECTED: filter shape "
                       f"{w.shape} is not 2-D")
    n_out, n_in = w.shape
    w = weights(m, op.inputs[1], n_out, 0, "FULLY_CONNECTED filter")
    if x.size != n_in or y.size != n_out:
        raise KwsError(f"{m.path}: operator {op.index} FULLY_CONNECTED: batch > 1 or "
                       f"shape mismatch (input {x.shape}, filter {w.shape})")
    if w.scale.size == 1:
        mm, ss = quant.fc_multiplier(float(x.scale[0]), float(w.scale[0]), float(y.scale[0]))
        mult, shift = np.array([mm]), np.array([ss])
    else:
        mult, shift = quant.conv_multipliers(float(x.scale[0]), w.scale, float(y.scale[0]))
    lo, hi = quant.activation_range(op.options["act"], float(y.scale[0]), int(y.zero_point[0]))
    arrays = {"filter": w.data.reshape(-1).astype(np.int8),
              "multiplier": mult.astype(np.int32), "shift": shift.astype(np.int32)}
    b = bias(m, op.inputs, n_out)
    if b is not None:
        arrays["bias"] = b
    params = dict(input_offset=-int(x.zero_point[0]), output_offset=int(y.zero_point[0]),
                  act_min=lo, act_max=hi, num_in=n_in, num_out=n_out)
    return Layer(op.index, op.kind, "fc", [x.index], [y.index], params, arrays,
                 macs=n_in * n_out)
