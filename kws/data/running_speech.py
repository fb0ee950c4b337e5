"""Synthetic running speech: sentences (not single words) spoken by every offline TTS voice.

The sentences come from :mod:`kws.data.sentences` (quotations and a small grammar). Each is
spoken by an installed engine (:func:`kws.data.tts.available_engines`, weighted as
:data:`kws.data.synth.ENGINE_WEIGHTS`: piper, the slow one, gets 10 %) and one of its voices,
at a random speed and pitch, resampled to 16 kHz.

:func:`sentence_bank` speaks and caches them (one cache for every keyword set);
:func:`running_speech` drops the sentences that hold a word of :func:`banned_words` (the
keywords, the everyday words that :func:`kws.data.synth.unknown_words` drops for them, and
their homophones in the CMU dictionary: "know" for "no") and concatenates the rest with short
pauses into one long int16 recording; used as keyword-free audio by ``kws bench detection`` (a
labelled, *synthetic* second number) and by training (negatives).

>>> sorted(banned_words(["no"]) & {"no", "know", "now"})
['know', 'no']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kws.audio import quantize_int16
from kws.data import sentences, tts
from kws.errors import KwsError

SAMPLE_RATE = 16000


def banned_words(keywords: Sequence[str]) -> set[str]:
    """The keywords, every everyday word that :func:`kws.data.synth.unknown_words` drops for
    them (homophones, words containing them) and their homophones in the CMU dictionary."""
    from kws.data.confusables import homophones
    from kws.data.synth import UNKNOWN_WORDS, unknown_words

    keep = set(unknown_words(list(keywords)))
    out = {w.lower() for w in keywords} | {w for w in UNKNOWN_WORDS if w not in keep}
    for k in keywords:
        out |= homophones(k)
    return out


def _voices() -> list[tuple[str, str]]:
    out = []
    for engine in tts.available_engines():
        out += [(engine, v) for v in tts.engine_voices(engine)]
    if not out:
        raise KwsError("running speech: no offline TTS engine is installed")
    return out


def _speak_sentences(minutes: float, seed: int) -> tuple[list[str], list[np.ndarray]]:
    """About ``minutes`` of sentences (no words banned), float64 16 kHz, peak -20..-3 dBFS."""
    return speak_texts(sentences.sentence, minutes=minutes, seed=seed,
                       desc="TTS running speech")


def speak_texts(text: Callable[[np.random.Generator], str], *, minutes: float, seed: int,
                desc: str) -> tuple[list[str], list[np.ndarray]]:
    """About ``minutes`` of ``text(rng)`` utterances by every installed voice (engines
    weighted), float64 16 kHz, each at a peak of -20..-3 dBFS."""
    rng = np.random.default_rng([seed, 0x5e7])
    by_engine: dict[str, list[str]] = {}
    for e, v in _voices():
        by_engine.setdefault(e, []).append(v)
    from kws.data.synth import ENGINE_WEIGHTS

    names = sorted(by_engine)
    weights = np.array([ENGINE_WEIGHTS.get(n, 0.1) for n in names])
    weights /= weights.sum()
    total = int(minutes * 60 * SAMPLE_RATE)
    texts: list[str] = []
    clips: list[np.ndarray] = []
    have = 0
    from tqdm import tqdm

    bar = tqdm(total=round(minutes, 1), unit="min", desc=desc, leave=False)
    while have < total:
        engine = names[int(rng.choice(len(names), p=weights))]
        vs = by_engine[engine]
        reqs = [tts.Request(text=text(rng), voice=vs[int(rng.integers(len(vs)))],
                            speed=float(rng.uniform(0.85, 1.2)),
                            pitch=float(rng.uniform(0.8, 1.25))) for _ in range(8)]
        for req, (x, rate) in zip(reqs, tts.speak(engine, reqs)):
            x = np.asarray(x, dtype=np.float64)
            if rate != SAMPLE_RATE:
                import soxr

                x = soxr.resample(x, rate, SAMPLE_RATE)
            peak = float(np.abs(x).max()) if len(x) else 0.0
            if peak <= 0:
                continue
            clips.append(x * (10 ** (rng.uniform(-20.0, -3.0) / 20) / peak))
            texts.append(req.text)
            have += len(clips[-1])
            bar.update(min(round(len(clips[-1]) / SAMPLE_RATE / 60, 3), max(bar.total - bar.n, 0)))
    bar.close()
    return texts, clips


def spoken_words(words: Sequence[str], *, minutes: float, seed: int = 0,
                 cache_dir: str | Path | None = None) -> np.ndarray:
    """About ``minutes`` of the ``words`` spoken one at a time (a random word, voice, speed
    and pitch each), with pauses of 0.3-1.0 s, int16; cached in ``cache_dir`` by word list."""
    import hashlib

    if not words:
        raise KwsError("spoken words: no words to speak")
    key = hashlib.sha1("\n".join(sorted(words)).encode()).hexdigest()[:12]
    path = Path(cache_dir) / f"words-{key}-{minutes:g}min-seed{seed}.npy" if cache_dir else None
    if path is not None and path.is_file():
        return np.load(path)
    pool = sorted(words)
    _, clips = speak_texts(lambda r: pool[int(r.integers(len(pool)))], minutes=minutes,
                           seed=seed, desc="TTS confusable words")
    rng = np.random.default_rng([seed, 0x30d])
    parts = []
    for c in clips:
        parts += [c, np.zeros(int(rng.uniform(0.3, 1.0) * SAMPLE_RATE))]
    x = quantize_int16(np.clip(np.concatenate(parts), -1.0, 1.0))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npy")
        np.save(tmp, x)
        os.replace(tmp, path)
    return x


def sentence_bank(*, minutes: float, seed: int = 0, cache_dir: str | Path | None = None
                  ) -> tuple[list[str], list[np.ndarray]]:
    """Spoken sentences (texts, int16 clips), cached in ``cache_dir`` when given.

    The bank bans no word, so one cache serves every keyword set (:func:`running_speech` drops
    the sentences that hold a banned word).
    """
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"sentences-{sentences.source()}-{minutes:g}min-seed{seed}.npz"
        if path.is_file():
            with np.load(path) as z:
                audio, offsets = z["audio"], z["offsets"]
                return ([str(t) for t in z["texts"]],
                        [audio[a:b] for a, b in zip(offsets[:-1], offsets[1:])])
    texts, clips = _speak_sentences(minutes, seed)
    ints = [quantize_int16(np.clip(c, -1.0, 1.0)) for c in clips]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, texts=np.array(texts), audio=np.concatenate(ints),
                 offsets=np.cumsum([0] + [len(c) for c in ints]))
        os.replace(tmp, path)
    return texts, ints


def running_speech(*, minutes: float, keywords: Sequence[str], seed: int = 0,
                   cache_dir: str | Path | None = None) -> np.ndarray:
    """About ``minutes`` of keyword-free TTS sentences, int16 16 kHz, pauses of 0.1-0.8 s
    (sentences holding a word of :func:`banned_words` are left out, so it may be shorter)."""
    texts, clips = sentence_bank(minutes=minutes, seed=seed, cache_dir=cache_dir)
    banned = banned_words(keywords)
    rng = np.random.default_rng([seed, 0x9a5])
    parts = []
    for text, clip in zip(texts, clips):
        if banned & sentences.words(text):
            continue
        parts += [clip, np.zeros(int(rng.uniform(0.1, 0.8) * SAMPLE_RATE), np.int16)]
    if not parts:
        raise KwsError("running speech: every sentence holds a keyword")
    return np.concatenate(parts)
