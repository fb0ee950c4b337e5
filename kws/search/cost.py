"""The cost model: a candidate's instructions per second, flash and RAM without building it.

Calibrated on exact counts of the real kernels under QEMU and on real firmware images
(:func:`calibrate`), on a set of random-weight networks of every family:

- **instructions of a kernel call**: per kernel group (:func:`group_of`: the kernel, and for
  depthwise the plane / temporal / one-slice form), a non-negative least-squares fit of the
  call's exact count on ``[1, MACs, outputs, inputs, output positions]`` over every calibration
  call of that group;
- **instructions per model run**: the calls, plus the invoke overhead (a fit on the number of
  calls);
- **instructions per second**: the detector's fixed work per hop (front end, gate, detector,
  feature window: from the real firmware, by kind) times hops per second, plus model runs per
  second (every hop when streaming, every ``every`` hops otherwise) times the run's;
- **flash**: the model's exact const bytes (from the probe) plus a per-family fit of the rest
  of the image on the number of kernel calls;
- **RAM**: the planned arena (window) or the step's state and arena (streaming), plus a
  per-kind fit of the rest (static RAM of the firmware, painted stack);
- **input resolution**: the front end's work per hop, its tables' flash and the detector's
  feature window grow with the MFCC coefficients per frame: one slope per coefficient for each
  of the three, fitted jointly with the terms above on calibration networks of several
  resolutions (zero when the calibration has one). The model's own terms follow from its
  probe (its first layer reads ``frames x coeffs``).

:func:`prediction_errors` gives the relative error of each prediction on measured firmware.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kws.errors import KwsError
from kws.fileio import write_text_atomic
from kws.paths import REPO_ROOT
from kws.search.probe import LayerShape, Structure

#: Bump when the calibration's content or fit changes.
COST_VERSION = 1

#: Front-end hops per second (20 ms hops).
HOP_MS = 20.0

#: The front end's default MFCC coefficients per frame (the base of the resolution slopes).
BASE_COEFFS = 10


@dataclasses.dataclass(frozen=True)
class Budget:
    """Limits of the whole firmware: flash and RAM in bytes, instructions per second."""

    flash: int
    ram: int
    instructions_per_second: float

    def allows(self, cost: Cost, *, margin: float = 0.0) -> bool:
        """Whether ``cost`` fits with ``margin`` (a fraction) to spare on every limit."""
        k = 1.0 + margin
        return (cost.flash * k <= self.flash and cost.ram * k <= self.ram
                and cost.instructions_per_second * k <= self.instructions_per_second)


@dataclasses.dataclass(frozen=True)
class Cost:
    """Instructions per second of audio, flash bytes and RAM bytes of a whole firmware."""

    instructions_per_second: float
    flash: float
    ram: float

    def to_dict(self) -> dict[str, float]:
        """JSON form."""
        return {"instructions_per_second": round(self.instructions_per_second),
                "flash_bytes": round(self.flash), "ram_bytes": round(self.ram)}

    @classmethod
    def of_figures(cls, figures: dict[str, Any]) -> Cost:
        """From ``kws firmware report --json`` figures."""
        return cls(float(figures["instructions_per_second"]), float(figures["flash_bytes"]),
                   float(figures["ram_bytes"]))


def group_of(layer: LayerShape, *, step: bool = False) -> str:
    """The kernel group a call's instructions are fitted in: the kernel, ``step:`` for the
    calls of a streaming step (one time slice: other loops run), and for depthwise the plane or
    temporal form."""
    g = layer.kernel
    if layer.kernel == "depthwise":
        g = "depthwise-temporal" if layer.get("k_w") == 1 else "depthwise-plane"
    return ("step:" if step else "") + g


def config_of(layer: LayerShape, *, step: bool = False) -> str | None:
    """The finer group of a window convolution: its kernel, strides and input shape (the
    im2col and blocking costs of ``kws_conv2d_s8`` depend on them), else None. Fitted on
    ``[1, outputs]`` where the calibration holds two widths of that configuration."""
    if layer.kernel != "conv2d" or step:
        return None
    return (f"conv2d-k{layer.get('k_h')}x{layer.get('k_w')}-s{layer.get('stride_h')}x"
            f"{layer.get('stride_w')}-in{layer.get('in_h')}x{layer.get('in_w')}x"
            f"{layer.get('in_c')}")


def features(layer: LayerShape) -> np.ndarray:
    """The regressors of a call: ``[1, MACs, outputs, inputs, output positions]``."""
    positions = layer.get("out_h") * layer.get("out_w") if layer.get("out_h") else 1
    return np.array([1.0, layer.macs, layer.outputs, layer.inputs, positions], np.float64)


def config_features(layer: LayerShape) -> np.ndarray:
    """The regressors of a call in its configuration group: ``[1, outputs]``."""
    return np.array([1.0, layer.outputs], np.float64)


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Non-negative least squares, columns scaled to unit norm for conditioning."""
    from scipy.optimize import nnls

    norm = np.linalg.norm(a, axis=0)
    norm[norm == 0] = 1.0
    x, _ = nnls(a / norm, b)
    return x / norm


