"""Host builds of the blob loader: the ctypes library of ``kws blob check`` and the fuzz
driver (``firmware/blob/tests/blob_fuzz.c``) for a generated blob-slot model, optionally
under ASan/UBSan. mbedTLS comes from third_party/mbedtls (scripts/fetch_third_party.sh)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kws.errors import KwsError

REPO = Path(__file__).resolve().parents[2]
BLOB = REPO / "firmware" / "blob"
MBEDTLS = REPO / "third_party" / "mbedtls"
#: The mbedTLS files the loader needs (SHA-256; P-256 ECDSA verification with signatures).
MBEDTLS_SHA = ("sha256.c", "platform_util.c")
MBEDTLS_ECDSA = ("bignum.c", "ecp.c", "ecp_curves.c", "ecdsa.c", "asn1parse.c", "asn1write.c",
                 "constant_time.c", "platform.c", "memory_buffer_alloc.c")
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer"]


def mbedtls_sources(*, signatures: bool = True) -> list[Path]:
    """The mbedTLS sources to compile; KwsError if third_party/mbedtls is missing."""
    lib = MBEDTLS / "library"
    if not (lib / "sha256.c").is_file():
        raise KwsError(f"{MBEDTLS}: mbedTLS missing (run scripts/fetch_third_party.sh)")
    names = MBEDTLS_SHA + (MBEDTLS_ECDSA if signatures else ())
    return [lib / n for n in names]


def blob_flags(*, signatures: bool = True) -> list[str]:
    """Compile flags of the loader and mbedTLS."""
    return (["-std=c99", "-O2", "-DMBEDTLS_CONFIG_FILE=\"kws_mbedtls_config.h\"",
             f"-I{BLOB / 'include'}", f"-I{MBEDTLS / 'include'}"]
            + (["-DKWS_BLOB_SIGNATURES"] if signatures else []))


def _cc(args: list[str], what: str) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise KwsError("no host C compiler (cc) found: apt-get install build-essential")
    proc = subprocess.run([cc, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        err = [ln for ln in proc.stderr.splitlines() if "error" in ln] or proc.stderr.splitlines()
        raise KwsError(f"{what}: build failed: {err[0] if err else proc.returncode}")


def build_check_library(out: str | Path) -> Path:
    """``libkws_blob.so``: kws_blob_validate with SHA-256 and ECDSA, for ctypes."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    srcs = [BLOB / "src" / "kws_blob.c", BLOB / "src" / "kws_blob_crypto.c", *mbedtls_sources()]
    _cc([*blob_flags(), "-shared", "-fPIC", *map(str, srcs), "-o", str(out)], str(out))
    return out


def build_fuzz_driver(model_dir: str | Path, out: str | Path, *, sanitize: bool = True,
                      signatures: bool = True) -> Path:
    """The fuzz driver for the blob-slot model in ``model_dir`` (kws_model_blob.c), with the
    whole runtime; ASan/UBSan when ``sanitize``."""
    model_dir, out = Path(model_dir), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rt = REPO / "firmware" / "runtime"
    srcs = ([model_dir / "kws_model_blob.c", BLOB / "tests" / "blob_fuzz.c",
             BLOB / "src" / "kws_blob.c", BLOB / "src" / "kws_blob_crypto.c"]
            + sorted((rt / "src").glob("*.c")) + mbedtls_sources(signatures=signatures))
    flags = [*blob_flags(signatures=signatures), "-g", f"-I{model_dir}",
             f"-I{rt / 'include'}", f"-I{rt / 'src'}", f"-I{REPO / 'common' / 'include'}",
             *(SANITIZE if sanitize else [])]
    _cc([*flags, *map(str, srcs), "-o", str(out)], str(out))
    return out
