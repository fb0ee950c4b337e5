"""The search space of ``kws search``: model families and their sizes as candidates.

A :class:`Candidate` is one architecture: a family of :mod:`kws.models` and the fields of its
shape dataclass (widths, depths, kernel sizes, strides), plus how often the detector runs it.
Window families (``ds-cnn``) run every ``model_every_hops`` front-end hops (40 ms by default);
streaming families (``ds-cnn-stream``, ``tcn-stream``) run their step function every hop.

>>> c = Candidate("ds-cnn", {"filters": 16, "first_kernel": [10, 4], "first_strides": [2, 2],
...                          "blocks": 2})
>>> c.name
'ds-cnn-f16-k10x4-s2x2-b2-e2'
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
    """

    family: str
    fields: dict[str, Any]
    every: int = 2

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise KwsError(f"unknown model family {self.family!r}; available: "
                           f"{', '.join(FAMILIES)}")
        if self.streaming and self.every != 1:
            object.__setattr__(self, "every", 1)

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
        return "-".join(parts)

    def shape(self) -> DsCnnShape | StreamDsCnnShape | TcnShape:
        """The :mod:`kws.models` shape dataclass."""
        cls = FAMILIES[self.family][0]
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in self.fields.items()})

    def register(self) -> str:
        """Register the shape with :mod:`kws.models` under :attr:`name`; return the name."""
        register_model(self.name, self.shape())
        return self.name

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"family": self.family, "fields": self.fields, "every": self.every}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Candidate:
        """Inverse of :meth:`to_dict`."""
        return cls(d["family"], dict(d["fields"]), int(d.get("every", 1)))


def valid(c: Candidate, *, frames: int = 49, coeffs: int = 10) -> bool:
    """Whether the shape fits the ``frames x coeffs`` input (valid-padding families shrink it)."""
    f = c.fields
    if c.family == "ds-cnn":
        return f["first_kernel"][0] <= frames and f["first_strides"][0] <= f["first_kernel"][0]
    if c.family == "ds-cnn-stream":
        return frames - (f["first_kernel"][0] - 1) - 2 * f["blocks"] >= 1 and \
            f["first_kernel"][1] <= coeffs
    return frames - (f["first_time"] - 1) - f["blocks"] * (f["kernel"] - 1) >= 1


def enumerate_space(*, families: list[str] | None = None,
                    grid: dict[str, dict[str, list[Any]]] | None = None,
                    every_hops: list[int] | None = None) -> Iterator[Candidate]:
    """Every valid candidate of the grid (default :data:`DEFAULT_GRID`), in a fixed order."""
    grid = grid or DEFAULT_GRID
    for family in families or list(grid):
        if family not in FAMILIES:
            raise KwsError(f"unknown model family {family!r}; available: {', '.join(FAMILIES)}")
        keys = list(grid[family])
        everies = [1] if FAMILIES[family][1] else (every_hops or DEFAULT_EVERY_HOPS)
        for values in itertools.product(*(grid[family][k] for k in keys)):
            for every in everies:
                c = Candidate(family, dict(zip(keys, values)), every)
                if valid(c):
                    yield c


def architecture_key(c: Candidate) -> str:
    """The name without the inference period: candidates differing only in ``every`` share a
    network (one probe, one calibration model)."""
    return Candidate(c.family, c.fields, 1).name if not c.streaming else c.name
