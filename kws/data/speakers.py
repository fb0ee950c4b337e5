"""Speaker, room and microphone diversity for synthetic speech (one augmented copy at a time).

TTS engines offer few speakers, mostly adult; real keyword clips come from thousands of people
in ordinary rooms through cheap microphones. :func:`perturb_speaker` makes a clip sound like
another speaker in another room through another microphone:

- vocal-tract length (VTLP, Jaitly & Hinton 2013): the spectrum's frequency axis is warped by
  a factor ``alpha`` (piecewise linear, unchanged above a boundary), moving the formants as a
  shorter or longer vocal tract would while keeping pitch and duration (:func:`vtlp`);
- pitch (semitones) and tempo (rate) separately, by audiomentations' ``PitchShift`` and
  ``TimeStretch`` (Signalsmith Stretch), unlike the basic recipe's speed change that moves
  pitch, formants and tempo together;
- a room: the clip convolved with one of a bank of impulse responses that pyroomacoustics
  simulates by the image-source method for random shoebox rooms (:func:`room_bank`; RT60 from
  the config, random room size, talker and microphone positions). The bank is made once per
  process and cached in memory: simulating a room per clip costs about 0.1-0.4 s;
- the microphone: audiomentations' ``SevenBandParametricEQ`` colouring and, sometimes, a
  band limit (``BandPassFilter``, as a telephone or a small speaker has).

:func:`perturb_long` does the same to long speech, a new speaker, room and microphone every
2-4 s (the calibration's held-out TTS sentences, :mod:`kws.train.detector`).

audiomentations draws its parameters from Python's and NumPy's global generators; each call
here reseeds both from the caller's generator (and restores them), so a copy depends only on
that generator and a feature cache keyed by its seed stays valid.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import random
from typing import Iterator

import numpy as np

from kws.audio import SAMPLE_RATE
from kws.errors import KwsError

#: Version of the room bank's recipe (part of the augmentation's cache key).
ROOM_BANK_VERSION = 1
#: Longest impulse response kept (s).
MAX_RIR_S = 0.6


@dataclasses.dataclass(frozen=True)
class SpeakerConfig:
    """Probabilities and ranges of :func:`perturb_speaker` (part of
    :class:`kws.data.augment.AugmentConfig`).

    Defaults: VTLP 60 % of clips, alpha 0.85-1.2 (adult male TTS voices move towards women's
    and children's formants more often than down); pitch 50 %, -3..+6 semitones; tempo 40 %,
    rate 0.8-1.25; a simulated room 50 % (a bank of 48 rooms, RT60 0.15-0.9 s); microphone EQ
    50 %, seven bands each +-6 dB; a band limit 10 %.
    """

    vtlp_prob: float = 0.6
    vtlp_alpha: tuple[float, float] = (0.85, 1.2)
    pitch_prob: float = 0.5
    pitch_semitones: tuple[float, float] = (-3.0, 6.0)
    tempo_prob: float = 0.4
    tempo: tuple[float, float] = (0.8, 1.25)
    room_prob: float = 0.5
    rooms: int = 48
    room_rt60_s: tuple[float, float] = (0.15, 0.9)
    mic_eq_prob: float = 0.5
    mic_eq_db: float = 6.0
    band_limit_prob: float = 0.1
    version: int = ROOM_BANK_VERSION

    def __post_init__(self) -> None:
        for name in ("vtlp_prob", "pitch_prob", "tempo_prob", "room_prob", "mic_eq_prob",
                     "band_limit_prob"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise KwsError(f"speaker augmentation: {name} must be in [0, 1] (got {v})")
        for name in ("vtlp_alpha", "pitch_semitones", "tempo", "room_rt60_s"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise KwsError(f"speaker augmentation: {name} range ({lo}, {hi}) is reversed")
        if self.vtlp_alpha[0] < 0.5 or self.vtlp_alpha[1] > 2.0:
            raise KwsError(f"speaker augmentation: vtlp_alpha must lie in [0.5, 2] "
                           f"(got {self.vtlp_alpha})")
        if self.tempo[0] <= 0 or self.room_rt60_s[0] <= 0 or self.rooms < 1:
            raise KwsError("speaker augmentation: tempo, room_rt60_s and rooms must be positive")


def vtlp(x: np.ndarray, alpha: float, *, boundary_hz: float = 4800.0,
         sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Vocal-tract-length perturbation: warp the frequency axis by ``alpha``.

    A frequency ``f`` below ``boundary_hz * min(alpha, 1) / alpha`` moves to ``alpha * f``;
    above it, a straight line maps the rest of the band onto what is left up to Nyquist (so
    nothing is lost or folded). Done on a 32 ms / 8 ms STFT: each output bin takes the
    magnitude interpolated at its source frequency and keeps its own phase.

    Parameters
    ----------
    x : ndarray of float32, shape (T,)
        The clip.
    alpha : float
        Warp factor (> 1 moves formants up, as a shorter vocal tract does); 0.8-1.2 is usual.
    boundary_hz : float, keyword-only
        Where the linear warp hands over to the straight line that keeps Nyquist fixed.
    sample_rate : int, keyword-only

    Returns
    -------
    ndarray of float32, shape (T,)

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> y = vtlp(np.sin(2 * np.pi * 1000 * t).astype(np.float32), 1.2)
    >>> int(np.argmax(np.abs(np.fft.rfft(y))))  # 1000 Hz moved to 1200 Hz
    1200
    """
    if not 0.5 <= alpha <= 2.0:
        raise KwsError(f"vtlp: alpha must be in [0.5, 2] (got {alpha})")
    import librosa

    n_fft, hop = 512, 128
    spec = librosa.stft(np.asarray(x, np.float32), n_fft=n_fft, hop_length=hop)
    nyq = sample_rate / 2.0
    f = np.linspace(0.0, nyq, spec.shape[0])
    f0 = boundary_hz * min(alpha, 1.0) / alpha
    knee = alpha * f0
    # source frequency of each output frequency (the inverse of the warp)
    src = np.where(f <= knee, f / alpha,
                   f0 + (f - knee) * (nyq - f0) / max(nyq - knee, 1e-9))
    mag = np.abs(spec)
    warped = np.stack([np.interp(src, f, mag[:, j]) for j in range(mag.shape[1])], axis=1)
    # phase vocoder: each output bin advances at its source bin's instantaneous frequency
    # times the local warp ratio, so a partial at f comes out at warp(f)
    omega = 2 * np.pi * np.arange(spec.shape[0]) * hop / n_fft        # expected advance/hop
    phase = np.angle(spec)
    dphi = np.diff(phase, axis=1) - omega[:, None]
    dphi = np.mod(dphi + np.pi, 2 * np.pi) - np.pi
    advance = omega[:, None] + dphi                                   # (bins, frames-1)
    r = np.clip(np.round(src / nyq * (spec.shape[0] - 1)).astype(int), 0, spec.shape[0] - 1)
    ratio = np.where(src > 0, f / np.maximum(src, 1e-9), 1.0)
    out_phase = np.cumsum(np.concatenate([phase[r, :1], advance[r] * ratio[:, None]], axis=1),
                          axis=1)
    y = librosa.istft(warped * np.exp(1j * out_phase), hop_length=hop, length=len(x))
    return y.astype(np.float32)


@functools.lru_cache(maxsize=4)
def room_bank(count: int, *, rt60_s: tuple[float, float] = (0.15, 0.9), seed: int = 0
              ) -> tuple[np.ndarray, ...]:
    """Impulse responses of ``count`` random shoebox rooms (pyroomacoustics, image sources).

    Room sides uniform 3-10 m x 3-8 m x 2.4-4 m; RT60 uniform in ``rt60_s`` (wall absorption
    by Sabine's formula, reflection order capped at 12); talker and microphone at random
    places at least 0.5 m from the walls, 1.0-1.8 m high. Each response is cut to
    :data:`MAX_RIR_S`, starts at its direct path and has unit energy.

    Returns
    -------
    tuple of ndarray of float32
        The responses (cached per process).
    """
    if count < 1:
        raise KwsError(f"room bank: count must be >= 1 (got {count})")
    import pyroomacoustics as pra

    rng = np.random.default_rng([seed, ROOM_BANK_VERSION])
    out = []
    for _ in range(count):
        dims = np.array([rng.uniform(3, 10), rng.uniform(3, 8), rng.uniform(2.4, 4.0)])
        rt60 = float(rng.uniform(*rt60_s))
        try:
            absorption, order = pra.inverse_sabine(rt60, dims)
        except ValueError:          # too reverberant for this room: the most the walls allow
            absorption, order = 0.01, 12
        room = pra.ShoeBox(dims.tolist(), fs=SAMPLE_RATE, materials=pra.Material(absorption),
                           max_order=min(int(order), 12))
        place = [lambda d: rng.uniform(0.5, d - 0.5)] * 2
        room.add_source([place[0](dims[0]), place[1](dims[1]), rng.uniform(1.0, 1.8)])
        room.add_microphone([place[0](dims[0]), place[1](dims[1]), rng.uniform(1.0, 1.8)])
        room.compute_rir()
        rir = np.asarray(room.rir[0][0], dtype=np.float64)
        start = int(np.argmax(np.abs(rir)))
        rir = rir[start:start + int(MAX_RIR_S * SAMPLE_RATE)]
        out.append((rir / max(float(np.sqrt(np.sum(rir ** 2))), 1e-12)).astype(np.float32))
    return tuple(out)


@contextlib.contextmanager
def seeded_globals(rng: np.random.Generator) -> Iterator[None]:
    """Seed Python's and NumPy's global generators from ``rng`` for the body (the state of
    both is restored after): audiomentations draws from them."""
    py_state, np_state = random.getstate(), np.random.get_state()
    s = int(rng.integers(2 ** 32))
    random.seed(s)
    np.random.seed(s)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def convolve_room(x: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """``x`` in the room of ``rir`` (same length, same peak level as ``x``)."""
    from scipy.signal import fftconvolve

    y = fftconvolve(x, rir)[:len(x)]
    peak_in, peak_out = float(np.max(np.abs(x))), float(np.max(np.abs(y)))
    return (y * (peak_in / peak_out) if peak_out > 0 else y).astype(np.float32)


def perturb_speaker(x: np.ndarray, *, rng: np.random.Generator, config: SpeakerConfig
                    ) -> np.ndarray:
    """One speaker/room/microphone perturbation of a clip (see the module docstring).

    Parameters
    ----------
    x : ndarray of float32, shape (T,)
        The clip, float in [-1, 1).
    rng : numpy Generator, keyword-only
        Source of every random choice.
    config : SpeakerConfig, keyword-only
        Probabilities and ranges.

    Returns
    -------
    ndarray of float32, shape (T',)
        T' differs from T when the tempo changed.
    """
    import audiomentations as am

    y = np.asarray(x, dtype=np.float32)
    if rng.random() < config.vtlp_prob:
        y = vtlp(y, float(rng.uniform(*config.vtlp_alpha)))
    with seeded_globals(rng):
        if rng.random() < config.pitch_prob:
            lo, hi = config.pitch_semitones
            y = am.PitchShift(min_semitones=lo, max_semitones=hi, p=1.0)(y, SAMPLE_RATE)
        if rng.random() < config.tempo_prob:
            lo, hi = config.tempo
            y = am.TimeStretch(min_rate=lo, max_rate=hi, leave_length_unchanged=False,
                               p=1.0)(y, SAMPLE_RATE)
    if rng.random() < config.room_prob:
        bank = room_bank(config.rooms, rt60_s=config.room_rt60_s)
        y = convolve_room(y, bank[int(rng.integers(len(bank)))])
    with seeded_globals(rng):
        if rng.random() < config.mic_eq_prob:
            y = am.SevenBandParametricEQ(min_gain_db=-config.mic_eq_db,
                                         max_gain_db=config.mic_eq_db, p=1.0)(y, SAMPLE_RATE)
        if rng.random() < config.band_limit_prob:
            y = am.BandPassFilter(min_center_freq=800.0, max_center_freq=2000.0,
                                  min_bandwidth_fraction=1.2, max_bandwidth_fraction=1.9,
                                  p=1.0)(y, SAMPLE_RATE)
    return np.asarray(y, dtype=np.float32)


def perturb_at_level(x: np.ndarray, *, rng: np.random.Generator, config: SpeakerConfig
                     ) -> np.ndarray:
    """:func:`perturb_speaker` scaled back to the input's peak level (rooms and EQ move it).

    Parameters
    ----------
    x : ndarray of float32, shape (T,)
        The clip, float in [-1, 1).
    rng, config : keyword-only
        As :func:`perturb_speaker`.

    Returns
    -------
    ndarray of float32, shape (T',)
        A new array; silence (or an empty clip) comes back as a copy, with nothing drawn.
    """
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak == 0.0:
        return np.array(x, dtype=np.float32)
    z = perturb_speaker(x, rng=rng, config=config)
    return z * (peak / (float(np.abs(z).max()) or 1.0))


#: Length range (s) of the pieces :func:`perturb_long` perturbs one at a time.
LONG_PIECE_S = (2.0, 4.0)
#: Fade (samples, 10 ms) at both ends of each perturbed piece, so the joins do not click.
LONG_FADE = 160


def perturb_long(x: np.ndarray, *, rng: np.random.Generator, config: SpeakerConfig
                 ) -> np.ndarray:
    """Long speech made to sound like many speakers in many rooms: consecutive pieces of 2-4 s
    (:data:`LONG_PIECE_S`) each get their own :func:`perturb_speaker`, keep their peak level
    and fade in and out over 10 ms.

    Parameters
    ----------
    x : ndarray of int16, shape (T,)
        The recording (16 kHz).
    rng : numpy Generator, keyword-only
        Source of every random choice (the same generator state gives the same output).
    config : SpeakerConfig, keyword-only
        Probabilities and ranges.

    Returns
    -------
    ndarray of int16, shape (T',)
        T' differs from T by the pieces' tempo changes (at most the config's tempo range).
    """
    from kws.audio import quantize_int16

    y = np.asarray(x, dtype=np.float32) / 32768.0
    fade = np.linspace(0.0, 1.0, LONG_FADE, dtype=np.float32)
    out: list[np.ndarray] = []
    pos = 0
    while pos < len(y):
        n = int(rng.uniform(*LONG_PIECE_S) * SAMPLE_RATE)
        piece, pos = y[pos:pos + n], pos + n
        if len(piece) < 4 * LONG_FADE:
            out.append(piece)
            continue
        z = perturb_at_level(piece, rng=rng, config=config)
        z[:LONG_FADE] *= fade
        z[-LONG_FADE:] *= fade[::-1]
        out.append(z)
    if not out:
        return np.zeros(0, np.int16)
    return quantize_int16(np.clip(np.concatenate(out), -1.0, 1.0))

