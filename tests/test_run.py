"""kws.run: the one writer and reader of a RUN folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kws import run as kr
from kws.detect import DetectorSettings
from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings

LABELS = ("_silence_", "_unknown_", "yes", "no")


def _write(folder: Path, **extra) -> Path:
    return kr.write_run(folder, model=b"int8 bytes", labels=LABELS,
                        settings=FrontendSettings(num_mel=32), **extra)


def test_round_trip(tmp_path: Path) -> None:
    det = DetectorSettings.default_for(LABELS, threshold=150, average_window=4)
    run = _write(tmp_path / "run", float_model=b"float bytes", detector=det)
    assert run == tmp_path / "run"
    for where in (run, run / kr.MODEL):      # the folder or the model file
        assert kr.model_path(where) == run / kr.MODEL
        assert kr.read_model(where) == b"int8 bytes"
        assert kr.read_float_model(where) == b"float bytes"
        assert kr.read_labels(where, num_classes=4) == LABELS
        assert kr.read_settings(where) == FrontendSettings(num_mel=32)
        assert kr.read_detector(where) == det
    assert kr.read_float_model(run / kr.FLOAT_MODEL) is None    # the float model itself
    kr.write_metrics(run, {"val_accuracy_synthetic": 0.5})
    assert kr.read_metrics(run / kr.MODEL) == {"val_accuracy_synthetic": 0.5}


def test_missing_optional_files_have_their_documented_meaning(tmp_path: Path) -> None:
    (tmp_path / kr.MODEL).write_bytes(b"m")
    assert kr.read_labels(tmp_path, num_classes=3) == ("class_0", "class_1", "class_2")
    assert kr.read_settings(tmp_path) == FrontendSettings()
    assert kr.read_detector(tmp_path) is None
    assert kr.read_float_model(tmp_path) is None
    with pytest.raises(KwsError, match="metrics.json: missing"):
        kr.read_metrics(tmp_path)


def test_missing_model(tmp_path: Path) -> None:
    with pytest.raises(KwsError, match=r"model.tflite: no such model file"):
        kr.model_path(tmp_path)
    with pytest.raises(KwsError, match=r"x.tflite: no such model file"):
        kr.read_model(tmp_path / "x.tflite")


@pytest.mark.parametrize("name, text, match", [
    (kr.LABELS, "a\nb\n", "labels.txt: 2 labels for a model with 4 outputs"),
    (kr.LABELS, b"\xff\xfe\x00bad", "labels.txt: cannot read"),
    (kr.SETTINGS, "{not json", "settings.json: bad front-end settings"),
    (kr.SETTINGS, "[1, 2]", "settings.json: bad front-end settings"),
    (kr.SETTINGS, '{"num_mel": 32, "bogus": 1}', "settings.json: bad front-end settings"),
    (kr.DETECTOR, "{", "detector.json: bad detector settings"),
    (kr.DETECTOR, '{"labels": ["a"]}', "detector.json: bad detector settings"),
    (kr.METRICS, "[]", "metrics.json: bad metrics"),
])
def test_corrupt_files_name_the_file(tmp_path: Path, name: str, text: str | bytes,
                                     match: str) -> None:
    _write(tmp_path)
    f = tmp_path / name
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    read = {kr.LABELS: lambda: kr.read_labels(tmp_path, num_classes=4),
            kr.SETTINGS: lambda: kr.read_settings(tmp_path),
            kr.DETECTOR: lambda: kr.read_detector(tmp_path),
            kr.METRICS: lambda: kr.read_metrics(tmp_path)}[name]
    with pytest.raises(KwsError, match=match) as err:
        read()
    assert "\n" not in str(err.value)


def test_settings_nested_under_frontend(tmp_path: Path) -> None:
    (tmp_path / kr.SETTINGS).write_text(json.dumps({"frontend": {"num_mel": 32}}))
    assert kr.read_settings(tmp_path) == FrontendSettings(num_mel=32)


def test_write_checks_labels(tmp_path: Path) -> None:
    with pytest.raises(KwsError, match="not a one-line label"):
        kr.write_run(tmp_path, model=b"m", labels=["yes", "two\nlines"],
                     settings=FrontendSettings())
    with pytest.raises(KwsError, match="detector labels"):
        kr.write_run(tmp_path, model=b"m", labels=["yes", "no"], settings=FrontendSettings(),
                     detector=DetectorSettings.default_for(["no", "yes"]))
    assert not (tmp_path / kr.MODEL).exists()    # nothing written on bad input
