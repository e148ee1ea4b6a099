"""Retargeting to SMPL-H: exact recovery on SMPL-like rigs (also with rotated bone frames), heading, limits,
and per-source quality on the real data when present."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core_models import skeleton as sk
from core_models.io import Motion, load_motion
from core_models.io.retarget import retarget, retarget_quality, retargeted_joints
from core_models.pose import (
    Pose,
    aa_to_matrix,
    euler_to_aa,
    heading_of,
    limit_violation_deg,
    to_euler_deg,
)

MOCAP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mocap"
needs_data = pytest.mark.skipif(not MOCAP.is_dir(), reason="shared mocap data not present")


def _smooth_poses(F=40, seed=0, amp=0.35):
    """A smooth random walk of plausible poses (within joint limits), knees/elbows clearly bent."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, F)[:, None, None]
    a, b = rng.normal(0, amp, (1, 22, 3)), rng.normal(0, amp, (1, 22, 3))
    full = a * np.cos(2 * np.pi * t) + b * np.sin(2 * np.pi * t)
    full[:, 0] = [0.1, 0.3, 0.0] + 0.2 * full[:, 0]
    for k, s in ((sk.JOINT_INDEX["left_knee"], 1), (sk.JOINT_INDEX["right_knee"], 1)):
        full[:, k, 0] += 0.9
    full[:, sk.JOINT_INDEX["left_elbow"], 1] -= 1.0
    full[:, sk.JOINT_INDEX["right_elbow"], 1] += 1.0
    pose = Pose.from_full(full.astype(np.float32), np.c_[np.linspace(0, 1, F), np.zeros((F, 2))])
    # strictly inside the Euler box of the primary decomposition (retarget's differentiable limit penalty uses
    # that one; clamp_to_limits tolerates 2° near gimbal lock)
    e = np.clip(to_euler_deg(pose), sk.JOINT_LIMITS_DEG[..., 0], sk.JOINT_LIMITS_DEG[..., 1])
    e[:, 0] = to_euler_deg(pose)[:, 0]
    return Pose.from_full(euler_to_aa(e.astype(np.float32)), pose.transl)


def _motion_from_pose(pose: Pose, rest=sk.DEFAULT_REST_JOINTS, frames: np.ndarray | None = None,
                      scale=1.0, names=sk.JOINT_NAMES) -> Motion:
    """An SMPL-skeleton Motion; optional constant per-joint frame changes Q_j (like rigs whose bones have
    rotated local frames, e.g. Character Creator)."""
    R = pose.matrices().astype(np.float64)
    F, J = R.shape[:2]
    Q = np.broadcast_to(np.eye(3), (J, 3, 3)) if frames is None else frames
    offs = np.zeros((J, 3))
    L = np.empty_like(R)
    for j in range(J):
        p = sk.PARENTS[j]
        if p < 0:
            L[:, j] = R[:, j] @ Q[j]
        else:
            offs[j] = Q[p].T @ (rest[j] - rest[p]) * scale
            L[:, j] = Q[p].T @ R[:, j] @ Q[j]
    root = (pose.transl.astype(np.float64) + rest[0]) * scale
    return Motion(list(names), sk.PARENTS, offs, L, root, 30.0, "synthetic", "test", "generic")


def test_identity_rig_is_recovered_exactly():
    pose = _smooth_poses()
    r = retarget(_motion_from_pose(pose), iterations=20)
    q = retarget_quality(r)
    assert q["mpjpe_mm"] < 2.0 and r.scale == pytest.approx(1.0)
    assert r.info["calibration"] == "tpose"
    np.testing.assert_allclose(aa_to_matrix(r.pose.full()), pose.matrices(), atol=2e-2)


def test_rotated_bone_frames_and_scale_are_calibrated_away():
    """Rig with random constant local frames per bone (zero pose is not a T-pose) and 1.3x size: the
    clip-level calibration must find the frames, including twist, from the data alone."""
    pose = _smooth_poses(F=60, seed=3)
    Q = Rotation.random(22, random_state=7).as_matrix()
    m = _motion_from_pose(pose, frames=Q, scale=1.3)
    r = retarget(m, calibration="data")
    q = retarget_quality(r)
    assert r.scale == pytest.approx(1 / 1.3, rel=1e-3)
    assert q["mpjpe_mm"] < 10.0, q
    # twist of the limbs (not visible in positions of the 22 joints alone for the wrists) is recovered
    ang = np.rad2deg(np.linalg.norm(Rotation.from_matrix(
        np.swapaxes(aa_to_matrix(r.pose.full().astype(np.float64)), -1, -2) @ pose.matrices()).as_rotvec(), axis=-1))
    body = [j for j in range(22) if sk.JOINT_NAMES[j] not in ("left_foot", "right_foot", "head",
                                                               "left_wrist", "right_wrist")]
    assert np.median(ang[:, body]) < 5.0


