"""export_poses: formats, errors, atomic writes; NPZ round trip; the `export` CLI."""
from __future__ import annotations

import os

import numpy as np
import pytest

from core_models.export import ExportError, export_poses, format_from_path, resolve_path_and_format
from core_models.export.npz import read_npz_poses
from core_models.pose import Pose

from .readers import make_poses


def test_format_from_extension(tmp_path):
    assert format_from_path("a/b.FBX") == "fbx"
    assert format_from_path("x.glb") == "glb"
    with pytest.raises(ExportError, match="cannot tell the export format"):
        format_from_path("x.obj")
    with pytest.raises(ExportError, match=".glb"):
        format_from_path("x.gltf")
    assert resolve_path_and_format(tmp_path / "noext", "bvh")[0].name == "noext.bvh"
    with pytest.raises(ExportError, match="does not match"):
        resolve_path_and_format(tmp_path / "x.fbx", "glb")
    with pytest.raises(ExportError, match="unknown export format"):
        resolve_path_and_format(tmp_path / "x", "obj")


@pytest.mark.parametrize("ext", ["fbx", "glb", "bvh", "npz"])
def test_bad_input_is_refused_and_nothing_written(anny, tmp_path, ext):
    out = tmp_path / f"x.{ext}"
    bad = make_poses(3)
    bad.body_pose[1, 4, 0] = np.nan
    with pytest.raises(ExportError, match="NaN"):
        export_poses(out, bad, anny)
    with pytest.raises(ExportError, match="empty"):
        export_poses(out, [], anny)
    with pytest.raises(ExportError, match="empty"):
        export_poses(out, Pose.zeros(0), anny)
    with pytest.raises(ExportError, match="does not exist"):
        export_poses(tmp_path / "missing" / f"x.{ext}", make_poses(1), anny)
    with pytest.raises(ExportError, match="folder"):
        export_poses(tmp_path, make_poses(1), anny, format=ext)
    with pytest.raises(ExportError, match="rig"):
        export_poses(out, make_poses(1), anny, rig="unreal")
    with pytest.raises(ExportError, match="fps"):
        export_poses(out, make_poses(1), anny, fps=0)
    assert not out.exists()
    assert os.listdir(tmp_path) == []


def test_fbx_glb_need_a_body(tmp_path):
    for ext in ("fbx", "glb"):
        with pytest.raises(ExportError, match="body model"):
            export_poses(tmp_path / f"x.{ext}", make_poses(1), None)


@pytest.mark.parametrize("ext", ["fbx", "glb", "bvh", "npz"])
def test_failed_write_keeps_the_old_file(anny, tmp_path, monkeypatch, ext):
    out = tmp_path / f"x.{ext}"
    out.write_bytes(b"old contents")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises((OSError, ExportError), match="No space left"):
        export_poses(out, make_poses(2), anny)
    assert out.read_bytes() == b"old contents"
    assert sorted(os.listdir(tmp_path)) == [out.name]  # no temp file left behind


def test_overwrite_and_list_input(anny, tmp_path):
    out = tmp_path / "x.glb"
    out.write_bytes(b"old")
    seq = make_poses(3)
    export_poses(out, [seq[0], seq[1], seq[2]], anny)
    assert out.read_bytes()[:4] == b"glTF"
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # not the private mode of the temp file


def test_npz_round_trip(tmp_path):
    poses = make_poses(5, seed=40)
    out = tmp_path / "seq.npz"
    export_poses(out, poses, None, fps=50)
    back, fps = read_npz_poses(out)
    if back.batch_shape == ():
        back = back[None]
    assert back.allclose(poses, atol=1e-6)
    assert fps in (None, pytest.approx(50.0))
    with np.load(out, allow_pickle=False) as z:
        assert {"poses", "trans"} <= set(z.files)


def test_npz_is_the_project_pose_format(tmp_path):
    """The NPZ exporter writes through core_models.io.npz_pose (AMASS z-up by default; y-up on request)."""
    from core_models.io.npz_pose import load_pose_npz

    poses = make_poses(4, seed=41)
    for up in ("z", "y"):
        out = tmp_path / f"seq_{up}.npz"
        export_poses(out, poses, None, fps=30, up_axis=up)
        back, info = load_pose_npz(out)
        assert back.allclose(poses, atol=1e-5)
        with np.load(out, allow_pickle=False) as z:
            assert str(z["up_axis"]) == up


def test_cli_export(anny, tmp_path, capsys):
    from main import main

    src = tmp_path / "in.npz"
    export_poses(src, make_poses(4, seed=42), None, fps=30)
    for ext in ("fbx", "glb", "bvh", "npz"):
        out = tmp_path / f"out.{ext}"
        assert main(["export", "--pose", str(src), "--out", str(out), "--rig", "mixamo", "--fps", "24"]) == 0
        assert out.stat().st_size > 0
    assert "4 frames" in capsys.readouterr().out
    assert main(["export", "--pose", str(src), "--out", str(tmp_path / "nope" / "a.fbx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", "--pose", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "a.fbx")]) == 2
