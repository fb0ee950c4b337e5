"""The streaming simulation: what the firmware prints for a WAV, computed in Python.

The firmware (``firmware/app``, through the ``kws_detector_*`` C API) and this module follow the
same schedule, so their detection lines are equal, character for character:

- **Front end**: frame ``f`` covers samples ``[f * hop, f * hop + window)`` and is computed as
  soon as its last sample has arrived (one hop at a time; only the newest frame is new).
- **Feature window**: the newest ``num_frames`` frames, oldest first, slide by one frame per hop.
- **Model**: runs at frame ``f`` when the window is full (``f >= num_frames - 1``) and
  ``(f - (num_frames - 1)) % N == 0``, ``N = model_every_hops``.
- **Time** of that inference: ``(f * hop + window) * 1000 // sample_rate`` ms, the end of the
  newest sample it has seen.
- **Detector**: :class:`kws.detect.Detector` on the int8 outputs, one step per inference.

Batch framing of the whole stream gives exactly the frames that hop-by-hop streaming gives, so
the features are computed in one vectorized call; the model inferences are independent of each
other, so they run in parallel worker processes; only the detector is sequential.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kws.detect import Detection, Detector, DetectorSettings
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.run import model_path as model_path_of
from kws.run import read_detector, read_labels, read_model, read_settings

#: A model backend: int8 inputs (B, frames, coeffs) -> int8 outputs (B, classes).
ModelFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class StreamModel:
    """What the simulation needs to know about an int8 model."""

    path: Path
    labels: tuple[str, ...]
    frontend: FrontendSettings
    output_zero_point: int
    input_shape: tuple[int, ...]


def load_run_model(model_path: str | os.PathLike[str]) -> StreamModel:
    """Read ``model.tflite`` and the ``labels.txt`` / ``settings.json`` beside it.

    ``model_path`` may be the .tflite file or the RUN folder holding ``model.tflite``.
    """
    path = model_path_of(model_path)
    data = read_model(path)
    from tflite_micro import runtime

    try:
        interp = runtime.Interpreter.from_bytes(data)
    except Exception as exc:  # noqa: BLE001 - the interpreter raises assorted types
        raise KwsError(f"{path}: not a loadable int8 TFLite model ({exc})".splitlines()[0])
    inp, out = interp.get_input_details(0), interp.get_output_details(0)
    if inp["dtype"] != np.int8 or out["dtype"] != np.int8:
        raise KwsError(f"{path}: model input and output must be int8")
    frontend = read_settings(path)
    labels = read_labels(path, num_classes=int(out["shape"][-1]))
    shape = tuple(int(v) for v in inp["shape"])
    if int(np.prod(shape[1:])) != frontend.num_frames * frontend.num_outputs:
        raise KwsError(f"{path}: input shape {shape} does not hold {frontend.num_frames} x "
                       f"{frontend.num_outputs} features")
    return StreamModel(path=path, labels=labels, frontend=frontend,
                       output_zero_point=int(out["quantization_parameters"]["zero_points"][0]),
                       input_shape=shape)


# ------------------------------------------------------------------ model backends
_WORKER: dict[str, object] = {}


def _tflm_worker_init(model_bytes: bytes) -> None:
    from tflite_micro import runtime

    _WORKER.clear()
    _WORKER["interp"] = runtime.Interpreter.from_bytes(model_bytes)


def _c_worker_init(model_path: str) -> None:
    from kws.runtime.host import HostModel

    _WORKER.clear()
    _WORKER["c"] = HostModel(model_path, path="dsp")


def _tflm_worker_run(batch: np.ndarray) -> np.ndarray:
    outs = []
    if "c" in _WORKER:
        host = _WORKER["c"]
        for x in batch:
            outs.append(host.invoke(x.reshape(host.input_shape)).reshape(-1))
    else:
        interp = _WORKER["interp"]
        shape = tuple(int(v) for v in interp.get_input_details(0)["shape"])
        for x in batch:
            interp.set_input(x.reshape(shape), 0)
            interp.invoke()
            outs.append(np.asarray(interp.get_output(0)).reshape(-1).copy())
    return np.stack(outs) if outs else np.zeros((0, 0), np.int8)


def c_runtime_available() -> bool:
    """True when the host C runtime binding (``kws.runtime.host``) is installed."""
    try:
        import kws.runtime.host  # noqa: F401
    except ImportError:
        return False
    return True


def tflm_model_fn(model: StreamModel, *, workers: int = 2, engine: str = "tflm") -> ModelFn:
    """The int8 model over worker processes: ``engine="tflm"`` is the TFLite Micro reference
    interpreter; ``"c"`` our C runtime built for the host (its Cortex-M4 path with emulated
    intrinsics) through ctypes, bit-exact with the reference and about 2x faster."""
    if engine == "c":
        init, arg = _c_worker_init, str(model.path)
    elif engine == "tflm":
        init, arg = _tflm_worker_init, model.path.read_bytes()
    else:
        raise KwsError(f"unknown model engine {engine!r} (tflm or c)")

    def run(inputs: np.ndarray) -> np.ndarray:
        if len(inputs) == 0:
            return np.zeros((0, len(model.labels)), np.int8)
        n = max(1, min(workers, len(inputs) // 64 or 1))
        if n == 1:
            init(arg)
            return _tflm_worker_run(inputs)
        from tqdm import tqdm

        parts = np.array_split(inputs, max(n * 8, len(inputs) // 500))
        with ProcessPoolExecutor(n, initializer=init, initargs=(arg,)) as pool:
            done = tqdm(pool.map(_tflm_worker_run, parts), total=len(parts), unit="part",
                        desc=f"model ({engine})", disable=len(inputs) < 5000, leave=False)
            return np.concatenate(list(done))

    return run


# ------------------------------------------------------------------ the simulation
def stream_features(samples: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """All frames of a stream with the C front end (bit-exact with the NumPy oracle, faster),
    or the NumPy one when the C library cannot be built here."""
    from kws.frontend import compute_features
    from kws.frontend.fixed import features_numpy

    try:
        return compute_features(samples, settings, backend="c")
    except KwsError:
        return features_numpy(samples, settings)


def inference_frames(num_frames_total: int, *, window_frames: int, every: int) -> np.ndarray:
    """Indices ``f`` of the newest frame of each inference (see the module docstring)."""
    return np.arange(window_frames - 1, num_frames_total, every, dtype=np.int64)


def inference_times_ms(frames: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """Time in ms of each inference: ``(f * hop + window) * 1000 // sample_rate``."""
    end = frames * settings.hop_samples + settings.window_samples
    return (end * 1000) // settings.sample_rate


