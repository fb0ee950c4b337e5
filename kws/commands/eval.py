"""``kws eval RUN --wavs DIR``, or ``--stream LONG.wav --events events.csv`` and/or
``--negatives DIR`` (false accepts per hour, misses, DET curve)."""

from __future__ import annotations

import argparse

from kws.errors import KwsError


def run(args: argparse.Namespace) -> int:
    """Evaluate on clips or on a stream."""
    from kws.evaluate import evaluate_clips, evaluate_detection

    streaming = bool(args.stream or args.negatives)
    if bool(args.wavs) == streaming:
        raise KwsError("kws eval: give either --wavs DIR, or --stream LONG.wav (with --events) "
                       "and/or --negatives DIR")
    if streaming:
        if bool(args.stream) != bool(args.events):
            raise KwsError("kws eval: --stream LONG.wav and --events events.csv go together")
        evaluate_detection(args.model, stream=args.stream, events_csv=args.events,
                           negatives=args.negatives, stride=args.stride, smooth=args.smooth,
                           threshold=args.threshold, refractory_s=args.refractory,
                           engine=args.engine, workers=args.jobs, json_out=args.json,
                           png_out=args.png)
    else:
        evaluate_clips(args.model, args.wavs, labels_csv=args.labels, json_out=args.json,
                       png_out=args.png, backend=args.interpreter)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval`` sub-command."""
    p = sub.add_parser("eval", help="measure a model on labelled WAVs or a long stream",
                       description="Run the int8 model (reference kernels) and the float "
                                   "model on labelled clips, or slide it over a stream.")
    p.add_argument("model", help="RUN folder or RUN/model.tflite (labels.txt, settings.json "
                                 "and detector.json beside it), or an ensemble folder (kws "
                                 "ensemble)")
    p.add_argument("--wavs", default=None, help="folder of WAV/FLAC files, labelled by folder")
    p.add_argument("--labels", default=None, help="CSV path,label (instead of folder names)")
    p.add_argument("--interpreter", default="litert", choices=("litert", "micro"),
                   help="reference interpreter: ai-edge-litert BUILTIN_REF or tflite-micro")
    p.add_argument("--stream", default=None, help="a long recording")
    p.add_argument("--events", default=None, help="CSV start_s,end_s,label of the stream")
    p.add_argument("--negatives", default=None,
                   help="folder of keyword-free recordings: every detection is a false accept")
    p.add_argument("--stride", type=int, default=None,
                   help="model every N front-end hops (default: RUN/detector.json)")
    p.add_argument("--smooth", type=int, default=None,
                   help="posteriors averaged (default: RUN/detector.json)")
    p.add_argument("--threshold", type=int, default=None,
                   help="every keyword's threshold, 0..255 (default: RUN/detector.json)")
    p.add_argument("--refractory", type=float, default=None,
                   help="refractory time in seconds (default: RUN/detector.json)")
    p.add_argument("--engine", choices=("c", "tflm"), default=None,
                   help="model engine (default: the C runtime when it builds, else tflm)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes for the model")
    p.add_argument("--json", default=None, help="write the results as JSON")
    p.add_argument("--png", default=None, help="confusion matrix / DET curve PNG path (the DET "
                                                  "curve's points go beside it as .json)")
    p.set_defaults(func=run)
