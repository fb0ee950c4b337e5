"""The C front end (``dsp/``) from Python: build on demand, wrap with ctypes.

The shared library is built with CMake into ``<repo>/build/dsp`` the first time it is needed, and
rebuilt whenever a file under ``dsp/`` is newer than it. Tables always come from Python
(:func:`kws.frontend.tables.make_tables`) and are passed at run time, so any
:class:`FrontendSettings` works without regenerating C.

ctypes releases the GIL during each call, so :func:`features_c` splits a batch over threads.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from kws import cbuild

# kws_status values (common/include/kws_status.h); re-exported for the tests.
from kws.cstatus import (  # noqa: F401
    KWS_ERR_BAD_CONFIG,
    KWS_ERR_BAD_TABLE,
    KWS_ERR_NULL,
    KWS_ERR_SHORT_BUFFER,
    STATUS,
)
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.frontend.tables import FrontendTables, make_tables
from kws.paths import REPO_ROOT

REPO = REPO_ROOT
DSP_DIR = REPO / "dsp"
#: kws_status.h, shared by the front end and the int8 runtime.
COMMON_INCLUDE_DIR = REPO / "common" / "include"
BUILD_ROOT = REPO / "build"


_i16p = ctypes.POINTER(ctypes.c_int16)
_u16p = ctypes.POINTER(ctypes.c_uint16)
_i32p = ctypes.POINTER(ctypes.c_int32)
_u64p = ctypes.POINTER(ctypes.c_uint64)
_i8p = ctypes.POINTER(ctypes.c_int8)


class CTables(ctypes.Structure):
    """ctypes mirror of ``kws_frontend_tables``."""

    _fields_ = [
        ("window_samples", ctypes.c_int32), ("hop_samples", ctypes.c_int32),
        ("fft_size", ctypes.c_int32), ("num_mel", ctypes.c_int32),
        ("num_outputs", ctypes.c_int32), ("proj_q", ctypes.c_int32),
        ("exp_base", ctypes.c_int32), ("output_zero_point", ctypes.c_int32),
        ("window", _i32p), ("window_len", ctypes.c_int32),
        ("perm", _u16p), ("perm_len", ctypes.c_int32),
        ("twiddle", _i32p), ("twiddle_len", ctypes.c_int32),
        ("split", _i32p), ("split_len", ctypes.c_int32),
        ("mel_start", _u16p), ("mel_len", _u16p), ("mel_bands_len", ctypes.c_int32),
        ("mel_weights", _u16p), ("mel_weights_len", ctypes.c_int32),
        ("eps", _u64p), ("eps_len", ctypes.c_int32),
        ("log2", _i32p), ("log2_len", ctypes.c_int32),
        ("proj", _i16p), ("proj_len", ctypes.c_int32),
    ]


# ------------------------------------------------------------------ build
def _sources() -> list[Path]:
    return [p for d in (DSP_DIR, COMMON_INCLUDE_DIR) for p in d.rglob("*")
            if p.suffix in (".c", ".h", ".txt") and p.is_file()]


def build(*, sanitize: bool = False, force: bool = False) -> Path:
    """Build ``dsp/`` with CMake (ninja if present) and return the build folder.

    Parameters
    ----------
    sanitize : bool, keyword-only
        Build with ``-fsanitize=address,undefined -fno-sanitize-recover=all -ftrapv`` into
        ``build/dsp-asan`` (used by the fuzz test through the driver executable).
    force : bool, keyword-only
        Rebuild even if up to date.
    """
    out = BUILD_ROOT / ("dsp-asan" if sanitize else "dsp")
    stamp = out / "libkws_frontend.so"
    newest = max(p.stat().st_mtime for p in _sources())
    if not force and stamp.exists() and stamp.stat().st_mtime >= newest \
            and (out / "kws_frontend_driver").exists() and (out / "kws_test_fixed").exists():
        return out
    if force:
        (out / ".kws-configure").unlink(missing_ok=True)
    cbuild.cmake_build(DSP_DIR, out, build_type="Debug" if sanitize else "Release",
                       defines={"KWS_SANITIZE": "ON" if sanitize else "OFF",
                                # host fast paths: the same integers, proven by the parity tests
                                "KWS_NATIVE": "OFF" if sanitize else "ON"})
    os.utime(stamp)
    return out


@functools.lru_cache(maxsize=1)
def library() -> ctypes.CDLL:
    """Load (building first if needed) ``libkws_frontend.so`` and declare its functions."""
    lib = ctypes.CDLL(str(build() / "libkws_frontend.so"))
    st = ctypes.c_void_p
    lib.kws_frontend_state_size.restype = ctypes.c_size_t
    lib.kws_frontend_state_size.argtypes = []
    lib.kws_frontend_init.argtypes = [st, ctypes.POINTER(CTables)]
    lib.kws_frontend_reset.argtypes = [st]
    lib.kws_frontend_reset.restype = None
    lib.kws_frontend_frames_for.argtypes = [st, ctypes.c_int32]
    lib.kws_frontend_compute_frame.argtypes = [st, _i16p, ctypes.c_int32, _i8p, ctypes.c_int32]
    lib.kws_frontend_process.argtypes = [st, _i16p, ctypes.c_int32, _i32p, _i8p,
                                         ctypes.c_int32, _i32p]
    lib.kws_frontend_process_frames.argtypes = [st, _i16p, ctypes.c_int32, _i32p, _i8p,
                                                ctypes.c_int32, _i32p]
    lib.kws_frontend_batch.argtypes = [st, _i16p, ctypes.c_int32, ctypes.c_int32, _i8p,
                                       ctypes.c_int64]
    for name in ("kws_frontend_init", "kws_frontend_frames_for", "kws_frontend_compute_frame",
                 "kws_frontend_process", "kws_frontend_process_frames", "kws_frontend_batch"):
        getattr(lib, name).restype = ctypes.c_int32
    return lib


def _ptr(array: np.ndarray | None, ctype: type) -> object:
    if array is None:
        return ctypes.cast(None, ctypes.POINTER(ctype))
    return array.ctypes.data_as(ctypes.POINTER(ctype))


# ------------------------------------------------------------------ tables and state
class TableSet:
    """Contiguous copies of a :class:`FrontendTables` and the ``CTables`` pointing into them.

    Keep this object alive as long as a state initialized from it is used.
    """

    def __init__(self, settings: FrontendSettings, tables: FrontendTables | None = None) -> None:
        tab = tables if tables is not None else make_tables(settings)
        self.settings = settings
        self.arrays = {
            "window": np.ascontiguousarray(tab.window, dtype=np.int32),
            "perm": np.ascontiguousarray(tab.perm, dtype=np.uint16),
            "twiddle": np.ascontiguousarray(tab.twiddle, dtype=np.int32).reshape(-1),
            # the split's twiddles are the FFT's table (W_N^k); a copy, so that tests can corrupt
            # one without the other
            "split": np.ascontiguousarray(tab.twiddle, dtype=np.int32).reshape(-1).copy(),
            "mel_start": np.ascontiguousarray(tab.mel_start, dtype=np.uint16),
            "mel_len": np.ascontiguousarray(tab.mel_len, dtype=np.uint16),
            "mel_weights": np.ascontiguousarray(tab.mel_weights, dtype=np.uint16),
            "eps": np.ascontiguousarray(tab.eps, dtype=np.uint64),
            "log2": np.ascontiguousarray(tab.log2, dtype=np.int32),
            "proj": np.ascontiguousarray(tab.proj, dtype=np.int16).reshape(-1),
        }
        self.header = {
            "window_samples": settings.window_samples, "hop_samples": settings.hop_samples,
            "fft_size": settings.fft_size, "num_mel": settings.num_mel,
            "num_outputs": settings.num_outputs, "proj_q": tab.proj_q,
            "exp_base": tab.exp_base, "output_zero_point": settings.output_zero_point,
        }
        self.struct = self.make_struct()

    def make_struct(self) -> CTables:
        """A fresh ``CTables`` over the arrays (tests may then corrupt fields of it)."""
        a = self.arrays
        return CTables(
            *self.header.values(),
            _ptr(a["window"], ctypes.c_int32), a["window"].size,
            _ptr(a["perm"], ctypes.c_uint16), a["perm"].size,
            _ptr(a["twiddle"], ctypes.c_int32), a["twiddle"].size,
            _ptr(a["split"], ctypes.c_int32), a["split"].size,
            _ptr(a["mel_start"], ctypes.c_uint16), _ptr(a["mel_len"], ctypes.c_uint16),
            a["mel_start"].size,
            _ptr(a["mel_weights"], ctypes.c_uint16), a["mel_weights"].size,
            _ptr(a["eps"], ctypes.c_uint64), a["eps"].size,
            _ptr(a["log2"], ctypes.c_int32), a["log2"].size,
            _ptr(a["proj"], ctypes.c_int16), a["proj"].size,
        )


class CFrontend:
    """One ``kws_frontend_state`` (owned by Python memory) over a :class:`TableSet`.

    Parameters
    ----------
    settings : FrontendSettings
        The configuration.
    tables : TableSet, optional
        Shared tables (default: made from ``settings``).
    """

    def __init__(self, settings: FrontendSettings, tables: TableSet | None = None) -> None:
        self.lib = library()
        self.settings = settings
        self.tables = tables if tables is not None else TableSet(settings)
        self._state = ctypes.create_string_buffer(self.lib.kws_frontend_state_size())
        self.state = ctypes.cast(self._state, ctypes.c_void_p)
        rc = self.lib.kws_frontend_init(self.state, ctypes.byref(self.tables.struct))
        if rc != 0:
            raise KwsError(f"dsp/: kws_frontend_init rejected the tables: {STATUS.get(rc, rc)}")

    def reset(self) -> None:
        """Forget buffered samples."""
        self.lib.kws_frontend_reset(self.state)

    def batch(self, clips: np.ndarray) -> np.ndarray:
        """int16 clips (B, T) -> int8 (B, frames, num_outputs), one thread."""
        clips = np.ascontiguousarray(clips, dtype=np.int16)
        num, length = clips.shape
        frames = self.settings.frames_for(length)
        out = np.empty((num, frames, self.settings.num_outputs), dtype=np.int8)
        rc = self.lib.kws_frontend_batch(self.state, _ptr(clips, ctypes.c_int16), num, length,
                                         _ptr(out, ctypes.c_int8), out.size)
        if rc != 0:
            raise KwsError(f"dsp/: kws_frontend_batch failed: {STATUS.get(rc, rc)}")
        return out

    def stream(self, samples: np.ndarray, *, max_frames: int = 64) -> np.ndarray:
        """Feed ``samples`` (int16, 1-D) to the streaming API; return the frames it produced."""
        samples = np.ascontiguousarray(samples, dtype=np.int16)
        outs = self.settings.num_outputs
        buf = np.empty(max_frames * outs, dtype=np.int8)
        used, got = ctypes.c_int32(), ctypes.c_int32()
        pieces, pos = [], 0
        while pos < samples.size:
            rest = samples[pos:]
            rc = self.lib.kws_frontend_process_frames(
                self.state, _ptr(rest, ctypes.c_int16), rest.size, ctypes.byref(used),
                _ptr(buf, ctypes.c_int8), buf.size, ctypes.byref(got))
            if rc != 0:
                raise KwsError(f"dsp/: kws_frontend_process_frames failed: {STATUS.get(rc, rc)}")
            pieces.append(buf[:got.value * outs].copy())
            pos += used.value
        flat = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int8)
        return flat.reshape(-1, outs)


_local = threading.local()


def _frontend_for(settings: FrontendSettings) -> CFrontend:
    """A per-thread cached :class:`CFrontend` (a state is not shareable between threads)."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    if settings not in cache:
        cache[settings] = CFrontend(settings, _table_set(settings))
    return cache[settings]


