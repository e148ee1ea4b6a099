"""The 52-joint SMPL-H hand layer on both bodies: 22-joint numbers unchanged, flat hand at zero, locality."""
import numpy as np
import pytest

from core_models import hands as H
from core_models import skeleton as sk
from core_models.body import load_body
from core_models.body import anny_body as ab
from core_models.pose import Pose, aa_to_matrix_np

from .synthetic_smplh import build

J = sk.JOINT_INDEX


@pytest.fixture(scope="module")
def anny():
    return load_body("anny")


def _arm_pose() -> Pose:
    p = Pose.zeros()
    p.body_pose[J["left_elbow"] - 1] = [0.1, -0.9, 0.2]
    p.body_pose[J["right_wrist"] - 1] = [0.3, 0.2, -0.4]
    p.transl[:] = [0.1, 0.2, -0.3]
    return p


def test_smplh_hand_order_and_parents():
    assert H.HAND_JOINT_NAMES[:3] == ("left_index1", "left_index2", "left_index3")
    assert H.HAND_JOINT_NAMES[12:15] == ("left_thumb1", "left_thumb2", "left_thumb3")
    assert H.HAND_JOINT_NAMES[15] == "right_index1" and H.HAND_JOINT_NAMES[-1] == "right_thumb3"
    assert H.HAND_JOINT_NAMES[6:12] == tuple(f"left_{f}{k}" for f in ("pinky", "ring") for k in (1, 2, 3))
    assert H.PARENTS52[22] == J["left_wrist"] and H.PARENTS52[23] == 22 and H.PARENTS52[37] == J["right_wrist"]
    assert H.hand_joint_index("right", "thumb", 3) == 29


def test_hand_layer_leaves_22_joint_numbers_unchanged(anny):
    d = anny.skinning
    assert d.has_hands and d.weights52.shape == (d.rest_vertices.shape[0], 52)
    W = d.weights52[:, :22].copy()
    W[:, J["left_wrist"]] += d.weights52[:, 22:37].sum(1)
    W[:, J["right_wrist"]] += d.weights52[:, 37:].sum(1)
    assert np.abs(W - d.weights).max() < 1e-6  # the 22-joint weights are the finger weights summed
    p = _arm_pose()
    body_only = anny.forward(p)
    assert body_only.hand_joints is None
    q = p.copy()
    q.hand_pose = d.hand_rest_pose.copy()  # the mesh's own rest hand: the same vertices as without hands
    with_rest = anny.forward(q)
    assert np.abs(with_rest.vertices - body_only.vertices).max() < 1e-5
    assert np.abs(with_rest.joints - body_only.joints).max() < 1e-6
    assert np.allclose(with_rest.skin_transforms, body_only.skin_transforms, atol=1e-6)


def test_zero_hand_pose_is_a_flat_hand_with_world_aligned_frames(anny):
    p = Pose.zeros()
    p.hand_pose = np.zeros((30, 3), np.float32)
    out = anny.forward(p)
    assert np.allclose(out.hand_rotations, np.eye(3), atol=1e-6)
    hj = out.hand_joints
    for s, side in enumerate(H.SIDES):
        wrist = out.joints[J[f"{side}_wrist"]]
        sign = 1.0 if side == "left" else -1.0
        for f in ("index", "middle", "ring", "pinky"):
            chain = hj[[H.hand_joint_index(side, f, k) for k in (1, 2, 3)]]
            assert np.all(np.abs(chain[:, 1] - wrist[1]) < 0.008)  # in the palm plane
            seg = np.diff(chain, axis=0)
            assert np.all(sign * seg[:, 0] > 0.8 * np.linalg.norm(seg, axis=1))  # straight out along ±x
            assert abs(seg[0, 1]) < 1e-6 and abs(seg[1, 1]) < 1e-6
        thumb = hj[H.hand_joint_index(side, "thumb", 1)]
        assert thumb[2] > wrist[2] + 0.015  # the thumb is on the front side
    # both hands mirror each other (the Anny body is symmetric)
    left, right = hj[:15], hj[15:]
    assert np.abs(left * [-1, 1, 1] - right).max() < 0.003
    rest = anny.skinning.hand_rest_pose
    assert np.abs(rest[:15] * [1, -1, -1] - rest[15:]).max() < 0.02
    assert 0.05 < np.abs(rest).max() < 0.6  # the rest hand is a relaxed, slightly curled hand


