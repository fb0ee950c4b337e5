"""``kws blob check``: the firmware's C validation on the host (ctypes): a valid blob gives one
summary line; a corrupt, foreign-signed, unsigned-with-key or other-model blob gives a one-line
error naming the file and the reason, exit 2; the Python packer and the C loader agree."""

from __future__ import annotations

import shutil

import pytest

from tests.product_runs import random_run

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a host C compiler")


@pytest.fixture(scope="module")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from kws.export.blob import export_blob
    from tests.test_blob import _keys

    tmp = tmp_path_factory.mktemp("check")
    vendor, vendor_pub = _keys(tmp, "vendor")
    _, other_pub = _keys(tmp, "other")
    run = random_run(1)
    export_blob(run, tmp / "signed.kwsb", version=7, sign_key=vendor)
    export_blob(run, tmp / "plain.kwsb", version=3)
    return dict(tmp=tmp, vendor_pub=vendor_pub, other_pub=other_pub)


def _cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, list[str], list[str]]:
    from kws.cli import main

    rc = main(["blob", "check", *args])
    out, err = capsys.readouterr()
    return rc, out.splitlines(), err.splitlines()


def test_valid_blobs(blobs: dict, capsys: pytest.CaptureFixture) -> None:
    tmp = blobs["tmp"]
    rc, out, err = _cli(capsys, str(tmp / "signed.kwsb"), "--key", str(blobs["vendor_pub"]))
    assert rc == 0 and err == []
    assert out == [f"{tmp / 'signed.kwsb'}: valid: model version 7, 23 sections, "
                   f"{(tmp / 'signed.kwsb').stat().st_size} B, signed, signature verified with "
                   f"{blobs['vendor_pub']}"]
    rc, out, _ = _cli(capsys, str(tmp / "plain.kwsb"))
    assert rc == 0 and out[0].endswith(", unsigned")
    rc, out, _ = _cli(capsys, str(tmp / "signed.kwsb"))
    assert rc == 0 and out[0].endswith("signed, signature not checked (no key)")


@pytest.mark.parametrize("case,reason", [
    ("foreign_key", "signature"), ("unsigned", "unsigned"), ("flip_body", "crc"),
    ("flip_digest", "sha256"), ("flip_signature", "signature"), ("truncated", "truncated"),
    ("not_a_blob", "magic"), ("empty", "truncated")])
def test_refusals_are_one_line(blobs: dict, capsys: pytest.CaptureFixture, case: str,
                               reason: str) -> None:
    tmp = blobs["tmp"]
    signed = (tmp / "signed.kwsb").read_bytes()
    key = blobs["vendor_pub"]
    path = tmp / f"{case}.kwsb"
    body = int.from_bytes(signed[60:64], "little")
    data = {"foreign_key": signed, "unsigned": (tmp / "plain.kwsb").read_bytes(),
            "flip_body": signed[:100] + bytes([signed[100] ^ 4]) + signed[101:],
            "flip_digest": signed[:body + 4] + bytes([signed[body + 4] ^ 1]) + signed[body + 5:],
            "flip_signature": signed[:-1] + bytes([signed[-1] ^ 1]),
            "truncated": signed[:-1], "not_a_blob": b"RIFF" + bytes(200), "empty": b""}[case]
    if case == "foreign_key":
        key = blobs["other_pub"]
    path.write_bytes(data)
    rc, out, err = _cli(capsys, str(path), "--key", str(key))
    assert rc == 2 and out == []
    assert len(err) == 1 and f"{path}: refused: {reason} (" in err[0]


def test_bad_arguments(blobs: dict, capsys: pytest.CaptureFixture) -> None:
    tmp = blobs["tmp"]
    for args, what in (([str(tmp / "missing.kwsb")], "cannot read"),
                       ([str(tmp / "plain.kwsb"), "--key", str(tmp / "plain.kwsb")],
                        "public key"),
                       ([str(tmp / "plain.kwsb"), "--firmware", str(tmp / "plain.kwsb")],
                        "not an ELF")):
        rc, out, err = _cli(capsys, *args)
        assert rc == 2 and out == [] and len(err) == 1 and what in err[0], err
