"""Training negatives: windows equal the clips the detector sees, the sentence bank and the
negative windows are cached and reused (also by a run with other keywords)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.frontend import compute_features
from kws.frontend.settings import FrontendSettings


def test_stream_windows_equal_clip_features() -> None:
    from kws.train.windows import stream_windows

    s = FrontendSettings()
    rng = np.random.default_rng(1)
    x = (rng.normal(0, 2000, 4 * 16000) * np.repeat(rng.uniform(0, 1, 40), 1600)
         ).astype(np.int16)
    w = stream_windows(x, s, stride_frames=5)
    hop = s.hop_samples
    n_expected = (s.frames_for(len(x)) - s.num_frames) // 5 + 1
    assert len(w) == n_expected
    for k in (0, 1, len(w) - 1):
        clip = x[k * 5 * hop: k * 5 * hop + s.clip_samples]
        assert np.array_equal(w[k], compute_features(clip, s)), k
    assert stream_windows(x[:8000], s).shape == (0, s.num_frames, s.num_outputs)


def _fake_speak(calls: list[int]):
    def speak(minutes: float, seed: int):
        calls.append(seed)
        rng = np.random.default_rng(seed)
        texts = ["The man walked to the red car.", "Did you see yes?", "We cooked the radio."]
        clips = [rng.normal(0, 0.1, int(minutes * 60 * 16000 / 3)) for _ in texts]
        return texts, clips
    return speak


def test_sentence_bank_is_shared_by_keyword_sets(tmp_path: Path, monkeypatch) -> None:
    from kws.data import running_speech as rs

    calls: list[int] = []
    monkeypatch.setattr(rs, "_speak_sentences", _fake_speak(calls))
    a = rs.running_speech(minutes=0.1, keywords=["yes", "no"], cache_dir=tmp_path)
    b = rs.running_speech(minutes=0.1, keywords=["up", "down"], cache_dir=tmp_path)
    assert calls == [0]                                # spoken once, reused
    # the sentence saying "yes" is dropped for yes/no only
    assert len(a) < len(b)


def test_negative_windows_cached_and_reused(tmp_path: Path, monkeypatch) -> None:
    from kws.data import running_speech as rs
    from kws.train import negatives

    calls: list[int] = []
    monkeypatch.setattr(rs, "_speak_sentences", _fake_speak(calls))
    s = FrontendSettings()
    kw = dict(settings=s, cache=tmp_path, seed=3, minutes=0.2, user_dir=None, copies=2)
    a = negatives.negative_windows(words=["yes", "no"], **kw)
    assert a.shape[1:] == (2, s.num_frames, s.num_outputs) and len(a) > 10
    files = sorted((tmp_path / "negatives").glob("*.npy"))
    assert len(files) == 1
    b = negatives.negative_windows(words=["no", "yes"], **kw)   # same set: from the cache
    assert np.array_equal(a, b) and calls == [3]
    c = negatives.negative_windows(words=["up"], **kw)        # other words: bank reused
    assert calls == [3] and len(sorted((tmp_path / "negatives").glob("*.npy"))) == 2
    assert len(c) >= len(a)
