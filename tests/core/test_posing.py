"""core_models.posing: analytic two-bone IK, the exact-reach refinement and DragSolver (optimisation only here;
the learned auto-poser is tested in tests/nets/test_autopose.py)."""
from __future__ import annotations

import numpy as np
import pytest

from core_models import skeleton as sk
from core_models.pose import Pose, clamp_to_limits, geodesic_deg, limit_violation_deg
from core_models.posing import (
    EFFECTORS,
    DragSolver,
    effector_positions,
    two_bone_ik,
    world_joints,
)

REST = sk.DEFAULT_REST_JOINTS
J = sk.JOINT_INDEX


def _pose(seed: int = 0, transl=(0.0, 0.94, 0.0)) -> Pose:
    """A natural-ish pose within the joint limits: bent elbows and knees, small noise elsewhere."""
    rng = np.random.default_rng(seed)
    body = rng.normal(0, 0.08, (21, 3)).astype(np.float32)
    body[J["left_elbow"] - 1] = (0.0, -1.0, 0.0)
    body[J["right_elbow"] - 1] = (0.0, 1.0, 0.0)
    body[J["left_knee"] - 1] = (0.6, 0.0, 0.0)
    body[J["right_knee"] - 1] = (0.4, 0.0, 0.0)
    body[J["left_shoulder"] - 1] = (0.0, 0.0, -0.9)
    body[J["right_shoulder"] - 1] = (0.0, 0.0, 0.9)
    return clamp_to_limits(Pose(np.array([0.05, 0.3, 0.0], np.float32), body, np.array(transl, np.float32)))


def _reachable_target(pose: Pose, end: str, seed: int = 1) -> np.ndarray:
    """Where ``end`` is after a plausible change of its own limb (so the target is reachable within limits)."""
    rng = np.random.default_rng(seed)
    side = end.split("_")[0]
    upper, mid = (f"{side}_shoulder", f"{side}_elbow") if end.endswith("wrist") else (f"{side}_hip", f"{side}_knee")
    moved = pose.with_joint(J[upper], pose.joint_aa(J[upper]) + rng.normal(0, 0.15, 3).astype(np.float32))
    moved = moved.with_joint(J[mid], moved.joint_aa(J[mid]) * 0.8)
    moved = clamp_to_limits(moved)
    return world_joints(moved, REST)[J[end]]


@pytest.mark.parametrize("end", ["left_wrist", "right_wrist", "left_ankle", "right_ankle"])
def test_two_bone_ik_reaches_a_reachable_target_exactly(end):
    pose = _pose()
    target = _reachable_target(pose, end)
    out = two_bone_ik(pose, REST, end, target, limits=False)
    assert np.linalg.norm(world_joints(out, REST)[J[end]] - target) < 1e-4
    # only the upper and middle joints of that limb changed
    changed = np.nonzero(geodesic_deg(pose.full(), out.full()) > 1e-3)[0]
    assert set(changed.tolist()) <= {sk.PARENTS[sk.PARENTS[J[end]]], sk.PARENTS[J[end]]}
    assert np.allclose(out.transl, pose.transl)


def test_two_bone_ik_with_limits_reaches_a_target_inside_them():
    pose = _pose()
    target = _reachable_target(pose, "left_wrist", seed=3)
    out = two_bone_ik(pose, REST, "left_wrist", target, limits=True)
    assert np.linalg.norm(world_joints(out, REST)[J["left_wrist"]] - target) < 5e-3
    assert limit_violation_deg(out).max() < 1e-3


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_pole_hint_picks_the_side_the_elbow_points_to(side):
    pose = _pose()
    P = world_joints(pose, REST)
    sh, wr = P[J["left_shoulder"]], P[J["left_wrist"]]
    target = sh + 0.8 * (wr - sh)  # closer: the elbow has to bend more
    axis = (target - sh) / np.linalg.norm(target - sh)
    up = np.array([0.0, 1.0, 0.0])
    perp = up - axis * (axis @ up)
    perp /= np.linalg.norm(perp)
    pole = sh + 0.5 * (target - sh) + side * 0.5 * perp
    out = two_bone_ik(pose, REST, "left_wrist", target, pole=pole, limits=False)
    Q = world_joints(out, REST)
    elbow = Q[J["left_elbow"]] - sh
    off = elbow - axis * (axis @ elbow)
    assert side * (off @ perp) > 0.9 * np.linalg.norm(off) > 0  # the elbow lies on the pole's side of the line
    assert np.linalg.norm(Q[J["left_wrist"]] - target) < 1e-4


