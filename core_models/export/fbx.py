"""Binary FBX 7.4 writer (pure Python + numpy + zlib): skinned body mesh, LimbNode skeleton, animation.

Scene layout (see docs/RESEARCH.md §B.4 for the facts this follows):
  * ``Model::Body`` (Mesh, identity transform) ← ``Geometry::Body`` (triangles, per-vertex normals, UVs);
  * one ``Model::LimbNode`` per joint (+ ``NodeAttribute::LimbNode``), parented like the SMPL-H tree, each
    bone oriented along its limb (local +Y towards the child joint, Mixamo-style, so Blender's default import
    shows a proper armature; ``common.limb_orientations``): rest Lcl Translation = the offset from the parent
    in the parent bone's frame, rest Lcl Rotation = the bone's rest orientation relative to its parent;
  * ``Material::Skin`` (Phong, skin colour) on the mesh (``LayerElementMaterial``, all polygons);
  * ``Deformer::Skin`` with one ``SubDeformer::Cluster`` per bone: Indexes/Weights (dense, every non-zero
    weight), Transform = inverse(bone bind) · mesh bind, TransformLink = bone bind (column-major doubles);
  * ``Pose::BindPose`` (mesh + every bone at their global bind matrices);
  * ``AnimationStack``/``AnimationLayer``: per bone an ``R`` curve node (XYZ Euler degrees, unwrapped),
    the root also a ``T`` curve node; one key per exported frame (baked, linear); the scene's frame range
    (GlobalSettings TimeSpanStart/Stop) and rate (TimeMode, CustomFrameRate) match the clip;
  * a grounded export records its lift on the root bone (user property ``PoseTailorGroundOffset``, metres) so
    PoseTailor's importer can undo it.
Units: metres with UnitScaleFactor = 100 (1 unit = 100 cm); axes: Y up, Z front, X coord (right-handed).
"""
from __future__ import annotations

import struct
import zlib
from typing import Sequence

import numpy as np

from core_models.body.base import SkinningData
from core_models.export.common import (
    ExportError,
    ProgressFn,
    as_pose_batch,
    bone_names,
    check_fps,
    compute_frames,
    fbx_euler_deg,
    limb_orientations,
    report,
    rest_hand_of,
    rig_data,
    write_bytes_atomic,
)
from core_models.pose import Pose

FBX_VERSION = 7400
KTIME_PER_SECOND = 46186158000
CREATOR = "PoseTailor 0.1.0 FBX exporter"
# The FileId / CreationTime / footer id triple must be mutually consistent (the FBX SDK checks it).
_FILE_ID = bytes.fromhex("28b32aebb624ccc2bfc8b02aa92bfcf1")
_CREATION_TIME = "1970-01-01 10:00:00:000"
_FOOTER_ID = bytes.fromhex("fabcab09d0c8d466b176fb831cf7267e")
_FOOTER_MAGIC = bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")
_HEADER = b"Kaydara FBX Binary  \x00\x1a\x00"
_SENTINEL = b"\x00" * 13
_ZLIB_MIN_BYTES = 256
# Nodes that readers expect to carry a nested-list end marker even when they have no children.
_ALWAYS_SENTINEL = frozenset({"AnimationStack", "AnimationLayer"})

# FBX time modes (FbxTime::EMode) for the common rates; anything else is "custom" (14).
_TIME_MODES = {120.0: 1, 100.0: 2, 60.0: 3, 50.0: 4, 48.0: 5, 30.0: 6, 25.0: 10, 24.0: 11, 1000.0: 12,
               96.0: 15, 72.0: 16}


# --- binary encoding -----------------------------------------------------------------------------------

class Node:
    """An FBX node: name, typed properties [(code, value)], children."""

    __slots__ = ("name", "props", "children")

    def __init__(self, name: str, *props: tuple[str, object], children: list["Node"] | None = None):
        self.name = name
        self.props = list(props)
        self.children = children if children is not None else []

    def add(self, name: str, *props: tuple[str, object]) -> "Node":
        n = Node(name, *props)
        self.children.append(n)
        return n


