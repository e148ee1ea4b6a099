"""Render coach test clips with ground truth: the body model moving through a library target with one known
deviation, then corrected, held, broken and resumed.

    .venv/bin/python tools/render_coach_clips.py --out ~/.cache/posetailor/coach_clips [--clips 45] [--fps 10]
                                                 [--size 320x240] [--only 0,3]

Each clip ``NNN_<target>_<deviation>.mp4`` has ``.json`` ground truth and ``.poses.npz`` (per frame the true
pose ``poses`` (N,22,3) axis-angle in our y-up frame, ``transl`` (N,3), ``times`` (N,), ``out_of_frame`` (N,22)
bool: joints whose projection falls outside the picture). Timeline (seconds):

    0.0–0.8 break pose → deviated (a slerp)  0.8–3.85 deviated (the first instruction should name it)
    3.85–7.05 the target (hold)              7.05–8.45 break (mountain; T-pose when the target is mountain)
    8.45–end the target again (resume)

The corrections, the break and the resume are jumps half-way between two frames, so the ground-truth hold
intervals are exact: ``hold_intervals`` = [[3.85, 7.05], [8.45, last frame time]]. The JSON
names the deviation as the coach should correct it: part (knee, elbow, arm, torso, head), side (the person's
own: left/right, None for torso/head) and direction (bend, straighten, raise, lower, back, left, right).
Camera 2–3 m in front at pelvis height (a laptop on a table), ±15° around, stepped back (≤ 3 m) until every joint
is in the picture; three body shapes; three backgrounds.
A few clips are framed tight (the feet out of the picture) to test "step back so I can see your feet".
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from core_models import skeleton as sk  # noqa: E402
from core_models.pose import Pose, aa_to_matrix_np, interpolate, matrix_to_aa_np  # noqa: E402

J = sk.JOINT_INDEX
TARGETS = ("mountain", "tree", "warrior_i", "warrior_ii", "chair", "triangle", "lunge", "squat", "t_pose")
BODIES = ({}, {"gender": 0.15, "height": 0.3, "weight": 0.7}, {"gender": 0.85, "height": 0.8, "weight": 0.3})
BACKGROUNDS = ("dark", "light", "green")
SEGMENTS = (("enter", 0.0, 0.8), ("deviated", 0.8, 3.85), ("hold", 3.85, 7.05), ("break", 7.05, 8.45),
            ("resume", 8.45, 10.7))
DEFAULT_DIR = Path.home() / ".cache" / "posetailor" / "coach_clips"


@dataclass
class ClipSpec:
    index: int
    target: str
    deviation: str
    side: str | None
    body: int
    background: str
    distance: float
    azimuth: float
    tight: bool = False


# ------------------------------------------------------------------------------------------ deviations
def _rot(p: Pose, joint: str, axis: int, rad: float) -> Pose:
    """Pre-multiply joint's local rotation by a rotation about a parent-frame axis (world axes at rest)."""
    b = np.array(p.body_pose, np.float64).copy()
    v = np.zeros(3)
    v[axis] = rad
    R = aa_to_matrix_np(v) @ aa_to_matrix_np(b[J[joint] - 1])
    b[J[joint] - 1] = matrix_to_aa_np(R)
    return Pose(np.array(p.root_orient, np.float32), b.astype(np.float32))


def _flex(p: Pose, a: str, b: str, c: str) -> float:
    from core_models.coach.compare import geometry

    g = geometry(p)
    u, v = g.joints[J[b]] - g.joints[J[a]], g.joints[J[c]] - g.joints[J[b]]
    return math.degrees(math.acos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1, 1)))


def _elevation(p: Pose, side: str) -> float:
    from core_models.coach.compare import geometry

    d = geometry(p).dirs[J[f"{side}_shoulder"]]
    return math.degrees(math.asin(np.clip(d[1], -1, 1)))


def _sgn(side: str | None) -> float:
    return 1.0 if side == "left" else -1.0


