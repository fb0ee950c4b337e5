"""Where things are: the repository root and the real clips shipped with it.

The one definition of each; every module that needs them imports them from here (the
benchmarks' optional shared data folder is :func:`kws.bench.shared_dir`).
"""

from __future__ import annotations

from pathlib import Path

#: The repository root (the folder holding ``kws/``, ``dsp/`` and ``firmware/``).
REPO_ROOT = Path(__file__).resolve().parent.parent


#: Real recordings shipped with the repository (CC-BY clips in the Speech Commands layout).
FIXTURE_SPEECH = REPO_ROOT / "tests" / "data" / "speech_commands"


def real_speech_dir() -> Path | None:
    """Real speech for an accuracy figure: the repository's real clips (:data:`FIXTURE_SPEECH`,
    126 clips of 12 words), or None where they are absent (a larger folder is an explicit
    option of the caller, e.g. ``kws train --real-eval DIR``)."""
    return FIXTURE_SPEECH if FIXTURE_SPEECH.is_dir() else None
