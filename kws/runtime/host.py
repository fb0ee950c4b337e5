"""Build an exported model with the C runtime on the host and run it through ctypes.

The runtime library is built with CMake into ``build/runtime-host-<path>`` (path ``portable``
or ``dsp``, the Cortex-M4 DSP path with emulated intrinsics). Each model is exported and linked
into a shared library under ``build/models/<hash>-<path>/``, keyed by the sha256 of the .tflite
bytes and of the runtime sources, so a model is only built once.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
from pathlib import Path

import numpy as np

from kws import cbuild
from kws.cstatus import describe
from kws.errors import KwsError
from kws.export import ExportResult, export_model
from kws.paths import REPO_ROOT

PATHS = ("portable", "dsp")



def runtime_dir() -> Path:
    """``firmware/runtime``."""
    return REPO_ROOT / "firmware" / "runtime"


def common_include_dir() -> Path:
    """``common/include``: ``kws_status.h``, shared by the runtime and the front end."""
    return REPO_ROOT / "common" / "include"


def _sources_hash() -> str:
    h = hashlib.sha256()
    for f in [*sorted(runtime_dir().rglob("*")), *sorted(common_include_dir().glob("*"))]:
        if f.is_file() and f.suffix in (".c", ".h", ".txt"):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    for f in sorted((REPO_ROOT / "kws" / "export").rglob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()


def build_runtime(path: str = "portable") -> Path:
    """Build ``libkws_runtime.a`` for ``path`` with CMake; return the library's path."""
    if path not in PATHS:
        raise KwsError(f"runtime path {path!r}: must be one of {', '.join(PATHS)}")
    build = cbuild.cmake_build(runtime_dir(), REPO_ROOT / "build" / f"runtime-host-{path}",
                               defines={"KWS_RUNTIME_PATH": path})
    return build / "libkws_runtime.a"


