"""Detector calibration: per-keyword thresholds, smoothing window and refractory time that meet
a false-accept budget on held-out negative audio with the fewest misses.

Given the model outputs over held-out audio (:class:`kws.evaluate.Scored`: keyword-free
recordings, and a stream with keyword events whose non-keyword parts count as negative audio
too), for every smoothing window ``K`` in ``windows`` and refractory time in ``refractories``:

1. each keyword alone (the others disabled) gets the lowest threshold whose false accepts per
   hour are at most ``target / number of keywords`` (binary search over 0..255; a threshold of
   255 that still exceeds it stays 255);
2. with all keywords on, while the total exceeds ``target``, the threshold of the keyword with
   the most false accepts goes up by one;
3. the budget left unused (step 1 splits it evenly; a keyword that needs less leaves the rest
   idle) is spent: each keyword in turn gets the lowest threshold at which the total still
   meets ``target`` with the others fixed, until none can go lower (so no single threshold can
   be lowered by one without breaking the target);
4. the miss rate on the stream's events is measured at that point.

**Resolution.** One false accept in ``H`` hours of held-out negative audio is ``1 / H`` per
hour. With ``target < 1 / H`` the target can only be met with *no* false accept at all, and a
single confident window (a score of 255 that no threshold stops) decides the thresholds: the
calibration reports ``fa_resolution_per_hour`` and :func:`kws.train.detector.describe` says so,
so the user gives more (and representative) negative audio instead of trusting the point.

The chosen settings have the lowest miss rate among the (K, refractory) pairs that meet the
target (then fewer false accepts, smaller K, shorter refractory); if none meets it, the pair
with the fewest false accepts. FA/h and misses use :mod:`kws.scoring`'s matching rule.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

from kws.detect import THRESHOLD_OFF, DetectorSettings
from kws.errors import KwsError

#: Smoothing windows tried for a model deciding every 2 hops (40 ms): 40-320 ms of outputs.
WINDOWS = (1, 2, 3, 4, 6, 8)
#: The detector's largest smoothing window (``KWS_DETECT_MAX_WINDOW``).
MAX_WINDOW = 16
REFRACTORIES_MS = (1000, 1500, 2000)


@dataclasses.dataclass(frozen=True)
class Calibration:
    """The chosen detector and what it measured on the calibration audio."""

    settings: DetectorSettings
    target_fa_per_hour: float
    fa_per_hour: float
    miss_rate: float
    negative_hours: float
    events: int
    met: bool
    grid: tuple[dict[str, Any], ...]

    @property
    def fa_resolution_per_hour(self) -> float:
        """False accepts per hour that one false accept on the calibration audio means."""
        return 1.0 / self.negative_hours if self.negative_hours > 0 else math.inf

    @property
    def resolved(self) -> bool:
        """Whether the audio can tell the target from zero (``target >= 1 / hours``)."""
        return self.target_fa_per_hour >= self.fa_resolution_per_hour

    def summary(self) -> dict[str, Any]:
        """:meth:`to_dict` without the grid (what metrics.json keeps)."""
        return {k: v for k, v in self.to_dict().items() if k != "grid"}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable summary (``grid``: every (K, refractory) tried)."""
        d = dataclasses.asdict(self)
        d["settings"] = self.settings.to_dict()
        d["grid"] = list(self.grid)
        d["fa_resolution_per_hour"] = self.fa_resolution_per_hour
        d["resolved"] = self.resolved
        return d


def _with(base: DetectorSettings, thresholds: Sequence[int], k: int, refractory: int
          ) -> DetectorSettings:
    return DetectorSettings(labels=base.labels, thresholds=tuple(thresholds), average_window=k,
                            model_every_hops=base.model_every_hops, refractory_ms=refractory,
                            gate=base.gate)


def _lowest_threshold(scored: Any, base: DetectorSettings, index: int, k: int, refractory: int,
                      budget: float) -> int:
    """Lowest threshold of keyword ``index`` alone whose FA/h <= budget (binary search)."""
    off = [THRESHOLD_OFF] * len(base.labels)

    def fa(t: int) -> float:
        th = list(off)
        th[index] = t
        return scored.at(_with(base, th, k, refractory))["fa_per_hour"]

    lo, hi = 0, 255
    if fa(hi) > budget:
        return 255
    while lo < hi:
        mid = (lo + hi) // 2
        if fa(mid) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _spend_leftover(scored: Any, base: DetectorSettings, th: list[int], keys: Sequence[int],
                    k: int, refractory: int, target: float) -> list[int]:
    """Lower each keyword's threshold as far as the total still meets ``target`` (the others
    fixed; binary search), keyword after keyword, until a pass changes nothing."""
    th = list(th)

    def meets(t: list[int]) -> bool:
        return scored.at(_with(base, t, k, refractory))["fa_per_hour"] <= target

    if not meets(th):
        return th
    for _ in range(4 * len(keys)):
        changed = False
        for i in keys:
            lo, hi = 0, th[i]
            while lo < hi:
                mid = (lo + hi) // 2
                if meets(th[:i] + [mid] + th[i + 1:]):
                    hi = mid
                else:
                    lo = mid + 1
            if lo < th[i]:
                th[i], changed = lo, True
        if not changed:
            break
    return th


