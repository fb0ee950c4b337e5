"""``kws train``: data, cached features, DS-CNN training with per-epoch checkpoints, int8
quantization, and a run folder.

RUN/ holds ``model.keras``, ``model.tflite`` (int8 in and out), ``model_float.tflite``,
``labels.txt``, ``settings.json`` (the front end's :meth:`FrontendSettings.to_dict`),
``metrics.json``, ``logs/`` (TensorBoard), ``curves.png`` and ``checkpoint/`` (the model and
optimizer after the last finished epoch, plus the history). ``resume=True`` continues after the
last checkpoint. Every random choice derives from the seed and the epoch (the copy of each clip
shown, the shuffle, dropout), so a resumed run repeats exactly what the killed one would have
done.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from tqdm import tqdm

from kws.data.augment import NoiseBank, augment_preset, synthetic_background
from kws.data.manifest import BACKGROUND, UNKNOWN
from kws.data.speech_commands import speech_commands_entries
from kws.errors import KwsError
from kws.fileio import write_text_atomic
from kws.frontend.settings import FrontendSettings
from kws.metrics import clip_classes, format_report, plot_confusion, report
from kws.models import MODELS, build_model, dequantize_features
from kws.paths import real_speech_dir
from kws.run import write_metrics, write_run
from kws.train.data import (
    Example,
    class_names,
    dataset_entries,
    select_examples,
    word_class_words,
    word_classes_of,
)
from kws.train.features import FeatureSet, split_features


def default_cache() -> Path:
    """The cache root: ``$KWS_CACHE``, else ``~/.cache/kws``."""
    return Path(os.environ.get("KWS_CACHE") or Path.home() / ".cache" / "kws")


#: Minutes of keyword-free long audio (TTS running speech, babble, confusable words) that
#: ``kws train`` and ``kws demo`` add as stream negatives by default (``--negative-minutes``):
#: measured on real speech streams for both families, it cuts the misses at every false-accept
#: budget. :class:`TrainConfig` itself defaults to none, so library callers (the architecture
#: search's trials, tests) train as they did.
RECIPE_NEGATIVE_MINUTES = 30.0
#: Synthetic clips per keyword (and as many ``_unknown_`` clips per keyword) that ``kws train``
#: and ``kws demo`` synthesize by default (``--per-word``): 2,000 against 1,000 missed fewer
#: real keywords at every false-accept budget on average over three seeds (README, "The
#: synthetic corpus's engine mix"), for more synthesis and feature time from a cold cache.
#: :class:`TrainConfig` keeps 1,000 for library callers, as above.
RECIPE_PER_WORD = 2000


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on (saved in RUN/config.json).

    ``data`` is ``synth`` (the offline TTS corpus, the default), ``speech-commands`` (with
    ``data_dir`` a Speech Commands folder) or a dataset folder with a manifest.csv.
    ``balance`` weights each class's loss by ``(mean count / class count) ** balance`` (0: no
    weighting, 1: fully balanced classes).
    ``noise_dir``: background noise for augmentation (see :func:`noise_bank`; by default the
    dataset's own, else synthesized noise that is the same on every machine).
    ``real_eval``: a folder of real recordings (Speech Commands layout) to score the trained
    models on (:func:`kws.evaluate.real_speech_accuracy`); ``"auto"``: with ``data="synth"``,
    :func:`kws.paths.real_speech_dir` when there is one; None: no real-speech figure.
    ``augment``: the augmentation recipe (see :func:`augment_name`). ``teacher``: trained RUN
    folders (comma-separated: an ensemble; a ``kws ensemble`` folder for its members) or
    ``openwakeword`` (a pretrained embedding) whose
    outputs are mixed into the targets with weight ``teacher_weight``
    (:mod:`kws.train.distill`).
    ``time_mask`` / ``freq_mask``: SpecAugment-style masking of the int8 feature maps shown
    each epoch: one band of uniform 0..``time_mask`` frames and one of 0..``freq_mask``
    coefficients per example is set to that map's mean (0: off; see :func:`spec_mask`);
    ``freq_mask`` None: :func:`freq_mask_of` (2 for synthetic speech, else 0).
    ``negative_weight``: loss weight of the long-audio negative windows (together, outside
    the class balance) relative to one balanced class (:func:`example_weights`).
    ``checkpoint_choice``: ``last`` keeps the last epoch; ``fa`` the epoch of the second half
    with the best validation recall among those whose false accepts per hour on held-out
    negative audio meet ``target_fa_per_hour`` (:mod:`kws.train.select`).
    ``prune``: after training, remove this fraction of the channels of every layer
    (:mod:`kws.train.prune`) and fine-tune ``prune_epochs`` epochs (0: no pruning).
    ``qat``: end with ``qat_epochs`` epochs of quantization-aware training (:mod:`kws.train.qat`).
    ``label_smoothing``: share of each clip's target spread over all classes
    (:class:`kws.train.losses.SmoothedSparseCrossentropy`; 0: none; not with a teacher).
    ``word_classes``: ``none``, ``all`` or comma-separated other words of the dataset trained
    as output classes of their own (:func:`kws.train.data.word_class_words`); the detector
    never reports them, clip metrics count them as ``_unknown_``. ``word_class_balance``:
    ``unknown`` (they weigh together with ``_unknown_`` as one class) or ``own`` (each weighs
    as a class of its own, like a keyword; :func:`example_weights`).
    ``average_epochs``: the trained model is the mean of the weights after each of the last
    this many epochs (:mod:`kws.train.average`; 0: the last epoch's weights).
    """

    words: list[str]
    out: str = "run"
    data: str = "synth"
    data_dir: str | None = None
    model: str = "tcn-stream-max"  # streamable: one step per 20 ms hop on the device
    epochs: int = 25
    batch_size: int = 64
    learning_rate: float = 2e-3
    copies: int = 4
    per_word: int = 1000
    unknown_percent: float = 70.0
    silence_percent: float = 25.0
    seed: int = 0
    cache_dir: str | None = None
    noise_dir: str | None = None
    extra_unknown: str | None = None
    balance: float = 1.0
    time_mask: int = 0
    freq_mask: int | None = None
    real_eval: str | None = "auto"
    target_fa_per_hour: float = 1.0
    negatives: str | None = None
    calibration_minutes: float = 10.0
    negative_minutes: float = 0.0
    mining_rounds: int = 0
    mining_minutes: float = 20.0
    mining_epochs: int = 3
    negative_weight: float = 1.0
    checkpoint_choice: str = "last"
    augment: str = "auto"
    teacher: str | None = None
    teacher_weight: float = 0.5
    prune: float = 0.0
    prune_epochs: int = 5
    qat: bool = False
    qat_epochs: int = 5
    label_smoothing: float = 0.0
    word_classes: str = "none"
    word_class_balance: str = "unknown"
    average_epochs: int = 0


