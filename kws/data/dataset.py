"""Checking a dataset before use: unreadable files are skipped with a warning, too few is an error.

Training calls :func:`load_dataset` on a folder with a ``manifest.csv``: every file is probed
(header only, fast; or decoded in full with ``full=True``), bad ones are dropped with one
:class:`DataWarning` that counts and lists them, and a class with fewer than ``min_per_class``
training clips is a :class:`~kws.errors.KwsError`.
"""

from __future__ import annotations

import collections
import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

from kws.data.manifest import Entry, read_manifest
from kws.errors import KwsError


class DataWarning(UserWarning):
    """Some files of a dataset were skipped (missing or unreadable)."""


def probe_audio(path: str | os.PathLike[str], *, full: bool = False) -> str | None:
    """Why ``path`` is not a usable audio file, or None if it is.

    Parameters
    ----------
    path : path-like
    full : bool, keyword-only
        Decode the whole file (slow) instead of checking its header and length.
    """
    import soundfile as sf

    from kws.audio import _check_riff, load_audio

    p = Path(path)
    try:
        if full:
            load_audio(p)
            return None
        if not p.is_file():
            return "missing"
        if p.stat().st_size == 0:
            return "empty file"
        _check_riff(p)
        info = sf.info(str(p))
        if info.frames == 0:
            return "no samples"
    except KwsError as exc:
        msg = str(exc)
        return msg.split(": ", 1)[1] if msg.startswith(str(p)) else msg
    except Exception as exc:  # soundfile raises several types for unreadable files
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"unreadable ({why})"
    return None


def warn_skipped(bad: Sequence[tuple[str, str]], *, where: str, limit: int = 20) -> None:
    """Emit one :class:`DataWarning` counting and listing skipped files (path, reason)."""
    if not bad:
        return
    shown = "; ".join(f"{p} ({why})" for p, why in bad[:limit])
    more = f"; ... and {len(bad) - limit} more" if len(bad) > limit else ""
    warnings.warn(f"{where}: skipped {len(bad)} missing or unreadable file(s): {shown}{more}",
                  DataWarning, stacklevel=3)


def drop_bad_entries(folder: str | os.PathLike[str], entries: Iterable[Entry], *,
                     full: bool = False) -> list[Entry]:
    """Return the entries whose audio is usable; warn (once) about the others."""
    root = Path(folder)
    good, bad = [], []
    for e in entries:
        why = probe_audio(root / e.path, full=full)
        if why is None:
            good.append(e)
        else:
            bad.append((e.path, why))
    warn_skipped(bad, where=str(root))
    return good


def check_class_counts(entries: Sequence[Entry], *, where: str, min_per_class: int,
                       split: str = "train", labels: Sequence[str] | None = None) -> None:
    """Raise KwsError if a label has fewer than ``min_per_class`` clips in ``split``."""
    counts = collections.Counter(e.label for e in entries if e.split == split)
    wanted = list(labels) if labels is not None else sorted({e.label for e in entries})
    if not wanted:
        raise KwsError(f"{where}: dataset has no clips")
    short = [(lab, counts.get(lab, 0)) for lab in wanted if counts.get(lab, 0) < min_per_class]
    if short:
        listed = ", ".join(f"{lab} has {n}" for lab, n in short)
        raise KwsError(f"{where}: too few {split} examples ({listed}; need at least "
                       f"{min_per_class} per class)")


def load_dataset(folder: str | os.PathLike[str], *, min_per_class: int = 5,
                 full: bool = False, labels: Sequence[str] | None = None) -> list[Entry]:
    """Read a dataset folder's manifest, drop unusable files, and check it is big enough.

    Parameters
    ----------
    folder : path-like
        A folder with ``manifest.csv``.
    min_per_class : int, keyword-only
        Minimum training clips per label.
    full : bool, keyword-only
        Decode every file instead of checking headers.
    labels : sequence of str, keyword-only
        Labels that must be present (default: those in the manifest).

    Returns
    -------
    list of Entry
        The usable entries.
    """
    entries = drop_bad_entries(folder, read_manifest(folder), full=full)
    check_class_counts(entries, where=str(folder), min_per_class=min_per_class, labels=labels)
    return entries
