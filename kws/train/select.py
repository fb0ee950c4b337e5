"""Checkpoint choice for streams: false accepts per hour under a target, then the best recall
(the rule microWakeWord and openWakeWord publish).

After each epoch of the second half of training the float model scores

- **held-out keyword-free windows** (the calibration audio of :mod:`kws.train.detector`, one
  window every 100 ms): for a probability cut-off ``p``, a *false accept* is a run of windows
  whose top keyword probability is ``>= p``, runs less than ``gap`` windows apart merged (the
  detector's refractory time); FA/h divides by the hours of that audio;
- **the validation keyword clips**: recall at ``p`` is the fraction whose own keyword's
  probability is ``>= p``.

Each epoch gets the lowest cut-off of :data:`CUTOFFS` whose FA/h is within the target and the
recall there; the epoch with the best recall wins (ties: the later one). When no cut-off meets
the target, recall counts as 0 and the epoch with the fewest false accepts at the highest
cut-off wins among those.

>>> episodes(np.array([0.1, 0.9, 0.9, 0.2, 0.8, 0.1, 0.1, 0.1, 0.95]), 0.5, gap=2)
2
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from kws.errors import KwsError

#: Probability cut-offs tried (the calibrated int8 detector picks its own threshold later).
CUTOFFS = tuple(np.round(np.concatenate([np.arange(0.5, 0.95, 0.05),
                                         np.arange(0.95, 1.0, 0.01), [0.995, 0.999]]), 3))


def episodes(top: np.ndarray, cutoff: float, *, gap: int) -> int:
    """Runs of ``top >= cutoff`` in a window sequence, runs fewer than ``gap`` windows apart
    counted as one (the refractory time)."""
    idx = np.flatnonzero(np.asarray(top) >= cutoff)
    if len(idx) == 0:
        return 0
    return 1 + int(np.count_nonzero(np.diff(idx) > max(int(gap), 1)))


@dataclasses.dataclass(frozen=True)
class EpochScore:
    """What one epoch measured: the cut-off chosen, its FA/h and recall."""

    epoch: int
    cutoff: float
    fa_per_hour: float
    recall: float
    met: bool


def score_epoch(epoch: int, *, negative_top: Sequence[np.ndarray], negative_hours: float,
                keyword_probs: np.ndarray, target_fa_per_hour: float, gap: int,
                cutoffs: Sequence[float] = CUTOFFS) -> EpochScore:
    """Score one epoch (module docstring).

    Parameters
    ----------
    negative_top : sequence of ndarray
        Per held-out recording, the top keyword probability of each window in time order.
    negative_hours : float
        Hours of that audio (> 0).
    keyword_probs : ndarray, shape (K,)
        For each validation keyword clip, the probability of its own keyword.
    """
    if negative_hours <= 0:
        raise KwsError("checkpoint choice: no held-out negative audio")
    kp = np.asarray(keyword_probs, np.float64)
    last = None
    for c in sorted(cutoffs):
        fa = sum(episodes(t, c, gap=gap) for t in negative_top) / negative_hours
        last = (c, fa)
        if fa <= target_fa_per_hour:
            recall = float(np.mean(kp >= c)) if len(kp) else 0.0
            return EpochScore(epoch, float(c), fa, recall, True)
    assert last is not None
    return EpochScore(epoch, float(last[0]), last[1], 0.0, False)


def best(scores: Sequence[EpochScore]) -> EpochScore:
    """The winning epoch (module docstring)."""
    if not scores:
        raise KwsError("checkpoint choice: no epoch scored")
    met = [s for s in scores if s.met]
    if met:
        return max(met, key=lambda s: (s.recall, s.epoch))
    return min(scores, key=lambda s: (s.fa_per_hour, -s.epoch))


@dataclasses.dataclass
class HeldOut:
    """The held-out audio an epoch is scored on.

    ``negatives``: int8 windows (W, frames, coeffs) of each keyword-free recording, one every
    ``stride_frames`` hops; ``keywords_x`` / ``keywords_y``: the validation keyword clips'
    features (K, frames, coeffs) and class indices; ``keyword_columns``: the keyword classes.
    """

    negatives: list[np.ndarray]
    negative_hours: float
    keywords_x: np.ndarray
    keywords_y: np.ndarray
    keyword_columns: list[int]
    gap: int


def held_out(recordings: Sequence[np.ndarray], val_x: np.ndarray, val_y: np.ndarray, *,
             keyword_columns: Sequence[int], settings: "object", stride_frames: int = 5,
             refractory_s: float = 1.0) -> HeldOut:
    """Cut the keyword-free ``recordings`` (int16) into windows and keep the validation clips
    of the keywords (``val_x`` int8 (N, frames, coeffs), ``val_y`` class indices)."""
    from kws.train.windows import stream_windows

    wins = [stream_windows(r, settings, stride_frames=stride_frames) for r in recordings]
    hours = sum(len(r) for r in recordings) / settings.sample_rate / 3600.0
    keep = np.isin(val_y, list(keyword_columns))
    hop_s = settings.hop_samples / settings.sample_rate
    return HeldOut(wins, hours, np.asarray(val_x)[keep], np.asarray(val_y)[keep],
                   list(keyword_columns), int(round(refractory_s / (stride_frames * hop_s))))


def score_model(model: "object", epoch: int, data: HeldOut, settings: "object", *,
                target_fa_per_hour: float) -> EpochScore:
    """:func:`score_epoch` of a Keras model (float) on ``data``."""
    from kws.models import dequantize_features

    def probs(x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros((0, model.output_shape[-1]))
        return model.predict(dequantize_features(x, settings)[..., None], batch_size=512,
                             verbose=0)

    top = [probs(w)[:, data.keyword_columns].max(axis=1) for w in data.negatives]
    kp = probs(data.keywords_x)
    own = kp[np.arange(len(kp)), data.keywords_y] if len(kp) else np.zeros(0)
    return score_epoch(epoch, negative_top=top, negative_hours=data.negative_hours,
                       keyword_probs=own, target_fa_per_hour=target_fa_per_hour, gap=data.gap)
