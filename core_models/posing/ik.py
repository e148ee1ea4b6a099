"""Analytic two-bone IK (shoulder-elbow-wrist, hip-knee-ankle) with an elbow / knee pole hint.

The middle joint bends only about its anatomical hinge (knee: its local x, the first XYZ Euler axis; elbow: its
local y after the twist, the second Euler axis), by the angle that puts the end at the target's distance from
the upper joint (law of cosines, solved exactly for the current bone geometry); of the two solutions the one
within (or nearest) the joint limits is kept. The upper joint then swings the chain onto the target by the
smallest rotation and, with a pole, twists about the upper-joint → target axis so that the middle joint points
at the pole. A target out of reach gives the fully extended limb pointing at it (no NaN); a target on the upper
joint leaves the aim unchanged."""
from __future__ import annotations

import numpy as np

from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.pose import (
    Pose,
    aa_to_matrix_np,
    clamp_matrices,
    limit_euler_deg,
    limit_violation_matrices,
    matrix_to_aa_np,
    rotation_between_np,
)

_J = sk.JOINT_INDEX
#: end effector → (upper, middle, end) joints of its limb
LIMB_CHAINS: dict[str, tuple[int, int, int]] = {
    "left_wrist": (_J["left_shoulder"], _J["left_elbow"], _J["left_wrist"]),
    "right_wrist": (_J["right_shoulder"], _J["right_elbow"], _J["right_wrist"]),
    "left_ankle": (_J["left_hip"], _J["left_knee"], _J["left_ankle"]),
    "right_ankle": (_J["right_hip"], _J["right_knee"], _J["right_ankle"]),
}
#: middle joint → its flexion axis as an index of the intrinsic XYZ Euler angles
HINGE_EULER_AXIS: dict[int, int] = {_J["left_elbow"]: 1, _J["right_elbow"]: 1, _J["left_knee"]: 0,
                                    _J["right_knee"]: 0}


def axis_rotation_np(axis: np.ndarray, angle: float) -> np.ndarray:
    """(3,3) rotation by ``angle`` radians about the unit ``axis``."""
    return aa_to_matrix_np(np.asarray(axis, np.float64) * float(angle))


def _unit(v: np.ndarray) -> tuple[np.ndarray, float]:
    n = float(np.linalg.norm(v))
    return (v / n if n > 1e-12 else np.zeros(3)), n


def _hinge_local(R_mid: np.ndarray, mid: int) -> np.ndarray:
    """The middle joint's flexion axis in its parent's frame (knee: x; elbow: Rx(a)·y, a = its twist)."""
    axis = HINGE_EULER_AXIS[mid]
    if axis == 0:
        return np.array([1.0, 0.0, 0.0])
    full = np.zeros((sk.NUM_JOINTS, 3))
    full[mid] = matrix_to_aa_np(R_mid)
    a = np.radians(limit_euler_deg(full)[mid, 0])
    return np.array([0.0, np.cos(a), np.sin(a)])


def _bend_candidates(G, P, R, chain, dist: float):
    """The two hinge angles (radians) that put the end at ``dist`` from the upper joint (clipped to the
    reachable range), and the hinge axis in the parent's frame."""
    a, b, c = (P[j] for j in chain)
    mid = chain[1]
    h_loc = _hinge_local(R[mid], mid)
    h = G[sk.PARENTS[mid]] @ h_loc
    v, ba = c - b, b - a
    v_par = h * float(h @ v)
    v_perp = v - v_par
    A, B = float(ba @ v_perp), float(ba @ np.cross(h, v_perp))
    K = 0.5 * (dist * dist - ba @ ba - v @ v) - float(ba @ v_par)
    C = float(np.hypot(A, B))
    if C < 1e-12:  # the forearm lies on the hinge axis: bending cannot change the reach
        return [0.0], h_loc
    phi = float(np.arctan2(B, A))
    w = float(np.arccos(np.clip(K / C, -1.0, 1.0)))
    return [phi + w, phi - w], h_loc


def _choose_bend(R, mid: int, thetas, h_loc, limits: np.ndarray) -> np.ndarray:
    """R with the middle joint bent by the candidate angle that fits the limits best (then the smaller turn)."""
    cands = np.repeat(R[None], len(thetas), 0)
    for k, th in enumerate(thetas):
        cands[k, mid] = axis_rotation_np(h_loc, th) @ R[mid]
    viol = limit_violation_matrices(cands, limits)[:, mid]
    wrapped = np.abs((np.asarray(thetas) + np.pi) % (2 * np.pi) - np.pi)
    best = min(range(len(thetas)), key=lambda k: (round(float(viol[k]), 6), float(wrapped[k])))
    return cands[best]


