"""``kws stream MODEL WAV [--backend python|qemu]``: print one JSON line per detection."""

from __future__ import annotations

import argparse

from kws.errors import KwsError


def run(args: argparse.Namespace) -> int:
    """Simulate (python) or run the firmware (qemu) over a WAV and print the detections."""
    from kws import simulate as stream

    if args.blob and args.backend != "qemu":
        raise KwsError("kws stream: --blob needs --backend qemu (the firmware loads the blob)")
    model = stream.load_run_model(args.model)
    detector = stream.detector_settings_for(
        model, threshold=args.threshold, average_window=args.average,
        model_every_hops=args.every, refractory_ms=args.refractory)
    if args.backend == "python":
        found = stream.stream_file(model.path, args.wav, detector=detector, workers=args.jobs)
        lines = stream.detection_lines(found)
    elif args.backend == "qemu" and args.blob:
        return _run_blob(args, model, detector)
    elif args.backend == "qemu":
        from kws.device.pipeline import qemu_stream_lines

        lines = qemu_stream_lines(model.path, args.wav, detector=detector)
    else:  # pragma: no cover - argparse restricts the choices
        raise KwsError(f"unknown backend {args.backend!r}")
    for line in lines:
        print(line)
    return 0


def _run_blob(args: argparse.Namespace, model, detector) -> int:
    """The blob-slot firmware with the blobs in slots A (and B): the detections on stdout, the
    firmware's line about each blob on stderr; exit 1 when it refused one."""
    import sys

    from kws.device.blob_slot import SLOT_NAMES, qemu_stream_blob

    if len(args.blob) > len(SLOT_NAMES):
        raise KwsError(f"kws stream: at most {len(SLOT_NAMES)} --blob files (slots A and B)")
    run = qemu_stream_blob(model.path, args.wav, args.blob, public_key=args.blob_key,
                           version=args.model_version, detector=detector)
    for line in run.lines:
        print(line)
    said = {o.slot: o for o in run.slots}
    refused = 0
    for name, path in zip(SLOT_NAMES, args.blob):
        o = said.get(name)
        if o is None:
            refused += 1
            print(f"{path}: blob slot {name}: ignored by the firmware (starts with FF FF FF FF, "
                  "an erased slot)", file=sys.stderr)
        else:
            refused += 0 if o.loaded else 1
            print(f"{path}: {o.line.removeprefix('kws: ')}", file=sys.stderr)
    return 1 if refused else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``stream`` sub-command."""
    p = sub.add_parser("stream", help="streaming detection over a WAV (Python or the firmware)")
    p.add_argument("model", help="RUN folder or its model.tflite (labels.txt, settings.json "
                   "and optional detector.json beside it)")
    p.add_argument("wav", help="audio file (converted to 16 kHz mono int16 first)")
    p.add_argument("--backend", choices=("python", "qemu"), default="python")
    p.add_argument("--every", type=int, default=None, help="run the model every N hops")
    p.add_argument("--average", type=int, default=None, help="smooth over K inferences")
    p.add_argument("--threshold", type=int, default=None,
                   help="uint8 score threshold (0..255) for every keyword")
    p.add_argument("--refractory", type=int, default=None, help="refractory time in ms")
    p.add_argument("--jobs", type=int, default=2, help="model worker processes (python)")
    p.add_argument("--blob", action="append", metavar="FILE",
                   help="qemu: build the firmware with blob slots and write this model blob "
                        "into slot A (a second --blob: slot B); the firmware runs the newest "
                        "valid one and says why it refuses one (exit status 1)")
    p.add_argument("--blob-key", metavar="PUB.pem",
                   help="with --blob: the public key the firmware verifies blob signatures "
                        "with (default: none, blobs are checked for integrity and fit only)")
    p.add_argument("--model-version", type=int, default=1,
                   help="with --blob: the built-in model's version (older blobs are refused)")
    p.set_defaults(func=run)
