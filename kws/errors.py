"""The one error type that kws raises for bad input and bad parameters."""

from __future__ import annotations


class KwsError(Exception):
    """Bad input or bad parameters.

    The message is a single line that names the offending file or parameter and the problem.
    The CLI prints it as ``kws: error: <message>`` and exits with status 2.

    Parameters
    ----------
    message : str
        The problem.
    argument : str, optional, keyword-only
        The library argument at fault (e.g. ``"per_word"``); the message then reads
        ``"per_word: <problem>"``, and the CLI names the flag instead
        (:func:`kws.commands.for_people`).
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(f"{argument}: {message}" if argument else message)
        self.argument = argument
        self.detail = message
