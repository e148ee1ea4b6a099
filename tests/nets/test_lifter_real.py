"""Training the capture model on real-MediaPipe landmark datasets (``train lifter --landmarks NAME``) and the
``direct`` capture regressor it ships, on a tiny stand-in dataset (:func:`fake_landmark_dataset`: synthetic
observations of random poses with the fields of :class:`core_models.capture.realdata.LandmarkDataset` the
trainers read)."""
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from core_models.capture import synth
from core_models.nets.lifter import real
from core_models.nets.lifter.model import LifterConfig



def fake_landmark_dataset(n: int = 48, seed: int = 0):
    from core_models.capture import synth
    from core_models.kinematics import fk_numpy
    from core_models.pose import Pose

    rng = np.random.default_rng(seed)
    body = (rng.normal(0, 0.25, (n, 21, 3))).astype(np.float32)
    root = np.zeros((n, 3), np.float32)
    pose = Pose(root, body)
    model = synth.LandmarkModel()
    W = model.world_from_poses(pose)
    obs = synth.synthesize(W, rng)
    size = obs.size.astype(np.int64)
    lm = np.concatenate([obs.image, obs.world, obs.visibility[..., None], obs.presence[..., None]], -1)
    joints = fk_numpy(pose.matrices().astype(np.float64), model.rest_joints)[1]
    joints = (joints - joints[:, :1]).astype(np.float32)
    split = np.array(["train", "val", "test"])[np.arange(n) % 3]
    return SimpleNamespace(landmarks=lm.astype(np.float32), detected=np.ones(n, bool), image_size=size,
                           root_orient=root, body_pose=body, joints=joints, cam_R=obs.R.astype(np.float32),
                           split=split, variant=np.array(["lite"] * n))


def split_of(ds, split: str):
    sel = ds.split == split
    return SimpleNamespace(**{k: (v[sel] if isinstance(v, np.ndarray) and len(v) == len(sel) else v)
                              for k, v in vars(ds).items()})


WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "weights"


@pytest.fixture(scope="module")
def lm_model():
    return synth.LandmarkModel()


@pytest.fixture(scope="module")
def ds():
    return fake_landmark_dataset(60)


def test_world_features_are_size_free_and_hip_centred():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.3, (4, 33, 3)).astype(np.float32)
    f = synth.world_features(w)
    np.testing.assert_allclose(synth.world_features(w * 1.7), f, atol=1e-5)
    hip = (f[:, synth.LM["left_hip"]] + f[:, synth.LM["right_hip"]]) / 2
    np.testing.assert_allclose(hip, 0, atol=1e-5)
    kp = synth.keypoint_features(rng.uniform(0, 600, (4, 33, 2)), np.ones((4, 33)), None, w)
    assert kp.shape == (4, 33, synth.KEYPOINT_DIM_WORLD)
    np.testing.assert_allclose(kp[..., 4:], f, atol=1e-6)


def test_rows_and_mirror(ds, lm_model):
    rows = real.rows_from_dataset(ds, lm_model.rest_joints)
    n = int(ds.detected.sum())
    assert rows.kp.shape == (2 * n, 33, 7) and rows.target.shape == (2 * n, 22, 3)
    assert rows.rot.shape == (2 * n, 22, 3, 3)
    plain = rows.take(slice(0, n))
    back = real.mirror_rows(real.mirror_rows(plain))
    np.testing.assert_allclose(back.kp, plain.kp, atol=1e-6)
    np.testing.assert_allclose(back.target, plain.target, atol=1e-6)
    np.testing.assert_allclose(back.rot, plain.rot, atol=1e-4)
    # the targets are the camera-frame joints of the pose: root-relative, pelvis at 0
    np.testing.assert_allclose(rows.target[:, 0], 0, atol=1e-6)
    # a mirrored row's pose has the mirrored joints (x negated, sides swapped)
    from core_models import skeleton as sk
    from core_models.kinematics import fk_numpy

    J = fk_numpy(plain.rot[:3].astype(np.float64), lm_model.rest_joints)[1]
    Jm = fk_numpy(rows.rot[n:n + 3].astype(np.float64), lm_model.rest_joints)[1]
    Jx = (J - J[:, :1])[:, sk.MIRROR] * np.array([-1, 1, 1])
    np.testing.assert_allclose(Jm - Jm[:, :1], Jx, atol=1e-4)


