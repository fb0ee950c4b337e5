"""Distillation targets (kws.train.distill)."""

from __future__ import annotations

import numpy as np
import pytest

from kws.errors import KwsError
from kws.train import distill


def test_soften_is_a_tempered_softmax() -> None:
    p = np.array([[0.7, 0.2, 0.1], [1.0, 0.0, 0.0]])
    assert np.allclose(distill.soften(p, 1.0)[0], p[0], atol=1e-6)
    s = distill.soften(p, 3.0)
    assert np.allclose(s.sum(axis=1), 1.0)
    expected = p[0] ** (1 / 3) / np.sum(p[0] ** (1 / 3))
    assert np.allclose(s[0], expected, atol=1e-6)
    assert s[1, 0] > 0.99 and np.all(np.isfinite(s))       # zeros stay (nearly) zero
    with pytest.raises(KwsError):
        distill.soften(p, 0.0)


def test_mix_targets() -> None:
    rng = np.random.default_rng(0)
    teacher = rng.dirichlet(np.ones(4), size=(5, 3))              # (N=5, K=3, C=4)
    labels = np.array([0, 3, 1, 2, 2])
    hard = distill.mix_targets(labels, teacher, weight=0.0)
    assert np.array_equal(hard.argmax(-1), np.repeat(labels[:, None], 3, 1))
    assert np.all(hard.max(-1) == 1.0)
    full = distill.mix_targets(labels, teacher, weight=1.0, temperature=1.0)
    assert np.allclose(full, teacher, atol=1e-6)
    half = distill.mix_targets(labels, teacher, weight=0.5, temperature=2.0)
    assert np.allclose(half, 0.5 * hard + 0.5 * distill.soften(teacher, 2.0), atol=1e-6)
    assert np.allclose(half.sum(-1), 1.0)
    with pytest.raises(KwsError, match="weight"):
        distill.mix_targets(labels, teacher, weight=1.5)
    with pytest.raises(KwsError, match="labels"):
        distill.mix_targets(labels[:4], teacher, weight=0.5)


def test_teacher_runs_parses_an_ensemble() -> None:
    assert distill.teacher_runs("a, b,") == ["a", "b"]
    with pytest.raises(KwsError):
        distill.teacher_runs(" , ")
