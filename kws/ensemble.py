"""Ensembles: several runs of one recipe (e.g. ``kws train --seed 0``, ``--seed 1``) heard as one
model whose int8 output at each hop is the mean of theirs.

An ensemble folder (``kws ensemble RUN RUN [RUN...] --out ENS``) is a RUN folder without a
``model.tflite``:

========================  ===========================================================
``ensemble.json``         ``{"members": ["members/0", "members/1", ...]}``
``members/<i>/``          each member's ``model.tflite`` (``model_float.tflite``,
                          ``model.keras``: a ``--teacher``), ``labels.txt``,
                          ``settings.json``
``labels.txt``            the members' labels (equal in every member)
``settings.json``         the members' front end (equal in every member)
``config.json``           the first member's training configuration (its calibration audio)
``detector.json``         the ensemble's own detector, calibrated on the averaged outputs
========================  ===========================================================

:func:`mean_outputs` is the definition of the ensemble's output: the elementwise mean of the
members' int8 outputs rounded half up, ``floor((sum + n // 2) / n)``. The Python simulation
(:mod:`kws.simulate`) computes it from each member's outputs; the firmware from the generated
``kws_model_step`` that steps every member and averages
(:mod:`kws.export.ensemble`), bit for bit the same.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from kws.errors import KwsError
from kws.fileio import write_text_atomic
from kws.run import (
    CONFIG,
    ENSEMBLE,
    FLOAT_MODEL,
    KERAS_MODEL,
    LABELS,
    MODEL,
    SETTINGS,
    ensemble_members,
    model_path,
    read_labels,
    read_model,
    read_settings,
)

if TYPE_CHECKING:
    from kws.export.tflite_model import IoSignature

#: Largest number of members (the C wrapper sums int8 outputs in int32; the device pays one
#: model step per member per hop).
MAX_MEMBERS = 8


def mean_outputs(members: Sequence[np.ndarray]) -> np.ndarray:
    """The elementwise mean of the members' quantized outputs, rounded half up.

    ``floor((sum + n // 2) / n)`` in integers, in the members' dtype: what the firmware's
    ensemble step computes from the same int8 tensors.

    Parameters
    ----------
    members : sequence of ndarray of int8 or uint8, all of one shape and dtype

    Returns
    -------
    ndarray of that dtype and shape

    Raises
    ------
    KwsError
        If there are no members, or their shapes or dtypes differ.

    Examples
    --------
    >>> mean_outputs([np.array([0, 10, -3], np.int8), np.array([1, 13, -4], np.int8)]).tolist()
    [1, 12, -3]
    """
    if not members:
        raise KwsError("ensemble: no outputs to average")
    first = np.asarray(members[0])
    for m in members[1:]:
        if np.shape(m) != first.shape or np.asarray(m).dtype != first.dtype:
            raise KwsError(f"ensemble: outputs differ in shape or type ({np.shape(m)} "
                           f"{np.asarray(m).dtype} against {first.shape} {first.dtype})")
    n = len(members)
    total = np.sum([np.asarray(m, np.int64) for m in members], axis=0)
    return np.floor_divide(total + n // 2, n).astype(first.dtype)


def _io_signature(path: Path) -> IoSignature:
    """:meth:`kws.export.tflite_model.TfliteModel.io_signature` of a .tflite file."""
    from kws.export.tflite_model import parse_tflite

    return parse_tflite(read_model(path), name=str(path)).io_signature()


def create_ensemble(runs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *,
                    calibrate: Callable[[Path], Any] | None = None) -> Path:
    """Write the ensemble folder ``out`` of ``runs`` (module docstring).

    The folder is written beside ``out`` and renamed onto it once complete: an error (or an
    interruption) leaves no partial ensemble.

    The members must agree on everything the averaged output and the firmware depend on:
    labels, front-end settings, input and output shapes and quantization.

    Parameters
    ----------
    runs : sequence of path-like
        Two to :data:`MAX_MEMBERS` RUN folders (``kws train`` runs; ensembles are not nested).
    out : path-like
        The new folder; it must not exist yet, or be empty.
    calibrate : callable, optional, keyword-only
        Called with the complete folder before it is renamed onto ``out`` (``kws ensemble``
        calibrates its detector here: :func:`kws.train.detector.recalibrate`).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    KwsError
        Too few or too many runs, a run that is itself an ensemble, members that disagree
        (naming the first one that does and how), or ``out`` not empty.
    """
    if not 2 <= len(runs) <= MAX_MEMBERS:
        raise KwsError(f"kws ensemble: give 2 to {MAX_MEMBERS} RUN folders (got {len(runs)})")
    dest = Path(out)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise KwsError(f"{dest}: exists and is not an empty folder")
    paths = []
    for r in runs:
        if ensemble_members(r) is not None:
            raise KwsError(f"{r}: is an ensemble; give its members instead")
        paths.append(model_path(r))
    first = paths[0]
    quant = _io_signature(first)
    labels = read_labels(first, num_classes=int(np.prod(quant.output_shape)))
    settings = read_settings(first)
    for p in paths[1:]:
        q = _io_signature(p)
        if q != quant:
            raise KwsError(f"{p}: input/output shape or quantization {q} differs from "
                           f"{first}'s {quant}")
        if read_labels(p, num_classes=len(labels)) != labels:
            raise KwsError(f"{p}: labels differ from {first}'s ({', '.join(labels)})")
        if read_settings(p) != settings:
            raise KwsError(f"{p}: front-end settings differ from {first}'s")
    if not quant.int8:
        raise KwsError(f"{first}: the ensemble averages int8 outputs; the model is "
                       f"{quant.input_dtype}/{quant.output_dtype}")
    stage = dest.with_name(f".{dest.name}.tmp")
    if stage.exists():
        shutil.rmtree(stage)
    try:
        _write(stage, paths, runs)
        if calibrate is not None:
            calibrate(stage)
        if dest.exists():
            dest.rmdir()
        os.replace(stage, dest)
    finally:
        if stage.exists():
            shutil.rmtree(stage)
    return dest


def _write(stage: Path, paths: Sequence[Path], runs: Sequence[str | os.PathLike[str]]) -> None:
    """The ensemble's files (module docstring) in ``stage``."""
    first = paths[0]
    names = []
    for i, p in enumerate(paths):
        m = stage / "members" / str(i)
        m.mkdir(parents=True)
        shutil.copyfile(p, m / MODEL)
        for f in (FLOAT_MODEL, KERAS_MODEL, LABELS, SETTINGS):
            if (p.parent / f).is_file():
                shutil.copyfile(p.parent / f, m / f)
        names.append(f"members/{i}")
    for f in (LABELS, SETTINGS, CONFIG):
        if (first.parent / f).is_file():
            shutil.copyfile(first.parent / f, stage / f)
    write_text_atomic(stage / ENSEMBLE, json.dumps(
        {"members": names, "from": [str(Path(r)) for r in runs],
         "output": "floor((sum of the members' int8 outputs + n // 2) / n)"}, indent=1) + "\n")
