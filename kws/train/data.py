"""Training examples: which clips, which labels, which split.

A dataset is a folder with a ``manifest.csv`` (:mod:`kws.data.manifest`). Three sources make one:

- ``synth`` (the default): the offline synthetic corpus, built on first use
  (:func:`kws.train.tts.build_synth_corpus`);
- ``speech-commands``: a folder in the Speech Commands layout (``<word>/<file>.wav|.flac``,
  optional ``validation_list.txt`` / ``testing_list.txt``, ``_background_noise_/``), split by
  the list files or, for files in neither, by the recipe's speaker-hash rule
  (:func:`speaker_hash_split`);
- any other folder with a ``manifest.csv``.

Classes follow the Speech Commands recipe: ``_silence_``, ``_unknown_``, then the keywords.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path

import numpy as np

from kws.data.manifest import Entry, read_manifest
from kws.errors import KwsError

SILENCE = "_silence_"
UNKNOWN = "_unknown_"
BACKGROUND = "_background_noise_"
AUDIO_SUFFIXES = (".wav", ".flac")
#: The recipe's constant: the speaker hash is taken modulo 2**27 (MAX_NUM_WAVS_PER_CLASS + 1).
MAX_NUM_WAVS_PER_CLASS = 2 ** 27 - 1


def shared_dir() -> Path:
    """The shared data folder: ``$KWS_SHARED``, else ``shared/`` beside the repository."""
    env = os.environ.get("KWS_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"


def speaker_hash_split(filename: str, *, validation_percent: float = 10.0,
                       testing_percent: float = 10.0) -> str:
    """The Speech Commands speaker-hash split of a file (``train``, ``validation`` or ``test``).

    The part of the base name before ``_nohash_`` (the speaker) is hashed with SHA-1, so every
    clip of one speaker lands in the same split, as in TensorFlow's ``input_data.which_set``.

    Examples
    --------
    >>> speaker_hash_split("yes/004ae714_nohash_0.flac") in ("train", "validation", "test")
    True
    """
    base = Path(filename).name
    name = re.sub(r"_nohash_.*$", "", base)
    digest = int(hashlib.sha1(name.encode()).hexdigest(), 16)
    percent = (digest % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)
    if percent < validation_percent:
        return "validation"
    if percent < validation_percent + testing_percent:
        return "test"
    return "train"


def speech_commands_entries(folder: str | Path) -> list[Entry]:
    """Entries of a Speech Commands folder (every word; ``_background_noise_`` excluded).

    Raises
    ------
    KwsError
        If the folder is missing or holds no ``<word>/<clip>`` audio.
    """
    root = Path(folder)
    if not root.is_dir():
        raise KwsError(f"{root}: no such Speech Commands folder")
    lists: dict[str, set[str]] = {}
    for split, name in (("validation", "validation_list.txt"), ("test", "testing_list.txt")):
        f = root / name
        lists[split] = set(f.read_text().split()) if f.is_file() else set()
    entries = []
    for word_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if word_dir.name.startswith("_"):
            continue
        for f in sorted(word_dir.iterdir()):
            if f.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            rel = f"{word_dir.name}/{f.name}"
            if rel in lists["validation"]:
                split = "validation"
            elif rel in lists["test"]:
                split = "test"
            else:
                split = speaker_hash_split(rel)
            entries.append(Entry(path=rel, label=word_dir.name, split=split,
                                 speaker=re.sub(r"_nohash_.*$", "", f.stem),
                                 source="speech-commands"))
    if not entries:
        raise KwsError(f"{root}: no <word>/<clip>.wav or .flac files in Speech Commands layout")
    return entries


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


def class_names(words: list[str]) -> list[str]:
    """Class order of a model: ``_silence_``, ``_unknown_``, then the keywords."""
    return [SILENCE, UNKNOWN] + list(words)


def select_examples(entries: list[Entry], root: str | Path, words: list[str], *,
                    unknown_percent: float = 100.0, silence_percent: float = 10.0,
                    seed: int = 0, min_per_word: int = 4) -> list[Example]:
    """Pick the examples of each split, in the recipe's way.

    Every clip of a keyword is kept. ``_unknown_`` clips are drawn from the other labels,
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
        Fewest training clips a keyword may have.

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
    for w in words:
        n = sum(1 for e in entries if e.label == w and e.split == "train")
        if n < min_per_word:
            raise KwsError(f"{root}: too few training examples of {w!r}: {n} "
                           f"(need at least {min_per_word})")
    rng = np.random.default_rng(seed)
    out: list[Example] = []
    for split in ("train", "validation", "test"):
        kw = [e for e in entries if e.split == split and e.label in words]
        other = [e for e in entries if e.split == split and e.label not in words
                 and e.label not in (SILENCE, UNKNOWN)] + \
                [e for e in entries if e.split == split and e.label == UNKNOWN]
        out += [Example(str(root / e.path), e.label, split, e.source) for e in kw]
        n_unknown = min(len(other), int(np.ceil(len(kw) * unknown_percent / 100.0)))
        for i in sorted(rng.permutation(len(other))[:n_unknown]):
            out.append(Example(str(root / other[i].path), UNKNOWN, split, other[i].source))
        silences = [e for e in entries if e.split == split and e.label == SILENCE]
        out += [Example(str(root / e.path), SILENCE, split, e.source) for e in silences]
        n_silence = int(np.ceil(len(kw) * silence_percent / 100.0)) - len(silences)
        out += [Example("", SILENCE, split, "noise")] * max(0, n_silence)
    return out
