"""CMSIS-DSP's ``arm_mfcc_q15`` configured like the kws default front end: the peer we compare to.

Configuration (as :class:`kws.frontend.settings.FrontendSettings` by default): a 512-point
real FFT, a 480-sample periodic Hann window zero-padded to 512, 40 HTK mel bands over
20-4000 Hz (TensorFlow's weights), and the first 10 coefficients of TensorFlow's DCT-II. The
tables are computed here in Python and handed to CMSIS-DSP at run time, in CMSIS's formats:

- ``window``: q15 ``round(w * 32768)`` clipped to 32767, zero beyond the 480 window samples;
- ``filter_pos``/``filter_len``/``filter_coefs``: each band's first non-zero FFT bin, its
  number of non-zero bins, and the weights as q15 (``round(w * 32768)``, max 32767);
- ``dct``: q15 ``round(d * 32768)`` of the (n_dct, n_mel) DCT matrix (entries are below 0.23).

What ``arm_mfcc_q15`` computes (CMSIS-DSP 1.10.3, DSP-extension path): it scales the frame to
full scale by its peak (undone after the filterbank), windows it, takes the q15 RFFT and the
magnitude, applies the mel filters into a q31 accumulator, takes ``ln`` with ``arm_vlog_q31``,
corrects the fixed-point exponents so the value is ``ln(sum_k w_k |X_k|)`` with ``X`` the DFT of
``x / 32768 * window`` (the same units as kws), and applies the DCT. The output is q8.7:
``value = out / 128``. It differs from kws's definition in its log floor (CMSIS adds about
5e-4 in mel units at full scale where kws adds 1e-6) and in its rounding.

To compare with the kws int8 features, quantize like kws does:
``quantize_output(out / 128, settings)`` (:func:`quantize_like_kws`).

The arithmetic runs in ``libkws_cmsis_mfcc.so``, the CMSIS-DSP sources compiled for the host
with our ``cmsis_compiler.h`` emulating the Armv7E-M DSP instructions, which gives exactly the
Cortex-M4's results (``tests/test_qemu.py`` checks it against the M4 under QEMU).

Example
-------
>>> import numpy as np
>>> from kws.bench.cmsis_mfcc import arm_mfcc_q15_features, frames_from_samples
>>> from kws.frontend.settings import FrontendSettings
>>> s = FrontendSettings()
>>> audio = (np.random.default_rng(0).normal(0, 1000, 16000)).astype(np.int16)
>>> q87 = arm_mfcc_q15_features(frames_from_samples(audio, s), settings=s)  # doctest: +SKIP
>>> q87.shape  # doctest: +SKIP
(49, 10)
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools

import numpy as np

from kws.errors import KwsError
from kws.frontend.reference import frame_signal, quantize_output
from kws.frontend.settings import FrontendSettings
from kws.frontend.tables import dct_matrix, hann_periodic, mel_weight_matrix

#: arm_mfcc_q15 supports these FFT sizes; the runner is built for 512.
FFT_LEN = 512


@dataclasses.dataclass(frozen=True)
class CmsisMfccTables:
    """Tables for ``arm_mfcc_init_512_q15``, in CMSIS's formats (see the module docstring)."""

    dct: np.ndarray           # (n_dct, n_mel) int16 q15
    filter_pos: np.ndarray    # (n_mel,) uint32
    filter_len: np.ndarray    # (n_mel,) uint32
    filter_coefs: np.ndarray  # (sum(filter_len),) int16 q15
    window: np.ndarray        # (512,) int16 q15

    @property
    def n_mel(self) -> int:
        """Number of mel filters."""
        return int(self.filter_pos.shape[0])

    @property
    def n_dct(self) -> int:
        """Number of DCT outputs."""
        return int(self.dct.shape[0])


def _q15(x: np.ndarray) -> np.ndarray:
    """Round half up to q15 and clip to [-32768, 32767] (never ``np.round``)."""
    return np.clip(np.floor(np.asarray(x, np.float64) * 32768.0 + 0.5), -32768,
                   32767).astype(np.int16)


