"""CLI sub-commands; see kws.cli.

Library errors name the library's arguments (``KwsError(..., argument="per_word")``); the
command line speaks of its flags, so :func:`for_people` turns such an error into a message
about the flag (``per_word`` -> ``--per-word``).
"""

from __future__ import annotations

from typing import Mapping

from kws.errors import KwsError


def flag_name(argument: str, flags: Mapping[str, str] | None = None) -> str:
    """The command-line flag of a library argument: ``flags[argument]``, else
    ``--`` + the argument with ``_`` as ``-``."""
    if flags and argument in flags:
        return flags[argument]
    return "--" + argument.replace("_", "-")


def for_people(exc: KwsError, flags: Mapping[str, str] | None = None) -> str:
    """The one-line message of ``exc`` for the command line (argument names become flags)."""
    if exc.argument is None:
        return str(exc)
    return f"{flag_name(exc.argument, flags)}: {exc.detail}"
