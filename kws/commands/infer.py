"""``kws infer MODEL.tflite IN.npy --backend {tflm,c,qemu} --out OUT.npy``: int8 in, int8 out."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kws.errors import KwsError
from kws.fileio import save_npy_atomic
from kws.runtime.infer import BACKENDS, infer


def run(args: argparse.Namespace) -> int:
    """Load the input, run the backend, write the output."""
    src = Path(args.input)
    try:
        x = np.load(src, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise KwsError(f"{src}: cannot read .npy: {exc}") from exc
    y = infer(args.model, x, backend=args.backend, path=args.path, input_name=str(src))
    save_npy_atomic(args.out, y)
    print(f"wrote {args.out}: {y.shape} {y.dtype}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``infer`` sub-command."""
    p = sub.add_parser("infer", help="run an int8 model on int8 inputs (.npy)",
                       description="Run an int8 .tflite model on one input or a batch (first "
                                   "axis) with the TFLM reference interpreter, the C runtime "
                                   "on the host, or the C runtime on a Cortex-M4 under QEMU.")
    p.add_argument("model", help="int8 .tflite model")
    p.add_argument("input", help=".npy of int8, the model's input shape or a batch of it")
    p.add_argument("--backend", choices=BACKENDS, default="c")
    p.add_argument("--path", choices=("portable", "dsp"), default=None,
                   help="C kernels: portable (default for c) or dsp (the Cortex-M4 DSP path; "
                        "default for qemu, emulated on the host for c)")
    p.add_argument("--out", required=True, help="output .npy (int8)")
    p.set_defaults(func=run)