def make_tables(settings: FrontendSettings | None = None) -> CmsisMfccTables:
    """Compute the CMSIS ``arm_mfcc_q15`` tables for ``settings``.

    Parameters
    ----------
    settings : FrontendSettings, optional
        Defaults to ``FrontendSettings()``. Must be MFCC (``dct=True``) with ``fft_size=512``.

    Returns
    -------
    CmsisMfccTables

    Raises
    ------
    KwsError
        If the settings are log-mel or another FFT size.
    """
    s = settings or FrontendSettings()
    if s.fft_size != FFT_LEN or not s.dct:
        raise KwsError(f"front-end settings fft_size={s.fft_size}, dct={s.dct}: the CMSIS MFCC "
                       f"peer is built for fft_size={FFT_LEN} with the DCT")
    window = np.zeros(FFT_LEN, np.int16)
    window[:s.window_samples] = _q15(hann_periodic(s.window_samples))
    weights = mel_weight_matrix(s)  # (num_bins, num_mel) float64
    pos, length, coefs = [], [], []
    for j in range(s.num_mel):
        q = _q15(weights[:, j])
        nz = np.flatnonzero(q)
        if nz.size == 0:
            # CMSIS needs at least one coefficient per band; one zero weight keeps it silent.
            nz = np.array([int(np.argmax(weights[:, j]))])
        first, last = int(nz[0]), int(nz[-1])
        pos.append(first)
        length.append(last - first + 1)
        coefs.append(q[first:last + 1])
    return CmsisMfccTables(
        dct=_q15(dct_matrix(s.num_coeffs, s.num_mel)),
        filter_pos=np.asarray(pos, np.uint32),
        filter_len=np.asarray(length, np.uint32),
        filter_coefs=np.concatenate(coefs).astype(np.int16),
        window=window,
    )


def config_bytes(tables: CmsisMfccTables) -> bytes:
    """Serialize ``tables`` in the layout of ``firmware/harness/cmsis_mfcc_run.h``."""
    head = np.asarray([FFT_LEN, tables.n_mel, tables.n_dct], "<u4").tobytes()
    dct = tables.dct.astype("<i2").tobytes()
    dct += b"\0" * (-len(dct) % 4)
    return b"".join([
        head, dct,
        tables.filter_pos.astype("<u4").tobytes(),
        tables.filter_len.astype("<u4").tobytes(),
        tables.filter_coefs.astype("<i2").tobytes(),
        tables.window.astype("<i2").tobytes(),
    ])


def frames_from_samples(samples: np.ndarray,
                        settings: FrontendSettings | None = None) -> np.ndarray:
    """Cut int16 audio into (frames, 512) int16 frames: each window's samples, then zeros.

    The zeros matter: ``arm_mfcc_q15`` normalizes by the peak of all 512 samples.
    """
    s = settings or FrontendSettings()
    framed = frame_signal(np.asarray(samples, np.int16), s)
    out = np.zeros(framed.shape[:-1] + (FFT_LEN,), np.int16)
    out[..., :s.window_samples] = framed
    return out


@functools.lru_cache(maxsize=1)
def _library() -> ctypes.CDLL:
    from kws import qemu  # the builder lives there (CMake, build/host)

    path = qemu.build_firmware("kws_cmsis_mfcc", host=True) / "libkws_cmsis_mfcc.so"
    if not path.is_file():
        raise KwsError(f"{path}: the CMSIS MFCC host library was not built")
    lib = ctypes.CDLL(str(path))
    fn = lib.kws_cmsis_mfcc_q15
    fn.restype = ctypes.c_int32
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                   ctypes.c_void_p, ctypes.c_size_t]
    return lib


