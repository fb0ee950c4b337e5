"""``kws blob check FILE [--key PUB.pem] [--firmware ELF]``: validate a model blob on the host
with the firmware's own C loader."""

from __future__ import annotations

import argparse


def run_check(args: argparse.Namespace) -> int:
    """Print one line for a valid blob; a refusal is a one-line error (exit 2)."""
    from kws.device.blob_check import check_blob

    report = check_blob(args.file, key=args.key, firmware=args.firmware)
    print(f"{args.file}: {report.line}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``blob`` sub-command with ``check``."""
    p = sub.add_parser("blob", help="model blobs for firmware with blob slots")
    bsub = p.add_subparsers(dest="blob_command", metavar="ACTION")
    bsub.required = True
    c = bsub.add_parser("check", help="validate a blob with the firmware's C loader on the host",
                        description="Run the firmware's blob validation (bounds, magic, format, "
                                    "CRC-32, SHA-256, ECDSA P-256 signature, and with --firmware "
                                    "the model fingerprint, front-end hash and version the image "
                                    "was built for) on the host.")
    c.add_argument("file", help="model blob (kws export RUN --blob FILE)")
    c.add_argument("--key", metavar="PUB.pem",
                   help="verify the signature with this P-256 public key (PEM)")
    c.add_argument("--firmware", metavar="ELF",
                   help="a firmware image built with kws firmware build --blob-slot: check "
                        "the blob against the model, front end, version and key it expects")
    c.set_defaults(func=run_check)
