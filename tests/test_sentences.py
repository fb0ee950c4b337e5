"""What the synthetic running speech says (kws.data.sentences) and the keyword filter on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.data import sentences
from kws.data.confusables import homophones
from kws.data.running_speech import banned_words

# A fortune file of our own, in the format of /usr/share/games/fortunes (entries end with %).
FILE = """Never trust a cat who reads the paper before breakfast.  Ask the dog instead.
\t\t-- An Old Saying
%
The train leaves at 5 pm sharp.
%
Go.
%
The NASA budget was cut again.
%
A very long sentence that keeps on going and going with many words in it until it is far
too long for anyone to say in one breath without a pause.
%
"Is this the right road?" she asked the farmer.
%
"""


def _root(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="latin-1")
    return tmp_path


def test_plain_sentences_keep_only_speakable_ones() -> None:
    assert sentences.plain_sentences(FILE) == [
        "Never trust a cat who reads the paper before breakfast.",
        "Ask the dog instead.",
    ]   # not the digits, the capitals, "Go.", the long one, nor the quoted question


def test_fortune_sentences_read_the_listed_files_once_each(tmp_path: Path) -> None:
    root = _root(tmp_path, people=FILE, wisdom="Ask the dog instead.\n%\n",
                 computers="Reboot the server after lunch.\n%\n")
    got = sentences.fortune_sentences(root)
    assert got == tuple(sorted(set(sentences.plain_sentences(FILE))))   # deduplicated
    assert "Reboot the server after lunch." not in got                  # not a listed file
    assert sentences.source(root) == "fortunes-grammar"


def test_sentence_draws_quotations_and_falls_back_to_the_grammar(tmp_path: Path) -> None:
    root = _root(tmp_path, people=FILE)
    pool = set(sentences.fortune_sentences(root))
    rng = np.random.default_rng(0)
    drawn = [sentences.sentence(rng, root=root) for _ in range(2000)]
    share = np.mean([s in pool for s in drawn])
    assert abs(share - sentences.QUOTATION_SHARE) < 0.03
    assert set(drawn) - pool                      # the rest from the grammar
    empty = tmp_path / "none"
    empty.mkdir()
    assert sentences.source(empty) == "grammar"
    rng = np.random.default_rng(0)
    assert not {sentences.sentence(rng, root=empty) for _ in range(200)} & pool
    # seeded: the same draws again
    a = [sentences.sentence(np.random.default_rng(5), root=root) for _ in range(3)]
    assert len(set(a)) == 1


def test_the_installed_quotations_are_many_and_varied() -> None:
    # scripts/setup.sh installs Debian's fortunes package
    pool = sentences.fortune_sentences()
    assert len(pool) > 5000
    vocabulary = set().union(*(sentences.words(s) for s in pool))
    assert len(vocabulary) > 8000


def test_words_split_punctuation_from_words() -> None:
    assert sentences.words("No! No, no... \"Yes?\" Don't-know") == {"no", "yes", "don't",
                                                                      "know"}


def test_homophones_and_banned_words() -> None:
    assert {"no", "know"} <= homophones("no") and "now" not in homophones("no")
    assert homophones("zzyzzx") == {"zzyzzx"}
    banned = banned_words(["yes", "no"])
    assert {"yes", "no", "know"} <= banned and not {"now", "yet", "yeah"} & banned


def test_running_speech_drops_sentences_with_a_keyword_however_written(tmp_path: Path,
                                                                        monkeypatch) -> None:
    from kws.data import running_speech as rs

    texts = ["No, thanks.", "I know!", "Now then, go.", "Yes-man."]

    def speak(minutes: float, seed: int):
        return texts, [np.full(16000, 0.1 * (i + 1)) for i in range(len(texts))]

    monkeypatch.setattr(rs, "_speak_sentences", speak)
    x = rs.running_speech(minutes=0.1, keywords=["no"], cache_dir=tmp_path)
    levels = {round(float(v) / 3276.7) for v in np.unique(x) if v}
    assert levels == {3, 4}                        # "Now then, go." and "Yes-man." only
    x = rs.running_speech(minutes=0.1, keywords=["yes"], cache_dir=tmp_path)
    assert {round(float(v) / 3276.7) for v in np.unique(x) if v} == {1, 2, 3}
    assert [p.name for p in tmp_path.iterdir()] == [
        f"sentences-{sentences.source()}-0.1min-seed0.npz"]


def test_doctests() -> None:
    import doctest

    from kws.data import running_speech

    assert doctest.testmod(sentences).failed == 0
    assert doctest.testmod(running_speech).failed == 0


def test_a_missing_package_is_said_once(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setattr(sentences, "FORTUNES_DIR", tmp_path)
    sentences.fortune_sentences.cache_clear()
    try:
        assert sentences.source(tmp_path) == "grammar" and sentences.source(tmp_path)
        err = capsys.readouterr().err
        assert err.count("no fortune files (Debian package fortunes)") == 1
        assert str(tmp_path) in err
    finally:
        sentences.fortune_sentences.cache_clear()
