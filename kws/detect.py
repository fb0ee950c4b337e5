"""The streaming detector: posterior smoothing, per-keyword thresholds and a refractory time.

This module is the definition that the C detector (``firmware/detector/src/kws_detect.c``)
mirrors line for line. Everything is integer arithmetic on the model's int8 outputs, so the
firmware's detections equal the Python simulation's exactly.

Integer definition (one step per model inference)
-------------------------------------------------
Inputs of inference ``i``: the model's int8 output vector ``q[c]`` (c = 0..C-1), its output zero
point ``zp`` (-128 for TFLite's int8 softmax, whose scale is 1/256) and the time ``t`` in ms of
the newest audio sample the inference has seen.

1. posterior  ``u[c] = clamp(q[c] - zp, 0, 255)``                     [uint8, Q0.8 probability]
2. history    a ring of the last ``K`` posterior vectors, all zero after init/reset;
              ``u`` replaces the oldest entry; ``S[c]`` = sum of the ring [uint16, <= 255 K]
3. score      ``score[c] = S[c] // K``  (floor division; printed as is)  [uint8]
4. suppress   if ``t < suppress_until``: no detection (the history was still updated)
5. decide     candidates: classes with ``threshold[c] <= 255`` and ``score[c] >= threshold[c]``
              (``threshold[c] = 256`` disables a class, e.g. ``_silence_``/``_unknown_``);
              the winner has the highest score, ties go to the lowest class index
6. detect     emit ``(t, label[c], score[c])``; ``suppress_until = t + refractory_ms``
              (one refractory time shared by all keywords)

``suppress_until`` starts at 0. Times are ``uint32`` in C (49 days); Python ints here.

Example
-------
>>> s = DetectorSettings(labels=("_silence_", "yes"), thresholds=(256, 200), average_window=2,
...                      refractory_ms=500)
>>> d = Detector(s, output_zero_point=-128)
>>> d.process([-128, 127], time_ms=100) is None   # score 255 // 2 = 127 < 200
True
>>> d.process([-128, 127], time_ms=140)
Detection(time_ms=140, label='yes', score=255)
>>> d.process([-128, 127], time_ms=600) is None   # 600 < 140 + 500: suppressed
True
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np

from kws.data.manifest import is_word_class
from kws.errors import KwsError
from kws.gate import GateSettings

#: Compile-time limits of the C detector (``KWS_DETECT_MAX_CLASSES``, ``KWS_DETECT_MAX_WINDOW``).
MAX_CLASSES = 32
MAX_WINDOW = 16
#: A threshold of this value disables a class.
THRESHOLD_OFF = 256
#: Labels that are never reported as detections by default (and every word class,
#: :func:`kws.data.manifest.word_class`; :func:`is_keyword` is the one test).
NON_KEYWORDS = ("_silence_", "_unknown_", "_background_noise_")


def is_keyword(label: str) -> bool:
    """Whether a detector reports ``label`` by default: not one of :data:`NON_KEYWORDS` and
    not a word class (``_word_go``: a non-keyword word trained as a class of its own).

    >>> [is_keyword(x) for x in ("yes", "_unknown_", "_word_go")]
    [True, False, False]
    """
    return label not in NON_KEYWORDS and not is_word_class(label)


class Detection(NamedTuple):
    """One detection: time in ms of the newest sample seen, label, smoothed uint8 score."""

    time_ms: int
    label: str
    score: int

    def to_json(self) -> str:
        """The JSON line both backends print (fixed key order, no spaces)."""
        return json.dumps({"time_ms": self.time_ms, "label": self.label, "score": self.score},
                          separators=(",", ":"))


@dataclasses.dataclass(frozen=True)
class DetectorSettings:
    """Streaming parameters: stride, smoothing, thresholds and refractory time.

    Parameters
    ----------
    labels : tuple of str
        The model's output labels, in output order.
    thresholds : tuple of int
        Per label, the smoothed uint8 score (0..255) at or above which it fires; 256 disables.
    average_window : int
        ``K``, the number of inferences in the moving average (1..16).
    model_every_hops : int
        ``N``, the model runs every N front-end hops (1..64).
    refractory_ms : int
        Time after a detection during which no keyword is reported.
    gate : GateSettings or None
        The voice-activity gate before the model (:mod:`kws.gate`); None: no gate, the model
        runs at every scheduled frame. A dict (from JSON) is converted.
    """

    labels: tuple[str, ...]
    thresholds: tuple[int, ...]
    average_window: int = 3
    model_every_hops: int = 2
    refractory_ms: int = 1000
    gate: GateSettings | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "thresholds", tuple(int(t) for t in self.thresholds))
        if isinstance(self.gate, dict):
            object.__setattr__(self, "gate", GateSettings.from_dict(self.gate))
        elif self.gate is not None and not isinstance(self.gate, GateSettings):
            raise KwsError(f"detector setting gate: {self.gate!r} is not gate settings")
        self.validate()

    @classmethod
    def default_for(cls, labels: Sequence[str], *, threshold: int = 180,
                    average_window: int = 3, model_every_hops: int = 2,
                    refractory_ms: int = 1000,
                    gate: GateSettings | None = GateSettings()) -> "DetectorSettings":
        """Settings with one ``threshold`` for every keyword; non-keywords (word classes too,
        :func:`is_keyword`) disabled; the
        voice-activity gate on with its default settings (``gate=None``: no gate)."""
        th = tuple(threshold if is_keyword(lab) else THRESHOLD_OFF for lab in labels)
        return cls(labels=tuple(labels), thresholds=th, average_window=average_window,
                   model_every_hops=model_every_hops, refractory_ms=refractory_ms, gate=gate)

    def validate(self) -> None:
        """Raise :class:`KwsError` naming the first bad parameter."""
        if not 1 <= len(self.labels) <= MAX_CLASSES:
            raise KwsError(f"detector setting labels: need 1..{MAX_CLASSES} labels, "
                           f"got {len(self.labels)}")
        if len(self.thresholds) != len(self.labels):
            raise KwsError(f"detector setting thresholds: {len(self.thresholds)} values for "
                           f"{len(self.labels)} labels")
        for lab, th in zip(self.labels, self.thresholds):
            if not 0 <= th <= THRESHOLD_OFF:
                raise KwsError(f"detector setting thresholds: {lab}={th} is not in 0..256")
            if not lab or any(ch in lab for ch in '"\\') or not (lab.isascii()
                                                                 and lab.isprintable()):
                raise KwsError(f"detector setting labels: {lab!r} is not a plain label")
        if not 1 <= self.average_window <= MAX_WINDOW:
            raise KwsError(f"detector setting average_window={self.average_window}: "
                           f"must be in 1..{MAX_WINDOW}")
        if not 1 <= self.model_every_hops <= 64:
            raise KwsError(f"detector setting model_every_hops={self.model_every_hops}: "
                           "must be in 1..64")
        if not 0 <= self.refractory_ms <= 600000:
            raise KwsError(f"detector setting refractory_ms={self.refractory_ms}: "
                           "must be in 0..600000")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable dict."""
        d = dataclasses.asdict(self)
        d["labels"], d["thresholds"] = list(self.labels), list(self.thresholds)
        if self.gate is None:
            del d["gate"]              # files without a gate stay as they were
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DetectorSettings":
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise KwsError(f"unknown detector setting(s): {', '.join(unknown)}")
        return cls(**data)


