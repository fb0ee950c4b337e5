"""``kws train --words yes,no``: train, quantize and evaluate a keyword model."""

from __future__ import annotations

import argparse

from kws.data.augment import AUGMENT_PRESETS
from kws.models import MODELS
from kws.train.trainer import RECIPE_NEGATIVE_MINUTES, RECIPE_PER_WORD, TrainConfig


def run(args: argparse.Namespace) -> int:
    """Build a :class:`TrainConfig` from the arguments and train."""
    from kws.train.trainer import train

    defaults = TrainConfig(words=[])
    cfg = TrainConfig(
        words=[w.strip() for w in args.words.split(",")],
        out=args.out, data=args.data, data_dir=args.data_dir, model=args.model,
        epochs=args.epochs if args.epochs is not None else defaults.epochs,
        batch_size=args.batch_size, copies=args.copies, per_word=args.per_word,
        seed=args.seed, cache_dir=args.cache_dir, noise_dir=args.noise_dir,
        extra_unknown=args.extra_unknown,
        unknown_percent=args.unknown_percent, silence_percent=args.silence_percent,
        balance=args.balance,
        real_eval=None if args.real_eval == "none" else args.real_eval,
        target_fa_per_hour=args.target_fa_per_hour,
        negatives=args.negatives, calibration_minutes=args.calibration_minutes,
        negative_minutes=args.negative_minutes, mining_rounds=args.mining_rounds,
        negative_weight=args.negative_weight, checkpoint_choice=args.checkpoint_choice,
        time_mask=args.time_mask, freq_mask=args.freq_mask,
        augment=args.augment, teacher=args.teacher, teacher_weight=args.teacher_weight,
        label_smoothing=args.label_smoothing, word_classes=args.word_classes,
        word_class_balance=args.word_class_balance, average_epochs=args.average_epochs,
        prune=args.prune, prune_epochs=args.prune_epochs, qat=args.qat,
        qat_epochs=args.qat_epochs)
    train(cfg, resume=args.resume)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` sub-command."""
    d = TrainConfig(words=[])
    p = sub.add_parser("train", help="train a keyword model and quantize it to int8",
                       description="Train a keyword model (default tcn-stream-max, which the "
                                   "device runs one step per 20 ms hop) on the named words, "
                                   "quantize it to int8 and write a run folder.")
    p.add_argument("--words", required=True, help="comma-separated keywords, e.g. yes,no")
    p.add_argument("--data", default=d.data,
                   help="synth (offline TTS corpus, default), speech-commands, or a dataset "
                        "folder with manifest.csv")
    p.add_argument("--data-dir", default=None, help="the Speech Commands folder")
    p.add_argument("--model", default=d.model, choices=list(MODELS),
                   help=f"model family (default {d.model}: streamable, a decision every hop "
                        f"at ~6 M instructions/s on the M4; ds-cnn-s: the window model)")
    p.add_argument("--epochs", type=int, default=None, help=f"epochs (default {d.epochs})")
    p.add_argument("--out", default=d.out, help="run folder (default ./run)")
    p.add_argument("--resume", action="store_true", help="continue after the last checkpoint")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--copies", type=int, default=d.copies,
                   help="pre-generated augmented copies per training clip")
    p.add_argument("--per-word", type=int, default=RECIPE_PER_WORD,
                   help="synthetic clips per keyword (--data synth)")
    p.add_argument("--unknown-percent", type=float, default=d.unknown_percent,
                   help="_unknown_ clips, %% of the keyword clips")
    p.add_argument("--silence-percent", type=float, default=d.silence_percent,
                   help="_silence_ clips, %% of the keyword clips")
    p.add_argument("--balance", type=float, default=d.balance,
                   help="class weighting exponent: 0 none, 1 fully balanced (default)")
    p.add_argument("--extra-unknown", default=None,
                   help="more _unknown_ speech: synth, or a dataset folder")
    p.add_argument("--noise-dir", default=None,
                   help="a folder of background-noise recordings for augmentation. Default: "
                        "the dataset's _background_noise_, else synthesized noise (the same "
                        "on every machine)")
    p.add_argument("--real-eval", default="auto", metavar="DIR",
                   help="real recordings (<word>/<clip>) to score the model on after training; "
                        "auto (default): with --data synth, the repository's real clips; "
                        "none: skip")
    p.add_argument("--target-fa-per-hour", type=float, default=d.target_fa_per_hour,
                   help="false accepts per hour the detector is calibrated to on held-out "
                        "negative audio (thresholds, smoothing, refractory -> detector.json)")
    p.add_argument("--negatives", default=None,
                   help="folder of your keyword-free recordings (hours of your product's "
                        "ambient audio): a quarter calibrates the detector, the rest trains")
    p.add_argument("--negative-minutes", type=float, default=RECIPE_NEGATIVE_MINUTES,
                   help="minutes of TTS running speech (plus babble) cut into 100 ms-stride "
                        "windows as training negatives (0: none; default %(default)g)")
    p.add_argument("--mining-rounds", type=int, default=d.mining_rounds,
                   help="rounds of hard-negative mining after training (each: the model on "
                        "20 min of other keyword-free windows, those that fire are added, "
                        "3 more epochs)")
    p.add_argument("--negative-weight", type=float, default=d.negative_weight,
                   help="loss weight of the --negative-minutes/--negatives windows, together "
                        "and outside the class balance, relative to one balanced class "
                        "(default %(default)g)")
    p.add_argument("--checkpoint-choice", choices=("last", "fa"), default=d.checkpoint_choice,
                   help="last epoch, or fa: the epoch (second half) with the best validation "
                        "recall among those meeting --target-fa-per-hour on held-out negative "
                        "windows")
    p.add_argument("--time-mask", type=int, default=d.time_mask,
                   help="SpecAugment: widest band of frames masked per example (0: off)")
    p.add_argument("--freq-mask", type=int, default=d.freq_mask,
                   help="SpecAugment: widest band of coefficients masked per example (0: off; "
                        "default 2 for synthetic speech, 0 otherwise)")
    p.add_argument("--calibration-minutes", type=float, default=d.calibration_minutes,
                   help="minutes of held-out TTS running speech for calibration (0: none)")
    p.add_argument("--augment", default=d.augment, choices=("auto",) + AUGMENT_PRESETS,
                   help="augmentation recipe: basic (shift, speed, reverb, EQ, level, noise), "
                        "speakers (basic plus VTLP, pitch, tempo, simulated rooms, microphone "
                        "EQ and band limits); auto (default): speakers for --data synth, "
                        "basic for recorded data")
    p.add_argument("--teacher", default=None, metavar="RUN[,RUN...]|ENS|openwakeword",
                   help="distil from trained RUN folders (a larger model or an ensemble with "
                        "the same words and front end; a kws ensemble folder ENS stands for "
                        "its members), or from openWakeWord's pretrained "
                        "speech embedding (openwakeword): their soft outputs are mixed into "
                        "the targets")
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing,
                   help="share of each target spread over all classes (0: none, e.g. 0.1): "
                   "keeps confident outputs below the int8 top score, so thresholds rank them")
    p.add_argument("--word-classes", default=d.word_classes, metavar="none|all|WORD,...",
                   help="other words of the dataset trained as output classes of their own "
                        "(e.g. go,down: the model learns go from no) instead of as _unknown_: "
                        "all their clips, weighted by --word-class-balance (--unknown-percent "
                        "draws _unknown_ from the remaining words); the "
                        "detector never reports them, clip accuracy counts them as _unknown_ "
                        "(default none)")
    p.add_argument("--word-class-balance", choices=("unknown", "own"),
                   default=d.word_class_balance,
                   help="class weight of the --word-classes: unknown (default): together "
                        "with _unknown_ as one class (the priors of a run without them); "
                        "own: each as a class of its own, like a keyword")
    p.add_argument("--average-epochs", type=int, default=d.average_epochs, metavar="N",
                   help="the model is the mean of the weights after each of the last N epochs "
                        "(stochastic weight averaging; 0: the last epoch's, default)")
    p.add_argument("--teacher-weight", type=float, default=d.teacher_weight,
                   help="share of the teacher in the targets (0-1)")
    p.add_argument("--prune", type=float, default=d.prune, metavar="RATIO",
                   help="after training, remove this fraction of every layer's channels "
                        "(structured pruning: a smaller, faster model) and fine-tune "
                        "(default 0: none)")
    p.add_argument("--prune-epochs", type=int, default=d.prune_epochs,
                   help=f"fine-tuning epochs after pruning (default {d.prune_epochs})")
    p.add_argument("--qat", action="store_true",
                   help="end with quantization-aware training (fine-tune through the int8 "
                        "model's rounding)")
    p.add_argument("--qat-epochs", type=int, default=d.qat_epochs,
                   help=f"quantization-aware epochs (default {d.qat_epochs})")
    p.add_argument("--cache-dir", default=None, help="cache root (default $KWS_CACHE or "
                                                     "~/.cache/kws)")
    p.set_defaults(func=run)
