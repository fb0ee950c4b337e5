"""``kws export MODEL --out DIR``, ``--library DIR``, ``--blob FILE``: C for the int8 runtime."""

from __future__ import annotations

import argparse

from kws.errors import KwsError
from kws.run import ensemble_members


def run(args: argparse.Namespace) -> int:
    """Export the model (C sources, a library folder and/or a blob); one summary line each."""
    if not (args.out or args.library or args.blob):
        raise KwsError("kws export: give --out DIR, --library DIR and/or --blob FILE")
    if args.out and ensemble_members(args.model) is not None:
        from kws.export.ensemble import export_ensemble

        e = export_ensemble(ensemble_members(args.model), args.out,
                            stream=True if args.stream else None)
        print(f"wrote {e.header} and {e.source} with {len(e.members)} members "
              f"(kws_member0 .. kws_member{len(e.members) - 1}): {e.macs} MACs, "
              f"{e.weight_bytes} B const data, arena {e.arena_size} B")
        if e.stream is not None:
            print(f"streaming: kws_model_step steps every member, {e.stream.macs} MACs per "
                  f"step, state {e.stream.state_size} B, step arena {e.stream.arena_size} B")
    elif args.out:
        from kws.export import export_model

        try:
            r = export_model(args.model, args.out, prepare=args.int16_pointwise,
                             int8_depthwise=args.int8_depthwise, min_arena=args.min_arena,
                             settings_file=args.frontend_settings,
                             allow_unknown_frontend=args.frontend_unknown,
                             stream=True if args.stream else None)
        except KwsError as exc:
            if "no settings.json" in str(exc):
                raise KwsError(f"{exc} (--frontend-settings FILE or --frontend-unknown)") from exc
            raise
        fe = ("front end UNKNOWN (no settings check possible)" if r.settings_hash is None
              else f"front-end settings hash 0x{r.settings_hash:08x}")
        state = (f" (of which state {r.arena.state.size} B: {len(r.arena.state.variables)} "
                 f"resource variables; call kws_model_init first)"
                 if r.arena.state is not None and r.arena.state.stateful else "")
        print(f"wrote {r.header} and {r.source}: {len(r.layers)} layers, {r.macs} MACs, "
              f"{r.weight_bytes} B const data, arena {r.arena.size} B{state}, {fe}")
        if r.stream is not None:
            sp = r.stream
            print(f"streaming: kws_model_step, one frame of {sp.frame_size} per step, window "
                  f"{sp.window} frames, {sp.macs} MACs per step, state {sp.state_size} B "
                  f"(buffers of past slices {sp.ring_bytes} B), step arena {sp.arena_size} B")
        else:
            print(f"no streaming step function: {r.not_streamable}")
    if args.library:
        from kws.export.library import export_library

        lib = export_library(args.model, args.library)
        flash = (f"{lib.flash_bytes} B flash on the Cortex-M4 (-O2)" if lib.flash_bytes
                 is not None else "footprint not measured (no arm-none-eabi-gcc)")
        print(f"wrote library {lib.folder}: {len(lib.files)} files, kernels "
              f"{', '.join(lib.kernels)}; {flash}")
    if args.blob:
        from kws.export.blob import export_blob

        blob = export_blob(args.model, args.blob, version=args.model_version,
                           sign_key=args.sign)
        print(f"wrote blob {args.blob}: {len(blob)} B, model version {args.model_version}, "
              f"{'signed' if args.sign else 'unsigned'}")

    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` sub-command."""
    p = sub.add_parser("export", help="generate C for the int8 runtime from an int8 .tflite",
                       description="Generate kws_model.h / kws_model.c (const weights, "
                                   "requantization parameters, a planned arena and "
                                   "kws_model_invoke) for firmware/runtime, or a "
                                   "self-contained library folder for a product.")
    p.add_argument("model", help="RUN folder or its int8 model.tflite (labels.txt, "
                                 "settings.json and detector.json beside it are used), or "
                                 "an ensemble folder (kws ensemble; --out and --library)")
    p.add_argument("--out", help="output folder for kws_model.h / kws_model.c")
    p.add_argument("--library", metavar="DIR",
                   help="write a self-contained C library folder (CMake, Arduino, PlatformIO) "
                        "with the front end, the kernels this model uses, the detector and "
                        "the model")
    p.add_argument("--blob", metavar="FILE",
                   help="write the weights, quantization, labels and detector settings as a "
                        "data-only model blob for firmware built with --blob-slot")
    p.add_argument("--model-version", type=int, default=1,
                   help="blob model version (firmware refuses blobs older than its model)")
    p.add_argument("--sign", metavar="KEY.pem",
                   help="sign the blob with this ECDSA P-256 private key (PEM)")
    p.add_argument("--int16-pointwise", action="store_true",
                   help="store pointwise weights widened to int16 for the Cortex-M4 path: about "
                        "10 %% fewer M4 instructions per DS-CNN-S inference for 2 instead of 1 "
                        "byte per pointwise weight (+19 KB flash on DS-CNN-S); the default keeps "
                        "pointwise weight int8")
    p.add_argument("--int8-depthwise", action="store_true",
                   help="keep depthwise weights int8 in TFLite's layout (the kernels with an "
                        "int16 plane scratch on 3x3 stride-1 maps): by default they are widened "
                        "to int16 with the input offset folded into the bias, for the no-scratch "
                        "Cortex-M4 kernel (2 instead of 1 byte per depthwise weight)")
    p.add_argument("--min-arena", action="store_true",
                   help="int8 pointwise layers at the arena's peak run without their widened "
                        "filter rows even where the default keeps them in the layer's dying "
                        "input and its output (the same smallest arena; about 1.8x the pointwise "
                        "instructions)")
    p.add_argument("--stream", action="store_true",
                   help="require the streaming step function (kws_model_step): fail with the "
                        "reason if the model is not streamable (by default it is generated "
                        "whenever the model is)")
    p.add_argument("--frontend-settings", metavar="FILE",
                   help="settings.json of the front end the model was trained on (default: the "
                        "one beside the model; required when there is none)")
    p.add_argument("--frontend-unknown", action="store_true",
                   help="export a model with no settings.json with its front end marked unknown: "
                        "the header then fails to compile next to any front end, so the "
                        "settings check cannot pass by accident")
    p.set_defaults(func=run)
