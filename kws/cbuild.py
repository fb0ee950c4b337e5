"""Builds of the C trees: every CMake configure/build and every direct ``cc`` link goes here.

One place decides how C is built from Python:

- :func:`cmake_build` configures a CMake project once per set of options (a changed set
  reconfigures), builds the targets asked for, serializes builders of one folder across
  processes (pytest-xdist workers), and turns a failure into one :class:`KwsError` line.
  ``m4=True`` cross-compiles with :data:`M4_TOOLCHAIN_FILE`.
- :func:`cc_link` / :func:`cc_shared_library` link a few host sources into a program or a
  shared library for ctypes.
- :func:`m4_cpu_flags` reads the Cortex-M4 compiler flags from the toolchain file, the one
  place that defines them (``firmware/cmake/arm-none-eabi.cmake``); Python never restates them.

Example
-------
>>> from kws import cbuild  # doctest: +SKIP
>>> root = cbuild.REPO_ROOT  # doctest: +SKIP
>>> cbuild.cmake_build(root / "dsp", root / "build" / "dsp")  # doctest: +SKIP
PosixPath('.../build/dsp')
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from kws.errors import KwsError
from kws.paths import REPO_ROOT

#: The CMake toolchain file for the Cortex-M4F: compiler, CPU flags, link flags.
M4_TOOLCHAIN_FILE = REPO_ROOT / "firmware" / "cmake" / "arm-none-eabi.cmake"

_PACKAGES = {"cmake": "cmake", "arm-none-eabi-gcc": "gcc-arm-none-eabi",
             "arm-none-eabi-nm": "binutils-arm-none-eabi",
             "arm-none-eabi-size": "binutils-arm-none-eabi", "cc": "gcc", "gcc": "gcc",
             "pkg-config": "pkg-config", "qemu-system-arm": "qemu-system-arm"}


def require(tool: str, package: str | None = None) -> str:
    """Path of ``tool`` on PATH, or a KwsError naming the Debian package that provides it."""
    path = shutil.which(tool)
    if path is None:
        pkg = package or _PACKAGES.get(tool, tool)
        raise KwsError(f"{tool}: not found on PATH; install the Debian package {pkg}")
    return path


@contextlib.contextmanager
def locked(build_dir: Path) -> Iterator[None]:
    """Serialize builds of one folder across processes (a lock file beside it)."""
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(build_dir.parent / f".{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _failure(what: str, returncode: int, output: str) -> str:
    """One line saying why a build step failed: the heap rule, a compiler error, or the tail."""
    lines = output.strip().splitlines()
    heap = [ln for ln in lines if "undefined reference to `__wrap_" in ln]
    if heap:
        sym = heap[0].split("__wrap_")[1].split("'")[0]
        return (f"{what} failed: {sym} is referenced, and the firmware must not use a heap "
                f"(undefined reference to `__wrap_{sym}')")
    errors = [ln.strip() for ln in lines if "error:" in ln or "Error:" in ln]
    detail = errors[0] if errors else " | ".join(ln.strip() for ln in lines[-15:])
    return f"{what} failed (exit {returncode}): {detail}"


def run_checked(cmd: Sequence[str], *, what: str, cwd: Path | None = None) -> str:
    """Run a build tool; return its stdout, or raise KwsError with the reason in one line."""
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise KwsError(_failure(what, proc.returncode, proc.stdout + "\n" + proc.stderr))
    return proc.stdout


def _define_args(defines: Mapping[str, str | os.PathLike[str]] | Sequence[str]) -> list[str]:
    if isinstance(defines, Mapping):
        return [f"-D{k}={v}" for k, v in defines.items()]
    return [d if d.startswith("-") else f"-D{d}" for d in defines]


def cmake_build(
    source: str | os.PathLike[str],
    build_dir: str | os.PathLike[str],
    *,
    m4: bool = False,
    defines: Mapping[str, str | os.PathLike[str]] | Sequence[str] = (),
    targets: Sequence[str] = (),
    build_type: str = "Release",
) -> Path:
    """Configure (when the options changed) and build a CMake project; return the build folder.

    Parameters
    ----------
    source : path-like
        The folder holding ``CMakeLists.txt``.
    build_dir : path-like
        The build folder (created).
    m4 : bool
        Cross-compile for the Cortex-M4F with :data:`M4_TOOLCHAIN_FILE`.
    defines : mapping or sequence of str
        Cache entries for the configure step (``{"NAME": value}`` or ``["NAME=value"]``).
    targets : sequence of str
        Targets to build; empty builds everything.
    build_type : str
        ``CMAKE_BUILD_TYPE``.

    Returns
    -------
    Path
        The build folder.

    Raises
    ------
    KwsError
        If cmake or the cross compiler is missing, or configuring or building fails.
    """
    cmake = require("cmake")
    if m4:
        require("arm-none-eabi-gcc", "gcc-arm-none-eabi and libnewlib-arm-none-eabi")
    src, bdir = Path(source).resolve(), Path(build_dir).resolve()
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    configure = [cmake, "-S", str(src), "-B", str(bdir), *generator,
                 f"-DCMAKE_BUILD_TYPE={build_type}", *_define_args(defines)]
    if m4:
        configure.append(f"-DCMAKE_TOOLCHAIN_FILE={M4_TOOLCHAIN_FILE}")
    stamp = bdir / ".kws-configure"
    with locked(bdir):
        wanted = "\n".join(configure)
        if not stamp.is_file() or stamp.read_text() != wanted:
            bdir.mkdir(parents=True, exist_ok=True)
            run_checked(configure, what=f"cmake configure of {bdir}")
            stamp.write_text(wanted)
        build = [cmake, "--build", str(bdir), "-j", "2"]
        if targets:
            build += ["--target", *targets]
        run_checked(build, what=f"build of {' '.join(targets) or 'all'} in {bdir}")
    return bdir


def cc_link(
    sources: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    shared: bool = False,
    flags: Sequence[str] = (),
    includes: Sequence[str | os.PathLike[str]] = (),
    libraries: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Compile and link host C ``sources`` into ``out`` (written atomically): a program, or a
    shared library for ctypes with ``shared``.

    ``flags`` come after ``-shared -fPIC`` (shared); the caller decides the language level,
    warnings and sanitizers.

    Raises
    ------
    KwsError
        If no C compiler is installed or the compile fails.
    """
    cc = shutil.which("cc") or require("gcc")
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    run_checked([cc, *(["-shared", "-fPIC"] if shared else []), *flags,
                 *[f"-I{p}" for p in includes], *map(str, sources), *map(str, libraries),
                 "-o", str(tmp)], what=f"compile of {target.name}")
    os.replace(tmp, target)
    return target


def cc_shared_library(
    sources: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    flags: Sequence[str] = (),
    includes: Sequence[str | os.PathLike[str]] = (),
    libraries: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """:func:`cc_link` of a shared library (``-shared -fPIC``) for ctypes."""
    return cc_link(sources, out, shared=True, flags=flags, includes=includes,
                   libraries=libraries)


@functools.lru_cache(maxsize=1)
def m4_cpu_flags() -> tuple[str, ...]:
    """The Cortex-M4F CPU flags (``KWS_M4_CPU_FLAGS`` of the toolchain file), for one-off
    compiles (header checks) that do not go through CMake."""
    text = M4_TOOLCHAIN_FILE.read_text()
    m = re.search(r'set\(KWS_M4_CPU_FLAGS\s+"([^"]+)"\)', text)
    if m is None:
        raise KwsError(f"{M4_TOOLCHAIN_FILE}: no KWS_M4_CPU_FLAGS")
    return tuple(m.group(1).split())
