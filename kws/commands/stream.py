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
    p.set_defaults(func=run)
