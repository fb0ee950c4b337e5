"""``kws search``: the search from budgets to a measured table (the library entry point).

:func:`run_search` ties the parts together: the grid (:mod:`kws.search.space`), the cost
model (:mod:`kws.search.cost`, calibrated once per source tree and cached), the structural
probes (:mod:`kws.search.probe`, cached), the frontier and successive halving
(:mod:`kws.search.strategy`), the trials (:mod:`kws.search.trial`) on an executor
(:mod:`kws.search.executor`), the resumable state (:mod:`kws.search.state`) and the report
(:mod:`kws.search.report`).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, Callable

from tqdm import tqdm

from kws.errors import KwsError
from kws.evaluate import negative_files
from kws.search.cost import (
    Budget,
    Cost,
    CostModel,
    calibrate,
    leave_one_out_summary,
    relative_errors,
)
from kws.search.executor import make_executor
from kws.search.measure import SCREEN_BUDGET_FACTORS, resolve_detection
from kws.search.probe import probe
from kws.search.report import detection_notes, finalist_table, pareto_points, write_pareto
from kws.search.space import DEFAULT_COEFFS, Candidate, check_dimensions, enumerate_space
from kws.search.state import SearchState
from kws.search.strategy import Schedule, frontier, next_size, promote, starting_pool
from kws.search.trial import proxy_score, run_trial


@dataclasses.dataclass
class SearchConfig:
    """What a search is asked (saved in DIR/search.json).

    ``train`` holds the :class:`kws.train.trainer.TrainConfig` fields every trial shares
    (data, data_dir, per_word, seed, batch_size, ...). ``real_speech``: a folder of real
    recordings (Speech Commands layout) the finalists' accuracy is measured on.
    ``detection``: how their FA/h and miss rate are measured
    (:data:`kws.search.measure.DETECTION_MODES`; None: ``auto``, the real streams of ``kws
    bench detection`` where the shared data are present, else a stream of ``real_speech``'s
    clips), ``stream_minutes`` long (the Speech Commands stream); ``negatives``: folders of
    keyword-free recordings pooled into their FA/h.
    ``families``: the families searched (default all); ``grid``: an override of the grid;
    ``coeffs``: the input resolutions (MFCC coefficients per frame) searched (default
    :data:`kws.search.space.DEFAULT_COEFFS`); ``prune``: the pruning ratios searched (default
    :data:`kws.search.space.DEFAULT_PRUNE`).
    ``margin``: the fraction of every budget a candidate must leave spare by the cost model
    (its error bound), so that the real firmware stays within the budget. ``calibration``:
    the cost model's calibration networks (candidate dicts; default
    :func:`kws.search.cost.calibration_candidates`); ``calibration_kernels``: networks whose
    kernel calls only are counted (default: :func:`kws.search.cost.kernel_candidates` with the
    default calibration, none with a given one).
    """

    words: list[str]
    out: str
    budget: Budget
    trials: int = 16
    final_epochs: int = 15
    schedule: Schedule | None = None
    families: list[str] | None = None
    grid: dict[str, dict[str, list[Any]]] | None = None
    every_hops: list[int] | None = None
    coeffs: list[int] | None = None
    prune: list[float] | None = None
    train: dict[str, Any] = dataclasses.field(default_factory=dict)
    real_speech: str | None = None
    stream_minutes: float = 30.0
    detection: str | None = None
    negatives: list[str] | None = None
    workers: int = 2
    ray: str | None = None
    cache_dir: str | None = None
    seed: int = 0
    margin: float = 0.03
    calibration: list[dict[str, Any]] | None = None
    calibration_kernels: list[dict[str, Any]] | None = None

    def key(self) -> dict[str, Any]:
        """The JSON the state compares on resume."""
        d = dataclasses.asdict(self)
        d["budget"] = dataclasses.asdict(self.budget)
        d["schedule"] = self.effective_schedule().to_dict()
        return d

    def effective_schedule(self) -> Schedule:
        """The schedule given, or the default for :attr:`trials`."""
        return self.schedule or Schedule.for_trials(self.trials, final_epochs=self.final_epochs)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _cache(cfg: SearchConfig) -> Path:
    from kws.train.trainer import default_cache

    root = Path(cfg.cache_dir) if cfg.cache_dir else default_cache()
    (root / "search" / "probes").mkdir(parents=True, exist_ok=True)
    return root / "search"


def _cost_fn(cfg: SearchConfig, state: SearchState, model: CostModel, classes: list[str],
             bar: tqdm) -> Callable[[Candidate], Cost | None]:
    """Predicted cost of a candidate (probed once, remembered in the state): the network it
    deploys (pruned: fewer channels) on its front end (its input resolution)."""
    probes = _cache(cfg) / "probes"

    def cost_of(c: Candidate) -> Cost | None:
        entry = state.candidates.get(c.name)
        if entry is None:
            bar.update(1)
            try:
                s = probe(c.deployed(), num_classes=len(classes), settings=c.settings(),
                          cache=probes)
                pred = model.predict(s, family=c.family, every=c.every, coeffs=c.coeffs)
                entry = {"candidate": c.to_dict(), "predicted": pred.to_dict()}
            except KwsError as exc:
                entry = {"candidate": c.to_dict(), "predicted": None, "refused": str(exc)}
            state.candidates[c.name] = entry
        p = entry["predicted"]
        return None if p is None else Cost(p["instructions_per_second"], p["flash_bytes"],
                                           p["ram_bytes"])
    return cost_of


def _run_dir(cfg: SearchConfig, name: str) -> Path:
    return Path(cfg.out) / "runs" / name


def _spec(cfg: SearchConfig, c: Candidate, kind: str, epochs: int) -> dict[str, Any]:
    return {"kind": kind, "candidate": c.to_dict(), "epochs": epochs,
            "run": str(_run_dir(cfg, c.name)),
            "train": {**cfg.train, "words": cfg.words, "cache_dir": cfg.cache_dir,
                      "real_eval": None, "seed": cfg.seed},
            "real_speech": cfg.real_speech, "stream_minutes": cfg.stream_minutes,
            "detection": resolve_detection(cfg.detection), "negatives": cfg.negatives,
            "screen_run": str(Path(cfg.out) / "screens" / f"{c.name}-e{epochs}")}


def _run_batch(cfg: SearchConfig, state: SearchState, executor: Any, kind: str, epochs: int,
               cands: list[Candidate], desc: str) -> dict[str, dict[str, Any]]:
    """Run the trials not yet in the state; every result of the batch, by name."""
    todo = [c for c in cands if state.done(kind, epochs, c.name) is None]
    bar = tqdm(total=len(cands), initial=len(cands) - len(todo), desc=desc, unit="trial")
    specs = [_spec(cfg, c, kind, epochs) for c in todo]
    for i, result in executor.run(run_trial, specs):
        state.record(kind, epochs, todo[i].name, result)
        bar.update(1)
        if kind == "screen":
            miss = (result.get("detection") or {}).get("screen_miss")
            bar.set_postfix_str(f"{todo[i].name}: miss {'-' if miss is None else f'{miss:.3f}'}")
        else:
            acc = result.get("train_accuracy", result.get("val_accuracy")) or 0.0
            bar.set_postfix_str(f"{todo[i].name}: {acc:.3f}")
    bar.close()
    return {c.name: state.done(kind, epochs, c.name) or {} for c in cands}


def _target(cfg: SearchConfig) -> float:
    """The FA/h target the last rung's miss rate is taken at (the trials' training
    setting)."""
    from kws.train.trainer import TrainConfig

    return float(cfg.train.get("target_fa_per_hour", TrainConfig.target_fa_per_hour))


def _ranked(cfg: SearchConfig, state: SearchState, name: str, result: dict[str, Any]
            ) -> tuple[Any, ...]:
    """``(name, accuracy, predicted instructions/s[, the screen's mean miss rate])`` of a
    rung's result, as :func:`kws.search.strategy.promote` ranks it."""
    row = (name, proxy_score(result, _run_dir(cfg, name)),
           state.candidates[name]["predicted"]["instructions_per_second"])
    screen = result.get("screen")
    return row + (screen["screen_miss"],) if screen else row


def run_search(cfg: SearchConfig) -> dict[str, Any]:
    """Search, train and measure; write DIR/search.json, DIR/pareto.{json,png},
    DIR/report.json and print the finalists' table. Returns the report.

    Raises
    ------
    KwsError
        Bad words or families, or no candidate of the space fits the budget.
    """
    from kws.train.data import class_names

    check_dimensions(cfg.coeffs, cfg.prune)
    detection = resolve_detection(cfg.detection)
    for folder in cfg.negatives or ():        # a bad folder is refused before any training
        negative_files(folder)
    classes = class_names(cfg.words)
    state = SearchState.open(cfg.out, cfg.key())
    sched = cfg.effective_schedule()
    calib = None if cfg.calibration is None else [Candidate.from_dict(d)
                                                  for d in cfg.calibration]
    kernels = None if cfg.calibration_kernels is None else [
        Candidate.from_dict(d) for d in cfg.calibration_kernels]
    model, samples = calibrate(_cache(cfg), labels=classes, candidates=calib, kernels=kernels,
                               coeffs=sorted(set(cfg.coeffs or DEFAULT_COEFFS)))
    _log(f"kws search: cost model calibrated on {len(samples)} networks (exact QEMU counts, "
         f"real firmware images)")
    loo = leave_one_out_summary(samples)
    space = list(enumerate_space(families=cfg.families, grid=cfg.grid,
                                 every_hops=cfg.every_hops, coeffs=cfg.coeffs,
                                 prune=cfg.prune))
    with tqdm(desc="probe candidates", unit="net") as bar:
        front = frontier(space, _cost_fn(cfg, state, model, classes, bar), cfg.budget,
                         margin=cfg.margin)
    state.save()
    if not front:
        raise KwsError(f"no candidate of the {len(space)} in the space fits flash "
                       f"{cfg.budget.flash} B, RAM {cfg.budget.ram} B, "
                       f"{cfg.budget.instructions_per_second / 1e6:g} M instructions/s "
                       f"(by the cost model)", argument="budget")
    pool = starting_pool(front, cfg.trials, seed=cfg.seed)
    _log(f"kws search: {len(space)} candidates, {len(front)} on the budget frontier, "
         f"{len(pool)} start; rungs {list(sched.rungs)} epochs, {sched.finalists} finalists "
         f"to {sched.final_epochs} epochs")
    executor = make_executor(workers=cfg.workers, ray_address=cfg.ray)
    _log(f"kws search: trials run in {executor.name}; finalists' FA/h on "
         + ("kws bench detection's real streams" if detection == "bench" else
            f"a stream of {cfg.real_speech}" if cfg.real_speech else "no stream")
         + (f" and {', '.join(cfg.negatives)}" if cfg.negatives else ""))
    by_name = {c.name: c for c in pool}
    members = list(pool)
    last: dict[str, dict[str, Any]] = {}
    try:
        for r, epochs in enumerate(sched.rungs):
            res = _run_batch(cfg, state, executor, "proxy", epochs, members,
                             f"rung {r + 1}/{len(sched.rungs)} ({epochs} epochs)")
            final_rung = r == len(sched.rungs) - 1
            if final_rung:                    # false accepts join the last ranking
                target = _target(cfg)
                screens = _run_batch(cfg, state, executor, "screen", epochs, members,
                                     f"miss at {target * min(SCREEN_BUDGET_FACTORS):g}-"
                                     f"{target * max(SCREEN_BUDGET_FACTORS):g} FA/h "
                                     f"({len(members)} candidates)")
                res = {n: {**v, "screen": screens[n].get("detection")}
                       for n, v in res.items()}
            last.update(res)
            ranked = [_ranked(cfg, state, n, res[n]) for n in (c.name for c in members)]
            keep = sched.finalists if final_rung else \
                max(next_size(len(members), sched.eta), sched.finalists)
            members = [by_name[n] for n in promote(ranked, keep)]
        finals = _run_batch(cfg, state, executor, "final", sched.final_epochs, members,
                            f"finalists ({sched.final_epochs} epochs, measured)")
    finally:
        executor.close()
    return _report(cfg, state, last, finals, loo)


def _report(cfg: SearchConfig, state: SearchState, last: dict[str, dict[str, Any]],
            finals: dict[str, dict[str, Any]], loo: dict[str, Any]) -> dict[str, Any]:
    """Errors of the cost model on the finalists and, left out one at a time, on its own
    calibration networks (``loo``), the table, the Pareto files."""
    rows = []
    for name, f in finals.items():
        pred = state.candidates[name]["predicted"]
        err = relative_errors(Cost(pred["instructions_per_second"], pred["flash_bytes"],
                                   pred["ram_bytes"]), Cost.of_figures(f["measured"]))
        rows.append({**f, "predicted": pred, "errors": err})
    points = []
    for name, r in last.items():
        entry = state.candidates[name]
        fin = finals.get(name)
        points.append({"name": name, "family": entry["candidate"]["family"],
                       "accuracy": fin["val_accuracy"] if fin else
                       proxy_score(r, _run_dir(cfg, name)),
                       "accuracy_kind": "validation, int8, final" if fin else
                       f"training, float, {r['epochs']}-epoch proxy",
                       "cost": fin["measured"] if fin else entry["predicted"],
                       "measured": fin is not None,
                       "fa_per_hour": ((fin or {}).get("detection") or {}).get("fa_per_hour"),
                       "screen": r.get("screen"),
                       "accuracy_real": (fin or {}).get("accuracy_real")})
    png = write_pareto(pareto_points(points), Path(cfg.out), cfg.budget)
    table = finalist_table(rows, cfg.budget)
    worst = {k: max(abs(r["errors"][k]) for r in rows) for k in rows[0]["errors"]} if rows \
        else {}
    report = {"finalists": rows, "cost_model_max_error": worst,
              "cost_model_leave_one_out": loo, "table": table,
              "detection_notes": detection_notes(rows), "pareto_png": str(png)}
    import json

    from kws.fileio import write_text_atomic

    write_text_atomic(Path(cfg.out) / "report.json", json.dumps(report, indent=1) + "\n")
    return report
