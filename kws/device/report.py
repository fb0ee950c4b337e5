"""Footprint and real-time report of a firmware image.

- **Flash / RAM by section** from ``arm-none-eabi-size -A``: flash = text + rodata + data (its
  load image) + ARM.exidx; static RAM = data + bss; stack = the high-water mark found by
  painting (the app prints it at exit), against the stack reserved by the linker script.
- **Instructions per hop / per inference** counted exactly on the M4 under QEMU between the
  app's marker functions (``kws_marker_{frame,model}_{begin,end}``) with the TCG plugin
  (``kws.qemu.count_instructions``), split by class.
- **Cycle estimate** weighting each class by the Cortex-M4 Technical Reference Manual
  (ARM 100166_0001_00, r0p1, Table 3-1 "Processor instruction set summary", and its
  FPU chapter for VDIV/VSQRT) cycle counts, for zero wait states; see
  :data:`CYCLES_PER_CLASS` for the assumptions.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kws.errors import KwsError

#: Cycles per instruction by class (the classes of the TCG plugin,
#: tools/qemu-plugin/kws_insn_count.c), from the Cortex-M4 TRM's instruction timing table.
#: Assumptions: zero-wait-state flash and SRAM (at 80 MHz real parts need 2-4 flash wait states,
#: hidden in part by a prefetch/ART accelerator; not modelled); ``ldst`` 2 cycles each (the
#: TRM's LDR/STR; back-to-back loads pipeline to 1 more each, so this is the conservative end;
#: LDM/STM/PUSH/POP are 1 + N and count here as 2, an undercount for long register lists);
#: ``mul`` 1 (MUL, MLA, MLS, SMLA*, SMLAD, SMULL, SMLAL: single cycle on the M4; VFP VMUL/VMLA
#: are 1 and 3); ``branch`` (taken) 1 + P with P = 1..3 pipeline refill: we take 3;
#: ``div`` 14 (VDIV.F32 and VSQRT.F32; the plugin also puts SDIV/UDIV here, 2-12 cycles, so
#: this is an upper bound); ``other`` 1.
CYCLES_PER_CLASS: dict[str, float] = {
    "ldst": 2.0,
    "mul": 1.0,
    "branch": 3.0,
    "div": 14.0,
    "other": 1.0,
}

#: The clock the duty cycle is quoted at.
REFERENCE_MHZ = 80.0


@dataclass(frozen=True)
class Footprint:
    """Bytes per section and the totals the targets are stated in."""

    text: int
    rodata: int
    data: int
    bss: int
    exidx: int
    stack_reserved: int
    stack_used: int | None

    @property
    def flash(self) -> int:
        """Bytes of flash: code, constants and the initial values of .data."""
        return self.text + self.rodata + self.data + self.exidx

    @property
    def ram(self) -> int:
        """Bytes of RAM in use: .data + .bss + the measured stack (reserved if not measured)."""
        stack = self.stack_used if self.stack_used is not None else self.stack_reserved
        return self.data + self.bss + stack

    def lines(self) -> list[str]:
        """Human-readable report lines."""
        used = "n/a" if self.stack_used is None else f"{self.stack_used:,} B"
        return [
            f"flash {self.flash:>8,} B   text {self.text:,}  rodata {self.rodata:,}  "
            f"data {self.data:,}  exidx {self.exidx:,}",
            f"RAM   {self.ram:>8,} B   data {self.data:,}  bss {self.bss:,}  stack high-water "
            f"{used} (of {self.stack_reserved:,} reserved)",
        ]


def section_sizes(elf: str | Path) -> dict[str, int]:
    """``arm-none-eabi-size -A`` of an ELF: section name -> bytes."""
    size = shutil.which("arm-none-eabi-size")
    if size is None:
        raise KwsError("arm-none-eabi-size not found: apt-get install binutils-arm-none-eabi")
    proc = subprocess.run([size, "-A", "-d", str(elf)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise KwsError(f"{elf}: arm-none-eabi-size failed: {proc.stderr.strip()}")
    out: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith(".") and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def map_input_sizes(map_file: str | Path, prefix: str) -> int:
    """Bytes of the input sections whose name starts with ``prefix`` (e.g. ``.rodata``) that
    the linker kept, from a GNU ld map file (the board's script folds .rodata into .text)."""
    total = 0
    pending = False
    in_discarded = False
    for line in Path(map_file).read_text(errors="replace").splitlines():
        if line.startswith("Discarded input sections"):
            in_discarded = True
            continue
        if line.startswith("Memory Configuration") or line.startswith("Linker script and memory"):
            in_discarded = False
        if in_discarded:
            continue
        parts = line.split()
        if pending:
            pending = False
            if len(parts) >= 2 and parts[0].startswith("0x") and parts[1].startswith("0x"):
                total += int(parts[1], 16)
            continue
        if parts and line.startswith(" ") and parts[0].startswith(prefix):
            if len(parts) >= 3 and parts[1].startswith("0x") and parts[2].startswith("0x"):
                total += int(parts[2], 16)
            elif len(parts) == 1:
                pending = True          # long name: address and size on the next line
    return total


def _stack_reserved(elf: str | Path) -> int:
    nm = shutil.which("arm-none-eabi-nm")
    if nm is None:
        return 0
    proc = subprocess.run([nm, str(elf)], capture_output=True, text=True)
    syms = {p[2]: int(p[0], 16) for p in (ln.split() for ln in proc.stdout.splitlines())
            if len(p) == 3}
    if "__stack_top" in syms and "__stack_limit" in syms:
        return syms["__stack_top"] - syms["__stack_limit"]
    return syms.get("__stack_top__", 0) - syms.get("__stack_bottom__", 0)


def footprint(elf: str | Path, *, stack_used: int | None = None) -> Footprint:
    """The :class:`Footprint` of an app image: sections from ``arm-none-eabi-size``; .rodata
    from the map file beside the ELF when the linker script folds it into .text."""
    s = section_sizes(elf)
    text = s.get(".text", 0) + s.get(".isr_vector", 0)
    rodata = s.get(".rodata", 0)
    map_file = Path(elf).with_suffix(".map")
    if not rodata and map_file.is_file():
        rodata = map_input_sizes(map_file, ".rodata")
        text -= rodata
    return Footprint(text=text, rodata=rodata, data=s.get(".data", 0), bss=s.get(".bss", 0),
                     exidx=s.get(".ARM.exidx", 0), stack_reserved=_stack_reserved(elf),
                     stack_used=stack_used)


def estimate_cycles(classes: dict[str, int]) -> float:
    """Cycles from instruction counts by class (keys of :data:`CYCLES_PER_CLASS`)."""
    unknown = sorted(set(classes) - set(CYCLES_PER_CLASS))
    if unknown:
        raise KwsError(f"cycle estimate: unknown instruction class(es) {', '.join(unknown)}")
    return sum(CYCLES_PER_CLASS[k] * n for k, n in classes.items())


def realtime_lines(*, cycles_per_hop: float, cycles_per_inference: float, hop_ms: float,
                   every: int) -> list[str]:
    """Duty cycle at :data:`REFERENCE_MHZ` and the minimum clock for real time."""
    per_second = (1000.0 / hop_ms) * (cycles_per_hop + cycles_per_inference / every)
    duty = per_second / (REFERENCE_MHZ * 1e6)
    return [
        f"cycles/s {per_second / 1e6:.2f} M (hop every {hop_ms:g} ms, model every {every} hops)",
        f"duty cycle at {REFERENCE_MHZ:g} MHz: {100 * duty:.1f} %",
        f"minimum clock for real time: {per_second / 1e6:.1f} MHz",
    ]
