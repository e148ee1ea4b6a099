"""The 2D fitting step of capture (core_models.capture.fitting, issue #14 item 4): on synthetic landmarks projected
from a known pose with a known camera, the fit from a perturbed start lowers the 2D and the 3D error; the init's
depth side of a limb is kept; bad input returns the init with a reason; the pipeline / ``eval capture`` flag runs
end to end on a real render through the real MediaPipe landmarker."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from core_models.capture import fitting as ft
from core_models.capture.landmarks import LM, NUM_LANDMARKS, Landmarks
from core_models.pose import Pose, aa_to_matrix_np

SIZE = (640, 480)
POSES = Path(__file__).resolve().parents[2] / "resources" / "poses"


def _pose(seed: int = 0, sigma: float = 0.35) -> Pose:
    rng = np.random.default_rng(seed)
    body = rng.normal(0, sigma, (21, 3)).astype(np.float32)
    return Pose(np.array([0.0, 0.3, 0.0], np.float32), body, np.zeros(3, np.float32))


def _landmarks_of(pose: Pose, camera: str = "weak", vis: float = 0.95) -> Landmarks:
    """The body model's 33 landmarks of ``pose`` projected with a known camera (s = 180 px/m, image centre) —
    or a 30° pinhole 3.5 m away — as MediaPipe-like normalised image landmarks."""
    m = ft.default_model(1.0)
    R = torch.as_tensor(aa_to_matrix_np(pose.full().reshape(22, 3).astype(np.float64)), dtype=torch.float32)
    L = m.landmarks(R)[0].numpy().astype(np.float64)
    if camera == "weak":
        u, v = 180 * L[:, 0] + 320, -180 * L[:, 1] + 240
    else:
        f = 240 / math.tan(math.radians(15))
        Z = 3.5 - L[:, 2]
        u, v = f * L[:, 0] / Z + 320, -f * L[:, 1] / Z + 240
    img = np.stack([u / SIZE[0], v / SIZE[1], np.zeros(NUM_LANDMARKS)], 1)
    return Landmarks(img, np.zeros((NUM_LANDMARKS, 3)), np.full(NUM_LANDMARKS, vis), np.ones(NUM_LANDMARKS), SIZE)


def _joints(pose: Pose) -> np.ndarray:
    m = ft.default_model(1.0)
    R = torch.as_tensor(aa_to_matrix_np(pose.full().reshape(22, 3).astype(np.float64)), dtype=torch.float32)
    return m.forward(R)[1].numpy()


def _pa(a: np.ndarray, b: np.ndarray) -> float:
    from core_models.capture.evaluate import similarity_align

    return float(np.linalg.norm(similarity_align(a, b) - b, axis=1).mean() * 1000)


@pytest.mark.parametrize("camera", ["weak", "perspective"])
def test_fit_lowers_2d_and_3d_error_from_a_perturbed_start(camera):
    truth = _pose(0)
    lm = _landmarks_of(truth, camera)
    rng = np.random.default_rng(1)
    init = Pose(truth.root_orient, truth.body_pose + rng.normal(0, 0.12, (21, 3)).astype(np.float32),
                truth.transl)
    cfg = ft.FitConfig(camera=camera, fov_deg=30.0, iters=40, w_init=0.01, w_depth=0.1, w_limits=0.0)
    res = ft.fit_pose(init, lm, cfg)
    assert res.ok and res.reason == ""
    e3_before, e3_after = _pa(_joints(init), _joints(truth)), _pa(_joints(res.pose), _joints(truth))
    assert res.err_before > 0.02 and res.err_after < 0.25 * res.err_before, (res.err_before, res.err_after)
    assert e3_after < 0.7 * e3_before, (e3_before, e3_after)
    assert res.pose.transl.shape == (3,) and np.isfinite(res.pose.full()).all()


def test_a_limb_pointing_forward_in_the_init_stays_forward():
    """A left forearm pointing at the camera and its mirror image in depth project alike; the fit starts from a
    slightly wrong forward forearm and must not flip it backwards."""
    body = np.zeros((21, 3), np.float32)
    body[15] = [0.0, 0.0, -1.2]      # left shoulder (joint 16): the arm down by the side, slightly out
    body[17] = [0.0, -1.4, 0.0]      # left elbow (joint 18) flexed 80°: the forearm points forward (at the camera)
    truth = Pose(np.zeros(3, np.float32), body, np.zeros(3, np.float32))
    J = _joints(truth)
    assert J[20, 2] - J[18, 2] > 0.15  # the truth forearm points at the camera
    start = body.copy()
    start[17] = [0.0, -1.0, 0.0]
    init = Pose(np.zeros(3, np.float32), start, np.zeros(3, np.float32))
    res = ft.fit_pose(init, _landmarks_of(truth), ft.FitConfig(w_depth=0.0, w_init=0.001))
    Jf = _joints(res.pose)
    assert res.ok and Jf[20, 2] - Jf[18, 2] > 0.15, Jf[20] - Jf[18]
    assert np.linalg.norm(Jf[20] - J[20]) < 0.05  # and it reaches the true wrist


def test_bad_input_returns_the_init_with_a_reason():
    truth = _pose(2)
    lm = _landmarks_of(truth)
    nan = Landmarks(lm.image.copy(), lm.world, lm.visibility, lm.presence, SIZE)
    nan.image[:, 0] = np.nan
    res = ft.fit_pose(truth, nan)
    assert not res.ok and "visible" in res.reason and res.pose is truth
    hidden = Landmarks(lm.image, lm.world, np.zeros(NUM_LANDMARKS), lm.presence, SIZE)
    res = ft.fit_pose(truth, hidden)
    assert not res.ok and "only 0 landmarks are visible" in res.reason and res.pose is truth
    bad = truth.copy()
    bad.body_pose = np.full((21, 3), np.nan, np.float32)  # (a Pose refuses NaN at construction; set after)
    res = ft.fit_pose(bad, lm)
    assert not res.ok and "not finite" in res.reason and res.pose is bad
    res = ft.fit_pose(truth, Landmarks(lm.image, lm.world, lm.visibility, lm.presence, (0, 0)))
    assert not res.ok and "image size" in res.reason
    res = ft.fit_pose(truth, lm, ft.FitConfig(camera="fisheye"))
    assert not res.ok and "unknown camera model" in res.reason


def test_only_visible_landmarks_are_fitted_and_thumbs_are_left_out():
    lm = _landmarks_of(_pose(3))
    lm.visibility[LM["left_knee"]] = 0.1
    reason, w = ft._check_inputs(_pose(3), lm, ft.FitConfig())
    assert reason == "" and w[LM["left_knee"]] == 0 and w[LM["left_thumb"]] == 0 and w[LM["right_elbow"]] > 0


def test_fitting_regressor_wraps_any_regressor():
    from core_models.capture.pipeline import GeometricRegressor

    truth = _pose(4, 0.2)
    lm = _landmarks_of(truth)
    inner = GeometricRegressor()
    reg = ft.FittingRegressor(inner)
    assert reg.name == "geometric" and reg.label == "geometric+fit" and reg.fallback_reason is None
    pose, conf = reg.predict(lm)
    assert reg.last_fit is not None and reg.last_fit.ok and reg.last_fit.err_after <= reg.last_fit.err_before
    assert pose is reg.last_fit.pose and 0 <= conf <= 1
    reg.reset()
    assert inner._prev is None


@pytest.mark.headless_gl
def test_pipeline_refine_flag_on_a_real_render(tmp_path):
    import main
    from core_models.body import load_body
    from core_models.capture.evaluate import IMAGE_SIZE
    from core_models.capture.pipeline import CapturePipeline
    from core_models.io.pose_file import read_pose_file
    from core_models.render.offscreen import render_pose_image

    body = load_body("anny")
    imgs = {n: render_pose_image(body, read_pose_file(POSES / f"{n}.json").pose, size=IMAGE_SIZE, view="front",
                                 grid=False) for n in ("tree", "warrior_ii")}
    fits = {}
    with CapturePipeline("full", regressor="auto", smooth=False, mode="image", refine=True) as pipe:
        assert isinstance(pipe.regressor, ft.FittingRegressor) and pipe.regressor.label == "direct+fit"
        for n, img in imgs.items():
            pipe.reset()
            r = pipe.process(img)
            assert r.pose is not None, r.message
            fits[n] = (r.pose, pipe.regressor.last_fit)
    pose, fit = fits["tree"]
    assert fit is not None and fit.ok and fit.pose is pose, fit.reason
    assert fit.err_after < fit.err_before
    pose, fit = fits["warrior_ii"]  # the hips face the side: the yaw gate keeps the regressor's pose
    assert fit is not None and not fit.ok and "turned" in fit.reason and fit.pose is pose
    d = tmp_path / "poses"
    d.mkdir()
    shutil.copy(POSES / "warrior_ii.json", d / "warrior_ii.json")
    out = tmp_path / "res.json"
    assert main.main(["eval", "capture", "--poses", str(d), "--views", "front", "--regressor", "geometric",
                      "--refine", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert list(res["rows"])[:2] == ["geometric", "geometric+fit"] and res["settings"]["refine"] is True
    assert main.main(["eval", "capture", "--poses", str(d), "--views", "front", "--regressor", "geometric",
                      "--json", str(out)]) == 0  # without --refine: the regressor alone, as before
    assert "geometric+fit" not in json.loads(out.read_text())["rows"]
    import cv2

    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "tree.png"), imgs["tree"][:, :, ::-1])
    for flag, expected in (([], True), (["--no-refine"], False)):  # per image: the fit is on unless turned off
        npz = tmp_path / f"cap{len(flag)}.npz"
        assert main.main(["capture", "--images", str(folder), "--out", str(npz), "--regressor", "geometric",
                          *flag]) == 0
        with np.load(npz) as f:
            assert bool(f["refine"]) is expected and f["detected"].all()
    assert math.isfinite(res["rows"]["geometric+fit"]["front"]["pa_mpjpe"])
    assert "geometric+fit_pa_mpjpe" in res["per_pose"][0]


# --- the 3D step onto the lifter's own joints (fit_to_lifted) ------------------------------------------------

def _rotated_scaled(J: np.ndarray, deg: float = 40.0, scale: float = 1.15) -> np.ndarray:
    """``J`` in another frame and size (a lifter answers in the camera frame, on its own body size)."""
    a = math.radians(deg)
    Ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    return scale * J @ Ry.T + np.array([0.3, -1.0, 2.5])


def test_fit_to_lifted_moves_the_pose_onto_the_joints_in_any_frame_and_size():
    truth = _pose(5, 0.3)
    rng = np.random.default_rng(6)
    init = Pose(truth.root_orient, truth.body_pose + rng.normal(0, 0.15, (21, 3)).astype(np.float32), truth.transl)
    target = _rotated_scaled(_joints(truth))
    res = ft.fit_to_lifted(init, target, ft.FitConfig(lift_iters=30, lift_w_init=0.01))
    assert res.ok and res.reason == "" and np.isfinite(res.pose.full()).all()
    before, after = _pa(_joints(init), _joints(truth)), _pa(_joints(res.pose), _joints(truth))
    assert after < 0.35 * before, (before, after)
    assert res.err_after < 0.5 * res.err_before  # the mean joint distance it reports fell too
    # the init's weight holds the pose back: a heavy one barely moves it
    held = ft.fit_to_lifted(init, target, ft.FitConfig(lift_iters=30, lift_w_init=100.0))
    moved = _pa(_joints(res.pose), _joints(init))
    assert held.ok and _pa(_joints(held.pose), _joints(init)) < 0.5 * moved


def test_fit_to_lifted_bad_input_returns_the_init_with_a_reason():
    truth = _pose(7)
    J = _joints(truth)
    bad_j = J.copy()
    bad_j[4] = np.nan
    for target, words in ((bad_j, "not 22 finite"), (J[:12], "not 22 finite")):
        res = ft.fit_to_lifted(truth, target)
        assert not res.ok and words in res.reason and res.pose is truth
    bad = truth.copy()
    bad.body_pose = np.full((21, 3), np.nan, np.float32)
    res = ft.fit_to_lifted(bad, J)
    assert not res.ok and "not finite" in res.reason and res.pose is bad


class _LiftingStub:
    """A regressor that answers a fixed pose and exposes its 'lifted' joints, like the direct lifter."""

    def __init__(self, name: str, pose: Pose, lifted: np.ndarray):
        self.name, self.pose, self.last_lifted = name, pose, lifted

    def predict(self, landmarks, text=None):
        return self.pose, 0.9


@pytest.mark.parametrize("name,runs", [("direct", True), ("embroider", False)])
def test_fitting_regressor_runs_the_3d_step_for_the_direct_lifter_only(name, runs):
    truth = _pose(8, 0.25)
    rng = np.random.default_rng(9)
    init = Pose(truth.root_orient, truth.body_pose + rng.normal(0, 0.12, (21, 3)).astype(np.float32), truth.transl)
    lm = _landmarks_of(truth)
    reg = ft.FittingRegressor(_LiftingStub(name, init, _rotated_scaled(_joints(truth))))
    reg.predict(lm)
    assert (reg.last_lift is not None) is runs and reg.last_fit is not None
    if runs:
        assert reg.last_lift.ok and reg.last_lift.err_after < reg.last_lift.err_before
    off = ft.FittingRegressor(_LiftingStub(name, init, _joints(truth)), ft.FitConfig(lift_ik=False))
    off.predict(lm)
    assert off.last_lift is None
