"""CLI sub-commands; see kws.cli."""
