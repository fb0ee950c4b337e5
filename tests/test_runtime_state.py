"""Stateful models (resource variables, CALL_ONCE) against TFLite Micro, over sequences.

Each sequence runs in order on one interpreter / one arena (state carried), is reset midway
(``MicroInterpreter::Reset()`` / ``kws_model_reset``) and replayed; parity is exact equality of
every output and of every resource variable after every call (TFLM's assigned tensors, kept by
its preserve-all-tensors mode, against the bytes of the generated code's state region).
"""

from __future__ import annotations

import ctypes
import shutil
from pathlib import Path

import numpy as np
import pytest

from kws.errors import KwsError
from kws.export.state import STATE_PENDING, plan_state
from kws.export.tflite_model import Op, Subgraph, Tensor, TfliteModel, load_tflite

tf = pytest.importorskip("tensorflow", reason="TensorFlow generates the test models")
pytest.importorskip("tflite_micro", reason="tflite-micro is the reference interpreter")
if shutil.which("cmake") is None or shutil.which("cc") is None:
    pytest.skip("cmake and a C compiler build the runtime", allow_module_level=True)

from kws.export.lowering import supported_ops  # noqa: E402
from kws.runtime.host import HostModel  # noqa: E402
from kws.runtime.sequence import c_sequence, tflm_sequence  # noqa: E402
from kws.runtime.stateful_testmodels import ensure_model, micro_wakeword, micro_wakeword_int8  # noqa: E402
from kws.runtime.testmodels import parity_inputs  # noqa: E402

NUM_INPUTS = 60
RESET_AT = 35
MWW_MODELS = ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu")


def _needs_ops(path: Path) -> None:
    """Skip when the model uses an operator the lowering does not have yet."""
    missing = sorted({op.kind for op in load_tflite(path).ops} - set(supported_ops()))
    if missing:
        pytest.skip(f"{path.name}: operators {', '.join(missing)} are not lowered yet")


def _inputs(path: Path, n: int = NUM_INPUTS, seed: int = 0) -> np.ndarray:
    m = load_tflite(path)
    x = m.tensors[m.inputs[0]]
    return parity_inputs(x.shape, int(x.zero_point[0]), n=n, seed=seed)


def check_sequence_parity(path: Path, xs: np.ndarray, *, reset_at: int = RESET_AT) -> None:
    """Host portable and emulated-DSP outputs and variables == TFLM's, call by call."""
    want_y, want_v = tflm_sequence(path, xs, reset_at=reset_at)
    assert len(want_v[0]) > 0, "the model assigns no variable"
    for kernel_path in ("portable", "dsp"):
        got_y, got_v = c_sequence(path, xs, path=kernel_path, reset_at=reset_at)
        assert got_y.dtype == want_y.dtype, f"{path.name}: output {got_y.dtype} != {want_y.dtype}"
        bad = [i for i in range(len(xs))
               if not np.array_equal(got_y[i].view(np.uint8), want_y[i].view(np.uint8))
               or not all(np.array_equal(a, b) for a, b in zip(got_v[i], want_v[i]))]
        assert not bad, f"{path.name} {kernel_path}: calls {bad[:10]} differ ({len(bad)})"


def mww_model(name: str, *, int8: bool = False) -> Path:
    """A microWakeWord model shipped in the pymicro-wakeword wheel (``int8``: without its
    final uint8 QUANTIZE)."""
    pytest.importorskip("pymicro_wakeword", reason="pymicro-wakeword ships the models")
    return micro_wakeword_int8(name) if int8 else micro_wakeword(name)


# ------------------------------------------------------------------ parity over sequences


def test_delay_model_parity_with_reset() -> None:
    path = ensure_model("delay")
    check_sequence_parity(path, _inputs(path))


