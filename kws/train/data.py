"""Training examples: which clips, which labels, which split.

A dataset is a folder with a ``manifest.csv`` (:mod:`kws.data.manifest`). Three sources make one:

- ``synth`` (the default): the offline synthetic corpus, built on first use
  (:func:`kws.data.synth_default.build_synth_corpus`);
- ``speech-commands``: a folder in the Speech Commands layout (``<word>/<file>.wav|.flac``,
  optional ``validation_list.txt`` / ``testing_list.txt``, ``_background_noise_/``), split by
  the list files or, for files in neither, by the recipe's speaker-hash rule
  (:func:`kws.data.speech_commands.speech_commands_entries`, the one reader of the layout);
- any other folder with a ``manifest.csv``.

Classes follow the Speech Commands recipe: ``_silence_``, ``_unknown_``, then the keywords;
then the **word classes** if any (:func:`kws.data.manifest.word_class`, e.g. ``_word_go``:
other words of the dataset trained as output classes of their own, which the detector never
reports and clip metrics count as ``_unknown_``; :func:`word_class_words`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.data.manifest import (
    SILENCE,
    UNKNOWN,
    WORD_CLASS_PREFIX,
    Entry,
    is_word_class,
    read_manifest,
    word_class,
)
from kws.data.speech_commands import speech_commands_entries
from kws.errors import KwsError


def dataset_entries(folder: str | Path) -> list[Entry]:
    """Entries of a dataset folder: its manifest.csv, else the Speech Commands layout."""
    root = Path(folder)
    if (root / "manifest.csv").is_file() and not (root / "validation_list.txt").exists():
        entries = read_manifest(root)
        if entries and all(e.label for e in entries) and any(
                (root / e.path).exists() for e in entries[:50]):
            return entries
    return speech_commands_entries(root)


@dataclasses.dataclass(frozen=True)
class Example:
    """One training example: an audio file (or a generated silence) and its class index."""

    path: str          # absolute path, or "" for a generated _silence_ clip
    label: str         # class name (a keyword, _unknown_ or _silence_)
    split: str
    source: str = ""


def class_names(words: list[str], word_classes: Sequence[str] = ()) -> list[str]:
    """Class order of a model: ``_silence_``, ``_unknown_``, the keywords, then the word
    classes of ``word_classes`` (sorted, :func:`word_classes_of`).

    >>> class_names(["yes", "no"], ["go"])
    ['_silence_', '_unknown_', 'yes', 'no', '_word_go']

    Raises
    ------
    KwsError
        If there are more classes than the detector handles (:data:`kws.detect.MAX_CLASSES`).
    """
    from kws.detect import MAX_CLASSES

    classes = [SILENCE, UNKNOWN] + list(words) + [word_class(w) for w in word_classes]
    if len(classes) > MAX_CLASSES:
        raise KwsError(f"{len(classes)} classes ({len(words)} keywords, {len(word_classes)} "
                       f"word classes): the detector handles at most {MAX_CLASSES}; name "
                       "fewer --word-classes")
    return classes


def other_words(entries: list[Entry], words: Sequence[str]) -> list[str]:
    """The dataset's words that are not keywords (sorted; no ``_``-labels)."""
    return sorted({e.label for e in entries if not e.label.startswith("_")} - set(words))


def word_class_words(spec: str, entries: list[Entry], words: Sequence[str]) -> list[str]:
    """The words trained as classes of their own, from ``--word-classes``: ``none`` (or
    empty), ``all`` (every other word of the dataset, sorted) or a comma-separated list.

    Raises
    ------
    KwsError
        If a listed word is a keyword, repeated or not a word of the dataset, or ``all``
        finds no other word.
    """
    spec = spec.strip()
    if spec in ("", "none"):
        return []
    others = other_words(entries, words)
    if spec == "all":
        if not others:
            raise KwsError("--word-classes all: the dataset has no words besides the "
                           f"keywords ({', '.join(words)})")
        return others
    chosen = [w.strip() for w in spec.split(",")]
    for w in chosen:
        if w in words:
            raise KwsError(f"--word-classes: {w!r} is a keyword")
        if w not in others:
            raise KwsError(f"--word-classes: no word {w!r} in this dataset; other words: "
                           f"{', '.join(others) or 'none'}")
    if len(set(chosen)) != len(chosen):
        raise KwsError(f"--word-classes: repeated word in {spec}")
    return sorted(chosen)


