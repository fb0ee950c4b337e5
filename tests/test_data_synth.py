"""The offline synthetic corpus (kws.data.synth) and its TTS engines (kws.data.tts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.data import synth, tts
from kws.data.manifest import read_manifest
from kws.errors import KwsError
from kws.paths import REPO_ROOT

REPO = REPO_ROOT


def _need(engine: str) -> None:
    if not tts.engine_voices(engine):
        pytest.skip(f"TTS engine {engine} is not installed here")


@pytest.mark.parametrize("engine", ["espeak", "flite", "festival", "piper"])
def test_engine_speaks_a_word(engine: str) -> None:
    _need(engine)
    voices = tts.engine_voices(engine)
    reqs = [tts.Request("yes", voices[0]), tts.Request("no", voices[-1], speed=1.3, pitch=0.8)]
    out = tts.speak(engine, reqs)
    assert len(out) == 2
    for x, rate in out:
        assert rate >= 8000
        assert 0.1 * rate < len(x) < 3 * rate  # a word, not silence and not a sentence
        assert np.abs(x).max() > 0.01


def test_espeak_pitch_and_speed_change_the_audio() -> None:
    _need("espeak")
    base, = tts.speak("espeak", [tts.Request("yes", "en-us")])
    slow, = tts.speak("espeak", [tts.Request("yes", "en-us", speed=0.7)])
    high, = tts.speak("espeak", [tts.Request("yes", "en-us", pitch=1.6)])
    assert len(slow[0]) > len(base[0]) * 1.15
    assert not np.array_equal(high[0][: len(base[0])], base[0][: len(high[0])])


def test_unknown_engine_is_an_error() -> None:
    with pytest.raises(KwsError, match="unknown engine"):
        tts.engine_voices("sam")


def test_unknown_words_leave_out_keywords_and_homophones() -> None:
    pool = synth.unknown_words(["no", "go", "right"])
    assert "no" not in pool and "go on" not in pool and "go" not in pool
    assert "cat" in pool and "now" in pool
    if tts.engine_voices("espeak"):
        assert "know" not in pool and "write" not in pool
    with pytest.raises(KwsError, match="no _unknown_ words"):
        synth.unknown_words(list(synth.UNKNOWN_WORDS))


def test_trim_silence() -> None:
    x = np.zeros(16000)
    x[4000:6000] = np.sin(np.arange(2000) * 0.3)
    y = synth.trim_silence(x)
    assert 1900 <= len(y) <= 2200
    assert len(synth.trim_silence(np.zeros(1600))) == 0


def _corpus(tmp: Path, **kw) -> synth.SynthReport:
    args = dict(words=["yes", "no"], per_word=4, unknown=3, silence=2, engines=["espeak"],
                seed=3, jobs=1, progress=False)
    args.update(kw)
    return synth.synthesize_corpus(out_dir=tmp, **args)


def _wavs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.wav"))}


def test_corpus_layout_and_manifest(tmp_path: Path) -> None:
    _need("espeak")
    report = _corpus(tmp_path)
    entries = read_manifest(tmp_path)
    assert len(entries) == 4 + 4 + 3 + 2 == report.made
    labels = [e.label for e in entries]
    assert labels.count("yes") == 4 and labels.count("_unknown_") == 3
    assert labels.count("_silence_") == 2
    for e in entries:
        data, rate = sf.read(tmp_path / e.path, dtype="int16")
        assert rate == 16000 and data.shape == (16000,)
        assert e.split in ("train", "validation")
        params = json.loads(e.params)
        if e.label == "_silence_":
            assert e.source == "noise" and params["colour"] in ("white", "pink", "brown")
            rms = np.sqrt(np.mean((data / 32768.0) ** 2))
            assert abs(20 * np.log10(rms) - params["dbfs"]) < 0.5
        else:
            assert e.source == "espeak" and e.speaker == f"espeak:{params['voice']}"
            assert {"voice", "speed", "pitch", "tape", "start_ms", "text"} <= set(params)
            peak = np.abs(data).max() / 32768.0
            assert abs(20 * np.log10(peak) - params["peak_dbfs"]) < 0.2
            # The speech starts where the manifest says (nothing loud before it).
            start = max(0, int(params["start_ms"] * 16) - 2)
            assert np.abs(data[:start]).max(initial=0) == 0
        if e.label == "_unknown_":
            assert params["text"].rstrip(".!?") not in ("yes", "no")


def test_corpus_is_deterministic_and_independent_of_jobs(tmp_path: Path) -> None:
    _need("espeak")
    _corpus(tmp_path / "a", jobs=1)
    _corpus(tmp_path / "b", jobs=2)
    a, b = _wavs(tmp_path / "a"), _wavs(tmp_path / "b")
    assert a == b and len(a) == 13
    a, b = (tmp_path / name / "manifest.csv" for name in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
    _corpus(tmp_path / "c", seed=4)
    assert _wavs(tmp_path / "c") != a


def test_all_engines_in_one_corpus(tmp_path: Path) -> None:
    engines = [e for e in ("espeak", "flite", "festival") if tts.engine_voices(e)]
    if len(engines) < 2:
        pytest.skip("fewer than two TTS engines installed")
    report = _corpus(tmp_path, engines=engines, per_word=8, unknown=2, silence=0, jobs=2)
    sources = {e.source for e in report.entries}
    assert sources == set(engines)
    assert set(report.rates()) == set(engines)


def test_resume_keeps_clips_and_matches_a_clean_run(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _need("espeak")
    monkeypatch.setitem(synth.BATCH, "espeak", 4)  # 11 espeak clips: batches of 4, 4, 3
    _corpus(tmp_path / "clean")
    run = tmp_path / "run"
    _corpus(run)
    (run / "no" / "espeak_000005.wav").unlink()  # in the second batch
    (run / "manifest.csv").unlink()
    (run / "yes" / ".espeak_000001.wav.abc.tmp").write_bytes(b"half")  # a killed write
    report = _corpus(run)
    assert report.made == 4 and report.reused == 13 - 4
    assert _wavs(run) == _wavs(tmp_path / "clean")
    assert not list(run.rglob("*.tmp"))


def test_other_settings_in_the_same_folder_is_an_error(tmp_path: Path) -> None:
    _need("espeak")
    _corpus(tmp_path)
    with pytest.raises(KwsError, match="other settings"):
        _corpus(tmp_path, seed=99)


def test_non_empty_folder_without_config_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("mine")
    with pytest.raises(KwsError, match="not empty"):
        _corpus(tmp_path)


@pytest.mark.parametrize("kw, match", [
    (dict(words=[]), "^words: "),
    (dict(words=["yes", "yes"]), "repeated"),
    (dict(words=["_silence_"]), "cannot be a keyword"),
    (dict(per_word=0), "^per_word: "),        # the argument; the CLI says --per-word
    (dict(jobs=0), "^jobs: "),
    (dict(engines=["sam"]), "unknown engine"),
])
def test_bad_arguments(tmp_path: Path, kw: dict, match: str) -> None:
    with pytest.raises(KwsError, match=match):
        _corpus(tmp_path, **kw)


def test_killed_run_leaves_only_whole_files(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL in the middle of synthesis: every visible WAV is whole; a re-run completes it
    into exactly what an uninterrupted run makes."""
    _need("espeak")
    out = tmp_path / "corpus"
    kw = dict(words=["yes", "no"], per_word=100, unknown=0, silence=0, engines=["espeak"],
              seed=5, jobs=1, progress=False)
    code = ("from kws.data import synth; synth.BATCH['espeak'] = 40; "
            f"synth.synthesize_corpus(out_dir={str(out)!r}, **{kw!r})")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.rglob("*.wav"))) < 30:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    visible = list(out.rglob("*.wav"))
    assert 30 <= len(visible) < 200, "the run was not interrupted mid-way"
    assert not (out / "manifest.csv").exists()
    for p in visible:
        data, rate = sf.read(p, dtype="int16")
        assert rate == 16000 and data.shape == (16000,)
    monkeypatch.setitem(synth.BATCH, "espeak", 40)
    report = synth.synthesize_corpus(out_dir=out, **kw)
    assert report.made + report.reused == 200 and report.reused >= 40 * (len(visible) // 40)
    assert len(read_manifest(out)) == 200
    synth.synthesize_corpus(out_dir=tmp_path / "clean", **kw)
    assert _wavs(out) == _wavs(tmp_path / "clean")


def test_wav_bytes_match_libsndfile(tmp_path: Path) -> None:
    x = np.random.default_rng(0).integers(-32768, 32768, 16000).astype(np.int16)
    sf.write(tmp_path / "ref.wav", x, 16000, subtype="PCM_16")
    assert synth.wav_bytes(x) == (tmp_path / "ref.wav").read_bytes()


def test_default_engines_are_the_installed_ones(tmp_path: Path) -> None:
    _need("espeak")
    report = synth.synthesize_corpus(words=["yes"], per_word=40, unknown=0, silence=0, seed=0,
                                     jobs=2, progress=False, out_dir=tmp_path)
    sources = {e.source for e in report.entries}
    assert sources == set(tts.available_engines()) & set(synth.DEFAULT_ENGINES)


def test_engine_failure_falls_back_to_default_prosody(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A request the engine cannot speak is retried alone, then with the voice's defaults."""
    specs = synth.plan_corpus(words=["yes"], per_word=3, unknown=0, silence=0,
                              engines=["espeak"], seed=0)
    cursed = specs[1].request
    calls = []

    def fake_speak(engine: str, reqs):
        calls.append(len(reqs))
        if cursed in reqs:
            raise KwsError("engine crashed")
        t = np.arange(8000) / 16000
        return [(0.5 * np.sin(2 * np.pi * 200 * t) * (1 + r.pitch), 16000) for r in reqs]

    monkeypatch.setattr(tts, "speak", fake_speak)
    engine, _, results = synth._run_batch("espeak", specs, str(tmp_path))
    extras = dict(results)
    assert calls == [3, 1, 1, 1, 1]  # batch, then one by one; the cursed one again with defaults
    assert "fallback" not in extras[0] and "fallback" not in extras[2]
    assert extras[1]["fallback"] == "default prosody"
    assert all((tmp_path / s.path).is_file() for s in specs)


def test_cli_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from kws.commands import data

    _need("espeak")
    parser = argparse.ArgumentParser(prog="kws")
    data.register(parser.add_subparsers())
    args = parser.parse_args(["data", "synth", "--words", "yes,no", "--per-word", "3",
                              "--dir", str(tmp_path / "c"), "--engines", "espeak", "--quiet"])
    assert args.func(args) == 0
    assert "clips/s" in capsys.readouterr().out
    assert len(read_manifest(tmp_path / "c")) == 3 + 3 + 3 + 1
    args = parser.parse_args(["data", "synth", "--words", "yes,,no", "--dir", str(tmp_path / "d")])
    with pytest.raises(KwsError, match="empty word"):
        args.func(args)
