"""Seeds for the refinement where straight limbs would stall it (a squat, a lunge, a reach to the floor).

A straight leg (or arm) is a singular chain: at full extension the hip–ankle distance does not change to first
order with the knee angle, and on a skeleton whose knee sits a little behind the hip–ankle line at zero flexion
the gradient even points to hyperextension, into the joint limit. Gauss–Newton then never bends the knee and a
drag that needs the chain to shorten (the pelvis lowered with both feet pinned) stops short of its target.

The seeds put the body where the drag wants it first and solve the limbs analytically
(:func:`core_models.posing.ik.two_bone_ik_matrices`): the knee bends about its anatomical hinge, towards a pole
in front of it (the start pose's toes, else the heading's forward: knees over the toes, no crossing); an arm keeps
its bend plane (the elbow stays back / down). The refinement starts from there with a bent, well-conditioned
chain. :func:`keep_world_rotation` keeps a planted foot (hand) at its start orientation while the shin (forearm)
above it turns."""
from __future__ import annotations

import numpy as np

from core_models import skeleton as sk
from core_models.pose import clamp_matrices
from core_models.posing.ik import LIMB_CHAINS, two_bone_ik_matrices
from core_models.posing.refine import fk_single

LEG_ENDS: tuple[str, ...] = ("left_ankle", "right_ankle")
#: a limb whose target is closer than its full reach by more than this (m) is bent enough for a pole to be
#: meaningful (nearer to straight, the "knee direction" may point backwards at a slight hyperextension)
POLE_SLACK = 0.02
#: the end effectors of the four limbs (wrists, ankles)
LIMB_ENDS: tuple[str, ...] = tuple(LIMB_CHAINS)
_FOOT = {"left_ankle": sk.JOINT_INDEX["left_foot"], "right_ankle": sk.JOINT_INDEX["right_foot"]}


def knee_forward(P0: np.ndarray, Ry: np.ndarray, end: str) -> np.ndarray:
    """(3,) unit world direction a leg's knee should point to: the start pose's toes (ankle → foot joint, made
    horizontal), or the heading's forward when the foot points up / down."""
    ankle = sk.JOINT_INDEX[end]
    f = P0[_FOOT[end]] - P0[ankle]
    f[1] = 0.0
    n = float(np.linalg.norm(f))
    if n < 0.03:  # tiptoe / foot vertical: the body's forward instead
        f, n = Ry[:, 2].copy(), 1.0
        f[1] = 0.0
        n = float(np.linalg.norm(f))
    return f / n if n > 1e-9 else np.array([0.0, 0.0, 1.0])


def seed_limbs(R: np.ndarray, transl: np.ndarray, rest: np.ndarray, targets: dict[str, np.ndarray],
               forward: dict[str, np.ndarray], limits: np.ndarray | None) -> np.ndarray:
    """(22,3,3) ``R`` with each limb ending at a key of ``targets`` (wrist / ankle name → world point) solved by
    the analytic two-bone IK. Legs with a ``forward`` direction bend their knee towards it; arms (and legs
    without one) keep their current bend plane."""
    for end, target in targets.items():
        f = forward.get(end)
        pole = None
        if f is not None and _bent(R, transl, rest, end, target):
            pole = target + f  # the twist only uses the pole's part ⟂ the hip → target line
        R = two_bone_ik_matrices(R, transl, rest, LIMB_CHAINS[end], target, pole, limits)
    return R



def _bent(R: np.ndarray, transl: np.ndarray, rest: np.ndarray, end: str, target: np.ndarray) -> bool:
    a, b, c = LIMB_CHAINS[end]
    _, P = fk_single(R, rest)
    reach = float(np.linalg.norm(rest[b] - rest[a]) + np.linalg.norm(rest[c] - rest[b]))
    return float(np.linalg.norm(target - transl - P[a])) < reach - POLE_SLACK


def translate_and_seed(R: np.ndarray, transl: np.ndarray, shift: np.ndarray, rest: np.ndarray,
                       targets: dict[str, np.ndarray], forward: dict[str, np.ndarray],
                       limits: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Move the whole body by ``shift`` (world metres) and solve the limbs of ``targets`` back onto them."""
    t = np.asarray(transl, np.float64) + shift
    return seed_limbs(R, t, rest, targets, forward, limits), t


def keep_world_rotation(R: np.ndarray, rest: np.ndarray, joints, G_keep: np.ndarray,
                        limits: np.ndarray | None) -> np.ndarray:
    """``R`` with each of ``joints`` turned so that its world rotation is ``G_keep[j]`` again (a planted foot
    keeps its orientation while the shin turns), clamped into ``limits``; nothing else changes, so no joint
    position moves."""
    joints = list(joints)
    if not joints:
        return R
    G, _ = fk_single(R, rest)
    out = np.array(R, np.float64)
    for j in joints:
        out[j] = G[sk.PARENTS[j]].T @ G_keep[j]
    if limits is not None:
        C = clamp_matrices(out, limits)
        for j in joints:
            out[j] = C[j]
    return out


def straight_limbs(P: np.ndarray, rest: np.ndarray, ends, slack: float = 0.01) -> list[str]:
    """The limbs of ``ends`` whose end is within ``slack`` (metres) of the limb's full reach (nearly straight:
    the singular chains)."""
    out = []
    for end in ends:
        a, b, c = LIMB_CHAINS[end]
        reach = float(np.linalg.norm(rest[b] - rest[a]) + np.linalg.norm(rest[c] - rest[b]))
        if float(np.linalg.norm(P[c] - P[a])) > reach - slack:
            out.append(end)
    return out
