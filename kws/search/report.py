"""The search's results: the finalists' table (measured), the Pareto points (JSON) and plot
(PNG): accuracy and false accepts per hour against instructions per second, flash and RAM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from kws.fileio import atomic_path, write_text_atomic
from kws.search.cost import Budget
from kws.search.strategy import pareto_ranks

#: The cost axes of the plot: key, label, scale.
AXES = (("instructions_per_second", "M instructions / s of audio", 1e6),
        ("flash_bytes", "flash (KB)", 1024.0), ("ram_bytes", "RAM (KB)", 1024.0))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}%"


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None or x != x else format(x, fmt)


def _minutes(det: dict[str, Any]) -> str:
    """Minutes of non-keyword audio the FA/h is over."""
    h = det.get("negative_hours")
    return "-" if h is None else f"{60 * h:.1f}"


def detection_notes(finals: Sequence[dict[str, Any]]) -> list[str]:
    """What each finalist's FA/h was measured on: every stream, its non-keyword minutes and
    false accepts."""
    lines = []
    for f in finals:
        det = f.get("detection") or {}
        if not det:
            continue
        parts = "; ".join(f"{p['name']}: {p['negative_minutes']:.1f} min non-keyword of "
                          f"{p['audio_minutes']:.1f} min, {p['false_accepts']} FA"
                          for p in det.get("parts", []))
        lines.append(f"{f['name']} FA/h over {60 * det['negative_hours']:.1f} min of "
                     f"non-keyword audio ({det.get('source') or det.get('folder')})"
                     + (f": {parts}" if parts else ""))
    return lines


def finalist_table(finals: Sequence[dict[str, Any]], budget: Budget) -> list[str]:
    """The printed table: one row per finalist, every figure measured (the real firmware
    under QEMU; accuracy and detection on real speech), and the cost model's error."""
    head = (f"{'candidate':<34} {'val acc':>7} {'real acc':>8} {'FA/h':>6} {'non-kw min':>10} "
            f"{'miss':>5} "
            f"{'M instr/s':>9} {'flash KB':>8} {'RAM KB':>7} {'fits':>4}  "
            f"{'model error: instr/s, flash, RAM':<32}")
    lines = [head, "-" * len(head)]
    for f in finals:
        m, det, err = f["measured"], f.get("detection") or {}, f.get("errors") or {}
        fits = (m["flash_bytes"] <= budget.flash and m["ram_bytes"] <= budget.ram
                and m["instructions_per_second"] <= budget.instructions_per_second)
        lines.append(
            f"{f['name']:<34} {_num(f.get('val_accuracy'), '.3f'):>7} "
            f"{_num(f.get('accuracy_real'), '.3f'):>8} {_num(det.get('fa_per_hour'), '.1f'):>6} "
            f"{_minutes(det):>10} {_num(det.get('miss_rate'), '.2f'):>5} "
            f"{m['instructions_per_second'] / 1e6:>9.2f} {m['flash_bytes'] / 1024:>8.1f} "
            f"{m['ram_bytes'] / 1024:>7.1f} {'yes' if fits else 'NO':>4}  "
            f"{_pct(err.get('instructions_per_second'))}, {_pct(err.get('flash_bytes'))}, "
            f"{_pct(err.get('ram_bytes'))}")
    return lines


def pareto_points(trained: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every trained candidate as a point (accuracy: its last proxy or final figure; costs:
    measured for finalists, else predicted), with ``pareto`` true on the accuracy /
    instructions-per-second front."""
    ranks = pareto_ranks([(p["accuracy"], p["cost"]["instructions_per_second"])
                          for p in trained])
    return [{**p, "pareto": r == 0} for p, r in zip(trained, ranks)]


def write_pareto(points: Sequence[dict[str, Any]], folder: Path, budget: Budget) -> Path:
    """``pareto.json`` and ``pareto.png`` in ``folder``; returns the PNG's path."""
    write_text_atomic(folder / "pareto.json", json.dumps(
        {"budget": {"flash_bytes": budget.flash, "ram_bytes": budget.ram,
                    "instructions_per_second": budget.instructions_per_second},
         "points": list(points)}, indent=1) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    finals = [p for p in points if p.get("fa_per_hour") is not None]
    panels = len(AXES) + (1 if finals else 0)
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.8))
    limits = (budget.instructions_per_second, budget.flash, budget.ram)
    for ax, (key, label, scale), limit in zip(axes, AXES, limits):
        for fam in sorted({p["family"] for p in points}):
            ps = [p for p in points if p["family"] == fam]
            ax.scatter([p["cost"][key] / scale for p in ps], [p["accuracy"] for p in ps],
                       label=fam, s=18)
        fr = sorted((p for p in points if p["pareto"]),
                    key=lambda p: p["cost"][key])
        if key == "instructions_per_second" and fr:
            ax.step([p["cost"][key] / scale for p in fr], [p["accuracy"] for p in fr],
                    where="post", color="k", lw=0.8, label="Pareto front")
        for p in points:
            if p.get("measured"):
                ax.scatter([p["cost"][key] / scale], [p["accuracy"]], s=60,
                           facecolors="none", edgecolors="r")
        ax.axvline(limit / scale, color="r", ls="--", lw=0.8)
        ax.set_xlabel(label)
        ax.set_ylabel("accuracy (circles: int8 validation)")
    axes[0].legend(fontsize=7)
    if finals:
        ax = axes[-1]
        ax.scatter([p["cost"]["instructions_per_second"] / 1e6 for p in finals],
                   [p["fa_per_hour"] for p in finals], color="r")
        for p in finals:
            ax.annotate(p["name"], (p["cost"]["instructions_per_second"] / 1e6,
                                    p["fa_per_hour"]), fontsize=6)
        ax.set_xlabel("M instructions / s (measured)")
        ax.set_ylabel("false accepts / hour (real speech)")
    fig.suptitle("kws search: circles = finalists, measured; dashed = budget", fontsize=9)
    fig.tight_layout()
    png = folder / "pareto.png"
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return png
