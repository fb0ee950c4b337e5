"""Static shape folding: shape arithmetic whose inputs are known at export time is evaluated.

A Keras model with a dynamic batch computes the target shape of a ``Flatten`` at run time:
SHAPE of a tensor -> STRIDED_SLICE of the shape -> PACK with the constant sizes -> RESHAPE.
With the model's input shape fixed, every value of that chain is known: :func:`fold_static`
evaluates those operators with numpy, stores their results as constant tensors and drops
them, so no run-time operator is needed (RESHAPE then reads a constant shape).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kws.errors import KwsError
from kws.export.lowering.strided_slice import resolve_slice
from kws.export.tflite_model import Op, TfliteModel

#: Operators evaluated when every input is known (SHAPE only needs its input's static shape).
FOLDABLE = ("SHAPE", "STRIDED_SLICE", "PACK", "CONCATENATION", "RESHAPE", "REDUCE_PROD",
            "SQUEEZE", "EXPAND_DIMS", "GATHER", "MUL", "ADD", "SUB")


def _known(m: TfliteModel, values: dict[int, np.ndarray], op: Op) -> bool:
    if op.kind not in FOLDABLE:
        return False
    if op.kind == "SHAPE":
        return True
    ins = [i for i in op.inputs if i >= 0]
    outs_int = all(m.tensors[o].dtype in ("INT32", "INT64") for o in op.outputs)
    return outs_int and all(i in values for i in ins)


def _evaluate(m: TfliteModel, values: dict[int, np.ndarray], op: Op) -> np.ndarray:
    v = [values.get(i) for i in op.inputs]
    if op.kind == "SHAPE":
        return np.array(m.tensors[op.inputs[0]].shape, np.int32)
    if op.kind == "STRIDED_SLICE":
        x = v[0]
        start, stride, count = resolve_slice(x.shape, v[1].tolist(), v[2].tolist(),
                                             v[3].tolist(), op.options, f"{m.path}: folding")
        idx = tuple(slice(s, s + st * n if s + st * n >= 0 else None, st) if n else slice(0, 0)
                    for s, st, n in zip(start, stride, count))
        out = x[idx]
        shrink = [i for i in range(x.ndim) if op.options["shrink_axis_mask"] >> i & 1]
        return out.reshape([d for i, d in enumerate(out.shape) if i not in shrink])
    if op.kind == "PACK":
        return np.stack(v, axis=op.options["axis"])
    if op.kind == "CONCATENATION":
        return np.concatenate(v, axis=op.options["axis"])
    if op.kind in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
        return v[0].reshape(m.tensors[op.outputs[0]].shape)
    if op.kind == "REDUCE_PROD":
        return np.prod(v[0], axis=tuple(np.atleast_1d(v[1]).tolist()))
    if op.kind == "GATHER":
        return np.take(v[0], v[1], axis=0)
    return {"MUL": np.multiply, "ADD": np.add, "SUB": np.subtract}[op.kind](v[0], v[1])


def fold_static(m: TfliteModel) -> TfliteModel:
    """``m`` with its static shape arithmetic evaluated (see the module docstring)."""
    values = {t.index: t.data for t in m.tensors if t.data is not None}
    tensors, ops = list(m.tensors), []
    for op in m.ops:
        if not _known(m, values, op):
            ops.append(op)
            continue
        out = m.tensors[op.outputs[0]]
        try:
            result = np.asarray(_evaluate(m, values, op))
        except (KwsError, ValueError, IndexError, TypeError) as exc:
            raise KwsError(f"{m.path}: operator {op.index} {op.kind}: cannot evaluate the "
                           f"static shape arithmetic ({exc})") from exc
        data = result.astype(np.int64 if out.dtype == "INT64" else np.int32).reshape(out.shape)
        values[out.index] = data
        tensors[out.index] = dataclasses.replace(out, data=data)
    if len(ops) == len(m.ops):
        return m
    return dataclasses.replace(m, tensors=tensors, ops=ops)
