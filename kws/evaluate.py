"""``kws eval``: a trained model on labelled WAV files, and on long streams.

Clip evaluation runs the int8 model on reference kernels (ai-edge-litert's BUILTIN_REF op
resolver, or the PyPI tflite-micro interpreter) and the float model beside it, on features from
the bit-exact front end; labels come from each file's folder name or from a CSV
(``path,label``). Words the model does not know count as ``_unknown_``; folders named
``_background_noise_`` are cut into 1 s ``_silence_`` clips.

Detection evaluation runs the firmware's schedule (:mod:`kws.simulate`; the C runtime through
ctypes, bit-exact with TFLite Micro) over a long recording with an events CSV
(``start_s,end_s,label``) and/or a folder of keyword-free recordings, runs the firmware's
integer detector (:class:`kws.detect.Detector`, vectorized in :func:`kws.scoring.detect_all`)
and scores it with :mod:`kws.scoring`'s matching rule (MLPerf Tiny streaming wakeword's):
false accepts per hour of non-keyword audio, miss rate, and a DET curve over thresholds.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.audio import AUDIO_SUFFIXES, fit_clip, load_audio
from kws.data.manifest import BACKGROUND, SILENCE, UNKNOWN, model_class
from kws.detect import DetectorSettings
from kws.ensemble import mean_outputs
from kws.errors import KwsError
from kws.fileio import walk_files, write_text_atomic
from kws.frontend.settings import FrontendSettings
from kws.metrics import format_report, plot_confusion, report
from kws.run import (
    ensemble_members,
    read_float_model,
    read_labels,
    read_model,
    read_settings,
    run_folder,
)
from kws.runtime.reference import ReferenceInterpreter
from kws.scoring import (
    GUARD_AFTER_S,
    HIT_AFTER_S,
    detect_all,
    keyword_free_seconds,
    match,
    operating_points,
    smoothed_scores,
    with_threshold,
)
from kws.simulate import (
    StreamModel,
    c_runtime_available,
    detector_settings_for,
    is_streamable,
    load_run_model,
    recording_outputs,
    recording_outputs_stepped,
    tflm_model_fn,
)
from kws.train.features import compute_features


def load_run(model_path: str | Path
             ) -> tuple[list[bytes], list[bytes] | None, list[str], FrontendSettings]:
    """A run's int8 model and, from its folder (:mod:`kws.run`), its float model, labels and
    front-end settings; the models as lists: one, or an ensemble's members (``kws ensemble``;
    no float models unless every member has one)."""
    files = ensemble_members(model_path) or (model_path,)
    int8 = [read_model(f) for f in files]
    flt = [read_float_model(f) for f in files]
    classes = list(read_labels(model_path,
                               num_classes=ReferenceInterpreter(int8[0]).num_classes))
    return (int8, None if any(f is None for f in flt) else flt, classes,
            read_settings(model_path))


def predict_classes(models: Sequence[bytes], feats: np.ndarray, settings: FrontendSettings, *,
                    backend: str = "litert") -> np.ndarray:
    """The class index (N,) a model, or an ensemble of models, predicts for int8 features
    (N, frames, coeffs): the argmax of one model's output; of an ensemble of int8 models, of
    the members' int8 outputs averaged as the device does (:func:`kws.ensemble.mean_outputs`);
    of float models, of their probabilities averaged."""
    interps = [ReferenceInterpreter(m, backend=backend) for m in models]
    if len(interps) == 1:
        return interps[0].predict_features(feats, settings).argmax(axis=1)
    if all(i.input_dtype == np.int8 and i.output_details["dtype"] == np.int8 for i in interps):
        return mean_outputs([i.predict_raw(feats) for i in interps]).argmax(axis=1)
    return np.mean([i.predict_features(feats, settings) for i in interps], axis=0).argmax(axis=1)


def labelled_files(folder: str | Path, classes: list[str], *,
                   labels_csv: str | Path | None = None) -> list[tuple[Path, str]]:
    """(file, class) pairs of a folder of audio: label = CSV entry, else the parent folder.

    Labels that are not classes of the model become their word class if the model has it
    (scored as ``_unknown_``, :mod:`kws.metrics`), else ``_unknown_``.
    """
    root = Path(folder)
    if not root.is_dir():
        raise KwsError(f"{root}: no such folder of WAV files")
    table: dict[str, str] = {}
    if labels_csv is not None:
        with open(labels_csv, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                if len(row) >= 2 and row[0] != "path":
                    table[row[0]] = row[1]
    pairs = []
    for f in walk_files(root, AUDIO_SUFFIXES):
        rel = f.relative_to(root).as_posix()
        label = table.get(rel) or table.get(f.name) or (
            f.parent.name if labels_csv is None or not table else None)
        if label is None:
            continue
        if label == BACKGROUND:
            label = SILENCE
        if model_class(label, classes) not in classes:
            raise KwsError(f"{f}: label {label!r} is not one of the model's classes "
                           f"({', '.join(classes)}) and the model has no {UNKNOWN}")
        pairs.append((f, model_class(label, classes)))
    if not pairs:
        raise KwsError(f"{root}: no labelled .wav or .flac files")
    return pairs


def clip_features(pairs: list[tuple[Path, str]], settings: FrontendSettings
                  ) -> tuple[np.ndarray, list[str], list[str]]:
    """int8 features (N, F, C) of labelled files, their labels, and the files skipped.

    Files longer than 1 s that are ``_silence_`` are cut into 1 s clips; others keep their
    first second.
    """
    n = settings.clip_samples
    audio, labels, skipped = [], [], []
    for f, label in pairs:
        try:
            x = load_audio(f)
        except KwsError:
            skipped.append(str(f))
            continue
        if label == SILENCE and len(x) >= 2 * n:
            for start in range(0, len(x) - n + 1, n):
                audio.append(x[start:start + n])
                labels.append(label)
        else:
            audio.append(fit_clip(x, n))
            labels.append(label)
    if skipped:
        print(f"kws: warning: skipped {len(skipped)} unreadable file(s): "
              f"{', '.join(skipped[:10])}", file=sys.stderr)
    if not audio:
        raise KwsError("no readable audio files to evaluate")
    return compute_features(np.stack(audio), settings), labels, skipped


def evaluate_clips(model_path: str | Path, wavs: str | Path, *,
                   labels_csv: str | Path | None = None, json_out: str | Path | None = None,
                   png_out: str | Path | None = None, backend: str = "litert") -> dict[str, Any]:
    """Clip accuracy of a run's int8 model (and its float model) on a folder of audio.

    Returns the dict written to ``json_out``: ``{"int8": report, "float": report}``.
    """
    int8, flt, classes, settings = load_run(model_path)
    pairs = labelled_files(wavs, classes, labels_csv=labels_csv)
    feats, labels, skipped = clip_features(pairs, settings)
    out: dict[str, Any] = {"model": str(model_path), "wavs": str(wavs), "skipped": skipped}
    out.update(score_models({"int8": int8, "float": flt}, feats, labels, classes, settings,
                            backend=backend))
    for name in ("int8", "float"):
        if name in out:
            print(format_report(out[name], title=f"{name:<6}"))
    png = Path(png_out) if png_out else run_folder(model_path) / "confusion_eval.png"
    plot_confusion(out["int8"], png, title=f"int8 on {Path(wavs).name}: "
                   f"accuracy {out['int8']['accuracy']:.3f}")
    print(f"kws: confusion matrix: {png}")
    if json_out:
        write_text_atomic(json_out, json.dumps(out, indent=1) + "\n")
    return out


def score_models(models: dict[str, bytes | Sequence[bytes] | None], feats: np.ndarray,
                 labels: list[str], classes: list[str], settings: FrontendSettings, *,
                 backend: str = "litert") -> dict[str, dict[str, Any]]:
    """:func:`kws.metrics.report` of each model (name -> .tflite bytes, or an ensemble's list
    of them, :func:`predict_classes`; None is skipped) on int8 features ``feats`` (N, frames,
    coeffs) whose labels are classes of the model."""
    y = np.array([classes.index(lab) for lab in labels])
    out = {}
    for name, blob in models.items():
        if blob is not None:
            blobs = [blob] if isinstance(blob, bytes) else list(blob)
            out[name] = report(y, predict_classes(blobs, feats, settings, backend=backend),
                               classes)
    return out


def real_speech_accuracy(folder: str | Path, models: dict[str, bytes | None],
                         classes: list[str], settings: FrontendSettings, *,
                         split: str | None = None) -> dict[str, Any]:
    """Clip accuracy of a run's models on real speech.

    Parameters
    ----------
    folder : path-like
        Real recordings in the Speech Commands layout (``<word>/<clip>``, optional list files).
    models : dict of str to bytes or None
        ``{"int8": ..., "float": ...}``.
    classes : list of str
        The models' labels. Words the model does not know count as ``_unknown_`` (and are left
        out when it has no ``_unknown_`` class).
    split : str, optional, keyword-only
        Only this split of the folder (:func:`kws.data.speech_commands.speech_commands_entries`;
        every clip when that split is empty). Default: every clip (a model trained on other
        data has seen none of them).

    Returns
    -------
    dict
        ``folder``, ``split`` (the one used, or ``"all"``), ``clips``, and a report per model.
    """
    from kws.data.speech_commands import speech_commands_entries

    root = Path(folder)
    entries = speech_commands_entries(root)
    chosen = [e for e in entries if e.split == split] if split else []
    used = split if chosen else "all"
    pairs = [(root / e.path, model_class(e.label, classes)) for e in (chosen or entries)
             if model_class(e.label, classes) in classes]
    if not pairs:
        raise KwsError(f"{root}: no clips of the model's words ({', '.join(classes)})")
    feats, labels, skipped = clip_features(pairs, settings)
    out: dict[str, Any] = {"folder": str(root), "split": used, "clips": len(labels),
                           "skipped": skipped}
    out.update(score_models(models, feats, labels, classes, settings))
    return out


def read_events(path: str | os.PathLike[str]) -> list[tuple[float, float, str]]:
    """Events ``(start_s, end_s, label)`` from a CSV: ``start_s,end_s,label`` rows, or the
    ``time_ms,label[,end_ms]`` file that ``kws data stream`` writes."""
    p = Path(path)
    if not p.is_file():
        raise KwsError(f"{p}: no such events file")
    with open(p, newline="", encoding="utf-8") as fh:
        first = fh.readline()
    if "time_ms" in first:
        from kws.data.labelled_stream import read_events as read_ms

        return [(e.time_ms / 1000.0, e.end_ms / 1000.0, e.label) for e in read_ms(p)]
    events = []
    with open(p, newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.reader(fh), start=1):
            if not row or row[0] == "start_s":
                continue
            try:
                events.append((float(row[0]), float(row[1]), row[2].strip()))
            except (ValueError, IndexError):
                raise KwsError(f"{p}:{line}: expected start_s,end_s,label") from None
    return events


def negative_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The audio files under ``folder`` (recursively), sorted.

    Raises
    ------
    KwsError
        If the folder is missing or holds no .wav/.flac file.
    """
    root = Path(folder)
    if not root.is_dir():
        raise KwsError(f"{root}: no such folder of negative recordings")
    files = sorted(f for f in root.rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES
                   and f.is_file())
    if not files:
        raise KwsError(f"{root}: no .wav or .flac negative recordings")
    return files