@dataclasses.dataclass
class Sample:
    """One calibration network: its structure, the exact counts of one run's calls and the
    measured figures of its whole firmware."""

    name: str
    family: str
    every: int
    structure: Structure
    layer_instructions: list[int]
    run_instructions: int
    figures: dict[str, Any] | None      # None: a kernel-only sample (no firmware built)
    coeffs: int = 10                    # MFCC coefficients per frame of its front end

    @property
    def streaming(self) -> bool:
        """Whether the firmware runs the step function."""
        return self.structure.step_layers is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        d = dataclasses.asdict(self)
        d["structure"] = self.structure.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        """Inverse of :meth:`to_dict`."""
        return cls(d["name"], d["family"], int(d["every"]), Structure.from_dict(d["structure"]),
                   [int(v) for v in d["layer_instructions"]], int(d["run_instructions"]),
                   None if d["figures"] is None else dict(d["figures"]),
                   int(d.get("coeffs", BASE_COEFFS)))


def _kind(streaming: bool) -> str:
    return "stream" if streaming else "window"


@dataclasses.dataclass
class CostModel:
    """Fitted coefficients (see the module docstring); :meth:`fit` makes one from samples."""

    kernels: dict[str, list[float]]
    overhead: dict[str, list[float]]          # kind -> [a, b]: a + b * calls
    per_hop: dict[str, float]                 # kind -> fixed instructions per hop
    flash: dict[str, list[float]]             # family -> [a, b]: a + b * calls (+ const bytes)
    ram: dict[str, float]                     # kind -> fixed bytes (+ arena / step memory)
    front: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.0, 0.0])
    # per MFCC coefficient beyond BASE_COEFFS: [instructions per hop, RAM bytes, flash bytes]

    @classmethod
    def fit(cls, samples: Sequence[Sample]) -> CostModel:
        """Fit every coefficient on calibration samples."""
        if not samples:
            raise KwsError("cost model: no calibration samples")
        rows: dict[str, list[tuple[np.ndarray, float]]] = {}
        over: dict[str, list[tuple[float, float]]] = {}
        for s in samples:
            layers = s.structure.run_layers
            if len(layers) != len(s.layer_instructions):
                raise KwsError(f"cost model: sample {s.name}: {len(layers)} calls, "
                               f"{len(s.layer_instructions)} counts")
            for layer, n in zip(layers, s.layer_instructions):
                step = s.streaming
                rows.setdefault(group_of(layer, step=step), []).append(
                    (features(layer), float(n)))
                config = config_of(layer, step=step)
                if config is not None:
                    rows.setdefault(config, []).append((config_features(layer), float(n)))
            over.setdefault(_kind(s.streaming), []).append(
                (len(layers), s.run_instructions - sum(s.layer_instructions)))
        kernels = {g: _nnls(np.stack([r[0] for r in rs]), np.array([r[1] for r in rs])).tolist()
                   for g, rs in rows.items() if _distinct(rs) >= 2 or not g.startswith("conv2d-")}
        samples = [s for s in samples if s.figures is not None]
        if not samples:
            raise KwsError("cost model: no calibration sample with firmware figures")
        overhead = {k: _line(v) for k, v in over.items()}
        model = cls(kernels, overhead, {}, {}, {})
        hops = 1000.0 / HOP_MS
        per_hop = [s.figures["instructions_per_second"] / hops
                   - s.figures["instructions_per_inference"] / s.every for s in samples]
        ram = [s.figures["ram_bytes"] - _memory(s.structure) for s in samples]
        flash = [s.figures["flash_bytes"] - s.structure.const_bytes for s in samples]
        model.front = [_front_slope(samples, per_hop, by="kind"),
                       _front_slope(samples, ram, by="kind"),
                       _front_slope(samples, flash, by="family")]
        extra = [s.coeffs - BASE_COEFFS for s in samples]
        for kind in {_kind(s.streaming) for s in samples}:
            i = [j for j, s in enumerate(samples) if _kind(s.streaming) == kind]
            model.per_hop[kind] = float(np.mean([per_hop[j] - model.front[0] * extra[j]
                                                 for j in i]))
            model.ram[kind] = float(np.mean([ram[j] - model.front[1] * extra[j] for j in i]))
        for family in {s.family for s in samples}:
            i = [j for j, s in enumerate(samples) if s.family == family]
            model.flash[family] = _line([(len(samples[j].structure.run_layers),
                                          flash[j] - model.front[2] * extra[j]) for j in i])
        return model

    def run_instructions(self, structure: Structure) -> float:
        """Predicted instructions of one model run (a window inference or a step)."""
        layers = structure.run_layers
        step = structure.step_layers is not None
        kind = _kind(step)
        total = 0.0
        for layer in layers:
            config = config_of(layer, step=step)
            if config is not None and config in self.kernels:
                total += float(config_features(layer) @ np.asarray(self.kernels[config]))
                continue
            coef = self.kernels.get(group_of(layer, step=step))
            if coef is None:
                raise KwsError(f"cost model: no calibration for kernel "
                               f"{group_of(layer, step=step)!r}")
            total += float(features(layer) @ np.asarray(coef))
        a, b = self.overhead.get(kind, [0.0, 0.0])
        return total + a + b * len(layers)

    def predict(self, structure: Structure, *, family: str, every: int,
                coeffs: int = BASE_COEFFS) -> Cost:
        """Predicted :class:`Cost` of a candidate's whole firmware (``coeffs``: MFCC
        coefficients per frame of its front end)."""
        kind = _kind(structure.step_layers is not None)
        if kind not in self.per_hop or family not in self.flash:
            raise KwsError(f"cost model: not calibrated for {family} ({kind} firmware)")
        d = coeffs - BASE_COEFFS
        hops = 1000.0 / HOP_MS
        ips = hops * (self.per_hop[kind] + self.front[0] * d) \
            + hops / every * self.run_instructions(structure)
        a, b = self.flash[family]
        flash = a + b * len(structure.run_layers) + structure.const_bytes + self.front[2] * d
        return Cost(ips, flash, self.ram[kind] + self.front[1] * d + _memory(structure))

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CostModel:
        """Inverse of :meth:`to_dict`."""
        return cls(d["kernels"], d["overhead"], d["per_hop"], d["flash"], d["ram"],
                   list(d.get("front", [0.0, 0.0, 0.0])))


