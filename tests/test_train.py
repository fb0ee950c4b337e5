"""Training end to end at a tiny scale: run folder, int8 input quantization, resume after a
kill, bad input."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from kws.data.speech_commands import speech_commands_entries
from kws.ensemble import create_ensemble
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.train import trainer
from kws.train.trainer import TrainConfig, check_config, train
from tests.tiny_data import make_tiny_speech_commands

pytest.importorskip("tensorflow")


def tiny_config(data: Path, out: Path, cache: Path, **kw) -> TrainConfig:
    base = dict(words=["yes", "no"], out=str(out), data="speech-commands", data_dir=str(data),
                model="ds-cnn-xs", epochs=2, copies=2, batch_size=16, cache_dir=str(cache),
                unknown_percent=100.0, silence_percent=20.0, calibration_minutes=0.3,
                noise_dir=str(data / "_background_noise_"))
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_speech_commands(tmp_path_factory.mktemp("sc"))


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("run")
    metrics = train(tiny_config(tiny, tmp / "run", tmp / "cache"))
    return tmp / "run", metrics


def test_run_folder(trained) -> None:
    run, metrics = trained
    for name in ("model.keras", "model.tflite", "model_float.tflite", "labels.txt",
                 "settings.json", "metrics.json", "curves.png", "confusion_validation.png"):
        assert (run / name).is_file(), name
    assert any((run / "logs").rglob("*tfevents*"))
    assert (run / "labels.txt").read_text().split() == ["_silence_", "_unknown_", "yes", "no"]
    assert FrontendSettings.from_dict(json.loads((run / "settings.json").read_text())) \
        == FrontendSettings()
    saved = json.loads((run / "metrics.json").read_text())
    for split in ("validation", "test"):
        for kind in ("float", "int8"):
            assert 0.0 <= saved["splits"][split][kind]["accuracy"] <= 1.0
    assert set(saved["seconds"]) >= {"synthesis", "features", "training", "quantization",
                                     "calibration"}
    assert len(saved["history"]["loss"]) == 2
    # the detector was calibrated on held-out audio and written where kws stream reads it
    from kws.run import read_detector

    det = read_detector(run)
    cal = json.loads((run / "calibration.json").read_text())
    assert det.to_dict() == cal["settings"] and cal["target_fa_per_hour"] == 1.0
    assert cal["negative_hours"] > 0 and cal["negatives"] == ["TTS running speech"]
    assert cal["met"] == (cal["fa_per_hour"] <= 1.0)
    assert saved["validation_speech"] == "dataset" and saved["accuracy_real"] is None
    assert "val_accuracy_synthetic" not in saved     # real Speech Commands-style data


def test_accuracy_is_labelled_with_the_speech_it_was_measured_on(trained, tiny,
                                                                  monkeypatch) -> None:
    """Synthetic-only training says that its validation accuracy is on synthetic speech, and
    scores the real recordings it finds (here the tiny folder stands in for them)."""
    run, metrics = trained
    models = {"int8": (run / "model.tflite").read_bytes(),
              "float": (run / "model_float.tflite").read_bytes()}
    classes = metrics["classes"]
    synth = TrainConfig(words=["yes", "no"], data="synth")
    monkeypatch.setattr(trainer, "real_speech_dir", lambda: tiny)
    real = trainer.real_speech_metrics(synth, models, classes, FrontendSettings())
    n = len(speech_commands_entries(tiny))
    assert real["real_speech"]["split"] == "all" and real["real_speech"]["clips"] == n
    assert real["accuracy_real"] == real["real_speech"]["int8"]["accuracy"]
    assert set(real["real_speech"]) >= {"int8", "float", "folder"}
    monkeypatch.setattr(trainer, "real_speech_dir", lambda: None)
    assert trainer.real_speech_metrics(synth, models, classes, FrontendSettings()) == \
        {"accuracy_real": None}
    off = dataclasses.replace(synth, real_eval=None)
    assert trainer.real_speech_metrics(off, models, classes, FrontendSettings()) == \
        {"accuracy_real": None}
    with pytest.raises(KwsError, match="^real_eval: .*no such folder"):
        trainer.real_speech_metrics(dataclasses.replace(synth, real_eval=str(tiny / "nope")),
                                    models, classes, FrontendSettings())
    shown = dict(metrics, validation_speech="synthetic", **real)
    text = trainer.accuracy_summary(shown)
    assert "validation accuracy" in text and "SYNTHETIC speech (TTS voices)" in text
    assert f"real-speech accuracy {real['accuracy_real']:.3f}" in text
    assert "not measured" in trainer.accuracy_summary(dict(shown, real_speech=None))
    assert "SYNTHETIC" not in trainer.accuracy_summary(metrics)


def test_default_noise_is_the_same_on_every_machine(tiny, tmp_path, monkeypatch) -> None:
    """No noise_dir and no _background_noise_ in the data: synthesized noise, whatever sits in
    the shared folder; a folder of recordings only when given."""
    shared = tmp_path / "shared"
    (shared / "audio" / "_background_noise_").mkdir(parents=True)
    import shutil

    shutil.copy(tiny / "_background_noise_" / "white.wav",
                shared / "audio" / "_background_noise_" / "room.wav")
    monkeypatch.setenv("KWS_SHARED", str(shared))
    synth = TrainConfig(words=["yes"], data="synth")
    bank = trainer.noise_bank(synth, None, part="train")
    assert bank.names == aug_names()
    own = trainer.noise_bank(synth, tiny / "_background_noise_", part="train")
    assert own.names == ["white.wav"]
    asked = dataclasses.replace(synth, noise_dir=str(shared / "audio" / "_background_noise_"))
    assert trainer.noise_bank(asked, None, part="heldout").names == ["room.wav"]
    with pytest.raises(KwsError, match="^noise_dir: .*no such folder"):
        trainer.noise_bank(dataclasses.replace(synth, noise_dir=str(tmp_path / "x")), None,
                           part="train")


def aug_names() -> list[str]:
    from kws.data.augment import synthetic_background

    return synthetic_background(seconds=1.0).names


def test_int8_input_quantization_equals_front_end(trained) -> None:
    from kws.runtime.reference import ReferenceInterpreter

    run, _ = trained
    settings = FrontendSettings()
    m = ReferenceInterpreter((run / "model.tflite").read_bytes())
    scale, zp = m.input_details["quantization"][:2]
    assert m.input_dtype == np.int8
    assert np.float32(scale) == np.float32(settings.output_scale)
    assert zp == settings.output_zero_point
    assert np.dtype(m.output_details["dtype"]) == np.int8


@pytest.mark.parametrize("scale,zp", [(0.6, 78), (0.5, -10), (0.25, 100), (1.0 / 3.0, 0)])
def test_input_quantization_pinned_for_other_settings(scale, zp) -> None:
    """The pinning holds for any front-end quantization, not only the default one."""
    from kws.models import build_model
    from kws.train.quantize import check_input_quantization, convert, representative_examples

    settings = FrontendSettings(output_scale=scale, output_zero_point=zp)
    model = build_model("ds-cnn-xs", num_classes=3, settings=settings)
    rng = np.random.default_rng(1)
    q = rng.integers(-20, 20, (40, settings.num_frames, settings.num_outputs)).astype(np.int8)
    tfl = convert(model, representative=representative_examples(q, settings, count=20))
    check_input_quantization(tfl, settings)
    wrong = FrontendSettings(output_scale=scale * 1.01, output_zero_point=zp)
    with pytest.raises(KwsError, match="input quantization"):
        check_input_quantization(tfl, wrong)


def test_resume_after_kill_matches_uninterrupted(tiny, tmp_path, monkeypatch, trained) -> None:
    """Kill the run in its second epoch; --resume ends with the very same weights."""
    cfg = tiny_config(tiny, tmp_path / "run", tmp_path / "cache")
    real_epoch_data = trainer._epoch_data

    def killed(fs, c, epoch, settings):
        if epoch == 1:
            raise KeyboardInterrupt
        return real_epoch_data(fs, c, epoch, settings)

    monkeypatch.setattr(trainer, "_epoch_data", killed)
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1
    assert not (tmp_path / "run" / "model.tflite").exists()
    monkeypatch.setattr(trainer, "_epoch_data", real_epoch_data)
    metrics = train(cfg, resume=True)
    full_run, full_metrics = trained
    assert metrics["history"]["loss"] == pytest.approx(full_metrics["history"]["loss"],
                                                       rel=1e-5)
    import tensorflow as tf

    a = tf.keras.models.load_model(tmp_path / "run" / "model.keras").get_weights()
    b = tf.keras.models.load_model(full_run / "model.keras").get_weights()
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def test_average_epochs_is_the_mean_of_the_last_epochs_across_a_resume(tiny, tmp_path,
                                                                       monkeypatch) -> None:
    """--average-epochs 2 of 3: the run's model is the mean of the weights after epochs 2 and
    3, although the run was killed in epoch 3 and resumed (the running sum is checkpointed)."""
    import tensorflow as tf

    cfg = tiny_config(tiny, tmp_path / "run", tmp_path / "cache", epochs=3, average_epochs=2,
                      calibration_minutes=0.0, real_eval=None)
    saved: list[list[np.ndarray]] = []
    real_save, real_epoch_data = trainer._save_checkpoint, trainer._epoch_data

    def save(model, ckpt, state, average=None):
        saved.append([np.array(w) for w in model.get_weights()])
        real_save(model, ckpt, state, average)

    def killed(fs, c, epoch, settings):
        if epoch == 2:
            raise KeyboardInterrupt
        return real_epoch_data(fs, c, epoch, settings)

    monkeypatch.setattr(trainer, "_save_checkpoint", save)
    monkeypatch.setattr(trainer, "_epoch_data", killed)
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    assert (tmp_path / "run" / "checkpoint" / "average.npz").is_file()   # epoch 2's weights
    monkeypatch.setattr(trainer, "_epoch_data", real_epoch_data)
    metrics = train(cfg, resume=True)
    assert len(saved) == 3 and metrics["history"]["averaged_epochs"] == [2.0]
    final = tf.keras.models.load_model(tmp_path / "run" / "model.keras").get_weights()
    moved = 0
    for w, w2, w3 in zip(final, saved[1], saved[2]):
        if w.dtype.kind == "f":
            np.testing.assert_allclose(w, (w2.astype(np.float64) + w3) / 2, rtol=1e-6,
                                       atol=1e-7)
            moved += int(not np.array_equal(w2, w3))
    assert moved > 0                          # the two epochs' weights differ: a real mean


def test_average_epochs_arguments(tiny, tmp_path) -> None:
    with pytest.raises(KwsError, match="at least 0"):
        train(tiny_config(tiny, tmp_path / "a", tmp_path / "c", average_epochs=-1))
    with pytest.raises(KwsError, match="cannot average"):
        train(tiny_config(tiny, tmp_path / "b", tmp_path / "c", average_epochs=2,
                          checkpoint_choice="fa"))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_resume_with_other_settings_is_refused(tiny, tmp_path, trained) -> None:
    run, _ = trained
    cfg = tiny_config(tiny, run, tmp_path / "cache", model="ds-cnn-s")
    with pytest.raises(KwsError, match="different settings: model"):
        train(cfg, resume=True)


def test_unknown_word_lists_available(tiny, tmp_path) -> None:
    cfg = tiny_config(tiny, tmp_path / "run", tmp_path / "cache", words=["yes", "banana"])
    with pytest.raises(KwsError, match=r"no word\(s\) banana.*available: go, no, up, yes"):
        train(cfg)


def test_too_few_examples(tmp_path) -> None:
    data = make_tiny_speech_commands(tmp_path / "sc", per_word=3)
    cfg = tiny_config(data, tmp_path / "run", tmp_path / "cache")
    with pytest.raises(KwsError, match="too few training examples of 'yes'"):
        train(cfg)


def test_corrupt_files_are_skipped_with_warning(tmp_path, capsys) -> None:
    data = make_tiny_speech_commands(tmp_path / "sc", per_word=12)
    (data / "yes" / "ffff_nohash_0.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    (data / "no" / "fffe_nohash_0.wav").write_bytes(b"")
    cfg = tiny_config(data, tmp_path / "run", tmp_path / "cache", epochs=1)
    metrics = train(cfg)
    err = capsys.readouterr().err
    assert "skipped" in err and "corrupt" in err
    skipped = [Path(p).name for p in metrics["skipped_files"]]
    assert sorted(skipped) == ["fffe_nohash_0.wav", "ffff_nohash_0.wav"]


def test_bad_model_and_words(tiny, tmp_path) -> None:
    with pytest.raises(KwsError, match="unknown; available: ds-cnn-xs"):
        train(tiny_config(tiny, tmp_path / "r", tmp_path / "c", model="resnet"))
    with pytest.raises(KwsError, match="repeated word"):
        train(tiny_config(tiny, tmp_path / "r", tmp_path / "c", words=["yes", "yes"]))


def test_cli_train_parses_and_fails_cleanly(tiny, tmp_path, capsys) -> None:
    import argparse

    from kws.commands import train as train_cmd

    parser = argparse.ArgumentParser()
    train_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["train", "--words", "yes,zebra", "--data", "speech-commands",
                              "--data-dir", str(tiny), "--out", str(tmp_path / "r"),
                              "--cache-dir", str(tmp_path / "c")])
    with pytest.raises(KwsError, match="zebra"):
        args.func(args)
    # the recipe's defaults: stream negatives and 2,000 clips per keyword (TrainConfig alone
    # trains without negatives, on 1,000)
    from kws.train.trainer import RECIPE_NEGATIVE_MINUTES, RECIPE_PER_WORD, TrainConfig

    args = parser.parse_args(["train", "--words", "yes,no"])
    assert args.negative_minutes == RECIPE_NEGATIVE_MINUTES == 30.0
    assert args.per_word == RECIPE_PER_WORD == 2000
    assert TrainConfig(words=["yes"]).per_word == 1000
    assert args.model == TrainConfig(words=["yes"]).model == "tcn-stream-max"
    assert TrainConfig(words=["yes"]).negative_minutes == 0.0
    assert args.word_classes == TrainConfig(words=["yes"]).word_classes == "none"
    assert args.freq_mask is None       # resolved by the data: kws.train.trainer.freq_mask_of
    args = parser.parse_args(["train", "--words", "yes,no", "--data", "speech-commands",
                              "--data-dir", str(tiny), "--out", str(tmp_path / "r2"),
                              "--cache-dir", str(tmp_path / "c"), "--word-classes", "go,stop"])
    with pytest.raises(KwsError, match="no word 'stop'"):
        args.func(args)
    assert not (tmp_path / "r2" / "model.tflite").exists()


def test_spec_mask_bands():
    """spec_mask: one time band and one coefficient band per map, each at most the asked width
    and filled with the map's mean; widths 0 change nothing; the input is left alone."""
    from kws.train.trainer import spec_mask

    q = np.random.default_rng(0).integers(-128, 128, (64, 49, 10)).astype(np.int8)
    keep = q.copy()
    assert np.array_equal(spec_mask(q, rng=np.random.default_rng(1), time_mask=0,
                                    freq_mask=0), q)
    out = spec_mask(q, rng=np.random.default_rng(1), time_mask=8, freq_mask=3)
    assert out.dtype == np.int8 and out.shape == q.shape and np.array_equal(q, keep)
    assert np.array_equal(out, spec_mask(q, rng=np.random.default_rng(1), time_mask=8,
                                         freq_mask=3))
    changed = 0
    for a, b in zip(q, out):
        fill = np.int8(np.rint(a.astype(np.float64).mean()))
        diff = a != b
        assert (b[diff] == fill).all()
        rows = np.flatnonzero((b == fill).all(axis=1))   # masked frames
        cols = np.flatnonzero((b == fill).all(axis=0))   # masked coefficients
        assert len(rows) <= 8 and len(cols) <= 3
        if len(rows):
            assert rows[-1] - rows[0] + 1 == len(rows)     # one contiguous band
        if len(cols):
            assert cols[-1] - cols[0] + 1 == len(cols)
        changed += diff.any()
    assert changed > 48


