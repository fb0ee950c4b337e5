"""The C runtime on the Cortex-M4 (mps2-an386) under QEMU: ``kws infer --backend qemu``.

Needs the M4 toolchain file, board support and ``kws.qemu`` (run_elf, count_instructions)
from the firmware infrastructure; until they are in this tree the backend says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.errors import KwsError


def run_qemu(model_path: Path, xs: np.ndarray) -> np.ndarray:
    """Run each input of ``xs`` through the model built for the M4 under qemu-system-arm."""
    try:
        import kws.qemu  # noqa: F401
    except ImportError as exc:
        raise KwsError("backend qemu: kws.qemu (QEMU board support) is not in this tree yet") \
            from exc
    raise KwsError("backend qemu: the M4 build of the runtime is not wired up yet")
