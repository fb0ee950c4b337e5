"""Classification metrics: accuracy, class-balanced accuracy, precision, recall, confusion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of class i predicted as j, int64 (K, K)."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def report(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Accuracy, class-balanced accuracy (mean recall over present classes), per-class
    precision and recall, and the confusion matrix, as a JSON-ready dict."""
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
