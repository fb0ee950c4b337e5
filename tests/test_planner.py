"""The arena planner against TensorFlow Lite Micro's (the host interpreter's arena head).

For every corpus model here: the placement alone (every kernel scratch 0) is never larger
than TFLM's head, and the whole arena is at most TFLM's head, except by the scratch of a DSP
kernel live at the peak (which TFLM's reference kernels do not have) on the models listed in
SCRATCH_AT_PEAK. The input and output kept in the arena give the same outputs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from kws.export.planner import Buffer, check_plan

pytest.importorskip("tensorflow", reason="TensorFlow generates the test models")
pytest.importorskip("tflite_micro", reason="tflite-micro is the reference interpreter")
if shutil.which("cmake") is None or shutil.which("cc") is None:
    pytest.skip("cmake and a C compiler build the runtime", allow_module_level=True)

from kws.export import export_model  # noqa: E402
from kws.export.tflite_model import load_tflite  # noqa: E402
from kws.paths import REPO_ROOT  # noqa: E402
from kws.runtime import stateful_testmodels as st  # noqa: E402
from kws.runtime.arena_compare import compare  # noqa: E402
from kws.runtime.host import HostModel  # noqa: E402
from kws.runtime.infer import run_tflm  # noqa: E402
from kws.runtime.testmodels import ensure_model, parity_inputs  # noqa: E402

#: Models whose arena exceeds TFLM's head by kernel scratch live at the peak: the depthwise
#: 3 x 3 int16 plane (DS-CNNs), the pointwise kernel's widened filter rows (tiny), ADD's
#: rescaling tables (residual networks).
SCRATCH_AT_PEAK = {"ds_cnn_s", "mlperf_kws_ref_model", "tiny", "keras_ds_cnn_flatten",
                   "keras_tc_resnet", "keras_bc_resnet", "mlperf_ic_resnet_quant"}

GENERATED = ["tiny", "ds_cnn_s", "ds_cnn_m", "keras_ds_cnn_flatten", "keras_tc_resnet",
             "keras_bc_resnet", "keras_maxpool_concat"]


def _corpus() -> list[tuple[str, Path]]:
    out = [(n, ensure_model(n)) for n in GENERATED]
    out += [(n, st.ensure_model(n)) for n in st.NAMES]
    try:
        out += [(f"mww_{n}_int8", st.micro_wakeword_int8(n))
                for n in ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu")]
    except Exception:  # pymicro-wakeword not installed
        pass
    out += [(p.stem, p) for p in sorted((REPO_ROOT / "tests" / "data" / "models")
                                        .glob("*.tflite"))]
    return out


def test_arena_against_tflm_planner() -> None:
    rows, bad = [], []
    for name, path in _corpus():
        try:
            c = compare(path)
        except Exception as exc:  # an operator not lowered: not this test's subject
            if "not supported" in str(exc):
                continue
            raise
        rows.append((name, c.kws, c.tensors_only, c.peak_scratch, c.tflm_head))
        if c.tensors_only > c.tflm_head:
            bad.append(f"{name}: placement {c.tensors_only} > TFLM {c.tflm_head}")
        limit = c.tflm_head + (c.peak_scratch if name in SCRATCH_AT_PEAK else 0)
        if c.kws > limit:
            bad.append(f"{name}: arena {c.kws} > TFLM {c.tflm_head} (+ peak scratch "
                       f"{c.peak_scratch if name in SCRATCH_AT_PEAK else 0})")
    assert len(rows) >= 12, rows
    assert not bad, "\n".join(bad)


def test_one_pixel_conv_is_a_dense_layer() -> None:
    """A conv whose window is its whole input (the streaming conv over the ring buffer) runs
    as a fully connected layer: no im2col scratch, below TFLM's head."""
    c = compare(st.ensure_model("stream_conv"))
    assert c.peak_scratch == 0 and c.kws <= c.tflm_head


def test_state_aliasing_beats_tflm_on_micro_wakeword() -> None:
    """Reads and assignments alias the ring buffers: no copies of them in the arena."""
    pytest.importorskip("pymicro_wakeword")
    c = compare(st.micro_wakeword_int8("hey_jarvis"))
    assert c.kws <= 0.5 * c.tflm_head


@pytest.mark.parametrize("name", ["tiny", "ds_cnn_s", "random_conv_2", "random_dense_0",
                                  "random_softmax_0", "delay"])
def test_io_in_the_arena_gives_the_same_outputs(name: str) -> None:
    path = st.ensure_model(name) if name in st.NAMES else ensure_model(name)
    m = load_tflite(path)
    x = m.tensors[m.inputs[0]]
    xs = parity_inputs(x.shape, int(x.zero_point[0]), n=60, seed=5)
    want = run_tflm(path, xs)
    hm = HostModel(path, path="dsp", io_in_arena=True)
    plan = hm.export.arena
    assert {"input", "output"} <= set(plan.offsets)
    got = np.stack([hm.invoke(v) for v in xs])
    assert np.array_equal(got, want)


def test_conv_scratch_shrinks_only_where_it_is_the_peak(tmp_path: Path) -> None:
    """DS-CNN-S's first conv is not the peak: it keeps its whole im2col block; a plain-Keras
    DS-CNN whose conv is the peak gets fewer columns, no less than two."""
    ds = export_model(ensure_model("ds_cnn_s"), tmp_path / "s",
                      allow_unknown_frontend=True)
    conv = next(l for l in ds.layers if l.kernel == "conv2d")
    kk = conv.params["k_h"] * conv.params["k_w"] * conv.params["in_c"]
    assert conv.scratch == 4 * (kk // 4 * 4) + kk * conv.params["out_h"] * conv.params["out_w"]
    k = export_model(ensure_model("keras_ds_cnn_flatten"), tmp_path / "k",
                     allow_unknown_frontend=True)
    conv = next(l for l in k.layers if l.kernel == "conv2d")
    assert conv.scratch_min <= conv.scratch
    assert conv.scratch < 4 * (40 // 4 * 4) + 40 * conv.params["out_h"] * conv.params["out_w"]
    assert f"{conv.scratch})" in k.source.read_text()
    check_plan(k.arena.buffers)


def test_check_plan_catches_overlap() -> None:
    a, b = Buffer("a", 8, 0, 2, 0), Buffer("b", 8, 2, 3, 4)
    with pytest.raises(AssertionError):
        check_plan([a, b])