def word_classes_of(examples: Sequence[Example]) -> list[str]:
    """The words the examples hold as word classes, sorted (their class order)."""
    return sorted({e.label[len(WORD_CLASS_PREFIX):] for e in examples
                   if is_word_class(e.label)})


def select_examples(entries: list[Entry], root: str | Path, words: list[str], *,
                    unknown_percent: float = 100.0, silence_percent: float = 10.0,
                    seed: int = 0, min_per_word: int = 4,
                    word_classes: Sequence[str] = ()) -> list[Example]:
    """Pick the examples of each split, in the recipe's way.

    Every clip of a keyword is kept, and every clip of a word of ``word_classes`` (labelled
    :func:`kws.data.manifest.word_class`). ``_unknown_`` clips are drawn from the other labels,
    ``unknown_percent`` % of the number of keyword clips of that split; ``_silence_`` examples
    (generated later from background noise) number ``silence_percent`` % of it.

    Parameters
    ----------
    entries : list of Entry
        The dataset.
    root : path-like
        The dataset folder (entries' paths are relative to it).
    words : list of str
        The keywords.
    unknown_percent, silence_percent : float, keyword-only
        Sizes of ``_unknown_`` and ``_silence_`` relative to the keyword clips (the Speech
        Commands recipe uses 10 and 10 for its 10 words; with few keywords, more unknown
        speech teaches the model what is *not* a keyword).
    seed : int, keyword-only
        Seed of the ``_unknown_`` draw.
    min_per_word : int, keyword-only
        Fewest training clips a keyword (or word class) may have.
    word_classes : sequence of str, keyword-only
        Non-keyword words trained as classes of their own (:func:`word_class_words`); they
        are not drawn as ``_unknown_``.

    Raises
    ------
    KwsError
        If a keyword is not in the dataset (the message lists the words that are), or has too
        few training examples.
    """
    root = Path(root)
    labels = sorted({e.label for e in entries})
    missing = [w for w in words if w not in labels]
    if missing:
        avail = [w for w in labels if not w.startswith("_")]
        raise KwsError(f"{root}: no word(s) {', '.join(missing)} in this dataset; available: "
                       f"{', '.join(avail)}")
    for w in list(words) + list(word_classes):
        n = sum(1 for e in entries if e.label == w and e.split == "train")
        if n < min_per_word:
            raise KwsError(f"{root}: too few training examples of {w!r}: {n} "
                           f"(need at least {min_per_word})")
    rng = np.random.default_rng(seed)
    out: list[Example] = []
    for split in ("train", "validation", "test"):
        kw = [e for e in entries if e.split == split and e.label in words]
        own = [e for e in entries if e.split == split and e.label in word_classes]
        other = [e for e in entries if e.split == split and e.label not in words
                 and e.label not in word_classes and e.label not in (SILENCE, UNKNOWN)] + \
                [e for e in entries if e.split == split and e.label == UNKNOWN]
        out += [Example(str(root / e.path), e.label, split, e.source) for e in kw]
        out += [Example(str(root / e.path), word_class(e.label), split, e.source) for e in own]
        n_unknown = min(len(other), int(np.ceil(len(kw) * unknown_percent / 100.0)))
        for i in sorted(rng.permutation(len(other))[:n_unknown]):
            out.append(Example(str(root / other[i].path), UNKNOWN, split, other[i].source))
        silences = [e for e in entries if e.split == split and e.label == SILENCE]
        out += [Example(str(root / e.path), SILENCE, split, e.source) for e in silences]
        n_silence = int(np.ceil(len(kw) * silence_percent / 100.0)) - len(silences)
        out += [Example("", SILENCE, split, "noise")] * max(0, n_silence)
    return out
