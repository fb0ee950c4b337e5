"""``kws search --words yes,no --flash 64k --ram 16k --mips 8 --out DIR``: the architecture
search under measured budgets (:mod:`kws.search`)."""

from __future__ import annotations

import argparse
import re

from kws.errors import KwsError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)[bB]?\s*$")


def parse_bytes(text: str, *, what: str) -> int:
    """``64k`` -> 65536, ``1M`` -> 1048576, ``20000`` -> 20000 (k and M are binary)."""
    m = _SIZE.match(text)
    if not m:
        raise KwsError(f"{text!r} is not a size (e.g. 64k, 1M, 20000)", argument=what)
    scale = {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def parse_list(text: str | None, *, what: str, cast: type) -> list | None:
    """``"8,10,13"`` -> ``[8, 10, 13]`` (None for None); a bad item is an error naming
    ``what``."""
    if text is None:
        return None
    try:
        values = [cast(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise KwsError(f"{text!r} is not a comma-separated list of numbers",
                       argument=what) from None
    if not values:
        raise KwsError(f"{text!r}: no values", argument=what)
    return values


def run(args: argparse.Namespace) -> int:
    """Build the :class:`~kws.search.driver.SearchConfig` and search; print the table."""
    from kws.search.cost import Budget
    from kws.search.driver import SearchConfig, run_search
    from kws.search.space import check_dimensions

    if args.mips <= 0:
        raise KwsError(f"{args.mips:g}: must be positive", argument="mips")
    if args.trials < 1:
        raise KwsError(f"{args.trials}: must be at least 1", argument="trials")
    budget = Budget(flash=parse_bytes(args.flash, what="flash"),
                    ram=parse_bytes(args.ram, what="ram"),
                    instructions_per_second=args.mips * 1e6)
    coeffs = parse_list(args.coeffs, what="coeffs", cast=int)
    prune = parse_list(args.prune, what="prune", cast=float)
    check_dimensions(coeffs, prune)
    words = [w.strip() for w in args.words.split(",") if w.strip()]
    train = {"data": args.data, "data_dir": args.data_dir, "per_word": args.per_word,
             "batch_size": args.batch_size}
    cfg = SearchConfig(words=words, out=args.out, budget=budget, trials=args.trials,
                       final_epochs=args.epochs,
                       families=args.families.split(",") if args.families else None,
                       coeffs=coeffs, prune=prune,
                       train=train,
                       real_speech=None if args.real_speech == "none" else args.real_speech,
                       stream_minutes=args.stream_minutes,
                       detection=None if args.detection == "auto" else args.detection,
                       negatives=args.negatives, workers=args.workers,
                       ray=args.ray, cache_dir=args.cache_dir, seed=args.seed)
    report = run_search(cfg)
    print(f"kws search: finalists (every figure measured: firmware under QEMU, accuracy and "
          f"FA/h on real speech); budget flash {budget.flash / 1024:g} KB, RAM "
          f"{budget.ram / 1024:g} KB, {args.mips:g} M instructions/s")
    for line in report["table"]:
        print(line)
    for line in report.get("detection_notes", []):
        print(line)
    worst = report["cost_model_max_error"]
    if worst:
        print("cost model vs the real firmware (worst finalist): " + ", ".join(
            f"{k} {100 * v:.1f} %" for k, v in worst.items()))
    loo = report.get("cost_model_leave_one_out") or {}
    if loo.get("networks"):
        print(f"cost model, each of its {loo['networks']} firmware calibration networks left "
              "out of the fit and predicted: " + ", ".join(
                  f"{k} {100 * v['min']:+.1f}..{100 * v['max']:+.1f} % (mean |error| "
                  f"{100 * v['mean_abs']:.1f} %)" for k, v in loo.items() if k != "networks"))
    print(f"wrote {args.out}/report.json, {args.out}/pareto.json, {report['pareto_png']}, "
          f"{args.out}/search.json, runs in {args.out}/runs/")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``search`` sub-command."""
    from kws.paths import real_speech_dir
    from kws.search.measure import DETECTION_MODES

    real = real_speech_dir()
    p = sub.add_parser("search", help="search model families and sizes within flash, RAM and "
                                      "instructions-per-second budgets",
                       description="Architecture search: the best accuracy and false accepts "
                                   "per hour within budgets of the whole firmware, costs "
                                   "predicted by a model calibrated on exact QEMU counts, "
                                   "finalists measured on the real firmware. Resumable: run "
                                   "it again with the same --out.")
    p.add_argument("--words", required=True, help="comma-separated keywords, e.g. yes,no")
    p.add_argument("--flash", required=True, help="flash budget of the whole firmware, e.g. "
                                                  "64k")
    p.add_argument("--ram", required=True, help="RAM budget of the whole firmware (static + "
                                                "stack), e.g. 16k")
    p.add_argument("--mips", required=True, type=float,
                   help="M instructions per second of audio (front end, model at its decision "
                        "rate, detector), e.g. 8")
    p.add_argument("--out", required=True, help="search folder (state, runs, report)")
    p.add_argument("--trials", type=int, default=16,
                   help="candidates that start training (default 16; about 35 min on 2 "
                        "shared cores with nothing cached but the training data)")
    p.add_argument("--epochs", type=int, default=15, help="finalists' epochs (default 15)")
    p.add_argument("--families", default=None,
                   help="comma-separated families (default: ds-cnn,ds-cnn-stream,tcn-stream)")
    p.add_argument("--coeffs", default=None, metavar="N,N",
                   help="input resolutions searched: MFCC coefficients per frame, e.g. 8,10,13 "
                        "(default 10, the front end's; each costs calibration networks)")
    p.add_argument("--prune", default=None, metavar="R,R",
                   help="structured-pruning ratios searched, e.g. 0,0.5 (default 0: none); a "
                        "pruned candidate trains at its width, then keeps 1-R of its channels")
    p.add_argument("--data", default="synth", help="as kws train --data (default synth)")
    p.add_argument("--data-dir", default=None, help="as kws train --data-dir")
    p.add_argument("--per-word", type=int, default=1000, help="as kws train --per-word")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--real-speech", default=str(real) if real else "none", metavar="DIR",
                   help="real recordings (<word>/<clip>) for the finalists' accuracy and FA/h "
                        "(default: the repository's real clips; none: skip)")
    p.add_argument("--detection", choices=DETECTION_MODES, default="auto",
                   help="how the finalists' FA/h and miss rate are measured: bench, the real "
                        "streams of kws bench detection (held-out Speech Commands words and "
                        "the screened scoring half of the running dialogue of the shared data "
                        "folder); stream, a stream of the --real-speech clips; auto (default): "
                        "bench where the shared data are present, else stream")
    p.add_argument("--negatives", action="append", default=None, metavar="DIR",
                   help="a folder of keyword-free recordings pooled into the finalists' FA/h "
                        "(repeatable)")
    p.add_argument("--stream-minutes", type=float, default=30.0,
                   help="length of the real-speech detection stream (default 30)")
    p.add_argument("--workers", type=int, default=2, help="trials at a time (default 2)")
    p.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="run trials on this Ray cluster (local: a local Ray; default: a local "
                        "Ray when ray is installed, else worker processes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None, help="cache root (default $KWS_CACHE or "
                                                     "~/.cache/kws)")
    p.set_defaults(func=run)
