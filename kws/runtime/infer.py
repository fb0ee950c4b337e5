"""Run an int8 .tflite model on a batch of int8 inputs with one of three backends.

- ``tflm``: the TensorFlow Lite Micro reference interpreter (PyPI ``tflite-micro``), the oracle;
- ``c``: the generated C and the C runtime, built for the host (:class:`HostModel`);
- ``qemu``: the same C built for the Cortex-M4 and run under qemu-system-arm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from kws.errors import KwsError
from kws.export.tflite_model import load_tflite

BACKENDS = ("tflm", "c", "qemu")


_INT8 = np.dtype(np.int8)


def _batch(model_path: Path, x: np.ndarray, in_shape: tuple[int, ...], name: str,
           dtype: np.dtype = _INT8) -> np.ndarray:
    """Return ``x`` as (N,) + in_shape of ``dtype``, or raise naming the shape problem."""
    if x.dtype != dtype:
        raise KwsError(f"{name}: input dtype is {x.dtype}; the model takes {dtype}")
    if tuple(x.shape) == tuple(in_shape):
        return x[None]
    if tuple(x.shape[1:]) == tuple(in_shape):
        return x
    inner = tuple(in_shape[1:]) if in_shape and in_shape[0] == 1 else None
    if inner is not None and tuple(x.shape[1:]) == inner:
        return x.reshape((x.shape[0],) + tuple(in_shape))
    raise KwsError(f"{name}: input shape {x.shape} does not match the input {tuple(in_shape)} "
                   f"of {model_path.name} (give one input or a batch of them)")


def _tflm_interpreter(model_path: Path):
    from tflite_micro import runtime

    try:
        return runtime.Interpreter.from_bytes(model_path.read_bytes())
    except OSError as exc:
        raise KwsError(f"{model_path}: cannot read: {exc.strerror}") from exc
    except (RuntimeError, ValueError) as exc:
        msg = " ".join(str(exc).split())[:300]
        raise KwsError(f"{model_path}: TFLite Micro cannot run this model: {msg}") from exc


def tflm_input(model_path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of the model's input as TFLite Micro sees it (any model TFLM runs)."""
    d = _tflm_interpreter(model_path).get_input_details(0)
    return tuple(int(v) for v in d["shape"]), np.dtype(d["dtype"])


def run_tflm(model_path: Path, xs: np.ndarray) -> np.ndarray:
    """Run each input of ``xs`` (N, *input shape) through the tflite-micro interpreter."""
    interp = _tflm_interpreter(model_path)
    outs = []
    for x in tqdm(xs, desc="tflm", unit="input", leave=False, disable=len(xs) < 50):
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0), copy=True))
    return np.stack(outs)


def infer(model_path: str | Path, x: np.ndarray, *, backend: str = "c", path: str | None = None,
          input_name: str = "input") -> np.ndarray:
    """Run ``model_path`` on ``x`` (one input, or a batch on the first axis); int8 out.

    ``path`` picks the C kernels: ``portable`` (default for ``c``) or ``dsp`` (the Cortex-M4
    path; default for ``qemu``, emulated on the host for ``c``).

    Returns
    -------
    np.ndarray
        int8, ``(N,) + output shape`` for a batch, ``output shape`` for one input.
    """
    model_path = Path(model_path)
    if backend not in BACKENDS:
        raise KwsError(f"backend {backend!r}: must be one of {', '.join(BACKENDS)}")
    if backend == "tflm":  # whatever TFLM runs: no need for the C runtime's support
        in_shape, dtype = tflm_input(model_path)
    else:
        m = load_tflite(model_path)
        in_shape, dtype = m.tensors[m.inputs[0]].shape, np.dtype(np.int8)
    single = tuple(x.shape) == tuple(in_shape)
    xs = _batch(model_path, x, in_shape, input_name, dtype)
    if backend == "tflm":
        ys = run_tflm(model_path, xs)
    elif backend == "c":
        from kws.runtime.host import HostModel

        hm = HostModel(model_path, path=path or "portable")
        ys = np.stack([hm.invoke(v) for v in tqdm(xs, desc="c", unit="input", leave=False,
                                                   disable=len(xs) < 50)])
    else:
        from kws.runtime import target

        ys = target.run_qemu(model_path, xs, path=path or "dsp")
    return ys[0] if single else ys
