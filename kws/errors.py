"""The one error type that kws raises for bad input and bad parameters."""

from __future__ import annotations


class KwsError(Exception):
    """Bad input or bad parameters.

    The message is a single line that names the offending file or parameter and the problem.
    The CLI prints it as ``kws: error: <message>`` and exits with status 2.
    """
