"""``kws bench ensemble RUN RUN [RUN...]``: what averaging several runs' outputs is worth on real
speech.

The runs (the same keywords and classes, e.g. one recipe trained with several ``--seed``) each
score the real streams of ``kws bench detection`` (the held-out Speech Commands stream and the
screened scoring half of the real dialogue, pooled); the ensemble's output at each hop is the
mean of the members' int8 outputs, rounded half up (:func:`kws.ensemble.mean_outputs`), and
goes through the first run's detector (its smoothing window unless ``--smoothing``) over every
threshold. The table gives each member's DET operating points, then those of the ensembles of
the first 2, 3, ... runs. An ensemble of N members costs N model steps per hop on the device;
this benchmark measures what that buys before one is built (``kws ensemble RUN RUN --out ENS``
makes the deployable one, with its own calibrated detector; ``kws bench detection ENS`` scores
it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any, Sequence

import numpy as np

from kws.bench.detection import (
    dialogue_files,
    join_lines,
    parse_budgets,
    parse_windows,
    screened_lines,
    speech_commands_stream,
)
from kws.ensemble import mean_outputs
from kws.errors import KwsError


def ensemble_scored(members: Sequence[Any]) -> Any:
    """A :class:`kws.evaluate.Scored` whose outputs are the mean of the members' (the same
    recordings, events and hop times in each, as scoring one set of streams gives)."""
    from kws.evaluate import Scored

    first = members[0]
    for m in members[1:]:
        if m.zp != first.zp or len(m.outputs) != len(first.outputs) or any(
                not np.array_equal(t, t0) for (_, t), (_, t0) in zip(m.outputs, first.outputs)):
            raise KwsError("ensemble: the members were not scored on the same recordings "
                           "with the same output quantization")
    outputs = [(mean_outputs([m.outputs[i][0] for m in members]), first.outputs[i][1])
               for i in range(len(first.outputs))]
    return Scored(outputs, first.events, first.durations, output_zero_point=first.zp,
                  names=first.names)


def main(argv: Sequence[str] | None = None) -> int:
    """Score every run on the real streams, print the members' and the ensembles' DET."""
    ap = argparse.ArgumentParser(prog="kws bench ensemble", description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="two or more RUN folders with the same classes")
    ap.add_argument("--split", default="heldout", choices=("heldout", "validation", "test"))
    ap.add_argument("--sc-minutes", type=float, default=30.0,
                    help="length of the Speech Commands stream")
    ap.add_argument("--smoothing", type=int, default=None,
                    help="smoothing window K (1..16; default the first run's)")
    ap.add_argument("--budgets", default="2,5,10,50", help="FA/h budgets, comma-separated")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write every operating point here")
    args = ap.parse_args(argv)
    if len(args.runs) < 2:
        raise KwsError("kws bench ensemble: give at least two RUN folders")
    budgets = parse_budgets(args.budgets)
    window = parse_windows(str(args.smoothing))[0] if args.smoothing is not None else None

    from kws.detect import is_keyword
    from kws.evaluate import MATCHING_RULE, score_recordings
    from kws.scoring import operating_points
    from kws.simulate import detector_settings_for, load_run_model

    models = [load_run_model(r) for r in args.runs]
    for r, m in zip(args.runs[1:], models[1:]):
        if list(m.labels) != list(models[0].labels):
            raise KwsError(f"{r}: classes {', '.join(m.labels)} differ from {args.runs[0]}'s "
                           f"({', '.join(models[0].labels)})")
    det = detector_settings_for(models[0], threshold=None)
    if window is not None:
        det = dataclasses.replace(det, average_window=window)
    words = [w for w in models[0].labels if is_keyword(w)]
    samples, events, _ = speech_commands_stream(words, minutes=args.sc_minutes,
                                                split=args.split, seed=args.seed)
    lines, _ = screened_lines(dialogue_files("scoring"), words, jobs=args.jobs)
    recs = join_lines(lines, seed=args.seed)
    kw = dict(model_every_hops=det.model_every_hops, engine=None, workers=args.jobs)
    negatives = [x for x, _ in recs]
    names = [f"dialogue {i}" for i in range(len(recs))]
    members = [score_recordings(m, stream=samples, events=events, **kw).joined(
        score_recordings(m, negatives=negatives, negative_names=names, **kw)) for m in models]
    rows: list[tuple[str, list[dict[str, Any]]]] = []
    for r, sc in zip(args.runs, members):
        rows.append((str(r), operating_points(sc.curve(det), budgets)))
    for n in range(2, len(members) + 1):
        rows.append((f"ensemble of the first {n}",
                     operating_points(ensemble_scored(members[:n]).curve(det), budgets)))
    first = members[0].at(det)
    print(f"real streams: Speech Commands {args.sc_minutes:g} min ({args.split} split, "
          f"{first['events']} keyword events) + the screened scoring half of the dialogue "
          f"({len(lines)} lines); {first['negative_hours'] * 60:.1f} min of non-keyword audio; "
          f"smoothing K={det.average_window}; {MATCHING_RULE}")
    print(f"{'model':<44}" + "".join(f"{f'miss@{b:g}/h':>12}" for b in budgets))
    for name, ops in rows:
        print(f"{name[-44:]:<44}" + "".join(
            f"{p['miss_rate']:>12.3f}" if p["threshold"] is not None else f"{'-':>12}"
            for p in ops))
    if args.json:
        from kws.fileio import write_text_atomic

        write_text_atomic(args.json, json.dumps(
            {"runs": [str(r) for r in args.runs], "average_window": det.average_window,
             "rows": {name: ops for name, ops in rows}}, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
