"""``kws bench blob``: what loading a model blob costs on the Cortex-M4 (QEMU mps2-an386).

Builds the blob-slot firmware (``kws firmware build RUN --blob-slot``) for a model twice, with
and without a vendor key, and the plain firmware, and reports:

- flash (GNU ld map of the linked images): the loader's checks (kws_blob.c, kws_blob_crypto.c),
  SHA-256 (mbedTLS sha256.c, platform_util.c) and ECDSA P-256 verification (mbedTLS bignum,
  ecp, ecp_curves, ecdsa, asn1, constant_time, platform, memory_buffer_alloc), and each image's
  whole flash; RAM: the signature check's scratch;
- instructions (TCG counting plugin, between the markers around ``kws_model_load`` at start):
  loading a valid unsigned blob (layout, CRC-32, SHA-256, fingerprint, values) and a valid
  signed one; their difference is the signature verification. Peer in the same run: one
  inference of the same model on the same image.

The model defaults to a random-weight DS-CNN-S (channels 64, 4 blocks; the weights' values do
not change the cost, only the blob's size does).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from kws.errors import KwsError

_ECDSA = ("bignum.c", "ecp.c", "ecp_curves.c", "ecdsa.c", "asn1parse.c", "asn1write.c",
          "constant_time.c", "platform.c", "memory_buffer_alloc.c")
_SHA = ("sha256.c", "platform_util.c")
_LOADER = ("kws_blob.c", "kws_blob_crypto.c")


def _flash(map_file: Path, names: tuple[str, ...]) -> dict[str, int]:
    from kws.qemu import map_footprint

    total = {"flash": 0, "ram": 0}
    for n in names:
        fp = map_footprint(map_file, f"({n}.obj)")
        total["flash"] += fp["flash"]
        total["ram"] += fp["ram"]
    return total


def _keys(tmp: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    # A fixed key; the signature's scalars still vary per signing (random nonce), which moves
    # the verification's instruction count by a fraction of a percent between runs.
    key = ec.derive_private_key(0x6B7773626C6F62, ec.SECP256R1())
    priv, pub = tmp / "vendor.pem", tmp / "vendor.pub.pem"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def _count_load(elf: Path, blob: bytes, tmp: Path) -> tuple[object, float, int]:
    """The kws_model_load interval at start, mean instructions per inference, stack bytes."""
    import json

    from kws import qemu
    from kws.device.blob_slot import parse_slot_lines, slot_loader_args

    rng = np.random.default_rng(0)
    audio = np.clip(rng.normal(0, 3000, 16000 * 3 // 2), -32768, 32767).astype("<i2")
    work = tmp / f"count_{elf.parent.name}"
    work.mkdir(parents=True, exist_ok=True)
    res = qemu.count_instructions(elf, "kws_app_mark_blob_start", "kws_app_mark_blob_end",
                                  pairs=[("kws_mark_start2", "kws_mark_end2")],
                                  args=["audio.raw"], files={"audio.raw": audio.tobytes()},
                                  extra=slot_loader_args(elf, [blob], work), timeout=600)
    slots = parse_slot_lines(res.run.stderr)
    if not slots or not slots[0].loaded:
        raise KwsError(f"{elf}: the blob was not loaded ({slots[0].line if slots else 'no line'})")
    loads = [iv for iv in res.intervals if iv.pair == 0]
    infs = [iv.total for iv in res.intervals if iv.pair == 1]
    if len(loads) != 1 or not infs:
        raise KwsError(f"{elf}: expected one load and some inferences between the markers")
    summary = json.loads(res.run.stderr.strip().splitlines()[-1])
    return loads[0], float(np.mean(infs)), int(summary["stack_bytes"])


def run_bench(run: str | Path | None) -> list[str]:
    """Build, count, and return the report's lines."""
    from kws.device.blob_slot import build_blob_firmware
    from kws.device.pipeline import build_firmware, count_per_hop_and_inference
    from kws.export.blob import export_blob
    from kws.qemu import elf_size

    with tempfile.TemporaryDirectory(prefix="kws-bench-blob-") as t:
        tmp = Path(t)
        if run is None:
            from kws.runtime.testmodels import make_random_run

            run = make_random_run(tmp / "ds_cnn_s", channels=64, blocks=4, seed=0)
            name = "random-weight DS-CNN-S"
        else:
            name = str(run)
        priv, pub = _keys(tmp)
        signed_elf = build_blob_firmware(run, tmp / "signed" / "fw.elf", public_key=pub,
                                         build_dir=tmp / "b_signed")
        plain_elf = build_blob_firmware(run, tmp / "unsigned" / "fw.elf",
                                        build_dir=tmp / "b_unsigned")
        base_elf = build_firmware(run, tmp / "base" / "fw.elf", build_dir=tmp / "b_base")
        signed = export_blob(run, tmp / "s.kwsb", version=2, sign_key=priv)
        unsigned = export_blob(run, tmp / "u.kwsb", version=2)
        iv_signed, inf_s, stack_s = _count_load(signed_elf, signed, tmp)
        iv_plain, inf_u, stack_u = _count_load(plain_elf, unsigned, tmp)
        ecdsa = _flash(signed_elf.with_suffix(".map"), _ECDSA)
        sha = _flash(signed_elf.with_suffix(".map"), _SHA)
        loader = _flash(signed_elf.with_suffix(".map"), _LOADER)
        rng = np.random.default_rng(0)
        noise = np.clip(rng.normal(0, 3000, 16000 * 3 // 2), -32768, 32767).astype(np.int16)
        inf_base = count_per_hop_and_inference(base_elf, noise)["inference"]["total"]
        sizes = {k: elf_size(e) for k, e in (("plain firmware", base_elf),
                                             ("blob-slot, unsigned", plain_elf),
                                             ("blob-slot, signed", signed_elf))}
    from kws.device.report import CYCLES_PER_CLASS, REFERENCE_MHZ, estimate_cycles

    n_signed, n_plain = iv_signed.total, iv_plain.total
    verify = n_signed - n_plain
    cycles = estimate_cycles({k: getattr(iv_signed, k) for k in CYCLES_PER_CLASS})
    ram_s = sizes["blob-slot, signed"]["data"] + sizes["blob-slot, signed"]["bss"]
    ram_u = sizes["blob-slot, unsigned"]["data"] + sizes["blob-slot, unsigned"]["bss"]
    lines = [f"model blob loading on the Cortex-M4 (QEMU mps2-an386), model: {name}, blob "
             f"{len(unsigned):,} B unsigned / {len(signed):,} B signed",
             "flash (GNU ld map of the linked blob-slot image, bytes):",
             f"  loader checks (kws_blob.c, kws_blob_crypto.c):    {loader['flash']:>7,}",
             f"  SHA-256 (mbedTLS sha256.c, platform_util.c):      {sha['flash']:>7,}",
             f"  ECDSA P-256 verification (mbedTLS, 9 files):      {ecdsa['flash']:>7,}",
             f"  signature verification in all: {ecdsa['flash']:,} B flash; RAM +{ram_s - ram_u:,}"
             f" B static vs the unsigned image (mbedTLS's 12,288 B scratch is the model's arena,"
             f" lent during the load); stack high-water {stack_s:,} B (unsigned image: "
             f"{stack_u:,} B)",
             "whole images (arm-none-eabi-size: text + data flash, data + bss RAM):"]
    for k, s in sizes.items():
        lines.append(f"  {k:<22} flash {s['text'] + s['data']:>8,} B   "
                     f"RAM {s['data'] + s['bss']:>7,} B")
    lines += ["instructions (TCG plugin, one kws_model_load of a valid blob at start):",
              f"  unsigned blob (layout, CRC-32, SHA-256, fingerprint, values): {n_plain:>12,}",
              f"  signed blob (the same + ECDSA P-256 verify):                  {n_signed:>12,}",
              f"  signature verification (difference):                         {verify:>12,}",
              f"  peer, same images: one inference {inf_s:,.0f} instructions -> a signed load "
              f"costs {n_signed / inf_s:.1f} inferences, the signature {verify / inf_s:.1f}",
              f"  cycle estimate of the signed load (TRM weights {CYCLES_PER_CLASS}): "
              f"{cycles:,.0f} = {cycles / (REFERENCE_MHZ * 1e3):,.0f} ms at "
              f"{REFERENCE_MHZ:g} MHz, once at start"]
    lines.append(f"  one inference, weights read through the blob's pointers: {inf_s:,.0f}; "
                 f"built in (plain firmware, kws_model_invoke): {inf_base:,.0f} "
                 f"({inf_s / inf_base:.3f}x)")
    if abs(inf_s - inf_u) > 0.01 * inf_s:
        lines.append(f"  note: inference counts differ between the images ({inf_s:,.0f} vs "
                     f"{inf_u:,.0f})")
    return lines


def main(argv: list[str]) -> int:
    """``kws bench blob [--run RUN]``: print the report."""
    ap = argparse.ArgumentParser(prog="kws bench blob", description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="RUN folder (default: a random-weight DS-CNN-S)")
    args = ap.parse_args(argv)
    for line in run_bench(args.run):
        print(line)
    return 0
