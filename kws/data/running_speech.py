"""Synthetic running speech: sentences (not single words) spoken by every offline TTS voice.

A keyword-free sentence is drawn from a small grammar over everyday words
(:func:`sentence`); words that are keywords, contain one, or sound like one are left out
(:func:`kws.data.synth.unknown_words` decides, as for ``_unknown_`` clips). Each sentence is
spoken by an engine and voice drawn uniformly from the installed ones
(:func:`kws.data.tts.available_engines`), at a random speed and pitch, resampled to 16 kHz.

:func:`running_speech` concatenates them with short pauses into one long int16 recording; used
as keyword-free audio by ``kws bench detection`` (a labelled, *synthetic* second number) and by
training (negatives).

>>> s = sentence(np.random.default_rng(0), banned={"yes", "no"})
>>> isinstance(s, str) and len(s.split()) >= 3
True
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from kws.audio import quantize_int16
from kws.data import tts
from kws.errors import KwsError

SAMPLE_RATE = 16000

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


def sentence(rng: np.random.Generator, *, banned: set[str] = frozenset()) -> str:
    """One random sentence without any word in ``banned`` (lower case)."""
    for _ in range(100):
        if rng.uniform() < 0.2:
            words = f"{rng.choice(_QUESTIONS)} {rng.choice(_OBJECTS)}?"
        else:
            words = (f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
                     f"{rng.choice(_TAILS)}").strip() + "."
        if not banned & {w.strip("?.,").lower() for w in words.split()}:
            return words[0].upper() + words[1:]
    raise KwsError("running speech: every sentence contains a banned word")


def banned_words(keywords: Sequence[str]) -> set[str]:
    """The keywords and every everyday word that :func:`kws.data.synth.unknown_words` drops
    for them (homophones, words containing them)."""
    from kws.data.synth import UNKNOWN_WORDS, unknown_words

    keep = set(unknown_words(list(keywords)))
    return {w.lower() for w in keywords} | {w for w in UNKNOWN_WORDS if w not in keep}


def _voices() -> list[tuple[str, str]]:
    out = []
    for engine in tts.available_engines():
        out += [(engine, v) for v in tts.engine_voices(engine)]
    if not out:
        raise KwsError("running speech: no offline TTS engine is installed")
    return out


def running_speech(*, minutes: float, keywords: Sequence[str], seed: int = 0,
                   engines: Sequence[str] | None = None, batch: int = 16) -> np.ndarray:
    """About ``minutes`` of keyword-free TTS sentences, int16 16 kHz, pauses of 0.1-0.8 s.

    Voices are drawn per batch of ``batch`` sentences, engines uniformly, then a voice of it.
    """
    rng = np.random.default_rng([seed, 0x5e7])
    voices = _voices()
    by_engine: dict[str, list[str]] = {}
    for e, v in voices:
        if engines is None or e in engines:
            by_engine.setdefault(e, []).append(v)
    if not by_engine:
        raise KwsError(f"running speech: none of the engines {list(engines or [])} is installed")
    banned = banned_words(keywords)
    total = int(minutes * 60 * SAMPLE_RATE)
    parts: list[np.ndarray] = []
    have = 0
    names = sorted(by_engine)
    while have < total:
        engine = names[int(rng.integers(len(names)))]
        vs = by_engine[engine]
        reqs = [tts.Request(text=sentence(rng, banned=banned), voice=vs[int(rng.integers(len(vs)))],
                            speed=float(rng.uniform(0.85, 1.2)),
                            pitch=float(rng.uniform(0.8, 1.25))) for _ in range(batch)]
        for x, rate in tts.speak(engine, reqs):
            x = np.asarray(x, dtype=np.float64)
            if rate != SAMPLE_RATE:
                import soxr

                x = soxr.resample(x, rate, SAMPLE_RATE)
            peak = float(np.abs(x).max()) if len(x) else 0.0
            if peak <= 0:
                continue
            x = x * (10 ** (rng.uniform(-20.0, -3.0) / 20) / peak)
            parts += [x, np.zeros(int(rng.uniform(0.1, 0.8) * SAMPLE_RATE))]
            have += len(x) + len(parts[-1])
    y = np.concatenate(parts)[:total]
    return quantize_int16(np.clip(y, -1.0, 1.0))
