"""The streaming simulation: what the firmware prints for a WAV, computed in Python.

The firmware (``firmware/app``, through the ``kws_detector_*`` C API) and this module follow the
same schedule, so their detection lines are equal, character for character:

- **Front end**: frame ``f`` covers samples ``[f * hop, f * hop + window)`` and is computed as
  soon as its last sample has arrived (one hop at a time; only the newest frame is new).
- **Feature window**: the newest ``num_frames`` frames, oldest first, slide by one frame per hop.
- **Model**: runs at frame ``f`` when the window is full (``f >= num_frames - 1``) and
  ``(f - (num_frames - 1)) % N == 0``, ``N = model_every_hops``, unless the voice-activity
  gate (:mod:`kws.gate`, ``detector.gate``; it steps on every frame) is closed at frame ``f``:
  then that inference is skipped and the detector is not stepped.
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kws.detect import Detection, Detector, DetectorSettings
from kws.ensemble import mean_outputs
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.run import (
    ENSEMBLE,
    ensemble_members,
    read_detector,
    read_labels,
    read_model,
    read_settings,
    run_folder,
)
from kws.run import model_path as model_path_of

#: A model backend: int8 inputs (B, frames, coeffs) -> int8 outputs (B, classes).
ModelFn = Callable[[np.ndarray], np.ndarray]
#: A streaming backend: every int8 frame of a stream (F, coeffs), fed from the first, -> the
#: output for the window ending at each frame (F, classes) (valid from frame num_frames - 1).
StepFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class StreamModel:
    """What the simulation needs to know about an int8 model."""

    path: Path
    labels: tuple[str, ...]
    frontend: FrontendSettings
    output_zero_point: int
    input_shape: tuple[int, ...]
    #: An ensemble's member model files (its output is their :func:`kws.ensemble.mean_outputs`;
    #: ``path`` is then its ``ensemble.json``); empty for one model.
    members: tuple[Path, ...] = ()

    @property
    def model_files(self) -> tuple[Path, ...]:
        """The .tflite files whose outputs make the model's: the members, or ``path``."""
        return self.members or (self.path,)


def load_run_model(model_path: str | os.PathLike[str]) -> StreamModel:
    """Read ``model.tflite`` and the ``labels.txt`` / ``settings.json`` beside it.

    ``model_path`` may be the .tflite file, the RUN folder holding ``model.tflite``, or an
    ensemble folder (:mod:`kws.ensemble`; every member is checked the same way).
    """
    members = ensemble_members(model_path)
    if members is not None:
        first = load_run_model(members[0])
        for m in members[1:]:
            other = load_run_model(m)
            if (other.labels, other.frontend, other.output_zero_point, other.input_shape) != (
                    first.labels, first.frontend, first.output_zero_point, first.input_shape):
                raise KwsError(f"{m}: labels, front end or input/output quantization differ "
                               f"from {members[0]}'s")
        folder = run_folder(model_path)
        if (read_labels(folder, num_classes=len(first.labels)), read_settings(folder)) != (
                first.labels, first.frontend):
            raise KwsError(f"{folder}: labels.txt or settings.json differ from the members'")
        return replace(first, path=folder / ENSEMBLE, members=members)
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
    try:            # int16 prepared pointwise weights: the same outputs, about 7 % faster
        _WORKER["c"] = HostModel(model_path, path="dsp", prepare=True)
    except KwsError:
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


