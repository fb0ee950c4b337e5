"""Depthwise weights prepared for the no-scratch kernel (``kws_dw_prepared_t``, int16, doubled)."""

from __future__ import annotations

from typing import Any

import numpy as np


def prepare_depthwise(p: dict[str, Any], arrays: dict[str, np.ndarray]
                      ) -> dict[str, np.ndarray] | None:
    """The ``kws_dw_prepared_t`` arrays of a depthwise layer, or None where the kernel does not
    apply: a depth multiplier other than 1, 2 or a multiple of 4 (TFLM micro_speech's first
    layer: 8 on a one-channel input), an activation range other than all of int8, a
    TFLite shift outside -22..-1, or a channel with |bias| + 255 * sum|w| >= 2^30 (then 2 * acc
    may not fit int32 and SMMULR(2 acc, m) would not be TFLite's rounding doubling high
    multiply; see ``kws_rqf_t`` in ``kws_internal.h``).

    Layout (``kws_kernels.h``), one int32 array in the order the DSP loop reads it: channels
    in groups of four (out_c rounded up to a multiple of four; a padding channel has zero
    weights and repeats the last channel's requantization); per group the four channels'
    2 * (bias + input_offset * sum(w)), then per tap (row-major over k_h x k_w) the int16 words
    (2 w[c], 2 w[c+2]), (2 w[c+1], 2 w[c+3]) (low half first), then per channel the multiplier,
    2^(r-1) + output_offset * 2^r and r = -shift. Three-tap (1, 3) stride-1 layers (and (3, 1)
    on a one-column map) with out_c a multiple of 4 get a pair section after the groups
    (``_pair_section``), read where the kernel runs two output pixels per pass.

    Parameters
    ----------
    p : dict
        The layer's parameters (``kws.export.lowering.conv``): ``in_c``, ``out_c``, ``k_h``,
        ``k_w``, ``depth_multiplier``, ``input_offset``, ``output_offset``, ``act_min``,
        ``act_max``.
    arrays : dict of ndarray
        ``filter`` (int8, 1 x k_h x k_w x out_c flattened), ``multiplier``, ``shift`` (one or
        out_c values) and optionally ``bias`` (int32, out_c).

    Returns
    -------
    dict of ndarray or None
        ``dw_data`` (int32): it holds the requantization too, so the layer needs no
        ``multiplier`` / ``shift`` arrays.
    """
    oc, taps = p["out_c"], p["k_h"] * p["k_w"]
    dm = p["depth_multiplier"]
    if not (dm in (1, 2) or dm % 4 == 0):
        return None  # each group of four channels reads four input channels, two, or one
    if (p["act_min"], p["act_max"]) != (-128, 127):
        return None
    w = arrays["filter"].astype(np.int64).reshape(taps, oc)
    mult = np.broadcast_to(arrays["multiplier"].astype(np.int64), (oc,))
    shift = np.broadcast_to(arrays["shift"].astype(np.int64), (oc,))
    bias = arrays["bias"].astype(np.int64) if "bias" in arrays else np.zeros(oc, np.int64)
    if np.any(shift < -22) or np.any(shift > -1):
        return None
    if np.any(np.abs(bias) + 255 * np.abs(w).sum(axis=0) >= 2**30):
        return None
    oc4 = (oc + 3) // 4 * 4
    w2 = np.zeros((taps, oc4), np.int64)
    w2[:, :oc] = 2 * w
    g = w2.reshape(taps, oc4 // 4, 4).transpose(1, 0, 2)          # group, tap, channel
    lo = np.stack([g[..., 0], g[..., 1]], axis=-1)                # words (c0, c2), (c1, c3)
    hi = np.stack([g[..., 2], g[..., 3]], axis=-1)
    words = ((lo & 0xFFFF) | ((hi & 0xFFFF) << 16)).reshape(oc4 // 4, 2 * taps)
    words = np.where(words >= 2**31, words - 2**32, words)        # as int32
    idx = np.minimum(np.arange(oc4), oc - 1)                      # padding: the last channel
    bias2 = np.zeros(oc4, np.int64)
    bias2[:oc] = 2 * (bias + p["input_offset"] * w.sum(axis=0))
    r = -shift[idx]
    k = (1 << (r - 1)) + p["output_offset"] * (1 << r)
    rqf = np.stack([mult[idx], k, r], axis=1).reshape(oc4 // 4, 12)
    data = np.concatenate([bias2.reshape(oc4 // 4, 4), words, rqf], axis=1).reshape(-1)
    if _takes_pairs(p):
        data = np.concatenate([data, _pair_section(w, bias2[:oc], mult, k, r)])
    return {"dw_data": data.astype(np.int32)}


def _takes_pairs(p: dict[str, Any]) -> bool:
    """Whether the kernel runs the layer's interior pixels two at a time (its pair section):
    depth multiplier 1, out_c a multiple of 4, a three-tap (1, 3) kernel with stride 1 along
    the row, or (3, 1) with stride 1 on a one-column map (the kernel reads it as (1, 3)), and
    two or more output pixels along that axis."""
    if p["depth_multiplier"] != 1 or p["out_c"] % 4:
        return False
    if (p["k_h"], p["k_w"]) == (1, 3):
        return p.get("stride_w", 1) == 1 and p.get("out_w", 2) >= 2
    return ((p["k_h"], p["k_w"]) == (3, 1) and p.get("in_w") == 1
            and p.get("stride_h", 1) == 1 and p.get("out_h", 2) >= 2)


def _pair_section(w: np.ndarray, bias2: np.ndarray, mult: np.ndarray, k: np.ndarray,
                  r: np.ndarray) -> np.ndarray:
    """Per channel (in order) 2 b, 2 b, int16 pairs (2 w0, 2 w1) and (2 w1, 2 w2) (low half
    first), m, k, r: the words the pair kernel reads, in its order. ``w`` is (3, out_c)."""
    w2 = (2 * w) & 0xFFFF
    w01 = w2[0] | (w2[1] << 16)
    w12 = w2[1] | (w2[2] << 16)
    oc = w.shape[1]
    sec = np.stack([bias2, bias2, w01, w12, mult[:oc], k[:oc], r[:oc]], axis=1).reshape(-1)
    return np.where(sec >= 2**31, sec - 2**32, sec)               # as int32
