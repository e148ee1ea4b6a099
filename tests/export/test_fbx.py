"""FBX export checked by two independent readers: the Autodesk FBX SDK (FBX2glTF) and ufbx (strict)."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from core_models.export import export_poses
from core_models.export.common import (
    bone_names,
    continuous_euler,
    fbx_euler_deg,
    limb_orientations,
    matrix_to_euler,
    primary_child,
)
from core_models.export.fbx import build_fbx
from core_models.pose import aa_to_matrix

from .readers import (
    expected_hierarchy,
    fbx_sdk_to_glb,
    glb_check_skinning,
    glb_hierarchy,
    make_poses,
    reference_vertices,
    ufbx_probe,
)

FPS = 30.0  # FBX2glTF bakes at 30 fps: keys land exactly on our frames


@pytest.mark.parametrize("rig", ["smplh", "mixamo"])
def test_fbx_sdk_reads_skinned_animation(anny, tmp_path, rig):
    poses = make_poses(6, seed=1)
    path = tmp_path / f"anim_{rig}.fbx"
    export_poses(path, poses, anny, rig=rig, fps=FPS)
    glb = fbx_sdk_to_glb(path, tmp_path)
    # FBX2glTF returns an empty scene (exit 0) on files the SDK rejects: assert the content
    node, skin = glb.skinned_mesh()
    names = bone_names(anny.skinning.joint_names, rig)
    sdk_names = glb.skin_joint_names(skin)
    assert sorted(sdk_names) == sorted(names)
    assert glb_hierarchy(glb) == expected_hierarchy(names, anny.skinning.parents)
    anim = glb.json["animations"][0]
    counts = {glb.accessor(s["input"]).shape[0] for s in anim["samplers"]}
    assert counts == {len(poses)}, counts
    # the SDK output keeps the 4 largest influences per vertex: compare with our top-4 LBS
    glb_check_skinning(glb, anny, poses, FPS, dense=False)


def test_ufbx_reads_skinned_animation(anny, tmp_path):
    poses = make_poses(6, seed=2)
    path = tmp_path / "anim.fbx"
    export_poses(path, poses, anny, fps=FPS)
    u = ufbx_probe(path, tmp_path, FPS, len(poses))
    assert int(u["n_warnings"]) == 0
    assert float(u["unit_meters"]) == pytest.approx(1.0)
    assert float(u["time_end"]) == pytest.approx((len(poses) - 1) / FPS)
    d = anny.skinning
    names = list(u["names"])
    got = {n: p for n, p, b in zip(u["names"], u["parents"], u["is_bone"]) if b}
    assert got == expected_hierarchy(list(d.joint_names), d.parents)
    assert int(u["n_clusters"]) == len(d.joint_names)
    assert np.abs(u["rest"] - d.rest_vertices).max() < 1e-6
    ref = reference_vertices(anny, poses, dense=True)
    err = np.abs(u["skinned"] - ref).max(axis=(1, 2))
    assert err.max() < 1e-4, err
    # bone world transforms too: positions at the joints, rotations = the pose's global rotation times the
    # bone's rest orientation, whose +Y points along the limb (at the child joint) in every frame
    out = anny.forward(poses)
    B = limb_orientations(d.rest_joints, d.parents, d.joint_names)
    for j, name in enumerate(d.joint_names):
        k = names.index(name)
        assert np.abs(u["world"][:, k, :, 3] - out.joints[:, j]).max() < 1e-5
        assert np.abs(u["world"][:, k, :, :3] - out.global_rotations[:, j] @ B[j]).max() < 1e-5
        c = primary_child(j, d.joint_names, d.parents)
        if c is not None:
            along = out.joints[:, c] - out.joints[:, j]
            along /= np.linalg.norm(along, axis=-1, keepdims=True)
            assert np.abs(u["world"][:, k, :, 1] - along).max() < 1e-5, name


def test_single_pose_both_readers(anny, tmp_path):
    pose = make_poses(1, seed=3)[0]
    path = tmp_path / "one.fbx"
    export_poses(path, pose, anny, rig="mixamo")
    u = ufbx_probe(path, tmp_path, FPS, 1)
    assert np.abs(u["skinned"][0] - reference_vertices(anny, pose[None])[0]).max() < 1e-4
    glb = fbx_sdk_to_glb(path, tmp_path)
    glb.skinned_mesh()
    assert "mixamorig:LeftUpLeg" in glb.skin_joint_names() or "LeftUpLeg" in glb.skin_joint_names()
    glb_check_skinning(glb, anny, pose[None], FPS, dense=False)


def test_smplh_backend_exports(smplh, tmp_path):
    """The second body backend exports through the same code (SkinningData only)."""
    poses = make_poses(3, seed=4)
    path = tmp_path / "smplh.fbx"
    export_poses(path, poses, smplh, fps=FPS)
    u = ufbx_probe(path, tmp_path, FPS, len(poses))
    assert np.abs(u["skinned"] - reference_vertices(smplh, poses)).max() < 1e-4
    glb = fbx_sdk_to_glb(path, tmp_path)
    glb_check_skinning(glb, smplh, poses, FPS, dense=False)


def test_binary_layout(anny):
    data = build_fbx(make_poses(2), anny.skinning)
    assert data[:23] == b"Kaydara FBX Binary  \x00\x1a\x00"
    assert struct.unpack_from("<I", data, 23)[0] == 7400
    assert data[-16:] == bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")
    assert (len(data) - 140) % 16 == 0  # footer: version at a 16-byte boundary, 120 zeros, magic
    assert struct.unpack_from("<I", data, len(data) - 140)[0] == 7400
    assert data == build_fbx(make_poses(2), anny.skinning)  # deterministic


def test_euler_curves_are_continuous_and_exact():
    poses = make_poses(40, seed=5, scale=0.9)
    R = aa_to_matrix(poses.full().astype(np.float64))
    e = fbx_euler_deg(R)
    assert np.abs(np.diff(e, axis=0)).max() < 180.0
    # R = Rz·Ry·Rx
    from scipy.spatial.transform import Rotation

    back = Rotation.from_euler("xyz", e.reshape(-1, 3), degrees=True).as_matrix().reshape(R.shape)
    assert np.abs(back - R).max() < 1e-9
    # the alternative solution is the same rotation
    raw = matrix_to_euler(R, "xyz")
    alt = np.stack([raw[..., 0] + np.pi, np.pi - raw[..., 1], raw[..., 2] + np.pi], -1)
    back2 = Rotation.from_euler("xyz", alt.reshape(-1, 3)).as_matrix().reshape(R.shape)
    assert np.abs(back2 - R).max() < 1e-9
    spin = continuous_euler(np.stack([np.zeros(50), np.zeros(50), np.linspace(0, 6 * np.pi, 50)], -1)
                            .__mod__(2 * np.pi) - np.pi)
    assert np.abs(np.diff(spin[:, 2])).max() < 0.5


def test_ground_option_lifts_everything(anny, tmp_path):
    poses = make_poses(2, seed=6)
    path = tmp_path / "g.fbx"
    export_poses(path, poses, anny, ground=True)
    u = ufbx_probe(path, tmp_path, FPS, len(poses))
    lift = np.array([0.0, -anny.skinning.floor_height, 0.0])
    assert lift[1] > 0.5
    assert np.abs(u["skinned"] - (reference_vertices(anny, poses) + lift)).max() < 1e-4
    assert abs(u["rest"][:, 1].min()) < 1e-6  # rest pose stands on y = 0


@pytest.mark.parametrize("fps", [24.0, 60.0, 12.5])
def test_other_frame_rates(anny, tmp_path, fps):
    poses = make_poses(3, seed=7)
    path = tmp_path / "r.fbx"
    export_poses(path, poses, anny, fps=fps)
    u = ufbx_probe(path, tmp_path, fps, len(poses))
    assert float(u["time_end"]) == pytest.approx(2 / fps, abs=1e-6)
    assert np.abs(u["skinned"] - reference_vertices(anny, poses)).max() < 1e-4


def test_grounded_fbx_stands_on_the_floor_with_a_skin_material(anny, tmp_path):
    """What an animator sees in Blender: the lowest skinned vertex at y = 0 (1 cm) in every frame of a grounded
    export of standing poses, a Phong skin material on the mesh, the scene at the clip's frame rate."""
    from core_models.pose import Pose

    n = 4
    poses = Pose(np.zeros((n, 3)), np.zeros((n, 21, 3)), np.zeros((n, 3)))
    poses.body_pose[:, 15, 2] = np.linspace(-0.6, 0.6, n)  # arms move, the feet stay on the floor
    path = tmp_path / "floor.fbx"
    export_poses(path, poses, anny, fps=24.0, ground=True)
    u = ufbx_probe(path, tmp_path, 24.0, n)
    low = u["skinned"][..., 1].min(axis=1)
    assert np.abs(low).max() < 0.01, low
    assert list(u["materials"]) == ["Skin:phong"]
    assert np.allclose(u["material_diffuse"][0], [0.8, 0.62, 0.52])
    assert float(u["frames_per_second"]) == pytest.approx(24.0)
    assert float(u["time_end"]) == pytest.approx((n - 1) / 24.0)


def test_cli_export_grounds_by_default(anny, tmp_path):
    """`main.py export` grounds like the GUI's export dialog; --no-ground keeps PoseTailor's origin."""
    from main import main

    src = tmp_path / "in.npz"
    from core_models.pose import Pose

    export_poses(src, Pose(np.zeros((2, 3)), np.zeros((2, 21, 3)), np.zeros((2, 3))), None, fps=30)
    for flag, floor in (([], 0.0), (["--no-ground"], float(anny.skinning.floor_height))):
        out = tmp_path / f"cli{len(flag)}.fbx"
        assert main(["export", "--pose", str(src), "--out", str(out), "--body", "anny", "-q", *flag]) == 0
        u = ufbx_probe(out, tmp_path, FPS, 2)
        low = u["skinned"][..., 1].min(axis=1)
        assert np.abs(low - floor).max() < 0.01, (flag, low)
