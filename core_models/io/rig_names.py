"""Bone-name tables shared by the exporters (``core_models.export``) and the importers. No imports."""
from __future__ import annotations

#: SMPL-H joint name → Mixamo bone name (without the ``mixamorig:`` namespace).
MIXAMO_NAMES: dict[str, str] = {
    "pelvis": "Hips",
    "left_hip": "LeftUpLeg", "right_hip": "RightUpLeg",
    "spine1": "Spine",
    "left_knee": "LeftLeg", "right_knee": "RightLeg",
    "spine2": "Spine1",
    "left_ankle": "LeftFoot", "right_ankle": "RightFoot",
    "spine3": "Spine2",
    "left_foot": "LeftToeBase", "right_foot": "RightToeBase",
    "neck": "Neck",
    "left_collar": "LeftShoulder", "right_collar": "RightShoulder",
    "head": "Head",
    "left_shoulder": "LeftArm", "right_shoulder": "RightArm",
    "left_elbow": "LeftForeArm", "right_elbow": "RightForeArm",
    "left_wrist": "LeftHand", "right_wrist": "RightHand",
}
MIXAMO_PREFIX = "mixamorig:"

#: SMPL-H finger joint name → Mixamo finger bone name (``left_index1`` → ``LeftHandIndex1``; SMPL-H's ``pinky``
#: is Mixamo's ``Pinky``, the thumb's joints 1–3 are ``LeftHandThumb1``–``3``)
MIXAMO_HAND_NAMES: dict[str, str] = {
    f"{side}_{finger}{k}": f"{side.capitalize()}Hand{finger.capitalize()}{k}"
    for side in ("left", "right") for finger in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3)
}

__all__ = ["MIXAMO_NAMES", "MIXAMO_HAND_NAMES", "MIXAMO_PREFIX"]
