"""Build firmware for the Cortex-M4F and run it under QEMU (mps2-an386), counting instructions.

The firmware tree (``firmware/``) is built with CMake: once for the M4 with
``firmware/cmake/arm-none-eabi.cmake`` into ``build/m4`` and once for the host into
``build/host`` (the same apps, with stdio in place of semihosting). ELFs run under
``qemu-system-arm -M mps2-an386`` with semihosting for files, console and exit status, and
``-icount`` so that time (and so the timer interrupts) follows the instruction count exactly.

Instruction counts come from the TCG plugin ``tools/qemu-plugin/kws_insn_count.c``: it counts
what runs between entry to a start marker and entry to an end marker (addresses read from the
ELF's symbols), once per interval, by class (load/store, multiply, taken branch, divide/sqrt,
other).

Example
-------
>>> from kws import qemu  # doctest: +SKIP
>>> elf = qemu.build_firmware("hello")  # doctest: +SKIP
>>> qemu.run_elf(elf, args=["7"]).exit_code  # doctest: +SKIP
7
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from kws.errors import KwsError
from kws.paths import REPO_ROOT

FIRMWARE_DIR = REPO_ROOT / "firmware"
TOOLCHAIN_FILE = FIRMWARE_DIR / "cmake" / "arm-none-eabi.cmake"
PLUGIN_SOURCE = REPO_ROOT / "tools" / "qemu-plugin" / "kws_insn_count.c"
THIRD_PARTY = REPO_ROOT / "third_party"

#: Instruction classes reported by the plugin, in its order.
CLASSES: tuple[str, ...] = ("ldst", "mul", "branch", "div", "other")

#: Default ``-icount shift``: 2**3 ns per instruction, i.e. 125 M instructions per virtual
#: second, close to a Cortex-M4 at 120-170 MHz.
DEFAULT_ICOUNT_SHIFT = 3


@dataclasses.dataclass(frozen=True)
class QemuResult:
    """What a firmware run produced.

    Attributes
    ----------
    stdout : str
        Console output (semihosting).
    exit_code : int
        The status the firmware passed to SYS_EXIT_EXTENDED (main's return value).
    files : dict[str, bytes]
        Files the firmware wrote into its working folder (inputs excluded).
    """

    stdout: str
    exit_code: int
    files: dict[str, bytes]


@dataclasses.dataclass(frozen=True)
class IntervalCount:
    """Instructions executed in one start-to-end marker interval, by class."""

    pair: int
    index: int
    total: int
    ldst: int
    mul: int
    branch: int
    div: int
    other: int


@dataclasses.dataclass(frozen=True)
class CountResult:
    """Intervals counted during one run (in execution order), and the run's result."""

    intervals: list[IntervalCount]
    run: QemuResult

    def totals(self, pair: int = 0) -> list[int]:
        """Total instruction count of every interval of ``pair``."""
        return [iv.total for iv in self.intervals if iv.pair == pair]


def _require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise KwsError(f"{tool}: not found on PATH; install the Debian package {package}")
    return path


@contextlib.contextmanager
def _locked(build_dir: Path) -> Iterator[None]:
    """Serialize builds of one folder across processes (pytest-xdist workers)."""
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(build_dir.parent / f".{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run_checked(cmd: Sequence[str], *, what: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise KwsError(f"{what} failed (exit {proc.returncode}): " + " | ".join(tail))
    return proc.stdout


def _check_third_party() -> None:
    if not (THIRD_PARTY / "cmsis-dsp" / "Include" / "arm_math.h").is_file():
        raise KwsError(f"{THIRD_PARTY / 'cmsis-dsp'}: missing; run scripts/fetch_third_party.sh")


def build_firmware(
    target: str | None = None,
    *,
    host: bool = False,
    build_dir: str | os.PathLike[str] | None = None,
    cmake_args: Sequence[str] = (),
) -> Path:
    """Configure (once) and build the firmware tree; return the target's path or the build dir.

    Parameters
    ----------
    target : str, optional
        A CMake target (``"hello"``, ``"cmsis_parity"``, ...). None builds everything.
    host : bool
        Build for the host (``build/host``) instead of the Cortex-M4 (``build/m4``).
    build_dir : path-like, optional
        Override the build folder.
    cmake_args : sequence of str
        Extra ``-D`` options for the configure step (a changed set reconfigures).

    Returns
    -------
    Path
        ``<build>/<target>.elf`` (M4), ``<build>/<target>`` (host executable), or the build
        folder when ``target`` is None or is a library.

    Raises
    ------
    KwsError
        If cmake, the cross compiler or the third-party sources are missing, or the build fails.
    """
    _require("cmake", "cmake")
    if not host:
        _require("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    _check_third_party()
    bdir = Path(build_dir) if build_dir is not None else REPO_ROOT / "build" / ("host" if host else "m4")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    configure = ["cmake", "-S", str(FIRMWARE_DIR), "-B", str(bdir), *generator,
                 "-DCMAKE_BUILD_TYPE=Release", *cmake_args]
    if not host:
        configure.append(f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN_FILE}")
    stamp = bdir / ".kws-configure"
    with _locked(bdir):
        wanted = "\n".join(configure)
        if not stamp.is_file() or stamp.read_text() != wanted:
            _run_checked(configure, what=f"cmake configure of {bdir}")
            stamp.write_text(wanted)
        build = ["cmake", "--build", str(bdir), "-j", "2"]
        if target is not None:
            build += ["--target", target]
        _run_checked(build, what=f"build of {target or 'all'} in {bdir}")
    if target is None:
        return bdir
    for candidate in (bdir / f"{target}.elf", bdir / target):
        if candidate.is_file():
            return candidate
    return bdir


def build_plugin(*, build_dir: str | os.PathLike[str] | None = None) -> Path:
    """Build the instruction-counting TCG plugin (a shared object) and return its path.

    Raises
    ------
    KwsError
        If gcc, pkg-config/glib or ``third_party/qemu/qemu-plugin.h`` are missing.
    """
    header = THIRD_PARTY / "qemu" / "qemu-plugin.h"
    if not header.is_file():
        raise KwsError(f"{header}: missing; run scripts/fetch_third_party.sh")
    _require("gcc", "gcc")
    _require("pkg-config", "pkg-config")
    bdir = Path(build_dir) if build_dir is not None else REPO_ROOT / "build" / "qemu-plugin"
    out = bdir / "kws_insn_count.so"
    with _locked(bdir):
        if out.is_file() and out.stat().st_mtime >= max(PLUGIN_SOURCE.stat().st_mtime,
                                                          header.stat().st_mtime):
            return out
        bdir.mkdir(parents=True, exist_ok=True)
        glib = _run_checked(["pkg-config", "--cflags", "--libs", "glib-2.0"],
                            what="pkg-config glib-2.0 (install libglib2.0-dev)").split()
        tmp = bdir / f".kws_insn_count.{os.getpid()}.so"
        _run_checked(["gcc", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-I", str(header.parent),
                      str(PLUGIN_SOURCE), "-o", str(tmp), *glib],
                     what=f"compile of {PLUGIN_SOURCE.name}")
        os.replace(tmp, out)
    return out


def elf_symbols(elf: str | os.PathLike[str]) -> dict[str, int]:
    """Map every defined symbol of ``elf`` to its address (``arm-none-eabi-nm``)."""
    nm = _require("arm-none-eabi-nm", "binutils-arm-none-eabi")
    if not Path(elf).is_file():
        raise KwsError(f"{elf}: no such ELF file")
    out = _run_checked([nm, str(elf)], what=f"arm-none-eabi-nm {elf}")
    symbols: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            symbols[parts[2]] = int(parts[0], 16)
    return symbols


def qemu_command(
    elf: str | os.PathLike[str],
    *,
    args: Sequence[str] = (),
    icount: bool = True,
    icount_shift: int = DEFAULT_ICOUNT_SHIFT,
    plugin: str | None = None,
) -> list[str]:
    """The ``qemu-system-arm`` command line that runs ``elf`` on mps2-an386."""
    qemu = _require("qemu-system-arm", "qemu-system-arm")
    # Semihosting console -> a stdio chardev (QEMU's default for it would be stderr).
    cmd = [qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
           "-chardev", "stdio,id=kws_console,signal=off",
           "-semihosting-config", "enable=on,target=native,chardev=kws_console",
           "-kernel", str(Path(elf).resolve())]
    if icount:
        # sleep=off: an idle CPU (WFI) jumps to the next timer deadline instead of waiting in
        # real time; align=off: never slow down to real time. Both keep runs deterministic.
        cmd += ["-icount", f"shift={int(icount_shift)},align=off,sleep=off"]
    if args:
        cmd += ["-append", " ".join(args)]
    if plugin is not None:
        cmd += ["-plugin", plugin, "-d", "plugin"]
    return cmd


def run_elf(
    elf: str | os.PathLike[str],
    *,
    args: Sequence[str] = (),
    files: Mapping[str, bytes] | None = None,
    timeout: float = 60.0,
    icount: bool = True,
    icount_shift: int = DEFAULT_ICOUNT_SHIFT,
    plugin: str | None = None,
) -> QemuResult:
    """Run ``elf`` on QEMU's mps2-an386 and return its console output, exit status and files.

    Parameters
    ----------
    elf : path-like
        A firmware ELF built with ``kws_add_m4_executable``.
    args : sequence of str
        Command-line arguments (``qemu -append``; the firmware reads them by semihosting).
        They may not contain spaces.
    files : mapping of str to bytes, optional
        Input files to place in the firmware's working folder (plain names).
    timeout : float
        Wall-clock limit in seconds.
    icount, icount_shift : bool, int
        Run with ``-icount shift=<icount_shift>`` (deterministic virtual time).
    plugin : str, optional
        A ``-plugin`` argument (path and its options).

    Returns
    -------
    QemuResult
        ``stdout``, ``exit_code`` and every file the firmware created.

    Raises
    ------
    KwsError
        If qemu-system-arm is missing, the ELF does not exist, an argument holds a space, an
        input name is not a plain file name, or the run exceeds ``timeout``.
    """
    if not Path(elf).is_file():
        raise KwsError(f"{elf}: no such ELF file")
    for a in args:
        if not a or any(c.isspace() for c in a):
            raise KwsError(f"{elf}: firmware argument {a!r} is empty or holds whitespace")
    cmd = qemu_command(elf, args=args, icount=icount, icount_shift=icount_shift, plugin=plugin)
    with tempfile.TemporaryDirectory(prefix="kws-qemu-") as tmp:
        work = Path(tmp)
        inputs = dict(files or {})
        for name, data in inputs.items():
            if Path(name).name != name or name in (".", ".."):
                raise KwsError(f"{elf}: input file name {name!r} must be a plain file name")
            (work / name).write_bytes(data)
        try:
            proc = subprocess.run(cmd, cwd=work, capture_output=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise KwsError(f"{elf}: qemu-system-arm ran past the {timeout:g} s timeout") from exc
        outputs = {p.name: p.read_bytes() for p in work.iterdir()
                   if p.is_file() and p.name not in inputs}
    stdout = proc.stdout.decode("utf-8", errors="replace")
    stderr = proc.stderr.decode("utf-8", errors="replace")
    errors = [ln for ln in stderr.splitlines()
              if ln.startswith("qemu-system-arm:") and "warning:" not in ln]
    if errors:  # QEMU itself failed (bad option, plugin not loadable, ...), not the firmware
        raise KwsError(f"{elf}: {errors[-1]}")
    return QemuResult(stdout=stdout, exit_code=proc.returncode, files=outputs)


_INTERVAL = re.compile(
    r"^interval pair=(\d+) index=(\d+) total=(\d+) ldst=(\d+) mul=(\d+) branch=(\d+) "
    r"div=(\d+) other=(\d+)$")


def parse_report(text: str) -> list[IntervalCount]:
    """Parse the plugin's report into :class:`IntervalCount` records (execution order)."""
    out = []
    for line in text.splitlines():
        m = _INTERVAL.match(line.strip())
        if m:
            out.append(IntervalCount(*(int(g) for g in m.groups())))
    return out


def count_instructions(
    elf: str | os.PathLike[str],
    start_symbol: str = "kws_mark_start",
    end_symbol: str = "kws_mark_end",
    *,
    pairs: Sequence[tuple[str, str]] = (),
    args: Sequence[str] = (),
    files: Mapping[str, bytes] | None = None,
    timeout: float = 120.0,
) -> CountResult:
    """Run ``elf`` under the counting plugin and return the count of every marker interval.

    Parameters
    ----------
    elf : path-like
        Firmware ELF that calls the marker functions.
    start_symbol, end_symbol : str
        Marker symbols of pair 0: counting starts on entry to ``start_symbol`` (its first
        instruction included) and stops on entry to ``end_symbol`` (excluded).
    pairs : sequence of (str, str)
        Further independent (start, end) symbol pairs, numbered 1, 2, ...
    args, files, timeout
        As for :func:`run_elf`.

    Returns
    -------
    CountResult
        One :class:`IntervalCount` per interval, in execution order, and the run's result.

    Raises
    ------
    KwsError
        If a symbol is not in the ELF, the plugin cannot be built, or the run fails.
    """
    symbols = elf_symbols(elf)
    plugin = build_plugin()
    spec = [str(plugin)]
    for start, end in [(start_symbol, end_symbol), *pairs]:
        for name in (start, end):
            if name not in symbols:
                raise KwsError(f"{elf}: no symbol {name!r} (is the marker called, or was it "
                               "removed by --gc-sections?)")
        spec.append(f"pair={symbols[start]:#x}:{symbols[end]:#x}")
    with tempfile.TemporaryDirectory(prefix="kws-count-") as tmp:
        report = Path(tmp) / "report.txt"
        spec.append(f"out={report}")
        result = run_elf(elf, args=args, files=files, timeout=timeout, plugin=",".join(spec))
        if not report.is_file():
            raise KwsError(f"{elf}: the counting plugin wrote no report "
                           f"(exit {result.exit_code}): {result.stdout.strip()[-200:]}")
        intervals = parse_report(report.read_text())
    return CountResult(intervals=intervals, run=result)


def elf_size(elf: str | os.PathLike[str]) -> dict[str, int]:
    """``text``, ``data`` and ``bss`` sizes of ``elf`` in bytes (``arm-none-eabi-size``)."""
    size = _require("arm-none-eabi-size", "binutils-arm-none-eabi")
    out = _run_checked([size, "-B", str(elf)], what=f"arm-none-eabi-size {elf}")
    fields = out.splitlines()[1].split()
    return {"text": int(fields[0]), "data": int(fields[1]), "bss": int(fields[2])}


_MAP_SECTION = re.compile(r"^ (\.[\w.$]+)?\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$")


def map_footprint(map_file: str | os.PathLike[str], member: str) -> dict[str, int]:
    """Bytes that input files matching ``member`` contribute to a linked image, by kind.

    Parses the "Linker script and memory map" part of a GNU ld map file (sections removed by
    ``--gc-sections`` are not in it) and sums the input sections whose file name contains
    ``member`` (e.g. ``"libkws_frontend_m4.a"``).

    Returns
    -------
    dict
        ``code`` (.text), ``rodata`` (.rodata: tables and constants), ``data`` (.data, in both
        flash and RAM) and ``bss`` (.bss), in bytes; ``flash`` = code + rodata + data and
        ``ram`` = data + bss.
    """
    path = Path(map_file)
    if not path.is_file():
        raise KwsError(f"{path}: no such map file")
    lines = path.read_text(errors="replace").splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("Linker script and memory map"))
    except StopIteration:
        raise KwsError(f"{path}: not a GNU ld map file (no memory map)") from None
    sums = {"code": 0, "rodata": 0, "data": 0, "bss": 0}
    pending: str | None = None
    for line in lines[start:]:
        m = _MAP_SECTION.match(line)
        if m is None:
            name = line.strip()
            pending = name if line.startswith(" .") and len(name.split()) == 1 else None
            continue
        section = m.group(1) or pending
        pending = None
        if section is None or member not in m.group(4):
            continue
        size = int(m.group(3), 16)
        for prefix, kind in ((".text", "code"), (".rodata", "rodata"), (".data", "data"),
                             (".bss", "bss")):
            if section.startswith(prefix):
                sums[kind] += size
                break
    sums["flash"] = sums["code"] + sums["rodata"] + sums["data"]
    sums["ram"] = sums["data"] + sums["bss"]
    return sums
