"""Target landmark templates through the same capture path as the live side (issue 15).

MediaPipe's 3D world landmarks are biased by 20–45° exactly where the poses matter (overhead arms come out tilted
forward, deep knee bends flattened, a straight standing leg next to a bent one reads bent). Comparing them with the
*ideal* landmarks of the target (:func:`compare.target_landmarks`) makes the coach name capture bias. A template
is the target rendered on the body model (offscreen renderer, a camera 2.5 m in front at pelvis height, like the
live camera) from a few azimuths (:data:`VIEWS_DEG`), run through the real MediaPipe landmarker (IMAGE mode, the
live session's variant); its world landmarks, hip line turned onto +x (the canonical heading), are the target's
landmarks for that view. At run time the engine compares against the view whose measured hip-line angle is
nearest the live one (:meth:`TargetTemplates.nearest`).

Templates are cached in :data:`CACHE_DIR` (``<pose hash>_<variant>.npz``). When rendering or MediaPipe is not
available, :func:`get_templates` returns the ideal landmarks with ``source="ideal"`` and a ``notice`` saying why.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core_models.pose import Pose

#: camera azimuths (degrees, 0 = in front of the body) the target is rendered from
VIEWS_DEG = (0.0, 30.0, -30.0, 60.0, -60.0, 90.0, -90.0)
CACHE_DIR = Path.home() / ".cache" / "posetailor" / "coach_templates"
#: bump when the rendering set-up changes (old cache files are then ignored)
VERSION = 1
_SIZE = (320, 240)


@dataclass
class TargetTemplates:
    """Per-view target landmarks: ``world`` (V, 33, 3) hip line on +x, ``hip_angle`` (V,) the hip line's angle
    (radians, about +y) as MediaPipe measured it in that view. ``source``: "captured" or "ideal"."""
    world: np.ndarray
    hip_angle: np.ndarray
    views_deg: np.ndarray
    source: str
    notice: str | None = None

    def nearest(self, live_world: np.ndarray | None) -> np.ndarray:
        """The template (33, 3) whose view is nearest the live hip-line angle (the first one without a live side)."""
        if live_world is None or len(self.world) == 1:
            return self.world[0]
        from core_models.coach.compare import _hip_angle

        a = _hip_angle(np.asarray(live_world, np.float64))
        d = np.abs(np.angle(np.exp(1j * (self.hip_angle - a))))
        return self.world[int(np.argmin(d))]


def pose_key(pose: Pose, variant: str) -> str:
    """A stable key of the target (root orientation + body pose, rounded to 1e-4 rad) and the landmarker variant."""
    a = np.concatenate([np.asarray(pose.root_orient, np.float64).reshape(-1),
                        np.asarray(pose.body_pose, np.float64).reshape(-1)])
    h = hashlib.sha1(np.round(a, 4).astype(np.float32).tobytes() + f"|{variant}|v{VERSION}".encode()).hexdigest()
    return f"{h[:16]}_{variant}"


def ideal_templates(pose: Pose, notice: str | None = None) -> TargetTemplates:
    from core_models.coach.compare import target_landmarks

    w = target_landmarks(pose)
    return TargetTemplates(w[None], np.zeros(1), np.zeros(1), "ideal", notice)


def _facing_camera(pose: Pose) -> Pose:
    from core_models.coach.compare import heading_np, turn

    p = Pose(pose.root_orient, pose.body_pose)
    return turn(p, -heading_np(p.root_orient))


def _camera(body, pose: Pose, azimuth: float):
    from core_models.render.camera import OrbitCamera

    v = body.forward(pose).vertices
    floor = float(v[:, 1].min())
    cam = OrbitCamera(target=np.array([0.0, floor + 0.95, 0.0]), distance=2.5, azimuth=azimuth, elevation=0.0,
                      fovy=55.0)
    joints = body.joints(pose)
    while cam.distance < 4.0:
        px = cam.project(joints, _SIZE[0], _SIZE[1])
        if not np.any((px[:, 0] < 4) | (px[:, 0] >= _SIZE[0] - 4) | (px[:, 1] < 4) | (px[:, 1] >= _SIZE[1] - 4)):
            break
        cam.distance = round(cam.distance + 0.1, 3)
    return cam, floor


def build_templates(pose: Pose, variant: str = "lite", views=VIEWS_DEG, renderer=None, detector=None,
                    body=None) -> TargetTemplates:
    """Render ``pose`` (heading removed) from each view and keep MediaPipe's world landmarks (hip line on +x).
    Views where MediaPipe finds nobody are left out; raises RuntimeError when none is found."""
    from core_models.coach.compare import _hip_angle, _ry

    if body is None:
        from core_models.body import load_body

        body = load_body("anny")
    if renderer is None:
        from core_models.render.offscreen import shared_renderer

        renderer = shared_renderer()
    own = detector is None
    if own:
        from core_models.capture.landmarks import LandmarkDetector

        detector = LandmarkDetector(variant, mode="image")
    p = _facing_camera(pose)
    worlds, angles, used = [], [], []
    try:
        for az in views:
            cam, floor = _camera(body, p, float(az))
            img = renderer.render(body, p, size=_SIZE, camera=cam, grid=True, floor_y=floor)
            lm = detector.detect(img)
            if lm is None:
                continue
            w = np.asarray(lm.world, np.float64)
            a = _hip_angle(w)
            worlds.append(w @ _ry(a).T)
            angles.append(a)
            used.append(float(az))
    finally:
        if own:
            detector.close()
    if not worlds:
        raise RuntimeError("MediaPipe found nobody in any rendered view of the target")
    return TargetTemplates(np.array(worlds), np.array(angles), np.array(used), "captured")


def get_templates(pose: Pose, variant: str = "lite", cache_dir: Path | str | None = None,
                  builder=build_templates) -> TargetTemplates:
    """Cached :func:`build_templates`; the ideal landmarks (with a notice) when rendering or MediaPipe fails."""
    d = Path(cache_dir) if cache_dir is not None else CACHE_DIR
    f = d / f"{pose_key(pose, variant)}.npz"
    if f.exists():
        try:
            z = np.load(f, allow_pickle=False)
            return TargetTemplates(z["world"], z["hip_angle"], z["views_deg"], "captured")
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is rebuilt
    try:
        t = builder(pose, variant)
    except Exception as e:  # noqa: BLE001 - no renderer / no MediaPipe: the ideal landmarks still coach
        return ideal_templates(pose, f"captured target templates unavailable ({type(e).__name__}: {e}); "
                                     "comparing with the ideal target landmarks")
    try:
        d.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, world=t.world, hip_angle=t.hip_angle, views_deg=t.views_deg)
        tmp.replace(f)
    except OSError:
        pass  # an unwritable cache only costs the rebuild next time
    return t
