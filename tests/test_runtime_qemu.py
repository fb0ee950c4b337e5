"""The C runtime on the Cortex-M4 (mps2-an386 under QEMU) against TFLite Micro, bit for bit.

A subset of the host parity models: the generated model and the runtime are cross-compiled
(DSP path with real SXTB16 / SMLAD, and the portable path) and run on the emulated M4.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytestmark = pytest.mark.qemu

pytest.importorskip("tensorflow", reason="TensorFlow generates the test models")
pytest.importorskip("tflite_micro", reason="tflite-micro is the reference interpreter")
pytest.importorskip("kws.qemu", reason="kws.qemu (firmware infrastructure) runs QEMU")
for _tool in ("qemu-system-arm", "arm-none-eabi-gcc", "cmake"):
    if shutil.which(_tool) is None:
        pytest.skip(f"{_tool} is not installed", allow_module_level=True)

from kws.export.tflite_model import load_tflite  # noqa: E402
from kws.runtime import target  # noqa: E402
from kws.runtime.infer import infer, run_tflm  # noqa: E402
from kws.runtime.testmodels import ensure_model, parity_inputs  # noqa: E402


@pytest.mark.parametrize("name,path,n", [
    ("ds_cnn_s", "dsp", 200),
    ("ds_cnn_s", "dsp-pw16", 100),
    ("tiny", "dsp", 200),
    ("tiny", "portable", 50),
    ("random_conv_0", "dsp", 50),
    ("random_depthwise_1", "dsp", 50),
    ("random_dw3x3_0", "dsp", 50),
    ("random_dw3x3_2", "dsp", 50),
    ("random_pointwise_2", "dsp", 50),
    ("random_dense_0", "dsp", 50),
    ("random_softmax_1", "dsp", 50),
    ("random_avgpool_2", "dsp", 50),
])
def test_m4_matches_tflm(name: str, path: str, n: int) -> None:
    model = ensure_model(name)
    m = load_tflite(model)
    x = m.tensors[m.inputs[0]]
    xs = parity_inputs(x.shape, int(x.zero_point[0]), n=n, seed=7)
    kernels, _, variant = path.partition("-")  # "dsp-pw16": kws export --int16-pointwise
    got = target.run_qemu(model, xs, path=kernels, prepare=variant == "pw16")
    want = run_tflm(model, xs)
    bad = np.flatnonzero((got != want).reshape(n, -1).any(axis=1))
    assert bad.size == 0, f"{name} {path}: {bad.size}/{n} inputs differ on the M4"


def test_infer_backend_qemu() -> None:
    model = ensure_model("tiny")
    xs = parity_inputs((1, 49, 10, 1), 78, n=5)
    np.testing.assert_array_equal(infer(model, xs, backend="qemu"), run_tflm(model, xs))


def test_layer_counts_cover_the_inference() -> None:
    """Per-layer instruction counts are positive and add up to (nearly) the whole inference."""
    from kws import qemu

    if not (qemu.THIRD_PARTY / "qemu" / "qemu-plugin.h").is_file():
        pytest.skip("third_party/qemu missing: run scripts/fetch_third_party.sh")
    model = ensure_model("tiny")
    layers, total = target.count_layers(model, parity_inputs((1, 49, 10, 1), 78, n=1)[0])
    assert all(l.instructions > 0 for l in layers)
    assert 0.9 * total < sum(l.instructions for l in layers) < total


def test_m4_kernels_match_reference_loops() -> None:
    """kernel_fuzz.c on the M4 (the assembly paths of depthwise, pointwise and conv2d in every
    output mode) against its inline TFLite reference loops: the same cases as on the host."""
    from kws import qemu

    m = target.build_m4_model(ensure_model("tiny"), path="dsp")
    res = qemu.run_elf(m.elf.parent / "kernel_fuzz.elf", timeout=300)
    assert res.exit_code == 0, res.stdout[-2000:]
    assert "2564 cases 1024375 outputs 0 mismatches" in res.stdout
    assert "dw any: 2113 cases 224812 outputs 0 mismatches" in res.stdout
    assert "3000 cases (104 multi-block) 322601 outputs 0 mismatches" in res.stdout
    assert "prepared pointwise: 375 cases 45169 outputs 0 mismatches" in res.stdout
    assert "avgpool: 2000 cases 398978 outputs 0 mismatches" in res.stdout
    assert "fc: 2000 cases 9982 outputs 0 mismatches" in res.stdout
    assert "add/mul: 4473 cases 607065 outputs 0 mismatches" in res.stdout
    assert "strided slice: 3000 cases 44543 outputs 0 mismatches" in res.stdout
    assert "maxpool: 2000 cases 251656 outputs 0 mismatches" in res.stdout
    assert "mean: 3000 cases 159159 outputs 0 mismatches" in res.stdout
    assert "dw prepared: 2028 cases 495090 outputs 0 mismatches" in res.stdout
    assert ("dw prepared (depth multiplier): 2108 cases 655930 outputs 0 mismatches"
            in res.stdout)
    assert ("dw prepared (three-tap pairs): 1479 cases 675444 outputs 0 mismatches"
            in res.stdout)
    # the pair kernel with k - 1 planted in its data (positive ties rounded down): caught
    assert "(three-tap pairs, k - 1 planted): 130 of 1479 cases caught" in res.stdout
    assert ("pointwise reusing its input: 1500 cases (331 reusing) 184972 outputs 0 mismatches"
            in res.stdout)
    assert "avgpool running: 400 cases 522210 outputs 0 mismatches" in res.stdout


@pytest.mark.parametrize("name", ["stream_tcn", "stream_tcn_max", "stream_ds_cnn", "stream_mix"])
def test_stream_step_on_m4_equals_tflm(name: str) -> None:
    """kws_model_step on the M4 (DSP path, real SXTB16 / SMLAD) == TFLM's window model at every
    step with a full window, across a reset in the middle (the refill after dropped frames)."""
    from test_streaming import stream_frames, windows

    path = ensure_model(name)
    frames = stream_frames(260, 0, seed=11)
    resets = np.zeros(len(frames), bool)
    resets[150] = True                       # frames before 150 are forgotten
    ys, ready = target.run_qemu_steps(path, frames, resets=resets)
    assert not ready[:48].any() and ready[48:150].all()
    assert not ready[150:198].any() and ready[198:].all()
    for lo, hi in ((0, 150), (150, len(frames))):
        want = run_tflm(path, windows(frames[lo:hi], 49)).reshape(-1, ys.shape[1])
        assert np.array_equal(ys[lo + 48:hi], want), (name, lo)