# typed-property helpers
def I(v) -> tuple[str, object]:  # noqa: E743 - FBX type code names
    return ("I", int(v))


def L(v) -> tuple[str, object]:
    return ("L", int(v))


def D(v) -> tuple[str, object]:
    return ("D", float(v))


def S(v) -> tuple[str, object]:
    return ("S", v.encode("utf-8") if isinstance(v, str) else bytes(v))


def C(v) -> tuple[str, object]:
    return ("C", bool(v))


def R(v: bytes) -> tuple[str, object]:
    return ("R", bytes(v))


def A(code: str, arr) -> tuple[str, object]:
    """Array property: code in 'i' (int32), 'l' (int64), 'f' (float32), 'd' (float64), 'b' (bool)."""
    dt = {"i": "<i4", "l": "<i8", "f": "<f4", "d": "<f8", "b": "u1"}[code]
    return (code, np.ascontiguousarray(np.asarray(arr).reshape(-1), dtype=dt))


_SCALAR = {"Y": struct.Struct("<h"), "I": struct.Struct("<i"), "F": struct.Struct("<f"),
           "D": struct.Struct("<d"), "L": struct.Struct("<q")}


class _Encoder:
    def __init__(self, compress_level: int = 1):
        self.buf = bytearray()
        self.level = compress_level

    def prop(self, code: str, v) -> None:
        b = self.buf
        b += code.encode()
        if code in _SCALAR:
            b += _SCALAR[code].pack(v)
        elif code == "C":
            b += b"\x01" if v else b"\x00"
        elif code in ("S", "R"):
            b += struct.pack("<I", len(v))
            b += v
        elif code in "ilfdb":
            raw = v.tobytes()
            if len(raw) >= _ZLIB_MIN_BYTES:
                data = zlib.compress(raw, self.level)
                b += struct.pack("<III", v.size, 1, len(data))
                b += data
            else:
                b += struct.pack("<III", v.size, 0, len(raw))
                b += raw
        else:
            raise ValueError(f"unknown FBX property type {code!r}")

    def node(self, n: Node) -> None:
        b = self.buf
        start = len(b)
        name = n.name.encode()
        b += struct.pack("<IIIB", 0, len(n.props), 0, len(name))
        b += name
        p0 = len(b)
        for code, v in n.props:
            self.prop(code, v)
        plen = len(b) - p0
        for c in n.children:
            self.node(c)
        if n.children or not n.props or n.name in _ALWAYS_SENTINEL:
            b += _SENTINEL
        struct.pack_into("<III", b, start, len(b), len(n.props), plen)


def encode(top: Sequence[Node], version: int = FBX_VERSION, compress_level: int = 1) -> bytes:
    """Serialise top-level nodes as a binary FBX file (32-bit offsets, versions < 7500)."""
    if version >= 7500:
        raise ValueError("this encoder writes FBX versions below 7500 (32-bit offsets)")
    enc = _Encoder(compress_level)
    enc.buf += _HEADER + struct.pack("<I", version)
    for n in top:
        enc.node(n)
    b = enc.buf
    b += _SENTINEL
    b += _FOOTER_ID
    b += b"\x00" * 4
    pad = (16 - len(b) % 16) % 16
    b += b"\x00" * (pad or 16)
    b += struct.pack("<I", version)
    b += b"\x00" * 120
    b += _FOOTER_MAGIC
    return bytes(b)


# --- scene helpers -------------------------------------------------------------------------------------

def _P(name: str, type_: str, sub: str, flags: str, *values: tuple[str, object]) -> Node:
    return Node("P", S(name), S(type_), S(sub), S(flags), *values)


def _props70(*ps: Node) -> Node:
    return Node("Properties70", children=list(ps))


def _obj_name(name: str, cls: str) -> tuple[str, object]:
    return ("S", name.encode("utf-8") + b"\x00\x01" + cls.encode())


