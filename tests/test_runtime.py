"""The int8 C runtime and `kws export` against the TFLite Micro reference interpreter.

Parity is exact equality of int8 outputs, over 200 random and adversarial inputs per model, for
DS-CNN S / M / L, a tiny model and random single-layer models, on both C paths (portable, and
the Cortex-M4 DSP path with emulated intrinsics).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess

import numpy as np
import pytest

from kws.errors import KwsError
from kws.export import export_model, quant
from kws.export.planner import Buffer, check_plan, plan
from kws.export.tflite_model import load_tflite, parse_tflite
from kws.frontend.settings import FrontendSettings

tf = pytest.importorskip("tensorflow", reason="TensorFlow generates the test models")
pytest.importorskip("tflite_micro", reason="tflite-micro is the reference interpreter")
if shutil.which("cmake") is None or shutil.which("cc") is None:
    pytest.skip("cmake and a C compiler build the runtime", allow_module_level=True)

from kws.runtime.host import HostModel  # noqa: E402
from kws.runtime.infer import infer, run_tflm  # noqa: E402
from kws.runtime.testmodels import RANDOM_KINDS, ensure_model, parity_inputs  # noqa: E402

NUM_INPUTS = 200
# DS-CNN-L (200 inputs through TFLM and two C builds) takes ~40 s on a loaded 2-core machine.
FULL_MODELS = ["tiny", "ds_cnn_s", "ds_cnn_m", pytest.param("ds_cnn_l", marks=pytest.mark.slow)]
RANDOM_MODELS = [f"random_{k}_{s}" for k in RANDOM_KINDS for s in range(3)]
# dw3x3 seeds with VALID padding (seeds 0-2 are all SAME): odd width 7, 10 channels
RANDOM_MODELS += ["random_dw3x3_6", "random_dw3x3_11"]


def _check_parity(name: str) -> None:
    path = ensure_model(name)
    m = load_tflite(path)
    x = m.tensors[m.inputs[0]]
    xs = parity_inputs(x.shape, int(x.zero_point[0]), n=NUM_INPUTS, seed=len(name))
    want = run_tflm(path, xs)
    variants = [("portable", False), ("dsp", False)]
    for kernel_path, int8_dw in variants:
        hm = HostModel(path, path=kernel_path, int8_depthwise=int8_dw)
        got = np.stack([hm.invoke(v) for v in xs])
        bad = np.flatnonzero((got != want).reshape(len(xs), -1).any(axis=1))
        assert bad.size == 0, f"{name} {kernel_path}: {bad.size}/{len(xs)} inputs differ"
        if (kernel_path, int8_dw) == ("dsp", False) and any(
                "dw_data" in l.arrays for l in hm.export.layers):
            variants.append(("dsp", True))  # also the int8 depthwise kernels (the blob's)


@pytest.mark.parametrize("name", FULL_MODELS)
def test_parity_full_models(name: str) -> None:
    _check_parity(name)


@pytest.mark.parametrize("name", RANDOM_MODELS)
def test_parity_random_single_layer(name: str) -> None:
    _check_parity(name)


def test_int16_pointwise_export_and_parity(tmp_path) -> None:
    """`kws export --int16-pointwise`: the prepared pointwise layout (more const data than the
    default int8 export) gives the same outputs as TFLM on both C paths."""
    path = ensure_model("ds_cnn_s")
    full = export_model(path, tmp_path / "full", prepare=True, allow_unknown_frontend=True)
    small = export_model(path, tmp_path / "small", allow_unknown_frontend=True)
    assert "kws_pointwise_conv_s8_prepared(" in full.source.read_text()
    assert "kws_pointwise_conv_s8_prepared(" not in small.source.read_text()
    assert small.weight_bytes < full.weight_bytes
    m = load_tflite(path)
    x = m.tensors[m.inputs[0]]
    xs = parity_inputs(x.shape, int(x.zero_point[0]), n=NUM_INPUTS, seed=3)
    want = run_tflm(path, xs)
    for kernel_path in ("portable", "dsp"):
        hm = HostModel(path, path=kernel_path, prepare=True)
        got = np.stack([hm.invoke(v) for v in xs])
        assert np.array_equal(got, want), kernel_path


def test_parity_on_real_speech_features(real_audio) -> None:
    """DS-CNN-S and the tiny model on the front end's features of real recordings."""
    import soundfile as sf

    from kws.audio import AUDIO_SUFFIXES
    from kws.fileio import class_files
    from kws.frontend.fixed import features_numpy

    fe = FrontendSettings()
    clips = []
    for word, wav in class_files(real_audio, AUDIO_SUFFIXES)[:60]:
        if word.startswith("_"):
            continue
        x, sr = sf.read(wav, dtype="int16")
        if sr != fe.sample_rate or x.ndim != 1:
            continue
        clip = np.zeros(fe.clip_samples, np.int16)
        clip[:min(len(x), len(clip))] = x[:len(clip)]
        clips.append(clip)
    assert clips, "no 16 kHz mono clips found"
    feats = features_numpy(np.stack(clips), fe).astype(np.int8)[..., None][:, None]
    for name in ("tiny", "ds_cnn_s"):
        path = ensure_model(name)
        want = run_tflm(path, feats)
        for kernel_path in ("portable", "dsp"):
            hm = HostModel(path, path=kernel_path)
            np.testing.assert_array_equal(np.stack([hm.invoke(f) for f in feats]), want)


