"""STRIDED_SLICE (int8, constant begin / end / strides) -> strided_slice."""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.export.lowering.layer import Layer, dims4, int_constant, io_tensors
from kws.export.tflite_model import Op, TfliteModel


def resolve_slice(dims: tuple[int, ...], begin: list[int], end: list[int],
                  strides: list[int], options: dict, where: str
                  ) -> tuple[list[int], list[int], list[int]]:
    """(start, stride, count) per dimension of a strided slice, TensorFlow's semantics for
    begin / end masks, negative indices, clamping and shrink_axis_mask."""
    if options["ellipsis_mask"] or options["new_axis_mask"] or options.get("offset"):
        raise KwsError(f"{where}: ellipsis, new-axis and offset masks are not supported")
    starts, counts = [], []
    for i, dim in enumerate(dims):
        s = strides[i]
        if s == 0:
            raise KwsError(f"{where}: stride 0")
        lo, hi = (0, dim) if s > 0 else (-1, dim - 1)
        if options["begin_mask"] >> i & 1:
            b = 0 if s > 0 else dim - 1
        else:
            b = begin[i] + dim if begin[i] < 0 else begin[i]
            b = min(max(b, lo), hi)
        if options["shrink_axis_mask"] >> i & 1:
            e = b + 1
        elif options["end_mask"] >> i & 1:
            e = dim if s > 0 else -1
        else:
            e = end[i] + dim if end[i] < 0 else end[i]
            e = min(max(e, lo), hi)
        n = max(0, -(-(e - b) // s)) if s > 0 else max(0, -((b - e) // s))
        starts.append(b)
        counts.append(n)
    return starts, list(strides), counts


def lower_strided_slice(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """STRIDED_SLICE of an int8 tensor of rank <= 4."""
    x, y = io_tensors(m, op)
    where = f"{m.path}: operator {op.index} STRIDED_SLICE"
    rank = len(x.shape)
    begin, end, strides = (int_constant(m, op.inputs[i], "STRIDED_SLICE " + n).tolist()
                           for i, n in ((1, "begin"), (2, "end"), (3, "strides")))
    start, stride, count = resolve_slice(x.shape, begin, end, strides, op.options, where)
    if 0 in count or int(np.prod(count)) != y.size:
        raise KwsError(f"{where}: the slice {count} does not match the output {y.shape}")
    lead = 4 - rank
    params = dict(in_dims=dims4(x, m.path), start=tuple([0] * lead + start),
                  stride=tuple([1] * lead + stride), out_dims=tuple([1] * lead + count))
    return Layer(op.index, op.kind, "strided_slice", [x.index], [y.index], params)