def test_calibration_measures_the_world_noise(ds):
    cal = real.calibrate_from_real(ds)
    rms = np.asarray(cal["world_rms_torso"])
    assert rms.shape == (12,) and np.all(np.isfinite(rms)) and np.all(rms > 0.005)
    clean = split_of(ds, "train")
    clean.landmarks = clean.landmarks.copy()
    # world landmarks = the exact joints (camera frame): the residual vanishes
    J = np.einsum("nab,nkb->nka", clean.cam_R, clean.joints)
    clean.landmarks[:, real._JOINT_LMS, 3:6] = J[:, real._JOINT_IDX]
    assert max(real.calibrate_from_real(clean)["world_rms_torso"]) < 1e-4
    cfg = real.calibrated_config(cal)
    assert np.asarray(cfg.world_sigma_m).shape == (33, 3)
    obs = synth.synthesize(np.zeros((2, 33, 3)) + np.linspace(0, 1, 99).reshape(33, 3), np.random.default_rng(0), cfg)
    assert np.all(np.isfinite(obs.world))


@pytest.mark.parametrize("encoder", ["mlp", "tf"])
def test_train_save_and_the_direct_regressor(ds, lm_model, tmp_path, encoder):
    from core_models.pose import Pose

    torch.set_num_threads(1)
    rest = lm_model.rest_joints
    tr = real.rows_from_dataset(split_of(ds, "train"), rest)
    va = real.rows_from_dataset(split_of(ds, "val"), rest, mirror=False)
    stream = real.synth_stream(Pose(ds.root_orient, ds.body_pose), lm_model, real.calibrated_config(None))
    cfg = LifterConfig(window=1, in_dim=7, d=16, layers=1, ff=32, head_hidden=32, pose_head=True, pose_hidden=32,
                       encoder=encoder, mlp_hidden=32)
    model, info = real.train_real(cfg, tr, [stream], va, rest, steps=4, batch=16, mix=0.5)
    assert info["steps_run"] == 4 and np.isfinite(info["best_val_pose_pa_mm"])
    for f in ("lifter.pt", "lifter.json"):
        shutil.copy(WEIGHTS / f, tmp_path / f)
    from core_models.nets.common.weights import load_weights

    before = load_weights("lifter", tmp_path)["config"]
    from core_models.nets.common.weights import manifest

    man0 = manifest("lifter", tmp_path)
    real._merge_save("real-test_T1", model, {"real_val": {}}, info | {"seconds": 1.0}, tmp_path)
    after = load_weights("lifter", tmp_path)["config"]
    # the recorded chain grows by one step and keeps what `train all` replays it with
    man1 = manifest("lifter", tmp_path)
    assert man1["commands"][:-1] == man0["commands"] and man1["commands"][-1].startswith("python main.py train lifter")
    assert all(man1.get(k) == man0.get(k) for k in ("data_commands", "dropped_variants"))
    assert after["real_default"] == "real-test_T1" and after["default"] == before["default"]
    assert set(before["variants"]) < set(after["variants"]) and "real_ensemble" not in after
    # --pair-with: a second variant forms the shipped 'direct' pair with the first; a bad partner writes nothing
    with pytest.raises(ValueError, match="--pair-with nope"):
        real._merge_save("real-b_T1", model, {}, info | {"seconds": 1.0}, tmp_path, pair_with="nope")
    assert load_weights("lifter", tmp_path)["config"] == after
    real._merge_save("real-b_T1", model, {}, info | {"seconds": 1.0}, tmp_path, pair_with="real-test_T1")
    paired = load_weights("lifter", tmp_path)["config"]
    assert paired["real_ensemble"] == ["real-test_T1", "real-b_T1"] and paired["real_default"] == "real-b_T1"
    from core_models.nets.embroider.infer import load_direct_model
    from core_models.nets.lifter.model import LifterPair

    assert isinstance(load_direct_model(tmp_path).lifter, LifterPair)
    from core_models.capture.landmarks import Landmarks
    from core_models.capture.regressor import LearnedRegressor

    reg = LearnedRegressor(tmp_path, representation="direct")
    pose, conf = reg.predict(Landmarks.from_array(ds.landmarks[0], tuple(ds.image_size[0])))
    assert pose.body_pose.shape == (21, 3) and np.all(np.isfinite(pose.full())) and 0 <= conf <= 1
    res = real.compare_on_real(split_of(ds, "test"), ["constant", "geometric", "direct"], tmp_path)
    assert set(res) == {"constant", "geometric", "direct"}
    assert all(np.isfinite(r["pa_mpjpe_mm"]) and r["pa_mpjpe_mm"] > 0 for r in res.values())


def test_direct_regressor_without_a_real_variant_says_how_to_train_one(tmp_path):
    from core_models.nets.common.weights import WeightsError, load_weights, save_weights
    from core_models.nets.embroider.infer import load_direct_model

    blob = load_weights("lifter", WEIGHTS)
    cfg = dict(blob["config"])
    cfg.pop("real_default", None)
    cfg["variants"] = {n: c for n, c in cfg["variants"].items() if not c.get("pose_head")}
    state = {k: v for k, v in blob["state"].items() if k.split(".")[0] in cfg["variants"]}
    save_weights("lifter", state, cfg, {}, directory=tmp_path)
    with pytest.raises(WeightsError, match="--landmarks"):
        load_direct_model(tmp_path)


