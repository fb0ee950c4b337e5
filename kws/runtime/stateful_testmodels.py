"""Stateful int8 test models (resource variables), built with TensorFlow, cached by hash.

The kws_streaming pattern (Rybakov et al. 2020, "Streaming keyword spotting on mobile
devices"; also microWakeWord's): a layer keeps the last frames it has seen in a non-trainable
``tf.Variable`` ring buffer; each call concatenates the buffer with the new frame, runs the
wrapped layer on the window and stores the window's last frames back. Converted with
variable quantization, the variables become int8 resource variables (``VAR_HANDLE``,
``READ_VARIABLE``, ``ASSIGN_VARIABLE``) initialized by a ``CALL_ONCE`` init subgraph.

- ``delay``: a dense layer whose output is stored in a variable and read back at the next call
  (output_t = softmax(dense(relu(dense(x_{t-1}))))); only FULLY_CONNECTED and SOFTMAX besides
  the state operators. The variable starts at non-zero values, so the init subgraph's value
  differs from the zero point TFLM resets to.
- ``stream_conv``: 40 features per 10 ms frame, a 3-frame ring buffer before a 4 x 1 conv (the
  kws_streaming ``Stream`` wrapper), a second ring buffer before a 5 x 1 depthwise conv, a
  pointwise conv, a dense layer and softmax; CONCATENATION and STRIDED_SLICE update the buffers.

Files live in ``build/testmodels/`` (as :mod:`kws.runtime.testmodels`), keyed by a hash of the
model name and :data:`GENERATOR_VERSION`.

Published stateful models: :func:`micro_wakeword` returns one of the microWakeWord v2 models
shipped in the ``pymicro-wakeword`` wheel (Apache-2.0); :func:`micro_wakeword_int8` the same
model without its last operator (a QUANTIZE from the int8 probability to uint8), so that its
output is the int8 LOGISTIC output.
"""

from __future__ import annotations

import fcntl
import hashlib
import struct
from pathlib import Path
from typing import Any

import numpy as np

from kws.errors import KwsError
from kws.fileio import write_bytes_atomic
from kws.runtime.testmodels import build_dir

#: Bump when a generated model changes.
GENERATOR_VERSION = 1

#: The stateful test models.
NAMES = ("delay", "stream_conv")


