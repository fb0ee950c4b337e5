"""Streaming inference: prove a window model streamable and generate its step function.

A window model reads ``window`` feature frames (the time axis is the tensors' H axis) and
outputs one vector. It is *streamable* when every layer is ``valid`` (no padding) with stride 1
along time and the output has one time slice: then output time slice ``t`` of each layer
depends only on input slices ``t - k + 1 .. t`` of that layer (``k`` its kernel length in
time), the window model's output is a function of the newest slice of every layer, and the
device can compute each layer's newest slice once per new frame from the last ``k`` input
slices, kept in a small per-layer buffer, instead of re-running the whole window.

:func:`analyse` walks the lowered layers (:func:`kws.export.lowering.lower`), tracking the time
length ``T`` of every tensor, and either returns a :class:`StreamPlan` or raises
:class:`NotStreamable` naming the operator and why (padding or stride along time, a layer
that mixes time slices other than by a ``valid`` window, an output with more than one time
slice). :func:`generate_step_c` writes the step function into the exported C:

- the *state* (caller-owned, ``KWS_MODEL_STREAM_STATE_BYTES``, persistent between steps): a
  frame counter and, for each layer whose time kernel is ``k > 1``, a buffer of its last ``k``
  input time slices, oldest first (each step shifts it by one slice and the layer before it, or
  the new frame, writes the newest slice at the end); an average pool over ``k > 1`` slices
  instead keeps a ring of its input slices and their int32 sums and runs as a running sum
  (``kws_avgpool_running_s8``: add the newest slice, subtract the one it replaces, divide with
  TFLite's rounding), so a step costs one slice, not ``k``; a max pool runs on its buffer of
  ``k`` slices (``k`` compares per output value); the layout comes from the planner;
- the *arena* (caller-owned, ``KWS_MODEL_STREAM_ARENA_BYTES``, free between steps): the one
  output slice of each layer whose consumer reads only the newest slice, and kernel scratch,
  placed by the offline planner (:mod:`kws.export.planner`);
- ``kws_model_step`` calls the same kernels as ``kws_model_invoke``, each on a shape whose time
  extent is its ``k`` input slices and one output slice, so the arithmetic of every output
  value is the window model's.

Parity: after ``window`` frames fed since the last reset, the step's output equals the window
model's output (TFLite Micro) on the last ``window`` frames, bit for bit. Before that the output
is computed over zero-filled buffers and is not the window model's (``ready`` is 0).
"""

from __future__ import annotations

import copy
import dataclasses

from kws.errors import KwsError
from kws.export.emit_calls import LayerRefs, emit_layer, shape_decl
from kws.export.lowering import Layer
from kws.export.lowering.conv import scratch_bytes
from kws.export.planner import Buffer, align, check_plan, plan
from kws.export.tflite_model import TfliteModel

#: Bytes of the state header: the frames fed since the last reset (uint32, saturating).
STATE_HEADER_BYTES = 4


class NotStreamable(KwsError):
    """The model cannot be run one time slice at a time; the message says which operator."""


@dataclasses.dataclass
class StreamLayer:
    """One layer of the step function.

    Attributes
    ----------
    layer : Layer
        The lowered layer with its step shape: ``in_h`` = ``k``, ``out_h`` = 1 for
        convolutions and pools; ``num_in`` the ``k`` slices for a dense layer.
    k : int
        Input time slices the layer reads per step (1: only the newest).
    in_slice, out_slice : int
        int8 values of one input / output time slice.
    t_in, t_out : int
        Time slices of the layer's input and output in the window model.
    """

    layer: Layer
    k: int
    in_slice: int
    out_slice: int
    t_in: int
    t_out: int

    @property
    def running(self) -> bool:
        """An average pool over ``k > 1`` slices, run as a running sum
        (``kws_avgpool_running_s8``: its state holds the ring of its input slices and their
        int32 sums, so a step adds the newest slice and subtracts the oldest)."""
        return self.layer.kernel == "avgpool" and self.k > 1

    @property
    def shifted(self) -> bool:
        """Whether the layer reads a buffer of its last ``k > 1`` input slices, oldest first,
        shifted by one slice every step (the layer before it writes the newest at the end)."""
        return self.k > 1 and not self.running

    @property
    def ring_bytes(self) -> int:
        """Bytes of the layer's state: its buffer of past input slices (0 when ``k`` is 1);
        for a running pool also the head and the int32 sums (4-byte aligned, as
        ``kws_avgpool_running_get_state_size``)."""
        if self.running:
            return align(4 + 4 * self.in_slice + self.k * self.in_slice, 4)
        return self.k * self.in_slice if self.k > 1 else 0


