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


def make_trained_run(run_dir: str | Path, audio_dir: str | Path, *,
                     words: tuple[str, ...] = ("yes", "no"), channels: int = 16,
                     blocks: int = 2, epochs: int = 12, seed: int = 0) -> Path:
    """Train a tiny DS-CNN for a few seconds on the clips in ``audio_dir`` (one folder per
    word, plus ``_background_noise_``), quantize it to int8 and write a RUN folder.

    Labels: ``_silence_``, ``_unknown_`` (every other word folder), then ``words``. Parity
    tests need a model whose posteriors move with the audio, not an accurate one.
    """
    import tensorflow as tf

    from kws.audio import fit_clip, load_audio
    from kws.frontend.fixed import features_numpy

    settings = FrontendSettings()
    root = Path(audio_dir)
    labels = ("_silence_", "_unknown_", *words)
    rng = np.random.default_rng(seed)
    clips, ys = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name == "_background_noise_":
            for wav in sorted(folder.glob("*.wav")):
                noise = load_audio(wav)
                for _ in range(6):
                    start = int(rng.integers(0, len(noise) - settings.clip_samples))
                    gain = 10 ** rng.uniform(-1.5, 0.5)
                    clips.append(np.clip(noise[start:start + settings.clip_samples] * gain,
                                         -32768, 32767).astype(np.int16))
                    ys.append(0)
            continue
        label = labels.index(folder.name) if folder.name in words else 1
        for wav in sorted(folder.glob("*.wav")):
            clips.append(fit_clip(load_audio(wav), settings.clip_samples))
            ys.append(label)
    q = features_numpy(np.stack(clips), settings).astype(np.float32)
    x = (settings.output_scale * (q - settings.output_zero_point))[..., None]
    y = np.asarray(ys)
    model = ds_cnn(num_classes=len(labels), frames=settings.num_frames,
                   coeffs=settings.num_outputs, channels=channels, blocks=blocks, seed=seed)
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    weights = len(y) / (len(labels) * np.bincount(y, minlength=len(labels)).clip(1))
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0,
              class_weight={i: float(w) for i, w in enumerate(weights)})
    lo = settings.output_scale * (-128 - settings.output_zero_point)
    hi = settings.output_scale * (127 - settings.output_zero_point)

    def representative():
        # the full int8 range first pins the input quantization to the front end's
        yield [np.full((1, *x.shape[1:]), lo, np.float32)]
        yield [np.full((1, *x.shape[1:]), hi, np.float32)]
        for i in rng.permutation(len(x))[:64]:
            yield [x[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    run = Path(run_dir)
    write_bytes_atomic(run / "model.tflite", conv.convert())
    write_text_atomic(run / "labels.txt", "\n".join(labels) + "\n")
    write_text_atomic(run / "settings.json", settings.to_json() + "\n")
    return run
