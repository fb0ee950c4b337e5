"""``kws bench accuracy``: the real split it scores on (``--split``)."""

from __future__ import annotations

import pytest

from kws.bench import accuracy
from kws.data.speech_commands import speech_commands_entries
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from tests.real_data import REAL_AUDIO


@pytest.fixture(autouse=True)
def fixture_clips(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's real clips and noise come from tests/data (its default source is the
    larger optional shared copy)."""
    monkeypatch.setattr(accuracy, "REAL", REAL_AUDIO)
    monkeypatch.setattr(accuracy, "NOISE", REAL_AUDIO / "_background_noise_")


def test_split_picks_the_speaker_hash_portion(monkeypatch):
    """validation and test are the hash rule's two held-out portions: disjoint speakers, the
    expected clip counts (words plus one _silence_ per 8 clips), different features."""
    entries = speech_commands_entries(accuracy.REAL)
    speakers = {s: {e.speaker for e in entries if e.split == s} for s in accuracy.SPLITS}
    assert speakers["validation"] and speakers["test"]
    assert not speakers["validation"] & speakers["test"]
    settings = FrontendSettings()
    got = {}
    for split in accuracy.SPLITS:
        n = sum(e.split == split for e in entries)
        feats, labels = accuracy.real_validation(settings, split=split)
        assert len(labels) == len(feats) == n + n // 8
        assert labels.count("_silence_") == n // 8
        got[split] = feats
    assert got["validation"].shape[1:] == got["test"].shape[1:]
    assert len(got["validation"]) != len(got["test"]) or (got["validation"] != got["test"]).any()


def test_cli_split_option(tmp_path, capsys):
    """--split test scores the test split; the default stays validation."""
    assert accuracy.main(["--runs", str(tmp_path), "--only", "a", "--split", "test",
                          "--stream-minutes", "0"]) == 0
    out = capsys.readouterr().out
    n = sum(e.split == "test" for e in speech_commands_entries(accuracy.REAL))
    assert f"real test split of {accuracy.REAL}: {n + n // 8} clips" in out
    assert "not trained" in out
    with pytest.raises(SystemExit):
        accuracy.main(["--runs", str(tmp_path), "--split", "train"])


def test_unknown_split_is_a_kws_error():
    with pytest.raises(KwsError, match="unknown split 'train'"):
        accuracy.real_validation(FrontendSettings(), split="train")
