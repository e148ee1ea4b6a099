"""Target landmark templates through the same capture path as the live side (issue 15).

MediaPipe's 3D world landmarks are biased by 20–45° exactly where the poses matter (overhead arms come out tilted
forward, deep knee bends flattened, a straight standing leg next to a bent one reads bent). Comparing them with the
*ideal* landmarks of the target (:func:`compare.target_landmarks`) makes the coach name capture bias. A template
is the target rendered on the body model (offscreen renderer, a camera 2.5 m in front at pelvis height, like the
live camera) from a few azimuths (:data:`VIEWS_DEG`), run through the real MediaPipe landmarker (IMAGE mode, the
live session's variant); its world landmarks, hip line turned onto +x (the canonical heading), are the target's
landmarks for that view. At run time the engine compares against the view whose measured hip-line angle is
nearest the live one (:meth:`TargetTemplates.nearest`).

Where they come from (:func:`get_templates`, in this order): the **shipped** file :data:`SHIPPED` (the 17 library
poses × the lite / full / heavy landmarker, built by ``python tools/build_coach_templates.py``), the user's cache
:data:`CACHE_DIR` (``<pose hash>_<variant>.npz``), or built now — in this process (headless runs) or, where this
process's PyOpenGL serves Qt (the GUI), in a child Python with ``PYOPENGL_PLATFORM=egl``
(:func:`build_templates_in_child`: the pose goes in and the landmarks come back as plain-data ``.npz``, nothing is
unpickled). When rendering or MediaPipe is not available, :func:`get_templates` returns the ideal landmarks with
``source="ideal"`` and a ``notice`` saying why.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core_models.pose import Pose
from core_models.resources import resource_path

#: camera azimuths (degrees, 0 = in front of the body) the target is rendered from
VIEWS_DEG = (0.0, 30.0, -30.0, 60.0, -60.0, 90.0, -90.0)
CACHE_DIR = Path.home() / ".cache" / "posetailor" / "coach_templates"
#: bump when the rendering set-up changes (old cache files are then ignored)
VERSION = 1
_SIZE = (320, 240)
VARIANTS = ("lite", "full", "heavy")
#: prebuilt templates of the library poses (``python tools/build_coach_templates.py`` writes it)
SHIPPED = resource_path("coach_templates", f"library_templates_v{VERSION}.npz")
FORMAT = "posetailor-coach-templates"
#: (views done, views in all) while templates are being built
Progress = Callable[[int, int], None]


@dataclass
class TargetTemplates:
    """Per-view target landmarks: ``world`` (V, 33, 3) hip line on +x, ``hip_angle`` (V,) the hip line's angle
    (radians, about +y) as MediaPipe measured it in that view. ``source``: "captured" or "ideal"."""
    world: np.ndarray
    hip_angle: np.ndarray
    views_deg: np.ndarray
    source: str
    notice: str | None = None
    #: where captured templates came from: "shipped", "cache" or "built" ("" for the ideal landmarks)
    origin: str = ""

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


def render_views(pose: Pose, views=VIEWS_DEG, renderer=None, body=None) -> list[tuple[float, np.ndarray]]:
    """``pose`` (heading removed) rendered from each azimuth: [(azimuth, RGB image)]."""
    if body is None:
        from core_models.body import load_body

        body = load_body("anny")
    if renderer is None:
        from core_models.render.offscreen import shared_renderer

        renderer = shared_renderer()
    p = _facing_camera(pose)
    out = []
    for az in views:
        cam, floor = _camera(body, p, float(az))
        out.append((float(az), renderer.render(body, p, size=_SIZE, camera=cam, grid=True, floor_y=floor)))
    return out


def detect_views(images: list[tuple[float, np.ndarray]], detector,
                 progress: Progress | None = None) -> TargetTemplates:
    """MediaPipe's world landmarks of each rendered view (hip line on +x). Views where MediaPipe finds nobody are
    left out; RuntimeError when none is found."""
    from core_models.coach.compare import _hip_angle, _ry

    worlds, angles, used = [], [], []
    for i, (az, img) in enumerate(images):
        lm = detector.detect(img)
        if progress is not None:
            progress(i + 1, len(images))
        if lm is None:
            continue
        w = np.asarray(lm.world, np.float64)
        a = _hip_angle(w)
        worlds.append(w @ _ry(a).T)
        angles.append(a)
        used.append(az)
    if not worlds:
        raise RuntimeError("MediaPipe found nobody in any rendered view of the target")
    return TargetTemplates(np.array(worlds), np.array(angles), np.array(used), "captured", origin="built")


def build_templates(pose: Pose, variant: str = "lite", views=VIEWS_DEG, renderer=None, detector=None,
                    body=None, progress: Progress | None = None) -> TargetTemplates:
    """Render ``pose`` (heading removed) from each view and keep MediaPipe's world landmarks (hip line on +x).
    Views where MediaPipe finds nobody are left out; raises RuntimeError when none is found. In this process:
    it needs a headless GL platform (EGL / OSMesa), i.e. not the GUI's process (:func:`build_templates_in_child`)."""
    own = detector is None
    if own:
        from core_models.capture.landmarks import LandmarkDetector

        detector = LandmarkDetector(variant, mode="image")
    try:
        return detect_views(render_views(pose, views, renderer, body), detector, progress)
    finally:
        if own:
            detector.close()


