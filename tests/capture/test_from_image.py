"""Pose from one still image (core_models.capture.from_image) on real photos: one person → a pose; nobody; two
people counted (the largest offered); a bad image; each image independent of the one before (no smoothing or
held limbs carried over); turning the body to the view; merging keeps translation and hands."""
from __future__ import annotations

import numpy as np
import pytest

from core_models.capture import from_image as fi
from core_models.pose import Pose, aa_to_matrix_np
from tests.capture._capture_data import opencv_image, read_rgb


@pytest.fixture(scope="module")
def pipe():
    from core_models.services import ModelServices

    p = ModelServices.capture_pipeline("lite", "geometric", mode="image", max_people=fi.MAX_PEOPLE)
    yield p
    p.close()


def test_one_person_nobody_two_people_and_a_bad_image(pipe):
    r = fi.pose_from_image(read_rgb(opencv_image("basketball1.png")), pipe)
    assert r.ok and r.people == 1 and r.confidence > 0.6 and r.pose is not None and r.image_size == (640, 480)
    assert r.regressor == "geometric" and "confidence" in r.message
    px, joints = fi.joint_correspondences(r.landmarks)
    assert len(joints) >= 10 and px.shape == (len(joints), 2) and (px[:, 0] < 640).all()
    r = fi.pose_from_image(read_rgb(opencv_image("baboon.jpg")), pipe)
    assert r.status == "nobody" and r.pose is None and r.people == 0 and "Nobody found" in r.message
    r = fi.pose_from_image(read_rgb(opencv_image("basketball2.png")), pipe)
    assert r.status == "several" and r.people == 2 and r.pose is not None and "2 people" in r.message
    assert len(r.candidates) == 2 and fi.person_area(r.candidates[0][2]) >= fi.person_area(r.candidates[1][2])
    second = fi.candidate(r, 1)
    assert second.pose is r.candidates[1][0] and second.landmarks is r.candidates[1][2] and r.pose is not second.pose
    labels = [fi.person_label(r, i) for i in range(2)]
    assert labels[0].startswith("Person 1 (largest, ") and labels[1].startswith("Person 2 (")
    r = fi.pose_from_image(np.zeros((4, 4, 3), np.uint8), pipe)
    assert r.status == "failed" and r.pose is None and "cannot be used" in r.message


def test_each_image_is_independent_of_the_previous_one(pipe):
    from core_models.services import ModelServices

    messi, ball = read_rgb(opencv_image("messi5.jpg")), read_rgb(opencv_image("basketball1.png"))
    fi.pose_from_image(messi, pipe)
    after_messi = fi.pose_from_image(ball, pipe).pose
    fresh_pipe = ModelServices.capture_pipeline("lite", "geometric", mode="image", max_people=fi.MAX_PEOPLE)
    try:
        fresh = fi.pose_from_image(ball, fresh_pipe).pose
    finally:
        fresh_pipe.close()
    assert after_messi is not None and fresh is not None
    assert np.allclose(after_messi.full(), fresh.full(), atol=1e-5)


def test_face_view_and_merge_keep_the_rest():
    p = Pose.zeros()
    turned = fi.face_view(p, 90.0)
    fwd = aa_to_matrix_np(turned.root_orient.astype(np.float64))[:, 2]
    assert np.allclose(fwd, [1.0, 0.0, 0.0], atol=1e-6)  # faced +z, now faces a camera sitting on +x
    assert np.allclose(fi.face_view(p, 0.0).root_orient, 0.0)
    cur = Pose.zeros()
    cur.transl[:] = (1.0, 0.5, -2.0)
    cur.hand_pose = np.full((30, 3), 0.2, np.float32)
    rec = Pose.zeros()
    rec.body_pose[3] = (0.5, 0.0, 0.0)
    rec.root_orient[:] = (0.0, 0.3, 0.0)
    m = fi.merge_body_pose(cur, rec)
    assert np.allclose(m.transl, cur.transl) and np.allclose(m.hand_pose, 0.2)
    assert np.allclose(m.body_pose, rec.body_pose) and np.allclose(m.root_orient, rec.root_orient)
    assert np.allclose(cur.body_pose, 0.0)  # the inputs are not changed
