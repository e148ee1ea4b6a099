"""Measurements of a pose that text instructions talk about, computed from joint positions.

Everything is expressed in the body's own frame: heights are world y relative to the pelvis (the
translation is not part of an edit), "forward" and "sideways" are horizontal offsets from the pelvis along
the body's heading (forward = where the pelvis faces, sideways positive toward the body's LEFT), turns are
yaw angles relative to the pelvis (positive = toward the body's left).

Measures (``measure(pose_or_joints, part, kind)``):

* ``flexion`` (degrees): knee / elbow = 180° minus the hip-knee-ankle (shoulder-elbow-wrist) angle, 0 when
  straight; hip = angle between the thigh and the torso's downward axis; shoulder = angle between the upper
  arm and the torso's downward axis (arm elevation); torso = forward lean of pelvis→neck from vertical
  (positive forward); head = downward pitch of the face (positive = looking down).
* ``height`` (metres): joint y − pelvis y (torso: neck).
* ``forward`` / ``sideways`` (metres): joint offset from the pelvis along the heading / toward the left.
* ``turn`` (degrees): head or torso yaw relative to the pelvis (positive = to the body's left).
"""
from __future__ import annotations

import numpy as np

from core_models import skeleton as sk
from core_models.kinematics import fk_numpy
from core_models.pose import Pose, aa_to_matrix_np

KINDS = ("flexion", "height", "forward", "sideways", "turn")
#: parts a check may name (joint names plus the two whole-body parts)
PARTS = ("head", "torso") + tuple(f"{s}_{j}" for s in ("left", "right")
                                   for j in ("hip", "knee", "ankle", "foot", "shoulder", "elbow", "wrist"))
_J = sk.JOINT_INDEX


def mirror_part(part: str) -> str:
    """left_x ↔ right_x; centre parts unchanged."""
    if part.startswith("left_"):
        return "right_" + part[5:]
    if part.startswith("right_"):
        return "left_" + part[6:]
    return part


def mirror_direction(kind: str, direction: int) -> int:
    """A check on the mirrored part: sideways offsets and turns change sign, the rest do not."""
    return -direction if kind in ("sideways", "turn") else direction


def heading_np(root: np.ndarray) -> np.ndarray:
    """:func:`core_models.pose.heading_of` on root rotation matrices (...,3,3), in numpy (same formula)."""
    fwd, left = root[..., :, 2], root[..., :, 0]
    flat = fwd[..., 0] ** 2 + fwd[..., 2] ** 2 >= 0.25
    return np.where(flat, np.arctan2(fwd[..., 0], fwd[..., 2]), np.arctan2(-left[..., 2], left[..., 0]))


def rot_y_matrix(h: np.ndarray) -> np.ndarray:
    """(...,) radians → (...,3,3) rotations about +y."""
    c, s, z, o = np.cos(h), np.sin(h), np.zeros_like(h), np.ones_like(h)
    return np.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(np.shape(h) + (3, 3))


class PoseFrame:
    """Joint positions and global rotations of a pose (any batch shape) plus its heading frame, computed once;
    :func:`measure` on a batched frame returns an array of that batch shape."""

    def __init__(self, pose: Pose | None, rest_joints: np.ndarray | None = None,
                 matrices: np.ndarray | None = None):
        rest = sk.DEFAULT_REST_JOINTS if rest_joints is None else rest_joints
        # numpy Rodrigues: a fraction of roma's per-call cost on these small batches
        R = np.asarray(matrices, np.float64) if pose is None else aa_to_matrix_np(pose.full())
        self.rot, self.joints, _ = fk_numpy(R, np.asarray(rest, np.float64))
        h = heading_np(R[..., 0, :, :])
        zero = np.zeros_like(h)
        self.fwd = np.stack([np.sin(h), zero, np.cos(h)], -1)
        self.left = np.stack([np.cos(h), zero, -np.sin(h)], -1)

    @classmethod
    def from_matrices(cls, matrices: np.ndarray, rest_joints: np.ndarray | None = None) -> PoseFrame:
        """The frame of local joint rotations (...,22,3,3) (skips the axis-angle round trip)."""
        return cls(None, rest_joints, matrices)

    def offset(self, name: str) -> np.ndarray:
        return self.joints[..., _J[name], :] - self.joints[..., _J["pelvis"], :]

    def yaw_deg(self, v: np.ndarray) -> np.ndarray:
        return np.degrees(np.arctan2(_dot(v, self.left), _dot(v, self.fwd)))

    def face(self) -> np.ndarray:
        return self.rot[..., _J["head"], :, 2]  # the head's +z axis in world


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    c = _dot(a, b) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


