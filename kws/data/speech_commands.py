"""The Speech Commands recipe: download, splits, and the 12-class (or any word list) set-up.

Speech Commands (Warden 2018, CC-BY-4.0) is a folder per word of one-second clips named
``<speaker>_nohash_<n>.wav``, a ``_background_noise_`` folder, and (in the official archives)
``validation_list.txt`` and ``testing_list.txt``.

Splits
    A file named in ``validation_list.txt`` or ``testing_list.txt`` is in that split. A file in
    neither list is assigned by the dataset's original rule (``which_set`` in TensorFlow's
    speech_commands example): the SHA-1 of the file name with ``_nohash_...`` removed (so all of
    a speaker's clips go to the same split), taken modulo 2**27, as a percentage; below
    ``validation_percentage`` (10) is validation, below that plus ``testing_percentage`` (10)
    is test, the rest train. When the list files exist, as in the official archives, they were
    made by this very rule, so the two agree; a folder with no list files (such as
    ``tests/data/speech_commands``) is split by the rule alone.
Classes
    The chosen words (default: the standard ten, yes no up down left right on off stop go),
    plus ``_unknown_`` sampled from every other word and ``_silence_`` cut from the
    background-noise recordings, each ``unknown_percentage`` / ``silence_percentage`` (10 %)
    of the number of keyword clips of the split, as in the recipe. Training ``_silence_``
    clips come from the first 80 % of each background recording, validation and test ones
    from the last 20 %, which training-time augmentation never uses.
Files
    ``.wav`` and ``.flac`` are read. Missing or unreadable files are skipped, with one warning
    that counts and lists them.
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import re
import shutil
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.audio import AUDIO_SUFFIXES
from kws.data.dataset import check_class_counts, probe_audio, warn_skipped
from kws.data.manifest import BACKGROUND, SILENCE, UNKNOWN, Entry, write_manifest
from kws.errors import KwsError
from kws.fileio import class_files

#: Official archives: URL, sha256, size in bytes (size unknown for v0.01).
#: Checksums as published by torchaudio and TensorFlow Datasets.
ARCHIVES: dict[int, tuple[str, str, int | None]] = {
    1: ("http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz",
        "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d", None),
    2: ("http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
        "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58", 2428923189),
}
STANDARD_WORDS: tuple[str, ...] = ("yes", "no", "up", "down", "left", "right", "on", "off",
                                   "stop", "go")
MAX_NUM_WAVS_PER_CLASS = 2 ** 27 - 1  # the original rule's hash modulus minus one
EXTRACTED_MARK = ".kws-extracted"


# --------------------------------------------------------------------------------------------
# Download and extraction
# --------------------------------------------------------------------------------------------

def sha256_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def download(url: str, dest: str | os.PathLike[str], *, sha256: str | None = None,
             progress: bool = True, timeout: float = 60.0, retries: int = 3) -> Path:
    """Download ``url`` to ``dest``, resuming a partial ``dest.part`` with an HTTP Range request.

    The bytes go to ``<dest>.part``; only when the transfer is complete and its SHA-256 matches
    is it renamed to ``dest``. A server that ignores the Range header (answers 200) makes the
    download restart from zero. A dropped connection is retried ``retries`` times, resuming.

    Parameters
    ----------
    url : str
    dest : path-like
    sha256 : str or None, keyword-only
        Expected hex digest; a mismatch deletes the partial file and raises KwsError.
    progress : bool, keyword-only
    timeout : float, keyword-only
        Socket timeout in seconds.
    retries : int, keyword-only

    Returns
    -------
    Path
        ``dest``.
    """
    from tqdm import tqdm

    dest = Path(dest)
    if dest.exists():
        if sha256 is None or sha256_file(dest) == sha256:
            return dest
        raise KwsError(f"{dest}: exists but its sha256 does not match {sha256}; delete it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    attempt = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"User-Agent": "kws"})
        if have:
            req.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status = getattr(resp, "status", 200)
                if have and status != 206:
                    have = 0  # server ignored the Range header: start again
                length = resp.headers.get("Content-Length")
                total = have + int(length) if length is not None else None
                with open(part, "ab" if have else "wb") as fh, tqdm(
                        total=total, initial=have, unit="B", unit_scale=True,
                        desc=dest.name, disable=not progress) as bar:
                    while True:
                        block = resp.read(1 << 20)
                        if not block:
                            break
                        fh.write(block)
                        bar.update(len(block))
                if total is not None and part.stat().st_size < total:
                    raise ConnectionError("connection closed early")
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # range past the end: the .part is already complete
                break
            raise KwsError(f"{url}: HTTP error {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            attempt += 1
            if attempt > retries:
                reason = getattr(exc, "reason", exc)
                raise KwsError(f"{url}: download failed ({reason}); run again to resume "
                               f"from {part}") from None
            time.sleep(min(2.0 ** attempt, 10.0) * 0.1)
    if sha256 is not None:
        got = sha256_file(part)
        if got != sha256:
            part.unlink()
            raise KwsError(f"{url}: sha256 mismatch (got {got}, expected {sha256}); the "
                           "partial file was deleted")
    os.replace(part, dest)
    return dest


def extract(archive: str | os.PathLike[str], dest: str | os.PathLike[str], *,
            progress: bool = True) -> Path:
    """Extract a .tar.gz into ``dest``; safe against path traversal; idempotent.

    Members go to ``dest/.extracting`` first and are moved into place when all are out, then
    ``dest/.kws-extracted`` marks completion, so an interrupted extraction is redone, never
    half-used.
    """
    from tqdm import tqdm

    dest = Path(dest)
    mark = dest / EXTRACTED_MARK
    if mark.exists():
        return dest
    staging = dest / ".extracting"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for m in tqdm(members, desc="extract", unit="file", disable=not progress):
                name = os.path.normpath(m.name)
                if name.startswith("..") or os.path.isabs(name):
                    raise KwsError(f"{archive}: unsafe path in archive: {m.name}")
                if not (m.isfile() or m.isdir()):
                    continue
                tar.extract(m, staging, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise KwsError(f"{archive}: cannot extract ({exc})") from None
    for item in staging.iterdir():
        target = dest / item.name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(item, target)
    staging.rmdir()
    mark.write_text(Path(archive).name + "\n", encoding="utf-8")
    return dest


def looks_like_speech_commands(root: str | os.PathLike[str]) -> bool:
    """True if ``root`` holds word folders of audio (a local copy of the dataset)."""
    root = Path(root)
    if not root.is_dir():
        return False
    return bool(available_words(root))


def fetch_speech_commands(*, version: int = 2, dir: str | os.PathLike[str],
                          url: str | None = None, sha256: str | None = None,
                          progress: bool = True) -> Path:
    """Make sure Speech Commands ``version`` is in ``dir``: use a local copy, or download it.

    Parameters
    ----------
    version : {1, 2}, keyword-only
    dir : path-like, keyword-only
        The dataset folder. If it already holds word folders, it is used as is.
    url, sha256 : str, keyword-only
        Override the official archive (tests use a local server).

    Returns
    -------
    Path
        ``dir``.
    """
    if version not in ARCHIVES:
        raise KwsError(f"Speech Commands version {version} unknown (1 or 2)",
                       argument="version")
    root = Path(dir)
    if (root / EXTRACTED_MARK).exists() or (
            looks_like_speech_commands(root) and not (root / ".extracting").exists()):
        return root
    off_url, off_sha, _ = ARCHIVES[version]
    url = url or off_url
    if sha256 is None and url == off_url:
        sha256 = off_sha
    archive = root / Path(url.split("?")[0]).name
    download(url, archive, sha256=sha256, progress=progress)
    extract(archive, root, progress=progress)
    return root


# --------------------------------------------------------------------------------------------
# Splits and classes
# --------------------------------------------------------------------------------------------

def speaker_of(filename: str) -> str:
    """The speaker part of a Speech Commands file name (``abc123_nohash_0.wav`` -> ``abc123``)."""
    return re.sub(r"_nohash_.*$", "", Path(filename).name)


def which_set(filename: str, *, validation_percentage: float = 10.0,
              testing_percentage: float = 10.0) -> str:
    """The split of a file by the dataset's speaker-hash rule: train, validation or test.

    Examples
    --------
    >>> which_set("yes/0a7c2a8d_nohash_0.wav") == which_set("no/0a7c2a8d_nohash_3.flac")
    True
    """
    hashed = hashlib.sha1(speaker_of(filename).encode("utf-8")).hexdigest()
    percentage = ((int(hashed, 16) % (MAX_NUM_WAVS_PER_CLASS + 1))
                  * (100.0 / MAX_NUM_WAVS_PER_CLASS))
    if percentage < validation_percentage:
        return "validation"
    if percentage < validation_percentage + testing_percentage:
        return "test"
    return "train"


def available_words(root: str | os.PathLike[str]) -> list[str]:
    """Word folders of ``root`` that hold at least one .wav/.flac (sorted)."""
    root = Path(root)
    words = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if d.is_dir() and not d.name.startswith(("_", ".")) and any(
                f.suffix.lower() in AUDIO_SUFFIXES for f in d.iterdir()):
            words.append(d.name)
    return words


def _read_list(path: Path) -> set[str]:
    """Entries of a list file as ``word/stem`` (suffix dropped, so .flac copies match)."""
    if not path.is_file():
        return set()
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            out.add(str(Path(line).with_suffix("")))
    return out


def speech_commands_entries(folder: str | os.PathLike[str], *,
                            validation_percentage: float = 10.0,
                            testing_percentage: float = 10.0,
                            source: str = "speech-commands") -> list[Entry]:
    """Every clip of a folder in the Speech Commands layout, with its split.

    The one reader of the layout: ``<word>/<clip>.wav|.flac`` (folders starting with ``_`` or
    ``.``, such as ``_background_noise_``, are not words); a clip named in
    ``validation_list.txt`` or ``testing_list.txt`` is in that split, any other one is split by
    :func:`which_set`.

    Raises
    ------
    KwsError
        If the folder is missing or holds no ``<word>/<clip>`` audio.
    """
    root = Path(folder)
    if not root.is_dir():
        raise KwsError(f"{root}: no such Speech Commands folder")
    lists = {"validation": _read_list(root / "validation_list.txt"),
             "test": _read_list(root / "testing_list.txt")}
    entries = []
    for word, f in class_files(root, AUDIO_SUFFIXES):   # follows linked folders and files
        if word.startswith(("_", ".")):
            continue
        rel = f"{word}/{f.name}"
        key = f"{word}/{f.stem}"  # list files match without the suffix
        split = next((s for s, names in lists.items() if key in names), None) or which_set(
            rel, validation_percentage=validation_percentage,
            testing_percentage=testing_percentage)
        entries.append(Entry(path=rel, label=word, split=split, speaker=speaker_of(rel),
                             source=source))
    if not entries:
        raise KwsError(f"{root}: no <word>/<clip>.wav or .flac files in Speech Commands layout")
    return entries


def cut_silence(recordings: Sequence[np.ndarray], *, count: int, part: str,
                rng: np.random.Generator, heldout_fraction: float = 0.2,
                clip_samples: int = 16000) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Cut ``count`` one-second clips from background recordings.

    Parameters
    ----------
    recordings : sequence of int16 ndarray
    count : int, keyword-only
    part : {"train", "heldout"}, keyword-only
        ``train`` cuts from the first ``1 - heldout_fraction`` of each recording, ``heldout``
        from the rest.
    rng : numpy Generator, keyword-only

    Returns
    -------
    clips : ndarray of int16, shape (count, clip_samples)
    where : list of (recording index, start sample)
    """
    spans = []
    for i, rec in enumerate(recordings):
        cut = int(round(len(rec) * (1.0 - heldout_fraction)))
        lo, hi = (0, cut) if part == "train" else (cut, len(rec))
        if hi - lo >= clip_samples:
            spans.append((i, lo, hi))
    if not spans and count:
        raise KwsError(f"background noise: no recording has {clip_samples} samples in its "
                       f"{part} part")
    clips = np.zeros((count, clip_samples), np.int16)
    where = []
    for j in range(count):
        i, lo, hi = spans[int(rng.integers(len(spans)))]
        start = int(rng.integers(lo, hi - clip_samples + 1))
        clips[j] = recordings[i][start: start + clip_samples]
        where.append((i, start))
    return clips, where


