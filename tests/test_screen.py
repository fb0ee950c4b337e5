"""Screening negatives with PocketSphinx: real "yes"/"no" clips are heard, noise is not, the
results are cached per keyword and reused, and ``kws data screen`` links the kept ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kws.audio import load_audio, save_wav
from kws.errors import KwsError

CLIPS = Path(__file__).parent / "data" / "speech_commands"


@pytest.fixture(scope="module")
def recs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(tmp_path_factory.mktemp("screen"))


def _folder(tmp_path: Path) -> Path:
    """Three padded real clips each of yes and no, and three of hiss at speech level."""
    root = tmp_path / "recs"
    root.mkdir()
    pad = np.zeros(8000, np.int16)
    for word in ("yes", "no"):
        for f in sorted((CLIPS / word).glob("*.flac"))[:3]:
            save_wav(root / f"{word}_{f.stem}.wav", np.concatenate([pad, load_audio(f), pad]))
    rng = np.random.default_rng(0)
    for i in range(3):
        save_wav(root / f"hiss_{i}.wav", rng.normal(0, 300, 32000).astype(np.int16))
    return root


def test_screen_hears_keywords_and_caches(recs: Path, monkeypatch) -> None:
    from kws.data import screen

    root, tmp_path = recs, recs.parent
    files = sorted(root.iterdir())
    found = screen.screen(files, ["yes", "no"], cache_dir=tmp_path / "cache", workers=1)
    for f, hits in found.items():
        if f.name.startswith("yes"):
            assert "yes" in hits, f
        elif f.name.startswith("no"):
            assert "no" in hits, f
        else:
            assert hits == [], f
    kept, out = screen.clean(files, ["yes", "no"], cache_dir=tmp_path / "cache", workers=1)
    assert sorted(p.name for p in kept) == ["hiss_0.wav", "hiss_1.wav", "hiss_2.wav"]
    assert len(out) == 6
    # cached: the recognizer is not run again, also for a keyword set sharing one word
    monkeypatch.setattr(screen, "_screen_one", lambda *_: pytest.fail("not cached"))
    again = screen.screen(files, ["no"], cache_dir=tmp_path / "cache", workers=1)
    assert {f: h for f, h in again.items()} == {
        f: [w for w in h if w == "no"] for f, h in found.items()}


def test_a_verdict_does_not_depend_on_what_was_screened_before() -> None:
    """One decoder serves a whole worker process, and which recordings it decodes, in which
    order, depends on scheduling: each recording must get what a fresh decoder gives it, in
    any order. Long recordings over noise floors far apart make PocketSphinx's carried state
    (live cepstral mean, noise estimate) change verdicts when it is not reset."""
    from kws.data import screen

    pad = np.zeros(8000, np.int16)
    words = [np.concatenate([pad, load_audio(f), pad]) for w in ("yes", "no")
             for f in sorted((CLIPS / w).glob("*.flac"))[:3]]
    rng = np.random.default_rng(0)
    recs = []
    for i in range(9):
        x = np.concatenate(words[i % 6:] + words[:i % 6]).astype(np.float64)
        x += rng.normal(0, (20, 800, 2500)[i % 3], len(x))
        recs.append(np.clip(x, -32768, 32767).astype(np.int16))
    th = {w: screen.word_threshold(w) for w in ("yes", "no")}
    fresh = []
    for x in recs:
        screen._DECODERS.clear()
        fresh.append(screen.heard(x, th))
    assert any(sum(h.values()) for h in fresh)
    forward = [screen.heard(x, th) for x in recs]
    backward = [screen.heard(x, th) for x in recs[::-1]][::-1]
    assert forward == fresh and backward == fresh


def test_transcripts_say_real_words_and_are_matched_by_sound() -> None:
    from kws.data.screen import said, transcribe

    pad = np.zeros(8000, np.int16)
    for w in ("yes", "no"):
        f = sorted((CLIPS / w).glob("*.flac"))[0]
        x = np.concatenate([pad, load_audio(f), pad])
        assert transcribe(x) == w == transcribe(x)
    assert transcribe(np.random.default_rng(0).normal(0, 300, 32000).astype(np.int16)) == ""
    assert said("why do you want to know", "no") and said("No trouble", "NO")
    assert said("yes i'm gaining control", "yes")
    assert not said("nothing now, not a note", "no") and not said("yesterday yeah", "yes")
    assert not said("", "yes")


def _deaf(args: tuple[str, dict[str, float]]) -> dict[str, int]:
    """A keyword search that hears nothing (picklable for the screen's worker processes)."""
    return {w: 0 for w in args[1]}


def _knows(path: str) -> str:
    """Transcripts: "know" in the first hiss, nothing elsewhere."""
    return "you would know" if Path(path).name == "hiss_0.wav" else ""


def test_the_transcript_catches_what_the_keyword_search_passes(recs: Path, tmp_path: Path,
                                                                monkeypatch) -> None:
    """A recording the keyword search passes is left out when its transcript says the keyword
    or its homophone; transcripts are cached by file, whatever the keywords."""
    from kws.data import screen

    files = sorted(recs.iterdir())
    monkeypatch.setattr(screen, "_screen_one", _deaf)
    monkeypatch.setattr(screen, "_transcribe_one", _knows)
    found = screen.screen(files, ["yes", "no"], cache_dir=tmp_path, workers=1)
    assert {f.name for f, h in found.items() if h} == {"hiss_0.wav"}
    assert found[recs / "hiss_0.wav"] == ["no"]
    monkeypatch.setattr(screen, "_transcribe_one", lambda *_: pytest.fail("not cached"))
    again = screen.screen(files, ["no", "up"], cache_dir=tmp_path, workers=1)
    assert {f.name: h for f, h in again.items() if h} == {"hiss_0.wav": ["no"]}


def test_threshold_grows_stricter_with_length() -> None:
    from kws.data.screen import word_threshold

    assert word_threshold("no", 1e-3) == pytest.approx(1e-6)          # N OW
    assert word_threshold("yes", 1e-3) == pytest.approx(1e-9)         # Y EH S
    with pytest.raises(KwsError, match="not in PocketSphinx's dictionary"):
        word_threshold("qzxv")


def test_kws_data_screen_links_kept(recs: Path, tmp_path: Path, capsys) -> None:
    from kws.cli import main

    root = recs
    out = tmp_path / "kept"
    assert main(["data", "screen", str(root), "--words", "yes,no", "--out", str(out),
                 "--cache-dir", str(recs.parent / "cache"), "--jobs", "1"]) == 0
    text = capsys.readouterr().out
    assert "3 of 9 recordings kept, 6 left out" in text
    assert sorted(p.name for p in out.iterdir()) == ["hiss_0.wav", "hiss_1.wav",
                                                     "hiss_2.wav"]
    assert main(["data", "screen", str(tmp_path / "none"), "--words", "yes"]) != 0
