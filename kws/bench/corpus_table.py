"""The corpus table of ``kws bench arena --parity N``: per model, its operators, parity counts
against TFLM (host portable, host DSP-emulated, Cortex-M4 under QEMU), M4 instructions per
inference and per MAC, the share of the data-movement and reduction kernels, and the arena
against TFLM's planner.

Every figure is measured in the run: TFLM's outputs by the host tflite-micro interpreter (one
interpreter, inputs in order, so a stateful model carries its state between calls as the C
runtime does), the C runtime's by its host builds and the M4 firmware under QEMU, the
instructions by the TCG counting plugin (one inference of the first input, per layer).
"""

from __future__ import annotations

import collections
import dataclasses
import re
from pathlib import Path

import numpy as np

#: Kernels whose share of the M4 instructions the table reports (MUL, MEAN, MAX_POOL_2D,
#: CONCATENATION, SPLIT / SPLIT_V, PAD / PADV2, STRIDED_SLICE).
DATA_KERNELS = ("mul", "mean", "maxpool", "concat", "split", "pad", "strided_slice")

#: Short operator names for the table's ops column.
_SHORT = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "dw", "FULLY_CONNECTED": "fc",
          "AVERAGE_POOL_2D": "avgpool", "MAX_POOL_2D": "maxpool", "SOFTMAX": "softmax",
          "RESHAPE": "reshape", "ADD": "add", "MUL": "mul", "MEAN": "mean", "PAD": "pad",
          "PADV2": "pad", "CONCATENATION": "concat", "SPLIT": "split", "SPLIT_V": "split_v",
          "STRIDED_SLICE": "slice", "LOGISTIC": "logistic", "QUANTIZE": "quantize",
          "VAR_HANDLE": "var", "READ_VARIABLE": "read", "ASSIGN_VARIABLE": "assign",
          "CALL_ONCE": "call_once", "SHAPE": "shape", "PACK": "pack"}


@dataclasses.dataclass
class Row:
    """One model's line of the table."""

    model: str
    ops: str
    inputs: int
    portable: int       # inputs whose host portable output == TFLM's
    dsp: int            # host DSP-emulated
    m4: int             # Cortex-M4 under QEMU
    instructions: int   # one inference on the M4
    macs: int
    data_share: dict[str, float]   # kernel -> share of the instructions (DATA_KERNELS)
    arena: int
    tflm_head: int


def op_list(model_path: Path) -> str:
    """The model's distinct operators (every subgraph), short names, in first-use order."""
    from kws.export.tflite_model import load_tflite

    m = load_tflite(model_path)
    seen: dict[str, None] = {}
    for op in [*m.ops, *(op for g in m.subgraphs for op in g.ops)]:
        seen[_SHORT.get(op.kind, op.kind.lower())] = None
    return ",".join(seen)


def _inputs(model_path: Path, n: int) -> np.ndarray:
    """``n`` parity inputs (adversarial first) in the model's input dtype."""
    from kws.export.tflite_model import load_tflite
    from kws.runtime.testmodels import parity_inputs

    m = load_tflite(model_path)
    x = m.tensors[m.inputs[0]]
    zp = int(x.zero_point[0]) if x.zero_point is not None and len(x.zero_point) else 0
    xs = parity_inputs(x.shape, zp if x.np_dtype == np.int8 else zp - 128, n=n, seed=13)
    return xs if x.np_dtype == np.int8 else (xs.astype(np.int16) + 128).astype(x.np_dtype)


def _matches(got: np.ndarray, want: np.ndarray) -> int:
    """Inputs whose whole output equals TFLM's."""
    n = len(want)
    return int((got.reshape(n, -1) == want.reshape(n, -1)).all(axis=1).sum())


def measure(model_path: Path, n: int, *, qemu: bool = True) -> Row:
    """Parity counts, M4 instructions and the arena comparison of one model."""
    from kws.runtime import target
    from kws.runtime.arena_compare import compare
    from kws.runtime.host import HostModel
    from kws.runtime.infer import run_tflm

    xs = _inputs(model_path, n)
    want = run_tflm(model_path, xs)
    host = {}
    for path in ("portable", "dsp"):
        hm = HostModel(model_path, path=path)
        host[path] = _matches(np.stack([hm.invoke(x) for x in xs]), want)
    m4, total, macs, share = -1, 0, 0, {}
    if qemu:
        m4 = _matches(target.run_qemu(model_path, xs, path="dsp"), want)
        layers, total = target.count_layers(model_path, xs[0], path="dsp")
        macs = sum(layer.macs for layer in layers)
        per = collections.Counter()
        for layer in layers:
            per[layer.kernel] += layer.instructions
        share = {k: per[k] / total for k in DATA_KERNELS if per[k]}
    c = compare(model_path)
    stem = model_path.stem
    if re.fullmatch(r".+-[0-9a-f]{12}", stem):  # a generated model's cache key
        stem = stem.rsplit("-", 1)[0]
    return Row(stem, op_list(model_path), len(xs), host["portable"], host["dsp"],
               m4, total, macs, share, c.kws, c.tflm_head)


def header() -> str:
    """The table's header lines."""
    return (f"{'model':30} {'ops':60} {'parity portable/dsp/M4':>22} {'M4 instr':>11} "
            f"{'/MAC':>6} {'arena':>7} {'TFLM':>7} {'ratio':>5}  data kernels' share\n"
            + "-" * 176)


def format_row(r: Row) -> str:
    """One line of the table."""
    m4 = f"{r.m4}" if r.m4 >= 0 else "-"
    parity = f"{r.portable}/{r.dsp}/{m4} of {r.inputs}"
    per_mac = f"{r.instructions / r.macs:6.2f}" if r.macs else f"{'-':>6}"
    instr = f"{r.instructions:11,}" if r.instructions else f"{'-':>11}"
    share = " ".join(f"{k} {v:.1%}" for k, v in sorted(r.data_share.items(),
                                                       key=lambda kv: -kv[1])) or "-"
    return (f"{r.model[:30]:30} {r.ops[:60]:60} {parity:>22} {instr} {per_mac} "
            f"{r.arena:7,} {r.tflm_head:7,} {r.arena / r.tflm_head:5.3f}  {share}")
