"""Run a firmware ELF on QEMU's mps2-an386 with semihosting and deterministic -icount timing.

The streaming app needs the guest's stdout (detection lines) and stderr (its summary line)
apart, so this runner opens the semihosting console on the host's stdio (":tt" handles: "w" is
stdout, "a" is stderr) instead of issue A's ``kws.qemu.run_elf``, which joins them into one
chardev; instruction counting uses ``kws.qemu.count_instructions``. The default ``-icount``
shift is 0 (1 ns per instruction, a 1 GHz virtual clock) so that parity runs never fall behind
real time; real-time figures come from instruction counts, not from this clock.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kws.errors import KwsError


@dataclass(frozen=True)
class QemuResult:
    """stdout and stderr of the guest (semihosting console) and its exit status."""

    stdout: str
    stderr: str
    exit_code: int


def qemu_binary() -> str:
    """Path of qemu-system-arm, or a KwsError saying how to install it."""
    exe = shutil.which("qemu-system-arm")
    if exe is None:
        raise KwsError("qemu-system-arm not found: apt-get install qemu-system-arm")
    return exe


def run_elf(elf: str | Path, *, args: Sequence[str] = (), cwd: str | Path | None = None,
            timeout: float = 600.0, icount_shift: int | None = 0,
            extra: Sequence[str] = ()) -> QemuResult:
    """Run ``elf`` to completion; ``args`` reach the guest as its semihosting command line.

    With ``icount_shift`` (the default 0: one instruction per virtual nanosecond, and the
    virtual clock skipping idle time) the run is deterministic: timer interrupts land on the
    same instructions every time. ``extra``: further QEMU arguments (``-device loader,...``).
    """
    elf = Path(elf).resolve()
    if not elf.is_file():
        raise KwsError(f"{elf}: firmware image not found")
    sh = ",".join(["enable=on", "target=native", f"arg={elf.name}",
                   *[f"arg={a}" for a in args]])
    cmd = [qemu_binary(), "-M", "mps2-an386", "-nographic", "-monitor", "none",
           "-serial", "none", "-semihosting-config", sh, "-kernel", str(elf)]
    if icount_shift is not None:
        cmd += ["-icount", f"shift={icount_shift},sleep=off"]
    cmd += list(extra)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=str(cwd) if cwd else None)
    except subprocess.TimeoutExpired:
        raise KwsError(f"{elf}: QEMU run exceeded {timeout:.0f} s") from None
    return QemuResult(proc.stdout, proc.stderr, proc.returncode)