def test_outputs_are_not_degenerate() -> None:
    """The parity inputs must drive the models to many different outputs (a meaningful test)."""
    path = ensure_model("tiny")
    m = load_tflite(path)
    x = m.tensors[m.inputs[0]]
    ys = run_tflm(path, parity_inputs(x.shape, int(x.zero_point[0])))
    assert len({y.tobytes() for y in ys}) > 50


# ---------------------------------------------------------------- requantization parameters
def test_quantize_multiplier_rounds_half_away_from_zero() -> None:
    # q * 2^31 = 2^30 + 2.5: std::round gives 2^30 + 3, Python's round would give 2^30 + 2.
    real = ((1 << 30) + 2.5) / (1 << 31)
    assert quant.quantize_multiplier(real) == ((1 << 30) + 3, 0)
    assert quant.quantize_multiplier(0.0) == (0, 0)
    assert quant.quantize_multiplier(1.0) == (1 << 30, 1)
    assert quant.quantize_multiplier(2.0 ** -40) == (0, 0)
    # just below 1.0: rounds up to 2^31, renormalized
    assert quant.quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)


def test_quantize_multiplier_matches_frexp_definition() -> None:
    rng = np.random.default_rng(1)
    for real in 10.0 ** rng.uniform(-8, 2, 500):
        m, s = quant.quantize_multiplier(float(real))
        assert (1 << 30) <= m < (1 << 31)
        assert abs(m * 2.0 ** (s - 31) - real) <= 2.0 ** (s - 32) * 1.0000001


def test_activation_range() -> None:
    assert quant.activation_range("NONE", 0.1, 5) == (-128, 127)
    assert quant.activation_range("RELU", 0.1, 5) == (5, 127)
    assert quant.activation_range("RELU6", 0.1, -128) == (-128, -68)


