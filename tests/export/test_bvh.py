"""BVH export: re-imported by PoseTailor's own importer and by bvhio (independent); re-skinned vertices from
the readers' joint transforms match our LBS."""
from __future__ import annotations

import numpy as np
import pytest

from core_models.export import export_poses
from core_models.export.common import bone_names

from .readers import make_poses, reference_vertices


def _skin_from_world(body, rot: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Vertices from per-joint world rotations (N,J,3,3) and positions (N,J,3) (rest orientations identity)."""
    d = body.skinning
    J = d.rest_joints.astype(np.float64)
    t = pos - np.einsum("njab,jb->nja", rot, J)
    A = np.concatenate([rot, t[..., None]], -1)
    M = np.einsum("vj,njab->nvab", d.weights.astype(np.float64), A)
    return np.einsum("nvab,vb->nva", M[..., :3], d.rest_vertices.astype(np.float64)) + M[..., 3]


@pytest.mark.parametrize("rig", ["smplh", "mixamo"])
def test_bvh_own_importer(anny, tmp_path, rig):
    from core_models.io.bvh import load_bvh

    poses = make_poses(8, seed=30)
    path = tmp_path / "m.bvh"
    export_poses(path, poses, anny, rig=rig, fps=60)
    m = load_bvh(path)
    assert m.num_frames == 8 and m.fps == pytest.approx(60.0)
    names = bone_names(anny.skinning.joint_names, rig)
    idx = [m.index(n) for n in names]
    assert [m.names[m.parents[i]] if m.parents[i] >= 0 else "" for i in idx] == \
        [names[p] if p >= 0 else "" for p in anny.skinning.parents]
    R, P = m.fk()
    out = anny.forward(poses)
    assert np.abs(P[:, idx] - out.joints).max() < 1e-5
    assert np.abs(R[:, idx] - out.global_rotations).max() < 1e-5
    err = np.abs(_skin_from_world(anny, R[:, idx], P[:, idx]) - reference_vertices(anny, poses)).max()
    assert err < 1e-4


def test_bvh_bvhio(anny, tmp_path):
    bvhio = pytest.importorskip("bvhio", reason="bvhio (PyPI) not installed: run `bash scripts/setup.sh --test`")
    import glm

    poses = make_poses(6, seed=31)
    path = tmp_path / "m.bvh"
    export_poses(path, poses, anny)
    root = bvhio.readAsHierarchy(str(path))
    joints = {j.Name: j for j, *_ in root.layout()}
    d = anny.skinning
    assert set(d.joint_names) <= set(joints)
    for j, name in enumerate(d.joint_names):
        par = joints[name].Parent
        want = d.joint_names[d.parents[j]] if d.parents[j] >= 0 else None
        assert (par.Name if par is not None and want is not None else None) == want

    def world():
        R = np.stack([np.array(glm.mat3_cast(joints[n].RotationWorld), np.float64) for n in d.joint_names])
        P = np.stack([np.array(joints[n].PositionWorld, np.float64) for n in d.joint_names])  # metres
        return R, P

    # bvhio re-orients its joints (bone along +y): compare rotations relative to its rest pose
    root.loadRestPose()
    R0, P0 = world()
    assert np.abs(P0 - d.rest_joints).max() < 1e-5
    Rs, Ps = [], []
    for f in range(len(poses)):
        root.loadPose(f)
        R, P = world()
        Rs.append(R @ R0.transpose(0, 2, 1))
        Ps.append(P)
    Rs, Ps = np.stack(Rs), np.stack(Ps)
    out = anny.forward(poses)
    assert np.abs(Ps - out.joints).max() < 1e-5
    assert np.abs(Rs - out.global_rotations).max() < 1e-5
    assert np.abs(_skin_from_world(anny, Rs, Ps) - reference_vertices(anny, poses)).max() < 1e-4


def test_bvh_without_body_uses_default_skeleton(tmp_path):
    from core_models import skeleton as sk
    from core_models.io.bvh import load_bvh

    path = tmp_path / "d.bvh"
    export_poses(path, make_poses(2), None)
    m = load_bvh(path)
    assert np.abs(m.rest_positions()[[m.index(n) for n in sk.JOINT_NAMES]] - sk.DEFAULT_REST_JOINTS).max() < 1e-5


def test_bvh_ground_option(anny, tmp_path):
    from core_models.io.bvh import load_bvh

    poses = make_poses(2, seed=32)
    path = tmp_path / "g.bvh"
    export_poses(path, poses, anny, ground=True)
    m = load_bvh(path)
    idx = [m.index(n) for n in anny.skinning.joint_names]
    lift = np.array([0.0, -anny.skinning.floor_height, 0.0])
    assert np.abs(m.fk()[1][:, idx] - (anny.forward(poses).joints + lift)).max() < 1e-5


def test_bvh_units_metres_by_default_cm_on_request(anny, tmp_path):
    """Metres by default (Blender's BVH import at its default scale 1.0 gives the real size); centimetres when
    asked; PoseTailor's importer reads both to the same metres."""
    from core_models.io.bvh import load_bvh

    poses = make_poses(3, seed=33)
    out = anny.forward(poses)
    heights = {}
    for units in ("m", "cm"):
        path = tmp_path / f"u_{units}.bvh"
        export_poses(path, poses, anny, units=units)
        text = path.read_text()
        offs = np.array([[float(x) for x in ln.split()[1:]] for ln in text.splitlines() if "OFFSET" in ln])
        heights[units] = np.abs(offs[:, 1]).sum()
        m = load_bvh(path)
        idx = [m.index(n) for n in anny.skinning.joint_names]
        assert np.abs(m.fk()[1][:, idx] - out.joints).max() < 1e-5
    assert 0.5 < heights["m"] < 5.0
    assert heights["cm"] == pytest.approx(100 * heights["m"], rel=1e-4)
    with pytest.raises(ValueError, match="units"):
        export_poses(tmp_path / "bad.bvh", poses, anny, units="in")
