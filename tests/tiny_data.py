"""A tiny dataset in the Speech Commands layout, made of synthetic 'words' (tone sweeps), for
fast training tests: 'yes' sweeps up, 'no' sweeps down, 'up' is a steady tone pair and 'go' a
noise burst (the last two serve as _unknown_)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.audio import save_wav


def word_clip(word: str, rng: np.random.Generator) -> np.ndarray:
    """One 1 s int16 clip of a synthetic word."""
    sr, n = 16000, 16000
    dur = rng.uniform(0.3, 0.6)
    m = int(dur * sr)
    t = np.arange(m) / sr
    f0 = rng.uniform(250, 400)
    if word == "yes":
        phase = 2 * np.pi * (f0 * t + 800 * t * t)
    elif word == "no":
        phase = 2 * np.pi * (4 * f0 * t - 800 * t * t)
    elif word == "up":
        phase = 2 * np.pi * f0 * t
    else:
        phase = None
    x = rng.standard_normal(m) if phase is None else np.sin(phase) + 0.5 * np.sin(3 * phase)
    x *= np.hanning(m) * rng.uniform(0.05, 0.5) / max(np.max(np.abs(x)), 1e-9)
    out = np.zeros(n)
    start = int(rng.integers(0, n - m))
    out[start:start + m] = x
    out += rng.standard_normal(n) * 1e-3
    return np.clip(np.round(out * 32767), -32768, 32767).astype(np.int16)


def make_tiny_speech_commands(root: Path, *, per_word: int = 24, seed: int = 0,
                              words: tuple[str, ...] = ("yes", "no", "up", "go")) -> Path:
    """Write ``root/<word>/<speaker>_nohash_<i>.wav``, list files and background noise."""
    rng = np.random.default_rng(seed)
    val, test = [], []
    for w in words:
        for i in range(per_word):
            speaker = f"{i // 2:04x}{w}"
            rel = f"{w}/{speaker}_nohash_{i % 2}.wav"
            save_wav(root / rel, word_clip(w, rng))
            if i % 6 == 0:
                val.append(rel)
            elif i % 6 == 1:
                test.append(rel)
    (root / "validation_list.txt").write_text("\n".join(val) + "\n")
    (root / "testing_list.txt").write_text("\n".join(test) + "\n")
    noise = (rng.standard_normal(16000 * 4) * 300).astype(np.int16)
    save_wav(root / "_background_noise_" / "white.wav", noise)
    return root
