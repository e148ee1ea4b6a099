"""core_models.hands: presets, mirror, per-finger curl, spread, limits — on the canonical hand pose."""
import numpy as np
import pytest

from core_models import hands as H
from core_models.pose import Pose, aa_to_matrix_np, mirror


def test_every_preset_for_every_side_is_finite_within_limits():
    for name in H.PRESETS:
        for side in H.HAND_SIDES:
            hp = H.preset_hand_pose(name, side)
            assert hp.shape == (30, 3) and hp.dtype == np.float32 and np.all(np.isfinite(hp))
            assert H.hand_limit_excess_deg(hp).max() < 1e-3, (name, side)
            if side == "left":
                assert np.all(hp[15:] == 0)
            if side == "right":
                assert np.all(hp[:15] == 0)
    with pytest.raises(ValueError, match="unknown hand preset"):
        H.preset_hand_pose("jazz")
    with pytest.raises(ValueError, match="side"):
        H.preset_hand_pose("fist", "middle")


def test_presets_mean_what_they_say():
    fist = H.preset_hand_pose("fist", "left")
    assert all(H.finger_curl(fist, "left", f) > 0.95 for f in ("index", "middle", "ring", "pinky"))
    point = H.preset_hand_pose("point", "left")
    assert H.finger_curl(point, "left", "index") < 0.05 and H.finger_curl(point, "left", "middle") > 0.95
    peace = H.preset_hand_pose("peace", "right")
    assert H.finger_curl(peace, "right", "index") < 0.05 and H.finger_curl(peace, "right", "middle") < 0.05
    assert H.finger_curl(peace, "right", "ring") > 0.95
    up = H.preset_hand_pose("thumbs_up", "left")
    assert H.finger_curl(up, "left", "thumb") < 0.0 and H.finger_curl(up, "left", "pinky") > 0.95
    opened = H.preset_hand_pose("open", "left")
    assert H.hand_spread(opened, "left") == pytest.approx(1.0, abs=0.02)
    # flexion curls the fingers towards the palm (−y for the palm-down T-pose hand): the index's joint 1 flexed
    # by its preset angle turns its +x bone downwards
    R = aa_to_matrix_np(fist[H.hand_joint_index("left", "index", 1)])
    assert (R @ np.array([1.0, 0, 0]))[1] < -0.9


def test_mirror_one_hand_to_the_other_matches_pose_mirror():
    hp = H.preset_hand_pose("point", "left")
    both = H.mirror_hand(hp, "left")
    assert np.allclose(both[:15], hp[:15])
    assert H.finger_curl(both, "right", "index") == pytest.approx(H.finger_curl(both, "left", "index"), abs=1e-5)
    # the same as mirroring the whole pose twice-removed: mirror(pose) swaps the hands with the same reflection
    p = Pose.zeros()
    p.hand_pose = hp
    assert np.allclose(mirror(p).hand_pose[15:], both[15:], atol=1e-6)
    back = H.mirror_hand(both, "right")
    assert np.allclose(back, both, atol=1e-6)
    with pytest.raises(ValueError):
        H.mirror_hand(hp, "both")


def test_per_finger_curl_sets_only_that_finger_and_reads_back():
    hp = H.preset_hand_pose("open", "both")
    out = H.set_finger_curl(hp, "left", "ring", 0.6)
    assert H.finger_curl(out, "left", "ring") == pytest.approx(0.6, abs=1e-4)
    ring = [H.hand_joint_index("left", "ring", k) for k in (1, 2, 3)]
    others = np.setdiff1d(np.arange(30), ring)
    assert np.array_equal(out[others], hp[others])
    # the knuckle's spread is kept while it bends
    spread_before = H.hand_spread(hp, "left")
    assert H.hand_spread(out, "left") == pytest.approx(spread_before, abs=0.02)
    # curl is clamped to its range
    assert H.finger_curl(H.set_finger_curl(hp, "left", "index", 3.0), "left", "index") == pytest.approx(1.0, abs=1e-4)
    low = H.set_finger_curl(hp, "left", "index", -2.0)
    assert H.finger_curl(low, "left", "index") == pytest.approx(H.CURL_MIN, abs=1e-4)
    # the thumb: its MCP and IP bend, its CMC opposition is kept
    t = H.set_finger_curl(H.preset_hand_pose("pinch", "right"), "right", "thumb", 0.2)
    j1 = H.hand_joint_index("right", "thumb", 1)
    assert np.allclose(t[j1], H.preset_hand_pose("pinch", "right")[j1])
    assert H.finger_curl(t, "right", "thumb") == pytest.approx(0.2, abs=1e-4)


def test_whole_hand_curl_and_spread():
    hp = np.zeros((30, 3), np.float32)
    c = H.set_hand_curl(hp, "both", 0.5)
    for s in H.SIDES:
        for f in H.FINGERS:
            assert H.finger_curl(c, s, f) == pytest.approx(0.5, abs=1e-4)
    s = H.set_spread(c, "right", 0.8)
    assert H.hand_spread(s, "right") == pytest.approx(0.8, abs=0.01)
    assert np.array_equal(s[:15], c[:15])
    assert H.finger_curl(s, "right", "middle") == pytest.approx(0.5, abs=1e-3)