def test_freq_mask_default_by_data() -> None:
    """freq_mask None (the default) masks up to 2 coefficients for synthetic speech and none
    for recorded datasets; a given width wins; negative widths are refused."""
    from kws.train.features import FeatureSet

    synth = TrainConfig(words=["yes", "no"])
    real = TrainConfig(words=["yes", "no"], data="speech-commands")
    assert synth.freq_mask is None and trainer.freq_mask_of(synth) == trainer.SYNTH_FREQ_MASK == 2
    assert trainer.freq_mask_of(real) == 0
    assert trainer.freq_mask_of(dataclasses.replace(synth, freq_mask=0)) == 0
    assert trainer.freq_mask_of(dataclasses.replace(real, freq_mask=3)) == 3
    st = FrontendSettings()
    x = np.random.default_rng(2).integers(-128, 128, (32, 2, st.num_frames, st.num_outputs)
                                          ).astype(np.int8)
    fs = FeatureSet(x, np.arange(32) % 4, [])
    masked, _ = trainer._epoch_data(fs, synth, 0, st)
    plain, _ = trainer._epoch_data(fs, dataclasses.replace(synth, freq_mask=0), 0, st)
    recorded, _ = trainer._epoch_data(fs, real, 0, st)
    assert np.array_equal(plain, recorded) and not np.array_equal(masked, plain)
    # only whole coefficient bands differ, at most 2 wide
    for a, b in zip(masked[..., 0], plain[..., 0]):
        cols = np.flatnonzero((a != b).any(axis=0))
        assert len(cols) <= 2
    for name in ("freq_mask", "time_mask"):
        with pytest.raises(KwsError, match="at least 0"):
            check_config(dataclasses.replace(synth, **{name: -1}))


