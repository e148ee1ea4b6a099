"""The canonical pose type and every rotation conversion PoseTailor uses (all through ``roma``).

``Pose`` = SMPL-H body pose: ``root_orient`` (...,3) + ``body_pose`` (...,21,3) axis-angle in SMPL-H
joint order, ``transl`` (...,3), y-up, metres, facing +z; optional ``hand_pose`` (...,30,3).
Leading dimensions are batch dimensions. Arrays are numpy float32; the conversion helpers accept numpy
arrays or torch tensors and return the same kind they were given.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core_models import skeleton as sk

if TYPE_CHECKING:
    import roma
    import torch
else:
    class _LazyModule:
        """``torch`` / ``roma`` imported at their first use (importing roma loads torch: ~2-4 s), so code that
        only needs numpy (the viewport's first frame, pose files) never pays for it."""

        def __init__(self, name: str):
            self._name = name

        def __getattr__(self, attr: str):
            return getattr(importlib.import_module(self._name), attr)

    torch = _LazyModule("torch")
    roma = _LazyModule("roma")

Array = Any  # np.ndarray | torch.Tensor


def _is_tensor(x) -> bool:
    """isinstance(x, torch.Tensor) without importing torch (no tensor can exist before torch is imported)."""
    t = sys.modules.get("torch")
    return t is not None and isinstance(x, t.Tensor)


# --- conversions (numpy or torch in, same kind out) ---------------------------------------------------

def _to_torch(x) -> tuple[torch.Tensor, bool]:
    if _is_tensor(x):
        return x, False
    a = np.asarray(x)
    if any(st < 0 for st in a.strides):  # views like a[..., ::-1] are not accepted by torch
        a = a.copy()
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


def quat_to_matrix(q: Array) -> Array:
    """Unit quaternion (XYZW; normalised here) → rotation matrix."""
    t, np_in = _to_torch(q)
    return _back(roma.unitquat_to_rotmat(t / t.norm(dim=-1, keepdim=True)), np_in)


def matrix_to_quat(R: Array) -> Array:
    """Rotation matrix → unit quaternion (XYZW)."""
    t, np_in = _to_torch(R)
    return _back(roma.rotmat_to_unitquat(t), np_in)


def matrix_to_euler(R: Array, convention: str = sk.EULER_CONVENTION, degrees: bool = True) -> Array:
    """Rotation matrix → Euler angles; ``convention`` as roma/scipy name them (upper case intrinsic, lower
    case extrinsic). Exact at gimbal lock (the third angle is then 0)."""
    t, np_in = _to_torch(R)
    return _back(roma.rotmat_to_euler(convention, t, degrees=degrees), np_in)


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


def euler_to_matrix(angles: Array, convention: str = sk.EULER_CONVENTION, degrees: bool = True) -> Array:
    """Euler angles (..., len(convention)) → rotation matrices; any number of axes (upper case intrinsic:
    'ZYX' → Rz·Ry·Rx, lower case extrinsic)."""
    t, np_in = _to_torch(angles)
    return _back(roma.euler_to_rotmat(convention, t, degrees=degrees), np_in)


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


# --- numpy closed forms for per-frame code (the live capture path) -------------------------------------
# A roma call costs 150-500 µs on small tensors (torch dispatch), more than a whole GeometricSolver frame's
# budget, so per-frame numpy code uses these vectorised closed forms of the same conversions instead; every
# one is checked against its roma counterpart in tests/core/test_pose_rotations.py. float64 in and out.

def _skew(v: np.ndarray) -> np.ndarray:
    z = np.zeros_like(v[..., 0])
    x, y, w = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([z, -w, y, w, z, -x, -y, x, z], -1).reshape(v.shape[:-1] + (3, 3))


def aa_to_matrix_np(aa: np.ndarray) -> np.ndarray:
    """(...,3) rotation vectors → (...,3,3) (Rodrigues; roma.rotvec_to_rotmat)."""
    v = np.asarray(aa, np.float64)
    th = np.sqrt((v * v).sum(-1))[..., None, None]
    small = th < 1e-6
    t = np.where(small, 1.0, th)
    s1 = np.where(small, 1.0 - th * th / 6.0, np.sin(t) / t)
    s2 = np.where(small, 0.5 - th * th / 24.0, (1.0 - np.cos(t)) / (t * t))
    K = _skew(v)
    return np.eye(3) + s1 * K + s2 * (K @ K)


#: Shepperd's method: row k of 4·q_k·q (q = w, x, y, z) as indices into (diag(4), d(3), s(3)) below
_SHEPPERD_ROWS = np.array([[0, 4, 5, 6], [4, 1, 7, 8], [5, 7, 2, 9], [6, 8, 9, 3]])


def matrix_to_aa_np(R: np.ndarray) -> np.ndarray:
    """(...,3,3) → (...,3) rotation vectors, angle in [0, π] (through the quaternion by Shepperd's method, so
    rotations near 180° stay exact; roma.rotmat_to_rotvec)."""
    R = np.asarray(R, np.float64)
    m = R.reshape(R.shape[:-2] + (9,))
    m00, m11, m22 = m[..., 0], m[..., 4], m[..., 8]
    tr = m00 + m11 + m22
    comps = np.stack([1.0 + tr, 1.0 + m00 - m11 - m22, 1.0 + m11 - m00 - m22, 1.0 + m22 - m00 - m11,
                      m[..., 7] - m[..., 5], m[..., 2] - m[..., 6], m[..., 3] - m[..., 1],
                      m[..., 1] + m[..., 3], m[..., 2] + m[..., 6], m[..., 5] + m[..., 7]], -1)
    k = comps[..., :4].argmax(-1)
    q = np.take_along_axis(comps, _SHEPPERD_ROWS[k], -1)  # ∝ (w, x, y, z)
    q = q * np.where(q[..., :1] < 0, -1.0, 1.0)  # w ≥ 0: angle in [0, π]
    n = np.sqrt((q[..., 1:] ** 2).sum(-1))
    ang = 2.0 * np.arctan2(n, q[..., 0])
    scale = np.where(n > 1e-12, ang / np.maximum(n, 1e-300), 2.0 / np.maximum(q[..., 0], 1e-300))
    return q[..., 1:] * scale[..., None]


def euler_xyz_deg_np(R: np.ndarray) -> np.ndarray:
    """(...,3,3) → (...,3) intrinsic XYZ Euler angles in degrees (R = Rx·Ry·Rz; roma.rotmat_to_euler('XYZ'))."""
    R = np.asarray(R, np.float64)
    a = np.arctan2(-R[..., 1, 2], R[..., 2, 2])
    b = np.arcsin(np.clip(R[..., 0, 2], -1.0, 1.0))
    c = np.arctan2(-R[..., 0, 1], R[..., 0, 0])
    return np.degrees(np.stack([a, b, c], axis=-1))


def euler_xyz_deg_to_matrix_np(e_deg: np.ndarray) -> np.ndarray:
    """(...,3) intrinsic XYZ Euler angles in degrees → (...,3,3) (roma.euler_to_rotmat('XYZ'))."""
    a, b, c = np.moveaxis(np.radians(np.asarray(e_deg, np.float64)), -1, 0)
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    return np.stack([cb * cc, -cb * sc, sb,
                     ca * sc + sa * sb * cc, ca * cc - sa * sb * sc, -sa * cb,
                     sa * sc - ca * sb * cc, sa * cc + ca * sb * sc, ca * cb], -1).reshape(a.shape + (3, 3))


def nearest_rotation_np(M: np.ndarray) -> np.ndarray:
    """:func:`nearest_rotation` in numpy (roma.special_procrustes): U·diag(1,1,det(UVᵀ))·Vᵀ."""
    U, _s, Vt = np.linalg.svd(np.asarray(M, np.float64))
    d = np.where(np.linalg.det(U @ Vt) < 0, -1.0, 1.0)
    U = U.copy()
    U[..., :, 2] *= d[..., None]
    return U @ Vt


def _cross_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product over the last axis (np.cross costs ~40 µs of axis juggling on small inputs)."""
    return np.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1], a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                     a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], -1)


def rotation_between_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(...,3), (...,3) directions → (...,3,3) the smallest rotation taking a onto b (about a×b; for
    opposite directions a half turn about an axis ⟂ a). Algebraic form I + K + K²/(1 + cos), K = [a×b]ₓ."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    a = a / np.maximum(np.sqrt((a * a).sum(-1, keepdims=True)), 1e-12)
    b = b / np.maximum(np.sqrt((b * b).sum(-1, keepdims=True)), 1e-12)
    c = (a * b).sum(-1)[..., None, None]
    axb = _cross_np(a, b)
    K = _skew(axb)
    R = np.eye(3) + K + (K @ K) / np.maximum(1.0 + c, 1e-300)
    near = (c < -1.0 + 1e-6)[..., 0, 0]
    if np.any(near):
        # (nearly) opposite: K²/(1 + cos) loses precision, so turn half-way about u = a×b/|a×b| (a ⟂ u → −a),
        # then the small rotation −a → b (same axis: the angles add up to the smallest rotation). Exactly
        # opposite directions have no a×b: any axis ⟂ a
        ao, bo, cr = a[near], b[near], axb[near]
        other = np.where(np.abs(ao[..., :1]) < 0.9, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        norm = np.sqrt((cr * cr).sum(-1, keepdims=True))
        n = np.where(norm > 1e-12, cr, _cross_np(ao, other))
        n = n / np.sqrt((n * n).sum(-1, keepdims=True))
        half = 2.0 * n[..., :, None] * n[..., None, :] - np.eye(3)
        Ks = _skew(_cross_np(-ao, bo))
        small = np.eye(3) + Ks + (Ks @ Ks) / (1.0 + (-ao * bo).sum(-1))[..., None, None]
        R[near] = small @ half
    return R


def rot_y(angle: Array) -> Array:
    """Axis-angle of a rotation about +y (heading) by ``angle`` radians; (...,) → (...,3)."""
    if _is_tensor(angle):
        z = torch.zeros_like(angle)
        return torch.stack([z, angle, z], -1)
    a = np.asarray(angle, dtype=np.float32)
    za = np.zeros_like(a)
    return np.stack([za, a, za], -1)


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
    transl: np.ndarray = None  # type: ignore[assignment]  # None → zeros (__post_init__)
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
        zeros = np.zeros(full.shape[:-2] + (3,), np.float32)
        return cls(full[..., 0, :], full[..., 1:, :], zeros if transl is None else transl)

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
    if _is_tensor(m):
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


# --- joint limits (the one implementation; gimbal-aware) ------------------------------------------------
#
# A rotation R has two exact XYZ decompositions (a, b, c) and (a+180, 180-b, c+180). Near gimbal lock
# (|b| -> 90) the x and z rotations turn about nearly the same axis: R depends (almost) only on a+c (b > 0)
# or c-a (b < 0), so the split between a and c is ill-conditioned and float noise alone can push one of them
# across its limit (an elbow flexed 90° or an arm raised forward: common). So for |b| > GIMBAL_ZONE_DEG the
# check also considers, for each exact decomposition, the decompositions that keep that sum/difference and
# spread it to fit the box; such a candidate is charged its rotation distance to R beyond GIMBAL_TOL_DEG
# (that distance is ~0 at gimbal lock and grows away from it). The violation of a joint is the least (excess
# over the box + charged distance) over all candidates, and 0 below LIMIT_NOISE_DEG.

#: violations below this (degrees) are float noise of float32 poses and reported as 0
LIMIT_NOISE_DEG = 1e-3
#: |y| (degrees) from which the ill-conditioned x/z split is searched
GIMBAL_ZONE_DEG = 60.0
#: a decomposition inside the box within this rotation distance (degrees) of R counts as exact
GIMBAL_TOL_DEG = 2.0


def _box_excess(e: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(...,3) Euler angles → (...) largest excess (degrees) beyond [lo, hi]."""
    return np.maximum(np.maximum(lo - e, e - hi), 0.0).max(-1)


def _wrap_deg(e: np.ndarray) -> np.ndarray:
    return (e + 180.0) % 360.0 - 180.0


_SEAM = np.array([0.0, -360.0, 360.0])


def _towards_box(e: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Each angle replaced by its representative (± 360°) nearest to [lo, hi] (same rotation; matters at the
    ±180° seam, e.g. y = −180° vs a box reaching +160°)."""
    s = e[..., None] + _SEAM
    d = np.maximum(np.maximum(lo[..., None] - s, s - hi[..., None]), 0.0)
    return np.take_along_axis(s, d.argmin(-1)[..., None], -1)[..., 0]


def _alt_euler(e: np.ndarray) -> np.ndarray:
    """The other exact XYZ decomposition of the same rotation."""
    return _wrap_deg(np.stack([e[..., 0] + 180.0, 180.0 - e[..., 1], e[..., 2] + 180.0], -1))


_RESPREAD_SIGN = np.array([1.0, 1.0, -1.0, -1.0])
_RESPREAD_SHIFT = np.array([0.0, 360.0, 0.0, 360.0])


def _respread(e: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(...,3) → (...,4,3): decompositions keeping a+c (exact at b = 90°) or c−a (exact at b = −90°) — both
    are tried whatever the sign of b, so that the search is mirror-symmetric — with a moved the least that
    fits a and c in the box (or, if impossible, balancing their excess); the kept combination is defined
    modulo 360°, both representatives are tried."""
    a, b = e[..., 0, None], e[..., 1, None]
    sgn = _RESPREAD_SIGN
    k = e[..., 2, None] + sgn * a  # c' = k − sgn·a'
    k = k - np.sign(k) * _RESPREAD_SHIFT
    lo_a, hi_a, lo_c, hi_c = lo[..., 0, None], hi[..., 0, None], lo[..., 2, None], hi[..., 2, None]
    lo_a = np.maximum(lo_a, np.where(sgn > 0, k - hi_c, lo_c - k))
    hi_a = np.minimum(hi_a, np.where(sgn > 0, k - lo_c, hi_c - k))
    a2 = np.where(lo_a <= hi_a, np.minimum(np.maximum(a, lo_a), hi_a), (lo_a + hi_a) / 2)
    return np.stack([a2, np.broadcast_to(b, a2.shape), k - sgn * a2], -1)


def _respread_search(R: np.ndarray, exact: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """(n,3,3), (n,2,3) exact decompositions, (n,1,3) limits → ((n,) least excess + distance to R over the
    respread candidates, (n,3) the candidate)."""
    cands = _towards_box(np.concatenate([_respread(exact[:, 0], lo[:, 0], hi[:, 0]),
                                         _respread(exact[:, 1], lo[:, 0], hi[:, 0])], -2), lo, hi)
    cos = (np.einsum("nkij,nij->nk", euler_xyz_deg_to_matrix_np(cands), R) - 1.0) / 2.0
    dist = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    score = _box_excess(cands, lo, hi) + np.maximum(dist - GIMBAL_TOL_DEG, 0.0)
    k = score.argmin(-1)
    return score[np.arange(len(k)), k], cands[np.arange(len(k)), k]


def _limit_search(R: np.ndarray, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(...,22,3,3) local matrices → ((...,22) violation in degrees, (...,22,3) the best decomposition)."""
    R = np.asarray(R, np.float64)
    lo, hi = limits[..., 0], limits[..., 1]
    e = euler_xyz_deg_np(R)
    alt = _alt_euler(e)
    ex, ex_alt = _box_excess(e, lo, hi), _box_excess(alt, lo, hi)
    best = np.where((ex_alt < ex)[..., None], alt, e)
    viol = np.minimum(ex, ex_alt)
    slow = viol >= LIMIT_NOISE_DEG
    slow[..., 0] = False
    if slow.any():  # only joints outside the box by both exact decompositions pay for the search
        lo_s, hi_s = np.broadcast_to(lo, e.shape)[slow][:, None], np.broadcast_to(hi, e.shape)[slow][:, None]
        exact = _towards_box(np.stack([e[slow], alt[slow]], -2), lo_s, hi_s)
        ex_s = _box_excess(exact, lo_s, hi_s)
        k = ex_s.argmin(-1)
        viol[slow] = ex_s[np.arange(len(k)), k]
        best[slow] = exact[np.arange(len(k)), k]
        near = np.abs(e[slow][:, 1]) > GIMBAL_ZONE_DEG
        if near.any():
            v, b = _respread_search(R[slow][near], exact[near], lo_s[near], hi_s[near])
            sel = np.nonzero(slow)
            sel = tuple(ix[near] for ix in sel)
            better = v < viol[sel]
            viol[sel] = np.where(better, v, viol[sel])
            best[sel] = np.where(better[:, None], b, best[sel])
    viol[..., 0] = 0.0
    viol[viol < LIMIT_NOISE_DEG] = 0.0
    return viol, best


def limit_violation_matrices(R: np.ndarray, limits: np.ndarray = sk.JOINT_LIMITS_DEG) -> np.ndarray:
    """(...,22) violation (degrees) of (...,22,3,3) local rotation matrices; 0 within the limits and at the
    root. Gimbal-aware: see the comment above."""
    return _limit_search(R, limits)[0]


def clamp_matrices(R: np.ndarray, limits: np.ndarray = sk.JOINT_LIMITS_DEG) -> np.ndarray:
    """(...,22,3,3) local matrices with every violating non-root joint replaced by the best decomposition
    clipped into its box (joints within the limits are returned unchanged, bit for bit)."""
    R = np.asarray(R, np.float64)
    viol, best = _limit_search(R, limits)
    fix = viol > 0
    if not fix.any():
        return R
    lo = np.broadcast_to(limits[..., 0], best.shape)[fix]
    hi = np.broadcast_to(limits[..., 1], best.shape)[fix]
    out = R.copy()
    out[fix] = euler_xyz_deg_to_matrix_np(np.clip(best[fix], lo, hi))
    return out


def limit_euler_deg(full_aa: np.ndarray, limits: np.ndarray = sk.JOINT_LIMITS_DEG) -> np.ndarray:
    """(...,22,3) axis-angle → (...,22,3) intrinsic-XYZ Euler angles (degrees) of exactly these rotations,
    choosing per joint between the two exact decompositions (and their ±360° representatives) the one that
    fits its limits best — what joint sliders show. The root keeps the plain decomposition."""
    e = euler_xyz_deg_np(aa_to_matrix_np(full_aa))
    lo, hi = np.broadcast_to(limits[..., 0], e.shape), np.broadcast_to(limits[..., 1], e.shape)
    exact = _towards_box(np.stack([e, _alt_euler(e)], -2), lo[..., None, :], hi[..., None, :])
    ex = _box_excess(exact, lo[..., None, :], hi[..., None, :])
    best = np.where((ex[..., 1] + 1e-6 < ex[..., 0])[..., None], exact[..., 1, :], exact[..., 0, :])
    best[..., 0, :] = e[..., 0, :]
    return best


def limit_violation_deg(pose: Pose, limits: np.ndarray = sk.JOINT_LIMITS_DEG) -> np.ndarray:
    """(...,22) largest excess (degrees) of the joints' Euler angles beyond their limits; 0 within the limits
    and at the root (gimbal-aware, :func:`limit_violation_matrices`)."""
    return limit_violation_matrices(aa_to_matrix_np(pose.full()), limits).astype(np.float32)


def clamp_to_limits(pose: Pose, limits: np.ndarray = sk.JOINT_LIMITS_DEG) -> Pose:
    """Project every violating non-root joint into its Euler-angle box (the root is left free, joints within
    the limits keep their exact values)."""
    R = aa_to_matrix_np(pose.full())
    viol, _ = _limit_search(R, limits)
    full = pose.full().copy()
    fix = viol > 0
    if fix.any():
        full[fix] = matrix_to_aa_np(clamp_matrices(R, limits)[fix]).astype(np.float32)
    out = Pose.from_full(full, pose.transl.copy())
    out.hand_pose = None if pose.hand_pose is None else pose.hand_pose.copy()
    return out


def interpolate(a: Pose, b: Pose, t: float) -> Pose:
    """Per-joint slerp between two poses (translation linearly)."""
    qa, qb = aa_to_quat(torch.as_tensor(a.full())), aa_to_quat(torch.as_tensor(b.full()))
    q = roma.unitquat_slerp(qa, qb, torch.tensor([float(t)]))[0]
    full = quat_to_aa(q).numpy()
    out = Pose.from_full(full, (1 - t) * a.transl + t * b.transl)
    if a.hand_pose is not None and b.hand_pose is not None:  # the fingers too; with one hand pose, that one
        qh = roma.unitquat_slerp(aa_to_quat(torch.as_tensor(a.hand_pose)), aa_to_quat(torch.as_tensor(b.hand_pose)),
                                 torch.tensor([float(t)]))[0]
        out.hand_pose = quat_to_aa(qh).numpy().astype(np.float32)
    else:
        hp = a.hand_pose if a.hand_pose is not None else b.hand_pose
        out.hand_pose = None if hp is None else hp.copy()
    return out
