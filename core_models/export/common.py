"""Shared pieces of the exporters: input checks, bone naming, per-frame transforms, Euler curves, atomic writes.

Rig conventions (every format): one bone per SMPL-H body joint, at the body's ``rest_joints``; when the poses
carry a ``hand_pose`` (and the body has finger bones) 30 finger bones more, SMPL-H order (:func:`rig_data`). BVH (and
``compute_frames`` without ``rest_orient``) uses an *identity* rest orientation (world-aligned joint frames, the
SMPL T-pose): a bone's animated local rotation is exactly the pose's local rotation, the root bone's local
translation is ``rest_joints[0] + transl`` and every other bone's local translation is its constant rest offset
from its parent. Finger bones: their rest (identity) frame is the *flat* hand, world-aligned (``hand_pose = 0``, so BVH
carries the hand pose as is); the mesh is bound with the hands at the body's ``hand_rest_pose`` (Anny's relaxed
hand), so the FBX/GLB bind pose puts the finger bones there (``rest_world`` / ``rest_local_rot``).
FBX and GLB orient each bone along its limb (:func:`limb_orientations`, Mixamo-style: local +Y
towards the child joint) so DCC tools show a proper armature: with rest orientation B_j the bone's world matrix
becomes [G_j·B_j | p_j], its local rotation B_parent^T·L_j·B_j and its bind matrix [B_j | J_j], so the skinning
transform G'·bind'^-1 is unchanged. With the body's skinning weights this reproduces PoseTailor's own LBS:
v = Σ_j w_vj · G_j · [I | −J_j] · v_rest.

No Qt here.
"""
from __future__ import annotations

import contextlib
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from core_models.body.base import SkinningData, hand_skinning
from core_models.io.rig_names import MIXAMO_HAND_NAMES, MIXAMO_NAMES, MIXAMO_PREFIX
from core_models.pose import Pose, aa_to_matrix
from core_models.pose import matrix_to_euler as pose_matrix_to_euler

ProgressFn = Callable[[float], None]


class ExportError(ValueError):
    """An export that cannot be done (bad input, unwritable destination, ...). The message says why."""


# --- bone naming ---------------------------------------------------------------------------------------

RIGS: tuple[str, ...] = ("smplh", "mixamo")

# MIXAMO_NAMES (SMPL-H joint → Mixamo bone name) and MIXAMO_PREFIX live in core_models.io.rig_names (shared)


def bone_names(joint_names: Sequence[str], rig: str = "smplh", prefix: str | None = None) -> list[str]:
    """Bone names for ``rig``: ``"smplh"`` keeps the SMPL-H joint names, ``"mixamo"`` gives
    ``mixamorig:Hips``, ``mixamorig:LeftUpLeg``, … (``prefix`` overrides the namespace; ``""`` for none)."""
    rig = (rig or "smplh").lower()
    if rig == "smplh":
        names = [str(n) for n in joint_names]
    elif rig == "mixamo":
        pre = MIXAMO_PREFIX if prefix is None else prefix
        table = {**MIXAMO_NAMES, **MIXAMO_HAND_NAMES}
        missing = [n for n in joint_names if n not in table]
        if missing:
            raise ExportError(f"no Mixamo name for joint(s) {missing}")
        names = [pre + table[n] for n in joint_names]
    else:
        raise ExportError(f"unknown rig naming {rig!r} (use one of {', '.join(RIGS)})")
    if len(set(names)) != len(names):
        raise ExportError("bone names are not unique")
    return names


# --- inputs --------------------------------------------------------------------------------------------

def as_skinning(body) -> SkinningData:
    """A BodyModel (anything with ``.skinning``) or SkinningData → SkinningData, checked."""
    if body is None:
        raise ExportError("no body model given")
    data = body if isinstance(body, SkinningData) else getattr(body, "skinning", None)
    if not isinstance(data, SkinningData):
        raise ExportError(f"expected a body model or SkinningData, got {type(body).__name__}")
    J = len(data.joint_names)
    if data.rest_joints.shape != (J, 3) or data.parents.shape != (J,):
        raise ExportError("skinning data: rest_joints/parents do not match joint_names")
    if data.parents[0] != -1 or np.any(data.parents[1:] < 0) or np.any(data.parents[1:] >= np.arange(1, J)):
        raise ExportError("skinning data: parents must be topologically ordered with one root first")
    if data.weights.shape != (data.rest_vertices.shape[0], J):
        raise ExportError(f"skinning data: weights shape {data.weights.shape} does not match "
                          f"({data.rest_vertices.shape[0]}, {J})")
    return data


