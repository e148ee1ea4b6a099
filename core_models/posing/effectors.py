"""Effectors: the joints a user drags (wrists, ankles, head, neck, pelvis) and the pole hints (elbows, knees).

Positions are world positions in metres (y up, the pose's translation included), computed by forward kinematics
on a rest skeleton (``body.skinning.rest_joints``)."""
from __future__ import annotations

import numpy as np

from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix_np

#: every draggable effector; the first 7 are end effectors, elbows / knees act as pole hints of their limb
EFFECTORS: tuple[str, ...] = ("pelvis", "neck", "head", "left_wrist", "right_wrist", "left_ankle", "right_ankle",
                              "left_elbow", "right_elbow", "left_knee", "right_knee")
#: the six Cascadeur effectors (wrists, ankles, pelvis, neck base): the evaluation's input
MAIN_EFFECTORS: tuple[str, ...] = ("pelvis", "neck", "left_wrist", "right_wrist", "left_ankle", "right_ankle")
EFFECTOR_INDEX: dict[str, int] = {n: i for i, n in enumerate(EFFECTORS)}
#: EFFECTOR_JOINTS[k] = the skeleton joint of effector k
EFFECTOR_JOINTS: np.ndarray = np.array([sk.JOINT_INDEX[n] for n in EFFECTORS], dtype=np.int64)
NUM_EFFECTORS = len(EFFECTORS)


def effector_index(name: str) -> int:
    """Index of an effector in :data:`EFFECTORS`; ValueError naming the known ones for anything else."""
    if not isinstance(name, str) or name not in EFFECTOR_INDEX:
        raise ValueError(f"unknown effector {name!r}; known: {', '.join(EFFECTORS)}")
    return EFFECTOR_INDEX[name]


def check_rest_joints(rest_joints) -> np.ndarray:
    """(22,3) finite float64 rest joints, or ValueError."""
    r = np.asarray(rest_joints, np.float64)
    if r.shape != (sk.NUM_JOINTS, 3):
        raise ValueError(f"rest_joints must have shape ({sk.NUM_JOINTS}, 3), got {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("rest_joints contain NaN or infinite values")
    return r


def world_joints(pose: Pose, rest_joints: np.ndarray) -> np.ndarray:
    """(...,22,3) world joint positions of ``pose`` (translation included), float64."""
    R = aa_to_matrix_np(pose.full())
    _, J, _ = kin.fk_numpy(R, np.asarray(rest_joints, np.float64))
    return J + np.asarray(pose.transl, np.float64)[..., None, :]


def effector_positions(pose: Pose, rest_joints: np.ndarray) -> dict[str, np.ndarray]:
    """World positions (metres, y up) of every effector of a single pose: {name: (3,) float64}."""
    if pose.batch_shape != ():
        raise ValueError(f"effector_positions takes one pose, got a batch of shape {pose.batch_shape}")
    J = world_joints(pose, check_rest_joints(rest_joints))
    return {n: J[sk.JOINT_INDEX[n]].copy() for n in EFFECTORS}
