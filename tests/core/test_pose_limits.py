"""The one joint-limit check and clamp (core_models.pose): gimbal-aware, property-tested against roma."""
import numpy as np
import roma
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core_models import pose as P
from core_models import skeleton as sk
from core_models.pose import Pose

JI = sk.JOINT_INDEX
LIM = sk.JOINT_LIMITS_DEG
unit = st.floats(0.0, 1.0, allow_nan=False)


def _inside(fracs: np.ndarray) -> np.ndarray:
    """(...,22,3) fractions in [0, 1] → Euler angles (degrees) inside every joint's box."""
    return LIM[..., 0] + fracs * (LIM[..., 1] - LIM[..., 0])


def _pose_from_euler(e_deg: np.ndarray) -> Pose:
    """Through roma (independent of pose.py's numpy Euler closed forms)."""
    aa = roma.euler_to_rotvec("XYZ", torch.as_tensor(e_deg, dtype=torch.float64), degrees=True).numpy()
    return Pose.from_full(aa.astype(np.float32))


fracs_st = st.lists(unit, min_size=66, max_size=66).map(lambda v: np.array(v).reshape(22, 3))
# y pinned within 0.5° of ±90° (gimbal lock) where the box allows it, x and z anywhere in the box
near_lock_st = st.tuples(fracs_st, st.floats(-0.5, 0.5), st.sampled_from([-1.0, 1.0]))


def test_old_check_reported_false_violations_at_gimbal_lock():
    """Regression: poses built inside the box at |y| = 90° were reported (and clamped) 23-70° out of limits,
    because the two exact XYZ decompositions there put all of x±z on one axis."""
    for j, e in (("left_elbow", (-99, -90, 24)), ("right_elbow", (-95, 90, -20)), ("left_shoulder", (-90, -90, 90))):
        full = np.zeros((22, 3))
        full[JI[j]] = e
        pose = _pose_from_euler(full)
        assert P.limit_violation_deg(pose)[JI[j]] == 0, j
        assert P.clamp_to_limits(pose).allclose(pose, atol=0), j


@settings(max_examples=60, deadline=None)
@given(fracs_st)
def test_pose_inside_the_box_has_no_violation(fracs):
    pose = _pose_from_euler(_inside(fracs))
    assert np.all(P.limit_violation_deg(pose) == 0)
    assert P.clamp_to_limits(pose).allclose(pose, atol=0)


@settings(max_examples=80, deadline=None)
@given(near_lock_st)
def test_pose_inside_the_box_near_gimbal_lock_has_no_violation(args):
    fracs, dy, sign = args
    e = _inside(fracs)
    y = sign * 90.0 + dy
    ok = (LIM[:, 1, 0] <= y) & (y <= LIM[:, 1, 1])
    e[ok, 1] = y
    pose = _pose_from_euler(e)
    v = P.limit_violation_deg(pose)
    assert np.all(v == 0), (np.nonzero(v)[0], v[v > 0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=66, max_size=66))
def test_clamp_is_idempotent_keeps_in_limit_joints_and_ends_inside(vals):
    pose = Pose.from_full(np.array(vals, np.float32).reshape(22, 3))
    v = P.limit_violation_deg(pose)
    c = P.clamp_to_limits(pose)
    assert P.limit_violation_deg(c).max() < 1e-2
    inside = v == 0
    assert np.array_equal(c.full()[inside], pose.full()[inside])  # untouched, bit for bit
    assert np.array_equal(c.root_orient, pose.root_orient)
    assert np.allclose(P.clamp_to_limits(c).matrices(), c.matrices(), atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-2.5, 2.5, allow_nan=False), min_size=66, max_size=66))
def test_violation_is_mirror_symmetric(vals):
    pose = Pose.from_full(np.array(vals, np.float32).reshape(22, 3))
    v, vm = P.limit_violation_deg(pose), P.limit_violation_deg(P.mirror(pose))
    assert np.allclose(v[sk.MIRROR], vm, atol=1e-2)
    cm = P.clamp_to_limits(P.mirror(pose))
    assert np.allclose(P.mirror(P.clamp_to_limits(pose)).matrices(), cm.matrices(), atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(fracs_st, st.integers(1, 21), st.integers(0, 2), st.floats(1.0, 30.0))
def test_violation_measures_the_excess_away_from_gimbal_lock(fracs, j, axis, over):
    """One angle pushed ``over`` degrees past its limit, y kept away from ±90°: the violation is the excess."""
    e = _inside(fracs) * 0.0
    e[j] = LIM[j].mean(-1)
    e[j, 1] = np.clip(e[j, 1], -45.0, 45.0)
    if axis == 1 and LIM[j, 1, 1] + over > 60.0:
        return
    e[j, axis] = LIM[j, axis, 1] + over
    v = P.limit_violation_deg(_pose_from_euler(e))
    assert v[j] <= over + 1e-3  # never more than the Euler excess
    assert v[j] > 0.3 * over  # ... and not explained away
    assert np.all(np.delete(v, j) == 0)


def test_matrix_level_and_batched_versions_agree_with_the_pose_level_ones():
    rng = np.random.default_rng(4)
    poses = Pose.from_full(rng.normal(0, 1.2, (16, 22, 3)).astype(np.float32))
    R = P.aa_to_matrix(poses.full().astype(np.float64))
    assert np.allclose(P.limit_violation_matrices(R), P.limit_violation_deg(poses), atol=1e-4)
    assert np.allclose(P.limit_violation_matrices(R[3]), P.limit_violation_deg(poses[3]), atol=1e-4)
    assert np.allclose(P.clamp_matrices(R), P.clamp_to_limits(poses).matrices(), atol=1e-5)


def test_limit_euler_is_exact_and_prefers_the_in_limit_decomposition():
    """What the joint sliders show: exactly the joint's rotation, as the decomposition that fits its box."""
    from core_models.pose import aa_to_matrix, euler_to_aa, euler_to_matrix, limit_euler_deg

    rng = np.random.default_rng(3)
    full = rng.normal(size=(200, 22, 3)) * 1.2
    e = limit_euler_deg(full)
    R = euler_to_matrix(e)
    d = np.degrees(np.arccos(np.clip((np.einsum("...ij,...ij->...", R, aa_to_matrix(full)) - 1) / 2, -1, 1)))
    assert d.max() < 1e-3
    lo, hi = sk.JOINT_LIMITS_DEG[..., 0], sk.JOINT_LIMITS_DEG[..., 1]
    inside = np.clip(rng.uniform(lo, hi, size=(200, 22, 3)), lo + 1, hi - 1)
    inside[..., 1] = np.clip(inside[..., 1], -80, 80)  # |y| < 90: the other decomposition is then out of the box
    got = limit_euler_deg(euler_to_aa(inside))
    assert np.allclose(got[:, 1:], inside[:, 1:], atol=1e-3)  # an in-box triple is shown as itself