class Scored:
    """Model outputs of a stream (with events) and of keyword-free recordings, ready to be
    scored at any detector settings (:meth:`at`) or over all thresholds (:meth:`curve`)."""

    def __init__(self, outputs: list[tuple[np.ndarray, np.ndarray]],
                 events: list[list[tuple[float, float, str]]], durations_s: list[float], *,
                 output_zero_point: int, names: list[str] | None = None) -> None:
        self.outputs, self.events, self.durations = outputs, events, durations_s
        self.zp = output_zero_point
        self.names = names or [f"recording {i}" for i in range(len(outputs))]
        self._scores: dict[int, list[np.ndarray]] = {}

    def joined(self, other: Scored) -> Scored:
        """Both sets of recordings as one (``other``'s after this one's): pooled scoring.

        Raises
        ------
        KwsError
            If the two were quantized with different output zero points.
        """
        if other.zp != self.zp:
            raise KwsError(f"cannot pool outputs of zero points {self.zp} and {other.zp}")
        return Scored(self.outputs + other.outputs, self.events + other.events,
                      self.durations + other.durations, output_zero_point=self.zp,
                      names=self.names + other.names)

    def scores(self, k: int) -> list[np.ndarray]:
        """Smoothed scores of every recording for average window ``k`` (cached)."""
        if k not in self._scores:
            self._scores[k] = [smoothed_scores(q, k, self.zp) if len(q) else
                               np.zeros((0, 0), np.int64) for q, _ in self.outputs]
        return self._scores[k]

    def at(self, settings: DetectorSettings) -> dict[str, Any]:
        """Detections at ``settings`` matched against the events (:mod:`kws.scoring`'s rule),
        summed over the recordings; ``fa_files`` names those with false accepts and when."""
        tot = {"hits": 0, "ignored": 0, "confusions": 0, "false_accepts": 0, "events": 0,
               "misses": 0}
        neg_s = stream_s = 0.0
        fa_times: list[tuple[str, float, str]] = []
        for i, ((q, t), sc) in enumerate(zip(self.outputs, self.scores(
                settings.average_window))):
            found = detect_all(q, t, settings, self.zp, scores=sc) if len(q) else []
            dets = [(d.time_ms / 1000.0, d.label) for d in found]
            if self.events[i] is None:            # keyword-free recording
                neg_s += self.durations[i]
                tot["false_accepts"] += len(dets)
                fa_times += [(self.names[i], tt, lab) for tt, lab in dets]
                continue
            m = match(dets, self.events[i])
            for k in tot:
                tot[k] += m[k]
            fa_times += [(self.names[i], tt, lab) for tt, lab in m["fa_times"]]
            neg_s += keyword_free_seconds(self.events[i], self.durations[i])
            stream_s += self.durations[i]
        n = tot["events"]
        return {**tot, "negative_hours": neg_s / 3600.0, "stream_hours": stream_s / 3600.0,
                "fa_per_hour": tot["false_accepts"] / (neg_s / 3600.0) if neg_s > 0
                else float("nan"),
                "miss_rate": tot["misses"] / n if n else float("nan"), "fa_times": fa_times}

    def curve(self, settings: DetectorSettings, thresholds: Sequence[int] = range(256)
              ) -> list[dict[str, Any]]:
        """One point per common keyword threshold (the other settings kept)."""
        pts = []
        for thr in thresholds:
            r = self.at(with_threshold(settings, thr))
            pts.append({"threshold": int(thr), **{k: r[k] for k in (
                "fa_per_hour", "false_accepts", "miss_rate", "misses", "events")}})
        return pts


