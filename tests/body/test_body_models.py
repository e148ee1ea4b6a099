"""Both body backends: SMPL semantics of the Anny layer, the synthetic SMPL-H file path, locality."""
import numpy as np
import pytest

from core_models import skeleton as sk
from core_models.body import load_body
from core_models.body.smplh_body import SMPLHModelError, read_smplh_npz
from core_models.pose import Pose, aa_to_matrix

from .synthetic_smplh import build

J = sk.JOINT_INDEX


@pytest.fixture(scope="module")
def anny():
    return load_body("anny")


@pytest.fixture(scope="module")
def smplh_path(anny, tmp_path_factory):
    p = tmp_path_factory.mktemp("smplh") / "model.npz"
    build(p, anny.skinning)
    return p


def test_zero_pose_is_smpl_t_pose(anny):
    d = anny.skinning
    j = d.rest_joints
    assert np.allclose(j[0], 0)
    for side, s in (("left", 1), ("right", -1)):
        sh, el, wr = j[J[f"{side}_shoulder"]], j[J[f"{side}_elbow"]], j[J[f"{side}_wrist"]]
        arm = wr - sh
        assert s * arm[0] > 0.4 and abs(arm[1]) < 0.01 and abs(arm[2]) < 0.01  # horizontal, along ±x
        assert 0.3 < (el - sh)[0] / arm[0] < 0.7 and np.abs((el - sh)[1:]).max() < 0.01  # straight arm
        leg = j[J[f"{side}_ankle"]] - j[J[f"{side}_hip"]]
        assert leg[1] < -0.7 and np.hypot(leg[0], leg[2]) < 0.01  # straight down
        assert s * j[J[f"{side}_hip"]][0] > 0  # left is +x
    assert j[J["left_foot"]][2] > j[J["left_ankle"]][2] + 0.05  # toes point to +z: the body faces +z
    assert j[J["head"]][1] > j[J["neck"]][1] > j[J["spine3"]][1] > 0
    out = anny.forward(Pose.zeros())
    assert np.allclose(out.vertices, d.rest_vertices, atol=1e-6)
    assert np.allclose(out.global_rotations, np.eye(3), atol=1e-7)  # world-aligned joint frames
    assert d.rest_vertices.shape == (13718, 3) and d.faces.shape == (27420, 3)
    assert np.allclose(d.weights.sum(1), 1, atol=1e-5)
    assert np.isclose(d.floor_height, d.rest_vertices[:, 1].min())


def test_left_shoulder_about_z_moves_wrist_as_the_smpl_chain_says(anny):
    rest = anny.skinning.rest_joints.astype(np.float64)
    p = Pose.zeros().with_joint(J["left_shoulder"], [0, 0, np.pi / 2])
    got = anny.joints(p)
    sh = rest[J["left_shoulder"]]
    expected = sh + aa_to_matrix(np.array([0, 0, np.pi / 2])) @ (rest[J["left_wrist"]] - sh)
    assert np.allclose(got[J["left_wrist"]], expected, atol=1e-5)
    assert got[J["left_wrist"]][1] > sh[1] + 0.4  # the arm now points up
    # and the mesh follows: the left hand vertices are now above the shoulder
    v = anny.forward(p).vertices
    hand = anny.skinning.weights[:, J["left_wrist"]] > 0.9
    assert v[hand, 1].min() > sh[1] + 0.3


def test_left_elbow_moves_only_left_forearm_and_hand(anny):
    p = Pose.zeros().with_joint(J["left_elbow"], [0, -np.pi / 2, 0])
    moved = np.linalg.norm(anny.forward(p).vertices - anny.skinning.rest_vertices, axis=1) > 1e-4
    W = anny.skinning.weights
    influenced = (W[:, J["left_elbow"]] + W[:, J["left_wrist"]]) > 0
    assert moved.sum() > 200
    assert np.all(influenced[moved])
    # nothing moves on the right side or below the chest
    assert np.all(anny.skinning.rest_vertices[moved, 0] > 0.2)


