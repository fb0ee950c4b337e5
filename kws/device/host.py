"""Host build of the firmware's portable C (detector, ``kws_detector`` API, audio ring) + ctypes.

The sources are compiled with the host C compiler into ``build/firmware-host/`` (rebuilt when a
source changes: the library's name carries a hash of the sources and flags), and wrapped here so
that pytest and the streaming simulation can run exactly the C the device runs.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kws.cbuild import cc_shared_library
from kws.detect import Detection, DetectorSettings
from kws.errors import KwsError
from kws.paths import REPO_ROOT

REPO = REPO_ROOT
FIRMWARE = REPO / "firmware"
SOURCES = (
    FIRMWARE / "detector" / "src" / "kws_detect.c",
    FIRMWARE / "detector" / "src" / "kws_detector.c",
    FIRMWARE / "app" / "audio_ring.c",
    FIRMWARE / "app" / "jsonl.c",
    FIRMWARE / "detector" / "host" / "kws_host_shim.c",
)
INCLUDES = (FIRMWARE / "detector" / "include", FIRMWARE / "app")
CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror")


def build_host_library(*, build_dir: Path | None = None, extra_flags: Sequence[str] = ()
                       ) -> Path:
    """Compile the portable firmware C into a shared library; return its path (cached)."""
    build_dir = build_dir or REPO / "build" / "firmware-host"
    headers = sorted(p for inc in INCLUDES for p in inc.glob("*.h"))
    digest = hashlib.sha256()
    for path in (*SOURCES, *headers):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(" ".join((*CFLAGS, *extra_flags)).encode())
    lib = build_dir / f"libkws_fw_{digest.hexdigest()[:12]}.so"
    if lib.exists():
        return lib
    return cc_shared_library(SOURCES, lib, flags=[*CFLAGS, *extra_flags], includes=INCLUDES)


# ------------------------------------------------------------------ struct mirrors
class DetectConfig(ctypes.Structure):
    """``kws_detect_config``."""

    _fields_ = [("num_classes", ctypes.c_uint16), ("average_window", ctypes.c_uint16),
                ("refractory_ms", ctypes.c_uint32), ("output_zero_point", ctypes.c_int32),
                ("thresholds", ctypes.POINTER(ctypes.c_uint16))]


class CDetection(ctypes.Structure):
    """``kws_detection``."""

    _fields_ = [("time_ms", ctypes.c_uint32), ("label_index", ctypes.c_uint16),
                ("score", ctypes.c_uint8)]


FRAME_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16),
                            ctypes.c_size_t, ctypes.POINTER(ctypes.c_int8), ctypes.c_size_t)
MODEL_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int8),
                            ctypes.c_size_t, ctypes.POINTER(ctypes.c_int8), ctypes.c_size_t)


class DetectorConfig(ctypes.Structure):
    """``kws_detector_config``."""

    _fields_ = [("sample_rate", ctypes.c_uint32), ("window_samples", ctypes.c_uint16),
                ("hop_samples", ctypes.c_uint16), ("num_frames", ctypes.c_uint16),
                ("num_features", ctypes.c_uint16), ("model_every_hops", ctypes.c_uint16),
                ("frontend_settings_hash", ctypes.c_uint32),
                ("model_settings_hash", ctypes.c_uint32),
                ("detect", DetectConfig),
                ("frame_fn", FRAME_FN), ("frame_ctx", ctypes.c_void_p),
                ("model_fn", MODEL_FN), ("model_ctx", ctypes.c_void_p)]


@functools.lru_cache(maxsize=4)
def load_library(path: Path | None = None) -> ctypes.CDLL:
    """Load (building if needed) the host library and declare its signatures."""
    lib = ctypes.CDLL(str(path or build_host_library()))
    vp, sz, i16p, i8p = ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int16), \
        ctypes.POINTER(ctypes.c_int8)
    sigs = {
        "kws_detect_init": (ctypes.c_int, [vp, ctypes.POINTER(DetectConfig)]),
        "kws_detect_reset": (ctypes.c_int, [vp]),
        "kws_detect_process_s8": (ctypes.c_int, [vp, i8p, sz, ctypes.c_uint32,
                                                 ctypes.POINTER(CDetection)]),
        "kws_detect_scores": (ctypes.c_int, [vp, ctypes.POINTER(ctypes.c_uint8), sz]),
        "kws_detector_init": (ctypes.c_int, [vp, ctypes.POINTER(DetectorConfig)]),
        "kws_detector_reset": (ctypes.c_int, [vp]),
        "kws_detector_process": (ctypes.c_int, [vp, i16p, sz, ctypes.POINTER(CDetection), sz,
                                                ctypes.POINTER(sz)]),
        "kws_detector_skip": (ctypes.c_int, [vp, ctypes.c_uint32]),
        "kws_audio_ring_init": (ctypes.c_int, [vp, i16p, sz, sz, ctypes.c_uint32]),
        "kws_audio_ring_reset": (ctypes.c_int, [vp]),
        "kws_audio_ring_push": (ctypes.c_int, [vp, i16p, sz]),
        "kws_audio_ring_pop": (ctypes.c_int, [vp, i16p, sz, ctypes.POINTER(ctypes.c_uint32)]),
        "kws_audio_ring_count": (ctypes.c_uint32, [vp]),
        "kws_audio_ring_overruns": (ctypes.c_uint32, [vp]),
        "kws_audio_dma_init": (ctypes.c_int, [vp, i16p, sz, vp]),
        "kws_audio_dma_half_complete": (ctypes.c_int, [vp]),
        "kws_audio_dma_full_complete": (ctypes.c_int, [vp]),
        "kws_audio_dma_next_half": (vp, [vp]),
        "kws_fmt_u32": (ctypes.c_int, [ctypes.c_char_p, sz, ctypes.c_uint32]),
        "kws_jsonl_detection": (ctypes.c_int, [ctypes.c_char_p, sz, ctypes.c_uint32,
                                               ctypes.c_char_p, ctypes.c_uint32]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    for name in ("detect_state", "detector_state", "detector_config", "audio_ring",
                 "audio_dma"):
        fn = getattr(lib, f"kws_host_sizeof_{name}")
        fn.restype, fn.argtypes = ctypes.c_size_t, []
    if lib.kws_host_sizeof_detector_config() != ctypes.sizeof(DetectorConfig):
        raise KwsError("firmware host library: kws_detector_config layout differs from ctypes")
    return lib


def _buffer(size: int) -> ctypes.Array:
    return (ctypes.c_uint64 * ((size + 7) // 8))()


def _ptr(array: np.ndarray, ctype: type) -> ctypes._Pointer:
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _thresholds(settings: DetectorSettings) -> ctypes.Array:
    return (ctypes.c_uint16 * len(settings.thresholds))(*settings.thresholds)


class CDetector:
    """ctypes wrapper of ``kws_detect_*`` (the decision stage alone)."""

    def __init__(self, settings: DetectorSettings, *, output_zero_point: int = -128) -> None:
        self.lib = load_library()
        self.settings = settings
        self._th = _thresholds(settings)
        self._cfg = DetectConfig(len(settings.labels), settings.average_window,
                                 settings.refractory_ms, output_zero_point, self._th)
        self._state = _buffer(self.lib.kws_host_sizeof_detect_state())
        rc = self.lib.kws_detect_init(self._state, ctypes.byref(self._cfg))
        if rc != 0:
            raise KwsError(f"kws_detect_init failed with {rc}")

    def process(self, output: np.ndarray, *, time_ms: int) -> Detection | None:
        """Push one int8 output vector; return a detection or None."""
        q = np.ascontiguousarray(output, dtype=np.int8)
        hit = CDetection()
        rc = self.lib.kws_detect_process_s8(self._state, _ptr(q, ctypes.c_int8), q.size,
                                            time_ms, ctypes.byref(hit))
        if rc < 0:
            raise KwsError(f"kws_detect_process_s8 failed with {rc}")
        if rc == 0:
            return None
        return Detection(hit.time_ms, self.settings.labels[hit.label_index], hit.score)


class CStreamDetector:
    """ctypes wrapper of the ``kws_detector_*`` product API with Python front end and model.

    ``frame_fn(window int16 (L,)) -> int8 (num_features,)`` and
    ``model_fn(features int8 (frames, features)) -> int8 (classes,)`` are called back from C.
    """

    def __init__(self, *, sample_rate: int, window: int, hop: int, num_frames: int,
                 num_features: int, detector: DetectorSettings, output_zero_point: int,
                 frame_fn: Callable[[np.ndarray], np.ndarray],
                 model_fn: Callable[[np.ndarray], np.ndarray],
                 frontend_hash: int = 0, model_hash: int = 0) -> None:
        self.lib = load_library()
        self.detector = detector
        self.errors: list[BaseException] = []

        def frame_cb(_ctx, window_p, window_len, frame_p, frame_len):  # noqa: ANN001
            try:
                w = np.ctypeslib.as_array(window_p, shape=(window_len,)).copy()
                out = np.asarray(frame_fn(w), dtype=np.int8)
                ctypes.memmove(frame_p, out.ctypes.data, frame_len)
                return 0
            except BaseException as exc:  # noqa: BLE001 - reported after the C call
                self.errors.append(exc)
                return -1

        def model_cb(_ctx, in_p, in_len, out_p, out_len):  # noqa: ANN001
            try:
                x = np.ctypeslib.as_array(in_p, shape=(in_len,)).copy()
                out = np.asarray(model_fn(x.reshape(num_frames, num_features)), dtype=np.int8)
                ctypes.memmove(out_p, out.ctypes.data, out_len)
                return 0
            except BaseException as exc:  # noqa: BLE001
                self.errors.append(exc)
                return -1

        self._frame_cb, self._model_cb = FRAME_FN(frame_cb), MODEL_FN(model_cb)
        self._th = _thresholds(detector)
        self._cfg = DetectorConfig(
            sample_rate, window, hop, num_frames, num_features, detector.model_every_hops,
            frontend_hash, model_hash,
            DetectConfig(len(detector.labels), detector.average_window, detector.refractory_ms,
                         output_zero_point, self._th),
            self._frame_cb, None, self._model_cb, None)
        self._state = _buffer(self.lib.kws_host_sizeof_detector_state())
        self.init_rc = self.lib.kws_detector_init(self._state, ctypes.byref(self._cfg))

    def process(self, samples: np.ndarray, *, max_events: int = 8) -> list[Detection]:
        """Feed int16 samples; return the detections."""
        x = np.ascontiguousarray(samples, dtype=np.int16)
        events = (CDetection * max_events)()
        count = ctypes.c_size_t(0)
        rc = self.lib.kws_detector_process(self._state, _ptr(x, ctypes.c_int16), x.size,
                                           events, max_events, ctypes.byref(count))
        if self.errors:
            raise self.errors[0]
        if rc != 0:
            raise KwsError(f"kws_detector_process failed with {rc}")
        return [Detection(e.time_ms, self.detector.labels[e.label_index], e.score)
                for e in events[:count.value]]

    def skip(self, n: int) -> None:
        """Report a gap of ``n`` dropped samples."""
        if self.lib.kws_detector_skip(self._state, n) != 0:
            raise KwsError("kws_detector_skip failed")

    def reset(self) -> None:
        """``kws_detector_reset``."""
        if self.lib.kws_detector_reset(self._state) != 0:
            raise KwsError("kws_detector_reset failed")


class CAudioRing:
    """ctypes wrapper of ``kws_audio_ring`` plus its DMA double buffer."""

    def __init__(self, *, block_samples: int, capacity: int) -> None:
        self.lib = load_library()
        self.block = block_samples
        self._storage = np.zeros(block_samples * capacity, dtype=np.int16)
        self._dma_buf = np.zeros(2 * block_samples, dtype=np.int16)
        self._ring = _buffer(self.lib.kws_host_sizeof_audio_ring())
        self._dma = _buffer(self.lib.kws_host_sizeof_audio_dma())
        self.init_rc = self.lib.kws_audio_ring_init(
            self._ring, _ptr(self._storage, ctypes.c_int16), self._storage.size,
            block_samples, capacity)
        if self.init_rc == 0:
            rc = self.lib.kws_audio_dma_init(self._dma, _ptr(self._dma_buf, ctypes.c_int16),
                                             self._dma_buf.size, self._ring)
            if rc != 0:
                raise KwsError(f"kws_audio_dma_init failed with {rc}")

    @property
    def overruns(self) -> int:
        """Blocks dropped so far (``kws_audio_ring_overruns``)."""
        return int(self.lib.kws_audio_ring_overruns(self._ring))

    def dma_deliver(self, samples: np.ndarray) -> int:
        """Act as the DMA hardware: fill the next half with ``samples`` and raise its callback.

        Returns the callback's result (0 stored, 1 dropped)."""
        half = self.lib.kws_audio_dma_next_half(self._dma)
        ctypes.memmove(half, np.ascontiguousarray(samples, np.int16).ctypes.data,
                       2 * self.block)
        first = half == self._dma_buf.ctypes.data
        fn = self.lib.kws_audio_dma_half_complete if first else \
            self.lib.kws_audio_dma_full_complete
        return fn(self._dma)

    def push(self, samples: np.ndarray) -> int:
        """Push a block directly (0 stored, 1 dropped, < 0 error)."""
        x = np.ascontiguousarray(samples, np.int16)
        return self.lib.kws_audio_ring_push(self._ring, _ptr(x, ctypes.c_int16), x.size)

    def pop(self) -> tuple[np.ndarray, int] | None:
        """Pop one block: (samples, blocks dropped just before it), or None when empty."""
        out = np.zeros(self.block, dtype=np.int16)
        gap = ctypes.c_uint32(0)
        rc = self.lib.kws_audio_ring_pop(self._ring, _ptr(out, ctypes.c_int16), out.size,
                                         ctypes.byref(gap))
        if rc == -4:
            return None
        if rc != 0:
            raise KwsError(f"kws_audio_ring_pop failed with {rc}")
        return out, int(gap.value)

    def count(self) -> int:
        """Blocks waiting."""
        return int(self.lib.kws_audio_ring_count(self._ring))
