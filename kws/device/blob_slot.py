"""Firmware that loads its model's weights from a blob in flash, and runs of it under QEMU.

- :func:`build_blob_firmware` - ``kws firmware build RUN --blob-slot``: the layer graph and the
  RUN's weights built in (model version ``version``), and at start the newest valid blob in the
  flash slots A and B (``firmware/app/app_blob.h``).
- :func:`slot_loader_args` - QEMU ``-device loader`` arguments that write blobs into the slots
  (each padded with 0xFF, erased flash; an empty slot is all 0xFF), addresses from the ELF.
- :func:`run_blob_firmware` / :func:`qemu_stream_blob` - ``kws stream RUN WAV --backend qemu
  --blob FILE``: the detections and the firmware's line for each slot it found a blob in.
- :func:`elf_spec` - what a blob-slot image expects of a blob (fingerprint, front-end hash,
  built-in version, public key), read from its ``kws_model_blob_spec`` symbol.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from kws.cbuild import locked
from kws.detect import DetectorSettings
from kws.device.build import REPO, AppConfig, build_app, check_no_heap
from kws.errors import KwsError

SLOT_NAMES = ("A", "B")
SLOT_SYMBOLS = ("__kws_blob_slot_a", "__kws_blob_slot_b")
_SLOT_LINE = re.compile(r"^kws: blob slot ([AB]): (loaded model version (\d+)|refused: (\w+) "
                        r"\((.*)\); running model version (\d+))$")


@dataclasses.dataclass(frozen=True)
class SlotOutcome:
    """What the firmware said about one slot at start."""

    slot: str                 # "A" or "B"
    loaded: bool
    reason: str               # "" when loaded, else the status name ("crc", "signature", ...)
    line: str                 # the firmware's line, verbatim
    version: int              # the running model's version after this slot


def parse_slot_lines(stderr: str) -> list[SlotOutcome]:
    """The firmware's ``kws: blob slot X: ...`` lines (``firmware/app/app_blob.h``)."""
    out = []
    for line in stderr.splitlines():
        m = _SLOT_LINE.match(line.strip())
        if m:
            loaded = m.group(3) is not None
            out.append(SlotOutcome(m.group(1), loaded, "" if loaded else m.group(4),
                                   line.strip(), int(m.group(3) or m.group(6))))
    return out


def build_blob_firmware(model_path: str | Path, out_elf: str | Path | None = None, *,
                        version: int = 1, public_key: str | Path | None = None,
                        detector: DetectorSettings | None = None, block_ms: int = 20,
                        ring_blocks: int = 4, build_dir: str | Path | None = None) -> Path:
    """Build the blob-slot firmware for a RUN; copy the ELF (and map) to ``out_elf`` if given.

    Parameters
    ----------
    model_path : path
        RUN folder or its model.tflite: the graph, and the built-in weights and settings.
    version : int
        The built-in model's version: blobs older than it are refused.
    public_key : path, optional
        The vendor's P-256 public key (PEM): blobs must be signed with its private key. Without
        it, blobs are checked for integrity and fit only.
    detector : DetectorSettings, optional
        Must be the RUN's own (a blob carries its detector settings; overrides are refused).
    """
    from kws.export.blob import MAX_AVERAGE, export_blob_c
    from kws.simulate import detector_settings_for, load_run_model

    model = load_run_model(model_path)
    if model.members:
        raise KwsError(f"{model.path.parent}: an ensemble cannot be a blob-slot firmware (a "
                       f"blob carries one model's weights); build it without --blob-slot")
    own = detector_settings_for(model)
    if detector is not None and detector != own:
        raise KwsError(f"{model.path}: a blob-slot firmware takes its detector settings from "
                       "the model (the RUN's detector.json, or the blob's); drop the overrides")
    build = (Path(build_dir) if build_dir else
             REPO / "build" / "fw" / f"blob_{model.path.parent.name}_v{version}"
             f"{'_signed' if public_key else ''}")
    # The detector's state is sized for any blob's averaging window (KWS_DETECT_MAX_WINDOW).
    sized = dataclasses.replace(own, average_window=max(own.average_window, MAX_AVERAGE))
    cfg = AppConfig(frontend=model.frontend, detector=sized,
                    output_zero_point=model.output_zero_point, block_ms=block_ms,
                    ring_blocks=ring_blocks)
    out = Path(out_elf) if out_elf is not None else build / "kws_fw.elf"
    out.parent.mkdir(parents=True, exist_ok=True)
    with locked(build):        # one build of a folder at a time (pytest-xdist workers)
        export_blob_c(model.path, build / "model", version=version, public_key=public_key)
        elf = build_app(build / "cmake", cfg, backend="blob", model_dir=build / "model")
        check_no_heap(elf.with_suffix(".map"))
        shutil.copyfile(elf, out)
        shutil.copyfile(elf.with_suffix(".map"), out.with_suffix(".map"))
    return out


def slot_layout(elf: str | Path) -> tuple[list[int], int]:
    """Addresses of slots A and B and the slot size, from the image's linker symbols."""
    from kws.qemu import elf_symbols

    sym = elf_symbols(elf)
    missing = [s for s in (*SLOT_SYMBOLS, "__kws_blob_slot_bytes", "kws_app_blob_apply")
               if s not in sym]
    if missing:
        raise KwsError(f"{elf}: not a blob-slot firmware (no {missing[0]}; build it with "
                       "kws firmware build RUN --blob-slot)")
    return [sym[s] for s in SLOT_SYMBOLS], sym["__kws_blob_slot_bytes"]


