"""GLB export: Khronos glTF-Validator (0 errors, 0 warnings) and skinned vertices from the file's own data."""
from __future__ import annotations

import numpy as np
import pytest

from core_models.export import export_poses
from core_models.export.common import bone_names

from .gltf_reader import GLB
from .readers import expected_hierarchy, glb_check_skinning, glb_hierarchy, gltf_validate, make_poses


@pytest.mark.parametrize("n,rig,fps", [(7, "smplh", 30.0), (1, "mixamo", 24.0)])
def test_glb_validates_and_skins_exactly(anny, tmp_path, n, rig, fps):
    poses = make_poses(n, seed=10 + n)
    path = tmp_path / "out.glb"
    export_poses(path, poses, anny, rig=rig, fps=fps)
    report = gltf_validate(path)
    issues = report["issues"]
    msgs = [m for m in issues["messages"] if m["severity"] <= 1]
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, msgs
    glb = GLB.load(path)
    names = bone_names(anny.skinning.joint_names, rig)
    assert glb.skin_joint_names() == names
    assert glb_hierarchy(glb) == expected_hierarchy(names, anny.skinning.parents)
    anim = glb.json["animations"][0]
    assert {glb.accessor(s["input"]).shape[0] for s in anim["samplers"]} == {n}
    glb_check_skinning(glb, anny, poses, fps, dense=True)


def test_glb_smplh_backend(smplh, tmp_path):
    poses = make_poses(3, seed=20)
    path = tmp_path / "smplh.glb"
    export_poses(path, poses, smplh)
    assert gltf_validate(path)["issues"]["numErrors"] == 0
    glb_check_skinning(GLB.load(path), smplh, poses, 30.0, dense=True)


def test_glb_uvs_flipped_and_complete(anny, tmp_path):
    path = tmp_path / "uv.glb"
    export_poses(path, make_poses(1), anny)
    glb = GLB.load(path)
    node, _ = glb.skinned_mesh()
    attrs = glb.json["meshes"][glb.nodes[node]["mesh"]]["primitives"][0]["attributes"]
    uv = glb.accessor(attrs["TEXCOORD_0"])
    d = anny.skinning
    used = d.uvs[np.unique(d.face_uvs)]
    assert len(uv) >= len(d.rest_vertices)  # split at UV seams, never merged
    assert np.isclose(uv[:, 1].min(), 1.0 - used[:, 1].max(), atol=1e-6)  # V flipped to glTF's top-left origin
    assert np.isclose(uv[:, 0].max(), used[:, 0].max(), atol=1e-6)
    assert {"NORMAL", "JOINTS_0", "WEIGHTS_0"} <= set(attrs)
