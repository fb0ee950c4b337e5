"""Single-operator ``.tflite`` files written directly with the flatbuffer schema.

For operators the TFLite converter does not emit on its own in a small model (a QUANTIZE
between two integer tensors: the converter folds it into the neighbouring ops or leaves it at
a float boundary). :func:`quantize_model` writes a model whose only operator is one QUANTIZE,
so that its kernel can be checked against TFLite Micro directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: TensorType names -> the schema's enum values.
_TYPES = {"FLOAT32": 0, "INT16": 7, "UINT8": 3, "INT8": 9}


def _offsets(b: Any, start: Any, offsets: list[int]) -> int:
    """A vector of table offsets (``start(builder, n)`` opens it)."""
    start(b, len(offsets))
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _tensor(b: Any, name: str, shape: tuple[int, ...], dtype: str,
            quant: tuple[float, int] | None) -> int:
    import tflite

    name_off = b.CreateString(name)
    shape_off = b.CreateNumpyVector(np.asarray(shape, np.int32))
    q_off = None
    if quant is not None:
        scale = b.CreateNumpyVector(np.asarray([quant[0]], np.float32))
        zp = b.CreateNumpyVector(np.asarray([quant[1]], np.int64))
        tflite.QuantizationParametersStart(b)
        tflite.QuantizationParametersAddScale(b, scale)
        tflite.QuantizationParametersAddZeroPoint(b, zp)
        q_off = tflite.QuantizationParametersEnd(b)
    tflite.TensorStart(b)
    tflite.TensorAddShape(b, shape_off)
    tflite.TensorAddType(b, _TYPES[dtype])
    tflite.TensorAddBuffer(b, 0)
    tflite.TensorAddName(b, name_off)
    if q_off is not None:
        tflite.TensorAddQuantization(b, q_off)
    return tflite.TensorEnd(b)


def quantize_model(shape: tuple[int, ...], src: tuple[str, float | None, int],
                   dst: tuple[str, float | None, int]) -> bytes:
    """A model of one QUANTIZE from ``src`` to ``dst``, each (dtype name, scale, zero point)
    with dtype ``INT8``, ``UINT8``, ``INT16`` or ``FLOAT32`` (scale None: no quantization)."""
    import flatbuffers
    import tflite

    b = flatbuffers.Builder(1024)
    tensors = [_tensor(b, name, shape, dtype, None if scale is None else (scale, zp))
               for name, (dtype, scale, zp) in (("input", src), ("output", dst))]
    ins = b.CreateNumpyVector(np.asarray([0], np.int32))
    outs = b.CreateNumpyVector(np.asarray([1], np.int32))
    op_ins = b.CreateNumpyVector(np.asarray([0], np.int32))
    op_outs = b.CreateNumpyVector(np.asarray([1], np.int32))
    tflite.OperatorStart(b)
    tflite.OperatorAddOpcodeIndex(b, 0)
    tflite.OperatorAddInputs(b, op_ins)
    tflite.OperatorAddOutputs(b, op_outs)
    op = tflite.OperatorEnd(b)
    tensors_off = _offsets(b, tflite.SubGraphStartTensorsVector, tensors)
    ops_off = _offsets(b, tflite.SubGraphStartOperatorsVector, [op])
    sg_name = b.CreateString("main")
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensors_off)
    tflite.SubGraphAddInputs(b, ins)
    tflite.SubGraphAddOutputs(b, outs)
    tflite.SubGraphAddOperators(b, ops_off)
    tflite.SubGraphAddName(b, sg_name)
    subgraph = tflite.SubGraphEnd(b)
    code = tflite.BuiltinOperator.QUANTIZE
    tflite.OperatorCodeStart(b)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(b, code)
    tflite.OperatorCodeAddBuiltinCode(b, code)
    tflite.OperatorCodeAddVersion(b, 1)
    opcode = tflite.OperatorCodeEnd(b)
    tflite.BufferStart(b)
    empty = tflite.BufferEnd(b)
    codes_off = _offsets(b, tflite.ModelStartOperatorCodesVector, [opcode])
    subgraphs_off = _offsets(b, tflite.ModelStartSubgraphsVector, [subgraph])
    buffers_off = _offsets(b, tflite.ModelStartBuffersVector, [empty])
    desc = b.CreateString("kws handmade QUANTIZE")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes_off)
    tflite.ModelAddSubgraphs(b, subgraphs_off)
    tflite.ModelAddDescription(b, desc)
    tflite.ModelAddBuffers(b, buffers_off)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())