def _matrix(m: np.ndarray) -> tuple[str, object]:
    """4x4 (column-vector convention, translation in the last column) → 16 doubles, column-major."""
    return A("d", np.asarray(m, dtype=np.float64).T.reshape(16))


def ktime(seconds) -> np.ndarray:
    return np.round(np.asarray(seconds, dtype=np.float64) * KTIME_PER_SECOND).astype(np.int64)


class _Ids:
    def __init__(self, start: int = 1_000_000):
        self.n = start

    def __call__(self) -> int:
        self.n += 1
        return self.n


def _triangles_pvi(faces: np.ndarray) -> np.ndarray:
    pvi = np.asarray(faces, dtype=np.int32).copy()
    pvi[:, 2] = -pvi[:, 2] - 1  # last corner of each polygon is written as ~index
    return pvi.reshape(-1)


# --- the writer ----------------------------------------------------------------------------------------

class _Doc:
    """The Objects and Connections being built, object ids, and the per-kind object counts (Definitions)."""

    def __init__(self) -> None:
        self.ids = _Ids()
        self.objects = Node("Objects")
        self.conns = Node("Connections")
        self.counts: dict[str, int] = {}

    def add(self, node: Node, kind: str) -> Node:
        self.objects.children.append(node)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return node

    def oo(self, child: int, parent: int) -> None:
        self.conns.add("C", S("OO"), L(child), L(parent))

    def op(self, child: int, parent: int, prop: str) -> None:
        self.conns.add("C", S("OP"), L(child), L(parent), S(prop))


def _model(node_id: int, name: str, kind: str, t, r=(0.0, 0.0, 0.0), *extra: Node) -> Node:
    """A Model node (LimbNode or Mesh) at local translation ``t`` and rotation ``r`` (XYZ Euler degrees)."""
    m = Node("Model", L(node_id), _obj_name(name, "Model"), S(kind))
    m.add("Version", I(232))
    m.children.append(_props70(
        _P("InheritType", "enum", "", "", I(1)),
        _P("DefaultAttributeIndex", "int", "Integer", "", I(0)),
        _P("Lcl Translation", "Lcl Translation", "", "A", D(t[0]), D(t[1]), D(t[2])),
        _P("Lcl Rotation", "Lcl Rotation", "", "A", D(r[0]), D(r[1]), D(r[2])),
        _P("Lcl Scaling", "Lcl Scaling", "", "A", D(1), D(1), D(1)),
        *extra,
    ))
    m.add("Shading", C(True))
    m.add("Culling", S("CullingOff"))
    return m


def _add_bones(doc: _Doc, names: list[str], parents, frames, ground_offset: float = 0.0,
               hand_rest: np.ndarray | None = None) -> list[int]:
    """A LimbNode attribute + model per bone at its rest transform, parented; → the bone model ids."""
    J = len(names)
    offsets = frames.offsets
    rest_r = np.zeros((J, 3)) if frames.rest_local_rot is None else fbx_euler_deg(frames.rest_local_rot[None])[0]
    lift = [_P("PoseTailorGroundOffset", "double", "Number", "U", D(ground_offset))] if ground_offset else []
    if hand_rest is not None:  # the fingers' bind hand pose, for PoseTailor's importer (core_models.io.hands_import)
        text = " ".join(f"{float(v):.9g}" for v in np.asarray(hand_rest).reshape(-1))
        lift.append(_P("PoseTailorHandRestPose", "KString", "", "U", S(text)))
    bone_ids = [doc.ids() for _ in range(J)]
    attr_ids = [doc.ids() for _ in range(J)]
    for j in range(J):
        a = Node("NodeAttribute", L(attr_ids[j]), _obj_name(names[j], "NodeAttribute"), S("LimbNode"))
        a.children.append(_props70(_P("Size", "double", "Number", "", D(10.0))))
        a.add("TypeFlags", S("Skeleton"))
        doc.add(a, "NodeAttribute")
        doc.add(_model(bone_ids[j], names[j], "LimbNode", offsets[j], rest_r[j], *(lift if j == 0 else [])),
                "Model")
        doc.oo(attr_ids[j], bone_ids[j])
        doc.oo(bone_ids[j], 0 if parents[j] < 0 else bone_ids[parents[j]])
    return bone_ids


