"""SMPL-H hands: the 30 hand joints, hand-pose presets, per-finger curl / spread, mirror. No Qt here.

Joint order (SMPL-H = MANO's order per hand, as smplx names them; the AMASS ``poses`` array is 22 body joints
(``poses[:, 0:66]``) then the left hand (``poses[:, 66:111]``, SMPL-H joints 22–36) then the right hand
(``poses[:, 111:156]``, joints 37–51)); per hand::

    index1 index2 index3  middle1 middle2 middle3  pinky1 pinky2 pinky3  ring1 ring2 ring3  thumb1 thumb2 thumb3

``Pose.hand_pose`` (…,30,3) holds these as axis-angle in the SMPL convention: local rotations whose frames are
world-aligned at rest (the T-pose with *flat* hands, palms down, fingers along ±x, thumbs forward), so
``hand_pose = 0`` is a flat hand. Joint 1 of a finger is its knuckle (MCP; the thumb's is the CMC at the wrist),
2 the middle joint (PIP; thumb MCP), 3 the last (DIP; thumb IP). ``hand_pose = None`` means "no hand data":
a body shows its own rest hand (Anny: a relaxed hand) and exports without finger bones.

Shapes are authored in a small parameter space (:class:`HandShape`: per-finger curl 0–1, spread, thumb
opposition) and turned into rotations about each finger's anatomical axes (:func:`shape_to_aa`): curl is a
rotation about the finger's flexion axis (horizontal, across the palm), spread about the palm normal, the thumb
has its own frame (flexion across the palm, abduction away from it, opposition about its own length).
"""
from __future__ import annotations


import numpy as np

from core_models import skeleton as sk

#: fingers in SMPL-H order within a hand (3 joints each)
FINGERS: tuple[str, ...] = ("index", "middle", "pinky", "ring", "thumb")
#: fingers in anatomical order (for panels and presets)
FINGERS_ANATOMICAL: tuple[str, ...] = ("thumb", "index", "middle", "ring", "pinky")
SIDES: tuple[str, ...] = ("left", "right")
HAND_JOINTS_PER_SIDE = 15
NUM_HAND_JOINTS = 30
#: the 30 hand joint names, SMPL-H / AMASS order (left hand first)
HAND_JOINT_NAMES: tuple[str, ...] = tuple(f"{s}_{f}{k}" for s in SIDES for f in FINGERS for k in (1, 2, 3))
#: the full SMPL-H skeleton: 22 body joints + 30 hand joints
SMPLH52_NAMES: tuple[str, ...] = tuple(sk.JOINT_NAMES) + HAND_JOINT_NAMES
NUM_SMPLH52 = 52


def _parents52() -> np.ndarray:
    par = list(int(p) for p in sk.PARENTS)
    for s, side in enumerate(SIDES):
        wrist = sk.JOINT_INDEX[f"{side}_wrist"]
        for f in range(len(FINGERS)):
            base = sk.NUM_JOINTS + 15 * s + 3 * f
            par += [wrist, base, base + 1]
    return np.array(par, np.int64)


#: parent of each of the 52 SMPL-H joints (finger joint 1 hangs from the wrist)
PARENTS52: np.ndarray = _parents52()


def hand_joint_index(side: str, finger: str, k: int) -> int:
    """Index (0–29) into ``hand_pose`` of ``side``'s ``finger`` joint ``k`` (1–3)."""
    if side not in SIDES or finger not in FINGERS or k not in (1, 2, 3):
        raise ValueError(f"no hand joint {side!r} {finger!r} {k!r}")
    return 15 * SIDES.index(side) + 3 * FINGERS.index(finger) + (k - 1)
