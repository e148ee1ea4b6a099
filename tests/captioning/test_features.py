import numpy as np
import pytest

from core_models import skeleton as sk
from core_models.captioning.features import (
    EXT_INDEX,
    EXT_MIRROR,
    HAND_OFFSET,
    compute_features,
    pose_joints,
    robust_heading,
)
from core_models.kinematics import fk_numpy
from core_models.pose import Pose, aa_to_matrix, heading_of, mirror
from tests.captioning.helpers import J, make, poses, random_poses


def test_conventions_with_fk():
    """The sign conventions the hand-built test poses rely on."""
    P = poses()
    c = pose_joints(P["left_knee_90"])
    assert c[J["left_ankle"], 2] < c[J["left_knee"], 2] - 0.3          # knee +x: the shin swings back
    c = pose_joints(P["left_hand_up"])
    assert c[J["left_wrist"], 1] > c[J["head"], 1]                      # left shoulder +z: arm up
    assert c[J["right_wrist"], 1] < c[J["pelvis"], 1]                   # right shoulder +z: arm down
    c = pose_joints(P["lean_forward"])
    assert c[J["neck"], 2] > 0.2                                        # spine +x: forward
    c = pose_joints(P["lying_on_back"])
    assert abs(c[J["neck"], 1]) < 0.1 and c[J["left_shoulder"], 0] > 0  # flat, left side still on +x


def test_tpose_virtual_joints():
    c = pose_joints(Pose.zeros())
    rest = sk.DEFAULT_REST_JOINTS
    assert c.shape == (len(EXT_INDEX), 3)
    np.testing.assert_allclose(c[:22], rest - rest[0], atol=1e-5)
    d = rest[J["left_wrist"]] - rest[J["left_elbow"]]
    np.testing.assert_allclose(c[EXT_INDEX["left_hand"]], rest[J["left_wrist"]] + HAND_OFFSET * d / np.linalg.norm(d),
                               atol=1e-5)
    np.testing.assert_allclose(c[EXT_INDEX["torso"]], rest[[0, 9, 12]].mean(0), atol=1e-5)
    np.testing.assert_allclose(c[EXT_INDEX["left_shin"]], rest[[4, 7]].mean(0), atol=1e-5)


def test_fk_matches_kinematics_and_batch_shapes():
    p = random_poses(7, seed=3)
    f = compute_features(p, normalize=False)
    _, t, _ = fk_numpy(aa_to_matrix(p.full()).astype(np.float64), sk.DEFAULT_REST_JOINTS)
    np.testing.assert_allclose(f.coords[:, :22], t - t[:, :1], atol=1e-5)
    assert pose_joints(p[None]).shape == (1, 7, len(EXT_INDEX), 3)


def test_heading_removed_translation_ignored():
    p = make(left_knee=(40, 0, 0))
    q = p.copy()
    q.root_orient[:] = [0, 1.3, 0]
    q.transl[:] = [3, 1, -2]
    np.testing.assert_allclose(pose_joints(p), pose_joints(q), atol=1e-5)


def test_robust_heading_matches_pose_heading_when_upright():
    p = random_poses(50, seed=5)
    np.testing.assert_allclose(np.cos(robust_heading(p.root_orient) - heading_of(p.root_orient)), 1, atol=1e-5)


@pytest.mark.parametrize("name", ["lying_on_back", "lying_face_down"])
def test_lying_poses_not_flipped(name):
    c = pose_joints(poses()[name])
    assert c[J["left_hip"], 0] > c[J["right_hip"], 0]


def test_mirror_equivariance():
    p = random_poses(10, seed=2)
    a, b = pose_joints(p), pose_joints(mirror(p))
    np.testing.assert_allclose(b, a[:, EXT_MIRROR] * np.array([-1, 1, 1]), atol=1e-4)
