"""pose.py's rotation helpers against roma: round trips, and the numpy closed forms (per-frame paths) equal
their roma counterparts."""
import numpy as np
import roma
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core_models import pose as P

angle = st.floats(-3.1, 3.1, allow_nan=False)
rotvecs = arrays(np.float64, (8, 3), elements=angle)
vec = st.floats(-1.0, 1.0, allow_nan=False)


def _roma_mat(aa: np.ndarray) -> np.ndarray:
    return roma.rotvec_to_rotmat(torch.as_tensor(aa)).numpy()


def _same_rotation(aa1: np.ndarray, aa2: np.ndarray, atol: float = 1e-7) -> bool:
    return np.allclose(_roma_mat(aa1), _roma_mat(aa2), atol=atol)


@settings(max_examples=80, deadline=None)
@given(rotvecs)
def test_round_trips(aa):
    assert _same_rotation(P.matrix_to_aa(P.aa_to_matrix(aa)), aa)
    assert _same_rotation(P.quat_to_aa(P.aa_to_quat(aa)), aa)
    assert _same_rotation(P.sixd_to_aa(P.aa_to_6d(aa)), aa)
    assert _same_rotation(P.euler_to_aa(P.aa_to_euler(aa)), aa)
    assert np.allclose(P.quat_to_matrix(P.aa_to_quat(aa)), _roma_mat(aa), atol=1e-9)
    R = _roma_mat(aa)
    assert np.allclose(P.quat_to_matrix(P.matrix_to_quat(R)), R, atol=1e-9)
    for conv in ("XYZ", "xyz", "ZXY"):
        e = P.matrix_to_euler(R, conv, degrees=False)
        assert np.allclose(roma.euler_to_rotmat(conv, torch.as_tensor(e)).numpy(), R, atol=1e-9)


@settings(max_examples=80, deadline=None)
@given(rotvecs)
def test_numpy_closed_forms_equal_roma(aa):
    R = _roma_mat(aa)
    assert np.allclose(P.aa_to_matrix_np(aa), R, atol=1e-12)
    assert np.allclose(_roma_mat(P.matrix_to_aa_np(R)), R, atol=1e-9)
    norms = np.linalg.norm(P.matrix_to_aa_np(R), axis=-1)
    assert np.all(norms <= np.pi + 1e-9)
    e = roma.rotmat_to_euler("XYZ", torch.as_tensor(R), degrees=True).numpy()
    assert np.allclose(P.euler_xyz_deg_to_matrix_np(P.euler_xyz_deg_np(R)), R, atol=1e-9)
    assert np.allclose(P.euler_xyz_deg_to_matrix_np(e), R, atol=1e-9)
    noisy = R + np.random.default_rng(0).normal(0, 1e-2, R.shape)
    ref = roma.special_procrustes(torch.as_tensor(noisy)).numpy()
    assert np.allclose(P.nearest_rotation_np(noisy), ref, atol=1e-9)
    assert np.allclose(P.nearest_rotation(noisy), ref, atol=1e-9)


def test_half_turns_and_tiny_angles():
    R = np.stack([np.diag([1.0, -1, -1]), np.diag([-1.0, 1, -1]), np.diag([-1.0, -1, 1])])
    assert np.allclose(np.abs(P.matrix_to_aa_np(R)), np.pi * np.eye(3), atol=1e-9)
    tiny = np.array([[1e-9, -2e-9, 3e-10], [0.0, 0.0, 0.0]])
    assert np.allclose(P.matrix_to_aa_np(P.aa_to_matrix_np(tiny)), tiny, atol=1e-15)


@settings(max_examples=80, deadline=None)
@given(st.tuples(vec, vec, vec), st.tuples(vec, vec, vec))
def test_rotation_between(a, b):
    a, b = np.array(a), np.array(b)
    if np.linalg.norm(a) < 1e-3 or np.linalg.norm(b) < 1e-3:
        return
    for bb in (b, -a, a):  # general, opposite, same
        R = P.rotation_between_np(a, bb)
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-9) and np.isclose(np.linalg.det(R), 1.0)
        assert np.allclose(R @ (a / np.linalg.norm(a)), bb / np.linalg.norm(bb), atol=1e-9)
        # the smallest such rotation: its angle is the angle between the directions
        cos = np.clip(a @ bb / np.linalg.norm(a) / np.linalg.norm(bb), -1, 1)
        assert np.isclose(np.linalg.norm(P.matrix_to_aa_np(R)), np.arccos(cos), atol=1e-6)


def test_rigid_align_recovers_a_rigid_motion():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 10, 3))
    R = _roma_mat(rng.normal(size=(4, 3)))
    y = 1.7 * x @ np.swapaxes(R, -1, -2) + rng.normal(size=(4, 1, 3))
    assert np.allclose(P.rigid_align(x, y, scale=True), y, atol=1e-9)


def test_views_with_negative_strides_are_accepted():
    """Importers pass reversed views (a[..., ::-1]); torch refuses negative strides unless copied."""
    angles = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.testing.assert_allclose(P.euler_to_matrix(angles[..., ::-1], "ZYX"),
                               P.euler_to_matrix(angles[..., ::-1].copy(), "ZYX"))
    one = np.ones((5, 1))[..., ::-1]  # size-1 axis: numpy calls it contiguous, torch still refuses
    assert P.euler_to_matrix(one, "X").shape == (5, 3, 3)
