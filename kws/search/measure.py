"""Measured, not estimated: a RUN's whole firmware under QEMU, and its model's layers.

- :func:`firmware_figures` builds the real firmware (``kws firmware build``) of a RUN with the
  detector deciding every ``every`` hops and measures it as ``kws firmware report --json``
  does: instructions per second of audio (exact counts under QEMU, every scheduled inference
  running), flash and RAM (sections + painted stack).
- :func:`layer_counts` counts the exact instructions of each kernel call of one model run (a
  window inference, or a streaming step in steady state) with the model-runner harness.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.detect import is_keyword
from kws.errors import KwsError

#: Multiples of the FA/h target at which the last rung's screen takes the miss rate; their mean
#: ranks (at the target alone, 1 FA/h, nearly every synthetic-trained candidate misses almost
#: every real keyword, which tells them apart by one or two keywords of noise).
SCREEN_BUDGET_FACTORS = (1.0, 10.0, 100.0)
#: Speaker-hash splits of a ``--real-speech`` folder (``stream`` mode): the screen's and the
#: finalists' report's, disjoint so that no figure is reported on audio a choice was made on.
TUNING_SPLITS, SCORING_SPLITS = ("train",), ("validation", "test")


def with_decision_every(run: Path, every: int) -> None:
    """Write RUN/detector.json deciding every ``every`` hops with the voice-activity gate on
    (the product default, and what the cost model's firmware was calibrated with: the gate
    costs about 2,300 instructions per hop); thresholds, smoothing and refractory time as the
    RUN's now."""
    from kws.gate import GateSettings
    from kws.run import write_detector
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(run)
    det = detector_settings_for(model, model_every_hops=every)
    if det.gate is None:
        det = detector_settings_for(model, model_every_hops=every, gate=GateSettings())
    write_detector(run, det)


def firmware_figures(run: str | Path, *, every: int | None = None,
                     seconds: float = 4.0) -> dict[str, Any]:
    """``kws firmware report --json`` figures of RUN's real firmware image.

    Parameters
    ----------
    run : path-like
        RUN folder (model.tflite, labels.txt, settings.json, optional detector.json).
    every : int, optional
        Decide every ``every`` hops (writes RUN/detector.json); None: as the RUN says.
    seconds : float
        Length of the report's test inputs.
    """
    from kws.device.pipeline import build_firmware, measure_firmware, report_inputs, run_firmware
    from kws.simulate import detector_settings_for, load_run_model

    run = Path(run)
    if every is not None:
        with_decision_every(run, every)
    model = load_run_model(run)
    det = detector_settings_for(model)
    with tempfile.TemporaryDirectory(prefix="kws-search-fw-") as tmp:
        elf = build_firmware(run, Path(tmp) / "fw.elf", build_dir=Path(tmp) / "build")
        res = run_firmware(elf, report_inputs(seconds)[0], workdir=Path(tmp) / "run")
        return measure_firmware(elf, stack_used=res.summary.get("stack_bytes"),
                                hop_ms=model.frontend.hop_ms, every=det.model_every_hops,
                                seconds=seconds, num_frames=model.frontend.num_frames,
                                stream=res.summary.get("steps", 0) > 0,
                                gate_hangover=det.gate.hangover if det.gate else 0)


@dataclasses.dataclass(frozen=True)
class RunCount:
    """Exact instructions of one model run: per kernel call, and the whole call."""

    layers: list[int]
    total: int


def layer_counts(model_path: str | Path, *, streaming: bool, seed: int = 0) -> RunCount:
    """Instructions of each kernel call of one model run on the M4 (QEMU, DSP path).

    Window models: one inference of a random input. Streaming models: the median over the
    steps after the window has filled (each step of a random frame stream).
    """
    from kws.runtime import target

    rng = np.random.default_rng(seed)
    m = target.build_m4_model(model_path)
    if not streaming:
        first = m.export.layers[0].params
        size = int(first["in_h"]) * int(first["in_w"]) * int(first.get("in_c", 1))
        x = rng.integers(-128, 128, size, dtype=np.int64).astype(np.int8)
        layers, total = target.count_layers(model_path, x)
        return RunCount([l.instructions for l in layers], int(total))
    sp = m.export.stream
    if sp is None:
        raise KwsError(f"{model_path}: not streamable: {m.export.not_streamable}")
    frames = rng.integers(-128, 128, (sp.window + 8, sp.frame_size), dtype=np.int64)
    total, per_layer = target.count_steps(model_path, frames.astype(np.int8))
    w = sp.window
    return RunCount([int(np.median(per_layer[w:, i])) for i in range(per_layer.shape[1])],
                    int(np.median(total[w:])))


