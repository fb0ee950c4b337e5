"""``kws stream MODEL WAV [--backend python|qemu|tflm] [--posteriors OUT.npy]``: one JSON line
per detection, or every inference's int8 output vector."""

from __future__ import annotations

import argparse
from pathlib import Path

from kws.errors import KwsError

BACKENDS = ("python", "qemu", "tflm")


def posteriors_paths(out: str) -> tuple[Path, Path]:
    """``OUT.npy`` and the times file beside it, ``OUT.times.npy``."""
    path = Path(out)
    if path.suffix != ".npy":
        raise KwsError(f"--posteriors {out}: the output must be a .npy file")
    return path, path.with_suffix(".times.npy")


def run(args: argparse.Namespace) -> int:
    """Simulate (python: our C runtime; tflm: the TFLite Micro interpreter on every window) or
    run the firmware (qemu) over a WAV; print the detections or save the posteriors."""
    from kws import simulate as stream
    from kws.gate import GateSettings

    if args.blob and args.backend != "qemu":
        raise KwsError("kws stream: --blob needs --backend qemu (the firmware loads the blob)")
    if args.blob and args.posteriors:
        raise KwsError("kws stream: --posteriors and --blob do not go together")
    out_paths = posteriors_paths(args.posteriors) if args.posteriors else None
    model = stream.load_run_model(args.model)
    detector = stream.detector_settings_for(
        model, threshold=args.threshold, average_window=args.average,
        model_every_hops=args.every, refractory_ms=args.refractory,
        gate={"on": GateSettings(), "off": False, None: None}[args.gate])
    engine = {"python": None, "tflm": "tflm"}.get(args.backend)
    if out_paths is not None:
        if args.backend == "qemu":
            from kws.device.pipeline import qemu_stream_posteriors

            times, outputs = qemu_stream_posteriors(model.path, args.wav, detector=detector)
        else:
            times, outputs = stream.stream_file_posteriors(
                model.path, args.wav, detector=detector, workers=args.jobs, engine=engine)
        _save_posteriors(out_paths, times, outputs)
        print(f"wrote {out_paths[0]} {outputs.shape} int8 and {out_paths[1]} (time in ms)")
        return 0
    if args.backend == "qemu" and args.blob:
        return _run_blob(args, model, detector)
    if args.backend == "qemu":
        from kws.device.pipeline import qemu_stream_lines

        lines = qemu_stream_lines(model.path, args.wav, detector=detector)
    else:
        found = stream.stream_file(model.path, args.wav, detector=detector, workers=args.jobs,
                                   engine=engine)
        lines = stream.detection_lines(found)
    for line in lines:
        print(line)
    return 0


def _save_posteriors(paths: tuple[Path, Path], times, outputs) -> None:  # noqa: ANN001
    from kws.fileio import save_npy_atomic

    save_npy_atomic(paths[0], outputs)
    save_npy_atomic(paths[1], times)


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
    p = sub.add_parser("stream", help="streaming detection over a WAV (Python, TFLM or the "
                                      "firmware)")
    p.add_argument("model", help="RUN folder or its model.tflite (labels.txt, settings.json "
                   "and optional detector.json beside it)")
    p.add_argument("wav", help="audio file (converted to 16 kHz mono int16 first)")
    p.add_argument("--backend", choices=BACKENDS, default="python",
                   help="python: our C runtime on the host (default); tflm: the TFLite Micro "
                        "reference interpreter on every window (slow, the oracle); qemu: the "
                        "Cortex-M4 firmware")
    p.add_argument("--posteriors", metavar="OUT.npy", default=None,
                   help="save every inference's int8 output, (inferences, classes), and their "
                        "times in ms to OUT.times.npy, instead of printing detections")
    p.add_argument("--gate", choices=("on", "off"), default=None,
                   help="voice-activity gate before the model (default: detector.json's)")
    p.add_argument("--every", type=int, default=None, help="run the model every N hops")
    p.add_argument("--average", type=int, default=None, help="smooth over K inferences")
    p.add_argument("--threshold", type=int, default=None,
                   help="uint8 score threshold (0..255) for every keyword")
    p.add_argument("--refractory", type=int, default=None, help="refractory time in ms")
    p.add_argument("--jobs", type=int, default=2, help="model worker processes (python, tflm)")
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
