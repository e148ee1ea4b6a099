"""Test-time mirror augmentation of the ``direct`` capture model (``Lifter.predict_pose(flip=True)``): the two
rotations are averaged on SO(3) (``flip_mean="chordal"``: the chordal L2 mean = the geodesic midpoint, computed in
closed form by :func:`half_rotation`), the prediction is mirror-equivariant and a left/right-symmetric input gives
a symmetric pose; the shipped real-landmark variant loads with the augmentation on."""
from pathlib import Path

import numpy as np
import pytest
import roma
import torch

from core_models import skeleton as sk
from core_models.nets.lifter.model import (
    LM_MIRROR_IDX,
    Lifter,
    LifterConfig,
    average_rotations_6d,
    half_rotation,
    mirror_keypoints,
    mirror_pose6d,
)
from core_models.pose import matrix_to_6d, nearest_rotation, sixd_to_matrix

WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "weights"
FLIP_X = torch.tensor([-1.0, 1.0, 1.0])


def _model(mean: str) -> Lifter:
    torch.manual_seed(0)
    cfg = LifterConfig(window=1, in_dim=7, d=16, pose_head=True, pose_hidden=32, encoder="mlp", mlp_hidden=32,
                       flip_mean=mean)
    model = Lifter(cfg).eval()
    with torch.no_grad():  # an untrained pose head stays near the rest pose: spread its rotations out
        for prm in model.parameters():
            prm.add_(torch.randn_like(prm) * 0.03)
    return model


def _keypoints(n: int = 5) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randn(n, 33, 7)


def test_half_rotation_squares_back_and_gives_the_chordal_mean():
    torch.manual_seed(0)
    axis = torch.nn.functional.normalize(torch.randn(500, 3), dim=-1)
    D = roma.rotvec_to_rotmat(axis * torch.rand(500, 1) * 2.6)     # angles up to ~150 degrees
    H = half_rotation(D)
    torch.testing.assert_close(H @ H, D, atol=1e-5, rtol=0)
    torch.testing.assert_close(H @ H.transpose(-1, -2), torch.eye(3).expand(500, 3, 3), atol=1e-5, rtol=0)
    Ra = roma.random_rotmat(500)
    Rb = Ra @ D
    mid = sixd_to_matrix(average_rotations_6d(matrix_to_6d(Ra), matrix_to_6d(Rb), "chordal"))
    torch.testing.assert_close(mid, nearest_rotation((Ra + Rb) / 2), atol=1e-5, rtol=0)
    # equidistant from both: the geodesic midpoint
    da, db = roma.rotmat_geodesic_distance(mid, Ra), roma.rotmat_geodesic_distance(mid, Rb)
    torch.testing.assert_close(da, db, atol=1e-4, rtol=0)


def test_the_mean_of_a_rotation_with_itself_is_that_rotation():
    R = roma.random_rotmat(10)
    th = matrix_to_6d(R)
    for mode in ("chordal", "sixd"):
        torch.testing.assert_close(sixd_to_matrix(average_rotations_6d(th, th, mode)), R, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="chordal"):
        average_rotations_6d(th, th, "euler")


@pytest.mark.parametrize("mean", ["chordal", "sixd"])
def test_mirrored_input_gives_the_mirrored_output(mean):
    model, kp = _model(mean), _keypoints()
    with torch.no_grad():
        a, ja = model.predict_pose(kp, flip=True)
        b, jb = model.predict_pose(mirror_keypoints(kp), flip=True)
    torch.testing.assert_close(sixd_to_matrix(mirror_pose6d(b)), sixd_to_matrix(a), atol=1e-4, rtol=0)
    torch.testing.assert_close(jb[:, sk.MIRROR] * FLIP_X, ja, atol=1e-5, rtol=0)
    # without the augmentation an untrained model is not equivariant (the test above is not vacuous)
    with torch.no_grad():
        a0, _ = model.predict_pose(kp, flip=False)
        b0, _ = model.predict_pose(mirror_keypoints(kp), flip=False)
    assert (sixd_to_matrix(mirror_pose6d(b0)) - sixd_to_matrix(a0)).abs().max() > 0.1


def _symmetric_keypoints(n: int = 4) -> torch.Tensor:
    """Inputs equal to their own mirror image: (kp + mirror(kp)) / 2 is symmetric because mirroring is a linear
    involution."""
    kp = _keypoints(n)
    sym = (kp + mirror_keypoints(kp)) / 2
    torch.testing.assert_close(mirror_keypoints(sym), sym)
    return sym


