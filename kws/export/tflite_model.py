"""Read a ``.tflite`` flatbuffer into plain Python objects (``tflite`` schema package).

The one reader of .tflite structure: tensors (shape, type, quantization, constant data) and
operators (kind, tensors, options) of the model's main subgraph, and its other subgraphs (a
stateful model's CALL_ONCE init subgraph, in :attr:`TfliteModel.subgraphs`), whatever their
operators; what the C runtime supports is decided by the lowering (:mod:`kws.export.lowering`,
:mod:`kws.export.state` for resource variables and subgraphs). Executing a model on reference
kernels is :mod:`kws.runtime.reference`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from kws.errors import KwsError

_DTYPES = {"INT8": np.int8, "INT32": np.int32, "INT64": np.int64, "FLOAT32": np.float32,
           "UINT8": np.uint8, "INT16": np.int16, "UINT16": np.uint16, "UINT32": np.uint32,
           "UINT64": np.uint64, "FLOAT16": np.float16, "FLOAT64": np.float64, "BOOL": np.bool_}


@dataclasses.dataclass
class Tensor:
    """One tensor: shape, dtype name, quantization and (for constants) data.

    ``name`` is the name stored in the model, or ``#<index>`` for an unnamed tensor.
    """

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray          # float32, one per channel or one per tensor (empty if none)
    zero_point: np.ndarray     # int64
    quantized_dim: int
    data: np.ndarray | None    # constant data, shaped, or None for activations

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def np_dtype(self) -> np.dtype:
        """The numpy dtype of the tensor's elements."""
        return np.dtype(_DTYPES[self.dtype])


@dataclasses.dataclass
class Op:
    """One operator: its builtin name, input/output tensor indices and options."""

    index: int
    kind: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any]


@dataclasses.dataclass
class Subgraph:
    """A subgraph other than the main one (e.g. the init subgraph that CALL_ONCE runs)."""

    index: int
    name: str
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]


class IoSignature(NamedTuple):
    """A model's first input and first output (:meth:`TfliteModel.io_signature`)."""

    input_shape: tuple[int, ...]
    input_dtype: str
    input_scale: float
    input_zero_point: int
    output_shape: tuple[int, ...]
    output_dtype: str
    output_scale: float
    output_zero_point: int

    @property
    def int8(self) -> bool:
        """Int8 in and int8 out (what an ensemble averages)."""
        return self.input_dtype == self.output_dtype == "INT8"


@dataclasses.dataclass
class TfliteModel:
    """The main subgraph (subgraph 0) of a .tflite model, and its other subgraphs."""

    path: str
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    subgraphs: list[Subgraph] = dataclasses.field(default_factory=list)  # index 1, 2, ...

    def io_signature(self) -> IoSignature:
        """Shape, dtype name, scale and zero point of the input and of the output: what two
        models must share to take the same features and give comparable outputs."""
        x, y = self.tensors[self.inputs[0]], self.tensors[self.outputs[0]]
        return IoSignature(tuple(x.shape), x.dtype, float(x.scale[0]), int(x.zero_point[0]),
                           tuple(y.shape), y.dtype, float(y.scale[0]), int(y.zero_point[0]))


def _enum_names(cls: Any) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


def _options(op: Any, cls: Any) -> Any:
    table = op.BuiltinOptions()
    if table is None:
        return None
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


