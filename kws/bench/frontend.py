"""``kws bench frontend``: speed, accuracy and C-vs-NumPy parity of the fixed-point front end.

(a) Throughput on the same one-second clips (real recordings from ../shared/audio, topped up
    with synthetic ones): our C backend (2 threads) and our NumPy backend against librosa, the
    peer measured in the same run. librosa is configured as close to our settings as it allows:
    ``melspectrogram(n_fft=512, win_length=480, hop_length=320, window="hann"`` (scipy's
    periodic Hann), ``center=False, power=1.0, n_mels=40, fmin=20, fmax=4000, htk=True,
    norm=None)``, then ``np.log(mel + 1e-6)`` and ``feature.mfcc(S=..., n_mfcc=10,
    dct_type=2, norm="ortho")``. Differences that remain: float32, and an orthonormal DCT (ours
    follows tf.signal: coefficient 0 larger by sqrt 2). The ratio printed is librosa's time over
    ours (higher is better for us).
(b) Accuracy per input level (peak at -60, -40, -20, 0 dBFS) on real and synthetic audio: share
    of int8 outputs within +-1 LSB of the float64 reference quantized the same way
    (``reference.quantize_output``), share saturated at -128/127, and the log-mel error before
    quantization in dB (20 log10 of the mel magnitude ratio), mean and max. Extra columns (for
    instance CMSIS-DSP's ``arm_mfcc_q15``) plug in with :func:`register_accuracy_column`.
(c) ``--clips N``: count of clips where the C backend equals NumPy bit for bit.
(d) ``--m4``: Cortex-M4 instructions per hop, per stage, counted exactly under QEMU
    (mps2-an386, ``-singlestep -d exec``: one trace line per executed instruction) for the
    committed default tables, built with arm-none-eabi-gcc -O2 (target: <= 0.8x arm_mfcc_q15, ~50k
    per hop; ``kws bench m4_frontend`` measures both in one run).
"""

from __future__ import annotations

import argparse
import bisect
import collections
import math
import time
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm

from kws.bench import shared_audio_dir
from kws.frontend import compute_features, fixed, reference, signals
from kws.frontend.settings import FrontendSettings

#: Accuracy columns beyond ours: name -> fn(int16 clips (B, T), settings) -> int8 features
#: (B, frames, num_outputs) in our output quantization. Hook for the ``arm_mfcc_q15`` column.
ACCURACY_COLUMNS: dict[str, Callable[[np.ndarray, FrontendSettings], np.ndarray]] = {}

LEVELS_DB = (-60, -40, -20, 0)


def register_accuracy_column(name: str,
                             fn: Callable[[np.ndarray, FrontendSettings], np.ndarray]) -> None:
    """Add an accuracy column (e.g. ``"arm_mfcc_q15"``) computed on the same clips."""
    ACCURACY_COLUMNS[name] = fn


def bench_clips(count: int, settings: FrontendSettings, *, seed: int = 0
                ) -> tuple[np.ndarray, str]:
    """``count`` clips: the shared recordings first (cycled with random gains), else synthetic."""
    rng = np.random.default_rng(seed)
    length = settings.clip_samples
    if shared_audio_dir() is not None:
        real, _ = signals.real_clips(length, root=shared_audio_dir())
        idx = np.arange(count) % real.shape[0]
        gains = np.where(np.arange(count) < real.shape[0], 1.0, 10 ** rng.uniform(-2, 0.3, count))
        clips = signals.to_int16(real[idx].astype(np.float64) * gains[:, None])
        return clips, f"{real.shape[0]} real recordings (../shared/audio), cycled with gains"
    synth, _ = signals.adversarial_clips(length, seed=seed, repeat=math.ceil(count / 47))
    return synth[:count], "synthetic clips (../shared/audio missing)"


