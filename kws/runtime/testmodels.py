"""Int8 test models for the runtime, firmware and streaming tests and benchmarks (TensorFlow).

The project's one test-model generator: single ``.tflite`` files by name
(:func:`ensure_model`, for the runtime's parity tests and ``kws bench runtime``) and RUN folders
(:func:`make_random_run`, :func:`make_stream_run`, :func:`make_trained_run`, for the firmware
/ streaming parity tests, ``kws bench stream`` and footprint checks), from one DS-CNN builder
(:func:`ds_cnn`) and the streamable families of :mod:`kws.models`, and one int8 converter call
(:func:`int8_tflite`).

The models are Keras networks with random weights, fully int8 post-training quantized with a
representative data set whose range is the front end's int8 range, so their input quantization
is the front end's (``FrontendSettings.output_scale`` / ``output_zero_point``). They exist to
exercise the exporter and the C runtime, not to recognise words.

- ``ds_cnn_s``, ``ds_cnn_m``, ``ds_cnn_l``: DS-CNN in the Hello Edge shapes (Zhang et al. 2017,
  "Hello Edge: Keyword Spotting on Microcontrollers"; S is also MLPerf Tiny KWS's model) for a
  49 x 10 x 1 input: a 10 x 4 conv, then depthwise 3 x 3 + pointwise blocks, each followed by
  batch norm and ReLU, an average pool over the whole map, a dense layer and softmax.
- ``tiny``: a small conv / depthwise / pointwise / pool / dense / softmax stack.
- ``stream_ds_cnn``, ``stream_tcn``, ``stream_tcn_max``: the streamable families of
  :mod:`kws.models` (``ds-cnn-stream``, ``tcn-stream``, ``tcn-stream-max``) with random weights
  and batch-norm statistics;
  ``stream_mix``: a streamable stack that exercises the other step forms (a 1 x 3 first conv,
  a 5 x 3 depthwise, an average pool of 4 slices with stride 1 over time, a 3 x 3 conv, and a
  dense layer over all remaining time slices, flattened).
- ``random_<kind>_<seed>``: one layer of a random shape (see :func:`random_spec`); ``dw3x3`` is
  a depthwise 3 x 3, stride 1 layer (the DSP path's plane kernel) of random size and padding;
  ``dwt`` a depthwise (k, 1) or (1, k) layer (temporal / frequency kernels of streaming models)
  of random stride and padding, small enough for the DSP direct path.
- ``keras_<arch>`` and ``op_<kind>_<seed>``: models converted the plain Keras way with a
  dynamic batch (:mod:`kws.runtime.corpus`).

Generated files are cached under ``build/testmodels/`` keyed by a hash of the spec, so only the
first test session pays for TensorFlow.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from kws.errors import KwsError
from kws.fileio import write_bytes_atomic
from kws.frontend.settings import FrontendSettings
from kws.paths import REPO_ROOT
from kws.run import write_run

#: Bump when the generator changes in a way that changes the generated models.
GENERATOR_VERSION = 4

#: Hello Edge DS-CNN shapes: (channels, first conv stride (h, w), strides of the DS blocks).
DS_CNN_SHAPES: dict[str, tuple[int, tuple[int, int], tuple[tuple[int, int], ...]]] = {
    "s": (64, (2, 2), ((1, 1),) * 4),
    "m": (172, (2, 1), ((2, 2),) + ((1, 1),) * 3),
    "l": (276, (2, 1), ((2, 2),) + ((1, 1),) * 4),
}

#: Streamable test models -> the model family (or ``mix``, a stack built here).
STREAM_TEST_MODELS = {"stream_ds_cnn": "ds-cnn-stream", "stream_tcn": "tcn-stream",
                      "stream_tcn_max": "tcn-stream-max", "stream_tcn_max_96": "tcn-stream-max-96",
                      "stream_mix": "mix"}

#: Kinds of random single-layer models.
RANDOM_KINDS = ("conv", "depthwise", "dw3x3", "dwt", "pointwise", "avgpool", "dense", "softmax")



def build_dir() -> Path:
    """``build/testmodels`` in the repository root."""
    return REPO_ROOT / "build" / "testmodels"


def random_spec(kind: str, seed: int) -> dict[str, Any]:
    """A random single-layer spec: shapes, strides, padding, channels, activation, scales."""
    rng = np.random.default_rng(seed)
    act = str(rng.choice(["none", "relu", "relu6"]))
    h, w = int(rng.integers(3, 14)), int(rng.integers(3, 12))
    cin = int(rng.integers(1, 20))
    spec: dict[str, Any] = {"kind": kind, "seed": seed, "act": act, "input": [h, w, cin]}
    if kind in ("conv", "depthwise"):
        spec["kernel"] = [int(rng.integers(1, min(h, 5) + 1)), int(rng.integers(1, min(w, 5) + 1))]
        spec["strides"] = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        spec["padding"] = str(rng.choice(["same", "valid"]))
    if kind == "dw3x3":  # the depthwise DSP plane path: 3 x 3, stride 1, multiplier 1
        spec["kernel"], spec["strides"], spec["multiplier"] = [3, 3], [1, 1], 1
        spec["padding"] = str(rng.choice(["same", "valid"]))
    if kind == "dwt":  # a 1-D depthwise: (k, 1) over time or (1, k) over frequency
        k = int(rng.integers(2, 8))
        spec["input"] = [int(rng.integers(k, 12)), int(rng.integers(1, 6)), cin + 4]
        spec["kernel"] = [k, 1] if seed % 2 == 0 else [1, min(k, spec["input"][1])]
        spec["strides"] = [int(rng.integers(1, 4)), int(rng.integers(1, 3))]
        spec["padding"] = str(rng.choice(["same", "valid"]))
        spec["multiplier"] = 1
    if kind == "conv":
        spec["filters"] = int(rng.integers(1, 24))
    if kind == "depthwise":
        spec["multiplier"] = int(rng.choice([1, 1, 2, 3]))
    if kind == "pointwise":
        spec["filters"] = int(rng.integers(1, 40))
    if kind == "avgpool":
        spec["pool"] = [int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))]
        spec["strides"] = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        spec["padding"] = str(rng.choice(["same", "valid"]))
    if kind == "dense":
        spec["input"] = [int(rng.integers(1, 200))]
        spec["units"] = int(rng.integers(1, 40))
    if kind == "softmax":
        spec["input"] = [int(rng.integers(2, 40))]
        spec["act"] = "none"
    # Spread of the per-channel weight scales (log10), so the multipliers vary widely.
    spec["weight_spread"] = float(rng.uniform(0.0, 2.0))
    spec["input_range"] = [float(-rng.uniform(0.5, 50)), float(rng.uniform(0.5, 50))]
    return spec


def named_spec(name: str) -> dict[str, Any]:
    """The spec of a named test model (``ds_cnn_s``, ``tiny``, ``random_conv_3``, ...)."""
    if name.startswith("ds_cnn_") and name[7:] in DS_CNN_SHAPES:
        return {"kind": "ds_cnn", "size": name[7:]}
    if name == "tiny":
        return {"kind": "tiny"}
    if name in STREAM_TEST_MODELS:
        from kws.models import MODELS

        family = STREAM_TEST_MODELS[name]  # the family's shape keys the cache
        return {"kind": "stream", "model": family, "shape": repr(MODELS.get(family, family))}
    from kws.runtime import corpus

    spec = corpus.spec_of(name)
    if spec is not None:
        return spec
    parts = name.split("_")
    if len(parts) == 3 and parts[0] == "random" and parts[1] in RANDOM_KINDS and parts[2].isdigit():
        return random_spec(parts[1], int(parts[2]))
    raise KwsError(f"unknown test model {name!r}")


def ds_cnn(*, num_classes: int, frames: int = 49, coeffs: int = 10, channels: int = 64,
           first_stride: tuple[int, int] = (2, 2),
           block_strides: tuple[tuple[int, int], ...] = ((1, 1),) * 4,
           batchnorm: bool = False, seed: int | None = None) -> Any:
    """A DS-CNN (Hello Edge / MLPerf Tiny shape) Keras model with random weights.

    A 10 x 4 conv, then one depthwise 3 x 3 + pointwise block per entry of ``block_strides``,
    each conv followed by ReLU (and batch norm before it, without biases, when ``batchnorm``),
    an average pool over the whole map (AVERAGE_POOL_2D, not MEAN), a dense layer and softmax.
    The input has a static batch of 1 (no SHAPE ops). ``seed`` seeds Keras's initializers
    (None: the caller has).
    """
    import tensorflow as tf

    if seed is not None:
        tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    inp = L.Input((frames, coeffs, 1), batch_size=1)
    x = L.Conv2D(channels, (10, 4), strides=first_stride, padding="same",
                 use_bias=not batchnorm)(inp)
    if batchnorm:
        x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    for s in block_strides:
        x = L.DepthwiseConv2D((3, 3), strides=s, padding="same", use_bias=not batchnorm)(x)
        if batchnorm:
            x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
        x = L.Conv2D(channels, (1, 1), use_bias=not batchnorm)(x)
        if batchnorm:
            x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
    x = L.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = L.Reshape((channels,))(x)
    x = L.Dense(num_classes)(x)
    out = L.Softmax()(x)
    return tf.keras.Model(inp, out)


def int8_tflite(model: Any, representative: Any) -> bytes:
    """Full-int8 post-training quantization of a Keras model (int8 input and output), with
    the trainer's converter (:func:`kws.train.quantize.convert`).

    ``representative`` is a generator function yielding ``[batch of one]`` lists, in order.
    """
    from kws.train.quantize import convert as convert_keras

    calib = np.concatenate([np.asarray(x[0], dtype=np.float32) for x in representative()])
    return convert_keras(model, representative=calib)


def _activation(act: str) -> Any:
    import tensorflow as tf

    if act == "relu":
        return tf.keras.layers.ReLU()
    if act == "relu6":
        return tf.keras.layers.ReLU(max_value=6.0)
    return None


def _keras_model(spec: dict[str, Any], rng: np.random.Generator) -> Any:
    """Build the Keras model of ``spec`` with random weights."""
    import tensorflow as tf

    L = tf.keras.layers
    kind = spec["kind"]
    tf.keras.utils.set_random_seed(int(rng.integers(0, 2**31)))
    if kind == "ds_cnn":
        ch, stride0, strides = DS_CNN_SHAPES[spec["size"]]
        model = ds_cnn(num_classes=12, channels=ch, first_stride=stride0,
                       block_strides=strides, batchnorm=True)
        _randomize_batchnorm(model, rng)
        return model
    if kind == "stream":
        model = _stream_model(spec["model"])
        _spread_logits(model, feature_runs(rng, 64), rng)
        return model
    if kind == "tiny":
        inp = L.Input((49, 10, 1), batch_size=1)
        x = L.Conv2D(8, (5, 3), strides=(2, 2), padding="same", activation="relu")(inp)
        x = L.DepthwiseConv2D((3, 3), padding="same", activation="relu")(x)
        x = L.Conv2D(12, (1, 1), activation="relu")(x)
        x = L.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
        x = L.Flatten()(x)
        x = L.Dense(4)(x)
        out = L.Softmax()(x)
        return tf.keras.Model(inp, out)
    inp = L.Input(tuple(spec["input"]), batch_size=1)
    if kind == "conv":
        layer = L.Conv2D(spec["filters"], tuple(spec["kernel"]), strides=tuple(spec["strides"]),
                         padding=spec["padding"], bias_initializer="random_normal")
    elif kind in ("depthwise", "dw3x3", "dwt"):
        layer = L.DepthwiseConv2D(tuple(spec["kernel"]), strides=tuple(spec["strides"]),
                                  padding=spec["padding"], depth_multiplier=spec["multiplier"],
                                  bias_initializer="random_normal")
    elif kind == "pointwise":
        layer = L.Conv2D(spec["filters"], (1, 1), bias_initializer="random_normal")
    elif kind == "avgpool":
        layer = L.AveragePooling2D(tuple(spec["pool"]), strides=tuple(spec["strides"]),
                                   padding=spec["padding"])
    elif kind == "dense":
        layer = L.Dense(spec["units"], bias_initializer="random_normal")
    elif kind == "softmax":
        layer = L.Softmax()
    else:
        raise KwsError(f"unknown test model kind {kind!r}")
    x = layer(inp)
    act = _activation(spec["act"])
    if act is not None:
        x = act(x)
    model = tf.keras.Model(inp, x)
    # Per-output-channel weight scales spread over weight_spread decades.
    for var in layer.weights:
        if "kernel" in var.name:
            val = var.numpy()
            scale = 10.0 ** rng.uniform(-spec["weight_spread"], 0.0, size=val.shape[-1])
            var.assign(val * scale.astype(np.float32))
    return model


def _stream_model(name: str) -> Any:
    """A streamable model: a :mod:`kws.models` family, or ``mix`` (see the module docstring)."""
    import tensorflow as tf

    from kws.models import build_model

    if name != "mix":
        return build_model(name, num_classes=4, settings=FrontendSettings())
    L = tf.keras.layers
    inp = L.Input((49, 10, 1), batch_size=1)
    x = L.Conv2D(8, (1, 3), padding="valid", activation="relu")(inp)          # 49 x 8 x 8
    x = L.DepthwiseConv2D((5, 3), padding="valid", activation="relu")(x)      # 45 x 6 x 8
    x = L.AveragePooling2D((4, 2), strides=(1, 2), padding="valid")(x)        # 42 x 3 x 8
    x = L.Conv2D(6, (3, 3), padding="valid", activation="relu")(x)            # 40 x 1 x 6
    x = L.Reshape((240,))(x)
    x = L.Dense(4)(x)
    return tf.keras.Model(inp, L.Softmax()(x))


def feature_runs(rng: np.random.Generator, n: int, frames: int = 49,
                 coeffs: int = 10) -> np.ndarray:
    """``n`` float inputs (n, frames, coeffs, 1) in the front end's real range, made of runs of
    3-30 frames at a random level with noise of a random size (silence, steady sounds,
    noise), for calibrating streamable test models whose outputs must move along a stream."""
    fe = FrontendSettings()
    lo = fe.output_scale * (-128 - fe.output_zero_point)
    hi = fe.output_scale * (127 - fe.output_zero_point)
    out = np.empty((n, frames, coeffs), np.float32)
    for i in range(n):
        t = 0
        while t < frames:
            m = int(rng.integers(3, 31))
            level = rng.uniform(lo, hi)
            sigma = (hi - lo) * 10 ** rng.uniform(-3, -0.5)
            out[i, t:t + m] = level + rng.normal(0, sigma, (min(m, frames - t), coeffs))
            t += m
    return np.clip(out, lo, hi)[..., None]


def _spread_logits(model: Any, x: np.ndarray, rng: np.random.Generator) -> None:
    """Give the last dense layer weights that standardize its input over ``x`` and mix it at
    random, so that the outputs move from window to window (random weights after a long
    average pool give nearly constant logits)."""
    import tensorflow as tf

    dense = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Dense)][-1]
    feats = tf.keras.Model(model.input, dense.input).predict(x, verbose=0).reshape(len(x), -1)
    mu, sd = feats.mean(axis=0), feats.std(axis=0) + 1e-3
    w = rng.normal(0, 2 / np.sqrt(feats.shape[1]), (feats.shape[1], dense.units))
    kernel = (w / sd[:, None]).astype(np.float32)
    dense.set_weights([kernel, (-(mu / sd) @ w).astype(np.float32)])


def _randomize_batchnorm(model: Any, rng: np.random.Generator) -> None:
    """Give every batch-norm layer random statistics, so folding makes varied scales."""
    import tensorflow as tf

    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 2.0, n).astype(np.float32))
            layer.beta.assign(rng.normal(0.0, 0.5, n).astype(np.float32))
            layer.moving_mean.assign(rng.normal(0.0, 0.5, n).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.5, 4.0, n).astype(np.float32))


def convert(spec: dict[str, Any], *, seed: int = 0) -> bytes:
    """Build the model of ``spec`` and return its full-int8 .tflite flatbuffer."""
    if spec["kind"] in ("keras", "op"):
        from kws.runtime import corpus

        return corpus.convert(spec)
    rng = np.random.default_rng([seed, GENERATOR_VERSION])
    model = _keras_model(spec, rng)
    fe = FrontendSettings()
    if spec["kind"] in ("ds_cnn", "tiny", "stream"):
        lo = fe.output_scale * (-128 - fe.output_zero_point)
        hi = fe.output_scale * (127 - fe.output_zero_point)
    else:
        lo, hi = spec["input_range"]
    shape = tuple(int(d) for d in model.input.shape[1:])

    def representative():
        if spec["kind"] == "stream":  # the kind of input the streams in the tests hold
            x = feature_runs(rng, 32)
            x.reshape(len(x), -1)[0, :2] = lo, hi  # pin the calibrated range to [lo, hi]
            for v in x:
                yield [v[None]]
            return
        for _ in range(24):
            x = rng.uniform(lo, hi, size=(1,) + shape).astype(np.float32)
            flat = x.reshape(-1)
            flat[0], flat[-1] = lo, hi  # pin the calibrated range to [lo, hi]
            yield [x]

    return int8_tflite(model, representative)


def parity_inputs(shape: tuple[int, ...], zero_point: int, *, n: int = 200,
                  seed: int = 0) -> np.ndarray:
    """``n`` int8 inputs of ``shape``, shaped ``(n,) + shape``, for parity tests.

    Adversarial ones first (all -128 and all 127 as clipping, the zero point as silence,
    square waves at full scale, single impulses, DC offsets with little noise), then noise at
    many levels (sigma 0.1 to 300 LSB around the zero point: -90 to 0 dBFS and clipping) and
    uniform full-scale noise.
    """
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    xs = [np.full(size, -128), np.full(size, 127), np.full(size, zero_point),   # silence, clip
          np.where(np.arange(size) % 2, 127, -128),                            # square wave
          np.where((np.arange(size) // 7) % 2, 127, -128)]
    for pos in (0, size // 2, size - 1):                                       # impulses
        v = np.full(size, zero_point)
        v[pos] = 127
        xs.append(v)
    for dc in (-100, -20, 40, 100):                                            # DC offsets
        xs.append(np.clip(dc + rng.normal(0, 3, size), -128, 127))
    while len(xs) < n:
        kind = len(xs) % 3
        if kind == 0:
            xs.append(rng.integers(-128, 128, size))                          # full scale noise
        elif kind == 1:
            sigma = 10 ** rng.uniform(-1, 2.5)                                 # -90..0 dB levels
            xs.append(np.clip(np.round(zero_point + rng.normal(0, sigma, size)), -128, 127))
        else:
            xs.append(np.clip(rng.integers(-128, 128) + rng.integers(-8, 9, size), -128, 127))
    return np.stack([np.asarray(v).astype(np.int8).reshape(shape) for v in xs[:n]])


def model_path(name: str) -> Path:
    """Path of the cached ``.tflite`` of test model ``name`` (whether or not it exists yet)."""
    spec = named_spec(name)
    key = hashlib.sha256(json.dumps([spec, GENERATOR_VERSION], sort_keys=True).encode()).hexdigest()
    return build_dir() / f"{name}-{key[:12]}.tflite"


def ensure_model(name: str) -> Path:
    """Return the path of test model ``name``, generating it with TensorFlow if not cached.

    Safe under ``pytest -n``: generation is serialized by a file lock.
    """
    path = model_path(name)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            write_bytes_atomic(path, convert(named_spec(name)))
    return path


# RUN folders (model.tflite + labels.txt + settings.json) for the firmware and streaming tests.


def make_random_run(run_dir: str | Path, *, labels: tuple[str, ...] = ("_silence_", "_unknown_",
                                                                      "yes", "no"),
                    channels: int = 64, blocks: int = 4, seed: int = 0,
                    settings: FrontendSettings | None = None) -> Path:
    """Write a RUN folder (``model.tflite`` int8, ``labels.txt``, ``settings.json``) holding a
    random-weight DS-CNN (``channels=64, blocks=4`` is DS-CNN-S). Returns the folder."""
    settings = settings or FrontendSettings()
    run = Path(run_dir)
    frames, coeffs = settings.num_frames, settings.num_outputs
    model = ds_cnn(num_classes=len(labels), frames=frames, coeffs=coeffs, channels=channels,
                   block_strides=((1, 1),) * blocks, seed=seed)
    rng = np.random.default_rng(seed)
    lo = settings.output_scale * (-128 - settings.output_zero_point)
    hi = settings.output_scale * (127 - settings.output_zero_point)

    def representative():
        for _ in range(32):
            q = rng.integers(-128, 128, size=(1, frames, coeffs, 1))
            yield [np.clip(settings.output_scale * (q - settings.output_zero_point), lo, hi)
                   .astype(np.float32)]

    return write_run(run, model=int8_tflite(model, representative), labels=labels,
                     settings=settings)


def make_stream_run(run_dir: str | Path, *, family: str = "tcn-stream",
                    labels: tuple[str, ...] = ("_silence_", "_unknown_", "yes", "no"),
                    seed: int = 0) -> Path:
    """Write a RUN folder (``model.tflite`` int8, ``labels.txt``, ``settings.json``) holding a
    random-weight streamable model of ``family`` (:data:`kws.models.STREAM_MODELS`) whose
    outputs move along a stream (see :func:`_spread_logits`). Returns the folder."""
    import tensorflow as tf

    from kws.models import build_model, input_range

    settings = FrontendSettings()
    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_model(family, num_classes=len(labels), settings=settings)
    _spread_logits(model, feature_runs(rng, 64), rng)
    lo, hi = input_range(settings)

    def representative():
        x = feature_runs(rng, 32)
        x.reshape(len(x), -1)[0, :2] = lo, hi  # pin the input quantization
        for v in x:
            yield [v[None]]

    return write_run(Path(run_dir), model=int8_tflite(model, representative), labels=labels,
                     settings=settings)


def make_trained_run(run_dir: str | Path, audio_dir: str | Path, *,
                     words: tuple[str, ...] = ("yes", "no"), channels: int = 16,
                     blocks: int = 2, epochs: int = 12, seed: int = 0) -> Path:
    """Train a tiny DS-CNN for a few seconds on the clips in ``audio_dir`` (one folder per
    word, plus ``_background_noise_``), quantize it to int8 and write a RUN folder.

    Labels: ``_silence_``, ``_unknown_`` (every other word folder), then ``words``. Parity
    tests need a model whose posteriors move with the audio, not an accurate one.
    """
    import tensorflow as tf

    from kws.audio import AUDIO_SUFFIXES, fit_clip, load_audio
    from kws.fileio import class_files
    from kws.frontend.fixed import features_numpy

    settings = FrontendSettings()
    root = Path(audio_dir)
    labels = ("_silence_", "_unknown_", *words)
    rng = np.random.default_rng(seed)
    clips, ys = [], []
    for word, path in class_files(root, AUDIO_SUFFIXES):
        if word == "_background_noise_":
            noise = load_audio(path)
            for _ in range(6):
                start = int(rng.integers(0, len(noise) - settings.clip_samples))
                gain = 10 ** rng.uniform(-1.5, 0.5)
                clips.append(np.clip(noise[start:start + settings.clip_samples] * gain,
                                     -32768, 32767).astype(np.int16))
                ys.append(0)
            continue
        clips.append(fit_clip(load_audio(path), settings.clip_samples))
        ys.append(labels.index(word) if word in words else 1)
    q = features_numpy(np.stack(clips), settings).astype(np.float32)
    x = (settings.output_scale * (q - settings.output_zero_point))[..., None]
    y = np.asarray(ys)
    model = ds_cnn(num_classes=len(labels), frames=settings.num_frames,
                   coeffs=settings.num_outputs, channels=channels,
                   block_strides=((1, 1),) * blocks, seed=seed)
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

    run = Path(run_dir)
    return write_run(run, model=int8_tflite(model, representative), labels=labels,
                     settings=settings)


if __name__ == "__main__":  # pragma: no cover
    import sys

    for n in sys.argv[1:]:
        print(ensure_model(n))
