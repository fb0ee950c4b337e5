"""``kws bench arena``: kws's activation arena against TFLite Micro's planner, per model.

For every model of the test corpus (generated DS-CNNs and plain-Keras networks, the stateful
streaming models, microWakeWord's published models, the ``.tflite`` files in
``tests/data/models`` and ``../shared/models``, and any ``--model``), prints kws's arena
without the state region (``KWS_MODEL_ARENA_BYTES - KWS_MODEL_STATE_BYTES``, the input and
output kept in it, as TFLM keeps them), the same plan with every kernel scratch set to 0 (the
placement alone), the scratch live where kws's plan peaks, and the host tflite-micro
interpreter's arena head measured in this run (its GreedyMemoryPlanner's activations, input
and output included; resource variables are in its tail, as they are in kws's state region),
and the lower bound of any plan of kws's buffers (the tensors live at one layer plus that
layer's least scratch; :func:`kws.runtime.arena_compare.lower_bound`) with the kernel there.

With ``--parity N``, the corpus table instead (:mod:`kws.bench.corpus_table`): per model its
operators, parity counts against TFLM on N inputs (host portable, host DSP-emulated, M4 under
QEMU; ``--no-qemu`` skips the M4), M4 instructions per inference and per MAC, the share of
the data-movement and reduction kernels, and the arena against TFLM's head.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
from pathlib import Path

from kws.errors import KwsError

#: Generated models (kws.runtime.testmodels / corpus names) measured by default.
GENERATED = ("tiny", "ds_cnn_s", "ds_cnn_m", "ds_cnn_l", "keras_ds_cnn_flatten",
             "keras_tc_resnet", "keras_bc_resnet", "keras_maxpool_concat")
STATEFUL = ("delay", "stream_conv")
MICRO_WAKEWORD = ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu")


def corpus(shared: bool = True) -> list[Path]:
    """The corpus's .tflite paths (generating what is not cached)."""
    from kws.paths import REPO_ROOT
    from kws.runtime import stateful_testmodels as st
    from kws.runtime.testmodels import ensure_model

    paths = [ensure_model(n) for n in GENERATED]
    paths += [st.ensure_model(n) for n in STATEFUL]
    try:
        for n in MICRO_WAKEWORD:
            paths += [st.micro_wakeword(n), st.micro_wakeword_int8(n)]
    except KwsError:
        pass  # pymicro-wakeword not installed
    paths += sorted((REPO_ROOT / "tests" / "data" / "models").glob("*.tflite"))
    if shared:
        from kws.bench import shared_dir

        paths += sorted((shared_dir() / "models").glob("*.tflite"))
    seen, unique = set(), []
    for p in paths:  # the fixtures are copies of shared models
        key = hashlib.sha256(p.read_bytes()).hexdigest()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print one line per model."""
    ap = argparse.ArgumentParser(prog="kws bench arena", description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", default=[], help="also measure this .tflite")
    ap.add_argument("--no-corpus", action="store_true", help="only the --model files")
    ap.add_argument("--parity", type=int, default=0, metavar="N",
                    help="print the corpus table: parity on N inputs, M4 instructions, arena")
    ap.add_argument("--no-qemu", action="store_true", help="with --parity: skip the M4")
    args = ap.parse_args(argv)
    if args.parity < 0:
        raise KwsError(f"--parity {args.parity}: must be a positive number of inputs")
    paths = ([] if args.no_corpus else corpus()) + [Path(p) for p in args.model]
    if args.parity:
        return _table(paths, args.parity, qemu=not args.no_qemu)

    from tqdm import tqdm

    from kws.runtime.arena_compare import compare

    print(f"{'model':34} {'kws':>8} {'state':>6} {'no scratch':>10} {'peak scratch':>12} "
          f"{'TFLM head':>9} {'kws/TFLM':>8} {'bound':>8}  bound at")
    worse = 0
    for p in tqdm(paths, desc="models", unit="model", leave=False):
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                c = compare(p)
        except KwsError as exc:
            print(f"{p.name[:34]:34} not exported: {str(exc).split(': ', 1)[-1][:80]}")
            continue
        worse += c.kws > c.tflm_head
        print(f"{c.model[:34]:34} {c.kws:8,} {c.kws_state:6,} {c.tensors_only:10,} "
              f"{c.peak_scratch:12,} {c.tflm_head:9,} {c.ratio:8.3f} {c.bound:8,}  "
              f"{c.bound_kernel} (least scratch {c.bound_scratch:,})")
    print(f"\n{worse} model(s) above TFLM's head; where kws is above and equals the bound, no "
          f"placement does better: the excess is the least scratch of the DSP kernel at the "
          f"bounding layer (im2col, int16 plane, widened filter rows), which TFLM's reference "
          f"kernels do not use; 'no scratch' is the placement alone")
    return 0


def _table(paths: list[Path], n: int, *, qemu: bool) -> int:
    """Print the corpus table (:mod:`kws.bench.corpus_table`); 1 if any output differs."""
    from tqdm import tqdm

    from kws.bench import corpus_table as ct

    print(ct.header())
    rows = []
    for p in tqdm(paths, desc="models", unit="model", leave=False):
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                r = ct.measure(p, n, qemu=qemu)
        except KwsError as exc:
            print(f"{p.stem[:30]:30} {ct.op_list(p)[:60]:60} not exported: "
                  f"{str(exc).split(': ', 1)[-1][:70]}")
            continue
        rows.append(r)
        print(ct.format_row(r), flush=True)
    differ = [r.model for r in rows if min(r.portable, r.dsp, r.m4 if qemu else r.inputs)
              < r.inputs]
    above = sum(r.arena > r.tflm_head for r in rows)
    print(f"\n{len(rows)} models, {n} inputs each (random and adversarial, state carried in "
          f"order); outputs differing from TFLM: {', '.join(differ) or 'none'}; {above} "
          f"arena(s) above TFLM's head (plain `kws bench arena` says why)")
    return 1 if differ else 0