def load_tflite(path: str | Path) -> TfliteModel:
    """Parse ``path`` and return its single subgraph.

    Raises
    ------
    KwsError
        If the file is missing, not a TFLite flatbuffer, truncated or corrupted.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise KwsError(f"{p}: cannot read: {exc.strerror}") from exc
    return parse_tflite(data, name=str(p))


def parse_tflite(data: bytes, *, name: str = "<bytes>") -> TfliteModel:
    """Parse the flatbuffer ``data`` (see :func:`load_tflite`)."""
    import tflite

    if len(data) < 8 or not tflite.Model.ModelBufferHasIdentifier(data, 0):
        raise KwsError(f"{name}: not a TensorFlow Lite model (no TFL3 identifier)")
    try:
        return _parse(tflite, data, name)
    except KwsError:
        raise
    except Exception as exc:  # flatbuffers raise struct.error, IndexError, ... on bad offsets
        raise KwsError(f"{name}: corrupted or truncated .tflite "
                       f"({type(exc).__name__}: {exc})") from exc


def _parse(tflite: Any, data: bytes, name: str) -> TfliteModel:
    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() < 1:
        raise KwsError(f"{name}: the model has no subgraph")
    parts = [_parse_subgraph(tflite, model, k, name) for k in range(model.SubgraphsLength())]
    main = parts[0]
    return TfliteModel(name, main.tensors, main.ops, main.inputs, main.outputs, parts[1:])


def _parse_subgraph(tflite: Any, model: Any, k: int, name: str) -> Subgraph:
    """Subgraph ``k``: its tensors (constants with their data) and operators."""
    type_names = _enum_names(tflite.TensorType)
    sg = model.Subgraphs(k)
    where = name if k == 0 else f"{name}: subgraph {k}"
    tensors = [_tensor(model, sg.Tensors(i), i, type_names, where)
               for i in range(sg.TensorsLength())]
    op_names = tflite.BUILTIN_OPCODE2NAME
    ops = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        oc = model.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        kind = op_names.get(code, f"builtin code {code}")
        if code == tflite.BuiltinOperator.CUSTOM:
            kind = f"CUSTOM ({(oc.CustomCode() or b'').decode(errors='replace')})"
        inputs = [int(x) for x in op.InputsAsNumpy()] if op.InputsLength() else []
        outputs = [int(x) for x in op.OutputsAsNumpy()] if op.OutputsLength() else []
        ops.append(Op(i, kind, inputs, outputs, _op_options(tflite, op, kind)))
    sg_name = sg.Name().decode(errors="replace") if sg.Name() else ""
    return Subgraph(k, sg_name, tensors, ops,
                    [int(x) for x in sg.InputsAsNumpy()] if sg.InputsLength() else [],
                    [int(x) for x in sg.OutputsAsNumpy()] if sg.OutputsLength() else [])


def _tensor(model: Any, t: Any, i: int, type_names: dict[int, str], name: str) -> Tensor:
    """Tensor ``i`` of the subgraph: shape, type, quantization and constant data."""
    dtype = type_names.get(t.Type(), str(t.Type()))
    tname = t.Name().decode(errors="replace") if t.Name() else f"#{i}"
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    q = t.Quantization()
    scale = np.zeros(0, np.float32)
    zp = np.zeros(0, np.int64)
    qdim = 0
    if q is not None and q.ScaleLength():
        scale = q.ScaleAsNumpy().astype(np.float32)
        zp = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else np.zeros(
            len(scale), np.int64)
        qdim = int(q.QuantizedDimension())
    buf = model.Buffers(t.Buffer())
    arr = None
    if buf is not None and buf.DataLength():
        if dtype not in _DTYPES:
            raise KwsError(f"{name}: constant tensor {tname!r} has type {dtype}, which the "
                           f"reader cannot hold")
        arr = np.frombuffer(buf.DataAsNumpy().tobytes(), dtype=_DTYPES[dtype])
        if arr.size != int(np.prod(shape)):
            raise KwsError(f"{name}: tensor {tname!r}: data size does not match shape {shape}")
        arr = arr.reshape(shape)
    return Tensor(i, tname, shape, dtype, scale, zp, qdim, arr)


def _op_options(tflite: Any, op: Any, kind: str) -> dict[str, Any]:
    act_names = _enum_names(tflite.ActivationFunctionType)
    pad_names = _enum_names(tflite.Padding)
    if kind in ("VAR_HANDLE", "CALL_ONCE"):
        return _state_options(tflite, op, kind)
    if kind == "CONV_2D":
        o = _options(op, tflite.Conv2DOptions)
        return {"padding": pad_names[o.Padding()], "stride": (o.StrideH(), o.StrideW()),
                "dilation": (o.DilationHFactor(), o.DilationWFactor()),
                "act": act_names[o.FusedActivationFunction()]}
    if kind == "DEPTHWISE_CONV_2D":
        o = _options(op, tflite.DepthwiseConv2DOptions)
        return {"padding": pad_names[o.Padding()], "stride": (o.StrideH(), o.StrideW()),
                "dilation": (o.DilationHFactor(), o.DilationWFactor()),
                "depth_multiplier": o.DepthMultiplier(),
                "act": act_names[o.FusedActivationFunction()]}
    if kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = _options(op, tflite.Pool2DOptions)
        return {"padding": pad_names[o.Padding()], "stride": (o.StrideH(), o.StrideW()),
                "filter": (o.FilterHeight(), o.FilterWidth()),
                "act": act_names[o.FusedActivationFunction()]}
    if kind == "FULLY_CONNECTED":
        o = _options(op, tflite.FullyConnectedOptions)
        return {"act": act_names[o.FusedActivationFunction()] if o else "NONE",
                "keep_num_dims": bool(o.KeepNumDims()) if o else False}
    if kind == "SOFTMAX":
        o = _options(op, tflite.SoftmaxOptions)
        return {"beta": float(o.Beta()) if o else 1.0}
    return _more_options(tflite, op, kind, act_names)


def _more_options(tflite: Any, op: Any, kind: str, act_names: dict[int, str]) -> dict[str, Any]:
    """Options of the element-wise, reduction and tensor-shape operators."""
    if kind in ("ADD", "MUL", "SUB"):
        cls = {"ADD": tflite.AddOptions, "MUL": tflite.MulOptions, "SUB": tflite.SubOptions}
        o = _options(op, cls[kind])
        return {"act": act_names[o.FusedActivationFunction()] if o else "NONE"}
    if kind == "CONCATENATION":
        o = _options(op, tflite.ConcatenationOptions)
        return {"axis": int(o.Axis()), "act": act_names[o.FusedActivationFunction()]}
    if kind in ("MEAN", "SUM", "REDUCE_MAX"):
        o = _options(op, tflite.ReducerOptions)
        return {"keep_dims": bool(o.KeepDims()) if o else False}
    if kind == "STRIDED_SLICE":
        o = _options(op, tflite.StridedSliceOptions)
        if o is None:
            return {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0,
                    "shrink_axis_mask": 0, "offset": False}
        return {"begin_mask": o.BeginMask(), "end_mask": o.EndMask(),
                "ellipsis_mask": o.EllipsisMask(), "new_axis_mask": o.NewAxisMask(),
                "shrink_axis_mask": o.ShrinkAxisMask(), "offset": bool(o.Offset())}
    if kind == "PACK":
        o = _options(op, tflite.PackOptions)
        return {"axis": int(o.Axis()), "values_count": int(o.ValuesCount())}
    if kind == "SPLIT":
        o = _options(op, tflite.SplitOptions)
        return {"num_splits": int(o.NumSplits())}
    return {}


def _state_options(tflite: Any, op: Any, kind: str) -> dict[str, Any]:
    """VAR_HANDLE: container (None if absent) and shared name; CALL_ONCE: init subgraph."""
    if kind == "VAR_HANDLE":
        o = _options(op, tflite.VarHandleOptions)
        container = o.Container() if o else None
        shared = o.SharedName() if o else None
        return {"container": None if container is None else container.decode(errors="replace"),
                "shared_name": "" if shared is None else shared.decode(errors="replace")}
    o = _options(op, tflite.CallOnceOptions)
    return {"init_subgraph": int(o.InitSubgraphIndex()) if o else -1}
