"""How ``kws search`` measures its finalists' false accepts: ``kws bench detection``'s real
streams (held-out Speech Commands words, the screened scoring half of the running dialogue)
with the user's negatives pooled in, built here on a small stand-in of the shared data folder,
and the choice between that benchmark and a stream of the ``--real-speech`` clips."""

from __future__ import annotations

import numpy as np
import pytest

from kws.errors import KwsError

LABELS = ["_silence_", "_unknown_", "yes", "no"]


def _shared(root, *, dialogue: bool = True):
    """A stand-in of the shared folder: the repository's real clips as the training folder,
    one extra word and background noise in ``audio/``, a few dialogue lines of each half."""
    from kws.audio import save_wav
    from kws.bench.detection import DIALOGUE, dialogue_part
    from kws.paths import FIXTURE_SPEECH
    from tests.tiny_data import word_clip

    root.mkdir()
    (root / "speech_commands_train").symlink_to(FIXTURE_SPEECH)
    rng = np.random.default_rng(0)
    for i in range(3):
        save_wav(root / "audio" / "tree" / f"{i:08x}_nohash_0.wav", word_clip("up", rng))
    (root / "audio" / "_background_noise_").symlink_to(FIXTURE_SPEECH / "_background_noise_")
    if dialogue:
        folder = root / DIALOGUE
        i = 0
        while min(sum(dialogue_part(f.name) == half for f in folder.glob("*.wav"))
                  for half in ("scoring", "tuning")) < 3:
            x = (rng.standard_normal(16000 * 2) * 500).astype(np.int16)
            save_wav(folder / f"line_{i:03d}.wav", x)
            i += 1
    return root


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A random-weight streaming RUN (its detector the defaults)."""
    pytest.importorskip("tensorflow")
    from kws.search.probe import write_random_run
    from kws.search.space import Candidate

    c = Candidate("tcn-stream", {"filters": 8, "first_time": 3, "kernel": 3, "blocks": 2})
    return write_random_run(c, tmp_path_factory.mktemp("run") / "run", labels=LABELS,
                            settings=c.settings(), seed=1)


def test_auto_detection_uses_the_benchmark_only_where_its_data_are(tmp_path, monkeypatch):
    from kws.search.measure import resolve_detection

    monkeypatch.setenv("KWS_SHARED", str(_shared(tmp_path / "full")))
    assert resolve_detection(None) == resolve_detection("auto") == "bench"
    assert resolve_detection("stream") == "stream"
    monkeypatch.setenv("KWS_SHARED", str(_shared(tmp_path / "part", dialogue=False)))
    assert resolve_detection(None) == "stream"
    with pytest.raises(KwsError, match="bass_dialogue: missing"):
        resolve_detection("bench")
    with pytest.raises(KwsError, match="expected one of auto, bench, stream"):
        resolve_detection("clips")


def test_benchmark_pools_its_real_streams_and_the_users_negatives(run, tmp_path, monkeypatch):
    """The finalist's FA/h is over every stream of the benchmark plus the negatives, each
    listed with its minutes: the Speech Commands stream's keyword-free part, every screened
    dialogue line, every second of the negatives; the pooled count is the parts' sum and
    the benchmark's own Speech Commands stream is what ``kws bench detection`` scores."""
    from kws.audio import load_audio, save_wav
    from kws.bench.detection import speech_commands_stream
    from kws.search.measure import bench_detection, finalist_detection

    monkeypatch.setenv("KWS_SHARED", str(_shared(tmp_path / "shared")))
    monkeypatch.setenv("KWS_CACHE", str(tmp_path / "cache"))
    neg = tmp_path / "neg"
    rng = np.random.default_rng(3)
    save_wav(neg / "a.wav", (rng.standard_normal(16000 * 5) * 800).astype(np.int16))
    save_wav(neg / "b" / "c.wav", (rng.standard_normal(16000 * 7) * 800).astype(np.int16))
    r = bench_detection(run, minutes=1.0, negatives=[neg])
    names = [p["name"] for p in r["parts"]]
    assert names[:2] == ["speech commands (held-out split)",
                         "running dialogue (scoring half, screened)"]
    sc, dialogue, negs = r["parts"]
    samples, events, _ = speech_commands_stream(["yes", "no"], minutes=1.0, split="heldout")
    assert sc["audio_minutes"] == round(len(samples) / 16000 / 60, 2)
    assert 0 < sc["negative_minutes"] < sc["audio_minutes"] and r["events"] == len(events) > 0
    assert dialogue["negative_minutes"] == dialogue["audio_minutes"] > 0
    assert negs["negative_minutes"] == negs["audio_minutes"] == round(12 / 60, 2)
    assert r["false_accepts"] == sum(p["false_accepts"] for p in r["parts"])
    assert r["negative_hours"] * 60 == pytest.approx(sum(p["negative_minutes"]
                                                         for p in r["parts"]), abs=0.02)
    assert r["fa_per_hour"] == pytest.approx(r["false_accepts"] / r["negative_hours"])
    assert r["stream_minutes"] == pytest.approx(sum(p["audio_minutes"] for p in r["parts"]),
                                                abs=0.02)
    # without a stream of real clips, the negatives alone
    only = finalist_detection(run, mode="stream", real_speech=None, minutes=1.0,
                              negatives=[neg])
    assert [p["name"] for p in only["parts"]] == [negs["name"]]
    assert only["events"] == 0 and only["negative_hours"] * 60 == pytest.approx(0.2)
    assert finalist_detection(run, mode="stream", real_speech=None, minutes=1.0) is None
    assert len(load_audio(neg / "a.wav")) == 16000 * 5