def test_batch_forward_equals_single(anny):
    rng = np.random.default_rng(0)
    p = Pose(rng.normal(0, .3, (3, 3)), rng.normal(0, .3, (3, 21, 3)), rng.normal(0, .1, (3, 3)))
    out = anny.forward(p)
    for i in range(3):
        assert np.allclose(out.vertices[i], anny.forward(p[i]).vertices, atol=1e-5)
    _, Jt = anny.forward_torch(__import__("torch").as_tensor(p.matrices()), __import__("torch").as_tensor(p.transl))
    assert np.allclose(Jt.numpy(), out.joints, atol=1e-5)


def test_phenotype_changes_body_not_semantics(anny):
    tall = anny.with_phenotype(height=0.9)
    h0 = np.ptp(anny.skinning.rest_vertices[:, 1])
    h1 = np.ptp(tall.skinning.rest_vertices[:, 1])
    assert h1 > h0 + 0.05
    assert np.allclose(tall.skinning.rest_joints[0], 0)
    with pytest.raises(ValueError, match="outside"):
        anny.with_phenotype(height=3.0)
    with pytest.raises(ValueError, match="unknown"):
        anny.with_phenotype(shoe_size=0.3)


def test_smplh_backend_matches_anny_joints(anny, smplh_path):
    smplh = load_body("smplh", model_path=smplh_path)
    rng = np.random.default_rng(1)
    p = Pose(rng.normal(0, .4, (4, 3)), rng.normal(0, .4, (4, 21, 3)), rng.normal(0, .2, (4, 3)))
    # same rest skeleton by construction ⇒ same joints for the same pose (tolerance: float32 only);
    # with real SMPL-H files the difference is the bone-length difference (documented in the README)
    assert np.allclose(smplh.joints(p), anny.joints(p), atol=1e-5)
    out = smplh.forward(p)
    assert out.vertices.shape == (4, smplh.skinning.rest_vertices.shape[0], 3)
    # posedirs are zero here, so smplx's vertices equal our LBS of its own weights
    lbs = super(type(smplh), smplh).forward(p).vertices
    assert np.allclose(out.vertices, lbs, atol=1e-4)
    # smplx's joints (from the posed skeleton) equal ours
    joint_vertices = out.vertices[:, -52:-30]
    assert np.allclose(joint_vertices, out.joints, atol=1e-4)


def test_smplh_elbow_locality(smplh_path):
    smplh = load_body("smplh", model_path=smplh_path)
    p = Pose.zeros().with_joint(J["left_elbow"], [0, -np.pi / 2, 0])
    moved = np.linalg.norm(smplh.forward(p).vertices - smplh.forward(Pose.zeros()).vertices, axis=1) > 1e-4
    W = smplh.skinning.weights
    assert moved.any() and np.all((W[moved][:, [J["left_elbow"], J["left_wrist"]]].sum(1)) > 0)


def test_smplh_bad_files(tmp_path, smplh_path):
    with pytest.raises(SMPLHModelError, match="pickle"):
        read_smplh_npz(tmp_path / "SMPLH_male.pkl") if (tmp_path / "SMPLH_male.pkl").write_bytes(b"x") else None
    with pytest.raises(SMPLHModelError, match="not found"):
        read_smplh_npz(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(SMPLHModelError, match="cannot read"):
        read_smplh_npz(junk)
    with np.load(smplh_path) as z:
        d = dict(z)
    d.pop("J_regressor")
    np.savez(tmp_path / "partial.npz", **d)
    with pytest.raises(SMPLHModelError, match="missing keys"):
        read_smplh_npz(tmp_path / "partial.npz")
    obj = tmp_path / "obj.npz"
    np.savez(obj, v_template=np.array([object()], dtype=object))
    with pytest.raises(SMPLHModelError):
        read_smplh_npz(obj)