def test_unreachable_target_gives_full_extension_towards_it_without_nan():
    pose = _pose()
    P = world_joints(pose, REST)
    sh = P[J["right_shoulder"]]
    target = sh + np.array([-3.0, 0.5, 1.0])
    out = two_bone_ik(pose, REST, "right_wrist", target, limits=False)
    assert np.all(np.isfinite(out.full()))
    Q = world_joints(out, REST)
    l1 = np.linalg.norm(REST[J["right_elbow"]] - REST[J["right_shoulder"]])
    l2 = np.linalg.norm(REST[J["right_wrist"]] - REST[J["right_elbow"]])
    reach = Q[J["right_wrist"]] - sh
    assert np.linalg.norm(reach) == pytest.approx(l1 + l2, abs=2e-3)
    cos = reach @ (target - sh) / (np.linalg.norm(reach) * np.linalg.norm(target - sh))
    assert cos > 0.9999
    # a target on the shoulder itself: no NaN either
    out2 = two_bone_ik(pose, REST, "right_wrist", sh, limits=False)
    assert np.all(np.isfinite(out2.full()))


def test_two_bone_ik_rejects_bad_input():
    pose = _pose()
    with pytest.raises(ValueError, match="limb end"):
        two_bone_ik(pose, REST, "head", np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        two_bone_ik(pose, REST, "left_wrist", np.array([0.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="shape"):
        two_bone_ik(pose, REST, "left_wrist", np.zeros(2))


def test_drag_with_pinned_feet_reaches_the_target_and_holds_the_pins():
    pose = _pose(seed=2)
    solver = DragSolver(REST, autoposer=None, limits=True)
    assert not solver.learned and "optimisation only" in solver.notice
    E = effector_positions(pose, REST)
    solver.begin(pose, "left_wrist", pins=("left_ankle", "right_ankle"))
    for k in range(1, 6):  # a drag is a series of small mouse moves
        out = solver.update(E["left_wrist"] + np.array([0.02, 0.03, 0.04]) * k, "full")
    final = solver.end()
    assert final is out
    F = effector_positions(final, REST)
    assert np.linalg.norm(F["left_wrist"] - (E["left_wrist"] + np.array([0.1, 0.15, 0.2]))) < 5e-3
    for pin in ("left_ankle", "right_ankle"):
        assert np.linalg.norm(F[pin] - E[pin]) < 2e-3
    assert limit_violation_deg(final).max() < 1e-3


def test_pelvis_drag_moves_the_translation_and_pinned_feet_stay():
    pose = _pose(seed=4)
    E = effector_positions(pose, REST)
    solver = DragSolver(REST)
    solver.begin(pose, "pelvis")
    free = solver.update(E["pelvis"] + np.array([0.1, 0.0, 0.0]))
    assert np.allclose(free.transl - pose.transl, [0.1, 0.0, 0.0], atol=2e-3)
    solver.end()
    solver.begin(pose, "pelvis", pins=("left_ankle", "right_ankle"))
    for k in range(1, 5):
        out = solver.update(E["pelvis"] + np.array([0.0, -0.02, 0.0]) * k)
    F = effector_positions(out, REST)
    assert np.linalg.norm(F["pelvis"] - (E["pelvis"] + [0.0, -0.08, 0.0])) < 5e-3
    assert max(np.linalg.norm(F[p] - E[p]) for p in ("left_ankle", "right_ankle")) < 2e-3


def test_limb_mode_moves_only_that_limb_and_keeps_hands():
    pose = _pose()
    pose.hand_pose = np.full((30, 3), 0.1, np.float32)
    target = _reachable_target(pose, "right_ankle", seed=5)
    solver = DragSolver(REST, limits=False)
    solver.begin(pose, "right_ankle", pins=("left_wrist",))
    out = solver.update(target, "limb")
    assert solver.last_error < 1e-4
    changed = set(np.nonzero(geodesic_deg(pose.full(), out.full()) > 1e-3)[0].tolist())
    assert changed <= {J["right_hip"], J["right_knee"]} and changed
    assert np.array_equal(out.hand_pose, pose.hand_pose)


def test_elbow_drag_in_limb_mode_swivels_and_keeps_the_wrist():
    pose = _pose()
    E = effector_positions(pose, REST)
    solver = DragSolver(REST, limits=False)
    solver.begin(pose, "left_elbow")
    out = solver.update(E["left_elbow"] + np.array([0.0, 0.0, 0.2]), "limb")
    F = effector_positions(out, REST)
    assert np.linalg.norm(F["left_wrist"] - E["left_wrist"]) < 1e-4
    assert F["left_elbow"][2] > E["left_elbow"][2] + 0.02


def test_a_drag_starts_where_the_pose_is():
    pose = _pose(seed=6)
    E = effector_positions(pose, REST)
    solver = DragSolver(REST)
    for eff in EFFECTORS:
        solver.begin(pose, eff, pins=("left_ankle",))
        out = solver.update(E[eff])
        assert geodesic_deg(pose.full(), out.full()).max() < 0.05, eff
        assert np.allclose(out.transl, pose.transl, atol=1e-4)
        solver.end()
    assert solver.end() is None  # no drag in progress


def test_drag_solver_rejects_bad_input():
    pose = _pose()
    solver = DragSolver(REST)
    with pytest.raises(RuntimeError, match="begin"):
        solver.update(np.zeros(3))
    with pytest.raises(ValueError, match="unknown effector"):
        solver.begin(pose, "left_thumb")
    with pytest.raises(ValueError, match="unknown effector"):
        solver.begin(pose, "left_wrist", pins=("nose",))
    solver.begin(pose, "left_wrist")
    with pytest.raises(ValueError, match="NaN"):
        solver.update(np.array([np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match="mode"):
        solver.update(np.zeros(3), mode="sideways")
    assert solver.end() is None  # the failed updates changed nothing
    with pytest.raises(ValueError, match="rest_joints"):
        DragSolver(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="one pose"):
        solver.begin(Pose.zeros(2), "left_wrist")


def test_the_solvers_level_wise_fk_matches_kinematics():
    from core_models import kinematics as kin
    from core_models.pose import aa_to_matrix_np
    from core_models.posing.refine import fk_single

    R = aa_to_matrix_np(np.random.default_rng(3).normal(0, 0.6, (22, 3)))
    G1, P1, _ = kin.fk_numpy(R, REST)
    G2, P2 = fk_single(R, REST)
    assert np.allclose(G1, G2, atol=1e-12) and np.allclose(P1, P2, atol=1e-12)


# --- squat / lunge / reach with pinned feet (straight legs are singular chains) --------------------------------
BOTH_FEET = ("left_ankle", "right_ankle")


@pytest.fixture(scope="module")
def anny_rest():
    """The app's rest skeleton (Anny): straight legs, hip, knee and ankle on one vertical line."""
    from core_models.body import load_body

    return load_body("anny").skinning.rest_joints


@pytest.fixture(scope="module")
def mountain():
    from core_models.library import load_builtin

    return {p.slug: p.pose for p in load_builtin()}["mountain"]


def _knee_forward_mm(pose: Pose, rest) -> list[float]:
    """How far (mm) each knee lies in front of (+) its hip–ankle line, along the body's forward (+z)."""
    P = world_joints(pose, rest)
    out = []
    for side in ("left", "right"):
        h, k, a = P[J[f"{side}_hip"]], P[J[f"{side}_knee"]], P[J[f"{side}_ankle"]]
        u = (a - h) / np.linalg.norm(a - h)
        off = (k - h) - u * ((k - h) @ u)
        out.append(1000.0 * float(off[2]))
    return out


def _drag(pose: Pose, rest, effector: str, offset, pins, steps: int = 5):
    E = effector_positions(pose, rest)
    solver = DragSolver(rest, autoposer=None, limits=True)
    solver.begin(pose, effector, pins=pins)
    for k in range(1, steps + 1):
        out = solver.update(E[effector] + np.asarray(offset, float) * k / steps, "full")
    assert solver.end() is out
    return E, effector_positions(out, rest), out


@pytest.mark.parametrize("drop", [0.2, 0.35])
@pytest.mark.parametrize("steps", [1, 6])
def test_pelvis_down_with_both_feet_pinned_squats(anny_rest, mountain, drop, steps):
    assert max(_knee_forward_mm(mountain, anny_rest)) < 5.0  # the legs start straight
    E, F, out = _drag(mountain, anny_rest, "pelvis", (0.0, -drop, 0.0), BOTH_FEET, steps)
    assert np.linalg.norm(F["pelvis"] - (E["pelvis"] + [0.0, -drop, 0.0])) < 5e-3
    for pin in BOTH_FEET:
        assert np.linalg.norm(F[pin] - E[pin]) < 2e-3
    knees = _knee_forward_mm(out, anny_rest)
    assert min(knees) > 100.0  # both knees bent, forward over the toes
    assert abs(knees[0] - knees[1]) < 20.0  # a symmetric pose stays symmetric
    P = world_joints(out, anny_rest)
    assert P[J["left_knee"]][0] > P[J["right_knee"]][0] + 0.1  # no crossing: the left knee stays on the left
    assert limit_violation_deg(out).max() < 1e-3


def test_squat_keeps_the_planted_feet_flat(anny_rest, mountain):
    from core_models import kinematics as kin
    from core_models.pose import aa_to_matrix_np

    _, _, out = _drag(mountain, anny_rest, "pelvis", (0.0, -0.25, 0.0), BOTH_FEET)
    G0, _, _ = kin.fk_numpy(aa_to_matrix_np(mountain.full()), anny_rest)
    G1, _, _ = kin.fk_numpy(aa_to_matrix_np(out.full()), anny_rest)
    for foot in BOTH_FEET:  # the foot's world orientation is the start one (within the ankle's limits)
        cos = (np.trace(G0[J[foot]].T @ G1[J[foot]]) - 1.0) / 2.0
        assert np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) < 1.0


def test_pelvis_sideways_with_both_feet_pinned(anny_rest, mountain):
    # a weight shift with a little drop: reachable with bent knees
    E, F, out = _drag(mountain, anny_rest, "pelvis", (0.1, -0.05, 0.0), BOTH_FEET)
    assert np.linalg.norm(F["pelvis"] - (E["pelvis"] + [0.1, -0.05, 0.0])) < 5e-3
    assert max(np.linalg.norm(F[p] - E[p]) for p in BOTH_FEET) < 2e-3
    assert min(_knee_forward_mm(out, anny_rest)) > 20.0
    assert limit_violation_deg(out).max() < 1e-3
    # level: the straight legs would have to get longer by sqrt(L² + 0.1²) − L ≈ 6 mm; the pins win, the pelvis
    # stops that little short and nothing jumps
    E, F, out = _drag(mountain, anny_rest, "pelvis", (0.1, 0.0, 0.0), BOTH_FEET)
    assert max(np.linalg.norm(F[p] - E[p]) for p in BOTH_FEET) < 2e-3
    assert np.linalg.norm(F["pelvis"] - (E["pelvis"] + [0.1, 0.0, 0.0])) < 8e-3
    assert limit_violation_deg(out).max() < 1e-3


def test_pelvis_forward_and_down_lunges(anny_rest, mountain):
    E, F, out = _drag(mountain, anny_rest, "pelvis", (0.0, -0.1, 0.1), BOTH_FEET)
    assert np.linalg.norm(F["pelvis"] - (E["pelvis"] + [0.0, -0.1, 0.1])) < 5e-3
    assert max(np.linalg.norm(F[p] - E[p]) for p in BOTH_FEET) < 2e-3
    assert min(_knee_forward_mm(out, anny_rest)) > 50.0
    assert limit_violation_deg(out).max() < 1e-3


def test_wrist_reach_down_bends_the_pinned_legs(anny_rest, mountain):
    E, F, out = _drag(mountain, anny_rest, "right_wrist", (0.0, -0.55, 0.25), BOTH_FEET)
    assert np.linalg.norm(F["right_wrist"] - (E["right_wrist"] + [0.0, -0.55, 0.25])) < 5e-3
    assert max(np.linalg.norm(F[p] - E[p]) for p in BOTH_FEET) < 2e-3
    assert min(_knee_forward_mm(out, anny_rest)) > 20.0  # the knees bend (forward) instead of stalling straight
    assert limit_violation_deg(out).max() < 1e-3


def test_ankle_drag_up_from_a_straight_leg_bends_the_knee_forward(anny_rest, mountain):
    E, F, out = _drag(mountain, anny_rest, "left_ankle", (0.0, 0.3, 0.0), ("right_ankle",))
    assert np.linalg.norm(F["left_ankle"] - (E["left_ankle"] + [0.0, 0.3, 0.0])) < 5e-3
    assert np.linalg.norm(F["right_ankle"] - E["right_ankle"]) < 2e-3
    left, right = _knee_forward_mm(out, anny_rest)
    assert left > 100.0 and right < 30.0  # the dragged leg's knee comes forward; the standing leg stays straight
    assert limit_violation_deg(out).max() < 1e-3


def test_squat_down_up_past_straight_and_down_again(anny_rest, mountain):
    # the warm start of the way down again is a straight-legged pose: the seed has to bend the knees once more
    E = effector_positions(mountain, anny_rest)
    solver = DragSolver(anny_rest, autoposer=None, limits=True)
    solver.begin(mountain, "pelvis", pins=BOTH_FEET)
    path = list(np.linspace(-0.02, -0.2, 6)) + list(np.linspace(-0.15, 0.05, 6)) + list(np.linspace(0.0, -0.25, 8))
    for y in path:
        out = solver.update(E["pelvis"] + [0.0, y, 0.0])
    F = effector_positions(out, anny_rest)
    assert np.linalg.norm(F["pelvis"] - (E["pelvis"] + [0.0, -0.25, 0.0])) < 5e-3
    assert max(np.linalg.norm(F[p] - E[p]) for p in BOTH_FEET) < 2e-3
    assert min(_knee_forward_mm(out, anny_rest)) > 100.0