def get_templates(pose: Pose, variant: str = "lite", cache_dir: Path | str | None = None,
                  builder=build_templates, shipped: Path | str | None = SHIPPED,
                  progress: Progress | None = None) -> TargetTemplates:
    """The shipped templates, else cached :func:`build_templates` (``builder``); the ideal landmarks (with a
    notice) when rendering or MediaPipe fails. ``progress(i, n)`` while building (not called otherwise)."""
    if shipped is not None:
        t = shipped_templates(pose, variant, shipped)
        if t is not None:
            return t
    d = Path(cache_dir) if cache_dir is not None else CACHE_DIR
    f = d / f"{pose_key(pose, variant)}.npz"
    if f.exists():
        try:
            z = np.load(f, allow_pickle=False)
            return TargetTemplates(z["world"], z["hip_angle"], z["views_deg"], "captured", origin="cache")
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is rebuilt
    try:
        t = builder(pose, variant, progress=progress) if progress is not None else builder(pose, variant)
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


# ------------------------------------------------------------------------------------------ shipped templates
@lru_cache(maxsize=4)
def _read_shipped(path: str, mtime: float) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """key → (world, hip_angle, views_deg) of a shipped file (None when missing, damaged or another version)."""
    try:
        z = np.load(path, allow_pickle=False)
        if str(z["format"]) != FORMAT or int(z["version"]) != VERSION:
            return None
        off = z["offsets"]
        world, ang, views = z["world"].astype(np.float64), z["hip_angle"], z["views_deg"]
        return {str(k): (world[a:b], ang[a:b], views[a:b]) for k, a, b in zip(z["keys"], off[:-1], off[1:])}
    except (OSError, ValueError, KeyError):
        return None


def shipped_templates(pose: Pose, variant: str, path: Path | str = SHIPPED) -> TargetTemplates | None:
    """The prebuilt templates of ``pose`` (a library pose) for ``variant``, or None when not shipped. A pose whose
    views all failed when the file was built gives the ideal landmarks with the notice (it would fail again)."""
    p = Path(path)
    if not p.is_file():
        return None
    table = _read_shipped(str(p), p.stat().st_mtime)
    hit = None if table is None else table.get(pose_key(pose, variant))
    if hit is None:
        return None
    world, ang, views = hit
    if len(world) == 0:
        return ideal_templates(pose, "captured target templates unavailable: MediaPipe found nobody in any "
                                     "rendered view of this target; comparing with the ideal target landmarks")
    return TargetTemplates(world.copy(), ang.astype(np.float64), views.astype(np.float64), "captured",
                           origin="shipped")