def _front_slope(samples: Sequence[Sample], y: Sequence[float], *, by: str) -> float:
    """The per-coefficient slope of a fixed firmware term ``y`` (one value per sample): least
    squares of ``y`` on an intercept per kind (``by="kind"``) or an intercept and a slope in
    kernel calls per family (``by="family"``), plus ``coeffs - BASE_COEFFS``. 0 when the
    samples have a single resolution."""
    extra = np.array([s.coeffs - BASE_COEFFS for s in samples], np.float64)
    if len(set(extra.tolist())) < 2:
        return 0.0
    groups = sorted({_kind(s.streaming) if by == "kind" else s.family for s in samples})
    cols = []
    for g in groups:
        member = np.array([float((_kind(s.streaming) if by == "kind" else s.family) == g)
                           for s in samples])
        cols.append(member)
        if by == "family":
            cols.append(member * np.array([len(s.structure.run_layers) for s in samples]))
    a = np.stack([*cols, extra], axis=1)
    x, *_ = np.linalg.lstsq(a, np.asarray(y, np.float64), rcond=None)
    return float(x[-1])


def _distinct(rows: Sequence[tuple[np.ndarray, float]]) -> int:
    """Distinct regressor rows."""
    return len({tuple(r[0].tolist()) for r in rows})


def _line(points: Sequence[tuple[float, float]]) -> list[float]:
    """``[a, b]`` of the least-squares line through ``(x, y)`` points (b = 0 for one x)."""
    x = np.array([p[0] for p in points], np.float64)
    y = np.array([p[1] for p in points], np.float64)
    if len(set(x.tolist())) < 2:
        return [float(y.mean()), 0.0]
    b, a = np.polyfit(x, y, 1)
    return [float(a), float(b)]


