"""Model blobs: a valid newer blob replaces the running model; every bad blob (truncated at
every length, every byte flipped, offsets and lengths pointing outside, values out of range,
wrong fingerprint, wrong front end, older version, unsigned, bad signature, another model's
blob) is refused with a named error, under ASan/UBSan, and the running model is untouched."""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests.product_runs import random_run

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a host C compiler")


def _keys(tmp: Path, name: str) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    priv, pub = tmp / f"{name}.pem", tmp / f"{name}.pub.pem"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def reseal(blob: bytes, key: Path | None, body: int | None = None) -> bytes:
    """Recompute CRC-32, SHA-256 (and the signature) over a modified body (``body``: its
    length, default the header's)."""
    from kws.export.blob import sign_digest

    body = struct.unpack_from("<I", blob, 60)[0] if body is None else body
    head = bytearray(blob[:body])
    if key is not None:
        struct.pack_into("<I", head, 56, 1)
    digest = hashlib.sha256(bytes(head)).digest()
    out = bytes(head) + struct.pack("<I", zlib.crc32(bytes(head))) + digest
    if key is None:
        return out + struct.pack("<I", 0)
    return out + struct.pack("<I", 64) + sign_digest(digest, key.read_bytes())


def _table(blob: bytes) -> list[tuple[int, int, int]]:
    n = struct.unpack_from("<I", blob, 20)[0]
    return [struct.unpack_from("<III", blob, 64 + 12 * i) for i in range(n)]


def structural_cases(blob: bytes, key: Path) -> list[bytes]:
    """Re-sealed (integrity-valid, signed) blobs whose fields point outside or hold bad values."""
    from kws.export.blob import KIND

    cases = []

    body = struct.unpack_from("<I", blob, 60)[0]

    def patched(off: int, fmt: str, value: int) -> None:
        b = bytearray(blob)
        struct.pack_into(fmt, b, off, value)
        cases.append(reseal(bytes(b), key, body))

    for i, (kind, off, ln) in enumerate(_table(blob)):
        t = 64 + 12 * i
        for v in (body, body - 2, 0xFFFFFFFC, off + 2, 4, 64):
            patched(t + 4, "<I", v)                       # offset outside / misaligned / overlap
        for v in (ln + 1, ln - 1 if ln else 1, 0xFFFFFFFF, body):
            patched(t + 8, "<I", v)                       # length outside / wrong
        patched(t, "<I", kind % 9 + 1)                    # wrong kind
        data = bytearray(blob)
        if kind == KIND["shift"]:
            struct.pack_into("<i", data, off, 31)
        elif kind == KIND["mult"]:
            struct.pack_into("<i", data, off, 12345)
        elif kind == KIND["act"]:
            struct.pack_into("<ii", data, off + 8, 127, -128)   # act_min > act_max
        elif kind == KIND["bias"]:
            struct.pack_into("<i", data, off, 2**31 - 1000)
        elif kind == KIND["softmax"]:
            struct.pack_into("<i", data, off + 4, 31)
        elif kind == KIND["clamp"]:
            struct.pack_into("<i", data, off, 127)
            struct.pack_into("<i", data, off + 4, -128)
        elif kind == KIND["labels"]:
            data[off + ln - 1] = ord("x")                 # last label not terminated
        elif kind == KIND["detector"]:
            struct.pack_into("<i", data, off + 16, 300)   # threshold > 256
        else:
            continue
        cases.append(reseal(bytes(data), key))
    for off, v in ((20, 0xFFFF), (20, 0), (60, 0xFFFFFFF0), (60, 10), (8, 0xFFFFFFFF),
                   (4, 2), (6, 60)):
        patched(off, "<I" if off not in (4, 6) else "<H", v)
    return cases


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from kws.device.blob_build import build_fuzz_driver
    from kws.export.blob import export_blob, export_blob_c

    tmp = tmp_path_factory.mktemp("blob")
    vendor, vendor_pub = _keys(tmp, "vendor")
    other, _ = _keys(tmp, "other")
    run0, run1, run2 = random_run(0), random_run(1), random_run(2, channels=12)
    gen = tmp / "gen"
    export_blob_c(run0, gen, version=1, public_key=vendor_pub)
    exe = build_fuzz_driver(gen, tmp / "blob_fuzz", sanitize=True)
    rng = np.random.default_rng(0)
    inputs = rng.integers(-128, 128, size=(6, 49 * 10), dtype=np.int8)
    (tmp / "inputs.bin").write_bytes(inputs.tobytes())
    return dict(tmp=tmp, exe=exe, vendor=vendor, other=other, run0=run0, run1=run1, run2=run2,
                inputs=inputs,
                good=export_blob(run1, tmp / "v2.kwsb", version=2, sign_key=vendor))


