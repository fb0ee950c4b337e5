"""``kws eval``: a trained model on labelled WAV files, and on long streams.

Clip evaluation runs the int8 model on reference kernels (ai-edge-litert's BUILTIN_REF op
resolver, or the PyPI tflite-micro interpreter) and the float model beside it, on features from
the bit-exact front end; labels come from each file's folder name or from a CSV
(``path,label``). Words the model does not know count as ``_unknown_``; folders named
``_background_noise_`` are cut into 1 s ``_silence_`` clips.

Stream evaluation slides the model over a long recording at the firmware's stride, runs the
firmware's integer detector (:class:`kws.detect.Detector`), and scores detections against an events
CSV
(``start_s,end_s,label``): a detection of the event's label between its start and 1 s after
its end is a hit (one per event); every other detection is a false accept.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from kws.audio import AUDIO_SUFFIXES, fit_clip, load_audio
from kws.data.manifest import BACKGROUND, SILENCE, UNKNOWN
from kws.detect import Detector, DetectorSettings
from kws.errors import KwsError
from kws.fileio import walk_files, write_text_atomic
from kws.frontend.settings import FrontendSettings
from kws.metrics import format_report, plot_confusion, report
from kws.run import read_float_model, read_labels, read_model, read_settings
from kws.runtime.reference import ReferenceInterpreter
from kws.train.features import compute_features

HIT_TOLERANCE_S = 1.0


def load_run(model_path: str | Path) -> tuple[bytes, bytes | None, list[str], FrontendSettings]:
    """A model file and, from its folder (:mod:`kws.run`), the float model, labels and
    front-end settings."""
    int8 = read_model(model_path)
    classes = list(read_labels(model_path, num_classes=ReferenceInterpreter(int8).num_classes))
    return int8, read_float_model(model_path), classes, read_settings(model_path)


def labelled_files(folder: str | Path, classes: list[str], *,
                   labels_csv: str | Path | None = None) -> list[tuple[Path, str]]:
    """(file, class) pairs of a folder of audio: label = CSV entry, else the parent folder.

    Labels that are not classes of the model become ``_unknown_``.
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
        if label not in classes:
            if UNKNOWN not in classes:
                raise KwsError(f"{f}: label {label!r} is not one of the model's classes "
                               f"({', '.join(classes)}) and the model has no {UNKNOWN}")
            label = UNKNOWN
        pairs.append((f, label))
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
    png = Path(png_out) if png_out else Path(model_path).parent / "confusion_eval.png"
    plot_confusion(out["int8"], png, title=f"int8 on {Path(wavs).name}: "
                   f"accuracy {out['int8']['accuracy']:.3f}")
    print(f"kws: confusion matrix: {png}")
    if json_out:
        write_text_atomic(json_out, json.dumps(out, indent=1) + "\n")
    return out


def score_models(models: dict[str, bytes | None], feats: np.ndarray, labels: list[str],
                 classes: list[str], settings: FrontendSettings, *,
                 backend: str = "litert") -> dict[str, dict[str, Any]]:
    """:func:`kws.metrics.report` of each model (name -> .tflite bytes; None is skipped) on
    int8 features ``feats`` (N, frames, coeffs) whose labels are classes of the model."""
    y = np.array([classes.index(lab) for lab in labels])
    out = {}
    for name, blob in models.items():
        if blob is not None:
            probs = ReferenceInterpreter(blob, backend=backend).predict_features(feats, settings)
            out[name] = report(y, probs.argmax(axis=1), classes)
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
    pairs = [(root / e.path, e.label if e.label in classes else UNKNOWN)
             for e in (chosen or entries) if e.label in classes or UNKNOWN in classes]
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