def _add_skinned_mesh(doc: _Doc, data: SkinningData, mesh_name: str, names: list[str], bone_ids: list[int],
                      rest_world: np.ndarray, progress: ProgressFn | None) -> tuple[int, np.ndarray]:
    """Geometry + mesh model + skin with one cluster per bone; → (mesh model id, its bind matrix)."""
    mesh_id, geom_id, skin_id = doc.ids(), doc.ids(), doc.ids()
    doc.add(_geometry(geom_id, mesh_name, data), "Geometry")
    report(progress, 0.25)
    doc.add(_model(mesh_id, mesh_name, "Mesh", (0, 0, 0)), "Model")
    doc.oo(mesh_id, 0)
    doc.oo(geom_id, mesh_id)
    mat_id = doc.ids()
    doc.add(_material(mat_id), "Material")
    doc.oo(mat_id, mesh_id)
    skin = Node("Deformer", L(skin_id), _obj_name("Skin", "Deformer"), S("Skin"))
    skin.add("Version", I(101))
    skin.add("Link_DeformAcuracy", D(50.0))
    skin.add("SkinningType", S("Linear"))
    doc.add(skin, "Deformer")
    doc.oo(skin_id, geom_id)
    mesh_bind = np.eye(4)
    W = np.asarray(data.weights, dtype=np.float64)
    for j in range(len(names)):
        cid = doc.ids()
        idx = np.nonzero(W[:, j] > 0.0)[0]
        c = Node("Deformer", L(cid), _obj_name(names[j], "SubDeformer"), S("Cluster"))
        c.add("Version", I(100))
        c.add("UserData", S(""), S(""))
        c.add("Indexes", A("i", idx.astype(np.int32)))
        c.add("Weights", A("d", W[idx, j]))
        bind = rest_world[j]
        c.add("Transform", _matrix(np.linalg.inv(bind) @ mesh_bind))
        c.add("TransformLink", _matrix(bind))
        doc.add(c, "Deformer")
        doc.oo(cid, skin_id)
        doc.oo(bone_ids[j], cid)
    report(progress, 0.5)
    return mesh_id, mesh_bind


#: skin colour of the exported material (linear RGB), the same as the GLB's base colour
SKIN_COLOR = (0.8, 0.62, 0.52)


def _material(mat_id: int) -> Node:
    """A Phong material with a skin-coloured diffuse, little specular (FBX SDK / Blender / ufbx read it)."""
    m = Node("Material", L(mat_id), _obj_name("Skin", "Material"), S(""))
    m.add("Version", I(102))
    m.add("ShadingModel", S("phong"))
    m.add("MultiLayer", I(0))
    r, g, b = SKIN_COLOR
    m.children.append(_props70(
        _P("ShadingModel", "KString", "", "", S("phong")),
        _P("DiffuseColor", "Color", "", "A", D(r), D(g), D(b)),
        _P("DiffuseFactor", "Number", "", "A", D(1.0)),
        _P("AmbientColor", "Color", "", "A", D(0.0), D(0.0), D(0.0)),
        _P("SpecularColor", "Color", "", "A", D(0.2), D(0.2), D(0.2)),
        _P("SpecularFactor", "Number", "", "A", D(0.3)),
        _P("Shininess", "Number", "", "A", D(12.0)),
        _P("ShininessExponent", "Number", "", "A", D(12.0)),
        _P("Opacity", "Number", "", "A", D(1.0)),
        _P("Diffuse", "Vector3D", "Vector", "", D(r), D(g), D(b)),
        _P("Specular", "Vector3D", "Vector", "", D(0.06), D(0.06), D(0.06)),
    ))
    return m


