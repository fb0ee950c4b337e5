"""``kws stream MODEL WAV [--backend python|qemu]``: print one JSON line per detection."""

from __future__ import annotations

import argparse

from kws.errors import KwsError


def run(args: argparse.Namespace) -> int:
    """Simulate (python) or run the firmware (qemu) over a WAV and print the detections."""
    from kws import simulate as stream

    model = stream.load_run_model(args.model)
    detector = stream.detector_settings_for(
        model, threshold=args.threshold, average_window=args.average,
        model_every_hops=args.every, refractory_ms=args.refractory)
    if args.backend == "python":
        found = stream.stream_file(model.path, args.wav, detector=detector, workers=args.jobs)
        lines = stream.detection_lines(found)
    elif args.backend == "qemu":
        from kws.device.pipeline import qemu_stream_lines

        lines = qemu_stream_lines(model.path, args.wav, detector=detector)
    else:  # pragma: no cover - argparse restricts the choices
        raise KwsError(f"unknown backend {args.backend!r}")
    for line in lines:
        print(line)
    return 0


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
    p.set_defaults(func=run)