def build_manifest(root: str | os.PathLike[str], *, out_dir: str | os.PathLike[str] | None = None,
                   words: Sequence[str] | None = None, unknown_percentage: float = 10.0,
                   silence_percentage: float = 10.0, validation_percentage: float = 10.0,
                   testing_percentage: float = 10.0,
                   noise_dir: str | os.PathLike[str] | None = None,
                   heldout_fraction: float = 0.2, seed: int = 0, min_per_class: int = 5,
                   unknown_all: Sequence[str] = (),
                   full_check: bool = False, progress: bool = True) -> list[Entry]:
    """Write the manifest of a Speech Commands set-up and return its entries.

    Parameters
    ----------
    root : path-like
        A Speech Commands folder (word folders of .wav or .flac).
    out_dir : path-like, keyword-only
        Where ``manifest.csv`` and the ``_silence_`` clips go (default: ``root``). Paths in
        the manifest are relative to it.
    words : sequence of str, keyword-only
        Keywords (default :data:`STANDARD_WORDS`, the 12-class set-up).
    unknown_percentage, silence_percentage : float, keyword-only
        Size of ``_unknown_`` and ``_silence_`` per split, as a percentage of the split's
        keyword clips (0 leaves the class out).
    validation_percentage, testing_percentage : float, keyword-only
        For the speaker-hash rule.
    noise_dir : path-like, keyword-only
        Background recordings for ``_silence_`` (default ``root/_background_noise_``).
    heldout_fraction : float, keyword-only
        Tail of each background recording reserved for validation/test ``_silence_``.
    unknown_all : sequence of str, keyword-only
        Splits in which every other-word clip becomes ``_unknown_`` instead of the
        ``unknown_percentage`` sample (e.g. ``("validation",)`` to evaluate on all of them).
    seed : int, keyword-only
        Seeds the ``_unknown_`` sample and the ``_silence_`` cuts.
    min_per_class : int, keyword-only
        Minimum training clips per class.
    full_check : bool, keyword-only
        Decode every file (slow) instead of checking headers.

    Returns
    -------
    list of Entry
    """
    root = Path(root)
    out = Path(out_dir) if out_dir is not None else root
    have = available_words(root) if root.is_dir() else []
    words = _checked_words(root, have, words)
    files = _usable_files(root, validation_percentage=validation_percentage,
                          testing_percentage=testing_percentage, full_check=full_check,
                          progress=progress)
    rng = np.random.default_rng([seed, 0x5C])
    keyset = set(words)
    entries: list[Entry] = []
    silence_plan: dict[str, int] = {}
    for split in ("train", "validation", "test"):
        known = [(w, r) for w, r in files[split] if w in keyset]
        others = [(w, r) for w, r in files[split] if w not in keyset]
        n_unknown = min(len(others), math.ceil(len(known) * unknown_percentage / 100))
        if split in unknown_all:
            n_unknown = len(others)
        pick = rng.permutation(len(others))[:n_unknown]
        entries += [_word_entry(root, out, r, w, split) for w, r in known]
        entries += [_word_entry(root, out, others[i][1], UNKNOWN, split) for i in sorted(pick)]
        silence_plan[split] = math.ceil(len(known) * silence_percentage / 100)
    if any(silence_plan.values()):
        noise = Path(noise_dir) if noise_dir is not None else root / BACKGROUND
        entries += _silence_entries(noise, out, silence_plan, rng=rng,
                                    heldout_fraction=heldout_fraction)
    has_unknown = unknown_percentage > 0 and any(w not in keyset for w in have)
    labels = words + ([UNKNOWN] if has_unknown else []) + (
        [SILENCE] if silence_percentage > 0 else [])
    check_class_counts(entries, where=str(root), min_per_class=min_per_class, labels=labels)
    write_manifest(out, entries)
    return entries


