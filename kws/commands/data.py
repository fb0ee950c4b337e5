"""``kws data synth|speech-commands|stream|screen``: build datasets and test streams, screen
negative recordings."""

from __future__ import annotations

import argparse
from pathlib import Path

from kws.errors import KwsError


def _words(text: str | None) -> list[str] | None:
    if text is None:
        return None
    words = [w.strip() for w in text.split(",")]
    if not all(words):
        raise KwsError(f"--words: empty word in {text!r} (give e.g. --words yes,no)")
    return words


def run_synth(args: argparse.Namespace) -> int:
    """``kws data synth``."""
    from kws.data.synth import synthesize_corpus

    engines = None if args.engines is None else [e.strip() for e in args.engines.split(",")]
    report = synthesize_corpus(words=_words(args.words) or [], per_word=args.per_word,
                               out_dir=args.dir, unknown=args.unknown, silence=args.silence,
                               engines=engines, seed=args.seed, jobs=args.jobs,
                               validation_fraction=args.validation_fraction,
                               progress=not args.quiet)
    print(f"{report.out_dir}: {len(report.entries)} clips ({report.made} made, "
          f"{report.reused} kept from an earlier run)")
    for engine, rate in sorted(report.rates().items()):
        print(f"  {engine:9s} {report.counts[engine]:6d} clips  {rate:8.1f} clips/s per worker "
              "(speak + resample + trim + write)")
    return 0


def run_speech_commands(args: argparse.Namespace) -> int:
    """``kws data speech-commands``."""
    from kws.data.speech_commands import build_manifest, fetch_speech_commands

    root = fetch_speech_commands(version=args.version, dir=args.dir, url=args.url,
                                 sha256=args.sha256, progress=not args.quiet)
    entries = build_manifest(root, out_dir=args.out, words=_words(args.words),
                             unknown_percentage=args.unknown_percentage,
                             silence_percentage=args.silence_percentage,
                             noise_dir=args.noise_dir, seed=args.seed,
                             min_per_class=args.min_per_class, full_check=args.full_check,
                             unknown_all=_words(args.unknown_all) or (),
                             progress=not args.quiet)
    counts: dict[tuple[str, str], int] = {}
    for e in entries:
        counts[(e.split, e.label)] = counts.get((e.split, e.label), 0) + 1
    out = Path(args.out) if args.out else root
    print(f"{out / 'manifest.csv'}: {len(entries)} clips")
    for split in ("train", "validation", "test"):
        parts = [f"{lab} {n}" for (s, lab), n in sorted(counts.items()) if s == split]
        if parts:
            print(f"  {split:10s} " + ", ".join(parts))
    return 0


def run_stream(args: argparse.Namespace) -> int:
    """``kws data stream``."""
    import tempfile

    from kws.data.augment import NoiseBank
    from kws.data.labelled_stream import make_stream, write_stream

    words = _words(args.words) or []
    noise = (NoiseBank.from_folder(args.noise_dir, part="heldout")
             if args.noise_dir else None)
    if args.source:
        samples, events = make_stream(source=args.source, words=words, minutes=args.minutes,
                                      seed=args.seed, noise=noise, split=args.split)
    else:
        from kws.data.synth import synthesize_corpus

        with tempfile.TemporaryDirectory(prefix="kws-stream-") as tmp:
            synthesize_corpus(words=words, per_word=40, out_dir=tmp, silence=0,
                              seed=args.seed + 1, jobs=1, progress=not args.quiet)
            samples, events = make_stream(source=tmp, words=words, minutes=args.minutes,
                                          seed=args.seed, noise=noise)
    write_stream(out=args.out, events_path=args.events, samples=samples, events=events)
    print(f"{args.out}: {len(samples) / 16000 / 60:.1f} min, {len(events)} keyword events "
          f"in {args.events}")
    return 0


