"""Arena planning: where each intermediate tensor and scratch buffer of the layers lives.

Lifetimes come from the layer list (in-place kernels alias their input and output); the
placement is :func:`kws.export.planner.plan`.
"""

from __future__ import annotations

import dataclasses

from kws.export.lowering import Layer
from kws.export.lowering.conv import reuse_pixels
from kws.export.planner import Buffer, check_plan, plan
from kws.export.state import StatePlan
from kws.export.tflite_model import TfliteModel

#: Kernels that may write their output over their input (same size, element by element).
IN_PLACE_KERNELS = ("reshape", "softmax", "lut", "requantize")


@dataclasses.dataclass
class ArenaPlan:
    """Where each intermediate tensor (and scratch buffer) lives in the arena."""

    size: int
    offsets: dict[str, int]       # "t<index>" or "scratch<layer>" -> byte offset
    buffers: list[Buffer]
    state: StatePlan | None = None  # the state region at the start of the arena, if any
    input_offset: int = 0           # where the caller may keep the model input in the arena
    output_offset: int = 0          # and the output


def _in_place_groups(m: TfliteModel, layers: list[Layer], io: set[int]) -> dict[int, int]:
    """Tensor -> representative tensor, for outputs of in-place kernels that may reuse the
    input's buffer (the input is an intermediate tensor read last by that layer); tensors in
    ``io`` (the model's input and output, aliases of the state) are never grouped."""
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


def plan_arena(m: TfliteModel, layers: list[Layer], state: StatePlan | None = None,
               *, min_arena: bool = False, reuse: bool = False) -> ArenaPlan:
    """Place every intermediate tensor and scratch buffer (not constants) after the state
    region of ``state`` (a stateful model's variables, pinned at the start of the arena;
    tensors that alias a variable live there).

    The model input and output get a place too, live from the start of the call to the last
    layer that reads the input and from the layer that first writes the output to the end:
    a caller that keeps them there (``KWS_MODEL_INPUT_OFFSET``) needs no RAM beside the arena,
    as TFLite Micro keeps them in its arena; one that passes its own buffers loses nothing.

    ``min_arena`` gives the int8 pointwise kernels' widened filter rows up too where they set
    the arena's size (their scratch-free path: the smallest arena, at about 1.8x the
    pointwise instructions; DS-CNN-S 16,000 B and 7.6 M instructions instead of 16,256 B and
    4.2 M). ``reuse`` plans the same smallest arena and keeps the rows' speed where the
    layer's input dies there: the rows live in the output's tail, then in the input's head
    (``kws_pointwise_conv_s8_reusing``; the layer's ``reuse_input``; DS-CNN-S 16,000 B and
    4.2 M). Neither: the rows are kept (16,256 B). conv2d's im2col blocks shrink to the floor
    in every mode.
    """
    pinned = state.pinned if state is not None else {}
    base = state.size if state is not None else 0
    io = {m.inputs[0], m.outputs[0], *pinned}
    group = _in_place_groups(m, layers, io)
    spans: dict[int, list[int]] = {}
    for i, layer in enumerate(layers):
        for t in (*layer.inputs, *layer.outputs):
            if t in io or _is_constant(m, t):
                continue
            r = group.get(t, t)
            span = spans.setdefault(r, [i, i])
            span[0], span[1] = min(span[0], i), max(span[1], i)
    buffers = [Buffer(f"t{r}", m.tensors[r].size, a, b) for r, (a, b) in spans.items()]
    buffers += _io_buffers(m, layers)
    reusable = _reusable(m, layers, io, group, spans) if reuse and not min_arena else set()
    buffers, size = _fit_scratch(buffers, layers, min_arena=min_arena or reuse,
                                 reusable=reusable)
    check_plan(buffers)
    for b in buffers:
        b.offset += base
    offsets = {b.name: b.offset for b in buffers}
    for t, r in group.items():
        offsets[f"t{t}"] = offsets[f"t{r}"]
    offsets.update({f"t{t}": off for t, off in pinned.items()})
    return ArenaPlan(size + base, offsets, buffers, state, offsets["input"],
                     offsets["output"])


def _reusable(m: TfliteModel, layers: list[Layer], io: set[int], group: dict[int, int],
              spans: dict[int, list[int]]) -> set[int]:
    """Indices of the int8 pointwise layers that can keep their widened rows in their own
    input and output (``kws_pointwise_conv_s8_reusing``): the input is an intermediate read
    for the last time there and the rows fit (:func:`reuse_pixels`)."""
    found = set()
    for i, layer in enumerate(layers):
        if layer.kernel != "pointwise" or "pw_filter" in layer.arrays or not layer.scratch:
            continue
        t = layer.input
        if (t not in io and not _is_constant(m, t) and spans[group.get(t, t)][1] == i
                and reuse_pixels(layer.params) > 0):
            found.add(i)
    return found


def _fit_scratch(tensors: list[Buffer], layers: list[Layer], *, min_arena: bool = False,
                 reusable: set[int] = frozenset()) -> tuple[list[Buffer], int]:
    """Place the tensors and the kernels' scratch; return the buffers and the arena size.

    A kernel that takes a range of scratch lengths (conv2d: fewer im2col columns per block,
    down to none, the direct path; pointwise: its widened filter rows or none) gets the most
    that does not make the arena larger than with the least of every one:
    the speed of the preferred block where there is room, the memory of the smallest where
    its layer is the peak. Sets each such layer's ``scratch`` to the length it gets; a layer
    in ``reusable`` that gets less than its rows reuses its input and output for them
    instead (``reuse_input``, no scratch).
    """
    def placed(lengths: list[int]) -> tuple[list[Buffer], int]:
        bufs = [Buffer(b.name, b.size, b.first, b.last) for b in tensors]
        bufs += [Buffer(f"scratch{l.index}", n, i, i)
                 for i, (l, n) in enumerate(zip(layers, lengths)) if n]
        return bufs, plan(bufs)

    lengths = [l.least_scratch if min_arena or l.kernel != "pointwise" else l.scratch
               for l in layers]
    _, floor = placed(lengths)
    for i, l in enumerate(layers):
        lo, hi = lengths[i], l.scratch
        while lo < hi:  # the longest scratch that keeps the floor
            mid = (lo + hi + 1) // 2
            if placed(lengths[:i] + [mid] + lengths[i + 1:])[1] <= floor:
                lo = mid
            else:
                hi = mid - 1
        lengths[i] = lo
    for i, l in enumerate(layers):
        l.reuse_input = i in reusable and lengths[i] < l.scratch
        l.scratch = 0 if l.reuse_input else lengths[i]
    return placed([l.scratch for l in layers])


def _io_buffers(m: TfliteModel, layers: list[Layer]) -> list[Buffer]:
    """The model input (live until its last reader) and output (from its first writer)."""
    x, y = m.inputs[0], m.outputs[0]
    reads = [i for i, l in enumerate(layers) if x in l.inputs]
    writes = [i for i, l in enumerate(layers) if y in l.outputs or y in l.inputs]
    end = max(len(layers) - 1, 0)
    return [Buffer("input", m.tensors[x].size, 0, max(reads, default=0)),
            Buffer("output", m.tensors[y].size, min(writes, default=end), end)]
