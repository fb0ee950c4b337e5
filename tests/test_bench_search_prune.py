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


def test_search_prune_trains_full_pruned_and_peer_and_prints_their_ratios(tmp_path, capsys,
                                                                          monkeypatch):
    """The three finalists it asks for (the width, the same pruned, the deployed width trained
    directly) and the ratios it prints from their measured figures (trials stubbed: what they
    measure is the tiny search's test)."""
    import json

    import kws.search.trial as trial
    from kws.cli import main
    from kws.search.space import Candidate

    figures = iter([(0.80, 8e6, 60_000, 16_000), (0.78, 4e6, 30_000, 12_000),
                    (0.74, 4e6, 30_000, 12_000)])
    specs = []

    def fake_trial(spec):
        specs.append(spec)
        acc, ips, flash, ram = next(figures)
        cand = Candidate.from_dict(spec["candidate"])
        return {"name": cand.name, "val_accuracy": acc + 0.1, "accuracy_real": acc,
                "measured": {"instructions_per_second": ips, "flash_bytes": flash,
                             "ram_bytes": ram}, "detection": None}

    monkeypatch.setattr(trial, "run_trial", fake_trial)
    out = tmp_path / "p"
    assert main(["bench", "search_prune", "--out", str(out), "--filters", "48", "--ratio",
                 "0.25", "--real-speech", "none", "--detection", "stream"]) == 0
    cands = [Candidate.from_dict(s["candidate"]) for s in specs]
    assert [c.fields["filters"] for c in cands] == [48, 48, 36]
    assert [c.prune for c in cands] == [0.0, 0.25, 0.0]
    assert all(s["kind"] == "final" and s["detection"] == "stream" and s["real_speech"] is None
               for s in specs)
    text = capsys.readouterr().out
    assert ("pruned vs unpruned 48: real acc -2.0 points, val acc -2.0 points; instr/s 0.50x, "
            "flash 0.50x, RAM 0.75x") in text
    assert "pruned vs trained at 36 (same deployed shape): real acc +4.0 points" in text
    assert len(json.loads((out / "search_prune.json").read_text())) == 3