def slot_loader_args(elf: str | Path, blobs: Sequence[bytes | None], workdir: Path,
                     names: Sequence[str] | None = None) -> list[str]:
    """QEMU arguments that write ``blobs`` (slot A, then B; None: erased) into the slots."""
    addrs, size = slot_layout(elf)
    if len(blobs) > len(addrs):
        raise KwsError(f"{elf}: {len(blobs)} blobs for {len(addrs)} slots")
    args = []
    for i, addr in enumerate(addrs):
        blob = blobs[i] if i < len(blobs) else None
        data = blob or b""
        if len(data) > size:
            what = names[i] if names else f"blob for slot {SLOT_NAMES[i]}"
            raise KwsError(f"{what}: {len(data)} B does not fit the {size} B blob slot")
        image = workdir / f"slot_{SLOT_NAMES[i].lower()}.bin"
        image.write_bytes(data + b"\xff" * (size - len(data)))
        args += ["-device", f"loader,file={image},addr={addr:#x},force-raw=on"]
    return args


@dataclasses.dataclass(frozen=True)
class BlobRun:
    """A blob-slot firmware run: detection lines, exit summary and the slots' outcomes."""

    lines: list[str]
    summary: dict[str, int]
    slots: list[SlotOutcome]


def run_blob_firmware(elf: str | Path, samples: np.ndarray, blobs: Sequence[bytes | None], *,
                      workdir: str | Path, names: Sequence[str] | None = None,
                      timeout: float = 600.0) -> BlobRun:
    """Run a blob-slot image on int16 samples with ``blobs`` in its flash slots."""
    import json

    from kws import qemu
    from kws.device.build import write_audio_raw

    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    write_audio_raw(work / "audio.raw", samples)
    extra = slot_loader_args(elf, blobs, work, names)
    res = qemu.run_elf(elf, args=["audio.raw"], workdir=work, timeout=timeout, extra=extra)
    err = res.stderr.strip().splitlines()
    if res.exit_code != 0 or not err:
        raise KwsError(f"{elf}: firmware exited with {res.exit_code}: "
                       f"{err[-1] if err else 'no output'}")
    try:
        summary = json.loads(err[-1])
    except ValueError:
        raise KwsError(f"{elf}: unexpected firmware summary line {err[-1]!r}") from None
    return BlobRun(res.stdout.splitlines(), summary, parse_slot_lines(res.stderr))


def qemu_stream_blob(model_path: str | Path, wav_path: str | Path, blob_paths: Sequence[str | Path],
                     *, public_key: str | Path | None = None, version: int = 1,
                     detector: DetectorSettings | None = None) -> BlobRun:
    """``kws stream RUN WAV --backend qemu --blob FILE [--blob FILE]``: build the RUN's
    blob-slot firmware, write the blobs into slots A (and B), run it on the WAV."""
    from kws.audio import load_audio

    blobs = []
    for p in blob_paths:
        try:
            blobs.append(Path(p).read_bytes())
        except OSError as exc:
            raise KwsError(f"{p}: cannot read: {exc.strerror}") from None
    samples = load_audio(wav_path)
    with tempfile.TemporaryDirectory(prefix="kws-blob-") as tmp:
        elf = build_blob_firmware(model_path, Path(tmp) / "fw.elf", version=version,
                                  public_key=public_key, detector=detector)
        run = run_blob_firmware(elf, samples, blobs, workdir=Path(tmp) / "run",
                                names=[str(p) for p in blob_paths])
    if run.summary.get("overruns"):
        raise KwsError(f"{elf}: the firmware dropped {run.summary['overruns']} audio blocks")
    return run


# ------------------------------------------------------------------ reading an image's spec
@dataclasses.dataclass(frozen=True)
class ElfSpec:
    """What a blob-slot image expects of a blob (``kws_model_blob_spec``)."""

    spec: bytes
    fingerprint: bytes
    frontend_hash: int
    version: int
    public_key: bytes | None


def _symbol(elf: Path, name: str) -> tuple[int, int]:
    nm = shutil.which("arm-none-eabi-nm")
    if nm is None:
        raise KwsError("arm-none-eabi-nm not found: apt-get install binutils-arm-none-eabi")
    proc = subprocess.run([nm, "-S", str(elf)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise KwsError(f"{elf}: not an ELF file")
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[1], 16)
    raise KwsError(f"{elf}: no {name} (not a blob-slot firmware: kws firmware build "
                   "RUN --blob-slot)")


def _read_loaded(elf: Path, addr: int, size: int) -> bytes:
    """Bytes at ``addr`` as loaded (PT_LOAD segments of a little-endian ELF32)."""
    data = elf.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise KwsError(f"{elf}: not a little-endian 32-bit ELF file")
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    for i in range(phnum):
        p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
            "<IIIII", data, phoff + i * phentsize)
        if p_type == 1 and p_vaddr <= addr and addr + size <= p_vaddr + p_filesz:
            return data[p_offset + addr - p_vaddr: p_offset + addr - p_vaddr + size]
    raise KwsError(f"{elf}: kws_model_blob_spec is not in a loaded segment")


def elf_spec(elf: str | Path) -> ElfSpec:
    """Read the blob spec a blob-slot firmware image was built with."""
    from kws.export.blob import SPEC_HEADER_BYTES

    path = Path(elf)
    if not path.is_file():
        raise KwsError(f"{path}: firmware image not found")
    addr, size = _symbol(path, "kws_model_blob_spec")
    spec = _read_loaded(path, addr, size)
    if len(spec) < SPEC_HEADER_BYTES:
        raise KwsError(f"{path}: kws_model_blob_spec is {len(spec)} B, too short")
    fe_hash, version, _, key_len = struct.unpack_from("<IIII", spec, 32)
    return ElfSpec(spec, spec[:32], fe_hash, version, spec[48:48 + key_len] if key_len else None)
