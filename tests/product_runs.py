"""Small RUN folders and a test stream for the product tests (library, blob), made without
../shared: random-weight DS-CNNs (same architecture, different seeds) cached under build/,
thresholds chosen from the model's own posteriors on the stream so that detections happen;
and a random-weight streamable run (the step function every hop, the gate on)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kws.detect import GateSettings, is_keyword
from kws.device.build import REPO

LABELS = ("_silence_", "_unknown_", "yes", "no")
#: The streamable run's classes: one other word as a class of its own (``kws train
#: --word-classes``), which the detector never reports (threshold 256).
STREAM_LABELS = LABELS + ("_word_go",)


def stream_samples(seconds: float = 12.0, seed: int = 5) -> np.ndarray:
    """Noise bursts and tone sweeps at varying levels (int16, 16 kHz): the features move."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    t = np.arange(n) / 16000
    env = np.repeat(rng.uniform(0.0, 1.0, n // 4000 + 1), 4000)[:n]
    f = 200 + 1800 * (0.5 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    x = env * (8000 * np.sin(2 * np.pi * np.cumsum(f) / 16000) + rng.normal(0, 3000, n))
    return np.clip(x, -32768, 32767).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    import soundfile as sf

    sf.write(str(path), samples, 16000, subtype="PCM_16")
    return path


def random_run(seed: int, *, channels: int = 8) -> Path:
    """A random DS-CNN RUN (one block) with a detector.json that fires on stream_samples()."""
    from kws.runtime.testmodels import make_random_run

    run = REPO / "build" / "test-runs" / f"product_random_c{channels}_s{seed}_v1"
    if not (run / "detector.json").is_file():
        make_random_run(run, labels=LABELS, channels=channels, blocks=1, seed=seed)
        _calibrate(run)
    return run


def stream_run(seed: int = 0) -> Path:
    """A random-weight streamable RUN (tcn-stream, :data:`STREAM_LABELS`: a word class too)
    whose detector decides every hop with the voice-activity gate on, and fires on
    stream_samples()."""
    from kws.runtime.testmodels import make_stream_run

    run = REPO / "build" / "test-runs" / f"product_stream_tcn_s{seed}_v2"
    if not (run / "detector.json").is_file():
        make_stream_run(run, labels=STREAM_LABELS, seed=seed)
        _calibrate(run, every=1, gate=GateSettings(), labels=STREAM_LABELS)
    return run


def _calibrate(run: Path, *, every: int = 2, gate: GateSettings | None = None,
               labels: tuple[str, ...] = LABELS) -> None:
    from kws.detect import DetectorSettings
    from kws.fileio import write_text_atomic
    from kws.frontend.fixed import features_numpy
    from kws.simulate import load_run_model, tflm_model_fn

    model = load_run_model(run)
    fe = model.frontend
    feats = features_numpy(stream_samples(), fe)
    wins = np.lib.stride_tricks.sliding_window_view(feats, (fe.num_frames, fe.num_outputs))
    u = tflm_model_fn(model, workers=1)(np.ascontiguousarray(wins[:, 0][::every])).astype(int)
    u -= model.output_zero_point
    th = [max(1, int(np.percentile(u[:, i], 90))) if is_keyword(lab) else 256
          for i, lab in enumerate(labels)]
    det = DetectorSettings(labels=labels, thresholds=tuple(th), average_window=2,
                           model_every_hops=every, refractory_ms=500, gate=gate)
    write_text_atomic(run / "detector.json", json.dumps(det.to_dict()) + "\n")
