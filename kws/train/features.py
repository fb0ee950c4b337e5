"""Training features from the bit-exact front end, cached on disk.

Features are computed by the same fixed-point front end as the device (:func:`compute_features`
is the one line that picks its backend). Every example's features are cached in
``<cache>/<key[:2]>/<key>.npy``, keyed by a SHA-256 of the audio file's bytes, the front-end
settings and arithmetic (:func:`kws.frontend.tables.arithmetic_digest`: the integer tables and
the arithmetic version, so features of an older fixed-point arithmetic are never served), the
augmentation config and seed and the number of copies, so a second run (or a
resumed one) computes nothing. Random per-epoch augmentation would never hit such a cache, so a
training clip gets ``copies`` pre-generated, seeded augmented versions instead, and the trainer
shows a different copy each epoch. Cache files are written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kws.audio import fit_clip, load_audio
from kws.data.augment import AugmentConfig, NoiseBank, augment_clip, make_silence
from kws.data.manifest import SILENCE
from kws.errors import KwsError
from kws.fileio import save_npy_atomic
from kws.frontend.settings import FrontendSettings
from kws.frontend.tables import arithmetic_digest
from kws.train.data import Example

#: The front-end backend of training features: "c" (the C library, built on first use) or
#: "numpy" (the oracle). Both give the very same integers (the front end's parity tests).
FEATURE_BACKEND = "c"
_fallback_warned = False


def compute_features(samples: np.ndarray, settings: FrontendSettings) -> np.ndarray:
    """int8 features (N, frames, coeffs) of int16 clips (N, T): the bit-exact front end.

    Uses :data:`FEATURE_BACKEND`; if the C library cannot be built here (no compiler or CMake),
    it warns once and uses the NumPy oracle, which computes the same integers, only slower.
    """
    from kws.frontend import compute_features as frontend

    global _fallback_warned
    samples = np.asarray(samples, dtype=np.int16)
    if FEATURE_BACKEND == "c" and not _fallback_warned:
        try:
            return frontend(samples, settings, backend="c")
        except KwsError as exc:
            print(f"kws: warning: C front end unavailable ({exc}); using the NumPy front end",
                  file=sys.stderr)
            _fallback_warned = True
    return frontend(samples, settings, backend="numpy")


@dataclasses.dataclass
class FeatureSet:
    """Features of one split: ``x`` int8 (N, copies, frames, coeffs), ``y`` class indices (N,);
    ``soft``: optional soft targets (N, copies, classes) that replace ``y`` in training
    (:mod:`kws.train.distill`)."""

    x: np.ndarray
    y: np.ndarray
    skipped: list[str]
    soft: np.ndarray | None = None


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
        h.update(b"\0")
    return h.hexdigest()


def split_features(examples: list[Example], classes: list[str], *, settings: FrontendSettings,
                   cache_dir: Path, copies: int, augment: AugmentConfig | None,
                   noise: NoiseBank, seed: int = 0, desc: str = "features",
                   workers: int = 2) -> FeatureSet:
    """Features of the examples of one split, from the cache or computed.

    Parameters
    ----------
    examples : list of Example
        The split's examples (a generated ``_silence_`` has an empty path).
    classes : list of str
        Class names; an example's ``y`` is the index of its label.
    settings : FrontendSettings, keyword-only
        The front end.
    cache_dir : Path, keyword-only
        Cache root.
    copies : int, keyword-only
        Augmented copies per clip (training); 1 with ``augment=None`` for evaluation.
    augment : AugmentConfig or None, keyword-only
        None: the clip as it is (fitted to 1 s); silences still come from ``noise``.
    noise : NoiseBank, keyword-only
        Background noise: the training part for training, the held-out part for evaluation.
    seed : int, keyword-only
        Augmentation seed.
    workers : int, keyword-only
        Processes computing missing features (results do not depend on it).

    Returns
    -------
    FeatureSet
        Missing or corrupt files are skipped and listed in ``skipped`` (with a warning).
    """
    aug_json = augment.to_json() if augment is not None else "none"
    setup = _digest(settings.to_json(), arithmetic_digest(settings), aug_json, str(seed),
                    str(copies), *noise.names)
    jobs: list[tuple[int, Example, int]] = []
    sil_index = 0
    for i, ex in enumerate(examples):
        jobs.append((i, ex, -1 if ex.path else sil_index))
        sil_index += 0 if ex.path else 1
    xs: list[np.ndarray | None] = [None] * len(examples)
    skipped: list[str] = []
    chunks = [jobs[k:k + 64] for k in range(0, len(jobs), 64)]
    common = (setup, settings, Path(cache_dir), copies, augment)
    bar = tqdm(total=len(jobs), desc=desc, unit="clip", leave=False,
               disable=not sys.stderr.isatty())
    if workers > 1 and len(chunks) > 2:
        import concurrent.futures
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=ctx, initializer=_init_worker,
                initargs=(noise,)) as pool:
            futs = [pool.submit(_compute_chunk, chunk, common) for chunk in chunks]
            for fut in concurrent.futures.as_completed(futs):
                done, bad = fut.result()
                for i, f in done.items():
                    xs[i] = f
                skipped += bad
                bar.update(len(done) + len(bad))
    else:
        _init_worker(noise)
        for chunk in chunks:
            done, bad = _compute_chunk(chunk, common)
            for i, f in done.items():
                xs[i] = f
            skipped += bad
            bar.update(len(chunk))
    bar.close()
    if skipped:
        skipped.sort()
        shown = ", ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else "")
        print(f"kws: warning: skipped {len(skipped)} missing or corrupt audio file(s): {shown}",
              file=sys.stderr)
    keep = [i for i, x in enumerate(xs) if x is not None]
    index = {c: k for k, c in enumerate(classes)}
    frames = (settings.num_frames, settings.num_outputs)
    x = np.stack([xs[i] for i in keep]) if keep else np.zeros((0, copies) + frames, np.int8)
    y = np.array([index[examples[i].label] for i in keep], dtype=np.int64)
    return FeatureSet(x=x, y=y, skipped=skipped)


_NOISE: NoiseBank | None = None


def _init_worker(noise: NoiseBank) -> None:
    global _NOISE
    _NOISE = noise


def _compute_chunk(chunk: list[tuple[int, Example, int]],
                   common: tuple[str, FrontendSettings, Path, int, AugmentConfig | None]
                   ) -> tuple[dict[int, np.ndarray], list[str]]:
    """Features of a chunk of examples (cached, or computed and cached); runs in a worker."""
    setup, settings, cache_dir, copies, augment = common
    noise = _NOISE
    assert noise is not None
    n = settings.clip_samples
    done: dict[int, np.ndarray] = {}
    skipped: list[str] = []
    pending: list[tuple[int, Path, np.ndarray]] = []
    for i, ex, sil in chunk:
        if ex.path:
            try:
                content = Path(ex.path).read_bytes()
            except OSError:
                skipped.append(ex.path)
                continue
            key = _digest(setup, content)
        else:
            key = _digest(setup, SILENCE, str(sil))
        path = cache_dir / key[:2] / f"{key}.npy"
        if path.is_file():
            try:
                done[i] = np.load(path)
                continue
            except (OSError, ValueError):
                pass
        rng = np.random.default_rng(int(key[:16], 16))
        if ex.path:
            try:
                samples = load_audio(ex.path)
            except KwsError:
                skipped.append(ex.path)
                continue
            if augment is None:
                audio = np.repeat(fit_clip(samples, n)[None], copies, axis=0)
            else:
                audio = np.stack([augment_clip(samples, rng=rng, noise=noise, config=augment,
                                               num_samples=n) for _ in range(copies)])
        else:
            cfg = augment or AugmentConfig()
            audio = np.stack([make_silence(rng=rng, noise=noise, config=cfg, num_samples=n)
                              for _ in range(copies)])
        pending.append((i, path, audio))
    if pending:
        audio = np.stack([a for _, _, a in pending])          # (B, copies, T) int16
        feats = compute_features(audio.reshape(-1, n), settings)
        feats = feats.reshape(len(pending), copies, *feats.shape[1:])
        for (i, path, _), f in zip(pending, feats):
            save_npy_atomic(path, f)
            done[i] = f
    return done, skipped
