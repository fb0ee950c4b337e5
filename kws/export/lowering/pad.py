"""PAD / PADV2 (int8, constant paddings) -> pad."""

from __future__ import annotations

from kws.errors import KwsError
from kws.export.lowering.layer import Layer, dims4, int_constant, io_tensors
from kws.export.tflite_model import Op, TfliteModel


def lower_pad(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """PAD fills with the output zero point, PADV2 with its constant (as TFLite)."""
    x, y = io_tensors(m, op)
    rank = len(x.shape)
    where = f"{m.path}: operator {op.index} {op.kind}"
    pads = int_constant(m, op.inputs[1], f"{op.kind} paddings").reshape(-1, 2)
    if pads.shape[0] != rank or (pads < 0).any():
        raise KwsError(f"{where}: paddings {pads.tolist()} do not fit rank {rank}")
    value = int(y.zero_point[0])
    if op.kind == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        c = m.tensors[op.inputs[2]]
        if c.data is None or c.dtype != "INT8" or c.size != 1:
            raise KwsError(f"{where}: the pad value must be one constant int8")
        value = int(c.data.reshape(-1)[0])
    lead = [[0, 0]] * (4 - rank)
    full = lead + pads.tolist()
    out = tuple(a + b + d for (a, b), d in zip(full, dims4(x, m.path)))
    if out != dims4(y, m.path):
        raise KwsError(f"{where}: output shape {y.shape} does not match the paddings")
    params = dict(in_dims=dims4(x, m.path), before=tuple(p[0] for p in full),
                  after=tuple(p[1] for p in full), pad_value=value)
    return Layer(op.index, op.kind, "pad", [x.index], [y.index], params)
