"""The CLI's output is for people: no TensorFlow / absl / TFLite log lines, one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kws.paths import REPO_ROOT
from kws.quiet import _filter, is_log_line
from tests.tiny_data import make_tiny_speech_commands

#: What a TensorFlow, absl or TFLite log line looks like (independent of kws.quiet's pattern).
NOISE = re.compile(r"^[IWEF]\d{4} |absl|tensorflow|oneDNN|fully_quantize|XNNPACK|"
                   r"TF_ENABLE_ONEDNN_OPTS|cuda", re.I)


def _kws(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_", "ABSL_"))}        # as a user's shell has it
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "kws.cli", *args], capture_output=True,
                          text=True, env=env, cwd=REPO_ROOT, timeout=600)


def _noise(stderr: str) -> list[str]:
    lines = [s for s in re.split(r"[\r\n]", stderr) if s.strip()]
    return [s for s in lines if NOISE.search(s)]


def test_train_and_eval_print_no_library_log_lines(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    data = make_tiny_speech_commands(tmp_path / "sc", per_word=8)
    run = tmp_path / "run"
    r = _kws("train", "--words", "yes,no", "--data", "speech-commands", "--data-dir", str(data),
             "--model", "ds-cnn-xs", "--epochs", "1", "--copies", "1", "--out", str(run),
             "--cache-dir", str(tmp_path / "cache"), "--negative-minutes", "0",
             "--noise-dir", str(data / "_background_noise_"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert _noise(r.stderr) == [], r.stderr
    assert "kws: wrote" in r.stderr and "train:" in r.stderr      # ours still shows
    r = _kws("eval", str(run / "model.tflite"), "--wavs", str(data))
    assert r.returncode == 0, r.stderr[-2000:]
    assert _noise(r.stderr) == [] and "accuracy" in r.stdout
    r = _kws("eval", str(tmp_path / "missing.tflite"), "--wavs", str(data))
    assert r.returncode == 2
    assert r.stderr == f"kws: error: {tmp_path / 'missing.tflite'}: no such model file\n"


@pytest.mark.parametrize("line", [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796317231.608412   32626 port.cc:153] oneDNN custom operations are on.",
    "W0000 00:00:1796317231.608412   32626 tf_tfl_flatbuffer_helpers.cc:365] Ignored output",
    "fully_quantize: 0, inference_type: 6, input_inference_type: INT8",
    "2026-12-03 16:51:49.123456: I tensorflow/core/util/port.cc:153] oneDNN custom",
    "WARNING:absl:Compiled the loaded model, but the compiled metrics have yet to be built.",
])
def test_log_lines_are_recognized(line: str) -> None:
    assert is_log_line(line)
    assert _filter((line + "\n").encode(), final=True, idle=True)[0] == b""


def test_other_output_passes_through_unchanged() -> None:
    text = (b"kws: train clips per class: yes 6\r train:  50%|##   | 1/2\r train: 100%|####|"
            b" 2/2\nI0000 00:00:1.2   1 port.cc:1] x\nInt8 accuracy 0.9\n")
    out, held = _filter(text, final=False, idle=False)
    assert out + held == text.replace(b"I0000 00:00:1.2   1 port.cc:1] x\n", b"")
    partial, held = _filter(b"\rtrain:  10%", final=False, idle=False)
    assert partial == b"\rtrain:  10%" and held == b""            # a progress bar is not held
    out, held = _filter(b"I0000 00:00:1.2 ", final=False, idle=False)
    assert out == b"" and held == b"I0000 00:00:1.2 "              # may still be a log line