def test_delay_model_reset_differs_from_init() -> None:
    """The init subgraph's value is not the zero point, so reset (zero point, no init run) and
    a new interpreter (init values) give different first outputs, and kws agrees with both."""
    path = ensure_model("delay")
    xs = _inputs(path, n=4)
    y, _ = tflm_sequence(path, np.concatenate([xs, xs]), reset_at=4)
    assert not np.array_equal(y[0], y[4])
    hm = HostModel(path)
    first = hm.invoke(xs[0])
    hm.reset()
    after_reset = hm.invoke(xs[0])
    hm.init_state()
    assert np.array_equal(first, y[0]) and np.array_equal(after_reset, y[4])
    assert np.array_equal(hm.invoke(xs[0]), y[0])


def test_stream_conv_parity_with_reset() -> None:
    path = ensure_model("stream_conv")
    _needs_ops(path)
    check_sequence_parity(path, _inputs(path))


@pytest.mark.parametrize("name", MWW_MODELS)
def test_micro_wakeword_parity_random(name: str) -> None:
    """The published models, to their uint8 probability (the final int8 -> uint8 QUANTIZE)."""
    path = mww_model(name)
    _needs_ops(path)
    assert load_tflite(path).tensors[load_tflite(path).outputs[0]].dtype == "UINT8"
    check_sequence_parity(path, _inputs(path, seed=len(name)))


@pytest.mark.parametrize("name", MWW_MODELS)
def test_micro_wakeword_int8_parity_random(name: str) -> None:
    """The published models up to their int8 probability: every streamed layer's output is
    in the six ring buffers, compared after every call."""
    path = mww_model(name, int8=True)
    _needs_ops(path)
    check_sequence_parity(path, _inputs(path, seed=len(name)))


def test_infer_cli_uint8_output(tmp_path: Path) -> None:
    """``kws infer`` writes the uint8 probability of a published model; c == tflm (a batch
    runs on one arena, so this is a sequence with state too)."""
    from kws.cli import main

    path = mww_model("hey_mycroft")
    np.save(tmp_path / "in.npy", _inputs(path, n=20, seed=5))
    outs = {}
    for backend in ("tflm", "c"):
        out = tmp_path / f"{backend}.npy"
        assert main(["infer", str(path), str(tmp_path / "in.npy"), "--backend", backend,
                     "--out", str(out)]) == 0
        outs[backend] = np.load(out)
    assert outs["c"].dtype == np.uint8 and outs["c"].shape == (20, 1, 1)
    np.testing.assert_array_equal(outs["c"], outs["tflm"])


