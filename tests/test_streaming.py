"""Streaming step function (`kws export` of a streamable model) against the window model.

At every step t after a reset (once the window is full), the int8 output of
``kws_model_step`` equals TFLite Micro's output for the window model on the last ``window``
frames, bit for bit, on long random and adversarial frame sequences and on real speech
features, for the host's portable and (emulated) DSP kernel paths, across resets and dropped
frames. Models that are not streamable are refused with the reason.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kws.errors import KwsError
from kws.export import NotStreamable, export_model
from kws.export.lowering import Layer
from kws.export.streaming import analyse
from kws.export.tflite_model import Tensor, TfliteModel
from kws.frontend.settings import FrontendSettings

tf = pytest.importorskip("tensorflow", reason="TensorFlow generates the test models")
pytest.importorskip("tflite_micro", reason="tflite-micro is the reference interpreter")
if shutil.which("cmake") is None or shutil.which("cc") is None:
    pytest.skip("cmake and a C compiler build the runtime", allow_module_level=True)

from kws.runtime.host import HostModel  # noqa: E402
from kws.runtime.infer import run_tflm  # noqa: E402
from kws.runtime.testmodels import STREAM_TEST_MODELS, ensure_model  # noqa: E402

DATA = Path(__file__).parent / "data"


def stream_frames(n: int, zero_point: int, seed: int) -> np.ndarray:
    """``n`` int8 frames of 10: runs of uniform noise, noise at -90..0 dB around the zero
    point, silence (the zero point), clipping (-128 / 127), alternating full-scale squares
    and single impulses, each run 5-60 frames long."""
    rng = np.random.default_rng(seed)
    out, kind = [], 0
    while sum(len(r) for r in out) < n:
        m = int(rng.integers(5, 61))
        if kind == 0:
            r = rng.integers(-128, 128, (m, 10))
        elif kind == 1:
            r = np.clip(np.round(zero_point + rng.normal(0, 10 ** rng.uniform(-1, 2.5),
                                                         (m, 10))), -128, 127)
        elif kind == 2:
            r = np.full((m, 10), zero_point)
        elif kind == 3:
            r = np.full((m, 10), int(rng.choice([-128, 127])))
        elif kind == 4:
            r = np.where((np.arange(m * 10).reshape(m, 10) % 2) == 0, 127, -128)
        else:
            r = np.full((m, 10), zero_point)
            r[rng.integers(0, m), rng.integers(0, 10)] = 127
        out.append(r)
        kind = (kind + 1 + int(rng.integers(0, 3))) % 6
    return np.concatenate(out)[:n].astype(np.int8)


def windows(frames: np.ndarray, window: int) -> np.ndarray:
    """Every window of ``window`` frames ending at t = window-1 .. N-1, shaped for the model."""
    idx = np.arange(window)[None, :] + np.arange(len(frames) - window + 1)[:, None]
    return frames[idx][..., None][:, None]          # (N - window + 1, 1, window, 10, 1)


def check_stream(hm: HostModel, model: Path, frames: np.ndarray, *, min_unique: int = 4) -> int:
    """Reset, feed ``frames`` and compare every full-window step with TFLM; return the count."""
    w = hm.export.stream.window
    hm.stream_reset()
    ys, ready = hm.steps(frames)
    assert not ready[:w - 1].any() and ready[w - 1:].all()
    m = hm.export.model
    shape = (len(frames) - w + 1,) + tuple(m.tensors[m.inputs[0]].shape)
    want = run_tflm(model, windows(frames, w).reshape(shape)).reshape(shape[0], -1)
    got = ys[w - 1:]
    bad = np.flatnonzero((got != want).any(axis=1))
    assert bad.size == 0, f"{bad.size}/{len(got)} steps differ, first at t={bad[0] + w - 1}"
    assert len(np.unique(want, axis=0)) >= min_unique, "degenerate: the outputs do not move"
    return len(got)


@pytest.mark.parametrize("name", sorted(STREAM_TEST_MODELS))
@pytest.mark.parametrize("kernel_path", ["portable", "dsp"])
def test_stream_parity_random_frames(name: str, kernel_path: str) -> None:
    path = ensure_model(name)
    hm = HostModel(path, path=kernel_path)
    zp = int(hm.export.model.tensors[hm.export.model.inputs[0]].zero_point[0])
    frames = stream_frames(700, zp, seed=len(name))
    assert check_stream(hm, path, frames) == 700 - 48
    # a second stream on the same state after a reset: nothing of the first leaks
    assert check_stream(hm, path, stream_frames(200, zp, seed=99), min_unique=2) == 200 - 48


@pytest.mark.parametrize("name", ["stream_ds_cnn", "stream_tcn", "stream_tcn_max"])
def test_stream_parity_real_speech(name: str) -> None:
    frames = np.load(DATA / "speech_frames.npy")
    path = ensure_model(name)
    for kernel_path in ("portable", "dsp"):
        assert check_stream(HostModel(path, path=kernel_path), path, frames) == len(frames) - 48


@pytest.mark.parametrize("kernel_path", ["portable", "dsp"])
def test_stream_parity_single_layer_window(kernel_path: str) -> None:
    """A one-layer model whose window is its (3, 1) depthwise kernel (random_dwt_0: 3 frames of
    one column of 10 channels) streams too: the window comes from the graph, not a constant."""
    path = ensure_model("random_dwt_0")
    hm = HostModel(path, path=kernel_path)
    assert hm.export.stream.window == 3 and hm.export.stream.arena_size == 0
    assert check_stream(hm, path, stream_frames(300, 0, seed=4)) == 298


def test_stream_dropped_frames_refill_after_reset() -> None:
    """A dropped hop: the caller resets; ready is 0 for window - 1 steps, then the outputs are
    the window model's on the frames fed since the reset (never on frames from before)."""
    path = ensure_model("stream_tcn")
    hm = HostModel(path, path="dsp")
    frames = stream_frames(300, -50, seed=5)
    hm.stream_reset()
    hm.steps(frames[:130])
    hm.stream_reset()                                 # frames 130..139 are lost
    ys, ready = hm.steps(frames[140:])
    assert not ready[:48].any() and ready[48:].all()
    want = run_tflm(path, windows(frames[140:], 49)).reshape(-1, ys.shape[1])
    assert np.array_equal(ys[48:], want)
    # without the reset the outputs would mix both sides of the gap: they differ somewhere
    hm.stream_reset()
    hm.steps(frames[:130])
    ys2, _ = hm.steps(frames[140:])
    assert not np.array_equal(ys2[:48], ys[:48])