def test_negatives_and_a_mining_round(tiny, tmp_path) -> None:
    """Stream negatives join _unknown_; a mining round adds the windows that fire."""
    cfg = tiny_config(tiny, tmp_path / "r", tmp_path / "c", epochs=1, negative_minutes=0.2,
                      mining_rounds=1, mining_minutes=0.2, mining_epochs=1)
    metrics = train(cfg)
    assert {"negatives", "mining", "calibration"} <= set(metrics["seconds"])
    assert len(list((tmp_path / "c" / "negatives").glob("*.npy"))) == 2   # training + pool
    assert len(list((tmp_path / "c" / "running_speech").glob("*.npz"))) >= 2


def test_negative_weight_scales_only_the_long_audio_windows(tiny, tmp_path) -> None:
    """Per-example weights follow _epoch_data's order: the clips' balanced class weight; the
    long-audio windows (marked here by their feature values) a group of their own, times the
    negative weight."""
    from kws.train.features import FeatureSet

    s = FrontendSettings()
    n_clips, n_neg = 7, 3
    x = np.full((n_clips + n_neg, 2, s.num_frames, s.num_outputs), -100, np.int8)
    x[n_clips:] = 100
    y = np.array([0, 1, 2, 2, 3, 3, 1, 1, 1, 1])
    counts = np.bincount(y[:n_clips], minlength=4)          # clips: 1, 2, 2, 2
    fs = FeatureSet(x, y, [])
    data = trainer.TrainingData(["_silence_", "_unknown_", "yes", "no"], fs, {}, counts,
                                stream_negatives=n_neg)
    cfg = tiny_config(tiny, tmp_path / "r", tmp_path / "c", negative_weight=4.0)
    mean = counts.mean()                                    # 7 / 4
    for epoch in range(3):
        xe, ye = trainer._epoch_data(fs, cfg, epoch, s)
        sw = trainer._sample_weights(data, cfg, epoch)
        is_neg = xe.reshape(len(xe), -1).mean(axis=1) > 0
        assert is_neg.sum() == n_neg
        expected = np.where(is_neg, 4.0 * mean / n_neg,
                            np.array([mean / counts[int(c)] for c in ye]))
        assert np.allclose(sw, expected)


