"""Label-smoothed sparse cross-entropy (kws.train.losses)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from kws.train.losses import SmoothedSparseCrossentropy  # noqa: E402


def test_matches_smoothed_targets_by_hand() -> None:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=16).astype(np.float32)
    y = rng.integers(0, 4, size=16)
    for s in (0.0, 0.1, 0.3):
        t = np.full((16, 4), s / 4) + np.eye(4)[y] * (1 - s)
        want = -(t * np.log(np.clip(p, 1e-7, 1))).sum(axis=1).mean()
        got = float(SmoothedSparseCrossentropy(s)(y, p))
        assert got == pytest.approx(want, rel=1e-5)
    plain = keras.losses.SparseCategoricalCrossentropy()(y, p)
    assert float(SmoothedSparseCrossentropy(0.0)(y, p)) == pytest.approx(float(plain), rel=1e-5)


def test_smoothing_caps_the_trained_confidence(tmp_path: Path) -> None:
    x = np.repeat(np.eye(3, dtype=np.float32), 20, axis=0)
    y = np.repeat(np.arange(3), 20)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.1), loss=SmoothedSparseCrossentropy(0.3))
    model.fit(x, y, epochs=300, verbose=0)
    top = model.predict(x, verbose=0).max(axis=1)
    assert np.allclose(top, 1 - 0.3 + 0.1, atol=0.02)     # not 1.0
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    assert again.loss.smoothing == 0.3


def test_rejects_bad_smoothing() -> None:
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="label smoothing"):
            SmoothedSparseCrossentropy(bad)


def test_train_config_checks_label_smoothing() -> None:
    from kws.errors import KwsError
    from kws.train.trainer import TrainConfig, check_config

    check_config(TrainConfig(words=["yes"], label_smoothing=0.1))
    for bad in (dict(label_smoothing=1.0), dict(label_smoothing=-0.2),
                dict(label_smoothing=0.1, teacher="runs/a")):
        with pytest.raises(KwsError, match="smoothing|teacher"):
            check_config(TrainConfig(words=["yes"], **bad))
