"""Speed of the streaming simulation (``kws stream --backend python``) on long recordings.

Targets: one hour of audio in <= 5 minutes on 2 cores for a window model (every 2 hops), and in
<= 2 minutes for a streamable model (``--model RUN`` of ``tcn-stream`` / ``ds-cnn-stream``:
a decision every hop, its generated step function stepped over every frame, as
``kws stream --backend python`` runs it). The peer, measured in the same run: the
straightforward simulation - one process calling the TFLite Micro reference interpreter per
inference on the same schedule - timed on a slice and scaled to the hour.

    python -m kws.bench.stream [--minutes 60] [--model RUN] [--slice-minutes 2]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.bench import shared_dir
from kws.detect import DetectorSettings


def _stream(minutes: float, seed: int) -> np.ndarray:
    from kws.data.labelled_stream import parity_stream


    audio = shared_dir() / "audio"
    if (audio / "yes").is_dir():
        return parity_stream(audio, seconds=minutes * 60.0, seed=seed)[0]
    rng = np.random.default_rng(seed)               # no shared clips: noise at varying level
    n = int(minutes * 60 * 16000)
    level = np.repeat(10 ** rng.uniform(-4, -1, size=n // 16000 + 1), 16000)[:n]
    return np.clip(rng.normal(0, 1, n) * level * 32767, -32768, 32767).astype(np.int16)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(prog="kws bench stream", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--slice-minutes", type=float, default=2.0)
    ap.add_argument("--model", help="RUN folder or model.tflite (default: random DS-CNN-S)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--engine", choices=("c", "tflm"), default=None,
                    help="model engine (default: c when kws.runtime is present, else tflm)")
    args = ap.parse_args(argv)

    from kws.frontend.fixed import features_numpy
    from kws.simulate import (
        _tflm_worker_init,
        _tflm_worker_run,
        c_runtime_available,
        detect_all,
        host_step_fn,
        is_streamable,
        load_run_model,
        posteriors,
        simulate,
        stream_features,
        tflm_model_fn,
    )

    engine = args.engine or ("c" if c_runtime_available() else "tflm")

    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model = load_run_model(args.model)
        else:
            from kws.runtime.testmodels import make_random_run

            model = load_run_model(make_random_run(Path(tmp) / "run"))
        stepped = engine == "c" and is_streamable(model)
        every = 1 if is_streamable(model) else 2
        det = DetectorSettings.default_for(model.labels, model_every_hops=every, gate=None)
        samples = _stream(args.minutes, seed=0)
        fe = model.frontend

        def cpu() -> float:
            own = resource.getrusage(resource.RUSAGE_SELF)
            kids = resource.getrusage(resource.RUSAGE_CHILDREN)
            return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

        c0, t0 = cpu(), time.perf_counter()
        feats = stream_features(samples, fe)
        t_feat, c_feat = time.perf_counter() - t0, cpu() - c0
        c0, t0 = cpu(), time.perf_counter()
        if stepped:   # kws stream --backend python's path for a streamable model
            times, outs = posteriors(samples, frontend=fe, detector=det, features=feats,
                                     step_fn=host_step_fn(model))
            found = detect_all(times, outs, detector=det,
                               output_zero_point=model.output_zero_point)
        else:
            found = simulate(samples, frontend=fe, detector=det, output_zero_point=
                             model.output_zero_point, features=feats,
                             model_fn=tflm_model_fn(model, workers=args.jobs, engine=engine))
        t_model, c_model = time.perf_counter() - t0, cpu() - c0

        # peer: one process, one interpreter call per inference, on a slice
        part = samples[:int(args.slice_minutes * 60 * 16000)]
        pf = features_numpy(part, fe)
        wins = np.lib.stride_tricks.sliding_window_view(pf, (fe.num_frames, fe.num_outputs))
        wins = np.ascontiguousarray(wins[:, 0][::every])
        _tflm_worker_init(model.path.read_bytes())
        c0, t0 = time.process_time(), time.perf_counter()
        _tflm_worker_run(wins)
        scale = len(samples) / max(len(part), 1)
        t_peer = (time.perf_counter() - t0) * scale
        c_peer = (time.process_time() - c0) * scale

    total = t_feat + t_model
    par = 1 if stepped else args.jobs   # processes the model ran in
    hours = len(samples) / 16000 / 3600
    how = "step function every hop, one process" if stepped else (
        f"window model every {every} hops, {args.jobs} worker(s)")
    print(f"audio: {len(samples) / 16000 / 60:.1f} min, {how}, {len(found)} detections "
          f"(no gate: every decision runs)")
    print(f"  features (C front end, ctypes)    {t_feat:8.1f} s")
    print(f"  model ({engine:4s}) + detector       {t_model:8.1f} s")
    print(f"  total                             {total:8.1f} s  = {total / hours / 60:.2f} "
          f"min per hour of audio (target <= {2 if stepped else 5})")
    print(f"  CPU time: features {c_feat:.1f} s, model + detector {c_model:.1f} s; on an idle "
          f"machine with {args.jobs} cores about {(c_feat + c_model / par) / hours / 60:.2f}"
          " min per hour of audio (the machine may be shared: wall time above counts waiting)")
    idle = c_feat + c_model / par
    print(f"  peer: single-process TFLM loop    {t_peer:8.1f} s wall, {c_peer:.1f} s CPU (model "
          f"only, scaled from {args.slice_minutes:g} min)")
    print(f"  ratio peer / ours: {t_peer / max(total, 1e-9):.2f}x by wall time, "
          f"{c_peer / max(idle, 1e-9):.2f}x by idle-machine estimate")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