def rig_data(body, poses: Pose) -> SkinningData:
    """The skeleton + skin to export ``poses`` with: the body's 52-joint hand layer when the poses carry a
    ``hand_pose`` and the body has finger bones, else its 22-joint layer (poses without hands export exactly as
    before; a hand pose on a body without finger bones is left out)."""
    data = as_skinning(body)
    if poses.hand_pose is not None:
        d52 = hand_skinning(data)
        if d52 is not None:
            return as_skinning(d52)
    return data


def default_skeleton_data() -> SkinningData:
    """Skeleton-only SkinningData (no mesh) of the default SMPL-H rest skeleton, with flat default hands, for
    BVH without a body."""
    from core_models import skeleton as sk
    from core_models.hands import default_hand_joints

    J = sk.NUM_JOINTS
    return SkinningData(rest_vertices=np.zeros((0, 3), np.float32), rest_normals=np.zeros((0, 3), np.float32),
                        faces=np.zeros((0, 3), np.int32), rest_joints=sk.DEFAULT_REST_JOINTS.astype(np.float32),
                        parents=sk.PARENTS.copy(), joint_names=tuple(sk.JOINT_NAMES),
                        weights=np.zeros((0, J), np.float32), weight_idx=np.zeros((0, 4), np.int32),
                        weight_val=np.zeros((0, 4), np.float32), floor_height=-sk.DEFAULT_PELVIS_HEIGHT,
                        hand_rest_joints=default_hand_joints(sk.DEFAULT_REST_JOINTS),
                        hand_rest_pose=np.zeros((30, 3), np.float32), weights52=np.zeros((0, 52), np.float32))


def grounded(data: SkinningData) -> SkinningData:
    """The same body moved up so that its rest-pose floor (lowest rest vertex) is at y = 0: rest vertices and
    rest joints shifted by −floor_height (DCC tools expect feet on the ground plane). Exported animation then
    equals PoseTailor's posed body plus that constant offset."""
    import dataclasses

    dy = -float(data.floor_height)
    off = np.array([0.0, dy, 0.0], dtype=np.float32)
    hands = None if data.hand_rest_joints is None else data.hand_rest_joints + off
    return dataclasses.replace(data, rest_vertices=data.rest_vertices + off, rest_joints=data.rest_joints + off,
                               floor_height=0.0, hand_rest_joints=hands)


def rest_hand_of(body) -> np.ndarray | None:
    """The hand pose a body's mesh is modelled in (None: flat, or no body / no finger bones)."""
    data = body if isinstance(body, SkinningData) else getattr(body, "skinning", None)
    return getattr(data, "hand_rest_pose", None)


def as_pose_batch(poses, rest_hand: np.ndarray | None = None) -> Pose:
    """A single Pose, a batched Pose (N,) or a list of Poses → a Pose with batch shape (N,), checked. In a list
    where only some poses have a hand pose, the others get ``rest_hand`` (the body's own hand; flat if None)."""
    if isinstance(poses, (list, tuple)):
        if not poses:
            raise ExportError("nothing to export: the pose sequence is empty")
        if not all(isinstance(p, Pose) for p in poses):
            raise ExportError("expected Pose objects in the sequence")
        if any(p.batch_shape != () for p in poses):
            raise ExportError("a pose list must hold single (unbatched) poses")
        if rest_hand is not None and any(p.hand_pose is not None for p in poses):
            poses = [p if p.hand_pose is not None else Pose(p.root_orient, p.body_pose, p.transl, rest_hand)
                     for p in poses]
        poses = Pose.stack(list(poses))
    if not isinstance(poses, Pose):
        raise ExportError(f"expected a Pose, got {type(poses).__name__}")
    bs = poses.batch_shape
    if bs == ():
        poses = poses[None]
    elif len(bs) != 1:
        raise ExportError(f"expected a single pose or a sequence (N,), got batch shape {bs}")
    if len(poses) == 0:
        raise ExportError("nothing to export: the pose sequence is empty")
    arrays = [("root_orient", poses.root_orient), ("body_pose", poses.body_pose), ("transl", poses.transl)]
    if poses.hand_pose is not None:
        arrays.append(("hand_pose", poses.hand_pose))
    for name, a in arrays:
        bad = ~np.isfinite(a).reshape(len(poses), -1).all(1)
        if bad.any():
            raise ExportError(f"{name} contains NaN or infinite values (frame {int(np.nonzero(bad)[0][0])})")
    return poses