@functools.lru_cache(maxsize=16)
def _table_set(settings: FrontendSettings) -> TableSet:
    return TableSet(settings)


_POOL: ThreadPoolExecutor | None = None


def features_c(samples: np.ndarray, settings: FrontendSettings, *, threads: int = 2
               ) -> np.ndarray:
    """int8 features of int16 audio (..., T) -> (..., frames, num_outputs) with the C library.

    The batch is split over ``threads`` threads (ctypes releases the GIL during the call).
    """
    global _POOL
    samples = np.ascontiguousarray(samples, dtype=np.int16)
    lead = samples.shape[:-1]
    flat = samples.reshape(-1, samples.shape[-1])
    frames = settings.frames_for(samples.shape[-1])
    if flat.shape[0] < 2 * threads or threads <= 1:
        out = _frontend_for(settings).batch(flat)
    else:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kws-dsp")
        parts = np.array_split(np.arange(flat.shape[0]), threads)
        jobs = [_POOL.submit(lambda idx: _frontend_for(settings).batch(flat[idx[0]:idx[-1] + 1]),
                             idx) for idx in parts]
        out = np.concatenate([job.result() for job in jobs], axis=0)
    return out.reshape(*lead, frames, settings.num_outputs)


# ------------------------------------------------------------------ driver (fuzzing, C tests)
DRIVER_MAGIC = 0x4B575346