def test_a_finger_rotation_moves_only_that_finger(anny):
    p = Pose.zeros()
    p.hand_pose = np.zeros((30, 3), np.float32)
    flat_out = anny.forward(p)
    flat = flat_out.vertices
    i = H.hand_joint_index("left", "index", 2)
    p.hand_pose[i] = [0.0, 0.0, -1.2]  # left index middle joint flexed 69° (towards the palm, −y)
    out = anny.forward(p)
    moved = np.linalg.norm(out.vertices - flat, axis=1) > 1e-5
    W = anny.skinning.weights52
    assert moved.sum() > 20
    assert np.all(W[moved][:, [i + 22, i + 23]].sum(1) > 0)
    tip = out.hand_joints[i + 1]
    assert tip[1] < out.hand_joints[i][1] - 0.01  # the last phalanx goes down (palm side)
    assert np.allclose(out.hand_joints[:i + 1], flat_out.hand_joints[:i + 1], atol=1e-7)  # only the children


def test_batched_hands_and_forward_equal_single(anny):
    rng = np.random.default_rng(3)
    p = Pose(rng.normal(0, .3, (3, 3)), rng.normal(0, .3, (3, 21, 3)), rng.normal(0, .1, (3, 3)),
             rng.normal(0, .3, (3, 30, 3)))
    out = anny.forward(p)
    for i in range(3):
        one = anny.forward(p[i])
        assert np.allclose(out.vertices[i], one.vertices, atol=1e-5)
        assert np.allclose(out.hand_joints[i], one.hand_joints, atol=1e-6)
    # the hand joints follow SMPL's FK from the flat-hand rest skeleton with world-aligned frames
    d52 = anny.skinning_hands
    R = aa_to_matrix_np(np.concatenate([p[0].full(), p[0].hand_pose]))
    from core_models import kinematics as kin
    _, Jk, _ = kin.fk_numpy(R, d52.rest_joints.astype(np.float64), d52.parents)
    assert np.allclose(out.hand_joints[0], Jk[22:] + p.transl[0], atol=1e-5)


def test_layer_cache_is_versioned_and_keeps_hands(tmp_path, monkeypatch):
    monkeypatch.setenv("POSETAILOR_CACHE", str(tmp_path))
    assert ab._LAYER_VERSION != "1"
    built = ab.load_anny_layer(use_cache=True)
    files = list(tmp_path.glob("anny_smplh_*.npz"))
    assert len(files) == 1
    cached = ab.load_anny_layer(use_cache=True)
    for f in ("hand_rest_joints", "hand_rest_pose", "weights52", "weights", "rest_vertices"):
        assert np.array_equal(getattr(built, f), getattr(cached, f)), f


def test_smplh_file_gives_its_own_hand_joints(anny, tmp_path):
    path = tmp_path / "model.npz"
    build(path, anny.skinning)
    smplh = load_body("smplh", model_path=path)
    d52 = smplh.skinning_hands
    assert d52 is not None and d52.rest_joints.shape == (52, 3) and np.allclose(d52.hand_rest_pose, 0)
    p = Pose.zeros()
    p.hand_pose = np.zeros((30, 3), np.float32)
    p.hand_pose[H.hand_joint_index("right", "middle", 1)] = [0, 0, 0.8]
    out = smplh.forward(p)
    # smplx's own joint vertices (one per joint in the synthetic file) follow our 52-joint FK
    assert np.allclose(out.vertices[-30:], out.hand_joints, atol=1e-4)
