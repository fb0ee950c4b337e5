"""Where the real audio of the tests is: tests/data/, shipped with the repository.

Real Speech Commands clips (12 words) and background noise, CC BY 4.0 (tests/data/README.md).
The tests use only these, never the optional shared folder beside the repository.
"""

from __future__ import annotations

from kws.paths import FIXTURE_SPEECH, REPO_ROOT

DATA = REPO_ROOT / "tests" / "data"
#: ``<word>/<speaker>_nohash_<n>.flac`` folders and ``_background_noise_/`` (5 s of each).
REAL_AUDIO = FIXTURE_SPEECH
#: The canonical split of every file of the shared ``speech_commands_train`` copy (gzip CSV).
SPLITS_CSV = DATA / "speech_commands_splits.csv.gz"
