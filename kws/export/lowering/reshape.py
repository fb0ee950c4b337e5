"""RESHAPE -> reshape (a copy, or nothing when the planner aliases input and output)."""

from __future__ import annotations

from kws.errors import KwsError
from kws.export.lowering.layer import Layer, io_tensors
from kws.export.tflite_model import Op, TfliteModel


def lower_reshape(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """RESHAPE of an int8 tensor to the same number of elements."""
    x, y = io_tensors(m, op)
    if x.size != y.size:
        raise KwsError(f"{m.path}: operator {op.index} RESHAPE changes the size")
    return Layer(op.index, op.kind, "reshape", [x.index], [y.index], {})
