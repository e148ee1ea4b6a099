"""Finger bones in every export: FBX (ufbx + the FBX SDK), GLB (Khronos validator + the file's own data), BVH (our
importer + bvhio), NPZ (AMASS 156). The finger rotations each independent reader sees match what was written
(≤ 0.5°) and the skinned mesh follows the fingers."""
from __future__ import annotations

import numpy as np
import pytest

from core_models import hands as H
from core_models.body.base import skin52
from core_models.export import export_poses
from core_models.export.common import bone_names, limb_orientations
from core_models.pose import aa_to_matrix

from .gltf_reader import GLB
from .readers import (
    expected_hierarchy,
    fbx_sdk_to_glb,
    glb_hierarchy,
    gltf_validate,
    make_poses,
    match_vertices,
    ufbx_probe,
)

FPS = 30.0
TOL_DEG = 0.5


def hand_poses(n: int, seed: int):
    """Body motion with sizeable finger rotations (random, up to ~70°) and a fist in the last frame."""
    p = make_poses(n, seed=seed, scale=0.3)
    rng = np.random.default_rng(seed)
    hp = rng.normal(0.0, 0.45, (n, 30, 3)).astype(np.float32)
    hp[-1] = H.preset_hand_pose("fist", "both")
    p.hand_pose = hp
    return p