def arm_mfcc_q15_features(
    frames_int16: np.ndarray,
    *,
    settings: FrontendSettings | None = None,
    tables: CmsisMfccTables | None = None,
) -> np.ndarray:
    """CMSIS-DSP ``arm_mfcc_q15`` of every frame (host build, bit-exact with the M4).

    Parameters
    ----------
    frames_int16 : ndarray of int16, shape (n, 512)
        Frames as :func:`frames_from_samples` makes them.
    settings : FrontendSettings, optional
        Used to make the tables when ``tables`` is not given.
    tables : CmsisMfccTables, optional
        Precomputed tables.

    Returns
    -------
    ndarray of int16, shape (n, n_dct)
        q8.7 MFCCs: ``value = out / 128`` (see :func:`quantize_like_kws`).

    Raises
    ------
    KwsError
        If the frames are not (n, 512) int16, or the library fails.
    """
    frames = np.asarray(frames_int16)
    if frames.ndim != 2 or frames.shape[1] != FFT_LEN or frames.dtype != np.int16:
        raise KwsError(f"arm_mfcc_q15_features: frames must be (n, {FFT_LEN}) int16, "
                       f"got {frames.shape} {frames.dtype}")
    tab = tables or make_tables(settings)
    cfg = np.frombuffer(config_bytes(tab), np.uint8).copy()  # 4-byte aligned by numpy
    work = np.ascontiguousarray(frames, np.int16).copy()      # CMSIS uses the frame as scratch
    out = np.zeros((frames.shape[0], tab.n_dct), np.int16)
    rc = _library().kws_cmsis_mfcc_q15(cfg.ctypes.data, cfg.nbytes, work.ctypes.data,
                                       work.shape[0], out.ctypes.data, out.size)
    if rc != 0:
        raise KwsError(f"arm_mfcc_q15_features: kws_cmsis_mfcc_q15 returned {rc}")
    return out


def quantize_like_kws(q87: np.ndarray, settings: FrontendSettings | None = None) -> np.ndarray:
    """Map CMSIS q8.7 MFCCs to kws int8 features: ``quantize_output(q87 / 128, settings)``."""
    s = settings or FrontendSettings()
    return quantize_output(np.asarray(q87, np.float64) / 128.0, s)


def main(argv: list[str] | None = None) -> int:
    """``kws bench cmsis_mfcc``: int8 accuracy of arm_mfcc_q15 vs kws against the float definition.

    For every frame of the clips, both are quantized the kws way and compared with the float64
    reference quantized the same way; prints the share of outputs within 0 and 1 LSB.
    """
    import argparse

    from kws.bench import shared_audio_dir
    from kws.frontend import compute_features
    from kws.frontend.reference import features_float
    from kws.frontend.signals import adversarial_clips, real_clips

    ap = argparse.ArgumentParser(prog="kws bench cmsis_mfcc",
                                 description=main.__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=60, help="real clips (default 60)")
    args = ap.parse_args(argv)
    s = FrontendSettings()
    if shared_audio_dir() is not None:
        clips, what = real_clips(16000, root=shared_audio_dir(), limit=args.clips,
                                  include_noise=False)[0], "real speech"
    else:
        clips, what = adversarial_clips(16000)[0], "synthetic (../shared/audio missing)"
    ref = quantize_output(features_float(clips, s), s).astype(np.int32)
    ours = compute_features(clips, s, backend="c").astype(np.int32)
    q87 = arm_mfcc_q15_features(frames_from_samples(clips, s).reshape(-1, FFT_LEN), settings=s)
    theirs = quantize_like_kws(q87, s).reshape(ours.shape).astype(np.int32)
    print(f"int8 MFCC accuracy vs the float64 definition, {ours.shape[0]} clips of {what}, "
          f"{ours.size} outputs")
    for name, got in (("kws fixed point", ours), ("CMSIS arm_mfcc_q15", theirs)):
        err = np.abs(got - ref)
        print(f"  {name:20s} exact {np.mean(err == 0):7.2%}   within 1 LSB {np.mean(err <= 1):7.2%}"
              f"   max {err.max()} LSB")
    return 0
