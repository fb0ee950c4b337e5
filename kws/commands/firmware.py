"""``kws firmware build RUN --out fw.elf`` and ``kws firmware report RUN``."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from kws.errors import KwsError


def run_build(args: argparse.Namespace) -> int:
    """Export the RUN's model and build the firmware image."""
    if args.blob_slot:
        from kws.device.blob_slot import build_blob_firmware

        elf = build_blob_firmware(args.run, args.out, version=args.model_version,
                                  public_key=args.blob_key, block_ms=args.block_ms,
                                  ring_blocks=args.ring_blocks)
        print(f"wrote {elf} and {elf.with_suffix('.map')}: built-in model version "
              f"{args.model_version}, loads the newest valid blob in flash slots A/B at start "
              f"({'signed by the key of ' + args.blob_key if args.blob_key else 'unsigned'})")
        return 0
    from kws.device.pipeline import build_firmware

    elf = build_firmware(args.run, args.out, block_ms=args.block_ms,
                         ring_blocks=args.ring_blocks)
    print(f"wrote {elf} and {elf.with_suffix('.map')}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Build, run on test inputs, count instructions; print the report (text or JSON)."""
    import json

    from kws.device.pipeline import (
        build_firmware,
        firmware_report,
        measure_firmware,
        report_inputs,
        run_firmware,
    )
    from kws.simulate import detector_settings_for, load_run_model

    if not 3.0 <= args.seconds <= 60.0:
        raise KwsError(f"--seconds {args.seconds:g}: must be 3..60 (the quiet input's figure "
                       "starts after the 1 s window and the gate's 1 s start-up hangover)")
    model = load_run_model(args.run)
    detector = detector_settings_for(model)
    with tempfile.TemporaryDirectory(prefix="kws-fw-") as tmp:
        elf = build_firmware(args.run, Path(tmp) / "fw.elf")
        run = run_firmware(elf, report_inputs(args.seconds)[0], workdir=Path(tmp) / "run")
        stack = run.summary.get("stack_bytes")
        figures = measure_firmware(elf, stack_used=stack, hop_ms=model.frontend.hop_ms,
                                   every=detector.model_every_hops, seconds=args.seconds,
                                   num_frames=model.frontend.num_frames,
                                   stream=run.summary.get("steps", 0) > 0,
                                   gate_hangover=detector.gate.hangover if detector.gate else 0)
        figures["gate"] = detector.gate is not None
        if args.json:
            print(json.dumps(figures, sort_keys=True))
        else:
            for line in firmware_report(elf, figures=figures, stack_used=stack):
                print(line)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``firmware`` sub-command with ``build`` and ``report``."""
    p = sub.add_parser("firmware", help="build the Cortex-M4 firmware; footprint report")
    fsub = p.add_subparsers(dest="firmware_command", metavar="ACTION")
    fsub.required = True
    b = fsub.add_parser("build", help="export a RUN's model and build the firmware ELF")
    b.add_argument("run", help="RUN folder (model.tflite, labels.txt, settings.json)")
    b.add_argument("--out", required=True, help="output ELF (a .map is written beside it)")
    b.add_argument("--block-ms", type=int, default=20, help="microphone block, 10..20 ms")
    b.add_argument("--ring-blocks", type=int, default=4, help="ring capacity in blocks")
    b.add_argument("--blob-slot", action="store_true",
                   help="read the model's weights and settings from the newest valid model "
                        "blob (kws export --blob) in flash slots A/B at start; the built-in "
                        "model is the fallback")
    b.add_argument("--blob-key", metavar="PUB.pem",
                   help="with --blob-slot: accept only blobs signed by this P-256 key's owner")
    b.add_argument("--model-version", type=int, default=1,
                   help="with --blob-slot: the built-in model's version (older blobs are "
                        "refused)")
    b.set_defaults(func=run_build)
    r = fsub.add_parser("report", help="instructions per hop/inference, duty cycle, footprint")
    r.add_argument("run", help="RUN folder")
    r.add_argument("--seconds", type=float, default=4.0,
                   help="length of each test input (speech-like, quiet), 3..60")
    r.add_argument("--json", action="store_true", help="machine-readable figures, one JSON "
                   "object: instructions_per_second, decision_interval_ms, duty_cycle_80mhz, "
                   "min_clock_mhz, flash_bytes, ram_bytes, stack_bytes, ...")
    r.set_defaults(func=run_report)
