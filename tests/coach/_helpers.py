"""Shared helpers of the coach tests: library poses with a known deviation, synthetic landmarks."""
from __future__ import annotations

import numpy as np

from core_models import skeleton as sk
from core_models.capture.landmarks import LM, Landmarks
from core_models.coach import CoachEngine, CoachTarget, Routine, target_from_library
from core_models.pose import Pose, aa_to_matrix_np, matrix_to_aa_np

J = sk.JOINT_INDEX


def rotated(p: Pose, joint: str, axis: int, deg: float) -> Pose:
    """``p`` with ``joint``'s local rotation pre-multiplied by ``deg`` degrees about a parent-frame axis."""
    b = np.array(p.body_pose, np.float64).copy()
    v = np.zeros(3)
    v[axis] = np.radians(deg)
    b[J[joint] - 1] = matrix_to_aa_np(aa_to_matrix_np(v) @ aa_to_matrix_np(b[J[joint] - 1]))
    return Pose(np.array(p.root_orient, np.float32), b.astype(np.float32))


def tree() -> Pose:
    return target_from_library("tree").pose


def engine(target: str = "tree", hold_s: float = 60.0, **kw) -> CoachEngine:
    t = target_from_library(target, hold_s)
    kw.setdefault("corrector", "rules")
    return CoachEngine(Routine(t.name, [t]), **kw)


def routine(*names_holds: tuple[str, float]) -> Routine:
    ts = [target_from_library(n, h) for n, h in names_holds]
    return Routine("test", [CoachTarget(t.name, t.pose, t.hold_s, library=t.library) for t in ts])


def landmarks(hidden: tuple[str, ...] = (), outside: tuple[str, ...] = ()) -> Landmarks:
    """Landmarks with no world coordinates (the engine then compares the poses): every landmark seen except
    ``hidden`` (occluded: visibility 0, inside the picture) and ``outside`` (out of the picture)."""
    vis = np.ones(33, np.float32)
    pres = np.ones(33, np.float32)
    img = np.full((33, 3), 0.5, np.float32)
    for n in hidden:
        vis[LM[n]] = 0.0
    for n in outside:
        vis[LM[n]] = pres[LM[n]] = 0.0
        img[LM[n], :2] = (0.5, 1.2)
    return Landmarks(img, np.zeros((33, 3), np.float32), vis, pres, (320, 240))


def run(e: CoachEngine, segments: list[tuple[float, float, Pose | None]], fps: float = 10.0, **kw):
    """Feed ``(start, end, pose)`` segments at ``fps``; returns the states."""
    out = []
    for a, b, p in segments:
        for t in np.arange(a, b - 1e-9, 1.0 / fps):
            out.append(e.update(round(float(t), 4), p, kw.get("lm"), kw.get("n", 1), kw.get("conf", 1.0)))
    return out
