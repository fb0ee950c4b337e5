"""``kws demo``: the main job end to end on the built-in default (offline synthetic speech).

1. train a yes/no model on the offline synthetic corpus (``kws train --words yes,no``: the
   streamable default, tcn-stream-max, which the firmware runs one step per 20 ms hop);
2. export it to C (``kws export``);
3. build the Cortex-M4 firmware for it (``kws firmware build``);
4. run the firmware under QEMU (mps2-an386) on a test stream made from held-out synthetic
   speech in noise, and check its detections against the Python simulation, line for line;
5. print the detections and the footprint / real-time report.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kws.errors import KwsError


def run_demo(*, out: Path, words: list[str], epochs: int | None, seconds: float,
             seed: int, retrain: bool, model: str | None = None) -> int:
    """Run the whole pipeline into ``out``; returns 0 when firmware == Python."""
    from kws.audio import save_wav
    from kws.data.labelled_stream import make_stream, write_events
    from kws.data.synth import synthesize_corpus
    from kws.device.pipeline import run_firmware_demo
    from kws.train.trainer import RECIPE_NEGATIVE_MINUTES, RECIPE_PER_WORD, TrainConfig, train

    t0 = time.monotonic()
    run_dir = out / "run"
    print(f"== 1/5 train {','.join(words)} on offline synthetic speech -> {run_dir}")
    if (run_dir / "model.tflite").is_file() and not retrain:
        print(f"   {run_dir / 'model.tflite'} exists: reusing it (--retrain to train again)")
    else:
        kwargs = {"epochs": epochs} if epochs else {}
        if model:
            kwargs["model"] = model
        train(TrainConfig(words=words, out=str(run_dir), seed=seed,
                          negative_minutes=RECIPE_NEGATIVE_MINUTES, per_word=RECIPE_PER_WORD,
                          **kwargs))
    t_train = time.monotonic() - t0

    print("== 2/5 held-out test stream: new synthetic voices (another seed) in noise")
    clips = out / "stream_clips"
    synthesize_corpus(words=words, per_word=16, out_dir=clips, seed=seed + 1000,
                      unknown=16, silence=0, progress=True)
    samples, events = make_stream(source=clips, words=words, minutes=seconds / 60.0,
                                  seed=seed)
    save_wav(out / "stream.wav", samples)
    write_events(out / "stream_events.csv", events)
    print(f"   {out / 'stream.wav'}: {len(samples) / 16000:.0f} s, {len(events)} events "
          f"({out / 'stream_events.csv'})")

    print("== 3-5/5 export to C, build the Cortex-M4 firmware, run it under QEMU, compare "
          "with the Python simulation, report")
    status = run_firmware_demo(run_dir, out / "firmware", stream=(samples, events))
    print(f"== done in {time.monotonic() - t0:.0f} s (training {t_train:.0f} s); "
          f"outputs in {out}")
    return status


def run(args: argparse.Namespace) -> int:
    """Parse the arguments and run the demo."""
    words = [w.strip() for w in args.words.split(",") if w.strip()]
    if not words:
        raise KwsError("--words: name at least one keyword")
    return run_demo(out=Path(args.out), words=words, epochs=args.epochs,
                    seconds=args.seconds, seed=args.seed, retrain=args.retrain,
                    model=args.model)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    p = sub.add_parser("demo", help="the whole pipeline on the built-in default: train, "
                                    "export, firmware under QEMU, report")
    p.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    p.add_argument("--words", default="yes,no", help="keywords (default yes,no)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: "
                                                            "kws train's)")
    p.add_argument("--model", default=None, help="model family (default: kws train's); a "
                   "streamable one (ds-cnn-stream, tcn-stream, tcn-stream-max) runs the "
                   "generated step function on the device, a step per hop")
    p.add_argument("--seconds", type=float, default=60.0, help="test stream length")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--retrain", action="store_true", help="train again even if RUN exists")
    p.set_defaults(func=run)
