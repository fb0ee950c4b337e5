"""kws bench gate: its scoring helpers (the benchmark itself needs ../shared)."""

from __future__ import annotations

import numpy as np

from kws.bench.gate import _event_margin, _hits
from kws.frontend.settings import FrontendSettings
from kws.gate import GateSettings


def test_hits_match_each_event_once_by_label_and_time() -> None:
    events = [(1.0, 1.6, "yes"), (5.0, 5.5, "no"), (9.0, 9.4, "yes")]
    dets = [(1.2, "yes"), (1.3, "yes"), (5.2, "yes"), (5.9, "no"), (12.0, "yes")]
    assert _hits(dets, events) == {0, 1}          # 1.3 is a second hit of event 0 (an FA)


def test_event_margin_is_the_loudest_frame_above_the_floor() -> None:
    fe = FrontendSettings()
    rng = np.random.default_rng(0)
    x = rng.normal(0, 30, 16000 * 4)
    x[16000 * 2:16000 * 2 + 8000] *= 64                    # +36 dB = 6 octaves = 48 Q3
    samples = np.clip(np.floor(x + 0.5), -32768, 32767).astype(np.int16)
    margin = _event_margin(samples, (2.0, 2.5, "yes"), fe, GateSettings())
    assert 44 <= margin <= 52
    quiet = _event_margin(samples, (1.0, 1.5, "yes"), fe, GateSettings())
    assert -2 <= quiet <= 4
