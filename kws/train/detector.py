"""The end of ``kws train``: choose the run's detector on held-out audio and write detector.json.

Held-out calibration audio (never trained on):

- a **keyword stream**: the run's validation clips (keywords as events, its ``_unknown_`` and
  word-class clips between them, in the validation split's own proportions, long enough for
  each clip to be heard about once: :func:`stream_minutes`), 2-5 s apart at 5-30 dB SNR over
  the held-out part of the noise files (:func:`kws.data.labelled_stream.make_stream`) — the
  misses are measured here, and the other words' false accepts (a model hears "go" as "no"
  far more often than running speech);
- **TTS running speech**: keyword-free sentences (:mod:`kws.data.running_speech`, a sentence
  bank with its own seed, cached and shared by every keyword set);
- the **calibration part of the user's negatives** (``--negatives DIR``; a stable hash puts a
  quarter of the files here, :func:`negatives_part`; the rest is for training), or all of a
  folder never trained on (``kws calibrate RUN --negatives DIR``: the product's own audio,
  recorded after training).

**Held-out speech as the run heard its training clips** (:func:`held_out_speaker`): when the
run's augmentation recipe perturbs speakers (``speakers``, the default for synthetic speech),
every held-out clip of the keyword stream gets one :func:`kws.data.speakers.perturb_speaker`
and the TTS running speech one per 2-4 s piece (:func:`kws.data.speakers.perturb_long`) plus
the held-out noise at 5-30 dB below it (:func:`kws.train.negatives.add_noise`). Clean
synthetic voices are far easier than a room of real speakers: calibrated on them, the
synthetic default's thresholds let 1-20 false accepts an hour through on real speech for a
target of 1 (README, "measured in session 15"). Recorded datasets (``basic``) and the user's
own recordings are used as they are.

:func:`kws.calibrate.calibrate` picks thresholds, smoothing window and refractory time for
``--target-fa-per-hour``; the run gets ``detector.json`` and ``calibration.json``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.audio import AUDIO_SUFFIXES, load_audio, quantize_int16, save_wav
from kws.calibrate import Calibration, calibrate
from kws.data.manifest import UNKNOWN, clip_class
from kws.data.speakers import SpeakerConfig
from kws.errors import KwsError
from kws.fileio import write_text_atomic

#: Fraction of the user's negative recordings kept for calibration.
CALIBRATION_FRACTION = 0.25
#: Seed offset of the calibration sentence bank (training negatives use the run's seed).
CALIBRATION_SEED = 100
DISTRACTORS = "unknownwords"
#: Tag of the held-out speech's speaker perturbation in its generators' seeds.
SPEAKER_SEED_TAG = 0x5bea
#: Seconds of keyword stream per validation clip: the clip (under 1 s of speech) and its
#: 2-5 s gap, so that each clip is heard about once.
SECONDS_PER_CLIP = 4.3
#: Bounds of the keyword stream's length (minutes).
STREAM_MINUTES = (2.0, 40.0)
#: Largest share of other words among the stream's clips (the rest are keywords).
MAX_DISTRACTOR_SHARE = 0.9
PARTS = ("calibration", "training", "all")


def negatives_part(name: str) -> str:
    """``calibration`` or ``training``: a stable hash of the file name decides."""
    h = int(hashlib.sha1(Path(name).name.encode()).hexdigest()[:8], 16) / 2 ** 32
    return "calibration" if h < CALIBRATION_FRACTION else "training"


def negatives_folder(folder: str | os.PathLike[str]) -> Path:
    """``folder`` as a Path; a :class:`KwsError` naming it if it is not a folder."""
    root = Path(folder)
    if not root.is_dir():
        raise KwsError(f"{root}: --negatives must be a folder of recordings")
    return root


def negative_recordings(folder: str | os.PathLike[str] | None, part: str
                        ) -> list[tuple[str, np.ndarray]]:
    """(name, int16 audio) of the user's negatives of ``part`` (``calibration``, ``training``
    or ``all``; none if no folder)."""
    if part not in PARTS:
        raise KwsError(f"negatives part must be one of {', '.join(PARTS)} (got {part!r})")
    if folder is None:
        return []
    root = negatives_folder(folder)
    files = sorted(f for f in root.rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise KwsError(f"{root}: no .wav or .flac recordings for --negatives")
    return [(str(f), load_audio(f)) for f in files
            if part == "all" or negatives_part(f.name) == part]


def held_out_speaker(cfg: Any) -> SpeakerConfig | None:
    """The speaker perturbation of a run's held-out speech (module docstring): its
    augmentation recipe's (:func:`kws.train.trainer.augment_name`), None for ``basic``."""
    from kws.data.augment import augment_preset
    from kws.train.trainer import augment_name

    return augment_preset(augment_name(cfg)).speaker