def check_fps(fps) -> float:
    try:
        f = float(fps)
    except (TypeError, ValueError):
        raise ExportError(f"fps must be a number, got {fps!r}") from None
    if not (math.isfinite(f) and 0 < f <= 1000):
        raise ExportError(f"fps must be in (0, 1000], got {fps!r}")
    return f


# --- per-frame transforms ------------------------------------------------------------------------------

@dataclass
class Frames:
    """Animation of the rig in PoseTailor's canonical frame (float64)."""

    local_rot: np.ndarray  # (N,J,3,3) local rotation of each bone
    local_trans: np.ndarray  # (N,J,3) local translation (root: rest_joints[0] + transl; others: rest offset)
    world: np.ndarray  # (N,J,4,4) world transform of each bone
    rest_world: np.ndarray  # (J,4,4) bind/rest world transform ([B_j | J_j], B_j = I without rest_orient)
    offsets: np.ndarray  # (J,3) rest local translation (root: rest_joints[0])
    rest_local_rot: np.ndarray | None = None  # (J,3,3) local rotation of the rest pose (None: identity)

    @property
    def num_frames(self) -> int:
        return self.local_rot.shape[0]


def primary_child(j: int, names: Sequence[str], parents: np.ndarray) -> int | None:
    """The child a bone points at: its only child, else the one on the midline (pelvis → spine1, spine3 →
    neck), else the first; None for a leaf."""
    kids = [int(c) for c in np.nonzero(np.asarray(parents) == j)[0]]
    if not kids:
        return None
    mid = [c for c in kids if not str(names[c]).lower().startswith(("left", "right", "l_", "r_"))]
    middle = [c for c in kids if str(names[c]).lower().endswith(("middle1", "handmiddle1"))]  # the wrist
    return (mid or middle or kids)[0]