def _add_bind_pose(doc: _Doc, pose_nodes: list[tuple[int, np.ndarray]]) -> None:
    bp = Node("Pose", L(doc.ids()), _obj_name("BindPose", "Pose"), S("BindPose"))
    bp.add("Type", S("BindPose"))
    bp.add("Version", I(100))
    bp.add("NbPoseNodes", I(len(pose_nodes)))
    for nid, mat in pose_nodes:
        pn = bp.add("PoseNode")
        pn.add("Node", L(nid))
        pn.add("Matrix", _matrix(mat))
    doc.add(bp, "Pose")


def _add_animation(doc: _Doc, frames, fps: float, take_name: str, bone_ids: list[int],
                   progress: ProgressFn | None) -> int:
    """Stack + layer + a T curve node on the root and an R curve node per bone; → the stop time (KTime)."""
    N = frames.num_frames
    times = ktime(np.arange(N) / fps)
    t_stop = int(times[-1])
    stack_id, layer_id = doc.ids(), doc.ids()
    st = Node("AnimationStack", L(stack_id), _obj_name(take_name, "AnimStack"), S(""))
    st.children.append(_props70(
        _P("LocalStart", "KTime", "Time", "", L(0)), _P("LocalStop", "KTime", "Time", "", L(t_stop)),
        _P("ReferenceStart", "KTime", "Time", "", L(0)), _P("ReferenceStop", "KTime", "Time", "", L(t_stop)),
    ))
    doc.add(st, "AnimationStack")
    doc.add(Node("AnimationLayer", L(layer_id), _obj_name("BaseLayer", "AnimLayer"), S("")), "AnimationLayer")
    doc.oo(layer_id, stack_id)
    euler = fbx_euler_deg(frames.local_rot)  # (N,J,3) degrees
    report(progress, 0.65)
    keys = (A("l", times), A("i", np.array([0x104], np.int32)), A("f", np.zeros(4, np.float32)),
            A("i", np.array([N], np.int32)))
    _add_curve_node(doc, layer_id, keys, bone_ids[0], "T", "Lcl Translation", frames.local_trans[:, 0])
    for j in range(len(bone_ids)):
        _add_curve_node(doc, layer_id, keys, bone_ids[j], "R", "Lcl Rotation", euler[:, j])
    report(progress, 0.8)
    return t_stop


def _add_curve_node(doc: _Doc, layer_id: int, keys, bone: int, kind: str, prop: str, values: np.ndarray) -> None:
    """An AnimationCurveNode on ``bone``'s ``prop`` with an X/Y/Z curve of ``values`` (N,3)."""
    key_time, key_flags, key_data, key_ref = keys
    cn_id = doc.ids()
    doc.add(Node("AnimationCurveNode", L(cn_id), _obj_name(kind, "AnimCurveNode"), S(""),
                 children=[_props70(*[_P(f"d|{ax}", "Number", "", "A", D(values[0, k]))
                                      for k, ax in enumerate("XYZ")])]), "AnimationCurveNode")
    doc.oo(cn_id, layer_id)
    doc.op(cn_id, bone, prop)
    for k, ax in enumerate("XYZ"):
        cv_id = doc.ids()
        cv = Node("AnimationCurve", L(cv_id), _obj_name("", "AnimCurve"), S(""))
        cv.add("Default", D(values[0, k]))
        cv.add("KeyVer", I(4009))
        cv.add("KeyTime", key_time)
        cv.add("KeyValueFloat", A("f", values[:, k].astype(np.float32)))
        cv.add("KeyAttrFlags", key_flags)
        cv.add("KeyAttrDataFloat", key_data)
        cv.add("KeyAttrRefCount", key_ref)
        doc.add(cv, "AnimationCurve")
        doc.op(cv_id, cn_id, f"d|{ax}")


