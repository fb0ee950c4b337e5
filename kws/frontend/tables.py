"""Integer tables of the fixed-point front end, computed in Python only.

C never computes a table: it receives these arrays (compiled in from the generated header, or
passed in at run time by the tests) and validates them. That keeps every configuration bit-exact
across NumPy, the host and the Cortex-M4.

Q formats
---------
- ``window``: int32, Q31 (``round(w * 2**31)``, clipped to 2**31 - 1).
- ``perm``: uint16, the input order of the decimation-in-time complex FFT.
- ``twiddle``: int32 pairs (re, im), Q31 of ``W_N^k = exp(-2j*pi*k/N)`` for k in [0, M/2] (half
  a circle's worth: ``W_N^k = -conj(W_N^(M-k))`` gives k in (M/2, M]), clipped to +-(2**31 - 1)
  so that every entry can be negated. Shared by the FFT (``W_M^e = W_N^(2e)``, and
  ``-W_N^(2e-M)`` for ``2e > M``) and the real-FFT split (``W_N^k``); see
  :func:`kws.frontend.fixed.twiddle_n`. Entry 0 is unused (a zero exponent is an exact halving).
- ``mel_start``, ``mel_len``, ``mel_weights``: the sparse mel filterbank, weights uint16 Q15.
- ``eps``: uint64, ``round(log_eps * 2**E(s))`` for every block shift s in [S_MIN, S_MAX].
- ``log2``: int32, Q16 of ``log2(1 + i/64)`` for i in 0..64.
- ``proj``: int16, the DCT (or identity for log-mel) times ``ln 2 / output_scale``, Q ``proj_q``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math

import numpy as np

from kws.frontend.settings import FrontendSettings

#: Block floating point: the windowed products are shifted so their peak lies in [2**28, 2**29).
BLOCK_TARGET_BITS = 28
#: Shift range: products reach 2**30 (so at least -2), a single LSB may need up to +28.
S_MIN = -2
S_MAX = 28
#: Resolution of the log2 lookup: 2**LOG2_BITS intervals.
LOG2_BITS = 6
#: Version of the front end's integer arithmetic (kws/frontend/fixed.py == dsp/src). Bump it
#: whenever an operation changes the integers without changing a table. 1: Q15 window and
#: twiddles (SMULW); 2: Q31 window (SMULWB) and Q31 twiddles (SMMULR / SMMLAR / SMMLSR).
ARITHMETIC_VERSION = 2


@dataclasses.dataclass(frozen=True)
class FrontendTables:
    """All integer tables for one :class:`FrontendSettings`; see the module docstring."""

    window: np.ndarray       # (L,) int32
    perm: np.ndarray         # (M,) uint16
    radices: tuple[int, ...]  # stage radices, first stage first
    twiddle: np.ndarray      # (M/2+1, 2) int32
    mel_start: np.ndarray    # (num_mel,) uint16
    mel_len: np.ndarray      # (num_mel,) uint16
    mel_weights: np.ndarray  # (sum(mel_len),) uint16
    eps: np.ndarray          # (S_MAX - S_MIN + 1,) uint64
    log2: np.ndarray         # (2**LOG2_BITS + 1,) int32
    proj: np.ndarray         # (num_outputs, num_mel) int16
    proj_q: int              # fractional bits of proj
    exp_base: int            # E(s) = exp_base + s

    @property
    def mel_dense(self) -> np.ndarray:
        """The mel weights as a dense (num_mel, num_bins) int64 matrix (for NumPy)."""
        num_bins = int(self.perm.shape[0]) + 1
        dense = np.zeros((len(self.mel_start), num_bins), dtype=np.int64)
        offset = 0
        for j, (start, length) in enumerate(zip(self.mel_start, self.mel_len)):
            dense[j, start:start + length] = self.mel_weights[offset:offset + length]
            offset += int(length)
        return dense


def hann_periodic(length: int) -> np.ndarray:
    """Periodic Hann window, float64: ``0.5 - 0.5 cos(2 pi n / L)``."""
    n = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / length)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale, as TensorFlow: ``1127 ln(1 + hz / 700)``."""
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_weight_matrix(settings: FrontendSettings) -> np.ndarray:
    """Float64 mel weights shaped (num_bins, num_mel), as ``tf.signal.linear_to_mel_weight_matrix``.

    Triangles on the HTK mel scale between ``lower_hz`` and ``upper_hz``; the DC bin gets no
    weight, as in TensorFlow.
    """
    num_bins = settings.num_bins
    nyquist = settings.sample_rate / 2.0
    bin_mel = hz_to_mel(np.linspace(0.0, nyquist, num_bins))[1:]
    edges = np.linspace(hz_to_mel(settings.lower_hz), hz_to_mel(settings.upper_hz),
                        settings.num_mel + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    lower_slope = (bin_mel[:, None] - lower[None, :]) / (center - lower)[None, :]
    upper_slope = (upper[None, :] - bin_mel[:, None]) / (upper - center)[None, :]
    weights = np.maximum(0.0, np.minimum(lower_slope, upper_slope))
    return np.concatenate([np.zeros((1, settings.num_mel)), weights], axis=0)


def dct_matrix(num_coeffs: int, num_mel: int) -> np.ndarray:
    """DCT-II as ``tf.signal.mfccs_from_log_mel_spectrograms``, shaped (num_coeffs, num_mel).

    TensorFlow computes the unnormalized DCT-II times ``1/sqrt(2 num_mel)``, that is
    ``sqrt(2/num_mel) * sum x_n cos(pi k (2n+1) / (2 num_mel))`` for every k. This equals the
    orthonormal DCT-II except that coefficient 0 is larger by sqrt(2).
    """
    k = np.arange(num_coeffs, dtype=np.float64)[:, None]
    n = np.arange(num_mel, dtype=np.float64)[None, :]
    return math.sqrt(2.0 / num_mel) * np.cos(np.pi * k * (2.0 * n + 1.0) / (2.0 * num_mel))


def fft_radices(m: int) -> tuple[int, ...]:
    """Stage radices of the complex FFT of ``m`` points: a radix-2 stage first if needed."""
    stages = int(round(math.log2(m)))
    if 1 << stages != m:
        raise ValueError(f"complex FFT size {m} is not a power of 2")
    radices = [4] * (stages // 2)
    if stages % 2:
        radices.insert(0, 2)
    return tuple(radices)


def dit_permutation(m: int, radices: tuple[int, ...]) -> np.ndarray:
    """Input order for an in-place decimation-in-time FFT with the given stage radices.

    ``buffer[i] = x[perm[i]]``: the last stage's radix splits the input by index modulo r.
    """
    if not radices:
        return np.zeros(1, dtype=np.int64)
    r = radices[-1]
    inner = dit_permutation(m // r, radices[:-1])
    return np.concatenate([q + r * inner for q in range(r)])


#: Largest Q31 table value: 1.0 rounds to 2**31, one above int32; clipping both signs to this keeps
#: every entry negatable.
Q31_MAX = 2 ** 31 - 1


def q31_pairs(angle: np.ndarray) -> np.ndarray:
    """int32 (re, im) pairs of ``exp(1j * angle)`` in Q31, clipped to +-(2**31 - 1)."""
    pairs = np.stack([np.cos(angle), np.sin(angle)], axis=-1) * 2.0 ** 31
    return np.clip(np.round(pairs), -Q31_MAX, Q31_MAX).astype(np.int32)


def make_tables(settings: FrontendSettings) -> FrontendTables:
    """Compute every integer table for ``settings``."""
    n_fft = settings.fft_size
    m = n_fft // 2
    radices = fft_radices(m)

    window = np.clip(np.round(hann_periodic(settings.window_samples) * 2.0 ** 31), 0, Q31_MAX)

    k = np.arange(m // 2 + 1, dtype=np.float64)
    twiddle = q31_pairs(-2.0 * np.pi * k / n_fft)

    mel = mel_weight_matrix(settings).T  # (num_mel, num_bins)
    mel_q = np.clip(np.round(mel * 32768.0), 0, 65535).astype(np.int64)
    starts, lens, weights = [], [], []
    for row in mel_q:
        nz = np.nonzero(row)[0]
        if len(nz) == 0:
            starts.append(0)
            lens.append(0)
            continue
        lo, hi = int(nz[0]), int(nz[-1]) + 1
        starts.append(lo)
        lens.append(hi - lo)
        weights.extend(row[lo:hi].tolist())

    # E(s): mel_int ~= mel_true * 2**E(s), with products (x*w) >> 16 in Q30, a 1/N FFT gain and Q15
    # mel weights: E = 30 + s - log2(N) + 15.
    exp_base = 45 - int(round(math.log2(n_fft)))
    shifts = np.arange(S_MIN, S_MAX + 1)
    eps = np.array([round(settings.log_eps * 2.0 ** (exp_base + s)) for s in shifts],
                   dtype=np.uint64)

    log2_tab = np.round(np.log2(1.0 + np.arange(2 ** LOG2_BITS + 1) / 2 ** LOG2_BITS) * 65536)

    if settings.dct:
        basis = dct_matrix(settings.num_coeffs, settings.num_mel)
    else:
        basis = np.eye(settings.num_mel)
    real = basis * math.log(2.0) / settings.output_scale
    peak = float(np.max(np.abs(real)))
    proj_q = min(24, int(math.floor(math.log2(32767.0 / peak))))
    proj = np.round(real * 2.0 ** proj_q).astype(np.int16)

    return FrontendTables(
        window=window.astype(np.int32),
        perm=dit_permutation(m, radices).astype(np.uint16),
        radices=radices,
        twiddle=twiddle,
        mel_start=np.array(starts, dtype=np.uint16),
        mel_len=np.array(lens, dtype=np.uint16),
        mel_weights=np.array(weights, dtype=np.uint16),
        eps=eps,
        log2=log2_tab.astype(np.int32),
        proj=proj,
        proj_q=proj_q,
        exp_base=exp_base,
    )


@functools.lru_cache(maxsize=32)
def arithmetic_digest(settings: FrontendSettings) -> str:
    """SHA-256 (hex) of :data:`ARITHMETIC_VERSION` and every integer table of ``settings``.

    Caches of features (training features, test models trained on them) put this in their keys,
    so that a change of the fixed-point arithmetic or of a table never serves stale features.
    """
    tab = make_tables(settings)
    h = hashlib.sha256(f"kws-frontend-arithmetic-{ARITHMETIC_VERSION}".encode())
    for field in dataclasses.fields(tab):
        value = getattr(tab, field.name)
        h.update(field.name.encode())
        h.update(np.ascontiguousarray(value).tobytes() if isinstance(value, np.ndarray)
                 else repr(value).encode())
    return h.hexdigest()
