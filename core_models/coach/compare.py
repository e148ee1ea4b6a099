"""Live pose vs target pose in 3D: heading alignment, per-joint deviations, visibility gating, similarity 0–100.

Both poses are put through forward kinematics on one rest skeleton (so body size does not matter: the comparison
is scale-free by construction) after taking off their headings (yaw about +y): the live body may face the camera
at any angle. Per joint ``j`` two measures, in degrees:

* **bone-direction deviation**: the angle between the live and the target direction of the segment that joint
  ``j`` moves (hip → knee for the hip, shoulder → elbow for the shoulder, pelvis → neck for the trunk joints; for
  the end joints — ankles' feet, wrists' hands, the head — the joint's own global frame). The shoulder girdle,
  arms, neck and head are measured in the trunk's frame (x along the shoulders, y pelvis → neck), everything else
  in the body frame (heading removed): a leaning trunk is one correction ("straighten up"), not also "arms back";
* **joint-angle deviation**: the difference of the angle between the incoming and outgoing segments at ``j``
  (the knee and elbow flexion is what matters there; a thigh that is held wrong makes the shin point wrong too,
  so the hinge joints are judged by their angle alone).

:data:`DEVIATION` of a hinge (knees, elbows) is its angle deviation, of every other joint its direction deviation.
The head takes the larger of its "up" and "facing" deviations.

**Visibility gating**: each joint is tied to the MediaPipe landmarks that show it and the end of its segment
(:data:`JOINT_LANDMARKS`); a joint is *seen* when every one of them has visibility × presence ≥ 0.5. Unseen joints
get status 2, are left out of the score and are never corrected. Joints whose landmarks lie outside the picture
(presence < 0.5 or outside the frame) are *out of frame* — the coach asks the person to step back when one that
matters for the target is.

**Similarity** = 100 × (1 − m / 45°) clipped to [0, 100], where m is the weighted mean deviation (each joint's
deviation capped at 90°) over the seen joints: a pose on target scores 100, every joint 22.5° off scores 50, and
45° off on average scores 0. Weights (:func:`pose_weights`): a base weight per joint (limbs and trunk 1, head
and shoulder girdle 0.5, hands and feet 0.2) × (1 + 1.5 × how far the target's joint is from a relaxed standing
pose, saturating at 60°) — the bent knee of Tree, the arms of Warrior II count up to 2.5× as much.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core_models import skeleton as sk
from core_models.kinematics import fk_numpy
from core_models.pose import Pose, aa_to_matrix_np, matrix_to_aa_np, mirror

J = sk.JOINT_INDEX
N = sk.NUM_JOINTS

#: the end of the segment each joint moves (-1: the joint's own frame, see _LEAF_AXIS)
SEGMENT_END = np.array([J[n] if n else -1 for n in (
    "neck", "left_knee", "right_knee", "spine2", "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot",
    "neck", "", "", "head", "left_shoulder", "right_shoulder", "", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "", "")], dtype=np.int64)
_LEAF_AXIS = {J["left_foot"]: (0.0, 0.0, 1.0), J["right_foot"]: (0.0, 0.0, 1.0), J["head"]: (0.0, 1.0, 0.0),
              J["left_wrist"]: (1.0, 0.0, 0.0), J["right_wrist"]: (-1.0, 0.0, 0.0)}
HINGES = (J["left_knee"], J["right_knee"], J["left_elbow"], J["right_elbow"])

#: joints the coach may give an instruction about (status 1 is only ever set on these)
COACHED = tuple(J[n] for n in (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "spine3", "neck", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow"))

#: per-joint tolerance factors: the face's direction through a webcam is the noisiest measure, so the head and neck
#: get 1.5 × the strictness tolerance
TOL_SCALE = np.array([1.5 if n in ("neck", "head") else 1.0 for n in sk.JOINT_NAMES], dtype=np.float32)

_BASE_WEIGHT = {"pelvis": 0.5, "left_hip": 1.0, "right_hip": 1.0, "spine1": 0.6, "left_knee": 1.0,
                "right_knee": 1.0, "spine2": 0.6, "left_ankle": 0.2, "right_ankle": 0.2, "spine3": 0.6,
                "left_foot": 0.2, "right_foot": 0.2, "neck": 0.5, "left_collar": 0.3, "right_collar": 0.3,
                "head": 0.5, "left_shoulder": 1.0, "right_shoulder": 1.0, "left_elbow": 1.0, "right_elbow": 1.0,
                "left_wrist": 0.2, "right_wrist": 0.2}
BASE_WEIGHTS = np.array([_BASE_WEIGHT[n] for n in sk.JOINT_NAMES], dtype=np.float32)


def _sides(*names: str) -> list[str]:
    return [f"{s}_{n}" for n in names for s in ("left", "right")]


#: MediaPipe landmarks that must be seen for each joint to be judged
JOINT_LANDMARKS: dict[str, tuple[str, ...]] = {
    "pelvis": ("left_hip", "right_hip"),
    "spine1": ("left_hip", "right_hip", "left_shoulder", "right_shoulder"),
    "spine2": ("left_hip", "right_hip", "left_shoulder", "right_shoulder"),
    "spine3": ("left_hip", "right_hip", "left_shoulder", "right_shoulder"),
    "neck": ("left_shoulder", "right_shoulder", "nose"),
    "head": ("nose",),
    **{f"{s}_hip": (f"{s}_hip", f"{s}_knee") for s in ("left", "right")},
    **{f"{s}_knee": (f"{s}_hip", f"{s}_knee", f"{s}_ankle") for s in ("left", "right")},
    **{f"{s}_ankle": (f"{s}_ankle", f"{s}_heel", f"{s}_foot_index") for s in ("left", "right")},
    **{f"{s}_foot": (f"{s}_ankle", f"{s}_foot_index") for s in ("left", "right")},
    **{f"{s}_collar": (f"{s}_shoulder",) for s in ("left", "right")},
    **{f"{s}_shoulder": (f"{s}_shoulder", f"{s}_elbow") for s in ("left", "right")},
    **{f"{s}_elbow": (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist") for s in ("left", "right")},
    **{f"{s}_wrist": (f"{s}_wrist", f"{s}_index", f"{s}_pinky") for s in ("left", "right")},
}
_SEEN_THRESHOLD = 0.5


def _landmark_table() -> np.ndarray:
    from core_models.capture.landmarks import LM

    T = np.zeros((N, 33), dtype=bool)
    for name, lms in JOINT_LANDMARKS.items():
        for lm in lms:
            T[J[name], LM[lm]] = True
    return T


_TABLE: np.ndarray | None = None


def joint_visibility(landmarks) -> tuple[np.ndarray, np.ndarray]:
    """(seen (22,) bool, out_of_frame (22,) bool) from one :class:`Landmarks`; None → everything seen."""
    global _TABLE
    if landmarks is None:
        return np.ones(N, bool), np.zeros(N, bool)
    if _TABLE is None:
        _TABLE = _landmark_table()
    score = np.asarray(landmarks.visibility, np.float32) * np.asarray(landmarks.presence, np.float32)
    xy = np.asarray(landmarks.image, np.float32)[:, :2]
    outside = (np.asarray(landmarks.presence) < _SEEN_THRESHOLD) | np.any((xy < -0.01) | (xy > 1.01), axis=1)
    ok = score >= _SEEN_THRESHOLD
    seen = np.array([bool(np.all(ok[_TABLE[j]])) for j in range(N)])
    oof = np.array([bool(np.any(outside[_TABLE[j]])) for j in range(N)])
    return seen, oof


@dataclass
class Geometry:
    """One pose after heading removal: global rotations, joint positions, segment directions (unit)."""
    R: np.ndarray        # (22, 3, 3)
    joints: np.ndarray   # (22, 3)
    dirs: np.ndarray     # (22, 3)
    flex: np.ndarray     # (22,) angle between incoming and outgoing segment, degrees
    facing: np.ndarray   # (3,) the head's forward axis
    heading: float


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


#: joints whose segment direction is measured in the trunk's frame (so a leaning trunk is not also "arms wrong")
TRUNK_RELATIVE = tuple(J[n] for n in ("left_collar", "right_collar", "left_shoulder", "right_shoulder", "neck",
                                      "head"))


def _trunk_frame(pos: np.ndarray, left_shoulder: np.ndarray, right_shoulder: np.ndarray) -> np.ndarray:
    """Columns x (the person's left), y (pelvis → neck), z (where the chest faces)."""
    y = _unit(pos[J["neck"]] - pos[J["pelvis"]])
    x = left_shoulder - right_shoulder
    x = _unit(x - np.dot(x, y) * y)
    return np.stack([x, y, np.cross(x, y)], axis=1)


def _relative_to_trunk(dirs: np.ndarray, facing: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dirs = dirs.copy()
    idx = list(TRUNK_RELATIVE)
    dirs[idx] = dirs[idx] @ F
    return dirs, facing @ F


def _hip_angle(w: np.ndarray) -> float:
    L = _lm_index()
    v = w[L["left_hip"]] - w[L["right_hip"]]
    return float(np.arctan2(v[2], v[0]))


def _ry(a: float) -> np.ndarray:
    c, s_ = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s_], [0.0, 1.0, 0.0], [-s_, 0.0, c]])


