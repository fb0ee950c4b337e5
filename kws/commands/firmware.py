"""``kws firmware build RUN --out fw.elf`` and ``kws firmware report RUN``."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


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
    """Build, run on a test stream, count instructions, print the footprint report."""
    import numpy as np

    from kws.device.pipeline import (
        build_firmware,
        count_per_hop_and_inference,
        firmware_report,
        run_firmware,
    )
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(args.run)
    detector = detector_settings_for(model)
    with tempfile.TemporaryDirectory(prefix="kws-fw-") as tmp:
        elf = build_firmware(args.run, Path(tmp) / "fw.elf")
        rng = np.random.default_rng(0)
        samples = np.clip(rng.normal(0, 3000, 16000 * int(args.seconds)), -32768, 32767
                          ).astype(np.int16)
        run = run_firmware(elf, samples, workdir=Path(tmp) / "run")
        counts = count_per_hop_and_inference(elf, samples[:16000 * 3])
        for line in firmware_report(elf, stack_used=run.summary.get("stack_bytes"),
                                    frontend_hop_ms=model.frontend.hop_ms,
                                    every=detector.model_every_hops, counts=counts):
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
    r.add_argument("--seconds", type=float, default=3.0, help="length of the test input")
    r.set_defaults(func=run_report)
