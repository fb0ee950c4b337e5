"""Long test streams: keyword clips at known times in background noise, with an events file.

This is the project's one test-stream generator: ``kws data stream``, ``kws demo``, the firmware
parity tests and demo (:func:`parity_stream`), ``kws bench stream`` and ``kws bench accuracy``
all build their streams here.

The clips come from ``source``: either a dataset folder with our ``manifest.csv`` (columns
path, label, split, ...; :mod:`kws.data.manifest`), or a folder of word sub-folders
(``<word>/<clip>.wav|.flac``, such as a Speech Commands copy or ``tests/data/speech_commands``;
a ``manifest.csv`` there with another schema, e.g. a provenance list
``file,source_repo,...``, is ignored). In a word-folder source each clip's split is the Speech
Commands speaker-hash rule (:func:`kws.data.speech_commands.which_set`), and the words that are
not keywords are the distractors (or only those named in ``distractors``).

``make_stream`` lays down a noise bed (recorded background noise from the *held-out* last 20 %
of each file, or synthesized white/pink/brown noise where no recordings are given), in 5 s
segments at a level uniform in ``noise_dbfs`` (-65 to -35 dBFS RMS) with 50 ms cross-fades,
then adds clips from a dataset: keywords (each with an event) and, with probability
``distractor_prob``, ``_unknown_`` clips (no event) between them. Gaps between clips are
uniform in ``gap_s`` (1.5-6 s), so detections of neighbouring events cannot merge. Each clip is
scaled to a peak uniform in ``peak_dbfs`` (-30 to -3 dBFS), or, when ``snr_db`` is given, to an
RMS that is uniform in ``snr_db`` above the RMS of the noise bed under it. ``noise_prob`` is the
chance that a segment of the bed is recorded noise (when a bank is given) rather than coloured.

The events CSV has one row per keyword: ``time_ms`` (the start of the speech in the clip,
found as for trimming: the first 10 ms frame within 40 dB of the loudest), ``label`` and
``end_ms`` (the end of the speech).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.audio import SAMPLE_RATE, load_audio, quantize_int16, save_wav
from kws.data.augment import NOISE_COLOURS, NoiseBank, colored_noise
from kws.data.dataset import drop_bad_entries
from kws.data.manifest import BACKGROUND, UNKNOWN, Entry, read_manifest
from kws.data.speech_commands import speech_commands_entries
from kws.errors import KwsError
from kws.fileio import write_text_atomic


@dataclasses.dataclass(frozen=True)
class Event:
    """A keyword in the stream; ``source`` (the clip's path in the source folder) and ``snr_db``
    (its level over the noise bed; None when placed by peak level) are for analysis and are
    not written to the events CSV."""

    time_ms: float
    label: str
    end_ms: float
    source: str = ""
    snr_db: float | None = None


def speech_bounds(clip: np.ndarray, *, threshold_db: float = 40.0) -> tuple[int, int]:
    """(first, last+1) sample of the 10 ms frames within ``threshold_db`` of the loudest."""
    x = np.asarray(clip, dtype=np.float64)
    hop = SAMPLE_RATE // 100
    n = len(x) // hop
    if n == 0:
        return 0, len(x)
    e = (x[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    if e.max() <= 0:
        return 0, 0
    loud = np.flatnonzero(e >= e.max() * 10 ** (-threshold_db / 10))
    return int(loud[0] * hop), int((loud[-1] + 1) * hop)


def _has_our_manifest(root: Path) -> bool:
    """Whether ``root/manifest.csv`` is a dataset manifest (path, label, split columns)."""
    f = root / "manifest.csv"
    if not f.is_file():
        return False
    with open(f, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    return {"path", "label", "split"} <= set(header)


def stream_entries(source: str | os.PathLike[str]) -> list[Entry]:
    """The clips of a stream source: its manifest, or its ``<word>/<clip>`` sub-folders.

    Raises
    ------
    KwsError
        If the folder is missing, or has neither a dataset manifest nor word sub-folders.
    """
    root = Path(source)
    if not root.is_dir():
        raise KwsError(f"{root}: stream source folder not found")
    if _has_our_manifest(root):
        return read_manifest(root)
    try:
        return speech_commands_entries(root, source="folder")
    except KwsError:
        raise KwsError(f"{root}: neither a dataset manifest.csv (path,label,split) nor "
                       "<word>/<clip>.wav|.flac sub-folders") from None


def noise_bed(total: int, *, rng: np.random.Generator, noise: NoiseBank | None,
              noise_prob: float, noise_dbfs: tuple[float, float]) -> np.ndarray:
    """The background of a stream: 5 s segments with 50 ms linear cross-fades, each a
    recording from ``noise`` (probability ``noise_prob``) or synthesized coloured noise, at an
    RMS uniform in ``noise_dbfs``; float64, shape (total,)."""
    seg, fade = 5 * SAMPLE_RATE, SAMPLE_RATE // 20
    bed = np.zeros(total + seg + fade)
    ramp = np.linspace(0.0, 1.0, fade)
    for start in range(0, total, seg):
        n = seg + fade
        if noise is not None and rng.uniform() < noise_prob:
            z, _ = noise.pick(n, rng)
            z = np.array(z, dtype=np.float64)
        else:
            z = colored_noise(n, colour=NOISE_COLOURS[int(rng.integers(3))], rng=rng)
        rms = float(np.sqrt(np.mean(z ** 2)))
        z *= 10 ** (rng.uniform(*noise_dbfs) / 20) / max(rms, 1e-12)
        z[:fade] *= ramp
        z[-fade:] *= ramp[::-1]
        bed[start: start + n] += z
    return bed[:total]


def make_stream(*, source: str | os.PathLike[str], words: Sequence[str], minutes: float,
                seed: int = 0, noise: NoiseBank | None = None,
                split: str | Sequence[str] | None = None,
                distractors: Sequence[str] | None = None,
                distractor_prob: float = 0.3, gap_s: tuple[float, float] = (1.5, 6.0),
                noise_dbfs: tuple[float, float] = (-65.0, -35.0),
                peak_dbfs: tuple[float, float] = (-30.0, -3.0),
                snr_db: tuple[float, float] | None = None, noise_prob: float = 0.7
                ) -> tuple[np.ndarray, list[Event]]:
    """Build a test stream from a dataset folder or a folder of word sub-folders.

    Parameters
    ----------
    source : path-like, keyword-only
        A dataset folder with a manifest (e.g. made by ``kws data synth``), or a folder of
        ``<word>/<clip>`` sub-folders (see the module docstring).
    words : sequence of str, keyword-only
        Keywords to place (labels of the dataset).
    distractors : sequence of str or None, keyword-only
        Labels whose clips are distractors (no event). None: ``_unknown_`` clips, and in a
        word-folder source every word that is not a keyword.
    snr_db : (low, high) or None, keyword-only
        Level clips against the noise under them instead of by ``peak_dbfs``.
    noise_prob : float, keyword-only
        Chance that a 5 s bed segment is recorded noise (when ``noise`` is given).
    minutes : float, keyword-only
        Stream length.
    seed : int, keyword-only
    noise : NoiseBank or None, keyword-only
        Recorded noise for the bed (use ``part="heldout"``); None: synthesized noise only.
    split : str, sequence of str or None, keyword-only
        Take clips only from this split (e.g. ``validation``) or these splits; None: any.
    distractor_prob, gap_s, noise_dbfs, peak_dbfs
        See the module docstring.

    Returns
    -------
    samples : ndarray of int16, shape (minutes * 60 * 16000,)
    events : list of Event
    """
    if minutes <= 0:
        raise KwsError(f"must be positive (got {minutes})", argument="minutes")
    entries = stream_entries(source)
    folder_source = not _has_our_manifest(Path(source))
    if split is not None:
        keep = {split} if isinstance(split, str) else set(split)
        entries = [e for e in entries if e.split in keep]
    entries = drop_bad_entries(source, entries)
    labels = {e.label for e in entries}
    missing = [w for w in words if w not in labels]
    if missing:
        raise KwsError(f"{source}: no clips of {', '.join(missing)} (labels there: "
                       f"{', '.join(sorted(labels))})")
    keyword_entries = [e for e in entries if e.label in set(words)]
    if distractors is not None:
        pool_labels = set(distractors) - set(words)
    elif folder_source:
        pool_labels = labels - set(words)
    else:
        pool_labels = {UNKNOWN}
    distractor_entries = [e for e in entries if e.label in pool_labels]
    rng = np.random.default_rng([seed, 0x57])
    total = int(round(minutes * 60 * SAMPLE_RATE))
    y = noise_bed(total, rng=rng, noise=noise, noise_prob=noise_prob, noise_dbfs=noise_dbfs)

    cache: dict[str, np.ndarray] = {}

    def clip_of(e: Entry) -> np.ndarray:
        if e.path not in cache:
            cache[e.path] = load_audio(Path(source) / e.path).astype(np.float64) / 32768.0
        return cache[e.path]

    events: list[Event] = []
    pos = int(rng.uniform(*gap_s) * SAMPLE_RATE)
    silent = 0
    while True:
        distract = bool(distractor_entries) and rng.uniform() < distractor_prob
        pool = distractor_entries if distract else keyword_entries
        e = pool[int(rng.integers(len(pool)))]
        x = clip_of(e)
        lo, hi = speech_bounds(x)
        if hi <= lo:
            silent += 1
            if silent > 1000:
                raise KwsError(f"{source}: its clips are silent; cannot build a stream")
            continue
        x = x[lo:hi]
        if pos + len(x) > total:
            break
        snr = None
        if snr_db is None:
            x = x * (10 ** (rng.uniform(*peak_dbfs) / 20) / max(np.abs(x).max(), 1e-12))
        else:
            bed_rms = float(np.sqrt(np.mean(y[pos: pos + len(x)] ** 2)))
            x_rms = max(float(np.sqrt(np.mean(x ** 2))), 1e-12)
            snr = float(rng.uniform(*snr_db))
            x = x * (max(bed_rms, 1e-6) * 10 ** (snr / 20) / x_rms)
        y[pos: pos + len(x)] += x
        if not distract:
            events.append(Event(time_ms=round(pos * 1000 / SAMPLE_RATE, 2), label=e.label,
                                end_ms=round((pos + len(x)) * 1000 / SAMPLE_RATE, 2),
                                source=str(e.path), snr_db=snr))
        pos += len(x) + int(rng.uniform(*gap_s) * SAMPLE_RATE)
    return quantize_int16(np.clip(y, -1.0, 1.0)), events


def parity_stream(audio_dir: str | os.PathLike[str], *, seconds: float = 60.0,
                  words: Sequence[str] = ("yes", "no"),
                  distractors: Sequence[str] = ("up", "down", "left"), seed: int = 0
                  ) -> tuple[np.ndarray, list[Event]]:
    """The firmware-parity recipe of :func:`make_stream`: a dense stream from word sub-folders.

    Clips every 0.5-2 s (three quarters keywords, the rest ``distractors``), each 5-25 dB
    above a bed of the held-out last 20 % of ``audio_dir/_background_noise_`` (coloured noise
    where that folder is missing) at -65 to -35 dBFS. Used by the firmware tests, ``kws demo``'s
    firmware step and ``kws bench stream``; both sides of a parity test get the same samples.

    Parameters
    ----------
    audio_dir : path-like
        Folder of ``<word>/<clip>.wav`` sub-folders (e.g. tests/data/speech_commands).
    seconds : float, keyword-only
    words, distractors : sequence of str, keyword-only
    seed : int, keyword-only

    Returns
    -------
    samples : ndarray of int16
    events : list of Event
    """
    bg = Path(audio_dir) / BACKGROUND
    bank = NoiseBank.from_folder(bg, part="heldout") if bg.is_dir() else None
    return make_stream(source=audio_dir, words=words, minutes=seconds / 60.0, seed=seed,
                       noise=bank, distractors=distractors, distractor_prob=0.25,
                       gap_s=(0.5, 2.0), snr_db=(5.0, 25.0), noise_prob=1.0)


def write_events(path: str | os.PathLike[str], events: Sequence[Event]) -> None:
    """Write events as CSV (time_ms, label, end_ms), atomically."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["time_ms", "label", "end_ms"])
    for e in events:
        w.writerow([f"{e.time_ms:.2f}", e.label, f"{e.end_ms:.2f}"])
    write_text_atomic(path, buf.getvalue())


def read_events(path: str | os.PathLike[str]) -> list[Event]:
    """Read an events CSV written by :func:`write_events` (``end_ms`` optional)."""
    p = Path(path)
    if not p.is_file():
        raise KwsError(f"{p}: events file not found")
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not {"time_ms", "label"} <= set(reader.fieldnames or []):
            raise KwsError(f"{p}: events file needs columns time_ms,label")
        out = []
        for line, row in enumerate(reader, start=2):
            try:
                t = float(row["time_ms"])
                end = float(row["end_ms"]) if row.get("end_ms") else t
            except ValueError:
                raise KwsError(f"{p}:{line}: time_ms is not a number") from None
            out.append(Event(time_ms=t, label=row["label"], end_ms=end))
    return out


def write_stream(*, out: str | os.PathLike[str], events_path: str | os.PathLike[str],
                 samples: np.ndarray, events: Sequence[Event]) -> None:
    """Write the stream WAV and its events CSV, each atomically."""
    save_wav(out, samples)
    write_events(events_path, events)