class HostModel:
    """An exported model compiled for the host, callable from Python.

    Parameters
    ----------
    model_path : path-like
        The int8 .tflite model.
    path : {"portable", "dsp"}
        Which kernel path to build (``dsp`` emulates the Cortex-M4 intrinsics in C).
    prepare : bool
        Export with int16 prepared pointwise weights (``kws export --int16-pointwise``) or with
        int8 pointwise weights (the default).
    int8_depthwise : bool
        Keep the depthwise weights int8 in TFLite's layout (``kws export --int8-depthwise``)
        instead of the default prepared ones.
    io_in_arena : bool
        Keep the input and output in the arena at ``KWS_MODEL_INPUT_OFFSET`` /
        ``KWS_MODEL_OUTPUT_OFFSET`` (no RAM besides the arena) instead of separate buffers.
    """

    def __init__(self, model_path: str | Path, *, path: str = "portable",
                 prepare: bool = False, io_in_arena: bool = False,
                 int8_depthwise: bool = False) -> None:
        model_path = Path(model_path)
        try:
            data = model_path.read_bytes()
        except OSError as exc:
            raise KwsError(f"{model_path}: cannot read: {exc.strerror}") from exc
        lib_a = build_runtime(path)
        key = hashlib.sha256(data + _sources_hash().encode()).hexdigest()[:16]
        variant = path + ("-pw16" if prepare else "") + ("-dw8" if int8_depthwise else "")
        out = REPO_ROOT / "build" / "models" / f"{key}-{variant}"
        so = out / "libkws_model.so"
        out.mkdir(parents=True, exist_ok=True)
        with open(out / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.export: ExportResult = export_model(model_path, out, prepare=prepare,
                                                       int8_depthwise=int8_depthwise,
                                                       allow_unknown_frontend=True)
            if not so.exists():
                cbuild.cc_shared_library(
                    [out / "kws_model.c"], so, libraries=[lib_a],
                    flags=["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"],
                    includes=[runtime_dir() / "include", common_include_dir()])
        self._lib = ctypes.CDLL(str(so))
        self._invoke = self._lib.kws_model_invoke
        self._invoke.restype = ctypes.c_int
        self._invoke.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                 ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
        m = self.export.model
        self.input_shape = m.tensors[m.inputs[0]].shape
        self.output_shape = m.tensors[m.outputs[0]].shape
        self.input_dtype = m.tensors[m.inputs[0]].np_dtype     # int8 or uint8
        self.output_dtype = m.tensors[m.outputs[0]].np_dtype   # int8 or uint8 (QUANTIZE)
        self._arena = np.zeros(max(self.export.arena.size, 4), np.int8)
        self.io_in_arena = io_in_arena
        for name in ("kws_model_init", "kws_model_reset"):
            fn = getattr(self._lib, name)
            fn.restype = ctypes.c_int
            fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        self.init_state()
        sp = self.export.stream
        if sp is not None:
            self._step = self._lib.kws_model_step
            self._step.restype = ctypes.c_int
            self._step.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                   ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                                   ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
            self._reset = self._lib.kws_model_stream_reset
            self._reset.restype = ctypes.c_int
            self._reset.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
            self._state = np.zeros(sp.state_size // 4, np.uint32)
            self._step_arena = np.zeros(max(sp.arena_size, 4) // 4 + 1, np.uint32)
            self.stream_reset()

    def _state_call(self, name: str) -> None:
        st = getattr(self._lib, name)(self._arena.ctypes.data, self._arena.size)
        if st != 0:
            raise KwsError(f"{name} returned {describe(st)}")

    def init_state(self) -> None:
        """``kws_model_init``: the state of a new interpreter (init subgraph pending)."""
        self._state_call("kws_model_init")

    def reset(self) -> None:
        """``kws_model_reset``: TFLite Micro's ``MicroInterpreter::Reset()``."""
        self._state_call("kws_model_reset")

    def variables(self) -> list[np.ndarray]:
        """The bytes of every resource variable now (int8), in variable order."""
        state = self.export.arena.state
        if state is None:
            return []
        return [self._arena[v.offset:v.offset + v.nbytes].copy() for v in state.variables]

    def invoke(self, x: np.ndarray) -> np.ndarray:
        """Run one inference: ``x`` of the input shape and dtype (int8, or uint8 for a model
        that starts with a QUANTIZE from uint8) -> the output, of its shape and dtype (int8,
        or uint8 for a model that ends with a QUANTIZE to uint8)."""
        x = np.ascontiguousarray(x, dtype=self.input_dtype)
        y = np.zeros(self.output_shape, self.output_dtype)
        if self.io_in_arena:
            plan = self.export.arena
            xa = self._arena[plan.input_offset:plan.input_offset + x.size].view(x.dtype)
            ya = self._arena[plan.output_offset:plan.output_offset + y.size].view(y.dtype)
            xa[:] = x.reshape(-1)
            st = self._invoke(xa.ctypes.data, x.size, ya.ctypes.data, y.size,
                              self._arena.ctypes.data, self._arena.size)
            y[...] = ya.reshape(y.shape)
        else:
            st = self._invoke(x.ctypes.data, x.size, y.ctypes.data, y.size,
                              self._arena.ctypes.data, self._arena.size)
        if st != 0:
            raise KwsError(f"kws_model_invoke returned {describe(st)}")
        return y

    def _need_stream(self) -> None:
        if self.export.stream is None:
            raise KwsError(f"the model has no step function: {self.export.not_streamable}")

    def stream_reset(self) -> None:
        """``kws_model_stream_reset``: start a new stream."""
        self._need_stream()
        st = self._reset(self._state.ctypes.data, self._state.nbytes)
        if st != 0:
            raise KwsError(f"kws_model_stream_reset returned {describe(st)}")

    def steps(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``kws_model_step`` on each frame of ``frames`` (int8, (N, frame size) or (N, ...)).

        Returns
        -------
        outputs : ndarray of int8, shape (N, output size)
        ready : ndarray of bool, shape (N,)
        """
        self._need_stream()
        sp = self.export.stream
        xs = np.ascontiguousarray(np.asarray(frames, dtype=np.int8).reshape(len(frames), -1))
        if xs.shape[1] != sp.frame_size:
            raise KwsError(f"frames of {xs.shape[1]} values; the model's frame has "
                           f"{sp.frame_size}")
        ys = np.zeros((len(xs), sp.output_size), np.int8)
        ready = np.zeros(len(xs), bool)
        flag = ctypes.c_int(0)
        for i in range(len(xs)):
            st = self._step(self._state.ctypes.data, self._state.nbytes, xs[i].ctypes.data,
                            sp.frame_size, ys[i].ctypes.data, sp.output_size,
                            self._step_arena.ctypes.data, self._step_arena.nbytes,
                            ctypes.byref(flag))
            if st != 0:
                raise KwsError(f"kws_model_step returned {describe(st)}")
            ready[i] = bool(flag.value)
        return ys, ready