def test_heading_and_translation_are_preserved():
    pose = _smooth_poses(F=20, seed=5)
    m = _motion_from_pose(pose)
    yaw = Rotation.from_euler("y", 90, degrees=True).as_matrix()
    m2 = Motion(m.names, m.parents, m.offsets, m.rotations.copy(), m.root_translation @ yaw.T, m.fps)
    m2.rotations[:, 0] = yaw @ m.rotations[:, 0]
    a, b = retarget(m), retarget(m2)
    dh = np.angle(np.exp(1j * (heading_of(b.pose.root_orient) - heading_of(a.pose.root_orient))))
    np.testing.assert_allclose(dh, np.pi / 2, atol=0.02)
    ja, jb = retargeted_joints(a.pose), retargeted_joints(b.pose)
    np.testing.assert_allclose(jb, ja @ yaw.T, atol=0.01)


def test_output_respects_joint_limits_within_tolerance():
    pose = _smooth_poses(F=30, seed=9, amp=1.2)  # wild poses
    full = pose.full()
    full[:, sk.JOINT_INDEX["left_knee"], 0] = -1.5  # a knee bent the wrong way: beyond its limit
    r = retarget(_motion_from_pose(Pose.from_full(full, pose.transl)), limit_tol_deg=2.0)
    assert limit_violation_deg(r.pose).max() <= 2.0 + 1e-3
    q = retarget_quality(r)
    assert q["raw_max_violation_deg"] > 2.0 and q["max_violation_deg"] <= 2.0 + 1e-3


def test_unmatchable_skeleton_is_a_clear_error():
    m = Motion(["a", "b"], [-1, 0], np.zeros((2, 3)), np.tile(np.eye(3), (2, 2, 1, 1)), np.zeros((2, 3)), 30)
    with pytest.raises(ValueError, match="could be matched"):
        retarget(m)


def test_tiny_fixture_bvh_retargets_with_generic_names():
    m = load_motion(Path(__file__).resolve().parents[1] / "fixtures" / "mocap" / "tiny.bvh")
    with pytest.raises(ValueError):  # only 3 joints: not a body
        retarget(m)


