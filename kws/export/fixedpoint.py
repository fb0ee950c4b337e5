"""TFLite's (gemmlowp's) fixed-point integer arithmetic in Python, element by element.

The exporter evaluates with these what TFLite computes at run time where a table replaces the
arithmetic (LOGISTIC's 256-entry table); the C runtime has its own copies in
``kws_nn_fixed.h``. Every value is a Python int held to int32 as C would hold it.
"""

from __future__ import annotations

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def wrap32(x: int) -> int:
    """``x`` wrapped to int32 (two's complement)."""
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def srdhm(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul: round(a * b / 2^31), ties toward +infinity."""
    if a == b == INT32_MIN:
        return INT32_MAX
    return (a * b + (1 << 30)) >> 31


def rdivpot(x: int, e: int) -> int:
    """RoundingDivideByPOT: x / 2^e to nearest, ties away from zero."""
    if e == 0:
        return x
    mask = (1 << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if remainder > threshold else 0)


def requantize(x: int, multiplier: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplier (TFLite's double rounding)."""
    left, right = max(shift, 0), max(-shift, 0)
    return rdivpot(srdhm(wrap32(x << left), multiplier), right)


def sat_shl(x: int, e: int) -> int:
    """SaturatingRoundingMultiplyByPOT<e> for e >= 0."""
    if e == 0:
        return x
    threshold = (1 << (31 - e)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return wrap32(x << e)


def _exp_quarter(a: int) -> int:
    """exp(a) for a in [-1/4, 0), Q0.31 in and out."""
    constant_term, one_third = 1895147668, 715827883
    x = a + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    poly = rdivpot(srdhm(rdivpot(x4, 2) + x3, one_third) + x2, 1)
    return wrap32(constant_term + srdhm(constant_term, wrap32(x + poly)))


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """exp(a) for a <= 0 in Q(integer_bits).(31 - integer_bits); result Q0.31."""
    frac = 31 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = wrap32((a & (quarter - 1)) - quarter)
    result = _exp_quarter(sat_shl(a_mod, integer_bits))
    remainder = wrap32(a_mod - a)
    multipliers = {-2: 1672461947, -1: 1302514674, 0: 790015084, 1: 290630308, 2: 39332535,
                   3: 720401, 4: 242}
    for exponent, mult in multipliers.items():
        if integer_bits > exponent and remainder & (1 << (frac + exponent)):
            result = srdhm(result, mult)
    if integer_bits > 5:
        raise ValueError("clamp for more than 5 integer bits is not implemented")
    return INT32_MAX if a == 0 else result


def one_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """1 / (1 + a) for a in [0, 1), Q0.31 in and out (three Newton-Raphson steps)."""
    s = a + INT32_MAX
    half_denominator = (s + (1 if s >= 0 else -1)) // 2 if s >= 0 else -((-s + 1) // 2)
    x = wrap32(1515870810 + srdhm(half_denominator, -1010580540))
    for _ in range(3):
        one_minus = wrap32((1 << 29) - srdhm(half_denominator, x))
        x = wrap32(x + sat_shl(srdhm(x, one_minus), 2))
    return sat_shl(x, 1)


def logistic_q0(a: int, integer_bits: int) -> int:
    """gemmlowp::logistic of a Q(integer_bits) value; result Q0.31."""
    if a == 0:
        return 1 << 30
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-abs(a), integer_bits))
    return positive if a > 0 else wrap32(INT32_MAX - positive)
