"""``kws bench detection`` helpers: the tuning/scoring split of the running-speech negatives,
joining lines into recordings, keyword-free TTS sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.audio import save_wav
from kws.bench.detection import dialogue_part, join_lines
from kws.data.running_speech import banned_words, sentence


def test_dialogue_split_is_stable_and_balanced() -> None:
    names = [f"{50000 + i}.flac" for i in range(2000)]
    parts = [dialogue_part(n) for n in names]
    assert parts == [dialogue_part(n) for n in names]
    assert 0.45 < parts.count("tuning") / len(parts) < 0.55
    assert dialogue_part("50007.flac") == dialogue_part("50007.wav")


def test_join_lines_indexes_every_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    files = []
    for i in range(6):
        f = tmp_path / f"{i}.wav"
        save_wav(f, (rng.normal(0, 3000, 16000 * (i + 1))).astype(np.int16))
        files.append(f)
    recs = join_lines(files, minutes=0.1, seed=1)      # 6 s per recording
    names = [n for _, idx in recs for _, n in idx]
    assert names == [f.name for f in files]
    total = sum(len(x) for x, _ in recs)
    assert 21 * 16000 + 6 * 0.2 * 16000 <= total <= 21 * 16000 + 6 * 0.8 * 16000
    for x, idx in recs:
        assert x.dtype == np.int16 and idx[0][0] == 0.0
        assert all(a[0] < b[0] for a, b in zip(idx, idx[1:]))


def test_sentences_avoid_keywords() -> None:
    banned = banned_words(["yes", "no"])
    assert {"yes", "no"} <= banned
    rng = np.random.default_rng(3)
    for _ in range(200):
        words = {w.strip("?.,").lower() for w in sentence(rng, banned=banned).split()}
        assert not words & banned
