"""The pretrained-embedding teacher (kws.train.embedding_teacher) and its place in distillation."""

from __future__ import annotations

import numpy as np
import pytest

from kws.errors import KwsError
from kws.train import distill
from kws.train import embedding_teacher as et
from kws.train.data import Example
from kws.train.features import FeatureSet
from tests.tiny_data import make_tiny_speech_commands

pytest.importorskip("pyopen_wakeword")
pytest.importorskip("ai_edge_litert")


def test_embeddings_of_clips(tmp_path) -> None:
    root = make_tiny_speech_commands(tmp_path / "sc", per_word=2)
    files = sorted(str(p) for p in root.glob("*/*.wav") if "_background" not in str(p))
    emb = et.clip_embeddings(files[:4])
    assert emb.shape == (4, 3 * et.EMB_SIZE) and emb.dtype == np.float32
    assert np.all(np.isfinite(emb)) and np.std(emb) > 0
    assert np.array_equal(emb[:2], et.clip_embeddings(files[:2]))   # deterministic
    with pytest.raises(KwsError, match="too short"):
        et.Embedder().embed(np.zeros(8000, np.int16))


def test_out_of_fold_probs_separate_separable_classes() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([1, 2, 3], 20)
    x = rng.standard_normal((60, 8)) + 4.0 * np.eye(8)[y]
    p = et.out_of_fold_probs(x, y, num_classes=4)
    assert p.shape == (60, 4) and np.allclose(p.sum(1), 1.0, atol=1e-5)
    assert np.all(p[:, 0] == 0)                     # a class without clips gets nothing
    assert np.mean(p.argmax(1) == y) > 0.9
    with pytest.raises(KwsError, match="at least"):
        et.out_of_fold_probs(x[:6], y[:6], num_classes=4)


def test_teacher_probs_keep_one_hot_rows_without_audio(tmp_path) -> None:
    root = make_tiny_speech_commands(tmp_path / "sc", per_word=6)
    yes = sorted(str(p) for p in (root / "yes").glob("*.wav"))[:5]
    no = sorted(str(p) for p in (root / "no").glob("*.wav"))[:5]
    paths = yes + no + ["", ""]
    labels = np.array([2] * 5 + [3] * 5 + [0, 1])
    p = et.embedding_teacher_probs(paths, labels, num_classes=4, copies=3)
    assert p.shape == (12, 3, 4)
    assert np.array_equal(p[:, 0], p[:, 2])
    assert np.array_equal(p[10:, 0], np.eye(4, dtype=np.float32)[[0, 1]])
    assert np.allclose(p.sum(-1), 1.0, atol=1e-5)


def test_train_paths_align_rows_with_examples() -> None:
    ex = [Example("/a.wav", "yes", "train"), Example("/b.wav", "no", "validation"),
          Example("/c.wav", "no", "train"), Example("", "_silence_", "train"),
          Example("/d.wav", "yes", "train")]
    fs = FeatureSet(x=np.zeros((5, 1, 2, 2), np.int8), y=np.zeros(5, int), skipped=["/c.wav"])
    assert distill.train_paths(ex, fs) == ["/a.wav", "", "/d.wav", "", ""]
    with pytest.raises(KwsError):
        distill.train_paths(ex, FeatureSet(x=np.zeros((2, 1, 2, 2), np.int8),
                                           y=np.zeros(2, int), skipped=[]))
