"""Headless coaching: a video file / image folder / camera through the capture pipeline into :class:`CoachEngine`
(the same state machine the GUI runs), or a file of known poses through the engine alone."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core_models.coach.engine import CoachEngine, CoachState, Strictness
from core_models.coach.report import SessionReport
from core_models.coach.targets import CoachError, Routine
from core_models.pose import Pose

log = logging.getLogger(__name__)


def _counting_detector(model: str, mode: str, max_people: int = 2):
    """A MediaPipe detector that looks for up to ``max_people`` people and remembers how many it found last."""
    from core_models.capture.landmarks import LandmarkDetector

    class CountingDetector(LandmarkDetector):
        last_count = 0

        def detect(self, image, timestamp=None):
            people = self.detect_all(image, timestamp)
            self.last_count = len(people)
            return people[0] if people else None

    return CountingDetector(model, mode=mode, num_poses=max_people)


@dataclass
class CoachRun:
    """What :func:`run_coach_detailed` returns: the report, every state, and per-frame timings (ms)."""
    report: SessionReport
    states: list[CoachState] = field(default_factory=list)
    capture_ms: list[float] = field(default_factory=list)
    engine_ms: list[float] = field(default_factory=list)
    regressor: str = ""
    fallback_reason: str | None = None
    #: why the targets were compared with their ideal landmarks (``CoachEngine.template_notice``), if they were
    template_notices: list[str] = field(default_factory=list)


def _open(source):
    from core_models.capture.sources import FrameSource, open_source

    if isinstance(source, FrameSource):
        return source
    p = Path(str(source))
    if not str(source).strip().isdigit() and not p.exists():
        raise CoachError(f"no such video file or image folder: {p}")
    return open_source(source)


def run_coach_detailed(source, routine: Routine, *, regressor="auto", model: str = "lite",
                       strictness: Strictness | str = Strictness.STANDARD, corrector: str = "auto",
                       mirror: bool = False, progress: Callable[[int, int], None] | None = None,
                       cancel: Callable[[], bool] | None = None, max_frames: int | None = None,
                       on_state: Callable[[CoachState], None] | None = None, keep_states: bool = True,
                       measure: str = "landmarks", depth_weight: float | None = None,
                       max_people: int = 2, templates: str = "captured",
                       template_blend: float | None = None, smooth: bool = True) -> CoachRun:
    """Capture + engine over ``source`` (a path, a camera index or a FrameSource). ``progress(i, n)`` after each
    frame (n = 0 when unknown), ``cancel()`` → stop early (the report so far is kept). ``max_people=2`` lets
    MediaPipe look for a second person (SEVERAL_PEOPLE); 1 is cheaper. ``smooth=False``: no One-Euro filter on
    the landmarks (measuring its lag)."""
    from core_models.capture.pipeline import CapturePipeline, run_source

    engine = CoachEngine(routine, strictness=strictness, corrector=corrector, mirror=mirror, measure=measure,
                         learned_async=False, templates=templates, template_variant=model)
    if depth_weight is not None:
        engine.depth_weight = float(depth_weight)
    if template_blend is not None:
        engine.template_blend = float(template_blend)
    src = _open(source)
    if not src.open():
        raise CoachError(f"cannot open {source}: {src.status}")
    total = int(getattr(src, "frame_count", 0) or 0)
    try:
        pipe = CapturePipeline(model, regressor=regressor, detector=_counting_detector(model, "video", max_people),
                               smooth=smooth)
    except Exception:
        src.close()
        raise
    run = CoachRun(engine.report, regressor=getattr(pipe.regressor, "name", type(pipe.regressor).__name__),
                   fallback_reason=pipe.fallback_reason)
    try:
        for i, r in enumerate(run_source(pipe, src, max_frames=max_frames, should_stop=cancel)):
            t0 = time.perf_counter()
            n = int(getattr(pipe.detector, "last_count", 1)) if r.raw_landmarks is not None else 0
            st = engine.update(r.timestamp, r.pose, r.landmarks, n_people=n, confidence=r.confidence)
            run.engine_ms.append((time.perf_counter() - t0) * 1000)
            _note_templates(engine, run)
            run.capture_ms.append(float(r.timings_ms.get("total", 0.0)))
            if keep_states:
                run.states.append(st)
            if on_state is not None:
                on_state(st)
            if progress is not None:
                progress(i + 1, total)
    finally:
        pipe.close()
        src.close()
    return run


def _note_templates(engine: CoachEngine, run: CoachRun) -> None:
    """Keep (and log once, as a warning the headless command shows) each target's template notice."""
    n = engine.template_notice
    if n and (not run.template_notices or run.template_notices[-1] != n):
        run.template_notices.append(n)
        log.warning("coach: %s", n)


def run_coach(source, routine: Routine, *, regressor="auto", model: str = "lite",
              strictness: Strictness | str = Strictness.STANDARD, progress=None, cancel=None,
              corrector: str = "auto", mirror: bool = False, measure: str = "landmarks") -> SessionReport:
    """Headless coaching over a video / image folder (see :func:`run_coach_detailed`); returns the report."""
    return run_coach_detailed(source, routine, regressor=regressor, model=model, strictness=strictness,
                              progress=progress, cancel=cancel, corrector=corrector, mirror=mirror,
                              keep_states=False, measure=measure).report


def run_poses(poses: Pose, times: np.ndarray, routine: Routine, *, strictness: Strictness | str = "standard",
              corrector: str = "rules", mirror: bool = False, landmarks: list | None = None) -> CoachRun:
    """The engine alone over known poses (batched ``poses``, one time per frame): coaching without capture."""
    engine = CoachEngine(routine, strictness=strictness, corrector=corrector, mirror=mirror, learned_async=False)
    run = CoachRun(engine.report, regressor="true pose")
    for i in range(len(times)):
        t0 = time.perf_counter()
        p = Pose(poses.root_orient[i], poses.body_pose[i], poses.transl[i])
        st = engine.update(float(times[i]), p, None if landmarks is None else landmarks[i])
        run.engine_ms.append((time.perf_counter() - t0) * 1000)
        run.states.append(st)
    return run
