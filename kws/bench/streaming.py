"""``kws bench streaming``: the streaming step function on the Cortex-M4 against re-running the
window model.

For each streamable model (random weights, int8: the default ``tcn-stream-max`` and the
``tcn-stream`` and ``ds-cnn-stream`` families of :mod:`kws.models`), measured in this run on
the M4 under QEMU (DSP path, exact instruction counts from the TCG plugin, as ``kws bench
runtime``):

- instructions per ``kws_model_step`` (one per 20 ms hop; the median over the steps after the
  window is full; steps differ by a few instructions) and per MAC, per layer;
- model instructions per second of audio (steps per second x per step) and always-on total
  with the front end (per hop, measured in this run by ``kws bench m4_frontend``'s counter,
  or the cited 47.0k when ``--no-frontend``);
- RAM: the state (buffers of past time slices + counter), the step arena, the frame and the
  output; flash: const data and the generated model code;
- the same step exported with ``kws export --int8-depthwise`` (the depthwise kernels on
  TFLite's int8 layout, which the default's prepared weights replace), per depthwise layer;

against the window model of today's default (DS-CNN-S, ``kws_model_invoke`` on 49 frames every
``--window-every`` hops, 2 by default as the firmware schedules it), counted in the same run.
"""

from __future__ import annotations

import argparse

import numpy as np

from kws.frontend.settings import FrontendSettings

#: Front-end instructions per hop on the M4 (README, ``kws bench m4_frontend``), used with
#: ``--no-frontend``.
FRONTEND_PER_HOP_CITED = 47_000
#: Budgets of the always-on target: instructions per second of audio, RAM of the firmware.
BUDGET_PER_SECOND = 8_000_000


def _frontend_per_hop() -> int:
    """Front-end instructions per hop on the M4, counted now (median over the hops of four
    clips, with ``kws bench m4_frontend``'s runner)."""
    from kws.bench.m4_frontend import _clips, run_frontend_m4

    _, _, counted = run_frontend_m4(_clips(4), FrontendSettings(), count=True)
    return int(np.median(counted.totals(0)))


def step_figures(name: str, frames: int = 80, *, int8_depthwise: bool = False) -> dict:
    """M4 figures of the step function of test model ``name`` (see the module docstring);
    ``int8_depthwise``: exported with ``kws export --int8-depthwise``."""
    from kws.runtime import target
    from kws.runtime.testmodels import ensure_model

    path = ensure_model(name)
    rng = np.random.default_rng(0)
    xs = rng.integers(-128, 128, (frames, 10)).astype(np.int8)
    total, per_layer = target.count_steps(path, xs, int8_depthwise=int8_depthwise)
    m = target.build_m4_model(path, int8_depthwise=int8_depthwise)
    sp = m.export.stream
    w = sp.window
    sizes = target.m4_sizes(m)
    return {"name": name, "per_step": int(np.median(total[w:])), "spread": int(np.ptp(total[w:])),
            "macs": sp.macs, "layers": [(sl.layer.kernel, sl.k, sl.layer.macs,
                                         int(np.median(per_layer[w:, i])))
                                        for i, sl in enumerate(sp.layers)],
            "state": sp.state_size, "rings": sp.ring_bytes, "arena": sp.arena_size,
            "io": sp.frame_size + sp.output_size, "const": sizes["model_const_data"],
            "model_code": sizes["model_total"] - sizes["model_const_data"],
            "window_macs": sum(layer.macs for layer in m.export.layers)}


def window_figures(name: str = "ds_cnn_s") -> dict:
    """M4 instructions of one ``kws_model_invoke`` of test model ``name`` and its arena."""
    from kws.export.tflite_model import load_tflite
    from kws.runtime import target
    from kws.runtime.testmodels import ensure_model

    path = ensure_model(name)
    x = load_tflite(path).tensors
    shape = x[load_tflite(path).inputs[0]].shape
    _, total = target.count_layers(path, np.zeros(shape, np.int8))
    m = target.build_m4_model(path)
    return {"name": name, "per_inference": int(total), "arena": m.export.arena.size}


def main(argv: list[str] | None = None) -> int:
    """Print the streaming figures."""
    ap = argparse.ArgumentParser(prog="kws bench streaming", description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="stream_tcn_max,stream_tcn,stream_ds_cnn",
                    help="streamable test models (kws.runtime.testmodels; default: the default "
                    "family tcn-stream-max, then tcn-stream and ds-cnn-stream)")
    ap.add_argument("--window-every", type=int, default=2,
                    help="hops between window-model inferences of the peer (default 2)")
    ap.add_argument("--no-frontend", action="store_true",
                    help="use the cited front-end count instead of counting it")
    args = ap.parse_args(argv)
    fe = FrontendSettings()
    hops_per_s = fe.sample_rate / fe.hop_samples
    front = FRONTEND_PER_HOP_CITED if args.no_frontend else _frontend_per_hop()
    peer = window_figures()
    peer_model_s = peer["per_inference"] * hops_per_s / args.window_every
    print(f"front end: {front:,} instructions per hop "
          f"({'cited' if args.no_frontend else 'counted now'}), {hops_per_s:g} hops/s")
    print(f"peer: {peer['name']} window model, {peer['per_inference']:,} instructions per "
          f"inference every {args.window_every} hops: {peer_model_s / 1e6:.1f} M/s model, "
          f"{(peer_model_s + front * hops_per_s) / 1e6:.1f} M/s with the front end; "
          f"arena {peer['arena']:,} B")
    for name in args.models.split(","):
        f = step_figures(name)
        f8 = step_figures(name, int8_depthwise=True)
        model_s = f["per_step"] * hops_per_s
        total_s = model_s + front * hops_per_s
        print(f"\n{name}: {f['per_step']:,} instructions per step (spread {f['spread']}), "
              f"{f['macs']:,} MACs per step ({f['per_step'] / f['macs']:.2f}/MAC; the window "
              f"model: {f['window_macs']:,} MACs)")
        print(f"  per second of audio, a decision every hop: model {model_s / 1e6:.2f} M, "
              f"with the front end {total_s / 1e6:.2f} M (budget {BUDGET_PER_SECOND / 1e6:g} M:"
              f" {'within' if total_s <= BUDGET_PER_SECOND else 'OVER'}); "
              f"{peer_model_s / model_s:.1f}x fewer model instructions than the peer")
        print(f"  RAM: state {f['state']:,} B (buffers of past slices {f['rings']:,} B), step "
              f"arena {f['arena']:,} B, frame + output {f['io']} B; flash: const data "
              f"{f['const']:,} B, generated code {f['model_code']:,} B")
        print(f"  with --int8-depthwise (the int8 depthwise kernels): {f8['per_step']:,} "
              f"instructions per step ({f8['per_step'] / f8['macs']:.2f}/MAC), flash const "
              f"data {f8['const']:,} B, step arena {f8['arena']:,} B")
        print(f"  {'layer':<11}{'k':>4}{'MACs':>8}{'instr':>9}{'/MAC':>7}"
              f"{'int8 dw':>10}{'/MAC':>7}")
        for (kernel, k, macs, n), (_, _, _, n8) in zip(f["layers"], f8["layers"]):
            per = f"{n / macs:7.2f}" if macs else "      -"
            old = f"{n8:>10}{n8 / macs:7.2f}" if kernel == "depthwise" and macs else ""
            print(f"  {kernel:<11}{k:>4}{macs:>8}{n:>9}{per}{old}")
    return 0
