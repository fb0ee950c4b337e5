"""The blob-slot firmware under QEMU: a valid newer blob in flash changes the detections to the
new model's (equal to ``kws stream`` of that model in Python); a bad one is refused with one
line naming the reason, and the detections stay the built-in model's; A/B slots keep the
newest valid model; a signed build refuses blobs signed by anyone else."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from tests.product_runs import random_run, stream_samples, write_wav

pytestmark = [pytest.mark.qemu, pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs arm-none-eabi-gcc and qemu-system-arm")]


def python_lines(run: Path) -> list[str]:
    from kws.simulate import (
        detection_lines,
        detector_settings_for,
        load_run_model,
        simulate,
        tflm_model_fn,
    )

    m = load_run_model(run)
    return detection_lines(simulate(stream_samples(), frontend=m.frontend,
                                    detector=detector_settings_for(m),
                                    model_fn=tflm_model_fn(m, workers=1),
                                    output_zero_point=m.output_zero_point))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from kws.export.blob import export_blob
    from tests.test_blob import _keys

    tmp = tmp_path_factory.mktemp("blobfw")
    run0, run1 = random_run(0), random_run(1)
    vendor, vendor_pub = _keys(tmp, "vendor")
    other, _ = _keys(tmp, "other")
    lines0, lines1 = python_lines(run0), python_lines(run1)
    assert lines0 != lines1 and lines0 and lines1
    return dict(tmp=tmp, run0=run0, run1=run1, vendor=vendor, vendor_pub=vendor_pub,
                other=other, lines0=lines0, lines1=lines1,
                wav=write_wav(tmp / "stream.wav", stream_samples()),
                v2=export_blob(run1, tmp / "v2.kwsb", version=2))


def _stream(env: dict, capsys: pytest.CaptureFixture, *blobs: Path) -> tuple[int, list[str],
                                                                             list[str]]:
    from kws.cli import main

    args = ["stream", str(env["run0"]), str(env["wav"]), "--backend", "qemu"]
    for b in blobs:
        args += ["--blob", str(b)]
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out.splitlines(), err.splitlines()


def test_valid_newer_blob_changes_the_detections(env: dict,
                                                 capsys: pytest.CaptureFixture) -> None:
    rc, out, err = _stream(env, capsys, env["tmp"] / "v2.kwsb")
    assert rc == 0, err
    assert out == env["lines1"]
    assert err == [f"{env['tmp'] / 'v2.kwsb'}: blob slot A: loaded model version 2"]


@pytest.mark.parametrize("damage,reason", [("flip", "crc"), ("truncate", "layout"),
                                           ("older", "version"), ("other_model", "fingerprint")])
def test_bad_blob_refused_with_one_line_detections_unchanged(
        env: dict, capsys: pytest.CaptureFixture, damage: str, reason: str) -> None:
    from kws.export.blob import export_blob

    path = env["tmp"] / f"bad_{damage}.kwsb"
    good = env["v2"]
    if damage == "flip":
        body = struct.unpack_from("<I", good, 60)[0]
        path.write_bytes(good[:body - 7] + bytes([good[body - 7] ^ 0x10]) + good[body - 6:])
    elif damage == "truncate":   # in a 512 KiB slot: the rest reads as erased flash (0xFF)
        path.write_bytes(good[:len(good) // 2])
    elif damage == "older":
        export_blob(env["run1"], path, version=0)
    else:
        export_blob(random_run(2, channels=12), path, version=5)
    rc, out, err = _stream(env, capsys, path)
    assert rc == 1
    assert out == env["lines0"]
    assert len(err) == 1 and err[0].startswith(f"{path}: blob slot A: refused: {reason} (")
    assert err[0].endswith("running model version 1")


def test_ab_slots_keep_the_newest_valid_model(env: dict, tmp_path: Path) -> None:
    from kws.device.blob_slot import build_blob_firmware, run_blob_firmware
    from kws.export.blob import export_blob

    elf = build_blob_firmware(env["run0"], tmp_path / "fw.elf")
    v3 = export_blob(env["run1"], tmp_path / "v3.kwsb", version=3)
    crc = bytearray(v3)
    crc[100] ^= 1
    r = run_blob_firmware(elf, stream_samples(), [bytes(crc), env["v2"]], workdir=tmp_path)
    assert [(o.slot, o.loaded, o.reason, o.version) for o in r.slots] == [
        ("A", False, "crc", 1), ("B", True, "", 2)]
    assert r.lines == env["lines1"]
    r = run_blob_firmware(elf, stream_samples(), [v3, env["v2"]], workdir=tmp_path)
    assert [(o.slot, o.loaded, o.reason, o.version) for o in r.slots] == [
        ("A", True, "", 3), ("B", False, "version", 3)]
    assert r.lines == env["lines1"]


def test_signed_firmware_refuses_unsigned_and_foreign_blobs(env: dict, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    from kws.cli import main
    from kws.device.blob_slot import elf_spec, run_blob_firmware
    from kws.export.blob import export_blob, public_key_point

    elf = tmp_path / "fw.elf"
    assert main(["firmware", "build", str(env["run0"]), "--out", str(elf), "--blob-slot",
                 "--blob-key", str(env["vendor_pub"]), "--model-version", "4"]) == 0
    capsys.readouterr()
    spec = elf_spec(elf)
    assert spec.version == 4 and spec.public_key == public_key_point(
        env["vendor_pub"].read_bytes())
    signed = export_blob(env["run1"], tmp_path / "s.kwsb", version=5, sign_key=env["vendor"])
    foreign = export_blob(env["run1"], tmp_path / "f.kwsb", version=5, sign_key=env["other"])
    unsigned = export_blob(env["run1"], tmp_path / "u.kwsb", version=5)
    r = run_blob_firmware(elf, stream_samples(), [foreign, unsigned], workdir=tmp_path)
    assert [(o.loaded, o.reason) for o in r.slots] == [(False, "signature"), (False, "unsigned")]
    assert r.lines == env["lines0"]
    r = run_blob_firmware(elf, stream_samples(), [signed], workdir=tmp_path)
    assert [(o.loaded, o.version) for o in r.slots] == [(True, 5)]
    assert r.lines == env["lines1"]
    # kws blob check --firmware: the same verdicts on the host, from what the ELF expects
    export_blob(env["run1"], tmp_path / "o.kwsb", version=3, sign_key=env["vendor"])
    for name, rc, text in (("s.kwsb", 0, f"signature verified with the key in {elf}; fits"),
                           ("f.kwsb", 2, "refused: signature"),
                           ("u.kwsb", 2, "refused: unsigned"),
                           ("o.kwsb", 2, "refused: version")):
        assert main(["blob", "check", str(tmp_path / name), "--firmware", str(elf)]) == rc
        out, err = capsys.readouterr()
        assert text in (out + err) and len((out + err).splitlines()) == 1
    assert main(["blob", "check", str(tmp_path / "s.kwsb"), "--firmware", str(elf), "--key",
                 str(env["tmp"] / "other.pub.pem")]) == 2
    assert "not the public key" in capsys.readouterr().err


def test_blob_needs_the_qemu_backend(env: dict, capsys: pytest.CaptureFixture) -> None:
    from kws.cli import main

    assert main(["stream", str(env["run0"]), str(env["wav"]), "--blob", str(env["tmp"] / "x")]
                ) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--backend qemu" in err[0]