def run_screen(args: argparse.Namespace) -> int:
    """``kws data screen``: keep the recordings where no keyword is heard."""
    import os

    from kws.audio import AUDIO_SUFFIXES
    from kws.bench.detection import dialogue_part
    from kws.data.screen import clean
    from kws.train.trainer import default_cache

    root = Path(args.dir)
    if not root.is_dir():
        raise KwsError(f"{root}: not a folder of recordings")
    files = sorted(f for f in root.rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES)
    if args.half != "all":
        files = [f for f in files if dialogue_part(f.name) == args.half]
    if not files:
        raise KwsError(f"{root}: no .wav or .flac recordings ({args.half})")
    words = _words(args.words) or []
    cache = Path(args.cache_dir) if args.cache_dir else default_cache()
    kept, out = clean(files, words, cache_dir=cache / "screen", per_phone=args.per_phone,
                      workers=args.jobs)
    for f in out:
        print(f"left out: {f}")
    if args.out:
        dst = Path(args.out)
        if dst.exists() and any(dst.iterdir()):
            raise KwsError(f"{dst}: exists and is not empty")
        dst.mkdir(parents=True, exist_ok=True)
        for f in kept:
            os.symlink(f.resolve(), dst / f.relative_to(root).as_posix().replace("/", "__"))
    print(f"{root} ({args.half}): {len(kept)} of {len(files)} recordings kept, {len(out)} left "
          f"out (PocketSphinx keyword search for {', '.join(words)}, threshold "
          f"{args.per_phone:g} per phone, then its transcript)"
          + (f"; kept ones linked in {args.out}" if args.out else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``data`` sub-command and its own sub-commands."""
    p = sub.add_parser("data",
                       help="build datasets: synth, speech-commands, stream; screen negatives")
    dsub = p.add_subparsers(dest="data_command", metavar="DATASET")
    dsub.required = True

    s = dsub.add_parser("synth", help="offline synthetic corpus spoken by TTS engines")
    s.add_argument("--words", required=True, help="keywords, comma-separated (yes,no)")
    s.add_argument("--per-word", type=int, default=500, help="clips per keyword (500)")
    s.add_argument("--dir", required=True, help="output dataset folder")
    s.add_argument("--unknown", type=int, default=None,
                   help="_unknown_ clips (default: --per-word)")
    s.add_argument("--silence", type=int, default=None,
                   help="_silence_ clips (default: --per-word / 2)")
    s.add_argument("--engines", default=None,
                   help="comma-separated subset of espeak,flite,festival,piper "
                        "(default: every installed one)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--jobs", type=int, default=2, help="worker processes (2)")
    s.add_argument("--validation-fraction", type=float, default=0.1)
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=run_synth, flags={"out_dir": "--dir"})

    c = dsub.add_parser("speech-commands",
                        help="Speech Commands: download (or use a local copy) and set up classes")
    c.add_argument("--version", type=int, default=2, choices=(1, 2))
    c.add_argument("--dir", required=True,
                   help="dataset folder (a local copy there is used as is)")
    c.add_argument("--out", default=None,
                   help="where manifest.csv and _silence_ clips go (default: --dir)")
    c.add_argument("--words", default=None,
                   help="keywords (default: yes,no,up,down,left,right,on,off,stop,go)")
    c.add_argument("--unknown-percentage", type=float, default=10.0)
    c.add_argument("--silence-percentage", type=float, default=10.0)
    c.add_argument("--unknown-all", default=None, metavar="SPLITS",
                   help="splits (e.g. validation,test) where every other word is _unknown_")
    c.add_argument("--noise-dir", default=None,
                   help="background recordings for _silence_ (default: DIR/_background_noise_)")
    c.add_argument("--min-per-class", type=int, default=5)
    c.add_argument("--full-check", action="store_true",
                   help="decode every file instead of checking headers")
    c.add_argument("--url", default=None, help="archive URL (default: the official one)")
    c.add_argument("--sha256", default=None, help="expected sha256 of --url")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=run_speech_commands,
                   flags={"out_dir": "--out", "unknown_percentage": "--unknown-percentage"})

    t = dsub.add_parser("stream", help="a long test stream with an events CSV")
    t.add_argument("--words", required=True)
    t.add_argument("--minutes", type=float, default=10.0)
    t.add_argument("--out", required=True, help="output WAV")
    t.add_argument("--events", required=True, help="output events CSV (time_ms,label,end_ms)")
    t.add_argument("--source", default=None,
                   help="dataset folder to take clips from (default: a small synthetic one)")
    t.add_argument("--split", default=None, help="use only this split of --source")
    t.add_argument("--noise-dir", default=None,
                   help="background recordings (their held-out last 20 %% is used)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=run_stream)

    from kws.data.screen import THRESHOLD_PER_PHONE

    r = dsub.add_parser("screen", help="leave out the recordings where a keyword is heard "
                        "(offline recognizer), e.g. before --negatives")
    r.add_argument("dir", help="folder of recordings (searched recursively)")
    r.add_argument("--words", required=True, help="keywords, comma-separated (yes,no)")
    r.add_argument("--half", choices=("all", "tuning", "scoring"), default="all",
                   help="only this half of the files (a stable hash of the name; the "
                        "detection benchmark scores the scoring half: give --half tuning "
                        "for training negatives)")
    r.add_argument("--out", default=None,
                   help="new folder of links to the kept recordings (for kws train --negatives)")
    r.add_argument("--per-phone", type=float, default=THRESHOLD_PER_PHONE,
                   help="PocketSphinx keyword-search threshold per phone of the keyword; "
                        "lower leaves out more (default %(default)g)")
    r.add_argument("--cache-dir", default=None, help="cache root (default ~/.cache/kws)")
    r.add_argument("--jobs", type=int, default=2)
    r.set_defaults(func=run_screen)
