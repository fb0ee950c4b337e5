"""``kws blob check``: the firmware's own blob validation (``kws_blob_validate``, C, with
mbedTLS) run on the host through ctypes, optionally against what a firmware image expects.

>>> # check_blob("model.kwsb", firmware="fw.elf").line
"""

from __future__ import annotations

import ctypes
import dataclasses
import struct
from pathlib import Path

from kws.errors import KwsError

_LIB: ctypes.CDLL | None = None
_SCRATCH_BYTES = 12288          # KWS_BLOB_SCRATCH_BYTES
_MAX_SECTIONS = 96              # KWS_BLOB_MAX_SECTIONS


class _View(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("num_sections", ctypes.c_uint32),
                ("section", ctypes.c_void_p * _MAX_SECTIONS),
                ("length", ctypes.c_uint32 * _MAX_SECTIONS)]


def library() -> ctypes.CDLL:
    """The host build of the loader (rebuilt under build/blob when a source is newer)."""
    global _LIB
    if _LIB is not None:
        return _LIB
    from kws.device.blob_build import BLOB, REPO, build_check_library, mbedtls_sources

    out = REPO / "build" / "blob" / "libkws_blob.so"
    sources = [*(BLOB / "src").glob("*.c"), *(BLOB / "include").glob("*.h"),
               *mbedtls_sources()]
    if not out.is_file() or max(p.stat().st_mtime for p in sources) > out.stat().st_mtime:
        build_check_library(out)
    lib = ctypes.CDLL(str(out))
    lib.kws_blob_validate.restype = ctypes.c_int
    lib.kws_blob_validate.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                      ctypes.c_size_t, ctypes.c_uint32, ctypes.c_void_p,
                                      ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                                      ctypes.POINTER(_View)]
    for name in ("kws_blob_status_name", "kws_blob_status_text"):
        getattr(lib, name).restype = ctypes.c_char_p
        getattr(lib, name).argtypes = [ctypes.c_int]
    _LIB = lib
    return lib


@dataclasses.dataclass(frozen=True)
class BlobCheck:
    """The outcome of :func:`validate`: status 0 (valid) or a negative kws_blob_status."""

    status: int
    name: str                 # "ok", "crc", "signature", ...
    text: str                 # what the status means
    version: int              # the blob's model version (when valid)
    sections: int


def validate(blob: bytes, *, spec: bytes | None = None, min_version: int = 0,
             key: bytes | None = None) -> BlobCheck:
    """Run ``kws_blob_validate`` on ``blob`` (a 4-byte aligned copy of exactly its length)."""
    lib = library()
    buf = (ctypes.c_uint32 * max(1, (len(blob) + 3) // 4))()
    ctypes.memmove(buf, blob, len(blob))
    spec_buf = ctypes.create_string_buffer(spec, len(spec)) if spec else None
    key_buf = ctypes.create_string_buffer(key, len(key)) if key else None
    scratch = (ctypes.c_uint64 * (_SCRATCH_BYTES // 8))()
    view = _View()
    st = lib.kws_blob_validate(buf, len(blob), spec_buf, len(spec) if spec else 0,
                               min_version, key_buf, len(key) if key else 0, scratch,
                               ctypes.sizeof(scratch), ctypes.byref(view))
    return BlobCheck(st, lib.kws_blob_status_name(st).decode(),
                     lib.kws_blob_status_text(st).decode(),
                     view.version if st == 0 else 0, view.num_sections if st == 0 else 0)


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """What ``kws blob check`` prints for a valid blob."""

    version: int
    sections: int
    size: int
    signed: bool
    verified_with: str        # "" when the signature was not checked
    firmware: str             # "" without --firmware

    @property
    def line(self) -> str:
        """One summary line."""
        sig = ("signed, signature verified with " + self.verified_with if self.verified_with
               else "signed, signature not checked (no key)" if self.signed else "unsigned")
        fits = (f"; fits {self.firmware} (fingerprint, front end, not older than its model)"
                if self.firmware else "")
        return (f"valid: model version {self.version}, {self.sections} sections, "
                f"{self.size} B, {sig}{fits}")


def check_blob(path: str | Path, *, key: str | Path | None = None,
               firmware: str | Path | None = None) -> CheckReport:
    """``kws blob check FILE [--key PUB.pem] [--firmware ELF]``; KwsError naming the refusal."""
    from kws.export.blob import public_key_point

    p = Path(path)
    try:
        blob = p.read_bytes()
    except OSError as exc:
        raise KwsError(f"{p}: cannot read: {exc.strerror}") from None
    point = None
    if key is not None:
        try:
            point = public_key_point(Path(key).read_bytes())
        except OSError as exc:
            raise KwsError(f"{key}: cannot read: {exc.strerror}") from None
    spec, min_version, who = None, 0, str(key) if key else ""
    if firmware is not None:
        from kws.device.blob_slot import elf_spec

        es = elf_spec(firmware)
        if point is not None and es.public_key is not None and point != es.public_key:
            raise KwsError(f"{key}: not the public key {firmware} verifies blobs with")
        spec, min_version = es.spec, es.version
        if es.public_key is not None:
            who = f"the key in {firmware}"
    r = validate(blob, spec=spec, min_version=min_version, key=point)
    if r.status != 0:
        raise KwsError(f"{p}: refused: {r.name} ({r.text})")
    signed = len(blob) >= 64 and struct.unpack_from("<I", blob, 56)[0] & 1 == 1
    return CheckReport(r.version, r.sections, len(blob), signed, who if signed and who else "",
                       str(firmware) if firmware else "")
