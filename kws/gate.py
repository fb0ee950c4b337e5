"""The voice-activity gate: an integer energy gate that skips model work in silence.

This module is the definition that the C gate (``firmware/detector/src/kws_gate.c``) mirrors
line for line; both are integer only, so the firmware skips exactly the inferences the Python
simulation skips.

Integer definition (one step per front-end hop, i.e. per feature frame)
----------------------------------------------------------------------
Input of frame ``f``: the ``hop`` newest samples of its window (the samples that arrived since
the previous frame; frame ``f`` covers ``[f*hop, f*hop + window)``, so these are
``[f*hop + window - hop, f*hop + window)``).

1. magnitude  ``v = sum |x|`` over those samples                       [uint32, <= hop * 32768]
2. level      ``L = log2_q3(v)``: ``n = bit_length(v) - 1``; the three bits below the leading
              one are the fraction: ``L = 8 n + ((v >> (n - 3)) & 7)`` (``v << (3 - n)`` when
              ``n < 3``); ``L = 0`` for ``v = 0``                [Q3 log2, 1/8 octave = 0.75 dB]
3. active     ``L >= min_level`` and ``256 L >= floor + 256 margin``, against the floor
              *before* this frame's update (``floor``: uint32, Q8 of the Q3 level)
4. floor      ``floor = min(floor + rise, 256 L)``: it falls at once to a quieter frame and
              rises by ``rise`` (Q11 octaves) per frame otherwise, i.e. it tracks the noise
              floor from below and climbs over speech too slowly to follow a word
5. hold       ``hold = hangover`` when active, else ``max(hold - 1, 0)``
6. open       ``hold > 0`` after step 5: the model runs at its scheduled frames only while the
              gate is open

After init/reset: ``floor = 2**31 - 1`` (the first frame sets it) and ``hold = hangover`` (the
gate starts open). With ``hangover >= num_frames`` (the default equals the 49-frame window),
every window that holds an active frame is run, so the gate skips only windows whose frames
were all quieter than ``floor + margin`` (or ``min_level``): it costs a keyword only when none
of its frames rises ``margin`` above the tracked noise floor.

What a skipped inference means: the model does not run and the detector is not stepped (its
history and refractory time stay as they were); the front end runs on every hop regardless, so
the feature window is complete whenever the gate opens.

Example
-------
>>> g = Gate(GateSettings(hangover=2))
>>> [g.step(v) for v in (0, 0, 0, 5000, 0, 0, 0)]
[True, False, False, True, True, False, False]
>>> log2_q3(8), log2_q3(9), log2_q3(15), log2_q3(1 << 20)
(24, 25, 31, 160)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kws.errors import KwsError

#: Initial noise floor after init/reset (int32 max): the first frame sets the floor.
FLOOR_INIT = 2**31 - 1


def log2_q3(v: int) -> int:
    """Integer log2 of ``v`` (>= 0) in Q3: 8 * floor(log2 v) + the 3 bits below the top one."""
    if v <= 0:
        return 0
    n = int(v).bit_length() - 1
    frac = (v >> (n - 3)) & 7 if n >= 3 else (v << (3 - n)) & 7
    return 8 * n + frac


@dataclasses.dataclass(frozen=True)
class GateSettings:
    """Parameters of the gate (units in the module docstring).

    Parameters
    ----------
    margin : int
        Q3 octaves (0.75 dB) above the noise floor that make a frame active (default 12: 9 dB).
    min_level : int
        Q3 log2 of ``sum |x|`` below which a frame is never active (default 88: about
        -71 dBFS RMS for noise, over a 320-sample hop).
    rise : int
        Noise floor rise per frame in Q11 octaves (default 20: about 2.9 dB/s at 50 hops/s).
    hangover : int
        Frames the gate stays open after the last active frame (default 49: one 1 s window).
    """

    margin: int = 12
    min_level: int = 88
    rise: int = 20
    hangover: int = 49

    def __post_init__(self) -> None:
        for name, lo, hi in (("margin", 0, 255), ("min_level", 0, 255), ("rise", 0, 65535),
                             ("hangover", 1, 65535)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
                raise KwsError(f"gate setting {name}={value!r}: must be an integer in "
                               f"{lo}..{hi}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GateSettings":
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise KwsError(f"unknown gate setting(s): {', '.join(unknown)}")
        return cls(**data)


class Gate:
    """The integer gate of the module docstring; one :meth:`step` per frame."""

    def __init__(self, settings: GateSettings) -> None:
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        """Floor unknown, gate open for ``hangover`` frames."""
        self.floor = FLOOR_INIT
        self.hold = self.settings.hangover

    def step(self, magnitude: int) -> bool:
        """Push one frame's ``sum |x|`` over its new samples; return whether the gate is open."""
        s = self.settings
        level = log2_q3(int(magnitude))
        active = level >= s.min_level and (level << 8) >= self.floor + (s.margin << 8)
        self.floor = min(self.floor + s.rise, level << 8)
        if active:
            self.hold = s.hangover
        elif self.hold > 0:
            self.hold -= 1
        return self.hold > 0


def frame_magnitudes(samples: np.ndarray, *, window: int, hop: int) -> np.ndarray:
    """``sum |x|`` over the ``hop`` newest samples of every frame's window (int64, (frames,)).

    Frame ``f`` covers ``[f*hop, f*hop + window)``; the frames are those of the front end
    (``1 + (len - window) // hop`` of them, none when the stream is shorter than a window)."""
    x = np.asarray(samples)
    if x.ndim != 1 or x.dtype != np.int16:
        raise KwsError(f"gate: samples must be 1-D int16, got {x.dtype} {x.shape}")
    if not 0 < hop <= window:
        raise KwsError(f"gate: hop={hop} must be in 1..window={window}")
    if len(x) < window:
        return np.zeros(0, np.int64)
    frames = 1 + (len(x) - window) // hop
    start = window - hop
    seg = np.abs(x[start:start + frames * hop].astype(np.int64)).reshape(frames, hop)
    return seg.sum(axis=1)


def gate_open(samples: np.ndarray, settings: GateSettings, *, window: int,
              hop: int) -> np.ndarray:
    """Whether the gate is open at each frame of a stream (bool, (frames,)), from reset."""
    gate = Gate(settings)
    mags = frame_magnitudes(samples, window=window, hop=hop)
    return np.fromiter((gate.step(int(v)) for v in mags), dtype=bool, count=len(mags))
