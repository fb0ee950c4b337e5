"""The whole firmware path for one RUN: export, build, run under QEMU, compare, report.

- :func:`build_firmware` - ``kws firmware build RUN --out fw.elf``: export the int8 model to C
  (``kws export``), write ``kws_app_config.h`` from the RUN's front-end and detector
  settings, and build ``firmware/app`` with the real front end and model.
- :func:`qemu_stream_lines` - ``kws stream MODEL WAV --backend qemu``.
- :func:`firmware_report` - ``kws firmware report``: footprint by section, stack high-water,
  instructions per hop and per inference, cycle estimate, duty cycle, minimum clock.
- :func:`run_firmware_demo` - the README's main command, firmware half.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws import qemu
from kws.detect import DetectorSettings
from kws.device.build import REPO, AppConfig, build_app, check_no_heap, write_audio_raw
from kws.device.report import CYCLES_PER_CLASS, REFERENCE_MHZ, footprint, realtime_figures
from kws.errors import KwsError
from kws.paths import FIXTURE_SPEECH
from kws.simulate import StreamModel, detector_settings_for, load_run_model


@dataclass(frozen=True)
class FirmwareRun:
    """A firmware run on a stream: its detection lines and its exit summary."""

    lines: list[str]
    summary: dict[str, int]


def build_firmware(model_path: str | Path, out_elf: str | Path, *,
                   detector: DetectorSettings | None = None, block_ms: int = 20,
                   ring_blocks: int = 4, build_dir: str | Path | None = None) -> Path:
    """Export the RUN's model and build the firmware; copy the ELF (and map) to ``out_elf``."""
    model = load_run_model(model_path)
    detector = detector or detector_settings_for(model)
    build = Path(build_dir) if build_dir else REPO / "build" / "fw" / model.path.parent.name
    elf = _build(model, detector, build, block_ms=block_ms, ring_blocks=ring_blocks)
    out = Path(out_elf)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(elf, out)
    shutil.copyfile(elf.with_suffix(".map"), out.with_suffix(".map"))
    return out


def _build(model: StreamModel, detector: DetectorSettings, build: Path, *, block_ms: int = 20,
           ring_blocks: int = 4, print_outputs: bool = False, stream: bool | None = None
           ) -> Path:
    """Export the model (an ensemble: its members and the averaging ``kws_model``,
    :mod:`kws.export.ensemble`) and build the app; ``stream``: run the streaming step function
    (None: when the export generated one, True: require it, False: the window model)."""
    from kws.export import export_model
    from kws.export.ensemble import clear_members, export_ensemble

    if detector.labels != model.labels:
        raise KwsError(f"{model.path}: detector labels {detector.labels} differ from the "
                       f"model's {model.labels}")
    if model.members:
        exported = export_ensemble(model.members, build / "model", stream=stream)
    else:
        clear_members(build / "model")          # an ensemble's, built here before
        exported = export_model(model.path, build / "model", stream=stream)
    cfg = AppConfig(frontend=model.frontend, detector=detector,
                    output_zero_point=model.output_zero_point, block_ms=block_ms,
                    ring_blocks=ring_blocks, print_outputs=print_outputs,
                    stream=exported.stream is not None)
    elf = build_app(build / "cmake", cfg, backend="real", model_dir=build / "model")
    check_no_heap(elf.with_suffix(".map"))
    return elf


def run_firmware(elf: str | Path, samples: np.ndarray, *, workdir: str | Path,
                 timeout: float = 600.0) -> FirmwareRun:
    """Run a firmware image on int16 samples; parse its lines and its exit summary."""
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    write_audio_raw(work / "audio.raw", samples)
    res = qemu.run_elf(elf, args=["audio.raw"], workdir=work, timeout=timeout)
    err = res.stderr.strip().splitlines()
    if res.exit_code != 0 or not err:
        raise KwsError(f"{elf}: firmware exited with {res.exit_code}: "
                       f"{err[-1] if err else 'no output'}")
    try:
        summary = json.loads(err[-1])
    except ValueError:
        raise KwsError(f"{elf}: unexpected firmware summary line {err[-1]!r}") from None
    return FirmwareRun(res.stdout.splitlines(), summary)


