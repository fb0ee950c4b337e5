"""Benchmarks: each module ``kws.bench.<name>`` has ``main(argv) -> int`` and prints ratios
against a peer measured in the same run (or cited constants with their provenance)."""
