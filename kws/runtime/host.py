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


def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


def runtime_dir() -> Path:
    """``firmware/runtime``."""
    return repo_root() / "firmware" / "runtime"


def common_include_dir() -> Path:
    """``common/include``: ``kws_status.h``, shared by the runtime and the front end."""
    return repo_root() / "common" / "include"


def _sources_hash() -> str:
    h = hashlib.sha256()
    for f in [*sorted(runtime_dir().rglob("*")), *sorted(common_include_dir().glob("*"))]:
        if f.is_file() and f.suffix in (".c", ".h", ".txt"):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    for f in sorted((repo_root() / "kws" / "export").glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()


def build_runtime(path: str = "portable") -> Path:
    """Build ``libkws_runtime.a`` for ``path`` with CMake; return the library's path."""
    if path not in PATHS:
        raise KwsError(f"runtime path {path!r}: must be one of {', '.join(PATHS)}")
    build = cbuild.cmake_build(runtime_dir(), repo_root() / "build" / f"runtime-host-{path}",
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
        every weight int8 (the default).
    """

    def __init__(self, model_path: str | Path, *, path: str = "portable",
                 prepare: bool = False) -> None:
        model_path = Path(model_path)
        try:
            data = model_path.read_bytes()
        except OSError as exc:
            raise KwsError(f"{model_path}: cannot read: {exc.strerror}") from exc
        lib_a = build_runtime(path)
        key = hashlib.sha256(data + _sources_hash().encode()).hexdigest()[:16]
        out = repo_root() / "build" / "models" / f"{key}-{path}{'-pw16' if prepare else ''}"
        so = out / "libkws_model.so"
        out.mkdir(parents=True, exist_ok=True)
        with open(out / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.export: ExportResult = export_model(model_path, out, prepare=prepare,
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
        self._arena = np.zeros(max(self.export.arena.size, 4), np.int8)
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

    def invoke(self, x: np.ndarray) -> np.ndarray:
        """Run one inference: ``x`` int8 of the input shape -> int8 of the output shape."""
        x = np.ascontiguousarray(x, dtype=np.int8)
        y = np.zeros(self.output_shape, np.int8)
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
