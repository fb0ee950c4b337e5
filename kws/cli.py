"""The ``kws`` command line: a thin layer that parses arguments and calls the library API.

Each sub-command lives in ``kws/commands/<name>.py`` and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed namespace and returning
an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from kws.commands import for_people
from kws.errors import KwsError
from kws.quiet import cli_output

#: Sub-command modules under kws.commands, in the order ``kws --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "features",
    "train",
    "calibrate",
    "ensemble",
    "search",
    "eval",
    "bench",
    "data",
    "export",
    "infer",
    "stream",
    "firmware",
    "blob",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(prog="kws", description="Keyword spotting SDK")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"kws.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 bad input, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with cli_output():
            return int(args.func(args) or 0)
    except KwsError as exc:
        print(f"kws: error: {for_people(exc, getattr(args, 'flags', None))}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kws: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
