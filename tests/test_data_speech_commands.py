"""The Speech Commands recipe (kws.data.speech_commands), tested offline on a tiny generated copy
in the dataset's layout, and its download against a local HTTP server."""

from __future__ import annotations

import collections
import csv
import gzip
import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.data import speech_commands as sc
from kws.data.dataset import DataWarning, load_dataset
from kws.data.manifest import Entry, read_manifest, write_manifest
from kws.errors import KwsError
from tests.real_data import SPLITS_CSV

WORDS = ("yes", "no", "up", "cat", "dog")
SPEAKERS = [f"{i:08x}" for i in range(0x1a2b3c00, 0x1a2b3c00 + 40)]


def make_tiny(root: Path, *, suffix: str = ".wav", lists: bool = True, per_word: int = 40,
              background: bool = True) -> Path:
    """A tiny Speech Commands copy: WORDS x per_word clips, list files, background noise."""
    rng = np.random.default_rng(0)
    names: list[str] = []
    for w in WORDS:
        (root / w).mkdir(parents=True)
        for i in range(per_word):
            spk = SPEAKERS[i % len(SPEAKERS)]
            name = f"{w}/{spk}_nohash_{i // len(SPEAKERS)}{suffix}"
            data = (rng.standard_normal(16000) * 1000).astype(np.int16)
            sf.write(root / name, data, 16000, subtype="PCM_16")
            names.append(name)
    if lists:
        val = [n for n in names if sc.which_set(n) == "validation"]
        test = [n for n in names if sc.which_set(n) == "test"]
        # the official lists name .wav files
        (root / "validation_list.txt").write_text(
            "".join(str(Path(n).with_suffix(".wav")) + "\n" for n in val))
        (root / "testing_list.txt").write_text(
            "".join(str(Path(n).with_suffix(".wav")) + "\n" for n in test))
    if background:
        (root / sc.BACKGROUND).mkdir()
        for k in range(2):
            sf.write(root / sc.BACKGROUND / f"noise{k}.wav",
                     (rng.standard_normal(16000 * 12) * 300).astype(np.int16), 16000)
    return root


def test_which_set_matches_the_published_rule() -> None:
    # Same speaker, same split; the three splits occur in the expected proportions.
    assert sc.which_set("yes/abc_nohash_0.wav") == sc.which_set("no/abc_nohash_7.flac")
    counts = collections.Counter(sc.which_set(f"{i:08x}_nohash_0.wav") for i in range(4000))
    assert abs(counts["validation"] / 4000 - 0.1) < 0.02
    assert abs(counts["test"] / 4000 - 0.1) < 0.02


