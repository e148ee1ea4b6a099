"""Joint coordinates used by the posecode captioner (vectorised over a batch of poses).

The captioner looks at the body in a heading-free frame: the yaw of the root orientation is taken off
(as ``pose.normalize_heading`` does, with :func:`robust_heading` so that lying poses are not flipped),
its tilt is kept and the translation is ignored. Canonical axes: y up, the
body faces +z, x points to the body's *left* ("A is at the right of B" <=> A.x < B.x), metres.

On top of the 22 SMPL-H joints, a few *virtual* joints are appended:

* ``left_hand`` / ``right_hand``: we have no finger joints, so the hand point is the wrist plus a rest
  offset of :data:`HAND_OFFSET` metres along the rest forearm axis, carried by the wrist's global rotation;
* ``torso``: mean of pelvis, spine3 and neck;
* limb midpoints: thigh (hip-knee), shin (knee-ankle), upper arm (shoulder-elbow), forearm (elbow-wrist).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import roma
import torch

from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix_np, apply_heading

HAND_OFFSET = 0.08  # metres from the wrist along the forearm axis (stand-in for the palm centre)

_VIRTUAL = (
    "left_hand", "right_hand", "torso",
    "left_thigh", "right_thigh", "left_shin", "right_shin",
    "left_upperarm", "right_upperarm", "left_forearm", "right_forearm",
)
#: Names of all captioning joints: the 22 SMPL-H joints then the virtual ones.
EXT_JOINT_NAMES: tuple[str, ...] = sk.JOINT_NAMES + _VIRTUAL
EXT_INDEX: dict[str, int] = {n: i for i, n in enumerate(EXT_JOINT_NAMES)}
NUM_EXT_JOINTS = len(EXT_JOINT_NAMES)


def _ext_mirror(name: str) -> int:
    if name.startswith("left_"):
        return EXT_INDEX["right_" + name[5:]]
    if name.startswith("right_"):
        return EXT_INDEX["left_" + name[6:]]
    return EXT_INDEX[name]


#: EXT_MIRROR[i]: the captioning joint playing joint i's role on the other side of the body.
EXT_MIRROR: np.ndarray = np.array([_ext_mirror(n) for n in EXT_JOINT_NAMES], dtype=np.int64)

_J = sk.JOINT_INDEX
_MIDPOINTS = {  # virtual joint -> (a, b) real joints whose midpoint it is
    f"{s}_{limb}": (_J[f"{s}_{a}"], _J[f"{s}_{b}"])
    for s in ("left", "right")
    for limb, a, b in (("thigh", "hip", "knee"), ("shin", "knee", "ankle"),
                       ("upperarm", "shoulder", "elbow"), ("forearm", "elbow", "wrist"))
}


@dataclass
class PoseFeatures:
    """What the posecode operators need, for a batch of N poses (heading removed)."""

    coords: np.ndarray      # (N, NUM_EXT_JOINTS, 3) float32 joint positions, pelvis at the origin
    # (N, 3) degrees: intrinsic-YXZ Euler angles (yaw y, pitch x, roll z) of the head w.r.t. spine3
    head_rel_neck: np.ndarray
    head_rel_pelvis: np.ndarray  # (N, 3) degrees: same, head w.r.t. pelvis
    heading: np.ndarray     # (N,) radians: the heading that was removed

    def __len__(self) -> int:
        return self.coords.shape[0]

    def __getitem__(self, idx) -> "PoseFeatures":
        idx = np.atleast_1d(np.arange(len(self))[idx])
        return PoseFeatures(self.coords[idx], self.head_rel_neck[idx], self.head_rel_pelvis[idx],
                            self.heading[idx])


def as_batch(poses: Pose) -> tuple[Pose, bool]:
    """Flatten a Pose of any batch shape to (N,). Returns (pose, was_single)."""
    shape = poses.batch_shape
    if shape == ():
        return poses[None], True
    if len(shape) == 1:
        return poses, False
    n = int(np.prod(shape))
    return Pose(poses.root_orient.reshape(n, 3), poses.body_pose.reshape(n, 21, 3),
                poses.transl.reshape(n, 3)), False


def robust_heading(root_orient: np.ndarray) -> np.ndarray:
    """Heading (yaw about +y, radians) of root orientations, (N,3) -> (N,).

    Same value as ``pose.heading_of`` (intrinsic-YXZ yaw = yaw of the pelvis' forward axis) while the
    forward axis is clearly not vertical. ``heading_of`` becomes degenerate when the pelvis pitches by
    about 90 degrees (lying on the back or face down: it then returns +-pi and the normalised body ends up
    with its left side on -x); there the yaw of the pelvis' *left* axis is used instead."""
    R = aa_to_matrix_np(np.asarray(root_orient, np.float32))
    fwd, left = R[..., :, 2], R[..., :, 0]
    h_fwd = np.arctan2(fwd[..., 0], fwd[..., 2])
    h_left = np.arctan2(-left[..., 2], left[..., 0])
    flat = fwd[..., 0] ** 2 + fwd[..., 2] ** 2 >= 0.25
    return np.where(flat, h_fwd, h_left).astype(np.float32)


def _levels(parents: np.ndarray) -> list[np.ndarray]:
    depth = np.zeros(len(parents), dtype=np.int64)
    for j in range(1, len(parents)):
        depth[j] = depth[parents[j]] + 1
    return [np.nonzero(depth == d)[0] for d in range(1, depth.max() + 1)]


_LEVELS = _levels(sk.PARENTS)


def _fk_levels(rot: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Same maths as ``kinematics.fk_numpy`` (global rotations and joint positions, no skinning transforms),
    but one batched product per tree depth instead of one per joint. numpy, not torch: the stacked 3x3 products
    gain nothing from torch's intra-op threads, which on a busy machine made this step ~6x slower (3.1 s vs
    0.5 s for 20k poses with 2 threads on 2 loaded cores)."""
    n = rot.shape[0]
    Rg = np.empty_like(rot)
    tg = np.empty((n, rot.shape[1], 3), dtype=rot.dtype)
    Rg[:, 0] = rot[:, 0]
    tg[:, 0] = rest[0]
    for js in _LEVELS:
        p = sk.PARENTS[js]
        Rp = Rg[:, p]
        Rg[:, js] = Rp @ rot[:, js]
        tg[:, js] = tg[:, p] + np.einsum("nkij,kj->nki", Rp, (rest[js] - rest[p]).astype(rot.dtype))
    return Rg, tg


def _hand_offsets(rest: np.ndarray) -> np.ndarray:
    out = []
    for side in ("left", "right"):
        d = rest[_J[f"{side}_wrist"]] - rest[_J[f"{side}_elbow"]]
        out.append(HAND_OFFSET * d / np.linalg.norm(d))
    return np.stack(out)  # (2,3)


def compute_features(poses: Pose, rest_joints: np.ndarray | None = None,
                     normalize: bool = True) -> PoseFeatures:
    """FK + virtual joints for a batch of poses (any batch shape is flattened to N; a single pose gives N=1).

    ``normalize`` removes the heading (yaw) of the root orientation first, keeping its tilt."""
    poses, _ = as_batch(poses)
    rest = np.asarray(sk.DEFAULT_REST_JOINTS if rest_joints is None else rest_joints, dtype=np.float64)
    if normalize:
        heading = robust_heading(poses.root_orient)
        poses = apply_heading(poses, -heading)
    else:
        heading = np.zeros(len(poses), np.float32)
    rot = aa_to_matrix_np(poses.full()).astype(np.float32)  # (N,22,3,3)
    Rg, tg = _fk_levels(rot, (rest - rest[0]).astype(np.float32))
    off = _hand_offsets(rest).astype(np.float32)  # (2,3)
    wr = [_J["left_wrist"], _J["right_wrist"]]
    hands = tg[:, wr] + np.einsum("nkij,kj->nki", Rg[:, wr], off)
    torso = (tg[:, _J["pelvis"]] + tg[:, _J["spine3"]] + tg[:, _J["neck"]]) / 3.0
    mids = [0.5 * (tg[:, _MIDPOINTS[n][0]] + tg[:, _MIDPOINTS[n][1]]) for n in _VIRTUAL[3:]]
    coords = np.concatenate([tg, hands, torso[:, None], np.stack(mids, 1)], 1)
    # head orientation relative to the upper torso (neck chain) and to the pelvis
    rel_neck = rot[:, _J["neck"]] @ rot[:, _J["head"]]
    rel_pelvis = np.swapaxes(Rg[:, _J["pelvis"]], -1, -2) @ Rg[:, _J["head"]]
    with torch.no_grad():
        e_neck = roma.rotmat_to_euler("YXZ", torch.as_tensor(rel_neck), degrees=True)
        e_pelvis = roma.rotmat_to_euler("YXZ", torch.as_tensor(rel_pelvis), degrees=True)
    return PoseFeatures(np.ascontiguousarray(coords, np.float32), e_neck.numpy(), e_pelvis.numpy(),
                        np.asarray(heading, np.float32))


def pose_joints(poses: Pose, rest_joints: np.ndarray | None = None, normalize: bool = True) -> np.ndarray:
    """Captioning joint positions: (N, NUM_EXT_JOINTS, 3), or (NUM_EXT_JOINTS, 3) for a single pose."""
    single = poses.batch_shape == ()
    c = compute_features(poses, rest_joints, normalize).coords
    return c[0] if single else c.reshape(poses.batch_shape + c.shape[1:])
