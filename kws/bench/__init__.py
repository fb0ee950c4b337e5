"""Benchmarks: each module ``kws.bench.<name>`` has ``main(argv) -> int`` and prints ratios
against a peer measured in the same run (or cited constants with their provenance)."""

from __future__ import annotations

from pathlib import Path

from kws.paths import shared_dir


def shared_audio_dir() -> Path | None:
    """``<shared>/audio`` (:func:`kws.paths.shared_dir`) if present: the benchmarks' larger,
    optional source of real recordings (the product and the tests never need it)."""
    path = shared_dir() / "audio"
    return path if path.is_dir() else None