def stream_outputs(model: ReferenceInterpreter, samples: np.ndarray, settings: FrontendSettings, *,
                   stride: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """int8 outputs (N, C) of the int8 model every ``stride`` hops, and the time in ms of the
    newest sample each inference has seen.

    Inference ``n`` sees frames ``n*stride .. n*stride + num_frames - 1``.
    """
    if model.input_dtype != np.int8:
        raise KwsError("stream evaluation needs the int8 model (model.tflite)")
    feats = compute_features(samples, settings)
    nf = settings.num_frames
    if len(feats) < nf:
        raise KwsError("stream is shorter than one model window")
    starts = np.arange(0, len(feats) - nf + 1, stride)
    windows = np.stack([feats[s:s + nf] for s in starts])
    q = model.predict_raw(windows)
    ends = (starts * settings.hop_samples + settings.window_samples
            + (nf - 1) * settings.hop_samples) * 1000 // settings.sample_rate
    return q, ends


def score_detections(dets: list[tuple[float, str]], events: list[tuple[float, float, str]],
                     duration_s: float) -> dict[str, float]:
    """False accepts per hour and miss rate of (time, label) detections against events."""
    used = [False] * len(events)
    fa = 0
    for t, label in dets:
        hit = next((i for i, (s, e, lab) in enumerate(events)
                    if not used[i] and lab == label and s <= t <= e + HIT_TOLERANCE_S), None)
        if hit is None:
            fa += 1
        else:
            used[hit] = True
    n = len(events)
    return {"false_accepts": fa, "fa_per_hour": fa / (duration_s / 3600.0),
            "misses": n - sum(used), "miss_rate": (n - sum(used)) / n if n else float("nan"),
            "events": n}


def evaluate_stream(model_path: str | Path, stream: str | Path, events_csv: str | Path, *,
                    stride: int = 2, smooth: int = 3, threshold: int = 200,
                    refractory_s: float = 1.0, json_out: str | Path | None = None,
                    png_out: str | Path | None = None) -> dict[str, Any]:
    """False accepts per hour and miss rate over a long recording, and a DET curve PNG.

    Parameters
    ----------
    model_path : path-like
        A run's int8 model.tflite.
    stream, events_csv : path-like
        The recording and its ``start_s,end_s,label`` events.
    stride : int, keyword-only
        Model every ``stride`` front-end hops (the firmware's stride).
    smooth, threshold : int, keyword-only
        Detector ``K`` and the uint8 threshold of every keyword (the operating point).
    refractory_s : float, keyword-only
        Refractory time, rounded to whole inferences.
    """
    int8, _, classes, settings = load_run(model_path)
    model = ReferenceInterpreter(int8)
    samples = load_audio(stream)
    events = read_events(events_csv)
    q, ends = stream_outputs(model, samples, settings, stride=stride)
    zp = int(model.output_details["quantization"][1])
    duration = len(samples) / settings.sample_rate

    def run(thr: int) -> dict[str, float]:
        det = Detector(DetectorSettings.default_for(
            classes, threshold=thr, average_window=smooth, model_every_hops=stride,
            refractory_ms=int(round(refractory_s * 1000))), output_zero_point=zp)
        dets = []
        for row, t in zip(q, ends):
            d = det.process(row, time_ms=int(t))
            if d is not None:
                dets.append((d.time_ms / 1000.0, d.label))
        return score_detections(dets, events, duration)

    point = run(threshold)
    curve = [{"threshold": t, **run(t)} for t in range(0, 256, 15)]
    out = {"model": str(model_path), "stream": str(stream), "duration_s": duration,
           "stride": stride, "smooth": smooth, "threshold": threshold,
           "refractory_s": refractory_s, **point, "det": curve}
    print(f"stream {duration / 60:.1f} min, {point['events']} events: "
          f"{point['fa_per_hour']:.2f} false accepts/hour, miss rate {point['miss_rate']:.3f} "
          f"(threshold {threshold}/255, smoothing {smooth}, stride {stride} hops)")
    png = Path(png_out) if png_out else Path(model_path).parent / "det_curve.png"
    _plot_det(curve, png)
    print(f"kws: DET curve: {png}")
    if json_out:
        write_text_atomic(json_out, json.dumps(out, indent=1) + "\n")
    return out


def _plot_det(curve: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kws.fileio import atomic_path

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([c["fa_per_hour"] for c in curve], [c["miss_rate"] for c in curve], marker=".")
    ax.set_xlabel("false accepts per hour")
    ax.set_ylabel("miss rate")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_title("DET over thresholds 0..255")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
