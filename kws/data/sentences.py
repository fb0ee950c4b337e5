"""What the synthetic running speech says: sentences of everyday English, never a keyword.

Two sources, drawn per sentence by :func:`sentence`:

- **quotations** (80 %): the sentences of the English quotations, jokes and verse that
  Debian's ``fortunes`` package installs under ``/usr/share/games/fortunes`` (BSD fortune's
  data files; read at run time, never copied into this repository), in the categories of
  :data:`FORTUNE_FILES`. 9,508 sentences and 11,605 distinct words: questions,
  exclamations, names, contractions, the spread of sounds that real running speech has.
  :func:`fortune_sentences` keeps a sentence when it is 3-20 words of letters and plain
  punctuation (no digits, no abbreviations in capitals, no quotation fragments).
- **a small grammar** (20 %, and all of it when the package is not installed): subject, verb,
  object and a time or place over about 130 everyday words (:func:`grammar_sentence`).

Why the quotations: the grammar alone speaks about 130 distinct words, and the detector has to
stay quiet through the thousands of words of real dialogue. On real speech (``kws bench
detection``, the default recipe, four seeds; README "measured in session 17") the models miss
fewer keywords at 2 false accepts per hour on three seeds of four, and the detector that
``kws train`` calibrates on the held-out sentences lands at 1.0 false accepts per hour on
average for its target of 1 (4.8 with the grammar alone).

Words are compared by :func:`words` (lower case, letters and apostrophes), so "No!" and
"no," are the word "no" for the keyword filters of :mod:`kws.data.running_speech`.

>>> sorted(words("No! Don't, yes-man."))
["don't", 'man', 'no', 'yes']
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

FORTUNES_DIR = Path("/usr/share/games/fortunes")
# The fortune files read (the others are code, ASCII art, definitions, riddles, non-English
# text, or jokes about groups of people).
FORTUNE_FILES = ("cookie", "disclaimer", "education", "food", "fortunes", "goedel",
                 "humorists", "kids", "knghtbrd", "law", "literature", "love", "magic",
                 "medicine", "news", "paradoxum", "people", "pets", "pratchett", "science",
                 "songs-poems", "sports", "tao", "wisdom", "work")
QUOTATION_SHARE = 0.8

_SUBJECTS = ("the man", "my sister", "our neighbour", "a teacher", "the old dog", "this team",
             "their driver", "the small child", "everyone", "the doctor", "my friend", "we",
             "they", "she", "he", "the pilot", "a farmer", "the children", "your brother")
_VERBS = ("walked to", "looked at", "talked about", "waited for", "painted", "cleaned",
          "carried", "forgot", "found", "bought", "sold", "cooked", "opened", "closed",
          "followed", "visited", "remembered", "watched", "fixed", "moved", "liked", "took")
_OBJECTS = ("the red car", "a long letter", "the kitchen table", "an open window",
            "the garden gate", "a cup of coffee", "the train station", "our old house",
            "the morning paper", "a green apple", "the river bank", "some fresh bread",
            "the radio", "a heavy box", "the city library", "the last bus", "a warm coat",
            "the blue door", "a quiet street", "the football match", "the weather report")
_TAILS = ("yesterday", "this morning", "after lunch", "in the rain", "before dinner",
          "on Monday", "last winter", "very slowly", "again", "with a smile", "at night",
          "for an hour", "near the park", "by the sea", "every day", "", "", "")
_QUESTIONS = ("did you see", "have you heard about", "where is", "who painted", "when did we buy",
              "what happened to", "could you bring")

_PLAIN = re.compile(r"[A-Za-z][A-Za-z ,;'.!?-]*[.!?]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def words(text: str) -> set[str]:
    """The words of ``text``: lower case, letters and apostrophes, split at anything else."""
    return set(re.sub(r"[^a-z']+", " ", text.lower()).split())


def grammar_sentence(rng: np.random.Generator) -> str:
    """One sentence of the small grammar (a fifth of them questions)."""
    if rng.uniform() < 0.2:
        text = f"{rng.choice(_QUESTIONS)} {rng.choice(_OBJECTS)}?"
    else:
        text = (f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
                f"{rng.choice(_TAILS)}").strip() + "."
    return text[0].upper() + text[1:]


def plain_sentences(text: str) -> list[str]:
    """The speakable sentences of one fortune file's text, in order (module docstring)."""
    out = []
    for entry in text.split("\n%\n"):
        lines = [ln.strip() for ln in entry.splitlines() if not ln.lstrip().startswith("--")]
        for s in _SENTENCE_END.split(" ".join(lines)):
            s = s.strip().strip('"').strip()
            parts = s.split()
            if (3 <= len(parts) <= 20 and _PLAIN.fullmatch(s)
                    and not any(p.isupper() and len(p) > 1 for p in parts)):
                out.append(s)
    return out


@functools.lru_cache(maxsize=4)
def fortune_sentences(root: Path = FORTUNES_DIR) -> tuple[str, ...]:
    """Every speakable sentence of :data:`FORTUNE_FILES` under ``root``, sorted, each once;
    empty when none of the files is there (with a warning for :data:`FORTUNES_DIR`)."""
    found: set[str] = set()
    for name in FORTUNE_FILES:
        path = Path(root) / name
        if path.is_file():
            found.update(plain_sentences(path.read_text(encoding="latin-1")))
    if not found and Path(root) == FORTUNES_DIR:
        import sys

        print(f"kws: warning: {root}: no fortune files (Debian package fortunes); the TTS "
              "running speech says only the small grammar's sentences", file=sys.stderr)
    return tuple(sorted(found))


def source(root: Path = FORTUNES_DIR) -> str:
    """Which text :func:`sentence` draws from (part of the spoken banks' cache keys)."""
    return "fortunes-grammar" if fortune_sentences(root) else "grammar"


def sentence(rng: np.random.Generator, *, root: Path = FORTUNES_DIR) -> str:
    """One sentence: a quotation with probability :data:`QUOTATION_SHARE` when the fortune
    files are installed, else one of the grammar's."""
    pool = fortune_sentences(root)
    if pool and rng.uniform() < QUOTATION_SHARE:
        return pool[int(rng.integers(len(pool)))]
    return grammar_sentence(rng)
