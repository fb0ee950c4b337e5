"""The ``qemu`` front-end backend: the C front end built for the Cortex-M4, run under QEMU.

It runs ``firmware/harness/frontend_m4.c`` on mps2-an386 (one QEMU run per call), passing the
tables of any :class:`FrontendSettings` and the clips over semihosting, and reads the int8
frames back. The firmware computes every frame twice, frame by frame and streaming block by
block, and this backend checks that both agree before returning them.
"""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings

#: Input magic of frontend_m4 ("KWSQ").
MAGIC = 0x4B575351
#: frontend_m4's input buffer (KWS_IN_MAX) less room for the header and tables.
MAX_AUDIO_BYTES = 1536 * 1024 - 64 * 1024


def input_bytes(clips: np.ndarray, settings: FrontendSettings) -> bytes:
    """Serialize tables and (num_clips, clip_len) int16 clips for ``frontend_m4``."""
    from kws.frontend.cbackend import TableSet

    tables = TableSet(settings)
    a = tables.arrays
    clips = np.ascontiguousarray(clips, dtype="<i2")
    head = [MAGIC, 1, *tables.header.values(), a["window"].size, a["perm"].size,
            a["twiddle"].size, a["split"].size, a["mel_start"].size, a["mel_weights"].size,
            a["eps"].size, a["log2"].size, a["proj"].size, clips.shape[0], clips.shape[1]]
    parts = [np.asarray(head, "<i4").tobytes()]
    for name in ("window", "perm", "twiddle", "split", "mel_start", "mel_len", "mel_weights",
                 "eps", "log2", "proj"):
        parts.append(a[name].astype(a[name].dtype.newbyteorder("<")).tobytes())
    parts.append(clips.tobytes())
    return b"".join(parts)


def parse_output(data: bytes, num_outputs: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(init status, per-hop frames, streamed frames) from ``frontend_m4``'s output file."""
    status, frames, outs = (int(v) for v in np.frombuffer(data[:12], "<i4"))
    if status != 0:
        return status, np.empty((0, num_outputs), np.int8), np.empty((0, num_outputs), np.int8)
    body = np.frombuffer(data[12:], np.int8)
    n = frames * outs
    if body.size != 2 * n or outs != num_outputs:
        raise KwsError(f"frontend_m4: output holds {body.size} bytes, expected {2 * n}")
    return status, body[:n].reshape(frames, outs).copy(), body[n:].reshape(frames, outs).copy()


def run_frontend_m4(clips: np.ndarray, settings: FrontendSettings, *, count: bool = False,
                    timeout: float = 300.0):
    """Run ``frontend_m4`` on (num_clips, clip_len) int16 clips.

    Returns ``(per_hop_frames, streamed_frames, result)``: frames shaped
    (num_clips * frames_per_clip, num_outputs) and the :class:`kws.qemu.QemuResult` (or a
    :class:`kws.qemu.CountResult` when ``count`` is True: pair 0 = one interval per
    ``kws_frontend_compute_frame``, pair 1 = one per streaming ``kws_frontend_process`` call).
    """
    from kws import qemu

    clips = np.asarray(clips)
    if clips.ndim != 2 or clips.dtype != np.int16:
        raise KwsError(f"frontend_m4: clips must be (num_clips, clip_len) int16, got "
                       f"{clips.shape} {clips.dtype}")
    if clips.nbytes > MAX_AUDIO_BYTES:
        raise KwsError(f"frontend_m4: {clips.nbytes} bytes of audio exceed the firmware's "
                       f"{MAX_AUDIO_BYTES} byte input buffer; pass fewer clips per call")
    elf = qemu.build_firmware("frontend_m4")
    files = {"in.bin": input_bytes(clips, settings)}
    args = ["in.bin", "out.bin"]
    if count:
        counted = qemu.count_instructions(elf, pairs=[("kws_mark_start2", "kws_mark_end2")],
                                          args=args, files=files, timeout=timeout)
        run = counted.run
    else:
        run = qemu.run_elf(elf, args=args, files=files, timeout=timeout)
    if run.exit_code != 0 or "out.bin" not in run.files:
        raise KwsError(f"frontend_m4: firmware exit status {run.exit_code}: {run.stdout.strip()}")
    status, per_hop, streamed = parse_output(run.files["out.bin"], settings.num_outputs)
    if status != 0:
        raise KwsError(f"frontend_m4: kws_frontend_init rejected the tables (status {status})")
    return per_hop, streamed, (counted if count else run)


def features_qemu(samples: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """int8 features (..., frames, num_outputs) computed on the Cortex-M4 under QEMU."""
    samples = np.asarray(samples, np.int16)
    lead = samples.shape[:-1]
    clips = samples.reshape(-1, samples.shape[-1])
    per_clip = settings.frames_for(clips.shape[1])
    out = np.zeros((clips.shape[0], per_clip, settings.num_outputs), np.int8)
    if per_clip == 0 or clips.shape[0] == 0:
        return out.reshape(*lead, per_clip, settings.num_outputs)
    step = max(1, MAX_AUDIO_BYTES // max(clips[0].nbytes, 1))
    for i in range(0, clips.shape[0], step):
        per_hop, streamed, _ = run_frontend_m4(clips[i:i + step], settings)
        if not np.array_equal(per_hop, streamed):
            raise KwsError("frontend_m4: per-hop and streamed frames differ on the M4")
        out[i:i + step] = per_hop.reshape(-1, per_clip, settings.num_outputs)
    return out.reshape(*lead, per_clip, settings.num_outputs)
