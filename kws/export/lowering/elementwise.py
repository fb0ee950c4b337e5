"""ADD and MUL (int8, with broadcasting) -> add / mul, parameters as TFLite's Prepare."""

from __future__ import annotations

from typing import Any

import numpy as np

from kws.errors import KwsError
from kws.export import quant
from kws.export.fixedpoint import requantize
from kws.export.lowering.layer import Layer, act_tensor, dims4, operand
from kws.export.tflite_model import Op, Tensor, TfliteModel

#: TFLite's left shift of int8 ADD inputs before rescaling.
ADD_LEFT_SHIFT = 20

#: Outputs above which an ADD gets its DSP tables (2 KB of const data) in the generated code;
#: below, the per-element path costs less than the flash is worth.
ADD_TABLES_MIN_OUTPUTS = 128


def _operands(m: TfliteModel, op: Op) -> tuple[Tensor, Tensor, Tensor]:
    """The two int8 operands (activations or constants) and the output, broadcast-checked."""
    a = operand(m, op.inputs[0], f"{op.kind} input 1")
    b = operand(m, op.inputs[1], f"{op.kind} input 2")
    y = act_tensor(m, op.outputs[0], f"{op.kind} output")
    out = dims4(y, m.path)
    for t in (a, b):
        d = dims4(t, m.path)
        if any(x not in (1, o) for x, o in zip(d, out)):
            raise KwsError(f"{m.path}: operator {op.index} {op.kind}: input shape {t.shape} "
                           f"does not broadcast to the output {y.shape}")
    return a, b, y


def _smaller_than_one(real: float, what: str) -> tuple[int, int]:
    """TFLite's QuantizeMultiplierSmallerThanOneExp."""
    if not 0.0 < real < 1.0:
        raise KwsError(f"{what}: rescaling factor {real!r} is not in (0, 1)")
    return quant.quantize_multiplier(real)


def add_params(s1: float, s2: float, so: float, what: str) -> dict[str, int]:
    """Multipliers and shifts of int8 ADD from the float32 scales (TFLite's Prepare)."""
    twice_max = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    m1, sh1 = _smaller_than_one(float(np.float32(s1)) / twice_max, what)
    m2, sh2 = _smaller_than_one(float(np.float32(s2)) / twice_max, what)
    mo, sho = _smaller_than_one(twice_max / ((1 << ADD_LEFT_SHIFT) * float(np.float32(so))),
                                what)
    return dict(left_shift=ADD_LEFT_SHIFT, input1_multiplier=m1, input1_shift=sh1,
                input2_multiplier=m2, input2_shift=sh2, output_multiplier=mo, output_shift=sho)


def add_tables(p: dict[str, int]) -> np.ndarray:
    """``kws_add_s8_tables`` of ADD parameters ``p``: for each input k, 256 int32 (int8 value
    v at v + 128), 2 * requantize((v + input_k_offset) << left_shift, multiplier, shift).

    Examples
    --------
    >>> p = add_params(0.5, 0.25, 1.0, "ADD")
    >>> t = add_tables(dict(p, input1_offset=0, input2_offset=0))
    >>> t.shape, int(t[128]), int(t[129]) == 1 << 20, int(t[256 + 129]) == 1 << 19
    ((512,), 0, True, True)
    """
    out = np.empty(512, np.int32)
    for k in (1, 2):
        off, m, sh = p[f"input{k}_offset"], p[f"input{k}_multiplier"], p[f"input{k}_shift"]
        out[(k - 1) * 256:k * 256] = [2 * requantize((v + off) << p["left_shift"], m, sh)
                                      for v in range(-128, 128)]
    return out


def _common(m: TfliteModel, op: Op, a: Tensor, b: Tensor, y: Tensor) -> dict[str, Any]:
    """Offsets, activation range and the rank-4 shapes of a binary element-wise layer."""
    lo, hi = quant.activation_range(op.options["act"], float(y.scale[0]), int(y.zero_point[0]))
    return dict(input1_offset=-int(a.zero_point[0]), input2_offset=-int(b.zero_point[0]),
                output_offset=int(y.zero_point[0]), act_min=lo, act_max=hi,
                out_dims=dims4(y, m.path), in1_dims=dims4(a, m.path),
                in2_dims=dims4(b, m.path))


def lower_add(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """ADD: int8 inputs and output, broadcasting, fused activation."""
    a, b, y = _operands(m, op)
    params = _common(m, op, a, b, y)
    params.update(add_params(float(a.scale[0]), float(b.scale[0]), float(y.scale[0]),
                             f"{m.path}: operator {op.index} ADD"))
    arrays = {"add_tables": add_tables(params)} if y.size > ADD_TABLES_MIN_OUTPUTS else {}
    return Layer(op.index, op.kind, "add", [a.index, b.index], [y.index], params, arrays,
                 macs=y.size)


def lower_mul(m: TfliteModel, op: Op, prepare: bool) -> Layer:
    """MUL: int8 inputs and output, broadcasting, fused activation."""
    a, b, y = _operands(m, op)
    params = _common(m, op, a, b, y)
    real = (float(np.float32(a.scale[0])) * float(np.float32(b.scale[0]))
            / float(np.float32(y.scale[0])))
    params["multiplier"], params["shift"] = quant.quantize_multiplier(real)
    return Layer(op.index, op.kind, "mul", [a.index, b.index], [y.index], params, macs=y.size)