def augment_name(cfg: TrainConfig) -> str:
    """The augmentation recipe of a run (:data:`kws.data.augment.AUGMENT_PRESETS`): ``auto``
    is ``speakers`` for synthetic speech (few TTS voices) and ``basic`` for recorded
    datasets."""
    if cfg.augment != "auto":
        return cfg.augment
    return "speakers" if cfg.data == "synth" else "basic"


#: ``freq_mask`` of synthetic-speech runs when none is given: with frequency masks up to 2
#: coefficients wide the synthetic default missed fewer real keywords at 5 false accepts per
#: hour on each of five seeds and at 10 on four (means 0.490 / 0.426 against 0.576 / 0.479),
#: level at 2 and 50 and in clip accuracy (README, "measured in session 14"); time masks teach
#: it to accept the vowel that "down" and "go" share with "no".
SYNTH_FREQ_MASK = 2


def freq_mask_of(cfg: TrainConfig) -> int:
    """The widest frequency mask of a run: ``cfg.freq_mask``, or when None
    :data:`SYNTH_FREQ_MASK` for synthetic speech and 0 (off) for recorded datasets."""
    if cfg.freq_mask is not None:
        return cfg.freq_mask
    return SYNTH_FREQ_MASK if cfg.data == "synth" else 0


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def resolve_examples(cfg: TrainConfig, cache: Path) -> tuple[list[Example], Path | None, float]:
    """The examples of every split, the dataset's background-noise folder, synthesis seconds."""
    t0 = time.monotonic()
    synth_s = 0.0
    words = cfg.words
    if cfg.data == "synth":
        from kws.data.synth_default import build_synth_corpus

        key = "-".join(words) + f"-{cfg.per_word}-{cfg.seed}"
        root = build_synth_corpus(words, cache / "synth" / key, per_word=cfg.per_word,
                                  seed=cfg.seed)
        synth_s = time.monotonic() - t0
        entries = dataset_entries(root)
    elif cfg.data == "speech-commands":
        if not cfg.data_dir:
            raise KwsError("data='speech-commands' needs a Speech Commands folder",
                           argument="data_dir")
        root = Path(cfg.data_dir)
        entries = speech_commands_entries(root)
    else:
        root = Path(cfg.data)
        if not root.is_dir():
            raise KwsError(f"{root}: must be synth, speech-commands or a dataset folder",
                           argument="data")
        entries = dataset_entries(root)
    examples = select_examples(entries, root, words, unknown_percent=cfg.unknown_percent,
                               silence_percent=cfg.silence_percent, seed=cfg.seed,
                               word_classes=word_class_words(cfg.word_classes, entries, words))
    if cfg.extra_unknown:
        if cfg.extra_unknown == "synth":
            from kws.data.synth_default import build_synth_corpus

            t1 = time.monotonic()
            n = cfg.per_word * max(2, len(words) // 2)
            extra_root = build_synth_corpus(
                [], cache / "synth" / f"unknown-{'-'.join(words)}-{n}-{cfg.seed}",
                unknown_count=n, seed=cfg.seed, exclude=tuple(words))
            synth_s += time.monotonic() - t1
        else:
            extra_root = Path(cfg.extra_unknown)
        extra = [e for e in dataset_entries(extra_root) if e.label not in words]
        examples += [Example(str(extra_root / e.path), UNKNOWN, e.split, e.source)
                     for e in extra]
    noise = root / BACKGROUND if (root / BACKGROUND).is_dir() else None
    return examples, noise, synth_s


def _lr(cfg: TrainConfig, epoch: int) -> float:
    """Cosine decay from ``learning_rate`` to 5 % of it over the run."""
    frac = epoch / max(1, cfg.epochs - 1)
    return cfg.learning_rate * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * frac)))


def _epoch_data(fs: FeatureSet, cfg: TrainConfig, epoch: int,
                settings: FrontendSettings) -> tuple[np.ndarray, np.ndarray]:
    """The inputs of ``epoch``: one seeded copy of each clip, shuffled (depends on seed, epoch)."""
    rng = np.random.default_rng([cfg.seed, epoch])
    copy = rng.integers(fs.x.shape[1], size=len(fs.x))
    order = rng.permutation(len(fs.x))
    q = fs.x[order, copy[order]]
    freq_mask = freq_mask_of(cfg)
    if cfg.time_mask > 0 or freq_mask > 0:
        q = spec_mask(q, rng=rng, time_mask=cfg.time_mask, freq_mask=freq_mask)
    y = fs.y[order] if fs.soft is None else fs.soft[order, copy[order]]
    return dequantize_features(q, settings)[..., None], y


def spec_mask(q: np.ndarray, *, rng: np.random.Generator, time_mask: int,
              freq_mask: int) -> np.ndarray:
    """SpecAugment-style masks on int8 feature maps (a new array; ``q`` is not changed).

    Parameters
    ----------
    q : ndarray of int8, shape (N, frames, coeffs)
        The feature maps.
    rng : numpy Generator, keyword-only
        Source of the band widths and positions.
    time_mask, freq_mask : int, keyword-only
        Largest band width in frames / coefficients (each example gets one band of each, its
        width uniform in 0..max); the band is filled with the map's mean (rounded to int8).

    Returns
    -------
    ndarray of int8, shape (N, frames, coeffs)
    """
    out = np.array(q, dtype=np.int8, copy=True)
    n, frames, coeffs = out.shape
    fill = np.rint(out.reshape(n, -1).mean(axis=1)).astype(np.int8)
    for axis, width, size in ((1, time_mask, frames), (2, freq_mask, coeffs)):
        if width <= 0:
            continue
        w = rng.integers(0, min(width, size) + 1, size=n)
        start = rng.integers(0, size - w + 1)
        idx = np.arange(size)
        band = (idx[None, :] >= start[:, None]) & (idx[None, :] < (start + w)[:, None])
        if axis == 1:
            out = np.where(band[:, :, None], fill[:, None, None], out)
        else:
            out = np.where(band[:, None, :], fill[:, None, None], out)
    return out.astype(np.int8)