# ---------------------------------------------------------------- planner
def test_planner_never_overlaps_live_buffers() -> None:
    rng = np.random.default_rng(2)
    for _ in range(200):
        bufs = []
        for i in range(int(rng.integers(1, 12))):
            a = int(rng.integers(0, 10))
            bufs.append(Buffer(f"b{i}", int(rng.integers(1, 500)), a, a + int(rng.integers(0, 4))))
        size = plan(bufs)
        check_plan(bufs)
        assert all(b.offset % 4 == 0 and b.offset + b.size <= size for b in bufs)
        # never worse than giving every buffer its own space
        assert size <= sum((b.size + 3) // 4 * 4 for b in bufs)


def test_ds_cnn_s_arena_is_two_activation_maps(tmp_path) -> None:
    r = export_model(ensure_model("ds_cnn_s"), tmp_path, allow_unknown_frontend=True)
    # ping-pong between 25x5x64 maps (TFLM's planner: the same 16,000 B); the pointwise layers
    # keep their two widened filter rows in their dying input and output, the depthwise layers
    # run on prepared weights without scratch
    assert r.arena.size == 2 * 25 * 5 * 64
    pw = [l for l in r.layers if l.kernel == "pointwise"]
    assert len(pw) == 4 and all(l.reuse_input and l.scratch == 0 for l in pw)
    assert "kws_pointwise_conv_s8_reusing(" in (tmp_path / "kws_model.c").read_text()
    small = export_model(ensure_model("ds_cnn_s"), tmp_path / "small", min_arena=True,
                         allow_unknown_frontend=True)
    assert small.arena.size == 2 * 25 * 5 * 64  # pointwise on its scratch-free path
    assert all(l.scratch == 0 and not l.reuse_input for l in small.layers
               if l.kernel == "pointwise")
    assert all(l.scratch == 0 for l in r.layers if l.kernel == "depthwise")
    assert r.arena.size <= 0.75 * 22_820  # TFLM's arena for DS-CNN-S on the M4 (cited)
    maps = 25 * 5 * 64
    assert r.macs == maps * 40 + 4 * (maps * 9 + maps * 64) + maps + 64 * 12


# ---------------------------------------------------------------- generated code
def _compile(src_dir, *defines: str) -> subprocess.CompletedProcess:
    from kws.runtime.host import common_include_dir, runtime_dir

    return subprocess.run(["cc", "-std=c99", "-pedantic", "-Wall", "-Werror", "-c",
                           f"-I{runtime_dir() / 'include'}", f"-I{common_include_dir()}",
                           *defines,
                           str(src_dir / "kws_model.c"), "-o", str(src_dir / "m.o")],
                          capture_output=True, text=True)


def test_header_carries_shapes_labels_and_settings_hash(tmp_path) -> None:
    model = tmp_path / "model.tflite"
    shutil.copy(ensure_model("tiny"), model)
    (tmp_path / "labels.txt").write_text("yes\nno\nup\n\"odd\"\n")
    fe = FrontendSettings(num_mel=32)
    (tmp_path / "settings.json").write_text(fe.to_json())
    r = export_model(model, tmp_path / "out")
    h = r.header.read_text()
    assert "#define KWS_MODEL_INPUT_SHAPE {1, 49, 10, 1}" in h
    assert "#define KWS_MODEL_INPUT_ZERO_POINT 78" in h
    assert "#define KWS_MODEL_OUTPUT_SHAPE {1, 4}" in h
    assert '#define KWS_MODEL_LABELS {"yes", "no", "up", "\\"odd\\""}' in h
    assert f"#define KWS_MODEL_FRONTEND_SETTINGS_HASH 0x{fe.hash():08x}u" in h
    assert f"#define KWS_MODEL_ARENA_BYTES {r.arena.size}" in h
    out = tmp_path / "out"
    assert _compile(out).returncode == 0
    assert _compile(out, f"-DKWS_FRONTEND_SETTINGS_HASH=0x{fe.hash():08x}u").returncode == 0
    bad = _compile(out, f"-DKWS_FRONTEND_SETTINGS_HASH=0x{fe.hash() ^ 1:08x}u")
    assert bad.returncode != 0 and "front-end settings" in bad.stderr


def test_wrong_number_of_labels(tmp_path) -> None:
    model = tmp_path / "model.tflite"
    shutil.copy(ensure_model("tiny"), model)
    (tmp_path / "labels.txt").write_text("yes\nno\n")
    with pytest.raises(KwsError, match="labels.txt: 2 labels for a model with 4 outputs"):
        export_model(model, tmp_path / "out")


# ---------------------------------------------------------------- bad input
def test_truncated_and_corrupted_models(tmp_path) -> None:
    data = ensure_model("tiny").read_bytes()
    with pytest.raises(KwsError, match="not a TensorFlow Lite model"):
        parse_tflite(b"hello world, not a model", name="x.tflite")
    rng = np.random.default_rng(3)
    for cut in (8, 100, len(data) // 2, len(data) - 10):
        with pytest.raises(KwsError, match="x.tflite"):
            parse_tflite(data[:cut], name="x.tflite")
    for _ in range(30):  # random byte corruption: a clear error, or a model that still parses
        buf = bytearray(data)
        for pos in rng.integers(8, len(buf), 20):
            buf[pos] = int(rng.integers(0, 256))
        try:
            parse_tflite(bytes(buf), name="x.tflite")
        except KwsError as exc:
            assert "x.tflite" in str(exc) and "\n" not in str(exc)
    with pytest.raises(KwsError, match="cannot read"):
        export_model(tmp_path / "missing.tflite", tmp_path)


def _convert(model, sample_shape, dtype_int8: bool = True) -> bytes:
    def rep():
        for _ in range(4):
            yield [np.random.default_rng(0).uniform(-1, 1, (1,) + sample_shape).astype(np.float32)]
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if dtype_int8:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def test_unsupported_op_is_named(tmp_path) -> None:
    inp = tf.keras.layers.Input((8,), batch_size=1)
    out = tf.keras.layers.Dense(4)(tf.keras.layers.Activation("tanh")(inp))
    path = tmp_path / "tanh.tflite"
    path.write_bytes(_convert(tf.keras.Model(inp, out), (8,)))
    with pytest.raises(KwsError, match=r"operator 0: TANH is not supported by the C runtime"):
        export_model(path, tmp_path / "out", allow_unknown_frontend=True)


def test_float_model_is_rejected(tmp_path) -> None:
    inp = tf.keras.layers.Input((8,), batch_size=1)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(4)(inp))
    path = tmp_path / "float.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    with pytest.raises(KwsError, match="FLOAT32: float32 activations are not supported"):
        export_model(path, tmp_path / "out", allow_unknown_frontend=True)


def test_infer_rejects_wrong_shape_and_dtype() -> None:
    path = ensure_model("tiny")
    with pytest.raises(KwsError, match=r"input shape \(3, 49, 11\) does not match"):
        infer(path, np.zeros((3, 49, 11), np.int8), backend="c")
    with pytest.raises(KwsError, match="dtype is float32"):
        infer(path, np.zeros((1, 49, 10, 1), np.float32), backend="c")
    with pytest.raises(KwsError, match="backend 'gpu'"):
        infer(path, np.zeros((1, 49, 10, 1), np.int8), backend="gpu")


def test_cli_infer_and_export(tmp_path) -> None:
    from kws.commands import export as export_cmd
    from kws.commands import infer as infer_cmd

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    export_cmd.register(sub)
    infer_cmd.register(sub)
    path = ensure_model("tiny")
    xs = parity_inputs((1, 49, 10, 1), 78, n=20)
    np.save(tmp_path / "in.npy", xs)
    outs = {}
    for backend in ("tflm", "c"):
        args = parser.parse_args(["infer", str(path), str(tmp_path / "in.npy"), "--backend",
                                  backend, "--out", str(tmp_path / f"{backend}.npy")])
        assert args.func(args) == 0
        outs[backend] = np.load(tmp_path / f"{backend}.npy")
    assert outs["c"].dtype == np.int8 and outs["c"].shape == (20, 1, 4)
    np.testing.assert_array_equal(outs["c"], outs["tflm"])
    args = parser.parse_args(["export", str(path), "--out", str(tmp_path / "gen"),
                              "--frontend-unknown"])
    assert args.func(args) == 0
    assert (tmp_path / "gen" / "kws_model.c").exists()


@pytest.mark.parametrize("kernel_path", ["portable", "dsp"])
def test_kernels_reject_null_short_and_bad_config(kernel_path: str) -> None:
    from kws.runtime.host import build_runtime

    exe = build_runtime(kernel_path).parent / "kernel_errors"
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    assert "0 failures" in proc.stdout


@pytest.mark.parametrize("kernel_path", ["portable", "dsp"])
def test_conv_kernels_match_reference_loops(kernel_path: str) -> None:
    """Depthwise 3x3 stride 1 (DSP: the int16 plane kernel), conv2d (DSP: int8 im2col blocks,
    several blocks included) and pointwise (DSP: the shared dot core) == inline TFLite reference
    loops, in every DSP output mode (fast requantization with SSAT or min / max clamp, exact
    per channel and per layer), average pool (DSP: 16-bit lane sums) and fully connected, over
    random and adversarial inputs, then depthwise of any kernel ((k, 1), (1, k), rectangular),
    stride and padding, mostly few-pixel (DSP: the direct path of streaming steps), the
    prepared depthwise kernel (any kernel; depth multipliers 2, 4, 8, 12 and 4..40 on one
    channel; the three-tap pair kernel under adversarial requantization) and the streaming
    step's running average pool over sequences of up to 2.5 windows with resets: ~33,500
    cases, ~5.8 M outputs."""
    from kws.runtime.host import build_runtime

    exe = build_runtime(kernel_path).parent / "kernel_fuzz"
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    assert "2564 cases 1024375 outputs 0 mismatches" in proc.stdout
    assert "dw any: 2113 cases 224812 outputs 0 mismatches" in proc.stdout
    assert "3000 cases (104 multi-block) 322601 outputs 0 mismatches" in proc.stdout
    assert "prepared pointwise: 375 cases 45169 outputs 0 mismatches" in proc.stdout
    assert "avgpool: 2000 cases 398978 outputs 0 mismatches" in proc.stdout
    assert "fc: 2000 cases 9982 outputs 0 mismatches" in proc.stdout
    # ADD with its tables (kws_add_s8_tables; the DSP path) and without, and MUL
    assert "add/mul: 4473 cases 607065 outputs 0 mismatches" in proc.stdout
    assert "strided slice: 3000 cases 44543 outputs 0 mismatches" in proc.stdout
    assert "maxpool: 2000 cases 251656 outputs 0 mismatches" in proc.stdout
    assert "mean: 3000 cases 159159 outputs 0 mismatches" in proc.stdout
    assert "dw prepared: 2028 cases 495090 outputs 0 mismatches" in proc.stdout
    assert ("dw prepared (depth multiplier): 2108 cases 655930 outputs 0 mismatches"
            in proc.stdout)
    assert ("dw prepared (three-tap pairs): 1479 cases 675444 outputs 0 mismatches"
            in proc.stdout)
    # the pair kernel with k - 1 planted in its data (positive ties rounded down): caught on
    # the DSP path (the portable path does not read the pair section)
    caught = 130 if kernel_path == "dsp" else 0
    assert f"(three-tap pairs, k - 1 planted): {caught} of 1479 cases caught" in proc.stdout
    assert "avgpool running: 400 cases 522210 outputs 0 mismatches" in proc.stdout
    # the pointwise kernel keeping its widened rows in its input and output (the DSP path; the
    # portable path never needs them)
    reusing = 331 if kernel_path == "dsp" else 0
    assert (f"pointwise reusing its input: 1500 cases ({reusing} reusing) 184972 outputs "
            "0 mismatches") in proc.stdout


@pytest.mark.parametrize("kernel_path", ["portable", "dsp"])
def test_fused_requantization_equals_two_step(kernel_path: str) -> None:
    """kws_rq1_apply (one 64-bit rounding) == kws_requantize over ~30 M adversarial cases, and
    on the DSP path the fast kws_rqf_apply too, over ~12.7 M."""
    from kws.runtime.host import build_runtime

    exe = build_runtime(kernel_path).parent / "requant_fused"
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    assert "30072480 checks, 0 failures" in proc.stdout
    if kernel_path == "dsp":  # kws_rqf_apply (SMMULR of 2 acc) == kws_requantize + offset
        assert "rqf: 12659328 checks, 0 failures" in proc.stdout


def test_cli_main_exit_codes(tmp_path, capsys) -> None:
    from kws.cli import main

    path = ensure_model("tiny")
    np.save(tmp_path / "bad.npy", np.zeros((2, 49, 11), np.int8))
    assert main(["infer", str(path), str(tmp_path / "bad.npy"), "--out",
                 str(tmp_path / "y.npy")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kws: error:") and "does not match" in err and err.count("\n") == 1
    assert not (tmp_path / "y.npy").exists()
    (tmp_path / "junk.tflite").write_bytes(b"\x00" * 64)
    assert main(["export", str(tmp_path / "junk.tflite"), "--out", str(tmp_path / "o")]) == 2
    assert "junk.tflite" in capsys.readouterr().err
