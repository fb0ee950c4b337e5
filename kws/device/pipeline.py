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
from kws.device.report import (
    CYCLES_PER_CLASS,
    REFERENCE_MHZ,
    estimate_cycles,
    footprint,
    realtime_lines,
)
from kws.errors import KwsError
from kws.paths import shared_dir
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
           ring_blocks: int = 4) -> Path:
    from kws.export import export_model

    if detector.labels != model.labels:
        raise KwsError(f"{model.path}: detector labels {detector.labels} differ from the "
                       f"model's {model.labels}")
    export_model(model.path, build / "model")
    cfg = AppConfig(frontend=model.frontend, detector=detector,
                    output_zero_point=model.output_zero_point, block_ms=block_ms,
                    ring_blocks=ring_blocks)
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


def count_per_hop_and_inference(elf: str | Path, samples: np.ndarray
                                ) -> dict[str, dict[str, float]]:
    """Mean instructions per front-end frame and per inference, total and by class, counted
    with the TCG counting plugin (``kws.qemu.count_instructions``) between the app's markers:
    pair 0 = one frame (kws_mark_start/end), pair 1 = one inference (kws_mark_start2/end2)."""
    raw = np.asarray(samples, dtype="<i2").tobytes()
    result = qemu.count_instructions(elf, "kws_mark_start", "kws_mark_end",
                                     pairs=[("kws_mark_start2", "kws_mark_end2")],
                                     args=["audio.raw"], files={"audio.raw": raw}, timeout=600)
    out = {}
    for name, pair in (("hop", 0), ("inference", 1)):
        ivs = [iv for iv in result.intervals if iv.pair == pair]
        if not ivs:
            raise KwsError(f"{elf}: no {name} intervals between the markers")
        out[name] = {"total": float(np.mean([iv.total for iv in ivs])),
                     "intervals": float(len(ivs)),
                     **{k: float(np.mean([getattr(iv, k) for iv in ivs]))
                        for k in CYCLES_PER_CLASS}}
    return out


def firmware_report(elf: str | Path, *, stack_used: int | None, frontend_hop_ms: float,
                    every: int, counts: dict[str, dict[str, float]] | None) -> list[str]:
    """The report's lines: footprint, and (with counts) the real-time figures."""
    fp = footprint(elf, stack_used=stack_used)
    lines = ["footprint (arm-none-eabi-size; RAM includes the painted stack high-water):",
             *("  " + ln for ln in fp.lines()),
             f"  targets with DS-CNN-S: RAM <= 32 KB ({fp.ram / 1024:.1f} KB), flash <= 96 KB "
             f"({fp.flash / 1024:.1f} KB)"]
    if counts is None:
        lines.append("instruction counts: not available (needs the QEMU TCG plugin)")
        return lines
    cyc = {k: estimate_cycles({c: counts[k][c] for c in CYCLES_PER_CLASS})
           for k in ("hop", "inference")}
    def classes(name: str) -> str:
        return ", ".join(f"{k} {counts[name][k]:,.0f}" for k in CYCLES_PER_CLASS)

    lines += [f"instructions per hop (front end): {counts['hop']['total']:,.0f} "
              f"({classes('hop')})",
              f"instructions per inference:       {counts['inference']['total']:,.0f} "
              f"({classes('inference')})",
              f"cycle estimate (TRM weights {CYCLES_PER_CLASS}): hop {cyc['hop']:,.0f}, "
              f"inference {cyc['inference']:,.0f}",
              *realtime_lines(cycles_per_hop=cyc["hop"], cycles_per_inference=cyc["inference"],
                              hop_ms=frontend_hop_ms, every=every)]
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
    audio = Path(audio_dir) if audio_dir else shared_dir() / "audio"
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
    try:
        counts = count_per_hop_and_inference(elf, samples[:16000 * 3])
    except KwsError as exc:
        print(f"(instruction counts skipped: {exc})")
        counts = None
    for line in firmware_report(elf, stack_used=run.summary.get("stack_bytes"),
                                frontend_hop_ms=model.frontend.hop_ms,
                                every=detector.model_every_hops, counts=counts):
        print(line)
    print(f"(cycle weights assume zero wait states at {REFERENCE_MHZ:g} MHz; see "
          "kws/device/report.py)")
    return 0 if same else 1