@pytest.mark.parametrize("name", ["stream_tcn", "stream_ds_cnn"])
def test_stream_parity_long_sequence_with_resets(name: str) -> None:
    """2,400 frames (the running pool's ring wraps ~70-100 times) with resets at four points,
    two of them before the window has filled: every step with a full window since the last reset
    equals TFLM on the window ending there; steps before are flagged not ready."""
    path = ensure_model(name)
    hm = HostModel(path, path="dsp")
    w = hm.export.stream.window
    zp = int(hm.export.model.tensors[hm.export.model.inputs[0]].zero_point[0])
    frames = stream_frames(2400, zp, seed=21)
    cuts = [0, 30, 611, 1377, 1400, 2400]      # a reset at every cut but 0
    checked = 0
    hm.stream_reset()
    for a, b in zip(cuts, cuts[1:]):
        if a:
            hm.stream_reset()
        ys, ready = hm.steps(frames[a:b])
        assert not ready[:w - 1].any() and ready[w - 1:].all()
        if b - a < w:
            continue
        want = run_tflm(path, windows(frames[a:b], w)).reshape(b - a - w + 1, -1)
        assert np.array_equal(ys[w - 1:], want), f"{a}..{b}"
        checked += len(want)
    assert checked == (581 - 48) + (766 - 48) + (1000 - 48)
    assert any(sl.running for sl in hm.export.stream.layers)


def test_window_model_unchanged_for_streamable_models() -> None:
    """kws_model_invoke of a streamable model still equals TFLM (both paths)."""
    path = ensure_model("stream_mix")
    xs = windows(stream_frames(80, 0, seed=3), 49)
    want = run_tflm(path, xs)
    for kernel_path in ("portable", "dsp"):
        hm = HostModel(path, path=kernel_path)
        assert np.array_equal(np.stack([hm.invoke(x) for x in xs]), want)


