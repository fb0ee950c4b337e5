"""``kws eval`` on clips and on a stream, the feature cache, the speaker-hash split and the
metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from kws.audio import save_wav
from kws.data.augment import AugmentConfig, NoiseBank
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.metrics import format_report, report
from kws.train.data import Example
from kws.train.features import split_features
from tests.tiny_data import make_tiny_speech_commands, word_clip

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    from kws.train.trainer import TrainConfig, train

    tmp = tmp_path_factory.mktemp("ev")
    data = make_tiny_speech_commands(tmp / "sc", per_word=18)
    train(TrainConfig(words=["yes", "no"], out=str(tmp / "run"), data="speech-commands",
                      data_dir=str(data), model="ds-cnn-xs", epochs=1, copies=1,
                      calibration_minutes=0.3,
                      cache_dir=str(tmp / "cache"), noise_dir=str(data / "_background_noise_")))
    return tmp / "run", data


def test_eval_clips_folder_labels(run, tmp_path) -> None:
    from kws.evaluate import evaluate_clips

    model, data = run
    out = evaluate_clips(model / "model.tflite", data, json_out=tmp_path / "e.json",
                         png_out=tmp_path / "c.png")
    saved = json.loads((tmp_path / "e.json").read_text())
    assert (tmp_path / "c.png").stat().st_size > 1000
    for kind in ("int8", "float"):
        rep = saved[kind]
        # 4 words x 18 clips, plus the 4 s background file cut into four 1 s silences
        assert rep["count"] == 4 * 18 + 4
        sup = {c: m["support"] for c, m in rep["per_class"].items()}
        assert sup == {"_silence_": 4, "_unknown_": 36, "yes": 18, "no": 18}
    assert out["int8"]["confusion"] == saved["int8"]["confusion"]


def test_eval_micro_interpreter_matches_litert(run, tmp_path) -> None:
    """Both reference interpreters give the same int8 outputs."""
    pytest.importorskip("tflite_micro")
    from kws.runtime.reference import ReferenceInterpreter

    model, _ = run
    blob = (model / "model.tflite").read_bytes()
    s = FrontendSettings()
    q = np.random.default_rng(3).integers(-128, 128, (12, s.num_frames, s.num_outputs),
                                          dtype=np.int64).astype(np.int8)
    a = ReferenceInterpreter(blob, backend="litert").predict_raw(q)
    b = ReferenceInterpreter(blob, backend="micro").predict_raw(q)
    np.testing.assert_array_equal(a, b)


def test_eval_labels_csv_and_bad_input(run, tmp_path) -> None:
    from kws.evaluate import evaluate_clips

    model, data = run
    wavs = tmp_path / "w"
    rng = np.random.default_rng(5)
    rows = ["path,label"]
    for i in range(6):
        save_wav(wavs / f"c{i}.wav", word_clip("yes" if i % 2 else "no", rng))
        rows.append(f"c{i}.wav,{'yes' if i % 2 else 'no'}")
    (wavs / "broken.wav").write_bytes(b"RIFF0000WAVEfmt ")
    rows.append("broken.wav,yes")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    out = evaluate_clips(model / "model.tflite", wavs, labels_csv=tmp_path / "labels.csv",
                         png_out=tmp_path / "c.png")
    assert out["int8"]["count"] == 6
    assert [Path(p).name for p in out["skipped"]] == ["broken.wav"]
    with pytest.raises(KwsError, match="no such model file"):
        evaluate_clips(tmp_path / "nope.tflite", wavs)
    with pytest.raises(KwsError, match="no such folder"):
        evaluate_clips(model / "model.tflite", tmp_path / "missing")


def test_eval_stream(run, tmp_path) -> None:
    from kws.data.augment import NoiseBank as DataNoiseBank
    from kws.data.labelled_stream import make_stream, write_events
    from kws.evaluate import evaluate_detection

    model, data = run
    rng = np.random.default_rng(9)
    src = tmp_path / "clips"                       # a folder of word sub-folders
    for i, w in enumerate(("yes", "no", "up", "go") * 5):
        save_wav(src / w / f"c{i:02d}.wav", word_clip(w, rng))
    bank = DataNoiseBank.from_folder(data / "_background_noise_", part="all")
    samples, events = make_stream(source=src, words=["yes", "no"], minutes=1.0, seed=1,
                                  noise=bank, distractor_prob=0.5, gap_s=(2.0, 5.0),
                                  snr_db=(5.0, 30.0), noise_prob=1.0)
    assert len(samples) == 60 * 16000 and events
    assert all(e.label in ("yes", "no") and e.time_ms < e.end_ms for e in events)
    save_wav(tmp_path / "s.wav", samples)
    write_events(tmp_path / "ev.csv", events)
    neg = tmp_path / "neg"
    save_wav(neg / "a.wav", samples[: 20 * 16000])
    save_wav(neg / "sub" / "b.wav", samples[20 * 16000: 50 * 16000])
    save_wav(neg / "short.wav", samples[:8000])         # shorter than a window: 0 inferences
    out = evaluate_detection(model, stream=tmp_path / "s.wav", events_csv=tmp_path / "ev.csv",
                             negatives=neg, json_out=tmp_path / "r.json",
                             png_out=tmp_path / "det.png", threshold=150, engine="tflm")
    assert out["events"] == len(events) and out["negative_files"] == 3
    assert 0.0 <= out["miss_rate"] <= 1.0 and out["fa_per_hour"] >= 0.0
    # the detections equal the streaming simulation's (the firmware's Python twin)
    from kws.scoring import keyword_free_seconds, match
    from kws.simulate import detector_settings_for, load_run_model, simulate, tflm_model_fn

    m = load_run_model(model)
    det = detector_settings_for(m, threshold=150)
    fn = tflm_model_fn(m, workers=1, engine="tflm")
    from kws.audio import load_audio

    fas, neg_s = 0, 0.0
    for f in (neg / "a.wav", neg / "sub" / "b.wav", neg / "short.wav"):
        x = load_audio(f)
        fas += len(simulate(x, frontend=m.frontend, detector=det, model_fn=fn,
                            output_zero_point=m.output_zero_point))
        neg_s += len(x) / 16000
    found = simulate(samples, frontend=m.frontend, detector=det, model_fn=fn,
                     output_zero_point=m.output_zero_point)
    ev = [(e.time_ms / 1000, e.end_ms / 1000, e.label) for e in events]
    hand = match([(d.time_ms / 1000, d.label) for d in found], ev)
    assert out["false_accepts"] == hand["false_accepts"] + fas
    assert out["misses"] == hand["misses"]
    assert out["negative_hours"] * 3600 == pytest.approx(keyword_free_seconds(ev, 60.0) + neg_s)
    det_curve = out["det"]
    assert [p["threshold"] for p in det_curve] == list(range(256))
    # threshold 0 fires whenever the refractory time allows; the highest threshold rarely
    assert det_curve[0]["miss_rate"] <= det_curve[-1]["miss_rate"]
    assert det_curve[0]["false_accepts"] >= det_curve[-1]["false_accepts"]
    assert (tmp_path / "det.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "det.json").read_text())
    assert saved["det"] == det_curve and "MLPerf" in saved["matching_rule"]
    with pytest.raises(KwsError, match="no such folder of negative"):
        evaluate_detection(model, negatives=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(KwsError, match="no .wav or .flac"):
        evaluate_detection(model, negatives=tmp_path / "empty")


def test_feature_cache_hits_and_is_deterministic(tmp_path) -> None:
    data = make_tiny_speech_commands(tmp_path / "sc", per_word=4)
    exs = [Example(str(p), p.parent.name, "train") for p in sorted(data.rglob("*_nohash_*"))]
    exs.append(Example("", "_silence_", "train"))
    classes = ["_silence_", "_unknown_", "yes", "no", "up", "go"]
    noise = NoiseBank.from_files(NoiseBank.find(data / "_background_noise_"))
    kw = dict(settings=FrontendSettings(), copies=3, augment=AugmentConfig(), noise=noise,
              seed=4, workers=1)
    a = split_features(exs, classes, cache_dir=tmp_path / "c1", **kw)
    files = sorted((tmp_path / "c1").rglob("*.npy"))
    assert len(files) == len(exs)
    assert not list((tmp_path / "c1").rglob("*.tmp"))
    stamp = [f.stat().st_mtime_ns for f in files]
    time.sleep(0.01)
    b = split_features(exs, classes, cache_dir=tmp_path / "c1", **kw)
    assert [f.stat().st_mtime_ns for f in files] == stamp          # served from the cache
    np.testing.assert_array_equal(a.x, b.x)
    c = split_features(exs, classes, cache_dir=tmp_path / "c2", **{**kw, "workers": 2})
    np.testing.assert_array_equal(a.x, c.x)                         # same without the cache
    assert a.x.shape == (len(exs), 3, 49, 10) and a.x.dtype == np.int8
    assert not np.array_equal(a.x[:, 0], a.x[:, 1])                 # copies differ
    d = split_features(exs, classes, cache_dir=tmp_path / "c1", **{**kw, "seed": 5})
    assert not np.array_equal(a.x, d.x)                             # the seed is in the key


def test_report_balanced_accuracy() -> None:
    rep = report(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]), ["a", "b", "c"])
    assert rep["accuracy"] == 0.75
    assert rep["balanced_accuracy"] == pytest.approx((2 / 3 + 1) / 2)
    assert rep["per_class"]["c"]["recall"] is None


def test_report_counts_word_classes_as_unknown() -> None:
    """Word classes are _unknown_ in every figure (truth and prediction); where their clips
    went is listed per word class."""
    classes = ["_silence_", "_unknown_", "yes", "no", "_word_go", "_word_down"]
    y = np.array([0, 1, 2, 3, 4, 4, 4, 4, 5, 5])
    p = np.array([0, 4, 2, 2, 4, 1, 3, 5, 5, 2])    # _unknown_ -> go: right; go -> no: wrong
    rep = report(y, p, classes)
    same = report(np.array([0, 1, 2, 3, 1, 1, 1, 1, 1, 1]),
                  np.array([0, 1, 2, 2, 1, 1, 3, 1, 1, 2]), classes[:4])
    assert rep["classes"] == classes[:4]
    for key in ("count", "accuracy", "balanced_accuracy", "per_class", "confusion"):
        assert rep[key] == same[key], key
    assert rep["accuracy"] == 0.7
    assert rep["word_classes"] == {
        "_word_go": {"support": 4, "predicted": {"_unknown_": 3, "no": 1}},
        "_word_down": {"support": 2, "predicted": {"_unknown_": 1, "yes": 1}}}
    assert same["word_classes"] == {}
    assert "_word_go (4 clips, counted as _unknown_) -> _unknown_ 3, no 1" in format_report(rep)
    # given each clip's word, other words are listed with or without word classes
    words = ["_silence_", "up", "yes", "no", "go", "go", "go", "go", "down", "down"]
    with_words = report(y, p, classes, words=words)
    assert with_words["other_words"] == {
        "up": {"support": 1, "predicted": {"_unknown_": 1}},
        "go": rep["word_classes"]["_word_go"], "down": rep["word_classes"]["_word_down"]}
    plain = report(np.array([0, 1, 2, 3, 1, 1, 1, 1, 1, 1]),
                   np.array([0, 1, 2, 2, 1, 1, 3, 1, 1, 2]), classes[:4], words=words)
    assert plain["other_words"] == with_words["other_words"] and plain["word_classes"] == {}
    with pytest.raises(KwsError, match="3 words for 10 clips"):
        report(y, p, classes, words=words[:3])


def test_clips_of_other_words_are_scored_as_their_word_class() -> None:
    from kws.data.manifest import model_class

    classes = ["_silence_", "_unknown_", "yes", "_word_go"]
    assert [model_class(w, classes) for w in ("yes", "go", "up", "_silence_")] == [
        "yes", "_word_go", "_unknown_", "_silence_"]
    assert model_class("go", ["_silence_", "_unknown_", "yes"]) == "_unknown_"


def test_eval_folders_label_other_words_as_their_word_class(tmp_path) -> None:
    """kws eval's folder labels: a word the model has as a word class is that class (scored
    as _unknown_), another word _unknown_; without _unknown_ an unknown word is an error."""
    from kws.evaluate import labelled_files

    for w in ("yes", "go", "up", "_background_noise_"):
        save_wav(tmp_path / w / "a.wav", np.zeros(1600, np.int16))
    classes = ["_silence_", "_unknown_", "yes", "_word_go"]
    got = {p.parent.name: lab for p, lab in labelled_files(tmp_path, classes)}
    assert got == {"yes": "yes", "go": "_word_go", "up": "_unknown_",
                   "_background_noise_": "_silence_"}
    with pytest.raises(KwsError, match="'up' is not one of the model's classes"):
        labelled_files(tmp_path, ["_silence_", "yes", "_word_go"])


def test_scored_joined_pools_recordings_in_order() -> None:
    from kws.evaluate import Scored

    q = np.zeros((2, 3), np.int8)
    t = np.array([0.0, 20.0])
    a = Scored([(q, t)], [[(0.0, 0.5, "yes")]], [10.0], output_zero_point=-128, names=["s"])
    b = Scored([(q + 1, t)], [None], [20.0], output_zero_point=-128, names=["n"])
    ab = a.joined(b)
    assert ab.names == ["s", "n"] and ab.durations == [10.0, 20.0]
    assert ab.events == [[(0.0, 0.5, "yes")], None] and ab.outputs[1][0][0, 0] == 1
    with pytest.raises(KwsError, match="zero points"):
        a.joined(Scored([(q, t)], [None], [1.0], output_zero_point=0))