def _reseed_layers(model: Any, seed: int) -> None:
    """Set every layer's random state (dropout) from ``seed``: a model loaded from a checkpoint
    then draws exactly what the uninterrupted one would have drawn."""
    for k, layer in enumerate(model.layers):
        gen = getattr(layer, "seed_generator", None)
        if gen is not None:
            gen.state.assign(np.array([seed * 7919 + k, 0], dtype=str(gen.state.dtype)))


def _save_checkpoint(model: Any, ckpt: Path, state: dict[str, Any],
                     average: list[np.ndarray] | None = None) -> None:
    """Write model + optimizer, the history and the running weight sum of
    ``--average-epochs`` (:mod:`kws.train.average`) atomically (a new folder renamed into
    place)."""
    from kws.train import average as weight_average

    tmp = ckpt.with_name(ckpt.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp / "model.keras")
    weight_average.save(tmp, average)
    (tmp / "state.json").write_text(json.dumps(state))
    old = ckpt.with_name(ckpt.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if ckpt.exists():
        os.replace(ckpt, old)
    os.replace(tmp, ckpt)
    shutil.rmtree(old, ignore_errors=True)


def _load_checkpoint(ckpt: Path) -> tuple[Any, dict[str, Any]] | None:
    """The model and state of the last finished epoch, or None. The state's ``folder`` is
    the checkpoint folder read (the running weight sum lies there)."""
    import tensorflow as tf

    for folder in (ckpt, ckpt.with_name(ckpt.name + ".old")):
        if (folder / "state.json").is_file() and (folder / "model.keras").is_file():
            import kws.train.losses  # noqa: F401  (registers the custom loss)

            state = json.loads((folder / "state.json").read_text())
            state["folder"] = str(folder)
            return tf.keras.models.load_model(folder / "model.keras"), state
    return None


def _plot_curves(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kws.fileio import atomic_path

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    for k in ("loss", "val_loss"):
        if history.get(k):
            a.plot(range(1, len(history[k]) + 1), history[k], label=k)
    for k in ("accuracy", "val_accuracy"):
        if history.get(k):
            b.plot(range(1, len(history[k]) + 1), history[k], label=k)
    a.set_xlabel("epoch"), b.set_xlabel("epoch"), a.legend(), b.legend()
    a.set_title("loss"), b.set_title("accuracy")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


def evaluate_tflite(tflite: bytes, fs: FeatureSet, settings: FrontendSettings,
                    classes: list[str]) -> dict[str, Any]:
    """Clip accuracy of a .tflite model (reference kernels) on copy 0 of a feature set."""
    from kws.runtime.reference import ReferenceInterpreter

    probs = ReferenceInterpreter(tflite).predict_features(fs.x[:, 0], settings)
    return report(fs.y, probs.argmax(axis=1), classes)


@dataclasses.dataclass
class TrainingData:
    """The features a run trains and evaluates on."""

    classes: list[str]
    train: FeatureSet
    evaluation: dict[str, FeatureSet]     # "validation" / "test" -> copy-0 features
    counts: np.ndarray                    # training clips per class (not the windows)
    examples: list[Example] = dataclasses.field(default_factory=list)
    train_noise: Any = None
    eval_noise: Any = None
    stream_negatives: int = 0             # the last N training examples are long-audio windows


def train(cfg: TrainConfig, *, resume: bool = False,
          settings: FrontendSettings | None = None) -> dict[str, Any]:
    """Train, quantize and evaluate a keyword model; returns the metrics written to RUN/.

    Parameters
    ----------
    cfg : TrainConfig
        The run's configuration.
    resume : bool, keyword-only
        Continue from RUN/checkpoint (the config must match the saved one).
    settings : FrontendSettings, optional, keyword-only
        The front end (default settings when omitted).

    Raises
    ------
    KwsError
        Bad words, data, model or a RUN/ folder that holds another run.
    """
    settings = settings or FrontendSettings()
    check_config(cfg)
    run = prepare_run_folder(cfg, resume=resume)
    cache = Path(cfg.cache_dir) if cfg.cache_dir else default_cache()
    times: dict[str, float] = {}
    t_all = time.monotonic()
    data = load_training_data(cfg, cache, settings, times)
    heldout = None
    if cfg.checkpoint_choice == "fa":
        with _timed(times, "negatives"):
            heldout = selection_data(cfg, data, settings, cache)
    with _timed(times, "training"):
        model, history = fit(cfg, data, settings, run, resume=resume, heldout=heldout)
    if cfg.mining_rounds > 0:
        with _timed(times, "mining"):
            data.train = mine(model, data, cfg, settings, cache)
    extra: dict[str, Any] = {}
    if cfg.prune > 0:
        from kws.train.prune import prune_and_fine_tune

        with _timed(times, "pruning"):
            model, extra["pruning"] = prune_and_fine_tune(model, data, cfg, settings)
    if cfg.qat:
        from kws.train.qat import quantization_aware_training

        with _timed(times, "qat"):
            extra["qat"] = quantization_aware_training(model, data, cfg, settings)
    with _timed(times, "quantization"):
        int8, flt = quantize(model, data.train, settings, seed=cfg.seed,
                             name=str(run / "model.tflite"))
    write_outputs(run, model, int8, flt, data.classes, settings, history)
    with _timed(times, "evaluation"):
        metrics = evaluate_run(cfg, data, int8, flt, settings, run, history)
        metrics.update(extra)
    with _timed(times, "calibration"):
        from kws.train.detector import calibrate_run, describe, held_out_speaker

        cal = calibrate_run(run, examples=data.examples, words=cfg.words, noise=data.eval_noise,
                            cache=cache, target_fa_per_hour=cfg.target_fa_per_hour,
                            seed=cfg.seed, negatives=cfg.negatives,
                            tts_minutes=cfg.calibration_minutes,
                            speaker=held_out_speaker(cfg))
        metrics["detector"] = cal.summary()
        _log(describe(cal))
    times["total"] = time.monotonic() - t_all
    metrics["seconds"] = {k: round(v, 2) for k, v in times.items()}
    write_metrics(run, metrics)
    _log("kws: time: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    _log(f"kws: wrote {run}/model.tflite (int8), model_float.tflite, model.keras, labels.txt, "
         f"settings.json, detector.json, calibration.json, metrics.json, curves.png, logs/")
    return metrics


@contextlib.contextmanager
def _timed(times: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds the body takes to ``times[name]``."""
    t0 = time.monotonic()
    yield
    times[name] = times.get(name, 0.0) + time.monotonic() - t0


def check_config(cfg: TrainConfig) -> None:
    """Raise :class:`KwsError` for a configuration no run can start from."""
    if not cfg.words or any(not w or "," in w for w in cfg.words):
        raise KwsError(f"need a list of non-empty words without commas, got {cfg.words!r}",
                       argument="words")
    if len(set(cfg.words)) != len(cfg.words):
        raise KwsError(f"repeated word in {','.join(cfg.words)}", argument="words")
    if cfg.model not in MODELS:
        raise KwsError(f"{cfg.model!r} unknown; available: {', '.join(MODELS)}",
                       argument="model")
    if cfg.epochs < 1:
        raise KwsError(f"must be at least 1 (got {cfg.epochs})", argument="epochs")
    if cfg.checkpoint_choice not in ("last", "fa"):
        raise KwsError(f"must be last or fa (got {cfg.checkpoint_choice!r})",
                       argument="checkpoint_choice")
    if cfg.word_class_balance not in ("unknown", "own"):
        raise KwsError(f"must be unknown or own (got {cfg.word_class_balance!r})",
                       argument="word_class_balance")
    if cfg.negative_weight <= 0:
        raise KwsError(f"must be > 0 (got {cfg.negative_weight})", argument="negative_weight")
    if not 0.0 <= cfg.prune < 1.0:
        raise KwsError(f"must be in [0, 1) (got {cfg.prune})", argument="prune")
    if not 0.0 <= cfg.label_smoothing < 1.0:
        raise KwsError(f"must be in [0, 1) (got {cfg.label_smoothing})",
                       argument="label_smoothing")
    if cfg.label_smoothing > 0 and cfg.teacher:
        raise KwsError("label smoothing and a teacher both soften the targets; use one",
                       argument="label_smoothing")
    if cfg.teacher:
        from kws.train.distill import teacher_model_file, teacher_runs
        from kws.train.embedding_teacher import TEACHER_NAME

        if cfg.teacher.strip() != TEACHER_NAME:
            for run in teacher_runs(cfg.teacher):     # before any feature is computed
                teacher_model_file(run)
    if cfg.average_epochs < 0:
        raise KwsError(f"must be at least 0 (got {cfg.average_epochs})",
                       argument="average_epochs")
    if cfg.average_epochs > 0 and cfg.checkpoint_choice == "fa":
        raise KwsError("--checkpoint-choice fa keeps one epoch's weights; it cannot average "
                       "epochs too", argument="average_epochs")
    for name in ("prune_epochs", "qat_epochs", "time_mask", "freq_mask"):
        value = getattr(cfg, name)
        if value is not None and value < 0:
            raise KwsError(f"must be at least 0 (got {value})", argument=name)


def read_config(run: str | os.PathLike[str]) -> TrainConfig:
    """The :class:`TrainConfig` a run was trained with (``RUN/config.json``).

    Raises
    ------
    KwsError
        The folder has no readable config.json (not a ``kws train`` run).
    """
    path = Path(run) / "config.json"
    if not path.is_file():
        raise KwsError(f"{path}: not found (RUN must be a folder written by kws train)")
    try:
        saved = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KwsError(f"{path}: not valid JSON ({exc})") from None
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    if not isinstance(saved, dict) or not saved.get("words"):
        raise KwsError(f"{path}: not a kws train configuration (no words)")
    return TrainConfig(**{k: v for k, v in saved.items() if k in fields})


def prepare_run_folder(cfg: TrainConfig, *, resume: bool) -> Path:
    """Create RUN/ and write its config.json; with ``resume``, the saved config must match
    (except ``epochs``, ``cache_dir``, ``real_eval`` and the pruning and QAT settings, which
    act after the checkpointed training: resuming a finished run with ``prune`` or ``qat``
    prunes or fine-tunes its trained model)."""
    run = Path(cfg.out)
    cfg_json = json.dumps(dataclasses.asdict(cfg), sort_keys=True, indent=1)
    if resume:
        saved = run / "config.json"
        if not saved.is_file():
            raise KwsError(f"{saved}: nothing to resume (no config.json in the run folder)")
        old = json.loads(saved.read_text())
        now = json.loads(cfg_json)
        free = ("epochs", "cache_dir", "real_eval", "prune", "prune_epochs", "qat",
                "qat_epochs")
        # a setting added since the run was started has its default there
        known = {f.name: f.default for f in dataclasses.fields(TrainConfig)
                 if f.default is not dataclasses.MISSING}
        diff = sorted(k for k in now if k not in free and old.get(k, known.get(k)) != now[k])
        if diff:
            raise KwsError(f"{saved}: resuming with different settings: {', '.join(diff)}")
    run.mkdir(parents=True, exist_ok=True)
    write_text_atomic(run / "config.json", cfg_json)
    return run


def _with_negatives(cfg: TrainConfig, train_fs: FeatureSet, classes: list[str],
                    settings: FrontendSettings, cache: Path, noise: Any) -> FeatureSet:
    """``train_fs`` plus the long-audio negative windows (:mod:`kws.train.negatives`) as
    ``_unknown_``."""
    from kws.train.negatives import negative_windows

    neg = negative_windows(words=cfg.words, settings=settings, cache=cache, seed=cfg.seed,
                           minutes=cfg.negative_minutes, user_dir=cfg.negatives,
                           copies=cfg.copies, noise=noise)
    _log(f"kws: {len(neg)} negative windows from long keyword-free audio")
    return dataclasses.replace(
        train_fs, x=np.concatenate([train_fs.x, neg]),
        y=np.concatenate([train_fs.y, np.full(len(neg), classes.index(UNKNOWN),
                                              train_fs.y.dtype)]))


def load_training_data(cfg: TrainConfig, cache: Path, settings: FrontendSettings,
                       times: dict[str, float]) -> TrainingData:
    """The examples, noise and cached features of every split (``times`` gets synthesis,
    data and features seconds)."""
    t0 = time.monotonic()
    examples, data_noise, times["synthesis"] = resolve_examples(cfg, cache)
    classes = class_names(cfg.words, word_classes_of(examples))
    train_noise, eval_noise = (noise_bank(cfg, data_noise, part=p) for p in ("train", "heldout"))
    times["data"] = time.monotonic() - t0 - times["synthesis"]
    with _timed(times, "features"):
        feat_cache = cache / "features"
        by_split = {s: [e for e in examples if e.split == s]
                    for s in ("train", "validation", "test")}
        train_fs = split_features(by_split["train"], classes, settings=settings,
                                  cache_dir=feat_cache, copies=cfg.copies,
                                  augment=augment_preset(augment_name(cfg)),
                                  noise=train_noise, seed=cfg.seed,
                                  desc="train features")
        eval_fs = {s: split_features(by_split[s], classes, settings=settings,
                                     cache_dir=feat_cache, copies=1, augment=None,
                                     noise=eval_noise, seed=cfg.seed, desc=f"{s} features")
                   for s in ("validation", "test") if by_split[s]}
    n_clips = len(train_fs.x)
    if cfg.negative_minutes > 0 or cfg.negatives:
        with _timed(times, "negatives"):
            train_fs = _with_negatives(cfg, train_fs, classes, settings, cache, train_noise)
    counts = np.bincount(train_fs.y, minlength=len(classes))
    for c, n in zip(classes, counts):
        if n < 2:
            raise KwsError(f"{cfg.data}: too few training examples of class {c!r}: {n} "
                           f"(need at least 2)")
    clips = np.bincount(train_fs.y[:n_clips], minlength=len(classes))
    windows = len(train_fs.x) - n_clips
    _log("kws: train clips per class: " + ", ".join(f"{c} {n}" for c, n in zip(classes, clips))
         + f" (x{cfg.copies} augmented copies)"
         + (f"; plus {windows} long-audio _unknown_ windows, weighted as one more class x "
            f"{cfg.negative_weight:g}" if windows else ""))
    return TrainingData(classes, train_fs, eval_fs, clips, examples, train_noise, eval_noise,
                        stream_negatives=windows)


def noise_bank(cfg: TrainConfig, data_noise: Path | None, *, part: str) -> NoiseBank:
    """Background noise for augmentation (``part="train"``) or evaluation (``"heldout"``).

    ``cfg.noise_dir`` (a folder of recordings) when given;
    else the dataset's own ``_background_noise_`` (as the Speech Commands download has);
    else :func:`kws.data.augment.synthetic_background`, the same on every machine.
    """
    if cfg.noise_dir:
        folder = Path(cfg.noise_dir)
        if not folder.is_dir():
            raise KwsError(f"{folder}: no such folder of background noise",
                           argument="noise_dir")
    else:
        folder = data_noise
    if folder is None:
        return synthetic_background(part=part)
    return NoiseBank.from_folder(folder, part=part, min_seconds=0.0)


def selection_data(cfg: TrainConfig, data: TrainingData, settings: FrontendSettings,
                   cache: Path) -> Any:
    """The held-out audio of the checkpoint choice (:func:`kws.train.select.held_out`): the
    calibration audio (:func:`kws.train.detector.heldout_negatives`) and the validation
    keyword clips."""
    from kws.train.detector import held_out_speaker, heldout_negatives
    from kws.train.select import held_out

    val = data.evaluation.get("validation")
    if val is None or not len(val.x):
        raise KwsError("needs validation clips of the keywords", argument="checkpoint_choice")
    negs = heldout_negatives(words=cfg.words, cache=cache, seed=cfg.seed,
                             negatives=cfg.negatives, tts_minutes=cfg.calibration_minutes,
                             speaker=held_out_speaker(cfg), noise=data.eval_noise)
    if not negs:
        raise KwsError("needs held-out negative audio (--calibration-minutes > 0 or "
                       "--negatives)", argument="checkpoint_choice")
    return held_out([x for _, x in negs], val.x[:, 0], val.y,
                    keyword_columns=[data.classes.index(w) for w in cfg.words],
                    settings=settings)


def _new_or_resumed_model(cfg: TrainConfig, data: TrainingData, settings: FrontendSettings,
                          ckpt: Path, *, resume: bool) -> tuple[Any, dict[str, Any]]:
    """The compiled model and training state: from the checkpoint, or new."""
    import tensorflow as tf

    loaded = _load_checkpoint(ckpt) if resume else None
    if loaded is not None:
        _log(f"kws: resuming after epoch {loaded[1]['epoch']}")
        return loaded
    tf.keras.utils.set_random_seed(cfg.seed)
    model = build_model(cfg.model, num_classes=len(data.classes), settings=settings)
    loss: Any = "categorical_crossentropy" if cfg.teacher else "sparse_categorical_crossentropy"
    if cfg.label_smoothing > 0 and not cfg.teacher:
        from kws.train.losses import SmoothedSparseCrossentropy

        loss = SmoothedSparseCrossentropy(cfg.label_smoothing)
    model.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate), loss=loss,
                  metrics=["accuracy"])
    return model, {"epoch": 0, "history": {}}


def _validation_data(cfg: TrainConfig, data: TrainingData, settings: FrontendSettings
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """The validation inputs and targets (one-hot when distilling), or None."""
    val = data.evaluation.get("validation")
    if val is None or not len(val.x):
        return None
    y = np.eye(len(data.classes), dtype=np.float32)[val.y] if cfg.teacher else val.y
    return dequantize_features(val.x[:, 0], settings)[..., None], y


def fit(cfg: TrainConfig, data: TrainingData, settings: FrontendSettings, run: Path, *,
        resume: bool, heldout: Any = None) -> tuple[Any, dict[str, list[float]]]:
    """Train epoch by epoch (a checkpoint after each); returns the model and its history.

    With ``heldout`` (:class:`kws.train.select.HeldOut`) each epoch of the second half is
    scored and the best one's weights (``RUN/best.weights.h5``) are loaded at the end."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    from kws.train import average as weight_average

    ckpt = run / "checkpoint"
    model, state = _new_or_resumed_model(cfg, data, settings, ckpt, resume=resume)
    folder = state.pop("folder", None)
    total, first_averaged = weight_average.resumed(
        Path(folder) if folder else None, saved_from=state.get("average_from"),
        done=state["epoch"], epochs=cfg.epochs, average_epochs=cfg.average_epochs)
    if first_averaged > weight_average.first_epoch(cfg.epochs, cfg.average_epochs):
        _log(f"kws: warning: resumed after epoch {state['epoch']} without the running weight "
             f"sum of --average-epochs; averaging the epochs from here on only")
    state["average_from"] = first_averaged
    if cfg.teacher and data.train.soft is None:
        from kws.train.distill import teacher_targets

        data.train = teacher_targets(data.train, cfg.teacher, examples=data.examples,
                                     classes=data.classes, settings=settings,
                                     weight=cfg.teacher_weight, seed=cfg.seed)
    val_data = _validation_data(cfg, data, settings)
    tb = tf.keras.callbacks.TensorBoard(log_dir=str(run / "logs"), write_graph=False)
    history: dict[str, list[float]] = state["history"]
    bar = tqdm(range(state["epoch"], cfg.epochs), desc="train", unit="epoch",
               initial=state["epoch"], total=cfg.epochs)
    for epoch in bar:
        tf.keras.utils.set_random_seed(cfg.seed * 1000 + epoch)
        _reseed_layers(model, cfg.seed * 1000 + epoch)
        model.optimizer.learning_rate.assign(_lr(cfg, epoch))
        x, y = _epoch_data(data.train, cfg, epoch, settings)
        h = model.fit(x, y, batch_size=cfg.batch_size, initial_epoch=epoch, epochs=epoch + 1,
                      validation_data=val_data, shuffle=False, verbose=0, callbacks=[tb],
                      sample_weight=_sample_weights(data, cfg, epoch))
        for k, v in h.history.items():
            history.setdefault(k, []).append(float(v[-1]))
        bar.set_postfix({_shown(cfg, k): f"{history[k][-1]:.3f}"
                         for k in ("loss", "accuracy", "val_accuracy") if k in history})
        if heldout is not None and epoch >= cfg.epochs // 2:
            _choose(model, epoch, heldout, cfg, settings, run, state)
        if epoch >= first_averaged:
            total = weight_average.add(total, model)
        _save_checkpoint(model, ckpt, {**state, "epoch": epoch + 1, "history": history},
                         total)
    bar.close()
    if total is not None:
        count = cfg.epochs - first_averaged
        weight_average.apply(total, count, model)
        history["averaged_epochs"] = [float(count)]
        _log(f"kws: weights averaged over the last {count} epochs")
    chosen = state.get("chosen")
    if heldout is not None and chosen is not None:
        model.load_weights(run / "best.weights.h5")
        history["chosen_epoch"] = [float(chosen["epoch"] + 1)]
        _log(f"kws: checkpoint: epoch {chosen['epoch'] + 1} (recall {chosen['recall']:.3f} "
             f"at p >= {chosen['cutoff']:g}, {chosen['fa_per_hour']:.1f} FA/h on held-out "
             f"negative windows; target {cfg.target_fa_per_hour:g})")
    return model, history


def _choose(model: Any, epoch: int, heldout: Any, cfg: TrainConfig, settings: FrontendSettings,
            run: Path, state: dict[str, Any]) -> None:
    """Score ``epoch`` (:mod:`kws.train.select`); keep its weights when it is the best yet."""
    from kws.train.select import EpochScore, best, score_model

    s = score_model(model, epoch, heldout, settings, target_fa_per_hour=cfg.target_fa_per_hour)
    scores = [EpochScore(**d) for d in state.get("selection", [])] + [s]
    state["selection"] = [dataclasses.asdict(x) for x in scores]
    if best(scores) == s:
        model.save_weights(run / "best.weights.h5")
        state["chosen"] = dataclasses.asdict(s)


def example_weights(y: np.ndarray, *, stream_negatives: int, balance: float,
                    negative_weight: float, groups: np.ndarray | None = None) -> np.ndarray:
    """Loss weight of every training example (in ``y``'s order).

    The clips are balanced among themselves: each class's weight is
    ``(mean clip count / class clip count) ** balance``. The long-audio negative windows (the
    last ``stream_negatives`` examples; labelled ``_unknown_``) stay **outside** that balance:
    they are a group of their own weighted like one more class, ``(mean clip count / windows)
    ** balance``, times ``negative_weight``. So thousands of windows never dilute the real
    ``_unknown_`` clips (counted with them, 9,000 windows cut the clips' weight ~10x and clip
    accuracy fell from 0.90 to 0.78 on real yes/no).
    With ``groups`` (class index -> group index, :func:`kws.metrics.clip_classes`) the balance
    is over groups: word classes and ``_unknown_`` weigh together as one class, each clip
    alike, so training words as classes of their own changes their labels, not the priors.

    Parameters
    ----------
    y : ndarray of int, shape (N,)
        Class of every example; the last ``stream_negatives`` are the windows.
    stream_negatives : int, keyword-only
        How many examples at the end are long-audio windows.
    balance : float, keyword-only
        Class weighting exponent (0: none, 1: fully balanced).
    negative_weight : float, keyword-only
        The windows' group weight relative to one balanced class.
    groups : ndarray of int, optional, keyword-only
        Group of every class (default: each class its own).

    Returns
    -------
    ndarray of float64, shape (N,)

    >>> example_weights(np.array([0, 1, 1, 1, 1, 1]), stream_negatives=3, balance=1.0,
    ...                 negative_weight=1.0).round(3).tolist()
    [1.5, 0.75, 0.75, 0.5, 0.5, 0.5]
    """
    y = np.asarray(y)
    n_clips = len(y) - int(stream_negatives)
    if n_clips < 0 or stream_negatives < 0:
        raise KwsError(f"stream_negatives must be in 0..{len(y)} (got {stream_negatives})")
    counts = np.bincount(y[:n_clips], minlength=int(y.max(initial=0)) + 1).astype(np.float64)
    if groups is not None:
        g = np.asarray(groups, dtype=np.int64)
        if len(g) < len(counts):
            raise KwsError(f"groups has {len(g)} classes, the labels need {len(counts)}")
        per_group = np.bincount(g, weights=np.pad(counts, (0, len(g) - len(counts))))
        mean = per_group[per_group > 0].mean() if n_clips else 1.0
        counts = per_group[g]
    else:
        mean = counts[counts > 0].mean() if n_clips else 1.0
    cls = np.where(counts > 0, (mean / np.maximum(counts, 1)) ** balance, 0.0)
    w = np.empty(len(y), np.float64)
    w[:n_clips] = cls[y[:n_clips]]
    if stream_negatives:
        w[n_clips:] = negative_weight * (mean / stream_negatives) ** balance
    return w


def _sample_weights(data: TrainingData, cfg: TrainConfig, epoch: int) -> np.ndarray:
    """Per-example loss weights (:func:`example_weights`) in :func:`_epoch_data`'s order for
    ``epoch``."""
    y = data.train.y
    w = example_weights(y, stream_negatives=data.stream_negatives, balance=cfg.balance,
                        negative_weight=cfg.negative_weight,
                        groups=clip_classes(data.classes)[1]
                        if cfg.word_class_balance == "unknown" else None)
    rng = np.random.default_rng([cfg.seed, epoch])
    rng.integers(data.train.x.shape[1], size=len(y))       # as _epoch_data draws
    return w[rng.permutation(len(y))]


def mine(model: Any, data: TrainingData, cfg: TrainConfig, settings: FrontendSettings,
         cache: Path) -> FeatureSet:
    """Rounds of hard-negative mining (:mod:`kws.train.mining`) on a pool of keyword-free
    windows from another sentence bank (seed + 1 + round), each followed by
    ``cfg.mining_epochs`` epochs at the final learning rate. Not checkpointed."""
    from kws.train.mining import hard_negatives
    from kws.train.negatives import negative_windows

    train_fs, classes, noise = data.train, data.classes, data.train_noise
    val_data = _validation_data(cfg, data, settings)
    unknown = classes.index(UNKNOWN)
    keys = [classes.index(w) for w in cfg.words]
    lr = _lr(cfg, cfg.epochs - 1)
    for rnd in range(cfg.mining_rounds):
        pool = negative_windows(words=cfg.words, settings=settings, cache=cache,
                                seed=cfg.seed + 1 + rnd, minutes=cfg.mining_minutes,
                                user_dir=cfg.negatives, copies=1, noise=noise)[:, 0]
        probs = model.predict(dequantize_features(pool, settings)[..., None], batch_size=512,
                              verbose=0)
        idx = hard_negatives(probs, keyword_columns=keys, threshold=0.5,
                             limit=max(len(train_fs.x) // 4, 1))
        _log(f"kws: mining round {rnd + 1}: {len(idx)} of {len(pool)} keyword-free windows "
             f"fire (p >= 0.5); training {cfg.mining_epochs} more epochs with them")
        hard = np.repeat(pool[idx][:, None], train_fs.x.shape[1], axis=1)
        train_fs = dataclasses.replace(
            train_fs, x=np.concatenate([train_fs.x, hard]),
            y=np.concatenate([train_fs.y, np.full(len(idx), unknown, train_fs.y.dtype)]),
            soft=None if train_fs.soft is None else np.concatenate(
                [train_fs.soft, np.broadcast_to(np.eye(len(classes), dtype=np.float32)[unknown],
                                                (len(idx),) + train_fs.soft.shape[1:])]))
        data.train = train_fs
        data.stream_negatives += len(idx)           # mined windows join the window group
        model.optimizer.learning_rate.assign(lr)
        for e in range(cfg.mining_epochs):
            epoch = cfg.epochs + rnd * cfg.mining_epochs + e
            tf_seed = cfg.seed * 1000 + epoch
            import tensorflow as tf

            tf.keras.utils.set_random_seed(tf_seed)
            x, y = _epoch_data(train_fs, cfg, epoch, settings)
            model.fit(x, y, batch_size=cfg.batch_size, epochs=1, validation_data=val_data,
                      shuffle=False, verbose=0, sample_weight=_sample_weights(data, cfg, epoch))
    return train_fs




def fine_tune(model: Any, data: TrainingData, cfg: TrainConfig, settings: FrontendSettings, *,
              epochs: int, learning_rate: tuple[float, float], seed_offset: int,
              before_epoch: Callable[[int], None] | None = None) -> float:
    """Train a compiled ``model`` ``epochs`` more epochs on the training data (not checkpointed);
    the last epoch's training accuracy (NaN for no epoch).

    Parameters
    ----------
    model : keras.Model
        Compiled; takes the features like the run's model.
    data, cfg, settings
        The run's data, configuration and front end (class weighting as in :func:`fit`).
    epochs : int, keyword-only
        Epochs to train.
    learning_rate : (float, float), keyword-only
        The first and last epoch's rate (cosine decay between them).
    seed_offset : int, keyword-only
        Added to the epoch number in every seed (each fine-tuning stage draws its own data).
    before_epoch : callable, optional, keyword-only
        Called with the epoch index (0-based) before each epoch.
    """
    import tensorflow as tf

    first, last = learning_rate
    accuracy = float("nan")
    for e in tqdm(range(epochs), desc="fine-tune", unit="epoch"):
        epoch = seed_offset + e
        tf.keras.utils.set_random_seed(cfg.seed * 1000 + epoch)
        _reseed_layers(model, cfg.seed * 1000 + epoch)
        frac = e / max(1, epochs - 1)
        model.optimizer.learning_rate.assign(
            last + (first - last) * 0.5 * (1.0 + math.cos(math.pi * frac)))
        if before_epoch is not None:
            before_epoch(e)
        x, y = _epoch_data(data.train, cfg, epoch, settings)
        h = model.fit(x, y, batch_size=cfg.batch_size, epochs=1, shuffle=False, verbose=0,
                      sample_weight=_sample_weights(data, cfg, epoch))
        accuracy = float(h.history.get("accuracy", [accuracy])[-1])
    return accuracy


def accuracy_snapshot(model: Any, data: TrainingData, settings: FrontendSettings, *,
                      seed: int, real_dir: Path | None = None) -> dict[str, dict[str, float]]:
    """Float and int8 (post-training quantized) behaviour of ``model`` on every evaluation
    split: ``{split: {"float": accuracy, "int8": accuracy, "disagree": fraction of clips whose
    int8 class differs from the float one, "posterior_lsb": mean |p_float - p_int8| in steps
    of the int8 output (1/256)}}``; with ``real_dir``, also ``"real"``: float and int8
    accuracy on that folder's recordings (:func:`kws.evaluate.real_speech_accuracy`)."""
    from kws.runtime.reference import ReferenceInterpreter

    int8, flt = quantize(model, data.train, settings, seed=seed, name="model")
    out: dict[str, dict[str, float]] = {}
    for split, fs in data.evaluation.items():
        if not len(fs.x):
            continue
        p = {kind: ReferenceInterpreter(m).predict_features(fs.x[:, 0], settings)
             for kind, m in (("float", flt), ("int8", int8))}
        hit = {k: float(np.mean(v.argmax(axis=1) == fs.y)) for k, v in p.items()}
        out[split] = {**hit,
                      "disagree": float(np.mean(p["float"].argmax(1) != p["int8"].argmax(1))),
                      "posterior_lsb": float(np.abs(p["float"] - p["int8"]).mean() * 256)}
    if real_dir is not None:
        from kws.evaluate import real_speech_accuracy

        real = real_speech_accuracy(real_dir, {"int8": int8, "float": flt}, data.classes,
                                    settings)
        out["real"] = {"float": real["float"]["accuracy"], "int8": real["int8"]["accuracy"],
                       "clips": real["clips"]}
    return out


def validation_speech(cfg: TrainConfig) -> str:
    """What the validation clips are: ``"synthetic"`` (TTS) for ``data="synth"``, else
    ``"dataset"`` (whatever the dataset holds)."""
    return "synthetic" if cfg.data == "synth" else "dataset"


def _shown(cfg: TrainConfig, key: str) -> str:
    """A history key as the progress bar shows it (synthetic validation says so)."""
    if key == "val_accuracy" and validation_speech(cfg) == "synthetic":
        return "val_accuracy_synthetic"
    return key


def quantize(model: Any, train_fs: FeatureSet, settings: FrontendSettings, *, seed: int,
             name: str) -> tuple[bytes, bytes]:
    """The int8 model (calibrated on training clips, its input quantization checked) and the
    float model."""
    from kws.train.quantize import check_input_quantization, convert, representative_examples

    rep = representative_examples(train_fs.x[:, 0], settings, seed=seed)
    int8 = convert(model, representative=rep)
    check_input_quantization(int8, settings, name=name)
    return int8, convert(model)


def write_outputs(run: Path, model: Any, int8: bytes, flt: bytes, classes: list[str],
                  settings: FrontendSettings, history: dict[str, list[float]]) -> None:
    """model.keras, the RUN files (:func:`kws.run.write_run`) and curves.png."""
    model.save(run / "model.keras.tmp.keras")
    os.replace(run / "model.keras.tmp.keras", run / "model.keras")
    write_run(run, model=int8, float_model=flt, labels=classes, settings=settings)
    _plot_curves(history, run / "curves.png")


def evaluate_run(cfg: TrainConfig, data: TrainingData, int8: bytes, flt: bytes,
                 settings: FrontendSettings, run: Path,
                 history: dict[str, list[float]]) -> dict[str, Any]:
    """Float and int8 reports of every evaluation split (printed; confusion_validation.png);
    returns the metrics without their timings."""
    fs_all = [data.train, *data.evaluation.values()]
    metrics: dict[str, Any] = {"words": cfg.words, "classes": data.classes, "model": cfg.model,
                               "data": cfg.data, "epochs": cfg.epochs,
                               "train_clips": int(len(data.train.x)),
                               "skipped_files": sum((f.skipped for f in fs_all), []),
                               "history": history, "splits": {}}
    speech = validation_speech(cfg)
    metrics["validation_speech"] = speech
    tag = " (synthetic speech)" if speech == "synthetic" else ""
    for split, fs in data.evaluation.items():
        if not len(fs.x):
            continue
        res = {"float": evaluate_tflite(flt, fs, settings, data.classes),
               "int8": evaluate_tflite(int8, fs, settings, data.classes)}
        metrics["splits"][split] = res
        _log(format_report(res["float"], title=f"{split} float{tag}: "))
        _log(format_report(res["int8"], title=f"{split} int8{tag}:  "))
        if split == "validation":
            plot_confusion(res["int8"], run / "confusion_validation.png",
                           title=f"validation int8{tag}, accuracy "
                                 f"{res['int8']['accuracy']:.3f}")
    metrics.update(real_speech_metrics(cfg, {"int8": int8, "float": flt}, data.classes,
                                       settings))
    if speech == "synthetic" and "validation" in metrics["splits"]:
        metrics["val_accuracy_synthetic"] = metrics["splits"]["validation"]["int8"]["accuracy"]
    _log(accuracy_summary(metrics))
    return metrics


def real_eval_dir(cfg: TrainConfig) -> Path | None:
    """The folder of real speech to score on (see :class:`TrainConfig` ``real_eval``)."""
    if cfg.real_eval is None:
        return None
    if cfg.real_eval == "auto":
        return real_speech_dir() if cfg.data == "synth" else None
    folder = Path(cfg.real_eval)
    if not folder.is_dir():
        raise KwsError(f"{folder}: no such folder of real speech", argument="real_eval")
    return folder


def real_speech_metrics(cfg: TrainConfig, models: dict[str, bytes], classes: list[str],
                        settings: FrontendSettings) -> dict[str, Any]:
    """``accuracy_real`` (int8, None when not measured) and the ``real_speech`` reports."""
    folder = real_eval_dir(cfg)
    if folder is None:
        return {"accuracy_real": None}
    from kws.evaluate import real_speech_accuracy

    real = real_speech_accuracy(folder, models, classes, settings)
    _log(format_report(real["int8"], title="real speech int8: "))
    return {"accuracy_real": real["int8"]["accuracy"], "real_speech": real}


def accuracy_summary(metrics: dict[str, Any]) -> str:
    """The lines that say on what speech each accuracy was measured."""
    lines = []
    val = metrics["splits"].get("validation")
    if val is not None:
        what = ("SYNTHETIC speech (TTS voices), not people"
                if metrics["validation_speech"] == "synthetic" else "the dataset's clips")
        lines.append(f"kws: validation accuracy {val['int8']['accuracy']:.3f} (int8) is on "
                     f"{what}")
    real = metrics.get("real_speech")
    if real is not None:
        lines.append(f"kws: real-speech accuracy {real['int8']['accuracy']:.3f} (int8, "
                     f"{real['clips']} clips of {real['folder']}"
                     + ("" if real["split"] == "all" else f", {real['split']} split")
                     + "; words the model does not know count as _unknown_)")
    elif metrics["validation_speech"] == "synthetic":
        lines.append("kws: real-speech accuracy: not measured (no real recordings found)")
    return "\n".join(lines)
