"""Lowering: a parsed int8 .tflite graph to the list of kernel calls of the C runtime.

:func:`lower` turns each operator into one :class:`~kws.export.lowering.layer.Layer`
(kernel, tensors, scalar parameters, constant arrays) with the lowerer registered for its
operator kind in :data:`LOWERERS`; one module per operator family.
"""

from __future__ import annotations

from collections.abc import Callable

from kws.errors import KwsError
from kws.export.lowering import (
    activation,
    concat,
    conv,
    elementwise,
    fc,
    pad,
    pool,
    reduce,
    requantize,
    reshape,
    softmax,
    state_ops,
    strided_slice,
)
from kws.export.lowering.layer import Layer
from kws.export.tflite_model import Op, TfliteModel


def fold_static(m: TfliteModel) -> TfliteModel:
    """See :func:`kws.export.fold.fold_static` (imported late: it uses the lowering)."""
    from kws.export.fold import fold_static as fold

    return fold(m)


__all__ = ["LOWERERS", "Layer", "lower", "supported_ops"]

#: Operator kind -> lowerer(model, op, prepare) -> Layer.
LOWERERS: dict[str, Callable[[TfliteModel, Op, bool], Layer]] = {
    "CONV_2D": conv.lower_conv,
    "DEPTHWISE_CONV_2D": conv.lower_conv,
    "AVERAGE_POOL_2D": pool.lower_avgpool,
    "FULLY_CONNECTED": fc.lower_fc,
    "SOFTMAX": softmax.lower_softmax,
    "RESHAPE": reshape.lower_reshape,
    "CALL_ONCE": state_ops.lower_call_once,
    "VAR_HANDLE": state_ops.lower_var_handle,
    "READ_VARIABLE": state_ops.lower_read_variable,
    "ASSIGN_VARIABLE": state_ops.lower_assign_variable,
    "ADD": elementwise.lower_add,
    "MUL": elementwise.lower_mul,
    "MEAN": reduce.lower_mean,
    "MAX_POOL_2D": pool.lower_maxpool,
    "CONCATENATION": concat.lower_concat,
    "SPLIT": concat.lower_split,
    "SPLIT_V": concat.lower_split,
    "PAD": pad.lower_pad,
    "PADV2": pad.lower_pad,
    "STRIDED_SLICE": strided_slice.lower_strided_slice,
    "LOGISTIC": activation.lower_logistic,
    "QUANTIZE": requantize.lower_quantize,
}


def supported_ops() -> tuple[str, ...]:
    """The operator kinds the C runtime implements."""
    return tuple(LOWERERS)


def lower(m: TfliteModel, *, prepare: bool = False,
          prepared_depthwise: bool = True) -> list[Layer]:
    """Turn every operator of ``m`` into a :class:`Layer`; :class:`KwsError` if unsupported.

    Static shape arithmetic (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE of a dynamic-batch
    ``Flatten``) is folded first (:func:`kws.export.fold.fold_static`).

    ``prepare``: store pointwise weights prepared for the DSP path where it is proven exact
    (:func:`kws.export.lowering.pointwise_prep.prepare_pointwise`); False keeps the int8
    weights of every pointwise layer.

    ``prepared_depthwise``: store depthwise weights prepared for the no-scratch kernel
    (:func:`kws.export.lowering.depthwise_prep.prepare_depthwise`) wherever it applies; False
    keeps TFLite's int8 layout (the blob reads it).
    """
    if len(m.inputs) != 1 or len(m.outputs) != 1:
        raise KwsError(f"{m.path}: the model needs exactly one input and one output")
    m = fold_static(m)
    layers = []
    for op in m.ops:
        lowerer = LOWERERS.get(op.kind)
        if lowerer is None:
            raise KwsError(f"{m.path}: operator {op.index}: {op.kind} is not supported by the C "
                           f"runtime (it runs {', '.join(LOWERERS)})")
        layer = lowerer(m, op, prepare)
        layers.append(layer if prepared_depthwise else layer.unprepared())
    return layers
