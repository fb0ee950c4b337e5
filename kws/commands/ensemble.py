"""``kws ensemble RUN RUN [RUN...] --out ENS``: one detector from several runs of a recipe,
their int8 outputs averaged at every hop (:mod:`kws.ensemble`), calibrated as ``kws train``
calibrates a run."""

from __future__ import annotations

import argparse

from kws.commands.calibrate import add_calibration_arguments, recalibrate_with


def run(args: argparse.Namespace) -> int:
    """Write the ensemble folder, calibrate its detector, print it."""
    from pathlib import Path

    from kws.ensemble import create_ensemble
    from kws.train.detector import describe

    cal = []

    def calibrate(folder: Path) -> None:
        cal.append(recalibrate_with(str(folder), args))

    out = create_ensemble(args.runs, args.out, calibrate=None if args.no_calibrate else calibrate)
    print(f"kws: wrote {out} (an ensemble of {len(args.runs)} runs: {out}/ensemble.json)")
    if cal:
        print(describe(cal[0]))
    else:
        print("kws: no detector.json (--no-calibrate): the first member's detector settings "
              "are not the ensemble's; run kws calibrate on it")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``ensemble`` sub-command."""
    p = sub.add_parser(
        "ensemble", help="average several runs' outputs into one detector (and firmware)",
        description="Make an ensemble folder from two or more runs of one recipe (e.g. kws "
                    "train --seed 0, 1, 2): at every hop its int8 output is the mean of the "
                    "members' outputs, rounded half up. Its detector is calibrated on the "
                    "averaged outputs with the first run's held-out audio, as kws train "
                    "calibrates (kws calibrate ENS does it again). kws stream, kws eval "
                    "--stream/--negatives, kws bench detection and kws firmware take the "
                    "folder like a run; the firmware steps every member per hop.")
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="RUN folders written by kws train, with the same classes and front end")
    p.add_argument("--out", required=True, help="the new ensemble folder")
    add_calibration_arguments(p, "the first run's")
    p.add_argument("--no-calibrate", action="store_true",
                   help="write the folder without a detector (kws calibrate ENS later)")
    p.set_defaults(func=run)
