"""The RUN folder: the one place that writes and reads a trained run.

A RUN folder holds

========================  ===========================================================
``model.tflite``          the int8 model (int8 input and output)
``model_float.tflite``    the float model it was quantized from (optional)
``labels.txt``            one output label per line, in output order
``settings.json``         the front end's :meth:`FrontendSettings.to_dict` (optional)
``detector.json``         the streaming detector's :meth:`DetectorSettings.to_dict` (optional)
``metrics.json``          what training measured (optional)
``config.json``           the training configuration (``kws train``; optional)
``ensemble.json``         instead of ``model.tflite``: the folder is an ensemble of the
                          runs under ``members/`` (:mod:`kws.ensemble`)
========================  ===========================================================

Every reader takes the RUN folder or a model file; the other files are looked up beside the
model. Missing optional files have one documented meaning each:

- no ``labels.txt``: the labels are ``class_0 .. class_{N-1}`` (a bare ``.tflite`` from elsewhere
  still exports and streams; evaluation then needs labelled folders named that way);
- no ``settings.json``: the default :class:`FrontendSettings`;
- no ``detector.json``: None (callers use :meth:`DetectorSettings.default_for` the labels).

A present but unreadable or inconsistent file is a :class:`KwsError` naming it.

>>> # write_run("runs/x", model=int8, labels=["_silence_", "yes"], settings=FrontendSettings())
>>> # read_labels("runs/x", num_classes=2)   -> ("_silence_", "yes")
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from kws.detect import DetectorSettings
from kws.errors import KwsError
from kws.fileio import write_bytes_atomic, write_text_atomic
from kws.frontend.settings import FrontendSettings

__all__ = ["MODEL", "FLOAT_MODEL", "KERAS_MODEL", "LABELS", "SETTINGS", "DETECTOR", "METRICS",
           "model_path",
           "run_folder", "read_model", "read_float_model", "read_labels", "read_settings",
           "find_settings", "read_settings_file",
           "read_detector", "read_metrics", "write_run", "write_detector", "write_metrics",
           "CONFIG", "ENSEMBLE", "ensemble_members"]

MODEL = "model.tflite"
FLOAT_MODEL = "model_float.tflite"
KERAS_MODEL = "model.keras"
LABELS = "labels.txt"
SETTINGS = "settings.json"
DETECTOR = "detector.json"
METRICS = "metrics.json"
CONFIG = "config.json"
ENSEMBLE = "ensemble.json"

PathLike = str | os.PathLike[str]
T = TypeVar("T")


def model_path(path: PathLike) -> Path:
    """The int8 model file of ``path`` (a RUN folder or a model file).

    Raises
    ------
    KwsError
        The model file does not exist.
    """
    p = Path(path)
    if p.is_dir():
        if not (p / MODEL).exists() and (p / ENSEMBLE).is_file():
            raise KwsError(f"{p}: an ensemble (ensemble.json) has no single model.tflite: "
                           f"kws stream, eval --stream/--negatives, calibrate, bench "
                           f"detection and firmware take it; give one member "
                           f"({p / 'members' / '0'}) here")
        p = p / MODEL
    if not p.is_file():
        raise KwsError(f"{p}: no such model file")
    return p


def ensemble_members(path: PathLike) -> tuple[Path, ...] | None:
    """The member model files of the ensemble at ``path`` (its folder or its
    ``ensemble.json``), in order; None when ``path`` is not an ensemble.

    Raises
    ------
    KwsError
        ``ensemble.json`` is unreadable, lists fewer than two members, or a member without
        its model file.
    """
    p = Path(path)
    f = p / ENSEMBLE if p.is_dir() else p
    if f.name != ENSEMBLE or not f.is_file():
        return None
    names = _read_object(f, "ensemble").get("members")
    if not isinstance(names, list) or len(names) < 2 or not all(
            isinstance(n, str) and n and not Path(n).is_absolute() and ".." not in Path(n).parts
            for n in names):
        raise KwsError(f"{f}: bad ensemble (\"members\" must list two or more member folders "
                       f"inside the ensemble's folder)")
    members = tuple(f.parent / n / MODEL for n in names)
    for m in members:
        if not m.is_file():
            raise KwsError(f"{f}: member model {m} is missing")
    return members


def run_folder(path: PathLike) -> Path:
    """The folder of a RUN: ``path`` itself when it is a folder, else the model file's folder."""
    p = Path(path)
    return p if p.is_dir() else p.parent


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KwsError(f"{path}: cannot read ({exc})".splitlines()[0]) from None


