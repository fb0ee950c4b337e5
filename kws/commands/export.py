"""``kws export MODEL.tflite --out DIR``: generate interpreter-free C for the int8 runtime."""

from __future__ import annotations

import argparse

from kws.errors import KwsError
from kws.export import export_model


def run(args: argparse.Namespace) -> int:
    """Export the model and print a one-line summary per output."""
    try:
        r = export_model(args.model, args.out, prepare=args.int16_pointwise,
                         settings_file=args.frontend_settings,
                         allow_unknown_frontend=args.frontend_unknown)
    except KwsError as exc:
        if "no settings.json" in str(exc):
            raise KwsError(f"{exc} (--frontend-settings FILE or --frontend-unknown)") from exc
        raise
    fe = ("front end UNKNOWN (no settings check possible)" if r.settings_hash is None
          else f"front-end settings hash 0x{r.settings_hash:08x}")
    print(f"wrote {r.header} and {r.source}: {len(r.layers)} layers, {r.macs} MACs, "
          f"{r.weight_bytes} B const data, arena {r.arena.size} B, {fe}")
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
    p.add_argument("--frontend-settings", metavar="FILE",
                   help="settings.json of the front end the model was trained on (default: the "
                        "one beside the model; required when there is none)")
    p.add_argument("--frontend-unknown", action="store_true",
                   help="export a model with no settings.json with its front end marked unknown: "
                        "the header then fails to compile next to any front end, so the "
                        "settings check cannot pass by accident")
    p.set_defaults(func=run)
