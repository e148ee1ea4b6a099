"""Motion-capture importers: tiny team-made fixtures, exact conventions, clear errors, real data if present."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core_models.io import Motion, MotionImportError, load_motion
from core_models.io.asf_amc import load_amc
from core_models.io.bvh import load_bvh
from core_models.io.deepmimic import load_deepmimic

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "mocap"
MOCAP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mocap"
needs_data = pytest.mark.skipif(not MOCAP.is_dir(), reason="shared mocap data not present")
MPU = 0.0254 / 0.45


# --- fixtures ---------------------------------------------------------------------------------------------

def test_tiny_bvh_crlf_blank_lines_trailing_space():
    m = load_bvh(FIX / "tiny.bvh")
    assert m.num_frames == 3 and m.names == ["Hips", "LeftUpLeg", "LeftUpLeg_end", "Spine", "Spine_end"]
    assert m.is_end.tolist() == [False, False, True, False, True]
    assert m.fps == pytest.approx(30.0, rel=1e-4)
    assert "cm" in m.meta["units"]
    P = m.global_positions()
    np.testing.assert_allclose(P[0, 0], [0, 0.9, 0], atol=1e-9)  # root OFFSET + position channels
    np.testing.assert_allclose(P[1, 0], [0.01, 0.92, 0.03], atol=1e-9)
    # frame 3: LeftUpLeg Zrotation -90 swings the leg end (0,-45,0) cm towards -x
    np.testing.assert_allclose(P[2, 2], [0.1 - 0.45, 0.9, 0.0], atol=1e-9)
    # frame 2: root "Zrotation Xrotation Yrotation" = 0 0 90 → Ry(90); LeftUpLeg "X Y Z" = 90 0 0
    R = Rotation.from_euler("ZXY", [0, 0, 90], degrees=True).as_matrix()
    np.testing.assert_allclose(m.rotations[1, 0], R, atol=1e-9)
    np.testing.assert_allclose(m.rotations[1, 1], Rotation.from_euler("x", 90, degrees=True).as_matrix(), atol=1e-9)


def test_bvh_channel_orders_compose_intrinsically(tmp_path):
    rng = np.random.default_rng(0)
    for order in ("ZYX", "ZXY", "XYZ", "YZX"):
        ang = rng.uniform(-170, 170, 3)
        ch = " ".join(f"{a}rotation" for a in order)
        text = (f"HIERARCHY\nROOT r\n{{\nOFFSET 0 0 0\nCHANNELS 3 {ch}\nEnd Site\n{{\nOFFSET 0 100 0\n}}\n}}\n"
                f"MOTION\nFrames: 1\nFrame Time: 0.01\n{ang[0]} {ang[1]} {ang[2]}\n")
        p = tmp_path / f"o_{order}.bvh"
        p.write_text(text)
        m = load_bvh(p)
        R = Rotation.from_euler(order.upper(), ang, degrees=True).as_matrix()  # upper case = intrinsic
        np.testing.assert_allclose(m.rotations[0, 0], R, atol=1e-9)
        assert m.fps == pytest.approx(100.0)


def test_bvh_unit_scale_override():
    m = load_bvh(FIX / "tiny.bvh", unit_scale=1.0)
    np.testing.assert_allclose(m.global_positions()[0, 0], [0, 90, 0])


def test_tiny_asf_amc_units_axis_and_unwrapped_angles():
    m = load_amc(FIX / "tiny.amc", asf_path=FIX / "tiny.asf", fps=30)
    assert m.names == ["root", "lfemur", "lowerback", "ltibia", "lowerback_end", "ltibia_end"]
    assert m.num_frames == 2 and m.fps == 30
    P = m.global_positions()
    np.testing.assert_allclose(P[0, 0], [0, 17 * MPU, 0], atol=1e-12)  # length 0.45 → metres
    np.testing.assert_allclose(P[0, 3], [0, 17 * MPU - 8 * MPU, 0], atol=1e-12)
    # root RY = -542° ≡ 178°: the body turns (almost) around; lfemur rx = -90 (hip flexion) then puts
    # the knee in front of the (turned) body, i.e. towards -z
    assert P[1, 3, 2] < -0.4
    np.testing.assert_allclose(m.rotations[1, 0], Rotation.from_euler("y", -542, degrees=True).as_matrix(),
                               atol=1e-9)
    # local rotation = C·M·C⁻¹ with C the bone's axis frame: the flexion axis is C's x axis
    C = Rotation.from_euler("z", 20, degrees=True).as_matrix()
    axis = C[:, 0]
    rv = Rotation.from_matrix(m.rotations[1, 1]).as_rotvec()
    np.testing.assert_allclose(rv, -np.pi / 2 * axis, atol=1e-9)


def test_amc_upper_case_extension_and_asf_lookup(tmp_path):
    shutil.copy(FIX / "tiny.asf", tmp_path / "tiny.asf")
    shutil.copy(FIX / "tiny.amc", tmp_path / "TINY_01.AMC")
    m = load_motion(tmp_path / "TINY_01.AMC")
    assert m.fmt == "asf_amc" and m.num_frames == 2


def test_tiny_expmap_reads_skeleton_json_and_row_vector_convention():
    m = load_motion(FIX / "expmap" / "tiny_1.txt")
    assert m.fmt == "expmap" and m.names == ["root", "lfemur", "ltibia"]
    P = m.global_positions()
    np.testing.assert_allclose(P[1, 0], np.array([1, 17, 2]) * MPU, atol=1e-9)  # columns in file order
    # node rotations are R(r)ᵀ in column-vector FK: root exp-map (0, π/2, 0) → Ry(-90°)
    np.testing.assert_allclose(m.rotations[1, 0], Rotation.from_euler("y", -90, degrees=True).as_matrix(),
                               atol=1e-6)
    np.testing.assert_allclose(P[1, 2], P[1, 1] + np.array([-7 * MPU, 0, 0]), atol=1e-6)


def test_tiny_deepmimic_revolute_knee_and_fps():
    m = load_motion(FIX / "tiny_deepmimic.txt")
    assert m.fmt == "deepmimic" and m.fps == pytest.approx(1 / 0.0333)
    P = m.global_positions()
    rk, ra = m.index("right_knee"), m.index("right_ankle")
    # right knee -1 rad about z: the shin swings backwards (-x, the humanoid faces +x)
    assert P[1, ra, 0] < P[1, rk, 0] - 0.3
    np.testing.assert_allclose(m.meta["frame_times"], [0.0, 0.0333])
    T = m.rest_positions(tpose=True)
    assert abs(T[m.index("left_wrist"), 1] - T[m.index("left_shoulder"), 1]) < 1e-9  # arms horizontal


def test_motion_validation():
    with pytest.raises(MotionImportError, match="NaN"):
        Motion(["a"], [-1], np.zeros((1, 3)), np.full((1, 1, 3, 3), np.nan), np.zeros((1, 3)), 30)
    with pytest.raises(MotionImportError, match="no frames"):
        Motion(["a"], [-1], np.zeros((1, 3)), np.zeros((0, 1, 3, 3)), np.zeros((0, 3)), 30)
    with pytest.raises(MotionImportError, match="topologically"):
        Motion(["a", "b"], [-1, 1], np.zeros((2, 3)), np.tile(np.eye(3), (1, 2, 1, 1)), np.zeros((1, 3)), 30)


# --- errors: what and where ---------------------------------------------------------------------------------

def _bvh_lines():
    return (FIX / "tiny.bvh").read_bytes().decode().splitlines()


@pytest.mark.parametrize("mutate, pattern", [
    (lambda L: L[:-1], r"header says 3 frames but the file has 2 motion lines \(truncated\?\)"),
    (lambda L: L[:-1] + [L[-1] + " 7"], r"line 31: expected 12 values, got 13"),
    (lambda L: L[:-1] + [L[-1].replace("-90", "nan")], r"line 31: NaN or infinite"),
    (lambda L: L[:-1] + [L[-1].replace("-90", "abc")], r"line 31: 'abc' is not a number"),
    (lambda L: [x.replace("CHANNELS 3 Xrotation", "CHANNELS 4 Xrotation") for x in L], r"line 9: CHANNELS"),
    (lambda L: [x.replace("OFFSET 10 0 0", "OFFSET 10 0") for x in L], r"line 8: OFFSET needs 3 numbers"),
    (lambda L: [x.replace("Frames: 3", "Frames: three") for x in L], r"line 26: frame count"),
    (lambda L: [x.replace("Frame Time: 0.0333333", "Frame Time: 0") for x in L], r"line 27: frame time"),
    (lambda L: L[:15], r"unexpected end of file inside HIERARCHY"),
    (lambda L: L[:23] + L[24:], r"line 24: MOTION before the hierarchy is closed"),
    (lambda L: ["hello"] + L, r"line 1: file does not start with HIERARCHY"),
    (lambda L: [x.replace("Zrotation Xrotation Yrotation", "Zrotation Xrotation Wrotation") for x in L],
     r"line 5: unknown channel"),
])
def test_bvh_errors_say_what_and_where(tmp_path, mutate, pattern):
    p = tmp_path / "bad.bvh"
    p.write_text("\n".join(mutate(_bvh_lines())) + "\n")
    with pytest.raises(MotionImportError, match=pattern):
        load_motion(p)


def test_empty_and_binary_files(tmp_path):
    for ext in (".bvh", ".amc", ".txt", ".json", ".xyz"):
        p = tmp_path / f"empty{ext}"
        p.write_bytes(b"")
        with pytest.raises(MotionImportError, match="empty"):
            load_motion(p)
        q = tmp_path / f"bin{ext}"
        q.write_bytes(bytes(range(256)) * 4)
        with pytest.raises(MotionImportError, match="binary|not"):
            load_motion(q)
    with pytest.raises(MotionImportError, match="does not exist"):
        load_motion(tmp_path / "missing.bvh")
    with pytest.raises(MotionImportError, match="folder"):
        load_motion(tmp_path)
    with pytest.raises(MotionImportError, match="skeleton without motion"):
        load_motion(FIX / "tiny.asf")


def test_amc_errors(tmp_path):
    shutil.copy(FIX / "tiny.asf", tmp_path / "tiny.asf")
    good = (FIX / "tiny.amc").read_bytes().decode()
    cases = [
        (good.replace("ltibia 90", "ltibia 90 1"), r"line 12: bone 'ltibia' needs 1 values, got 2"),
        (good.replace("lowerback 10 0 0\r\n", ""), r"missing bones \['lowerback'\]"),
        (good.replace("ltibia 90", "lknee 90"), r"line 12: unknown bone 'lknee'"),
        (good.replace("lfemur -90 0 0", "lfemur -90 0 nan"), r"line 11: value 'nan' is not finite"),
        (good.replace("2\n", "1\n"), r"frame number 1 after 1"),
        ("root 1 2 3 4 5 6\n", r"line 1: 'root' before the first frame number"),
    ]
    for text, pat in cases:
        p = tmp_path / "tiny_x.amc"
        p.write_text(text, newline="")
        with pytest.raises(MotionImportError, match=pat):
            load_amc(p, tmp_path / "tiny.asf")
    asf = (FIX / "tiny.asf").read_text()
    (tmp_path / "bad.asf").write_text(asf.replace("lfemur ltibia", "lfemur lshin"))
    with pytest.raises(MotionImportError, match=r"ASF .*line \d+: unknown bone 'lshin'"):
        load_amc(FIX / "tiny.amc", tmp_path / "bad.asf")
    (tmp_path / "bad2.asf").write_text(asf.replace("direction 0 -1 0", "direction 0 x 0", 1))
    with pytest.raises(MotionImportError, match=r"line 19: 'x' is not a number"):
        load_amc(FIX / "tiny.amc", tmp_path / "bad2.asf")


def test_expmap_and_deepmimic_errors(tmp_path):
    d = tmp_path / "e"
    d.mkdir()
    shutil.copy(FIX / "expmap" / "skeleton.json", d / "skeleton.json")
    (d / "a.txt").write_text("0,17,0,0,0,0,0,0,0,0,0,0\n1,2,3\n")
    with pytest.raises(MotionImportError, match=r"line 2: expected 12 comma-separated values, got 3"):
        load_motion(d / "a.txt")
    (d / "b.txt").write_text("0,17,0,0,0,0,0,0,0,0,0,inf\n")
    with pytest.raises(MotionImportError, match=r"line 1: NaN or infinite"):
        load_motion(d / "b.txt")
    (d / "skeleton.json").write_text('{"parents": [-1, 0], "offsets": [[0,0,0]]}')
    with pytest.raises(MotionImportError, match="same joints"):
        load_motion(d / "b.txt")
    (d / "skeleton.json").write_text('{"parents": [-1, 0,')
    with pytest.raises(MotionImportError, match=r"skeleton.json .*invalid JSON at line 1"):
        load_motion(d / "b.txt")
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "c.csv").write_text("1,2,3\n")
    # no skeleton.json anywhere above tmp_path/lone (tmp dirs are outside the repo)
    with pytest.raises(MotionImportError, match="skeleton.json"):
        load_motion(lone / "c.csv")

    good = json.loads((FIX / "tiny_deepmimic.txt").read_text())
    bad = json.loads(json.dumps(good))
    bad["Frames"][1] = bad["Frames"][1][:40]
    p = tmp_path / "dm.txt"
    p.write_text('{\n"Frames": [\n' + ",\n".join(json.dumps(f) for f in bad["Frames"]) + "\n]\n}\n")
    with pytest.raises(MotionImportError, match=r"frame 1 \(line 4\): expected 44 numbers, got 40"):
        load_motion(p)
    bad = json.loads(json.dumps(good))
    bad["Frames"][0][5] = 0.0
    bad["Frames"][0][4] = 0.0
    p.write_text(json.dumps(bad))
    with pytest.raises(MotionImportError, match="root quaternion has norm 0"):
        load_deepmimic(p)
    p.write_text('{"Frames": [[1, 2, "x"]]}')
    with pytest.raises(MotionImportError, match="expected 44 numbers"):
        load_motion(p)
    p.write_text('{"Frames": [1, 2')
    with pytest.raises(MotionImportError, match="invalid JSON"):
        load_motion(p)


# --- real data (CI keeps it next to the repository) ------------------------------------------------------

@needs_data
@pytest.mark.parametrize("rel, joints, rig", [
    ("cmu_iclone/005/005_01.bvh", None, "cc_base"),
    ("cmu_iclone/002/002_01.bvh", None, "cc_base"),  # RL_BoneRoot, z-up root
    ("cmu_salsa/60/60_01_scaled.bvh", None, "daz"),
    ("hdm05/train/9/HDM_bk_sneak2StepsLStart_006_120.AMC", 38, "cmu_asf"),
    ("cmu_expmap/train/walking/walking_1.txt", 38, "cmu_expmap"),
    ("deepmimic/humanoid3d_walk.txt", 18, "deepmimic"),
])
def test_real_files_load_upright(rel, joints, rig):
    path = MOCAP / rel
    if not path.exists():
        pytest.skip(f"{rel} not present")
    m = load_motion(path)
    assert m.rig == rig
    if joints:
        assert m.num_joints == joints
    man = {}
    for line in (MOCAP / "MANIFEST.tsv").read_text().splitlines()[1:]:
        c = line.split("\t")
        man[c[0]] = c
    if rel in man and man[rel][3]:
        assert m.num_frames == int(man[rel][3])
    P = m.global_positions()
    height = np.percentile(P[..., 1].max(1) - P[..., 1].min(1), 90)
    assert 1.0 < height < 2.1 or rig == "daz"  # salsa is in undocumented units (~1.2 tall)
    assert np.median(P[..., 1].mean(1)) > 0.3  # y up: the body is above the floor


@needs_data
def test_rl_boneroot_files_are_y_up_like_the_others():
    a = load_motion(MOCAP / "cmu_iclone/002/002_01.bvh")
    assert a.names[0] == "RL_BoneRoot" and a.num_joints == 142
    P = a.global_positions()
    head, foot = P[:, a.index("CC_Base_Head"), 1], P[:, a.index("CC_Base_L_Foot"), 1]
    assert np.all(head - foot > 1.2)
