"""The weight-free landmarks → pose solver: round trips through its forward model, mirror symmetry,
joint limits, gated (unseen) limbs, and the numpy rotation helpers against core_models.pose."""
from __future__ import annotations

import numpy as np

from core_models import skeleton as sk
from core_models.capture.geometric import GeometricSolver, landmarks_from_joints
from core_models.capture.landmarks import LM
from core_models.capture.pipeline import GeometricRegressor, PoseRegressor
from core_models.kinematics import fk_numpy
from core_models.pose import (
    Pose,
    clamp_matrices,
    clamp_to_limits,
    euler_to_aa,
    limit_violation_matrices,
    mirror,
)

JI = sk.JOINT_INDEX


def _rot_x(deg):
    r = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(r), -np.sin(r)], [0, np.sin(r), np.cos(r)]])


def _random_pose(rng, scale=0.6):
    lim = sk.JOINT_LIMITS_DEG
    e = rng.uniform(lim[..., 0], lim[..., 1]) * scale
    for n in ("left_collar", "right_collar", "left_foot", "right_foot"):
        e[JI[n]] = 0  # MediaPipe does not see these
    full = euler_to_aa(e.astype(np.float32))
    full[0] = rng.normal(size=3) * 0.3
    return Pose.from_full(full)


def _joints(p):
    _, J, _ = fk_numpy(p.matrices().astype(np.float64), sk.DEFAULT_REST_JOINTS)
    return J - J[0]


def test_round_trip_recovers_joint_positions():
    rng = np.random.default_rng(0)
    solver = GeometricSolver()
    errs = []
    for _ in range(40):
        p = _random_pose(rng)
        q, seen = solver.solve(landmarks_from_joints(p))
        assert seen.sum() >= 18
        errs.append(np.linalg.norm(_joints(p) - _joints(q), axis=1).mean())
    # limbs are exact; the residual comes from spine/neck splitting and collars
    assert np.mean(errs) < 0.045 and np.max(errs) < 0.09, (np.mean(errs), np.max(errs))


