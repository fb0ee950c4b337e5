"""Activation memory of kws's planner against TensorFlow Lite Micro's, on the same model.

TFLM's figure is the host ``tflite_micro`` interpreter's arena *head*: the memory its
GreedyMemoryPlanner gives every non-persistent tensor (the model input and output included)
and the kernels' scratch buffers; resource variables and bookkeeping live in the persistent
*tail*. The interpreter reports both through ``print_allocations`` (the RecordingMicroAllocator;
the Python wrapper has no accessor, so its stdout is captured).

kws's comparable figure is ``KWS_MODEL_ARENA_BYTES`` less the state region (the variables,
TFLM's tail), with the input and output in the arena (``KWS_MODEL_INPUT_OFFSET``); the
``tensors_only`` figure plans the same layers with every kernel scratch set to 0, isolating the
placement (TFLM's reference kernels, which make its head, need no scratch).

``bound`` is a lower bound of any plan of the same buffers: at each layer, the tensors live
there (which that layer's kernel reads or writes, or which a later layer still reads) cannot
share memory, and the kernel needs at least its least scratch; the largest such sum over the
layers. A plan equal to it cannot be improved by placement; above TFLM's head, the difference
is then the scratch of the kernel at that layer (``bound_kernel``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from kws.errors import KwsError


@dataclasses.dataclass
class TflmArena:
    """The host tflite-micro interpreter's arena: head (activations), tail, total (bytes)."""

    head: int
    tail: int
    total: int


def _captured_stdout(fn) -> str:
    """Run ``fn()`` with file descriptors 1 and 2 captured (C++ prints there)."""
    with tempfile.TemporaryFile(mode="w+") as tmp:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = (os.dup(1), os.dup(2))
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            fn()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        tmp.seek(0)
        return tmp.read()


def tflm_arena(model_path: str | Path) -> TflmArena:
    """Head, tail and total arena bytes of the host tflite-micro interpreter for a model."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(Path(model_path).read_bytes())
    text = _captured_stdout(interp.print_allocations)
    found: dict[str, int] = {}
    for line in text.splitlines():
        for key in ("head", "tail", "total"):
            if f"Arena allocation {key}" in line:
                found[key] = int(line.split()[-2])
    if len(found) != 3:
        raise KwsError(f"{model_path}: tflite-micro printed no arena figures")
    return TflmArena(found["head"], found["tail"], found["total"])


@dataclasses.dataclass
class ArenaComparison:
    """kws's activation arena against TFLM's head for one model (bytes)."""

    model: str
    kws: int            # KWS_MODEL_ARENA_BYTES - KWS_MODEL_STATE_BYTES (I/O in the arena)
    kws_state: int      # KWS_MODEL_STATE_BYTES
    tensors_only: int   # the same plan with every kernel scratch 0
    peak_scratch: int   # scratch bytes of the layer where kws's plan peaks
    tflm_head: int
    bound: int = 0          # no plan of these buffers is smaller (see the module docstring)
    bound_kernel: str = ""  # the kernel of the layer that sets the bound
    bound_scratch: int = 0  # its least scratch

    @property
    def ratio(self) -> float:
        """kws / TFLM."""
        return self.kws / self.tflm_head if self.tflm_head else float("inf")


def _peak_scratch(arena) -> int:
    """Scratch bytes live at the operator where the plan's extent is largest."""
    best, scratch = -1, 0
    last = max((b.last for b in arena.buffers), default=0)
    for i in range(last + 1):
        live = [b for b in arena.buffers if b.first <= i <= b.last]
        top = max((b.offset + b.size for b in live), default=0)
        if top > best:
            best = top
            scratch = sum(b.size for b in live if b.name.startswith("scratch"))
    return scratch


def lower_bound(arena, layers) -> tuple[int, int]:
    """(bytes, layer index): the largest live tensor bytes plus least scratch at one layer."""
    tensors = [b for b in arena.buffers if not b.name.startswith("scratch")]
    best = (0, 0)
    for i, layer in enumerate(layers):
        live = sum(b.size for b in tensors if b.first <= i <= b.last)
        best = max(best, (live + layer.least_scratch, i))
    return best


def compare(model_path: str | Path) -> ArenaComparison:
    """Export ``model_path`` (in memory) and compare its arena with TFLM's."""
    from kws.export.arena import plan_arena
    from kws.export.lowering import lower
    from kws.export.state import bind_layers, plan_state
    from kws.export.tflite_model import load_tflite

    m = load_tflite(model_path)
    state = plan_state(m)
    layers = bind_layers(lower(m), state)
    arena = plan_arena(m, layers, state, reuse=True)  # as kws export plans by default
    bound, at = lower_bound(arena, layers)
    least = layers[at].least_scratch
    for layer in layers:
        layer.scratch = layer.scratch_min = 0
    bare = plan_arena(m, layers, state, min_arena=True)
    return ArenaComparison(Path(model_path).name, arena.size - state.size, state.size,
                           bare.size - state.size, _peak_scratch(arena),
                           tflm_arena(model_path).head, bound, layers[at].kernel,
                           least)