def score_recordings(model: StreamModel, *, stream: np.ndarray | None = None,
                     events: list[tuple[float, float, str]] | None = None,
                     negatives: Sequence[np.ndarray] = (), negative_names: Sequence[str] = (),
                     model_every_hops: int = 2, engine: str | None = None, workers: int = 2
                     ) -> Scored:
    """Run the model (firmware schedule, C runtime by default) over a labelled stream and
    keyword-free recordings; returns a :class:`Scored`."""
    recs, evs, names = [], [], []
    if stream is not None:
        recs.append(stream)
        evs.append(list(events or []))
        names.append("stream")
    recs += list(negatives)
    evs += [None] * len(negatives)
    names += list(negative_names) or [f"negative {i}" for i in range(len(negatives))]
    engine = engine or ("c" if c_runtime_available() else "tflm")
    if engine == "c" and is_streamable(model):   # the step function: same outputs, less work
        outs = recording_outputs_stepped(recs, model=model, model_every_hops=model_every_hops,
                                         workers=workers)
    else:
        fn = tflm_model_fn(model, workers=workers, engine=engine)
        outs = recording_outputs(recs, frontend=model.frontend,
                                 model_every_hops=model_every_hops, model_fn=fn)
    sr = model.frontend.sample_rate
    return Scored(outs, evs, [len(r) / sr for r in recs],
                  output_zero_point=model.output_zero_point, names=names)