def write_shipped(path: Path | str, entries: list[tuple[str, str, Pose, TargetTemplates | None]]) -> Path:
    """Write ``(pose name, variant, pose, templates or None)`` entries as the shipped file (plain arrays, float32;
    None: MediaPipe found nobody in any view)."""
    keys, names, variants, worlds, angs, views, off = [], [], [], [], [], [], [0]
    for name, variant, pose, t in entries:
        keys.append(pose_key(pose, variant))
        names.append(name)
        variants.append(variant)
        n = 0 if t is None else len(t.world)
        if t is not None:
            worlds.append(np.asarray(t.world, np.float32))
            angs.append(np.asarray(t.hip_angle, np.float32))
            views.append(np.asarray(t.views_deg, np.float32))
        off.append(off[-1] + n)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(p, format=np.str_(FORMAT), version=np.int64(VERSION), keys=np.array(keys),
                        names=np.array(names), variants=np.array(variants), offsets=np.array(off, np.int64),
                        world=np.concatenate(worlds) if worlds else np.zeros((0, 33, 3), np.float32),
                        hip_angle=np.concatenate(angs) if angs else np.zeros(0, np.float32),
                        views_deg=np.concatenate(views) if views else np.zeros(0, np.float32))
    _read_shipped.cache_clear()
    return p


# ------------------------------------------------------------------------------------------ child process
def build_templates_in_child(pose: Pose, variant: str = "lite", progress: Progress | None = None,
                             timeout: float = 600.0) -> TargetTemplates:
    """:func:`build_templates` in a child Python with ``PYOPENGL_PLATFORM=egl`` (for a process whose PyOpenGL
    already serves Qt). The pose goes in and the landmarks come back as plain-data ``.npz`` (``allow_pickle=False``);
    the child reports ``VIEW i n`` lines for ``progress``. RuntimeError with the child's last words on failure."""
    if getattr(sys, "frozen", False):
        raise RuntimeError("no separate Python to render the target in (frozen bundle)")
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYOPENGL_PLATFORM=os.environ.get("POSETAILOR_HEADLESS_GL", "egl"))
    with tempfile.TemporaryDirectory(prefix="coach_tmpl_") as d:
        src, dst = Path(d) / "pose.npz", Path(d) / "templates.npz"
        np.savez(src, root_orient=np.asarray(pose.root_orient, np.float32),
                 body_pose=np.asarray(pose.body_pose, np.float32), variant=np.str_(variant))
        with open(Path(d) / "stderr.txt", "w+") as err:
            proc = subprocess.Popen([sys.executable, "-m", "core_models.coach.templates", str(src), str(dst)],
                                    cwd=str(root), env=env, stdout=subprocess.PIPE, stderr=err, text=True)
            try:
                _read_progress(proc, progress)
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"the template process took longer than {timeout:.0f} s") from None
            err.seek(0)
            tail = err.read().strip()[-300:]
        if rc != 0 or not dst.is_file():
            raise RuntimeError(f"the template process failed (exit {rc}): {tail}")
        z = np.load(dst, allow_pickle=False)
        return TargetTemplates(z["world"].astype(np.float64), z["hip_angle"].astype(np.float64),
                               z["views_deg"].astype(np.float64), "captured", origin="built")


def _read_progress(proc: subprocess.Popen, progress: Progress | None) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "VIEW" and progress is not None:
            progress(int(parts[1]), int(parts[2]))


def _child_main(argv: list[str]) -> int:
    """``python -m core_models.coach.templates IN.npz OUT.npz``: the child side of :func:`build_templates_in_child`."""
    z = np.load(argv[0], allow_pickle=False)
    pose = Pose(z["root_orient"], z["body_pose"])
    t = build_templates(pose, str(z["variant"]), progress=lambda i, n: print(f"VIEW {i} {n}", flush=True))
    tmp = Path(argv[1]).with_suffix(".tmp.npz")
    np.savez(tmp, world=t.world, hip_angle=t.hip_angle, views_deg=t.views_deg)
    tmp.replace(argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))
