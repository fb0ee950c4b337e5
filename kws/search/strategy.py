"""How the search spends the CPU: a space sized to the budget, then successive halving.

1. **Budget frontier** (:func:`frontier`): within each line of the grid (a family with every
   field fixed but the width), cost grows with the width, so a bisection over the widths finds
   the widest network the cost model says fits (a few probes per line instead of all of
   them); the frontier is that network of every line, and the next narrower one.
2. **Successive halving** (:func:`promote`): every starting candidate trains a few epochs (a
   proxy); the best third by Pareto rank (training accuracy against predicted instructions
   per second) and then accuracy trains on to the next rung's epochs (resuming its
   checkpoint), and so on. At the last rung false accepts join the ranking: every candidate
   is quantized and scored on tuning audio of the finalists' detection source (never the
   audio they are reported on) for its mean miss rate at 1, 10 and 100 times the FA/h target
   (:func:`kws.search.measure.miss_at_target`), and the finalists are the best by Pareto rank
   over (accuracy, that miss rate, instructions per second), then miss rate, then accuracy;
   they are trained to the final epochs and measured.
"""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any, Callable, Sequence

from kws.search.cost import Budget, Cost
from kws.search.space import Candidate, architecture_key


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Epochs of each proxy rung, the final epochs, the reduction factor and the finalists."""

    rungs: tuple[int, ...]
    final_epochs: int
    eta: int = 3
    finalists: int = 2

    @classmethod
    def for_trials(cls, trials: int, *, final_epochs: int = 15) -> Schedule:
        """The default schedule for ``trials`` starting candidates: rungs of 2 and 6 epochs
        (one rung for up to 4 candidates), 2 finalists (3 from 24 candidates)."""
        rungs = (2,) if trials <= 4 else (2, 6)
        return cls(rungs, final_epochs, 3, 3 if trials >= 24 else 2)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"rungs": list(self.rungs), "final_epochs": self.final_epochs, "eta": self.eta,
                "finalists": self.finalists}


def _lines(cands: Sequence[Candidate]) -> dict[str, list[Candidate]]:
    """Candidates grouped by everything but the width (decision period, input resolution and
    pruning ratio included), each line sorted by width."""
    lines: dict[str, list[Candidate]] = {}
    for c in cands:
        rest = {k: v for k, v in c.fields.items() if k != "filters"}
        key = f"{c.family}|{sorted(rest.items())}|{c.every}|{c.coeffs}|{c.prune}"
        lines.setdefault(key, []).append(c)
    return {k: sorted(v, key=lambda c: c.fields["filters"]) for k, v in lines.items()}


def frontier(cands: Sequence[Candidate], cost_of: Callable[[Candidate], Cost | None],
             budget: Budget, *, per_line: int = 2, margin: float = 0.0) -> list[Candidate]:
    """The widest ``per_line`` candidates of each line that fit ``budget`` with ``margin`` to
    spare (bisection on the width; ``cost_of`` returns None for a candidate the exporter
    refuses: treated as not fitting)."""
    out: list[Candidate] = []

    def fits(c: Candidate) -> bool:
        cost = cost_of(c)
        return cost is not None and budget.allows(cost, margin=margin)

    for line in _lines(cands).values():
        lo, hi = 0, len(line)          # line[:lo] fit (assumed), line[hi:] do not
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(line[mid]):
                lo = mid + 1
            else:
                hi = mid
        kept = [c for c in line[max(lo - per_line, 0):lo] if fits(c)]
        out.extend(reversed(kept))
    return out


def starting_pool(front: Sequence[Candidate], trials: int, *, seed: int = 0) -> list[Candidate]:
    """``trials`` candidates of the frontier, taken in turn from each family: first the widest
    of each line (lines in a seeded random order), then the others; one decision period per
    network (the first taken), since the training of both would be the same."""
    rng = random.Random(seed)
    queues = []
    for fam in sorted({c.family for c in front}):
        lines = list(_lines([c for c in front if c.family == fam]).values())
        rng.shuffle(lines)
        queues.append([line[-1] for line in lines] + [c for line in lines for c in line[:-1]])
    pool: list[Candidate] = []
    networks: set[str] = set()
    while len(pool) < trials and any(queues):
        for q in queues:
            while q and architecture_key(q[0]) in networks:
                q.pop(0)              # the same network with another decision period
            if q and len(pool) < trials:
                networks.add(architecture_key(q[0]))
                pool.append(q.pop(0))
    return pool


def pareto_ranks(points: Sequence[tuple[float, ...]]) -> list[int]:
    """Non-dominated sorting of ``(score to maximize, cost to minimize, further costs to
    minimize...)`` points: rank 0 is the Pareto front, rank 1 the front of the rest, ..."""
    keys = [(-p[0], *p[1:]) for p in points]          # every objective minimized
    ranks = [-1] * len(points)
    remaining = set(range(len(points)))
    rank = 0
    while remaining:
        front = {i for i in remaining if not any(
            all(a <= b for a, b in zip(keys[j], keys[i])) and keys[j] != keys[i]
            for j in remaining)}
        for i in front:
            ranks[i] = rank
        remaining -= front
        rank += 1
    return ranks


def promote(results: Sequence[tuple[str, float, float] | tuple[str, float, float, float]],
            keep: int) -> list[str]:
    """The ``keep`` best of ``(name, accuracy, instructions per second)`` or ``(name,
    accuracy, instructions per second, miss rate at the FA/h budgets)``: by Pareto rank over
    those objectives, then (with a miss rate) the lower miss rate, then accuracy. The miss
    rate is used only when every result has one."""
    detect = all(len(r) > 3 for r in results)
    ranks = pareto_ranks([(r[1], r[2], r[3]) if detect else (r[1], r[2]) for r in results])

    def order(i: int) -> tuple[float, ...]:
        r = results[i]
        return (ranks[i], r[3], -r[1]) if detect else (ranks[i], -r[1])

    return [results[i][0] for i in sorted(range(len(results)), key=order)[:keep]]


def next_size(n: int, eta: int) -> int:
    """Candidates kept from a rung of ``n``."""
    return max(1, math.ceil(n / eta))