def _first(rel_glob: str):
    files = sorted(MOCAP.glob(rel_glob))
    return files[len(files) // 2] if files else None


@needs_data
@pytest.mark.parametrize("pattern, bound_mm", [
    ("cmu_iclone/*/*.bvh", 60), ("cmu_salsa/60/*.bvh", 80), ("hdm05/train/*/*.amc", 70),
    ("cmu_expmap/train/*/*.txt", 90), ("deepmimic/humanoid3d_*.txt", 60),
])
def test_real_sources_quality(pattern, bound_mm):
    f = _first(pattern)
    if f is None:
        pytest.skip("no files")
    m = load_motion(f)
    m = m.slice(0, min(m.num_frames, 120))
    r = retarget(m)
    q = retarget_quality(r)
    assert q["mpjpe_mm"] < bound_mm, (f.name, q)
    assert q["max_violation_deg"] <= q["limit_tol_deg"] + 1e-3
    assert np.all(np.isfinite(r.pose.full()))


def _deep_elbow_poses(F=40, seed=11, flex_deg=130.0):
    """Smooth poses whose elbows are hinges (as the CMU radius: one degree of freedom) flexing well beyond 90°
    (the plain XYZ decomposition of such an elbow reads x = z = ±180°: the case the old limit penalty fought)."""
    pose = _smooth_poses(F=F, seed=seed, amp=0.25)
    e = to_euler_deg(pose)
    t = np.linspace(0, 1, F)
    for name, sgn in (("left_elbow", -1.0), ("right_elbow", 1.0)):
        e[:, sk.JOINT_INDEX[name]] = np.stack([np.zeros(F), sgn * (flex_deg - 30 * np.cos(np.pi * t)),
                                               np.zeros(F)], -1)
    return Pose.from_full(euler_to_aa(e.astype(np.float32)), pose.transl)


def _renamed(m: Motion, rig: str):
    """The same skeleton under non-SMPL names (so that no identity map applies) and its explicit RigMap."""
    from core_models.io.retarget import RigMap

    names = [f"bone{j}" for j in range(m.num_joints)]
    rmap = {n: f"bone{j}" for j, n in enumerate(sk.JOINT_NAMES)}
    return Motion(names, m.parents, m.offsets, m.rotations, m.root_translation, m.fps, "synthetic", "test",
                  rig), RigMap(dict(rmap), dict(rmap), {})


def _angle_deg(Ra, Rb):
    return np.rad2deg(np.linalg.norm(Rotation.from_matrix(
        (np.swapaxes(Ra, -1, -2) @ Rb).reshape(-1, 3, 3)).as_rotvec(), axis=-1)).reshape(Ra.shape[:-2])


def test_deep_elbow_flexion_is_kept_not_fought_by_the_limit_penalty():
    """Elbows at 100-160° flexion are inside the limits (y ∈ [-160, 8]); the refinement must keep them (it used
    to push them open and twist them, and the final clamp then moved the wrists by ~10 cm)."""
    pose = _deep_elbow_poses()
    assert limit_violation_deg(pose).max() == 0.0
    m, rmap = _renamed(_motion_from_pose(pose), "cmu_asf")
    r = retarget(m, rig_map=rmap)
    q = retarget_quality(r)
    assert q["mpjpe_mm"] < 3.0, q
    assert q["raw_frac_frames_violation"] == 0.0, q
    ang = _angle_deg(aa_to_matrix(r.pose.full().astype(np.float64)), pose.matrices().astype(np.float64))
    for name in ("left_elbow", "right_elbow", "left_shoulder", "right_shoulder"):
        assert np.median(ang[:, sk.JOINT_INDEX[name]]) < 3.0, (name, np.median(ang[:, sk.JOINT_INDEX[name]]))


@pytest.mark.parametrize("twist_deg", [30.0, -45.0])
def test_upper_arm_twist_offset_is_calibrated_from_the_elbow_hinge(twist_deg):
    """A rig whose T-pose has the upper-arm frames twisted about the bone by a known angle (the DAZ / cgspeed
    BVH carries the CMU elbow axis tilted by 30°): the T-pose calibration alone would put that twist into the
    shoulder and bend the elbow out of its hinge plane; the per-clip hinge calibration must remove it."""
    from core_models.io.retarget import _calibration, _scale, _Src

    pose = _deep_elbow_poses(seed=12, flex_deg=110.0)
    Q = np.tile(np.eye(3), (22, 1, 1))
    for name, axis_sign in (("left_shoulder", 1.0), ("right_shoulder", -1.0)):  # the bone runs along ±x
        Q[sk.JOINT_INDEX[name]] = Rotation.from_rotvec([axis_sign * np.deg2rad(twist_deg), 0, 0]).as_matrix()
    m, rmap = _renamed(_motion_from_pose(pose, frames=Q), "cmu_asf")
    # the calibration found for the shoulder is the inverse of the known frame offset
    G, P = m.fk()
    idx = {n: i for i, n in enumerate(m.names)}
    rest = sk.DEFAULT_REST_JOINTS
    s = _scale(P, idx, rmap, rest)
    _, Cs = _calibration(m, _Src(P * s, G, idx, rmap), s, rest, "auto")
    for name in ("left_shoulder", "right_shoulder"):
        j = sk.JOINT_INDEX[name]
        assert _angle_deg(Cs[name], Q[j].T) < 1.0, (name, _angle_deg(Cs[name], Q[j].T))
    r = retarget(m, rig_map=rmap)
    q = retarget_quality(r)
    assert q["mpjpe_mm"] < 3.0 and q["raw_frac_frames_violation"] == 0.0, q
    ang = _angle_deg(aa_to_matrix(r.pose.full().astype(np.float64)), pose.matrices().astype(np.float64))
    for name in ("left_elbow", "right_elbow", "left_shoulder", "right_shoulder"):
        assert np.median(ang[:, sk.JOINT_INDEX[name]]) < 3.0, (name, np.median(ang[:, sk.JOINT_INDEX[name]]))


def test_source_hip_sockets_are_taken_into_the_solve_skeleton():
    """A rig whose hip joints sit 9 cm lower under the root than SMPL-H's (as CMU's do): the pelvis is rigid, so
    the solve skeleton takes the source's hip sockets and the rotations come back exactly; solving with the
    body's own hip directions ('lengths') tilts and bends the trunk and legs to reach them."""
    pose = _smooth_poses(F=40, seed=21)
    rest_src = sk.DEFAULT_REST_JOINTS.copy()
    for side in ("left", "right"):
        hip = sk.JOINT_INDEX[f"{side}_hip"]
        for k in range(hip, sk.NUM_JOINTS):
            a = k
            while a > hip:
                a = sk.PARENTS[a]
            if a == hip:
                rest_src[k, 1] -= 0.09
    m, rmap = _renamed(_motion_from_pose(pose, rest=rest_src), "cmu_asf")
    r = retarget(m, rig_map=rmap)
    q = retarget_quality(r)
    assert q["mpjpe_mm"] < 3.0, q
    ang = _angle_deg(aa_to_matrix(r.pose.full().astype(np.float64)), pose.matrices().astype(np.float64))
    assert np.median(ang[:, 0]) < 1.0 and np.median(ang[:, 1:]) < 2.0
    solve = r.info["solve_rest"]
    np.testing.assert_allclose(solve[1] - solve[0], (rest_src[1] - rest_src[0]) * r.scale, atol=2e-3)  # height-scaled
    q_len = retarget_quality(retarget(m, rig_map=rmap, proportions="lengths"))
    assert q_len["mpjpe_mm"] > 2 * q["mpjpe_mm"] + 3.0, (q_len["mpjpe_mm"], q["mpjpe_mm"])
