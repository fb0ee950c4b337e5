"""Long test streams (kws.data.labelled_stream) and ``kws data stream``."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.data import labelled_stream as stream
from kws.data.augment import NoiseBank
from kws.data.manifest import Entry, write_manifest
from kws.errors import KwsError


def _source(folder: Path) -> Path:
    """A dataset of tone 'words' (yes: 400 Hz, no: 900 Hz) and noise-burst distractors."""
    rng = np.random.default_rng(0)
    entries = []
    for label, f in (("yes", 400.0), ("no", 900.0), ("_unknown_", 0.0)):
        (folder / label).mkdir(parents=True)
        for i in range(5):
            x = np.zeros(16000)
            start, n = 3000 + 500 * i, 5000 + 300 * i
            t = np.arange(n) / 16000
            x[start: start + n] = (np.sin(2 * np.pi * f * t) if f else
                                   rng.standard_normal(n) * 0.3)
            name = f"{label}/{i}.wav"
            sf.write(folder / name, (x * 16000).astype(np.int16), 16000)
            entries.append(Entry(path=name, label=label, split="train"))
    write_manifest(folder, entries)
    return folder


def test_events_mark_the_keywords(tmp_path: Path) -> None:
    src = _source(tmp_path / "src")
    samples, events = stream.make_stream(source=src, words=["yes", "no"], minutes=1.0, seed=3)
    assert samples.dtype == np.int16 and len(samples) == 60 * 16000
    assert len(events) >= 6
    x = samples.astype(np.float64)
    for e in events:
        a, b = int(e.time_ms * 16), int(e.end_ms * 16)
        seg = x[a:b]
        spec = np.abs(np.fft.rfft(seg))
        freq = np.argmax(spec) * 16000 / len(seg)
        assert abs(freq - (400 if e.label == "yes" else 900)) < 20
        before = x[max(0, a - 800): a - 10]
        assert np.sqrt(np.mean(seg ** 2)) > 3 * np.sqrt(np.mean(before ** 2))
    times = [e.time_ms for e in events]
    assert times == sorted(times)
    assert all(b.time_ms - a.end_ms >= 1500 - 1 for a, b in zip(events, events[1:]))


def test_stream_is_deterministic(tmp_path: Path) -> None:
    src = _source(tmp_path / "src")
    bank = NoiseBank([np.random.default_rng(0).standard_normal(16000 * 20) * 0.01], ["n"],
                     part="heldout")
    a = stream.make_stream(source=src, words=["yes"], minutes=0.5, seed=1, noise=bank)
    b = stream.make_stream(source=src, words=["yes"], minutes=0.5, seed=1, noise=bank)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    c = stream.make_stream(source=src, words=["yes"], minutes=0.5, seed=2, noise=bank)
    assert not np.array_equal(a[0], c[0])


def test_events_name_their_clip_and_snr(tmp_path: Path) -> None:
    src = _source(tmp_path / "src")
    bank = NoiseBank([np.random.default_rng(0).standard_normal(16000 * 20) * 0.01], ["n"],
                     part="heldout")
    _, events = stream.make_stream(source=src, words=["yes", "no"], minutes=0.5, seed=1,
                                   noise=bank, snr_db=(5.0, 30.0))
    assert events and all(e.source.startswith(f"{e.label}/") and 5.0 <= e.snr_db <= 30.0
                          for e in events)
    _, by_peak = stream.make_stream(source=src, words=["yes"], minutes=0.5, seed=1)
    assert all(e.snr_db is None and e.source for e in by_peak)


def test_events_file_round_trip(tmp_path: Path) -> None:
    events = [stream.Event(1000.0, "yes", 1500.5), stream.Event(7000.25, "no", 7400.0)]
    stream.write_events(tmp_path / "e.csv", events)
    assert stream.read_events(tmp_path / "e.csv") == events
    (tmp_path / "bad.csv").write_text("when,label\n1,yes\n")
    with pytest.raises(KwsError, match="time_ms"):
        stream.read_events(tmp_path / "bad.csv")


def test_missing_word_is_an_error(tmp_path: Path) -> None:
    src = _source(tmp_path / "src")
    with pytest.raises(KwsError, match=r"no clips of stop \(labels there: _unknown_, no, yes\)"):
        stream.make_stream(source=src, words=["stop"], minutes=0.5)
    with pytest.raises(KwsError, match="minutes: must be positive"):
        stream.make_stream(source=src, words=["yes"], minutes=0)


def test_cli_stream_with_synthetic_clips(tmp_path: Path, real_audio: Path) -> None:
    from kws.commands import data
    from kws.data import tts

    if not tts.available_engines():
        pytest.skip("no TTS engine installed")
    parser = argparse.ArgumentParser(prog="kws")
    data.register(parser.add_subparsers())
    out, ev = tmp_path / "long.wav", tmp_path / "events.csv"
    args = parser.parse_args(["data", "stream", "--words", "yes,no", "--minutes", "0.5",
                              "--out", str(out), "--events", str(ev), "--quiet",
                              "--noise-dir", str(real_audio / "_background_noise_")])
    assert args.func(args) == 0
    info = sf.info(out)
    assert info.samplerate == 16000 and info.frames == 30 * 16000
    events = stream.read_events(ev)
    assert events and {e.label for e in events} <= {"yes", "no"}
