"""Benchmarks: each module ``kws.bench.<name>`` has ``main(argv) -> int`` and prints ratios
against a peer measured in the same run (or cited constants with their provenance)."""

from __future__ import annotations

import os
from pathlib import Path

from kws.paths import REPO_ROOT


def shared_dir() -> Path:
    """The benchmarks' optional shared data folder: ``$KWS_SHARED``, else ``shared/`` beside the
    repository. It holds larger development data (real Speech Commands clips, background
    recordings, running dialogue, published models); only benchmarks read it, and nothing in
    the product or the tests requires it (it may not exist)."""
    env = os.environ.get("KWS_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


def shared_audio_dir() -> Path | None:
    """``<shared>/audio`` (:func:`shared_dir`) if present: the benchmarks' larger,
    optional source of real recordings (the product and the tests never need it)."""
    path = shared_dir() / "audio"
    return path if path.is_dir() else None
