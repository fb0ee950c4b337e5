"""``kws bench detection RUN``: false accepts per hour of real non-keyword speech, misses,
DET operating points and clip accuracy of a trained run, on streams this benchmark builds.

Streams (each scored on its own and printed with its length):

1. **Speech Commands stream** (real): the run's keywords from the speaker-hash ``--split``
   (default ``heldout``: validation and test together, the clips no recipe trains on; the test
   portion alone has only 40 clips) of ``../shared/speech_commands_train``
   as events, between non-keyword words: that split's other words, plus every clip of the words
   of ``../shared/audio`` that are not in the training folder (never trained on), 2-5 s apart
   at 5-30 dB SNR over the held-out last 20 % of the background-noise files at -50 dBFS
   (:func:`kws.data.labelled_stream.make_stream`).
2. **Running speech** (real): the *scoring* half of ``../shared/negatives/bass_dialogue``
   (:func:`dialogue_part`; the other half is for tuning and training negatives, see
   ``kws data screen --half tuning``), **screened**: the lines where PocketSphinx's keyword
   search hears a keyword (or its homophone: "know" for "no") at a lenient threshold are left
   out (:mod:`kws.data.screen`; cached; ``--no-screen`` keeps them), the rest resampled from
   11 kHz and joined with 0.2-0.8 s pauses over white noise at -60 dBFS into 10 min
   recordings. The false accepts are listed by line in ``--json`` so they can be checked by
   ear.
3. **TTS running speech** (synthetic; a second, clearly labelled number):
   :func:`kws.data.running_speech.running_speech` sentences, cached.

Real FA/h pools streams 1 and 2. The detector is the run's ``detector.json`` (or the
defaults); the matching rule is :data:`kws.evaluate.MATCHING_RULE`. Scoring runs the firmware's
schedule with the C front end and the C runtime through ctypes, ``--jobs`` processes.

    kws bench detection RUN [--sc-minutes 60] [--tts-minutes 20] [--split test] [--json F]
                            [--budgets 10,20,50,100] [--smoothing 4,8,16]

``--json`` also lists each keyword event's peak score, clip and SNR (:func:`event_peaks`):
which keywords are missed, and whether by a little or entirely.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.bench import shared_dir
from kws.errors import KwsError

SAMPLE_RATE = 16000
DIALOGUE = "negatives/bass_dialogue"
#: Fraction of the dialogue lines kept for tuning (thresholds, recipes); the rest is scored.
TUNING_FRACTION = 0.5


def dialogue_part(name: str) -> str:
    """``tuning`` or ``scoring``: a stable hash of the file name decides (50/50)."""
    h = int(hashlib.sha1(Path(name).stem.encode()).hexdigest()[:8], 16) / 2 ** 32
    return "tuning" if h < TUNING_FRACTION else "scoring"


def dialogue_files(part: str, root: Path | None = None) -> list[Path]:
    """The dialogue lines of ``part`` (``tuning`` or ``scoring``), sorted."""
    folder = (root or shared_dir()) / DIALOGUE
    if not folder.is_dir():
        raise KwsError(f"{folder}: missing (the running-speech negatives)")
    return sorted(f for f in folder.iterdir() if f.suffix.lower() in (".flac", ".wav")
                  and dialogue_part(f.name) == part)


def join_lines(files: Sequence[Path], *, minutes: float = 10.0, seed: int = 0
               ) -> list[tuple[np.ndarray, list[tuple[float, str]]]]:
    """Recordings of about ``minutes`` each: lines with 0.2-0.8 s pauses over -60 dBFS white
    noise; each with the (start_s, file name) of its lines."""
    from kws.audio import load_audio, quantize_int16

    rng = np.random.default_rng([seed, 0xd1a])
    out, parts, index, n = [], [], [], 0

    def close() -> None:
        nonlocal parts, index, n
        if parts:
            y = np.concatenate(parts)
            y = y + rng.normal(0.0, 10 ** (-60 / 20), len(y))
            out.append((quantize_int16(np.clip(y, -1, 1)), index))
        parts, index, n = [], [], 0

    for f in files:
        x = load_audio(f).astype(np.float64) / 32768.0
        index.append((n / SAMPLE_RATE, f.name))
        gap = np.zeros(int(rng.uniform(0.2, 0.8) * SAMPLE_RATE))
        parts += [x, gap]
        n += len(x) + len(gap)
        if n >= minutes * 60 * SAMPLE_RATE:
            close()
    close()
    return out


def speech_commands_stream(words: Sequence[str], *, minutes: float, split: str, seed: int = 0
                           ) -> tuple[np.ndarray, list[tuple[float, float, str]], list[Any]]:
    """The real Speech Commands stream (module docstring, 1): samples, events and the
    :class:`kws.data.labelled_stream.Event` of each (its clip and SNR)."""
    from kws.data.augment import NoiseBank
    from kws.data.labelled_stream import make_stream
    from kws.data.manifest import BACKGROUND
    from kws.data.speech_commands import speech_commands_entries

    shared = shared_dir()
    real, audio = shared / "speech_commands_train", shared / "audio"
    entries = [e for e in speech_commands_entries(real) if e.split in _splits(split)]
    if not entries:
        raise KwsError(f"{real}: no clips in the {split} split")
    trained_words = {p.name for p in real.iterdir() if p.is_dir()}
    with tempfile.TemporaryDirectory() as tmp:
        for e in entries:                               # word folders of symlinks
            dst = Path(tmp) / e.label / Path(e.path).name
            dst.parent.mkdir(exist_ok=True)
            os.symlink(real / e.path, dst)
        extra = 0
        for d in sorted(p for p in audio.iterdir() if p.is_dir()):
            if d.name.startswith("_") or d.name in trained_words or d.name in words:
                continue
            for f in sorted(d.iterdir()):
                if f.suffix.lower() in (".wav", ".flac"):
                    dst = Path(tmp) / d.name / f.name
                    dst.parent.mkdir(exist_ok=True)
                    os.symlink(f, dst)
                    extra += 1
        others = [e for e in entries if e.label not in words]
        prob = (len(others) + extra) / max(len(entries) + extra, 1)
        bank = NoiseBank.from_folder(audio / BACKGROUND, part="heldout")
        samples, events = make_stream(source=tmp, words=list(words), minutes=minutes,
                                      seed=seed, noise=bank, distractor_prob=prob,
                                      gap_s=(2.0, 5.0), noise_dbfs=(-50.0, -50.0),
                                      snr_db=(5.0, 30.0), noise_prob=1.0)
    return samples, [(e.time_ms / 1000.0, e.end_ms / 1000.0, e.label) for e in events], events


def event_peaks(scores: np.ndarray, times_ms: np.ndarray, events: Sequence[Any],
                labels: Sequence[str], thresholds: Sequence[int]) -> list[dict[str, Any]]:
    """For each keyword event (:class:`kws.data.labelled_stream.Event`), the highest smoothed
    score of its keyword while it may be hit (its start to ``HIT_AFTER_S`` after its end) and
    the highest other keyword's there; ``reached``: the peak meets its threshold (a detection
    there, unless the refractory time of an earlier one swallows it).

    ``scores``: :func:`kws.scoring.smoothed_scores` (N, C) at ``times_ms`` (N,)."""
    from kws.scoring import HIT_AFTER_S

    t = np.asarray(times_ms, dtype=np.float64) / 1000.0
    sc = np.asarray(scores)
    from kws.detect import is_keyword

    kw = [i for i, lab in enumerate(labels) if is_keyword(lab)]
    out = []
    for e in events:
        c = list(labels).index(e.label)
        m = (t >= e.time_ms / 1000.0) & (t <= e.end_ms / 1000.0 + HIT_AFTER_S)
        peak = int(sc[m, c].max()) if m.any() else 0
        others = [i for i in kw if i != c]
        other = int(sc[m][:, others].max()) if m.any() and others else 0
        out.append({"label": e.label, "source": e.source, "snr_db": e.snr_db,
                    "start_s": e.time_ms / 1000.0, "peak": peak, "other_keyword_peak": other,
                    "reached": peak >= int(thresholds[c])})
    return out


def peak_summary(peaks: Sequence[dict[str, Any]]) -> str:
    """One line: events whose keyword score stays under its threshold, their peak scores
    and SNRs against those of the reached ones."""
    miss = [p for p in peaks if not p["reached"]]
    hit = [p for p in peaks if p["reached"]]

    def med(rows: Sequence[dict[str, Any]], key: str) -> str:
        vals = [r[key] for r in rows if r[key] is not None]
        return f"{np.median(vals):.0f}" if vals else "-"

    per = ", ".join(f"{lab} {sum(p['label'] == lab for p in miss)}/"
                    f"{sum(p['label'] == lab for p in peaks)}"
                    for lab in sorted({p["label"] for p in peaks}))
    low = sum(p["peak"] < 128 for p in miss)
    return (f"keywords under threshold: {len(miss)} of {len(peaks)} ({per}); their peak "
            f"scores {sorted(p['peak'] for p in miss)} ({low} under 128); median SNR "
            f"{med(miss, 'snr_db')} dB (reached ones {med(hit, 'snr_db')} dB)")


def other_words_heard(rep: dict[str, Any]) -> str:
    """One line: how many clips of each non-keyword word went to a keyword
    (:func:`kws.metrics.report`'s ``other_words``; ``""`` without them)."""
    from kws.detect import is_keyword

    rows = []
    for word, m in rep.get("other_words", {}).items():
        wrong = {k: n for k, n in m["predicted"].items() if is_keyword(k)}
        rows.append(f"{word} {sum(wrong.values())}/{m['support']}"
                    + "".join(f", {k} {n}" for k, n in wrong.items()))
    return ("other words' clips heard as keywords (int8; scored as _unknown_): "
            + "; ".join(rows)) if rows else ""


def _splits(split: str) -> tuple[str, ...]:
    return ("validation", "test") if split == "heldout" else (split,)


def tts_stream(words: Sequence[str], *, minutes: float, seed: int = 0) -> np.ndarray:
    """Synthetic running speech (module docstring, 3), the sentences cached under the kws
    cache (seed 1000 + ``seed``: training uses other seeds)."""
    from kws.data.running_speech import running_speech
    from kws.train.trainer import default_cache

    return running_speech(minutes=minutes, keywords=words, seed=1000 + seed,
                          cache_dir=default_cache() / "running_speech")


def screened_lines(files: Sequence[Path], words: Sequence[str], *, jobs: int = 2
                   ) -> tuple[list[Path], list[str]]:
    """(kept lines, names of the lines left out): :func:`kws.data.screen.clean`, cached under
    the kws cache."""
    from kws.data.screen import clean
    from kws.train.trainer import default_cache

    kept, out = clean(files, words, cache_dir=default_cache() / "screen", workers=jobs)
    return kept, [p.name for p in out]


def _line_of(index: list[tuple[float, str]], t: float) -> str:
    starts = [s for s, _ in index]
    return index[max(int(np.searchsorted(starts, t, side="right")) - 1, 0)][1]


def parse_budgets(text: str) -> tuple[float, ...]:
    """``--budgets``: comma-separated FA/h budgets (> 0, ascending order not required) for
    the DET operating points.

    >>> parse_budgets("100,20, 50")
    (20.0, 50.0, 100.0)
    """
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise KwsError(f"--budgets {text!r}: expected comma-separated numbers") from None
    if not vals or any(not v > 0 for v in vals):
        raise KwsError(f"--budgets {text!r}: expected one or more FA/h budgets > 0")
    return tuple(sorted(set(vals)))


def parse_windows(text: str) -> tuple[int, ...]:
    """``--smoothing``: comma-separated smoothing windows K, each 1..16.

    >>> parse_windows("8, 1,16")
    (1, 8, 16)
    """
    try:
        vals = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise KwsError(f"--smoothing {text!r}: expected comma-separated integers") from None
    if not vals or any(not 1 <= v <= 16 for v in vals):
        raise KwsError(f"--smoothing {text!r}: expected windows of 1..16 inferences")
    return tuple(vals)


def smoothing_sweep(scored: Any, det: Any, windows: Sequence[int], budgets: Sequence[float]
                    ) -> dict[int, list[dict[str, Any]]]:
    """The DET operating points of ``scored`` (:class:`kws.evaluate.Scored`) with the detector
    ``det``'s smoothing window replaced by each of ``windows`` (thresholds swept as usual)."""
    import dataclasses

    from kws.scoring import operating_points

    return {k: operating_points(scored.curve(dataclasses.replace(det, average_window=k)),
                                budgets) for k in windows}


def _row(name: str, r: dict[str, Any], budgets: Sequence[float]) -> str:
    if r["events"]:
        ops = "; ".join(f"{p['fa_per_hour_budget']:g}/h: " + (
            f"{p['miss_rate']:.3f}@{p['threshold']}" if p["threshold"] is not None else "-")
            for p in r["operating_points"])
    else:                                   # no keywords: the threshold each budget needs
        ops = "; ".join(f"{b:g}/h: " + next((f"th {c['threshold']}" for c in r["det"]
                                            if c["fa_per_hour"] <= b), "-")
                        for b in budgets)
    miss = f"{r['miss_rate']:.3f} ({r['misses']}/{r['events']})" if r["events"] else "-"
    return (f"{name:<34}{r['negative_hours'] * 60:>8.1f} min{r['fa_per_hour']:>9.1f}"
            f"{r['false_accepts']:>6}  {miss:<16}{ops}")


def main(argv: Sequence[str] | None = None) -> int:
    """Build the streams, score the run, print the table."""
    ap = argparse.ArgumentParser(prog="kws bench detection", description=__doc__.split("\n")[0])
    ap.add_argument("run", help="RUN folder (model.tflite, labels.txt, detector.json)")
    ap.add_argument("--split", default="heldout", choices=("heldout", "validation", "test"),
                    help="speaker-hash portion of the real clips (heldout: validation + test)")
    ap.add_argument("--sc-minutes", type=float, default=60.0,
                    help="length of the Speech Commands stream")
    ap.add_argument("--dialogue", choices=("scoring", "tuning", "none"), default="scoring",
                    help="which half of the real running speech to score (none: skip)")
    ap.add_argument("--no-screen", action="store_true",
                    help="keep the dialogue lines where a keyword is heard")
    ap.add_argument("--tts-minutes", type=float, default=20.0, help="0: no TTS stream")
    ap.add_argument("--no-clips", action="store_true", help="skip the clip accuracy")
    ap.add_argument("--threshold", type=int, default=None, help="override every keyword's")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--engine", choices=("c", "tflm"), default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write every result here")
    ap.add_argument("--smoothing", default=None,
                    help="also print the real pooled DET operating points at these smoothing "
                    "windows K, comma-separated (e.g. 1,4,8,12,16; 1..16)")
    ap.add_argument("--budgets", default=None,
                    help="FA/h budgets of the DET operating points, comma-separated "
                    "(default 0.5,1,2,5,10,50)")
    args = ap.parse_args(argv)

    from kws.detect import is_keyword
    from kws.evaluate import MATCHING_RULE, score_recordings
    from kws.scoring import FA_BUDGETS, operating_points
    from kws.simulate import detector_settings_for, load_run_model

    budgets = parse_budgets(args.budgets) if args.budgets else FA_BUDGETS

    model = load_run_model(args.run)
    det = detector_settings_for(model, threshold=args.threshold)
    words = [w for w in model.labels if is_keyword(w)]
    kw = dict(model_every_hops=det.model_every_hops, engine=args.engine, workers=args.jobs)
    results: dict[str, Any] = {"run": str(args.run), "detector": det.to_dict(),
                               "matching_rule": MATCHING_RULE, "split": args.split}
    t_build = t_score = cpu_score = 0.0
    audio_s = 0.0

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def scored(name: str, sc: Any) -> dict[str, Any]:
        r = sc.at(det)
        r["det"] = sc.curve(det)
        r["operating_points"] = operating_points(r["det"], budgets)
        results[name] = r
        return r

    t0 = time.perf_counter()
    samples, events, event_meta = speech_commands_stream(words, minutes=args.sc_minutes,
                                                         split=args.split, seed=args.seed)
    t_build += time.perf_counter() - t0
    t0, c0 = time.perf_counter(), cpu()
    sc_sc = score_recordings(model, stream=samples, events=events, **kw)
    t_score, cpu_score = t_score + time.perf_counter() - t0, cpu_score + cpu() - c0
    audio_s += len(samples) / SAMPLE_RATE
    rows = [("speech commands (real)", scored("speech_commands", sc_sc))]
    peaks = event_peaks(sc_sc.scores(det.average_window)[0], sc_sc.outputs[0][1], event_meta,
                        det.labels, det.thresholds)
    results["speech_commands"]["event_peaks"] = peaks
    if args.dialogue != "none":
        t0 = time.perf_counter()
        lines = dialogue_files(args.dialogue)
        if not args.no_screen:
            lines, results["screened_out"] = screened_lines(lines, words, jobs=args.jobs)
        recs = join_lines(lines, seed=args.seed)
        t_build += time.perf_counter() - t0
        t0, c0 = time.perf_counter(), cpu()
        sc_d = score_recordings(model, negatives=[x for x, _ in recs],
                                negative_names=[f"dialogue {i}" for i in range(len(recs))], **kw)
        t_score, cpu_score = t_score + time.perf_counter() - t0, cpu_score + cpu() - c0
        audio_s += sum(len(x) for x, _ in recs) / SAMPLE_RATE
        r = scored("dialogue", sc_d)
        r["fa_lines"] = [_line_of(recs[int(n.split()[-1])][1], t) for n, t, _ in r["fa_times"]]
        rows.append((f"running speech ({args.dialogue} half, real)", r))
        pooled = sc_sc.joined(sc_d)
        rows.append(("real, pooled", scored("real", pooled)))
        if args.smoothing:
            results["smoothing_sweep"] = smoothing_sweep(pooled, det, parse_windows(
                args.smoothing), budgets)
    if args.tts_minutes > 0:
        t0 = time.perf_counter()
        x = tts_stream(words, minutes=args.tts_minutes, seed=args.seed)
        t_build += time.perf_counter() - t0
        t0, c0 = time.perf_counter(), cpu()
        sc_t = score_recordings(model, negatives=[x], negative_names=["tts"], **kw)
        t_score, cpu_score = t_score + time.perf_counter() - t0, cpu_score + cpu() - c0
        audio_s += len(x) / SAMPLE_RATE
        rows.append(("TTS running speech (synthetic)", scored("tts", sc_t)))

    if "screened_out" in results:
        from kws.data.screen import THRESHOLD_PER_PHONE

        n_out = len(results["screened_out"])
        print(f"running speech screened: {n_out} of {n_out + len(lines)} lines left out, where "
              f"PocketSphinx keyword search (threshold {THRESHOLD_PER_PHONE:g} per phone) hears "
              f"{', '.join(words)} or a homophone, or its transcript says one (kws.data.screen)")
    th = ",".join(f"{lab}={t}" for lab, t in zip(det.labels, det.thresholds) if t <= 255)
    print(f"run {args.run}: thresholds {th}, smoothing {det.average_window}, model every "
          f"{det.model_every_hops} hops, refractory {det.refractory_ms} ms")
    print(f"matching: {MATCHING_RULE}")
    print(f"{'stream':<34}{'non-kw audio':>12}{'FA/h':>9}{'FAs':>6}  {'miss rate':<16}"
          "DET: best miss@threshold within FA/h budget")
    for name, r in rows:
        print(_row(name, r, budgets))
    print(peak_summary(peaks))
    for k, ops in results.get("smoothing_sweep", {}).items():
        print(f"real, pooled, smoothing K={k:<3} DET: " + "; ".join(
            f"{p['fa_per_hour_budget']:g}/h: " + (f"{p['miss_rate']:.3f}@{p['threshold']}"
                                                  if p["threshold"] is not None else "-")
            for p in ops))
    sc_min = results["speech_commands"]["stream_hours"] * 60
    print(f"(speech commands stream {sc_min:.1f} min, {args.split} split, "
          f"{results['speech_commands']['events']} keyword events)")
    hours = max(audio_s / 3600, 1e-9)
    print(f"scoring time (front end + model + detector): {t_score:.1f} s wall for {hours:.2f} h"
          f" of audio = {t_score / hours / 60:.2f} min per hour with {args.jobs} jobs on this "
          f"(shared) machine; CPU {cpu_score:.1f} s = {cpu_score / hours / 60 / args.jobs:.2f} "
          f"min per hour on {args.jobs} idle cores (target: 10 h in 10 min = 1.0); "
          f"building the streams {t_build:.1f} s")
    if not args.no_clips:
        from kws.bench.accuracy import real_validation
        from kws.bench.accuracy import score as clip_score
        from kws.frontend.settings import FrontendSettings

        feats, labels = [], []
        for part in _splits(args.split):
            f, lab = real_validation(model.frontend or FrontendSettings(), split=part)
            feats.append(f)
            labels += lab
        feats = np.concatenate(feats)
        rep = clip_score(model.path.parent, feats, labels, model.frontend)
        results["clips"] = rep
        print(f"clip accuracy ({args.split} split, {len(labels)} clips): int8 "
              f"{rep['int8']['accuracy']:.4f} (balanced {rep['int8']['balanced_accuracy']:.4f}),"
              f" float {rep['float']['accuracy']:.4f}")
        heard = other_words_heard(rep["int8"])
        if heard:
            print(heard)
    if args.json:
        from kws.fileio import write_text_atomic

        write_text_atomic(args.json, json.dumps(results, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