def _twist_to_pole(u: np.ndarray, elbow_dir: np.ndarray, pole_dir: np.ndarray) -> np.ndarray:
    """Rotation about the unit axis ``u`` turning ``elbow_dir`` towards ``pole_dir`` (both projected ⟂ u)."""
    w1, n1 = _unit(elbow_dir - u * float(u @ elbow_dir))
    w2, n2 = _unit(pole_dir - u * float(u @ pole_dir))
    if n1 < 1e-9 or n2 < 1e-9:
        return np.eye(3)
    ang = float(np.arctan2(np.cross(w1, w2) @ u, w1 @ w2))
    return axis_rotation_np(u, ang)


def two_bone_ik_matrices(R: np.ndarray, transl: np.ndarray, rest_joints: np.ndarray, chain: tuple[int, int, int],
                         target: np.ndarray, pole: np.ndarray | None = None,
                         limits: np.ndarray | None = sk.JOINT_LIMITS_DEG) -> np.ndarray:
    """(22,3,3) local rotations with the limb ``chain`` (upper, middle, end joint indices) solved so that the end
    joint reaches ``target`` (world, metres); only the upper and middle joints change. ``pole``: world point the
    middle joint should point at (None: the smallest swing keeps the current bend plane). ``limits``: when given,
    the two changed joints are clamped into them afterwards (None: free)."""
    R = np.array(R, np.float64)
    rest = np.asarray(rest_joints, np.float64)
    target = np.asarray(target, np.float64) - np.asarray(transl, np.float64)
    upper, mid, _end = chain
    G, P, _ = kin.fk_numpy(R, rest)
    dist = float(np.linalg.norm(target - P[upper]))
    thetas, h_loc = _bend_candidates(G, P, R, chain, dist)
    choose_limits = sk.JOINT_LIMITS_DEG if limits is None else limits
    R = _choose_bend(R, mid, thetas, h_loc, choose_limits)
    G, P, _ = kin.fk_numpy(R, rest)
    a = P[upper]
    u, du = _unit(target - a)
    if du > 1e-9:
        Q = rotation_between_np(P[chain[2]] - a, target - a)
        if pole is not None:
            elbow = Q @ (P[mid] - a)
            Q = _twist_to_pole(u, elbow, np.asarray(pole, np.float64) - np.asarray(transl, np.float64) - a) @ Q
        Gp = G[sk.PARENTS[upper]]
        R[upper] = Gp.T @ Q @ G[upper]
    if limits is not None:
        R = _clamp_joints(R, (upper, mid), limits)
    return R


def _clamp_joints(R: np.ndarray, joints, limits: np.ndarray) -> np.ndarray:
    """Clamp only ``joints`` into ``limits`` (the others keep their values bit for bit)."""
    C = clamp_matrices(R, limits)
    out = R.copy()
    for j in joints:
        out[j] = C[j]
    return out


def two_bone_ik(pose: Pose, rest_joints: np.ndarray, end: str, target, pole=None, limits: bool = True) -> Pose:
    """``pose`` with the limb ending at ``end`` ("left_wrist", "right_wrist", "left_ankle", "right_ankle") solved
    analytically so that ``end`` reaches ``target`` (world metres); ``pole`` (world point) picks the elbow / knee
    direction. The rest of the pose (root, translation, other joints, hands) is unchanged. ``limits``: clamp the
    two changed joints into the joint limits. ValueError for an unknown limb or a non-finite target / pole."""
    if end not in LIMB_CHAINS:
        raise ValueError(f"two_bone_ik: {end!r} is not a limb end; use one of {', '.join(LIMB_CHAINS)}")
    t = _finite_point(target, "target")
    pl = None if pole is None else _finite_point(pole, "pole")
    if pose.batch_shape != ():
        raise ValueError("two_bone_ik takes one pose, not a batch")
    R = aa_to_matrix_np(pose.full())
    R2 = two_bone_ik_matrices(R, pose.transl, rest_joints, LIMB_CHAINS[end], t, pl,
                              sk.JOINT_LIMITS_DEG if limits else None)
    return pose_from_matrices(R2, pose.transl, pose)


def pose_from_matrices(R: np.ndarray, transl: np.ndarray, like: Pose) -> Pose:
    """A Pose from (22,3,3) local rotations and a translation, carrying ``like``'s hand pose."""
    out = Pose.from_full(matrix_to_aa_np(R).astype(np.float32), np.asarray(transl, np.float32))
    out.hand_pose = None if like.hand_pose is None else like.hand_pose.copy()
    return out


def _finite_point(p, what: str) -> np.ndarray:
    try:
        a = np.asarray(p, np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a 3D point, got {p!r}") from None
    if a.shape != (3,):
        raise ValueError(f"{what} must be a 3D point (shape (3,)), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} contains NaN or infinite values: {a.tolist()}")
    return a
