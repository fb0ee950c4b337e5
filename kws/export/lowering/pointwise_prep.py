"""Pointwise weights prepared for the Cortex-M4 path (``kws_pw_prepared_t``, int16, doubled)."""

from __future__ import annotations

from typing import Any

import numpy as np


def prepare_pointwise(p: dict[str, Any], arrays: dict[str, np.ndarray]
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