def _memory(s: Structure) -> int:
    """The model's RAM: the step's state and arena when streaming, else the window arena."""
    return s.step_ram_bytes if s.step_layers is not None else s.arena_bytes


def relative_errors(predicted: Cost, measured: Cost) -> dict[str, float]:
    """``(predicted - measured) / measured`` of each figure."""
    return {"instructions_per_second": predicted.instructions_per_second
            / measured.instructions_per_second - 1.0,
            "flash_bytes": predicted.flash / measured.flash - 1.0,
            "ram_bytes": predicted.ram / measured.ram - 1.0}


def leave_one_out(samples: Sequence[Sample]) -> list[dict[str, Any]]:
    """The error of each sample's prediction by a model fitted on the other samples (the
    samples of a family with a single member are predicted in-sample)."""
    out = []
    for i, s in enumerate(samples):
        if s.figures is None:
            continue
        rest = [t for j, t in enumerate(samples) if j != i]
        if not any(t.family == s.family for t in rest):
            rest = list(samples)
        model = CostModel.fit(rest)
        pred = model.predict(s.structure, family=s.family, every=s.every, coeffs=s.coeffs)
        out.append({"name": s.name, **relative_errors(pred, Cost.of_figures(s.figures))})
    return out


def leave_one_out_summary(samples: Sequence[Sample]) -> dict[str, Any]:
    """:func:`leave_one_out` over ``samples`` in brief: the networks it predicted and, per
    figure, the lowest and highest relative error and the mean of its absolute value."""
    errors = leave_one_out(samples)
    out: dict[str, Any] = {"networks": len(errors)}
    for key in ("instructions_per_second", "flash_bytes", "ram_bytes"):
        e = [row[key] for row in errors]
        out[key] = ({"min": min(e), "max": max(e), "mean_abs": sum(map(abs, e)) / len(e)}
                    if e else None)
    return out


# ------------------------------------------------------------------------------ calibration