def test_miss_at_target_screens_on_audio_the_finalists_are_not_reported_on(run, tmp_path,
                                                                          monkeypatch):
    """The last rung's figure: the same kinds of streams as the finalists' FA/h but the audio
    the report never scores (the Speech Commands training split, the tuning half of the
    dialogue; in stream mode the clips' training split against the report's held-out
    splits), the user's negatives pooled in; at each budget (1, 10, 100x the target) the best
    detector meeting it, a miss rate of 1 when none does, never more at a looser budget, and
    their mean ranked on; nothing to score without keyword events."""
    from kws.audio import save_wav
    from kws.paths import FIXTURE_SPEECH
    from kws.search.measure import finalist_detection, miss_at_target

    monkeypatch.setenv("KWS_SHARED", str(_shared(tmp_path / "shared")))
    monkeypatch.setenv("KWS_CACHE", str(tmp_path / "cache"))
    neg = tmp_path / "neg"
    rng = np.random.default_rng(4)
    save_wav(neg / "a.wav", (rng.standard_normal(16000 * 6) * 800).astype(np.int16))
    kw = {"mode": "bench", "real_speech": None, "minutes": 1.0, "negatives": [neg]}
    fin = finalist_detection(run, **kw)
    assert [p["name"] for p in fin["parts"]][:2] == [
        "speech commands (held-out split)", "running dialogue (scoring half, screened)"]
    tight = miss_at_target(run, every=1, target_fa_per_hour=1.0, **kw)
    loose = miss_at_target(run, every=1, target_fa_per_hour=1e9, **kw)
    for r in (tight, loose):
        assert r["source"] == "kws bench detection (tuning audio)"
        assert r["parts"] == ["speech commands (train split)",
                              "running dialogue (tuning half, screened)", fin["parts"][2]["name"]]
        assert r["events"] > 0 and r["negative_hours"] > 0
        budgets = [b for b, _ in r["misses"]]
        misses = [m for _, m in r["misses"]]
        assert budgets == [r["target_fa_per_hour"] * f for f in (1, 10, 100)]
        assert misses == sorted(misses, reverse=True) and all(0 <= m <= 1 for m in misses)
        assert r["screen_miss"] == pytest.approx(sum(misses) / 3)
        assert r["miss_at_target"] == misses[0] == (r["miss_rate"] if r["met"] else 1.0)
        assert not r["met"] or r["fa_per_hour"] <= r["target_fa_per_hour"]
    assert loose["met"] and loose["screen_miss"] <= tight["screen_miss"]
    assert miss_at_target(run, every=1, target_fa_per_hour=1.0, mode="stream",
                          real_speech=None, minutes=1.0, negatives=[neg]) is None
    # stream mode: the clips' training split screens, the held-out splits are reported on
    st = {"mode": "stream", "real_speech": FIXTURE_SPEECH, "minutes": 0.5}
    screen = miss_at_target(run, every=1, target_fa_per_hour=1.0, **st)
    report = finalist_detection(run, **st)
    assert screen["parts"] == [f"stream of {FIXTURE_SPEECH} (train)"]
    assert [p["name"] for p in report["parts"]] == [
        f"stream of {FIXTURE_SPEECH} (validation+test)"]


def test_search_refuses_a_missing_negatives_folder_before_training(tmp_path):
    from kws.search.cost import Budget
    from kws.search.driver import SearchConfig, run_search

    cfg = SearchConfig(words=["yes", "no"], out=str(tmp_path / "s"),
                       budget=Budget(64 * 1024, 16 * 1024, 8e6), detection="stream",
                       negatives=[str(tmp_path / "nowhere")])
    with pytest.raises(KwsError, match="nowhere: no such folder of negative recordings"):
        run_search(cfg)
    assert not (tmp_path / "s").exists()


def test_command_refuses_the_benchmark_without_its_data(tmp_path, monkeypatch, capsys):
    from kws.cli import main

    monkeypatch.setenv("KWS_SHARED", str(tmp_path / "empty"))
    out = tmp_path / "s"
    assert main(["search", "--words", "yes,no", "--flash", "64k", "--ram", "16k", "--mips",
                 "8", "--detection", "bench", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"kws: error: --detection: the real detection benchmark cannot be built: "
        f"{tmp_path / 'empty' / 'speech_commands_train'}: missing"]
    assert not out.exists()