def host_step_fn(model: StreamModel) -> StepFn:
    """The model's generated step function (``kws_model_step``, our C runtime on the host)
    over every frame of a stream from a reset (an ensemble: every member's, averaged); raises
    KwsError when it has none."""
    from kws.runtime.host import HostModel

    hosts = [HostModel(f, path="dsp") for f in model.model_files]

    def run(frames: np.ndarray) -> np.ndarray:
        outs = []
        for host in hosts:
            host.stream_reset()
            outs.append(host.steps(frames)[0])
        return mean_outputs(outs)

    return run


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
    intrinsics) through ctypes, bit-exact with the reference and about 2x faster. An
    ensemble's output is its members' averaged (:func:`kws.ensemble.mean_outputs`)."""
    if engine == "c":
        init, args = _c_worker_init, [str(f) for f in model.model_files]
    elif engine == "tflm":
        init, args = _tflm_worker_init, [f.read_bytes() for f in model.model_files]
    else:
        raise KwsError(f"unknown model engine {engine!r} (tflm or c)")

    def one(inputs: np.ndarray, arg: str | bytes) -> np.ndarray:
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

    def run(inputs: np.ndarray) -> np.ndarray:
        if len(inputs) == 0:
            return np.zeros((0, len(model.labels)), np.int8)
        return mean_outputs([one(inputs, arg) for arg in args])

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


def scheduled_frames(samples: np.ndarray, num_frames_total: int, *,
                     frontend: FrontendSettings, detector: DetectorSettings) -> np.ndarray:
    """Newest frame of every inference that runs: the schedule, less the frames where the
    voice-activity gate (``detector.gate``, :mod:`kws.gate`) is closed."""
    frames = inference_frames(num_frames_total, window_frames=frontend.num_frames,
                              every=detector.model_every_hops)
    if detector.gate is None or len(frames) == 0:
        return frames
    from kws.gate import gate_open

    is_open = gate_open(samples, detector.gate, window=frontend.window_samples,
                        hop=frontend.hop_samples)
    return frames[is_open[frames]]


def posteriors(samples: np.ndarray, *, frontend: FrontendSettings, detector: DetectorSettings,
               model_fn: ModelFn | None = None, features: np.ndarray | None = None,
               step_fn: StepFn | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every inference the device runs on int16 ``samples``: its time and int8 output.

    Parameters
    ----------
    samples : ndarray of int16, shape (T,)
        16 kHz mono audio (already converted by :func:`kws.audio.load_audio`).
    frontend, detector : settings
        Front end and detector parameters (the stride and the gate come from ``detector``).
    model_fn : callable
        int8 (B, frames, coeffs) -> int8 (B, classes).
    features : ndarray of int8, optional
        Precomputed features of ``samples`` (frames, coeffs); computed with the C front end
        (or the NumPy one) if not given.
    step_fn : callable, optional
        Instead of ``model_fn``: a streaming model stepped over every frame (``kws_model_step``
        on the host, :func:`host_step_fn`); its output at a frame equals the window model's on
        the window ending there, so the result is the same, one step per frame.

    Returns
    -------
    times_ms : ndarray of int64, shape (inferences,)
    outputs : ndarray of int8, shape (inferences, classes)
    """
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.dtype != np.int16:
        raise KwsError(f"stream: samples must be 1-D int16, got {samples.dtype} {samples.shape}")
    if features is None:
        features = stream_features(samples, frontend)
    frames = scheduled_frames(samples, len(features), frontend=frontend, detector=detector)
    if len(frames) == 0:
        return np.zeros(0, np.int64), np.zeros((0, len(detector.labels)), np.int8)
    if step_fn is not None:
        per_frame = np.asarray(step_fn(np.ascontiguousarray(features[:frames[-1] + 1])),
                               dtype=np.int8)
        return inference_times_ms(frames, frontend), per_frame[frames]
    if model_fn is None:
        raise KwsError("stream: give model_fn or step_fn")
    windows = np.lib.stride_tricks.sliding_window_view(
        features, (frontend.num_frames, features.shape[1]))[:, 0]
    inputs = windows[frames - (frontend.num_frames - 1)]
    outputs = np.asarray(model_fn(np.ascontiguousarray(inputs)), dtype=np.int8)
    return inference_times_ms(frames, frontend), outputs


def detect_all(times_ms: np.ndarray, outputs: np.ndarray, *, detector: DetectorSettings,
               output_zero_point: int) -> list[Detection]:
    """The detector over a sequence of inferences (``posteriors``' result)."""
    det = Detector(detector, output_zero_point=output_zero_point)
    found = []
    for out, t in zip(outputs, times_ms):
        hit = det.process(out, time_ms=int(t))
        if hit is not None:
            found.append(hit)
    return found


def simulate(samples: np.ndarray, *, frontend: FrontendSettings, detector: DetectorSettings,
             model_fn: ModelFn, output_zero_point: int,
             features: np.ndarray | None = None) -> list[Detection]:
    """Run the streaming pipeline over int16 ``samples`` and return the detections
    (:func:`posteriors`, then the detector; same parameters, and the model's output zero
    point)."""
    times, outputs = posteriors(samples, frontend=frontend, detector=detector,
                                model_fn=model_fn, features=features)
    return detect_all(times, outputs, detector=detector, output_zero_point=output_zero_point)


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


