"""Run a (stateful) model over a sequence of inputs, state carried, optionally reset midway.

For parity checks of stateful models: besides the outputs, :func:`tflm_sequence` and
:func:`c_sequence` return every resource variable's bytes after each call, so the state (the
ring buffers, i.e. every streamed layer's output) is compared, not only the final output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.export.state import plan_state
from kws.export.tflite_model import load_tflite


def _last_assignments(model_path: Path) -> list[int | None]:
    """Per variable, the main-graph tensor its last ASSIGN_VARIABLE of a call copies."""
    m = load_tflite(model_path)
    state = plan_state(m)
    last: list[int | None] = [None] * len(state.variables)
    for op in m.ops:
        if op.kind == "ASSIGN_VARIABLE":
            last[state.handles[op.inputs[0]]] = op.inputs[1]
    return last


def tflm_sequence(model_path: str | Path, xs: np.ndarray, *, reset_at: int | None = None
                  ) -> tuple[np.ndarray, list[list[np.ndarray]]]:
    """Run ``xs`` (N, *input shape) in order through one tflite-micro interpreter
    (``interpreter.reset()`` before input ``reset_at``).

    Returns
    -------
    (outputs, variables)
        Outputs shaped (N, *output shape) in the output's dtype, and per call the bytes (int8)
        of every variable a call assigns, read from the assigned tensors (the interpreter keeps
        every tensor); a variable no call assigns is left out.
    """
    from tflite_micro.python.tflite_micro import runtime

    model_path = Path(model_path)
    interp = runtime.Interpreter.from_bytes(
        model_path.read_bytes(),
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    last = [t for t in _last_assignments(model_path) if t is not None]
    outs, variables = [], []
    for i, x in enumerate(xs):
        if i == reset_at:
            interp.reset()
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0), copy=True))
        variables.append([np.array(interp.GetTensor(t, 0)["tensor_data"], copy=True)
                          .reshape(-1).view(np.int8) for t in last])
    return np.stack(outs), variables


def c_sequence(model_path: str | Path, xs: np.ndarray, *, path: str = "portable",
               reset_at: int | None = None) -> tuple[np.ndarray, list[list[np.ndarray]]]:
    """:func:`tflm_sequence` with the generated C on the host (``kws_model_reset``)."""
    from kws.runtime.host import HostModel

    model_path = Path(model_path)
    hm = HostModel(model_path, path=path)
    assigned = [v for v, t in enumerate(_last_assignments(model_path)) if t is not None]
    outs, variables = [], []
    for i, x in enumerate(xs):
        if i == reset_at:
            hm.reset()
        outs.append(hm.invoke(x))
        now = hm.variables()
        variables.append([now[v] for v in assigned])
    return np.stack(outs), variables
