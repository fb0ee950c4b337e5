"""``kws eval RUN/model.tflite --wavs DIR`` or ``--stream LONG.wav --events events.csv``."""

from __future__ import annotations

import argparse

from kws.errors import KwsError


def run(args: argparse.Namespace) -> int:
    """Evaluate on clips or on a stream."""
    from kws.evaluate import evaluate_clips, evaluate_stream

    if bool(args.wavs) == bool(args.stream):
        raise KwsError("kws eval: give exactly one of --wavs DIR or --stream LONG.wav")
    if args.stream:
        if not args.events:
            raise KwsError("kws eval --stream needs --events events.csv")
        evaluate_stream(args.model, args.stream, args.events, stride=args.stride,
                        smooth=args.smooth, threshold=args.threshold,
                        refractory_s=args.refractory, json_out=args.json, png_out=args.png)
    else:
        evaluate_clips(args.model, args.wavs, labels_csv=args.labels, json_out=args.json,
                       png_out=args.png, backend=args.interpreter)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval`` sub-command."""
    p = sub.add_parser("eval", help="measure a model on labelled WAVs or a long stream",
                       description="Run the int8 model (reference kernels) and the float "
                                   "model on labelled clips, or slide it over a stream.")
    p.add_argument("model", help="RUN/model.tflite (labels.txt and settings.json beside it)")
    p.add_argument("--wavs", default=None, help="folder of WAV/FLAC files, labelled by folder")
    p.add_argument("--labels", default=None, help="CSV path,label (instead of folder names)")
    p.add_argument("--interpreter", default="litert", choices=("litert", "micro"),
                   help="reference interpreter: ai-edge-litert BUILTIN_REF or tflite-micro")
    p.add_argument("--stream", default=None, help="a long recording")
    p.add_argument("--events", default=None, help="CSV start_s,end_s,label of the stream")
    p.add_argument("--stride", type=int, default=2, help="model every N front-end hops")
    p.add_argument("--smooth", type=int, default=3, help="posteriors averaged")
    p.add_argument("--threshold", type=int, default=200, help="detection threshold, 0..255")
    p.add_argument("--refractory", type=float, default=1.0, help="refractory time, seconds")
    p.add_argument("--json", default=None, help="write the results as JSON")
    p.add_argument("--png", default=None, help="confusion matrix / DET curve PNG path")
    p.set_defaults(func=run)