def test_limb_angles_are_exact():
    p = Pose.zeros()
    p = p.with_joint(JI["left_elbow"], [0, -np.radians(90), 0])      # left elbow flexed 90°
    p = p.with_joint(JI["right_knee"], [np.radians(70), 0, 0])       # right knee bent 70°
    p = p.with_joint(JI["left_shoulder"], [0, 0, -np.radians(60)])   # left arm lowered
    q, _ = GeometricSolver().solve(landmarks_from_joints(p))
    Jp, Jq = _joints(p), _joints(q)

    def angle(J, a, b, c):
        u, v = J[JI[a]] - J[JI[b]], J[JI[c]] - J[JI[b]]
        return np.degrees(np.arccos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v)))

    for s in ("left", "right"):
        for a, b, c in (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle")):
            truth = angle(Jp, f"{s}_{a}", f"{s}_{b}", f"{s}_{c}")
            assert abs(angle(Jq, f"{s}_{a}", f"{s}_{b}", f"{s}_{c}") - truth) < 1.0
    assert angle(Jq, "left_shoulder", "left_elbow", "left_wrist") < 95
    assert angle(Jq, "right_hip", "right_knee", "right_ankle") < 115
    assert np.abs(Jq - Jp)[[JI["left_wrist"], JI["right_ankle"]]].max() < 0.01
    assert np.allclose(q.joint_aa(JI["left_elbow"]), p.joint_aa(JI["left_elbow"]), atol=0.05)
    assert Jq[JI["left_wrist"], 1] < Jq[JI["left_shoulder"], 1] - 0.2  # arm down


def test_mirrored_landmarks_give_the_mirrored_pose():
    rng = np.random.default_rng(3)
    solver = GeometricSolver()
    for _ in range(5):
        p = _random_pose(rng)
        lm = landmarks_from_joints(p)
        q, _ = solver.solve(lm)
        qm, _ = solver.solve(lm.mirrored())
        assert np.allclose(_joints(mirror(q)), _joints(qm), atol=1e-3)


def test_output_respects_joint_limits_and_regressor_protocol():
    rng = np.random.default_rng(5)
    reg = GeometricRegressor(temporal=False)
    assert isinstance(reg, PoseRegressor)
    for _ in range(10):
        lm = landmarks_from_joints(_random_pose(rng, scale=1.5))
        lm.world += rng.normal(0, 0.03, lm.world.shape).astype(np.float32)  # MediaPipe-like noise
        q, conf = reg.predict(lm, "ignored text")
        assert np.all(np.isfinite(q.full())) and 0.9 <= conf <= 1.0
        assert limit_violation_matrices(q.matrices().astype(np.float64)).max() < 1e-2


def test_unseen_legs_stay_neutral_or_hold_the_previous_frame():
    rng = np.random.default_rng(7)
    p = _random_pose(rng)
    lm = landmarks_from_joints(p)
    for n in ("hip", "knee", "ankle", "heel", "foot_index"):
        for s in ("left", "right"):
            lm.visibility[LM[f"{s}_{n}"]] = 0.05
    reg = GeometricRegressor(temporal=True)
    q, conf = reg.predict(lm)
    legs = [JI[f"{s}_{n}"] for s in ("left", "right") for n in ("hip", "knee", "ankle")]
    assert np.allclose(q.full()[legs], 0, atol=1e-6)  # no previous frame: straight legs
    assert conf < 0.7
    # with a previous frame: its leg rotations are held
    prev = Pose.zeros().with_joint(JI["left_knee"], [1.0, 0, 0])
    reg._prev = prev
    q2, _ = reg.predict(lm)
    assert np.allclose(q2.joint_aa(JI["left_knee"]), [1.0, 0, 0], atol=1e-5)
    # arms still follow the landmarks
    assert not np.allclose(q2.joint_aa(JI["left_elbow"]), 0, atol=1e-3) or np.allclose(
        p.joint_aa(JI["left_elbow"]), 0, atol=1e-3)


def test_solver_clamps_with_the_pose_limit_check():
    """The solver's limits are core_models.pose's (matrix level): an elbow flexed 90° (gimbal lock of the XYZ
    angles), even with a little twist, is left alone; clamped local matrices are within the limits and agree
    with clamp_to_limits on the same pose."""
    rng = np.random.default_rng(11)
    bent = Pose.zeros().with_joint(JI["left_elbow"], [0, -np.pi / 2, 0]).matrices().astype(np.float64)
    noisy = bent.copy()
    noisy[JI["left_elbow"]] = noisy[JI["left_elbow"]] @ _rot_x(0.3)
    for M in (bent, noisy):
        assert np.array_equal(clamp_matrices(M), M)
    for _ in range(30):
        p = Pose.from_full(rng.normal(size=(22, 3)).astype(np.float32))
        M = p.matrices().astype(np.float64)
        c = clamp_matrices(M)
        assert limit_violation_matrices(c).max() < 1e-3
        assert np.allclose(c, clamp_to_limits(p).matrices(), atol=1e-5)
    # the solver's output respects the limits
    solver = GeometricSolver()
    for _ in range(10):
        q, _seen, local = solver.solve_local(landmarks_from_joints(_random_pose(rng, scale=1.3)))
        assert limit_violation_matrices(local).max() < 1e-3
        assert np.allclose(q.matrices(), local, atol=1e-5)


def test_landmark_mirror_map_swaps_every_sided_landmark():
    from core_models.capture.landmarks import LANDMARK_NAMES, LM_MIRROR
    assert (LM_MIRROR[LM_MIRROR] == np.arange(len(LANDMARK_NAMES))).all()
    for i, n in enumerate(LANDMARK_NAMES):
        m = LANDMARK_NAMES[LM_MIRROR[i]]
        if "left" in n.split("_"):
            assert m == n.replace("left", "right")
        elif "right" in n.split("_"):
            assert m == n.replace("right", "left")
        else:
            assert m == n  # only the nose is on the midline
