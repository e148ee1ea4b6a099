"""``eval coach``'s latency measure (core_models/coach/evaluate.py) split into its parts: the frame step after the
jump, the smoothing lag until the score is past half way, and the processing of that frame."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core_models.coach.evaluate import _latency
from core_models.coach.run import CoachRun

GT = {"segments": [{"name": "hold", "start": 3.85, "end": 7.05}, {"name": "break", "start": 7.05, "end": 8.45}]}


def _run(fps: float, lag_frames: int, proc_ms: float = 10.0) -> CoachRun:
    """Score 90 while held, 30 after the break, reached ``lag_frames`` frames after the first frame after it."""
    run = CoachRun(report=None)  # type: ignore[arg-type]
    times = [i / fps for i in range(int(8.4 * fps))]
    first = next(i for i, t in enumerate(times) if t >= 7.05)
    for i, t in enumerate(times):
        run.states.append(SimpleNamespace(t=t, score=90.0 if i < first + lag_frames else 30.0))
        run.capture_ms.append(proc_ms - 1.0)
        run.engine_ms.append(1.0)
    return run


@pytest.mark.parametrize("fps, lag_frames, frame_ms", [(10.0, 0, 50.0), (10.0, 1, 50.0), (30.0, 0, 16.67),
                                                        (30.0, 2, 16.67)])
def test_latency_parts(fps, lag_frames, frame_ms):
    got = _latency(_run(fps, lag_frames), GT)
    assert got is not None
    assert got["frame_ms"] == pytest.approx(frame_ms, abs=0.1)
    assert got["lag_ms"] == pytest.approx(1000.0 * lag_frames / fps, abs=0.1)
    assert got["proc_ms"] == pytest.approx(10.0)
    assert got["total_ms"] == pytest.approx(got["frame_ms"] + got["lag_ms"] + got["proc_ms"])


def test_no_latency_when_the_score_does_not_drop():
    run = _run(10.0, 0)
    for s in run.states:
        s.score = 80.0
    assert _latency(run, GT) is None