def heading_np(root_orient) -> float:
    """``pose.heading_of`` in numpy for one pose (the per-frame path stays off torch: ~50× cheaper)."""
    R = aa_to_matrix_np(np.asarray(root_orient, np.float64).reshape(3))
    fwd, left = R[:, 2], R[:, 0]
    if fwd[0] ** 2 + fwd[2] ** 2 >= 0.25:
        return float(np.arctan2(fwd[0], fwd[2]))
    return float(np.arctan2(-left[2], left[0]))


def turn(pose: Pose, heading: float) -> Pose:
    """``pose.apply_heading`` in numpy for one pose: the body turned about +y by ``heading`` radians."""
    Ry = _ry(heading)
    root = matrix_to_aa_np(Ry @ aa_to_matrix_np(np.asarray(pose.root_orient, np.float64).reshape(3)))
    return Pose(root.astype(np.float32), np.asarray(pose.body_pose, np.float32).copy(),
                (Ry @ np.asarray(pose.transl, np.float64)).astype(np.float32))


def geometry(pose: Pose, rest: np.ndarray = sk.DEFAULT_REST_JOINTS) -> Geometry:
    h = heading_np(pose.root_orient)
    p0 = turn(Pose(pose.root_orient, pose.body_pose), -h)
    aa = np.concatenate([np.asarray(p0.root_orient, np.float64).reshape(1, 3),
                         np.asarray(p0.body_pose, np.float64).reshape(21, 3)])
    R, pos, _ = fk_numpy(aa_to_matrix_np(aa), rest)
    dirs = np.empty((N, 3))
    for j in range(N):
        e = SEGMENT_END[j]
        dirs[j] = pos[e] - pos[j] if e >= 0 else R[j] @ np.asarray(_LEAF_AXIS[j])
    dirs = _unit(dirs)
    flex = np.zeros(N)
    for j in range(1, N):
        inc = _unit(pos[j] - pos[sk.PARENTS[j]])
        flex[j] = np.degrees(np.arccos(np.clip(np.dot(inc, dirs[j]), -1.0, 1.0)))
    F = _trunk_frame(pos, pos[J["left_shoulder"]], pos[J["right_shoulder"]])
    dirs, facing = _relative_to_trunk(dirs, R[J["head"]] @ np.array([0.0, 0.0, 1.0]), F)
    return Geometry(R, pos, dirs, flex, facing, h)