#: How the finalists' false accepts are measured (``--detection``): ``bench``: the real
#: streams of ``kws bench detection`` (:func:`bench_detection`); ``stream``: a stream of the
#: ``--real-speech`` clips (:func:`_stream_parts`); ``auto``: ``bench`` where its data are
#: present (:func:`bench_missing`), else ``stream``.
DETECTION_MODES = ("auto", "bench", "stream")


def bench_missing() -> str | None:
    """Why ``kws bench detection``'s real streams cannot be built here (a missing folder of
    the shared data, or the screening's recognizer), or None."""
    from kws.bench import shared_dir
    from kws.bench.detection import DIALOGUE

    root = shared_dir()
    for sub in ("speech_commands_train", "audio", DIALOGUE):
        if not (root / sub).is_dir():
            return f"{root / sub}: missing"
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return "the pocketsphinx package (screening the dialogue) is not installed"
    return None


def resolve_detection(mode: str | None) -> str:
    """``bench`` or ``stream`` for ``--detection MODE`` (None: ``auto``).

    Raises
    ------
    KwsError
        An unknown mode, or ``bench`` where its data are missing.
    """
    mode = mode or "auto"
    if mode not in DETECTION_MODES:
        raise KwsError(f"{mode!r}: expected one of {', '.join(DETECTION_MODES)}",
                       argument="detection")
    if mode == "stream":
        return mode
    why = bench_missing()
    if why is None:
        return "bench"
    if mode == "bench":
        raise KwsError(f"the real detection benchmark cannot be built: {why}",
                       argument="detection")
    return "stream"


def negative_recordings(folders: Sequence[str | Path]) -> list[tuple[str, np.ndarray]]:
    """(name, int16 samples at 16 kHz) of every recording under ``folders`` (keyword-free
    audio, ``kws eval --negatives``'s files).

    Raises
    ------
    KwsError
        A folder missing or without recordings.
    """
    from kws.audio import load_audio
    from kws.evaluate import negative_files

    return [(str(f), load_audio(f)) for d in folders for f in negative_files(d)]


def _pool(parts: list[tuple[str, Any]]) -> Any:
    """One :class:`kws.evaluate.Scored` of all the scored ``parts`` (name, Scored)."""
    from kws.evaluate import Scored

    return Scored([o for _, s in parts for o in s.outputs],
                  [e for _, s in parts for e in s.events],
                  [d for _, s in parts for d in s.durations],
                  output_zero_point=parts[0][1].zp, names=[n for _, s in parts for n in s.names])


def _pooled(model: Any, det: Any, parts: list[tuple[str, Any]]) -> dict[str, Any]:
    """Detection figures of RUN's detector pooled over scored ``parts`` (name, Scored), with
    each part's non-keyword minutes and false accepts."""
    pooled = _pool(parts)
    r = pooled.at(det)
    rows = []
    for name, s in parts:
        p = s.at(det)
        rows.append({"name": name, "negative_minutes": round(p["negative_hours"] * 60, 2),
                     "false_accepts": p["false_accepts"],
                     "audio_minutes": round(sum(s.durations) / 60, 2)})
    return {k: r[k] for k in ("fa_per_hour", "false_accepts", "miss_rate", "misses", "events",
                              "negative_hours")} | {
        "stream_minutes": round(sum(pooled.durations) / 60, 2), "parts": rows}


def _score_negatives(model: Any, det: Any, negatives: Sequence[str | Path]) -> list[Any]:
    from kws.evaluate import score_recordings

    if not negatives:
        return []
    recs = negative_recordings(negatives)
    sc = score_recordings(model, negatives=[x for _, x in recs],
                          negative_names=[n for n, _ in recs],
                          model_every_hops=det.model_every_hops, workers=1)
    return [(f"negatives {', '.join(str(d) for d in negatives)}", sc)]