def test_which_set_agrees_with_the_shared_copy_canonical_splits() -> None:
    """tests/data/speech_commands_splits.csv.gz records the split of each of the 7,167 files of
    the shared speech_commands_train copy in the official v0.02 release: the speaker-hash rule
    must reproduce all of them."""
    names = {"training": "train", "validation": "validation", "testing": "test"}
    with gzip.open(SPLITS_CSV, "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 7000
    wrong = [r["file"] for r in rows if sc.which_set(r["file"]) != names[r["canonical_split"]]]
    assert wrong == []


def test_twelve_class_style_setup(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc")
    entries = sc.build_manifest(root, words=["yes", "no", "up"], progress=False, min_per_class=1)
    assert read_manifest(root) == entries
    by = collections.Counter((e.split, e.label) for e in entries)
    for split in ("train", "validation", "test"):
        known = sum(by[(split, w)] for w in ("yes", "no", "up"))
        assert by[(split, "_unknown_")] == min(-(-known // 10), 2 * 40)
        assert by[(split, "_silence_")] == -(-known // 10)
    # splits follow the list files, which follow the speaker rule
    for e in entries:
        if e.label != "_silence_":
            assert e.split == sc.which_set(e.path)
            assert (root / e.path).is_file() and e.speaker == sc.speaker_of(e.path)
    unknown_words = {Path(e.path).parent.name for e in entries if e.label == "_unknown_"}
    assert unknown_words <= {"cat", "dog"}


def test_silence_clips_come_from_the_right_part(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc")
    entries = sc.build_manifest(root, words=["yes"], progress=False, min_per_class=1,
                                silence_percentage=50)
    import json
    noise = {p.name: sf.read(p, dtype="int16")[0] for p in (root / sc.BACKGROUND).iterdir()}
    sil = [e for e in entries if e.label == "_silence_"]
    assert sil
    for e in sil:
        p = json.loads(e.params)
        clip = sf.read(root / e.path, dtype="int16")[0]
        rec = noise[p["file"]]
        assert np.array_equal(clip, rec[p["start"]: p["start"] + 16000])
        cut = int(round(len(rec) * 0.8))
        if e.split == "train":
            assert p["start"] + 16000 <= cut
        else:
            assert p["start"] >= cut


def test_files_in_neither_list_use_the_speaker_rule(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc", lists=False)
    # one file forced into validation by the list, whatever its hash says
    train_file = next(f"yes/{s}_nohash_0.wav" for s in SPEAKERS
                      if sc.which_set(f"{s}_nohash_0.wav") == "train")
    (root / "validation_list.txt").write_text(train_file + "\n")
    entries = sc.build_manifest(root, words=["yes", "no"], progress=False, min_per_class=1)
    split = {e.path: e.split for e in entries}
    assert split[train_file] == "validation"
    others = [p for p in split if p.startswith("yes/") and p != train_file]
    assert all(split[p] == sc.which_set(p) for p in others)


def test_flac_copy_without_lists_out_of_tree(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc", suffix=".flac", lists=False, background=False)
    out = tmp_path / "setup"
    entries = sc.build_manifest(root, out_dir=out, words=["yes", "no"], progress=False,
                                noise_dir=make_tiny(tmp_path / "n", per_word=1) / sc.BACKGROUND,
                                min_per_class=1, unknown_all=("validation",))
    assert (out / "manifest.csv").is_file()
    from kws.audio import load_audio
    for e in entries:
        assert load_audio(out / e.path).shape == (16000,)
    val_unknown = [e for e in entries if e.split == "validation" and e.label == "_unknown_"]
    val_other = [e for e in entries if e.split == "validation" and
                 Path(e.path).parent.name in ("up", "cat", "dog")]
    assert len(val_unknown) == len(val_other) > 0


def test_unknown_word_lists_available_words(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc")
    with pytest.raises(KwsError, match=r"marvin not in .*available: cat, dog, no, up, yes"):
        sc.build_manifest(root, words=["yes", "marvin"], progress=False)


def test_missing_and_corrupt_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc")
    (root / "yes" / f"{SPEAKERS[0]}_nohash_0.wav").write_bytes(b"RIFF\x00\x00garbage")
    (root / "no" / f"{SPEAKERS[1]}_nohash_0.wav").write_bytes(b"")
    data = (root / "up" / f"{SPEAKERS[2]}_nohash_0.wav").read_bytes()
    (root / "up" / f"{SPEAKERS[2]}_nohash_0.wav").write_bytes(data[:3000])  # truncated
    listed = (root / "validation_list.txt").read_text().splitlines()[0]
    (root / listed).unlink()
    with pytest.warns(DataWarning, match=r"skipped 4 missing or unreadable") as rec:
        entries = sc.build_manifest(root, words=["yes", "no", "up"], progress=False,
                                    min_per_class=1)
    msg = str(rec[0].message)
    assert "yes/" + SPEAKERS[0] in msg and "truncated" in msg and "listed but missing" in msg
    paths = {e.path for e in entries}
    assert f"yes/{SPEAKERS[0]}_nohash_0.wav" not in paths


def test_too_few_examples_is_an_error(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc", per_word=3)
    with pytest.raises(KwsError, match=r"too few train examples"):
        sc.build_manifest(root, words=["yes", "no"], progress=False, min_per_class=5)


def test_no_background_folder_is_a_clear_error(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc", background=False)
    with pytest.raises(KwsError, match="noise_dir"):
        sc.build_manifest(root, words=["yes"], progress=False, min_per_class=1)
    sc.build_manifest(root, words=["yes"], progress=False, min_per_class=1,
                      silence_percentage=0)


def test_load_dataset_skips_bad_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    entries = []
    for i in range(12):
        name = f"w/{i}.wav"
        (tmp_path / "w").mkdir(exist_ok=True)
        sf.write(tmp_path / name, (rng.standard_normal(1600) * 100).astype(np.int16), 16000)
        entries.append(Entry(path=name, label="w", split="train"))
    entries.append(Entry(path="w/gone.wav", label="w", split="train"))
    (tmp_path / "w" / "bad.wav").write_text("not audio")
    entries.append(Entry(path="w/bad.wav", label="w", split="train"))
    write_manifest(tmp_path, entries)
    with pytest.warns(DataWarning, match=r"skipped 2 .*gone.wav \(missing\).*bad.wav"):
        good = load_dataset(tmp_path, min_per_class=5)
    assert len(good) == 12
    with pytest.warns(DataWarning):
        with pytest.raises(KwsError, match=r"too few train examples \(w has 12"):
            load_dataset(tmp_path, min_per_class=13)


# --------------------------------------------------------------------------------------------
# Download: a local HTTP server with Range support
# --------------------------------------------------------------------------------------------

class _Server:
    def __init__(self, payload: bytes, *, ranges: bool = True, cut_first: int | None = None):
        self.payload, self.ranges, self.cut_first = payload, ranges, cut_first
        self.requests: list[str | None] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                rng = self.headers.get("Range")
                outer.requests.append(rng)
                body, status = outer.payload, 200
                if rng and outer.ranges:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.end_headers()
                        return
                    body, status = body[start:], 206
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if status == 206:
                    self.send_header("Content-Range",
                                     f"bytes {len(outer.payload) - len(body)}-"
                                     f"{len(outer.payload) - 1}/{len(outer.payload)}")
                self.end_headers()
                if outer.cut_first is not None and len(outer.requests) == 1:
                    self.wfile.write(body[: outer.cut_first])  # then drop the connection
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/speech_commands_v0.02.tar.gz"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _tarball(tmp: Path) -> bytes:
    src = make_tiny(tmp / "src", per_word=12)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in sorted(src.rglob("*")):
            tar.add(p, arcname="./" + str(p.relative_to(src)), recursive=False)
    return buf.getvalue()


@pytest.fixture
def tarball(tmp_path: Path) -> bytes:
    return _tarball(tmp_path)


def test_download_resumes_with_range(tmp_path: Path, tarball: bytes) -> None:
    srv = _Server(tarball)
    try:
        dest = tmp_path / "d" / "a.tar.gz"
        dest.parent.mkdir()
        (dest.parent / "a.tar.gz.part").write_bytes(tarball[:1000])
        sha = hashlib.sha256(tarball).hexdigest()
        sc.download(srv.url, dest, sha256=sha, progress=False)
        assert dest.read_bytes() == tarball
        assert srv.requests == ["bytes=1000-"]
        assert not (dest.parent / "a.tar.gz.part").exists()
    finally:
        srv.close()


def test_download_retries_a_dropped_connection(tmp_path: Path, tarball: bytes) -> None:
    srv = _Server(tarball, cut_first=len(tarball) // 3)
    try:
        dest = tmp_path / "a.tar.gz"
        sc.download(srv.url, dest, sha256=hashlib.sha256(tarball).hexdigest(), progress=False)
        assert dest.read_bytes() == tarball
        assert srv.requests == [None, f"bytes={len(tarball) // 3}-"]
    finally:
        srv.close()


def test_download_restarts_when_server_ignores_range(tmp_path: Path, tarball: bytes) -> None:
    srv = _Server(tarball, ranges=False)
    try:
        dest = tmp_path / "a.tar.gz"
        (tmp_path / "a.tar.gz.part").write_bytes(b"x" * 500)
        sc.download(srv.url, dest, sha256=hashlib.sha256(tarball).hexdigest(), progress=False)
        assert dest.read_bytes() == tarball
    finally:
        srv.close()


def test_download_sha_mismatch_leaves_nothing(tmp_path: Path, tarball: bytes) -> None:
    srv = _Server(tarball)
    try:
        dest = tmp_path / "a.tar.gz"
        with pytest.raises(KwsError, match="sha256 mismatch"):
            sc.download(srv.url, dest, sha256="0" * 64, progress=False)
        assert list(tmp_path.glob("a.tar.gz*")) == []
    finally:
        srv.close()


def test_download_unreachable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KwsError, match="download failed"):
        sc.download("http://127.0.0.1:9/x.tar.gz", tmp_path / "x", progress=False, retries=0,
                    timeout=2)


def test_fetch_extract_and_set_up(tmp_path: Path, tarball: bytes) -> None:
    srv = _Server(tarball)
    try:
        root = tmp_path / "sc"
        sha = hashlib.sha256(tarball).hexdigest()
        sc.fetch_speech_commands(version=2, dir=root, url=srv.url, sha256=sha, progress=False)
        assert (root / sc.EXTRACTED_MARK).exists() and (root / "yes").is_dir()
        assert sc.available_words(root) == sorted(WORDS)
        n = len(srv.requests)
        sc.fetch_speech_commands(version=2, dir=root, url=srv.url, sha256=sha, progress=False)
        assert len(srv.requests) == n  # done already: no second download
        entries = sc.build_manifest(root, words=["yes", "no"], progress=False, min_per_class=1)
        assert {e.label for e in entries} == {"yes", "no", "_unknown_", "_silence_"}
    finally:
        srv.close()


def test_fetch_uses_a_local_copy(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "sc", per_word=4)
    assert sc.fetch_speech_commands(version=1, dir=root, url="http://127.0.0.1:9/none") == root


def test_extract_rejects_path_traversal(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(KwsError, match="unsafe path"):
        sc.extract(evil, tmp_path / "out", progress=False)
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "out" / sc.EXTRACTED_MARK).exists()


def test_corrupt_archive_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b" + b"\x00" * 100)
    with pytest.raises(KwsError, match="cannot extract"):
        sc.extract(bad, tmp_path / "out", progress=False)


def test_cli_speech_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from kws.commands import data

    root = make_tiny(tmp_path / "sc")
    parser = argparse.ArgumentParser(prog="kws")
    data.register(parser.add_subparsers())
    args = parser.parse_args(["data", "speech-commands", "--dir", str(root), "--words", "yes,no",
                              "--quiet", "--min-per-class", "1"])
    assert args.func(args) == 0
    assert "manifest.csv" in capsys.readouterr().out
    args = parser.parse_args(["data", "speech-commands", "--dir", str(root), "--words",
                              "yes,wow", "--quiet"])
    with pytest.raises(KwsError, match="wow not in"):
        args.func(args)
