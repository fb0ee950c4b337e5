"""File-system helpers: atomic writes (an output file either appears whole or not at all) and
listings of data folders that follow symbolic links (a folder of linked class folders, or of
linked clips, reads like a copy)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Parameters
    ----------
    path : path-like
        The final destination. Its folder is created if missing.

    Yields
    ------
    Path
        A temporary file in the same folder (same file system, so the rename is atomic). If the
        body raises, the temporary file is removed and ``path`` is left untouched.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_npy_atomic(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` to ``path`` in .npy format, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, array)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` (UTF-8), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path``, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _has_suffix(path: Path, suffixes: Iterable[str]) -> bool:
    return path.suffix.lower() in {s.lower() for s in suffixes}


def walk_files(root: str | os.PathLike[str], suffixes: Iterable[str]) -> list[Path]:
    """Every file under ``root`` (any depth) whose suffix is in ``suffixes``, sorted.

    Symbolic links to folders are followed (``pathlib.Path.rglob`` does not follow them),
    except a link back to a folder it sits in (a cycle); links to files count as files.

    Parameters
    ----------
    root : path-like
        The folder to list (a missing folder lists nothing).
    suffixes : iterable of str
        File suffixes with the dot, e.g. ``(".wav", ".flac")``; case-insensitive.

    Returns
    -------
    list of Path
        ``root``-prefixed paths (through the links, not resolved), sorted.
    """
    suffixes = tuple(suffixes)
    top = Path(root)
    out: list[Path] = []
    for folder, dirs, files in os.walk(top, followlinks=True):
        here = Path(folder)
        real = here.resolve()
        chain = [p.resolve() for p in here.parents if p == top or top in p.parents]
        if real in chain:  # a link back to an enclosing folder
            dirs[:] = []
            continue
        out += [Path(folder) / f for f in files
                if _has_suffix(Path(f), suffixes) and (Path(folder) / f).is_file()]
    return sorted(out)


def class_files(root: str | os.PathLike[str], suffixes: Iterable[str]
                ) -> list[tuple[str, Path]]:
    """(class, file) for the files directly inside each sub-folder of ``root`` (the
    ``<class>/<clip>`` layout of Speech Commands), sorted; linked folders and files count.

    Parameters
    ----------
    root : path-like
        The folder of class folders (a missing folder lists nothing).
    suffixes : iterable of str
        File suffixes with the dot; case-insensitive.
    """
    base = Path(root)
    if not base.is_dir():
        return []
    out = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        out += [(folder.name, f) for f in sorted(folder.iterdir())
                if f.is_file() and _has_suffix(f, suffixes)]
    return out
