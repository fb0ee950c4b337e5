"""``kws calibrate RUN``: a trained run's detector chosen again on other audio, and the
calibration's keyword stream (every validation clip about once)."""

from __future__ import annotations

import doctest
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import kws.train.detector as detector
from kws.audio import save_wav
from kws.cli import main
from kws.errors import KwsError
from tests.test_train import tiny_config
from tests.tiny_data import make_tiny_speech_commands

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    from kws.train.trainer import train

    tmp = tmp_path_factory.mktemp("recal")
    data = make_tiny_speech_commands(tmp / "sc")
    train(tiny_config(data, tmp / "run", tmp / "cache", epochs=1))
    return tmp / "run"


def _negatives(folder: Path, n: int, seconds: float = 4.0) -> list[str]:
    """``n`` keyword-free recordings (noise with tones) under ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    t = np.arange(int(seconds * 16000)) / 16000
    paths = []
    for i in range(n):
        x = 3000 * np.sin(2 * np.pi * (200 + 150 * i) * t) + rng.normal(0, 800, len(t))
        p = folder / f"ambient_{i:02d}.wav"
        save_wav(p, np.clip(x, -32768, 32767).astype(np.int16))
        paths.append(str(p))
    return paths


def test_doctest() -> None:
    assert doctest.testmod(detector).failed == 0


def test_calibrate_uses_a_new_folder_whole_and_rewrites_the_detector(trained, tmp_path,
                                                                      capsys) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = json.loads((run / "calibration.json").read_text())
    files = _negatives(tmp_path / "product_audio", 6)
    # a stable hash would give the calibration part only some of these six names
    assert 0 < sum(detector.negatives_part(Path(f).name) == "calibration" for f in files) < 6
    rc = main(["calibrate", str(run), "--negatives", str(tmp_path / "product_audio"),
               "--target-fa-per-hour", "5", "--calibration-minutes", "0"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "kws: detector: thresholds" in out and "target 5/h" in out
    cal = json.loads((run / "calibration.json").read_text())
    assert sorted(cal["negatives"]) == sorted(files)          # whole, no TTS
    assert cal["target_fa_per_hour"] == 5.0
    assert cal["negative_hours"] > before["negative_hours"] - 0.3 / 60   # other audio
    from kws.run import read_detector, read_metrics

    assert read_detector(run).to_dict() == cal["settings"]
    assert read_metrics(run)["detector"]["target_fa_per_hour"] == 5.0
    # the model and its own config are untouched
    assert (run / "model.tflite").read_bytes() == (trained / "model.tflite").read_bytes()
    assert (run / "config.json").read_text() == (trained / "config.json").read_text()


def test_calibrate_without_new_audio_repeats_the_training_calibration(trained, tmp_path
                                                                      ) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    assert main(["calibrate", str(run)]) == 0
    again = json.loads((run / "calibration.json").read_text())
    first = json.loads((trained / "calibration.json").read_text())
    assert again["settings"] == first["settings"] and again["negatives"] == first["negatives"]
    assert again["negative_hours"] == pytest.approx(first["negative_hours"])


def test_calibrate_bad_input_fails_before_writing(trained, tmp_path, capsys) -> None:
    assert main(["calibrate", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "config.json" in err and len(err.strip().splitlines()) == 1
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    det = (run / "detector.json").read_bytes()
    assert main(["calibrate", str(run), "--negatives", str(tmp_path / "missing")]) == 2
    assert "--negatives must be a folder" in capsys.readouterr().err
    assert main(["calibrate", str(run), "--target-fa-per-hour", "-1"]) == 2
    assert "must be >= 0" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["calibrate", str(run), "--negatives", str(tmp_path / "empty")]) == 2
    assert "no .wav or .flac" in capsys.readouterr().err
    assert (run / "detector.json").read_bytes() == det
    (run / "config.json").write_text("{not json")
    assert main(["calibrate", str(run)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_negatives_parts() -> None:
    with pytest.raises(KwsError, match="part"):
        detector.negative_recordings(None, "half")


def test_keyword_stream_hears_each_validation_clip_about_once() -> None:
    """The calibration stream keeps the validation split's own mix of keywords and other
    words (other words cause most false accepts on isolated speech) and lasts long enough
    for each clip once, within the bounds."""
    m = detector.stream_minutes(100, 400)
    assert m == pytest.approx(500 * detector.SECONDS_PER_CLIP / 60)
    assert detector.stream_minutes(100, 5000) == detector.STREAM_MINUTES[1]
    # at most 90 % other words: 10 keywords allow 100 clips
    assert detector.stream_minutes(10, 500) == pytest.approx(
        max(detector.STREAM_MINUTES[0], 100 * detector.SECONDS_PER_CLIP / 60))
    assert detector.stream_minutes(1, 0) == detector.STREAM_MINUTES[0]


def test_keyword_stream_length_follows_the_validation_clips(trained) -> None:
    from kws.data.augment import synthetic_background
    from kws.data.manifest import UNKNOWN, clip_class
    from kws.train.trainer import default_cache, read_config, resolve_examples

    cfg = read_config(trained)
    examples, _, _ = resolve_examples(cfg, Path(cfg.cache_dir or default_cache()))
    val = [e for e in examples if e.split == "validation" and e.path]
    n_kw = sum(e.label in cfg.words for e in val)
    n_other = sum(clip_class(e.label) == UNKNOWN for e in val)
    assert n_kw and n_other
    samples, events = detector.keyword_stream(examples, cfg.words,
                                              synthetic_background(part="heldout"), seed=0)
    assert len(samples) / 16000 / 60 == pytest.approx(detector.stream_minutes(n_kw, n_other),
                                                      abs=1e-3)
    assert events and {lab for *_, lab in events} <= set(cfg.words)


def test_kws_ensemble_calibrates_on_the_averaged_outputs(trained, tmp_path, capsys) -> None:
    """``kws ensemble`` calibrates like ``kws train`` on the first run's held-out audio; an
    ensemble of one run twice has that run's outputs, so it gets that run's detector."""
    twin = tmp_path / "twin"
    shutil.copytree(trained, twin)
    ens = tmp_path / "ens"
    assert main(["ensemble", str(trained), str(twin), "--out", str(ens)]) == 0
    out = capsys.readouterr().out
    assert "an ensemble of 2 runs" in out and "kws: detector: thresholds" in out
    from kws.run import read_detector

    assert read_detector(ens) == read_detector(trained)
    cal = json.loads((ens / "calibration.json").read_text())
    assert cal["negatives"] == json.loads((trained / "calibration.json").read_text())["negatives"]
    # bad input: one line, exit 2, nothing written
    assert main(["ensemble", str(trained), "--out", str(tmp_path / "one")]) == 2
    err = capsys.readouterr().err
    assert "give 2 to 8 RUN folders" in err and len(err.strip().splitlines()) == 1
    assert main(["ensemble", str(trained), str(tmp_path / "nothing"), "--out",
                 str(tmp_path / "bad")]) == 2
    assert "no such model file" in capsys.readouterr().err
    assert main(["ensemble", str(trained), str(twin), "--out", str(tmp_path / "neg"),
                 "--negatives", str(tmp_path / "missing")]) == 2
    assert "--negatives must be a folder" in capsys.readouterr().err
    assert not any((tmp_path / n).exists() for n in ("one", "bad", "neg", ".neg.tmp"))
    assert main(["export", str(ens), "--blob", str(tmp_path / "x.blob")]) == 2
    assert "an ensemble (ensemble.json) has no single model.tflite" in capsys.readouterr().err
    assert main(["firmware", "build", str(ens), "--out", str(tmp_path / "fw.elf"),
                 "--blob-slot"]) == 2
    assert "an ensemble cannot be a blob-slot firmware" in capsys.readouterr().err
    assert main(["export", str(ens), "--out", str(tmp_path / "c")]) == 0
    assert "with 2 members" in capsys.readouterr().out
    assert (tmp_path / "c" / "kws_member1.c").is_file()


def test_held_out_speech_is_perturbed_as_the_runs_training_clips() -> None:
    """Synthetic runs (the ``speakers`` recipe) calibrate on held-out speech heard through
    other speakers, rooms and microphones; recorded datasets and ``--augment basic`` do not."""
    from kws.data.speakers import SpeakerConfig
    from kws.train.trainer import TrainConfig

    assert detector.held_out_speaker(TrainConfig(words=["yes"])) == SpeakerConfig()
    assert detector.held_out_speaker(TrainConfig(words=["yes"], augment="basic")) is None
    assert detector.held_out_speaker(TrainConfig(words=["yes"], data="speech-commands")) is None
    assert detector.held_out_speaker(TrainConfig(words=["yes"], data="speech-commands",
                                                 augment="speakers")) == SpeakerConfig()


def test_keyword_stream_with_speakers_keeps_its_events_and_changes_the_voices(trained) -> None:
    from kws.data.augment import synthetic_background
    from kws.data.speakers import SpeakerConfig
    from kws.train.trainer import default_cache, read_config, resolve_examples

    cfg = read_config(trained)
    examples, _, _ = resolve_examples(cfg, Path(cfg.cache_dir or default_cache()))
    noise = synthetic_background(part="heldout")
    plain, ev = detector.keyword_stream(examples, cfg.words, noise, seed=0)
    spk = SpeakerConfig(rooms=4)
    a, ev_a = detector.keyword_stream(examples, cfg.words, noise, seed=0, speaker=spk)
    b, ev_b = detector.keyword_stream(examples, cfg.words, noise, seed=0, speaker=spk)
    assert ev_a == ev_b and len(a) == len(plain) == len(b)
    assert np.array_equal(a, b)                          # seeded: the same stream again
    assert not np.array_equal(a, plain)
    # the same clips in the same order; their lengths change with the tempo and the room
    assert [lab for *_, lab in ev_a] == [lab for *_, lab in ev]
    assert ev_a[0][0] == ev[0][0]
    changed = sum(abs((e1 - s1) - (e0 - s0)) > 1e-3 for (s0, e0, _), (s1, e1, _)
                  in zip(ev, ev_a))
    assert changed >= len(ev) // 2


def test_heldout_tts_speech_gets_speakers_and_noise_user_audio_does_not(tmp_path,
                                                                       monkeypatch) -> None:
    import kws.data.running_speech as rs
    from kws.data.augment import synthetic_background
    from kws.data.speakers import SpeakerConfig

    t = np.arange(8 * 16000) / 16000
    speech = np.clip(8000 * np.sin(2 * np.pi * 300 * t) * ((t % 0.5) < 0.3), -32768,
                     32767).astype(np.int16)
    calls = []

    def fake_running_speech(**kw):
        calls.append(kw)
        return speech.copy()

    monkeypatch.setattr(rs, "running_speech", fake_running_speech)
    _negatives(tmp_path / "negs", 2)
    kw = dict(words=["yes"], cache=tmp_path, seed=1, negatives=str(tmp_path / "negs"),
              tts_minutes=0.1, negatives_part="all")
    plain = detector.heldout_negatives(**kw)
    spk = SpeakerConfig(rooms=4)
    noise = synthetic_background(part="heldout")
    a = detector.heldout_negatives(**kw, speaker=spk, noise=noise)
    b = detector.heldout_negatives(**kw, speaker=spk, noise=noise)
    assert [n for n, _ in plain][-1] == "TTS running speech"
    assert [n for n, _ in a][-1] == "TTS running speech (speakers and noise)"
    assert np.array_equal(plain[-1][1], speech)
    for (n0, x0), (n1, x1) in zip(plain[:-1], a[:-1]):      # the user's audio: as recorded
        assert n0 == n1 and np.array_equal(x0, x1)
    assert np.array_equal(a[-1][1], b[-1][1]) and not np.array_equal(a[-1][1][:len(speech)],
                                                                     speech[:len(a[-1][1])])
    # the pauses between the bursts now hold noise
    pauses = (t % 0.5 > 0.35) & (t % 0.5 < 0.45)
    assert np.abs(a[-1][1][:len(t)][pauses[:len(a[-1][1])]]).mean() > 0
    assert all(c["seed"] == detector.CALIBRATION_SEED + 1 for c in calls)


def test_recalibration_of_a_synthetic_run_perturbs_its_held_out_speech(trained, tmp_path,
                                                                       monkeypatch) -> None:
    from kws.data.speakers import SpeakerConfig

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    seen = []

    class Cal:
        def summary(self):
            return {}

    monkeypatch.setattr(detector, "calibrate_run", lambda run, **kw: seen.append(kw) or Cal())
    detector.recalibrate(run)
    assert seen[-1]["speaker"] is None                  # recorded speech, basic recipe
    cfg = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**cfg, "augment": "speakers"}))
    detector.recalibrate(run)
    assert seen[-1]["speaker"] == SpeakerConfig()