def deviate(p: Pose, kind: str, side: str | None) -> tuple[Pose, dict] | None:
    """The deviated pose and its label, or None when ``kind`` does not apply to this target."""
    s = side or "left"
    if kind == "knee_straighten" and _flex(p, f"{s}_hip", f"{s}_knee", f"{s}_ankle") > 60:
        amount = min(1.4, math.radians(_flex(p, f"{s}_hip", f"{s}_knee", f"{s}_ankle")) * 0.7)
        return _rot(p, f"{s}_knee", 0, -amount), {"part": "knee", "side": s, "direction": "bend"}
    if kind == "knee_bend" and _flex(p, f"{s}_hip", f"{s}_knee", f"{s}_ankle") < 25:
        return _rot(p, f"{s}_knee", 0, 1.1), {"part": "knee", "side": s, "direction": "straighten"}
    if kind == "arm_drop" and _elevation(p, s) > -20:
        return _rot(p, f"{s}_shoulder", 2, -_sgn(s) * 0.95), {"part": "arm", "side": s, "direction": "raise"}
    if kind == "arm_lift" and _elevation(p, s) < 30:
        return _rot(p, f"{s}_shoulder", 2, _sgn(s) * 0.95), {"part": "arm", "side": s, "direction": "lower"}
    if kind == "elbow_bend" and _flex(p, f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist") < 25:
        return _rot(p, f"{s}_elbow", 1, -_sgn(s) * 1.3), {"part": "elbow", "side": s, "direction": "straighten"}
    if kind == "lean_forward":
        q = p
        for j in ("spine1", "spine2", "spine3"):
            q = _rot(q, j, 0, 0.28)
        return q, {"part": "torso", "side": None, "direction": "back"}
    if kind == "lean_side":
        q = p
        for j in ("spine1", "spine2", "spine3"):
            q = _rot(q, j, 2, -_sgn(s) * 0.25)  # lean towards the person's `side`
        return q, {"part": "torso", "side": None, "direction": "right" if s == "left" else "left"}
    if kind == "head_turn":
        q = _rot(_rot(p, "neck", 1, _sgn(s) * 0.45), "head", 1, _sgn(s) * 0.45)  # turned towards `side`
        return q, {"part": "head", "side": None, "direction": "right" if s == "left" else "left"}
    return None


KINDS = (("knee_straighten", "left"), ("arm_drop", "right"), ("knee_bend", "right"), ("arm_lift", "left"),
         ("lean_forward", None), ("elbow_bend", "left"), ("head_turn", "left"), ("lean_side", "right"),
         ("knee_straighten", "right"), ("arm_drop", "left"), ("arm_lift", "right"), ("elbow_bend", "right"),
         ("head_turn", "right"), ("lean_side", "left"), ("knee_bend", "left"))


def plan(n: int, n_tight: int = 4) -> list[ClipSpec]:
    """``n`` clips: targets in turn, each with the next deviation kind that applies to it."""
    from core_models.coach.targets import target_from_library

    poses = {t: target_from_library(t).pose for t in TARGETS}
    used: dict[str, int] = {t: 0 for t in TARGETS}
    out: list[ClipSpec] = []
    i = 0
    while len(out) < n:
        t = TARGETS[i % len(TARGETS)]
        for k in range(len(KINDS)):
            kind, side = KINDS[(used[t] + k) % len(KINDS)]
            if deviate(poses[t], kind, side) is not None:
                used[t] += k + 1
                break
        else:  # pragma: no cover - every target has some deviation
            i += 1
            continue
        idx = len(out)
        tight = idx >= n - n_tight
        out.append(ClipSpec(idx, t, kind, side, idx % len(BODIES), BACKGROUNDS[(idx // 3) % 3],
                            1.25 if tight else 2.0 + (idx * 0.37) % 1.0, (-15.0, 0.0, 15.0, 0.0)[idx % 4], tight))
        i += 1
    return out


# ------------------------------------------------------------------------------------------ timeline
def timeline(target: Pose, deviated: Pose, fps: float) -> tuple[np.ndarray, list[Pose], list[str]]:
    from core_models.coach.targets import target_from_library

    mountain = target_from_library("mountain").pose
    brk = target_from_library("t_pose").pose if _same(target, mountain) else mountain
    keys = {"enter": (brk, deviated), "deviated": (deviated, deviated), "hold": (target, target),
            "break": (brk, brk), "resume": (target, target)}
    end = SEGMENTS[-1][2]
    times = np.arange(0.0, end - 1e-9, 1.0 / fps)
    poses, labels = [], []
    for t in times:
        name, a, b = next(s for s in SEGMENTS if s[1] <= t < s[2])
        p0, p1 = keys[name]
        poses.append(interpolate(p0, p1, float((t - a) / (b - a))) if p0 is not p1 else p1)
        labels.append(name)
    return times, poses, labels


def _same(a: Pose, b: Pose) -> bool:
    return bool(np.allclose(a.body_pose, b.body_pose) and np.allclose(a.root_orient, b.root_orient))


def hold_intervals(last_t: float) -> list[list[float]]:
    seg = {n: (a, b) for n, a, b in SEGMENTS}
    return [[seg["hold"][0], seg["hold"][1]], [seg["resume"][0], round(last_t, 4)]]


# ------------------------------------------------------------------------------------------ rendering
def _theme(name: str):
    from core_models.render.scene import DARK, LIGHT, Theme

    if name == "green":
        return Theme(bg_top=(0.45, 0.58, 0.45), bg_bottom=(0.22, 0.30, 0.22), floor=(0.35, 0.40, 0.30, 0.4))
    return LIGHT if name == "light" else DARK


def _grounded(body, pose: Pose, floor: float) -> tuple[Pose, np.ndarray]:
    v = body.forward(pose).vertices
    dy = floor - float(v[:, 1].min())
    p = Pose(pose.root_orient, pose.body_pose, np.array([0.0, dy, 0.0], np.float32))
    return p, body.joints(p)


def _any_outside(cam, grounded: list, size: tuple[int, int]) -> bool:
    for _, joints in grounded:
        px = cam.project(joints, size[0], size[1])
        if np.any((px[:, 0] < 2) | (px[:, 0] >= size[0] - 2) | (px[:, 1] < 2) | (px[:, 1] >= size[1] - 2)):
            return True
    return False


def render_clip(spec: ClipSpec, out: Path, fps: float, size: tuple[int, int], renderer, bodies: dict) -> Path:
    import cv2

    from core_models.body import load_body
    from core_models.coach.targets import target_from_library
    from core_models.render.camera import OrbitCamera

    if spec.body not in bodies:
        bodies[spec.body] = load_body("anny", phenotype=BODIES[spec.body])
    body = bodies[spec.body]
    target = target_from_library(spec.target).pose
    got = deviate(target, spec.deviation, spec.side)
    assert got is not None
    deviated, label = got
    times, poses, labels = timeline(target, deviated, fps)
    floor = float(body.forward(target_from_library("mountain").pose).vertices[:, 1].min())
    cam = OrbitCamera(target=np.array([0.0, floor + (1.25 if spec.tight else 0.95), 0.0]), distance=spec.distance,
                      azimuth=spec.azimuth, elevation=0.0, fovy=55.0)
    grounded = [_grounded(body, p, floor) for p in poses]
    while not spec.tight and cam.distance < 3.0 and _any_outside(cam, grounded, size):
        cam.distance = round(cam.distance + 0.1, 3)  # step back until the whole body is in the picture
    renderer.scene.theme = _theme(spec.background)
    stem = f"{spec.index:03d}_{spec.target}_{spec.deviation}" + (f"_{spec.side}" if spec.side else "")
    mp4 = out / f"{stem}.mp4"
    vw = cv2.VideoWriter(str(mp4.with_suffix(".tmp.mp4")), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    full, transl, oof = [], [], []
    for g, joints in grounded:
        img = renderer.render(body, g, size=size, camera=cam, grid=True, floor_y=floor)
        vw.write(np.ascontiguousarray(img[:, :, ::-1]))
        px = cam.project(joints, size[0], size[1])
        oof.append((px[:, 0] < 0) | (px[:, 0] >= size[0]) | (px[:, 1] < 0) | (px[:, 1] >= size[1]))
        full.append(np.concatenate([np.asarray(g.root_orient).reshape(1, 3), np.asarray(g.body_pose)]))
        transl.append(np.asarray(g.transl))
    vw.release()
    os.replace(mp4.with_suffix(".tmp.mp4"), mp4)
    np.savez_compressed(out / f"{stem}.poses.npz", poses=np.array(full, np.float32),
                        transl=np.array(transl, np.float32), times=times.astype(np.float32),
                        out_of_frame=np.array(oof, bool))
    gt = {"format": "posetailor-coach-clip", "version": 1, "video": mp4.name, "poses_file": f"{stem}.poses.npz",
          "target": spec.target, "deviation": {"kind": spec.deviation, **label}, "fps": fps, "frames": len(times),
          "size": list(size), "segments": [{"name": n, "start": a, "end": b} for n, a, b in SEGMENTS],
          "labels": labels, "hold_intervals": hold_intervals(float(times[-1])),
          "expected_hold_s": float(sum(b - a for a, b in hold_intervals(float(times[-1])))), "tight": spec.tight,
          "spec": asdict(spec), "camera_distance": cam.distance, "body": BODIES[spec.body]}
    (out / f"{stem}.json").write_text(json.dumps(gt, indent=1))
    return mp4


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(DEFAULT_DIR))
    ap.add_argument("--clips", type=int, default=45)
    ap.add_argument("--tight", type=int, default=4, help="how many of them framed tight (feet out of the picture)")
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--only", default=None, help="comma-separated clip indices to render")
    args = ap.parse_args(argv)
    from core_models.render.offscreen import OffscreenRenderer

    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    w, h = (int(x) for x in args.size.lower().split("x"))
    specs = plan(args.clips, args.tight)
    if args.only:
        keep = {int(x) for x in args.only.split(",")}
        specs = [s for s in specs if s.index in keep]
    renderer, bodies = OffscreenRenderer(samples=4), {}
    for s in specs:
        p = render_clip(s, out, args.fps, (w, h), renderer, bodies)
        print(f"{p.name}", flush=True)
    print(json.dumps({"name": "render_coach_clips", "clips": len(specs), "out": str(out)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
