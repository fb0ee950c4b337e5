"""The offline TTS corpus stand-in: deterministic, a manifest with engine and parameters,
clips of 1 s at 16 kHz, atomic and reusable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kws.audio import load_audio
from kws.data.manifest import read_manifest
from kws.data.synth_default import build_synth_corpus, engines_available


@pytest.fixture(scope="module")
def engines() -> list[str]:
    found = engines_available()
    if not found:
        pytest.skip("no TTS engine (espeak-ng, flite, festival) installed")
    return found


def test_corpus_is_deterministic(engines, tmp_path) -> None:
    a = build_synth_corpus(["yes", "no"], tmp_path / "a", per_word=4, unknown_count=4, seed=3)
    b = build_synth_corpus(["yes", "no"], tmp_path / "b", per_word=4, unknown_count=4, seed=3)
    ea, eb = read_manifest(a), read_manifest(b)
    assert ea == eb and len(ea) == 12
    assert {e.label for e in ea} == {"yes", "no", "_unknown_"}
    for e in ea:
        x = load_audio(a / e.path)
        assert x.shape == (16000,) and np.max(np.abs(x)) > 1000
        np.testing.assert_array_equal(x, load_audio(b / e.path), err_msg=f"{e.source} {e.params}")
        assert e.source in engines
        params = json.loads(e.params)
        assert {"text", "voice", "speed", "pitch"} <= set(params)
        if e.label == "_unknown_":
            assert params["text"] not in ("yes", "no")
    assert not list(a.rglob("*.tmp"))


def test_corpus_is_reused(engines, tmp_path) -> None:
    a = build_synth_corpus(["up"], tmp_path / "a", per_word=2, unknown_count=1, seed=0)
    stamp = (a / "manifest.csv").stat().st_mtime_ns
    build_synth_corpus(["up"], tmp_path / "a", per_word=2, unknown_count=1, seed=0)
    assert (a / "manifest.csv").stat().st_mtime_ns == stamp


def test_every_installed_voice_of_every_engine_is_drawn(monkeypatch) -> None:
    """The corpus draws from all voices each engine reports (here a made-up set), in the
    engine mix of ENGINE_WEIGHTS; engines without voices are left out."""
    from kws.data import synth_default as sd

    fake = {"espeak-cli": [f"en-us+v{i}" for i in range(30)], "flite": ["kal", "slt"],
            "festival": [], "piper": ["joe"]}
    monkeypatch.setattr(sd.tts, "engine_voices", lambda w: fake[w])
    voices = sd.corpus_voices()
    assert set(voices) == {"espeak", "flite", "piper"}
    rng = np.random.default_rng(0)
    drawn = [sd._draw(rng, voices)[:2] for _ in range(3000)]
    assert {(e, v) for e, v in drawn} == {(e, v) for e, vs in voices.items() for v in vs}
    share = {e: sum(d[0] == e for d in drawn) / len(drawn) for e in voices}
    w = {e: sd.ENGINE_WEIGHTS[e] for e in voices}
    for e in voices:
        assert share[e] == pytest.approx(w[e] / sum(w.values()), abs=0.03)


def test_piper_renders_the_same_on_two_threads() -> None:
    """piper's voice is loaded once per thread (two threads render at once), and a clip is
    the same float for float whichever thread renders it, and in whatever order."""
    import concurrent.futures
    import threading

    from kws.data import tts

    if not tts.piper_available():
        pytest.skip("piper or its voice is not installed")
    reqs = [tts.Request(text, "joe", speed=speed)
            for text, speed in (("yes", 1.0), ("no", 0.8), ("left", 1.25), ("go", 1.1))]
    alone = [tts._Piper.get().speak(r) for r in reqs]
    seen: dict[int, int] = {}

    def speak(r: tts.Request) -> np.ndarray:
        voice = tts._Piper.get()
        seen[threading.get_ident()] = id(voice)
        return voice.speak(r)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        both = list(pool.map(speak, reqs[::-1] * 2))[::-1]
    for a, b in zip(alone * 2, both):
        assert np.array_equal(a, b) and len(a) > 1000
    assert len(set(seen.values())) == len(seen) and id(tts._Piper.get()) not in seen.values()