def _drive(setup: dict, cases: list[tuple[bool, bytes]]) -> tuple[list[str], list[list[int]],
                                                                 str, int]:
    f = setup["tmp"] / "cases.bin"
    f.write_bytes(struct.pack("<I", len(cases)) + b"".join(
        struct.pack("<BI", ok, len(b)) + b for ok, b in cases))
    proc = subprocess.run([str(setup["exe"]), str(f), str(setup["tmp"] / "inputs.bin")],
                          capture_output=True, text=True, timeout=600)
    lines = proc.stdout.splitlines()
    statuses = [ln.split()[1] for ln in lines if ln[:1].isdigit()]
    outs = [[int(v) for v in ln.split()[1:]] for ln in lines if ln.startswith("out")]
    assert "ERROR: AddressSanitizer" not in proc.stderr and "runtime error" not in proc.stderr, \
        proc.stderr[-2000:]
    return statuses, outs, lines[-1] if lines else "", proc.returncode


def _reference(run: Path, inputs: np.ndarray) -> list[list[int]]:
    from kws.simulate import load_run_model, tflm_model_fn

    model = load_run_model(run)
    x = inputs.reshape((len(inputs),) + tuple(model.input_shape[1:]))
    return tflm_model_fn(model, workers=1)(x).astype(int).reshape(len(inputs), -1).tolist()


def test_valid_newer_blob_replaces_the_model(setup: dict) -> None:
    statuses, outs, summary, rc = _drive(setup, [(True, setup["good"])])
    assert rc == 0 and statuses == ["ok"], summary
    assert '"version":2' in summary
    assert outs == _reference(setup["run1"], setup["inputs"])


def test_named_refusals(setup: dict) -> None:
    from kws.export.blob import export_blob

    tmp, vendor = setup["tmp"], setup["vendor"]
    good = setup["good"]
    unsigned = export_blob(setup["run1"], tmp / "u.kwsb", version=2)
    other_key = export_blob(setup["run1"], tmp / "o.kwsb", version=2, sign_key=setup["other"])
    older = export_blob(setup["run1"], tmp / "old.kwsb", version=0, sign_key=vendor)
    other_model = export_blob(setup["run2"], tmp / "m.kwsb", version=3, sign_key=vendor)
    fe = bytearray(good[:struct.unpack_from("<I", good, 60)[0]] + good[-104:])
    struct.pack_into("<I", fe, 16, 0x12345678)
    wrong_fe = reseal(bytes(fe), vendor)
    cases = [(False, unsigned), (False, other_key), (False, older), (False, other_model),
             (False, wrong_fe), (False, b""), (False, b"\0" * 4096)]
    statuses, outs, summary, rc = _drive(setup, cases)
    assert statuses == ["unsigned", "signature", "version", "fingerprint", "frontend",
                        "truncated", "magic"], summary
    assert rc == 0, summary
    assert outs == _reference(setup["run0"], setup["inputs"])


def fuzz_cases(setup: dict, *, step: int = 1) -> list[tuple[bool, bytes]]:
    """Every truncation, every byte flipped (both every ``step``-th), and structural cases."""
    good = setup["good"]
    cases = [(False, good[:n]) for n in range(0, len(good), step)]
    cases += [(False, good[:i] + bytes([good[i] ^ 0xFF]) + good[i + 1:])
              for i in range(0, len(good), step)]
    cases += [(False, c) for c in structural_cases(good, setup["vendor"])]
    return cases


def test_fuzz_every_bad_blob_refused_model_untouched(setup: dict) -> None:
    cases = fuzz_cases(setup, step=1)
    statuses, outs, summary, rc = _drive(setup, cases)
    assert len(statuses) == len(cases) and "ok" not in statuses, summary
    assert rc == 0 and '"changed":0' in summary and '"wrong":0' in summary, summary
    assert outs == _reference(setup["run0"], setup["inputs"])
    print(f"blob fuzz: {len(cases)} bad blobs refused; {summary}")


def named_cases(setup: dict) -> list[tuple[bool, bytes]]:
    """Unsigned, foreign key, older, another model's, other front end, empty, not a blob."""
    from kws.export.blob import export_blob

    tmp, vendor, good = setup["tmp"], setup["vendor"], setup["good"]
    fe = bytearray(good[:struct.unpack_from("<I", good, 60)[0]] + good[-104:])
    struct.pack_into("<I", fe, 16, 0x12345678)
    return [(False, export_blob(setup["run1"], tmp / "u.kwsb", version=2)),
            (False, export_blob(setup["run1"], tmp / "o.kwsb", version=2,
                                sign_key=setup["other"])),
            (False, export_blob(setup["run1"], tmp / "old.kwsb", version=0, sign_key=vendor)),
            (False, export_blob(setup["run2"], tmp / "m.kwsb", version=3, sign_key=vendor)),
            (False, reseal(bytes(fe), vendor)), (False, b""), (False, b"\0" * 4096)]


def _case_file(cases: list[tuple[int, bytes]]) -> bytes:
    return struct.pack("<I", len(cases)) + b"".join(struct.pack("<BI", int(ok), len(b)) + b
                                                    for ok, b in cases)


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or
                    shutil.which("qemu-system-arm") is None,
                    reason="needs arm-none-eabi-gcc and qemu-system-arm")