def _step_worker_run(job: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The worker's step function over the features ``job[0]`` from a reset, at the frames
    ``job[1]``."""
    feats, frames = job
    host = _WORKER["c"]
    host.stream_reset()
    return host.steps(feats[:frames[-1] + 1])[0][frames]


def recording_outputs_stepped(recordings: Sequence[np.ndarray], *, model: StreamModel,
                              model_every_hops: int, workers: int = 2
                              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`recording_outputs` of a streamable model by its step function (``kws_model_step``
    on the host, one step per frame from a reset at the start of each recording), ``workers``
    processes over the recordings: the same outputs (a step's output once the window is full
    equals the window model's on the window ending there), a fraction of the work. An
    ensemble: each member's step function in turn, the outputs averaged."""
    nf = model.frontend.num_frames
    results: list[tuple[np.ndarray, np.ndarray]] = []
    jobs, where = [], []
    for i, samples in enumerate(recordings):
        feats = stream_features(np.asarray(samples, np.int16), model.frontend)
        frames = inference_frames(len(feats), window_frames=nf, every=model_every_hops)
        results.append((np.zeros((0, 0), np.int8), np.zeros(0, np.int64)))
        if len(frames):
            jobs.append((feats, frames))
            where.append((i, inference_times_ms(frames, model.frontend)))
    n = max(1, min(workers, len(jobs)))
    per_member = []
    for f in model.model_files:
        if n == 1:
            _c_worker_init(str(f))
            per_member.append([_step_worker_run(j) for j in jobs])
        else:
            with ProcessPoolExecutor(n, initializer=_c_worker_init,
                                     initargs=(str(f),)) as pool:
                per_member.append(list(pool.map(_step_worker_run, jobs)))
    outs = [mean_outputs(list(o)) for o in zip(*per_member)]
    for (i, times), out in zip(where, outs):
        results[i] = (np.asarray(out, np.int8), times)
    return results


def detection_lines(detections: Sequence[Detection]) -> list[str]:
    """The JSON lines that ``kws stream`` and the firmware print."""
    return [d.to_json() for d in detections]


def is_streamable(model: StreamModel) -> bool:
    """Whether ``kws export`` generates a streaming step function for the model (every layer
    ``valid`` with stride 1 along time; :mod:`kws.export.streaming`)."""
    from kws.export import NotStreamable
    from kws.export.lowering import lower
    from kws.export.streaming import plan_stream
    from kws.export.tflite_model import parse_tflite

    try:
        for f in model.model_files:
            tfl = parse_tflite(f.read_bytes(), name=str(f))
            plan_stream(tfl, lower(tfl))
    except NotStreamable:
        return False
    return True


def default_detector(model: StreamModel) -> DetectorSettings:
    """:meth:`DetectorSettings.default_for` the model's labels, deciding every hop (20 ms) for a
    streamable model, which steps every hop anyway, and every 2 hops otherwise."""
    return DetectorSettings.default_for(model.labels,
                                        model_every_hops=1 if is_streamable(model) else 2)


def detector_settings_for(model: StreamModel, **overrides: int) -> DetectorSettings:
    """The detector settings of a RUN: ``detector.json`` beside the model if present, else
    :meth:`DetectorSettings.default_for` its labels (deciding every hop for a streamable model,
    every 2 hops otherwise; the gate on); then ``overrides`` (``threshold`` sets
    every keyword's threshold; ``gate`` is GateSettings, or False for no gate; other keys are
    DetectorSettings fields; None is ignored)."""
    base = read_detector(model.path) or default_detector(model)
    fields = base.to_dict()
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "gate":              # GateSettings, or False to turn the gate off
            fields["gate"] = value.to_dict() if value else None
        elif key == "threshold":
            fields["thresholds"] = [t if t == 256 else int(value) for t in base.thresholds]
        elif key in fields:
            fields[key] = int(value)
        else:
            raise KwsError(f"unknown detector setting {key!r}")
    return DetectorSettings.from_dict(fields)


def _load_stream(model_path: str | os.PathLike[str], wav_path: str | os.PathLike[str],
                 detector: DetectorSettings | None
                 ) -> tuple[StreamModel, DetectorSettings, np.ndarray]:
    from kws.audio import load_audio

    model = load_run_model(model_path)
    detector = detector or detector_settings_for(model)
    if detector.labels != model.labels:
        raise KwsError(f"{model.path}: detector labels {detector.labels} differ from the "
                       f"model's {model.labels}")
    return model, detector, load_audio(wav_path)


def _default_engine(engine: str | None) -> str:
    return engine or ("c" if c_runtime_available() else "tflm")


def stream_file(model_path: str | os.PathLike[str], wav_path: str | os.PathLike[str], *,
                detector: DetectorSettings | None = None, workers: int = 2,
                engine: str | None = None) -> list[Detection]:
    """Load a model and a WAV (any format :func:`kws.audio.load_audio` converts) and simulate.

    ``engine``: "c" (the C runtime through ctypes, the default when available) or "tflm"."""
    model, detector, samples = _load_stream(model_path, wav_path, detector)
    times, outputs = _stream_posteriors(model, detector, samples, workers=workers,
                                        engine=engine)
    return detect_all(times, outputs, detector=detector,
                      output_zero_point=model.output_zero_point)


def stream_file_posteriors(model_path: str | os.PathLike[str],
                           wav_path: str | os.PathLike[str], *,
                           detector: DetectorSettings | None = None, workers: int = 2,
                           engine: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every inference's time (ms, int64) and int8 output (inferences, classes) for a WAV.

    ``engine``: "c" (our C runtime: the generated step function, one step per frame, for a
    streamable model; the window model on every window otherwise) or "tflm" (the TFLite Micro
    reference interpreter on every window: slow, the oracle)."""
    model, detector, samples = _load_stream(model_path, wav_path, detector)
    return _stream_posteriors(model, detector, samples, workers=workers, engine=engine)


def _stream_posteriors(model: StreamModel, detector: DetectorSettings, samples: np.ndarray, *,
                       workers: int, engine: str | None) -> tuple[np.ndarray, np.ndarray]:
    engine = _default_engine(engine)
    if engine == "c" and is_streamable(model):
        return posteriors(samples, frontend=model.frontend, detector=detector,
                          step_fn=host_step_fn(model))
    return posteriors(samples, frontend=model.frontend, detector=detector,
                      model_fn=tflm_model_fn(model, workers=workers, engine=engine))
