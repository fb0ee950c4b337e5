"""``kws bench NAME [ARGS...]``: run the benchmark module ``kws.bench.NAME``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import kws.bench
from kws.errors import KwsError


def available() -> list[str]:
    """Names of the benchmark modules under kws.bench."""
    return sorted(m.name for m in pkgutil.iter_modules(kws.bench.__path__))


def run(args: argparse.Namespace) -> int:
    """Import ``kws.bench.<name>`` and call its ``main`` with the remaining arguments."""
    names = available()
    if args.name not in names:
        raise KwsError(f"unknown benchmark {args.name!r}; available: {', '.join(names)}")
    module = importlib.import_module(f"kws.bench.{args.name}")
    return int(module.main(args.rest) or 0)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command."""
    p = sub.add_parser("bench", help="run a benchmark (kws bench NAME --help)")
    p.add_argument("name", help="benchmark: " + ", ".join(available()) if available() else "name")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    p.set_defaults(func=run)
