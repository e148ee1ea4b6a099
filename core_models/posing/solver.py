"""Drag-to-pose: :class:`DragSolver` turns one mouse drag of an effector into poses.

``begin(pose, effector, pins)`` remembers the start pose, the world positions of every effector and which ones
are pinned; every ``update(target, mode)`` returns the pose for the current mouse target:

* ``"full"`` — the whole body follows. With the auto-posing network (:mod:`core_models.nets.autopose`) the
  network sees every effector (the dragged one at the target, the pins and the start pose's other effectors as
  hints, pelvis-relative in the start pose's heading frame) and the start pose; its *change* from its prediction
  for the start effectors is applied to the start pose (R_j ← R⁰_j·P̂⁰_jᵀ·P̂_j), so a drag starts exactly from the
  user's pose and a small drag gives a small change; the limbs the drag is not about (the other arm, the legs
  for a wrist) keep their start rotations in that prediction and are 10× stiffer in the refinement, so they
  move only when a pin or a hint needs them (predictability). The first update of a wrist / ankle drag starts
  the refinement from the analytic two-bone IK of that limb (later ones from the previous solution). Then
  :func:`core_models.posing.refine.refine` reaches the target and holds the pins exactly (hard constraints),
  keeps the other effectors near their start positions (soft) and stays close to the prediction, inside the
  joint limits. Without the network the same refinement
  runs from the start pose (``learned`` is False and ``notice`` says so).
  Straight limbs are singular chains (:mod:`core_models.posing.seed`): a pelvis drag with pins starts from the
  body moved onto the target with the legs / pinned limbs solved back by two-bone IK (knees bent forward over
  the toes: a squat, a lunge); a solve that misses while a pinned limb is straight and the miss points towards
  it (a reach to the floor) is retried from the body moved by the miss, limbs solved back the same way. Pinned
  feet / hands keep their start orientation in the world (a planted foot does not tilt with the shin).
* ``"limb"`` — plain analytic IK of the dragged limb only (Shift-drag): two-bone IK for wrists / ankles, a pole
  swivel (end fixed) for elbows / knees, an aim of the parent joint for head / neck, a translation for the pelvis.

``end()`` returns the final pose (None when nothing moved) for one undo step. No Qt; numpy + the network."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix_np, clamp_matrices, heading_of, rotation_between_np
from core_models.posing.effectors import (
    EFFECTOR_INDEX,
    EFFECTOR_JOINTS,
    EFFECTORS,
    NUM_EFFECTORS,
    check_rest_joints,
    effector_index,
)
from core_models.posing.ik import LIMB_CHAINS, _finite_point, pose_from_matrices, two_bone_ik_matrices
from core_models.posing.refine import RefineProblem, RefineResult, fk_single, refine
from core_models.posing.seed import (
    LEG_ENDS,
    POLE_SLACK,
    LIMB_ENDS,
    keep_world_rotation,
    knee_forward,
    straight_limbs,
    translate_and_seed,
)

MODES = ("full", "limb")
#: weight of a pin relative to the dragged effector (both are hard constraints)
PIN_WEIGHT = 10.0
#: soft weight of an unpinned, undragged effector (relative to 1 for the dragged one and the pins)
HINT_WEIGHTS = {"pelvis": 0.05, "neck": 0.02, "head": 0.02, "left_wrist": 0.05, "right_wrist": 0.05,
                "left_ankle": 0.1, "right_ankle": 0.1, "left_elbow": 0.005, "right_elbow": 0.005,
                "left_knee": 0.005, "right_knee": 0.005}
#: stiffness factor of the joints of the limbs the drag is not about (the other arm and legs: they keep their
#: rotations unless a pin or a hint needs them, so a small drag gives a small, local change)
UNRELATED_STIFFNESS = 10.0
_LIMB_PART = {"left_wrist": "left_arm", "left_elbow": "left_arm", "right_wrist": "right_arm",
              "right_elbow": "right_arm", "left_ankle": "left_leg", "left_knee": "left_leg",
              "right_ankle": "right_leg", "right_knee": "right_leg"}
_POLE_OF = {"left_elbow": "left_wrist", "right_elbow": "right_wrist", "left_knee": "left_ankle",
            "right_knee": "right_ankle"}
_AIM_PARENT = {"head": sk.JOINT_INDEX["neck"], "neck": sk.JOINT_INDEX["spine3"]}
#: a full-body solve that ends farther than this (m) from a target while a pinned limb is straight is retried from
#: the body moved by the miss with the pinned limbs solved back onto their pins (bent knees: a squat, a reach)
RETRY_MISS = 3e-3


class AutoPoserLike(Protocol):
    """What the solver needs of the auto-posing network (:class:`core_models.nets.autopose.AutoPoser`)."""

    def predict_matrices(self, effectors: np.ndarray, mask: np.ndarray, start: np.ndarray | None) -> np.ndarray:
        """(11,3) pelvis-relative effectors in the heading frame, (11,) bool mask, optional (22,3,3) start pose
        (heading-normalised local rotations) → (22,3,3) predicted local rotations (root in the heading frame)."""
        ...


@dataclass
class _Drag:
    pose: Pose
    effector: int
    pins: tuple[int, ...]
    R0: np.ndarray  # (22,3,3) local rotations of the start pose
    t0: np.ndarray  # (3,)
    E0: np.ndarray  # (11,3) world effector positions at the start
    P0: np.ndarray  # (22,3) world joints at the start
    G0: np.ndarray  # (22,3,3) world rotations at the start
    Ry: np.ndarray  # (3,3) the start heading (world ← heading frame)
    pred0: np.ndarray | None  # the network's prediction for the start effectors
    forward: dict[str, np.ndarray]  # straight leg's end → the direction its knee bends to (the start's toes)
    moved: bool = False
    warm: tuple[np.ndarray, np.ndarray] | None = None  # the last full-body solution (the next one starts there)


def _shortens(shift: np.ndarray, P: np.ndarray, ends) -> bool:
    """Whether moving the body by ``shift`` brings the upper joint of one of the limbs ``ends`` more than 2 mm
    closer to its (pinned) end: the limb would have to bend."""
    for end in ends:
        upper, _mid, j = LIMB_CHAINS[end]
        v = P[j] - P[upper]
        if float(shift @ v) > 2e-3 * float(np.linalg.norm(v)):
            return True
    return False


def heading_frame_features(E: np.ndarray, Ry: np.ndarray) -> np.ndarray:
    """(…,11,3) world effectors → pelvis-relative, in the heading frame (Ry: world ← heading)."""
    return (E - E[..., :1, :]) @ Ry


def unrelated_joints(effector: str) -> list[int]:
    """The joints of the limbs (arms, legs) that a drag of ``effector`` is not about."""
    own = _LIMB_PART.get(effector)
    return [j for part in ("left_arm", "right_arm", "left_leg", "right_leg") if part != own
            for j in sk.BODY_PARTS[part]]


class DragSolver:
    """One drag at a time: begin → update … → end (see the module docstring)."""

    def __init__(self, rest_joints: np.ndarray, autoposer: AutoPoserLike | None = None, limits: bool = True) -> None:
        self.rest = check_rest_joints(rest_joints)
        self.autoposer = autoposer
        self.limits = bool(limits)
        self.learned = autoposer is not None
        self.notice = "" if self.learned else "auto-posing network unavailable: drag uses optimisation only"
        self._drag: _Drag | None = None
        self._last: Pose | None = None
        self.last_iterations = 0
        self.last_error = 0.0  # distance (m) of the dragged effector from its target after the last update
        self.last_pin_error = 0.0  # largest distance (m) of a pin from where it was held

    @property
    def active(self) -> bool:
        return self._drag is not None

    @property
    def _limits(self) -> np.ndarray | None:
        return sk.JOINT_LIMITS_DEG if self.limits else None

    def begin(self, pose: Pose, effector: str, pins: Iterable[str] = ()) -> None:
        """Start a drag of ``effector`` from ``pose``; ``pins`` (effector names) hold where they are now (the
        dragged effector itself is never pinned). ValueError for an unknown effector or a batch of poses."""
        if not isinstance(pose, Pose):
            raise ValueError(f"begin() needs a Pose, got {type(pose).__name__}")
        if pose.batch_shape != ():
            raise ValueError(f"begin() takes one pose, got a batch of shape {pose.batch_shape}")
        k = effector_index(effector)
        pin_idx = tuple(sorted({effector_index(p) for p in pins} - {k}))
        R0 = aa_to_matrix_np(pose.full())
        t0 = np.asarray(pose.transl, np.float64).copy()
        G0, P0, _ = kin.fk_numpy(R0, self.rest)
        P0 = P0 + t0
        E0 = P0[EFFECTOR_JOINTS]
        Ry = aa_to_matrix_np(np.array([0.0, float(heading_of(pose.root_orient[None])[0]), 0.0]))
        # a knee pole only for legs that start straight (their bend plane is undefined); a bent leg keeps its plane
        forward = {end: knee_forward(P0, Ry, end) for end in straight_limbs(P0, self.rest, LEG_ENDS, POLE_SLACK)}
        d = _Drag(pose.copy(), k, pin_idx, R0, t0, E0, P0, G0, Ry, None, forward)
        if self.autoposer is not None:
            d.pred0 = self._predict(d, E0)
        self._drag, self._last = d, None

    def update(self, target, mode: str = "full") -> Pose:
        """The pose for the dragged effector at ``target`` (world metres). ValueError for a non-finite target or
        an unknown mode; RuntimeError outside begin()/end()."""
        d = self._drag
        if d is None:
            raise RuntimeError("DragSolver.update() called without begin()")
        t = _finite_point(target, "target")
        if mode not in MODES:
            raise ValueError(f"unknown drag mode {mode!r}; use one of {', '.join(MODES)}")
        R, tr = self._solve_full(d, t) if mode == "full" else self._solve_limb(d, t)
        pose = pose_from_matrices(R, tr, d.pose)
        self._measure(d, R, tr, t)
        d.moved = True
        self._last = pose
        return pose

    def end(self) -> Pose | None:
        """Finish the drag: the last pose returned by update() (None when update() never ran)."""
        last = self._last if self._drag is not None and self._drag.moved else None
        self._drag, self._last = None, None
        return last

    # --- full body -------------------------------------------------------------------------------------------
    def _predict(self, d: _Drag, E: np.ndarray) -> np.ndarray:
        assert self.autoposer is not None
        start = d.R0.copy()
        start[0] = d.Ry.T @ d.R0[0]
        feats = heading_frame_features(E, d.Ry)
        R = np.asarray(self.autoposer.predict_matrices(feats, np.ones(NUM_EFFECTORS, bool), start), np.float64)
        R[0] = d.Ry @ R[0]
        return R

    def _solve_full(self, d: _Drag, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        E = d.E0.copy()
        E[d.effector] = target
        t_init = d.t0.copy()
        if d.effector == EFFECTOR_INDEX["pelvis"] and not d.pins:  # the body goes along (pins: the legs solve it)
            t_init += target - d.E0[d.effector]
        if d.pred0 is not None:
            pred = self._predict(d, E)
            delta = np.swapaxes(d.pred0, -1, -2) @ pred
            delta[unrelated_joints(EFFECTORS[d.effector])] = np.eye(3)  # predictable: other limbs keep theirs
            R_init = d.R0 @ delta
        else:
            R_init = d.R0.copy()
        if self.limits:
            R_init = clamp_matrices(R_init, sk.JOINT_LIMITS_DEG)
        hard = np.zeros(NUM_EFFECTORS, bool)
        hard[d.effector] = True
        hard[list(d.pins)] = True
        w = np.array([HINT_WEIGHTS[n] for n in EFFECTORS])
        w[d.effector] = 1.0
        w[list(d.pins)] = PIN_WEIGHT  # a pin wins over the drag when both cannot hold
        # a drag needs the target within 5 mm and pins within 2 mm: 1 mm tolerance, and no far-start retry (a drag
        # starts from the previous solution; an unreachable target must not cost three solves per mouse event)
        prob = RefineProblem(EFFECTOR_JOINTS.copy(), E, w, hard, tol=1e-3, retry_free=False)
        prob.stiffness[unrelated_joints(EFFECTORS[d.effector])] *= UNRELATED_STIFFNESS
        if d.warm is not None:
            R_start, t_start = d.warm
        elif EFFECTORS[d.effector] in LIMB_CHAINS:  # first update of a limb-end drag: the analytic IK as the seed
            R_start = two_bone_ik_matrices(R_init, t_init, self.rest, LIMB_CHAINS[EFFECTORS[d.effector]], target,
                                           None, self._limits)
            t_start = t_init
        else:
            R_start, t_start = R_init, t_init
        if d.effector == EFFECTOR_INDEX["pelvis"] and d.pins and self._straight_start(d, R_start, t_start, target):
            R_start, t_start = self._seed_pelvis(d, R_start, t_start, target)  # body to the target, legs bent
        res = refine(R_init, t_init, self.rest, prob, self._limits, R_start, t_start)
        if res.hard_error > RETRY_MISS and d.effector != EFFECTOR_INDEX["pelvis"]:
            res = self._retry_lowered(d, R_init, t_init, prob, res, target)
        R = self._plant(d, res.R)
        if res.hard_error < 0.01:  # a good solution seeds the next update (mouse targets move little per event)
            d.warm = (R, res.transl)
        self.last_iterations = res.iterations
        return R, res.transl

    def _pinned_ends(self, d: _Drag) -> list[str]:
        return [EFFECTORS[p] for p in d.pins if EFFECTORS[p] in LIMB_ENDS]

    def _straight_start(self, d: _Drag, R: np.ndarray, t: np.ndarray, target: np.ndarray) -> bool:
        """The first update, or a pelvis move towards a nearly straight leg / pinned limb (the warm solution of a
        drag that went up to full extension and comes down again)."""
        if d.warm is None:
            return True
        _, P = fk_single(R, self.rest)
        ends = straight_limbs(P, self.rest, dict.fromkeys(self._pinned_ends(d) + list(LEG_ENDS)))
        return _shortens(target - (t + self.rest[0]), P, ends)

    def _seed_pelvis(self, d: _Drag, R: np.ndarray, t: np.ndarray, target: np.ndarray):
        """Pelvis drag with pins: the body moved so that the pelvis is on the target, the pinned limbs and both
        legs (a free foot stays near its start: its hint) solved back onto where they were."""
        ends = dict.fromkeys(self._pinned_ends(d) + list(LEG_ENDS))
        targets = {e: d.E0[EFFECTOR_INDEX[e]] for e in ends}
        return translate_and_seed(R, t, target - (t + self.rest[0]), self.rest, targets, d.forward, self._limits)

    def _retry_lowered(self, d: _Drag, R_init, t_init, prob: RefineProblem, res: RefineResult,
                       target: np.ndarray) -> RefineResult:
        """A solve that missed while a pinned limb is straight (the singular chain): again from the body moved by
        the dragged effector's miss with the pinned limbs solved back onto their pins; the better one."""
        _, P = fk_single(res.R, self.rest)
        shift = target - (P[EFFECTOR_JOINTS[d.effector]] + res.transl)
        if not _shortens(shift, P, straight_limbs(P, self.rest, self._pinned_ends(d))):
            return res  # the miss is not about a straight pinned limb (e.g. a head drag beyond reach): no retry
        targets = {e: d.E0[EFFECTOR_INDEX[e]] for e in self._pinned_ends(d)}
        R2, t2 = translate_and_seed(res.R, res.transl, shift, self.rest, targets, d.forward, self._limits)
        again = refine(R_init, t_init, self.rest, prob, self._limits, R2, t2)
        again.iterations += res.iterations
        return again if again.hard_error < res.hard_error else res

    def _plant(self, d: _Drag, R: np.ndarray) -> np.ndarray:
        """Pinned feet / hands keep their start orientation in the world (a planted foot does not tilt with the
        shin); the joints above them are unchanged, so no effector moves."""
        ends = self._pinned_ends(d)
        return keep_world_rotation(R, self.rest, [sk.JOINT_INDEX[e] for e in ends], d.G0, self._limits)

    # --- one limb (Shift-drag) ---------------------------------------------------------------------------------
    def _solve_limb(self, d: _Drag, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        name = EFFECTORS[d.effector]
        R, t = d.R0.copy(), d.t0.copy()
        self.last_iterations = 0
        if name in LIMB_CHAINS:
            return two_bone_ik_matrices(R, t, self.rest, LIMB_CHAINS[name], target, None, self._limits), t
        if name in _POLE_OF:
            end = _POLE_OF[name]
            return two_bone_ik_matrices(R, t, self.rest, LIMB_CHAINS[end], d.E0[EFFECTOR_INDEX[end]], target,
                                        self._limits), t
        if name == "pelvis":
            return R, t + (target - d.E0[d.effector])
        j, parent = sk.JOINT_INDEX[name], _AIM_PARENT[name]
        Q = rotation_between_np(d.P0[j] - d.P0[parent], target - d.P0[parent])
        gp = d.G0[sk.PARENTS[parent]]
        R[parent] = gp.T @ Q @ d.G0[parent]
        if self.limits:
            C = clamp_matrices(R, sk.JOINT_LIMITS_DEG)
            R[parent] = C[parent]
        return R, t

    def _measure(self, d: _Drag, R: np.ndarray, tr: np.ndarray, target: np.ndarray) -> None:
        _, P, _ = kin.fk_numpy(R, self.rest)
        E = P[EFFECTOR_JOINTS] + tr
        self.last_error = float(np.linalg.norm(E[d.effector] - target))
        self.last_pin_error = float(max([np.linalg.norm(E[p] - d.E0[p]) for p in d.pins], default=0.0))


__all__ = ["AutoPoserLike", "DragSolver", "MODES", "HINT_WEIGHTS", "heading_frame_features"]