@dataclasses.dataclass
class StreamPlan:
    """How a streamable model runs one frame at a time.

    Attributes
    ----------
    window : int
        Frames of the window model's input (its receptive field along time).
    frame_size : int
        int8 values of one input frame.
    output_size : int
        int8 values of the output.
    layers : list of StreamLayer
        The layers in order.
    state_size : int
        Bytes of the persistent state (header and buffers), 4-aligned.
    ring_offsets : dict
        Layer position -> byte offset of its buffer in the state.
    arena_size : int
        Bytes of the per-step arena.
    arena_offsets : dict
        ``out<i>`` (output slice of layer i) or ``scratch<i>`` -> byte offset in the arena.
    """

    window: int
    frame_size: int
    output_size: int
    layers: list[StreamLayer]
    state_size: int
    ring_offsets: dict[int, int]
    arena_size: int
    arena_offsets: dict[str, int]

    @property
    def macs(self) -> int:
        """Multiply-accumulates per step."""
        return sum(sl.layer.macs for sl in self.layers)

    @property
    def ring_bytes(self) -> int:
        """Bytes of all the per-layer buffers of past slices."""
        return sum(sl.ring_bytes for sl in self.layers)


def _time_len(m: TfliteModel, t: int) -> int | None:
    """Time slices of tensor ``t``: its H axis when it is [1, T, W, C], else None."""
    shape = m.tensors[t].shape
    return int(shape[1]) if len(shape) == 4 and shape[0] == 1 else None


def _where(m: TfliteModel, layer: Layer) -> str:
    return f"{m.path}: operator {layer.index} {layer.op}"


def _conv_step(m: TfliteModel, layer: Layer, t_in: int) -> tuple[Layer, int, int]:
    """(step layer, k, t_out) of a conv2d / pointwise / depthwise / avgpool / maxpool layer."""
    p = layer.params
    if p["in_h"] != t_in:
        raise NotStreamable(f"{_where(m, layer)}: input has {p['in_h']} time slices, "
                            f"expected {t_in}")
    k, t_out = p["k_h"], p["out_h"]
    whole = t_out == 1 and k == t_in and p["pad_top"] == 0  # one output over all slices
    if not whole and (p["pad_top"] != 0 or (p["stride_h"] == 1 and t_out != t_in - k + 1)):
        raise NotStreamable(
            f"{_where(m, layer)}: pads the time axis (kernel {k} over {t_in} slices gives "
            f"{t_out}, 'valid' gives {t_in - k + 1}); streaming needs 'valid' padding along "
            f"time, so that no output reads frames after the newest")
    if not whole and p["stride_h"] != 1:
        raise NotStreamable(
            f"{_where(m, layer)}: stride {p['stride_h']} along time; streaming needs stride 1 "
            f"along time (one new output slice per frame)")
    step = copy.deepcopy(layer)
    q = step.params
    q["in_h"], q["out_h"], q["pad_top"], q["stride_h"] = k, 1, 0, 1
    pool = layer.kernel in ("avgpool", "maxpool")
    if pool:
        step.macs = q["out_w"] * q["out_c"] * k * q["k_w"]
    else:
        per = 1 if layer.kernel == "depthwise" else q["in_c"]
        step.macs = q["out_w"] * q["out_c"] * k * q["k_w"] * per
    if not pool:
        step.scratch = scratch_bytes(layer.kernel, q)
        if "in_c4" in q:  # prepared pointwise: two pixels of in_c4 int16
            step.scratch = 4 * q["in_c4"]
        if _as_fc(step) is not None:
            step.scratch = 0  # runs as fully-connected calls, which need none
    return step, k, t_out


