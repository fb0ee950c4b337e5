"""The C runtime on the Cortex-M4 (QEMU mps2-an386): build a model's runner ELF and run it.

``build_m4_model`` exports the model and cross-compiles the harness ``model_runner.elf``
(firmware/harness/model_runner.c, with the runtime's ``kernel_fuzz.elf`` beside it) with
:func:`kws.qemu.build_firmware` into ``build/m4-models/<hash>-<path>/``. ``run_qemu`` runs a
batch of inputs through it (``kws infer --backend qemu``); ``count_layers`` counts the exact
instructions of every layer and of the whole inference with the TCG counting plugin.
QEMU itself is driven by :mod:`kws.qemu` (firmware infrastructure).
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
from pathlib import Path

import numpy as np

from kws import cbuild, qemu
from kws.errors import KwsError
from kws.export import ExportResult, export_model
from kws.paths import REPO_ROOT
from kws.runtime.host import PATHS, _sources_hash


@dataclasses.dataclass
class M4Model:
    """A model built for the M4: the runner ELF and what the export produced."""

    elf: Path
    export: ExportResult
    path: str


#: The harness that runs a model (and its hooks header), part of every M4 model build's key.
RUNNER_SOURCES = ("model_runner.c", "kws_model_hooks.h")


def build_m4_model(model_path: str | Path, *, path: str = "dsp",
                   prepare: bool = False, int8_depthwise: bool = False) -> M4Model:
    """Export ``model_path`` and cross-compile its QEMU runner for kernel ``path``.

    ``prepare``: export with int16 prepared pointwise weights (``kws export --int16-pointwise``)
    instead of the default int8 weights; ``int8_depthwise``: keep the depthwise weights int8
    (``kws export --int8-depthwise``) instead of the default prepared ones.
    """
    if path not in PATHS:
        raise KwsError(f"runtime path {path!r}: must be one of {', '.join(PATHS)}")
    model_path = Path(model_path)
    try:
        data = model_path.read_bytes()
    except OSError as exc:
        raise KwsError(f"{model_path}: cannot read: {exc.strerror}") from exc
    board = REPO_ROOT / "firmware" / "boards" / "mps2_an386"
    h = hashlib.sha256(data + _sources_hash().encode())
    harness = REPO_ROOT / "firmware" / "harness"
    for f in [*sorted(board.glob("*")), *(harness / n for n in RUNNER_SOURCES)]:
        h.update(f.read_bytes())
    variant = path + ("-pw16" if prepare else "") + ("-dw8" if int8_depthwise else "")
    out = REPO_ROOT / "build" / "m4-models" / f"{h.hexdigest()[:16]}-{variant}"
    out.mkdir(parents=True, exist_ok=True)
    elf = out / "build" / "model_runner.elf"
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        export = export_model(model_path, out / "model", prepare=prepare,
                              int8_depthwise=int8_depthwise, allow_unknown_frontend=True)
        if not elf.exists():
            qemu.build_firmware(["model_runner", "kernel_fuzz"], build_dir=out / "build",
                                cmake_args=[f"KWS_RUNTIME_PATH={path}",
                                            f"KWS_MODEL_DIR={out / 'model'}"])
    return M4Model(elf, export, path)


def run_qemu(model_path: str | Path, xs: np.ndarray, *, path: str = "dsp",
             timeout: float = 300.0, prepare: bool = False,
             reset_at: int | None = None) -> np.ndarray:
    """Run each input of ``xs`` (N, *input shape, the input's dtype) on the M4 under QEMU;
    outputs in the output's dtype (int8, or uint8 after a final QUANTIZE to uint8).

    The inputs run in order on one arena (a stateful model carries its state);
    ``reset_at``: call ``kws_model_reset`` before input ``reset_at``.
    """
    return run_qemu_stats(model_path, xs, path=path, timeout=timeout, prepare=prepare,
                          reset_at=reset_at)[0]


def run_qemu_stats(model_path: str | Path, xs: np.ndarray, *, path: str = "dsp",
                   timeout: float = 300.0, prepare: bool = False,
                   reset_at: int | None = None,
                   int8_depthwise: bool = False) -> tuple[np.ndarray, int]:
    """:func:`run_qemu`, and the runner's peak stack in bytes (painted stack)."""
    m = build_m4_model(model_path, path=path, prepare=prepare, int8_depthwise=int8_depthwise)
    model = m.export.model
    out = model.tensors[model.outputs[0]]
    out_shape = out.shape
    xs = np.ascontiguousarray(xs, dtype=model.tensors[model.inputs[0]].np_dtype)
    extra = [] if reset_at is None else [str(int(reset_at))]
    res = qemu.run_elf(m.elf, args=["in.bin", "out.bin", *extra],
                       files={"in.bin": xs.tobytes()},
                    timeout=timeout)
    if res.exit_code != 0 or "out.bin" not in res.files:
        raise KwsError(f"{m.elf}: model runner failed (exit {res.exit_code}): "
                       f"{res.stdout.strip()[-300:]}")
    ys = np.frombuffer(res.files["out.bin"], out.np_dtype)
    if ys.size != len(xs) * int(np.prod(out_shape)):
        raise KwsError(f"{m.elf}: {ys.size} output bytes for {len(xs)} inputs")
    words = res.stdout.split()
    stack = int(words[words.index("stack") + 1]) if "stack" in words else -1
    return ys.reshape((len(xs),) + tuple(out_shape)).copy(), stack


@dataclasses.dataclass
class LayerCount:
    """Instructions of one layer for one inference."""

    index: int
    kernel: str
    macs: int
    instructions: int

    @property
    def per_mac(self) -> float:
        """Instructions per multiply-accumulate (inf for layers without MACs)."""
        return self.instructions / self.macs if self.macs else float("inf")


def count_layers(model_path: str | Path, x: np.ndarray, *, path: str = "dsp",
                 prepare: bool = False,
                 int8_depthwise: bool = False) -> tuple[list[LayerCount], int]:
    """Count the instructions of every layer and of the whole inference of one input ``x``.

    Returns
    -------
    (layers, total)
        Per-layer counts (the marker calls excluded) and the whole ``kws_model_invoke``.
    """
    m = build_m4_model(model_path, path=path, prepare=prepare, int8_depthwise=int8_depthwise)
    x = np.ascontiguousarray(x, dtype=np.int8).reshape(1, -1)
    res = qemu.count_instructions(m.elf, pairs=[("kws_mark_start2", "kws_mark_end2")],
                               args=["in.bin", "out.bin"], files={"in.bin": x.tobytes()})
    if res.run.exit_code != 0:
        raise KwsError(f"{m.elf}: model runner failed (exit {res.run.exit_code})")
    per_layer = res.totals(0)
    total = res.totals(1)
    layers = m.export.layers
    if len(per_layer) != len(layers) or len(total) != 1:
        raise KwsError(f"{m.elf}: expected {len(layers)} layer intervals, got {len(per_layer)}")
    return ([LayerCount(i, l.kernel, l.macs, n) for i, (l, n) in enumerate(zip(layers, per_layer))],
            total[0])


def m4_sizes(m: M4Model) -> dict[str, int]:
    """Flash bytes of the runtime code, the generated model code and its const data (M4)."""
    size = cbuild.require("arm-none-eabi-size")
    build = m.elf.parent

    def text_of(objs: list[Path]) -> int:
        out = cbuild.run_checked([size, "-t", *map(str, objs)], what="arm-none-eabi-size"
                                 ).strip().splitlines()[-1].split()
        return int(out[0]) + int(out[1])

    runtime_objs = sorted(next(build.rglob("kws_runtime.dir")).glob("src/*.obj"))
    model_obj = next(next(build.rglob("model_runner.dir")).rglob("kws_model.c.obj"))
    return {"runtime_code": text_of(runtime_objs), "model_total": text_of([model_obj]),
            "model_const_data": m.export.weight_bytes}


def _step_records(frames: np.ndarray, resets: np.ndarray | None) -> bytes:
    """The ``model_runner --step`` input: per frame a control byte (1: reset first) + frame."""
    frames = np.ascontiguousarray(frames, dtype=np.int8).reshape(len(frames), -1)
    ctl = np.zeros((len(frames), 1), np.int8)
    if resets is not None:
        ctl[np.asarray(resets, dtype=bool), 0] = 1
    return np.concatenate([ctl, frames], axis=1).tobytes()


def run_qemu_steps(model_path: str | Path, frames: np.ndarray, *,
                   resets: np.ndarray | None = None, path: str = "dsp",
                   timeout: float = 300.0) -> tuple[np.ndarray, np.ndarray]:
    """Feed ``frames`` (N, frame size) one per ``kws_model_step`` on the M4 under QEMU.

    ``resets``: optional bool (N,), True where ``kws_model_stream_reset`` runs before the
    frame. Returns (outputs int8 (N, output size), ready bool (N,))."""
    m = build_m4_model(model_path, path=path)
    sp = m.export.stream
    if sp is None:
        raise KwsError(f"{model_path}: no streaming step function: {m.export.not_streamable}")
    res = qemu.run_elf(m.elf, args=["--step", "in.bin", "out.bin"],
                    files={"in.bin": _step_records(frames, resets)}, timeout=timeout)
    if res.exit_code != 0 or "out.bin" not in res.files:
        raise KwsError(f"{m.elf}: model runner failed (exit {res.exit_code}): "
                       f"{res.stdout.strip()[-300:]}")
    out = np.frombuffer(res.files["out.bin"], np.int8).reshape(len(frames), 1 + sp.output_size)
    return out[:, 1:].copy(), out[:, 0] == 1


def count_steps(model_path: str | Path, frames: np.ndarray, *, path: str = "dsp",
                int8_depthwise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Exact M4 instructions of every ``kws_model_step`` on ``frames`` (from a reset).

    Returns
    -------
    (per_step, per_layer)
        int64 (N,) instructions of each whole step, and int64 (N, layers) of each layer's
        kernel call in each step (the marker calls excluded)."""
    m = build_m4_model(model_path, path=path, int8_depthwise=int8_depthwise)
    sp = m.export.stream
    if sp is None:
        raise KwsError(f"{model_path}: no streaming step function: {m.export.not_streamable}")
    res = qemu.count_instructions(m.elf, pairs=[("kws_mark_start2", "kws_mark_end2")],
                               args=["--step", "in.bin", "out.bin"],
                               files={"in.bin": _step_records(frames, None)})
    if res.run.exit_code != 0:
        raise KwsError(f"{m.elf}: model runner failed (exit {res.run.exit_code})")
    per_layer = np.array(res.totals(0), np.int64)
    total = np.array(res.totals(1), np.int64)
    if len(total) != len(frames) or per_layer.size != len(frames) * len(sp.layers):
        raise KwsError(f"{m.elf}: expected {len(frames)} steps of {len(sp.layers)} layers, got "
                       f"{len(total)} / {per_layer.size} intervals")
    return total, per_layer.reshape(len(frames), len(sp.layers))
