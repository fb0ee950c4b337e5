"""Weight averaging over the last epochs (``kws train --average-epochs N``).

The mean of the weights a run holds after each of its last ``N`` epochs (stochastic weight
averaging on the tail of the cosine schedule): one model, the cost of one model on the device,
that sits in the middle of the region the last epochs wandered through instead of at the last
epoch's point of it. Every variable the model saves is averaged, batch-norm moving statistics
included (the mean of the running statistics, not statistics recomputed for the averaged
weights).

The running sum lives next to the checkpoint (:func:`save` / :func:`load`), so a resumed run
averages exactly what the uninterrupted one would have.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: The running sum's file inside a checkpoint folder.
FILE = "average.npz"


def first_epoch(epochs: int, average_epochs: int) -> int:
    """The first (0-based) epoch whose weights join the average: the last ``average_epochs``
    of ``epochs`` (all of them when it is larger; none when it is 0)."""
    if average_epochs <= 0:
        return epochs
    return max(0, epochs - average_epochs)


def resumed(folder: Path | None, *, saved_from: int | None, done: int, epochs: int,
            average_epochs: int) -> tuple[list[np.ndarray] | None, int]:
    """The running sum to continue and the first epoch it averages, for a run that has
    finished ``done`` epochs (``folder``: the checkpoint folder read, None for a new run;
    ``saved_from``: the first averaged epoch the checkpoint recorded).

    A sum saved for another first epoch (the run resumed with other ``epochs``) is dropped;
    without a sum, a run already past its first averaged epoch averages from ``done`` on
    (the caller can tell by comparing with :func:`first_epoch`)."""
    first = first_epoch(epochs, average_epochs)
    total = load(folder) if folder is not None else None
    if total is not None and saved_from != first:
        total = None
    if average_epochs > 0 and total is None and done > first:
        first = done
    return total, first


def add(total: list[np.ndarray] | None, model: Any) -> list[np.ndarray]:
    """``total`` plus the model's current weights (float64, so that the order of 50 sums
    does not matter to float32 precision); a new sum when ``total`` is None."""
    weights = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
    if total is None:
        return weights
    if len(total) != len(weights) or any(a.shape != b.shape for a, b in zip(total, weights)):
        raise ValueError("the running sum holds another model's weights")
    return [a + b for a, b in zip(total, weights)]


def apply(total: list[np.ndarray], count: int, model: Any) -> None:
    """Set the model's weights to the mean ``total / count`` (in each variable's dtype)."""
    if count < 1:
        raise ValueError(f"nothing averaged (count {count})")
    current = model.get_weights()
    model.set_weights([(t / count).astype(w.dtype) for t, w in zip(total, current)])


def save(folder: Path, total: list[np.ndarray] | None) -> None:
    """Write the running sum into a checkpoint folder (nothing when there is none yet)."""
    if total is not None:
        np.savez(folder / FILE, *total)


def load(folder: Path) -> list[np.ndarray] | None:
    """The running sum saved in a checkpoint folder, or None."""
    path = folder / FILE
    if not path.is_file():
        return None
    with np.load(path) as z:
        return [z[f"arr_{i}"] for i in range(len(z.files))]
