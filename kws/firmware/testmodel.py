"""Small int8 models with random weights, for streaming parity tests and footprint benchmarks.

Parity between the firmware and the Python simulation does not need an accurate model, only a
real int8 TFLite model whose outputs move with the input; these are quantized with TFLite's
converter from Keras models with seeded random weights. Trained models come from ``kws train``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.fileio import write_bytes_atomic, write_text_atomic
from kws.frontend.settings import FrontendSettings


def ds_cnn(*, num_classes: int, frames: int, coeffs: int, channels: int = 64,
           blocks: int = 4, seed: int = 0):
    """A DS-CNN (Hello Edge / MLPerf Tiny shape: 10x4 conv stride 2, then ``blocks`` x
    (depthwise 3x3 + pointwise), average pool, dense, softmax) with seeded random weights."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    layers = tf.keras.layers
    inp = layers.Input((frames, coeffs, 1), batch_size=1)   # static shapes: no SHAPE ops
    x = layers.Conv2D(channels, (10, 4), strides=(2, 2), padding="same")(inp)
    x = layers.ReLU()(x)
    for _ in range(blocks):
        x = layers.DepthwiseConv2D((3, 3), padding="same")(x)
        x = layers.ReLU()(x)
        x = layers.Conv2D(channels, (1, 1))(x)
        x = layers.ReLU()(x)
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)   # AVERAGE_POOL_2D, not MEAN
    x = layers.Reshape((channels,))(x)
    x = layers.Dense(num_classes)(x)
    out = layers.Softmax()(x)
    return tf.keras.Model(inp, out)


def make_random_run(run_dir: str | Path, *, labels: tuple[str, ...] = ("_silence_", "_unknown_",
                                                                      "yes", "no"),
                    channels: int = 64, blocks: int = 4, seed: int = 0,
                    settings: FrontendSettings | None = None) -> Path:
    """Write a RUN folder (``model.tflite`` int8, ``labels.txt``, ``settings.json``) holding a
    random-weight DS-CNN (``channels=64, blocks=4`` is DS-CNN-S). Returns the folder."""
    import tensorflow as tf

    settings = settings or FrontendSettings()
    run = Path(run_dir)
    frames, coeffs = settings.num_frames, settings.num_outputs
    model = ds_cnn(num_classes=len(labels), frames=frames, coeffs=coeffs, channels=channels,
                   blocks=blocks, seed=seed)
    rng = np.random.default_rng(seed)
    lo = settings.output_scale * (-128 - settings.output_zero_point)
    hi = settings.output_scale * (127 - settings.output_zero_point)

    def representative():
        for _ in range(32):
            q = rng.integers(-128, 128, size=(1, frames, coeffs, 1))
            yield [np.clip(settings.output_scale * (q - settings.output_zero_point), lo, hi)
                   .astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    write_bytes_atomic(run / "model.tflite", conv.convert())
    write_text_atomic(run / "labels.txt", "\n".join(labels) + "\n")
    write_text_atomic(run / "settings.json", settings.to_json() + "\n")
    return run
