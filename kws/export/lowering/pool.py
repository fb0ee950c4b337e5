"""AVERAGE_POOL_2D -> avgpool."""

from __future__ import annotations

from kws.errors import KwsError
from kws.export import quant
from kws.export.lowering.layer import Layer, hwc, io_tensors, padding
from kws.export.tflite_model import Op, TfliteModel


def lower_avgpool(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """AVERAGE_POOL_2D (and MAX_POOL_2D) with equal input and output quantization."""
    x, y = io_tensors(m, op)
    o = op.options
    ih, iw, ic = hwc(x, m.path)
    oh, ow, oc = hwc(y, m.path)
    if float(x.scale[0]) != float(y.scale[0]) or x.zero_point[0] != y.zero_point[0]:
        raise KwsError(f"{m.path}: operator {op.index} {op.kind}: input and "
                       f"output quantization differ")
    kh, kw = o["filter"]
    sh, sw = o["stride"]
    lo, hi = quant.activation_range(o["act"], float(y.scale[0]), int(y.zero_point[0]))
    params = dict(act_min=lo, act_max=hi, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow,
                  out_c=oc, k_h=kh, k_w=kw, stride_h=sh, stride_w=sw,
                  pad_top=padding(o["padding"], sh, ih, kh, oh, m.path),
                  pad_left=padding(o["padding"], sw, iw, kw, ow, m.path),
                  depth_multiplier=1)
    return Layer(op.index, op.kind, "avgpool", [x.index], [y.index], params,
                 macs=oh * ow * oc * kh * kw)


def lower_maxpool(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """MAX_POOL_2D with equal input and output quantization."""
    layer = lower_avgpool(m, op, prepare)
    layer.kernel = "maxpool"
    return layer
