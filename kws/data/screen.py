"""Screening keyword-free recordings for the keywords with an offline speech recognizer.

Recorded speech used as negatives (game dialogue, a user's ambient audio) may say a keyword:
"no", "know" and "yes" occur in everyday speech. Training on such a recording as a negative
teaches the model to ignore its keyword; scoring it counts a right detection as a false accept.

Each recording is searched for each keyword with PocketSphinx's keyword search (the
``pocketsphinx`` PyPI wheel, BSD-2-Clause, ships its US English acoustic model and the CMU
dictionary). The search is for the keyword's *phones*, so homophones ("know" for "no") are
found with it. Its threshold grows stricter with the keyword's length, ``THRESHOLD_PER_PHONE
** phones`` (PocketSphinx's advice: short words need larger thresholds, long ones smaller);
the default is lenient, so a doubtful recording is flagged as well, and flagged recordings are
left out. Each recording is decoded from the recognizer's state as loaded (:func:`heard`), so
a verdict does not depend on which recordings a worker process decoded before it. Measured on
the scoring half of a development set of recorded game dialogue (1,784 lines): the default
flags 902 (761 for "no", 254 for "yes"; 899 / 758 / 257 while the state carried over from
recording to recording, in an order that scheduling decided); of 97 of the flagged lines
transcribed with PocketSphinx's full language model, 4 transcripts hold "yes", "no" or
"know" and the keyword search flags 3 of them ("i know that you're wearing some protection"
passes). So a recording the keyword search passes is also transcribed with the full language
model (about 0.33x real time, six times the keyword search's cost) and left out when its
transcript says a keyword or a word that sounds as one (:func:`said`): of the 882 scoring
lines the search passes, 18 more are left out (16 for "no" or "know", 2 for "yes": "no he is
like a brother to me", "how should i know", "yes i'm gaining control"), 920 of 1,784 in all.

The result for every (keyword, threshold, file name, file size) is cached as JSON under
``CACHE/screen/``, and every transcript by file, so a run with other keywords screens only the
new ones.

>>> cache_key("No", 1e-06).startswith("no-1e-06-ps")
True
"""

from __future__ import annotations

import functools
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from kws.errors import KwsError

#: PocketSphinx keyword-search threshold per phone of the keyword: lower flags more.
THRESHOLD_PER_PHONE = 1e-3
SAMPLE_RATE = 16000

#: Decoders by word list, each with its cepstral mean as loaded (one per process).
_DECODERS: dict[tuple[tuple[str, float], ...], tuple[object, str]] = {}


def _new_decoder(**options: Any) -> tuple[object, str]:
    """A PocketSphinx decoder at 16 kHz with ``options`` and its cepstral mean as loaded."""
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise KwsError("screening needs the pocketsphinx package (pip install "
                       "pocketsphinx==5.1.1, in the train extra)") from None
    d = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", **options)
    return d, d.get_cmn()


def _decoder(thresholds: dict[str, float]) -> tuple[object, str]:
    """A PocketSphinx keyword-search decoder for every word at its threshold, all in one pass
    (one per process and word list, reused), and its initial cepstral mean."""
    import tempfile

    key = tuple(sorted(thresholds.items()))
    if key not in _DECODERS:
        with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as f:
            f.write("".join(f"{w} /{t:.3e}/\n" for w, t in key))
        try:
            _DECODERS[key] = _new_decoder(kws=f.name)
        finally:
            os.unlink(f.name)
    return _DECODERS[key]


@functools.lru_cache(maxsize=1)
def _dictionary() -> dict[str, str]:
    """word -> phones of the first pronunciation in PocketSphinx's US English dictionary."""
    try:
        from pocketsphinx import get_model_path
    except ImportError:
        raise KwsError("screening needs the pocketsphinx package (pip install "
                       "pocketsphinx==5.1.1, in the train extra)") from None
    table: dict[str, str] = {}
    path = Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        word, _, phones = line.partition(" ")
        table.setdefault(word, phones.strip())
    return table


