"""Pose library: built-ins load and are plausible, user library round trip, bad files skipped."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from core_models import library as lib
from core_models import skeleton as sk
from core_models.plausibility import check_pose, ground_pose, lowest_point
from core_models.pose import Pose, PoseError, euler_to_aa, mirror

REQUIRED = {"t_pose", "a_pose", "mountain", "tree", "warrior_i", "warrior_ii", "triangle", "chair",
            "downward_dog", "plank", "cobra", "childs_pose", "bridge", "squat", "lunge",
            "seated_forward_bend", "boat"}


@pytest.fixture(scope="module")
def builtins():
    return lib.load_builtin()


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("POSETAILOR_DATA", str(tmp_path))
    return tmp_path


def _pose(**euler_deg) -> Pose:
    e = np.zeros((sk.NUM_JOINTS, 3), np.float32)
    for name, xyz in euler_deg.items():
        e[0 if name == "root" else sk.JOINT_INDEX[name]] = xyz
    return Pose.from_full(euler_to_aa(e))


# --- built-ins ------------------------------------------------------------------------------------------

def test_all_required_builtins_present_and_unique(builtins):
    slugs = [p.path.stem for p in builtins]
    assert REQUIRED <= set(slugs)
    assert len(builtins) == len(list(lib.BUILTIN_DIR.glob("*.json")))  # none skipped
    names = [p.name for p in builtins]
    assert len(set(names)) == len(names)
    for p in builtins:
        assert p.builtin and p.category in {"basic", "yoga", "fitness"}
        assert 10 < len(p.description) < 140 and p.description.endswith(".")
        assert p.pose.batch_shape == ()


def test_builtins_are_plausible_and_grounded(anny_body, builtins):
    floor = anny_body.skinning.floor_height
    for p in builtins:
        rep = check_pose(anny_body, p.pose)
        assert rep.ok, f"{p.name}: {rep.summary()}"
        assert abs(lowest_point(anny_body, p.pose) - floor) < 2e-3, p.name


def test_mirrored_builtins_are_plausible(anny_body, builtins):
    for p in builtins:
        rep = check_pose(anny_body, mirror(p.pose))
        assert rep.ok, f"mirrored {p.name}: {rep.summary()}"


def test_builtin_thumbnails_exist_when_listed(builtins):
    for p in builtins:
        d = json.loads(p.path.read_text("utf-8"))
        if "thumbnail" in d and (p.path.parent / d["thumbnail"]).is_file():
            assert p.thumbnail is not None and p.thumbnail.stat().st_size < 60_000


# --- plausibility -----------------------------------------------------------------------------------------

def test_arm_through_torso_fails(anny_body):
    # left arm swung horizontally across the chest, straight through the body to the right side
    bad = _pose(left_shoulder=(0, 0, 0), left_collar=(0, 0, 0))
    bad = bad.with_joint(sk.JOINT_INDEX["left_shoulder"], euler_to_aa(np.array([0, -170, 0], np.float32)))
    rep = check_pose(anny_body, bad, limit_tolerance_deg=1e9)  # geometry only, limits ignored
    assert not rep.ok
    assert any(i.kind == "torso_penetration" and i.joints[0].startswith("left_") for i in rep.issues)


def test_forearm_through_thigh_fails(anny_body):
    # arm hanging by the side is fine; pulled 10 deg past vertical (inside the shoulder's Euler box) the
    # forearm and hand go through the hip and thigh
    pose = _pose(left_shoulder=(0, 0, -100))
    clean = _pose(left_shoulder=(0, 0, -75))
    assert check_pose(anny_body, clean).ok
    rep = check_pose(anny_body, pose)
    assert any(i.kind == "limb_penetration" for i in rep.issues), rep.summary()


def test_joint_limit_violation_reported(anny_body):
    rep = check_pose(anny_body, _pose(left_knee=(-60, 0, 0)))
    assert not rep.ok and rep.issues[0].kind == "joint_limit" and rep.issues[0].joints == ("left_knee",)
    assert check_pose(anny_body, Pose.zeros()).ok


def test_ground_pose_touches_floor(anny_body):
    p = _pose(root=(0, 0, 0), left_knee=(90, 0, 0), right_knee=(90, 0, 0), left_hip=(-90, 0, 0),
              right_hip=(-90, 0, 0))
    p.transl[:] = [0.3, 1.5, -0.2]
    g = ground_pose(anny_body, p)
    assert abs(lowest_point(anny_body, g) - anny_body.skinning.floor_height) < 1e-4
    assert np.allclose(g.transl[[0, 2]], [0.3, -0.2]) and np.allclose(g.full(), p.full())
    with pytest.raises(PoseError):
        check_pose(anny_body, Pose.zeros(2))


# --- user library ---------------------------------------------------------------------------------------

def test_user_dir_follows_env(data_dir):
    assert lib.user_library_dir() == data_dir / "library"


def test_save_load_delete_round_trip(data_dir, builtins):
    pose = builtins[3].pose.copy()
    pose.transl[:] = [0.1, -0.2, 0.3]
    a = lib.save_user_pose("  My   warm-up ", pose, description="Nice.")
    b = lib.save_user_pose("My warm-up", Pose.zeros())
    assert a.path != b.path and a.path.parent == data_dir / "library"
    assert a.name == "My warm-up" and not a.builtin and a.category == "user"
    assert not list((data_dir / "library").glob("*.tmp"))
    everything = lib.load_library()
    users = [p for p in everything if not p.builtin]
    assert len(everything) == len(builtins) + 2 and len(users) == 2
    back = next(p for p in users if p.path == a.path)
    assert back.pose.allclose(pose, atol=1e-5) and back.description == "Nice."
    lib.delete_user_pose(back)
    assert [p.path for p in lib.load_user()] == [b.path]
    with pytest.raises(lib.LibraryError):
        lib.delete_user_pose(builtins[0])
    with pytest.raises(lib.LibraryError):
        lib.delete_user_pose(builtins[0].path)  # outside the user folder
    assert builtins[0].path.exists()


def test_save_with_thumbnail(data_dir):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    item = lib.save_user_pose("Thumb", Pose.zeros(), thumbnail_png=png)
    assert item.thumbnail is not None and item.thumbnail.read_bytes() == png
    with pytest.raises(lib.LibraryError):
        lib.save_user_pose("Thumb", Pose.zeros(), thumbnail_png=b"GIF89a")
    lib.delete_user_pose(item)
    assert not item.thumbnail.exists()


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "a\x00b", "x" * 200, None, 42])
def test_bad_names_refused(data_dir, name):
    with pytest.raises(lib.LibraryError):
        lib.save_user_pose(name, Pose.zeros())
    assert not (data_dir / "library").exists() or not list((data_dir / "library").iterdir())


def test_bad_pose_refused(data_dir):
    with pytest.raises(PoseError):
        lib.save_user_pose("batch", Pose.zeros(3))
    with pytest.raises(PoseError):
        lib.save_user_pose("not a pose", np.zeros((22, 3)))


def test_odd_names_get_safe_unique_files(data_dir):
    a = lib.save_user_pose("Ürdhva Hastāsana / ../../etc", Pose.zeros())
    b = lib.save_user_pose("???", Pose.zeros())
    c = lib.save_user_pose("???", Pose.zeros())
    assert a.path.parent == b.path.parent == data_dir / "library"
    assert a.path.stem == "urdhva_hastasana_etc" and b.path.stem == "pose" and c.path.stem == "pose_2"
    assert a.name == "Ürdhva Hastāsana / ../../etc"


def test_corrupted_user_files_skipped_with_warning(data_dir, caplog):
    good = lib.save_user_pose("Good", Pose.zeros())
    folder = good.path.parent
    d = json.loads(good.path.read_text("utf-8"))
    bad_shape = dict(d, pose={"axis_angle": [[0, 0, 0]] * 21, "transl": [0, 0, 0]})
    nan = json.dumps(d).replace('"transl": [0.0, 0.0, 0.0]', '"transl": [NaN, 0.0, 0.0]')
    assert "NaN" in nan
    (folder / "truncated.json").write_text(json.dumps(d)[:50], "utf-8")
    (folder / "shape.json").write_text(json.dumps(bad_shape), "utf-8")
    (folder / "nan.json").write_text(nan, "utf-8")
    (folder / "future.json").write_text(json.dumps(dict(d, version=99)), "utf-8")
    (folder / "strings.json").write_text(json.dumps(dict(d, name=["x"])), "utf-8")
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (folder / "list.json").write_text("[1, 2, 3]", "utf-8")
    with caplog.at_level(logging.WARNING, logger="core_models.library"), \
            pytest.warns(lib.LibraryWarning) as warned:
        users = lib.load_user()
    assert len(warned) == 7
    assert [u.name for u in users] == ["Good"]
    skipped = [r for r in caplog.records if "skipping" in r.getMessage()]
    assert len(skipped) == 7
    assert any("truncated.json" in r.getMessage() for r in skipped)
