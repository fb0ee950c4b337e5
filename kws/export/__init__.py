"""``kws export``: an int8 .tflite model to interpreter-free C for the runtime in firmware/runtime.

>>> # export_model("runs/x/model.tflite", "out/")   # writes out/kws_model.h and out/kws_model.c
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from kws.errors import KwsError
from kws.export.arena import ArenaPlan, plan_arena
from kws.export.emit import generate_c, model_sha256
from kws.export.lowering import Layer, lower
from kws.export.state import bind_layers, plan_state
from kws.export.streaming import NotStreamable, StreamPlan, generate_step_c, plan_stream
from kws.export.tflite_model import TfliteModel, parse_tflite
from kws.fileio import write_text_atomic
from kws.run import find_settings, read_labels, read_settings_file

__all__ = ["ExportResult", "NotStreamable", "export_model", "resolve_settings_hash", "renamed",
           "NAME"]

#: The C name of an exported model (files, functions, macros).
NAME = "kws_model"


@dataclasses.dataclass
class ExportResult:
    """What :func:`export_model` produced."""

    header: Path
    source: Path
    model: TfliteModel
    layers: list[Layer]
    arena: ArenaPlan
    labels: list[str]
    settings_hash: int | None     # None: exported with the front end unknown
    stream: StreamPlan | None = None     # the step function's plan, when generated
    not_streamable: str = ""             # why there is no step function, when there is none

    @property
    def weight_bytes(self) -> int:
        """Bytes of const data (filters, biases, multipliers, shifts)."""
        return sum(a.nbytes for l in self.layers for a in l.arrays.values())

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference."""
        return sum(l.macs for l in self.layers)


def resolve_settings_hash(model_path: Path, settings_file: str | Path | None,
                          allow_unknown: bool) -> int | None:
    """The front-end settings hash the export records: from ``settings_file`` if given, else
    ``settings.json`` beside the model; with neither, None (front end unknown) if
    ``allow_unknown``, else :class:`KwsError` (a default would claim settings nobody chose).
    The files are read by :mod:`kws.run`."""
    if settings_file is not None:
        return read_settings_file(settings_file).hash()
    found = find_settings(model_path)
    if found is not None:
        return found.hash()
    if allow_unknown:
        return None
    raise KwsError(f"{model_path}: no settings.json beside the model, so the front end it was "
                   f"trained on is unknown; give the front-end settings file, or export with "
                   f"the front end marked unknown")


def _insert_stream_header(header: str, section: str) -> str:
    """Put the streaming declarations before the header's closing ``extern "C"`` block."""
    tail = '#ifdef __cplusplus\n}\n#endif'
    head, sep, rest = header.rpartition(tail)
    if not sep:
        raise AssertionError("generated header without its closing extern \"C\" block")
    return head + section + "\n" + sep + rest