def test_stream_windows_do_not_dilute_the_unknown_clips() -> None:
    """Thousands of long-audio windows labelled _unknown_ leave the real _unknown_ clips the
    weight they have without them (counted inside the balance, 9,000 windows cut it ~10x and
    real clip accuracy fell 0.90 -> 0.78), and the windows together weigh negative_weight
    classes."""
    rng = np.random.default_rng(0)
    clips = rng.permutation(np.repeat([0, 1, 2, 3], [390, 1092, 787, 773]))
    y = np.concatenate([clips, np.full(9138, 1)])
    without = trainer.example_weights(clips, stream_negatives=0, balance=1.0,
                                      negative_weight=1.0)
    for nw in (0.25, 1.0, 3.0):
        w = trainer.example_weights(y, stream_negatives=9138, balance=1.0, negative_weight=nw)
        assert np.allclose(w[:len(clips)], without)
        per_class = np.bincount(clips, weights=w[:len(clips)])
        assert np.allclose(per_class, per_class[0])                # balanced clips
        assert np.isclose(w[len(clips):].sum(), nw * per_class[0])
    flat = trainer.example_weights(y, stream_negatives=9138, balance=0.0, negative_weight=0.5)
    assert np.allclose(flat, np.r_[np.ones(len(clips)), np.full(9138, 0.5)])
    with pytest.raises(KwsError, match="stream_negatives"):
        trainer.example_weights(clips, stream_negatives=len(clips) + 1, balance=1.0,
                                negative_weight=1.0)