def build_fbx(poses, body: SkinningData | object, *, rig: str = "smplh", fps: float = 30.0,
              mesh_name: str = "Body", take_name: str = "PoseTailor", compress_level: int = 1,
              include_mesh: bool = True, progress: ProgressFn | None = None, ground_offset: float = 0.0,
              orient_bones: bool = True) -> bytes:
    """The FBX file for ``poses`` (a Pose, single or (N,)) on ``body`` (a BodyModel or SkinningData).
    Stages: bones → skinned mesh → bind pose → animation → top-level sections → binary encoding."""
    poses = as_pose_batch(poses, rest_hand_of(body))
    data = rig_data(body, poses)  # 52 bones (fingers) when the poses carry a hand_pose
    fps = check_fps(fps)
    names = bone_names(data.joint_names, rig)
    orient = limb_orientations(data.rest_joints, data.parents, data.joint_names) if orient_bones else None
    frames = compute_frames(poses, data.rest_joints, data.parents, orient,
                            rest_hand=data.hand_rest_pose if len(data.joint_names) == 52 else None)
    report(progress, 0.05)
    doc = _Doc()
    bone_ids = _add_bones(doc, names, data.parents, frames, ground_offset,
                          data.hand_rest_pose if len(names) == 52 else None)
    pose_nodes: list[tuple[int, np.ndarray]] = []
    if include_mesh:
        pose_nodes.append(_add_skinned_mesh(doc, data, mesh_name, names, bone_ids, frames.rest_world, progress))
    pose_nodes += [(bone_ids[j], frames.rest_world[j]) for j in range(len(names))]
    _add_bind_pose(doc, pose_nodes)
    t_stop = _add_animation(doc, frames, fps, take_name, bone_ids, progress)
    top = [
        _header_extension(),
        Node("FileId", R(_FILE_ID)),
        Node("CreationTime", S(_CREATION_TIME)),
        Node("Creator", S(CREATOR)),
        _global_settings(fps, t_stop),
        _documents(take_name),
        Node("References"),
        _definitions(doc.counts),
        doc.objects,
        doc.conns,
        _takes(take_name, t_stop),
    ]
    out = encode(top, compress_level=compress_level)
    report(progress, 0.95)
    return out


def _geometry(geom_id: int, name: str, data: SkinningData) -> Node:
    g = Node("Geometry", L(geom_id), _obj_name(name, "Geometry"), S("Mesh"))
    g.add("GeometryVersion", I(124))
    g.add("Vertices", A("d", data.rest_vertices.astype(np.float64)))
    g.add("PolygonVertexIndex", A("i", _triangles_pvi(data.faces)))
    layer = Node("Layer", I(0))
    layer.add("Version", I(100))
    if data.rest_normals is not None and len(data.rest_normals) == len(data.rest_vertices):
        ln = g.add("LayerElementNormal", I(0))
        ln.add("Version", I(101))
        ln.add("Name", S(""))
        ln.add("MappingInformationType", S("ByVertice"))
        ln.add("ReferenceInformationType", S("Direct"))
        ln.add("Normals", A("d", data.rest_normals.astype(np.float64)))
        le = layer.add("LayerElement")
        le.add("Type", S("LayerElementNormal"))
        le.add("TypedIndex", I(0))
    if data.uvs is not None and data.face_uvs is not None and data.face_uvs.shape == data.faces.shape:
        lu = g.add("LayerElementUV", I(0))
        lu.add("Version", I(101))
        lu.add("Name", S("UVMap"))
        lu.add("MappingInformationType", S("ByPolygonVertex"))
        lu.add("ReferenceInformationType", S("IndexToDirect"))
        lu.add("UV", A("d", data.uvs.astype(np.float64)))
        lu.add("UVIndex", A("i", data.face_uvs.astype(np.int32)))
        le = layer.add("LayerElement")
        le.add("Type", S("LayerElementUV"))
        le.add("TypedIndex", I(0))
    lm = g.add("LayerElementMaterial", I(0))
    lm.add("Version", I(101))
    lm.add("Name", S(""))
    lm.add("MappingInformationType", S("AllSame"))
    lm.add("ReferenceInformationType", S("IndexToDirect"))
    lm.add("Materials", A("i", np.zeros(1, np.int32)))
    le = layer.add("LayerElement")
    le.add("Type", S("LayerElementMaterial"))
    le.add("TypedIndex", I(0))
    g.children.append(layer)
    return g


