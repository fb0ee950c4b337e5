"""Lowering: a parsed int8 .tflite graph to the list of kernel calls of the C runtime.

:func:`lower` turns each operator into one :class:`~kws.export.lowering.layer.Layer`
(kernel, tensors, scalar parameters, constant arrays) with the lowerer registered for its
operator kind in :data:`LOWERERS`; one module per operator family.
"""

from __future__ import annotations

from typing import Callable

from kws.errors import KwsError
from kws.export.lowering import conv, fc, pool, reshape, softmax
from kws.export.lowering.layer import Layer
from kws.export.tflite_model import Op, TfliteModel

__all__ = ["LOWERERS", "Layer", "lower", "supported_ops"]

#: Operator kind -> lowerer(model, op, prepare) -> Layer.
LOWERERS: dict[str, Callable[[TfliteModel, Op, bool], Layer]] = {
    "CONV_2D": conv.lower_conv,
    "DEPTHWISE_CONV_2D": conv.lower_conv,
    "AVERAGE_POOL_2D": pool.lower_avgpool,
    "FULLY_CONNECTED": fc.lower_fc,
    "SOFTMAX": softmax.lower_softmax,
    "RESHAPE": reshape.lower_reshape,
}


def supported_ops() -> tuple[str, ...]:
    """The operator kinds the C runtime implements."""
    return tuple(LOWERERS)


def lower(m: TfliteModel, *, prepare: bool = False) -> list[Layer]:
    """Turn every operator of ``m`` into a :class:`Layer`; :class:`KwsError` if unsupported.

    ``prepare``: store pointwise weights prepared for the DSP path where it is proven exact
    (:func:`kws.export.lowering.pointwise_prep.prepare_pointwise`); False keeps the int8
    weights of every layer.
    """
    if len(m.inputs) != 1 or len(m.outputs) != 1:
        raise KwsError(f"{m.path}: the model needs exactly one input and one output")
    layers = []
    for op in m.ops:
        lowerer = LOWERERS.get(op.kind)
        if lowerer is None:
            raise KwsError(f"{m.path}: operator {op.index} is {op.kind}, which the C runtime "
                           f"does not support (supported: {', '.join(LOWERERS)})")
        layers.append(lowerer(m, op, prepare))
    return layers
