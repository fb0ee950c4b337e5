"""The search's state in ``DIR/search.json``: what was asked, what each candidate costs, and
every finished trial, written atomically after each one, so a killed search resumes where it
stopped (``kws search`` again with the same arguments and ``--out``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kws.errors import KwsError
from kws.fileio import write_text_atomic

STATE_FILE = "search.json"
STATE_VERSION = 3     # 2: the last rung ranks on the miss rate at the FA/h target too;
                      # 3: on the mean miss at 1, 10, 100x the target, on tuning audio

#: Settings that may differ when resuming (they change how, not what, is searched).
FREE_KEYS = ("workers", "ray", "cache_dir")


class SearchState:
    """The state of one search folder.

    Attributes
    ----------
    config : dict
        The search's settings (words, budgets, data, trials, schedule, ...).
    candidates : dict
        Candidate name -> ``{"candidate", "predicted", "feasible"}``.
    trials : dict
        ``"<kind>:<epochs>:<name>"`` -> the trial's result.
    """

    def __init__(self, folder: Path, config: dict[str, Any]) -> None:
        self.folder = folder
        self.config = config
        self.candidates: dict[str, dict[str, Any]] = {}
        self.trials: dict[str, dict[str, Any]] = {}

    @property
    def path(self) -> Path:
        """``DIR/search.json``."""
        return self.folder / STATE_FILE

    @classmethod
    def open(cls, folder: str | Path, config: dict[str, Any]) -> SearchState:
        """The state in ``folder`` (new, or resumed when its settings match ``config``)."""
        folder = Path(folder)
        state = cls(folder, config)
        if not state.path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            state.save()
            return state
        try:
            saved = json.loads(state.path.read_text())
            old = saved["config"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KwsError(f"{state.path}: not a search state ({exc})") from None
        if saved.get("version", 1) != STATE_VERSION:
            raise KwsError(f"{state.path}: a search of another kws version (state version "
                           f"{saved.get('version', 1)}, this kws writes {STATE_VERSION}: "
                           f"candidates are now ranked on false accepts too); use another --out")
        diff = sorted(k for k in set(old) | set(config)
                      if k not in FREE_KEYS and old.get(k) != config.get(k))
        if diff:
            raise KwsError(f"{state.path}: a search with other settings ({', '.join(diff)}) "
                           f"is in this folder; use another --out")
        state.candidates = dict(saved.get("candidates", {}))
        state.trials = dict(saved.get("trials", {}))
        return state

    @staticmethod
    def key(kind: str, epochs: int, name: str) -> str:
        """The key of a trial."""
        return f"{kind}:{epochs}:{name}"

    def done(self, kind: str, epochs: int, name: str) -> dict[str, Any] | None:
        """A finished trial's result, or None."""
        return self.trials.get(self.key(kind, epochs, name))

    def record(self, kind: str, epochs: int, name: str, result: dict[str, Any]) -> None:
        """Store a finished trial and save."""
        self.trials[self.key(kind, epochs, name)] = result
        self.save()

    def save(self) -> None:
        """Write ``search.json`` atomically."""
        write_text_atomic(self.path, json.dumps(
            {"version": STATE_VERSION, "config": self.config, "candidates": self.candidates,
             "trials": self.trials}, indent=1, sort_keys=True) + "\n")
