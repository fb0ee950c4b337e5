"""kws.data.manifest: round trip and errors."""

from __future__ import annotations

import pytest

from kws.data.manifest import Entry, read_manifest, write_manifest
from kws.errors import KwsError


def test_round_trip(tmp_path):
    entries = [Entry("yes/a.wav", "yes", "train", "spk1", "espeak", '{"pitch": 50}'),
               Entry("no/b.wav", "no", "validation")]
    write_manifest(tmp_path, entries)
    assert read_manifest(tmp_path) == entries


def test_errors(tmp_path):
    with pytest.raises(KwsError, match="no dataset manifest"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.csv").write_text("path,label\nx.wav,yes\n")
    with pytest.raises(KwsError, match="lacks column"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.csv").write_text("path,label,split\nx.wav,yes,dev\n")
    with pytest.raises(KwsError, match="unknown split"):
        read_manifest(tmp_path)
