"""Arena planning: where each intermediate tensor and scratch buffer of the layers lives.

Lifetimes come from the layer list (in-place kernels alias their input and output); the
placement is :func:`kws.export.planner.plan`.
"""

from __future__ import annotations

import dataclasses

from kws.export.lowering import Layer
from kws.export.planner import Buffer, check_plan, plan
from kws.export.tflite_model import TfliteModel

#: Kernels that may write their output over their input (same size, element by element).
IN_PLACE_KERNELS = ("reshape", "softmax", "lut", "requantize")


@dataclasses.dataclass
class ArenaPlan:
    """Where each intermediate tensor (and scratch buffer) lives in the arena."""

    size: int
    offsets: dict[str, int]       # "t<index>" or "scratch<layer>" -> byte offset
    buffers: list[Buffer]


def _in_place_groups(m: TfliteModel, layers: list[Layer]) -> dict[int, int]:
    """Tensor -> representative tensor, for outputs of in-place kernels that may reuse the
    input's buffer (the input is an intermediate tensor read last by that layer)."""
    io = {m.inputs[0], m.outputs[0]}
    group: dict[int, int] = {}
    last_use: dict[int, int] = {}
    for i, layer in enumerate(layers):
        for t in layer.inputs:
            last_use[t] = i
    for i, layer in enumerate(layers):
        if (layer.kernel in IN_PLACE_KERNELS and layer.input not in io
                and layer.output not in io and last_use.get(layer.input) == i):
            group[layer.output] = group.get(layer.input, layer.input)
    return group


def _is_constant(m: TfliteModel, t: int) -> bool:
    return m.tensors[t].data is not None


def plan_arena(m: TfliteModel, layers: list[Layer]) -> ArenaPlan:
    """Place every intermediate tensor and scratch buffer (not the model input and output,
    not constants)."""
    io = {m.inputs[0], m.outputs[0]}
    group = _in_place_groups(m, layers)
    spans: dict[int, list[int]] = {}
    for i, layer in enumerate(layers):
        for t in (*layer.inputs, *layer.outputs):
            if t in io or _is_constant(m, t):
                continue
            r = group.get(t, t)
            span = spans.setdefault(r, [i, i])
            span[0], span[1] = min(span[0], i), max(span[1], i)
    buffers = [Buffer(f"t{r}", m.tensors[r].size, a, b) for r, (a, b) in spans.items()]
    buffers += [Buffer(f"scratch{l.index}", l.scratch, i, i)
                for i, l in enumerate(layers) if l.scratch]
    size = plan(buffers)
    check_plan(buffers)
    offsets = {b.name: b.offset for b in buffers}
    for t, r in group.items():
        offsets[f"t{t}"] = offsets[f"t{r}"]
    return ArenaPlan(size, offsets, buffers)
