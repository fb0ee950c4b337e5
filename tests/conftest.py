"""Shared fixtures: the repository root and the real speech shipped with the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kws.paths import REPO_ROOT
from tests.real_data import REAL_AUDIO

REPO = REPO_ROOT


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def real_audio() -> Path:
    """tests/data/speech_commands: ``<word>/<clip>.flac`` folders and ``_background_noise_``."""
    return REAL_AUDIO