def _header_extension() -> Node:
    h = Node("FBXHeaderExtension")
    h.add("FBXHeaderVersion", I(1003))
    h.add("FBXVersion", I(FBX_VERSION))
    h.add("EncryptionType", I(0))
    ts = h.add("CreationTimeStamp")
    for k, v in (("Version", 1000), ("Year", 1970), ("Month", 1), ("Day", 1), ("Hour", 10), ("Minute", 0),
                 ("Second", 0), ("Millisecond", 0)):
        ts.add(k, I(v))
    h.add("Creator", S(CREATOR))
    return h


def _global_settings(fps: float, t_stop: int) -> Node:
    mode = _TIME_MODES.get(float(fps), 14)
    g = Node("GlobalSettings")
    g.add("Version", I(1000))
    g.children.append(_props70(
        _P("UpAxis", "int", "Integer", "", I(1)),
        _P("UpAxisSign", "int", "Integer", "", I(1)),
        _P("FrontAxis", "int", "Integer", "", I(2)),
        _P("FrontAxisSign", "int", "Integer", "", I(1)),
        _P("CoordAxis", "int", "Integer", "", I(0)),
        _P("CoordAxisSign", "int", "Integer", "", I(1)),
        _P("OriginalUpAxis", "int", "Integer", "", I(1)),
        _P("OriginalUpAxisSign", "int", "Integer", "", I(1)),
        _P("UnitScaleFactor", "double", "Number", "", D(100.0)),
        _P("OriginalUnitScaleFactor", "double", "Number", "", D(100.0)),
        _P("AmbientColor", "ColorRGB", "Color", "", D(0), D(0), D(0)),
        _P("DefaultCamera", "KString", "", "", S("Producer Perspective")),
        _P("TimeMode", "enum", "", "", I(mode)),
        _P("TimeProtocol", "enum", "", "", I(2)),
        _P("SnapOnFrameMode", "enum", "", "", I(0)),
        _P("TimeSpanStart", "KTime", "Time", "", L(0)),
        _P("TimeSpanStop", "KTime", "Time", "", L(t_stop)),
        _P("CustomFrameRate", "double", "Number", "", D(fps)),
        _P("CurrentTimeMarker", "int", "Integer", "", I(-1)),
    ))
    return g


def _documents(take_name: str) -> Node:
    d = Node("Documents")
    d.add("Count", I(1))
    doc = Node("Document", L(999_999), S("Scene"), S("Scene"))
    doc.children.append(_props70(
        _P("SourceObject", "object", "", ""),
        _P("ActiveAnimStackName", "KString", "", "", S(take_name)),
    ))
    doc.add("RootNode", L(0))
    d.children.append(doc)
    return d


def _definitions(counts: dict[str, int]) -> Node:
    d = Node("Definitions")
    d.add("Version", I(100))
    kinds = [("GlobalSettings", 1)] + list(counts.items())
    d.add("Count", I(sum(k for _, k in kinds)))
    for kind, k in kinds:
        ot = d.add("ObjectType", S(kind))
        ot.add("Count", I(k))
    return d


def _takes(take_name: str, t_stop: int) -> Node:
    t = Node("Takes")
    t.add("Current", S(take_name))
    take = t.add("Take", S(take_name))
    take.add("FileName", S(take_name.replace(" ", "_") + ".tak"))
    take.add("LocalTime", L(0), L(t_stop))
    take.add("ReferenceTime", L(0), L(t_stop))
    return t


def write_fbx(path, poses: Pose, body, *, rig: str = "smplh", fps: float = 30.0,
              progress: ProgressFn | None = None, **kwargs) -> str:
    """Write ``poses`` on ``body`` to ``path`` as binary FBX 7.4 (atomic: temp file + os.replace)."""
    data = build_fbx(poses, body, rig=rig, fps=fps, progress=progress, **kwargs)
    p = write_bytes_atomic(path, data)
    report(progress, 1.0)
    return str(p)


__all__ = ["build_fbx", "write_fbx", "encode", "Node", "KTIME_PER_SECOND", "ExportError"]
