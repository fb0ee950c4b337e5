"""``kws bench runtime``: the int8 C runtime on a model (DS-CNN-S by default) against TFLite Micro.

Reports, for the MLPerf Tiny / Hello Edge DS-CNN-S shape (random weights, int8):

- arena: our planned arena (the input and output kept in it at KWS_MODEL_INPUT_OFFSET /
  KWS_MODEL_OUTPUT_OFFSET, as TFLM keeps them; ``kws bench arena`` does every corpus model)
  against TFLM's arena on the M4 (22,820 B, cited) and against the host tflite-micro
  interpreter's activation arena ("head", measured in this run; its total includes 64-bit
  bookkeeping, so it is not the M4
  figure);
- flash: const data (weights, biases, multipliers, shifts), the generated model code and the
  runtime's kernels, from arm-none-eabi-size of the M4 build, for the default export (int8
  weights) and for ``kws export --int16-pointwise`` (pointwise weights widened to int16);
- host time per inference: the C runtime (portable and emulated-DSP paths) against the
  tflite-micro interpreter, measured in this run (a sanity figure; the device figure is the
  instruction count);
- instructions per inference on the Cortex-M4 under QEMU (TCG counting plugin), per layer and
  overall, per MAC, against TFLM + CMSIS-NN's figures (cited constants below): the DSP path
  with both exports, and the portable path;
- every depthwise layer of the default export (prepared int16 weights, no scratch) against the
  same layer exported with ``kws export --int8-depthwise`` (TFLite's int8 layout), counted in
  the same run, with the arena and const-array bytes of both.

The cited TFLM figures were measured on DS-CNN-S only: they are printed for ``ds_cnn_s`` and
MLPerf Tiny's ``kws_ref_model.tflite`` (the same network), and for any other model the report
says that no peer figure was measured for it (the host tflite-micro figures are measured in
every run).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np

from kws.errors import KwsError

#: TFLM with CMSIS-NN kernels on DS-CNN-S (MLPerf Tiny KWS), QEMU mps2-an386, -O2, DSP on,
#: counted with the same TCG plugin. Provenance: the project's int8-runtime
#: specification (section 4), measured by the project lead; TFLM + CMSIS-NN cannot be built here.
CMSIS_NN_TOTAL = 7_700_733
CMSIS_NN_PER_LAYER = {"conv2d": 1_118_000, "depthwise": 561_000, "pointwise": 1_069_000,
                      "avgpool": 51_000, "fc": 2_500, "softmax": 5_000}
TFLM_REFERENCE_TOTAL = 198_600_000
#: TFLM's arena for DS-CNN-S on the M4 (TFLM firmware build); same provenance.
TFLM_ARENA_M4 = 22_820
#: sha256 of MLPerf Tiny's kws_ref_model.tflite (DS-CNN-S, tests/data/models/SOURCES.md).
MLPERF_KWS_SHA256 = "aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae"


def cited_peers_apply(name: str, model: Path) -> bool:
    """True if the cited TFLM + CMSIS-NN figures were measured for this model (DS-CNN-S)."""
    import hashlib

    return name == "ds_cnn_s" or hashlib.sha256(model.read_bytes()).hexdigest() == \
        MLPERF_KWS_SHA256


def _time_per_call(fn, xs: np.ndarray) -> float:
    t = time.perf_counter()
    for x in xs:
        fn(x)
    return (time.perf_counter() - t) / len(xs)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a report."""
    ap = argparse.ArgumentParser(prog="kws bench runtime", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="ds_cnn_s",
                    help="test model name (kws.runtime.testmodels) or a .tflite path")
    ap.add_argument("--inputs", type=int, default=50, help="inputs for the host timing")
    ap.add_argument("--no-qemu", action="store_true", help="skip the M4 build and QEMU counts")
    args = ap.parse_args(argv)

    from kws.runtime.arena_compare import tflm_arena
    from kws.runtime.host import HostModel
    from kws.runtime.infer import run_tflm
    from kws.runtime.testmodels import ensure_model

    model = Path(args.model) if args.model.endswith(".tflite") else ensure_model(args.model)
    hm = HostModel(model, path="portable")
    ex = hm.export
    m = ex.model
    x_t, y_t = m.tensors[m.inputs[0]], m.tensors[m.outputs[0]]
    print(f"model: {model.name}  ({len(ex.layers)} layers, {ex.macs:,} MACs)")
    peers = cited_peers_apply(args.model, model)
    if not peers:
        print("  cited TFLM + CMSIS-NN figures: none measured for this model (they exist for "
              "DS-CNN-S only); peer figures below are from this run")

    # ---------------------------------------------------------------- arena
    tflm = tflm_arena(model)
    head, total = tflm.head, tflm.total
    ours = ex.arena.size - (ex.arena.state.size if ex.arena.state else 0)
    print("\narena (bytes)")
    print(f"  ours: planned arena {ex.arena.size:,}, the input ({x_t.size}) and output "
          f"({y_t.size}) in it (KWS_MODEL_INPUT_OFFSET / KWS_MODEL_OUTPUT_OFFSET)")
    if peers:
        print(f"  TFLM on the M4 (cited): {TFLM_ARENA_M4:,}  -> ours / TFLM = "
              f"{ours / TFLM_ARENA_M4:.3f}  (target <= 0.75)")
    print(f"  host tflite-micro interpreter (this run): activations (head) {head:,}, total "
          f"{total:,} (64-bit bookkeeping)  -> our activation bytes / its head = "
          f"{ours / head:.3f}")

    # ---------------------------------------------------------------- host time
    rng = np.random.default_rng(0)
    xs = rng.integers(-128, 128, size=(args.inputs,) + x_t.shape).astype(np.int8)
    with contextlib.redirect_stderr(io.StringIO()):
        t_tflm = (time.perf_counter(), run_tflm(model, xs), time.perf_counter())
    tflm_s = (t_tflm[2] - t_tflm[0]) / len(xs)
    print(f"\nhost time per inference ({args.inputs} inputs, this run)")
    print(f"  tflite-micro interpreter (reference kernels): {tflm_s * 1e3:.2f} ms")
    for path in ("portable", "dsp"):
        h = hm if path == "portable" else HostModel(model, path=path)
        s = _time_per_call(h.invoke, xs)
        print(f"  C runtime, {path:8s} path: {s * 1e3:.2f} ms  -> {tflm_s / s:.2f}x faster")

    if args.no_qemu:
        return 0
    try:
        import kws.qemu  # noqa: F401
    except ImportError:
        print("\nM4 / QEMU figures skipped: kws.qemu is not in this tree")
        return 0
    from kws.runtime import target

    # ---------------------------------------------------------------- flash
    print("\nflash on the M4 (bytes, arm-none-eabi-size, -O2, DSP path)")
    for prepare in (False, True):
        m4 = target.build_m4_model(model, path="dsp", prepare=prepare)
        sizes = target.m4_sizes(m4)
        code = sizes["model_total"] - sizes["model_const_data"]
        print(f"  kws export{' --int16-pointwise' if prepare else ' (default, int8 weights)'}:")
        print(f"    weights, biases, multipliers, shifts"
              f"{' (pointwise weights int16)' if prepare else ''}: "
              f"{sizes['model_const_data']:,}")
        print(f"    generated model code (kws_model_invoke, shapes): {code:,}")
        print(f"    runtime kernels (all of firmware/runtime/src): {sizes['runtime_code']:,}")
        print(f"    total: {sizes['model_total'] + sizes['runtime_code']:,}")
    _, stack = target.run_qemu_stats(model, xs[:2], path="dsp")
    print(f"RAM on the M4: arena {ex.arena.size:,} (input and output in it) + peak "
          f"stack of the whole runner (painted) {stack:,} bytes")

    # ---------------------------------------------------------------- instructions
    x0 = xs[0]
    for path, prepare in (("dsp", False), ("dsp", True), ("portable", False)):
        layers, inv = target.count_layers(model, x0, path=path, prepare=prepare)
        macs = sum(l.macs for l in layers)
        variant = "kws export --int16-pointwise" if prepare else "default int8 weights"
        print(f"\ninstructions per inference on the Cortex-M4 (QEMU TCG plugin), {path} path, "
              f"{variant}")
        print(f"  {'layer':>5} {'kernel':10} {'MACs':>9} {'instr':>10} {'instr/MAC':>9} "
              f"{'CMSIS-NN':>9} {'ratio':>6}")
        for l in layers:
            peer = CMSIS_NN_PER_LAYER.get(l.kernel) if peers else None
            ratio = f"{l.instructions / peer:6.2f}" if peer else ""
            per_mac = f"{l.per_mac:9.2f}" if l.macs else f"{'-':>9}"
            print(f"  {l.index:5d} {l.kernel:10} {l.macs:9,} {l.instructions:10,} {per_mac} "
                  f"{peer or 0:9,} {ratio}")
        target_note = " (target <= 2.0)" if peers else ""
        print(f"  whole inference: {inv:,} instructions, {inv / max(macs, 1):.2f} per MAC"
              f"{target_note}")
        if not peers:
            print("  vs TFLM + CMSIS-NN: no figure measured for this model")
            continue
        print(f"  vs TFLM + CMSIS-NN {CMSIS_NN_TOTAL:,} ({CMSIS_NN_TOTAL / macs:.2f}/MAC, cited): "
              f"{inv / CMSIS_NN_TOTAL:.3f}x;  vs TFLM reference kernels "
              f"{TFLM_REFERENCE_TOTAL:,} (cited): {inv / TFLM_REFERENCE_TOTAL:.4f}x")
    _depthwise_report(model, x0)
    return 0