class Detector:
    """The integer detector of the module docstring; feed it one inference at a time."""

    def __init__(self, settings: DetectorSettings, *, output_zero_point: int = -128) -> None:
        if not -128 <= output_zero_point <= 127:
            raise KwsError(f"detector: output_zero_point={output_zero_point} not in -128..127")
        self.settings = settings
        self.output_zero_point = int(output_zero_point)
        self._th = np.asarray(settings.thresholds, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        """Zero the history and end any refractory time."""
        k, c = self.settings.average_window, len(self.settings.labels)
        self._history = np.zeros((k, c), dtype=np.int64)
        self._sum = np.zeros(c, dtype=np.int64)
        self._pos = 0
        self.suppress_until = 0

    def scores(self) -> np.ndarray:
        """The current smoothed scores ``S // K`` (int64, one per class)."""
        return self._sum // self.settings.average_window

    def process(self, output: Iterable[int], *, time_ms: int) -> Detection | None:
        """Push one int8 output vector seen at ``time_ms``; return a detection or None."""
        q = np.asarray(list(output) if not isinstance(output, np.ndarray) else output,
                       dtype=np.int64)
        if q.shape != (len(self.settings.labels),):
            raise KwsError(f"detector: output has shape {q.shape}, expected "
                           f"({len(self.settings.labels)},)")
        u = np.clip(q - self.output_zero_point, 0, 255)
        self._sum += u - self._history[self._pos]
        self._history[self._pos] = u
        self._pos = (self._pos + 1) % self.settings.average_window
        if time_ms < self.suppress_until:
            return None
        score = self.scores()
        ok = (self._th <= 255) & (score >= self._th)
        if not ok.any():
            return None
        cand = np.where(ok, score, -1)
        c = int(np.argmax(cand))           # first maximum: lowest index wins ties
        self.suppress_until = time_ms + self.settings.refractory_ms
        return Detection(int(time_ms), self.settings.labels[c], int(score[c]))