def bench_detection(run: str | Path, *, minutes: float = 30.0, seed: int = 0,
                    negatives: Sequence[str | Path] = ()) -> dict[str, Any]:
    """False accepts per hour and misses of RUN's detector on ``kws bench detection``'s real
    streams (:mod:`kws.bench.detection`): a ``minutes`` stream of the held-out Speech Commands
    split (the keywords as events among other real words) and the screened scoring half of
    the shared running dialogue, with ``negatives`` (folders of keyword-free recordings)
    pooled in; firmware schedule, the matching rule of :mod:`kws.scoring`.

    Returns
    -------
    dict
        ``fa_per_hour``, ``false_accepts``, ``miss_rate``, ``misses``, ``events``,
        ``negative_hours``, ``stream_minutes`` (all audio scored), ``parts`` (each stream's
        ``name``, ``audio_minutes``, ``negative_minutes`` and ``false_accepts``), ``source``.
    """
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(run)
    det = detector_settings_for(model)
    parts = _bench_parts(model, det, minutes=minutes, seed=seed, negatives=negatives)
    return _pooled(model, det, parts) | {"source": "kws bench detection"}


def _bench_parts(model: Any, det: Any, *, minutes: float, seed: int,
                 negatives: Sequence[str | Path], tuning: bool = False
                 ) -> list[tuple[str, Any]]:
    """The scored parts of :func:`bench_detection` (name, Scored); ``tuning``: the same kind
    of streams from the audio the benchmark never scores (the Speech Commands training split,
    which a synthetic-trained candidate has not heard, and the tuning half of the dialogue)."""
    from kws.bench.detection import (
        dialogue_files,
        join_lines,
        screened_lines,
        speech_commands_stream,
    )
    from kws.evaluate import score_recordings

    words = [w for w in model.labels if is_keyword(w)]
    kw = {"model_every_hops": det.model_every_hops, "workers": 1}
    split, half = ("train", "tuning") if tuning else ("heldout", "scoring")
    samples, events, _ = speech_commands_stream(words, minutes=minutes, split=split,
                                                seed=seed)
    parts = [(f"speech commands ({'held-out' if split == 'heldout' else split} split)",
              score_recordings(model, stream=samples, events=events, **kw))]
    lines, _ = screened_lines(dialogue_files(half), words, jobs=1)
    recs = join_lines(lines, seed=seed)
    parts.append((f"running dialogue ({half} half, screened)", score_recordings(
        model, negatives=[x for x, _ in recs],
        negative_names=[f"dialogue {i}" for i in range(len(recs))], **kw)))
    return parts + _score_negatives(model, det, negatives)


def _stream_parts(model: Any, det: Any, folder: str | Path, *, minutes: float, seed: int,
                  split: str | Sequence[str] | None, negatives: Sequence[str | Path]
                  ) -> list[tuple[str, Any]]:
    """The scored parts of a stream of real recordings (name, Scored): the keywords of
    ``folder`` (Speech Commands layout; clips of ``split``) as events among its other words,
    2-5 s apart at 5-30 dB SNR over held-out synthesized noise
    (:func:`kws.data.labelled_stream.make_stream`), scored with the firmware's schedule, and
    ``negatives`` (folders of keyword-free recordings)."""
    from kws.data.augment import synthetic_background
    from kws.data.labelled_stream import make_stream
    from kws.evaluate import score_recordings

    words = [w for w in model.labels if is_keyword(w)]
    samples, events = make_stream(source=folder, words=words, minutes=minutes, seed=seed,
                                  noise=synthetic_background(part="heldout"), split=split,
                                  distractor_prob=0.5, gap_s=(2.0, 5.0), snr_db=(5.0, 30.0))
    if not events:
        raise KwsError(f"{folder}: no clips of {', '.join(words)} for a detection stream")
    which = "" if split is None else f" ({'+'.join([split] if isinstance(split, str) else split)})"
    parts = [(f"stream of {folder}{which}", score_recordings(
        model, stream=samples, events=[(e.time_ms / 1000.0, e.end_ms / 1000.0, e.label)
                                       for e in events],
        model_every_hops=det.model_every_hops))]
    return parts + _score_negatives(model, det, negatives)


