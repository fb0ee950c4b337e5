"""The C libraries coexist: front end, runtime, exported model and detector in ONE translation
unit and ONE link (tests/c/all_headers.c), warning-free, on the host and for the Cortex-M4.

Before common/include/kws_status.h both dsp/include and firmware/runtime/include shipped a
``kws_fixed.h`` and both defined ``KWS_OK``; a product had to build them as separate libraries.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("tensorflow", reason="TensorFlow generates the test model")

from kws.cbuild import m4_cpu_flags  # noqa: E402
from kws.export import export_model  # noqa: E402
from kws.runtime.testmodels import ensure_model  # noqa: E402

WARN = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
M4 = list(m4_cpu_flags())  # firmware/cmake/arm-none-eabi.cmake, the one place they are set


def _includes(repo: Path, model_dir: Path) -> list[str]:
    dirs = [repo / "common" / "include", repo / "dsp" / "include", repo / "dsp" / "generated",
            repo / "firmware" / "runtime" / "include", repo / "firmware" / "detector" / "include",
            model_dir]
    return [f"-I{d}" for d in dirs]


def _library_sources(repo: Path, model_dir: Path) -> list[str]:
    return [str(p) for p in [*sorted((repo / "dsp" / "src").glob("*.c")),
                             repo / "dsp" / "generated" / "kws_frontend_tables.c",
                             *sorted((repo / "firmware" / "runtime" / "src").glob("*.c")),
                             *sorted((repo / "firmware" / "detector" / "src").glob("*.c")),
                             model_dir / "kws_model.c"]]


def _default_settings(d: Path) -> Path:
    """A settings.json of the default front end, in ``d``."""
    from kws.frontend.settings import FrontendSettings

    f = d / "frontend_settings.json"
    f.write_text(FrontendSettings().to_json())
    return f


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny test model (default front-end settings, 49 x 10 input) exported to C."""
    d = tmp_path_factory.mktemp("model")
    shutil.copy(ensure_model("tiny"), d / "model.tflite")
    export_model(d / "model.tflite", d, settings_file=_default_settings(d))
    return d


def test_old_conflicts_are_gone(repo_root: Path) -> None:
    """One kws_fixed.h, and KWS_OK is defined in exactly one header of the whole tree."""
    headers = [p for d in ("common", "dsp", "firmware") for p in (repo_root / d).rglob("*.h")]
    assert [p.name for p in headers].count("kws_fixed.h") == 1
    defining = [p for p in headers if re.search(r"^\s*KWS_OK\s*=", p.read_text(), re.M)]
    assert defining == [repo_root / "common" / "include" / "kws_status.h"]


@pytest.mark.parametrize("defines", [[], ["-DKWS_SIMD_EMULATE"]], ids=["portable", "dsp-emulated"])
def test_host_single_unit_links_and_runs(repo_root: Path, model_dir: Path, tmp_path: Path,
                                         defines: list[str]) -> None:
    """Host gcc: all headers in one file and all libraries in one link (no duplicate symbol),
    -Wall -Wextra -Wpedantic -Werror; the program checks the shared codes and runs the
    detector on the real front end and model against a hand-run of the same window."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    exe = tmp_path / "all_headers"
    cmd = ["gcc", *WARN, "-O2", *defines, *_includes(repo_root, model_dir),
           str(repo_root / "tests" / "c" / "all_headers.c"),
           *_library_sources(repo_root, model_dir),
           "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stdout}{run.stderr}"
    # 2 s: (32000 - 480) // 320 + 1 = 99 frames; the model runs from frame 48 on: 51 times
    assert run.stdout.startswith("ok inferences=51 "), run.stdout


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc missing")
def test_cortex_m4_single_unit_links(repo_root: Path, model_dir: Path, tmp_path: Path) -> None:
    """arm-none-eabi-gcc (ACLE paths of both libraries): the same file compiles with -Werror and
    everything links into one image."""
    elf = tmp_path / "all_headers.elf"
    cmd = ["arm-none-eabi-gcc", *M4, *WARN, "-O2", "-DKWS_FFT_MAX=512", "-DKWS_MEL_MAX=40",
           *_includes(repo_root, model_dir), str(repo_root / "tests" / "c" / "all_headers.c"),
           *_library_sources(repo_root, model_dir), "--specs=nano.specs", "--specs=nosys.specs",
           "-o", str(elf)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert elf.stat().st_size > 0


def test_python_mirror_matches_kws_status_h(repo_root: Path) -> None:
    """kws.cstatus (used by the ctypes bindings) has exactly the codes of kws_status.h."""
    from kws import cstatus

    text = (repo_root / "common" / "include" / "kws_status.h").read_text()
    codes = {name: int(value) for name, value in
             re.findall(r"^\s*(KWS_(?:OK|ERR_\w+))\s*=\s*(-?\d+)", text, re.M)}
    assert len(codes) == 6
    assert codes == {name: getattr(cstatus, name) for name in codes}
    assert set(cstatus.STATUS) == set(codes.values())
    assert cstatus.describe(-2) == "short buffer (-2)"
    assert cstatus.describe(7) == "unknown status 7"
