"""Host builds of the blob loader: the ctypes library of ``kws blob check`` and the fuzz
driver (``firmware/blob/tests/blob_fuzz.c``) for a generated blob-slot model, optionally
under ASan/UBSan. mbedTLS comes from third_party/mbedtls (scripts/fetch_third_party.sh)."""

from __future__ import annotations

from pathlib import Path

from kws.cbuild import cc_link
from kws.errors import KwsError
from kws.paths import REPO_ROOT

REPO = REPO_ROOT
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


def blob_cmake_args(model_dir: str | Path) -> list[str]:
    """CMake definitions of firmware/app's ``blob`` backend: the mbedTLS sources, and signature
    checks when the generated spec in ``model_dir`` holds a public key."""
    signed = "#define KWS_BLOB_SIGNED_SPEC 1" in (Path(model_dir) / "kws_model_blob.h").read_text()
    srcs = ";".join(str(p) for p in mbedtls_sources(signatures=signed))
    return [f"KWS_APP_BLOB_SOURCES={srcs}", f"KWS_MBEDTLS_DIR={MBEDTLS}",
            f"KWS_APP_BLOB_SIGNATURES={'ON' if signed else 'OFF'}"]


def build_check_library(out: str | Path) -> Path:
    """``libkws_blob.so``: kws_blob_validate with SHA-256 and ECDSA, for ctypes."""
    srcs = [BLOB / "src" / "kws_blob.c", BLOB / "src" / "kws_blob_crypto.c", *mbedtls_sources()]
    return cc_link(srcs, out, shared=True, flags=blob_flags())


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
    return cc_link(srcs, out, flags=flags)


def build_m4_fuzz_driver(model_dir: str | Path, build_dir: str | Path) -> Path:
    """``blob_fuzz_m4.elf``: the fuzz driver on the Cortex-M4 (QEMU) for the blob-slot model in
    ``model_dir``, with signature checks (firmware/blob/tests/m4)."""
    from kws.cbuild import cmake_build

    srcs = ";".join(str(p) for p in mbedtls_sources(signatures=True))
    out = cmake_build(BLOB / "tests" / "m4", build_dir, m4=True,
                      defines=[f"KWS_MODEL_DIR={Path(model_dir).resolve()}",
                               f"KWS_MBEDTLS_DIR={MBEDTLS}", f"KWS_BLOB_MBEDTLS_SOURCES={srcs}"])
    return out / "blob_fuzz_m4.elf"