def heldout_negatives(*, words: Sequence[str], cache: Path, seed: int,
                      negatives: str | None, tts_minutes: float,
                      negatives_part: str = "calibration", speaker: SpeakerConfig | None = None,
                      noise: Any = None) -> list[tuple[str, np.ndarray]]:
    """(name, int16 audio) of the held-out keyword-free audio (module docstring): the
    ``negatives_part`` of the user's negatives (``all`` for a folder never trained on) and
    ``tts_minutes`` of TTS running speech; with ``speaker``, the TTS speech is perturbed
    piece by piece (:func:`kws.data.speakers.perturb_long`) and gets ``noise`` (a
    :class:`kws.data.augment.NoiseBank`, the held-out part) at 5-30 dB below it."""
    from kws.data.running_speech import running_speech

    negs = negative_recordings(negatives, negatives_part)
    if tts_minutes > 0:
        speech = running_speech(minutes=tts_minutes, keywords=words,
                                seed=CALIBRATION_SEED + seed, cache_dir=cache / "running_speech")
        name = "TTS running speech"
        if speaker is not None:
            from kws.data.speakers import perturb_long
            from kws.train.negatives import add_noise

            rng = np.random.default_rng([seed, SPEAKER_SEED_TAG])
            speech = add_noise(perturb_long(speech, rng=rng, config=speaker), noise, rng)
            name += " (speakers and noise)"
        negs.append((name, speech))
    return negs


def stream_minutes(keywords: int, others: int) -> float:
    """Length of the keyword stream for ``keywords`` validation keyword clips and ``others``
    other-word clips: each clip about once (at most :data:`MAX_DISTRACTOR_SHARE` other words),
    within :data:`STREAM_MINUTES`.

    >>> stream_minutes(100, 400), stream_minutes(10, 0), stream_minutes(1000, 9000)
    (35.833333333333336, 2.0, 40.0)
    """
    clips = min(keywords + others, keywords / (1 - MAX_DISTRACTOR_SHARE))
    return float(np.clip(clips * SECONDS_PER_CLIP / 60.0, *STREAM_MINUTES))


def keyword_stream(examples: Sequence[Any], words: Sequence[str], noise: Any, *, seed: int,
                   speaker: SpeakerConfig | None = None
                   ) -> tuple[np.ndarray, list[tuple[float, float, str]]] | None:
    """The keyword stream from the validation examples (module docstring); None when there
    is no validation clip of a keyword. With ``speaker`` each clip is heard through its own
    :func:`kws.data.speakers.perturb_speaker` (seeded by ``seed`` and the clip's place), at
    its own peak level."""
    from kws.data.labelled_stream import make_stream

    val = [e for e in examples if e.split == "validation" and e.path and (
        e.label in words or clip_class(e.label) == UNKNOWN)]
    n_kw = sum(e.label in words for e in val)
    if n_kw == 0:
        return None
    n_unk = len(val) - n_kw
    prob = min(MAX_DISTRACTOR_SHARE, n_unk / len(val))
    minutes = stream_minutes(n_kw, n_unk)
    with tempfile.TemporaryDirectory() as tmp:
        for i, e in enumerate(val):
            folder = Path(tmp) / (e.label if e.label in words else DISTRACTORS)
            folder.mkdir(exist_ok=True)
            if speaker is None:
                os.symlink(Path(e.path).resolve(), folder / f"{i:06d}{Path(e.path).suffix}")
            else:
                save_wav(folder / f"{i:06d}.wav", _perturbed_clip(e.path, speaker, [seed, i]))
        samples, events = make_stream(source=tmp, words=list(words), minutes=minutes, seed=seed,
                                      noise=noise, distractors=[DISTRACTORS] if n_unk else [],
                                      distractor_prob=prob, gap_s=(2.0, 5.0),
                                      noise_dbfs=(-50.0, -50.0), snr_db=(5.0, 30.0),
                                      noise_prob=1.0)
    return samples, [(e.time_ms / 1000.0, e.end_ms / 1000.0, e.label) for e in events]


def _perturbed_clip(path: str | os.PathLike[str], speaker: SpeakerConfig,
                    seed: list[int]) -> np.ndarray:
    """One clip (int16) through :func:`kws.data.speakers.perturb_at_level`."""
    from kws.data.speakers import perturb_at_level

    x = load_audio(path).astype(np.float32) / 32768.0
    rng = np.random.default_rng([*seed, SPEAKER_SEED_TAG])
    return quantize_int16(np.clip(perturb_at_level(x, rng=rng, config=speaker), -1.0, 1.0))


