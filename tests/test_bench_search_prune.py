"""``kws bench search_prune``: bad arguments are refused before anything trains (the figures
themselves come from :func:`kws.search.trial.final_trial`, covered by the tiny search)."""

from __future__ import annotations


def test_search_prune_refuses_a_bad_ratio_before_training(tmp_path, capsys):
    from kws.cli import main

    out = tmp_path / "p"
    assert main(["bench", "search_prune", "--out", str(out), "--ratio", "1.5"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "kws: error: --ratio: 1.5: must be in (0, 1)"]
    assert not out.exists()
