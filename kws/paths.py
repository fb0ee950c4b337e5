"""Where things are: the repository root and the optional shared data folder beside it.

The one definition of each; every module that needs the root or the shared folder imports it
from here.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding ``kws/``, ``dsp/`` and ``firmware/``).
REPO_ROOT = Path(__file__).resolve().parent.parent


#: Real recordings shipped with the repository (CC-BY clips in the Speech Commands layout).
FIXTURE_SPEECH = REPO_ROOT / "tests" / "data" / "speech_commands"


def shared_dir() -> Path:
    """The optional shared data folder: ``$KWS_SHARED``, else ``shared/`` beside the repository.

    It holds larger development data (real Speech Commands clips, background recordings) for
    benchmarks; nothing in the product or the tests requires it (it may not exist).
    """
    env = os.environ.get("KWS_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


def real_speech_dir() -> Path | None:
    """Real speech for an accuracy figure: the repository's real clips (:data:`FIXTURE_SPEECH`,
    126 clips of 12 words), or None where they are absent (a larger folder is an explicit
    option of the caller, e.g. ``kws train --real-eval DIR``)."""
    return FIXTURE_SPEECH if FIXTURE_SPEECH.is_dir() else None
