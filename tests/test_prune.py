"""Structured channel pruning (kws.train.prune): a genuinely smaller model, the same function
when the removed channels carry no varying signal, the channels the criterion ranks highest
kept, chain models only, and the pruned int8 model bit-exact with TFLite Micro in the C runtime
(window model and streaming step)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings
from kws.models import build_model

tf = pytest.importorskip("tensorflow")

from kws.train import prune  # noqa: E402

channel_groups, channel_scores = prune.channel_groups, prune.channel_scores
keep_count, prune_model, select_channels = prune.keep_count, prune.prune_model, \
    prune.select_channels

FAMILIES = ["ds-cnn-xs", "ds-cnn-s", "ds-cnn-stream", "tcn-stream", "tcn-stream-max"]


def random_statistics(model, seed: int = 0) -> None:
    """Give every batch normalization random gamma, beta, mean and variance (a fresh model's
    are 1, 0, 0, 1, which would hide mistakes in slicing and folding)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            n = layer.get_weights()[0].shape[0]
            layer.set_weights([rng.normal(1, 0.3, n), rng.normal(0.1, 0.3, n),
                               rng.normal(0, 0.3, n), rng.uniform(0.5, 2, n)])


def silence_channels(model, ratio: float, seed: int = 1) -> dict[str, np.ndarray]:
    """Set gamma to 0 for ``ratio`` of the channels of every group's last batch normalization
    (their output becomes the constant relu(beta)); returns the channels left alive."""
    rng = np.random.default_rng(seed)
    alive = {}
    for g in channel_groups(model):
        bn = model.get_layer(g.members[-1])
        w = bn.get_weights()
        keep = np.sort(rng.permutation(g.channels)[:keep_count(g.channels, ratio)])
        dead = np.setdiff1d(np.arange(g.channels), keep)
        w[0][dead] = 0.0
        bn.set_weights(w)
        alive[g.producer] = keep
    return alive


def features(model, n: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(
        0, 1, (n,) + tuple(model.inputs[0].shape[1:])).astype(np.float32)


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("ratio", [0.25, 0.5])
def test_removing_silent_channels_keeps_the_function(name: str, ratio: float) -> None:
    """Channels whose gamma is 0 add only a constant to their consumer: pruned (their constant
    folded into the consumer), the smaller model computes the same outputs."""
    model = build_model(name, num_classes=4, settings=FrontendSettings())
    random_statistics(model)
    alive = silence_channels(model, ratio)
    pruned = prune_model(model, ratio)
    assert {k: list(v) for k, v in select_channels(model, ratio).items()} == \
        {k: list(v) for k, v in alive.items()}
    for g in channel_groups(pruned):
        assert g.channels == len(alive[g.producer])
    assert pruned.count_params() < model.count_params()
    assert [layer.name for layer in pruned.layers] == [layer.name for layer in model.layers]
    x = features(model, 16)
    want = model(x, training=False).numpy()
    got = pruned(x, training=False).numpy()
    np.testing.assert_allclose(got, want, atol=2e-6)
    # the removed channels did feed their consumers a constant (relu(beta) > 0) that the
    # pruned model holds in the consumers' bias / moving mean
    g = channel_groups(model)[0]
    beta = model.get_layer(g.members[-1]).get_weights()[1]
    assert (beta[np.setdiff1d(np.arange(g.channels), alive[g.producer])] > 0.05).any()


def test_first_layer_keeps_its_channels_exactly() -> None:
    """The kept output channels of the first convolution are the original ones."""
    model = build_model("ds-cnn-xs", num_classes=3, settings=FrontendSettings())
    random_statistics(model, seed=5)
    pruned = prune_model(model, 0.5)
    idx = select_channels(model, 0.5)["conv0"]
    x = features(model, 4)
    cut = lambda m: tf.keras.Model(m.inputs, m.get_layer("relu0").output)  # noqa: E731
    np.testing.assert_allclose(cut(pruned)(x).numpy(), cut(model)(x).numpy()[..., idx],
                               atol=1e-6)


def test_criterion_keeps_the_strongest_channels() -> None:
    """Score = |gamma| x L1 of the consumer's weights of the channel; the top ones are kept."""
    model = build_model("ds-cnn-xs", num_classes=3, settings=FrontendSettings())
    random_statistics(model, seed=3)
    g = channel_groups(model)[0]
    assert (g.producer, g.consumer) == ("conv0", "pw1")
    bn = model.get_layer(g.members[-1])
    w = bn.get_weights()
    w[0] = np.linspace(-2.0, 1.0, g.channels)            # |gamma|: largest at the start
    bn.set_weights(w)
    pw = model.get_layer("pw1")
    pw.set_weights([np.ones_like(pw.get_weights()[0])])
    assert np.allclose(channel_scores(model, g), np.abs(w[0]) * 32)
    kept = select_channels(model, 0.5)["conv0"]
    assert list(kept) == sorted(np.argsort(-np.abs(w[0]), kind="stable")[:16])


def test_keep_count_and_bad_ratios() -> None:
    assert keep_count(64, 0.5) == 32 and keep_count(32, 0.25) == 24
    assert keep_count(64, 0.0) == 64 and keep_count(8, 0.99) == 4
    assert keep_count(10, 0.5, multiple_of=1) == 5
    for bad in (-0.1, 1.0, 2.0):
        with pytest.raises(KwsError, match="ratio"):
            keep_count(64, bad)


def test_branching_model_is_refused() -> None:
    L = tf.keras.layers
    inp = L.Input((49, 10, 1))
    a = L.Conv2D(8, 3, padding="same", use_bias=False, name="c0")(inp)
    b = L.BatchNormalization(name="b0")(a)
    x = L.Add(name="skip")([a, b])
    x = L.Reshape((49 * 10 * 8,))(x)
    model = tf.keras.Model(inp, L.Dense(2, name="d")(x))
    with pytest.raises(KwsError, match="branch or residual"):
        prune_model(model, 0.5)


# -- the pruned int8 model in the C runtime --------------------------------------------------

needs_c = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("cc") is None,
                             reason="cmake and a C compiler build the runtime")