def test_with_hands_checks_its_input():
    p = Pose.zeros()
    with pytest.raises(ValueError, match=r"\(30, 3\)"):
        H.with_hands(p, np.zeros((15, 3)))
    bad = np.zeros((30, 3))
    bad[4, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        H.with_hands(p, bad)
    q = H.with_hands(p, H.preset_hand_pose("fist"))
    assert p.hand_pose is None and q.hand_pose.shape == (30, 3)
    assert H.with_hands(q, None).hand_pose is None
    assert np.all(H.hands_of(p) == 0)


# --- hand poses in the pose library ---------------------------------------------------------------------------

def _lib_dict(hand_pose=None):
    from core_models.library import pose_to_dict

    p = Pose.zeros()
    p.hand_pose = hand_pose
    return pose_to_dict("Hands test", "user", p)


def test_library_pose_carries_hand_pose_and_old_files_still_load(tmp_path):
    from core_models.library import load_builtin, pose_from_dict, read_pose_file, save_user_pose

    hp = H.preset_hand_pose("peace", "right")
    d = _lib_dict(hp)
    assert len(d["pose"]["hand_pose"]) == 30
    back = pose_from_dict(d).pose
    assert np.allclose(back.hand_pose, hp, atol=1e-6)
    old = _lib_dict(None)
    assert "hand_pose" not in old["pose"]
    assert pose_from_dict(old).pose.hand_pose is None
    # the user library round trip keeps the fingers
    p = Pose.zeros()
    p.hand_pose = H.preset_hand_pose("fist", "both")
    saved = save_user_pose("Fists", p, folder=tmp_path)
    assert np.allclose(read_pose_file(saved.path).pose.hand_pose, p.hand_pose, atol=1e-6)
    # built-ins: some carry hands, the others load without
    lib = {e.slug: e.pose for e in load_builtin()}
    assert lib["mountain"].hand_pose is not None and lib["squat"].hand_pose is None
    assert H.finger_curl(lib["mountain"].hand_pose, "left", "pinky") > 0.3  # relaxed hands
    assert np.all(lib["t_pose"].hand_pose == 0)  # flat hands


@pytest.mark.parametrize("bad,msg", [
    ([[0.0, 0.0, 0.0]] * 15, r"pose.hand_pose' must be a 30x3"),
    ([[0.0, 0.0, float("nan")]] + [[0.0, 0.0, 0.0]] * 29, "finite"),
    ([[0.0, 0.0, "x"]] + [[0.0, 0.0, 0.0]] * 29, "finite"),
    ([[0.0, 0.0, 99.0]] + [[0.0, 0.0, 0.0]] * 29, "out of range"),
    ("fist", r"30x3"),
])
def test_library_bad_hand_pose_is_a_clear_error(bad, msg):
    from core_models.library import LibraryError, pose_from_dict

    d = _lib_dict(np.zeros((30, 3), np.float32))
    d["pose"]["hand_pose"] = bad
    with pytest.raises(LibraryError, match=msg):
        pose_from_dict(d)


def test_interpolate_carries_the_hand_pose():
    from core_models.pose import interpolate

    a, b = Pose.zeros(), Pose.zeros()
    a.hand_pose = H.preset_hand_pose("open", "both")
    b.hand_pose = H.preset_hand_pose("fist", "both")
    mid = interpolate(a, b, 0.5)
    assert mid.hand_pose is not None
    c = H.finger_curl(mid.hand_pose, "left", "middle")
    assert 0.4 < c < 0.6
    assert np.allclose(interpolate(a, b, 1.0).hand_pose, b.hand_pose, atol=1e-5)
    only = interpolate(Pose.zeros(), b, 0.3)
    assert np.allclose(only.hand_pose, b.hand_pose)
    assert interpolate(Pose.zeros(), Pose.zeros(), 0.5).hand_pose is None


def test_hand_presets_live_in_the_pose_library(tmp_path):
    from core_models.library import LibraryError, load_library

    hp = H.set_finger_curl(H.preset_hand_pose("open"), "left", "ring", 0.9)
    e = H.save_hand_preset("Ring down", hp, folder=tmp_path)
    assert e.category == H.HAND_PRESET_CATEGORY and np.allclose(e.pose.full(), 0)
    found = H.library_hand_presets(load_library(user_dir=tmp_path))
    assert [n for n, _ in found] == ["Ring down"] and np.allclose(found[0][1], hp, atol=1e-5)
    with pytest.raises(ValueError, match="NaN"):
        H.save_hand_preset("Bad", np.full((30, 3), np.nan), folder=tmp_path)
    with pytest.raises(LibraryError):
        H.save_hand_preset("", hp, folder=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1
    out = H.apply_hand_preset(np.zeros((30, 3)), hp, "right")
    assert np.all(out[:15] == 0) and np.allclose(out[15:], hp[15:])
