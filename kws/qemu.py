"""The one QEMU driver: build the firmware tree, run ELFs on mps2-an386, count instructions.

The firmware tree (``firmware/``: board support, the QEMU harnesses of ``firmware/harness/``, the
int8 runtime) is built with CMake through :mod:`kws.cbuild`: once for the M4 into ``build/m4``
and once for the host into ``build/host`` (the host twins of some harnesses). Every program
that runs under QEMU goes through :func:`run_elf` (or :func:`count_instructions`,
:func:`trace_pcs`): ``qemu-system-arm -M mps2-an386`` with semihosting for files, console and
exit status, and ``-icount`` so that time (and so the timer interrupts) follows the
instruction count exactly.

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

import collections
import contextlib
import dataclasses
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from kws import cbuild
from kws.errors import KwsError

#: Repository root (the folder holding ``kws/`` and ``firmware/``).
REPO_ROOT = cbuild.REPO_ROOT
FIRMWARE_DIR = REPO_ROOT / "firmware"
PLUGIN_SOURCE = REPO_ROOT / "tools" / "qemu-plugin" / "kws_insn_count.c"
THIRD_PARTY = REPO_ROOT / "third_party"

#: Instruction classes reported by the plugin, in its order.
CLASSES: tuple[str, ...] = ("ldst", "mul", "branch", "div", "other")

#: Default ``-icount shift`` of every run: 2**0 = 1 ns per instruction, a 1 GHz virtual clock,
#: so that timer-driven apps (audio delivered by a timer interrupt) never fall behind the
#: audio in parity runs. Real-time figures come from instruction counts, not from this clock;
#: a run that models a slower core passes its own shift (3: 8 ns, a ~125 MHz M4).
DEFAULT_ICOUNT_SHIFT = 0


@dataclasses.dataclass(frozen=True)
class QemuResult:
    """What a firmware run produced.

    Attributes
    ----------
    stdout : str
        Console output (semihosting ``SYS_WRITE0``) and what the guest wrote to ``:tt`` opened
        for writing.
    stderr : str
        What the guest wrote to ``:tt`` opened for appending (QEMU's own messages removed).
    exit_code : int
        The status the firmware passed to SYS_EXIT_EXTENDED (main's return value).
    files : dict[str, bytes]
        Files the firmware wrote into its working folder (inputs excluded).
    """

    stdout: str
    stderr: str
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


def _check_third_party() -> None:
    if not (THIRD_PARTY / "cmsis-dsp" / "Include" / "arm_math.h").is_file():
        raise KwsError(f"{THIRD_PARTY / 'cmsis-dsp'}: missing; run scripts/fetch_third_party.sh")


def build_firmware(
    target: str | Sequence[str] | None = None,
    *,
    host: bool = False,
    build_dir: str | os.PathLike[str] | None = None,
    cmake_args: Sequence[str] = (),
) -> Path:
    """Configure (once) and build the firmware tree; return the target's path or the build dir.

    Parameters
    ----------
    target : str or sequence of str, optional
        A CMake target (``"hello"``, ``"cmsis_parity"``, ...) or several. None builds everything.
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
        folder when ``target`` is None, several targets, or a library. Every program of the
        tree lands in the build folder itself.

    Raises
    ------
    KwsError
        If cmake, the cross compiler or the third-party sources are missing, or the build fails.
    """
    cbuild.require("cmake")
    if not host:
        cbuild.require("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    _check_third_party()
    default = REPO_ROOT / "build" / ("host" if host else "m4")
    bdir = Path(build_dir) if build_dir is not None else default
    targets = [target] if isinstance(target, str) else list(target or ())
    cbuild.cmake_build(FIRMWARE_DIR, bdir, m4=not host, defines=cmake_args, targets=targets)
    if len(targets) != 1:
        return bdir
    for candidate in (bdir / f"{targets[0]}.elf", bdir / targets[0]):
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
    cbuild.require("pkg-config")
    bdir = Path(build_dir) if build_dir is not None else REPO_ROOT / "build" / "qemu-plugin"
    out = bdir / "kws_insn_count.so"
    with cbuild.locked(bdir):
        if out.is_file() and out.stat().st_mtime >= max(PLUGIN_SOURCE.stat().st_mtime,
                                                          header.stat().st_mtime):
            return out
        glib = cbuild.run_checked(["pkg-config", "--cflags", "--libs", "glib-2.0"],
                                  what="pkg-config glib-2.0 (install libglib2.0-dev)").split()
        cbuild.cc_shared_library([PLUGIN_SOURCE], out, includes=[header.parent],
                                 flags=["-O2", "-Wall", "-Wextra"], libraries=glib)
    return out


def elf_symbols(elf: str | os.PathLike[str]) -> dict[str, int]:
    """Map every defined symbol of ``elf`` to its address (``arm-none-eabi-nm``)."""
    nm = cbuild.require("arm-none-eabi-nm")
    if not Path(elf).is_file():
        raise KwsError(f"{elf}: no such ELF file")
    out = cbuild.run_checked([nm, str(elf)], what=f"arm-none-eabi-nm {elf}")
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
    icount_shift: int | None = DEFAULT_ICOUNT_SHIFT,
    plugin: str | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The ``qemu-system-arm`` command line that runs ``elf`` on mps2-an386.

    The semihosting console (``SYS_WRITE0``: ``kws_puts``) goes to QEMU's stdout, like the
    guest's ``:tt`` stream opened for writing; ``:tt`` opened for appending is QEMU's stderr.
    ``icount_shift`` None runs without ``-icount`` (virtual time follows the host clock).
    """
    qemu = cbuild.require("qemu-system-arm")
    cmd = [qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
           "-chardev", "stdio,id=kws_console,signal=off",
           "-semihosting-config", "enable=on,target=native,chardev=kws_console",
           "-kernel", str(Path(elf).resolve())]
    if icount_shift is not None:
        # sleep=off: an idle CPU (WFI) jumps to the next timer deadline instead of waiting in
        # real time; align=off: never slow down to real time. Both keep runs deterministic.
        cmd += ["-icount", f"shift={int(icount_shift)},align=off,sleep=off"]
    if args:
        cmd += ["-append", " ".join(args)]
    if plugin is not None:
        cmd += ["-plugin", plugin, "-d", "plugin"]
    return cmd + list(extra)


def _check_args(elf: str | os.PathLike[str], args: Sequence[str]) -> None:
    if not Path(elf).is_file():
        raise KwsError(f"{elf}: no such ELF file")
    for a in args:
        if not a or any(c.isspace() for c in a):
            raise KwsError(f"{elf}: firmware argument {a!r} is empty or holds whitespace")


def _place_inputs(elf: str | os.PathLike[str], work: Path,
                  files: Mapping[str, bytes] | None) -> set[str]:
    """Write the input files into ``work``; return the names present before the run."""
    for name, data in (files or {}).items():
        if Path(name).name != name or name in (".", ".."):
            raise KwsError(f"{elf}: input file name {name!r} must be a plain file name")
        (work / name).write_bytes(data)
    return {p.name for p in work.iterdir()}


def _qemu_errors(elf: str | os.PathLike[str], stderr: str) -> list[str]:
    """Split QEMU's own messages off the guest's stderr; raise if QEMU itself failed."""
    own = [ln for ln in stderr.splitlines() if ln.startswith("qemu-system-arm:")]
    errors = [ln for ln in own if "warning:" not in ln]
    if errors:  # QEMU itself failed (bad option, plugin not loadable, ...), not the firmware
        raise KwsError(f"{elf}: {errors[-1]}")
    return own


def run_elf(
    elf: str | os.PathLike[str],
    *,
    args: Sequence[str] = (),
    files: Mapping[str, bytes] | None = None,
    workdir: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
    icount_shift: int | None = DEFAULT_ICOUNT_SHIFT,
    plugin: str | None = None,
    extra: Sequence[str] = (),
) -> QemuResult:
    """Run ``elf`` on QEMU's mps2-an386; return its stdout, stderr, exit status and new files.

    Parameters
    ----------
    elf : path-like
        A firmware ELF built with ``kws_add_m4_executable``.
    args : sequence of str
        Command-line arguments (``qemu -append``; the firmware reads them by semihosting).
        They may not contain whitespace.
    files : mapping of str to bytes, optional
        Input files to place in the firmware's working folder (plain names).
    workdir : path-like, optional
        The firmware's working folder (kept, for runs whose files the caller reads or keeps);
        default a temporary folder, removed after the run.
    timeout : float
        Wall-clock limit in seconds.
    icount_shift : int or None
        Run with ``-icount shift=<icount_shift>`` (deterministic virtual time: 2**shift ns per
        instruction); None runs on the host clock.
    plugin : str, optional
        A ``-plugin`` argument (path and its options).
    extra : sequence of str
        Further QEMU arguments (e.g. ``-device loader,file=...,addr=...`` to fill flash).

    Returns
    -------
    QemuResult
        ``stdout`` (console and ``:tt`` "w"), ``stderr`` (``:tt`` "a"), ``exit_code`` and every
        file the firmware created in its working folder.

    Raises
    ------
    KwsError
        If qemu-system-arm is missing, the ELF does not exist, an argument holds whitespace, an
        input name is not a plain file name, QEMU itself fails, or the run exceeds ``timeout``.
    """
    _check_args(elf, args)
    cmd = qemu_command(elf, args=args, icount_shift=icount_shift, plugin=plugin, extra=extra)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kws-qemu-")))
        else:
            work = Path(workdir)
            work.mkdir(parents=True, exist_ok=True)
        before = _place_inputs(elf, work, files)
        try:
            proc = subprocess.run(cmd, cwd=work, capture_output=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise KwsError(f"{elf}: qemu-system-arm ran past the {timeout:g} s timeout") from exc
        outputs = {p.name: p.read_bytes() for p in work.iterdir()
                   if p.is_file() and p.name not in before}
    stdout = proc.stdout.decode("utf-8", errors="replace")
    stderr = proc.stderr.decode("utf-8", errors="replace")
    own = _qemu_errors(elf, stderr)
    guest_err = "".join(ln for ln in stderr.splitlines(keepends=True)
                        if ln.rstrip("\n") not in own)
    return QemuResult(stdout=stdout, stderr=guest_err, exit_code=proc.returncode, files=outputs)


_EXEC = re.compile(r"\[[0-9a-f]+/([0-9a-f]+)/")


def trace_pcs(
    elf: str | os.PathLike[str],
    *,
    args: Sequence[str] = (),
    files: Mapping[str, bytes] | None = None,
    timeout: float = 600.0,
) -> collections.Counter[int]:
    """Run ``elf`` one instruction per block with QEMU's exec trace; count executions per PC.

    For per-function profiles (``-singlestep -d exec,nochain``; far slower than a plain run, and
    without ``-icount``). Exact totals per marker interval come from :func:`count_instructions`.

    Returns
    -------
    collections.Counter
        Program counter -> times executed.

    Raises
    ------
    KwsError
        As for :func:`run_elf`, and if the firmware exits with a non-zero status.
    """
    _check_args(elf, args)
    cmd = qemu_command(elf, args=args, icount_shift=None,
                       extra=["-singlestep", "-d", "exec,nochain"])
    pcs: collections.Counter[int] = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="kws-trace-") as tmp:
        _place_inputs(elf, Path(tmp), files)
        proc = subprocess.Popen(cmd, cwd=tmp, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        own: list[str] = []
        for line in proc.stderr:
            m = _EXEC.search(line)
            if m:
                pcs[int(m.group(1), 16)] += 1
            elif line.startswith("qemu-system-arm:"):
                own.append(line)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            raise KwsError(f"{elf}: qemu-system-arm ran past the {timeout:g} s timeout") from exc
    _qemu_errors(elf, "".join(own))
    if code != 0:
        raise KwsError(f"{elf}: the firmware exited with status {code} under the exec trace")
    return pcs


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
    extra: Sequence[str] = (),
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
    args, files, timeout, extra
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
        result = run_elf(elf, args=args, files=files, timeout=timeout, plugin=",".join(spec),
                         extra=extra)
        if not report.is_file():
            raise KwsError(f"{elf}: the counting plugin wrote no report "
                           f"(exit {result.exit_code}): {result.stdout.strip()[-200:]}")
        intervals = parse_report(report.read_text())
    return CountResult(intervals=intervals, run=result)


def elf_size(elf: str | os.PathLike[str]) -> dict[str, int]:
    """``text``, ``data`` and ``bss`` sizes of ``elf`` in bytes (``arm-none-eabi-size``)."""
    size = cbuild.require("arm-none-eabi-size")
    out = cbuild.run_checked([size, "-B", str(elf)], what=f"arm-none-eabi-size {elf}")
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
        start = next(i for i, ln in enumerate(lines)
                     if ln.startswith("Linker script and memory map"))
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