@pytest.mark.slow
def test_checkpoint_choice_by_false_accepts(tiny, tmp_path) -> None:
    """--checkpoint-choice fa scores the second half's epochs and keeps the chosen one."""
    import tensorflow as tf

    cfg = tiny_config(tiny, tmp_path / "r", tmp_path / "c", epochs=3, negative_minutes=0.2,
                      negative_weight=2.0, checkpoint_choice="fa", target_fa_per_hour=50.0)
    metrics = train(cfg)
    state = json.loads((tmp_path / "r" / "checkpoint" / "state.json").read_text())
    assert [s["epoch"] for s in state["selection"]] == [1, 2]        # the second half
    chosen = state["chosen"]["epoch"]
    assert metrics["history"]["chosen_epoch"] == [chosen + 1]
    best = tf.keras.models.load_model(tmp_path / "r" / "model.keras")
    ref = tf.keras.models.clone_model(best)
    ref.load_weights(tmp_path / "r" / "best.weights.h5")
    for a, b in zip(best.get_weights(), ref.get_weights()):
        assert np.array_equal(a, b)
    with pytest.raises(KwsError, match="last or fa"):
        train(dataclasses.replace(cfg, out=str(tmp_path / "r2"), checkpoint_choice="best"))


def test_distillation_from_a_teacher_ensemble(trained, tiny, tmp_path) -> None:
    """A student learns from soft targets of teacher runs (here the same run twice: an
    ensemble), through a mining round too; a teacher with other classes is refused."""
    from kws.train import distill
    from kws.train.features import FeatureSet

    run, metrics = trained
    classes = metrics["classes"]
    settings = FrontendSettings()
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=(6, 2, settings.num_frames, settings.num_outputs),
                     dtype=np.int8)
    fs = FeatureSet(x=x, y=np.array([0, 1, 2, 3, 2, 1]), skipped=[])
    soft = distill.distilled(fs, [run, run], classes=classes, settings=settings, weight=0.5,
                             temperature=1.0).soft
    probs = distill.teacher_probs(distill.load_teachers([run], classes=classes,
                                                        settings=settings), x, settings)
    assert soft.shape == (6, 2, len(classes)) and probs.shape == soft.shape
    assert np.allclose(soft, distill.mix_targets(fs.y, probs, weight=0.5, temperature=1.0),
                       atol=1e-5)
    with pytest.raises(KwsError, match="classes"):
        distill.load_teachers([run], classes=list(reversed(classes)), settings=settings)
    # a kws ensemble folder stands for its members (their Keras models copied in), in order
    ens = create_ensemble([run, run], tmp_path / "ens")
    members = [str(ens / "members" / "0"), str(ens / "members" / "1")]
    assert distill.teacher_runs(f"{ens}") == members
    assert distill.teacher_runs(f"{run},{ens}") == [str(run)] + members
    assert np.array_equal(distill.distilled(fs, distill.teacher_runs(str(ens)), classes=classes,
                                            settings=settings, weight=0.5,
                                            temperature=1.0).soft, soft)
    cfg = tiny_config(tiny, tmp_path / "r", tmp_path / "c", epochs=1, teacher=str(ens),
                      teacher_weight=0.7, mining_rounds=1, mining_minutes=0.2,
                      mining_epochs=1, calibration_minutes=0.0)
    student = train(cfg)
    assert student["splits"]["validation"]["int8"]["count"] > 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["teacher"] == str(ens)
    # a teacher without its Keras model is refused before any feature is computed
    (ens / "members" / "1" / "model.keras").unlink()
    for bad in (str(ens), str(tmp_path / "no-such-run")):
        with pytest.raises(KwsError, match="teacher model not found"):
            check_config(dataclasses.replace(cfg, teacher=bad))


