"""Hard-negative mining: run the model over a pool of keyword-free windows and keep those it
mistakes for a keyword (the approach microWakeWord and openWakeWord publish).

One round: score every pool window with the current (float) model, take the windows whose
highest keyword probability reaches ``threshold`` (most confident first, at most ``limit``),
add them to the training set as ``_unknown_`` and train a few more epochs.

>>> probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.2, 0.7], [0.2, 0.6, 0.2]])
>>> hard_negatives(probs, keyword_columns=[1, 2], threshold=0.5, limit=10).tolist()
[1, 2]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from kws.errors import KwsError


def hard_negatives(probs: np.ndarray, *, keyword_columns: Sequence[int], threshold: float,
                   limit: int) -> np.ndarray:
    """Indices of the pool windows whose top keyword probability is >= ``threshold``, most
    confident first, at most ``limit``.

    Parameters
    ----------
    probs : ndarray, shape (N, classes)
        The model's probabilities on the pool.
    keyword_columns : sequence of int
        Columns of the keywords.
    """
    p = np.asarray(probs)
    if p.ndim != 2 or not len(keyword_columns):
        raise KwsError(f"mining: probs must be (N, classes) with keywords, got {p.shape}")
    top = p[:, list(keyword_columns)].max(axis=1)
    idx = np.flatnonzero(top >= threshold)
    return idx[np.argsort(-top[idx], kind="stable")][:max(int(limit), 0)]