def smoothing_windows(model_every_hops: int) -> tuple[int, ...]:
    """The windows ``K`` tried for a model deciding every ``model_every_hops`` hops: those of
    :data:`WINDOWS` scaled to cover the same durations (a streaming model deciding every hop
    averages twice as many outputs over the same time), at most :data:`MAX_WINDOW`.

    >>> smoothing_windows(2), smoothing_windows(1)
    ((1, 2, 3, 4, 6, 8), (2, 4, 6, 8, 12, 16))
    """
    return tuple(sorted({max(1, min(MAX_WINDOW, round(k * 2 / model_every_hops)))
                         for k in WINDOWS}))


def calibrate(scored: Any, base: DetectorSettings, *, target_fa_per_hour: float = 1.0,
              windows: Sequence[int] | None = None,
              refractories_ms: Sequence[int] = REFRACTORIES_MS) -> Calibration:
    """Choose thresholds, K and refractory time (module docstring).

    Parameters
    ----------
    scored : kws.evaluate.Scored
        Model outputs over the calibration audio (negative hours must be > 0).
    base : DetectorSettings
        Labels, which classes are keywords (threshold <= 255) and the model stride.
    target_fa_per_hour : float
        The false-accept budget over all keywords together.
    windows : sequence of int, optional
        Smoothing windows to try; default :func:`smoothing_windows` of the base's stride.

    Raises
    ------
    KwsError
        If the target is negative, there is no keyword, or no negative audio.
    """
    if target_fa_per_hour < 0:
        raise KwsError(f"--target-fa-per-hour: must be >= 0 (got {target_fa_per_hour})")
    keys = [i for i, t in enumerate(base.thresholds) if t != THRESHOLD_OFF]
    if not keys:
        raise KwsError("calibration: the detector has no keyword to calibrate")
    budget = target_fa_per_hour / len(keys)
    grid = []
    for k in windows or smoothing_windows(base.model_every_hops):
        for refr in refractories_ms:
            th = list(base.thresholds)
            for i in keys:
                th[i] = _lowest_threshold(scored, base, i, k, refr, budget)
            r = scored.at(_with(base, th, k, refr))
            if r["negative_hours"] <= 0:
                raise KwsError("calibration: no negative audio to calibrate on")
            while r["fa_per_hour"] > target_fa_per_hour and any(th[i] < 255 for i in keys):
                worst = max((i for i in keys if th[i] < 255), key=lambda i: sum(
                    1 for *_, lab in r["fa_times"] if lab == base.labels[i]))
                th[worst] += 1
                r = scored.at(_with(base, th, k, refr))
            th = _spend_leftover(scored, base, th, keys, k, refr, target_fa_per_hour)
            r = scored.at(_with(base, th, k, refr))
            grid.append({"average_window": k, "refractory_ms": refr, "thresholds": list(th),
                         "fa_per_hour": r["fa_per_hour"], "miss_rate": r["miss_rate"],
                         "met": r["fa_per_hour"] <= target_fa_per_hour})
    met = [g for g in grid if g["met"]]

    def miss(g: dict[str, Any]) -> float:           # no events: every choice misses alike
        return 1.0 if math.isnan(g["miss_rate"]) else g["miss_rate"]

    if met:
        best = min(met, key=lambda g: (miss(g), g["fa_per_hour"], g["average_window"],
                                       g["refractory_ms"]))
    else:
        best = min(grid, key=lambda g: (g["fa_per_hour"], miss(g)))
    settings = _with(base, best["thresholds"], best["average_window"], best["refractory_ms"])
    final = scored.at(settings)
    return Calibration(settings=settings, target_fa_per_hour=target_fa_per_hour,
                       fa_per_hour=final["fa_per_hour"], miss_rate=final["miss_rate"],
                       negative_hours=final["negative_hours"], events=final["events"],
                       met=bool(met), grid=tuple(grid))
