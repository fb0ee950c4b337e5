"""The search space of ``kws search``: model families and their sizes as candidates.

A :class:`Candidate` is one architecture: a family of :mod:`kws.models` and the fields of its
shape dataclass (widths, depths, kernel sizes, strides), plus how often the detector runs it,
its input resolution (MFCC coefficients per frame: the front end, the model's input and the
firmware all follow it) and the fraction of channels structured pruning removes after
training. Window families (``ds-cnn``) run every ``model_every_hops`` front-end hops (40 ms by
default); streaming families (``ds-cnn-stream``, ``tcn-stream``) run their step function every
hop.

>>> c = Candidate("ds-cnn", {"filters": 16, "first_kernel": [10, 4], "first_strides": [2, 2],
...                          "blocks": 2})
>>> c.name
'ds-cnn-f16-k10x4-s2x2-b2-e2'
>>> Candidate("tcn-stream", {"filters": 32, "first_time": 3, "kernel": 5, "blocks": 2},
...           coeffs=13, prune=0.5).name
'tcn-stream-f32-b2-t3-k5-c13-p50'
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Iterator

from kws.errors import KwsError
from kws.models import DsCnnShape, StreamDsCnnShape, TcnShape, register_model

#: Family -> (shape class, whether it streams).
FAMILIES: dict[str, tuple[type, bool]] = {
    "ds-cnn": (DsCnnShape, False),
    "ds-cnn-stream": (StreamDsCnnShape, True),
    "tcn-stream": (TcnShape, True),
}

#: The grid of each family: field -> values. Kernel sizes and strides are (time, frequency).
DEFAULT_GRID: dict[str, dict[str, list[Any]]] = {
    "ds-cnn": {"filters": [8, 12, 16, 24, 32, 48, 64], "first_kernel": [[10, 4], [6, 4]],
               "first_strides": [[2, 2], [3, 2], [4, 2]], "blocks": [1, 2, 3, 4]},
    "ds-cnn-stream": {"filters": [8, 12, 16, 24, 32, 48], "first_kernel": [[10, 4], [5, 4]],
                      "blocks": [1, 2, 3]},
    "tcn-stream": {"filters": [12, 16, 24, 32, 48, 64], "first_time": [3, 5],
                   "kernel": [3, 5, 7], "blocks": [2, 3, 4]},
}

#: Hops between window-model inferences the grid tries (20 ms hops: 40 and 80 ms).
DEFAULT_EVERY_HOPS = [2, 4]

#: MFCC coefficients per frame (input resolution) the default grid tries: the front end's
#: default only (``--coeffs 8,10,13`` widens it).
DEFAULT_COEFFS = [10]

#: Pruning ratios the default grid tries: none (``--prune 0,0.5`` adds pruned candidates).
DEFAULT_PRUNE = [0.0]

#: The front end's default coefficients (candidates with other values name them).
BASE_COEFFS = 10


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One architecture of the search.

    Parameters
    ----------
    family : str
        A key of :data:`FAMILIES`.
    fields : dict
        The family's shape fields (lists for tuples, so that the candidate is JSON).
    every : int
        Front-end hops between inferences (window families; streaming families step every
        hop, so 1).
    coeffs : int
        MFCC coefficients per frame: the input resolution (:meth:`settings`).
    prune : float
        Fraction of every layer's channels removed after training (:mod:`kws.train.prune`),
        then fine-tuned; the firmware runs :meth:`deployed`.
    """

    family: str
    fields: dict[str, Any]
    every: int = 2
    coeffs: int = BASE_COEFFS
    prune: float = 0.0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise KwsError(f"unknown model family {self.family!r}; available: "
                           f"{', '.join(FAMILIES)}")
        if self.streaming and self.every != 1:
            object.__setattr__(self, "every", 1)
        if not 1 <= int(self.coeffs) <= 40:
            raise KwsError(f"candidate: {self.coeffs} MFCC coefficients: must be in 1..40 "
                           f"(the front end's mel bands)", argument="coeffs")
        if not 0.0 <= float(self.prune) < 1.0:
            raise KwsError(f"candidate: pruning ratio {self.prune}: must be in [0, 1)",
                           argument="prune")

    @property
    def streaming(self) -> bool:
        """Whether the family runs a step function every hop."""
        return FAMILIES[self.family][1]

    @property
    def name(self) -> str:
        """A stable, readable identifier (also the registered model name)."""
        short = {"filters": "f", "first_kernel": "k", "first_strides": "s", "blocks": "b",
                 "first_time": "t", "kernel": "k"}
        parts = [self.family]
        for key in sorted(self.fields, key=list(short).index):
            v = self.fields[key]
            parts.append(short[key] + ("x".join(map(str, v)) if isinstance(v, list) else str(v)))
        if not self.streaming:
            parts.append(f"e{self.every}")
        if self.coeffs != BASE_COEFFS:
            parts.append(f"c{self.coeffs}")
        if self.prune > 0:
            parts.append(f"p{round(100 * self.prune)}")
        return "-".join(parts)

    def settings(self) -> Any:
        """The :class:`kws.frontend.settings.FrontendSettings` of the candidate: the default
        front end with :attr:`coeffs` coefficients (the default itself when unchanged, so its
        hash and the firmware's generated front end stay the default's)."""
        from kws.frontend.settings import FrontendSettings

        base = FrontendSettings()
        if self.coeffs == base.num_coeffs:
            return base
        return FrontendSettings(**{**base.to_dict(), "num_coeffs": int(self.coeffs)})

    def deployed(self) -> Candidate:
        """The network the firmware runs: pruning keeps
        :func:`kws.train.prune.keep_count` channels of every group, and every group of these
        families has ``filters`` channels, so a pruned candidate deploys as the same family
        with fewer filters (same layers, kernels and strides)."""
        if self.prune <= 0:
            return self
        from kws.train.prune import keep_count

        fields = {**self.fields, "filters": keep_count(int(self.fields["filters"]), self.prune)}
        return Candidate(self.family, fields, self.every, self.coeffs)

    def shape(self) -> DsCnnShape | StreamDsCnnShape | TcnShape:
        """The :mod:`kws.models` shape dataclass."""
        cls = FAMILIES[self.family][0]
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in self.fields.items()})

    def register(self) -> str:
        """Register the shape with :mod:`kws.models` under :attr:`name`; return the name."""
        register_model(self.name, self.shape())
        return self.name

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``coeffs`` and ``prune`` only when not the defaults, so that the JSON of
        a default candidate, and every cache key made of it, is unchanged)."""
        d: dict[str, Any] = {"family": self.family, "fields": self.fields, "every": self.every}
        if self.coeffs != BASE_COEFFS:
            d["coeffs"] = self.coeffs
        if self.prune > 0:
            d["prune"] = self.prune
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Candidate:
        """Inverse of :meth:`to_dict`."""
        return cls(d["family"], dict(d["fields"]), int(d.get("every", 1)),
                   int(d.get("coeffs", BASE_COEFFS)), float(d.get("prune", 0.0)))


def valid(c: Candidate, *, frames: int = 49) -> bool:
    """Whether the shape fits the ``frames x coeffs`` input (valid-padding families shrink
    it)."""
    f = c.fields
    coeffs = c.coeffs
    if c.family == "ds-cnn":
        return f["first_kernel"][0] <= frames and f["first_strides"][0] <= f["first_kernel"][0]
    if c.family == "ds-cnn-stream":
        return frames - (f["first_kernel"][0] - 1) - 2 * f["blocks"] >= 1 and \
            f["first_kernel"][1] <= coeffs
    return frames - (f["first_time"] - 1) - f["blocks"] * (f["kernel"] - 1) >= 1


def check_dimensions(coeffs: list[int] | None, prune: list[float] | None) -> None:
    """Raise :class:`KwsError` (naming ``coeffs`` or ``prune``) for an input resolution or a
    pruning ratio no candidate can have."""
    for n in coeffs or []:
        if not 1 <= n <= 40:
            raise KwsError(f"{n} MFCC coefficients: must be in 1..40 (the front end's mel "
                           f"bands)", argument="coeffs")
    for r in prune or []:
        if not 0.0 <= r < 1.0:
            raise KwsError(f"pruning ratio {r:g}: must be in [0, 1)", argument="prune")


def enumerate_space(*, families: list[str] | None = None,
                    grid: dict[str, dict[str, list[Any]]] | None = None,
                    every_hops: list[int] | None = None, coeffs: list[int] | None = None,
                    prune: list[float] | None = None) -> Iterator[Candidate]:
    """Every valid candidate of the grid (default :data:`DEFAULT_GRID`, every inference
    period, input resolution and pruning ratio), in a fixed order."""
    grid = grid or DEFAULT_GRID
    for family in families or list(grid):
        if family not in FAMILIES:
            raise KwsError(f"unknown model family {family!r}; available: {', '.join(FAMILIES)}")
        keys = list(grid[family])
        everies = [1] if FAMILIES[family][1] else (every_hops or DEFAULT_EVERY_HOPS)
        for values in itertools.product(*(grid[family][k] for k in keys)):
            for every, n, p in itertools.product(everies, coeffs or DEFAULT_COEFFS,
                                                 prune or DEFAULT_PRUNE):
                c = Candidate(family, dict(zip(keys, values)), every, n, p)
                if valid(c):
                    yield c


def architecture_key(c: Candidate) -> str:
    """The name without the inference period: candidates differing only in ``every`` share a
    network (one probe, one calibration model)."""
    return Candidate(c.family, c.fields, 1, c.coeffs, c.prune).name