def analyse(m: TfliteModel, layers: list[Layer]) -> list[StreamLayer]:
    """Check that the lowered model is streamable and give each layer's step form.

    Parameters
    ----------
    m : TfliteModel
        The parsed window model.
    layers : list of Layer
        Its lowered layers (:func:`kws.export.lowering.lower`).

    Returns
    -------
    list of StreamLayer

    Raises
    ------
    NotStreamable
        With the first reason the model cannot run one frame at a time.
    """
    x = m.tensors[m.inputs[0]]
    t = _time_len(m, m.inputs[0])
    if t is None:
        raise NotStreamable(f"{m.path}: input shape {x.shape} is not [1, frames, coefficients, "
                            f"channels]; streaming runs along the frames axis")
    if not layers:
        raise NotStreamable(f"{m.path}: no operators")
    times = {m.inputs[0]: t}
    out: list[StreamLayer] = []
    prev = m.inputs[0]
    for layer in layers:
        if layer.input != prev:
            raise NotStreamable(f"{_where(m, layer)}: reads tensor {layer.input}, not the "
                                f"previous operator's output; streaming needs a chain")
        t_in = times[layer.input]
        x_size = m.tensors[layer.input].size
        y_size = m.tensors[layer.output].size
        in_slice = x_size // t_in
        if layer.kernel in ("conv2d", "pointwise", "depthwise", "avgpool", "maxpool"):
            step, k, t_out = _conv_step(m, layer, t_in)
        elif layer.kernel == "fc":
            step, k, t_out = copy.deepcopy(layer), t_in, 1  # a dense layer reads every slice
        elif layer.kernel in ("softmax", "reshape"):
            t_y = _time_len(m, layer.output)
            if t_in == 1:
                t_out = 1
            elif t_y == t_in or (layer.kernel == "reshape" and y_size == x_size and t_y is None):
                t_out = t_in  # per slice (a flattening reshape keeps the slices in order)
            else:
                raise NotStreamable(f"{_where(m, layer)}: mixes {t_in} time slices")
            if layer.kernel == "softmax" and t_y != t_in and t_in > 1:
                raise NotStreamable(f"{_where(m, layer)}: softmax over {t_in} time slices")
            step, k = copy.deepcopy(layer), 1
            if layer.kernel == "softmax":
                step.params["rows"] = layer.params["rows"] // t_in
        else:
            raise NotStreamable(f"{_where(m, layer)}: kernel {layer.kernel} has no step form")
        if y_size % t_out:
            raise NotStreamable(f"{_where(m, layer)}: output of {y_size} values is not "
                                f"{t_out} time slices")
        times[layer.output] = t_out
        out.append(StreamLayer(step, k, in_slice, y_size // t_out, t_in, t_out))
        prev = layer.output
    if prev != m.outputs[0]:
        raise NotStreamable(f"{m.path}: the last operator does not write the model output")
    if times[prev] != 1:
        raise NotStreamable(f"{m.path}: the output has {times[prev]} time slices; a streamable "
                            f"model ends with one (a pool or dense layer over the remaining "
                            f"time slices)")
    return out


def plan_stream(m: TfliteModel, layers: list[Layer]) -> StreamPlan:
    """:func:`analyse`, then place the buffers of past slices in the state and the per-step
    outputs and scratch in the arena (offline planner)."""
    sls = analyse(m, layers)
    ring_offsets: dict[int, int] = {}
    offset = STATE_HEADER_BYTES
    for i, sl in enumerate(sls):
        if sl.k > 1:
            ring_offsets[i] = offset
            offset = align(offset + sl.ring_bytes, 4)
    buffers: list[Buffer] = []
    last = len(sls) - 1
    for i, sl in enumerate(sls):
        # the output slice lives in the arena unless it is the model output or goes straight
        # into the next layer's shifted buffer of past slices
        if i < last and not sls[i + 1].shifted:
            buffers.append(Buffer(f"out{i}", sl.out_slice, i, i + 1))
        if sl.layer.scratch:
            buffers.append(Buffer(f"scratch{i}", sl.layer.scratch, i, i))
    size = plan(buffers)
    check_plan(buffers)
    x = m.tensors[m.inputs[0]]
    return StreamPlan(window=int(x.shape[1]), frame_size=x.size // int(x.shape[1]),
                      output_size=m.tensors[m.outputs[0]].size, layers=sls,
                      state_size=align(offset, 4), ring_offsets=ring_offsets,
                      arena_size=size, arena_offsets={b.name: b.offset for b in buffers})


#: Pointwise layers of at most this many pixels per step run as one fully-connected call per
#: pixel: the pointwise kernel widens every filter row once per call, which only pays over
#: many pixels, while the fully-connected kernel widens the input (same arithmetic).
FC_MAX_PIXELS = 8


def _as_fc(layer: Layer) -> tuple[Layer, int] | None:
    """The step layer as a fully-connected layer applied to each of ``pixels`` pixels, when its
    arithmetic is that of one: a pointwise layer with int8 weights on few pixels, or a conv2d
    whose one output reads its whole (unpadded) input. (fc layer, pixels) or None."""
    p = layer.params
    pixels = p.get("out_h", 0) * p.get("out_w", 0)
    if layer.kernel == "pointwise" and "filter" in layer.arrays and pixels <= FC_MAX_PIXELS:
        num_in, n = p["in_c"], pixels
    elif (layer.kernel == "conv2d" and pixels == 1 and p["pad_left"] == 0
          and p["pad_top"] == 0 and p["k_w"] == p["in_w"] and p["k_h"] == p["in_h"]):
        num_in, n = p["k_h"] * p["k_w"] * p["in_c"], 1
    else:
        return None
    fc = copy.copy(layer)
    fc.kernel = "fc"
    fc.params = dict(p, num_in=num_in, num_out=p["out_c"])
    return fc, n


def _step_call(i: int, sl: StreamLayer, src: str, src_len: int, dst: str, dst_len: int,
               scratch: str) -> tuple[str, str]:
    """(declarations, C statements setting ``st``) of layer ``i``'s kernel on one step.

    The window model's emitter (:func:`kws.export.emit_calls.emit_layer`) with the step's
    buffers, so the call uses the window model's constant arrays and quantization structs
    (``l<i>_*``) from the same source, and a step shape ``s<i>_shape`` instead of
    ``l<i>_shape``; few-pixel pointwise and whole-input conv2d layers run as fully-connected
    calls (:func:`_as_fc`)."""
    layer = sl.layer
    fc = _as_fc(layer)
    if fc is not None:
        fl, pixels = fc
        n_in, n_out = fl.params["num_in"], fl.params["num_out"]
        if pixels == 1:
            tensors = {layer.input: (src, src_len), layer.output: (dst, dst_len)}
        else:
            tensors = {layer.input: (f"{src} + {n_in} * p", n_in),
                       layer.output: (f"{dst} + {n_out} * p", n_out)}
        refs = LayerRefs(tensor=lambda t: tensors[t], scratch=lambda _l: "NULL, 0")
        _, call = emit_layer(fl, f"l{i}", refs)
        if pixels == 1:
            return "", f"st = {call};"
        return "", (f"st = KWS_OK;\n    for (p = 0; p < {pixels} && st == KWS_OK; ++p) {{\n"
                    f"        st = {call};\n    }}")
    tensors = {layer.input: (src, src_len), layer.output: (dst, dst_len)}
    refs = LayerRefs(tensor=lambda t: tensors[t], scratch=lambda _l: scratch)
    _, call = emit_layer(layer, f"l{i}", refs)
    if f"&l{i}_shape" not in call:
        return "", f"st = {call};"
    return shape_decl(layer, f"s{i}"), f"st = {call.replace(f'&l{i}_shape', f'&s{i}_shape')};"


def _running_pool_call(i: int, sl: StreamLayer, src: str, src_len: int, dst: str,
                       state: str) -> tuple[str, str]:
    """(declarations, C statement) of a running average pool (:attr:`StreamLayer.running`):
    the newest slice in, its state (head, sums, ring) at ``state`` in the model's state."""
    p = sl.layer.params
    return shape_decl(sl.layer, f"s{i}"), (
        f"st = kws_avgpool_running_s8({state}, {sl.ring_bytes}, &s{i}_shape, {p['act_min']}, "
        f"{p['act_max']}, {src}, {src_len}, {dst}, {sl.out_slice});")


#: The step API, documented at the top of the generated header's streaming section.
STEP_API_DOC = """/* Streaming (one feature frame per hop), generated by `kws export` because every
 * layer of this model is 'valid' with stride 1 along time (kws/export/streaming.py proves it):
 *
 *   static uint32_t state[KWS_MODEL_STREAM_STATE_BYTES / 4];   persistent between steps
 *   static uint32_t arena[KWS_MODEL_STREAM_ARENA_BYTES / 4];   free between steps (may be shared)
 *   kws_model_stream_reset(state, sizeof state);
 *   for each new frame (KWS_MODEL_STREAM_FRAME_SIZE int8 features, e.g. one front-end hop):
 *       int ready;
 *       kws_model_step(state, sizeof state, frame, KWS_MODEL_STREAM_FRAME_SIZE,
 *                      out, KWS_MODEL_OUTPUT_SIZE, arena, sizeof arena, &ready);
 *
 * Each step computes the newest time slice of every layer from per-layer buffers of the last
 * k input slices (k = the layer's kernel length in time), kept in the state. Once
 * KWS_MODEL_STREAM_WINDOW frames have been fed since the last reset (ready == 1), `out` equals
 * kws_model_invoke on the last KWS_MODEL_STREAM_WINDOW frames, bit for bit (int8, the whole
 * output vector). Before that (ready == 0) `out` is computed over zero-filled buffers and is not
 * a window model output. Dropped or skipped hops: call kws_model_stream_reset; the buffers
 * refill and `out` is valid again after KWS_MODEL_STREAM_WINDOW frames. State and arena:
 * 4-byte aligned, owned by the caller; one state per stream. */
"""


def generate_step_c(sp: StreamPlan) -> tuple[str, str]:
    """The streaming section of ``kws_model.h`` and of ``kws_model.c`` (appended to the window
    model's source, whose constant arrays and quantization structs it uses).

    Returns
    -------
    (header, source) : (str, str)
    """
    h = STEP_API_DOC + f"""#define KWS_MODEL_STREAM 1
/* Frames of the window model (its receptive field along time). */
#define KWS_MODEL_STREAM_WINDOW {sp.window}
/* int8 values of one frame: one time slice of the window model's input. */
#define KWS_MODEL_STREAM_FRAME_SIZE {sp.frame_size}
/* Bytes of the persistent state: a frame counter and the buffers of past slices
 * ({sp.ring_bytes} B). */
#define KWS_MODEL_STREAM_STATE_BYTES {sp.state_size}
/* Bytes of the per-step arena (one output slice per layer and kernel scratch). */
#define KWS_MODEL_STREAM_ARENA_BYTES {sp.arena_size}
/* Multiply-accumulates per step. */
#define KWS_MODEL_STREAM_MACS {sp.macs}

/* Zero the state: KWS_ERR_NULL, KWS_ERR_SHORT_BUFFER (state_len < STATE_BYTES) or KWS_OK. */
kws_status_t kws_model_stream_reset(void *state, size_t state_len);

/* Feed one frame, get the output for the window ending at it. ready (may be NULL): 1 when at
 * least KWS_MODEL_STREAM_WINDOW frames have been fed since the reset, else 0. Returns KWS_OK,
 * KWS_ERR_NULL, KWS_ERR_SHORT_BUFFER or the first kernel's error. */
kws_status_t kws_model_step(void *state, size_t state_len, const int8_t *frame,
                            size_t frame_len, int8_t *output, size_t output_len,
                            void *arena, size_t arena_len, int *ready);
"""
    parts = ["\n/* ---- streaming step function (see kws_model.h) ---- */\n#include <string.h>\n\n"]
    body = []
    last = len(sp.layers) - 1

    def ring(i: int) -> str:
        return f"(r + {sp.ring_offsets[i]})"

    def shift(i: int) -> str:
        sl = sp.layers[i]
        return (f"    memmove({ring(i)}, {ring(i)} + {sl.in_slice}, "
                f"{(sl.k - 1) * sl.in_slice});\n")

    first = sp.layers[0]
    if first.shifted:
        body.append(shift(0))
        body.append(f"    memcpy({ring(0)} + {(first.k - 1) * first.in_slice}, frame, "
                    f"{first.in_slice});\n")
    for i, sl in enumerate(sp.layers):
        if sl.shifted:
            src, src_len = ring(i), sl.k * sl.in_slice
        elif i == 0:
            src, src_len = "frame", sl.in_slice
        else:
            src, src_len = f"(a + {sp.arena_offsets[f'out{i - 1}']})", sl.in_slice
        if i == last:
            dst = "output"
        elif sp.layers[i + 1].shifted:
            body.append(shift(i + 1))
            nxt = sp.layers[i + 1]
            dst = f"{ring(i + 1)} + {(nxt.k - 1) * nxt.in_slice}"
        else:
            dst = f"(a + {sp.arena_offsets[f'out{i}']})"
        scratch = (f"(a + {sp.arena_offsets[f'scratch{i}']}), {sl.layer.scratch}"
                   if sl.layer.scratch else "NULL, 0")
        if sl.running:
            decl, call = _running_pool_call(i, sl, src, src_len, dst, ring(i))
        else:
            decl, call = _step_call(i, sl, src, src_len, dst, sl.out_slice, scratch)
        parts.append(decl)
        body.append(f"    KWS_LAYER_BEGIN({i});\n    {call}\n    KWS_LAYER_END({i});\n"
                    f"    if (st != KWS_OK) {{\n        return st;\n    }}\n")
    arena_null = " || arena == NULL" if sp.arena_size else ""
    arena_short = (" ||\n        arena_len < KWS_MODEL_STREAM_ARENA_BYTES" if sp.arena_size
                   else "")
    parts.append(f"""
kws_status_t kws_model_stream_reset(void *state, size_t state_len)
{{
    if (state == NULL) {{
        return KWS_ERR_NULL;
    }}
    if (state_len < KWS_MODEL_STREAM_STATE_BYTES) {{
        return KWS_ERR_SHORT_BUFFER;
    }}
    memset(state, 0, KWS_MODEL_STREAM_STATE_BYTES);
    return KWS_OK;
}}

kws_status_t kws_model_step(void *state, size_t state_len, const int8_t *frame,
                            size_t frame_len, int8_t *output, size_t output_len,
                            void *arena, size_t arena_len, int *ready)
{{
    int8_t *r = (int8_t *)state;
    int8_t *a = (int8_t *)arena;
    uint32_t fed;
    kws_status_t st;
    int32_t p;
    if (state == NULL || frame == NULL || output == NULL{arena_null}) {{
        return KWS_ERR_NULL;
    }}
    if (state_len < KWS_MODEL_STREAM_STATE_BYTES || frame_len < KWS_MODEL_STREAM_FRAME_SIZE ||
        output_len < KWS_MODEL_OUTPUT_SIZE{arena_short}) {{
        return KWS_ERR_SHORT_BUFFER;
    }}
    (void)a;
    (void)arena_len;
    (void)p;
    memcpy(&fed, r, sizeof fed); /* frames since the reset, saturating at the window */
    if (fed < KWS_MODEL_STREAM_WINDOW) {{
        ++fed;
        memcpy(r, &fed, sizeof fed);
    }}
    if (ready != NULL) {{
        *ready = fed >= KWS_MODEL_STREAM_WINDOW;
    }}
{"".join(body)}    return KWS_OK;
}}
""")
    return h, "".join(parts)