def test_label_smoothing_trains_and_resumes(tiny, tmp_path) -> None:
    """The smoothed loss is the model's, and a checkpoint with it resumes."""
    from kws.train.losses import SmoothedSparseCrossentropy

    cfg = tiny_config(tiny, tmp_path / "r", tmp_path / "c", epochs=1, label_smoothing=0.2,
                      calibration_minutes=0.0, real_eval=None)
    train(cfg)
    model, state = trainer._load_checkpoint(tmp_path / "r" / "checkpoint")
    assert state["epoch"] == 1
    assert isinstance(model.loss, SmoothedSparseCrossentropy) and model.loss.smoothing == 0.2
    train(dataclasses.replace(cfg, epochs=2), resume=True)
    assert json.loads((tmp_path / "r" / "checkpoint" / "state.json").read_text())["epoch"] == 2


def test_word_classes_train_as_classes_and_count_as_unknown(tiny, tmp_path) -> None:
    """--word-classes go: go is an output class of its own (after the keywords), which the
    calibrated detector disables (256) and every clip report counts as _unknown_; up stays
    _unknown_."""
    from kws.data.manifest import UNKNOWN
    from kws.run import read_detector

    cfg = tiny_config(tiny, tmp_path / "r", tmp_path / "c", epochs=1, word_classes="go",
                      negative_minutes=0.2, unknown_percent=1000.0)     # every up clip
    entries = speech_commands_entries(tiny)
    metrics = train(cfg)
    run = tmp_path / "r"
    labels = (run / "labels.txt").read_text().split()
    assert labels == ["_silence_", "_unknown_", "yes", "no", "_word_go"]
    det = read_detector(run)
    assert det.labels == tuple(labels)
    assert dict(zip(det.labels, det.thresholds))["_word_go"] == 256
    assert all(t <= 255 for lab, t in zip(det.labels, det.thresholds) if lab in ("yes", "no"))
    assert metrics["classes"] == labels
    for split in ("validation", "test"):
        rep = metrics["splits"][split]["int8"]
        assert rep["classes"] == ["_silence_", "_unknown_", "yes", "no"]
        n = {w: sum(e.label == w and e.split == split for e in entries) for w in ("go", "up")}
        go = rep["word_classes"]["_word_go"]
        assert go["support"] == n["go"] > 0 and sum(go["predicted"].values()) == n["go"]
        # the go clips are _unknown_ clips of the merged report, with the up clips
        assert rep["per_class"][UNKNOWN]["support"] == n["go"] + n["up"]
        assert np.asarray(rep["confusion"]).sum() == rep["count"]
    # kws eval / real-speech accuracy and the benchmarks' clip figure score the go clips
    # as their word class, counted as _unknown_
    from kws.bench.accuracy import score
    from kws.evaluate import clip_features, real_speech_accuracy
    from kws.run import read_float_model, read_model

    models = {"int8": read_model(run), "float": read_float_model(run)}
    real = real_speech_accuracy(tiny, models, labels, FrontendSettings(), split="test")
    n_test = {w: sum(e.label == w and e.split == "test" for e in entries)
              for w in ("yes", "no", "go", "up")}
    assert real["int8"]["classes"] == labels[:4] and real["clips"] == sum(n_test.values())
    assert real["int8"]["per_class"][UNKNOWN]["support"] == n_test["go"] + n_test["up"]
    assert real["int8"]["word_classes"]["_word_go"]["support"] == n_test["go"]
    words = [e.label for e in entries if e.split == "test"]
    feats, _, _ = clip_features([(tiny / e.path, "x") for e in entries if e.split == "test"],
                                FrontendSettings())
    bench = score(run, feats, words, FrontendSettings())
    assert bench["int8"]["confusion"] == real["int8"]["confusion"]
    assert bench["int8"]["word_classes"] == real["int8"]["word_classes"]
    assert bench["int8"]["other_words"]["go"] == real["int8"]["word_classes"]["_word_go"]
    assert bench["int8"]["other_words"]["up"]["support"] == n_test["up"]


