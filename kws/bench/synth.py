"""``kws bench synth``: TTS speed per engine, against one-process-per-utterance peers.

For each installed engine it times speaking N random requests (the corpus's own parameter
draws) on one core, and compares with the obvious alternative measured in the same run:

- espeak in-process (ctypes) vs the ``espeak-ng`` command line, one process per utterance;
- festival batched (one process, one Scheme script) vs ``text2wave``, one process per utterance;
- flite and piper have no cheaper/dearer twin here and are reported alone.

Then it times the whole corpus pipeline (speak + resample + trim + place + write WAV) with
``--jobs`` workers. The issue's reference figures, measured earlier on this machine type:
espeak-ng in-process ~1,000 utterances/s, flite and festival in batch ~100/s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

from kws.data import synth, tts


def _time(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def _requests(engine: str, n: int, seed: int) -> list[tts.Request]:
    specs = synth.plan_corpus(words=["yes", "no"], per_word=n, unknown=0, silence=0,
                              engines=[engine], seed=seed)
    return [s.request for s in specs[:n]]


def _espeak_cli(reqs: Sequence[tts.Request]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, r in enumerate(reqs):
            subprocess.run(["espeak-ng", "-v", r.voice, "-s", str(int(175 * r.speed)),
                            "-p", str(int(min(99, 50 * r.pitch))), "-w", f"{tmp}/{i}.wav",
                            r.text], check=True, capture_output=True)


def _text2wave(reqs: Sequence[tts.Request]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, r in enumerate(reqs):
            subprocess.run(["text2wave", "-o", f"{tmp}/{i}.wav", "-eval", f"(voice_{r.voice})"],
                           input=r.text.encode(), check=True, capture_output=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print a table."""
    ap = argparse.ArgumentParser(prog="kws bench synth", description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200, help="utterances per engine (200)")
    ap.add_argument("--corpus", type=int, default=300, help="clips per word in the pipeline run")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    engines = tts.available_engines()
    print(f"engines: {', '.join(engines)}")
    print(f"{'engine':10s} {'utt/s':>9s}  peer (same run)                     {'utt/s':>9s}  ratio")
    for engine in engines:
        n = args.n if engine in ("espeak", "festival") else max(20, args.n // 4)
        reqs = _requests(engine, n, args.seed)
        tts.speak(engine, reqs[:2])  # warm up: library load, model load
        rate = _time(lambda: tts.speak(engine, reqs), n)
        peer, peer_rate = "", None
        if engine == "espeak" and shutil.which("espeak-ng"):
            m = max(10, n // 10)
            peer, peer_rate = "espeak-ng CLI, process/utterance", _time(
                lambda: _espeak_cli(reqs[:m]), m)
        elif engine == "festival" and shutil.which("text2wave"):
            m = max(5, n // 20)
            peer, peer_rate = "text2wave, process/utterance", _time(
                lambda: _text2wave(reqs[:m]), m)
        ratio = f"{rate / peer_rate:6.1f}x" if peer_rate else ""
        peer_txt = f"{peer:34s} {peer_rate:9.1f}" if peer_rate else " " * 44
        print(f"{engine:10s} {rate:9.1f}  {peer_txt}  {ratio}")

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = synth.synthesize_corpus(words=["yes", "no"], per_word=args.corpus,
                                         out_dir=Path(tmp) / "c", seed=args.seed,
                                         jobs=args.jobs, progress=False)
        wall = time.perf_counter() - t0
    total = len(report.entries)
    engines = ", ".join(f"{e} {c}" for e, c in sorted(report.counts.items()))
    print(f"\npipeline: {total} clips ({engines}) "
          f"in {wall:.1f} s with {args.jobs} jobs = {total / wall:.1f} clips/s")
    for engine, rate in sorted(report.rates().items()):
        print(f"  {engine:9s} {rate:8.1f} clips/s per worker (speak + resample + trim + write, "
              "incl. worker start)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