def test_fuzz_on_the_m4_every_bad_blob_refused_model_untouched(setup: dict) -> None:
    """The real loader on the Cortex-M4 under QEMU, each case ending at an MPU guard region:
    a few hundred bad blobs (every 7th truncation and flipped byte, every structural case, the
    named ones) refused without a fault, the built-in model's outputs unchanged; then the valid
    newer blob loads and gives the new model's outputs."""
    from kws import qemu
    from kws.device.blob_build import build_m4_fuzz_driver

    elf = build_m4_fuzz_driver(setup["tmp"] / "gen", setup["tmp"] / "m4")
    files = {"inputs.bin": setup["inputs"].tobytes()}
    guard = qemu.run_elf(elf, args=["cases.bin", "inputs.bin", "guard-test"],
                         files={**files, "cases.bin": _case_file([])}, timeout=120)
    assert guard.exit_code != 0 and "guard read" not in guard.stdout   # the guard faults
    bad = fuzz_cases(setup, step=7) + named_cases(setup)
    for cases, want in ((bad, setup["run0"]),
                        (named_cases(setup) + [(True, setup["good"])], setup["run1"])):
        res = qemu.run_elf(elf, args=["cases.bin", "inputs.bin"],
                           files={**files, "cases.bin": _case_file(cases)}, timeout=300)
        lines = res.stdout.splitlines()
        statuses = [ln.split()[1] for ln in lines if ln[:1].isdigit()]
        outs = [[int(v) for v in ln.split()[1:]] for ln in lines if ln.startswith("out")]
        assert res.exit_code == 0, res.stdout[-500:]
        assert len(statuses) == len(cases) and statuses.count("ok") == int(cases[-1][0])
        assert '"changed":0' in lines[-1] and '"wrong":0' in lines[-1]
        assert outs == _reference(want, setup["inputs"])
        print(f"M4 blob fuzz: {lines[-1]}")


@pytest.mark.slow
def test_fuzz_random_mutations_host(setup: dict) -> None:
    """Longer host fuzz under ASan/UBSan: 20,000 blobs with 1-8 random bytes changed anywhere
    (all refused) and 2,000 with random changes in the section data, re-sealed and signed
    (integrity-valid: refused by the value checks, or loaded and then run on every input);
    finally the valid newer blob loads and gives the new model's outputs."""
    rng = np.random.default_rng(1)
    good = setup["good"]
    body = struct.unpack_from("<I", good, 60)[0]
    start = 64 + 12 * struct.unpack_from("<I", good, 20)[0]
    cases: list[tuple[int, bytes]] = []
    for _ in range(20000):
        b = bytearray(good)
        for _ in range(rng.integers(1, 9)):
            i = int(rng.integers(0, len(b)))
            b[i] = (b[i] + int(rng.integers(1, 256))) % 256
        cases.append((0, bytes(b)))
    for _ in range(2000):
        b = bytearray(good)
        for _ in range(rng.integers(1, 5)):
            b[int(rng.integers(start, body))] = int(rng.integers(0, 256))
        cases.append((2, reseal(bytes(b), setup["vendor"], body)))
    cases.append((1, good))
    f = setup["tmp"] / "random.bin"
    f.write_bytes(_case_file(cases))
    proc = subprocess.run([str(setup["exe"]), str(f), str(setup["tmp"] / "inputs.bin")],
                          capture_output=True, text=True, timeout=3000)
    assert "ERROR: AddressSanitizer" not in proc.stderr and "runtime error" not in proc.stderr, \
        proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and '"wrong":0' in lines[-1] and '"changed":0' in lines[-1]
    outs = [[int(v) for v in ln.split()[1:]] for ln in lines if ln.startswith("out")]
    assert outs == _reference(setup["run1"], setup["inputs"])
    print(f"host random blob fuzz: {len(cases)} cases; {lines[-1]}")


def test_max_pool_model_blob_equals_tflm(tmp_path: Path) -> None:
    """A model ending in a max pool over time (tcn-stream-max) has a blob layout: the built-in
    graph loads another such model's blob and computes what TFLite Micro does."""
    from kws.device.blob_build import build_fuzz_driver
    from kws.export.blob import export_blob, export_blob_c
    from kws.runtime.testmodels import make_stream_run

    run_a = make_stream_run(tmp_path / "a", family="tcn-stream-max", seed=0)
    run_b = make_stream_run(tmp_path / "b", family="tcn-stream-max", seed=1)
    export_blob_c(run_a, tmp_path / "gen", version=1)
    exe = build_fuzz_driver(tmp_path / "gen", tmp_path / "blob_fuzz", sanitize=True)
    inputs = np.random.default_rng(3).integers(-128, 128, size=(6, 49 * 10), dtype=np.int8)
    (tmp_path / "inputs.bin").write_bytes(inputs.tobytes())
    blob = export_blob(run_b, tmp_path / "b.kwsb", version=2)
    statuses, outs, summary, rc = _drive(dict(tmp=tmp_path, exe=exe), [(True, blob)])
    assert rc == 0 and statuses == ["ok"], summary
    want = _reference(run_b, inputs)
    assert outs == want and outs != _reference(run_a, inputs)
