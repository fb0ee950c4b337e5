"""Every model that ``kws train`` builds quantizes to ops the C runtime supports, and exports."""

from __future__ import annotations

import numpy as np
import pytest

from kws.export import export_model
from kws.frontend.settings import FrontendSettings
from kws.models import MODELS, build_model
from kws.train.quantize import check_input_quantization, convert, representative_examples


@pytest.mark.parametrize("name", ["ds-cnn-xs", "ds-cnn-s", "ds-cnn-stream", "tcn-stream",
                                  "tcn-stream-max", "tcn-stream-max-96"])
def test_trained_model_family_exports_to_c(tmp_path, name):
    assert name in MODELS
    settings = FrontendSettings()
    model = build_model(name, num_classes=4, settings=settings)
    rng = np.random.default_rng(0)
    feats = rng.integers(-128, 128, size=(16, settings.num_frames, settings.num_outputs),
                         dtype=np.int8)
    tflite = convert(model, representative=representative_examples(feats, settings))
    check_input_quantization(tflite, settings)
    (tmp_path / "model.tflite").write_bytes(tflite)
    (tmp_path / "settings.json").write_text(settings.to_json())
    result = export_model(tmp_path / "model.tflite", tmp_path / "c")
    assert (tmp_path / "c").is_dir() and any((tmp_path / "c").glob("*.c"))
    assert result is not None