def pruned_tflite(tmp_path, name: str, ratio: float) -> tuple:
    """(path of the int8 pruned model, path of the int8 unpruned model)."""
    import keras

    from kws.train.quantize import convert, representative_examples

    settings = FrontendSettings()
    keras.utils.set_random_seed(3)  # the same random network every run (its outputs move)
    model = build_model(name, num_classes=4, settings=settings)
    random_statistics(model, seed=7)
    rng = np.random.default_rng(0)
    feats = rng.integers(-128, 128, size=(64, settings.num_frames, settings.num_outputs),
                         dtype=np.int8)
    rep = representative_examples(feats, settings)
    paths = []
    for tag, m in (("pruned", prune_model(model, ratio)), ("full", model)):
        path = tmp_path / f"{tag}.tflite"
        path.write_bytes(convert(m, representative=rep))
        paths.append(path)
    return tuple(paths)


@needs_c
@pytest.mark.parametrize("name", ["ds-cnn-xs", "ds-cnn-stream"])
def test_pruned_model_is_smaller_and_bit_exact_with_tflm(tmp_path, name: str) -> None:
    pytest.importorskip("tflite_micro")
    from kws.export import export_model
    from kws.export.tflite_model import load_tflite
    from kws.runtime.host import HostModel
    from kws.runtime.infer import run_tflm
    from kws.runtime.testmodels import parity_inputs

    pruned, full = pruned_tflite(tmp_path, name, 0.5)
    small = export_model(pruned, tmp_path / "c_pruned", allow_unknown_frontend=True)
    big = export_model(full, tmp_path / "c_full", allow_unknown_frontend=True)
    assert small.weight_bytes < 0.6 * big.weight_bytes
    m = load_tflite(pruned)
    x = m.tensors[m.inputs[0]]
    xs = parity_inputs(x.shape, int(x.zero_point[0]), n=200, seed=11)
    want = run_tflm(pruned, xs)
    assert len(np.unique(want.reshape(len(xs), -1), axis=0)) >= 4, "outputs do not move"
    for kernel_path in ("portable", "dsp"):
        hm = HostModel(pruned, path=kernel_path)
        got = np.stack([hm.invoke(v) for v in xs])
        bad = np.flatnonzero((got != want).reshape(len(xs), -1).any(axis=1))
        assert bad.size == 0, f"{kernel_path}: {bad.size}/{len(xs)} inputs differ"


@needs_c
def test_pruned_streaming_model_steps_bit_exact(tmp_path) -> None:
    """The pruned ds-cnn-stream still streams: its step function equals TFLM on every window."""
    pytest.importorskip("tflite_micro")
    from kws.runtime.host import HostModel
    from tests.test_streaming import check_stream, stream_frames

    pruned, _ = pruned_tflite(tmp_path, "ds-cnn-stream", 0.25)
    hm = HostModel(pruned, path="dsp")
    zp = int(hm.export.model.tensors[hm.export.model.inputs[0]].zero_point[0])
    assert check_stream(hm, pruned, stream_frames(300, zp, seed=4)) == 300 - 48


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None
                    or shutil.which("arm-none-eabi-gcc") is None,
                    reason="the firmware report builds for the Cortex-M4 and runs under QEMU")
def test_pruned_firmware_is_smaller_and_faster(tmp_path) -> None:
    """`kws firmware report --json` of a RUN holding the pruned model: less flash, fewer
    instructions per inference and per second than the unpruned model's RUN."""
    import json
    import subprocess
    import sys

    from kws.run import write_run

    labels = ["_silence_", "_unknown_", "yes", "no"]
    figures = {}
    for tag, path in zip(("pruned", "full"), pruned_tflite(tmp_path, "ds-cnn-s", 0.5)):
        run = write_run(tmp_path / tag, model=path.read_bytes(), labels=labels,
                        settings=FrontendSettings())
        out = subprocess.run([sys.executable, "-m", "kws.cli", "firmware", "report", str(run),
                              "--json"], capture_output=True, text=True, check=True)
        figures[tag] = json.loads(out.stdout.strip().splitlines()[-1])
    small, big = figures["pruned"], figures["full"]
    assert small["flash_bytes"] < big["flash_bytes"] - 8000
    assert small["instructions_per_inference"] < 0.6 * big["instructions_per_inference"]
    assert small["instructions_per_second"] < big["instructions_per_second"]
