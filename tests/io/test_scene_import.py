"""FBX and glTF/GLB import: exact on PoseTailor's own exports (both rigs, grounded or not), round trips through
the retargeter within 1 mm, foreign conventions (centimetres, z-up, no extras), the app's/CLI's entry points,
and fuzzing (truncations, byte flips, NaN, absurd counts → MotionImportError, never a crash)."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core_models import skeleton as sk
from core_models.body import load_body
from core_models.body.base import SkinningData
from core_models.export import export_poses
from core_models.io import MotionImportError, load_motion
from core_models.io import _load_motion as raw_load_motion  # without the safety net: find real bugs
from core_models.io.retarget import import_clip
from core_models.io.rig_names import MIXAMO_NAMES
from core_models.pose import Pose, clamp_to_limits, quat_to_matrix

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def anny():
    return load_body("anny")


def tiny_body() -> SkinningData:
    """A 22-joint skin with one vertex per joint (tiny files for fuzzing)."""
    J = sk.NUM_JOINTS
    rest = sk.DEFAULT_REST_JOINTS.astype(np.float32)
    W = np.eye(J, dtype=np.float32)
    faces = np.array([[0, 1, 2], [3, 4, 5]], np.int32)
    idx = np.zeros((J, 4), np.int32)
    idx[:, 0] = np.arange(J)
    val = np.zeros((J, 4), np.float32)
    val[:, 0] = 1.0
    return SkinningData(rest_vertices=rest + np.float32(0.01), rest_normals=np.tile([0, 1, 0], (J, 1)).astype(
        np.float32), faces=faces, rest_joints=rest, parents=sk.PARENTS.copy(), joint_names=tuple(sk.JOINT_NAMES),
        weights=W, weight_idx=idx, weight_val=val, floor_height=float(rest[:, 1].min()) - 0.1)


def test_poses(n: int, seed: int = 0) -> Pose:
    """A walk-like sequence inside the joint limits (the retargeter clamps beyond them)."""
    rng = np.random.default_rng(seed)
    p = Pose(rng.normal(0, 0.2, (n, 3)), rng.normal(0, 0.25, (n, 21, 3)),
             np.cumsum(rng.normal(0, 0.03, (n, 3)), axis=0))
    return clamp_to_limits(p)


test_poses.__test__ = False  # a helper, not a test


def joints_of(path, names) -> np.ndarray:
    m = load_motion(path)
    return m.global_positions()[:, [m.index(n) for n in names]]


@pytest.mark.parametrize("ext", ["fbx", "glb"])
@pytest.mark.parametrize("rig", ["smplh", "mixamo"])
@pytest.mark.parametrize("ground", [False, True])
def test_own_exports_import_exactly(anny, tmp_path, ext, rig, ground):
    poses = test_poses(5, seed=1)
    path = tmp_path / f"a.{ext}"
    export_poses(path, poses, anny, rig=rig, fps=24, ground=ground)
    m = load_motion(path)
    assert m.num_frames == 5 and m.fps == pytest.approx(24.0)
    idx = [m.index(n) for n in anny.skinning.joint_names]  # Mixamo names come back as SMPL-H joints
    out = anny.forward(poses)
    assert np.abs(m.global_positions()[:, idx] - out.joints).max() < 1e-5
    assert np.abs(m.global_rotations()[:, idx] - out.global_rotations).max() < 1e-5


@pytest.mark.parametrize("ext", ["fbx", "glb"])
def test_round_trip_through_the_retargeter_within_1mm(anny, tmp_path, ext):
    """file → import_clip (the app's File > Import motion capture) → the same export → joint positions in
    both files agree within 1 mm at every frame."""
    poses = test_poses(6, seed=2)
    a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
    export_poses(a, poses, anny, rig="mixamo", fps=30, ground=True)
    clip = import_clip(a, rest_joints=anny.skinning.rest_joints)
    assert len(clip.poses) == 6 and clip.fps == pytest.approx(30.0)
    export_poses(b, clip.poses, anny, rig="mixamo", fps=clip.fps, ground=True)
    names = list(anny.skinning.joint_names)
    err = np.linalg.norm(joints_of(a, names) - joints_of(b, names), axis=-1)
    assert err.max() < 1e-3, err.max()


def test_cli_export_takes_fbx_and_glb_input(anny, tmp_path, capsys):
    from main import main

    poses = test_poses(4, seed=3)
    src = tmp_path / "in.fbx"
    export_poses(src, poses, anny, fps=30, ground=True)
    out = tmp_path / "out.glb"
    assert main(["export", "--pose", str(src), "--out", str(out), "--body", "anny", "-q"]) == 0
    names = list(anny.skinning.joint_names)
    assert np.linalg.norm(joints_of(src, names) - joints_of(out, names), axis=-1).max() < 1e-3
    bad = tmp_path / "bad.fbx"
    bad.write_bytes(b"Kaydara FBX Binary  \x00\x1a\x00" + struct.pack("<I", 7400) + b"\xff" * 40)
    assert main(["export", "--pose", str(bad), "--out", str(tmp_path / "x.glb"), "--body", "anny"]) == 2
    assert "corrupt FBX" in capsys.readouterr().err


def test_centimetre_z_up_fbx(tmp_path, monkeypatch):
    """A foreign FBX convention: z up (3ds Max: front −y) in centimetres. Positions come back in y-up metres."""
    import core_models.export.fbx as fbx

    body = tiny_body()
    poses = test_poses(3, seed=4)
    ref = tmp_path / "ref.fbx"
    export_poses(ref, poses, body, fps=30)
    P_ref = joints_of(ref, sk.JOINT_NAMES)
    orig = fbx._global_settings

    def zup_cm(fps, t_stop):
        g = orig(fps, t_stop)
        for p in g.children[1].children:
            key = p.props[0][1].decode()
            if key in ("UpAxis", "FrontAxis", "FrontAxisSign", "UnitScaleFactor"):
                code = p.props[-1][0]
                new = {"UpAxis": 2, "FrontAxis": 1, "FrontAxisSign": -1, "UnitScaleFactor": 1.0}[key]
                p.props[-1] = (code, new)
        return g

    monkeypatch.setattr(fbx, "_global_settings", zup_cm)
    path = tmp_path / "zup.fbx"
    export_poses(path, poses, body, fps=30)
    P = joints_of(path, sk.JOINT_NAMES)
    # the file's numbers are unchanged; read as z-up cm they mean: x → x, y → −z, z → y, ÷100
    expect = np.stack([P_ref[..., 0], P_ref[..., 2], -P_ref[..., 1]], -1) / 100.0
    assert np.abs(P - expect).max() < 1e-7


def test_glb_without_extras_assumes_30_fps(tmp_path):
    from core_models.export.gltf import build_glb

    data = bytearray(build_glb(test_poses(3, seed=5), tiny_body(), fps=60))
    doc, binary = _split_glb(bytes(data))
    del doc["animations"][0]["extras"]
    path = tmp_path / "noextras.glb"
    path.write_bytes(_join_glb(doc, binary))
    m = load_motion(path)
    assert m.fps == 30.0 and "assumed" in m.meta["fps_from"]
    assert m.num_frames == 2  # 2 frames at 60 fps span 1/30 s: sampled at 30 fps


def test_ascii_fbx_is_refused_with_a_reason(tmp_path):
    p = tmp_path / "a.fbx"
    p.write_text("; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n}\n")
    with pytest.raises(MotionImportError, match="ASCII FBX"):
        load_motion(p)


# --- fuzzing --------------------------------------------------------------------------------------------

def _split_glb(data: bytes):
    jl = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + jl])
    bl = struct.unpack_from("<I", data, 20 + jl)[0]
    return doc, data[28 + jl:28 + jl + bl]


def _join_glb(doc: dict, binary: bytes) -> bytes:
    js = json.dumps(doc).encode()
    js += b" " * ((4 - len(js) % 4) % 4)
    out = struct.pack("<4sII", b"glTF", 2, 12 + 8 + len(js) + 8 + len(binary))
    return out + struct.pack("<I4s", len(js), b"JSON") + js + struct.pack("<I4s", len(binary), b"BIN\x00") + binary


def _tiny(ext: str) -> bytes:
    from core_models.export.fbx import build_fbx
    from core_models.export.gltf import build_glb

    build = build_fbx if ext == ".fbx" else build_glb
    return build(test_poses(3, seed=6), tiny_body(), rig="mixamo", fps=30)


SOURCES = {".fbx": _tiny(".fbx"), ".glb": _tiny(".glb")}


def _load(tmp_path, data: bytes, ext: str):
    p = tmp_path / f"fuzz{ext}"
    p.write_bytes(data)
    try:
        m = raw_load_motion(p)
    except MotionImportError as e:
        assert str(e)
        return None
    assert np.all(np.isfinite(m.global_positions()))
    return m


def test_tiny_sources_load(tmp_path):
    for ext, data in SOURCES.items():
        m = _load(tmp_path, data, ext)
        assert m is not None and m.num_frames == 3 and m.num_joints == 22


@pytest.mark.parametrize("ext", [".fbx", ".glb"])
@FUZZ
@given(cut=st.integers(0, 1 << 30))
def test_truncations_fail_cleanly(tmp_path, ext, cut):
    data = SOURCES[ext]
    _load(tmp_path, data[: cut % len(data)], ext)


@pytest.mark.parametrize("ext", [".fbx", ".glb"])
@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(0, 255)), min_size=1, max_size=6))
def test_byte_flips_never_crash(tmp_path, ext, flips):
    data = bytearray(SOURCES[ext])
    for at, v in flips:
        data[at % len(data)] = v
    _load(tmp_path, bytes(data), ext)


@pytest.mark.parametrize("ext", [".fbx", ".glb", ".gltf"])
@FUZZ
@given(data=st.binary(min_size=0, max_size=300))
def test_random_bytes_never_crash(tmp_path, ext, data):
    _load(tmp_path, data, ext)


@FUZZ
@given(path=st.sampled_from(["count", "byteOffset", "byteLength", "byteStride", "componentType", "type", "node",
                             "input", "joints", "children", "fps", "uri"]),
       value=st.sampled_from([-1, 0, 3, 2 ** 31, 10 ** 12, 1.5, "x", None, [], {}, float("nan"), True]))
def test_absurd_gltf_fields_fail_cleanly(tmp_path, path, value):
    doc, binary = _split_glb(SOURCES[".glb"])
    targets = {"count": doc["accessors"], "byteOffset": doc["bufferViews"], "byteLength": doc["bufferViews"],
               "byteStride": doc["bufferViews"], "componentType": doc["accessors"], "type": doc["accessors"],
               "input": doc["animations"][0]["samplers"], "joints": doc["skins"], "children": doc["nodes"],
               "fps": [doc["animations"][0]["extras"]], "uri": doc["buffers"]}
    if path == "node":
        for ch in doc["animations"][0]["channels"]:
            ch["target"]["node"] = value
    else:
        for obj in targets[path]:
            obj[path] = value
    _load(tmp_path, _join_glb(doc, binary), ".glb")


def test_nan_values_are_refused(tmp_path, monkeypatch):
    import core_models.export.fbx as fbx

    doc, binary = _split_glb(SOURCES[".glb"])
    acc = doc["animations"][0]["samplers"][3]["output"]
    view = doc["bufferViews"][doc["accessors"][acc]["bufferView"]]
    b = bytearray(binary)
    struct.pack_into("<f", b, view["byteOffset"], float("nan"))
    with pytest.raises(MotionImportError, match="NaN"):
        _load_strict(tmp_path, _join_glb(doc, bytes(b)), ".glb")
    monkeypatch.setattr(fbx, "fbx_euler_deg", lambda R: np.full(R.shape[:-1], np.nan))
    with pytest.raises(MotionImportError, match="NaN"):
        _load_strict(tmp_path, fbx.build_fbx(test_poses(2), tiny_body()), ".fbx")


def test_absurd_frame_count_and_array_size(tmp_path):
    from core_models.export.fbx import KTIME_PER_SECOND

    data = bytearray(SOURCES[".fbx"])
    kt = data.find(b"KeyTime")
    assert kt > 0
    # first key time → 10^6 seconds: a range of 30 million frames at 30 fps
    at = kt + len(b"KeyTime") + 1 + 12
    struct.pack_into("<q", data, at + 8, int(1e6 * KTIME_PER_SECOND))
    with pytest.raises(MotionImportError, match="frames"):
        _load_strict(tmp_path, bytes(data), ".fbx")
    data = bytearray(SOURCES[".fbx"])
    struct.pack_into("<I", data, kt + len(b"KeyTime") + 1, 2 ** 31)  # array length
    with pytest.raises(MotionImportError, match="corrupt FBX"):
        _load_strict(tmp_path, bytes(data), ".fbx")


def _load_strict(tmp_path, data: bytes, ext: str):
    p = tmp_path / f"strict{ext}"
    p.write_bytes(data)
    return raw_load_motion(p)


def test_import_dialog_offers_every_motion_format():
    from app.dialogs import MOCAP_FILTER
    from core_models.io import MOTION_EXTENSIONS

    first = MOCAP_FILTER.split(";;")[0]
    for ext in MOTION_EXTENSIONS:
        assert f"*{ext}" in first, ext


def test_glb_written_by_the_fbx_sdk_imports(anny, tmp_path):
    """A glTF from another writer: our FBX converted by the Autodesk FBX SDK (FBX2glTF, baked at 30 fps, no
    PoseTailor extras) → our glTF importer gives the same joints (rest pose from its inverse bind matrices)."""
    from tests.export.readers import fbx_sdk_to_glb

    poses = test_poses(4, seed=7)
    src = tmp_path / "sdk_src.fbx"
    export_poses(src, poses, anny, rig="mixamo", fps=30)
    fbx_sdk_to_glb(src, tmp_path)
    glb = tmp_path / "sdk_src_fbxsdk.glb"
    m = load_motion(glb)
    assert m.num_frames == 4 and m.fps == 30.0
    idx = [m.index(n) for n in anny.skinning.joint_names]
    assert np.abs(m.global_positions()[:, idx] - anny.forward(poses).joints).max() < 1e-4
    clip = import_clip(glb, rest_joints=anny.skinning.rest_joints)
    assert clip.quality["mpjpe_mm"] < 1.0


def _to_nodes(n):
    """Our reader's tree → the writer's nodes (re-encode a modified file)."""
    from core_models.export import fbx as w

    props = []
    for code, v in zip(n.codes, n.props):
        if code in "silfdb" and isinstance(v, np.ndarray):
            props.append(w.A({"s": "i"}.get(code, code), v))
        elif code == "S":
            props.append(w.S(v))
        else:
            props.append((code, v))
    return w.Node(n.name, *props, children=[_to_nodes(c) for c in n.children])


def _foreign_fbx(data: bytes) -> bytes:
    """Our FBX rewritten with what other exporters use and ours does not: centimetres, Pre/PostRotation and a
    RotationOrder per bone, sparse keys (every other frame), the skeleton under a rotated, scaled, moved Null
    ("Armature", as Blender writes), no BindPose (rest from the nodes' own properties)."""
    from core_models.export import fbx as w
    from core_models.io.fbx_import import parse_fbx

    top = parse_fbx(data)
    rng = np.random.default_rng(9)
    for p in top.find("GlobalSettings").find("Properties70").children:
        if p.props[0] in ("UnitScaleFactor", "OriginalUnitScaleFactor"):
            p.props[4] = 1.0
    objs, conns = top.find("Objects"), top.find("Connections")
    objs.children = [o for o in objs.children if o.name != "Pose"]
    root = None
    for o in objs.children:
        if o.name == "Model" and o.props[2] == "LimbNode":
            root = root or o.props[0]
            p70 = o.find("Properties70")
            rot = [float(x) for x in rng.uniform(-40, 40, 3)]
            p70.children.append(_parsed_p("PreRotation", "Vector3D", "Vector", "", "DDD", rot))
            post = [float(x) for x in rng.uniform(-20, 20, 3)]
            p70.children.append(_parsed_p("PostRotation", "Vector3D", "Vector", "", "DDD", post))
            p70.children.append(_parsed_p("RotationOrder", "enum", "", "", "I", [int(rng.integers(0, 6))]))
            p70.children.append(_parsed_p("RotationActive", "bool", "", "", "I", [1]))
        if o.name == "AnimationCurve":
            kt, kv = o.find("KeyTime"), o.find("KeyValueFloat")
            keep = np.r_[np.arange(0, len(kt.props[0]) - 1, 2), len(kt.props[0]) - 1]
            kt.props[0], kv.props[0] = kt.props[0][keep], kv.props[0][keep]
            o.find("KeyAttrRefCount").props[0] = np.array([len(keep)], np.int32)
    arm = w._model(4242, "Armature", "Null", (5.0, 0.0, 3.0), (30.0, 0.0, 10.0))
    for p in arm.children[1].children:
        if p.props[0][1] == b"Lcl Scaling":
            p.props[4:] = [w.D(1.5)] * 3
    for c in conns.children:
        if c.props[1] == root and c.props[2] == 0:
            c.props[2] = 4242
    nodes = [_to_nodes(c) for c in top.children]
    for n in nodes:
        if n.name == "Objects":
            n.children.append(arm)
        if n.name == "Connections":
            n.children.append(w.Node("C", w.S("OO"), w.L(4242), w.L(0)))
    return w.encode(nodes)


def _parsed_p(name, t, sub, flags, codes, values):
    from core_models.io.fbx_import import FbxNode

    return FbxNode("P", [name, t, sub, flags, *values], [], "SSSS" + codes)


def test_foreign_fbx_conventions_agree_with_ufbx(tmp_path):
    """Independent check of the FBX transform semantics: ufbx (strict) and our importer evaluate the same
    'foreign' file (see _foreign_fbx) to the same joint positions at every frame."""
    from core_models.export.fbx import build_fbx
    from tests.export.readers import ufbx_probe

    poses = test_poses(7, seed=10)
    path = tmp_path / "foreign.fbx"
    path.write_bytes(_foreign_fbx(build_fbx(poses, tiny_body(), fps=30)))
    u = ufbx_probe(path, tmp_path, 30.0, 7)
    m = load_motion(path)
    assert m.num_frames == 7 and not m.meta["bind_pose"]
    names = list(u["names"])
    ours = m.global_positions()[:, [m.index(n) for n in sk.JOINT_NAMES]]
    theirs = np.stack([u["world"][:, names.index(n), :, 3] for n in sk.JOINT_NAMES], 1)
    assert np.abs(ours - theirs).max() < 1e-5


def _encode_7500(top) -> bytes:
    """Re-encode a parsed FBX as version 7500 (64-bit node records, 25-byte end markers: FBX 2016+)."""
    from core_models.export import fbx as w

    enc = w._Encoder()
    enc.buf += w._HEADER + struct.pack("<I", 7500)

    def node(n):
        b = enc.buf
        start = len(b)
        name = n.name.encode()
        b += struct.pack("<QQQB", 0, len(n.props), 0, len(name)) + name
        p0 = len(b)
        for code, v in n.props:
            enc.prop(code, v)
        plen = len(b) - p0
        for c in n.children:
            node(c)
        if n.children or not n.props or n.name in w._ALWAYS_SENTINEL:
            b += b"\x00" * 25
        struct.pack_into("<QQQ", b, start, len(b), len(n.props), plen)

    for n in top:
        node(n)
    enc.buf += b"\x00" * 25 + w._FOOTER_ID + b"\x00" * 4
    enc.buf += b"\x00" * ((16 - len(enc.buf) % 16) % 16 or 16) + struct.pack("<I", 7500) + b"\x00" * 120
    return bytes(enc.buf + w._FOOTER_MAGIC)


def test_fbx_7500_64_bit_records(tmp_path):
    """FBX 2016+ files (version ≥ 7500: 64-bit record headers) read like 7.4, checked with ufbx too."""
    from core_models.export.fbx import build_fbx
    from core_models.io.fbx_import import parse_fbx
    from tests.export.readers import ufbx_probe

    poses = test_poses(3, seed=11)
    data = build_fbx(poses, tiny_body(), rig="mixamo", fps=30)
    path = tmp_path / "v7500.fbx"
    path.write_bytes(_encode_7500([_to_nodes(c) for c in parse_fbx(data).children]))
    u = ufbx_probe(path, tmp_path, 30.0, 3)
    m = load_motion(path)
    names = list(u["names"])
    ours = m.global_positions()[:, [m.index(n) for n in sk.JOINT_NAMES]]
    theirs = np.stack([u["world"][:, names.index("mixamorig:" + MIXAMO_NAMES[n]), :, 3] for n in sk.JOINT_NAMES], 1)
    assert np.abs(ours - theirs).max() < 1e-6
    ref = tmp_path / "v7400.fbx"
    ref.write_bytes(data)
    assert np.abs(ours - joints_of(ref, sk.JOINT_NAMES)).max() < 1e-12


def test_gltf_cubicspline_step_and_matrix_nodes(tmp_path):
    """What other glTF writers use: CUBICSPLINE samplers (value between two tangents), STEP, a node given as
    a matrix; sampled at the keys they give the same joints as the plain file."""
    from core_models.export.gltf import build_glb

    data = build_glb(test_poses(4, seed=12), tiny_body(), fps=30)
    ref = tmp_path / "ref.glb"
    ref.write_bytes(data)
    doc, binary = _split_glb(data)
    b = bytearray(binary)
    for s in doc["animations"][0]["samplers"][:5]:  # rotations of joints 0..4 → cubic spline with zero tangents
        acc = doc["accessors"][s["output"]]
        view = doc["bufferViews"][acc["bufferView"]]
        q = np.frombuffer(binary, np.float32, acc["count"] * 4, view["byteOffset"]).reshape(-1, 4)
        cubic = np.zeros((len(q), 3, 4), np.float32)
        cubic[:, 1] = q
        while len(b) % 4:
            b += b"\x00"
        doc["bufferViews"].append({"buffer": 0, "byteOffset": len(b), "byteLength": cubic.nbytes})
        b += cubic.tobytes()
        doc["accessors"].append({"bufferView": len(doc["bufferViews"]) - 1, "componentType": 5126,
                                 "count": 3 * len(q), "type": "VEC4"})
        s["output"], s["interpolation"] = len(doc["accessors"]) - 1, "CUBICSPLINE"
    doc["animations"][0]["samplers"][-1]["interpolation"] = "STEP"  # root translation
    n = doc["nodes"][7]
    M = np.eye(4)
    M[:3, :3] = np.asarray(quat_to_matrix(np.array(n.pop("rotation"), np.float64)))
    M[:3, 3] = n.pop("translation")
    n["matrix"] = [float(x) for x in M.T.reshape(-1)]
    doc["buffers"][0]["byteLength"] = len(b)
    path = tmp_path / "cubic.glb"
    path.write_bytes(_join_glb(doc, bytes(b)))
    assert np.abs(joints_of(path, sk.JOINT_NAMES) - joints_of(ref, sk.JOINT_NAMES)).max() < 1e-6


def test_mixamo_named_bvh_round_trip_within_1mm(anny, tmp_path):
    """A BVH with PoseTailor's Mixamo names retargets through the exact name map (was: generic name matching and
    a data calibration, 17.6 mm off on 300 frames)."""
    poses = test_poses(6, seed=13)
    a, b = tmp_path / "a.bvh", tmp_path / "b.bvh"
    export_poses(a, poses, anny, rig="mixamo", fps=30)
    clip = import_clip(a, rest_joints=anny.skinning.rest_joints)
    export_poses(b, clip.poses, anny, rig="mixamo", fps=30)
    names = ["mixamorig:" + MIXAMO_NAMES[n] for n in anny.skinning.joint_names]
    err = np.linalg.norm(joints_of(a, names) - joints_of(b, names), axis=-1)
    assert err.max() < 1e-3, err.max()


def test_fbx_without_animation_is_one_pose(tmp_path):
    from core_models.export import fbx as w
    from core_models.export.fbx import build_fbx
    from core_models.io.fbx_import import parse_fbx

    top = parse_fbx(build_fbx(test_poses(1, seed=14), tiny_body()))
    anim = ("AnimationStack", "AnimationLayer", "AnimationCurveNode", "AnimationCurve")
    objs = top.find("Objects")
    objs.children = [o for o in objs.children if o.name not in anim]
    path = tmp_path / "still.fbx"
    path.write_bytes(w.encode([_to_nodes(c) for c in top.children]))
    m = load_motion(path)
    assert m.num_frames == 1
    # no curves: the nodes' rest properties, i.e. the rest pose (the T-pose)
    assert np.abs(m.rotations - np.eye(3)).max() < 1e-6


def test_gltf_json_with_bin_file_next_to_it(tmp_path):
    from core_models.export.gltf import build_glb

    data = build_glb(test_poses(3, seed=15), tiny_body(), fps=30)
    doc, binary = _split_glb(data)
    (tmp_path / "clip.bin").write_bytes(binary)
    doc["buffers"][0]["uri"] = "clip.bin"
    (tmp_path / "clip.gltf").write_text(json.dumps(doc))
    glb = tmp_path / "clip.glb"
    glb.write_bytes(data)
    assert np.abs(joints_of(tmp_path / "clip.gltf", sk.JOINT_NAMES) - joints_of(glb, sk.JOINT_NAMES)).max() < 1e-12
    for uri in ("../clip.bin", "/etc/passwd", "https://example.com/x.bin", "missing.bin"):
        doc["buffers"][0]["uri"] = uri
        (tmp_path / "bad.gltf").write_text(json.dumps(doc))
        with pytest.raises(MotionImportError, match="buffer"):
            load_motion(tmp_path / "bad.gltf")