def check_words(words: Sequence[str]) -> None:
    """Raise :class:`KwsError` if PocketSphinx's dictionary lacks one of ``words``."""
    missing = [w for w in words if w.lower() not in _dictionary()]
    if missing:
        raise KwsError(f"screening: {', '.join(missing)} not in PocketSphinx's dictionary; "
                       "cannot screen recordings for it")


def word_threshold(word: str, per_phone: float = THRESHOLD_PER_PHONE) -> float:
    """``per_phone ** phones`` of ``word`` in PocketSphinx's dictionary (its first
    pronunciation)."""
    check_words([word])
    return float(per_phone ** len(_dictionary()[word.lower()].split()))


def heard(samples: "object", thresholds: dict[str, float]) -> dict[str, int]:
    """How many times the keyword search finds each word of ``thresholds`` (word -> its
    PocketSphinx threshold) in ``samples`` (int16, 16 kHz).

    Each call starts from the decoder's state as loaded: PocketSphinx otherwise carries its
    feature state (the live cepstral mean, the noise estimate) from one recording to the next,
    and a worker's verdicts would depend on which recordings it happened to decode before.
    """
    words = {w.lower(): float(t) for w, t in thresholds.items()}
    d = _decode(*_decoder(words), samples)
    found = [seg.word.strip() for seg in (d.seg() or [])]
    return {w: sum(1 for f in found if f == w) for w in words}


def _decode(d: "object", cmn: str, samples: "object") -> "object":
    """``d`` after decoding ``samples`` (int16, 16 kHz) as one utterance, started from the
    feature state as loaded (``cmn``: its initial cepstral mean)."""
    import numpy as np

    d.reinit_feat()
    d.set_cmn(cmn)
    d.start_utt()
    d.process_raw(np.ascontiguousarray(samples, dtype=np.int16).tobytes(), full_utt=True)
    d.end_utt()
    return d


#: This process's full-vocabulary decoder (PocketSphinx's US English language model) and its
#: initial cepstral mean.
_TRANSCRIBER: list[tuple[object, str]] = []


def transcribe(samples: "object") -> str:
    """PocketSphinx's transcript of ``samples`` (int16, 16 kHz) with its language model,
    lower case ("" when it hears nothing), decoded from the state as loaded."""
    if not _TRANSCRIBER:
        _TRANSCRIBER.append(_new_decoder())
    hyp = _decode(*_TRANSCRIBER[0], samples).hyp()
    return hyp.hypstr.strip().lower() if hyp is not None else ""


def said(transcript: str, word: str) -> bool:
    """True if a word of ``transcript`` is ``word`` or sounds as it does (the same first
    pronunciation in PocketSphinx's dictionary: "know" for "no").

    >>> said("why do you want to know", "no"), said("nothing now", "no")
    (True, False)
    """
    table = _dictionary()
    word = word.lower()
    phones = table.get(word)
    return any(t == word or (phones is not None and table.get(t) == phones)
               for t in transcript.lower().split())


def cache_key(word: str, threshold: float) -> str:
    """The cache file stem of one keyword and threshold (with PocketSphinx's version; ``fresh``:
    each recording decoded from the loaded state, see :func:`heard`)."""
    return f"{word.lower()}-{threshold:g}-ps{_version()}-fresh"


def _version() -> str:
    """The installed PocketSphinx's version (part of every cache key)."""
    import importlib.metadata

    return importlib.metadata.version("pocketsphinx")


def _file_id(path: Path) -> str:
    return f"{path.name}:{path.stat().st_size}"


def _screen_one(args: tuple[str, dict[str, float]]) -> dict[str, int]:
    from kws.audio import load_audio

    path, thresholds = args
    return heard(load_audio(path), thresholds)


def _transcribe_one(path: str) -> str:
    from kws.audio import load_audio

    return transcribe(load_audio(path))


def transcripts_key() -> str:
    """The cache file stem of the transcripts (with PocketSphinx's version)."""
    return f"transcripts-ps{_version()}-fresh"


