"""``kws features IN.wav [IN2.wav ...] --out OUT.npy``: int8 features of audio files.

Clip mode (default): every file becomes one clip of ``--clip-seconds`` (default: the settings'
``clip_seconds``, 1 s): shorter files are zero-padded at the end, longer ones trimmed at the end.
Output: int8 (clips, frames, coeffs).

Stream mode (``--stream``): every frame of each whole file, as the device computes them on a
stream (frame t covers samples [t*hop, t*hop + window); a trailing partial window is dropped).
One file gives (1, frames, coeffs); several files must
give the same number of frames (else it is an error), giving (files, frames, coeffs).
"""

from __future__ import annotations

import argparse

import numpy as np
from tqdm import tqdm

from kws.errors import KwsError
from kws.fileio import save_npy_atomic


def run(args: argparse.Namespace) -> int:
    """Load the files, compute features with the chosen backend, save the .npy."""
    from kws.audio import fit_clip, load_audio
    from kws.frontend import compute_features
    from kws.frontend.settings import FrontendSettings

    settings = FrontendSettings()
    if args.clip_seconds is not None:
        if not args.clip_seconds > 0:
            raise KwsError(f"--clip-seconds {args.clip_seconds}: must be positive")
        settings = FrontendSettings(**{**settings.to_dict(), "clip_seconds": args.clip_seconds})
    clips = []
    for path in tqdm(args.inputs, desc="load", unit="file", disable=len(args.inputs) < 20):
        samples = load_audio(path)
        if args.stream:
            if settings.frames_for(samples.size) == 0:
                raise KwsError(f"{path}: shorter than one window "
                               f"({settings.window_samples} samples)")
            clips.append(samples)
        else:
            clips.append(fit_clip(samples, settings.clip_samples))
    if args.stream:
        lengths = {settings.frames_for(c.size) for c in clips}
        if len(lengths) > 1:
            raise KwsError(f"{args.inputs[1]}: --stream needs files with the same number of "
                           "frames; give one file per call")
        frames = [compute_features(c, settings, backend=args.backend) for c in clips]
        out = np.stack(frames)
    else:
        out = compute_features(np.stack(clips), settings, backend=args.backend)
    save_npy_atomic(args.out, out)
    print(f"{args.out}: int8 {out.shape} (clips, frames, coeffs), backend {args.backend}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``features`` sub-command."""
    p = sub.add_parser("features", help="int8 features of audio files (.npy)",
                       description=__doc__.splitlines()[0])
    p.add_argument("inputs", nargs="+", metavar="IN", help="audio files (WAV, FLAC, ...)")
    p.add_argument("--backend", choices=("numpy", "c", "qemu"), default="c",
                   help="front-end implementation (all give the same integers; default c)")
    p.add_argument("--out", required=True, help="output .npy: int8 (clips, frames, coeffs)")
    p.add_argument("--clip-seconds", type=float, default=None,
                   help="clip length: shorter files are zero-padded at the end, longer trimmed "
                        "at the end (default: the settings' clip_seconds, 1.0)")
    p.add_argument("--stream", action="store_true",
                   help="all frames of each whole file instead of one fixed-length clip")
    p.set_defaults(func=run)