def simulate(samples: np.ndarray, *, frontend: FrontendSettings, detector: DetectorSettings,
             model_fn: ModelFn, output_zero_point: int,
             features: np.ndarray | None = None) -> list[Detection]:
    """Run the streaming pipeline over int16 ``samples`` and return the detections.

    Parameters
    ----------
    samples : ndarray of int16, shape (T,)
        16 kHz mono audio (already converted by :func:`kws.audio.load_audio`).
    frontend, detector : settings
        Front end and detector parameters.
    model_fn : callable
        int8 (B, frames, coeffs) -> int8 (B, classes).
    output_zero_point : int
        The model's output zero point.
    features : ndarray of int8, optional
        Precomputed features of ``samples`` (frames, coeffs); computed with the NumPy front end
        if not given.
    """
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.dtype != np.int16:
        raise KwsError(f"stream: samples must be 1-D int16, got {samples.dtype} {samples.shape}")
    if features is None:
        features = stream_features(samples, frontend)
    frames = inference_frames(len(features), window_frames=frontend.num_frames,
                              every=detector.model_every_hops)
    if len(frames) == 0:
        return []
    windows = np.lib.stride_tricks.sliding_window_view(
        features, (frontend.num_frames, features.shape[1]))[:, 0]
    inputs = windows[frames - (frontend.num_frames - 1)]
    outputs = np.asarray(model_fn(np.ascontiguousarray(inputs)), dtype=np.int8)
    times = inference_times_ms(frames, frontend)
    det = Detector(detector, output_zero_point=output_zero_point)
    found = []
    for out, t in zip(outputs, times):
        hit = det.process(out, time_ms=int(t))
        if hit is not None:
            found.append(hit)
    return found