def test_word_classes_keep_the_unknown_weight(tiny) -> None:
    """The class balance counts word classes with _unknown_: the same clips weigh the same
    whether labelled _unknown_ or as word classes."""
    from kws.metrics import clip_classes

    y_merged = np.array([0, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3])
    y_words = np.array([0, 1, 1, 4, 4, 5, 5, 2, 2, 3, 3, 3])
    classes = ["_silence_", "_unknown_", "yes", "no", "_word_go", "_word_up"]
    plain = trainer.example_weights(y_merged, stream_negatives=2, balance=1.0,
                                    negative_weight=1.0)
    grouped = trainer.example_weights(y_words, stream_negatives=2, balance=1.0,
                                      negative_weight=1.0, groups=clip_classes(classes)[1])
    assert np.allclose(plain, grouped)
    ungrouped = trainer.example_weights(y_words, stream_negatives=2, balance=1.0,
                                        negative_weight=1.0)
    assert not np.allclose(plain, ungrouped)
    # the run's weights follow --word-class-balance (unknown: grouped; own: each its class)
    from kws.train.features import FeatureSet

    st = FrontendSettings()
    x = np.zeros((len(y_words), 2, st.num_frames, st.num_outputs), np.int8)
    data = trainer.TrainingData(classes, FeatureSet(x, y_words, []), {},
                                np.bincount(y_words[:-2], minlength=6), stream_negatives=2)
    for mode, expected in (("unknown", grouped), ("own", ungrouped)):
        cfg = TrainConfig(words=["yes", "no"], word_class_balance=mode)
        assert np.allclose(np.sort(trainer._sample_weights(data, cfg, 0)), np.sort(expected))
    with pytest.raises(KwsError, match="unknown or own"):
        trainer.check_config(TrainConfig(words=["yes"], word_class_balance="even"))