def _read_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``; KwsError naming the file when it is not one."""
    try:
        data = json.loads(_read_text(path))
    except ValueError as exc:
        raise KwsError(f"{path}: bad {what} ({exc})") from None
    if not isinstance(data, dict):
        raise KwsError(f"{path}: bad {what} (not a JSON object)")
    return data


def _build(path: Path, what: str, from_dict: Callable[[dict[str, Any]], T],
           data: dict[str, Any]) -> T:
    """``from_dict(data)``, its errors reported against ``path``."""
    try:
        return from_dict(data)
    except (KwsError, TypeError, ValueError) as exc:
        raise KwsError(f"{path}: bad {what} ({exc})") from None


def read_model(path: PathLike) -> bytes:
    """The bytes of the int8 model of ``path`` (a RUN folder or a model file)."""
    p = model_path(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise KwsError(f"{p}: cannot read: {exc.strerror}") from None


def read_float_model(path: PathLike) -> bytes | None:
    """The float model beside ``path`` (``model_float.tflite``), or None when there is none
    or ``path`` is that file itself."""
    f = run_folder(path) / FLOAT_MODEL
    if not f.is_file() or (Path(path).is_file() and f.samefile(path)):
        return None
    return f.read_bytes()


def read_labels(path: PathLike, *, num_classes: int) -> tuple[str, ...]:
    """The output labels of the run at ``path``: ``labels.txt`` (one label per line, blank
    lines ignored), else ``class_0 .. class_{num_classes-1}``.

    Raises
    ------
    KwsError
        ``labels.txt`` is unreadable or holds a different number of labels than
        ``num_classes``.
    """
    f = run_folder(path) / LABELS
    if not f.exists():
        return tuple(f"class_{i}" for i in range(num_classes))
    labels = tuple(s.strip() for s in _read_text(f).splitlines() if s.strip())
    if len(labels) != num_classes:
        raise KwsError(f"{f}: {len(labels)} labels for a model with {num_classes} outputs")
    return labels


def read_settings(path: PathLike) -> FrontendSettings:
    """The front-end settings of the run at ``path`` (``settings.json``), else the defaults."""
    return find_settings(path) or FrontendSettings()


def find_settings(path: PathLike) -> FrontendSettings | None:
    """The front-end settings of the run at ``path`` (``settings.json``), or None when the
    run has none (for callers to whom a default would claim settings nobody chose)."""
    f = run_folder(path) / SETTINGS
    return read_settings_file(f) if f.exists() else None


def read_settings_file(f: PathLike) -> FrontendSettings:
    """Front-end settings from a settings file; one holding ``{"frontend": {...}}`` is read as
    its ``frontend`` part."""
    f = Path(f)
    data = _read_object(f, "front-end settings")
    if isinstance(data.get("frontend"), dict):
        data = data["frontend"]
    return _build(f, "front-end settings", FrontendSettings.from_dict, data)


def read_detector(path: PathLike) -> DetectorSettings | None:
    """The detector settings of the run at ``path`` (``detector.json``), or None."""
    f = run_folder(path) / DETECTOR
    if not f.exists():
        return None
    return _build(f, "detector settings", DetectorSettings.from_dict,
                  _read_object(f, "detector settings"))


def read_metrics(path: PathLike) -> dict[str, Any]:
    """What training measured (``metrics.json``).

    Raises
    ------
    KwsError
        The file is missing or not a JSON object.
    """
    f = run_folder(path) / METRICS
    if not f.exists():
        raise KwsError(f"{f}: missing (the run was not trained by kws train)")
    return _read_object(f, "metrics")


def write_run(folder: PathLike, *, model: bytes, labels: Sequence[str],
              settings: FrontendSettings, float_model: bytes | None = None,
              detector: DetectorSettings | None = None) -> Path:
    """Write a RUN folder's models, labels and settings (each file atomically).

    Parameters
    ----------
    folder : path-like
        The RUN folder (created if missing).
    model : bytes, keyword-only
        The int8 .tflite model.
    labels : sequence of str, keyword-only
        The output labels in output order (no empty label, none with a line break).
    settings : FrontendSettings, keyword-only
        The front end the model was trained on.
    float_model : bytes, optional, keyword-only
        The float .tflite model.
    detector : DetectorSettings, optional, keyword-only
        Streaming detector settings (labels must equal ``labels``).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    KwsError
        An empty label or one with a line break, or detector labels that differ.
    """
    for lab in labels:
        if not lab.strip() or "\n" in lab or "\r" in lab:
            raise KwsError(f"labels: {lab!r} is not a one-line label")
    if detector is not None:
        _check_detector_labels(detector, labels)
    run = Path(folder)
    write_bytes_atomic(run / MODEL, model)
    if float_model is not None:
        write_bytes_atomic(run / FLOAT_MODEL, float_model)
    write_text_atomic(run / LABELS, "\n".join(labels) + "\n")
    write_text_atomic(run / SETTINGS, json.dumps(settings.to_dict(), indent=1) + "\n")
    if detector is not None:
        write_detector(run, detector, labels=labels)
    return run


def write_detector(folder: PathLike, detector: DetectorSettings, *,
                   labels: Sequence[str] | None = None) -> Path:
    """Write ``detector.json``; with ``labels``, check that the detector's labels equal them."""
    if labels is not None:
        _check_detector_labels(detector, labels)
    f = Path(folder) / DETECTOR
    write_text_atomic(f, json.dumps(detector.to_dict(), indent=1) + "\n")
    return f


def _check_detector_labels(detector: DetectorSettings, labels: Sequence[str]) -> None:
    if tuple(detector.labels) != tuple(labels):
        raise KwsError(f"detector labels {detector.labels} differ from the model's "
                       f"{tuple(labels)}")


def write_metrics(folder: PathLike, metrics: dict[str, Any]) -> Path:
    """Write ``metrics.json`` (a JSON object)."""
    f = Path(folder) / METRICS
    write_text_atomic(f, json.dumps(metrics, indent=1) + "\n")
    return f
