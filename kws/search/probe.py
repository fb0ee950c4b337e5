"""The structure of a candidate: its layers as the exporter lowers them, without training.

:func:`probe` builds the candidate with random weights, quantizes it to int8 (the front end's
input quantization) and runs the exporter's lowering and arena planner on it: the kernel calls
with their shapes (for the instruction model), the exact const bytes (weights, biases,
multipliers, shifts), the planned arena, and for streaming families the step function's layers,
state and per-step arena. Training changes none of these, so the probe of an untrained network
is the trained network's structure. Probes are cached as JSON under the cache folder, keyed by the
candidate, the front end and the exporter's and runtime's sources.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from kws.errors import KwsError
from kws.fileio import write_text_atomic
from kws.frontend.settings import FrontendSettings
from kws.search.space import Candidate, architecture_key

#: Bump when what a probe records changes.
PROBE_VERSION = 1

#: The layer fields the cost model reads (from the lowered layer's parameters).
SHAPE_KEYS = ("in_h", "in_w", "in_c", "out_h", "out_w", "out_c", "k_h", "k_w", "stride_h",
              "stride_w", "num_in", "num_out", "rows", "depth")


@dataclasses.dataclass(frozen=True)
class LayerShape:
    """One kernel call: its kernel (``kernel`` key of the exporter), MACs and shape fields."""

    kernel: str
    macs: int
    shape: dict[str, int]

    def get(self, key: str) -> int:
        """A shape field (0 when the kernel has none)."""
        return int(self.shape.get(key, 0))

    @property
    def outputs(self) -> int:
        """int8 values the call writes."""
        if self.kernel == "fc":
            return self.get("num_out")
        if self.kernel == "softmax":
            return self.get("rows") * self.get("depth")
        return self.get("out_h") * self.get("out_w") * self.get("out_c")

    @property
    def inputs(self) -> int:
        """int8 values the call reads (the activation, not the weights)."""
        if self.kernel == "fc":
            return self.get("num_in")
        if self.kernel == "softmax":
            return self.outputs
        return self.get("in_h") * self.get("in_w") * self.get("in_c")


@dataclasses.dataclass(frozen=True)
class Structure:
    """What the cost model needs of a candidate's network.

    Attributes
    ----------
    layers : list of LayerShape
        The window model's kernel calls (what ``kws_model_invoke`` runs).
    step_layers : list of LayerShape or None
        The step function's calls (streaming families), else None.
    const_bytes : int
        Weights, biases, multipliers and shifts.
    arena_bytes : int
        The planned arena of the window model.
    step_ram_bytes : int
        Streaming: the step's persistent state plus its per-step arena; 0 otherwise.
    """

    layers: list[LayerShape]
    step_layers: list[LayerShape] | None
    const_bytes: int
    arena_bytes: int
    step_ram_bytes: int = 0

    @property
    def run_layers(self) -> list[LayerShape]:
        """The calls of one model run on the device (a step when streaming)."""
        return self.step_layers if self.step_layers is not None else self.layers

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        d = dataclasses.asdict(self)
        d["version"] = PROBE_VERSION
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Structure:
        """Inverse of :meth:`to_dict`."""
        def layers(ls: list[dict[str, Any]] | None) -> list[LayerShape] | None:
            return None if ls is None else [LayerShape(l["kernel"], int(l["macs"]),
                                                       dict(l["shape"])) for l in ls]
        return cls(layers(d["layers"]) or [], layers(d["step_layers"]), int(d["const_bytes"]),
                   int(d["arena_bytes"]), int(d.get("step_ram_bytes", 0)))


def _layer_shape(layer: Any) -> LayerShape:
    return LayerShape(layer.kernel, int(layer.macs),
                      {k: int(layer.params[k]) for k in SHAPE_KEYS if k in layer.params})


def structure_of_export(result: Any) -> Structure:
    """The :class:`Structure` of an :class:`kws.export.ExportResult`."""
    sp = result.stream
    step = None if sp is None else [_layer_shape(s.layer) for s in sp.layers]
    return Structure([_layer_shape(l) for l in result.layers], step, int(result.weight_bytes),
                     int(result.arena.size),
                     0 if sp is None else int(sp.state_size + sp.arena_size))


def random_int8_model(c: Candidate, *, num_classes: int, settings: FrontendSettings,
                      seed: int = 0) -> bytes:
    """The candidate with random weights as a full-int8 .tflite (the front end's input
    quantization), for probing and calibration."""
    import tensorflow as tf

    from kws.models import build_model, input_range
    from kws.train.quantize import convert

    tf.keras.utils.set_random_seed(seed)
    model = build_model(c.register(), num_classes=num_classes, settings=settings)
    lo, hi = input_range(settings)
    rng = np.random.default_rng(seed)
    rep = rng.uniform(lo, hi, (8, settings.num_frames, settings.num_outputs, 1))
    rep.reshape(8, -1)[:, 0], rep.reshape(8, -1)[:, 1] = lo, hi   # pin the input range
    return convert(model, representative=rep.astype(np.float32))


def write_random_run(c: Candidate, run: Path, *, labels: list[str],
                     settings: FrontendSettings, seed: int = 0) -> Path:
    """A RUN folder (model.tflite, labels.txt, settings.json) of the random-weight candidate."""
    from kws.run import write_run

    model = random_int8_model(c, num_classes=len(labels), settings=settings, seed=seed)
    return write_run(run, model=model, labels=labels, settings=settings)


def probe(c: Candidate, *, num_classes: int, settings: FrontendSettings,
          cache: Path | None = None) -> Structure:
    """The :class:`Structure` of candidate ``c`` (cached in ``cache`` when given)."""
    from kws.export import export_model
    from kws.search.cost import sources_key

    # the exporter and the runtime's sources decide the const bytes, the arena and the step's
    # memory: a probe made by other sources is not reused
    key = (f"{architecture_key(c)}-c{num_classes}-fe{settings.hash():08x}-v{PROBE_VERSION}"
           f"-s{sources_key()}")
    path = cache / f"{key}.json" if cache else None
    if path is not None and path.is_file():
        try:
            return Structure.from_dict(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError):
            pass                                   # a damaged cache entry: probe again
    labels = [f"class_{i}" for i in range(num_classes)]
    with tempfile.TemporaryDirectory(prefix="kws-probe-") as tmp:
        run = write_random_run(c, Path(tmp) / "run", labels=labels, settings=settings)
        try:
            result = export_model(run / "model.tflite", Path(tmp) / "c")
        except KwsError as exc:
            raise KwsError(f"candidate {c.name}: the exporter refuses it: {exc}") from exc
    s = structure_of_export(result)
    if path is not None:
        write_text_atomic(path, json.dumps(s.to_dict()) + "\n")
    return s