def _checked_words(root: Path, have: list[str], words: Sequence[str] | None) -> list[str]:
    """The keywords of a set-up (default :data:`STANDARD_WORDS`), checked against the word
    folders ``have`` of ``root``."""
    if not root.is_dir():
        raise KwsError(f"{root}: Speech Commands folder not found")
    if not have:
        raise KwsError(f"{root}: no word folders with .wav/.flac files (not a Speech Commands "
                       "folder)")
    words = list(STANDARD_WORDS if words is None else words)
    if not words:
        raise KwsError("give at least one word", argument="words")
    missing = [w for w in words if w not in have]
    if missing:
        raise KwsError(f"{', '.join(missing)} not in {root} (available: "
                       f"{', '.join(have)})", argument="words")
    if len(set(words)) != len(words):
        raise KwsError(f"repeated word in {','.join(words)}", argument="words")
    return words


def _usable_files(root: Path, *, validation_percentage: float, testing_percentage: float,
                  full_check: bool, progress: bool) -> dict[str, list[tuple[str, str]]]:
    """split -> (word, path) of the clips that can be read; one warning lists the others
    (and the clips the list files name that are not there)."""
    from tqdm import tqdm

    files: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    bad: list[tuple[str, str]] = []
    found = speech_commands_entries(root, validation_percentage=validation_percentage,
                                    testing_percentage=testing_percentage)
    for e in tqdm(found, desc="check", unit="file", disable=not progress):
        why = probe_audio(root / e.path, full=full_check)
        if why is None:
            files[e.split].append((e.label, e.path))
        else:
            bad.append((e.path, why))
    on_disk = {str(Path(e.path).with_suffix("")) for e in found}
    listed = _read_list(root / "validation_list.txt") | _read_list(root / "testing_list.txt")
    bad += [(name, "listed but missing") for name in sorted(listed - on_disk)]
    warn_skipped(bad, where=str(root))
    return files


