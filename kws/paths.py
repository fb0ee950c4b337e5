"""Where things are: the repository root and the optional shared data folder beside it.

The one definition of each; every module that needs the root or the shared folder imports it
from here.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding ``kws/``, ``dsp/`` and ``firmware/``).
REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The optional shared data folder: ``$KWS_SHARED``, else ``shared/`` beside the repository.

    It holds larger development data (real Speech Commands clips, background recordings) for
    benchmarks; nothing in the product or the tests requires it (it may not exist).
    """
    env = os.environ.get("KWS_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"
