"""The canonical pose type and every rotation conversion PoseTailor uses (all through ``roma``).

``Pose`` = SMPL-H body pose: ``root_orient`` (...,3) + ``body_pose`` (...,21,3) axis-angle in SMPL-H
joint order, ``transl`` (...,3), y-up, metres, facing +z; optional ``hand_pose`` (...,30,3).
Leading dimensions are batch dimensions. Arrays are numpy float32; the conversion helpers accept numpy
arrays or torch tensors and return the same kind they were given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import roma
import torch

from core_models import skeleton as sk

Array = Any  # np.ndarray | torch.Tensor


# --- conversions (numpy or torch in, same kind out) ---------------------------------------------------

def _to_torch(x) -> tuple[torch.Tensor, bool]:
    if isinstance(x, torch.Tensor):
        return x, False
    a = np.asarray(x)
    dtype = torch.float64 if a.dtype == np.float64 else torch.float32
    return torch.as_tensor(a, dtype=dtype), True


def _back(t: torch.Tensor, was_numpy: bool):
    return t.detach().cpu().numpy() if was_numpy else t


def aa_to_matrix(aa: Array) -> Array:
    t, np_in = _to_torch(aa)
    return _back(roma.rotvec_to_rotmat(t), np_in)


def matrix_to_aa(R: Array) -> Array:
    t, np_in = _to_torch(R)
    return _back(roma.rotmat_to_rotvec(t), np_in)


def aa_to_quat(aa: Array) -> Array:
    """Axis-angle → unit quaternion, XYZW (roma's convention)."""
    t, np_in = _to_torch(aa)
    return _back(roma.rotvec_to_unitquat(t), np_in)


def quat_to_aa(q: Array) -> Array:
    """Unit quaternion (XYZW) → axis-angle."""
    t, np_in = _to_torch(q)
    return _back(roma.unitquat_to_rotvec(t), np_in)


def matrix_to_6d(R: Array) -> Array:
    """Rotation matrix → 6D (first two columns, flattened as (c0x,c0y,c0z,c1x,c1y,c1z))."""
    t, np_in = _to_torch(R)
    return _back(t[..., :, :2].transpose(-1, -2).reshape(*t.shape[:-2], 6), np_in)


def sixd_to_matrix(d6: Array) -> Array:
    """6D → rotation matrix by Gram-Schmidt (Zhou et al.), differentiable."""
    t, np_in = _to_torch(d6)
    m = t.reshape(*t.shape[:-1], 2, 3).transpose(-1, -2)  # (...,3,2)
    return _back(roma.special_gramschmidt(m), np_in)


def aa_to_6d(aa: Array) -> Array:
    return matrix_to_6d(aa_to_matrix(aa))


def sixd_to_aa(d6: Array) -> Array:
    return matrix_to_aa(sixd_to_matrix(d6))


def aa_to_euler(aa: Array, convention: str = sk.EULER_CONVENTION, degrees: bool = True) -> Array:
    t, np_in = _to_torch(aa)
    return _back(roma.rotvec_to_euler(convention, t, degrees=degrees), np_in)


def euler_to_aa(angles: Array, convention: str = sk.EULER_CONVENTION, degrees: bool = True) -> Array:
    t, np_in = _to_torch(angles)
    return _back(roma.euler_to_rotvec(convention, t, degrees=degrees), np_in)


def geodesic_deg(aa1: Array, aa2: Array) -> Array:
    """Geodesic angle (degrees) between rotations given as axis-angle."""
    t1, np_in = _to_torch(aa1)
    t2, _ = _to_torch(aa2)
    return _back(torch.rad2deg(roma.rotvec_geodesic_distance(t1, t2.to(t1.dtype))), np_in)


def nearest_rotation(M: Array) -> Array:
    """The rotation matrix closest to ``M`` (...,3,3) in Frobenius norm (special orthogonal Procrustes;
    the SVD solution of Wahba's problem when ``M`` = sum of w·b·aᵀ over direction pairs)."""
    t, np_in = _to_torch(M)
    return _back(roma.special_procrustes(t), np_in)


def rigid_align(x: Array, y: Array, scale: bool = False, weights: Array | None = None) -> Array:
    """``x`` (...,N,3) aligned onto ``y`` by the best rotation + translation (+ uniform scale when ``scale``),
    Kabsch/Umeyama through :func:`roma.rigid_points_registration`; returns the aligned points."""
    tx, np_in = _to_torch(x)
    ty, _ = _to_torch(y)
    ty = ty.to(tx.dtype)
    w = None if weights is None else _to_torch(weights)[0].to(tx.dtype)
    if scale:
        R, t, s = roma.rigid_points_registration(tx, ty, weights=w, compute_scaling=True)
        out = s[..., None, None] * tx @ R.transpose(-1, -2) + t[..., None, :]
    else:
        R, t = roma.rigid_points_registration(tx, ty, weights=w)
        out = tx @ R.transpose(-1, -2) + t[..., None, :]
    return _back(out, np_in)


def rot_y(angle: Array) -> Array:
    """Axis-angle of a rotation about +y (heading) by ``angle`` radians; (...,) → (...,3)."""
    if isinstance(angle, torch.Tensor):
        z = torch.zeros_like(angle)
        return torch.stack([z, angle, z], -1)
    a = np.asarray(angle, dtype=np.float32)
    z = np.zeros_like(a)
    return np.stack([z, a, z], -1)


# --- the Pose type -------------------------------------------------------------------------------------

class PoseError(ValueError):
    """A pose that is not usable (wrong shape, NaN/inf, ...). The message says what is wrong."""


def _as_f32(x, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise PoseError(f"{name}: not numeric ({e})") from None
    if a.shape[len(a.shape) - len(shape_tail):] != shape_tail or a.ndim < len(shape_tail):
        raise PoseError(f"{name}: expected shape (..., {', '.join(map(str, shape_tail))}), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise PoseError(f"{name}: contains NaN or infinite values")
    return a


@dataclass
class Pose:
    """SMPL-H body pose. Shapes: root_orient (...,3), body_pose (...,21,3), transl (...,3)."""

    root_orient: np.ndarray
    body_pose: np.ndarray
    transl: np.ndarray = field(default=None)  # type: ignore[assignment]
    hand_pose: np.ndarray | None = None  # (...,30,3) (15 left + 15 right), optional

    def __post_init__(self):
        self.root_orient = _as_f32(self.root_orient, (3,), "root_orient")
        self.body_pose = _as_f32(self.body_pose, (sk.NUM_BODY_JOINTS, 3), "body_pose")
        batch = self.root_orient.shape[:-1]
        if self.body_pose.shape[:-2] != batch:
            raise PoseError(f"batch shapes differ: root_orient {batch}, body_pose {self.body_pose.shape[:-2]}")
        if self.transl is None:
            self.transl = np.zeros(batch + (3,), dtype=np.float32)
        self.transl = _as_f32(self.transl, (3,), "transl")
        if self.transl.shape[:-1] != batch:
            raise PoseError(f"batch shapes differ: root_orient {batch}, transl {self.transl.shape[:-1]}")
        if self.hand_pose is not None:
            self.hand_pose = _as_f32(self.hand_pose, (30, 3), "hand_pose")

    # construction
    @classmethod
    def zeros(cls, *batch: int) -> "Pose":
        return cls(np.zeros(batch + (3,), np.float32), np.zeros(batch + (21, 3), np.float32))

    @classmethod
    def from_full(cls, full: Array, transl: Array | None = None) -> "Pose":
        """From (...,22,3) axis-angle (root first)."""
        full = _as_f32(np.asarray(full), (sk.NUM_JOINTS, 3), "pose")
        return cls(full[..., 0, :], full[..., 1:, :], transl)

    @classmethod
    def from_flat(cls, flat: Array, transl: Array | None = None) -> "Pose":
        """From AMASS-style flat vectors (...,66) body-only or (...,156) with hands."""
        flat = np.asarray(flat, dtype=np.float32)
        if flat.shape[-1] not in (66, 156):
            raise PoseError(f"flat pose must have 66 or 156 values per frame, got {flat.shape[-1]}")
        full = flat[..., :66].reshape(*flat.shape[:-1], 22, 3)
        hands = flat[..., 66:156].reshape(*flat.shape[:-1], 30, 3) if flat.shape[-1] == 156 else None
        p = cls.from_full(full, transl)
        if hands is not None:
            p.hand_pose = _as_f32(hands, (30, 3), "hand_pose")
        return p

    # views
    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.root_orient.shape[:-1]

    def full(self) -> np.ndarray:
        """(...,22,3) axis-angle, root first."""
        return np.concatenate([self.root_orient[..., None, :], self.body_pose], axis=-2)

    def flat156(self) -> np.ndarray:
        """AMASS `poses` layout: 22 body joints, 2 jaw/eye-free... (SMPL-H: 22 body + 30 hand joints)."""
        hands = self.hand_pose if self.hand_pose is not None else np.zeros(self.batch_shape + (30, 3), np.float32)
        return np.concatenate([self.full().reshape(*self.batch_shape, 66),
                               hands.reshape(*self.batch_shape, 90)], axis=-1)

    def matrices(self) -> np.ndarray:
        """(...,22,3,3) local rotation matrices."""
        return aa_to_matrix(self.full())

    def sixd(self) -> np.ndarray:
        """(...,22,6) local rotations in 6D."""
        return matrix_to_6d(self.matrices())

    def copy(self) -> "Pose":
        return Pose(self.root_orient.copy(), self.body_pose.copy(), self.transl.copy(),
                    None if self.hand_pose is None else self.hand_pose.copy())

    def __getitem__(self, idx) -> "Pose":
        return Pose(self.root_orient[idx], self.body_pose[idx], self.transl[idx],
                    None if self.hand_pose is None else self.hand_pose[idx])

    def __len__(self) -> int:
        if not self.batch_shape:
            raise TypeError("unbatched Pose has no len()")
        return self.batch_shape[0]

    def joint_aa(self, j: int) -> np.ndarray:
        return self.root_orient if j == 0 else self.body_pose[..., j - 1, :]

    def with_joint(self, j: int, aa: Array) -> "Pose":
        """A copy with joint ``j``'s local rotation replaced (j=0 is the root)."""
        p = self.copy()
        if j == 0:
            p.root_orient[...] = aa
        else:
            p.body_pose[..., j - 1, :] = aa
        return p

    def allclose(self, other: "Pose", atol: float = 1e-5) -> bool:
        return (np.allclose(self.full(), other.full(), atol=atol)
                and np.allclose(self.transl, other.transl, atol=atol))

    # stacking
    @staticmethod
    def stack(poses: list["Pose"]) -> "Pose":
        if not poses:
            raise PoseError("cannot stack an empty list of poses")
        hands = None
        if any(p.hand_pose is not None for p in poses):
            hands = np.stack([p.hand_pose if p.hand_pose is not None else np.zeros((30, 3), np.float32)
                              for p in poses])
        return Pose(np.stack([p.root_orient for p in poses]), np.stack([p.body_pose for p in poses]),
                    np.stack([p.transl for p in poses]), hands)


# --- pose operations -----------------------------------------------------------------------------------

def mirror_aa(full_aa: Array) -> Array:
    """Mirror (...,22,3) axis-angle left↔right: swap sides and reflect across the x=0 plane."""
    m = full_aa[..., sk.MIRROR, :]
    if isinstance(m, torch.Tensor):
        return m * torch.tensor([1.0, -1.0, -1.0], dtype=m.dtype, device=m.device)
    return m * np.array([1.0, -1.0, -1.0], dtype=m.dtype)


def mirror(pose: Pose) -> Pose:
    """The left/right mirror image of ``pose`` (reflection across the body's sagittal plane x=0)."""
    full = mirror_aa(pose.full())
    t = pose.transl * np.array([-1.0, 1.0, 1.0], np.float32)
    hands = None
    if pose.hand_pose is not None:
        h = pose.hand_pose
        hands = np.concatenate([h[..., 15:, :], h[..., :15, :]], axis=-2) * np.array([1.0, -1.0, -1.0], np.float32)
    p = Pose.from_full(full, t)
    p.hand_pose = hands
    return p


def heading_of(root_orient: Array) -> Array:
    """Heading (yaw about +y, radians) of a root orientation.

    Upright and tilted bodies: the yaw of the pelvis' forward (+z) axis, i.e. the Ry angle of the intrinsic
    YXZ decomposition R = Ry(heading)·Rx·Rz. When the forward axis is nearly vertical (lying on the back or
    face down: that decomposition is degenerate there) the yaw of the pelvis' left (+x) axis is used, so
    that the normalised body keeps its left side on +x."""
    t, np_in = _to_torch(root_orient)
    R = roma.rotvec_to_rotmat(t)
    fwd, left = R[..., :, 2], R[..., :, 0]
    h_fwd = torch.atan2(fwd[..., 0], fwd[..., 2])
    h_left = torch.atan2(-left[..., 2], left[..., 0])
    flat = fwd[..., 0] ** 2 + fwd[..., 2] ** 2 >= 0.25
    return _back(torch.where(flat, h_fwd, h_left), np_in)


def remove_heading(root_orient: Array, heading: Array) -> Array:
    """Root orientation with the heading ``heading`` taken off: Ry(-heading)·R."""
    t, np_in = _to_torch(root_orient)
    h, _ = _to_torch(heading)
    ry = roma.rotvec_to_rotmat(rot_y(-h.to(t.dtype)))
    return _back(roma.rotmat_to_rotvec(ry @ roma.rotvec_to_rotmat(t)), np_in)


def normalize_heading(pose: Pose) -> tuple[Pose, np.ndarray]:
    """PoseFix-style normalisation: zero the heading (yaw about y), keep tilt; translation is rotated with
    it (so a pair normalised with the same heading keeps its relative motion). Returns (pose, heading)."""
    h = np.asarray(heading_of(pose.root_orient), np.float32)
    return apply_heading(pose, -h), h


def apply_heading(pose: Pose, heading: Array) -> Pose:
    """Rotate the whole body (root orientation and translation) about +y by ``heading`` radians."""
    heading = np.asarray(heading, np.float32)
    R = aa_to_matrix(rot_y(heading))
    root = matrix_to_aa(R @ aa_to_matrix(pose.root_orient))
    transl = np.einsum("...ij,...j->...i", R, pose.transl)
    p = Pose(root, pose.body_pose.copy(), transl, None if pose.hand_pose is None else pose.hand_pose.copy())
    return p


def to_euler_deg(pose: Pose) -> np.ndarray:
    """(...,22,3) intrinsic-XYZ Euler angles in degrees (the joint-limit / slider parameterisation)."""
    return aa_to_euler(pose.full())


def limit_violation_deg(pose: Pose, limits: np.ndarray = sk.JOINT_LIMITS_DEG) -> np.ndarray:
    """(...,22) largest excess (degrees) of any Euler angle beyond its limit; 0 where within limits.

    Euler angles near gimbal lock are ambiguous, so the smallest violation over the two equivalent
    XYZ decompositions is reported."""
    e = to_euler_deg(pose)
    alt = np.stack([e[..., 0] + 180.0, 180.0 - e[..., 1], e[..., 2] + 180.0], -1)
    alt = (alt + 180.0) % 360.0 - 180.0

    def excess(a):
        lo, hi = limits[..., 0], limits[..., 1]
        return np.maximum(np.maximum(lo - a, a - hi), 0.0).max(-1)

    v = np.minimum(excess(e), excess(alt))
    v[..., 0] = 0.0
    return v


def clamp_to_limits(pose: Pose, limits: np.ndarray = sk.JOINT_LIMITS_DEG) -> Pose:
    """Project every non-root joint into its Euler-angle box (the root is left free)."""
    e = to_euler_deg(pose)
    viol = limit_violation_deg(pose, limits)
    clamped = np.clip(e, limits[..., 0], limits[..., 1])
    aa = euler_to_aa(clamped.astype(np.float32))
    full = pose.full().copy()
    fix = viol > 0
    fix[..., 0] = False
    full[fix] = aa[fix]
    return Pose.from_full(full, pose.transl.copy())


def interpolate(a: Pose, b: Pose, t: float) -> Pose:
    """Per-joint slerp between two poses (translation linearly)."""
    qa, qb = aa_to_quat(torch.as_tensor(a.full())), aa_to_quat(torch.as_tensor(b.full()))
    q = roma.unitquat_slerp(qa, qb, torch.tensor([float(t)]))[0]
    full = quat_to_aa(q).numpy()
    return Pose.from_full(full, (1 - t) * a.transl + t * b.transl)