def write_driver_input(path: str | os.PathLike[str], tables: TableSet, samples: np.ndarray,
                       *, seed: int = 0, header: dict[str, int] | None = None) -> None:
    """Write the binary input of ``dsp/tests/driver.c`` (tables, audio, chunk seed).

    ``header`` overrides header fields (for corrupt-table tests).
    """
    head = dict(tables.header)
    head.update(header or {})
    a = tables.arrays
    samples = np.ascontiguousarray(samples, dtype=np.int16)
    values = [DRIVER_MAGIC, 1, *head.values(), a["window"].size, a["perm"].size,
              a["twiddle"].size, a["split"].size, a["mel_start"].size, a["mel_weights"].size,
              a["eps"].size, a["log2"].size, a["proj"].size, samples.size, seed & 0x7FFFFFFF]
    with open(path, "wb") as fh:
        fh.write(np.array(values, dtype=np.int32).tobytes())
        for name in ("window", "perm", "twiddle", "split", "mel_start", "mel_len",
                     "mel_weights", "eps", "log2", "proj"):
            fh.write(a[name].tobytes())
        fh.write(samples.tobytes())


def read_driver_output(path: str | os.PathLike[str]) -> tuple[int, np.ndarray, np.ndarray]:
    """Parse the driver's output: (init status, batch frames, streamed frames)."""
    data = Path(path).read_bytes()
    status, frames, outs = np.frombuffer(data[:12], dtype=np.int32)
    body = np.frombuffer(data[12:], dtype=np.int8)
    n = int(frames) * int(outs)
    if status != 0:
        return int(status), np.empty((0, 0), np.int8), np.empty((0, 0), np.int8)
    return (int(status), body[:n].reshape(frames, outs).copy(),
            body[n:2 * n].reshape(frames, outs).copy())