def evaluate_detection(model_path: str | Path, *, stream: str | Path | None = None,
                       events_csv: str | Path | None = None,
                       negatives: str | Path | None = None, stride: int | None = None,
                       smooth: int | None = None, threshold: int | None = None,
                       refractory_s: float | None = None, engine: str | None = None,
                       workers: int = 2, json_out: str | Path | None = None,
                       png_out: str | Path | None = None, quiet: bool = False
                       ) -> dict[str, Any]:
    """False accepts per hour of non-keyword audio, miss rate and a DET curve (PNG + JSON).

    Parameters
    ----------
    model_path : path-like
        A RUN folder or its model.tflite; the detector settings come from its detector.json
        (or the defaults), then from the overrides below.
    stream, events_csv : path-like, optional
        A long recording and its events (``start_s,end_s,label`` or ``kws data stream``'s CSV).
    negatives : path-like, optional
        A folder of keyword-free recordings (every detection there is a false accept).
    stride, smooth, threshold, refractory_s : optional
        Detector overrides: model every N hops, K, every keyword's threshold, seconds.
    engine, workers
        Model engine (``c``: the C runtime, the default when built; ``tflm``) and processes.

    Returns
    -------
    dict
        The operating point (``fa_per_hour``, ``miss_rate``, counts, hours), ``det`` (the
        curve over thresholds 0..255) and ``operating_points`` (best miss rate per FA budget).
    """
    if stream is None and negatives is None:
        raise KwsError("kws eval: give --stream WAV --events CSV and/or --negatives DIR")
    if (stream is None) != (events_csv is None):
        raise KwsError("kws eval: --stream and --events go together")
    model = load_run_model(model_path)
    det = detector_settings_for(model, threshold=threshold, average_window=smooth,
                                model_every_hops=stride, refractory_ms=None if refractory_s
                                is None else int(round(refractory_s * 1000)))
    samples = load_audio(stream) if stream is not None else None
    events = read_events(events_csv) if events_csv is not None else None
    neg_files = negative_files(negatives) if negatives is not None else []
    neg_audio = [load_audio(f) for f in neg_files]
    sc = score_recordings(model, stream=samples, events=events, negatives=neg_audio,
                          negative_names=[str(f) for f in neg_files],
                          model_every_hops=det.model_every_hops, engine=engine,
                          workers=workers)
    point = sc.at(det)
    curve = sc.curve(det)
    out = {"model": str(model.path), "stream": str(stream) if stream else None,
           "negatives": str(negatives) if negatives else None,
           "negative_files": len(neg_files), "detector": det.to_dict(),
           "matching_rule": MATCHING_RULE,
           **{k: v for k, v in point.items() if k != "fa_times"},
           "fa_times": point["fa_times"], "det": curve,
           "operating_points": operating_points(curve)}
    if not quiet:
        print(format_detection(out))
    png = Path(png_out) if png_out else model.path.parent / "det_curve.png"
    _plot_det(curve, png, title=f"{model.path.parent.name}: DET over thresholds 0..255")
    write_text_atomic(png.with_suffix(".json"), json.dumps(
        {"matching_rule": MATCHING_RULE, "detector": det.to_dict(),
         "negative_hours": out["negative_hours"], "events": out["events"],
         "operating_points": out["operating_points"], "det": curve}, indent=1) + "\n")
    if not quiet:
        print(f"kws: DET curve: {png} (points: {png.with_suffix('.json')})")
    if json_out:
        write_text_atomic(json_out, json.dumps(out, indent=1) + "\n")
    return out


