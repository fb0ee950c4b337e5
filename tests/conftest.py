"""Shared fixtures: paths to the repository and to the shared audio beside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: ../shared beside the repository (CI layout); KWS_SHARED overrides it (e.g. for git worktrees).
SHARED = Path(os.environ.get("KWS_SHARED") or REPO.parent / "shared")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    """../shared/audio (30 Speech Commands words and background noise); skip if absent."""
    path = SHARED / "audio"
    if not path.is_dir():
        pytest.skip(f"{path} is missing: the shared recordings sit beside the repository")
    return path
