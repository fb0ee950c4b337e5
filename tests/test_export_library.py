"""``kws export RUN --library DIR``: the folder builds on its own (host cc with -Werror and
ASan/UBSan; arm-none-eabi for the Cortex-M4 under QEMU) and its example prints the same
detection lines as ``kws stream``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kws import qemu
from kws.cbuild import cmake_build
from kws.device.build import REPO
from tests.product_runs import random_run, stream_run, stream_samples, write_wav

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("cc") is None,
                                 reason="needs cmake and a host C compiler")


@pytest.fixture(scope="module")
def run_dir() -> Path:
    return random_run(0)


def _expected(run_dir: Path, tmp: Path) -> tuple[Path, list[str]]:
    """The test stream and ``kws stream``'s detection lines for it (the Python simulation)."""
    from kws.simulate import detection_lines, detector_settings_for, load_run_model, stream_file

    wav = write_wav(tmp / "input.wav", stream_samples())
    model = load_run_model(run_dir)
    lines = detection_lines(stream_file(model.path, wav, detector=detector_settings_for(model),
                                        workers=1))
    assert len(lines) >= 2, "the stream should produce detections"
    return wav, lines


def _library(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The exported folder, copied alone into an empty temporary folder."""
    from kws.cli import main

    out = tmp_path_factory.mktemp("export") / "kws_test_lib"
    assert main(["export", str(run_dir), "--library", str(out)]) == 0
    alone = tmp_path_factory.mktemp("alone") / "kws_test_lib"
    shutil.copytree(out, alone)
    return alone


@pytest.fixture(scope="module")
def expected(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    return _expected(run_dir, tmp_path_factory.mktemp("wav"))


@pytest.fixture(scope="module")
def library(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _library(run_dir, tmp_path_factory)


@pytest.fixture(scope="module")
def stream_run_dir() -> Path:
    return stream_run(0)


@pytest.fixture(scope="module")
def stream_expected(stream_run_dir: Path, tmp_path_factory: pytest.TempPathFactory
                    ) -> tuple[Path, list[str]]:
    return _expected(stream_run_dir, tmp_path_factory.mktemp("wav"))


@pytest.fixture(scope="module")
def stream_library(stream_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _library(stream_run_dir, tmp_path_factory)


def _strict_sanitized_lines(library: Path, build: Path, wav: Path) -> list[str]:
    """The library's example built with -Wall -Wextra -Werror under ASan/UBSan, run on
    ``wav``: its stdout lines."""
    flags = ("-Wall -Wextra -Werror -std=c99 -fsanitize=address,undefined "
             "-fno-sanitize-recover=all -fno-omit-frame-pointer")
    cmake_build(library, build, defines=[f"CMAKE_C_FLAGS={flags}"])
    proc = subprocess.run([str(build / "wav_detect"), str(wav)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_library_layout_and_no_repository_references(library: Path) -> None:
    assert (library / "LICENSE").read_text().split()[:4] == ["Apache", "License", "Version",
                                                              "2.0,"]
    for f in ("CMakeLists.txt", "library.properties", "library.json", "README.md", "NOTICE.md",
              "src/kws_engine.h", "src/kws_model.c", "src/kws_detector.h",
              "examples/wav_detect/main.c", "examples/KwsBasic/KwsBasic.ino"):
        assert (library / f).is_file(), f
    text = "".join(p.read_text() for p in library.rglob("*") if p.is_file())
    assert str(REPO) not in text and "/work/" not in text
    assert '#include "../' not in text
    # only the kernels this model calls (it has no reshape)
    assert not (library / "src" / "reshape.c").exists()
    assert not (library / "src" / "host_batch.c").exists()
    assert "| **total** |" in (library / "README.md").read_text()


@needs_cmake
def test_library_host_build_strict_and_sanitized_equals_kws_stream(
        library: Path, expected: tuple[Path, list[str]], tmp_path: Path) -> None:
    wav, lines = expected
    assert _strict_sanitized_lines(library, tmp_path / "b", wav) == lines


@needs_cmake
def test_library_of_a_streamable_model_steps_with_the_gate_and_equals_kws_stream(
        stream_library: Path, stream_expected: tuple[Path, list[str]], tmp_path: Path) -> None:
    """A streamable RUN's library runs kws_model_step every hop behind the voice-activity gate
    (no window-model arena in kws_engine) and prints kws stream's lines (strict, sanitized)."""
    wav, lines = stream_expected
    config = (stream_library / "src" / "kws_app_config.h").read_text()
    assert "#define KWS_APP_MODEL_STREAM 1" in config
    assert "#define KWS_APP_GATE_ENABLED 1u" in config
    assert "#define KWS_APP_MODEL_EVERY_HOPS 1u" in config
    assert _strict_sanitized_lines(stream_library, tmp_path / "b", wav) == lines


def test_streamable_run_word_class_is_never_reported(
        stream_run_dir: Path, stream_expected: tuple[Path, list[str]]) -> None:
    """The streamable RUN has a word class (``kws train --word-classes``: threshold 256) that
    would fire on the stream at a keyword's threshold; kws stream (and so each library test
    that equals it) never reports it."""
    import dataclasses

    from kws.simulate import detection_lines, detector_settings_for, load_run_model, stream_file

    wav, lines = stream_expected
    det = detector_settings_for(load_run_model(stream_run_dir))
    assert det.labels[-1] == "_word_go" and det.thresholds[-1] == 256
    assert not [ln for ln in lines if "_word_go" in ln]
    on = dataclasses.replace(det, thresholds=det.thresholds[:-1] + (min(det.thresholds[2:4]),))
    heard = detection_lines(stream_file(stream_run_dir / "model.tflite", wav, detector=on,
                                        workers=1))
    assert [ln for ln in heard if "_word_go" in ln], "the word class should fire when enabled"


@pytest.mark.qemu
@needs_cmake
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or
                    shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_library_m4_build_under_qemu_equals_kws_stream(
        library: Path, expected: tuple[Path, list[str]], tmp_path: Path) -> None:
    wav, lines = expected
    build = cmake_build(REPO / "firmware" / "harness" / "library_m4", tmp_path / "m4", m4=True,
                        defines=[f"KWS_LIBRARY_DIR={library}",
                                 "KWS_LIBRARY_C_FLAGS=-Wall -Wextra -Werror -std=c99"])
    res = qemu.run_elf(build / "wav_detect.elf", args=["input.wav"],
                       files={"input.wav": wav.read_bytes()}, timeout=300)
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == lines


@pytest.mark.qemu
@needs_cmake
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or
                    shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_streaming_library_m4_build_under_qemu_equals_kws_stream(
        stream_library: Path, stream_expected: tuple[Path, list[str]], tmp_path: Path) -> None:
    """The streamable RUN's library on the Cortex-M4 (DSP kernels, step function every hop
    behind the gate) prints kws stream's lines under QEMU."""
    wav, lines = stream_expected
    build = cmake_build(REPO / "firmware" / "harness" / "library_m4", tmp_path / "m4", m4=True,
                        defines=[f"KWS_LIBRARY_DIR={stream_library}",
                                 "KWS_LIBRARY_C_FLAGS=-Wall -Wextra -Werror -std=c99"])
    res = qemu.run_elf(build / "wav_detect.elf", args=["input.wav"],
                       files={"input.wav": wav.read_bytes()}, timeout=300)
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == lines


def test_library_bad_run_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from kws.cli import main

    assert main(["export", str(tmp_path / "nope"), "--library", str(tmp_path / "lib")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0]
    assert not (tmp_path / "lib").exists()


@needs_cmake
def test_library_of_an_ensemble_equals_kws_stream(tmp_path: Path,
                                                  tmp_path_factory: pytest.TempPathFactory
                                                  ) -> None:
    """``kws export ENS --library``: the members under their own C names and the averaging
    kws_model build strict and sanitized, and the example prints kws stream's lines."""
    from kws.ensemble import create_ensemble

    ens = create_ensemble([stream_run(0), stream_run(1)], tmp_path / "ens")
    shutil.copyfile(stream_run(0) / "detector.json", ens / "detector.json")
    wav, lines = _expected(ens, tmp_path)
    lib = _library(ens, tmp_path_factory)
    assert {"kws_member0.c", "kws_member1.h", "kws_model.c"} <= {p.name for p in
                                                                 (lib / "src").iterdir()}
    assert _strict_sanitized_lines(lib, tmp_path / "b", wav) == lines