def _const(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> Any:
    import tensorflow as tf

    return tf.constant(rng.normal(0.0, 1.5 / np.sqrt(fan_in), shape).astype(np.float32))


def _module(name: str, rng: np.random.Generator) -> tuple[Any, tuple[int, ...]]:
    """A ``tf.Module`` (weights constant, state in ``tf.Variable`` ring buffers) and its
    input shape. Keras layers would make every weight a resource variable too (the converter
    freezes only constants), so the layers are written with ``tf.nn``."""
    import tensorflow as tf

    def ring(states: Any, x: Any) -> Any:
        """kws_streaming's Stream: window = [past frames, new frame]; keep the last frames."""
        window = tf.concat([states, x], axis=1)
        states.assign(window[:, -int(states.shape[1]):])
        return window

    m = tf.Module()
    if name == "delay":
        shape = (1, 16)
        w1, b1 = _const(rng, (16, 16), 16), _const(rng, (16,), 4)
        w2, b2 = _const(rng, (16, 4), 16), _const(rng, (4,), 4)
        m.states = tf.Variable(rng.uniform(0.2, 2.0, (1, 16)).astype(np.float32),
                               trainable=False, name="delay/states")

        def f(x: Any) -> Any:
            prev = m.states.read_value()
            m.states.assign(tf.nn.relu(tf.matmul(x, w1) + b1))
            return tf.nn.softmax(tf.matmul(prev, w2) + b2)
    elif name == "stream_conv":
        shape = (1, 1, 1, 40)                                  # one frame: time, 1, features
        k1, c1 = _const(rng, (4, 1, 40, 16), 160), _const(rng, (16,), 4)
        k2, c2 = _const(rng, (5, 1, 16, 1), 5), _const(rng, (16,), 4)
        k3, c3 = _const(rng, (1, 1, 16, 24), 16), _const(rng, (24,), 4)
        w4, b4 = _const(rng, (24, 3), 24), _const(rng, (3,), 4)
        m.s1 = tf.Variable(np.zeros((1, 3, 1, 40), np.float32), trainable=False,
                           name="stream/states")
        m.s2 = tf.Variable(np.zeros((1, 4, 1, 16), np.float32), trainable=False,
                           name="stream_1/states")

        def f(x: Any) -> Any:
            h = tf.nn.relu(tf.nn.conv2d(ring(m.s1, x), k1, 1, "VALID") + c1)
            h = tf.nn.relu(tf.nn.depthwise_conv2d(ring(m.s2, h), k2, [1, 1, 1, 1],
                                                  "VALID") + c2)
            h = tf.nn.relu(tf.nn.conv2d(h, k3, 1, "VALID") + c3)
            return tf.nn.softmax(tf.matmul(tf.reshape(h, (1, 24)), w4) + b4)
    else:
        raise KwsError(f"unknown stateful test model {name!r} (known: {', '.join(NAMES)})")
    m.f = tf.function(f, input_signature=[tf.TensorSpec(shape, tf.float32)])
    return m, shape


def convert(name: str, *, seed: int = 0) -> bytes:
    """Build stateful test model ``name`` and return its full-int8 .tflite flatbuffer."""
    import tensorflow as tf

    rng = np.random.default_rng([seed, GENERATOR_VERSION])
    m, shape = _module(name, rng)
    conv = tf.lite.TFLiteConverter.from_concrete_functions([m.f.get_concrete_function()], m)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    conv._experimental_variable_quantization = True  # int8 resource variables (microWakeWord)

    def representative():
        for _ in range(64):
            yield [rng.uniform(-4.0, 4.0, shape).astype(np.float32)]

    conv.representative_dataset = representative
    return conv.convert()


def model_path(name: str) -> Path:
    """Path of the cached ``.tflite`` of stateful test model ``name``."""
    if name not in NAMES:
        raise KwsError(f"unknown stateful test model {name!r} (known: {', '.join(NAMES)})")
    key = hashlib.sha256(f"{name}:{GENERATOR_VERSION}".encode()).hexdigest()
    return build_dir() / f"stateful_{name}-{key[:12]}.tflite"


def ensure_model(name: str) -> Path:
    """Return the path of stateful test model ``name``, generating it if not cached."""
    path = model_path(name)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            write_bytes_atomic(path, convert(name))
    return path


def micro_wakeword(name: str) -> Path:
    """``<name>.tflite`` of the pymicro-wakeword wheel (alexa, hey_jarvis, hey_mycroft,
    okay_nabu)."""
    try:
        import pymicro_wakeword
    except ImportError as exc:
        raise KwsError("pymicro-wakeword is not installed (pip install "
                       "pymicro-wakeword==2.5.0; it is in the train extra)") from exc
    path = Path(pymicro_wakeword.__file__).parent / "models" / f"{name}.tflite"
    if not path.exists():
        raise KwsError(f"{path}: no such microWakeWord model")
    return path


def strip_final_quantize(data: bytes) -> bytes:
    """The flatbuffer ``data`` with its main subgraph's last operator (a QUANTIZE) dropped and
    that operator's input made the model output: two integers patched in place."""
    import tflite

    m = tflite.Model.GetRootAsModel(data, 0)
    sg = m.Subgraphs(0)
    n = sg.OperatorsLength()
    last = sg.Operators(n - 1)
    oc = m.OperatorCodes(last.OpcodeIndex())
    if max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()) != tflite.BuiltinOperator.QUANTIZE:
        raise KwsError("the model's last operator is not QUANTIZE")
    out = bytearray(data)
    ops = sg._tab.Vector(sg._tab.Offset(10))       # SubGraph.operators (field 3)
    outs = sg._tab.Vector(sg._tab.Offset(8))       # SubGraph.outputs (field 2)
    if (struct.unpack_from("<I", out, ops - 4)[0] != n or sg.OutputsLength() != 1
            or struct.unpack_from("<i", out, outs)[0] != last.Outputs(0)):
        raise KwsError("unexpected flatbuffer layout")
    struct.pack_into("<I", out, ops - 4, n - 1)
    struct.pack_into("<i", out, outs, last.Inputs(0))
    return bytes(out)


def micro_wakeword_int8(name: str) -> Path:
    """:func:`micro_wakeword` without the final uint8 QUANTIZE (int8 output), cached."""
    src = micro_wakeword(name)
    data = src.read_bytes()
    key = hashlib.sha256(data).hexdigest()[:12]
    path = build_dir() / f"mww_{name}_int8-{key}.tflite"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, strip_final_quantize(data))
    return path


if __name__ == "__main__":  # pragma: no cover
    import sys

    for n in sys.argv[1:]:
        print(ensure_model(n))
