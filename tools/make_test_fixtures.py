"""Write ``tests/data/``: the small real-audio fixture set the tests use (run once; committed).

Picks Speech Commands clips (CC BY 4.0) from the shared development folder (``$KWS_SHARED``,
else ``../shared``): 12 per word of the eight words of ``speech_commands_train`` (8 of the
training split, 2 validation, 2 test, by the speaker-hash rule), 6 per word of four more
words of ``audio/`` (unknown words and distractors), and the first 5 s of each of the six
background-noise recordings; all stored as 16-bit FLAC. Also writes ``manifest.csv`` (what
each file is and where it came from) and ``speech_commands_splits.csv.gz`` (the canonical split
of every file of ``speech_commands_train``, for the split-rule test).

    .venv/bin/python tools/make_test_fixtures.py
"""

from __future__ import annotations

import csv
import gzip
import shutil
import sys
from pathlib import Path

import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kws.paths import shared_dir  # noqa: E402

OUT = REPO / "tests" / "data"
TRAIN_WORDS = ("yes", "no", "up", "down", "left", "right", "go", "stop")
EXTRA_WORDS = ("on", "off", "bed", "cat")
PER_SPLIT = {"training": 8, "validation": 2, "testing": 2}
NOISE_SECONDS = 5


def _flac(src: Path, dst: Path, seconds: float | None = None) -> None:
    x, sr = sf.read(src, dtype="int16")
    if seconds is not None:
        x = x[: int(seconds * sr)]
    dst.parent.mkdir(parents=True, exist_ok=True)
    sf.write(dst, x, sr, format="FLAC", subtype="PCM_16")


def main() -> int:
    """Write the fixture set; return the exit status."""
    shared = shared_dir()
    train, audio = shared / "speech_commands_train", shared / "audio"
    root = OUT / "speech_commands"
    if root.exists():
        shutil.rmtree(root)
    with open(train / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with gzip.open(OUT / "speech_commands_splits.csv.gz", "wt", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "canonical_split"])
        w.writerows([r["file"], r["canonical_split"]] for r in rows)
    manifest = []
    for word in TRAIN_WORDS:
        for split, n in PER_SPLIT.items():
            picked = [r for r in rows if r["word"] == word and r["canonical_split"] == split][:n]
            for r in picked:
                _flac(train / r["file"], root / r["file"])
                manifest.append([r["file"], "speech_commands_train/" + r["file"], r["repo"],
                                 r["commit"], r["path"], split])
    with open(audio / "manifest.csv", newline="") as fh:
        audio_rows = {r["file"]: r for r in csv.DictReader(fh)}
    for word in EXTRA_WORDS:
        for src in sorted((audio / word).glob("*.wav"))[:6]:
            name = f"{word}/{src.stem}.flac"
            r = audio_rows[f"{word}/{src.name}"]
            _flac(src, root / name)
            manifest.append([name, f"audio/{word}/{src.name}", r["source_repo"], r["commit"],
                             r["source_path"], ""])
    for src in sorted((audio / "_background_noise_").glob("*.wav")):
        name = f"_background_noise_/{src.stem}.flac"
        r = audio_rows[f"_background_noise_/{src.name}"]
        _flac(src, root / name, NOISE_SECONDS)
        manifest.append([name, f"audio/_background_noise_/{src.name} (first {NOISE_SECONDS} s)",
                         r["source_repo"], r["commit"], r["source_path"], ""])
    with open(root / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "copied_from", "source_repo", "commit", "source_path",
                    "canonical_split"])
        w.writerows(manifest)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(manifest)} files, {total / 1e6:.2f} MB in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
