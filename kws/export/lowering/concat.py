"""CONCATENATION, SPLIT and SPLIT_V (int8, one quantization) -> concat / split: row copies."""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.export.lowering.layer import (
    Layer,
    act_tensor,
    axis_of,
    int_constant,
    operand,
    same_quantization,
)
from kws.export.tflite_model import Op, Tensor, TfliteModel


def _rows(t: Tensor, axis: int) -> tuple[int, int]:
    """(outer, row bytes) of ``t`` cut before ``axis``."""
    return int(np.prod(t.shape[:axis])), int(np.prod(t.shape[axis:]))


def lower_concat(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """CONCATENATION of int8 tensors (activations or constants) with the output's
    quantization, no fused activation."""
    y = act_tensor(m, op.outputs[0], "CONCATENATION output")
    xs = [operand(m, i, "CONCATENATION input") for i in op.inputs]
    where = f"{m.path}: operator {op.index} CONCATENATION"
    if op.options["act"] != "NONE":
        raise KwsError(f"{where}: fused activation {op.options['act']} is not supported")
    for x in xs:
        if not same_quantization(x, y):
            raise KwsError(f"{where}: input {x.name!r} is quantized differently from the "
                           f"output; only concatenation of one quantization is supported")
    axis = axis_of(op.options["axis"], len(y.shape), "CONCATENATION", m.path)
    outer = _rows(y, axis)[0]
    sizes = [_rows(x, axis)[1] for x in xs]
    if sum(sizes) * outer != y.size or any(_rows(x, axis)[0] != outer for x in xs):
        raise KwsError(f"{where}: input shapes do not concatenate to {y.shape}")
    return Layer(op.index, op.kind, "concat", [x.index for x in xs], [y.index],
                 dict(outer=outer, sizes=sizes))


def lower_split(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """SPLIT (inputs: axis, tensor) and SPLIT_V (tensor, sizes, axis) of an int8 tensor."""
    where = f"{m.path}: operator {op.index} {op.kind}"
    if op.kind == "SPLIT":
        x_idx, axis_idx = op.inputs[1], op.inputs[0]
    else:
        x_idx, axis_idx = op.inputs[0], op.inputs[2]
    x = act_tensor(m, x_idx, f"{op.kind} input")
    ys = [act_tensor(m, i, f"{op.kind} output") for i in op.outputs]
    axis = axis_of(int(int_constant(m, axis_idx, f"{op.kind} axis").reshape(-1)[0]),
                   len(x.shape), op.kind, m.path)
    outer = _rows(x, axis)[0]
    sizes = [_rows(y, axis)[1] for y in ys]
    if sum(sizes) * outer != x.size or any(_rows(y, axis)[0] != outer for y in ys):
        raise KwsError(f"{where}: output shapes do not split {x.shape}")
    return Layer(op.index, op.kind, "split", [x.index], [y.index for y in ys],
                 dict(outer=outer, sizes=sizes))