def test_word_classes_argument(tiny) -> None:
    from kws.train.data import class_names, dataset_entries, select_examples, word_class_words

    entries = dataset_entries(tiny)
    assert word_class_words("none", entries, ["yes"]) == []
    assert word_class_words("all", entries, ["yes"]) == ["go", "no", "up"]
    assert word_class_words("up,go", entries, ["yes", "no"]) == ["go", "up"]
    assert class_names(["yes", "no"], ["go", "up"])[4:] == ["_word_go", "_word_up"]
    with pytest.raises(KwsError, match="33 classes.*at most 32"):
        class_names(["yes", "no"], [f"w{i}" for i in range(29)])
    for bad, msg in (("yes", "is a keyword"), ("stop", "no word 'stop'.*go, up"),
                     ("go,go", "repeated")):
        with pytest.raises(KwsError, match=msg):
            word_class_words(bad, entries, ["yes", "no"])
    with pytest.raises(KwsError, match="no words besides"):
        word_class_words("all", [e for e in entries if e.label in ("yes", "no")], ["yes", "no"])
    ex = select_examples(entries, tiny, ["yes", "no"], unknown_percent=1000.0,
                         word_classes=["go"])
    labels = {e.label for e in ex}
    assert "_word_go" in labels and "go" not in labels
    go_files = {e.path for e in ex if e.label == "_word_go"}
    assert len(go_files) == 24                                   # every go clip, each once
    assert not go_files & {e.path for e in ex if e.label == "_unknown_"}
