"""CONV_2D and DEPTHWISE_CONV_2D -> conv2d, pointwise (1x1, stride 1) or depthwise kernels."""

from __future__ import annotations

from typing import Any

import numpy as np

from kws.errors import KwsError
from kws.export import quant
from kws.export.lowering.depthwise_prep import prepare_depthwise
from kws.export.lowering.layer import Layer, bias, hwc, io_tensors, padding, weights
from kws.export.lowering.pointwise_prep import prepare_pointwise
from kws.export.tflite_model import Op, TfliteModel


def scratch_bytes(kernel: str, p: dict[str, Any]) -> int:
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
        if p.get("dw_prepared"):
            return 0  # kws_depthwise_conv2d_s8_prepared needs none
        # kws_depthwise_conv2d_s8_get_buffer_size: one int16 plane (3x3, stride 1,
        # depth multiplier 1), rows of 6 * ceil(out_w / 6) + 2 int16, out_h + 2 rows; none
        # for the direct path's shapes (at most 8 output pixels, 4 or more channels)
        if (p["depth_multiplier"], p["k_h"], p["k_w"], p["stride_h"], p["stride_w"]) != (
                1, 3, 3, 1, 1):
            return 0
        if p["out_h"] * p["out_w"] <= 8 and p["out_c"] >= 4:
            return 0
        row = 6 * ((p["out_w"] + 5) // 6) + 2
        if p["in_w"] + p["pad_left"] > row or p["in_h"] + p["pad_top"] > p["out_h"] + 2:
            return 0
        return 2 * row * (p["out_h"] + 2)
    return 0


def reuse_pixels(p: dict[str, Any]) -> int:
    """Output pixels at the end of an int8 pointwise layer's output that hold its widened rows
    while ``kws_pointwise_conv_s8_reusing`` computes the others (their length from the first
    4-byte boundary of the tail; then those pixels' inputs, widened to int16, go to the input's
    first bytes, which must hold them), or 0 where they do not fit (mirrors
    ``kws_pointwise_conv_s8_reuse_pixels``)."""
    need = scratch_bytes("pointwise", p)
    pixels, oc = p["in_h"] * p["in_w"], p["out_c"]
    for t in range(1, pixels) if need else ():
        if ((pixels - t) * oc + 3) // 4 * 4 + need <= pixels * oc:
            return t if t * need // 2 <= (pixels - t) * p["in_c"] else 0
    return 0


def min_scratch_bytes(kernel: str, p: dict[str, Any]) -> int:
    """The least scratch of the DSP path's kernel: none for conv2d and the int8 pointwise
    (``kws_conv2d_s8_get_min_buffer_size``: below the im2col / widened-row path's need they run
    the scratch-free direct path), which take any length up to :func:`scratch_bytes`; the fixed
    size of the other kernels."""
    if kernel in ("conv2d", "pointwise"):
        return 0
    return scratch_bytes(kernel, p)


def _conv_params(m: TfliteModel, op: Op, dw: bool) -> tuple[dict[str, Any], Any]:
    """Shape, padding, offsets and activation range of a conv; and its filter tensor."""
    x, y = io_tensors(m, op)
    o = op.options
    if tuple(o["dilation"]) != (1, 1):
        raise KwsError(f"{m.path}: operator {op.index} {op.kind}: dilation "
                       f"{o['dilation']} is not supported")
    ih, iw, ic = hwc(x, m.path)
    oh, ow, oc = hwc(y, m.path)
    w = weights(m, op.inputs[1], oc, 3 if dw else 0, f"{op.kind} filter")
    kh, kw = (w.shape[1], w.shape[2])
    if (dw and (w.shape[0] != 1 or w.shape[3] != oc)) or (
            not dw and (w.shape[0] != oc or w.shape[3] != ic)):
        raise KwsError(f"{m.path}: operator {op.index}: filter shape {w.shape} does "
                       f"not match input {x.shape} / output {y.shape}")
    sh, sw = o["stride"]
    lo, hi = quant.activation_range(o["act"], float(y.scale[0]), int(y.zero_point[0]))
    params = dict(input_offset=-int(x.zero_point[0]), output_offset=int(y.zero_point[0]),
                  act_min=lo, act_max=hi, in_h=ih, in_w=iw, in_c=ic, out_h=oh,
                  out_w=ow, out_c=oc, k_h=kh, k_w=kw, stride_h=sh, stride_w=sw,
                  pad_top=padding(o["padding"], sh, ih, kh, oh, m.path),
                  pad_left=padding(o["padding"], sw, iw, kw, ow, m.path),
                  depth_multiplier=(oc // ic) if dw else 1)
    if dw and oc != ic * params["depth_multiplier"]:
        raise KwsError(f"{m.path}: operator {op.index}: {oc} output channels is not a "
                       f"multiple of {ic} input channels")
    return params, w


def _is_dense(p: dict[str, Any]) -> bool:
    """True if the conv's one output pixel sees the whole input, without padding."""
    return ((p["out_h"], p["out_w"]) == (1, 1) and (p["k_h"], p["k_w"]) == (p["in_h"], p["in_w"])
            and (p["pad_top"], p["pad_left"]) == (0, 0))


def lower_conv(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """CONV_2D / DEPTHWISE_CONV_2D; ``prepare``: int16 prepared pointwise weights if exact."""
    dw = op.kind == "DEPTHWISE_CONV_2D"
    params, w = _conv_params(m, op, dw)
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    mult, shift = quant.conv_multipliers(float(x.scale[0]), w.scale, float(y.scale[0]))
    arrays = {"filter": w.data.reshape(-1).astype(np.int8),
              "multiplier": mult.astype(np.int32), "shift": shift.astype(np.int32)}
    b = bias(m, op.inputs, params["out_c"])
    if b is not None:
        arrays["bias"] = b
    p = params
    if not dw and _is_dense(p):
        # the window is the whole input, one output pixel: a fully connected layer over the
        # NHWC input (filter rows out_c x (k_h, k_w, in_c) are already in that order), with
        # the conv's multipliers; no im2col scratch
        n_in = p["k_h"] * p["k_w"] * p["in_c"]
        return Layer(op.index, op.kind, "fc", [x.index], [y.index],
                     dict(input_offset=p["input_offset"], output_offset=p["output_offset"],
                          act_min=p["act_min"], act_max=p["act_max"], num_in=n_in,
                          num_out=p["out_c"]), arrays, macs=n_in * p["out_c"])
    kernel = "depthwise" if dw else (
        "pointwise" if (p["k_h"], p["k_w"], p["stride_h"], p["stride_w"]) == (1, 1, 1, 1)
        else "conv2d")
    macs = p["out_h"] * p["out_w"] * p["out_c"] * p["k_h"] * p["k_w"] * (1 if dw else p["in_c"])
    scratch = scratch_bytes(kernel, params)
    prepared = prepare_pointwise(params, arrays) if prepare and kernel == "pointwise" else None
    if prepared is not None:
        # kws_pointwise_conv_s8_prepared_get_buffer_size: two pixels of in_c4 int16
        arrays, params["in_c4"] = prepared, (p["in_c"] + 3) // 4 * 4
        scratch = 4 * params["in_c4"]
    plain = None
    dw_prepared = prepare_depthwise(params, arrays) if kernel == "depthwise" else None
    if dw_prepared is not None:
        # the no-scratch kernel on int16 weights (every depthwise it applies to, by default);
        # the int8 arrays stay beside it for exports that need TFLite's layout (the blob)
        plain, arrays, params["dw_prepared"], scratch = arrays, dw_prepared, True, 0
    layer = Layer(op.index, op.kind, kernel, [x.index], [y.index], params, arrays, macs, scratch,
                  plain_arrays=plain)
    if kernel == "conv2d" or (kernel == "pointwise" and prepared is None):
        layer.scratch_min = min_scratch_bytes(kernel, params)
    return layer
