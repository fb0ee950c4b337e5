"""The front end's settings: the single source of truth for Python, C and the firmware.

Everything about the features lives here: the sample rate, the window, the hop, the FFT size,
the mel bands, the number of coefficients, and the int8 output quantization. The C header that
the device compiles (``dsp/generated/kws_frontend_config.h``) is generated from this object, and
its :meth:`FrontendSettings.hash` is stamped into every exported model so that a model can never
run on features it was not trained with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from kws.errors import KwsError

#: int8 output quantization of the default MFCC front end, chosen by
#: measuring the float MFCCs of real speech at -60 to 0 dBFS: they span -123.6 (digital silence,
#: c0 = 40 * sqrt(2/40) * ln(1e-6)) to +27, so 0.6 * (q - 78) maps [-128, 127] onto [-123.6, 29.4]:
#: real value = OUTPUT_SCALE * (q - OUTPUT_ZERO_POINT).
DEFAULT_OUTPUT_SCALE = 0.6
DEFAULT_OUTPUT_ZERO_POINT = 78


@dataclasses.dataclass(frozen=True)
class FrontendSettings:
    """The MFCC (or log-mel) front end's configuration.

    The default is MLPerf Tiny KWS's formula (without its per-clip peak normalization, which a
    streaming device cannot do): 16 kHz, a 30 ms periodic Hann window every 20 ms, a 512-point
    FFT, the magnitude spectrum, 40 HTK mel bands over 20-4000 Hz, ``ln(x + 1e-6)``, and the
    first 10 coefficients of the DCT-II as ``tf.signal.mfccs_from_log_mel_spectrograms``
    computes it.

    Parameters
    ----------
    sample_rate : int
        Input sample rate in Hz; the input is mono int16.
    window_ms, hop_ms : float
        Window length and hop in milliseconds; both must be whole numbers of samples.
    fft_size : int
        Real FFT size, a power of two from 128 to 2048. The window must fit in it.
    num_mel : int
        Number of mel bands.
    lower_hz, upper_hz : float
        Band edges of the mel filterbank.
    num_coeffs : int
        Number of DCT coefficients kept (ignored when ``dct`` is False, where the output is the
        ``num_mel`` log-mel energies).
    dct : bool
        True for MFCC, False for log-mel output.
    log_eps : float
        The floor added before the logarithm: ``ln(mel + log_eps)``.
    clip_seconds : float
        Length of one training clip; ``num_frames`` follows from it.
    output_scale, output_zero_point : float, int
        int8 output quantization: ``real = output_scale * (q - output_zero_point)``.
    """

    sample_rate: int = 16000
    window_ms: float = 30.0
    hop_ms: float = 20.0
    fft_size: int = 512
    num_mel: int = 40
    lower_hz: float = 20.0
    upper_hz: float = 4000.0
    num_coeffs: int = 10
    dct: bool = True
    log_eps: float = 1e-6
    clip_seconds: float = 1.0
    output_scale: float = DEFAULT_OUTPUT_SCALE
    output_zero_point: int = DEFAULT_OUTPUT_ZERO_POINT

    def __post_init__(self) -> None:
        self.validate()

    # ----------------------------------------------------------------- derived sizes
    @property
    def window_samples(self) -> int:
        """Window length in samples."""
        return int(round(self.window_ms * self.sample_rate / 1000.0))

    @property
    def hop_samples(self) -> int:
        """Hop in samples."""
        return int(round(self.hop_ms * self.sample_rate / 1000.0))

    @property
    def num_bins(self) -> int:
        """Number of real-FFT bins, ``fft_size // 2 + 1``."""
        return self.fft_size // 2 + 1

    @property
    def num_outputs(self) -> int:
        """Values per frame: ``num_coeffs`` for MFCC, ``num_mel`` for log-mel."""
        return self.num_coeffs if self.dct else self.num_mel

    @property
    def clip_samples(self) -> int:
        """Samples in one clip of ``clip_seconds``."""
        return int(round(self.clip_seconds * self.sample_rate))

    @property
    def num_frames(self) -> int:
        """Frames in one clip: ``1 + (clip_samples - window) // hop``."""
        return 1 + (self.clip_samples - self.window_samples) // self.hop_samples

    def frames_for(self, num_samples: int) -> int:
        """Frames produced from ``num_samples`` samples (0 if shorter than one window)."""
        if num_samples < self.window_samples:
            return 0
        return 1 + (num_samples - self.window_samples) // self.hop_samples

    # ----------------------------------------------------------------- checks
    def validate(self) -> None:
        """Raise :class:`KwsError` naming the first bad parameter."""
        def bad(name: str, why: str) -> KwsError:
            return KwsError(f"front-end setting {name}={getattr(self, name)!r}: {why}")

        if self.sample_rate not in (8000, 16000):
            raise bad("sample_rate", "must be 8000 or 16000")
        for name in ("window_ms", "hop_ms"):
            samples = getattr(self, name) * self.sample_rate / 1000.0
            if samples <= 0 or abs(samples - round(samples)) > 1e-9:
                raise bad(name, "must be a positive whole number of samples")
        if self.fft_size not in (128, 256, 512, 1024, 2048):
            raise bad("fft_size", "must be a power of two from 128 to 2048")
        if self.window_samples > self.fft_size:
            raise bad("window_ms", f"window of {self.window_samples} samples exceeds fft_size")
        if self.hop_samples > self.window_samples:
            raise bad("hop_ms", "hop must not exceed the window")
        if not 1 <= self.num_mel <= 128:
            raise bad("num_mel", "must be in 1..128")
        if not 0.0 <= self.lower_hz < self.upper_hz <= self.sample_rate / 2:
            raise bad("upper_hz", "need 0 <= lower_hz < upper_hz <= sample_rate / 2")
        if self.dct and not 1 <= self.num_coeffs <= self.num_mel:
            raise bad("num_coeffs", "must be in 1..num_mel")
        if not 0.0 < self.log_eps < 1.0:
            raise bad("log_eps", "must be in (0, 1)")
        if not self.output_scale > 0:
            raise bad("output_scale", "must be positive")
        if not -128 <= self.output_zero_point <= 127:
            raise bad("output_zero_point", "must be in -128..127")
        if self.clip_samples < self.window_samples:
            raise bad("clip_seconds", "clip is shorter than one window")

    # ----------------------------------------------------------------- identity
    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain, JSON-serializable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FrontendSettings":
        """Build settings from :meth:`to_dict` output; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise KwsError(f"unknown front-end setting(s): {', '.join(unknown)}")
        return cls(**data)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), the input of :meth:`hash`."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def hash(self) -> int:
        """A 32-bit hash of the settings, stamped into generated C and exported models."""
        digest = hashlib.sha256(self.to_json().encode()).digest()
        return int.from_bytes(digest[:4], "little")