@pytest.mark.parametrize("int8", [True, False], ids=["int8", "uint8"])
def test_micro_wakeword_parity_real_features(real_audio: Path, int8: bool) -> None:
    """Real 10 ms feature frames: speech clips through microWakeWord's own front end
    (pymicro-features), quantized as pymicro-wakeword feeds its models; the model up to its
    int8 probability and the published one (uint8 probability)."""
    path = mww_model("okay_nabu", int8=int8)
    _needs_ops(path)
    from pymicro_wakeword import MicroWakeWordFeatures

    from kws.audio import load_audio

    frames = []
    for wav in sorted((real_audio / "yes").glob("*.flac"))[:4]:
        feats = MicroWakeWordFeatures()
        frames += list(feats.process_streaming(load_audio(wav).astype("<i2").tobytes()))
    m = load_tflite(path)
    x = m.tensors[m.inputs[0]]
    q = np.round(np.concatenate(frames, axis=1).reshape(-1, 40) / float(x.scale[0])
                 + int(x.zero_point[0]))
    q = np.clip(q, -128, 127).astype(np.int8)
    n = len(q) // 3 * 3
    xs = q[:n].reshape(-1, *x.shape)
    assert len(xs) >= 50
    check_sequence_parity(path, xs, reset_at=len(xs) // 2)
    y, _ = tflm_sequence(path, xs)
    assert len(np.unique(y)) > 1, "real features should move the probability"


# ------------------------------------------------------------------ the generated C's contract


def test_invoke_before_init_is_refused() -> None:
    hm = HostModel(ensure_model("delay"))
    arena = np.zeros_like(hm._arena)
    x = np.zeros(hm.input_shape, np.int8)
    y = np.zeros(hm.output_shape, np.int8)
    st = hm._invoke(x.ctypes.data, x.size, y.ctypes.data, y.size, arena.ctypes.data, arena.size)
    assert st == -3  # KWS_ERR_BAD_CONFIG: kws_model_init has not run
    init = hm._lib.kws_model_init
    assert init(None, ctypes.c_size_t(arena.size)) == -1
    assert init(arena.ctypes.data, ctypes.c_size_t(hm.export.arena.size - 1)) == -2
    assert init(arena.ctypes.data, ctypes.c_size_t(arena.size)) == 0
    assert int(arena[:4].view("<u4")[0]) == STATE_PENDING


def test_header_declares_state(tmp_path: Path) -> None:
    from kws.export import export_model

    r = export_model(ensure_model("delay"), tmp_path, allow_unknown_frontend=True)
    h = r.header.read_text()
    assert f"#define KWS_MODEL_STATE_BYTES {r.arena.state.size}" in h
    assert "kws_model_reset(void *arena, size_t arena_len);" in h
    assert r.arena.state.size == 4 + 16
    # the read and the assignment alias the variable: no copy layer, activations after it
    assert [l.kernel for l in r.layers] == ["call_once", "fc", "softmax", "fc"]
    assert min(b.offset for b in r.arena.buffers) >= r.arena.state.size


# ------------------------------------------------------------------ reading and planning state


def test_micro_wakeword_state_plan() -> None:
    """The reader and the state plan on a published model, whatever ops are lowered."""
    m = load_tflite(mww_model("hey_jarvis"))
    assert len(m.subgraphs) == 1 and m.subgraphs[0].index == 1
    assert m.ops[0].kind == "CALL_ONCE" and m.ops[0].options["init_subgraph"] == 1
    s = plan_state(m)
    names = [v.shared_name for v in s.variables]
    assert names == ["stream/states", "stream_1/states", "stream_2/states", "stream_3/states",
                     "stream_4/states", "stream_5/states"]
    assert [v.nbytes for v in s.variables] == [80, 120, 480, 720, 1200, 240]
    assert all(v.default == -128 and v.init is not None for v in s.variables)
    # every read and every assignment aliases its variable: no arena bytes, no copies
    assert len(s.elided) == 12 and len(s.pinned) == 12
    assert s.size == 4 + sum(v.nbytes for v in s.variables)


def _t(i: int, shape: tuple[int, ...], dtype: str = "INT8", zp: int | None = -5,
       data: np.ndarray | None = None) -> Tensor:
    scale = np.zeros(0, np.float32) if zp is None else np.array([0.1], np.float32)
    zps = np.zeros(0, np.int64) if zp is None else np.array([zp], np.int64)
    return Tensor(i, f"t{i}", shape, dtype, scale, zps, 0, data)


def _model(main_ops: list[Op], init_ops: list[Op] | None, *, init_tensors=None,
           extra: int = 0) -> TfliteModel:
    tensors = [_t(0, (1, 4)), _t(1, ()), _t(2, (1, 4)), _t(3, (1, 4), zp=7), _t(4, (1, 4))]
    subs = []
    if init_ops is not None:
        subs.append(Subgraph(1, "NoOp", init_tensors, init_ops, [], []))
    for k in range(extra):
        subs.append(Subgraph(len(subs) + 1, "body", [], [], [], []))
    return TfliteModel("m.tflite", tensors, main_ops, [0], [4], subs)


def _vh(i: int, out: int, name: str = "v") -> Op:
    return Op(i, "VAR_HANDLE", [], [out], {"container": None, "shared_name": name})


def test_default_byte_is_the_first_prepared_assignment_zero_point() -> None:
    """Main graph first: the assigned tensor t3 (zero point 7), not the init constant."""
    init_t = [_t(0, ()), _t(1, (1, 4), zp=-9, data=np.full((1, 4), 3, np.int8))]
    main = [Op(0, "CALL_ONCE", [], [], {"init_subgraph": 1}), _vh(1, 1),
            Op(2, "READ_VARIABLE", [1], [2], {}), Op(3, "ASSIGN_VARIABLE", [1, 3], [], {})]
    init = [_vh(0, 0), Op(1, "ASSIGN_VARIABLE", [0, 1], [], {})]
    s = plan_state(_model(main, init, init_tensors=init_t))
    (v,) = s.variables
    assert (v.default, v.nbytes, list(v.init)) == (7, 4, [3, 3, 3, 3])


def test_read_alias_only_before_the_next_assignment() -> None:
    """A read whose reader runs after the variable is reassigned must be a copy."""
    main = [_vh(0, 1), Op(1, "READ_VARIABLE", [1], [2], {}),
            Op(2, "ASSIGN_VARIABLE", [1, 0], [], {}),
            Op(3, "FULLY_CONNECTED", [2], [4], {})]
    s = plan_state(_model(main, None))
    assert 2 not in s.pinned and 1 not in s.elided
    main[2], main[3] = (Op(2, "FULLY_CONNECTED", [2], [4], {}),
                        Op(3, "ASSIGN_VARIABLE", [1, 0], [], {}))
    s = plan_state(_model(main, None))
    assert 2 in s.pinned and 1 in s.elided
    assert 0 not in s.pinned  # the model input is assigned by a copy


def test_state_refusals_name_the_problem() -> None:
    init_t = [_t(0, ()), _t(1, (1, 4))]
    main = [Op(0, "CALL_ONCE", [], [], {"init_subgraph": 1}), _vh(1, 1),
            Op(2, "ASSIGN_VARIABLE", [1, 3], [], {})]
    computing = [_vh(0, 0), Op(1, "RELU", [1], [1], {})]
    with pytest.raises(KwsError, match="init subgraph.*computes with RELU"):
        plan_state(_model(main, computing, init_tensors=init_t))
    with pytest.raises(KwsError, match="subgraph 2 .* not the init subgraph of a CALL_ONCE"):
        plan_state(_model(main, [_vh(0, 0)], init_tensors=init_t, extra=1))
    never = [_vh(0, 1), Op(1, "READ_VARIABLE", [1], [2], {})]
    with pytest.raises(KwsError, match="never assigned"):
        plan_state(_model(never, None))
    m = _model([_vh(0, 1), Op(1, "ASSIGN_VARIABLE", [1, 3], [], {})], None)
    m.tensors[3] = _t(3, (1, 4), dtype="INT16")
    with pytest.raises(KwsError, match="only int8 variables"):
        plan_state(m)


# ------------------------------------------------------------------ the Cortex-M4 under QEMU


def _qemu_ready() -> None:
    pytest.importorskip("kws.qemu", reason="kws.qemu (firmware infrastructure) runs QEMU")
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["delay", "stream_conv", *MWW_MODELS,
                                  *(f"{n}_int8" for n in MWW_MODELS)])
def test_stateful_parity_on_the_m4(name: str) -> None:
    """model_runner on the M4 (DSP path): state carried over the records, kws_model_reset
    before record RESET_AT; outputs == TFLM's."""
    _qemu_ready()
    from kws.runtime import target

    if name in ("delay", "stream_conv"):
        path = ensure_model(name)
    else:
        path = mww_model(name.removesuffix("_int8"), int8=name.endswith("_int8"))
    _needs_ops(path)
    xs = _inputs(path, seed=3)
    want, _ = tflm_sequence(path, xs, reset_at=RESET_AT)
    got = target.run_qemu(path, xs, path="dsp", reset_at=RESET_AT)
    bad = [i for i in range(len(xs))
           if not np.array_equal(got[i].view(np.uint8), want[i].view(np.uint8))]
    assert not bad, f"{name} M4: calls {bad[:10]} differ ({len(bad)})"
