"""Resource variables of a stateful model: the state the generated code keeps between calls.

A streaming model (microWakeWord, kws_streaming) keeps ring buffers in resource variables:
``VAR_HANDLE`` names a variable, ``READ_VARIABLE`` copies it into a tensor, ``ASSIGN_VARIABLE``
copies a tensor into it, and ``CALL_ONCE`` runs an init subgraph (``VAR_HANDLE`` +
``ASSIGN_VARIABLE`` of constants) at the first invocation. The generated C keeps every variable
in a state region pinned at the start of the arena; this module works out its layout and the
exact semantics of TensorFlow Lite Micro (``MicroResourceVariables`` and the kernels
``var_handle``, ``read_variable``, ``assign_variable``, ``call_once``), which the generated code
reproduces byte for byte:

- a variable is identified by its handle's (container, shared_name); a handle without a
  container matches any container with that shared name;
- its buffer is created when the first ``ASSIGN_VARIABLE`` is prepared (subgraph 0's operators
  in order, then subgraph 1's, ...), with that value tensor's byte size, and filled with the
  value tensor's zero point cast to int8 (0 for a tensor without quantization): the variable's
  *default byte*;
- ``READ_VARIABLE`` and ``ASSIGN_VARIABLE`` copy bytes. There is no requantization, even where
  the value tensor's scale or zero point differs from the read tensor's;
- ``CALL_ONCE`` runs its init subgraph at the first invocation only;
- ``MicroInterpreter::Reset()`` fills every variable with its default byte again and does not
  run the init subgraph again (``call_once`` has no reset hook).

Aliasing (the planner's part): a ``READ_VARIABLE`` output whose readers all run before the next
``ASSIGN_VARIABLE`` of that variable is the variable's buffer itself (no copy, no arena bytes);
an ``ASSIGN_VARIABLE`` value that only that assignment reads, computed after the last reader of
the variable's old value, is written straight into the variable (no copy, no arena bytes).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kws.errors import KwsError
from kws.export.tflite_model import Op, Subgraph, TfliteModel

#: The state region's first word: the init subgraph is still to run / has run.
STATE_PENDING = 0x4B575331
STATE_READY = 0x4B575332
#: Bytes of that word.
FLAG_BYTES = 4

STATE_OPS = ("CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE")


@dataclasses.dataclass
class Variable:
    """One resource variable: its name, bytes, default byte, init value and place."""

    index: int
    container: str | None
    shared_name: str
    nbytes: int
    default: int                 # the byte (int8) MicroResourceVariables fills it with
    init: np.ndarray | None      # int8 bytes the init subgraph assigns, or None
    offset: int = 0              # byte offset in the arena (inside the state region)


@dataclasses.dataclass
class StatePlan:
    """The state region: variables, which tensors alias them, and its size."""

    variables: list[Variable]
    handles: dict[int, int]      # main-graph resource tensor -> variable index
    pinned: dict[int, int]       # main-graph tensor -> byte offset (aliases of a variable)
    elided: set[int]             # op indices whose copy the aliasing makes unnecessary
    init_subgraph: int | None
    size: int                    # bytes of the state region (0: the model has no state)

    @property
    def stateful(self) -> bool:
        """True if the model keeps state between invocations."""
        return self.size > 0


def _key_match(a: tuple[str | None, str], b: tuple[str | None, str]) -> bool:
    """FindId: same shared name, and same container unless the handle has none."""
    return a[1] == b[1] and (a[0] is None or b[0] is None or a[0] == b[0])


class _Registry:
    """Variables in the order TFLM creates them (VAR_HANDLE prepare order)."""

    def __init__(self) -> None:
        self.keys: list[tuple[str | None, str]] = []

    def id_of(self, key: tuple[str | None, str]) -> int:
        for i, k in enumerate(self.keys):
            if _key_match(key, k):
                return i
        self.keys.append(key)
        return len(self.keys) - 1


def _handles(ops: list[Op], reg: _Registry) -> dict[int, int]:
    out = {}
    for op in ops:
        if op.kind == "VAR_HANDLE":
            out[op.outputs[0]] = reg.id_of((op.options["container"] or None,
                                            op.options["shared_name"]))
    return out


def _default_byte(t) -> int:
    """MicroResourceVariables::Allocate: the zero point cast to int8, else 0."""
    if t.zero_point.size:
        return int(np.array(t.zero_point[0]).astype(np.int64).astype(np.int8))
    return 0


def _check_value(path: str, where: str, t) -> None:
    if t.dtype != "INT8":
        raise KwsError(f"{path}: {where}: resource variable value {t.name!r} is {t.dtype}; "
                       f"only int8 variables are supported")


def _init_values(m: TfliteModel, sg: Subgraph, reg: _Registry, sizes: dict[int, tuple],
                 ) -> dict[int, np.ndarray]:
    """Evaluate the init subgraph at export time: its assignments of constants."""
    handles = _handles(sg.ops, reg)
    values: dict[int, np.ndarray] = {}
    for op in sg.ops:
        if op.kind == "VAR_HANDLE":
            continue
        if op.kind != "ASSIGN_VARIABLE":
            raise KwsError(f"{m.path}: subgraph {sg.index} (the CALL_ONCE init subgraph) "
                           f"computes with {op.kind}; only assignments of constants to resource "
                           f"variables are supported there")
        var = handles.get(op.inputs[0])
        t = sg.tensors[op.inputs[1]]
        if var is None or t.data is None:
            raise KwsError(f"{m.path}: subgraph {sg.index}: ASSIGN_VARIABLE {op.index} must "
                           f"assign a constant to a VAR_HANDLE of that subgraph")
        _check_value(m.path, f"subgraph {sg.index} operator {op.index}", t)
        sizes.setdefault(var, (t.size, _default_byte(t)))
        values[var] = np.ascontiguousarray(t.data).reshape(-1).astype(np.int8)
    return values


def _writes(op: Op, var: int, handles: dict[int, int]) -> bool:
    """True if ``op`` may change variable ``var`` (an assignment to it, or CALL_ONCE)."""
    return op.kind == "CALL_ONCE" or (op.kind == "ASSIGN_VARIABLE"
                                      and handles.get(op.inputs[0]) == var)


def _read_aliases(m: TfliteModel, handles: dict[int, int]) -> tuple[dict[int, int], set[int]]:
    """READ_VARIABLE outputs all of whose readers run before the variable changes."""
    pinned, elided = {}, set()
    io = set(m.inputs) | set(m.outputs)
    for i, op in enumerate(m.ops):
        if op.kind != "READ_VARIABLE" or op.outputs[0] in io:
            continue
        var, t = handles[op.inputs[0]], op.outputs[0]
        readers = [j for j, o in enumerate(m.ops) if t in o.inputs]
        next_assign = next((j for j, o in enumerate(m.ops) if j > i and _writes(o, var,
                                                                             handles)),
                           len(m.ops))
        if readers and max(readers) < next_assign:
            pinned[t], elided = var, elided | {i}
    return pinned, elided


def _assign_aliases(m: TfliteModel, handles: dict[int, int], read_pinned: dict[int, int]
                    ) -> tuple[dict[int, int], set[int]]:
    """ASSIGN_VARIABLE values written straight into the variable by their producer."""
    pinned, elided = {}, set()
    io = set(m.inputs) | set(m.outputs)
    producer = {t: j for j, o in enumerate(m.ops) for t in o.outputs}
    for i, op in enumerate(m.ops):
        if op.kind != "ASSIGN_VARIABLE":
            continue
        var, t = handles[op.inputs[0]], op.inputs[1]
        p = producer.get(t)
        if (t in io or p is None or m.tensors[t].data is not None
                or m.ops[p].kind in STATE_OPS or len(m.ops[p].outputs) != 1):
            continue
        if [j for j, o in enumerate(m.ops) if t in o.inputs] != [i]:
            continue
        # the old value must be dead when the producer starts writing: no read of the
        # variable (nor of an alias of it) at or after p, no other assignment in (p, i)
        uses_var = [j for j, o in enumerate(m.ops)
                    if (o.kind == "READ_VARIABLE" and handles.get(o.inputs[0]) == var)
                    or any(read_pinned.get(x) == var for x in o.inputs)
                    or (j != i and _writes(o, var, handles))]
        if any(p <= j <= i for j in uses_var):
            continue
        pinned[t], elided = var, elided | {i}
    return pinned, elided


def plan_state(m: TfliteModel) -> StatePlan:
    """The state region of ``m`` (size 0 for a model without resource variables).

    Raises
    ------
    KwsError
        A subgraph other than a CALL_ONCE init subgraph, an init subgraph that computes,
        variables that are not int8, or reads / assignments of a different byte size.
    """
    reg = _Registry()
    handles = _handles(m.ops, reg)
    init_sg = [op.options["init_subgraph"] for op in m.ops if op.kind == "CALL_ONCE"]
    if len(set(init_sg)) > 1:
        raise KwsError(f"{m.path}: {len(init_sg)} CALL_ONCE operators; at most one is "
                       f"supported")
    init = init_sg[0] if init_sg else None
    for sg in m.subgraphs:
        if sg.index != init:
            raise KwsError(f"{m.path}: subgraph {sg.index} ({sg.name or 'unnamed'}) is not "
                           f"the init subgraph of a CALL_ONCE; control flow (WHILE, IF) is "
                           f"not supported")
    # bytes and default byte from the first ASSIGN_VARIABLE prepared: main graph first
    sizes: dict[int, tuple[int, int]] = {}
    for i, op in enumerate(m.ops):
        if op.kind == "ASSIGN_VARIABLE":
            t = m.tensors[op.inputs[1]]
            _check_value(m.path, f"operator {i} ASSIGN_VARIABLE", t)
            sizes.setdefault(handles[op.inputs[0]], (t.size, _default_byte(t)))
    values: dict[int, np.ndarray] = {}
    if init is not None:
        if not 0 < init <= len(m.subgraphs):
            raise KwsError(f"{m.path}: CALL_ONCE runs subgraph {init}, which does not exist")
        values = _init_values(m, m.subgraphs[init - 1], reg, sizes)
    variables = []
    offset = FLAG_BYTES
    for v, key in enumerate(reg.keys):
        if v not in sizes:
            raise KwsError(f"{m.path}: resource variable {key[1]!r} is never assigned")
        n, default = sizes[v]
        variables.append(Variable(v, key[0], key[1], n, default, values.get(v), offset))
        offset += (n + 3) // 4 * 4
    for i, op in enumerate(m.ops):
        if op.kind in ("READ_VARIABLE", "ASSIGN_VARIABLE"):
            t = m.tensors[op.outputs[0] if op.kind == "READ_VARIABLE" else op.inputs[1]]
            var = variables[handles[op.inputs[0]]]
            _check_value(m.path, f"operator {i} {op.kind}", t)
            if t.size != var.nbytes:
                raise KwsError(f"{m.path}: operator {i} {op.kind}: tensor {t.name!r} has "
                               f"{t.size} bytes, variable {var.shared_name!r} {var.nbytes}")
    if not variables:
        return StatePlan([], handles, {}, set(), init, 0)
    read_pinned, read_elided = _read_aliases(m, handles)
    assign_pinned, assign_elided = _assign_aliases(m, handles, read_pinned)
    pinned = {t: variables[v].offset for t, v in {**read_pinned, **assign_pinned}.items()}
    return StatePlan(variables, handles, pinned, read_elided | assign_elided, init, offset)


def variable_of(m: TfliteModel, resource: int) -> int:
    """Index of the variable that main-graph resource tensor ``resource`` names."""
    handles = _handles(m.ops, _Registry())
    if resource not in handles:
        raise KwsError(f"{m.path}: resource tensor {m.tensors[resource].name!r} is not the "
                       f"output of a VAR_HANDLE")
    return handles[resource]


def bind_layers(layers: list, state: StatePlan) -> list:
    """The layers that emit code: without VAR_HANDLE and the copies that aliasing elides;
    READ / ASSIGN layers get their variable's arena ``offset``."""
    out = []
    for layer in layers:
        if layer.kernel == "var_handle" or layer.index in state.elided:
            continue
        if layer.kernel in ("read_var", "assign_var"):
            layer.params["offset"] = state.variables[layer.params["var"]].offset
        out.append(layer)
    return out