def _lm_index() -> dict[str, int]:
    from core_models.capture.landmarks import LM

    return LM


#: through capture, depth (towards the camera) counts this much: monocular depth is the least reliable axis
DEPTH_WEIGHT = 0.5


def landmark_geometry(world: np.ndarray, depth_weight: float = 1.0) -> Geometry:
    """The same measures as :func:`geometry`, read off 33 BlazePose world landmarks ((33, 3), our frame: y up,
    the person's left +x when facing the camera) after turning the hip line onto +x. Knees, elbows, thighs,
    upper arms, trunk (mid-hip → mid-shoulder), neck/head (mid-shoulder → mid-ear, facing = mid-ear → nose),
    feet (ankle → toe) and hands (wrist → knuckles) come straight from the landmarks. ``depth_weight`` scales
    the camera-depth axis (z) first."""
    L = _lm_index()
    w = np.asarray(world, np.float64).reshape(33, 3).copy()
    w[:, 2] *= depth_weight
    a = _hip_angle(w)
    w = w @ _ry(a).T

    def p(name: str) -> np.ndarray:
        return w[L[name]]

    mid_hip, mid_sh = (p("left_hip") + p("right_hip")) / 2, (p("left_shoulder") + p("right_shoulder")) / 2
    mid_ear = (p("left_ear") + p("right_ear")) / 2
    pos = np.zeros((N, 3))
    pos[J["pelvis"]], pos[J["neck"]], pos[J["head"]] = mid_hip, mid_sh, mid_ear
    for k, f in ((J["spine1"], 0.25), (J["spine2"], 0.5), (J["spine3"], 0.75)):
        pos[k] = mid_hip + f * (mid_sh - mid_hip)
    for s in ("left", "right"):
        for n in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
            pos[J[f"{s}_{n}"]] = p(f"{s}_{n}")
        pos[J[f"{s}_foot"]] = p(f"{s}_foot_index")
        pos[J[f"{s}_collar"]] = (mid_sh + p(f"{s}_shoulder")) / 2
    dirs = np.zeros((N, 3))
    trunk = mid_sh - mid_hip
    for k in (J["pelvis"], J["spine1"], J["spine2"], J["spine3"]):
        dirs[k] = trunk
    dirs[J["neck"]] = dirs[J["head"]] = mid_ear - mid_sh
    for s in ("left", "right"):
        dirs[J[f"{s}_hip"]] = p(f"{s}_knee") - p(f"{s}_hip")
        dirs[J[f"{s}_knee"]] = p(f"{s}_ankle") - p(f"{s}_knee")
        dirs[J[f"{s}_ankle"]] = p(f"{s}_foot_index") - p(f"{s}_ankle")
        dirs[J[f"{s}_foot"]] = p(f"{s}_foot_index") - p(f"{s}_heel")
        dirs[J[f"{s}_collar"]] = p(f"{s}_shoulder") - mid_sh
        dirs[J[f"{s}_shoulder"]] = p(f"{s}_elbow") - p(f"{s}_shoulder")
        dirs[J[f"{s}_elbow"]] = p(f"{s}_wrist") - p(f"{s}_elbow")
        dirs[J[f"{s}_wrist"]] = (p(f"{s}_index") + p(f"{s}_pinky")) / 2 - p(f"{s}_wrist")
    dirs = _unit(dirs)
    flex = np.zeros(N)
    for s in ("left", "right"):
        for j, inc in ((J[f"{s}_knee"], J[f"{s}_hip"]), (J[f"{s}_elbow"], J[f"{s}_shoulder"])):
            flex[j] = float(_angle(dirs[inc], dirs[j]))
    F = _trunk_frame(pos, p("left_shoulder"), p("right_shoulder"))
    dirs, facing = _relative_to_trunk(dirs, _unit(p("nose") - mid_ear), F)
    return Geometry(np.tile(np.eye(3), (N, 1, 1)), pos, dirs, flex, facing, -a)


