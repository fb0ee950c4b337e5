"""What the voice-activity gate (kws/gate.py) costs in keywords and saves in inferences.

For a RUN, on test streams of real Speech Commands clips from the *validation* split (the RUN's
words as events, the other words as distractors) laid over background noise
(:func:`kws.data.labelled_stream.make_stream`), the streaming simulation runs twice, without and
with the gate, with the RUN's detector settings; both are scored against the events (a hit:
the label of an unmatched event, from its start to ``kws.scoring.HIT_AFTER_S`` after its end,
the detection benchmark's matching rule). Printed per condition: keywords hit without / with
the gate, keywords the gate lost (hit without, missed with) and gained, false accepts, and the
fraction of scheduled inferences the gate skipped. For every keyword the gate lost, its
loudest frame's level above the gate's noise floor (Q3 octaves) is printed, to compare with the
gate's margin: the gate can only lose a keyword none of whose frames rose ``margin`` above the
floor, or whose smoothed score needed an inference of a window with no such frame.

Conditions: ``levels`` (noise -65..-35 dBFS, clip peaks -30..-3 dBFS, 70 % recorded noise:
make_stream's defaults) and ``snr`` (recorded held-out noise at -50 dBFS, clips at 5-30 dB
SNR: ``kws bench accuracy``'s stream protocol).

    kws bench gate RUN [--minutes 10] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.errors import KwsError


def _stream(words: list[str], condition: str, minutes: float, seed: int):  # noqa: ANN202
    from kws.bench import shared_dir
    from kws.data.augment import NoiseBank
    from kws.data.labelled_stream import make_stream
    from kws.data.manifest import BACKGROUND

    shared = shared_dir()
    source = shared / "speech_commands_train"
    bank = NoiseBank.from_folder(shared / "audio" / BACKGROUND, part="heldout")
    if condition == "levels":
        return make_stream(source=source, words=words, minutes=minutes, seed=seed, noise=bank,
                           split="validation")
    if condition == "snr":
        return make_stream(source=source, words=words, minutes=minutes, seed=seed, noise=bank,
                           split="validation", gap_s=(2.0, 5.0), noise_dbfs=(-50.0, -50.0),
                           snr_db=(5.0, 30.0), noise_prob=1.0)
    raise KwsError(f"unknown condition {condition!r}")


def _hits(dets: list[tuple[float, str]], events: list[tuple[float, float, str]]) -> set[int]:
    from kws.scoring import HIT_AFTER_S

    used: set[int] = set()
    for t, label in dets:
        for i, (s, e, lab) in enumerate(events):
            if i not in used and lab == label and s <= t <= e + HIT_AFTER_S:
                used.add(i)
                break
    return used


def _event_margin(samples: np.ndarray, event: tuple[float, float, str], fe: Any,
                  gate: Any) -> int:
    """Loudest frame of the event minus the gate's floor before it, in Q3 octaves."""
    from kws.gate import Gate, frame_magnitudes, log2_q3

    g = Gate(gate)
    mags = frame_magnitudes(samples, window=fe.window_samples, hop=fe.hop_samples)
    first = int(event[0] * fe.sample_rate - fe.window_samples) // fe.hop_samples
    last = int(event[1] * fe.sample_rate) // fe.hop_samples
    best = -10**9
    for f, v in enumerate(mags[:last + 1]):
        level = log2_q3(int(v))
        if f >= first:
            best = max(best, level - -(-g.floor // 256))
        g.step(int(v))
    return best


def run_condition(run: Path, condition: str, *, minutes: float, seed: int) -> dict[str, Any]:
    """Scores of one condition without and with the gate (see the module docstring)."""
    from kws.gate import GateSettings
    from kws.simulate import (
        c_runtime_available,
        detect_all,
        detector_settings_for,
        host_step_fn,
        inference_frames,
        is_streamable,
        load_run_model,
        posteriors,
        stream_features,
        tflm_model_fn,
    )

    model = load_run_model(run)
    words = [w for w in model.labels if not w.startswith("_")]
    samples, events = _stream(words, condition, minutes, seed)
    ev = [(e.time_ms / 1000.0, e.end_ms / 1000.0, e.label) for e in events]
    feats = stream_features(samples, model.frontend)
    if is_streamable(model):                 # the step function, one step per frame
        engines = {"step_fn": host_step_fn(model)}
    else:
        engines = {"model_fn": tflm_model_fn(model, engine="c" if c_runtime_available()
                                             else "tflm")}
    out: dict[str, Any] = {"condition": condition, "events": len(ev),
                           "seconds": len(samples) / 16000.0}
    gate = GateSettings()
    for name, g in (("off", False), ("on", gate)):
        det = detector_settings_for(model, gate=g)
        times, outs = posteriors(samples, frontend=model.frontend, detector=det,
                                 features=feats, **engines)
        found = detect_all(times, outs, detector=det,
                           output_zero_point=model.output_zero_point)
        dets = [(d.time_ms / 1000.0, d.label) for d in found]
        hits = _hits(dets, ev)
        out[name] = {"hits": hits, "detections": len(dets), "false_accepts": len(dets) - len(hits),
                     "inferences": len(times)}
    scheduled = len(inference_frames(len(feats), window_frames=model.frontend.num_frames,
                                     every=detector_settings_for(model).model_every_hops))
    lost = sorted(out["off"]["hits"] - out["on"]["hits"])
    out["lost"] = [(ev[i], _event_margin(samples, ev[i], model.frontend, gate)) for i in lost]
    out["gained"] = len(out["on"]["hits"] - out["off"]["hits"])
    out["skipped_fraction"] = 1.0 - out["on"]["inferences"] / max(scheduled, 1)
    out["margins"] = [_event_margin(samples, e, model.frontend, gate) for e in ev]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(prog="kws bench gate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="RUN folder (a trained model)")
    ap.add_argument("--minutes", type=float, default=10.0, help="minutes per condition")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--conditions", default="levels,snr")
    args = ap.parse_args(argv)
    from kws.gate import GateSettings

    print(f"gate {GateSettings()}")
    for cond in args.conditions.split(","):
        r = run_condition(Path(args.run), cond, minutes=args.minutes, seed=args.seed)
        off, on = r["off"], r["on"]
        m = np.array(r["margins"])
        print(f"{cond}: {r['seconds']:.0f} s, {r['events']} keywords; hits without gate "
              f"{len(off['hits'])}, with gate {len(on['hits'])}; lost {len(r['lost'])}, gained "
              f"{r['gained']}; false accepts {off['false_accepts']} -> {on['false_accepts']}; "
              f"inferences skipped {100 * r['skipped_fraction']:.1f} %")
        print(f"  keyword level above the gate's floor (Q3 octaves): min {m.min()}, "
              f"5th pct {np.percentile(m, 5):.0f}, median {np.median(m):.0f}; below the margin "
              f"({GateSettings().margin}): {int((m < GateSettings().margin).sum())}")
        for (s, e, lab), margin in r["lost"]:
            print(f"  lost {lab} at {s:.2f}-{e:.2f} s: loudest frame {margin} Q3 above floor")
    return 0