MATCHING_RULE = (f"hit: a detection of the event's keyword between its start and "
                 f"{HIT_AFTER_S:g} s after its end (one per event); detections up to "
                 f"{GUARD_AFTER_S:g} s after the end are not false accepts; FA/h over the "
                 "audio outside those spans (MLPerf Tiny streaming wakeword)")


def format_detection(r: dict[str, Any]) -> str:
    """The human summary of :func:`evaluate_detection`'s result."""
    d = r["detector"]
    th = ",".join(f"{lab}={t}" for lab, t in zip(d["labels"], d["thresholds"]) if t <= 255)
    lines = [f"non-keyword audio {r['negative_hours'] * 60:.1f} min (stream "
             f"{r['stream_hours'] * 60:.1f} min with {r['events']} keyword events"
             f", {r['negative_files']} negative recordings): "
             f"{r['fa_per_hour']:.2f} false accepts/hour ({r['false_accepts']}), miss rate "
             f"{r['miss_rate']:.3f} ({r['misses']}/{r['events']}), {r['confusions']} "
             f"confusions",
             f"  detector: thresholds {th}, smoothing {d['average_window']}, model every "
             f"{d['model_every_hops']} hops, refractory {d['refractory_ms']} ms",
             f"  matching: {MATCHING_RULE}",
             "  DET operating points (best miss rate at FA/h <= budget): " + "; ".join(
                 f"{p['fa_per_hour_budget']:g}/h: " + (
                     f"miss {p['miss_rate']:.3f} @ {p['threshold']}" if p["threshold"]
                     is not None else "none") for p in r["operating_points"])]
    return "\n".join(lines)


def evaluate_stream(model_path: str | Path, stream: str | Path, events_csv: str | Path,
                    **kwargs: Any) -> dict[str, Any]:
    """:func:`evaluate_detection` on one labelled stream."""
    return evaluate_detection(model_path, stream=stream, events_csv=events_csv, **kwargs)


def _plot_det(curve: list[dict[str, Any]], path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kws.fileio import atomic_path

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([c["fa_per_hour"] for c in curve], [c["miss_rate"] for c in curve], marker=".")
    ax.set_xlabel("false accepts per hour")
    ax.set_ylabel("miss rate")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
