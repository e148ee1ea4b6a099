"""AMASS-compatible pose .npz: round trips, z-up conversion, and clear errors for malformed files."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core_models.io.npz_pose import AMASS_PELVIS_REST, C_ZUP_TO_YUP, PoseFileError, load_pose_npz, save_pose_npz
from core_models.pose import Pose, aa_to_matrix, matrix_to_aa


def _poses(n=5, seed=0, hands=True):
    rng = np.random.default_rng(seed)
    p = Pose(rng.normal(0, 0.5, (n, 3)), rng.normal(0, 0.3, (n, 21, 3)), rng.normal(0, 1, (n, 3)))
    if hands:
        p.hand_pose = rng.normal(0, 0.2, (n, 30, 3)).astype(np.float32)
    return p


def _same_rot(a, b, atol=1e-5):
    np.testing.assert_allclose(aa_to_matrix(a.astype(np.float64)), aa_to_matrix(b.astype(np.float64)), atol=atol)


@pytest.mark.parametrize("up", ["y", "z"])
def test_round_trip(tmp_path, up):
    p = _poses()
    f = save_pose_npz(tmp_path / "a.npz", p, fps=60, betas=np.arange(10) * 0.1, gender="female", up_axis=up)
    with np.load(f, allow_pickle=False) as z:
        assert z["poses"].shape == (5, 156) and z["trans"].shape == (5, 3)
        assert str(z["up_axis"]) == up and int(z["posetailor_version"]) >= 1
        assert z["root_orient"].shape == (5, 3) and z["pose_body"].shape == (5, 63)
        np.testing.assert_allclose(z["pose_body"], p.body_pose.reshape(5, 63), atol=1e-6)
    q, info = load_pose_npz(f)
    assert info["fps"] == 60 and info["gender"] == "female" and info["up_axis"] == up
    np.testing.assert_allclose(info["betas"], np.arange(10) * 0.1, atol=1e-6)
    _same_rot(q.root_orient, p.root_orient)
    np.testing.assert_allclose(q.body_pose, p.body_pose, atol=1e-6)
    np.testing.assert_allclose(q.hand_pose, p.hand_pose, atol=1e-6)
    np.testing.assert_allclose(q.transl, p.transl, atol=1e-5)


def test_single_pose_and_custom_rest_pelvis(tmp_path):
    p = _poses(1)[0]
    rp = np.array([0.0, 0.93, 0.01])
    f = save_pose_npz(tmp_path / "b.npz", p, rest_pelvis=rp)
    q, _ = load_pose_npz(f, rest_pelvis=rp)
    assert q.batch_shape == (1,)
    np.testing.assert_allclose(q.transl[0], p.transl, atol=1e-5)


def test_amass_z_up_import_convention(tmp_path):
    """A z-up AMASS file (no up_axis key): identity root → Rx(-90°); trans' = C·(trans + J0) − rest pelvis."""
    poses = np.zeros((2, 156), np.float32)
    trans = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], np.float32)
    np.savez(tmp_path / "amass.npz", poses=poses, trans=trans, betas=np.zeros(16), gender=np.array("male"),
             mocap_framerate=np.array(120.0))
    q, info = load_pose_npz(tmp_path / "amass.npz")
    assert info["up_axis"] == "z" and info["fps"] == 120
    np.testing.assert_allclose(q.root_orient[0], [-np.pi / 2, 0, 0], atol=1e-6)
    np.testing.assert_allclose(aa_to_matrix(q.root_orient[0].astype(np.float64)), C_ZUP_TO_YUP, atol=1e-6)
    exp = (trans.astype(np.float64) + AMASS_PELVIS_REST) @ C_ZUP_TO_YUP.T  # our default rest pelvis = 0
    np.testing.assert_allclose(q.transl, exp, atol=1e-6)
    # z-up "up" (0,0,1) becomes y-up (0,1,0)
    np.testing.assert_allclose(C_ZUP_TO_YUP @ [0, 0, 1], [0, 1, 0])


def test_legacy_root_orient_pose_body_only(tmp_path):
    np.savez(tmp_path / "c.npz", root_orient=np.zeros((3, 3)), pose_body=np.zeros((3, 63)),
             up_axis=np.array("y"))
    q, _ = load_pose_npz(tmp_path / "c.npz")
    assert q.batch_shape == (3,) and q.hand_pose is None


def _write(tmp_path, name="x.npz", **arrays):
    base = dict(poses=np.zeros((2, 156)), trans=np.zeros((2, 3)), up_axis=np.array("y"))
    base.update(arrays)
    base = {k: v for k, v in base.items() if v is not None}
    np.savez(tmp_path / name, **base)
    return tmp_path / name


