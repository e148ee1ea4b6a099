"""Hand-built poses with known answers (conventions checked with FK in test_features)."""
from __future__ import annotations

import numpy as np

from core_models import skeleton as sk
from core_models.pose import Pose, euler_to_aa

J = sk.JOINT_INDEX


def make(root=(0, 0, 0), **joints) -> Pose:
    """A pose from intrinsic-XYZ Euler angles in degrees (root and named joints)."""
    p = Pose.zeros()
    p.root_orient[:] = euler_to_aa(np.array(root, np.float32))
    for name, e in joints.items():
        p = p.with_joint(J[name], euler_to_aa(np.array(e, np.float32)))
    return p


ARMS_DOWN = dict(left_shoulder=(0, 0, -80), right_shoulder=(0, 0, 80))


def poses() -> dict[str, Pose]:
    return {
        "tpose": make(),
        "arms_down": make(**ARMS_DOWN),
        "left_knee_90": make(left_knee=(90, 0, 0), **ARMS_DOWN),
        "left_hand_up": make(left_shoulder=(0, 0, 80), right_shoulder=(0, 0, 80)),
        "both_hands_up": make(left_shoulder=(0, 0, 80), right_shoulder=(0, 0, -80)),
        "kneeling": make(left_knee=(90, 0, 0), right_knee=(90, 0, 0), **ARMS_DOWN),
        "lying_on_back": make(root=(-90, 0, 0), **ARMS_DOWN),
        "lying_face_down": make(root=(90, 0, 0), **ARMS_DOWN),
        "lean_forward": make(spine1=(35, 0, 0), spine2=(20, 0, 0), spine3=(20, 0, 0), **ARMS_DOWN),
        "lean_backward": make(spine1=(-30, 0, 0), spine2=(-25, 0, 0), spine3=(-10, 0, 0), **ARMS_DOWN),
        "lean_left": make(spine1=(0, 0, -20), spine2=(0, 0, -15), spine3=(0, 0, -10), **ARMS_DOWN),
        "twist_left": make(spine1=(0, 25, 0), spine2=(0, 20, 0), spine3=(0, 15, 0), **ARMS_DOWN),
        "head_left": make(head=(0, 45, 0), **ARMS_DOWN),
        "head_tilt_right": make(head=(0, 0, 40), **ARMS_DOWN),
        "chin_down": make(head=(50, 0, 0), **ARMS_DOWN),
        "hands_crossed": make(left_shoulder=(0, -125, 0), right_shoulder=(0, 125, 0)),
        "feet_wide": make(left_hip=(0, 0, 35), right_hip=(0, 0, -35), **ARMS_DOWN),
        "lunge": make(left_hip=(-90, 0, 0), left_knee=(90, 0, 0), right_hip=(20, 0, 0), **ARMS_DOWN),
    }


def random_poses(n: int, seed: int = 0, scale: float = 0.6) -> Pose:
    """Moderately varied poses: every joint rotated by a random Euler triple within its limits × scale."""
    rng = np.random.default_rng(seed)
    lim = sk.JOINT_LIMITS_DEG * scale
    e = rng.uniform(lim[..., 0], lim[..., 1], size=(n, sk.NUM_JOINTS, 3))
    e[:, 0] = rng.uniform(-25, 25, size=(n, 3))
    e[:, 0, 1] = rng.uniform(-180, 180, size=n)  # any heading
    aa = euler_to_aa(e.astype(np.float32))
    return Pose.from_full(aa)
