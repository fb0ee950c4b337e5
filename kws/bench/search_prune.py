"""``kws bench search_prune --out DIR``: what structured pruning is worth as a ``kws search``
dimension, measured as the search measures its finalists.

Three networks of one streaming shape, each trained with the search's recipe (synthetic
yes/no by default, ``--epochs``, the search's training settings) and finished as a finalist
(:func:`kws.search.trial.final_trial`: int8 export, detector calibration, the real firmware
under QEMU, FA/h and misses on ``kws bench detection``'s real streams where the shared data
are present, accuracy on ``--real-speech`` clips):

1. the network at ``--filters`` channels, unpruned;
2. the same pruned by ``--ratio`` (:mod:`kws.train.prune`, fine-tuned), which deploys
   ``keep_count(filters, ratio)`` channels;
3. the peer: the deployed width trained directly.

Prints each one's figures and the ratios of 2 to 1 and to 3 (same deployed cost).

    kws bench search_prune --out DIR [--family tcn-stream] [--filters 64] [--ratio 0.5]
                           [--blocks 3] [--first-time 5] [--kernel 3] [--epochs 15]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Sequence

from kws.errors import KwsError


def _spec(cand: Any, args: argparse.Namespace, detection: str) -> dict[str, Any]:
    return {"kind": "final", "candidate": cand.to_dict(), "epochs": args.epochs,
            "run": str(Path(args.out) / cand.name),
            "train": {"data": args.data, "data_dir": args.data_dir, "per_word": 1000,
                      "batch_size": 64, "words": args.words.split(","), "cache_dir": None,
                      "real_eval": None, "seed": args.seed},
            "real_speech": None if args.real_speech == "none" else args.real_speech,
            "stream_minutes": args.stream_minutes, "detection": detection, "negatives": None}


def _row(r: dict[str, Any]) -> str:
    m, d = r["measured"], r.get("detection") or {}
    fa = (f"{d['fa_per_hour']:6.1f} ({d['false_accepts']}) over "
          f"{60 * d['negative_hours']:.1f} min, miss {d['miss_rate']:.3f}") if d else "-"
    real = r.get("accuracy_real")
    return (f"{r['name']:<32} val {r['val_accuracy']:.3f}  real "
            f"{'-' if real is None else format(real, '.3f')}  FA/h {fa}  "
            f"{m['instructions_per_second'] / 1e6:.2f} M instr/s  flash "
            f"{m['flash_bytes'] / 1024:.1f} KB  RAM {m['ram_bytes'] / 1024:.1f} KB")


def main(argv: Sequence[str] | None = None) -> int:
    """Train, finish and measure the three networks; print the table and the ratios."""
    from kws.paths import real_speech_dir
    from kws.search.measure import resolve_detection
    from kws.search.space import Candidate
    from kws.search.trial import run_trial
    from kws.train.prune import keep_count

    real = real_speech_dir()
    ap = argparse.ArgumentParser(prog="kws bench search_prune",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder of the three runs")
    ap.add_argument("--words", default="yes,no")
    ap.add_argument("--family", default="tcn-stream", choices=("tcn-stream",))
    ap.add_argument("--filters", type=int, default=64)
    ap.add_argument("--blocks", type=int, default=3)
    ap.add_argument("--first-time", type=int, default=5)
    ap.add_argument("--kernel", type=int, default=3)
    ap.add_argument("--ratio", type=float, default=0.5, help="pruning ratio (default 0.5)")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--data", default="synth")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--real-speech", default=str(real) if real else "none", metavar="DIR")
    ap.add_argument("--detection", default="auto", choices=("auto", "bench", "stream"))
    ap.add_argument("--stream-minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not 0.0 < args.ratio < 1.0:
        raise KwsError(f"{args.ratio:g}: must be in (0, 1)", argument="ratio")

    detection = resolve_detection(None if args.detection == "auto" else args.detection)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    fields = {"filters": args.filters, "first_time": args.first_time, "kernel": args.kernel,
              "blocks": args.blocks}
    narrow = keep_count(args.filters, args.ratio)
    cands = [Candidate(args.family, fields, 1), Candidate(args.family, fields, 1,
                                                          prune=args.ratio),
             Candidate(args.family, {**fields, "filters": narrow}, 1)]
    results = []
    for c in cands:
        t0 = time.monotonic()
        r = run_trial(_spec(c, args, detection))
        r["wall_s"] = round(time.monotonic() - t0)
        results.append(r)
        print(_row(r), flush=True)
    Path(args.out, "search_prune.json").write_text(json.dumps(results, indent=1, default=str))
    full, pruned, peer = results

    def ratio(key: str, a: dict[str, Any], b: dict[str, Any]) -> str:
        return f"{a['measured'][key] / b['measured'][key]:.2f}x"

    print(f"pruned vs unpruned {args.filters}: real acc "
          f"{_delta(pruned, full, 'accuracy_real')}, val acc "
          f"{_delta(pruned, full, 'val_accuracy')}; instr/s "
          f"{ratio('instructions_per_second', pruned, full)}, flash "
          f"{ratio('flash_bytes', pruned, full)}, RAM {ratio('ram_bytes', pruned, full)}")
    print(f"pruned vs trained at {narrow} (same deployed shape): real acc "
          f"{_delta(pruned, peer, 'accuracy_real')}, val acc "
          f"{_delta(pruned, peer, 'val_accuracy')}; instr/s "
          f"{ratio('instructions_per_second', pruned, peer)}")
    print(f"detection: {detection}; runs and search_prune.json in {args.out}")
    return 0


def _delta(a: dict[str, Any], b: dict[str, Any], key: str) -> str:
    if a.get(key) is None or b.get(key) is None:
        return "-"
    return f"{100 * (a[key] - b[key]):+.1f} points"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
