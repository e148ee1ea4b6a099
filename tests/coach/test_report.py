"""Session report files, routine files, library targets and the ``coach`` command (true poses, no capture)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models.coach import (
    CoachError,
    CoachTarget,
    Routine,
    load_routine,
    run_poses,
    save_routine,
    target_from_library,
)
from core_models.pose import Pose
from tests.coach._helpers import engine, rotated, routine, run, tree

ROOT = Path(__file__).resolve().parents[2]


def _session():
    e = engine(hold_s=2.0)
    run(e, [(0, 2.05, rotated(tree(), "left_knee", 0, -70)), (2.05, 6.0, tree())])
    return e


def test_report_content():
    d = _session().report.to_dict()
    t = d["targets"][0]
    assert t["name"] == "Tree" and t["completed"] and t["hold_s"] >= 2.0
    assert t["best_similarity"] == pytest.approx(100.0, abs=1e-3) and t["best_held_similarity"] is not None
    assert [x["text"] for x in t["instructions"]] == ["Bend your left knee more"]
    assert t["instructions"][0]["t"] == 0.0 and t["instructions"][0]["source"] == "rules"


def test_report_files(tmp_path):
    from core_models.io.npz_pose import load_pose_npz

    e = _session()
    paths = e.report.save(tmp_path / "session", images=False)
    assert set(paths) == {"json", "npz", "html"} and all(p.is_file() for p in paths.values())
    data = json.loads(paths["json"].read_text())
    assert data["format"] == "posetailor-coach-report" and data["targets"][0]["completed"]
    pose, _ = load_pose_npz(paths["npz"])
    assert pose.body_pose.shape == (1, 21, 3)
    assert np.allclose(pose.body_pose[0], tree().body_pose, atol=1e-4)  # the best-held pose is the target itself
    with np.load(paths["npz"]) as z:
        assert list(z["target_names"]) == ["Tree"] and z["target_poses"].shape == (1, 22, 3)
    html = paths["html"].read_text()
    assert "Bend your left knee more" in html and "Tree" in html


@pytest.mark.headless_gl
def test_report_png(tmp_path):
    paths = _session().report.save(tmp_path, images=True, size=96)
    data = json.loads(paths["json"].read_text())
    assert "png" in paths, data.get("png_error")
    from PIL import Image

    img = np.asarray(Image.open(paths["png"]))
    assert img.shape[1] == 2 * 96 and img.std() > 5  # two thumbnails, not blank


@pytest.mark.headless_gl
def test_summary_picture_from_the_saved_files_matches_the_in_memory_one(tmp_path):
    """The GUI saves the report without a picture and a child process adds it from report.json + best_poses.npz
    (plain data, no pickle): the picture is the one the in-memory report renders, and the HTML now shows it."""
    from PIL import Image

    from core_models.coach.report import add_summary_picture

    rep = _session().report
    direct = rep.save(tmp_path / "direct", images=True, size=96)
    later = rep.save(tmp_path / "later", images=False, size=96)
    assert "png" not in later and "summary.png" not in later["html"].read_text()
    png = add_summary_picture(tmp_path / "later", size=96)
    a = np.asarray(Image.open(direct["png"]), np.float32)
    b = np.asarray(Image.open(png), np.float32)
    assert a.shape == b.shape and np.abs(a - b).mean() < 1.0
    assert "summary.png" in later["html"].read_text()
    (tmp_path / "later" / "best_poses.npz").write_bytes(b"not a zip")
    with pytest.raises(CoachError, match="cannot read the report"):
        add_summary_picture(tmp_path / "later", size=96)


def test_report_bad_paths(tmp_path):
    rep = _session().report
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(CoachError, match="is a file"):
        rep.save(f, images=False)
    with pytest.raises(CoachError, match="does not exist"):
        rep.save(tmp_path / "missing" / "deeper", images=False)
    assert f.read_text() == "x"


def test_routine_roundtrip(tmp_path):
    own = CoachTarget("My pose", rotated(tree(), "left_knee", 0, -20), 12.5, weights=np.ones(22, np.float32))
    r = Routine("Morning", [target_from_library("tree", 30), own])
    p = save_routine(r, tmp_path / "morning.json")
    back = load_routine(p)
    assert back.name == "Morning" and [t.name for t in back.targets] == ["Tree", "My pose"]
    assert back.targets[0].library == "tree" and back.targets[0].hold_s == 30
    assert np.allclose(back.targets[1].pose.body_pose, own.pose.body_pose, atol=1e-5)
    assert back.targets[1].weights is not None and back.targets[1].hold_s == 12.5


@pytest.mark.parametrize("text,match", [
    ("{", "cannot read"), ('{"targets": []}', "non-empty"), ('{"targets": [{"library": "nope"}]}', "no library pose"),
    ('{"targets": [{"pose": {"axis_angle": [[0, 0]]}}]}', "22×3"), ('[1, 2]', "not a coach routine"),
    ('{"targets": [{"library": "tree", "hold_s": -3}]}', "positive"),
    ('{"targets": [{"library": "tree", "hold_s": "long"}]}', "number"),
])
def test_bad_routine_files(tmp_path, text, match):
    p = tmp_path / "r.json"
    p.write_text(text)
    with pytest.raises(CoachError, match=match):
        load_routine(p)


def test_missing_routine_and_unknown_target(tmp_path):
    with pytest.raises(CoachError, match="does not exist"):
        load_routine(tmp_path / "none.json")
    with pytest.raises(ValueError, match="warrior_ii"):  # the message lists the names
        target_from_library("warrior 3")
    assert target_from_library("Warrior II").name == "Warrior II"


def test_run_poses_matches_engine():
    poses = Pose(np.stack([tree().root_orient] * 20), np.stack([tree().body_pose] * 20))
    r = run_poses(poses, np.arange(20) / 10.0, routine(("tree", 1.0)))
    assert r.report.to_dict()["targets"][0]["completed"]


def _clip_poses(tmp_path) -> Path:
    bad = rotated(tree(), "left_knee", 0, -70)
    seq = [bad] * 25 + [tree()] * 40
    full = np.stack([np.concatenate([np.asarray(p.root_orient)[None], p.body_pose]) for p in seq])
    f = tmp_path / "clip.poses.npz"
    np.savez(f, poses=full.astype(np.float32), transl=np.zeros((65, 3), np.float32),
             times=(np.arange(65) / 10.0).astype(np.float32))
    return f


def test_coach_command_true_poses(tmp_path):
    out = tmp_path / "report.json"
    cmd = [sys.executable, str(ROOT / "main.py"), "coach", "--target", "tree", "--hold", "3", "--true-poses",
           str(_clip_poses(tmp_path)), "--out", str(out), "--corrector", "rules", "--report-dir", str(tmp_path / "rep")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "Bend your left knee more  (rules)" in res.stdout and "(complete)" in res.stdout
    assert json.loads(out.read_text())["targets"][0]["completed"]
    assert (tmp_path / "rep" / "best_poses.npz").is_file()


@pytest.mark.parametrize("extra,match", [
    (["--out", "report.txt"], "must end in .json"),
    (["--out", "/nonexistent-folder/r.json"], "does not exist"),
    (["--out", "r.json", "--routine", "/nonexistent.json"], "does not exist"),
])
def test_coach_command_bad_input(tmp_path, extra, match):
    cmd = [sys.executable, str(ROOT / "main.py"), "coach", "--true-poses", str(_clip_poses(tmp_path)), *extra]
    if "--routine" not in extra:
        cmd += ["--target", "tree"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 2 and match in res.stderr
