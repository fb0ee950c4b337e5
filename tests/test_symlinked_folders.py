"""A folder of symlinked class folders (or of symlinked clips) reads like a copy, in ``kws eval
--wavs`` and in every dataset reader."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from kws.audio import AUDIO_SUFFIXES
from kws.fileio import class_files, walk_files
from tests.real_data import REAL_AUDIO

WORDS = ("yes", "no", "up")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a real folder of class folders, the same as links): ``yes`` and ``_background_noise_``
    are links to folders, ``no`` is a real folder of links to files, ``up`` a link to a link."""
    tmp = tmp_path_factory.mktemp("links")
    real = tmp / "real"
    for word in (*WORDS, "_background_noise_"):
        files = sorted((REAL_AUDIO / word).glob("*.flac"))[:3]
        (real / word).mkdir(parents=True)
        for f in files:
            shutil.copy(f, real / word / f.name)
    store = tmp / "store"  # where the linked clips really are
    shutil.copytree(real, store)
    links = tmp / "links"
    links.mkdir()
    os.symlink(store / "yes", links / "yes", target_is_directory=True)
    os.symlink(store / "_background_noise_", links / "_background_noise_",
               target_is_directory=True)
    (links / "no").mkdir()
    for f in sorted((store / "no").iterdir()):
        os.symlink(f, links / "no" / f.name)
    os.symlink(store / "up", tmp / "up_link", target_is_directory=True)
    os.symlink(tmp / "up_link", links / "up", target_is_directory=True)
    return real, links


def _rel(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_listings_follow_links_and_stop_at_cycles(folders: tuple[Path, Path], tmp_path: Path
                                                  ) -> None:
    real, links = folders
    # what pathlib alone sees: the linked files of the real folder "no", none in linked folders
    assert {p.parent.name for p in links.rglob("*.flac")} == {"no"}
    want = _rel(walk_files(real, AUDIO_SUFFIXES), real)
    assert len(want) == 12
    assert _rel(walk_files(links, AUDIO_SUFFIXES), links) == want
    assert [(w, f.name) for w, f in class_files(links, AUDIO_SUFFIXES)] == \
        [(w, f.name) for w, f in class_files(real, AUDIO_SUFFIXES)]
    loop = tmp_path / "loop"
    shutil.copytree(real, loop)
    os.symlink(loop, loop / "yes" / "again", target_is_directory=True)  # a cycle
    assert _rel(walk_files(loop, AUDIO_SUFFIXES), loop) == want


def test_kws_eval_wavs_on_a_folder_of_links(folders: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    from kws.cli import main
    from kws.runtime.testmodels import make_random_run

    real, links = folders
    run = make_random_run(tmp_path / "run", channels=8, blocks=1)
    results = {}
    for name, root in (("real", real), ("links", links)):
        out = tmp_path / f"{name}.json"
        assert main(["eval", str(run / "model.tflite"), "--wavs", str(root),
                     "--json", str(out)]) == 0
        results[name] = json.loads(out.read_text())
    assert results["links"]["int8"]["count"] == results["real"]["int8"]["count"] > 9
    assert results["links"]["int8"]["confusion"] == results["real"]["int8"]["confusion"]


def test_dataset_readers_on_a_folder_of_links(folders: tuple[Path, Path]) -> None:
    from kws.data import speech_commands as sc
    from kws.data.labelled_stream import stream_entries
    from kws.train.data import dataset_entries, speech_commands_entries

    real, links = folders
    for reader in (speech_commands_entries, dataset_entries, stream_entries):
        got, want = reader(links), reader(real)
        assert len(want) >= 9 and got == want, reader.__name__
    assert sc.available_words(links) == sc.available_words(real)


def test_noise_and_clip_readers_on_a_folder_of_links(folders: tuple[Path, Path]) -> None:
    from kws.data.augment import NoiseBank
    from kws.frontend.signals import real_clips

    real, links = folders
    a = NoiseBank.from_folder(links / "_background_noise_")
    b = NoiseBank.from_folder(real / "_background_noise_")
    assert a.names == b.names and len(a.names) == 3
    clips, names = real_clips(16000, root=links)
    want, want_names = real_clips(16000, root=real)
    assert names == want_names and np.array_equal(clips, want)
