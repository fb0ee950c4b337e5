"""CALL_ONCE, VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE -> copies to and from the state.

The variables live in the state region of the arena (:mod:`kws.export.state`); ``params['var']``
is the variable's index there. VAR_HANDLE only names a variable: its layer is dropped
(:func:`kws.export.state.bind_layers`), as are the copies that aliasing makes unnecessary.
"""

from __future__ import annotations

from kws.errors import KwsError
from kws.export.lowering.layer import Layer, act_tensor
from kws.export.state import variable_of
from kws.export.tflite_model import Op, TfliteModel


def lower_call_once(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """CALL_ONCE: copy the init subgraph's values into the variables at the first call."""
    if op.inputs or op.outputs:
        raise KwsError(f"{m.path}: operator {op.index} CALL_ONCE has inputs or outputs")
    return Layer(op.index, op.kind, "call_once", [], [],
                 {"init_subgraph": op.options["init_subgraph"]})


def lower_var_handle(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """VAR_HANDLE: no code; READ / ASSIGN name the variable directly."""
    return Layer(op.index, op.kind, "var_handle", [], [],
                 {"var": variable_of(m, op.outputs[0])})


def lower_read_variable(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """READ_VARIABLE: copy the variable's bytes to its int8 output tensor."""
    y = act_tensor(m, op.outputs[0], "READ_VARIABLE output")
    return Layer(op.index, op.kind, "read_var", [], [y.index],
                 {"var": variable_of(m, op.inputs[0]), "bytes": y.size})


def lower_assign_variable(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """ASSIGN_VARIABLE: copy the int8 value tensor's bytes into the variable (TFLM does not
    requantize, whatever the two tensors' quantization)."""
    x = m.tensors[op.inputs[1]]
    if x.dtype != "INT8":
        raise KwsError(f"{m.path}: operator {op.index} ASSIGN_VARIABLE: value {x.name!r} is "
                       f"{x.dtype}; only int8 variables are supported")
    return Layer(op.index, op.kind, "assign_var", [x.index], [],
                 {"var": variable_of(m, op.inputs[0]), "bytes": x.size})
