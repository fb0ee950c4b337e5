"""Classification metrics: accuracy, class-balanced accuracy, precision, recall, confusion.

Word classes (:func:`kws.data.manifest.word_class`: non-keyword words trained as classes of
their own) count as ``_unknown_`` here, both as truth and as prediction, so a model with them
is scored on the same classes as one without; :func:`report` lists where each word class's
clips went under ``word_classes`` (and, given each clip's word, each other word's under
``other_words``, for models with or without word classes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.data.manifest import UNKNOWN, clip_class, is_word_class, model_class
from kws.errors import KwsError


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of class i predicted as j, int64 (K, K)."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def clip_classes(classes: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The classes clip metrics use and the index map from a model's classes to them: word
    classes become ``_unknown_`` (in the first word class's place if the model has no
    ``_unknown_``).

    >>> clip_classes(["_silence_", "_unknown_", "yes", "_word_go"])
    (['_silence_', '_unknown_', 'yes'], array([0, 1, 2, 1]))
    """
    merged = list(dict.fromkeys(clip_class(c) for c in classes))
    return merged, np.array([merged.index(clip_class(c)) for c in classes], dtype=np.int64)


def _outcomes(names: Sequence[str | None], y_pred: np.ndarray, merged: list[str],
              index: np.ndarray) -> dict[str, Any]:
    """Per name (sorted; None: left out): its clips and the (clip metric) classes they were
    predicted as."""
    names = np.asarray(list(names), dtype=object)
    out = {}
    for name in sorted({n for n in names if n is not None}):
        counts = np.bincount(index[y_pred[names == name]], minlength=len(merged))
        out[name] = {"support": int(counts.sum()),
                     "predicted": {m: int(n) for m, n in zip(merged, counts) if n}}
    return out


def report(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str], *,
           words: Sequence[str] | None = None) -> dict[str, Any]:
    """Accuracy, class-balanced accuracy (mean recall over present classes), per-class
    precision and recall, and the confusion matrix, as a JSON-ready dict.

    Word classes count as ``_unknown_`` (:func:`clip_classes`: ``classes`` of the result has
    none of them); ``word_classes`` gives, per word class with clips, their count and the
    classes they were predicted as (``{}`` without word classes). With ``words`` (the
    dataset word of every clip), ``other_words`` gives the same per word scored as
    ``_unknown_`` (whether the model has it as a word class or not)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    merged, index = clip_classes(classes)
    extra: dict[str, Any] = {"word_classes": _outcomes(
        [classes[t] if is_word_class(classes[t]) else None for t in y_true], y_pred, merged,
        index)}
    if words is not None:
        if len(words) != len(y_true):
            raise KwsError(f"report: {len(words)} words for {len(y_true)} clips")
        extra["other_words"] = _outcomes(
            [w if w != UNKNOWN and clip_class(model_class(w, classes)) == UNKNOWN else None
             for w in words], y_pred, merged, index)
    if merged != list(classes):
        y_true, y_pred, classes = index[y_true], index[y_pred], merged
    cm = confusion_matrix(y_true, y_pred, len(classes))
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    diag = np.diag(cm).astype(np.float64)
    recall = np.divide(diag, support, out=np.full(len(classes), np.nan), where=support > 0)
    precision = np.divide(diag, predicted, out=np.full(len(classes), np.nan),
                          where=predicted > 0)
    total = int(support.sum())
    present = support > 0
    return {
        "count": total,
        "accuracy": float(diag.sum() / total) if total else float("nan"),
        "balanced_accuracy": float(np.mean(recall[present])) if present.any() else float("nan"),
        "per_class": {c: {"support": int(support[i]),
                          "precision": None if np.isnan(precision[i]) else float(precision[i]),
                          "recall": None if np.isnan(recall[i]) else float(recall[i])}
                      for i, c in enumerate(classes)},
        "confusion": cm.tolist(),
        "classes": list(classes),
        **extra,
    }


def format_report(rep: dict[str, Any], *, title: str = "") -> str:
    """A short text table of :func:`report`'s output."""
    lines = [f"{title}accuracy {rep['accuracy']:.4f}  balanced {rep['balanced_accuracy']:.4f}"
             f"  ({rep['count']} clips)",
             f"  {'class':<14}{'support':>8}{'precision':>10}{'recall':>8}"]
    for c, m in rep["per_class"].items():
        p = "-" if m["precision"] is None else f"{m['precision']:.3f}"
        r = "-" if m["recall"] is None else f"{m['recall']:.3f}"
        lines.append(f"  {c:<14}{m['support']:>8}{p:>10}{r:>8}")
    for c, m in rep.get("word_classes", {}).items():
        if m["support"]:
            went = ", ".join(f"{k} {n}" for k, n in sorted(m["predicted"].items(),
                                                          key=lambda kv: -kv[1]))
            lines.append(f"  {c} ({m['support']} clips, counted as {UNKNOWN}) -> {went}")
    return "\n".join(lines)


def plot_confusion(rep: dict[str, Any], path: str | Path, *, title: str = "") -> None:
    """Write the confusion matrix as a PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kws.fileio import atomic_path

    cm = np.asarray(rep["confusion"])
    classes = rep["classes"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(classes), 0.8 + 0.6 * len(classes)))
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"accuracy {rep['accuracy']:.3f}")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
