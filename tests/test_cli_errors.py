"""The CLI's errors speak of flags; the library's speak of its arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from kws.cli import main
from kws.commands import flag_name, for_people
from kws.data.synth import synthesize_corpus
from kws.errors import KwsError


def test_argument_errors_name_the_argument() -> None:
    exc = KwsError("must be at least 1 (got 0)", argument="per_word")
    assert str(exc) == "per_word: must be at least 1 (got 0)"
    assert exc.argument == "per_word" and exc.detail == "must be at least 1 (got 0)"
    assert str(KwsError("x.wav: empty file")) == "x.wav: empty file"


def test_flags_for_people() -> None:
    assert flag_name("per_word") == "--per-word"
    assert flag_name("out_dir", {"out_dir": "--dir"}) == "--dir"
    exc = KwsError("must be at least 1 (got 0)", argument="per_word")
    assert for_people(exc) == "--per-word: must be at least 1 (got 0)"
    assert for_people(KwsError("plain")) == "plain"


def test_library_raises_about_arguments(tmp_path: Path) -> None:
    with pytest.raises(KwsError, match=r"^per_word: must be at least 1") as err:
        synthesize_corpus(words=["yes"], per_word=0, out_dir=tmp_path / "d")
    assert err.value.argument == "per_word"
    with pytest.raises(KwsError, match=r"^words: repeated word in yes,yes"):
        synthesize_corpus(words=["yes", "yes"], per_word=1, out_dir=tmp_path / "d")


def test_cli_translates_to_flags(tmp_path: Path, capsys) -> None:
    assert main(["data", "synth", "--words", "yes", "--per-word", "0",
                 "--dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err == "kws: error: --per-word: must be at least 1 (got 0)\n"
    assert main(["data", "synth", "--words", "yes,yes", "--dir", str(tmp_path / "d")]) == 2
    assert capsys.readouterr().err == "kws: error: --words: repeated word in yes,yes\n"
