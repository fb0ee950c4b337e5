"""Training losses: sparse cross-entropy with label smoothing.

Label smoothing (Szegedy et al. 2016) trains towards ``1 - s + s / C`` for the true class and
``s / C`` for the others instead of 1 and 0. For a detector that thresholds the int8 softmax
output it keeps confident windows below the top of the scale (255, where the output
saturates), so that thresholds can still rank them.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kws")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer labels against probabilities, the labels smoothed by
    ``smoothing`` (0 <= smoothing < 1; 0: plain sparse categorical cross-entropy).

    Parameters
    ----------
    smoothing : float
        Share of the target spread evenly over all classes.
    name : str
        The loss's name.
    """

    def __init__(self, smoothing: float = 0.1, name: str = "smoothed_sparse_crossentropy",
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if not 0.0 <= float(smoothing) < 1.0:
            raise ValueError(f"label smoothing {smoothing}: expected 0 <= smoothing < 1")
        self.smoothing = float(smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-example loss."""
        n = ops.shape(y_pred)[-1]
        y = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), n)
        y = y * (1.0 - self.smoothing) + self.smoothing / ops.cast(n, y.dtype)
        return keras.losses.categorical_crossentropy(y, y_pred)

    def get_config(self) -> dict[str, Any]:
        """Serializable configuration (checkpoints)."""
        return {**super().get_config(), "smoothing": self.smoothing}
