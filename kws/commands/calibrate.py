"""``kws calibrate RUN [--negatives DIR] [--target-fa-per-hour X]``: choose a trained run's
detector again, on the product's own audio or for another false-accept budget."""

from __future__ import annotations

import argparse
from typing import Any


def recalibrate_with(run: str, args: argparse.Namespace) -> Any:
    """:func:`kws.train.detector.recalibrate` of ``run`` with the options of
    :func:`add_calibration_arguments`."""
    from kws.train.detector import recalibrate

    return recalibrate(run, negatives=args.negatives, target_fa_per_hour=args.target_fa_per_hour,
                       tts_minutes=args.calibration_minutes, cache_dir=args.cache_dir,
                       workers=args.jobs)


def run(args: argparse.Namespace) -> int:
    """Recalibrate the run and print the chosen detector."""
    from kws.train.detector import describe

    print(describe(recalibrate_with(args.run, args)))
    print(f"kws: wrote {args.run}/detector.json, calibration.json")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` sub-command."""
    p = sub.add_parser(
        "calibrate", help="choose a trained run's detector again on other held-out audio",
        description="Choose the thresholds, smoothing window and refractory time of a run "
                    "trained by kws train, as kws train does at its end, without training: "
                    "on hours of the product's own keyword-free audio (--negatives, used "
                    "whole: it must not hold the keywords) or for another false-accept "
                    "target. Rewrites RUN/detector.json and calibration.json.")
    p.add_argument("run", help="RUN folder written by kws train")
    add_calibration_arguments(p, "the run's")
    p.set_defaults(func=run)


def add_calibration_arguments(p: argparse.ArgumentParser, whose: str) -> None:
    """The options of a calibration (``kws calibrate``, ``kws ensemble``); ``whose`` names
    where the defaults come from."""
    p.add_argument("--negatives", default=None, metavar="DIR",
                   help="keyword-free recordings never trained on, all of them (default: the "
                        f"calibration part of {whose} own --negatives)")
    p.add_argument("--target-fa-per-hour", type=float, default=None,
                   help=f"false accepts per hour to meet (default: {whose})")
    p.add_argument("--calibration-minutes", type=float, default=None,
                   help=f"minutes of held-out TTS running speech (default: {whose})")
    p.add_argument("--cache-dir", default=None, help=f"corpus cache (default: {whose})")
    p.add_argument("--jobs", type=int, default=2, help="scoring processes")
