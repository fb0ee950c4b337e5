"""Scoring streaming detections the way the field does: false accepts per hour, misses, DET.

Matching rule (MLPerf Tiny streaming-wakeword's, ``get_true_and_false_detections`` in
``benchmark/training/streaming_wakeword/str_ww_util.py``): an event is the span
``[start_s, end_s]`` of a spoken keyword. A detection at time ``t`` (ms of the newest sample the
model has seen) is

- a **hit** of the first unmatched event with its label and ``start_s <= t <= end_s + 0.5 s``
  (``HIT_AFTER_S``); one hit per event;
- **ignored** when ``start_s <= t <= end_s + 1.0 s`` (``GUARD_AFTER_S``) of any event and it is
  not a hit (a second detection of the same word, or a late one). A detection of *another*
  keyword in that span is counted apart as a **confusion** (not a false accept);
- otherwise a **false accept**.

False accepts per hour divide by the hours of **non-keyword audio**: the stream's duration
minus the union of the event spans ``[start_s, end_s + GUARD_AFTER_S]``. A miss is an event
with no hit. The detector's refractory time (``DetectorSettings.refractory_ms``, default 1 s,
MLPerf's debounce) suppresses repeated detections; it is the detector's, not the scorer's.

The detector itself is :class:`kws.detect.Detector`; :func:`detect_all` computes exactly its
detections for a whole sequence of model outputs at once (vectorized smoothing, then one step
per *detection* for the refractory time), so a DET curve over all 256 thresholds of hours of
audio takes seconds.

Example
-------
>>> from kws.detect import DetectorSettings
>>> s = DetectorSettings(labels=("_silence_", "yes"), thresholds=(256, 200), average_window=1,
...                      refractory_ms=1000)
>>> q = np.array([[127, -128], [-128, 127], [-128, 127], [-128, 127]], np.int8)
>>> [d.time_ms for d in detect_all(q, np.array([0, 500, 1000, 1600]), s, -128)]
[500, 1600]
>>> r = score([(0.5, "yes"), (1.6, "yes")], [(0.2, 0.6, "yes")], duration_s=3600.0)
>>> (r["hits"], r["false_accepts"], r["misses"])
(1, 1, 0)
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from kws.detect import THRESHOLD_OFF, Detection, DetectorSettings
from kws.errors import KwsError

#: A detection up to this long after the end of a keyword still counts as its hit.
HIT_AFTER_S = 0.5
#: Other detections up to this long after the end of a keyword are not false accepts.
GUARD_AFTER_S = 1.0
#: The FA/h budgets at which :func:`operating_points` reports the best miss rate.
FA_BUDGETS = (0.5, 1.0, 2.0, 5.0, 10.0, 50.0)

Event = tuple[float, float, str]


def smoothed_scores(outputs: np.ndarray, average_window: int, output_zero_point: int
                    ) -> np.ndarray:
    """The detector's scores ``S // K`` after each inference, shape (N, C), int64.

    ``outputs`` are the int8 model outputs (N, C); the history starts as zeros, as in
    :meth:`kws.detect.Detector.reset`.
    """
    q = np.asarray(outputs, dtype=np.int64)
    if q.ndim != 2:
        raise KwsError(f"detector outputs: expected (N, classes), got shape {q.shape}")
    u = np.clip(q - output_zero_point, 0, 255)
    c = np.cumsum(np.vstack([np.zeros((1, q.shape[1]), np.int64), u]), axis=0)
    k = int(average_window)
    lo = np.maximum(np.arange(1, len(q) + 1) - k, 0)
    return (c[1:] - c[lo]) // k


def detect_all(outputs: np.ndarray, times_ms: np.ndarray, settings: DetectorSettings,
               output_zero_point: int, *, scores: np.ndarray | None = None
               ) -> list[Detection]:
    """Detections of :class:`kws.detect.Detector` over all ``outputs`` (one per inference).

    Parameters
    ----------
    outputs : ndarray of int8, shape (N, C)
        Model outputs in time order.
    times_ms : ndarray of int, shape (N,)
        Time of each inference (non-decreasing).
    settings : DetectorSettings
    output_zero_point : int
    scores : ndarray, optional
        :func:`smoothed_scores` of ``outputs`` for ``settings.average_window`` (reuse it when
        sweeping thresholds).

    Returns
    -------
    list of Detection
        Equal to feeding the outputs one by one to a fresh :class:`kws.detect.Detector`.
    """
    if scores is None:
        scores = smoothed_scores(outputs, settings.average_window, output_zero_point)
    times = np.asarray(times_ms, dtype=np.int64)
    th = np.asarray(settings.thresholds, dtype=np.int64)
    ok = (th <= 255) & (scores >= th)
    rows = np.flatnonzero(ok.any(axis=1))
    if len(rows) == 0:
        return []
    cand = np.where(ok[rows], scores[rows], -1)
    winners = np.argmax(cand, axis=1)
    cand_t = times[rows]
    found, i = [], 0
    while i < len(rows):
        r = rows[i]
        c = int(winners[i])
        found.append(Detection(int(times[r]), settings.labels[c], int(scores[r, c])))
        i = int(np.searchsorted(cand_t, times[r] + settings.refractory_ms, side="left"))
    return found


def keyword_free_seconds(events: Sequence[Event], duration_s: float) -> float:
    """Seconds of the stream outside every ``[start, end + GUARD_AFTER_S]`` span."""
    spans = sorted((max(0.0, s), min(duration_s, e + GUARD_AFTER_S)) for s, e, _ in events)
    covered, cur_s, cur_e = 0.0, None, None
    for s, e in spans:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                covered += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        covered += cur_e - cur_s
    return max(duration_s - covered, 0.0)


def match(detections: Iterable[tuple[float, str]], events: Sequence[Event]
          ) -> dict[str, Any]:
    """Apply the matching rule: counts and the false-accept times.

    ``detections`` are ``(time_s, label)`` in time order; ``events`` ``(start_s, end_s, label)``.
    """
    order = sorted(range(len(events)), key=lambda i: events[i][0])
    ev = [events[i] for i in order]
    starts = np.array([e[0] for e in ev])
    longest = max((e[1] - e[0] for e in ev), default=0.0) + GUARD_AFTER_S
    used = [False] * len(ev)
    hits = ignored = confusions = 0
    fa_times: list[tuple[float, str]] = []
    for t, label in detections:
        hi = int(np.searchsorted(starts, t, side="right"))   # events starting at or before t
        lo = int(np.searchsorted(starts, t - longest, side="left"))
        near = [j for j in range(lo, hi) if t <= ev[j][1] + GUARD_AFTER_S]
        hit = next((j for j in near if not used[j] and ev[j][2] == label
                    and t <= ev[j][1] + HIT_AFTER_S), None)
        if hit is not None:
            used[hit] = True
            hits += 1
        elif any(ev[j][2] == label for j in near):
            ignored += 1
        elif near:
            confusions += 1
        else:
            fa_times.append((t, label))
    return {"hits": hits, "ignored": ignored, "confusions": confusions,
            "false_accepts": len(fa_times), "fa_times": fa_times, "events": len(ev),
            "misses": len(ev) - hits}


def score(detections: Iterable[tuple[float, str]], events: Sequence[Event], *,
          duration_s: float, extra_negative_s: float = 0.0, extra_false_accepts: int = 0
          ) -> dict[str, Any]:
    """False accepts per hour of non-keyword audio and the miss rate.

    ``extra_negative_s`` / ``extra_false_accepts``: keyword-free recordings scored beside the
    stream (every detection there is a false accept).
    """
    m = match(detections, events)
    neg_s = keyword_free_seconds(events, duration_s) + extra_negative_s
    fa = m["false_accepts"] + extra_false_accepts
    n = m["events"]
    m.update(false_accepts=fa, negative_hours=neg_s / 3600.0,
             fa_per_hour=fa / (neg_s / 3600.0) if neg_s > 0 else float("nan"),
             miss_rate=m["misses"] / n if n else float("nan"))
    return m


def operating_points(curve: Sequence[dict[str, Any]], budgets: Sequence[float] = FA_BUDGETS
                     ) -> list[dict[str, Any]]:
    """For each FA/h budget, the curve point with the lowest miss rate within it (then the
    fewest false accepts, then the lowest threshold); None where no point meets it."""
    out = []
    for b in budgets:
        ok = [c for c in curve if c["fa_per_hour"] <= b]
        best = min(ok, key=lambda c: (c["miss_rate"], c["fa_per_hour"], c["threshold"])
                   ) if ok else None
        out.append({"fa_per_hour_budget": b, **({k: best[k] for k in (
            "threshold", "fa_per_hour", "miss_rate")} if best else {"threshold": None})})
    return out


def with_threshold(settings: DetectorSettings, threshold: int) -> DetectorSettings:
    """``settings`` with every enabled keyword's threshold set to ``threshold``."""
    th = tuple(t if t == THRESHOLD_OFF else int(threshold) for t in settings.thresholds)
    return DetectorSettings(labels=settings.labels, thresholds=th,
                            average_window=settings.average_window,
                            model_every_hops=settings.model_every_hops,
                            refractory_ms=settings.refractory_ms)
