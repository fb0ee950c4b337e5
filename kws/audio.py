"""Audio input: every file becomes 16 kHz mono int16, by one documented converter.

The Python features, the training data and the firmware's semihosted "microphone" all go through
:func:`load_audio`, so every backend sees the very same samples.

Conversions (documented; anything else is a :class:`~kws.errors.KwsError`):

- **Formats**: whatever libsndfile reads (WAV/RIFF, WAV-EX, RF64, FLAC, AIFF, OGG).
- **Integer PCM**: 16-bit is taken as is. 8-bit (unsigned), 24-bit and 32-bit are brought to
  16 bits by rounding half up and saturating: ``clip(floor(x * 32768 + 0.5))`` with x in [-1, 1).
- **Float PCM** (32/64-bit): NaN or Inf is an error; values outside [-1, 1) are clipped, then
  rounded as above.
- **Channels**: more than one channel is mixed down to their mean.
- **Sample rate**: anything but 16 kHz is resampled with soxr (VHQ), then rounded as above.
- **Truncated files**: a WAV whose data chunk is shorter than its header declares is an error.
- **Empty files**: zero samples is an error.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from kws.errors import KwsError

#: The sample rate of every clip inside kws (Hz).
SAMPLE_RATE = 16000
#: The audio file suffixes that dataset readers pick up.
AUDIO_SUFFIXES = (".wav", ".flac")


def _check_riff(path: Path) -> None:
    """Raise KwsError if a RIFF/WAVE file's data chunk is shorter than its header declares."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        size = os.fstat(fh.fileno()).st_size
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk = fh.read(8)
            if len(chunk) < 8:
                break
            cid, clen = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                have = size - pos - 8
                if clen != 0xFFFFFFFF and clen > have:
                    raise KwsError(f"{path}: truncated WAV: header declares {clen} bytes of "
                                   f"audio, the file holds {have}")
                return
            pos += 8 + clen + (clen & 1)
        raise KwsError(f"{path}: WAV file has no data chunk")


def quantize_int16(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1) -> int16: ``clip(floor(x * 32768 + 0.5), -32768, 32767)``."""
    return np.clip(np.floor(np.asarray(x, dtype=np.float64) * 32768.0 + 0.5),
                   -32768, 32767).astype(np.int16)


def load_audio(path: str | os.PathLike[str], *, sample_rate: int = SAMPLE_RATE
               ) -> np.ndarray:
    """Read an audio file as mono int16 at ``sample_rate``.

    Parameters
    ----------
    path : path-like
        A WAV, FLAC or other libsndfile-readable file.
    sample_rate : int, keyword-only
        Target rate in Hz (default 16000).

    Returns
    -------
    ndarray of int16, shape (T,)
        The samples, converted as the module docstring documents.

    Raises
    ------
    KwsError
        With one line naming the file: missing, empty, truncated, not audio, NaN/Inf.

    Examples
    --------
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> sf.write(p, np.zeros(800, dtype=np.int16), 8000)
    >>> load_audio(p).shape
    (1600,)
    """
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise KwsError(f"{p}: no such file")
    if p.is_dir():
        raise KwsError(f"{p}: is a folder, not an audio file")
    if p.stat().st_size == 0:
        raise KwsError(f"{p}: empty file")
    _check_riff(p)
    try:
        info = sf.info(str(p))
    except Exception as exc:  # soundfile raises RuntimeError/LibsndfileError/TypeError
        raise KwsError(f"{p}: not a readable audio file ({_short(exc)})") from None
    if info.frames == 0:
        raise KwsError(f"{p}: contains no audio samples")
    is_float = info.subtype in ("FLOAT", "DOUBLE")
    try:
        if not is_float and info.subtype == "PCM_16":
            data = sf.read(str(p), dtype="int16", always_2d=True)[0]
            if data.shape[1] == 1 and info.samplerate == sample_rate:
                return np.ascontiguousarray(data[:, 0])
            x = data.astype(np.float64) / 32768.0
        else:
            x = sf.read(str(p), dtype="float64", always_2d=True)[0]
    except Exception as exc:
        raise KwsError(f"{p}: cannot decode audio ({_short(exc)})") from None
    if x.shape[0] == 0:
        raise KwsError(f"{p}: contains no audio samples")
    if is_float and not np.all(np.isfinite(x)):
        raise KwsError(f"{p}: float audio contains NaN or Inf samples")
    x = x.mean(axis=1) if x.shape[1] > 1 else x[:, 0]
    if info.samplerate != sample_rate:
        import soxr

        x = soxr.resample(x, info.samplerate, sample_rate, quality="VHQ")
    return quantize_int16(x)


def fit_clip(samples: np.ndarray, num_samples: int) -> np.ndarray:
    """Zero-pad at the end, or trim the end, to exactly ``num_samples`` samples."""
    samples = np.asarray(samples)
    if samples.shape[-1] >= num_samples:
        return samples[..., :num_samples]
    pad = [(0, 0)] * (samples.ndim - 1) + [(0, num_samples - samples.shape[-1])]
    return np.pad(samples, pad)


def save_wav(path: str | os.PathLike[str], samples: np.ndarray,
             sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono int16 samples as a 16-bit PCM WAV, atomically."""
    import soundfile as sf

    from kws.fileio import atomic_path

    with atomic_path(path) as tmp:
        sf.write(str(tmp), np.asarray(samples, dtype=np.int16), sample_rate,
                 subtype="PCM_16", format="WAV")


def _short(exc: BaseException) -> str:
    """First line of an exception message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