@pytest.mark.parametrize("arrays, pattern", [
    (dict(poses=np.zeros((2, 100))), r"'poses' must be \(N, 156\)"),
    (dict(poses=np.zeros(156)), r"'poses' must have 2 dimensions"),
    (dict(poses=np.full((2, 156), np.nan)), r"'poses' contains NaN"),
    (dict(trans=np.array([[0, 0, np.inf], [0, 0, 0]])), r"'trans' contains NaN"),
    (dict(trans=np.zeros((3, 3))), r"'trans' must be \(2, 3\)"),
    (dict(poses=None), r"missing key 'poses'"),
    (dict(poses=np.zeros((0, 156)), trans=np.zeros((0, 3))), r"no frames"),
    (dict(poses=np.array([["a"] * 156] * 2)), r"'poses' must be numeric"),
    (dict(up_axis=np.array("x")), r"'up_axis' must be the string"),
    (dict(mocap_framerate=np.array(-1.0)), r"'mocap_framerate' must be one positive number"),
    (dict(gender=np.array(3)), r"'gender' must be a string"),
])
def test_malformed_arrays(tmp_path, arrays, pattern):
    with pytest.raises(PoseFileError, match=pattern):
        load_pose_npz(_write(tmp_path, **arrays))


def test_object_arrays_are_refused(tmp_path):
    np.savez(tmp_path / "o.npz", poses=np.array([np.zeros(156), None], dtype=object), trans=np.zeros((2, 3)))
    with pytest.raises(PoseFileError, match="pickle"):
        load_pose_npz(tmp_path / "o.npz")


def test_not_npz_truncated_empty_missing(tmp_path):
    (tmp_path / "t.npz").write_text("hello")
    with pytest.raises(PoseFileError, match="not an .npz"):
        load_pose_npz(tmp_path / "t.npz")
    good = _write(tmp_path, "g.npz")
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 40):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        with pytest.raises(PoseFileError):
            load_pose_npz(tmp_path / "cut.npz")
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(PoseFileError, match="empty"):
        load_pose_npz(tmp_path / "e.npz")
    with pytest.raises(PoseFileError, match="cannot read"):
        load_pose_npz(tmp_path / "missing.npz")
    # a zip that holds something other than .npy members
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("poses.npy", b"garbage")
    with pytest.raises(PoseFileError):
        load_pose_npz(tmp_path / "z.npz")


def test_save_rejects_bad_arguments(tmp_path):
    with pytest.raises(PoseFileError, match="up_axis"):
        save_pose_npz(tmp_path / "a.npz", _poses(1), up_axis="x")
    with pytest.raises(PoseFileError, match="fps"):
        save_pose_npz(tmp_path / "a.npz", _poses(1), fps=0)
    with pytest.raises(PoseFileError, match="cannot write"):
        save_pose_npz(tmp_path / "nodir" / "a.npz", _poses(1))


def test_rotation_part_is_exact_for_z_up(tmp_path):
    p = _poses(3, seed=4)
    f = save_pose_npz(tmp_path / "r.npz", p, up_axis="z")
    with np.load(f, allow_pickle=False) as z:
        R = aa_to_matrix(z["poses"][:, :3].astype(np.float64))
    np.testing.assert_allclose(C_ZUP_TO_YUP @ R, aa_to_matrix(p.root_orient.astype(np.float64)), atol=1e-5)
    # loading converts back to y-up: the same root orientation and translation as saved
    q, info = load_pose_npz(f)
    assert info["up_axis"] == "z"
    np.testing.assert_allclose(aa_to_matrix(q.root_orient.astype(np.float64)),
                               aa_to_matrix(p.root_orient.astype(np.float64)), atol=1e-5)
    np.testing.assert_allclose(q.transl, p.transl, atol=1e-5)
    # the stored axis-angle is the canonical one (angle ≤ π) of the z-up rotation
    with np.load(f, allow_pickle=False) as z:
        stored = z["poses"][:, :3].astype(np.float64)
    np.testing.assert_allclose(stored, matrix_to_aa(R), atol=1e-5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10_000), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                                  max_size=4))
def test_fuzzed_npz_only_raises_pose_file_error(tmp_path, cut, flips):
    good = _write(tmp_path, "fz_good.npz")
    data = bytearray(good.read_bytes())
    for pos, val in flips:
        data[pos % len(data)] = val
    data = bytes(data[: max(1, cut % (len(data) + 1))])
    f = tmp_path / "fz.npz"
    f.write_bytes(data)
    try:
        pose, _ = load_pose_npz(f)
    except PoseFileError as e:
        assert str(e)
    else:
        assert np.all(np.isfinite(pose.full()))