def calibrate_run(run: str | os.PathLike[str], *, examples: Sequence[Any], words: Sequence[str],
                  noise: Any, cache: Path, target_fa_per_hour: float, seed: int,
                  negatives: str | None = None, tts_minutes: float = 10.0,
                  negatives_part: str = "calibration", workers: int = 2,
                  speaker: SpeakerConfig | None = None) -> Calibration:
    """Calibrate the run's detector on held-out audio; write detector.json and
    calibration.json; return the calibration.

    ``negatives_part``: which of the ``negatives`` recordings calibrate (``calibration``: the
    quarter training did not use; ``all``: a folder never trained on). ``speaker``: the
    perturbation of the held-out speech (:func:`held_out_speaker`; None: as recorded)."""
    from kws.evaluate import score_recordings
    from kws.run import write_detector
    from kws.simulate import default_detector, load_run_model

    model = load_run_model(run)
    base = default_detector(model)
    ks = keyword_stream(examples, words, noise, seed=seed, speaker=speaker)
    stream, events = ks if ks is not None else (None, None)
    negs = heldout_negatives(words=words, cache=cache, seed=seed, negatives=negatives,
                             tts_minutes=tts_minutes, negatives_part=negatives_part,
                             speaker=speaker, noise=noise)
    scored = score_recordings(model, stream=stream, events=events,
                              negatives=[x for _, x in negs],
                              negative_names=[n for n, _ in negs],
                              model_every_hops=base.model_every_hops, workers=workers)
    cal = calibrate(scored, base, target_fa_per_hour=target_fa_per_hour)
    write_detector(run, cal.settings)
    import json

    write_text_atomic(Path(run) / "calibration.json", json.dumps(
        {**cal.to_dict(), "keyword_stream_minutes": 0 if stream is None else
         len(stream) / 16000 / 60,
         "negatives": [n for n, _ in negs]}, indent=1) + "\n")
    return cal


def describe(cal: Calibration) -> str:
    """One line for the training log."""
    s = cal.settings
    th = ", ".join(f"{lab} {t}" for lab, t in zip(s.labels, s.thresholds) if t <= 255)
    state = "meets" if cal.met else "CANNOT meet"
    return (f"kws: detector: thresholds {th}, smoothing {s.average_window}, refractory "
            f"{s.refractory_ms} ms; {cal.fa_per_hour:.2f} false accepts/hour on "
            f"{cal.negative_hours * 60:.0f} min of held-out negative audio ({state} the target "
            f"{cal.target_fa_per_hour:g}/h); expected miss rate {cal.miss_rate:.3f} on "
            f"{cal.events} held-out keywords"
            + ("" if cal.resolved else
               f"\nkws: warning: one false accept on {cal.negative_hours * 60:.0f} min is "
               f"{cal.fa_resolution_per_hour:.1f}/h, above the target: only zero false accepts "
               f"meet it, so one confident window can push a threshold to 255; give at least "
               f"{60 / max(cal.target_fa_per_hour, 1e-9):.0f} min of representative negative "
               f"audio (--negatives DIR, --calibration-minutes)"))


def recalibrate(run: str | os.PathLike[str], *, negatives: str | None = None,
                target_fa_per_hour: float | None = None, tts_minutes: float | None = None,
                cache_dir: str | None = None, workers: int = 2) -> Calibration:
    """Choose a trained run's detector again (``kws calibrate RUN``), without training.

    The held-out audio is the one ``kws train`` calibrated on (the validation keyword stream,
    TTS running speech, the calibration part of its ``--negatives``), except that
    ``negatives``, when given, is a folder of keyword-free recordings the run never trained on
    (the product's own audio) and is used whole. detector.json, calibration.json and the
    ``detector`` entry of metrics.json are rewritten.

    Parameters
    ----------
    run : path-like
        A folder written by ``kws train``.
    negatives : str, optional
        Keyword-free recordings to calibrate on, all of them.
    target_fa_per_hour, tts_minutes : float, optional
        Default: the run's own (config.json).
    cache_dir : str, optional
        Default: the run's, else the user cache.

    Raises
    ------
    KwsError
        Not a run folder, a missing data or negatives folder, a negative target.
    """
    from kws.run import read_metrics, write_metrics
    from kws.train.trainer import default_cache, noise_bank, read_config, resolve_examples

    cfg = read_config(run)
    if target_fa_per_hour is not None and target_fa_per_hour < 0:
        raise KwsError(f"--target-fa-per-hour: must be >= 0 (got {target_fa_per_hour})")
    if negatives is not None:
        negatives_folder(negatives)             # before the keyword stream is built
    cache = Path(cache_dir or cfg.cache_dir or default_cache())
    examples, data_noise, _ = resolve_examples(cfg, cache)
    cal = calibrate_run(
        run, examples=examples, words=cfg.words,
        noise=noise_bank(cfg, data_noise, part="heldout"), cache=cache,
        target_fa_per_hour=cfg.target_fa_per_hour if target_fa_per_hour is None
        else target_fa_per_hour,
        seed=cfg.seed, negatives=negatives if negatives is not None else cfg.negatives,
        tts_minutes=cfg.calibration_minutes if tts_minutes is None else tts_minutes,
        negatives_part="all" if negatives is not None else "calibration", workers=workers,
        speaker=held_out_speaker(cfg))
    if (Path(run) / "metrics.json").is_file():
        metrics = read_metrics(run)
        metrics["detector"] = cal.summary()
        write_metrics(run, metrics)
    return cal
