"""Authored coaching poses and the coaching training set (issue 14 item 2)."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from core_models import skeleton as sk
from core_models.data import coaching_poses as cp
from core_models.library import load_builtin, read_pose_file
from core_models.plausibility import PENETRATION_TOLERANCE_M, check_pose, lowest_point, penetrations
from core_models.pose import Pose, heading_of, limit_violation_deg, mirror_aa

LIMIT_TOL_DEG = 0.01


def _library_both() -> np.ndarray:
    """(2L,22,3) canonical library poses and their mirror images, read through the library module."""
    lib = np.stack([p.pose.full() for p in load_builtin()])
    return cp.canonical(np.concatenate([lib, mirror_aa(lib)]))


@pytest.fixture(scope="module")
def small_set():
    return cp.coaching_pose_set(400, seed=7, corpus=None)


# --- the authored files ------------------------------------------------------------------------------------

def test_enough_authored_poses_load_with_both_readers():
    assert len(cp.AUTHORED) >= 40
    files = sorted(cp.TRAIN_POSES_DIR.glob("*.json"))
    assert [f.stem for f in files] == sorted(cp.AUTHORED)
    names = [read_pose_file(f).name for f in files]  # the pose library's reader accepts them too
    assert len(set(names)) == len(names)
    groups = Counter(d["group"] for d in cp.AUTHORED.values())
    assert set(groups) == {"standing", "kneeling", "seated", "lying"} and min(groups.values()) >= 4
    assert all("PoseTailor" in d["authored_by"] for d in cp.AUTHORED.values())


def test_authored_poses_inside_limits_and_plausible(anny_body):
    for slug, d in cp.AUTHORED.items():
        pose = cp.pose_of(d)
        assert float(limit_violation_deg(pose).max()) <= LIMIT_TOL_DEG, slug
        rep = check_pose(anny_body, pose)
        assert rep.ok, f"{slug}: {rep.summary()}"


def test_authored_poses_stand_on_the_floor_and_their_contacts_touch_it(anny_body):
    floor = float(anny_body.skinning.floor_height)
    on_floor = 0
    for slug, d in cp.AUTHORED.items():
        pose = cp.pose_of(d)
        assert abs(lowest_point(anny_body, pose) - floor) < 2e-3, slug  # grounded: no floating, no sinking
        heights = cp.contact_heights(anny_body, pose, d["contacts"])
        for joint, h in heights.items():
            assert h <= cp.contact_limit_m(joint), f"{slug}: {joint} is {h * 100:.0f} cm above the floor"
        if d["group"] != "standing":
            assert d["contacts"], f"{slug}: a floor pose must name what rests on the floor"
            on_floor += 1
    assert on_floor >= 20


def test_authored_poses_are_canonical():
    _, full = cp.authored_arrays()
    assert np.abs(np.asarray(heading_of(full[:, 0]))).max() < 1e-3


# --- bad files ---------------------------------------------------------------------------------------------

def _good() -> dict:
    return json.loads(json.dumps(next(iter(cp.AUTHORED.values()))))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format="something-else"), "not a PoseTailor pose file"),
    (lambda d: d.pop("name"), "missing 'name'"),
    (lambda d: d.pop("pose"), "missing 'pose'"),
    (lambda d: d["pose"].update(axis_angle=[[0.0, 0.0, 0.0]] * 21), "22x3"),
    (lambda d: d["pose"]["axis_angle"][3].__setitem__(0, "x"), "array of numbers"),
    (lambda d: d["pose"].update(transl=[0.0, 1.0]), "pose.transl"),
    (lambda d: d["pose"]["axis_angle"][1].__setitem__(0, 100.0), "out of range"),
    (lambda d: d.update(contacts=["left_toe"]), "contacts"),
])
def test_bad_files_give_clear_errors(tmp_path, mutate, message):
    d = _good()
    mutate(d)
    f = tmp_path / "broken_pose.json"
    f.write_text(json.dumps(d))
    with pytest.raises(cp.CoachingPoseError, match=message) as e:
        cp.load_authored(tmp_path)
    assert "broken_pose.json" in str(e.value)


def test_unreadable_and_missing_folders(tmp_path):
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(cp.CoachingPoseError, match="a.json is not valid JSON"):
        cp.load_authored(tmp_path)
    (tmp_path / "a.json").write_text('{"pose": 1}'.replace("1", "[1, 2]"))
    with pytest.raises(cp.CoachingPoseError, match="a.json"):
        cp.load_authored(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(cp.CoachingPoseError, match="no authored poses"):
        cp.load_authored(empty)
    with pytest.raises(cp.CoachingPoseError, match="no authored pose folder"):
        cp.load_authored(tmp_path / "missing")


# --- the set -----------------------------------------------------------------------------------------------

def test_set_shapes_kinds_and_names(small_set):
    s = small_set
    assert len(s) == 400
    assert s.root_orient.shape == (400, 3) and s.body_pose.shape == (400, 21, 3)
    assert s.root_orient.dtype == np.float32 and s.body_pose.dtype == np.float32
    assert s.name.shape == (400,) and s.kind.shape == (400,)
    assert dict(Counter(s.kind.tolist())) == {k: v for k, v in cp.kind_counts(400).items() if v}
    known = set(cp.AUTHORED)
    for name, kind in zip(s.name, s.kind):
        if kind == "interpolated":
            a, _, b = name.removeprefix("interp:").partition("|")
            assert name.startswith("interp:") and a in known and b in known
        else:
            assert name in known
    assert np.all(np.isfinite(s.body_pose)) and np.all(np.isfinite(s.root_orient))
    assert np.abs(np.asarray(heading_of(s.root_orient))).max() < 1e-3


def test_set_is_deterministic_per_seed(small_set):
    again = cp.coaching_pose_set(400, seed=7, corpus=None)
    assert np.array_equal(again.body_pose, small_set.body_pose)
    assert np.array_equal(again.root_orient, small_set.root_orient)
    assert list(again.name) == list(small_set.name) and list(again.kind) == list(small_set.kind)
    other = cp.coaching_pose_set(400, seed=8, corpus=None)
    assert not np.array_equal(other.body_pose, small_set.body_pose)


def test_every_pose_inside_the_joint_limits(small_set):
    assert float(limit_violation_deg(small_set.poses()).max()) <= LIMIT_TOL_DEG


def test_no_pose_near_a_library_pose_or_its_mirror(small_set):
    full = np.concatenate([small_set.root_orient[:, None], small_set.body_pose], 1)
    both = _library_both()
    d = cp.pose_distance_deg(full, both).min(1)  # independent of library_distance
    assert d.min() >= cp.LIBRARY_EXCLUSION_DEG
    d_mirror = cp.pose_distance_deg(cp.canonical(mirror_aa(full)), both).min(1)
    assert d_mirror.min() >= cp.LIBRARY_EXCLUSION_DEG


def test_library_distance_sees_the_library_and_its_mirror():
    lib = np.stack([p.pose.full() for p in load_builtin()])
    assert np.allclose(cp.library_distance(lib[:, 1:], lib[:, 0]), 0.0, atol=0.05)
    m = mirror_aa(lib)
    assert np.allclose(cp.library_distance(m[:, 1:], m[:, 0]), 0.0, atol=0.05)
    assert cp.library_distances(lib[:, 1:], lib[:, 0]).shape == (len(lib), len(lib))


def test_authored_poses_too_close_to_the_library_are_left_out():
    names, full = cp.authored_arrays()
    d = cp.library_distance(full[:, 1:], full[:, 0])
    near = {n for n, x in zip(names, d) if x < cp.LIBRARY_EXCLUSION_DEG}
    s = cp.coaching_pose_set(300, seed=1, corpus=None)
    used = {n.removeprefix("interp:").split("|")[0] for n in s.name}
    used |= {n.split("|")[1] for n in s.name if "|" in n}
    assert not (near & used)
    assert len(set(names) - near) >= 40
    kept, kept_full = cp.trainable()
    assert set(kept) == set(names) - near and len(kept_full) == len(kept)


def test_corpus_interpolations(small_set):
    rng = np.random.default_rng(0)
    fake = np.zeros((50, sk.NUM_JOINTS, 3), np.float32)
    fake[:, 1:] = rng.normal(0.0, 0.15, (50, 21, 3))
    s = cp.coaching_pose_set(200, seed=2, corpus=fake)
    interp = [n for n in s.name if n.startswith("interp:")]
    assert any(n.endswith("|corpus") for n in interp)
    assert float(limit_violation_deg(s.poses()).max()) <= LIMIT_TOL_DEG
    assert cp.library_distance(s.body_pose, s.root_orient).min() >= cp.LIBRARY_EXCLUSION_DEG
    with pytest.raises(cp.CoachingPoseError, match="shape"):
        cp.coaching_pose_set(10, corpus=np.zeros((5, 21, 3)))


def test_mirrored_poses_are_mirror_images():
    """A mirrored pose mirrored back is a perturbation of its authored pose (close to it, far from others)."""
    s = cp.coaching_pose_set(200, seed=4, corpus=None)
    names, full = cp.authored_arrays()
    idx = {n: i for i, n in enumerate(names)}
    sel = np.nonzero(s.kind == "mirrored")[0]
    back = cp.canonical(mirror_aa(np.concatenate([s.root_orient[sel, None], s.body_pose[sel]], 1)))
    d = cp.pose_distance_deg(back, full)
    assert np.mean([d[k, idx[s.name[i]]] == d[k].min() for k, i in enumerate(sel)]) > 0.9


def test_set_poses_pass_the_plausibility_check(anny_body, small_set):
    for i in range(0, len(small_set), 8):  # every 8th: check_pose costs ~8 ms a pose
        pose = Pose(small_set.root_orient[i], small_set.body_pose[i])
        assert check_pose(anny_body, pose).ok, (small_set.kind[i], small_set.name[i])


def test_batched_self_penetration_matches_the_plausibility_check(anny_body):
    raw = cp.coaching_pose_set(120, seed=11, corpus=None, body=None)  # not filtered: some penetrate
    full = np.concatenate([raw.root_orient[:, None], raw.body_pose], 1)
    depth = cp.self_penetration_m(anny_body, full)
    flagged = depth > PENETRATION_TOLERANCE_M
    reference = np.array([not check_pose(anny_body, Pose.from_full(f)).ok for f in full])
    assert reference.any() and not reference.all()
    assert np.array_equal(flagged, reference)
    for f, d in zip(full[:20], depth[:20]):
        exact = max(c.depth - c.allowance for c in penetrations(anny_body, Pose.from_full(f)))
        assert d == pytest.approx(exact, abs=1e-5) if exact > -0.02 else d <= 0.0


@pytest.mark.parametrize("n, seed", [(-1, 0), (2.5, 0), (True, 0), (10, "a"), (10, 1.0)])
def test_bad_arguments(n, seed):
    with pytest.raises(cp.CoachingPoseError):
        cp.coaching_pose_set(n, seed=seed, corpus=None)


def test_empty_set():
    s = cp.coaching_pose_set(0, corpus=None)
    assert len(s) == 0 and s.body_pose.shape == (0, 21, 3)
    assert isinstance(s.poses(), Pose)
