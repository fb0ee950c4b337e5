"""Structured (channel) pruning of a trained keyword model: a genuinely smaller Keras model.

The model families of :mod:`kws.models` are chains: a standard convolution, then depthwise +
pointwise blocks, pooling and a dense layer. Their channels form **groups** that must be pruned
together: the output channels of a convolution (``conv0`` or a pointwise ``pw<i>``), its batch
normalization, the following depthwise convolution (one filter per channel: its input and
output channels are the same channels) and its batch normalization, and the input channels of
the next pointwise convolution or of the dense layer (the *consumer*). Removing channel ``c``
of a group removes it from every one of those layers at once, so the rebuilt model has the same
layers (names, kernels, padding, strides: the streaming structure is kept) with fewer channels.

Criterion: a channel reaches its consumer as ``act(gamma * xhat + beta)`` from the group's last
batch normalization, with ``xhat`` normalized (unit variance on the training data). Its
*varying* part is carried by ``|gamma|`` (network slimming, Liu et al. 2017), and it moves the
consumer by its input-channel weights, so the score is ``|gamma| * L1(consumer weights of c)``.
The *constant* part ``act(beta)`` that a removed channel still fed the consumer is folded into
the consumer: into the moving mean of the batch normalization after a pointwise convolution
(``mean -= W_c * act(beta)``) or into the dense bias (``bias += W_c * act(beta)``). A channel
whose ``gamma`` is 0 is therefore removed without changing the model's function at all.

Then fine-tune (``kws train --prune RATIO``): :func:`prune_model` is a plain function of a
trained model and a ratio, so an architecture search can use it as one more dimension.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kws.errors import KwsError

_PRODUCERS = ("Conv2D",)
# Per-channel layers: a removed channel's constant passes through them unchanged (the
# average or the maximum of a constant is that constant).
_PASS = ("ReLU", "Activation", "Dropout", "AveragePooling2D", "MaxPooling2D", "Reshape",
         "InputLayer")


@dataclasses.dataclass
class ChannelGroup:
    """Channels pruned together: produced by ``producer``, consumed by ``consumer``.

    Attributes
    ----------
    producer : str
        The convolution whose output channels start the group.
    members : list of str
        Batch normalizations and depthwise convolutions that carry the group's channels.
    consumer : str
        The pointwise convolution or dense layer that reads them.
    channels : int
        Channels of the group in the model.
    """

    producer: str
    members: list[str]
    consumer: str
    channels: int


def channel_groups(model: Any) -> list[ChannelGroup]:
    """The prunable channel groups of a chain model, in order.

    Raises
    ------
    KwsError
        When the model is not a chain of the layer types the model families use (a branch, a
        residual connection, or a layer this module does not know how to slice).
    """
    layers = chain_layers(model)
    groups: list[ChannelGroup] = []
    current: ChannelGroup | None = None
    for layer in layers:
        kind = type(layer).__name__
        if kind in _PRODUCERS or kind == "Dense":
            if current is not None:
                current.consumer = layer.name
                groups.append(current)
            current = (ChannelGroup(layer.name, [], "", int(layer.filters))
                       if kind in _PRODUCERS else None)
        elif kind in ("BatchNormalization", "DepthwiseConv2D"):
            if current is None:
                raise KwsError(f"model {model.name}: layer {layer.name} ({kind}) before the "
                               f"first convolution; cannot prune")
            if kind == "DepthwiseConv2D" and int(layer.depth_multiplier) != 1:
                raise KwsError(f"model {model.name}: depthwise layer {layer.name} has depth "
                               f"multiplier {layer.depth_multiplier}; pruning needs 1")
            current.members.append(layer.name)
        elif kind not in _PASS:
            raise KwsError(f"model {model.name}: cannot prune through layer {layer.name} "
                           f"({kind})")
    if current is not None:
        raise KwsError(f"model {model.name}: the last convolution {current.producer} has no "
                       f"consumer (pointwise convolution or dense layer)")
    return groups


def chain_layers(model: Any) -> list[Any]:
    """The model's layers in order, checking that each one reads only the previous one.

    Raises
    ------
    KwsError
        A layer that reads another layer or several (a branch or a residual connection).
    """
    layers = list(model.layers)
    for prev, layer in zip(layers, layers[1:]):
        nodes = getattr(layer, "_inbound_nodes", [])
        parents = [n.operation for n in nodes[0].parent_nodes] if nodes else []
        if len(nodes) != 1 or len(parents) != 1 or parents[0] is not prev:
            raise KwsError(f"model {model.name}: layer {layer.name} does not read only "
                           f"{prev.name} (a branch or residual connection); pruning and "
                           f"quantization-aware training take chain models only")
    return layers


def keep_count(channels: int, ratio: float, *, multiple_of: int = 4) -> int:
    """Channels kept when ``ratio`` of ``channels`` are removed, rounded to a multiple of
    ``multiple_of`` (the C kernels' SIMD paths work on 4 channels at a time), at least one
    multiple and at most ``channels``.

    >>> keep_count(64, 0.5), keep_count(32, 0.25), keep_count(10, 0.5, multiple_of=1)
    (32, 24, 5)
    """
    if not 0.0 <= ratio < 1.0:
        raise KwsError(f"must be in [0, 1), got {ratio}", argument="ratio")
    if multiple_of < 1:
        raise KwsError(f"must be at least 1, got {multiple_of}", argument="multiple_of")
    want = channels * (1.0 - ratio)
    keep = int(multiple_of * np.floor(want / multiple_of + 0.5))
    return int(min(channels, max(keep, min(multiple_of, channels))))


def channel_scores(model: Any, group: ChannelGroup) -> np.ndarray:
    """``|gamma| * L1(consumer weights)`` of each channel of ``group`` (float64, (channels,)).

    ``gamma`` is the group's last batch normalization's (1 when the group has none).
    """
    gamma = np.ones(group.channels)
    bns = [m for m in group.members if type(model.get_layer(m)).__name__ == "BatchNormalization"]
    if bns:
        gamma = np.abs(np.asarray(model.get_layer(bns[-1]).gamma.numpy(), dtype=np.float64))
    w = np.asarray(model.get_layer(group.consumer).get_weights()[0], dtype=np.float64)
    w = w.reshape(-1, w.shape[-1]) if w.ndim == 2 else w.reshape(-1, w.shape[-2], w.shape[-1])
    l1 = np.abs(w).sum(axis=-1) if w.ndim == 2 else np.abs(w).sum(axis=(0, 2))
    return gamma * l1


def select_channels(model: Any, ratio: float, *, multiple_of: int = 4) -> dict[str, np.ndarray]:
    """The kept channel indices (sorted) of every group, keyed by the group's producer."""
    kept = {}
    for g in channel_groups(model):
        n = keep_count(g.channels, ratio, multiple_of=multiple_of)
        order = np.argsort(-channel_scores(model, g), kind="stable")
        kept[g.producer] = np.sort(order[:n])
    return kept


def prune_model(model: Any, ratio: float, *, multiple_of: int = 4) -> Any:
    """A smaller copy of ``model`` with ``ratio`` of every group's channels removed.

    Parameters
    ----------
    model : keras.Model
        A trained chain model of :mod:`kws.models` (not changed).
    ratio : float
        Fraction of each channel group removed, in [0, 1).
    multiple_of : int, keyword-only
        Kept channel counts are rounded to a multiple of this (see :func:`keep_count`).

    Returns
    -------
    keras.Model
        The same layers (names, kernel sizes, padding, strides, regularizers) with fewer
        channels, holding the kept weights, the removed channels' constant contribution folded
        into their consumers. Not compiled.

    Raises
    ------
    KwsError
        A ratio outside [0, 1) or a model that is not a prunable chain.
    """
    kept = select_channels(model, ratio, multiple_of=multiple_of)
    groups = {g.producer: g for g in channel_groups(model)}
    return _rebuild(model, kept, groups)


def _rebuild(model: Any, kept: dict[str, np.ndarray],
             groups: dict[str, ChannelGroup]) -> Any:
    """Rebuild the chain with each group cut to ``kept[producer]`` and copy the weights."""
    import tensorflow as tf

    consumer_of = {g.consumer: g for g in groups.values()}
    layers = chain_layers(model)
    inp = tf.keras.Input(shape=model.inputs[0].shape[1:], name=layers[0].name)
    x, idx, mean_shift, weights = inp, None, None, {}
    for layer in layers[1:]:
        kind = type(layer).__name__
        cfg = layer.get_config()
        w = layer.get_weights()
        if layer.name in consumer_of:
            w, mean_shift = _cut_consumer(model, layer, consumer_of[layer.name], idx)
            idx = None
        if kind == "BatchNormalization" and mean_shift is not None:
            w = [w[0], w[1], w[2] - mean_shift.astype(w[2].dtype), w[3]]
            mean_shift = None
        if kind in _PRODUCERS:
            idx = kept[layer.name]
            cfg["filters"] = len(idx)
            w = [w[0][..., idx]] + [v[idx] for v in w[1:]]
        elif kind == "DepthwiseConv2D":
            w = [w[0][:, :, idx]] + [v[idx] for v in w[1:]]
        elif kind == "BatchNormalization" and idx is not None:
            w = [v[idx] for v in w]
        elif kind == "Reshape" and idx is not None:
            cfg["target_shape"] = tuple(cfg["target_shape"][:-1]) + (len(idx),)
        x = type(layer).from_config(cfg)(x)
        weights[layer.name] = w
    if mean_shift is not None:
        raise KwsError(f"model {model.name}: cannot fold the removed channels' constant "
                       f"output (a pointwise convolution without bias or batch normalization)")
    pruned = tf.keras.Model(inp, x, name=model.name)
    for name, w in weights.items():
        if w:
            pruned.get_layer(name).set_weights(w)
    return pruned


def _cut_consumer(model: Any, layer: Any, group: ChannelGroup,
                  idx: np.ndarray) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The consumer's weights with only the kept input channels, and the shift of the
    following batch normalization's moving mean (None when folded into a bias here).

    The removed channels' constant output (:func:`_constant_output`) times their weights is
    added to the consumer's bias, or, for a convolution without bias, subtracted from the
    moving mean of the batch normalization after it (the same function)."""
    w = layer.get_weights()
    kernel = w[0]
    removed = np.setdiff1d(np.arange(group.channels), idx)
    const = _constant_output(model, group)[removed]
    if kernel.ndim == 2:          # dense: (channels, units)
        shift = const @ kernel[removed].astype(np.float64)
        cut = [kernel[idx]]
    else:                         # convolution: (h, w, channels, units)
        shift = np.einsum("c,hwcu->u", const, kernel[:, :, removed].astype(np.float64))
        cut = [kernel[:, :, idx]]
    if len(w) > 1:
        return cut + [(w[1] + shift).astype(w[1].dtype)], None
    return cut, shift


def _constant_output(model: Any, group: ChannelGroup) -> np.ndarray:
    """What each channel of the group feeds its consumer when its last batch normalization's
    normalized input is 0: ``act(beta)`` through the activations between that layer and the
    consumer (float64, (channels,))."""
    layers = list(model.layers)
    last = group.members[-1] if group.members else group.producer
    start = model.get_layer(last)
    if type(start).__name__ == "BatchNormalization":
        v = np.asarray(start.beta.numpy(), dtype=np.float32)
    else:
        return np.zeros(group.channels)
    end = layers.index(model.get_layer(group.consumer))
    for layer in layers[layers.index(start) + 1:end]:
        if type(layer).__name__ in ("ReLU", "Activation"):
            v = np.asarray(layer(v[None]), dtype=np.float32)[0]
    return v.astype(np.float64)


def prune_and_fine_tune(model: Any, data: Any, cfg: Any,
                        settings: Any) -> tuple[Any, dict[str, Any]]:
    """``kws train --prune``: prune ``cfg.prune`` of the channels of a trained model and
    fine-tune it ``cfg.prune_epochs`` epochs (cosine from a quarter of the training rate to 5 %
    of it).

    Parameters
    ----------
    model : keras.Model
        The trained model.
    data : kws.train.trainer.TrainingData
        The run's features.
    cfg : kws.train.trainer.TrainConfig
        The run's configuration (``prune``, ``prune_epochs``, ``learning_rate``, ``seed``).
    settings : FrontendSettings
        The front end.

    Returns
    -------
    (keras.Model, dict)
        The fine-tuned pruned model (compiled), and what pruning did: the ratio, channels and
        parameters before and after, and float/int8 accuracy of every evaluation split before
        pruning, right after it, and after fine-tuning.
    """
    import tensorflow as tf

    from kws.train.trainer import accuracy_snapshot, fine_tune, real_eval_dir

    real = real_eval_dir(cfg)
    before = accuracy_snapshot(model, data, settings, seed=cfg.seed, real_dir=real)
    groups = channel_groups(model)
    pruned = prune_model(model, cfg.prune)
    pruned.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate),
                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    after = {g.producer: int(g.channels) for g in channel_groups(pruned)}
    unrefined = accuracy_snapshot(pruned, data, settings, seed=cfg.seed, real_dir=real)
    fine_tune(pruned, data, cfg, settings, epochs=cfg.prune_epochs,
              learning_rate=(0.25 * cfg.learning_rate, 0.05 * cfg.learning_rate),
              seed_offset=10_000)
    report = {"ratio": cfg.prune, "epochs": cfg.prune_epochs,
              "channels_before": {g.producer: g.channels for g in groups},
              "channels_after": after,
              "params_before": int(model.count_params()),
              "params_after": int(pruned.count_params()),
              "accuracy_before": before, "accuracy_pruned_not_tuned": unrefined,
              "accuracy_after": accuracy_snapshot(pruned, data, settings, seed=cfg.seed,
                                                  real_dir=real)}
    return pruned, report