def limb_orientations(rest_joints: np.ndarray, parents: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """(J,3,3) rest orientation of each bone (columns = the bone's local x, y, z in world): +Y along the limb
    (towards :func:`primary_child`; a leaf continues its parent's direction), +Z as close to the body's front
    (+z; +y where the limb points forwards, the feet) as that allows, X = Y × Z."""
    rest = np.asarray(rest_joints, np.float64)
    J = len(rest)
    out = np.empty((J, 3, 3))
    for j in range(J):
        c = primary_child(j, names, parents)
        if c is not None:
            y = rest[c] - rest[j]
        elif parents[j] >= 0:
            y = rest[j] - rest[parents[j]]
        else:
            y = np.array([0.0, 1.0, 0.0])
        n = float(np.linalg.norm(y))
        y = y / n if n > 1e-9 else np.array([0.0, 1.0, 0.0])
        ref = np.array([0.0, 0.0, 1.0]) if abs(y[2]) < 0.8 else np.array([0.0, 1.0, 0.0]) * np.sign(y[2])
        z = ref - ref.dot(y) * y
        z /= np.linalg.norm(z)
        out[j] = np.stack([np.cross(y, z), y, z], axis=1)
    return out


def _orient(frames: Frames, parents: np.ndarray, B: np.ndarray) -> Frames:
    """The same animation with bone j's rest orientation ``B[j]`` (see the module docstring)."""
    Bp = np.stack([B[p] if p >= 0 else np.eye(3) for p in parents])  # (J,3,3)
    BpT = np.swapaxes(Bp, -1, -2)
    local_rot = BpT[None] @ frames.local_rot @ B[None]
    lt = frames.local_trans.copy()
    lt[:, 1:] = np.einsum("jab,njb->nja", BpT[1:], lt[:, 1:])
    offsets = frames.offsets.copy()
    offsets[1:] = np.einsum("jab,jb->ja", BpT[1:], offsets[1:])
    world = frames.world.copy()
    world[..., :3, :3] = world[..., :3, :3] @ B[None]
    rest_world = frames.rest_world.copy()
    rest_world[:, :3, :3] = rest_world[:, :3, :3] @ B
    rest_local = np.tile(np.eye(3), (len(B), 1, 1)) if frames.rest_local_rot is None else frames.rest_local_rot
    return Frames(local_rot, lt, world, rest_world, offsets, BpT @ rest_local @ B)


def _local_rotations(poses: Pose, J: int, rest_hand: np.ndarray | None) -> np.ndarray:
    """(N,J,3,3) local rotations: the 22 body joints, then (J = 52) the hand pose (the body's rest hand when the
    poses have none)."""
    aa = poses.full().astype(np.float64)
    if J == 52:
        hands = poses.hand_pose
        if hands is None:
            hands = np.broadcast_to(np.zeros((30, 3)) if rest_hand is None else rest_hand, (len(poses), 30, 3))
        aa = np.concatenate([aa, np.asarray(hands, np.float64)], axis=1)
    elif J != 22:
        raise ExportError(f"the pose has 22 body joints (52 with hands) but the body has {J}")
    return np.asarray(aa_to_matrix(aa), dtype=np.float64)


def _bind_pose(rest: np.ndarray, offsets: np.ndarray, parents: np.ndarray, rest_hand: np.ndarray | None):
    """(rest world (J,4,4), rest local rotations (J,3,3) or None): the skeleton where the mesh is modelled (body
    in the zero pose; hands, J = 52, at ``rest_hand``)."""
    J = len(rest)
    rest_world = np.tile(np.eye(4), (J, 1, 1))
    rest_world[:, :3, 3] = rest
    if J != 52 or rest_hand is None or not np.any(rest_hand):
        return rest_world, None
    Rl = np.tile(np.eye(3), (J, 1, 1))
    Rl[22:] = np.asarray(aa_to_matrix(np.asarray(rest_hand, np.float64)), np.float64)
    for j in range(1, J):
        p = parents[j]
        local = np.eye(4)
        local[:3, :3] = Rl[j]
        local[:3, 3] = offsets[j]
        rest_world[j] = rest_world[p] @ local
    return rest_world, Rl


def compute_frames(poses: Pose, rest_joints: np.ndarray, parents: np.ndarray,
                   rest_orient: np.ndarray | None = None, rest_hand: np.ndarray | None = None) -> Frames:
    """Per-frame bone transforms; ``rest_orient`` (J,3,3): the bones' rest orientations (None: identity).
    ``rest_joints`` (22,3), or (52,3) with the finger joints (flat hand); ``rest_hand`` (30,3): the hand pose the
    mesh is bound at (the bind pose; also the hands of poses without a ``hand_pose``)."""
    poses = as_pose_batch(poses)
    N = len(poses)
    J = rest_joints.shape[0]
    R = _local_rotations(poses, J, rest_hand)  # (N,J,3,3)
    rest = np.asarray(rest_joints, dtype=np.float64)
    offsets = rest.copy()
    offsets[1:] = rest[1:] - rest[parents[1:]]
    lt = np.broadcast_to(offsets, (N, J, 3)).copy()
    lt[:, 0] = rest[0] + poses.transl.astype(np.float64)
    local = np.zeros((N, J, 4, 4))
    local[..., :3, :3] = R
    local[..., :3, 3] = lt
    local[..., 3, 3] = 1.0
    world = np.empty_like(local)
    world[:, 0] = local[:, 0]
    for j in range(1, J):
        world[:, j] = world[:, parents[j]] @ local[:, j]
    rest_world, rest_local = _bind_pose(rest, offsets, parents, rest_hand)
    frames = Frames(R, lt, world, rest_world, offsets, rest_local)
    return frames if rest_orient is None else _orient(frames, parents, np.asarray(rest_orient, np.float64))


def skin_matrices(frames: Frames) -> np.ndarray:
    """(N,J,4,4) rest→posed skinning transforms A_j = G_j · inverse(bind_j)."""
    return frames.world @ np.linalg.inv(frames.rest_world)[None]


def lbs_dense(skin: np.ndarray, weights: np.ndarray, rest_vertices: np.ndarray) -> np.ndarray:
    """Dense LBS reference: skin (N,J,4,4), weights (V,J), rest (V,3) → (N,V,3)."""
    M = np.einsum("vj,njab->nvab", weights.astype(np.float64), skin[..., :3, :])
    v = rest_vertices.astype(np.float64)
    return np.einsum("nvab,vb->nva", M[..., :3], v) + M[..., 3]


# --- Euler curves --------------------------------------------------------------------------------------

def _wrap(x: np.ndarray) -> np.ndarray:
    return (x + np.pi) % (2 * np.pi) - np.pi


def continuous_euler(angles: np.ndarray) -> np.ndarray:
    """Make Tait-Bryan Euler angles (N,...,3) (radians) continuous along axis 0.

    Each frame picks whichever of the two equivalent solutions (a, b, c) and (a+π, π−b, c+π) is closest to
    the previous frame, then shifts each angle by multiples of 2π to the nearest value. Exact at every key."""
    e = np.asarray(angles, dtype=np.float64)
    if e.shape[0] <= 1:
        return e.copy()
    alt = np.stack([e[..., 0] + np.pi, np.pi - e[..., 1], e[..., 2] + np.pi], -1)
    out = np.empty_like(e)
    out[0] = e[0]
    for f in range(1, e.shape[0]):
        prev = out[f - 1]
        c1 = prev + _wrap(e[f] - prev)
        c2 = prev + _wrap(alt[f] - prev)
        d1 = np.abs(c1 - prev).sum(-1, keepdims=True)
        d2 = np.abs(c2 - prev).sum(-1, keepdims=True)
        out[f] = np.where(d2 < d1 - 1e-9, c2, c1)
    return out


def matrix_to_euler(R: np.ndarray, seq: str) -> np.ndarray:
    """Rotation matrices (...,3,3) → Euler angles (...,3) in radians, scipy/roma sequence names
    (lower case extrinsic, upper case intrinsic); :func:`core_models.pose.matrix_to_euler`."""
    return pose_matrix_to_euler(np.asarray(R, np.float64), seq, degrees=False)


def fbx_euler_deg(local_rot: np.ndarray) -> np.ndarray:
    """(N,J,3,3) → (N,J,3) FBX Lcl Rotation (degrees, order XYZ: R = Rz·Ry·Rx), continuous over frames."""
    return np.degrees(continuous_euler(matrix_to_euler(local_rot, "xyz")))


# --- files ---------------------------------------------------------------------------------------------

def check_destination(path) -> Path:
    """Check that ``path`` can be written (its folder exists and is writable; it is not a folder)."""
    if path is None or str(path) == "":
        raise ExportError("no output file given")
    p = Path(os.fspath(path)).expanduser()
    if p.is_dir():
        raise ExportError(f"{p} is a folder, not a file name")
    d = p.parent if str(p.parent) else Path(".")
    if not d.is_dir():
        raise ExportError(f"cannot write {p}: the folder {d} does not exist")
    if not os.access(d, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {p}: the folder {d} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise ExportError(f"cannot write {p}: the existing file is read-only")
    return p


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the destination folder; on success it replaces ``path`` (os.replace),
    on any error it is removed, so nothing half-written is ever left at ``path``."""
    p = check_destination(path)
    sfx = p.suffix if suffix is None else suffix
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp" + sfx, dir=p.parent)
    except OSError as e:
        raise ExportError(f"cannot write {p}: {e.strerror or e}") from None
    os.close(fd)
    tmp_p = Path(tmp)
    try:
        yield tmp_p
        try:
            mode = 0o666 & ~_UMASK
            os.chmod(tmp_p, mode)
        except OSError:
            pass
        os.replace(tmp_p, p)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_p.unlink()
        raise


def _read_umask() -> int:
    m = os.umask(0o022)
    os.umask(m)
    return m


_UMASK = _read_umask()  # read once at import (umask is process-wide; never toggle it from worker threads)


def write_bytes_atomic(path, data: bytes | bytearray | memoryview) -> Path:
    p = check_destination(path)
    with atomic_path(p) as tmp:
        try:
            with open(tmp, "wb") as f:
                f.write(data)
        except OSError as e:
            raise ExportError(f"cannot write {p}: {e.strerror or e}") from None
    return p


def report(progress: ProgressFn | None, value: float) -> None:
    if progress is not None:
        progress(float(min(max(value, 0.0), 1.0)))
