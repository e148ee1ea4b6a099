"""Real MediaPipe (offline .task bundles) on real photos and video of people: a person is found, the regressed
pose is plausible and matches the image's arm/leg configuration (posecodes); the live pipeline end to end on a
video file, corrupted frames, the CLI, and the pluggable regressor."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models import skeleton as sk
from core_models.captioning import posecodes as pc
from core_models.capture import landmarks as L
from core_models.capture.pipeline import (
    CapturePipeline,
    GeometricRegressor,
    make_regressor,
    register_regressor,
    results_to_arrays,
    run_source,
)
from core_models.capture.sources import VideoFileSource
from core_models.kinematics import fk_numpy
from core_models.pose import Pose
from tests.capture._capture_data import demo_frames, opencv_image, read_rgb, write_video

ROOT = Path(__file__).resolve().parents[2]
JI = sk.JOINT_INDEX
BENT = {"completely_bent", "bent_more", "right_angle", "bent_less"}
STRAIGHTISH = {"straight", "slightly_bent"}


@pytest.fixture(scope="module")
def detector():
    with L.LandmarkDetector("lite", mode="image") as d:
        yield d


def _angle_cat(pose: Pose, a: str, b: str, c: str) -> str:
    s = pc.extract(Pose.stack([pose]))
    return s.category(0, pc.code("angle", a, b, c))


def _joints(pose: Pose) -> np.ndarray:
    _, J, _ = fk_numpy(pose.matrices().astype(np.float64), sk.DEFAULT_REST_JOINTS)
    return J


def test_models_are_installed_offline():
    assert set(L.available_variants()) == {"lite", "full", "heavy"}
    with pytest.raises(L.LandmarkerError, match="unknown landmark model"):
        L.model_path("nope")


def test_missing_bundle_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("POSETAILOR_MEDIAPIPE_DIR", str(tmp_path))
    with pytest.raises(L.LandmarkerError, match="scripts/build_mediapipe_models.sh"):
        L.LandmarkDetector("lite")


def test_basketball_photo_person_and_arm_leg_configuration(detector):
    rgb = read_rgb(opencv_image("basketball1.png"))
    lm = detector.detect(rgb)
    assert lm is not None
    assert lm.confidence(0.5).sum() >= 30
    assert lm.image_size == (640, 480)
    px = lm.pixels()
    # the player on the left of the picture, standing: shoulders above hips above ankles
    assert px[L.LM["left_shoulder"], 0] < 200
    assert px[L.LM["left_shoulder"], 1] < px[L.LM["left_hip"], 1] < px[L.LM["left_ankle"], 1]
    assert np.abs(lm.world).max() < 1.5 and lm.world[L.LM["nose"], 1] > 0.4  # metres, y up
    pose, conf = GeometricRegressor(temporal=False).predict(lm)
    assert conf > 0.6
    # holding the ball: both elbows bent, both legs (nearly) straight, hands in front of the body
    assert _angle_cat(pose, "left_shoulder", "left_elbow", "left_wrist") in BENT
    assert _angle_cat(pose, "right_shoulder", "right_elbow", "right_wrist") in BENT
    assert _angle_cat(pose, "left_hip", "left_knee", "left_ankle") in STRAIGHTISH
    assert _angle_cat(pose, "right_hip", "right_knee", "right_ankle") in STRAIGHTISH
    J = _joints(pose)
    for s in ("left", "right"):
        assert J[JI[f"{s}_wrist"], 2] > J[JI["spine3"], 2] + 0.15  # in front (+z: towards the camera)


def test_messi_photo_lunge(detector):
    rgb = read_rgb(opencv_image("messi5.jpg"))
    lm = detector.detect(rgb)
    assert lm is not None and lm.confidence(0.5).sum() >= 28
    pose, conf = GeometricRegressor(temporal=False).predict(lm)
    assert conf > 0.6
    # right knee bent about 90°, right arm straight and raised, left foot off the ground (higher than right)
    assert _angle_cat(pose, "right_hip", "right_knee", "right_ankle") in {"bent_more", "right_angle", "bent_less"}
    assert _angle_cat(pose, "right_shoulder", "right_elbow", "right_wrist") in STRAIGHTISH
    J = _joints(pose)
    assert J[JI["right_wrist"], 1] > J[JI["left_wrist"], 1]
    assert J[JI["right_wrist"], 1] > J[JI["right_shoulder"], 1]
    assert J[JI["left_ankle"], 1] > J[JI["right_ankle"], 1]


def test_no_person_and_corrupted_frames(detector):
    assert detector.detect(read_rgb(opencv_image("baboon.jpg"))) is None
    with pytest.raises(ValueError):
        detector.detect(np.zeros((10, 10), np.float32))
    pipe = CapturePipeline(detector=detector, regressor="geometric")
    for bad in (None, np.zeros((3, 3, 3), np.uint8), np.zeros((64, 64, 5), np.uint8), "frame"):
        r = pipe.process(bad, 0.0)
        assert r.pose is None and "corrupted frame" in r.message
    noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    r = pipe.process(noise, 0.1)
    assert r.pose is None and r.message == "no person found"
    gray = read_rgb(opencv_image("basketball1.png"))[:, :, 0]  # (H, W) grey is accepted
    r = pipe.process(gray, 0.2)
    assert r.detected and r.image_size == (640, 480)


def test_video_pipeline_end_to_end(tmp_path):
    path = write_video(tmp_path / "walk.mp4", demo_frames(24, step=3))
    src = VideoFileSource(path)
    with CapturePipeline("lite", regressor="geometric") as pipe:
        results = list(run_source(pipe, src, text="my left hand touches my knee"))
    assert len(results) == 24 and src.finished
    found = [r for r in results if r.detected]
    assert len(found) >= 15  # the walking person of the sports2d demo (~75 % of frames in the full video)
    for r in found:
        assert set(r.timings_ms) >= {"landmarks", "filter", "regress", "total"}
        assert 0 < r.confidence <= 1 and np.all(np.isfinite(r.pose.full()))
        J = _joints(r.pose)
        assert J[JI["head"], 1] > J[JI["pelvis"], 1] + 0.3  # upright
    arr = results_to_arrays(results)
    assert arr["full"].shape == (24, 22, 3) and arr["detected"].sum() == len(found)
    assert np.allclose(arr["timestamps"], np.arange(24) / 30.0)
    # overlapped (detect in a second thread): same frames, same order, same poses
    with CapturePipeline("lite", regressor="geometric") as pipe:
        over = list(run_source(pipe, VideoFileSource(path), overlap=True, keep_frames=True))
    assert [r.index for r in over] == list(range(24)) and all(r.frame is not None for r in over)
    arr2 = results_to_arrays(over)
    assert np.array_equal(arr2["detected"], arr["detected"])
    assert np.allclose(arr2["full"], arr["full"], atol=1e-4)
    # stopping early closes the detection thread
    with CapturePipeline("lite", regressor="geometric") as pipe:
        gen = run_source(pipe, VideoFileSource(path), overlap=True)
        next(gen)
        gen.close()
    import threading

    assert not any(t.name == "capture-detect" for t in threading.enumerate())


def test_pluggable_regressor(detector, monkeypatch):
    import core_models.capture.pipeline as pipeline_mod

    # a private registry for this test: "fixed-test" must not become the live default of later tests
    monkeypatch.setattr(pipeline_mod, "_REGISTRY", dict(pipeline_mod._REGISTRY))
    calls = []

    class Fixed:
        name = "fixed"

        def predict(self, landmarks, text=None):
            calls.append(text)
            return Pose.zeros(), 0.5

    register_regressor("fixed-test", Fixed)
    assert make_regressor("fixed-test").name == "fixed"
    pipe = CapturePipeline(detector=detector, regressor=make_regressor("fixed-test"))
    r = pipe.process(read_rgb(opencv_image("messi5.jpg")), 0.0, text="arms up")
    assert r.detected and r.confidence == 0.5 and calls == ["arms up"]
    with pytest.raises(ValueError, match="unknown pose regressor"):
        make_regressor("does-not-exist")

    class Broken:
        name = "broken"

        def predict(self, landmarks, text=None):
            raise RuntimeError("boom")

    r = CapturePipeline(detector=detector, regressor=Broken()).process(read_rgb(opencv_image("messi5.jpg")), 1.0)
    assert r.pose is None and "boom" in r.message and r.raw_landmarks is not None


def test_cli_capture_video_and_missing_camera(tmp_path):
    video = write_video(tmp_path / "in.mp4", demo_frames(10, step=4))
    out = tmp_path / "seq.npz"
    cmd = [sys.executable, str(ROOT / "main.py"), "capture", "--video", str(video), "--out", str(out),
           "--text", "walking", "--regressor", "geometric"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["frames"] == 10 and summary["detected"] >= 5 and summary["regressor"] == "geometric"
    from core_models.io.npz_pose import load_pose_npz

    pose, info = load_pose_npz(out)
    assert pose.batch_shape == (10,) and info.get("fps") == pytest.approx(30.0)
    with np.load(out, allow_pickle=False) as z:
        assert z["confidences"].shape == (10,) and z["detected"].dtype == bool
        assert z["landmarks"].shape == (10, 33, 8) and str(z["text_cue"]) == "walking"
        assert (z["confidences"][z["detected"]] > 0).all()
    # images (one unreadable) through the same command
    import cv2

    d = tmp_path / "imgs"
    d.mkdir()
    cv2.imwrite(str(d / "a.jpg"), cv2.imread(str(opencv_image("messi5.jpg"))))
    (d / "b.jpg").write_bytes(b"garbage")
    p = subprocess.run([sys.executable, str(ROOT / "main.py"), "capture", "--images", str(d), "--out",
                        str(tmp_path / "img.npz")], capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "b.jpg" in p.stderr and json.loads(p.stdout.strip().splitlines()[-1])["detected"] == 1
    # no camera: a message and a non-zero exit, quickly
    p = subprocess.run([sys.executable, str(ROOT / "main.py"), "capture", "--camera", "97", "--frames", "5",
                        "--out", str(tmp_path / "cam.npz")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 1 and "no camera found at index 97" in p.stderr
    assert not (tmp_path / "cam.npz").exists()
