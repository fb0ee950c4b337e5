"""``kws bench detection`` helpers: the tuning/scoring split of the running-speech negatives,
joining lines into recordings, keyword-free TTS sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kws.audio import save_wav
from kws.bench.detection import (
    _row,
    dialogue_part,
    event_peaks,
    join_lines,
    parse_budgets,
    parse_windows,
    peak_summary,
    smoothing_sweep,
)
from kws.data.labelled_stream import Event
from kws.errors import KwsError
from kws.scoring import operating_points


def test_dialogue_split_is_stable_and_balanced() -> None:
    names = [f"{50000 + i}.flac" for i in range(2000)]
    parts = [dialogue_part(n) for n in names]
    assert parts == [dialogue_part(n) for n in names]
    assert 0.45 < parts.count("tuning") / len(parts) < 0.55
    assert dialogue_part("50007.flac") == dialogue_part("50007.wav")


def test_join_lines_indexes_every_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    files = []
    for i in range(6):
        f = tmp_path / f"{i}.wav"
        save_wav(f, (rng.normal(0, 3000, 16000 * (i + 1))).astype(np.int16))
        files.append(f)
    recs = join_lines(files, minutes=0.1, seed=1)      # 6 s per recording
    names = [n for _, idx in recs for _, n in idx]
    assert names == [f.name for f in files]
    total = sum(len(x) for x, _ in recs)
    assert 21 * 16000 + 6 * 0.2 * 16000 <= total <= 21 * 16000 + 6 * 0.8 * 16000
    for x, idx in recs:
        assert x.dtype == np.int16 and idx[0][0] == 0.0
        assert all(a[0] < b[0] for a, b in zip(idx, idx[1:]))


def test_budgets_parse_and_reject() -> None:
    assert parse_budgets("100,20, 50,20") == (20.0, 50.0, 100.0)
    for bad in ("", "10,x", "0,5", "-1"):
        with pytest.raises(KwsError, match="--budgets"):
            parse_budgets(bad)


def test_rows_print_the_chosen_budgets() -> None:
    curve = [{"threshold": t, "fa_per_hour": fa, "false_accepts": 0, "miss_rate": m,
              "misses": 0, "events": 10} for t, fa, m in ((100, 120.0, 0.1), (150, 60.0, 0.2),
                                                         (200, 15.0, 0.4), (250, 1.0, 0.9))]
    budgets = parse_budgets("20,50,100")
    r = {"events": 10, "misses": 9, "miss_rate": 0.9, "fa_per_hour": 1.0, "false_accepts": 1,
         "negative_hours": 1.0, "det": curve, "operating_points": operating_points(curve, budgets)}
    row = _row("stream", r, budgets)
    assert "20/h: 0.400@200; 50/h: 0.400@200; 100/h: 0.200@150" in row
    neg = {**r, "events": 0}
    assert "20/h: th 200; 50/h: th 200; 100/h: th 150" in _row("negatives", neg, budgets)


def test_event_peaks_take_the_hit_window_by_hand() -> None:
    labels = ["_silence_", "_unknown_", "yes", "no"]
    times = np.arange(0, 10000, 40)                       # an inference every 40 ms
    scores = np.zeros((len(times), 4), np.int64)
    scores[times == 1200, 2] = 240                        # "yes" inside its event (1.0-1.5 s)
    scores[times == 1960, 2] = 250                        # 0.46 s after the end: still counts
    scores[times == 2080, 2] = 255                        # 0.58 s after: outside
    scores[times == 1400, 3] = 90                         # the other keyword
    scores[times == 5200, 3] = 100                        # "no" event at 5.0-5.3 s: too low
    events = [Event(1000.0, "yes", 1500.0, source="yes/a.wav", snr_db=20.0),
              Event(5000.0, "no", 5300.0, source="no/b.wav", snr_db=6.0)]
    peaks = event_peaks(scores, times, events, labels, [256, 256, 245, 200])
    assert [(p["peak"], p["other_keyword_peak"], p["reached"]) for p in peaks] == [
        (250, 90, True), (100, 0, False)]
    assert peaks[1]["source"] == "no/b.wav" and peaks[1]["snr_db"] == 6.0
    line = peak_summary(peaks)
    assert "1 of 2 (no 1/1, yes 0/1)" in line and "[100] (1 under 128)" in line
    assert "median SNR 6 dB (reached ones 20 dB)" in line


def test_smoothing_sweep_by_hand() -> None:
    from kws.detect import DetectorSettings
    from kws.evaluate import Scored

    times = np.arange(0, 100000, 40)                      # 100 s, an inference every 40 ms
    q = np.full((len(times), 3), -128, np.int8)           # zero point -128: score 0
    q[(times >= 10200) & (times < 10360), 2] = 127        # the keyword: 4 inferences at 255
    q[times == 50000, 2] = 127                            # a one-inference spike: a false accept
    sc = Scored([(q, times)], [[(10.0, 10.5, "yes")]], [100.0], output_zero_point=-128)
    det = DetectorSettings(labels=("_silence_", "_unknown_", "yes"), thresholds=(256, 256, 200),
                           average_window=3)
    sweep = smoothing_sweep(sc, det, parse_windows("2,1"), parse_budgets("10,100"))
    assert list(sweep) == [1, 2]
    assert [p["threshold"] for p in sweep[1]] == [None, 1]       # K=1: the spike always fires
    assert sweep[1][1]["miss_rate"] == 0.0
    assert [(p["threshold"], p["miss_rate"], p["fa_per_hour"]) for p in sweep[2]] == [
        (128, 0.0, 0.0), (128, 0.0, 0.0)]                        # the spike averages to 127
    for bad in ("0", "17", "x", ""):
        with pytest.raises(KwsError, match="--smoothing"):
            parse_windows(bad)


def test_word_classes_are_neither_events_nor_other_keywords() -> None:
    """A word class's score is no keyword's peak; the clip line lists how many clips of each
    other word went to a keyword (nothing without the words)."""
    from kws.bench.detection import other_words_heard

    labels = ["_silence_", "_unknown_", "yes", "no", "_word_go"]
    times = np.arange(0, 3000, 40)
    scores = np.zeros((len(times), 5), np.int64)
    scores[times == 1200, 2] = 200
    scores[times == 1240, 4] = 255                        # "go" scores higher: not a keyword
    events = [Event(1000.0, "yes", 1500.0, source="yes/a.wav", snr_db=20.0)]
    peaks = event_peaks(scores, times, events, labels, [256, 256, 150, 150, 256])
    assert [(p["peak"], p["other_keyword_peak"], p["reached"]) for p in peaks] == [
        (200, 0, True)]
    rep = {"other_words": {"go": {"support": 117, "predicted": {
        "_unknown_": 100, "no": 14, "yes": 3}}, "up": {"support": 5, "predicted": {
            "_unknown_": 5}}}}
    assert other_words_heard(rep) == ("other words' clips heard as keywords (int8; scored as "
                                      "_unknown_): go 17/117, no 14, yes 3; up 0/5")
    assert other_words_heard({"word_classes": {}}) == ""