def test_test_time_flip_is_mirror_equivariant(ds, lm_model):
    from core_models.capture.landmarks import LM_MIRROR
    from core_models.nets.lifter.model import LM_MIRROR_IDX, Lifter, mirror_keypoints, mirror_pose6d

    assert LM_MIRROR_IDX == list(LM_MIRROR)
    rows = real.rows_from_dataset(ds, lm_model.rest_joints, mirror=False).take(slice(0, 6))
    kp = torch.from_numpy(rows.kp)
    np.testing.assert_allclose(mirror_keypoints(kp).numpy(), real.mirror_rows(rows).kp, atol=1e-6)
    torch.manual_seed(0)
    th = torch.randn(4, 22, 6)
    from core_models.pose import matrix_to_6d, sixd_to_matrix

    th = matrix_to_6d(sixd_to_matrix(th))
    torch.testing.assert_close(mirror_pose6d(mirror_pose6d(th)), th, atol=1e-5, rtol=0)
    model = Lifter(LifterConfig(window=1, in_dim=7, d=16, pose_head=True, pose_hidden=32, encoder="mlp",
                                mlp_hidden=32)).eval()
    with torch.no_grad():
        a, ja = model.predict_pose(kp, flip=True)
        b, jb = model.predict_pose(mirror_keypoints(kp), flip=True)
    # the flip-averaged prediction of the mirrored input is the mirror of the flip-averaged prediction
    torch.testing.assert_close(sixd_to_matrix(mirror_pose6d(b)), sixd_to_matrix(a), atol=1e-4, rtol=0)
    from core_models import skeleton as sk

    torch.testing.assert_close(jb[:, sk.MIRROR] * torch.tensor([-1.0, 1, 1]), ja, atol=1e-5, rtol=0)


def test_real_variants_are_not_counted_as_text_gains(capsys):
    from core_models.nets.lifter.eval import _print_table, is_text_variant

    assert is_text_variant("cm_T1") and is_text_variant("cm-w_T5")
    assert not is_text_variant("none_T1") and not is_text_variant("real_T1") and not is_text_variant("real-v2_T1")
    row = {"mpjpe_mm": 90.0, "pa_mpjpe_mm": 60.0, "abs_xyz_mm": [1.0, 2.0, 3.0]}
    # a merged lifter.pt carries the real variants' own metrics (no synthetic-draw numbers): skipped, no crash
    _print_table({"none_T1": row, "cm_T1": dict(row, mpjpe_mm=99.0), "real_T1": {"real_val": {}}}, "t")
    out = capsys.readouterr().out
    assert "-10.0 %" in out and "real" not in out.split("\n", 1)[1]


def test_drop_variants_removes_them_from_lifter_pt_and_keeps_what_capture_runs(tmp_path):
    """``train lifter --drop-variants`` (the last step of ``train all``'s lifter chain): the named variants leave
    lifter.pt and its manifest's per-variant records, the manifest lists them as dropped, the commands stay, and the
    capture model still loads; a variant the capture model runs is refused with nothing written."""
    import subprocess
    import sys

    from core_models.nets.common.weights import load_weights, manifest
    from core_models.nets.lifter.infer import load_variants

    for f in ("lifter.pt", "lifter.json"):
        shutil.copy(WEIGHTS / f, tmp_path / f)
    before, man0 = load_weights("lifter", tmp_path), manifest("lifter", tmp_path)
    victims = ["none_T1", "fc_T1"]
    assert set(victims) <= set(before["config"]["variants"])
    main = Path(__file__).resolve().parents[2] / "main.py"
    r = subprocess.run([sys.executable, str(main), "train", "lifter", "--drop-variants", "none_T1,fc_T1,gone_T1",
                        "--out-dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "not in lifter.pt: gone_T1" in r.stdout + r.stderr
    after, man = load_weights("lifter", tmp_path), manifest("lifter", tmp_path)  # verifies the new sha256
    assert set(after["config"]["variants"]) == set(before["config"]["variants"]) - set(victims)
    assert not any(k.split(".")[0] in victims for k in after["state"])
    assert not set(victims) & (set(man["metrics"]) | set(man["train"]))
    assert set(victims) | set(man0["dropped_variants"]) == set(man["dropped_variants"])
    assert man["commands"] == man0["commands"]
    models, _ = load_variants(tmp_path)
    assert after["config"]["real_default"] in models and not set(victims) & set(models)
    real_default = after["config"]["real_default"]
    with pytest.raises(ValueError, match=real_default):
        real.drop_variants([real_default], tmp_path)
    assert load_weights("lifter", tmp_path)["state"].keys() == after["state"].keys()
