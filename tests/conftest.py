"""Shared fixtures: paths to the repository and to the shared audio beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kws.paths import REPO_ROOT, shared_dir

REPO = REPO_ROOT
#: ../shared beside the repository (CI layout); KWS_SHARED overrides it (e.g. for git worktrees).
SHARED = shared_dir()


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