_LANDMARK_MODEL = None


def target_landmarks(target: Pose) -> np.ndarray:
    """The target as BlazePose world landmarks (33, 3) of the default body
    (:class:`~core_models.capture.synth.LandmarkModel`: joints + the mesh vertices MediaPipe's face / hand / foot
    points sit on), hip line turned onto +x."""
    global _LANDMARK_MODEL
    if _LANDMARK_MODEL is None:
        from core_models.capture.synth import LandmarkModel

        _LANDMARK_MODEL = LandmarkModel()
    w = _LANDMARK_MODEL.world_from_poses(Pose(target.root_orient, target.body_pose)[None])[0].astype(np.float64)
    return w @ _ry(_hip_angle(w)).T


def target_landmark_geometry(target_world: np.ndarray, live_world: np.ndarray,
                             depth_weight: float = DEPTH_WEIGHT) -> Geometry:
    """The target's landmarks (:func:`target_landmarks`) turned to the live hip line, measured like the live ones
    (the depth weighting happens in the camera frame, so both sides get the same)."""
    w = np.asarray(target_world, np.float64) @ _ry(_hip_angle(np.asarray(live_world, np.float64)))
    return landmark_geometry(w, depth_weight)


def has_world(landmarks) -> bool:
    return landmarks is not None and bool(np.any(np.asarray(landmarks.world) != 0))


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(np.sum(_unit(a) * _unit(b), axis=-1), -1.0, 1.0)))


