"""Canonical pose maths: conversions, mirror, heading, limits (numpy and torch, float32/float64)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core_models import pose as P
from core_models import skeleton as sk
from core_models.pose import Pose, PoseError

finite = st.floats(-3.0, 3.0, allow_nan=False, width=32)
aa_arrays = arrays(np.float32, (5, 22, 3), elements=finite)


def random_pose(rng, batch=(), scale=0.5):
    return Pose(rng.normal(0, scale, batch + (3,)), rng.normal(0, scale, batch + (21, 3)),
                rng.normal(0, 1, batch + (3,)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(aa=aa_arrays)
@settings(max_examples=25, deadline=None)
def test_rotation_round_trips(aa, dtype):
    aa = aa.astype(dtype)
    R = P.aa_to_matrix(aa)
    assert R.dtype == dtype
    for back in (P.matrix_to_aa(R), P.quat_to_aa(P.aa_to_quat(aa)), P.sixd_to_aa(P.aa_to_6d(aa)),
                 P.euler_to_aa(P.aa_to_euler(aa))):
        assert np.allclose(P.aa_to_matrix(back), R, atol=2e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_in_torch_out(dtype):
    aa = torch.randn(4, 22, 3, dtype=dtype)
    R = P.aa_to_matrix(aa)
    assert isinstance(R, torch.Tensor) and R.dtype == dtype and R.shape == (4, 22, 3, 3)
    d6 = P.matrix_to_6d(R)
    assert d6.shape == (4, 22, 6)
    assert torch.allclose(P.sixd_to_matrix(d6), R, atol=1e-5)
    # differentiable 6D path (used by the networks)
    x = d6.clone().requires_grad_(True)
    P.sixd_to_matrix(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@given(aa=aa_arrays)
@settings(max_examples=25, deadline=None)
def test_mirror_involution(aa):
    p = Pose.from_full(aa, np.arange(15, dtype=np.float32).reshape(5, 3))
    assert P.mirror(P.mirror(p)).allclose(p, atol=1e-6)


def test_mirror_swaps_sides_geometrically():
    from core_models.kinematics import fk_numpy
    rng = np.random.default_rng(0)
    p = random_pose(rng)
    p.transl[:] = 0
    m = P.mirror(p)
    _, J, _ = fk_numpy(p.matrices().astype(np.float64), sk.DEFAULT_REST_JOINTS)
    _, Jm, _ = fk_numpy(m.matrices().astype(np.float64), sk.DEFAULT_REST_JOINTS)
    reflected = J[sk.MIRROR] * np.array([-1, 1, 1])
    assert np.allclose(Jm, reflected, atol=1e-5)


def test_heading_normalisation_round_trip_and_keeps_tilt():
    rng = np.random.default_rng(1)
    p = random_pose(rng, (16,), scale=0.8)
    n, h = P.normalize_heading(p)
    assert np.allclose(P.heading_of(n.root_orient), 0, atol=1e-5)
    back = P.apply_heading(n, h)
    assert np.allclose(P.aa_to_matrix(back.root_orient), P.aa_to_matrix(p.root_orient), atol=1e-5)
    assert np.allclose(back.transl, p.transl, atol=1e-5)
    # tilt (the angle between body up and world up) is unchanged
    up = lambda r: P.aa_to_matrix(r)[..., :, 1]
    assert np.allclose(up(n.root_orient)[..., 1], up(p.root_orient)[..., 1], atol=1e-5)
    # a pure heading is removed completely
    q = Pose.zeros()
    q.root_orient[:] = [0, 1.2, 0]
    assert np.allclose(P.normalize_heading(q)[0].root_orient, 0, atol=1e-6)
    assert np.isclose(P.normalize_heading(q)[1], 1.2, atol=1e-6)


def test_joint_limits_and_clamp():
    p = Pose.zeros()
    assert np.all(P.limit_violation_deg(p) == 0)
    knee = sk.JOINT_INDEX["left_knee"]
    bad = p.with_joint(knee, [np.deg2rad(-60), 0, 0])  # knee hyper-extended by 60°
    v = P.limit_violation_deg(bad)
    assert v[knee] > 40 and v.sum() == v[knee]
    fixed = P.clamp_to_limits(bad)
    assert P.limit_violation_deg(fixed).max() < 1e-3
    # limits are mirror-symmetric
    rng = np.random.default_rng(2)
    q = random_pose(rng, (64,), scale=0.7)
    assert np.allclose(P.limit_violation_deg(q)[:, sk.MIRROR], P.limit_violation_deg(P.mirror(q)), atol=1e-3)


def test_interpolate_endpoints():
    rng = np.random.default_rng(3)
    a, b = random_pose(rng), random_pose(rng)
    assert P.interpolate(a, b, 0.0).allclose(a, atol=1e-5) or np.allclose(
        P.aa_to_matrix(P.interpolate(a, b, 0.0).full()), a.matrices(), atol=1e-5)
    assert np.allclose(P.aa_to_matrix(P.interpolate(a, b, 1.0).full()), b.matrices(), atol=1e-5)


@pytest.mark.parametrize("kwargs,msg", [
    (dict(root_orient=np.zeros(3), body_pose=np.zeros((20, 3))), "body_pose"),
    (dict(root_orient=np.zeros(3), body_pose=np.full((21, 3), np.nan)), "NaN"),
    (dict(root_orient=[np.inf, 0, 0], body_pose=np.zeros((21, 3))), "NaN or infinite"),
    (dict(root_orient=np.zeros((2, 3)), body_pose=np.zeros((3, 21, 3))), "batch"),
    (dict(root_orient="abc", body_pose=np.zeros((21, 3))), "root_orient"),
])
def test_bad_pose_input_is_a_clear_error(kwargs, msg):
    with pytest.raises(PoseError, match=msg):
        Pose(**kwargs)


def test_flat_layouts_and_stack():
    rng = np.random.default_rng(4)
    p = random_pose(rng, (3,))
    q = Pose.from_flat(p.flat156(), p.transl)
    assert q.allclose(p)
    assert Pose.stack([p[0], p[1], p[2]]).allclose(p)
    with pytest.raises(PoseError):
        Pose.from_flat(np.zeros((3, 70)))


def test_skeleton_tables_consistent():
    assert len(sk.JOINT_NAMES) == 22 and sk.PARENTS[0] == -1
    assert all(sk.PARENTS[j] < j for j in range(1, 22))
    assert np.array_equal(sk.MIRROR[sk.MIRROR], np.arange(22))
    parts = [j for js in sk.BODY_PARTS.values() for j in js]
    assert sorted(parts) == list(range(1, 22))
    assert np.all(sk.JOINT_LIMITS_DEG[..., 0] < sk.JOINT_LIMITS_DEG[..., 1])


def test_heading_of_lying_poses_keeps_left_on_plus_x():
    for pitch in (np.pi / 2, -np.pi / 2):  # lying on the back / face down
        for yaw in (0.0, 0.7, -2.0):
            R = P.aa_to_matrix(P.rot_y(np.float32(yaw))) @ P.aa_to_matrix(np.array([pitch, 0, 0], np.float32))
            p = Pose.zeros()
            p.root_orient[:] = P.matrix_to_aa(R)
            n, h = P.normalize_heading(p)
            assert np.isclose(np.cos(h - yaw), 1.0, atol=1e-4)
            left_axis = P.aa_to_matrix(n.root_orient)[:, 0]
            assert left_axis[0] > 0.99
