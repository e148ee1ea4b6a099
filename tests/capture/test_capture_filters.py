"""One-Euro / EMA filters and visibility gating of landmark streams."""
from __future__ import annotations

import numpy as np
import pytest

from core_models.capture.filters import EmaFilter, LandmarkFilter, OneEuroFilter
from core_models.capture.landmarks import LM, Landmarks

FPS = 30.0


def _run(f, xs):
    return np.array([f(np.array([x]), i / FPS)[0] for i, x in enumerate(xs)])


def _lag_frames(truth, out):
    """Delay (frames) that best aligns the filtered signal with the truth."""
    best, arg = np.inf, 0
    for d in range(0, 15):
        e = np.mean((out[30 + d:] - truth[30:len(truth) - d]) ** 2)
        if e < best:
            best, arg = e, d
    return arg


def test_one_euro_removes_jitter_at_rest_and_tracks_motion():
    rng = np.random.default_rng(0)
    n = 240
    still = 0.5 + rng.normal(0, 0.01, n)
    f = OneEuroFilter(min_cutoff=1.0, beta=0.5)
    out = _run(f, still)
    raw_jitter = np.std(np.diff(still))
    assert np.std(np.diff(out[30:])) < 0.25 * raw_jitter
    # a fast ramp (1 unit/s): One-Euro lags less than an EMA with the same smoothing at rest
    t = np.arange(n) / FPS
    truth = np.sin(2 * np.pi * 0.5 * t)
    noisy = truth + rng.normal(0, 0.01, n)
    one = _run(OneEuroFilter(min_cutoff=1.0, beta=0.5), noisy)
    ema = _run(EmaFilter(cutoff=1.0), noisy)
    assert _lag_frames(truth, one) < _lag_frames(truth, ema)
    assert np.sqrt(np.mean((one - truth)[30:] ** 2)) < np.sqrt(np.mean((ema - truth)[30:] ** 2))


def test_one_euro_first_sample_passthrough_mask_and_reset():
    f = OneEuroFilter()
    x0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert np.allclose(f(x0, 0.0), x0)
    x1 = x0 + 1.0
    out = f(x1, 1 / FPS, mask=np.array([[True, True], [False, False]]))
    assert np.allclose(out[1], x0[1])  # masked rows keep their state
    assert np.all(out[0] > x0[0]) and np.all(out[0] < x1[0])
    f(x1, 1 / FPS)  # repeated timestamp: no division by zero
    f.reset()
    assert np.allclose(f(x1 * 5, 3.0), x1 * 5)
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0)


def _lm(world, vis=1.0, t=0.0):
    img = np.full((33, 3), 0.5, np.float32)
    v = np.full(33, vis, np.float32) if np.isscalar(vis) else vis
    return Landmarks(img, world, v, np.ones(33, np.float32), (640, 480), t)


def test_visibility_gating_holds_the_last_trusted_value():
    w0 = np.zeros((33, 3), np.float32)
    w0[LM["left_wrist"]] = (0.5, 0.2, 0.1)
    g = LandmarkFilter(gate=0.5, hold=0.5, smooth=False)
    g(_lm(w0, t=0.0))
    w1 = w0.copy()
    w1[LM["left_wrist"]] = (9.0, 9.0, 9.0)  # a wild guess while occluded
    vis = np.ones(33, np.float32)
    vis[LM["left_wrist"]] = 0.1
    out = g(_lm(w1, vis, t=0.1))
    assert np.allclose(out.world[LM["left_wrist"]], (0.5, 0.2, 0.1))  # held
    out = g(_lm(w1, vis, t=1.0))  # hidden for longer than `hold`: MediaPipe's own guess again
    assert np.allclose(out.world[LM["left_wrist"]], 9.0)
    w2 = w0.copy()
    w2[LM["left_wrist"]] = (0.1, 0.1, 0.1)
    out = g(_lm(w2, t=1.1))
    assert np.allclose(out.world[LM["left_wrist"]], 0.1)


def test_landmark_filter_smooths_jitter():
    rng = np.random.default_rng(1)
    g = LandmarkFilter(min_cutoff=1.0, beta=0.05)
    raw, out = [], []
    for i in range(90):
        w = rng.normal(0, 0.01, (33, 3)).astype(np.float32)
        raw.append(w)
        out.append(g(_lm(w, t=i / FPS)).world)
    raw, out = np.array(raw), np.array(out)
    assert np.std(np.diff(out[20:], axis=0)) < 0.3 * np.std(np.diff(raw[20:], axis=0))
