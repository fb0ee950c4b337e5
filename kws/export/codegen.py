"""Lower a parsed int8 .tflite model to kernel calls and generate interpreter-free C.

:func:`lower` turns each operator into a :class:`Layer` (kernel, shapes, constant arrays,
requantization parameters), :func:`plan_arena` places the intermediate tensors with the
offline planner, and :func:`generate_c` writes ``kws_model.h`` / ``kws_model.c``:
const weights, biases, multipliers and shifts, and one ``kws_model_invoke`` that calls the
kernels of ``firmware/runtime`` in order, with every tensor at its planned arena offset.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

from kws.errors import KwsError
from kws.export import quant
from kws.export.planner import Buffer, check_plan, plan
from kws.export.tflite_model import Tensor, TfliteModel


@dataclasses.dataclass
class Layer:
    """One kernel call."""

    index: int
    op: str                       # the .tflite operator
    kernel: str                   # conv2d, pointwise, depthwise, avgpool, fc, softmax, reshape
    input: int                    # tensor index
    output: int
    params: dict[str, Any]        # scalar parameters of the C call
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    macs: int = 0
    scratch: int = 0              # scratch bytes of the DSP path (conv2d, pointwise, depthwise)


@dataclasses.dataclass
class ArenaPlan:
    """Where each intermediate tensor (and scratch buffer) lives in the arena."""

    size: int
    offsets: dict[str, int]       # "t<index>" or "scratch<layer>" -> byte offset
    buffers: list[Buffer]


def _act_tensor(m: TfliteModel, idx: int, what: str) -> Tensor:
    t = m.tensors[idx]
    if t.dtype != "INT8":
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} is {t.dtype}; only int8 "
                       f"activations are supported (quantize the model fully to int8)")
    if t.scale.size != 1:
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} needs one scale, has {t.scale.size}")
    if t.data is not None:
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} is constant; not supported")
    return t


def _weights(m: TfliteModel, idx: int, channels: int, dim: int, what: str) -> Tensor:
    t = m.tensors[idx]
    if t.data is None:
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} must be constant")
    if t.dtype != "INT8":
        raise KwsError(f"{m.path}: {what} tensor {t.name!r} is {t.dtype}; only int8 weights "
                       f"are supported")
    if t.scale.size not in (1, channels) or (t.scale.size > 1 and t.quantized_dim != dim):
        raise KwsError(f"{m.path}: {what} tensor {t.name!r}: quantization must be per tensor "
                       f"or per output channel (dimension {dim})")
    if np.any(t.zero_point != 0):
        raise KwsError(f"{m.path}: {what} tensor {t.name!r}: asymmetric int8 weights "
                       f"(zero point != 0) are not supported")
    return t


def _bias(m: TfliteModel, op_inputs: list[int], channels: int) -> np.ndarray | None:
    if len(op_inputs) < 3 or op_inputs[2] < 0:
        return None
    t = m.tensors[op_inputs[2]]
    if t.data is None or t.dtype != "INT32" or t.size != channels:
        raise KwsError(f"{m.path}: bias tensor {t.name!r} must be constant int32 with "
                       f"{channels} values (is {t.dtype})")
    return t.data.reshape(-1).astype(np.int32)


def _padding(padding: str, stride: int, in_size: int, k: int, out_size: int,
              path: str) -> int:
    if padding == "SAME":
        expect = (in_size + stride - 1) // stride
    else:
        expect = (in_size + stride - k) // stride
    if expect != out_size:
        raise KwsError(f"{path}: output size {out_size} does not match {padding} padding "
                       f"(expected {expect})")
    return max(0, (out_size - 1) * stride + k - in_size) // 2


def _hw(t: Tensor, path: str) -> tuple[int, int, int]:
    if len(t.shape) != 4 or t.shape[0] != 1:
        raise KwsError(f"{path}: tensor {t.name!r} has shape {t.shape}; expected [1, H, W, C]")
    return t.shape[1], t.shape[2], t.shape[3]


def _scratch_bytes(kernel: str, p: dict[str, Any]) -> int:
    """Scratch bytes of the DSP path's kernel (mirrors the C ``*_get_buffer_size``)."""
    if kernel == "conv2d":
        # kws_conv2d_s8_get_buffer_size: two filter rows widened to int16, then a block of
        # int8 im2col columns (all pixels if they fit in 8192 bytes, else an even count >= 2)
        kk, pixels = p["k_h"] * p["k_w"] * p["in_c"], p["out_h"] * p["out_w"]
        block = pixels if kk * pixels <= 8192 else max(2, (8192 // kk) & ~1)
        return 4 * (kk // 4 * 4) + kk * block
    if kernel == "pointwise":
        # kws_pointwise_conv_s8_get_buffer_size: two filter rows widened to int16
        return 4 * (p["in_c"] // 4 * 4)
    if kernel == "depthwise":
        # kws_depthwise_conv2d_s8_get_buffer_size: one int16 plane (3x3, stride 1,
        # depth multiplier 1), rows of 6 * ceil(out_w / 6) + 2 int16, out_h + 2 rows
        if (p["depth_multiplier"], p["k_h"], p["k_w"], p["stride_h"], p["stride_w"]) != (
                1, 3, 3, 1, 1):
            return 0
        row = 6 * ((p["out_w"] + 5) // 6) + 2
        if p["in_w"] + p["pad_left"] > row or p["in_h"] + p["pad_top"] > p["out_h"] + 2:
            return 0
        return 2 * row * (p["out_h"] + 2)
    return 0


def _prepare_pointwise(p: dict[str, Any], arrays: dict[str, np.ndarray]
                       ) -> dict[str, np.ndarray] | None:
    """The ``kws_pw_prepared_t`` arrays of a pointwise layer, or None where the fast exact
    requantization is not proven: every TFLite shift in -22..-1, the activation range all of
    int8, and |bias| + 255 * sum|w| < 2^30 for every channel (so that 2 * acc fits int32 and
    SMMULR(2 acc, m) is TFLite's rounding doubling high multiply; see kws_internal.h).

    Layout (``kws_kernels.h``): channels in pairs (out_c rounded up to even, a zero padding
    channel), inputs in groups of four (in_c rounded up to a multiple of 4, zeros); per pair and
    group, channel o's int16 pairs (2 w[i], 2 w[i+2]), (2 w[i+1], 2 w[i+3]) as words (low half
    first), then channel o+1's. Bias: 2 * (bias + input_offset * sum(w)). rqf: per channel
    multiplier, 2^(r-1) + output_offset * 2^r, r.
    """
    oc, ic = p["out_c"], p["in_c"]
    if (p["act_min"], p["act_max"]) != (-128, 127):
        return None
    w = arrays["filter"].astype(np.int64).reshape(oc, ic)
    mult = np.broadcast_to(arrays["multiplier"].astype(np.int64), (oc,))
    shift = np.broadcast_to(arrays["shift"].astype(np.int64), (oc,))
    bias = arrays["bias"].astype(np.int64) if "bias" in arrays else np.zeros(oc, np.int64)
    if np.any(shift < -22) or np.any(shift > -1):
        return None
    if np.any(np.abs(bias) + 255 * np.abs(w).sum(axis=1) >= 2**30):
        return None
    oc2, ic4 = (oc + 1) // 2 * 2, (ic + 3) // 4 * 4
    w2 = np.zeros((oc2, ic4), np.int64)
    w2[:oc, :ic] = 2 * w
    g = w2.reshape(oc2 // 2, 2, ic4 // 4, 4)                 # pair, channel, group, input
    lo = np.stack([g[..., 0], g[..., 1]], axis=-1)           # words (w0, w2), (w1, w3)
    hi = np.stack([g[..., 2], g[..., 3]], axis=-1)
    words = (lo & 0xFFFF) | ((hi & 0xFFFF) << 16)            # pair, channel, group, word
    words = words.transpose(0, 2, 1, 3).reshape(-1)          # pair, group, channel, word
    bias2 = np.zeros(oc2, np.int64)
    bias2[:oc] = 2 * (bias + p["input_offset"] * w.sum(axis=1))
    r = -shift
    k = (1 << (r - 1)) + p["output_offset"] * (1 << r)
    rqf = np.stack([mult, k, r], axis=1)
    rqf = np.concatenate([rqf, rqf[-1:]]) if oc2 > oc else rqf
    return {"pw_filter": words.astype(np.uint32), "pw_bias": bias2.astype(np.int32),
            "pw_rqf": rqf.reshape(-1).astype(np.int32),
            "multiplier": arrays["multiplier"], "shift": arrays["shift"]}


def lower(m: TfliteModel, *, prepare: bool = False) -> list[Layer]:
    """Turn every operator of ``m`` into a :class:`Layer`; :class:`KwsError` if unsupported.

    ``prepare``: store pointwise weights prepared for the DSP path where it is proven exact
    (:func:`_prepare_pointwise`); False keeps the int8 weights of every layer.
    """
    if len(m.inputs) != 1 or len(m.outputs) != 1:
        raise KwsError(f"{m.path}: the model needs exactly one input and one output")
    layers = []
    for op in m.ops:
        x = _act_tensor(m, op.inputs[0], f"{op.kind} input")
        y = _act_tensor(m, op.outputs[0], f"{op.kind} output")
        o = op.options
        base = {"input_offset": -int(x.zero_point[0]), "output_offset": int(y.zero_point[0])}
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            if tuple(o["dilation"]) != (1, 1):
                raise KwsError(f"{m.path}: operator {op.index} {op.kind}: dilation "
                               f"{o['dilation']} is not supported")
            ih, iw, ic = _hw(x, m.path)
            oh, ow, oc = _hw(y, m.path)
            dw = op.kind == "DEPTHWISE_CONV_2D"
            w = _weights(m, op.inputs[1], oc, 3 if dw else 0, f"{op.kind} filter")
            kh, kw = (w.shape[1], w.shape[2])
            if (dw and (w.shape[0] != 1 or w.shape[3] != oc)) or (
                    not dw and (w.shape[0] != oc or w.shape[3] != ic)):
                raise KwsError(f"{m.path}: operator {op.index}: filter shape {w.shape} does "
                               f"not match input {x.shape} / output {y.shape}")
            sh, sw = o["stride"]
            mult, shift = quant.conv_multipliers(float(x.scale[0]), w.scale, float(y.scale[0]))
            lo, hi = quant.activation_range(o["act"], float(y.scale[0]), int(y.zero_point[0]))
            params = dict(base, act_min=lo, act_max=hi, in_h=ih, in_w=iw, in_c=ic, out_h=oh,
                          out_w=ow, out_c=oc, k_h=kh, k_w=kw, stride_h=sh, stride_w=sw,
                          pad_top=_padding(o["padding"], sh, ih, kh, oh, m.path),
                          pad_left=_padding(o["padding"], sw, iw, kw, ow, m.path),
                          depth_multiplier=(oc // ic) if dw else 1)
            if dw and oc != ic * params["depth_multiplier"]:
                raise KwsError(f"{m.path}: operator {op.index}: {oc} output channels is not a "
                               f"multiple of {ic} input channels")
            bias = _bias(m, op.inputs, oc)
            arrays = {"filter": w.data.reshape(-1).astype(np.int8),
                      "multiplier": mult.astype(np.int32), "shift": shift.astype(np.int32)}
            if bias is not None:
                arrays["bias"] = bias
            kernel = "depthwise" if dw else (
                "pointwise" if (kh, kw, sh, sw) == (1, 1, 1, 1) else "conv2d")
            macs = oh * ow * oc * kh * kw * (1 if dw else ic)
            scratch = _scratch_bytes(kernel, params)
            prepared = (_prepare_pointwise(params, arrays)
                        if prepare and kernel == "pointwise" else None)
            if prepared is not None:
                # kws_pointwise_conv_s8_prepared_get_buffer_size: two pixels of in_c4 int16
                arrays, params["in_c4"] = prepared, (ic + 3) // 4 * 4
                scratch = 4 * params["in_c4"]
            layers.append(Layer(op.index, op.kind, kernel, x.index, y.index, params, arrays,
                                macs, scratch))
        elif op.kind == "AVERAGE_POOL_2D":
            ih, iw, ic = _hw(x, m.path)
            oh, ow, oc = _hw(y, m.path)
            if float(x.scale[0]) != float(y.scale[0]) or x.zero_point[0] != y.zero_point[0]:
                raise KwsError(f"{m.path}: operator {op.index} AVERAGE_POOL_2D: input and "
                               f"output quantization differ")
            kh, kw = o["filter"]
            sh, sw = o["stride"]
            lo, hi = quant.activation_range(o["act"], float(y.scale[0]), int(y.zero_point[0]))
            params = dict(act_min=lo, act_max=hi, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow,
                          out_c=oc, k_h=kh, k_w=kw, stride_h=sh, stride_w=sw,
                          pad_top=_padding(o["padding"], sh, ih, kh, oh, m.path),
                          pad_left=_padding(o["padding"], sw, iw, kw, ow, m.path),
                          depth_multiplier=1)
            layers.append(Layer(op.index, op.kind, "avgpool", x.index, y.index, params,
                                macs=oh * ow * oc * kh * kw))
        elif op.kind == "FULLY_CONNECTED":
            w = m.tensors[op.inputs[1]]
            if len(w.shape) != 2:
                raise KwsError(f"{m.path}: operator {op.index} FULLY_CONNECTED: filter shape "
                               f"{w.shape} is not 2-D")
            n_out, n_in = w.shape
            w = _weights(m, op.inputs[1], n_out, 0, "FULLY_CONNECTED filter")
            if x.size != n_in or y.size != n_out:
                raise KwsError(f"{m.path}: operator {op.index} FULLY_CONNECTED: batch > 1 or "
                               f"shape mismatch (input {x.shape}, filter {w.shape})")
            if w.scale.size == 1:
                mm, ss = quant.fc_multiplier(float(x.scale[0]), float(w.scale[0]),
                                             float(y.scale[0]))
                mult, shift = np.array([mm]), np.array([ss])
            else:
                mult, shift = quant.conv_multipliers(float(x.scale[0]), w.scale,
                                                     float(y.scale[0]))
            lo, hi = quant.activation_range(o["act"], float(y.scale[0]), int(y.zero_point[0]))
            arrays = {"filter": w.data.reshape(-1).astype(np.int8),
                      "multiplier": mult.astype(np.int32), "shift": shift.astype(np.int32)}
            bias = _bias(m, op.inputs, n_out)
            if bias is not None:
                arrays["bias"] = bias
            layers.append(Layer(op.index, op.kind, "fc", x.index, y.index,
                                dict(base, act_min=lo, act_max=hi, num_in=n_in, num_out=n_out),
                                arrays, macs=n_in * n_out))
        elif op.kind == "SOFTMAX":
            if int(y.zero_point[0]) != -128 or float(y.scale[0]) != np.float32(1 / 256):
                raise KwsError(f"{m.path}: operator {op.index} SOFTMAX: output must have scale "
                               f"1/256 and zero point -128")
            depth = x.shape[-1] if x.shape else 1
            mult, shift, diff_min = quant.softmax_params(o["beta"], float(x.scale[0]))
            layers.append(Layer(op.index, op.kind, "softmax", x.index, y.index,
                                dict(rows=x.size // depth, depth=depth, input_multiplier=mult,
                                     input_left_shift=shift, diff_min=diff_min)))
        elif op.kind == "RESHAPE":
            if x.size != y.size:
                raise KwsError(f"{m.path}: operator {op.index} RESHAPE changes the size")
            layers.append(Layer(op.index, op.kind, "reshape", x.index, y.index, {}))
    return layers


def plan_arena(m: TfliteModel, layers: list[Layer]) -> ArenaPlan:
    """Place every intermediate tensor and scratch buffer (not the model input and output)."""
    io = {m.inputs[0], m.outputs[0]}
    group: dict[int, int] = {}      # tensor -> representative tensor (in-place aliases)
    last_use: dict[int, int] = {}
    for i, layer in enumerate(layers):
        last_use[layer.input] = i
    for i, layer in enumerate(layers):
        in_place = layer.kernel in ("reshape", "softmax")
        if (in_place and layer.input not in io and layer.output not in io
                and last_use.get(layer.input) == i):
            group[layer.output] = group.get(layer.input, layer.input)
    spans: dict[int, list[int]] = {}
    for i, layer in enumerate(layers):
        for t in (layer.input, layer.output):
            if t in io:
                continue
            r = group.get(t, t)
            span = spans.setdefault(r, [i, i])
            span[0], span[1] = min(span[0], i), max(span[1], i)
    buffers = [Buffer(f"t{r}", m.tensors[r].size, a, b) for r, (a, b) in spans.items()]
    buffers += [Buffer(f"scratch{l.index}", l.scratch, i, i)
                for i, l in enumerate(layers) if l.scratch]
    size = plan(buffers)
    check_plan(buffers)
    offsets = {b.name: b.offset for b in buffers}
    for t, r in group.items():
        offsets[f"t{t}"] = offsets[f"t{r}"]
    return ArenaPlan(size, offsets, buffers)


def _c_array(ctype: str, name: str, values: np.ndarray, per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(values).reshape(-1)]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(vals)}] = {{\n    {body}\n}};\n"


def _c_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate_c(m: TfliteModel, layers: list[Layer], arena: ArenaPlan, *, labels: list[str],
               settings_hash: int, source_name: str, model_sha256: str) -> tuple[str, str]:
    """Return the text of ``kws_model.h`` and ``kws_model.c``."""
    x, y = m.tensors[m.inputs[0]], m.tensors[m.outputs[0]]
    macs = sum(l.macs for l in layers)

    def shape(t: Tensor) -> str:
        return "{" + ", ".join(str(d) for d in t.shape) + "}"

    h = f"""/* Generated by `kws export` from {source_name} (sha256 {model_sha256[:16]}).
 * Do not edit. */
#ifndef KWS_MODEL_H
#define KWS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kws_kernels.h"

#define KWS_MODEL_INPUT_RANK {len(x.shape)}
#define KWS_MODEL_INPUT_SHAPE {shape(x)}
#define KWS_MODEL_INPUT_SIZE {x.size}
#define KWS_MODEL_INPUT_SCALE {float(x.scale[0])!r}f
#define KWS_MODEL_INPUT_ZERO_POINT {int(x.zero_point[0])}
#define KWS_MODEL_OUTPUT_RANK {len(y.shape)}
#define KWS_MODEL_OUTPUT_SHAPE {shape(y)}
#define KWS_MODEL_OUTPUT_SIZE {y.size}
#define KWS_MODEL_OUTPUT_SCALE {float(y.scale[0])!r}f
#define KWS_MODEL_OUTPUT_ZERO_POINT {int(y.zero_point[0])}
#define KWS_MODEL_NUM_LABELS {len(labels)}
#define KWS_MODEL_LABELS {{{", ".join(_c_string(s) for s in labels)}}}
/* FrontendSettings.hash() of the features the model was trained on. */
#define KWS_MODEL_FRONTEND_SETTINGS_HASH 0x{settings_hash:08x}u
/* Bytes of the arena kws_model_invoke needs (intermediate tensors and scratch, 4-aligned). */
#define KWS_MODEL_ARENA_BYTES {arena.size}
#define KWS_MODEL_NUM_LAYERS {len(layers)}
#define KWS_MODEL_MACS {macs}

/* Include the front end's generated kws_frontend_config.h before this header to check, at
 * compile time, that the model was trained on the features the device computes. */
#ifdef KWS_FRONTEND_SETTINGS_HASH
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(KWS_MODEL_FRONTEND_SETTINGS_HASH == KWS_FRONTEND_SETTINGS_HASH,
               "model trained with different front-end settings");
#elif KWS_MODEL_FRONTEND_SETTINGS_HASH != KWS_FRONTEND_SETTINGS_HASH
#error "model trained with different front-end settings"
#endif
#endif

#ifdef __cplusplus
extern "C" {{
#endif

/* Run the model once. input: KWS_MODEL_INPUT_SIZE int8 values (NHWC); output:
 * KWS_MODEL_OUTPUT_SIZE int8 values; arena: KWS_MODEL_ARENA_BYTES bytes, 4-byte aligned,
 * owned by the caller (e.g. a static array). Returns KWS_OK or the first kernel's error. */
kws_status_t kws_model_invoke(const int8_t *input, size_t input_len,
                              int8_t *output, size_t output_len,
                              void *arena, size_t arena_len);

#ifdef __cplusplus
}}
#endif

#endif /* KWS_MODEL_H */
"""
    parts = [f"/* Generated by `kws export` from {source_name}. Do not edit. */\n"
             '#include "kws_model.h"\n\n'
             "/* Per-layer hooks, e.g. for instruction counting; empty by default. */\n"
             "#ifdef KWS_MODEL_HOOKS\n#include \"kws_model_hooks.h\"\n#endif\n"
             "#ifndef KWS_LAYER_BEGIN\n#define KWS_LAYER_BEGIN(i)\n#endif\n"
             "#ifndef KWS_LAYER_END\n#define KWS_LAYER_END(i)\n#endif\n\n"]
    calls = []

    def buf(t: int) -> tuple[str, int]:
        if t == m.inputs[0]:
            return "input", m.tensors[t].size
        if t == m.outputs[0]:
            return "output", m.tensors[t].size
        return f"(a + {arena.offsets[f't{t}']})", m.tensors[t].size

    for i, l in enumerate(layers):
        p, n = l.params, f"l{i}"
        parts.append(f"/* layer {i}: {l.op} -> {l.kernel}, {l.macs} MACs */\n")
        for key, ctype in (("filter", "int8_t"), ("bias", "int32_t"), ("multiplier", "int32_t"),
                           ("shift", "int32_t"), ("pw_filter", "uint32_t"),
                           ("pw_bias", "int32_t"), ("pw_rqf", "int32_t")):
            if key in l.arrays:
                parts.append(_c_array(ctype, f"{n}_{key}", l.arrays[key]))
        src, src_len = buf(l.input)
        dst, dst_len = buf(l.output)
        if l.kernel in ("conv2d", "pointwise", "depthwise", "avgpool"):
            parts.append(
                f"static const kws_conv_shape_t {n}_shape = {{{p['in_h']}, {p['in_w']}, "
                f"{p['in_c']}, {p['out_h']}, {p['out_w']}, {p['out_c']}, {p['k_h']}, {p['k_w']}, "
                f"{p['stride_h']}, {p['stride_w']}, {p['pad_top']}, {p['pad_left']}, "
                f"{p['depth_multiplier']}}};\n")
        if l.kernel in ("conv2d", "pointwise", "depthwise", "fc"):
            parts.append(f"static const kws_act_t {n}_act = {{{p['input_offset']}, "
                         f"{p['output_offset']}, {p['act_min']}, {p['act_max']}}};\n")
            parts.append(f"static const kws_requant_t {n}_rq = {{{n}_multiplier, {n}_shift, "
                         f"{len(l.arrays['multiplier'])}}};\n")
            bias = (f"{n}_bias, {len(l.arrays['bias'])}" if "bias" in l.arrays else "NULL, 0")
            if "filter" in l.arrays:
                common = (f"{src}, {src_len}, {n}_filter, {len(l.arrays['filter'])}, {bias}, "
                          f"{dst}, {dst_len}")
        if l.kernel == "conv2d":
            call = (f"kws_conv2d_s8(&{n}_shape, &{n}_act, &{n}_rq, {common}, "
                    f"(a + {arena.offsets[f'scratch{l.index}']}), {l.scratch})")
        elif l.kernel == "pointwise" and "pw_filter" in l.arrays:
            parts.append(f"static const kws_pw_prepared_t {n}_prep = {{{n}_pw_filter, "
                         f"{len(l.arrays['pw_filter'])}, {n}_pw_bias, "
                         f"{len(l.arrays['pw_bias'])}, {n}_pw_rqf, {len(l.arrays['pw_rqf'])}, "
                         f"{p['in_c4']}}};\n")
            call = (f"kws_pointwise_conv_s8_prepared(&{n}_shape, &{n}_act, &{n}_rq, &{n}_prep, "
                    f"{src}, {src_len}, {dst}, {dst_len}, "
                    f"(a + {arena.offsets[f'scratch{l.index}']}), {l.scratch})")
        elif l.kernel == "pointwise":
            scr = (f"(a + {arena.offsets[f'scratch{l.index}']}), {l.scratch}" if l.scratch
                   else "NULL, 0")
            call = f"kws_pointwise_conv_s8(&{n}_shape, &{n}_act, &{n}_rq, {common}, {scr})"
        elif l.kernel == "depthwise":
            scr = (f"(a + {arena.offsets[f'scratch{l.index}']}), {l.scratch}" if l.scratch
                   else "NULL, 0")
            call = f"kws_depthwise_conv2d_s8(&{n}_shape, &{n}_act, &{n}_rq, {common}, {scr})"
        elif l.kernel == "fc":
            call = (f"kws_fully_connected_s8({p['num_in']}, {p['num_out']}, &{n}_act, &{n}_rq, "
                    f"{common})")
        elif l.kernel == "avgpool":
            call = (f"kws_avgpool_s8(&{n}_shape, {p['act_min']}, {p['act_max']}, {src}, "
                    f"{src_len}, {dst}, {dst_len})")
        elif l.kernel == "softmax":
            call = (f"kws_softmax_s8({p['rows']}, {p['depth']}, {p['input_multiplier']}, "
                    f"{p['input_left_shift']}, {p['diff_min']}, {src}, {src_len}, {dst}, "
                    f"{dst_len})")
        else:
            call = f"kws_reshape_s8({src}, {src_len}, {dst}, {dst_len})"
        parts.append("\n")
        calls.append(f"    KWS_LAYER_BEGIN({i});\n    st = {call};\n    KWS_LAYER_END({i});\n"
                     f"    if (st != KWS_OK) {{\n        return st;\n    }}\n")
    body = "".join(calls)
    arena_null = " || arena == NULL" if arena.size else ""
    arena_short = " ||\n        arena_len < KWS_MODEL_ARENA_BYTES" if arena.size else ""
    parts.append(f"""kws_status_t kws_model_invoke(const int8_t *input, size_t input_len,
                              int8_t *output, size_t output_len,
                              void *arena, size_t arena_len)
{{
    int8_t *a = (int8_t *)arena;
    kws_status_t st;
    if (input == NULL || output == NULL{arena_null}) {{
        return KWS_ERR_NULL;
    }}
    if (input_len < KWS_MODEL_INPUT_SIZE || output_len < KWS_MODEL_OUTPUT_SIZE{arena_short}) {{
        return KWS_ERR_SHORT_BUFFER;
    }}
    (void)a;
    (void)arena_len;
{body}    return KWS_OK;
}}
""")
    return h, "".join(parts)


def model_sha256(data: bytes) -> str:
    """Hex sha256 of the .tflite bytes."""
    return hashlib.sha256(data).hexdigest()
