"""SMPL-H body skeleton: the 22 body joints every part of PoseTailor agrees on.

Coordinate frame (canonical everywhere): y up, the body faces +z, x points to the body's *left*, metres.
In the zero pose (SMPL T-pose) every joint frame is aligned with the world axes, so a joint's local
axis-angle rotation is expressed in world axes at rest — the SMPL convention.
"""
from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
NUM_JOINTS = 22
NUM_BODY_JOINTS = 21  # without the root (pelvis)
JOINT_INDEX: dict[str, int] = {n: i for i, n in enumerate(JOINT_NAMES)}

PARENTS: np.ndarray = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19], dtype=np.int64
)


def _mirror_index(name: str) -> int:
    if name.startswith("left_"):
        return JOINT_INDEX["right_" + name[5:]]
    if name.startswith("right_"):
        return JOINT_INDEX["left_" + name[6:]]
    return JOINT_INDEX[name]


#: MIRROR[i] is the joint that plays joint i's role on the other side (itself for centre joints).
MIRROR: np.ndarray = np.array([_mirror_index(n) for n in JOINT_NAMES], dtype=np.int64)

#: Body-part groups (joint indices whose *rotation* belongs to the part). The root is not in a part.
BODY_PARTS: dict[str, tuple[int, ...]] = {
    "head": (JOINT_INDEX["neck"], JOINT_INDEX["head"]),
    "torso": (JOINT_INDEX["spine1"], JOINT_INDEX["spine2"], JOINT_INDEX["spine3"]),
    "left_arm": tuple(JOINT_INDEX[n] for n in ("left_collar", "left_shoulder", "left_elbow", "left_wrist")),
    "right_arm": tuple(JOINT_INDEX[n] for n in ("right_collar", "right_shoulder", "right_elbow", "right_wrist")),
    "left_leg": tuple(JOINT_INDEX[n] for n in ("left_hip", "left_knee", "left_ankle", "left_foot")),
    "right_leg": tuple(JOINT_INDEX[n] for n in ("right_hip", "right_knee", "right_ankle", "right_foot")),
}
PART_NAMES: tuple[str, ...] = tuple(BODY_PARTS)


def part_of_joint(j: int) -> str | None:
    for part, joints in BODY_PARTS.items():
        if j in joints:
            return part
    return None


def children(j: int) -> list[int]:
    return [int(c) for c in np.nonzero(PARENTS == j)[0]]


def descendants(j: int) -> list[int]:
    out: list[int] = []
    stack = children(j)
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(children(c))
    return sorted(out)


#: A default rest skeleton (T-pose joint positions, metres, pelvis at the origin) with adult
#: proportions. Body models provide their own; this one is for skeleton-only maths (captioning tests,
#: importers) when no mesh is needed. Symmetric by construction.
_HALF = {
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (0.085, -0.085, 0.0),
    "spine1": (0.0, 0.11, -0.02),
    "left_knee": (0.095, -0.48, 0.005),
    "spine2": (0.0, 0.245, -0.01),
    "left_ankle": (0.09, -0.885, -0.035),
    "spine3": (0.0, 0.30, 0.0),
    "left_foot": (0.105, -0.94, 0.085),
    "neck": (0.0, 0.52, -0.025),
    "left_collar": (0.075, 0.43, -0.01),
    "head": (0.0, 0.60, 0.015),
    "left_shoulder": (0.17, 0.455, -0.02),
    "left_elbow": (0.42, 0.445, -0.03),
    "left_wrist": (0.67, 0.45, -0.025),
}


def _default_rest() -> np.ndarray:
    J = np.zeros((NUM_JOINTS, 3), dtype=np.float64)
    for name, p in _HALF.items():
        J[JOINT_INDEX[name]] = p
        if name.startswith("left_"):
            J[JOINT_INDEX["right_" + name[5:]]] = (-p[0], p[1], p[2])
    return J


DEFAULT_REST_JOINTS: np.ndarray = _default_rest()
#: Height of the pelvis above the ground in the default rest skeleton (feet on y=0).
DEFAULT_PELVIS_HEIGHT: float = 0.94


# --- anatomical joint limits -------------------------------------------------------------------------
# Limits are ranges (degrees) of the intrinsic XYZ Euler angles of each joint's local rotation
# (R = Rx(a)·Ry(b)·Rz(c), axes of the SMPL rest frame: x to the body's left, y up, z forward).
# Conventions used to write them (derived from the T-pose):
#   knee flexion = +x;  hip flexion (thigh forward) = -x;  spine/neck forward bend = +x;
#   left shoulder raise = +z, left arm forward = -y;  left elbow flexion = -y (right: mirrored signs).
# They are deliberately a little generous (mocap of real people touches the ends of the ranges).
_L = {
    "left_hip": ((-130, 35), (-50, 50), (-35, 75)),
    "left_knee": ((-8, 160), (-25, 25), (-15, 15)),
    "spine1": ((-35, 60), (-40, 40), (-35, 35)),
    "left_ankle": ((-55, 45), (-35, 35), (-35, 35)),
    "spine2": ((-30, 45), (-35, 35), (-30, 30)),
    "spine3": ((-30, 45), (-35, 35), (-30, 30)),
    "left_foot": ((-50, 50), (-20, 20), (-20, 20)),
    "neck": ((-50, 65), (-70, 70), (-45, 45)),
    "left_collar": ((-25, 25), (-35, 25), (-20, 45)),
    "head": ((-45, 50), (-60, 60), (-35, 35)),
    "left_shoulder": ((-100, 100), (-140, 60), (-110, 100)),
    "left_elbow": ((-100, 100), (-160, 8), (-25, 25)),
    "left_wrist": ((-100, 100), (-50, 50), (-85, 85)),
}


def _mirror_limits(lim):
    (xl, xh), (yl, yh), (zl, zh) = lim
    return ((xl, xh), (-yh, -yl), (-zh, -zl))


def _limits_table() -> np.ndarray:
    L = np.zeros((NUM_JOINTS, 3, 2), dtype=np.float64)
    L[0] = [(-180, 180)] * 3  # the root is free
    for name, lim in _L.items():
        L[JOINT_INDEX[name]] = lim
        if name.startswith("left_"):
            L[JOINT_INDEX["right_" + name[5:]]] = _mirror_limits(lim)
    return L


#: JOINT_LIMITS_DEG[j, axis] = (min, max) of the intrinsic XYZ Euler angle, degrees.
JOINT_LIMITS_DEG: np.ndarray = _limits_table()
EULER_CONVENTION = "XYZ"
