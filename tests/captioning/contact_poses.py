"""Hand-built poses with known contacts (angles found once by a small numerical fit of the surface gap, then
rounded; intrinsic-XYZ Euler degrees as in helpers.make). Library poses add the others: Tree (foot on the
opposite knee), Seated Forward Bend (hands on the feet), Bridge (elbows on the floor)."""
from __future__ import annotations

from core_models.pose import Pose
from tests.captioning.helpers import ARMS_DOWN, make

_ANKLES_FLAT = dict(left_ankle=(60, 0, 0), right_ankle=(60, 0, 0))  # instep on the floor when kneeling


def contact_poses() -> dict[str, Pose]:
    return {
        "hands_together": make(left_shoulder=(0, -105, 0), right_shoulder=(0, 105, 0)),
        "hand_on_head": make(left_shoulder=(-18, -46, 38), left_elbow=(-19, -108, 12), right_shoulder=(0, 0, 80)),
        "hand_on_chest": make(left_shoulder=(21, -45, -39), left_elbow=(19, -108, -13), right_shoulder=(0, 0, 80)),
        "hands_on_hips": make(left_shoulder=(-1, -1, -64), left_elbow=(1, -2, -38),
                              right_shoulder=(-1, 1, 64), right_elbow=(1, 2, 38)),
        "hand_on_knee": make(left_shoulder=(-39, -6, -79), left_elbow=(1, -13, -24), right_shoulder=(0, 0, 80),
                             left_hip=(-80, 0, 0), left_knee=(80, 0, 0), spine1=(20, 0, 0)),
        "feet_together": make(left_hip=(0, -1, -5), right_hip=(0, 1, 5), **ARMS_DOWN),
        "kneeling": make(left_knee=(90, 0, 0), right_knee=(90, 0, 0), **_ANKLES_FLAT, **ARMS_DOWN),
        "all_fours": make(root=(72, 0, 0), left_hip=(-72, 0, 0), right_hip=(-72, 0, 0), left_knee=(90, 0, 0),
                          right_knee=(90, 0, 0), left_shoulder=(0, -90, -18), right_shoulder=(0, 90, 18),
                          **_ANKLES_FLAT),
        "sitting": make(left_hip=(-90, 0, 0), right_hip=(-90, 0, 0), **ARMS_DOWN),
        "lying_on_back": make(root=(-90, 0, 0), **ARMS_DOWN),
    }
