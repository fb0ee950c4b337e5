"""Shared fixtures: the repository root and the real speech shipped with the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.real_data import REAL_AUDIO

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def real_audio() -> Path:
    """tests/data/speech_commands: ``<word>/<clip>.flac`` folders and ``_background_noise_``."""
    return REAL_AUDIO