def test_step_api_status_codes() -> None:
    import ctypes

    path = ensure_model("stream_tcn")
    hm = HostModel(path, path="portable")
    sp = hm.export.stream
    state = np.zeros(sp.state_size // 4, np.uint32)
    arena = np.zeros(sp.arena_size // 4 + 1, np.uint32)
    frame = np.zeros(sp.frame_size, np.int8)
    out = np.zeros(sp.output_size, np.int8)
    step = hm._step
    args = [state.ctypes.data, state.nbytes, frame.ctypes.data, frame.size, out.ctypes.data,
            out.size, arena.ctypes.data, arena.nbytes, None]
    assert hm._reset(None, 0) == -1
    assert hm._reset(state.ctypes.data, sp.state_size - 1) == -2
    assert hm._reset(state.ctypes.data, state.nbytes) == 0
    assert step(*args) == 0
    for i, short in ((1, sp.state_size - 1), (3, sp.frame_size - 1), (5, sp.output_size - 1),
                     (7, sp.arena_size - 1)):
        bad = list(args)
        bad[i] = short
        assert step(*bad) == -2, i
    for i in (0, 2, 4, 6):
        bad = list(args)
        bad[i] = None
        assert step(*bad) == -1, i
    ready = ctypes.c_int(7)
    assert step(*args[:-1], ctypes.byref(ready)) == 0 and ready.value == 0


def test_export_streamable_header_and_sizes(tmp_path) -> None:
    r = export_model(ensure_model("stream_tcn"), tmp_path, stream=True,
                     allow_unknown_frontend=True)
    h = r.header.read_text()
    for name in ("kws_model_step(", "kws_model_stream_reset(", "KWS_MODEL_STREAM_WINDOW 49",
                 "KWS_MODEL_STREAM_FRAME_SIZE 10", "KWS_MODEL_STREAM_STATE_BYTES",
                 "KWS_MODEL_STREAM_ARENA_BYTES"):
        assert name in h
    sp = r.stream
    # one buffer per layer with a kernel longer than one slice: 3 frames, 7 slices x 4, and
    # the running pool's 23 slices with its head and int32 sums, 64 channels each
    pool = 4 + 4 * 64 + 23 * 64
    assert sp.ring_bytes == 3 * 10 + 4 * 7 * 64 + pool
    assert sp.state_size == ((4 + 30 + 3) // 4 * 4) + 4 * 7 * 64 + pool
    assert [sl.running for sl in sp.layers] == [sl.layer.kernel == "avgpool" for sl in sp.layers]
    assert sp.macs * 20 < r.macs                       # a step is a small part of the window


def test_export_refuses_non_streamable_with_reason(tmp_path) -> None:
    path = ensure_model("ds_cnn_s")
    with pytest.raises(NotStreamable, match="operator 0 CONV_2D: pads the time axis"):
        export_model(path, tmp_path, stream=True, allow_unknown_frontend=True)
    r = export_model(path, tmp_path, allow_unknown_frontend=True)  # window model only
    assert r.stream is None and "pads the time axis" in r.not_streamable
    assert "kws_model_step" not in r.header.read_text()
    run = tmp_path / "run"                             # a RUN folder: model + settings.json
    run.mkdir()
    (run / "model.tflite").write_bytes(path.read_bytes())
    (run / "settings.json").write_text(FrontendSettings().to_json() + "\n")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([str(root / ".venv" / "bin" / "kws"), "export",
                           str(run / "model.tflite"), "--out", str(tmp_path / "cli"),
                           "--stream"], capture_output=True, text=True)
    assert proc.returncode != 0 and "pads the time axis" in proc.stderr
    assert not (tmp_path / "cli" / "kws_model.c").exists()


# analyse() on hand-made lowered layers: each refusal names the operator and the reason.

def _tensor(i: int, shape: tuple[int, ...]) -> Tensor:
    return Tensor(i, f"t{i}", shape, "INT8", np.ones(1, np.float32), np.zeros(1, np.int64), 0,
                  None)


def _conv(index: int, src: int, dst: int, t_in: int, t_out: int, k: int, *, stride: int = 1,
          pad: int = 0, kernel: str = "depthwise") -> Layer:
    p = dict(in_h=t_in, in_w=1, in_c=4, out_h=t_out, out_w=1, out_c=4, k_h=k, k_w=1,
             stride_h=stride, stride_w=1, pad_top=pad, pad_left=0, depth_multiplier=1,
             input_offset=0, output_offset=0, act_min=-128, act_max=127)
    return Layer(index, "DEPTHWISE_CONV_2D", kernel, [src], [dst], p, {}, 0, 0)


def _model(*shapes: tuple[int, ...]) -> TfliteModel:
    return TfliteModel("m.tflite", [_tensor(i, s) for i, s in enumerate(shapes)], [], [0],
                       [len(shapes) - 1])


@pytest.mark.parametrize("layers, shapes, reason", [
    ([_conv(0, 0, 1, 10, 10, 3, pad=1)], [(1, 10, 1, 4), (1, 10, 1, 4)], "pads the time axis"),
    ([_conv(0, 0, 1, 10, 4, 3, stride=2)], [(1, 10, 1, 4), (1, 4, 1, 4)], "stride 2 along time"),
    ([_conv(0, 0, 1, 10, 8, 3)], [(1, 10, 1, 4), (1, 8, 1, 4)], "the output has 8 time slices"),
    ([_conv(0, 0, 1, 10, 8, 3), _conv(1, 0, 2, 10, 8, 3)],
     [(1, 10, 1, 4), (1, 8, 1, 4), (1, 8, 1, 4)], "not the previous operator's output"),
    ([_conv(0, 0, 1, 10, 1, 10, kernel="avgpool")], [(1, 10, 4), (1, 1, 1, 4)],
     "is not \\[1, frames"),
])
def test_analyse_refusals(layers, shapes, reason) -> None:
    with pytest.raises(NotStreamable, match=reason):
        analyse(_model(*shapes), layers)


def test_analyse_accepts_valid_chain() -> None:
    m = _model((1, 10, 1, 4), (1, 8, 1, 4), (1, 1, 1, 4))
    sls = analyse(m, [_conv(0, 0, 1, 10, 8, 3), _conv(1, 1, 2, 8, 1, 8, kernel="avgpool")])
    assert [(s.k, s.t_in, s.t_out) for s in sls] == [(3, 10, 8), (8, 8, 1)]
    assert sls[0].layer.params["in_h"] == 3 and sls[0].layer.params["out_h"] == 1
    assert issubclass(NotStreamable, KwsError)
    assert copy.deepcopy(sls[0]).ring_bytes == 12


def test_analyse_max_pool_steps_on_a_shifted_buffer() -> None:
    """A max pool over time has no running form: it keeps its last k input slices."""
    m = _model((1, 10, 1, 4), (1, 8, 1, 4), (1, 1, 1, 4))
    sls = analyse(m, [_conv(0, 0, 1, 10, 8, 3), _conv(1, 1, 2, 8, 1, 8, kernel="maxpool")])
    assert [(s.k, s.t_in, s.t_out) for s in sls] == [(3, 10, 8), (8, 8, 1)]
    assert sls[1].shifted and not sls[1].running and sls[1].ring_bytes == 8 * 4
    assert sls[1].layer.macs == 8 * 4


def test_tcn_pool_must_be_avg_or_max() -> None:
    from kws.models import MODELS, TcnShape

    assert MODELS["tcn-stream-max"].pool == "max" and MODELS["tcn-stream"].pool == "avg"
    with pytest.raises(KwsError, match="avg or max"):
        TcnShape(64, 3, 7, 4, pool="mean")


def test_make_stream_run_is_streamable(tmp_path) -> None:
    """The RUN folder helper for firmware tests holds a streamable model with moving outputs."""
    from kws.runtime.testmodels import make_stream_run

    run = make_stream_run(tmp_path / "run", family="tcn-stream")
    hm = HostModel(run / "model.tflite", path="dsp")
    zp = int(hm.export.model.tensors[hm.export.model.inputs[0]].zero_point[0])
    assert check_stream(hm, run / "model.tflite", stream_frames(150, zp, seed=8)) == 102