def _word_entry(root: Path, out: Path, rel: str, label: str, split: str) -> Entry:
    """The manifest entry (relative to ``out``) of clip ``rel`` of ``root``."""
    return Entry(path=os.path.normpath(os.path.join(os.path.relpath(root, out), rel)),
                 label=label, split=split, speaker=speaker_of(rel), source="speech_commands",
                 params=json.dumps({"word": rel.split("/")[0]}))


def _silence_entries(noise: Path, out: Path, plan: dict[str, int], *,
                     rng: np.random.Generator, heldout_fraction: float) -> list[Entry]:
    """Cut ``plan[split]`` ``_silence_`` clips per split from the recordings in ``noise``
    (training from their first part, the others from the held-out rest) into ``out``."""
    from kws.audio import load_audio, save_wav

    if not noise.is_dir():
        raise KwsError(f"{noise}: no background-noise folder for _silence_ (give "
                       "noise_dir, or silence_percentage 0)")
    names = sorted(p for p in noise.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    if not names:
        raise KwsError(f"{noise}: no .wav/.flac background recordings")
    recs = [load_audio(p) for p in names]
    entries = []
    for split, count in plan.items():
        part = "train" if split == "train" else "heldout"
        clips, where = cut_silence(recs, count=count, part=part, rng=rng,
                                   heldout_fraction=heldout_fraction)
        for j, (clip, (i, start)) in enumerate(zip(clips, where)):
            rel = f"{SILENCE}/{split}_{j:05d}.wav"
            save_wav(out / rel, clip)
            entries.append(Entry(path=rel, label=SILENCE, split=split, speaker="",
                                 source="background_noise",
                                 params=json.dumps({"file": names[i].name, "start": start})))
    return entries
