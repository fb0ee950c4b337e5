"""``kws export MODEL.tflite --out DIR``: generate interpreter-free C for the int8 runtime."""

from __future__ import annotations

import argparse

from kws.export import export_model


def run(args: argparse.Namespace) -> int:
    """Export the model and print a one-line summary per output."""
    r = export_model(args.model, args.out, prepare=args.int16_pointwise,
                     stream=True if args.stream else None)
    print(f"wrote {r.header} and {r.source}: {len(r.layers)} layers, {r.macs} MACs, "
          f"{r.weight_bytes} B const data, arena {r.arena.size} B, "
          f"front-end settings hash 0x{r.settings_hash:08x}")
    if r.stream is not None:
        sp = r.stream
        print(f"streaming: kws_model_step, one frame of {sp.frame_size} per step, window "
              f"{sp.window} frames, {sp.macs} MACs per step, state {sp.state_size} B "
              f"(buffers of past slices {sp.ring_bytes} B), step arena {sp.arena_size} B")
    else:
        print(f"no streaming step function: {r.not_streamable}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` sub-command."""
    p = sub.add_parser("export", help="generate C for the int8 runtime from an int8 .tflite",
                       description="Generate kws_model.h / kws_model.c (const weights, "
                                   "requantization parameters, a planned arena and "
                                   "kws_model_invoke) for firmware/runtime.")
    p.add_argument("model", help="int8 .tflite model (labels.txt and settings.json beside it "
                                 "are used when present)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--int16-pointwise", action="store_true",
                   help="store pointwise weights widened to int16 for the Cortex-M4 path: about "
                        "10 %% fewer M4 instructions per DS-CNN-S inference for 2 instead of 1 "
                        "byte per pointwise weight (+19 KB flash on DS-CNN-S); the default keeps "
                        "every weight int8")
    p.add_argument("--stream", action="store_true",
                   help="require the streaming step function (kws_model_step): fail with the "
                        "reason if the model is not streamable (by default it is generated "
                        "whenever the model is)")
    p.set_defaults(func=run)
