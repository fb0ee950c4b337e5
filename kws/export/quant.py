"""Requantization parameters, computed exactly as TensorFlow Lite (Micro) computes them.

TFLite rounds with ``std::round`` (half away from zero); Python's ``round`` and ``np.round``
round half to even and would give different multipliers, so :func:`round_half_away` is used.
"""

from __future__ import annotations

import math

import numpy as np

from kws.errors import KwsError


def round_half_away(x: float) -> float:
    """``std::round``: round to nearest, ties away from zero."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's ``QuantizeMultiplier``: ``real ~= multiplier * 2**(shift - 31)``.

    Returns
    -------
    (multiplier, shift) : (int, int)
        ``multiplier`` in Q0.31 (``[2**30, 2**31)`` or 0), ``shift`` a power of two (> 0 left).

    Examples
    --------
    >>> quantize_multiplier(0.5)
    (1073741824, 0)
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(round_half_away(q * (1 << 31)))
    if q_fixed > (1 << 31):
        raise KwsError(f"requantization multiplier {real!r} out of range")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def conv_multipliers(input_scale: float, filter_scales: np.ndarray,
                     output_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel multipliers of conv / depthwise (TFLM PopulateConvolutionQuantizationParams).

    ``effective = double(input_scale) * double(filter_scale) / double(output_scale)``, from the
    float32 scales stored in the model.
    """
    mult, shift = [], []
    for fs in np.asarray(filter_scales, np.float32):
        eff = float(np.float32(input_scale)) * float(fs) / float(np.float32(output_scale))
        m, s = quantize_multiplier(eff)
        mult.append(m)
        shift.append(s)
    return np.array(mult, np.int64), np.array(shift, np.int64)


def fc_multiplier(input_scale: float, filter_scale: float,
                  output_scale: float) -> tuple[int, int]:
    """Per-tensor fully-connected multiplier, as TFLM computes it.

    ``double(input_scale) * double(filter_scale) / double(output_scale)`` from the float32
    scales. (TFLite's older ``GetQuantizedConvolutionMultipler`` multiplied the two scales in
    float32 first; TFLM's does not: MLPerf Tiny's ad01 model differs by one LSB on some outputs
    between the two, and matches TFLM only with the double product.)
    """
    product = float(np.float32(input_scale)) * float(np.float32(filter_scale))
    return quantize_multiplier(product / float(np.float32(output_scale)))


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) of int8 softmax, as TFLM computes them.

    ``PreprocessSoftmaxScaling`` with 5 integer bits, then ``-CalculateInputRadius(5, shift)``.
    """
    integer_bits = 5
    real = min(float(np.float32(beta)) * float(np.float32(input_scale))
               * float(1 << (31 - integer_bits)), float((1 << 31) - 1))
    mult, shift = quantize_multiplier(real)
    if shift < 0:
        raise KwsError(f"softmax input scale {input_scale!r} too small")
    radius = ((1 << integer_bits) - 1) * float(1 << (31 - integer_bits)) / float(1 << shift)
    return mult, shift, -int(math.floor(radius))


def quantize_value(x: float, scale: float, zero_point: int) -> int:
    """TFLite's activation-range quantization: ``zp + int(std::round(float(x) / float(scale)))``."""
    return int(zero_point) + int(round_half_away(float(np.float32(x) / np.float32(scale))))


def activation_range(act: str, scale: float, zero_point: int) -> tuple[int, int]:
    """int8 clamp of a fused activation (TFLite ``CalculateActivationRangeQuantized``)."""
    lo, hi = -128, 127
    if act == "NONE":
        return lo, hi
    if act == "RELU":
        return max(lo, quantize_value(0.0, scale, zero_point)), hi
    if act == "RELU6":
        return (max(lo, quantize_value(0.0, scale, zero_point)),
                min(hi, quantize_value(6.0, scale, zero_point)))
    if act == "RELU_N1_TO_1":
        return (max(lo, quantize_value(-1.0, scale, zero_point)),
                min(hi, quantize_value(1.0, scale, zero_point)))
    raise KwsError(f"fused activation {act} is not supported")
