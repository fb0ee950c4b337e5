"""Depthwise weights prepared by the exporter (kws.export.lowering.depthwise_prep): the layout
the C kernel reads, and the conditions under which the exporter keeps TFLite's int8 layout."""

from __future__ import annotations

import numpy as np
import pytest

from kws.export.lowering.depthwise_prep import prepare_depthwise


def _layer(rng: np.random.Generator, oc: int, kh: int, kw: int, *, per_channel: bool = True,
           **over) -> tuple[dict, dict]:
    p = dict(in_c=oc, out_c=oc, k_h=kh, k_w=kw, depth_multiplier=1,
             input_offset=int(rng.integers(-127, 129)),
             output_offset=int(rng.integers(-128, 128)), act_min=-128, act_max=127)
    p.update(over)
    n = oc if per_channel else 1
    arrays = {"filter": rng.integers(-128, 128, kh * kw * oc).astype(np.int8),
              "multiplier": rng.integers(2**30, 2**31, n).astype(np.int32),
              "shift": rng.integers(-22, 0, n).astype(np.int32),
              "bias": rng.integers(-40000, 40000, oc).astype(np.int32)}
    return p, arrays


def _decode(data: np.ndarray, taps: int) -> tuple[np.ndarray, ...]:
    """(2 w as (taps, oc4), folded 2 bias, multiplier, k, r) from the prepared array."""
    g = data.astype(np.int64).reshape(-1, 16 + 2 * taps)
    words = (g[:, 4:4 + 2 * taps].reshape(-1, taps, 2) & 0xFFFFFFFF)
    lo = ((words & 0xFFFF) ^ 0x8000) - 0x8000
    hi = ((words >> 16) ^ 0x8000) - 0x8000
    w2 = np.stack([lo[..., 0], lo[..., 1], hi[..., 0], hi[..., 1]], axis=-1)  # group, tap, ch
    w2 = w2.transpose(1, 0, 2).reshape(taps, -1)
    rqf = g[:, 4 + 2 * taps:].reshape(-1, 3)
    return w2, g[:, :4].reshape(-1), rqf[:, 0], rqf[:, 1], rqf[:, 2]


@pytest.mark.parametrize("oc,kh,kw", [(64, 7, 1), (32, 3, 3), (10, 1, 3), (1, 5, 2), (23, 1, 1)])
def test_layout_holds_doubled_weights_folded_bias_and_requantization(oc, kh, kw) -> None:
    rng = np.random.default_rng(oc * 100 + kh * 10 + kw)
    for per_channel in (True, False):
        p, a = _layer(rng, oc, kh, kw, per_channel=per_channel)
        out = prepare_depthwise(p, a)
        assert out is not None and out["dw_data"].dtype == np.int32
        taps, oc4 = kh * kw, (oc + 3) // 4 * 4
        assert out["dw_data"].size == (16 + 2 * taps) * oc4 // 4
        w2, b2, m, k, r = _decode(out["dw_data"], taps)
        w = a["filter"].astype(np.int64).reshape(taps, oc)
        np.testing.assert_array_equal(w2[:, :oc], 2 * w)
        assert not w2[:, oc:].any()                          # padding channels: zero weights
        np.testing.assert_array_equal(
            b2[:oc], 2 * (a["bias"] + p["input_offset"] * w.sum(axis=0)))
        mult = np.broadcast_to(a["multiplier"], (oc,))
        shift = np.broadcast_to(a["shift"], (oc,))
        np.testing.assert_array_equal(m[:oc], mult)
        np.testing.assert_array_equal(r[:oc], -shift)
        want_k = (1 << (r[:oc] - 1)) + p["output_offset"] * (1 << r[:oc])
        np.testing.assert_array_equal(k[:oc], want_k)
        assert np.all(r[oc:] >= 1)                           # padding: a valid requantization


