"""The feature front end: int16 audio -> int8 MFCC (or log-mel) frames.

Backends compute the very same integers (see :mod:`kws.frontend.fixed` for the definition):

- ``"c"`` (default): the C library in ``dsp/`` through ctypes, split over 2 threads;
- ``"numpy"``: the readable NumPy oracle;
- others plug in with :func:`register_backend` (the ``qemu`` backend runs the Cortex-M4 build).

Example
-------
>>> import numpy as np
>>> from kws.frontend import compute_features
>>> compute_features(np.zeros(16000, np.int16), backend="numpy").shape
(49, 10)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings

#: A backend: (int16 samples (..., T), settings) -> int8 (..., frames, num_outputs).
Backend = Callable[[np.ndarray, FrontendSettings], np.ndarray]

_BACKENDS: dict[str, Callable[[], Backend]] = {}


def register_backend(name: str, loader: Callable[[], Backend]) -> None:
    """Register a backend under ``name``; ``loader()`` returns the compute function.

    The loader runs on first use, so a backend may import heavy modules or raise
    :class:`KwsError` (e.g. a missing toolchain) only when it is actually chosen.
    """
    _BACKENDS[name] = loader


def available_backends() -> list[str]:
    """Names of the registered backends."""
    return sorted(_BACKENDS)


def _load_numpy() -> Backend:
    from kws.frontend.fixed import features_numpy
    return features_numpy


def _load_c() -> Backend:
    from kws.frontend.cbackend import features_c
    return features_c


def _load_qemu() -> Backend:
    from kws.frontend.qemubackend import features_qemu
    return features_qemu


register_backend("numpy", _load_numpy)
register_backend("c", _load_c)
register_backend("qemu", _load_qemu)


def compute_features(samples: np.ndarray, settings: FrontendSettings | None = None, *,
                     backend: str = "c") -> np.ndarray:
    """int8 features of int16 audio.

    Parameters
    ----------
    samples : ndarray of int16, shape (..., T)
        16 kHz mono audio (one clip or a batch of equal-length clips).
    settings : FrontendSettings, optional
        The configuration (default: ``FrontendSettings()``).
    backend : str, keyword-only
        ``"c"`` (default), ``"numpy"`` or another registered backend.

    Returns
    -------
    ndarray of int8, shape (..., frames, num_outputs)
        ``frames = settings.frames_for(T)``; frame t covers samples [t*hop, t*hop + window).
    """
    settings = settings if settings is not None else FrontendSettings()
    samples = np.asarray(samples)
    if samples.dtype != np.int16:
        raise KwsError(f"compute_features: samples must be int16, got {samples.dtype}")
    if samples.ndim < 1:
        raise KwsError("compute_features: samples must have a time axis")
    if backend not in _BACKENDS:
        raise KwsError(f"unknown front-end backend {backend!r}; available: "
                       + ", ".join(available_backends()))
    return _BACKENDS[backend]()(samples, settings)