def librosa_mfcc(clips: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """librosa MFCCs configured as close to ``settings`` as librosa allows (see module doc)."""
    import librosa

    x = clips.astype(np.float32) / 32768.0
    mel = librosa.feature.melspectrogram(
        y=x, sr=settings.sample_rate, n_fft=settings.fft_size,
        win_length=settings.window_samples, hop_length=settings.hop_samples, window="hann",
        center=False, power=1.0, n_mels=settings.num_mel, fmin=settings.lower_hz,
        fmax=settings.upper_hz, htk=True, norm=None)
    return librosa.feature.mfcc(S=np.log(mel + settings.log_eps), n_mfcc=settings.num_coeffs,
                                dct_type=2, norm="ortho")


def _timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` (wall seconds, CPU seconds of this process, all threads)."""
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        run = (time.perf_counter() - start, time.process_time() - cpu)
        best = min(best, run)
    return best


def throughput(clips: np.ndarray, settings: FrontendSettings, *, repeats: int = 3,
               with_librosa: bool = True) -> dict[str, tuple[float, float]]:
    """Best-of-``repeats`` (wall, CPU) seconds per backend on ``clips``.

    CPU time is reported beside wall time because on a shared machine the wall time of a
    2-thread run depends on what else runs; CPU time is the work done.
    """
    compute_features(clips[:4], settings, backend="c")  # build + load outside the timing
    times = {"c": _timed(lambda: compute_features(clips, settings, backend="c"), repeats),
             "numpy": _timed(lambda: compute_features(clips, settings, backend="numpy"),
                             max(1, repeats - 1))}
    if with_librosa:
        librosa_mfcc(clips[:4], settings)  # imports and caches outside the timing
        times["librosa"] = _timed(lambda: librosa_mfcc(clips, settings), max(1, repeats - 1))
    return times


def accuracy_rows(clips: np.ndarray, settings: FrontendSettings, source: str
                  ) -> list[dict[str, object]]:
    """Accuracy of the fixed-point front end (and extra columns) per input level."""
    rows = []
    for level in LEVELS_DB:
        x = np.stack([signals.scale_to_peak(c, level) for c in clips])
        got = fixed.features_numpy(x, settings).astype(int)
        want = reference.quantize_output(reference.features_float(x, settings), settings)
        want = want.astype(int)
        frames = reference.frame_signal(x, settings).reshape(-1, settings.window_samples)
        l2 = fixed.log2_mel_frames(frames, settings).astype(np.float64) / 65536.0
        ln_ref = reference.log_mel_float(x, settings).reshape(l2.shape)
        mel_ref = np.exp(ln_ref)  # includes eps
        err_db = np.abs(l2 * math.log(2.0) - np.log(mel_ref)) * 20.0 / math.log(10.0)
        row: dict[str, object] = {
            "source": source, "level_db": level,
            "within1": float(np.mean(np.abs(got - want) <= 1)),
            "exact": float(np.mean(got == want)),
            "saturated": float(np.mean((got == 127) | (got == -128))),
            "ref_saturated": float(np.mean((want == 127) | (want == -128))),
            "logmel_err_db_mean": float(np.mean(err_db)),
            "logmel_err_db_max": float(np.max(err_db)),
        }
        for name, fn in ACCURACY_COLUMNS.items():
            other = fn(x, settings).astype(int)
            row[f"{name}_within1"] = float(np.mean(np.abs(other - want) <= 1))
            row[f"{name}_saturated"] = float(np.mean((other == 127) | (other == -128)))
        rows.append(row)
    return rows


def family_name(kind: str) -> str:
    """The family of an :func:`signals.adversarial_clips` label (the noise levels as one)."""
    return "noise" if kind.startswith("noise") else kind


def family_shares(clips: np.ndarray, kinds: Sequence[str], settings: FrontendSettings
                  ) -> dict[str, dict[str, dict[int, float]]]:
    """Share of int8 outputs within +-1 LSB of the reference per synthetic family and level.

    Returns ``{column: {family: {level_db: share}}}`` for ``"kws"`` and every registered
    accuracy column (the clips are scaled to each peak level as in :func:`accuracy_rows`).
    """
    families = [family_name(k) for k in kinds]
    names = sorted(set(families))
    out: dict[str, dict[str, dict[int, float]]] = {}
    for level in LEVELS_DB:
        x = np.stack([signals.scale_to_peak(c, level) for c in clips])
        want = reference.quantize_output(reference.features_float(x, settings), settings)
        cols = {"kws": fixed.features_numpy(x, settings)}
        cols.update({n: fn(x, settings) for n, fn in ACCURACY_COLUMNS.items()})
        for col, got in cols.items():
            ok = np.abs(got.astype(int) - want.astype(int)) <= 1
            for fam in names:
                idx = [i for i, f in enumerate(families) if f == fam]
                out.setdefault(col, {}).setdefault(fam, {})[level] = float(np.mean(ok[idx]))
    return out


def arm_mfcc_q15_column(clips: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """CMSIS-DSP ``arm_mfcc_q15`` (host build of kws/bench/cmsis_mfcc.py, configured like our
    settings) on the same frames, its q8.7 MFCCs mapped to our int8 output quantization."""
    from kws.bench import cmsis_mfcc
    frames = cmsis_mfcc.frames_from_samples(np.asarray(clips, np.int16), settings)
    flat = frames.reshape(-1, frames.shape[-1])
    q87 = cmsis_mfcc.arm_mfcc_q15_features(flat, settings=settings)
    out = cmsis_mfcc.quantize_like_kws(q87, settings)
    return out.reshape(frames.shape[:-1] + (q87.shape[-1],))


def parity_count(count: int, settings: FrontendSettings, *, chunk: int = 500, seed: int = 1
                 ) -> tuple[int, int]:
    """(clips where C == NumPy bit for bit, clips) over ``count`` mixed real/synthetic clips."""
    rng = np.random.default_rng(seed)
    real = None
    if shared_audio_dir() is not None:
        real = signals.real_clips(settings.clip_samples, root=shared_audio_dir())[0]
    synth = signals.adversarial_clips(settings.clip_samples, seed=seed, repeat=3)[0]
    equal = 0
    for start in tqdm(range(0, count, chunk), desc="parity", unit="chunk"):
        n = min(chunk, count - start)
        pool = synth if real is None or rng.random() < 0.3 else real
        idx = rng.integers(0, pool.shape[0], n)
        gain = 10 ** rng.uniform(-4.5, 1.0, n)  # -90 dB .. +20 dB (clipping)
        mix = pool[idx].astype(np.float64) * gain[:, None]
        mix += rng.standard_normal(mix.shape) * 10 ** rng.uniform(-1, 3, n)[:, None]
        clips = signals.to_int16(mix)
        a = compute_features(clips, settings, backend="c")
        b = compute_features(clips, settings, backend="numpy")
        equal += int(np.sum(np.all(a == b, axis=(1, 2))))
    return equal, count


#: Hops computed by the longer of the two profiled builds (m4_count11 - m4_count1).
M4_PROFILE_FRAMES = 10


def m4_instructions() -> tuple[float, dict[str, float]]:
    """Instructions per hop on the Cortex-M4 (QEMU), in total and per function.

    Runs the harnesses ``m4_count1`` and ``m4_count11`` (``firmware/harness/m4_count.c`` with 1
    and 1 + 10 frames) under QEMU's single-step exec trace (:func:`kws.qemu.trace_pcs`); returns
    ((count difference) / 10, {function: instructions per hop}).
    """
    from kws import qemu

    counts: list[collections.Counter] = []
    for n in (1, 1 + M4_PROFILE_FRAMES):
        elf = qemu.build_firmware(f"m4_count{n}")
        syms = sorted((addr & ~1, name) for name, addr in qemu.elf_symbols(elf).items()
                      if not name.startswith("$"))
        addrs = [a for a, _ in syms]
        per_fn: collections.Counter = collections.Counter()
        for pc, c in qemu.trace_pcs(elf).items():
            per_fn[syms[bisect.bisect_right(addrs, pc) - 1][1]] += c
        counts.append(per_fn)
    frames = M4_PROFILE_FRAMES
    diff = {k: (counts[1][k] - counts[0][k]) / frames for k in counts[1]}
    total = sum(diff.values())
    return total, {k: v for k, v in sorted(diff.items(), key=lambda kv: -kv[1]) if v > 0}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(prog="kws bench frontend", description=__doc__.splitlines()[0])
    parser.add_argument("--throughput-clips", type=int, default=1000,
                        help="clips for the speed comparison (default 1000)")
    parser.add_argument("--accuracy-clips", type=int, default=200,
                        help="real and synthetic clips per level for accuracy (default 200)")
    parser.add_argument("--clips", type=int, default=0,
                        help="clips for the C-vs-NumPy bit-exact count (e.g. 10000; 0 skips)")
    parser.add_argument("--no-librosa", action="store_true", help="skip the librosa peer")
    parser.add_argument("--m4", action="store_true",
                        help="also count Cortex-M4 instructions per hop under QEMU")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (best of)")
    args = parser.parse_args(argv)
    settings = FrontendSettings()
    if "arm_mfcc_q15" not in ACCURACY_COLUMNS:
        try:
            from kws.bench import cmsis_mfcc
            cmsis_mfcc.arm_mfcc_q15_features(np.zeros((1, cmsis_mfcc.FFT_LEN), np.int16),
                                             settings=settings)
            register_accuracy_column("arm_mfcc_q15", arm_mfcc_q15_column)
        except Exception as exc:  # noqa: BLE001 - the peer is optional; say why it is absent
            print(f"  (arm_mfcc_q15 column unavailable: {exc})")

    clips, what = bench_clips(args.throughput_clips, settings)
    print(f"# (a) throughput: {clips.shape[0]} one-second clips ({what}), "
          f"{clips.shape[0] * settings.num_frames} frames, best of {args.repeats}")
    times = throughput(clips, settings, repeats=args.repeats, with_librosa=not args.no_librosa)
    frames = clips.shape[0] * settings.num_frames
    for name, (wall, cpu) in times.items():
        line = (f"  {name:8s} wall {wall:7.3f} s ({wall / frames * 1e6:6.2f} us/frame)  "
                f"cpu {cpu:7.3f} s ({cpu / frames * 1e6:6.2f} us/frame)")
        if "librosa" in times:
            lw, lc = times["librosa"]
            line += f"  librosa/{name}: wall {lw / wall:5.2f}x cpu {lc / cpu:5.2f}x"
        print(line)

    print("# (b) accuracy vs float64 reference (int8 within +-1 LSB, saturated, log-mel dB error)")
    header = (f"  {'source':9s} {'level':>6s} {'within1':>8s} {'exact':>7s} {'sat':>7s} "
              f"{'ref_sat':>7s} {'dB_mean':>8s} {'dB_max':>7s}")
    extra = "".join(f" {n + '_w1':>14s} {n + '_sat':>14s}" for n in ACCURACY_COLUMNS)
    print(header + extra)
    repeat = math.ceil(args.accuracy_clips / 47)
    sources = [("synthetic", signals.adversarial_clips(settings.clip_samples, seed=9,
                                                        repeat=repeat)[0][:args.accuracy_clips])]
    if shared_audio_dir() is not None:
        sources.insert(0, ("real", signals.real_clips(settings.clip_samples,
                                                      root=shared_audio_dir(),
                                                      limit=args.accuracy_clips)[0]))
    for source, data in sources:
        for row in accuracy_rows(data, settings, source):
            line = (f"  {row['source']:9s} {row['level_db']:6d} {row['within1']:8.4f} "
                    f"{row['exact']:7.4f} {row['saturated']:7.4f} {row['ref_saturated']:7.4f} "
                    f"{row['logmel_err_db_mean']:8.4f} {row['logmel_err_db_max']:7.3f}")
            line += "".join(f" {row[n + '_within1']:14.4f} {row[n + '_saturated']:14.4f}"
                            for n in ACCURACY_COLUMNS)
            print(line)
    synth, kinds = signals.adversarial_clips(settings.clip_samples, seed=9,
                                             repeat=math.ceil(args.accuracy_clips / 47))
    shares = family_shares(synth[:args.accuracy_clips], kinds[:args.accuracy_clips], settings)
    print("  synthetic per family, within +-1 LSB at " + " / ".join(map(str, LEVELS_DB))
          + " dBFS" + "".join(f"   [{n}]" for n in ACCURACY_COLUMNS))
    for fam in shares["kws"]:
        line = f"    {fam:15s} " + " ".join(f"{shares['kws'][fam][lv]:6.3f}" for lv in LEVELS_DB)
        for n in ACCURACY_COLUMNS:
            line += "   [" + " ".join(f"{shares[n][fam][lv]:5.3f}" for lv in LEVELS_DB) + "]"
        print(line)
    weak = sorted(f"{fam} {lv} dBFS {v:.3f}" for fam, row in shares["kws"].items()
                  for lv, v in row.items() if v < 0.99)
    print("  synthetic families below 99% within 1 LSB: " + (", ".join(weak) if weak else "none"))
    if "arm_mfcc_q15" in ACCURACY_COLUMNS:
        print("  arm_mfcc_q15: no log-mel dB column: it returns only the DCT'd MFCCs (10 of 40), "
              "its log-mel is not recoverable from them")
    if not ACCURACY_COLUMNS:
        print("  (arm_mfcc_q15 column: not registered; see register_accuracy_column)")

    if args.m4:
        total, per_fn = m4_instructions()
        print(f"# (d) Cortex-M4 (QEMU mps2-an386, arm-none-eabi-gcc -O2): {total:.0f} "
              f"instructions per {settings.hop_samples}-sample hop "
              "(target <= 0.8x arm_mfcc_q15, ~50k)")
        for name, count in per_fn.items():
            print(f"  {name:32s} {count:8.0f}")

    if args.clips:
        equal, total = parity_count(args.clips, settings)
        print(f"# (c) C == NumPy bit for bit on {equal} / {total} clips")
        if equal != total:
            return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
