"""Synthetic MediaPipe-like landmarks (core_models.capture.synth)."""
import numpy as np
import pytest

from core_models.capture import synth
from core_models.capture.landmarks import LM, NUM_LANDMARKS
from core_models.pose import Pose


@pytest.fixture(scope="module")
def model():
    return synth.LandmarkModel()


def _zero(n=1):
    return Pose(np.zeros((n, 3), np.float32), np.zeros((n, 21, 3), np.float32))


def test_vertex_landmarks_sit_on_the_right_body_parts(model):
    W = model.world_from_poses(_zero())[0]
    Jr = model.rest_joints
    head = Jr[15]
    assert W[LM["nose"], 2] > head[2] + 0.08                       # nose in front of the head
    assert W[LM["left_ear"], 0] > 0.05 and W[LM["right_ear"], 0] < -0.05
    assert W[LM["left_eye"], 1] > W[LM["nose"], 1] > W[LM["mouth_left"], 1]
    for s in ("left", "right"):
        an = Jr[7 if s == "left" else 8]
        assert W[LM[f"{s}_heel"], 2] < an[2] - 0.03 < W[LM[f"{s}_foot_index"], 2] - 0.1
        wr = W[LM[f"{s}_wrist"]]
        for f in ("index", "pinky", "thumb"):
            assert 0.05 < np.linalg.norm(W[LM[f"{s}_{f}"]] - wr) < 0.15
    # left/right symmetric in the rest pose
    mir = W[synth.LM_FLIP] * np.array([-1, 1, 1])
    assert np.abs(mir - W).max() < 5e-3


def test_vertex_ids_rederive(model):
    from core_models.body import load_body

    assert synth.pick_vertices(load_body("anny")) == synth.LANDMARK_VERTICES


def test_landmarks_follow_the_pose(model):
    p = _zero(2)
    p.body_pose[1, 15] = [0, 0, -1.2]   # left shoulder (joint 16; body_pose index = joint - 1) lowered
    W = model.world_from_poses(p)
    assert W[1, LM["left_index"], 1] < W[0, LM["left_index"], 1] - 0.3
    assert np.allclose(W[1, LM["right_index"]], W[0, LM["right_index"]], atol=1e-5)


def test_frontal_projection_and_noise_free_pixels(model):
    W = model.world_from_poses(_zero(3))
    cfg = synth.SynthConfig(sigma=np.zeros(NUM_LANDMARKS, np.float32), outlier_prob=0, swap_prob=0,
                            occluder_prob=0, upper_body_prob=0, center_jitter=0)
    cams = synth.sample_cameras(3, np.random.default_rng(0), cfg)
    cams.R[:] = np.eye(3)
    ob = synth.synthesize(W, np.random.default_rng(1), cfg, cams=cams)
    # facing the camera: the body's left is on the image's right; head above hips (y down)
    assert (ob.pixels[:, LM["left_shoulder"], 0] > ob.pixels[:, LM["right_shoulder"], 0]).all()
    assert (ob.pixels[:, LM["nose"], 1] < ob.pixels[:, LM["left_hip"], 1]).all()
    assert np.allclose(ob.image[:, :, 0] * ob.size[:, None, 0], ob.pixels[:, :, 0], atol=1e-2)
    # the nose is closer to the camera than the hips: negative relative z, as MediaPipe
    assert (ob.image[:, LM["nose"], 2] < 0).all()
    # world landmarks: hip-centred, y up, in metres
    hip = (ob.world[:, LM["left_hip"]] + ob.world[:, LM["right_hip"]]) / 2
    assert np.abs(hip).max() < 0.05
    assert (ob.world[:, LM["nose"], 1] > 0.4).all()
    assert (ob.visibility[:, synth._TORSO] > 0.8).all()


def test_noise_truncation_and_visibility_statistics(model):
    rng = np.random.default_rng(0)
    p = _zero(400)
    W = model.world_from_poses(p)
    ob = synth.synthesize(W, rng)
    assert ob.pixels.shape == (400, 33, 2) and ob.world.shape == (400, 33, 3)
    assert ((ob.visibility >= 0) & (ob.visibility <= 1)).all()
    out = ((ob.pixels[..., 0] < 0) | (ob.pixels[..., 0] > ob.size[:, None, 0]) |
           (ob.pixels[..., 1] < 0) | (ob.pixels[..., 1] > ob.size[:, None, 1]))
    assert out.any()                                            # upper-body framings truncate the legs
    assert ob.presence[out].mean() < 0.5 < ob.presence[~out].mean()
    back = np.abs(np.abs(synth.sample_cameras(400, np.random.default_rng(0)).azimuth) - np.pi) < 0.5
    # seen from behind, the face is hidden; from the front it is visible
    assert ob.visibility[back][:, LM["nose"]].mean() < 0.5 < ob.visibility[~back][:, LM["nose"]].mean()
    # extremities jitter more than the hips (calibrated sigma)
    clean = synth.synthesize(W, np.random.default_rng(0), synth.SynthConfig(
        sigma=np.zeros(33, np.float32), outlier_prob=0, swap_prob=0))
    err = np.linalg.norm(ob.pixels - clean.pixels, axis=-1)
    assert np.median(err[:, LM["left_wrist"]]) > 3 * np.median(err[:, LM["left_hip"]])


def test_window_shares_camera_and_features_are_normalised(model):
    p = _zero(4 * 5)
    W = model.world_from_poses(p).reshape(4, 5, 33, 3)
    ob = synth.synthesize(W, np.random.default_rng(0))
    assert ob.pixels.shape == (4, 5, 33, 2)
    f = synth.keypoint_features(ob.pixels, ob.visibility, ob.presence)
    assert f.shape == (4, 5, 33, synth.KEYPOINT_DIM)
    hip = (f[:, -1, LM["left_hip"], :2] + f[:, -1, LM["right_hip"], :2]) / 2
    assert np.abs(hip).max() < 1e-5
    # invariant to image translation and scale
    f2 = synth.keypoint_features(ob.pixels * 2.5 + 40, ob.visibility, ob.presence)
    assert np.allclose(f, f2, atol=1e-4)
    # single-frame features: shoulders above hips (y up)
    f1 = synth.keypoint_features(ob.pixels[:, -1], ob.visibility[:, -1])
    assert f1.shape == (4, 33, 4)


def test_jitter_estimator_recovers_known_noise():
    rng = np.random.default_rng(0)
    F = 300
    base = np.zeros((F, 33, 2))
    base[:, LM["left_shoulder"]] = [0.45, 0.3]
    base[:, LM["right_shoulder"]] = [0.55, 0.3]
    base[:, LM["left_hip"]] = [0.47, 0.5]
    base[:, LM["right_hip"]] = [0.53, 0.5]
    t = np.arange(F)[:, None] / 30.0
    base += 0.05 * np.sin(2 * np.pi * 0.5 * t)[..., None]        # smooth motion is not counted as noise
    sig_px = 3.0
    track = base + rng.normal(size=base.shape) * sig_px / 400
    est = synth.jitter_per_landmark(track, (400, 400))
    torso_px = 0.2 * 400
    assert abs(est[LM["nose"]] - sig_px / torso_px) < 0.2 * sig_px / torso_px
