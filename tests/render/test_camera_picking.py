"""Camera and picking maths (no GL)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix, limit_violation_deg
from core_models.render.camera import OrbitCamera
from core_models.render.picking import (
    RingDrag,
    pick_joint,
    pick_ring,
    ray_sphere,
    ring_points,
    rotate_joint_about_world_axis,
)

W, H = 800, 600
J = sk.DEFAULT_REST_JOINTS


def _cam(**kw) -> OrbitCamera:
    c = OrbitCamera(azimuth=30.0, elevation=15.0, **kw)
    c.frame_points(J, W / H)
    return c


@pytest.mark.parametrize("ortho", [False, True])
def test_ray_goes_through_projected_point(ortho):
    cam = _cam(ortho=ortho)
    for p in J[[0, 15, 20, 7]]:
        px, py, _ = cam.project(p, W, H)
        o, d = cam.ray(px, py, W, H)
        # distance from p to the ray
        v = p - o
        dist = np.linalg.norm(v - d * (v @ d))
        assert dist < 1e-6
        assert abs(np.linalg.norm(d) - 1) < 1e-9


@pytest.mark.parametrize("view", ["front", "side", "three_quarter", "top"])
def test_frame_points_keeps_everything_visible(view):
    cam = OrbitCamera()
    cam.set_view(view)
    pts = J + np.array([0.3, 1.0, -0.2])
    cam.frame_points(pts, W / H)
    s = cam.project(pts, W, H)
    assert (s[:, 0] >= 0).all() and (s[:, 0] <= W).all()
    assert (s[:, 1] >= 0).all() and (s[:, 1] <= H).all()
    # and it is tight: something is near an edge
    margin = min(s[:, 0].min(), W - s[:, 0].max(), s[:, 1].min(), H - s[:, 1].max())
    assert margin < 0.1 * H


def test_front_view_sees_the_body_front_and_left_on_screen_right():
    cam = OrbitCamera()
    cam.set_view("front")
    cam.frame_points(J, 1.0)
    assert cam.eye()[2] > 0  # camera in front (+z)
    s = cam.project(J, W, H)
    assert s[sk.JOINT_INDEX["left_wrist"], 0] > s[sk.JOINT_INDEX["right_wrist"], 0]
    assert s[sk.JOINT_INDEX["head"], 1] < s[sk.JOINT_INDEX["left_ankle"], 1]


def test_orbit_pan_zoom():
    cam = _cam()
    d0, t0 = cam.distance, cam.target.copy()
    cam.zoom(2)
    assert cam.distance < d0
    cam.orbit(10, 100)
    assert cam.elevation <= 89
    p = cam.target + 0.0
    before = cam.project(p, W, H)
    cam.pan_pixels(40, -25, H)
    after = cam.project(p, W, H)  # the old target moved with the mouse
    assert after[0] - before[0] == pytest.approx(40, abs=1.0)
    assert after[1] - before[1] == pytest.approx(-25, abs=1.0)
    assert not np.allclose(cam.target, t0)


def test_ray_sphere():
    t = ray_sphere(np.zeros(3), np.array([0, 0, -1.0]), np.array([[0, 0, -5.0], [0, 1.0, -5], [0, 0, 5.0]]), 0.5)
    assert t[0] == pytest.approx(4.5)
    assert np.isinf(t[1]) and np.isinf(t[2])


def test_pick_joint_at_projection():
    cam = _cam()
    scr = cam.project(J, W, H)
    for j in (15, 18, 21, 10):
        assert pick_joint(cam, scr[j, 0], scr[j, 1], W, H, J, 0.02) == j
    assert pick_joint(cam, 2, 2, W, H, J, 0.02) == -1


def test_pick_ring_and_drag_angle_plane_mode():
    cam = OrbitCamera(azimuth=0.0, elevation=0.0)  # looking along -z: the Z ring faces us
    c = np.array([0.2, 0.3, 0.0])
    cam.frame_points(J, W / H)
    R = 0.15
    pts = ring_points(c, 2, R, 12)
    s0 = cam.project(pts[0], W, H)
    axis, grab = pick_ring(cam, s0[0], s0[1], W, H, c, R)
    assert axis == 2
    drag = RingDrag(cam, axis, c, R, grab, s0[0], s0[1], W, H)
    assert drag.use_plane
    # move the cursor 90° around the ring (counter-clockwise about +z)
    s1 = cam.project(pts[3], W, H)
    ang = drag.update(s1[0], s1[1])
    assert ang == pytest.approx(math.pi / 2, abs=1e-3)
    s2 = cam.project(pts[6], W, H)
    assert drag.update(s2[0], s2[1]) == pytest.approx(math.pi, abs=1e-3)
    s3 = cam.project(pts[9], W, H)  # keeps accumulating past 180°
    assert drag.update(s3[0], s3[1]) == pytest.approx(1.5 * math.pi, abs=1e-3)


def test_drag_edge_on_ring_uses_tangent():
    cam = OrbitCamera(azimuth=0.0, elevation=0.0)
    cam.frame_points(J, W / H)
    c = np.array([0.0, 0.3, 0.0])
    R = 0.15
    # the X ring (plane yz) is edge-on from the front: grab its top point
    top = c + np.array([0, R, 0])
    s = cam.project(top, W, H)
    axis, grab = pick_ring(cam, s[0], s[1] + 2, W, H, c, R)
    assert axis in (0, 2)  # Z ring passes through the same screen point; either is a valid grab
    drag = RingDrag(cam, 0, c, R, top, s[0], s[1], W, H)
    assert not drag.use_plane
    ang = drag.update(s[0], s[1] + 30)  # move down on screen: the top point goes +z... sign checked below
    assert abs(ang) > 0.05
    # the tangent at the top of the X ring is ±z, which points at the camera: the fallback still turns
    # mouse motion into a finite angle (never NaN)
    assert math.isfinite(ang)


def _global(pose: Pose):
    Rg, Jp, _ = kin.fk_numpy(aa_to_matrix(pose.full().astype(np.float64)), J, sk.PARENTS)
    return Rg, Jp


@pytest.mark.parametrize("joint,axis", [(16, 2), (18, 1), (1, 0), (0, 1), (12, 0)])
def test_rotate_about_world_axis(joint, axis):
    rng = np.random.default_rng(joint)
    pose = Pose.from_full(rng.normal(0, 0.3, (22, 3)).astype(np.float32))
    Rg, _ = _global(pose)
    parent = sk.PARENTS[joint]
    Rpg = np.eye(3) if parent < 0 else Rg[parent]
    out = rotate_joint_about_world_axis(pose, joint, axis, 0.5, Rpg)
    Rg2, _ = _global(out)
    aa = np.zeros(3)
    aa[axis] = 0.5
    assert np.allclose(Rg2[joint], aa_to_matrix(aa) @ Rg[joint], atol=1e-5)
    others = [k for k in range(22) if k != joint]
    assert np.allclose(out.full()[others], pose.full()[others])


def test_rotation_with_limits_clamps_only_that_joint():
    pose = Pose.zeros()
    bad_other = pose.with_joint(4, np.array([-1.5, 0, 0], np.float32))  # left knee hyper-extended
    out = rotate_joint_about_world_axis(bad_other, 16, 2, math.radians(170), np.eye(3), limits=True)
    v = limit_violation_deg(out)
    assert v[16] < 0.5  # the dragged shoulder is inside its box
    assert np.allclose(out.joint_aa(4), bad_other.joint_aa(4))  # the other joint is untouched
    free = rotate_joint_about_world_axis(bad_other, 16, 2, math.radians(170), np.eye(3), limits=False)
    assert limit_violation_deg(free)[16] > 10
