"""The shipped learned capture regressor (lifter + PoseEmbroider + SMPL-H head) on real MediaPipe output:
opencv-doc photos and the Sports2D demo video. Skipped when the MediaPipe bundles or the weights are missing."""
from pathlib import Path

import numpy as np
import pytest

from core_models.capture.landmarks import LM, available_variants

DATA = Path("/usr/share/doc/opencv-doc/examples/data")
pytestmark = pytest.mark.skipif(not available_variants(), reason="MediaPipe bundles not built")


@pytest.fixture(scope="module")
def regressor():
    from core_models.nets.common.weights import WeightsError

    try:
        from core_models.capture.regressor import LearnedRegressor

        return LearnedRegressor()
    except WeightsError as e:
        pytest.skip(f"learned weights missing: {e}")


@pytest.fixture(scope="module")
def body_joints():
    from core_models.capture.synth import LandmarkModel
    from core_models.kinematics import fk_numpy

    rest = LandmarkModel().rest_joints

    def joints(pose):
        return fk_numpy(pose.matrices().astype(np.float64), rest)[1]
    return joints


def _angle(a, b, c):
    u, v = np.asarray(a) - b, np.asarray(c) - b
    return np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1)))


def _detect(path):
    import cv2

    from core_models.capture.landmarks import LandmarkDetector

    im = cv2.imread(str(path))
    with LandmarkDetector("full", mode="image") as det:
        return det.detect(cv2.cvtColor(im, cv2.COLOR_BGR2RGB))


HINGES = {  # name: (joint indices a, b, c) , (landmarks a, b, c)
    "left_elbow": ((16, 18, 20), ("left_shoulder", "left_elbow", "left_wrist")),
    "right_elbow": ((17, 19, 21), ("right_shoulder", "right_elbow", "right_wrist")),
    "left_knee": ((1, 4, 7), ("left_hip", "left_knee", "left_ankle")),
    "right_knee": ((2, 5, 8), ("right_hip", "right_knee", "right_ankle")),
}


@pytest.mark.parametrize("photo", ["basketball1.png", "messi5.jpg"])
def test_real_photo_pose_matches_the_limb_bends(regressor, body_joints, photo):
    if not (DATA / photo).exists():
        pytest.skip("opencv-doc not installed")
    lm = _detect(DATA / photo)
    assert lm is not None, "MediaPipe found nobody"
    regressor.reset()
    pose, conf = regressor.predict(lm)
    assert 0.5 < conf <= 1.0
    from core_models.pose import limit_violation_deg

    assert float(np.mean(limit_violation_deg(pose))) < 10.0          # plausible joint angles
    J = body_joints(pose)
    errs = {}
    for name, (ji, li) in HINGES.items():
        if min(lm.visibility[LM[n]] for n in li) < 0.8:
            continue
        ours = _angle(*J[list(ji)])
        mp = _angle(*(lm.world[LM[n]] for n in li))
        errs[name] = abs(ours - mp)
    assert len(errs) >= 3
    assert np.median(list(errs.values())) < 35.0, errs
    # the body is upright in both photos: pelvis below the neck
    assert J[12, 1] - J[0, 1] > 0.3


def test_text_cue_changes_the_estimate(regressor):
    if not (DATA / "basketball1.png").exists():
        pytest.skip("opencv-doc not installed")
    lm = _detect(DATA / "basketball1.png")
    regressor.reset()
    a, _ = regressor.predict(lm)
    regressor.reset()
    b, _ = regressor.predict(lm, "the person is kneeling on the left knee with both arms raised")
    assert np.abs(a.body_pose - b.body_pose).max() > 1e-3


def test_video_end_to_end_through_the_capture_pipeline(regressor):
    try:
        import Sports2D
    except ImportError:
        pytest.skip("sports2d not installed")
    from core_models.capture.pipeline import CapturePipeline
    from core_models.capture.sources import VideoFileSource

    video = Path(Sports2D.__file__).parent / "Demo" / "demo.mp4"
    regressor.reset()
    pipe = CapturePipeline("lite", regressor=regressor)
    n = found = 0
    with VideoFileSource(video) as src:
        for frame in src:
            r = pipe.process(frame.image, frame.timestamp)
            n += 1
            found += r.detected
            if r.detected:
                assert np.isfinite(r.pose.full()).all() and 0 <= r.confidence <= 1
            if n >= 40:
                break
    pipe.close()
    assert found >= 20