def recording_outputs(recordings: Sequence[np.ndarray], *, frontend: FrontendSettings,
                      model_every_hops: int, model_fn: ModelFn, chunk: int = 200_000
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The model's int8 outputs and inference times (ms) over each recording, on the
    firmware's schedule (module docstring), each recording starting from a fresh detector.

    The windows of all recordings go to ``model_fn`` together, ``chunk`` at a time (batching
    many short recordings keeps the worker processes busy; chunks bound the memory).

    Returns
    -------
    list of (outputs (N_i, C) int8, times_ms (N_i,) int64), one per recording; a recording
    shorter than one model window gives N_i = 0.
    """
    results: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(recordings)
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []
    size = 0

    def flush() -> None:
        nonlocal pending, size
        if not pending:
            return
        outs = np.asarray(model_fn(np.concatenate([w for _, w, _ in pending])), np.int8)
        pos = 0
        for i, w, t in pending:
            results[i] = (outs[pos:pos + len(w)], t)
            pos += len(w)
        pending, size = [], 0

    nf = frontend.num_frames
    for i, samples in enumerate(recordings):
        feats = stream_features(np.asarray(samples, np.int16), frontend)
        frames = inference_frames(len(feats), window_frames=nf, every=model_every_hops)
        if len(frames) == 0:
            results[i] = (np.zeros((0, 0), np.int8), np.zeros(0, np.int64))
            continue
        wins = np.lib.stride_tricks.sliding_window_view(feats, (nf, feats.shape[1]))[:, 0]
        pending.append((i, np.ascontiguousarray(wins[frames - (nf - 1)]),
                        inference_times_ms(frames, frontend)))
        size += len(frames)
        if size >= chunk:
            flush()
    flush()
    return [r for r in results if r is not None]


def detection_lines(detections: Sequence[Detection]) -> list[str]:
    """The JSON lines that ``kws stream`` and the firmware print."""
    return [d.to_json() for d in detections]


def detector_settings_for(model: StreamModel, **overrides: int) -> DetectorSettings:
    """The detector settings of a RUN: ``detector.json`` beside the model if present, else
    :meth:`DetectorSettings.default_for` its labels; then ``overrides`` (``threshold`` sets
    every keyword's threshold; other keys are DetectorSettings fields; None is ignored)."""
    base = read_detector(model.path) or DetectorSettings.default_for(model.labels)
    fields = base.to_dict()
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "threshold":
            fields["thresholds"] = [t if t == 256 else int(value) for t in base.thresholds]
        elif key in fields:
            fields[key] = int(value)
        else:
            raise KwsError(f"unknown detector setting {key!r}")
    return DetectorSettings.from_dict(fields)


def stream_file(model_path: str | os.PathLike[str], wav_path: str | os.PathLike[str], *,
                detector: DetectorSettings | None = None, workers: int = 2,
                engine: str | None = None) -> list[Detection]:
    """Load a model and a WAV (any format :func:`kws.audio.load_audio` converts) and simulate.

    ``engine``: "c" (the C runtime through ctypes, the default when available) or "tflm"."""
    from kws.audio import load_audio

    model = load_run_model(model_path)
    detector = detector or detector_settings_for(model)
    if detector.labels != model.labels:
        raise KwsError(f"{model.path}: detector labels {detector.labels} differ from the "
                       f"model's {model.labels}")
    samples = load_audio(wav_path)
    return simulate(samples, frontend=model.frontend, detector=detector,
                    model_fn=tflm_model_fn(model, workers=workers, engine=engine or (
                        "c" if c_runtime_available() else "tflm")),
                    output_zero_point=model.output_zero_point)
