"""Knowledge distillation: a teacher's soft outputs mixed into the training targets.

A teacher is one or more trained RUN folders (a larger model, or an ensemble of models trained
on the same data; an ensemble folder of ``kws ensemble`` stands for its members): their float
Keras models (``RUN/model.keras``) score every pre-generated
augmented copy of every training clip once, the probabilities are averaged over the teachers,
softened by a temperature and mixed with the one-hot labels,

    target = (1 - weight) * onehot(label) + weight * softmax(log(p_teacher) / temperature),

and the student is trained on these targets with categorical cross-entropy (Hinton et al.
2015, with the student's own temperature 1). The teachers must share the run's classes and
front-end settings. The other teacher, ``openwakeword``, is a pretrained speech embedding
(:mod:`kws.train.embedding_teacher`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.train.features import FeatureSet

#: Softening of the teacher's probabilities (Hinton et al. use 2-20; a few classes need little).
DEFAULT_TEMPERATURE = 2.0


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities raised to ``1 / temperature`` and renormalized (softmax of log p / T).

    Parameters
    ----------
    probs : ndarray of float, shape (..., C)
        Rows summing to 1.
    temperature : float
        > 0; 1 leaves them unchanged, larger flattens them.

    Returns
    -------
    ndarray of float32, shape (..., C)

    Examples
    --------
    >>> soften(np.array([[0.8, 0.2]]), 1.0).round(3).tolist()
    [[0.8, 0.2]]
    >>> soften(np.array([[0.8, 0.2]]), 2.0).round(3).tolist()
    [[0.667, 0.333]]
    """
    if temperature <= 0:
        raise KwsError(f"distillation: temperature must be > 0 (got {temperature})")
    logp = np.log(np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    e = np.exp(logp)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def mix_targets(labels: np.ndarray, teacher: np.ndarray, *, weight: float,
                temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
    """Training targets: the one-hot labels mixed with the softened teacher probabilities.

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
        Class indices.
    teacher : ndarray of float, shape (N, K, C)
        The teacher's probabilities for each of the K copies of each clip.
    weight : float, keyword-only
        Share of the teacher, in [0, 1].
    temperature : float, keyword-only

    Returns
    -------
    ndarray of float32, shape (N, K, C)
        Rows sum to 1; ``weight=0`` gives the one-hot labels.
    """
    if not 0.0 <= weight <= 1.0:
        raise KwsError(f"distillation: weight must be in [0, 1] (got {weight})",
                       argument="teacher_weight")
    n, k, c = teacher.shape
    if len(labels) != n:
        raise KwsError(f"distillation: {len(labels)} labels for {n} teacher rows")
    onehot = np.zeros((n, k, c), np.float32)
    onehot[np.arange(n), :, labels] = 1.0
    return (1.0 - weight) * onehot + weight * soften(teacher, temperature)


def teacher_model_file(run: str | Path) -> Path:
    """A teacher RUN folder's float Keras model.

    Raises
    ------
    KwsError
        The folder has none.
    """
    from kws.run import KERAS_MODEL

    model_file = Path(run) / KERAS_MODEL
    if not model_file.is_file():
        raise KwsError(f"{model_file}: teacher model not found (the float Keras model that "
                       "kws train writes; an ensemble made before kws ensemble copied it: "
                       "make it again)", argument="teacher")
    return model_file


def load_teachers(runs: Sequence[str | Path], *, classes: list[str],
                  settings: FrontendSettings) -> list[Any]:
    """The float Keras models of the teacher RUN folders.

    Raises
    ------
    KwsError
        A folder lacks ``model.keras``, or its classes or front-end settings differ.
    """
    import tensorflow as tf

    from kws.run import read_labels, read_settings

    models = []
    for run in runs:
        path = Path(run)
        model_file = teacher_model_file(path)
        labels = list(read_labels(path, num_classes=len(classes)))
        if labels != classes:
            raise KwsError(f"{path}: teacher classes {labels} differ from the run's {classes}",
                           argument="teacher")
        if read_settings(path).to_json() != settings.to_json():
            raise KwsError(f"{path}: the teacher's front-end settings differ from the run's",
                           argument="teacher")
        models.append(tf.keras.models.load_model(model_file, compile=False))
    return models


def teacher_probs(models: Sequence[Any], x: np.ndarray, settings: FrontendSettings, *,
                  batch_size: int = 512) -> np.ndarray:
    """Average probabilities of ``models`` on int8 features ``x`` (N, K, frames, coeffs);
    returns (N, K, C) float32."""
    from kws.models import dequantize_features

    if not models:
        raise KwsError("distillation: no teacher model")
    n, k = x.shape[:2]
    flat = dequantize_features(x.reshape((n * k,) + x.shape[2:]), settings)[..., None]
    total = None
    for m in models:
        p = np.asarray(m.predict(flat, batch_size=batch_size, verbose=0), np.float64)
        total = p if total is None else total + p
    assert total is not None
    return (total / len(models)).reshape(n, k, -1).astype(np.float32)


def distilled(fs: FeatureSet, runs: Sequence[str | Path], *, classes: list[str],
              settings: FrontendSettings, weight: float,
              temperature: float = DEFAULT_TEMPERATURE) -> FeatureSet:
    """``fs`` with soft targets (:attr:`FeatureSet.soft`) from the teacher RUN folders."""
    models = load_teachers(runs, classes=classes, settings=settings)
    probs = teacher_probs(models, fs.x, settings)
    return dataclasses.replace(fs, soft=mix_targets(fs.y, probs, weight=weight,
                                                    temperature=temperature))


def train_paths(examples: Sequence[Any], fs: FeatureSet) -> list[str]:
    """The audio file behind each row of the training features ``fs``: the training examples
    in order less the skipped files, then ``""`` for generated silence and for the rows
    appended after them (stream negatives)."""
    skipped = set(fs.skipped)
    paths = [e.path for e in examples if e.split == "train" and e.path not in skipped]
    if len(paths) > len(fs.x):
        raise KwsError(f"distillation: {len(paths)} training examples for {len(fs.x)} rows")
    return paths + [""] * (len(fs.x) - len(paths))


def teacher_targets(fs: FeatureSet, spec: str, *, examples: Sequence[Any], classes: list[str],
                    settings: FrontendSettings, weight: float, seed: int = 0,
                    temperature: float = DEFAULT_TEMPERATURE) -> FeatureSet:
    """``fs`` with soft targets from the teacher of a ``--teacher`` value: RUN folders
    (comma-separated), or ``openwakeword`` (:mod:`kws.train.embedding_teacher`)."""
    from kws.train.embedding_teacher import TEACHER_NAME, embedding_teacher_probs

    if spec.strip() == TEACHER_NAME:
        probs = embedding_teacher_probs(train_paths(examples, fs), fs.y,
                                        num_classes=len(classes), copies=fs.x.shape[1],
                                        seed=seed)
        return dataclasses.replace(fs, soft=mix_targets(fs.y, probs, weight=weight,
                                                        temperature=temperature))
    return distilled(fs, teacher_runs(spec), classes=classes, settings=settings,
                     weight=weight, temperature=temperature)


def teacher_runs(spec: str) -> list[str]:
    """The RUN folders of a ``--teacher`` value (comma-separated: an ensemble); an ensemble
    folder (``kws ensemble``) stands for its member folders, in order.

    Raises
    ------
    KwsError
        No folder given, or an ensemble folder's ``ensemble.json`` is bad.
    """
    from kws.run import ensemble_members

    runs: list[str] = []
    for s in spec.split(","):
        if not s.strip():
            continue
        members = ensemble_members(s.strip())
        runs += [str(m.parent) for m in members] if members else [s.strip()]
    if not runs:
        raise KwsError("needs at least one RUN folder", argument="teacher")
    return runs