def test_a_symmetric_input_gives_a_symmetric_pose():
    model, kp = _model("chordal"), _symmetric_keypoints()
    with torch.no_grad():
        th, j = model.predict_pose(kp, flip=True)
    R = sixd_to_matrix(th)
    torch.testing.assert_close(sixd_to_matrix(mirror_pose6d(th)), R, atol=1e-4, rtol=0)
    torch.testing.assert_close(j[:, sk.MIRROR] * FLIP_X, j, atol=1e-5, rtol=0)
    # e.g. the left and right hips bend the same way (mirror images of each other)
    li, ri = sk.JOINT_NAMES.index("left_hip"), sk.JOINT_NAMES.index("right_hip")
    S = torch.diag(FLIP_X)
    torch.testing.assert_close(S @ R[:, li] @ S, R[:, ri], atol=1e-4, rtol=0)


def test_mirror_index_is_an_involution():
    assert [LM_MIRROR_IDX[i] for i in LM_MIRROR_IDX] == list(range(33))


def test_old_configs_load_with_the_chordal_mean():
    cfg = LifterConfig.from_dict({"window": 1, "in_dim": 7, "pose_head": True, "flip_test": True})
    assert cfg.flip_mean == "chordal"
    assert LifterConfig.from_dict(cfg.to_dict() | {"flip_mean": "sixd"}).flip_mean == "sixd"


def test_the_shipped_direct_model_uses_the_mirror_augmentation():
    from core_models.nets.embroider.infer import load_direct_model

    from core_models.nets.lifter.model import LifterPair

    m = load_direct_model(WEIGHTS)
    members = list(m.lifter.members) if isinstance(m.lifter, LifterPair) else [m.lifter]
    for cfg in (mb.cfg for mb in members):
        assert cfg.pose_head and cfg.flip_test and cfg.flip_mean == "chordal"
    kp = _symmetric_keypoints(1)
    R, lifted = m.predict(kp.unsqueeze(1))
    assert R.shape == (22, 3, 3) and lifted.shape == (22, 3)
    torch.testing.assert_close(R @ R.transpose(-1, -2), torch.eye(3).expand(22, 3, 3), atol=1e-4, rtol=0)
    torch.testing.assert_close(lifted[sk.MIRROR] * FLIP_X, lifted, atol=1e-3, rtol=0)
    assert np.isfinite(R.numpy()).all()


def test_a_pair_of_variants_averages_on_so3_and_stays_equivariant(tmp_path):
    from core_models.nets.common.weights import WeightsError, load_weights, manifest, save_weights
    from core_models.nets.embroider.infer import load_direct_model
    from core_models.nets.lifter.model import LifterPair

    a, b, kp = _model("chordal"), _model("chordal"), _keypoints()
    with torch.no_grad():
        for prm in b.parameters():
            prm.add_(torch.randn_like(prm) * 0.03)
        pair = LifterPair([a, b]).eval()
        th, j = pair.predict_pose(kp, flip=True)
        (ta, ja), (tb, jb) = a.predict_pose(kp, flip=True), b.predict_pose(kp, flip=True)
        thm, _ = pair.predict_pose(mirror_keypoints(kp), flip=True)
    torch.testing.assert_close(j, (ja + jb) / 2)
    torch.testing.assert_close(sixd_to_matrix(th), sixd_to_matrix(average_rotations_6d(ta, tb)), atol=1e-5, rtol=0)
    torch.testing.assert_close(sixd_to_matrix(mirror_pose6d(thm)), sixd_to_matrix(th), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="two"):
        LifterPair([a])
    # lifter.pt's config "real_ensemble" makes load_direct_model run the pair; a missing member is a clear error
    blob, man = load_weights("lifter", WEIGHTS), manifest("lifter", WEIGHTS)
    name = blob["config"]["real_default"]
    state = dict(blob["state"]) | {f"pair-b.{k}": v for k, v in blob["state"].items() if k.startswith(f"{name}.")}
    state = {k.replace(f"pair-b.{name}.", "pair-b."): v for k, v in state.items()}
    cfg = {k: v for k, v in blob["config"].items() if k != "real_ensemble"}
    cfg["variants"] = dict(cfg["variants"], **{"pair-b": cfg["variants"][name]})
    (tmp_path / "one").mkdir()
    save_weights("lifter", state, cfg, {}, directory=tmp_path / "one")
    single = load_direct_model(tmp_path / "one")
    assert not isinstance(single.lifter, LifterPair)
    cfg["real_ensemble"] = [name, "pair-b"]
    save_weights("lifter", state, cfg, {"metrics": man.get("metrics", {})}, directory=tmp_path)
    m = load_direct_model(tmp_path)
    assert isinstance(m.lifter, LifterPair)
    kp1 = _symmetric_keypoints(1).unsqueeze(1)
    torch.testing.assert_close(m.predict(kp1)[0], single.predict(kp1)[0], atol=1e-4, rtol=0)  # two equal members
    cfg["real_ensemble"] = [name, "missing"]
    save_weights("lifter", state, cfg, {}, directory=tmp_path)
    with pytest.raises(WeightsError, match="missing"):
        load_direct_model(tmp_path)
