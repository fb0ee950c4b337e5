"""The added operators and the user-style networks on the Cortex-M4 (QEMU) against TFLM.

A modest count per model in the default run (CI time); the slow run checks 50 inputs each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.qemu

pytest.importorskip("tensorflow", reason="TensorFlow generates the test models")
pytest.importorskip("tflite_micro", reason="tflite-micro is the reference interpreter")
pytest.importorskip("kws.qemu", reason="kws.qemu (firmware infrastructure) runs QEMU")
for _tool in ("qemu-system-arm", "arm-none-eabi-gcc", "cmake"):
    if shutil.which(_tool) is None:
        pytest.skip(f"{_tool} is not installed", allow_module_level=True)

from kws.export.tflite_model import load_tflite
from kws.runtime import target
from kws.runtime.infer import run_tflm
from kws.runtime.testmodels import ensure_model, parity_inputs

DATA = Path(__file__).parent / "data" / "models"
#: Default run: models that together hold every added operator but PAD and STRIDED_SLICE
#: (in the slow run; M4 builds are slow).
MODELS = [("keras_tc_resnet", "dsp"), ("keras_bc_resnet", "dsp"), ("keras_maxpool_concat", "dsp"),
          ("op_split_3", "dsp"), ("op_logistic_1", "dsp")]
#: Slow run: these too, with more inputs.
MORE_MODELS = MODELS + [("keras_ds_cnn_flatten", "dsp"), ("mlperf_ic_resnet_quant", "dsp"),
                        ("mlperf_kws_ref_model", "dsp"), ("mlperf_str_ww_ref_model", "dsp"),
                        ("mlperf_ad01_int8", "dsp"), ("tflm_micro_speech_quantized", "dsp"),
                        ("op_add_1", "portable"), ("op_mul_2", "dsp"), ("op_slice_1", "dsp"),
                        ("op_pad_0", "dsp"), ("op_mean_1", "dsp")]


def _model(name: str) -> Path:
    return DATA / f"{name}.tflite" if name.startswith(("mlperf", "tflm")) else ensure_model(name)


def _check(name: str, path: str, n: int) -> None:
    model = _model(name)
    m = load_tflite(model)
    x = m.tensors[m.inputs[0]]
    xs = parity_inputs(x.shape, int(x.zero_point[0]), n=n, seed=5)
    got = target.run_qemu(model, xs, path=path)
    want = run_tflm(model, xs)
    bad = np.flatnonzero((got != want).reshape(n, -1).any(axis=1))
    assert bad.size == 0, f"{name} {path}: {bad.size}/{n} inputs differ on the M4"


@pytest.mark.parametrize("name,path", MODELS)
def test_m4_matches_tflm(name: str, path: str) -> None:
    _check(name, path, 8)


@pytest.mark.slow
@pytest.mark.parametrize("name,path", MORE_MODELS)
def test_m4_matches_tflm_more_inputs(name: str, path: str) -> None:
    _check(name, path, 50)