def screen(files: Sequence[str | os.PathLike[str]], words: Sequence[str], *, cache_dir: Path,
           per_phone: float = THRESHOLD_PER_PHONE, workers: int = 2) -> dict[Path, list[str]]:
    """The keywords heard in each recording (an empty list: none), cached.

    A keyword is heard when the keyword search finds it or, in a recording where it finds
    none, when the transcript with the full language model holds it or a word that sounds as
    it does (:func:`said`).

    Parameters
    ----------
    files : sequence of path-like
        Recordings (any rate; resampled to 16 kHz by :func:`kws.audio.load_audio`).
    words : sequence of str
        The keywords.
    cache_dir : Path
        The folder of the JSON caches (one per keyword and threshold).
    per_phone : float
        Threshold per phone (:func:`word_threshold`; lower flags more).
    workers : int
        Processes for the recordings not yet cached.

    Returns
    -------
    dict
        Path -> the keywords found in it, in ``words`` order.

    Raises
    ------
    KwsError
        If a keyword is not in the recognizer's dictionary or a file cannot be read.
    """
    from tqdm import tqdm

    paths = [Path(f) for f in files]
    words = [w.lower() for w in words]
    check_words(words)
    cache_dir.mkdir(parents=True, exist_ok=True)
    th = {w: word_threshold(w, per_phone) for w in words}
    caches = {w: _load(cache_dir / f"{cache_key(w, th[w])}.json") for w in words}
    todo = [p for p in paths if any(_file_id(p) not in caches[w] for w in words)]
    if todo:
        jobs = [(str(p), th) for p in todo]
        with ProcessPoolExecutor(max(1, workers)) as pool:
            done = tqdm(pool.map(_screen_one, jobs, chunksize=8), total=len(jobs),
                        desc="screening (pocketsphinx)", unit="file")
            for i, (p, hits) in enumerate(zip(todo, done), 1):
                for w in words:
                    caches[w][_file_id(p)] = hits[w]
                if i % 200 == 0 or i == len(todo):          # a killed run keeps its work
                    for w in words:
                        _save(cache_dir / f"{cache_key(w, th[w])}.json", caches[w])
    found = {p: [w for w in words if caches[w][_file_id(p)] > 0] for p in paths}
    text_cache = cache_dir / f"{transcripts_key()}.json"
    texts = _load(text_cache, str)
    todo = [p for p in paths if not found[p] and _file_id(p) not in texts]
    if todo:
        with ProcessPoolExecutor(max(1, workers)) as pool:
            done = tqdm(pool.map(_transcribe_one, [str(p) for p in todo], chunksize=8),
                        total=len(todo), desc="transcribing (pocketsphinx)", unit="file")
            for i, (p, text) in enumerate(zip(todo, done), 1):
                texts[_file_id(p)] = text
                if i % 100 == 0 or i == len(todo):
                    _save(text_cache, texts)
    return {p: hits or [w for w in words if said(texts[_file_id(p)], w)]
            for p, hits in found.items()}


def _load(path: Path, kind: type = int) -> dict:
    """A JSON cache of file id -> ``kind`` value ({} when missing or damaged)."""
    if not path.is_file():
        return {}
    try:
        table = json.loads(path.read_text())
        if not all(isinstance(v, kind) for v in table.values()):
            return {}
        return {str(k): v for k, v in table.items()}
    except (ValueError, AttributeError):
        return {}                                   # a damaged cache is rebuilt


def _save(path: Path, table: dict) -> None:
    from kws.fileio import write_text_atomic

    write_text_atomic(path, json.dumps(table, sort_keys=True, indent=0) + "\n")


def clean(files: Sequence[str | os.PathLike[str]], words: Sequence[str], *, cache_dir: Path,
          per_phone: float = THRESHOLD_PER_PHONE, workers: int = 2
          ) -> tuple[list[Path], list[Path]]:
    """(kept, left out): the recordings where no keyword was heard, and the others."""
    found = screen(files, words, cache_dir=cache_dir, per_phone=per_phone, workers=workers)
    kept = [p for p, hits in found.items() if not hits]
    return kept, [p for p, hits in found.items() if hits]