def qemu_stream_lines(model_path: str | Path, wav_path: str | Path, *,
                      detector: DetectorSettings | None = None) -> list[str]:
    """``kws stream --backend qemu``: the firmware's detection lines for a WAV."""
    from kws.audio import load_audio

    model = load_run_model(model_path)
    detector = detector or detector_settings_for(model)
    build = REPO / "build" / "fw" / f"stream_{model.path.parent.name}"
    elf = _build(model, detector, build)
    run = run_firmware(elf, load_audio(wav_path), workdir=build / "run")
    if run.summary.get("overruns"):
        raise KwsError(f"{elf}: the firmware dropped {run.summary['overruns']} audio blocks")
    return run.lines


def parse_output_lines(lines: Sequence[str], *, num_classes: int
                       ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Split a firmware's stdout (built with ``print_outputs``) into its detection lines and
    every inference's time (ms, int64, (n,)) and int8 output vector (n, num_classes)."""
    detections, times, outputs = [], [], []
    for line in lines:
        if '"output":' not in line:
            detections.append(line)
            continue
        try:
            rec = json.loads(line)
            times.append(int(rec["time_ms"]))
            outputs.append(np.asarray(rec["output"], dtype=np.int64))
        except (ValueError, KeyError, TypeError):
            raise KwsError(f"firmware: unexpected output line {line!r}") from None
        if outputs[-1].shape != (num_classes,) or np.any(np.abs(outputs[-1] + 0.5) > 128):
            raise KwsError(f"firmware: output line {line!r} is not {num_classes} int8 values")
    out = np.stack(outputs).astype(np.int8) if outputs else np.zeros((0, num_classes), np.int8)
    return detections, np.asarray(times, dtype=np.int64), out


def qemu_stream_posteriors(model_path: str | Path, wav_path: str | Path, *,
                           detector: DetectorSettings | None = None
                           ) -> tuple[np.ndarray, np.ndarray]:
    """``kws stream --backend qemu --posteriors``: every inference's time (ms) and int8 output
    as the firmware computes them, printed by a build with ``print_outputs``."""
    from kws.audio import load_audio

    model = load_run_model(model_path)
    detector = detector or detector_settings_for(model)
    build = REPO / "build" / "fw" / f"posteriors_{model.path.parent.name}"
    elf = _build(model, detector, build, print_outputs=True)
    run = run_firmware(elf, load_audio(wav_path), workdir=build / "run")
    if run.summary.get("overruns"):
        raise KwsError(f"{elf}: the firmware dropped {run.summary['overruns']} audio blocks")
    _, times, outputs = parse_output_lines(run.lines, num_classes=len(model.labels))
    return times, outputs


def _mean_by_class(ivs: Sequence[Any]) -> dict[str, float]:
    return {"total": float(np.mean([iv.total for iv in ivs])), "intervals": float(len(ivs)),
            **{k: float(np.mean([getattr(iv, k) for iv in ivs])) for k in CYCLES_PER_CLASS}}


def _count(elf: str | Path, samples: np.ndarray) -> dict[str, list[Any]]:
    """Intervals counted with the TCG plugin (``kws.qemu.count_instructions``) between the
    app's markers: ``hop`` = one front-end frame (kws_mark_start/end), ``inference`` = one
    model run (kws_mark_start2/end2), ``process`` = one kws_detector_process call (one block:
    front end, gate, model, detector; kws_app_mark_process_start/end)."""
    raw = np.asarray(samples, dtype="<i2").tobytes()
    result = qemu.count_instructions(
        elf, "kws_mark_start", "kws_mark_end",
        pairs=[("kws_mark_start2", "kws_mark_end2"),
               ("kws_app_mark_process_start", "kws_app_mark_process_end")],
        args=["audio.raw"], files={"audio.raw": raw}, timeout=600)
    return {name: [iv for iv in result.intervals if iv.pair == pair]
            for name, pair in (("hop", 0), ("inference", 1), ("process", 2))}


def count_per_hop_and_inference(elf: str | Path, samples: np.ndarray
                                ) -> dict[str, dict[str, float]]:
    """Mean instructions, total and by class: per front-end frame (``hop``), per model run
    (``inference``: a window inference, or a streaming step; resets, the shortest intervals
    of a streaming build, are left out), and per frame for the rest of the detector call
    (``other``: gate, detector, feature window; the process intervals less the frames and
    model runs in them)."""
    ivs = _count(elf, samples)
    for name in ("hop", "inference", "process"):
        if not ivs[name]:
            raise KwsError(f"{elf}: no {name} intervals between the markers")
    longest = max(iv.total for iv in ivs["inference"])
    runs = [iv for iv in ivs["inference"] if iv.total * 4 > longest]    # not the resets
    out = {"hop": _mean_by_class(ivs["hop"]), "inference": _mean_by_class(runs)}
    frames = len(ivs["hop"])
    out["other"] = {k: (sum(getattr(iv, k) for iv in ivs["process"]) -
                        sum(getattr(iv, k) for iv in ivs["hop"]) -
                        sum(getattr(iv, k) for iv in ivs["inference"])) / frames
                    for k in ("total", *CYCLES_PER_CLASS)}
    return out


def count_steady_per_hop(elf: str | Path, samples: np.ndarray, *, skip_hops: int,
                         every: int) -> dict[str, float]:
    """Mean instructions per kws_detector_process call (one hop with 20 ms blocks) on
    ``samples``, after the first ``skip_hops`` calls (the feature window filling, the gate's
    start-up hangover), over a whole number of model periods (``every`` calls)."""
    ivs = _count(elf, samples)["process"][skip_hops:]
    ivs = ivs[:len(ivs) - len(ivs) % every]
    if not ivs:
        raise KwsError(f"{elf}: the input is shorter than {skip_hops} blocks")
    return _mean_by_class(ivs)


def report_inputs(seconds: float = 3.0, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The report's two test inputs: speech-like (noise bursts of 0.3 s every 0.6 s, 40 dB
    over a quiet bed: the gate stays open) and quiet (the bed alone, about -60 dBFS)."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    bed = rng.normal(0, 30, n)
    loud = (np.arange(n) % 9600 < 4800) * rng.normal(0, 3000, n)
    speech = np.clip(np.floor(bed + loud + 0.5), -32768, 32767).astype(np.int16)
    quiet = np.clip(np.floor(rng.normal(0, 30, n) + 0.5), -32768, 32767).astype(np.int16)
    return speech, quiet


def measure_firmware(elf: str | Path, *, stack_used: int | None, hop_ms: float, every: int,
                     num_frames: int, gate_hangover: int, stream: bool, seconds: float = 4.0
                     ) -> dict[str, Any]:
    """The report's figures (:func:`kws.device.report.realtime_figures`) of a built app."""
    speech, quiet = report_inputs(seconds)
    skip = num_frames + gate_hangover + 2
    return realtime_figures(
        stages=count_per_hop_and_inference(elf, speech),
        speech_per_hop=count_steady_per_hop(elf, speech, skip_hops=skip, every=every),
        silence_per_hop=count_steady_per_hop(elf, quiet, skip_hops=skip, every=every),
        hop_ms=hop_ms, every=every, stream=stream,
        footprint_=footprint(elf, stack_used=stack_used))


def firmware_report(elf: str | Path, *, figures: dict[str, Any] | None,
                    stack_used: int | None) -> list[str]:
    """The report's lines for people: footprint, and (with figures) the real-time figures."""
    fp = footprint(elf, stack_used=stack_used)
    lines = ["footprint (arm-none-eabi-size; RAM includes the painted stack high-water):",
             *("  " + ln for ln in fp.lines()),
             f"  targets: RAM <= 20 KB ({fp.ram / 1024:.1f} KB), flash <= 64 KB "
             f"({fp.flash / 1024:.1f} KB)"]
    if figures is None:
        lines.append("instruction counts: not available (needs the QEMU TCG plugin)")
        return lines
    f = figures
    model_label = ("instructions per step (streaming):" if f["streaming"]
                   else "instructions per inference (model):")
    lines += [
        f"instructions per hop (front end):          {f['instructions_per_hop_frontend']:,}",
        f"{model_label:<43}"
        f"{f['instructions_per_inference']:,}",
        f"instructions per hop (gate, detector):     {f['instructions_per_hop_gate_detector']:,}",
        f"decision every {f['decision_interval_ms']:g} ms (model every "
        f"{f['model_every_hops']} hops)",
        f"instructions per second of audio:          {f['instructions_per_second'] / 1e6:.2f} M "
        f"(every inference run), {f['instructions_per_second_silence'] / 1e6:.2f} M in silence",
        f"cycle estimate (TRM weights {CYCLES_PER_CLASS}):",
        f"  {f['cycles_per_second'] / 1e6:.2f} M cycles/s: duty cycle at {REFERENCE_MHZ:g} MHz "
        f"{100 * f['duty_cycle_80mhz']:.1f} %, minimum clock for real time "
        f"{f['min_clock_mhz']:.1f} MHz",
        f"  in silence {f['cycles_per_second_silence'] / 1e6:.2f} M cycles/s: duty cycle "
        f"{100 * f['duty_cycle_80mhz_silence']:.1f} %",
    ]
    return lines


def run_firmware_demo(run_dir: str | Path, out_dir: str | Path, *, seconds: float = 60.0,
                      audio_dir: str | Path | None = None,
                      stream: tuple[np.ndarray, Sequence[Any]] | None = None) -> int:
    """Export, build, make a test stream, run it under QEMU, compare with Python, report.

    Prints the firmware's detections, whether they equal the Python simulation's, and the
    footprint / real-time report. Returns 0 when the lines match, 1 otherwise.
    """
    from kws.data.labelled_stream import parity_stream
    from kws.simulate import detection_lines, simulate, tflm_model_fn

    out = Path(out_dir)
    model = load_run_model(run_dir)
    detector = detector_settings_for(model)
    audio = Path(audio_dir) if audio_dir else FIXTURE_SPEECH
    words = tuple(w for w in model.labels if not w.startswith("_"))
    if stream is None:
        samples, events = parity_stream(audio, seconds=seconds, words=words, seed=0)
    else:
        samples, events = stream
        seconds = len(samples) / 16000.0
    elf = _build(model, detector, out / "build")
    shutil.copyfile(elf, out / "fw.elf")
    run = run_firmware(elf, samples, workdir=out / "run")
    expected = detection_lines(simulate(samples, frontend=model.frontend, detector=detector,
                                        model_fn=tflm_model_fn(model),
                                        output_zero_point=model.output_zero_point))
    print(f"test stream: {seconds:g} s, {len(events)} clips "
          f"({', '.join(sorted(set(e.label for e in events)))})")
    print("firmware detections (QEMU mps2-an386, Cortex-M4F):")
    for line in run.lines:
        print("  " + line)
    same = run.lines == expected
    print(f"Python simulation: {'identical' if same else 'DIFFERENT'} "
          f"({len(expected)} lines); overruns {run.summary.get('overruns')}")
    stack = run.summary.get("stack_bytes")
    try:
        figures = measure_firmware(elf, stack_used=stack, hop_ms=model.frontend.hop_ms,
                                   every=detector.model_every_hops,
                                   num_frames=model.frontend.num_frames,
                                   stream=run.summary.get("steps", 0) > 0,
                                   gate_hangover=detector.gate.hangover if detector.gate else 0)
    except KwsError as exc:
        print(f"(instruction counts skipped: {exc})")
        figures = None
    for line in firmware_report(elf, figures=figures, stack_used=stack):
        print(line)
    print(f"(cycle weights assume zero wait states at {REFERENCE_MHZ:g} MHz; see "
          "kws/device/report.py)")
    return 0 if same else 1