@functools.lru_cache(maxsize=1)
def sources_key() -> str:
    """Hash of the C sources whose instructions and bytes the calibration measured (runtime,
    front end, detector, app, board), of the exporter and of the model families: a change to
    any of them invalidates the calibration and the probes (computed once per process)."""
    h = hashlib.sha256(f"v{COST_VERSION}".encode())
    for folder in ("firmware/runtime/src", "firmware/runtime/include", "firmware/app",
                   "firmware/detector", "firmware/boards", "dsp/src", "dsp/include",
                   "kws/export", "kws/models"):
        for f in sorted((REPO_ROOT / folder).rglob("*")):
            if f.is_file() and f.suffix in (".c", ".h", ".S", ".py", ".ld", ".txt", ".cmake"):
                h.update(f.relative_to(REPO_ROOT).as_posix().encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


def calibration_candidates(coeffs: Sequence[int] = (BASE_COEFFS,)) -> list[Any]:
    """The calibration networks: every family, narrow to wide, shallow to deep, every kernel
    size and stride of the grid; for every other input resolution of ``coeffs``, one network
    of each family at that resolution (the resolution slopes)."""
    from kws.search.space import Candidate

    def ds(f: int, k: list[int], s: list[int], b: int, e: int) -> Candidate:
        return Candidate("ds-cnn", {"filters": f, "first_kernel": k, "first_strides": s,
                                    "blocks": b}, e)

    def st(f: int, k: list[int], b: int) -> Candidate:
        return Candidate("ds-cnn-stream", {"filters": f, "first_kernel": k, "blocks": b})

    def tc(f: int, t: int, k: int, b: int) -> Candidate:
        return Candidate("tcn-stream", {"filters": f, "first_time": t, "kernel": k, "blocks": b})

    base = [ds(8, [10, 4], [4, 2], 1, 4), ds(16, [10, 4], [2, 2], 2, 2),
            ds(24, [6, 4], [3, 2], 3, 2), ds(40, [10, 4], [2, 2], 4, 2),
            ds(12, [6, 4], [2, 2], 2, 4), ds(56, [10, 4], [4, 2], 2, 2),
            st(8, [10, 4], 1), st(16, [5, 4], 2), st(32, [10, 4], 3), st(24, [5, 4], 1),
            tc(16, 3, 3, 2), tc(32, 5, 5, 3), tc(48, 3, 7, 4), tc(24, 3, 5, 2)]
    other = [dataclasses.replace(c, coeffs=int(n)) for n in coeffs if n != BASE_COEFFS
             for c in (base[1], base[7], base[10])]
    return base + other


def kernel_candidates(coeffs: Sequence[int] = (BASE_COEFFS,)) -> list[Any]:
    """Networks measured for their kernel calls only (no firmware): two widths of every
    first-convolution configuration (kernel, strides, input resolution) of the default grid,
    whose im2col and blocking costs no other kernel shares."""
    from kws.search.space import DEFAULT_GRID, Candidate

    g = DEFAULT_GRID["ds-cnn"]
    return [Candidate("ds-cnn", {"filters": f, "first_kernel": k, "first_strides": s,
                                 "blocks": 1}, 2, int(n))
            for n in coeffs for k in g["first_kernel"] for s in g["first_strides"]
            for f in (8, 48)]


def measure_sample(c: Any, *, labels: list[str], workdir: Path,
                   firmware: bool = True) -> Sample:
    """Probe, count and (with ``firmware``) measure one random-weight calibration network."""
    from kws.search.measure import firmware_figures, layer_counts
    from kws.search.probe import structure_of_export, write_random_run

    run = write_random_run(c, workdir / c.name, labels=labels, settings=c.settings())
    counts = layer_counts(run / "model.tflite", streaming=c.streaming)
    from kws.runtime import target

    structure = structure_of_export(target.build_m4_model(run / "model.tflite").export)
    figures = firmware_figures(run, every=c.every) if firmware else None
    return Sample(c.name, c.family, c.every, structure, counts.layers, counts.total, figures,
                  c.coeffs)


def calibrate(cache: Path, *, labels: Sequence[str], candidates: Sequence[Any] | None = None,
              kernels: Sequence[Any] | None = None,
              coeffs: Sequence[int] = (BASE_COEFFS,)) -> tuple[CostModel, list[Sample]]:
    """The cost model for ``labels`` (class count matters), calibrated on real counts and
    firmware: loaded from ``cache`` when the sources are unchanged, else measured (about 20 s
    per calibration network on an idle core) and cached.

    ``candidates``: networks whose firmware is built and measured (default
    :func:`calibration_candidates`); ``kernels``: networks whose kernel calls only are counted
    (default :func:`kernel_candidates` with the default candidates, none otherwise);
    ``coeffs``: the input resolutions the defaults cover."""
    from tqdm import tqdm

    from kws.frontend.settings import FrontendSettings

    settings = FrontendSettings()
    cands = list(candidates) if candidates is not None else calibration_candidates(coeffs)
    if kernels is None:
        kernels = kernel_candidates(coeffs) if candidates is None else []
    todo = [(c, True) for c in cands] + [(c, False) for c in kernels]
    key = hashlib.sha256(json.dumps([sources_key(), list(labels), settings.hash(),
                                     [[c.to_dict(), f] for c, f in todo]]
                                    ).encode()).hexdigest()[:16]
    path = cache / f"cost-{key}.json"
    if path.is_file():
        try:
            samples = [Sample.from_dict(d) for d in json.loads(path.read_text())["samples"]]
            return CostModel.fit(samples), samples
        except (ValueError, KeyError, TypeError):
            pass
    import tempfile

    samples = []
    each = cache / "calibration"
    each.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kws-calibrate-") as tmp:
        for c, firmware in tqdm(todo, desc="calibrate cost model", unit="net"):
            one = each / (hashlib.sha256(json.dumps([sources_key(), list(labels),
                                                     settings.hash(), c.to_dict(), firmware]
                                                    ).encode()).hexdigest()[:16] + ".json")
            if one.is_file():                      # measured by an earlier, killed run
                samples.append(Sample.from_dict(json.loads(one.read_text())))
                continue
            samples.append(measure_sample(c, labels=list(labels), workdir=Path(tmp),
                                          firmware=firmware))
            write_text_atomic(one, json.dumps(samples[-1].to_dict()) + "\n")
    write_text_atomic(path, json.dumps({"version": COST_VERSION, "labels": list(labels),
                                        "samples": [s.to_dict() for s in samples]}) + "\n")
    return CostModel.fit(samples), samples