def _angle_deg(Ra: np.ndarray, Rb: np.ndarray) -> np.ndarray:
    c = (np.einsum("...ij,...ij->...", Ra, Rb) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def _smpl_local(local_oriented: np.ndarray, B: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """A reader's local bone rotations (…,J,3,3) of limb-oriented bones → SMPL local rotations: B_p·L·B_jᵀ."""
    Bp = np.stack([B[p] if p >= 0 else np.eye(3) for p in parents])
    return Bp @ local_oriented @ np.swapaxes(B, -1, -2)


def _local_from_world(world_rot: np.ndarray, parents: np.ndarray) -> np.ndarray:
    out = world_rot.copy()
    for j in range(1, world_rot.shape[-3]):
        out[..., j, :, :] = np.swapaxes(world_rot[..., parents[j], :, :], -1, -2) @ world_rot[..., j, :, :]
    return out


def _check_finger_rotations(local_smpl: np.ndarray, poses, order: list[int]) -> float:
    """``local_smpl`` (N,J,3,3) from a reader, ``order[k]`` = the reader's index of SMPL-H joint k (52)."""
    want = aa_to_matrix(poses.hand_pose.astype(np.float64))
    got = local_smpl[:, order[22:]]
    err = _angle_deg(got, want)
    assert err.max() < TOL_DEG, f"finger rotations off by up to {err.max():.3f}°"
    body = aa_to_matrix(poses.full().astype(np.float64))[:, 1:]
    assert _angle_deg(local_smpl[:, order[1:22]], body).max() < TOL_DEG
    return float(err.max())


def _reference_top4(anny, poses) -> np.ndarray:
    """The body's 52-joint LBS with the top-4 weights (what 4-influence readers keep)."""
    d52 = anny.skinning_hands
    from core_models.body.base import hand_bind

    _, _, skin = skin52(d52, hand_bind(d52), poses.full(), poses.hand_pose, poses.transl)
    W = np.zeros(d52.weights.shape)
    np.put_along_axis(W, d52.weight_idx.astype(np.int64), d52.weight_val.astype(np.float64), axis=1)
    M = np.einsum("vj,njab->nvab", W, skin)
    return np.einsum("nvab,vb->nva", M[..., :3], d52.rest_vertices.astype(np.float64)) + M[..., 3]


def test_glb_carries_the_fingers(anny, tmp_path):
    poses = hand_poses(4, seed=40)
    path = tmp_path / "hands.glb"
    export_poses(path, poses, anny, rig="mixamo", fps=FPS)
    issues = gltf_validate(path)["issues"]
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"][:5]
    glb = GLB.load(path)
    d52 = anny.skinning_hands
    names = bone_names(d52.joint_names, "mixamo")
    assert "mixamorig:LeftHandIndex1" in names and "mixamorig:RightHandThumb3" in names
    assert glb.skin_joint_names() == names
    assert glb_hierarchy(glb) == expected_hierarchy(names, d52.parents)
    B = limb_orientations(d52.rest_joints, d52.parents, d52.joint_names)
    node_of = {glb.nodes[i].get("name"): i for i in range(len(glb.nodes))}
    order = [node_of[n] for n in names]
    local = np.stack([glb.local_matrices(0, f / FPS)[:, :3, :3] for f in range(len(poses))])
    _check_finger_rotations(_smpl_local(local[:, order], B, d52.parents), poses, list(range(52)))
    # the skinned mesh (the file's own weights, joints and inverse binds) = PoseTailor's finger skinning
    ref = anny.forward(poses).vertices
    idx = match_vertices(glb.skinned_positions(None, 0.0), anny.skinning.rest_vertices)
    for f in range(len(poses)):
        assert np.abs(glb.skinned_positions(0, f / FPS) - ref[f][idx]).max() < 1e-4


def test_fbx_ufbx_and_fbx_sdk_read_the_fingers(anny, tmp_path):
    poses = hand_poses(4, seed=41)
    path = tmp_path / "hands.fbx"
    export_poses(path, poses, anny, fps=FPS)
    d52 = anny.skinning_hands
    B = limb_orientations(d52.rest_joints, d52.parents, d52.joint_names)
    # ufbx (strict): hierarchy, finger rotations from its evaluated world matrices, skinned vertices
    u = ufbx_probe(path, tmp_path, FPS, len(poses))
    assert int(u["n_warnings"]) == 0 and int(u["n_clusters"]) == 52
    got = {n: p for n, p, b in zip(u["names"], u["parents"], u["is_bone"]) if b}
    assert got == expected_hierarchy(list(d52.joint_names), d52.parents)
    names = list(u["names"])
    order = [names.index(n) for n in d52.joint_names]
    world = u["world"][:, order, :, :3]  # (N,52,3,3) oriented bone frames
    local = _local_from_world(world @ np.swapaxes(B, -1, -2)[None], d52.parents)  # SMPL frames
    _check_finger_rotations(local, poses, list(range(52)))
    assert np.abs(u["skinned"] - anny.forward(poses).vertices).max() < 1e-4
    # the Autodesk FBX SDK (FBX2glTF): its node animation, and its 4-influence skinning
    glb = fbx_sdk_to_glb(path, tmp_path)
    node_of = {glb.nodes[i].get("name"): i for i in range(len(glb.nodes))}
    order = [node_of[n] for n in d52.joint_names]
    local = np.stack([glb.local_matrices(0, f / FPS)[:, :3, :3] for f in range(len(poses))])
    _check_finger_rotations(_smpl_local(local[:, order], B, d52.parents), poses, list(range(52)))
    ref = _reference_top4(anny, poses)
    idx = match_vertices(glb.skinned_positions(None, 0.0), anny.skinning.rest_vertices)
    for f in range(len(poses)):
        assert np.abs(glb.skinned_positions(0, f / FPS) - ref[f][idx]).max() < 1e-4


def test_bvh_finger_joints_own_importer_and_bvhio(anny, tmp_path):
    from core_models.io.bvh import load_bvh

    poses = hand_poses(5, seed=42)
    path = tmp_path / "hands.bvh"
    export_poses(path, poses, anny, fps=FPS)
    d52 = anny.skinning_hands
    m = load_bvh(path)
    order = [m.index(n) for n in d52.joint_names]
    R, P = m.fk()
    out = anny.forward(poses)
    assert np.abs(P[:, order[22:]] - out.hand_joints).max() < 1e-5
    _check_finger_rotations(_local_from_world(R[:, order], d52.parents), poses, list(range(52)))
    bvhio = pytest.importorskip("bvhio", reason="bvhio (PyPI) not installed: run `bash scripts/setup.sh --test`")
    import glm

    root = bvhio.readAsHierarchy(str(path))
    joints = {j.Name: j for j, *_ in root.layout()}

    def world():
        return np.stack([np.array(glm.mat3_cast(joints[n].RotationWorld), np.float64) for n in d52.joint_names])

    root.loadRestPose()
    R0 = world()
    Rs = []
    for f in range(len(poses)):
        root.loadPose(f)
        Rs.append(world() @ R0.transpose(0, 2, 1))
    _check_finger_rotations(_local_from_world(np.stack(Rs), d52.parents), poses, list(range(52)))


def test_poses_without_hands_export_the_22_joint_rig(anny, tmp_path):
    poses = make_poses(2, seed=43)
    path = tmp_path / "body.glb"
    export_poses(path, poses, anny)
    assert len(GLB.load(path).skin_joint_names()) == 22
    bvh = tmp_path / "nobody.bvh"
    p = hand_poses(2, seed=44)
    export_poses(bvh, p, None)  # skeleton only: the default flat hand
    from core_models.io.bvh import load_bvh

    m = load_bvh(bvh)
    assert "left_thumb3" in m.names and len([n for n in m.names if n]) >= 52


def test_npz_writes_amass_hand_keys_and_reads_them_back(tmp_path):
    from core_models.export.npz import read_npz_poses

    poses = hand_poses(3, seed=45)
    path = tmp_path / "hands.npz"
    export_poses(path, poses, None)
    with np.load(path) as z:
        assert z["poses"].shape == (3, 156)
        assert np.allclose(z["poses"][:, 66:111].reshape(3, 15, 3), poses.hand_pose[:, :15], atol=1e-6)
        assert np.allclose(z["poses"][:, 111:156].reshape(3, 15, 3), poses.hand_pose[:, 15:], atol=1e-6)
    back, _ = read_npz_poses(path)
    assert back.hand_pose is not None and np.allclose(back.hand_pose, poses.hand_pose, atol=1e-6)


def test_bad_hand_pose_is_refused(anny, tmp_path):
    from core_models.export import ExportError

    p = hand_poses(2, seed=46)
    p.hand_pose[1, 3, 0] = np.nan
    with pytest.raises(ExportError, match="hand_pose"):
        export_poses(tmp_path / "x.glb", p, anny)
    assert not (tmp_path / "x.glb").exists()


@pytest.mark.parametrize("ext,rig", [("glb", "smplh"), ("glb", "mixamo"), ("fbx", "smplh"), ("fbx", "mixamo"),
                                     ("bvh", "smplh"), ("bvh", "mixamo"), ("npz", "smplh")])
def test_own_exports_round_trip_the_hand_pose(anny, tmp_path, ext, rig):
    """Import (File > Import motion capture: load, retarget, fingers) gives back the written hand pose."""
    from core_models.io.retarget import import_clip

    poses = hand_poses(3, seed=47)
    path = tmp_path / f"rt.{ext}"
    if ext == "npz":
        from core_models.export.npz import read_npz_poses

        export_poses(path, poses, anny, fps=FPS)
        back, _ = read_npz_poses(path)
        got = back.hand_pose
    else:
        export_poses(path, poses, anny, rig=rig, fps=FPS, ground=True)
        clip = import_clip(path, rest_joints=anny.skinning.rest_joints)
        got = clip.poses.hand_pose
    assert got is not None and got.shape == (3, 30, 3)
    err = _angle_deg(aa_to_matrix(got.astype(np.float64)), aa_to_matrix(poses.hand_pose.astype(np.float64)))
    assert err.max() < TOL_DEG, err.max()


def test_skeletons_without_smplh_fingers_give_no_hand_pose(anny, tmp_path):
    from core_models.io import load_motion
    from core_models.io.hands_import import hand_pose_from_motion, parse_hand_rest_pose

    path = tmp_path / "body.bvh"
    export_poses(path, make_poses(2, seed=48), anny)
    assert hand_pose_from_motion(load_motion(path)) is None
    assert parse_hand_rest_pose("1 2 3") is None and parse_hand_rest_pose([0.0] * 89 + [float("nan")]) is None
    assert parse_hand_rest_pose(" ".join(["0.5"] * 90)).shape == (30, 3)


def test_keyframes_without_a_hand_pose_keep_the_body_rest_hand(anny, tmp_path):
    """A sequence where only some poses have fingers: the others export with the body's own (relaxed) hand, so
    their mesh is the one PoseTailor shows for them."""
    seq = [p for p in make_poses(3, seed=49)]
    seq[1].hand_pose = H.preset_hand_pose("fist", "both")
    path = tmp_path / "mixed.glb"
    export_poses(path, seq, anny, fps=FPS)
    glb = GLB.load(path)
    assert len(glb.skin_joint_names()) == 52
    idx = match_vertices(glb.skinned_positions(None, 0.0), anny.skinning.rest_vertices)
    for f, p in enumerate(seq):
        ref = anny.forward(p).vertices  # frames 0 and 2: no hand pose = the 22-joint body
        assert np.abs(glb.skinned_positions(0, f / FPS) - ref[idx]).max() < 1e-4, f
