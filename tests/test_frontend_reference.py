"""The float64 reference against tf.signal, and the fixed-point front end against the reference."""

from __future__ import annotations

import numpy as np
import pytest

from kws.frontend import fixed, reference, signals
from kws.frontend.settings import FrontendSettings

DEFAULT = FrontendSettings()


def _clips(real_audio, count: int) -> np.ndarray:
    return signals.real_clips(DEFAULT.clip_samples, limit=count, root=real_audio)[0]


def _tf_features(samples: np.ndarray, s: FrontendSettings) -> tuple[np.ndarray, np.ndarray]:
    """log-mel and MFCC with tf.signal: stft (periodic Hann), mel matrix, log, DCT."""
    tf = pytest.importorskip("tensorflow")
    x = tf.constant(samples.astype(np.float64) / 32768.0)
    stft = tf.signal.stft(x, frame_length=s.window_samples, frame_step=s.hop_samples,
                          fft_length=s.fft_size,
                          window_fn=lambda n, dtype: tf.signal.hann_window(n, periodic=True,
                                                                            dtype=dtype))
    mag = tf.abs(stft)
    mel_w = tf.signal.linear_to_mel_weight_matrix(s.num_mel, s.num_bins, s.sample_rate,
                                                  s.lower_hz, s.upper_hz, dtype=tf.float64)
    log_mel = tf.math.log(tf.tensordot(mag, mel_w, 1) + s.log_eps)
    mfcc = tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :s.num_coeffs]
    return log_mel.numpy(), mfcc.numpy()


def test_reference_matches_tf_signal(real_audio):
    """float64 reference == tf.signal in float64 on real clips (measured: 2.5e-14 max)."""
    clips = _clips(real_audio, 40)
    tf_log_mel, tf_mfcc = _tf_features(clips, DEFAULT)
    ours_log_mel = reference.log_mel_float(clips, DEFAULT)
    ours_mfcc = reference.features_float(clips, DEFAULT)
    assert ours_log_mel.shape == tf_log_mel.shape and ours_mfcc.shape == tf_mfcc.shape
    assert np.max(np.abs(ours_log_mel - tf_log_mel)) < 1e-9
    assert np.max(np.abs(ours_mfcc - tf_mfcc)) < 1e-9


@pytest.mark.parametrize("level_db", [0, -20, -40, -60])
def test_fixed_within_one_lsb_on_real_speech(real_audio, level_db):
    """>= 99% of the int8 outputs within +-1 LSB of the float reference quantized the same way."""
    clips = _clips(real_audio, 120)
    x = np.stack([signals.scale_to_peak(c, level_db) for c in clips])
    got = fixed.features_numpy(x, DEFAULT).astype(int)
    want = reference.quantize_output(reference.features_float(x, DEFAULT), DEFAULT).astype(int)
    share = np.mean(np.abs(got - want) <= 1)
    assert share >= 0.99, f"{share:.4f} within 1 LSB at {level_db} dBFS"


@pytest.mark.parametrize("level_db", [0, -20, -40, -60])
def test_fixed_within_one_lsb_on_noise(level_db):
    rng = np.random.default_rng(level_db + 100)
    x = np.stack([signals.noise_at(level_db - 10, DEFAULT.clip_samples, rng) for _ in range(20)])
    got = fixed.features_numpy(x, DEFAULT).astype(int)
    want = reference.quantize_output(reference.features_float(x, DEFAULT), DEFAULT).astype(int)
    assert np.mean(np.abs(got - want) <= 1) >= 0.99


@pytest.mark.parametrize("level_db", [0, -20, -40, -60])
def test_fixed_within_one_lsb_on_every_synthetic_family(level_db):
    """Issue A: >= 99 % within +-1 LSB on the adversarial set at every level, and >= 90 % on each
    family (DC, constant full scale, square at Nyquist, 0 dBFS sweeps put > 100 dB between the
    peak bin and the far bands; with the former Q15 window and twiddles these families reached
    only 40-77 %, the whole set 91-98 %)."""
    clips, kinds = signals.adversarial_clips(DEFAULT.clip_samples, seed=level_db + 200)
    x = np.stack([signals.scale_to_peak(c, level_db) for c in clips])
    got = fixed.features_numpy(x, DEFAULT).astype(int)
    want = reference.quantize_output(reference.features_float(x, DEFAULT), DEFAULT).astype(int)
    ok = np.abs(got - want) <= 1
    assert np.mean(ok) >= 0.99, f"{np.mean(ok):.4f} within 1 LSB at {level_db} dBFS"
    per_clip = np.mean(ok, axis=(1, 2))
    weak = {k: round(float(v), 3) for k, v in zip(kinds, per_clip) if v < 0.9}
    assert not weak, f"families below 90 % at {level_db} dBFS: {weak}"
