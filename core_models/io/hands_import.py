"""Finger poses from imported skeletons: a motion whose skeleton has the 30 SMPL-H finger joints (SMPL-H names, or
PoseTailor's Mixamo names renamed by :func:`core_models.io.scene_motion.mixamo_to_smplh`) → ``hand_pose``.

A :class:`~core_models.io.motion.Motion` has its file's rest (bind) pose as its zero pose with world-aligned
frames. PoseTailor's hand pose is relative to the *flat* hand (:mod:`core_models.hands`). A BVH we wrote has the
flat hand as its rest, so its finger rotations are the hand pose as they are; our FBX / GLB files bind the
fingers at the body's rest hand and record that hand pose (``meta["hand_rest_pose"]``, from the file's
``PoseTailorHandRestPose`` / ``extras.posetailor_hand_rest_pose``): with Rr_j the rest hand's world rotation of
finger joint j (relative to its wrist), the flat-hand local rotation is Rr_parentᵀ · L_j · Rr_j.
Skeletons from other tools keep their own finger rest poses (their fingers are not read). No Qt here.
"""
from __future__ import annotations

import numpy as np

from core_models.hands import HAND_JOINT_NAMES, PARENTS52
from core_models.io.motion import Motion
from core_models.io.rig_names import MIXAMO_HAND_NAMES, MIXAMO_NAMES
from core_models.pose import aa_to_matrix_np, matrix_to_aa_np

_WRISTS = ("left_wrist", "right_wrist")


def parse_hand_rest_pose(value) -> np.ndarray | None:
    """A recorded rest hand pose (90 numbers as a list or a whitespace-separated string) → (30,3), else None."""
    try:
        vals = value.split() if isinstance(value, str) else list(value)
        arr = np.array([float(v) for v in vals], np.float64)
    except (TypeError, ValueError, AttributeError):
        return None
    if arr.shape != (90,) or not np.all(np.isfinite(arr)) or np.abs(arr).max() > 4 * np.pi:
        return None
    return arr.reshape(30, 3)


def _rest_world(rest_pose: np.ndarray | None) -> np.ndarray:
    """(30,3,3) world rotations of the finger joints relative to their wrist in the rest hand."""
    Rr = np.tile(np.eye(3), (30, 1, 1))
    if rest_pose is None:
        return Rr
    L = aa_to_matrix_np(rest_pose)
    for k in range(30):
        p = int(PARENTS52[22 + k]) - 22
        Rr[k] = (Rr[p] if p >= 0 else np.eye(3)) @ L[k]
    return Rr


def _smplh_names(names: list[str]) -> list[str]:
    """The motion's joint names, Mixamo hand / wrist bones (any namespace) read as their SMPL-H joints."""
    if all(n in names for n in HAND_JOINT_NAMES):
        return list(names)
    inv = {v.lower(): k for k, v in {**MIXAMO_NAMES, **MIXAMO_HAND_NAMES}.items()}
    return [inv.get(n.rsplit(":", 1)[-1].lower(), n) for n in names]


def hand_pose_from_motion(motion: Motion) -> np.ndarray | None:
    """(F,30,3) float32 hand pose of a motion with the SMPL-H finger skeleton (see the module docstring), or None
    when the skeleton has no (complete, correctly parented) SMPL-H fingers."""
    names = _smplh_names(motion.names)
    idx = {n: i for i, n in enumerate(names)}
    if not all(n in idx for n in HAND_JOINT_NAMES + _WRISTS):
        return None
    order = [idx[n] for n in HAND_JOINT_NAMES]
    names52 = {22 + k: n for k, n in enumerate(HAND_JOINT_NAMES)}
    names52.update({20: "left_wrist", 21: "right_wrist"})
    for k, j in enumerate(order):
        want = names52[int(PARENTS52[22 + k])]
        if motion.parents[j] < 0 or names[motion.parents[j]] != want:
            return None
    L = motion.rotations[:, order]  # (F,30,3,3) relative to the file's rest
    Rr = _rest_world(parse_hand_rest_pose(motion.meta.get("hand_rest_pose", "")))
    Rp = np.stack([Rr[int(PARENTS52[22 + k]) - 22] if PARENTS52[22 + k] >= 22 else np.eye(3) for k in range(30)])
    local = np.swapaxes(Rp, -1, -2)[None] @ L @ Rr[None]
    return matrix_to_aa_np(local).astype(np.float32)
