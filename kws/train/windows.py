"""Training windows as the streaming detector sees them.

The detector runs the model on the newest ``num_frames`` frames every ``model_every_hops`` hops
(:mod:`kws.simulate`). Frames are computed independently of each other, so the features of a
window of a long recording are a slice of the recording's features: :func:`stream_windows`
computes the features once and slides over them (default stride 5 frames = 100 ms).

Partial keywords: the long recordings used here are keyword-free (running speech, babble,
noise, the user's negatives), so no window holds part of a keyword. Keyword examples are whole
clips (the word placed at a random offset in its 1 s), so a window with only part of a keyword
is never a training example, positive or negative: it is *ignored*. Its behaviour is what the
detector's smoothing and the matching rule's guard span (:mod:`kws.scoring`) absorb.

>>> from kws.frontend.settings import FrontendSettings
>>> s = FrontendSettings()
>>> w = stream_windows(np.zeros(3 * 16000, np.int16), s, stride_frames=5)
>>> w.shape[1:], w.dtype
((49, 10), dtype('int8'))
"""

from __future__ import annotations

import numpy as np

from kws.errors import KwsError
from kws.frontend.settings import FrontendSettings


def stream_windows(samples: np.ndarray, settings: FrontendSettings, *, stride_frames: int = 5
                   ) -> np.ndarray:
    """int8 feature windows (W, num_frames, num_outputs) of a long int16 recording, one every
    ``stride_frames`` hops, each equal to the features of the 1 s clip it covers."""
    from kws.frontend import compute_features

    if stride_frames < 1:
        raise KwsError(f"window stride must be >= 1 frame (got {stride_frames})")
    feats = compute_features(np.asarray(samples, np.int16), settings)
    nf = settings.num_frames
    if len(feats) < nf:
        return np.zeros((0, nf, feats.shape[1]), np.int8)
    wins = np.lib.stride_tricks.sliding_window_view(feats, (nf, feats.shape[1]))[:, 0]
    return np.ascontiguousarray(wins[::stride_frames])