_CHAIN = {"knee": ("hip", "knee", "ankle"), "elbow": ("shoulder", "elbow", "wrist")}
_ROOT = {"hip": ("hip", "knee"), "shoulder": ("shoulder", "elbow")}


def _flexion(f: PoseFrame, part: str) -> np.ndarray:
    if part == "torso":
        up = f.offset("neck")
        return np.degrees(np.arctan2(_dot(up, f.fwd), up[..., 1]))
    if part == "head":
        return np.degrees(np.arcsin(np.clip(-f.face()[..., 1], -1.0, 1.0)))
    side, joint = part.split("_", 1)
    if joint in _CHAIN:
        a, b, c = (f.joints[..., _J[f"{side}_{n}"], :] for n in _CHAIN[joint])
        return 180.0 - _angle_deg(a - b, c - b)
    if joint in _ROOT:
        a, b = (f.joints[..., _J[f"{side}_{n}"], :] for n in _ROOT[joint])
        return _angle_deg(b - a, -f.offset("neck"))
    raise ValueError(f"no flexion for {part!r}")


def _turn(f: PoseFrame, part: str) -> np.ndarray:
    if part == "head":
        return f.yaw_deg(f.face())
    if part == "torso":
        across = f.joints[..., _J["left_shoulder"], :] - f.joints[..., _J["right_shoulder"], :]
        return (f.yaw_deg(across) - 90.0 + 180.0) % 360.0 - 180.0
    raise ValueError(f"no turn for {part!r}")


def _point(part: str) -> str:
    return "neck" if part == "torso" else part


def _measure(f: PoseFrame, part: str, kind: str) -> np.ndarray:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}")
    if kind == "flexion":
        return _flexion(f, part)
    if kind == "turn":
        return _turn(f, part)
    off = f.offset(_point(part))
    if kind == "height":
        return off[..., 1]
    if kind == "forward":
        return _dot(off, f.fwd)
    if kind == "sideways":
        return _dot(off, f.left)
    raise ValueError(f"unknown measure {kind!r}")


def measure(frame: PoseFrame | Pose, part: str, kind: str):
    """One measurement (see the module docstring) of ``part`` in ``frame`` (a Pose is framed first): a float
    for a single pose, an array over the batch for a batched one."""
    f = frame if isinstance(frame, PoseFrame) else PoseFrame(frame)
    out = _measure(f, part, kind)
    return float(out) if np.ndim(out) == 0 else out


def part_rotation_change_deg(a: Pose, b: Pose, part: str) -> float:
    """Largest change (degrees) of the local rotation of any joint of ``part`` (a ``skeleton.BODY_PARTS``
    key, or a joint name → the body part it belongs to) between poses a and b."""
    from core_models.pose import geodesic_deg

    if part not in sk.BODY_PARTS:
        j = _J.get(part)
        owner = sk.part_of_joint(j) if j is not None else None
        if owner is None:
            raise ValueError(f"unknown part {part!r}")
        part = owner
    idx = list(sk.BODY_PARTS[part])
    return float(np.max(geodesic_deg(a.full()[idx], b.full()[idx])))