#: a relaxed standing pose (arms down by the sides): the reference for "what matters" in a target
def _neutral() -> Pose:
    body = np.zeros((21, 3), np.float32)
    body[J["left_shoulder"] - 1] = (0.0, 0.0, -1.3)
    body[J["right_shoulder"] - 1] = (0.0, 0.0, 1.3)
    return Pose(np.zeros(3, np.float32), body)


_NEUTRAL_GEOM: Geometry | None = None


def pose_weights(target: Pose) -> np.ndarray:
    """(22,) weights: :data:`BASE_WEIGHTS` × (1 + 1.5 × min(1, deviation from a relaxed standing pose / 60°))."""
    global _NEUTRAL_GEOM
    if _NEUTRAL_GEOM is None:
        _NEUTRAL_GEOM = geometry(_neutral())
    dev = raw_deviation(geometry(target), _NEUTRAL_GEOM)
    return (BASE_WEIGHTS * (1.0 + 1.5 * np.clip(dev / 60.0, 0.0, 1.0))).astype(np.float32)


def raw_deviation(live: Geometry, target: Geometry) -> np.ndarray:
    """(22,) the deviation used everywhere (see the module docstring), degrees."""
    d = _angle(live.dirs, target.dirs)
    hinge = np.array(HINGES)
    d[hinge] = np.abs(live.flex[hinge] - target.flex[hinge])
    d[J["head"]] = max(d[J["head"]], float(_angle(live.facing, target.facing)))
    return d.astype(np.float32)


@dataclass
class Comparison:
    deviation_deg: np.ndarray      # (22,) float32 (the combined measure)
    direction_dev_deg: np.ndarray  # (22,) segment-direction deviation
    angle_dev_deg: np.ndarray      # (22,) joint-angle deviation
    seen: np.ndarray               # (22,) bool
    out_of_frame: np.ndarray       # (22,) bool
    weights: np.ndarray            # (22,)
    score: float | None            # 0..100, None when nothing that matters is seen
    live: Geometry
    target: Geometry
    aligned_target: Pose           # the target turned to the live heading, at the live position


def similarity(dev: np.ndarray, weights: np.ndarray, seen: np.ndarray) -> float | None:
    w = np.where(seen, weights, 0.0)
    if w.sum() < 1e-6:
        return None
    m = float(np.sum(w * np.minimum(dev, 90.0)) / w.sum())
    return float(np.clip(100.0 * (1.0 - m / 45.0), 0.0, 100.0))


def compare(live: Pose, target: Pose, landmarks=None, weights: np.ndarray | None = None,
            target_geometry: Geometry | None = None, use_landmarks: bool = False,
            target_world: np.ndarray | None = None, depth_weight: float = DEPTH_WEIGHT) -> Comparison:
    """Compare one live pose with a target (single poses). ``landmarks``: the capture's :class:`Landmarks` for
    visibility gating (None: everything counts as seen). ``use_landmarks``: measure the live side on the
    landmarks' 3D world coordinates (:func:`landmark_geometry`, depth weighted by ``depth_weight``) instead of
    the regressed pose, against ``target_world`` (:func:`target_landmarks`; computed when None)."""
    lm_mode = use_landmarks and has_world(landmarks)
    if lm_mode:
        tw = target_landmarks(target) if target_world is None else target_world
        gl = landmark_geometry(landmarks.world, depth_weight)
        gt = target_landmark_geometry(tw, landmarks.world, depth_weight)
    else:
        gl = geometry(live)
        gt = target_geometry if target_geometry is not None else geometry(target)
    w = pose_weights(target) if weights is None else np.asarray(weights, np.float32)
    dir_dev = _angle(gl.dirs, gt.dirs).astype(np.float32)
    ang_dev = np.abs(gl.flex - gt.flex).astype(np.float32)
    dev = raw_deviation(gl, gt)
    seen, oof = joint_visibility(landmarks)
    aligned = turn(Pose(target.root_orient, target.body_pose), heading_np(live.root_orient) - heading_np(
        target.root_orient))
    aligned = Pose(aligned.root_orient, aligned.body_pose, np.asarray(live.transl, np.float32).copy())
    return Comparison(dev, dir_dev, ang_dev, seen, oof, w, similarity(dev, w, seen), gl, gt, aligned)


def mirror_target(pose: Pose) -> Pose:
    return mirror(Pose(pose.root_orient, pose.body_pose, pose.transl))