def detection_parts(model: Any, det: Any, *, mode: str, real_speech: str | Path | None,
                    minutes: float, seed: int = 0, negatives: Sequence[str | Path] = (),
                    tuning: bool = False) -> list[tuple[str, Any]]:
    """The scored parts (name, :class:`kws.evaluate.Scored`) of ``model`` deciding as ``det``
    says, from the source ``--detection`` names: ``bench`` (:func:`bench_detection`'s
    streams), ``stream`` (:func:`_stream_parts`' stream of the :data:`SCORING_SPLITS` of
    ``real_speech``; only the ``negatives`` without it; none when there are none either).
    ``tuning``: the screen's audio instead, disjoint from what the finalists are reported on
    (bench: :func:`_bench_parts`' tuning streams; stream: the :data:`TUNING_SPLITS`). The
    user's ``negatives`` are pooled into both."""
    if mode == "bench":
        return _bench_parts(model, det, minutes=minutes, seed=seed, negatives=negatives,
                            tuning=tuning)
    if mode != "stream":
        raise KwsError(f"{mode!r}: expected bench or stream", argument="detection")
    if real_speech:
        return _stream_parts(model, det, real_speech, minutes=minutes, seed=seed,
                             split=TUNING_SPLITS if tuning else SCORING_SPLITS,
                             negatives=negatives)
    return _score_negatives(model, det, negatives)


def _source(mode: str, real_speech: str | Path | None) -> str:
    return ("kws bench detection" if mode == "bench" else
            str(real_speech) if real_speech else "negatives")


def finalist_detection(run: str | Path, *, mode: str, real_speech: str | Path | None,
                       minutes: float, seed: int = 0,
                       negatives: Sequence[str | Path] = ()) -> dict[str, Any] | None:
    """A finalist's detection figures (RUN's detector.json) as ``--detection`` says
    (:func:`detection_parts`), pooled as :func:`bench_detection` returns them; None when
    there is nothing to score."""
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(run)
    det = detector_settings_for(model)
    parts = detection_parts(model, det, mode=mode, real_speech=real_speech, minutes=minutes,
                            seed=seed, negatives=negatives)
    if not parts:
        return None
    return _pooled(model, det, parts) | {"source": _source(mode, real_speech)}


def miss_at_target(run: str | Path, *, every: int, target_fa_per_hour: float, mode: str,
                   real_speech: str | Path | None, minutes: float, seed: int = 0,
                   negatives: Sequence[str | Path] = (),
                   factors: Sequence[float] = SCREEN_BUDGET_FACTORS) -> dict[str, Any] | None:
    """How well RUN's model detects at false-accept budgets, on the screen's audio
    (:func:`detection_parts` with ``tuning``: never what the finalists are reported on): at
    each budget ``target_fa_per_hour`` x ``factors``, the lowest miss rate among the
    detectors (thresholds, smoothing, refractory time; :func:`kws.calibrate.calibrate`) with
    at most that many false accepts per hour on that audio, deciding every ``every`` hops; 1
    where no threshold meets the budget. Free of any detector calibration the RUN has.

    Returns
    -------
    dict or None
        ``screen_miss`` (the mean of the misses over the budgets: the figure ranked on),
        ``misses`` (``[budget, miss]`` pairs), ``miss_at_target``, ``miss_rate`` and
        ``fa_per_hour`` (of the detector chosen at the target), ``met``,
        ``target_fa_per_hour``, ``events``, ``negative_hours``, ``stream_minutes``,
        ``parts`` (the names of the streams scored), ``source``; None when there is nothing
        to score, no keyword event or no keyword-free audio.
    """
    import math

    from kws.calibrate import calibrate
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(run)
    base = detector_settings_for(model, model_every_hops=every)
    parts = detection_parts(model, base, mode=mode, real_speech=real_speech, minutes=minutes,
                            seed=seed, negatives=negatives, tuning=True)
    if not parts:
        return None
    pooled = _pool(parts)
    first = pooled.at(base)
    if not first["events"] or first["negative_hours"] <= 0:
        return None
    cals = [calibrate(pooled, base, target_fa_per_hour=target_fa_per_hour * f)
            for f in factors]
    misses = [float(c.miss_rate) if c.met and not math.isnan(c.miss_rate) else 1.0
              for c in cals]
    cal = cals[0]
    return {"screen_miss": sum(misses) / len(misses),
            "misses": [[target_fa_per_hour * f, m] for f, m in zip(factors, misses)],
            "miss_at_target": misses[0], "miss_rate": float(cal.miss_rate),
            "fa_per_hour": float(cal.fa_per_hour), "met": bool(cal.met),
            "target_fa_per_hour": float(target_fa_per_hour), "events": int(cal.events),
            "negative_hours": float(cal.negative_hours),
            "stream_minutes": round(sum(pooled.durations) / 60, 2),
            "parts": [name for name, _ in parts],
            "source": _source(mode, real_speech) + " (tuning audio)"}
