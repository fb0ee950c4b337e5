"""Dataset manifests: a dataset is a folder holding ``manifest.csv`` and its audio files.

Columns: ``path`` (relative to the folder), ``label``, ``split`` (train, validation or test),
``speaker``, ``source`` (a TTS engine or a corpus name) and ``params`` (a JSON string, e.g. the
voice, pitch and speed of a synthetic clip).

The label and folder names every dataset reader shares are defined here, once: keyword labels
are plain words; :data:`UNKNOWN` and :data:`SILENCE` are the two non-keyword classes and
:data:`BACKGROUND` the folder of background-noise recordings (the Speech Commands names).
A **word class** (:func:`word_class`, e.g. ``_word_go``) is a non-keyword word trained as an
output class of its own: the detector never reports it and clip metrics count it as
:data:`UNKNOWN` (:func:`clip_class`), so figures stay comparable with models without them.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from pathlib import Path
from typing import Sequence

from kws.errors import KwsError
from kws.fileio import write_text_atomic

MANIFEST_NAME = "manifest.csv"
SPLITS = ("train", "validation", "test")
#: The class of words that are not keywords.
UNKNOWN = "_unknown_"
#: The class of clips without speech.
SILENCE = "_silence_"
#: The folder of background-noise recordings in a dataset.
BACKGROUND = "_background_noise_"
#: Prefix of a word class's label: the leading underscore marks it as a non-keyword.
WORD_CLASS_PREFIX = "_word_"


def word_class(word: str) -> str:
    """The class label of a non-keyword ``word`` trained as its own class.

    >>> word_class("go"), is_word_class("_word_go"), clip_class("_word_go"), clip_class("yes")
    ('_word_go', True, '_unknown_', 'yes')
    """
    return WORD_CLASS_PREFIX + word


def is_word_class(label: str) -> bool:
    """Whether ``label`` is a word class (:func:`word_class`)."""
    return label.startswith(WORD_CLASS_PREFIX) and len(label) > len(WORD_CLASS_PREFIX)


def clip_class(label: str) -> str:
    """The class a label counts as in clip metrics: word classes are :data:`UNKNOWN`."""
    return UNKNOWN if is_word_class(label) else label


def model_class(label: str, classes: Sequence[str]) -> str:
    """The class of a model (``classes``) that a clip of ``label`` is scored as: the label
    itself, else its word class, else :data:`UNKNOWN`.

    >>> model_class("go", ["_unknown_", "yes", "_word_go"]), model_class("up", ["yes"])
    ('_word_go', '_unknown_')
    """
    if label in classes:
        return label
    return word_class(label) if word_class(label) in classes else UNKNOWN


@dataclasses.dataclass(frozen=True)
class Entry:
    """One audio file of a dataset."""

    path: str
    label: str
    split: str
    speaker: str = ""
    source: str = ""
    params: str = ""


FIELDS = tuple(f.name for f in dataclasses.fields(Entry))


def manifest_path(folder: str | os.PathLike[str]) -> Path:
    """The manifest file of a dataset folder (or the file itself if a .csv is given)."""
    p = Path(folder)
    return p if p.suffix == ".csv" else p / MANIFEST_NAME


def read_manifest(folder: str | os.PathLike[str]) -> list[Entry]:
    """Read a dataset's manifest.

    Raises
    ------
    KwsError
        If the manifest is missing, lacks a required column, or names an unknown split.
    """
    path = manifest_path(folder)
    if not path.is_file():
        raise KwsError(f"{path}: no dataset manifest here")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("path", "label", "split") if c not in (reader.fieldnames or [])]
        if missing:
            raise KwsError(f"{path}: manifest lacks column(s) {', '.join(missing)}")
        entries = []
        for line, row in enumerate(reader, start=2):
            if row["split"] not in SPLITS:
                raise KwsError(f"{path}:{line}: unknown split {row['split']!r} "
                               f"(expected one of {', '.join(SPLITS)})")
            entries.append(Entry(**{k: row.get(k) or "" for k in FIELDS}))
    return entries


def write_manifest(folder: str | os.PathLike[str], entries: list[Entry]) -> Path:
    """Write ``entries`` as the folder's manifest, atomically; returns its path."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for e in entries:
        writer.writerow(dataclasses.asdict(e))
    path = manifest_path(folder)
    write_text_atomic(path, buf.getvalue())
    return path