def _depthwise_report(model: Path, x: np.ndarray) -> None:
    """Per depthwise layer, the default export (prepared weights, no scratch) against
    ``kws export --int8-depthwise`` (TFLite's int8 layout, the kernels with an int16 plane
    scratch on 3x3 stride-1 maps), both counted now on the M4 (DSP path)."""
    from kws.runtime import target

    new, inv = target.count_layers(model, x)
    old, inv8 = target.count_layers(model, x, int8_depthwise=True)
    m, m8 = target.build_m4_model(model), target.build_m4_model(model, int8_depthwise=True)
    rows = [(a, b, m.export.layers[a.index].params) for a, b in zip(new, old)
            if a.kernel == "depthwise"]
    if not rows:
        return
    print("\ndepthwise layers on the Cortex-M4 (DSP path): the default export (prepared int16 "
          "weights, no scratch) vs kws export --int8-depthwise (int8 weights)")
    print(f"  {'layer':>5} {'shape':24} {'MACs':>9} {'instr':>9} {'/MAC':>6} {'int8 dw':>9} "
          f"{'/MAC':>6} {'ratio':>6}")
    for a, b, p in rows:
        shape = (f"{p['k_h']}x{p['k_w']} s{p['stride_h']}x{p['stride_w']} "
                 f"{p['out_h']}x{p['out_w']}x{p['out_c']}"
                 f"{'' if p['depth_multiplier'] == 1 else ' m' + str(p['depth_multiplier'])}")
        kind = "" if "dw_data" in m.export.layers[a.index].arrays else " (not prepared)"
        print(f"  {a.index:5d} {shape + kind:24} {a.macs:9,} {a.instructions:9,} "
              f"{a.per_mac:6.2f} {b.instructions:9,} {b.per_mac:6.2f} "
              f"{a.instructions / b.instructions:6.2f}")
    flash = sum(a.nbytes for l in m.export.layers for a in l.arrays.values())
    flash8 = sum(a.nbytes for l in m8.export.layers for a in l.arrays.values())
    print(f"  whole inference {inv:,} vs {inv8:,} instructions ({inv / inv8:.3f}x); arena "
          f"{m.export.arena.size:,} vs {m8.export.arena.size:,} B; const arrays {flash:,} vs "
          f"{flash8:,} B")


if __name__ == "__main__":  # pragma: no cover
    try:
        sys.exit(main())
    except KwsError as exc:
        print(f"kws: error: {exc}", file=sys.stderr)
        sys.exit(2)
