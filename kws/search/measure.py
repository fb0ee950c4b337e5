"""Measured, not estimated: a RUN's whole firmware under QEMU, and its model's layers.

- :func:`firmware_figures` builds the real firmware (``kws firmware build``) of a RUN with the
  detector deciding every ``every`` hops and measures it as ``kws firmware report --json``
  does: instructions per second of audio (exact counts under QEMU, every scheduled inference
  running), flash and RAM (sections + painted stack).
- :func:`layer_counts` counts the exact instructions of each kernel call of one model run (a
  window inference, or a streaming step in steady state) with the model-runner harness.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from kws.errors import KwsError


def with_decision_every(run: Path, every: int) -> None:
    """Write RUN/detector.json deciding every ``every`` hops with the voice-activity gate on
    (the product default, and what the cost model's firmware was calibrated with: the gate
    costs about 2,300 instructions per hop); thresholds, smoothing and refractory time as the
    RUN's now."""
    from kws.gate import GateSettings
    from kws.run import write_detector
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(run)
    det = detector_settings_for(model, model_every_hops=every)
    if det.gate is None:
        det = detector_settings_for(model, model_every_hops=every, gate=GateSettings())
    write_detector(run, det)


def firmware_figures(run: str | Path, *, every: int | None = None,
                     seconds: float = 4.0) -> dict[str, Any]:
    """``kws firmware report --json`` figures of RUN's real firmware image.

    Parameters
    ----------
    run : path-like
        RUN folder (model.tflite, labels.txt, settings.json, optional detector.json).
    every : int, optional
        Decide every ``every`` hops (writes RUN/detector.json); None: as the RUN says.
    seconds : float
        Length of the report's test inputs.
    """
    from kws.device.pipeline import build_firmware, measure_firmware, report_inputs, run_firmware
    from kws.simulate import detector_settings_for, load_run_model

    run = Path(run)
    if every is not None:
        with_decision_every(run, every)
    model = load_run_model(run)
    det = detector_settings_for(model)
    with tempfile.TemporaryDirectory(prefix="kws-search-fw-") as tmp:
        elf = build_firmware(run, Path(tmp) / "fw.elf", build_dir=Path(tmp) / "build")
        res = run_firmware(elf, report_inputs(seconds)[0], workdir=Path(tmp) / "run")
        return measure_firmware(elf, stack_used=res.summary.get("stack_bytes"),
                                hop_ms=model.frontend.hop_ms, every=det.model_every_hops,
                                seconds=seconds, num_frames=model.frontend.num_frames,
                                stream=res.summary.get("steps", 0) > 0,
                                gate_hangover=det.gate.hangover if det.gate else 0)


@dataclasses.dataclass(frozen=True)
class RunCount:
    """Exact instructions of one model run: per kernel call, and the whole call."""

    layers: list[int]
    total: int


def layer_counts(model_path: str | Path, *, streaming: bool, seed: int = 0) -> RunCount:
    """Instructions of each kernel call of one model run on the M4 (QEMU, DSP path).

    Window models: one inference of a random input. Streaming models: the median over the
    steps after the window has filled (each step of a random frame stream).
    """
    from kws.runtime import target

    rng = np.random.default_rng(seed)
    m = target.build_m4_model(model_path)
    if not streaming:
        first = m.export.layers[0].params
        size = int(first["in_h"]) * int(first["in_w"]) * int(first.get("in_c", 1))
        x = rng.integers(-128, 128, size, dtype=np.int64).astype(np.int8)
        layers, total = target.count_layers(model_path, x)
        return RunCount([l.instructions for l in layers], int(total))
    sp = m.export.stream
    if sp is None:
        raise KwsError(f"{model_path}: not streamable: {m.export.not_streamable}")
    frames = rng.integers(-128, 128, (sp.window + 8, sp.frame_size), dtype=np.int64)
    total, per_layer = target.count_steps(model_path, frames.astype(np.int8))
    w = sp.window
    return RunCount([int(np.median(per_layer[w:, i])) for i in range(per_layer.shape[1])],
                    int(np.median(total[w:])))


def real_detection(run: str | Path, folder: str | Path, *, minutes: float = 10.0,
                   seed: int = 0, split: str | None = None) -> dict[str, Any]:
    """False accepts per hour and misses of RUN's detector (its detector.json) on a stream of
    real recordings: the keywords of ``folder`` (Speech Commands layout) as events among its
    other words, 2-5 s apart at 5-30 dB SNR over held-out synthesized noise
    (:func:`kws.data.labelled_stream.make_stream`), scored with the firmware's schedule and
    the matching rule of :mod:`kws.scoring`.

    Returns
    -------
    dict
        ``fa_per_hour``, ``false_accepts``, ``miss_rate``, ``misses``, ``events``,
        ``negative_hours``, ``stream_minutes``, ``folder``.
    """
    from kws.data.augment import synthetic_background
    from kws.data.labelled_stream import make_stream
    from kws.evaluate import score_recordings
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(run)
    det = detector_settings_for(model)
    words = [w for w in model.labels if not w.startswith("_")]
    samples, events = make_stream(source=folder, words=words, minutes=minutes, seed=seed,
                                  noise=synthetic_background(part="heldout"), split=split,
                                  distractor_prob=0.5, gap_s=(2.0, 5.0), snr_db=(5.0, 30.0))
    if not events:
        raise KwsError(f"{folder}: no clips of {', '.join(words)} for a detection stream")
    scored = score_recordings(model, stream=samples,
                              events=[(e.time_ms / 1000.0, e.end_ms / 1000.0, e.label)
                                      for e in events],
                              model_every_hops=det.model_every_hops)
    r = scored.at(det)
    return {k: r[k] for k in ("fa_per_hour", "false_accepts", "miss_rate", "misses", "events",
                              "negative_hours")} | {
        "stream_minutes": round(len(samples) / 16000 / 60, 2), "folder": str(folder)}