def export_model(model_path: str | Path, out_dir: str | Path, *, prepare: bool = False,
                 int8_depthwise: bool = False, min_arena: bool = False,
                 settings_file: str | Path | None = None,
                 allow_unknown_frontend: bool = False,
                 stream: bool | None = None, name: str = NAME) -> ExportResult:
    """Generate ``kws_model.h`` and ``kws_model.c`` for ``model_path`` in ``out_dir``.

    Parameters
    ----------
    model_path, out_dir : path-like
        The int8 .tflite model and the output folder.
    prepare : bool
        Store pointwise weights prepared for the Cortex-M4 path (int16, doubled) where the
        exact fast requantization is proven: about 10 % fewer M4 instructions per DS-CNN-S
        inference for 2 bytes instead of 1 per pointwise weight (+19 KB of flash on DS-CNN-S).
        False (the default, ``kws export`` without ``--int16-pointwise``) keeps the pointwise
        layers' int8 weights.
    int8_depthwise : bool
        Keep depthwise weights int8 in TFLite's layout (``kws export --int8-depthwise``; the
        kernels that need an int16 plane scratch on 3x3 stride-1 maps). False (the default)
        stores them prepared for the no-scratch kernel wherever it applies
        (:func:`kws.export.lowering.depthwise_prep.prepare_depthwise`: int16, doubled, the
        input offset folded into the bias).
    min_arena : bool
        ``kws export --min-arena``: the int8 pointwise kernels give up their widened filter
        rows where those would set the arena's size, even where the default keeps them in the
        layer's dying input and its output (the same arena, slower; see
        :func:`kws.export.arena.plan_arena`). By default the arena is that smallest one too.
    settings_file : path-like, optional
        The front-end settings the model was trained on (default: ``settings.json`` beside
        the model).
    allow_unknown_frontend : bool
        Without any settings, export with the front end marked unknown: the header then has
        no ``KWS_MODEL_FRONTEND_SETTINGS_HASH`` and refuses to compile next to a front end's
        configuration, so no settings check can pass by accident. False: raise instead.
    stream : bool or None
        Generate the streaming step function (``kws_model_step``, :mod:`kws.export.streaming`):
        None (default) when the model is streamable, True always (raise
        :class:`NotStreamable` with the reason when it is not), False never.
    name : str
        The C name of the model: its files (``<name>.h``, ``<name>.c``), functions
        (``<name>_invoke`` ...) and macros (``<NAME>_INPUT_SIZE`` ...); default ``kws_model``.
        Other names let several models link into one program (an ensemble's members,
        :mod:`kws.export.ensemble`).

    Raises
    ------
    KwsError
        Unreadable or corrupted model, or an operator / quantization the runtime lacks;
        :class:`NotStreamable` (a KwsError) with ``stream=True`` for a model that is not.
    """
    path = Path(model_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KwsError(f"{path}: cannot read: {exc.strerror}") from exc
    model = parse_tflite(data, name=str(path))
    state = plan_state(model)
    layers = bind_layers(lower(model, prepare=prepare, prepared_depthwise=not int8_depthwise),
                         state)
    arena = plan_arena(model, layers, state, min_arena=min_arena, reuse=not min_arena)
    labels = list(read_labels(path, num_classes=model.tensors[model.outputs[0]].size))
    settings_hash = resolve_settings_hash(path, settings_file, allow_unknown_frontend)
    header, source = generate_c(model, layers, arena, labels=labels,
                                settings_hash=settings_hash, source_name=path.name,
                                model_sha256=model_sha256(data))
    sp, why = None, ""
    if stream is not False:
        try:
            if state.stateful:
                raise NotStreamable(f"{path}: the model keeps its own state (resource "
                                    f"variables); kws_model_invoke streams it")
            sp = plan_stream(model, layers)
        except NotStreamable as exc:
            if stream:
                raise
            why = str(exc)
    if sp is not None:
        step_h, step_c = generate_step_c(sp)
        header, source = _insert_stream_header(header, step_h), source + step_c
    header, source = renamed(header, name), renamed(source, name)
    out = Path(out_dir)
    write_text_atomic(out / f"{name}.h", header)
    write_text_atomic(out / f"{name}.c", source)
    return ExportResult(out / f"{name}.h", out / f"{name}.c", model, layers, arena, labels,
                        settings_hash, sp, why)


def renamed(text: str, name: str) -> str:
    """Generated C with the model's name ``kws_model`` / ``KWS_MODEL`` (functions, macros,
    file names) replaced by ``name``; the build's own ``KWS_MODEL_HOOKS`` switch and
    ``kws_model_hooks.h`` stay.

    Raises
    ------
    KwsError
        ``name`` is not a lower-case C identifier.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise KwsError(f"model name {name!r} is not a lower-case C identifier")
    if name == NAME:
        return text
    text = re.sub(r"\bkws_model(?!_hooks)", name, text)
    return re.sub(r"\bKWS_MODEL(?!_HOOKS)", name.upper(), text)