def test_kept_int8_where_the_kernel_does_not_apply() -> None:
    rng = np.random.default_rng(1)
    p, a = _layer(rng, 8, 3, 1)
    assert prepare_depthwise(p, a) is not None
    assert prepare_depthwise(dict(p, depth_multiplier=2, in_c=4), a) is not None
    assert prepare_depthwise(dict(p, depth_multiplier=4, in_c=2), a) is not None
    assert prepare_depthwise(dict(p, depth_multiplier=8, in_c=1), a) is not None  # micro_speech
    for dm in (3, 6):  # a group of four channels would read inputs at no fixed stride
        assert prepare_depthwise(dict(p, depth_multiplier=dm, in_c=1), a) is None
    assert prepare_depthwise(dict(p, act_min=-100), a) is None          # fused ReLU6-style clamp
    for bad_shift in (0, 1, -23):
        b = dict(a, shift=np.where(np.arange(8) == 3, bad_shift, a["shift"]).astype(np.int32))
        assert prepare_depthwise(p, b) is None
    # |bias| + 255 * sum|w| must stay below 2^30 (2 * acc fits int32)
    wabs = np.abs(a["filter"].astype(np.int64).reshape(3, 8)).sum(axis=0)
    edge = (2**30 - 1 - 255 * wabs).astype(np.int64)
    assert prepare_depthwise(p, dict(a, bias=edge.astype(np.int32))) is not None
    assert prepare_depthwise(p, dict(a, bias=(edge + 1).astype(np.int32))) is None
    no_bias = {k: v for k, v in a.items() if k != "bias"}
    out = prepare_depthwise(p, no_bias)
    _, b2, *_ = _decode(out["dw_data"], 3)
    np.testing.assert_array_equal(
        b2, 2 * p["input_offset"] * a["filter"].astype(np.int64).reshape(3, 8).sum(axis=0))


def _halves(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The signed low and high int16 halves of int32 words."""
    u = words.astype(np.int64) & 0xFFFFFFFF
    return ((u & 0xFFFF) ^ 0x8000) - 0x8000, ((u >> 16) ^ 0x8000) - 0x8000


@pytest.mark.parametrize("kh,kw,extra", [(1, 3, dict(stride_w=1, out_w=10)),
                                          (3, 1, dict(in_w=1, stride_h=1, out_h=28))])
def test_three_tap_pair_section(kh, kw, extra) -> None:
    """Three-tap one-dimensional stride-1 layers get, after the groups, per channel 2 b, 2 b,
    (2 w0, 2 w1), (2 w1, 2 w2), m, k, r: what the two-pixel kernel reads."""
    rng = np.random.default_rng(7)
    oc = 16
    p, a = _layer(rng, oc, kh, kw, **extra)
    data = prepare_depthwise(p, a)["dw_data"]
    gen = (16 + 2 * 3) * oc // 4
    assert data.size == gen + 7 * oc
    _, b2, m, k, r = _decode(data[:gen], 3)
    sec = data[gen:].astype(np.int64).reshape(oc, 7)
    w = a["filter"].astype(np.int64).reshape(3, oc)
    np.testing.assert_array_equal(sec[:, 0], b2)
    np.testing.assert_array_equal(sec[:, 1], b2)
    lo, hi = _halves(sec[:, 2])
    np.testing.assert_array_equal(lo, 2 * w[0])
    np.testing.assert_array_equal(hi, 2 * w[1])
    lo, hi = _halves(sec[:, 3])
    np.testing.assert_array_equal(lo, 2 * w[1])
    np.testing.assert_array_equal(hi, 2 * w[2])
    np.testing.assert_array_equal(sec[:, 4:], np.stack([m, k, r], axis=1))


def test_no_pair_section_where_the_pair_kernel_does_not_run() -> None:
    rng = np.random.default_rng(8)
    gen = (16 + 2 * 3) * 4
    for kh, kw, extra in [(1, 3, dict(stride_w=2, out_w=10)),     # stride 2 along the row
                          (3, 1, dict(in_w=5, stride_h=1, out_h=9)),  # not one column
                          (1, 3, dict(stride_w=1, out_w=1)),      # one output pixel
                          (1, 3, dict(stride_w=1, out_w=8, depth_multiplier=16, in_c=1))]:
        p, a = _layer(rng, 16, kh, kw, **extra)
        assert prepare_depthwise(p, a)["dw_data"].size == gen
    p, a = _layer(rng, 10, 1, 3, stride_w=1, out_w=8)              # out_c not a multiple of 4
    assert prepare_depthwise(p, a)["dw_data"].size == (16 + 2 * 3) * 3
