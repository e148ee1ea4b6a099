"""FBX import (binary FBX 7.x, our own reader: struct + zlib + numpy, no SDK, nothing executed).

What is read: the skeleton (``Model`` nodes of type LimbNode, their Null/Root ancestors' transforms included,
the largest LimbNode tree when there are several), its rest pose (``Pose::BindPose`` matrices where every
bone has one, else the nodes' own Lcl properties) and the first animation stack's first layer: ``Lcl
Translation`` / ``Lcl Rotation`` / ``Lcl Scaling`` curves, sampled at the file's frame rate (GlobalSettings
TimeMode / CustomFrameRate) with linear interpolation between keys. Node transforms follow FBX's
``T · Rpre · R · Rpostᵀ · S`` (rotation order from RotationOrder; pivots and offsets are not read: exporters
of skeletons leave them at zero). Axes (UpAxis/FrontAxis/CoordAxis) and UnitScaleFactor are converted to
PoseTailor's y-up metres; a ``PoseTailorGroundOffset`` on the root (our grounded exports) is undone.

The reader checks every length and offset against the file, caps arrays, nesting and frame counts, and turns
anything malformed into :class:`MotionImportError`. ASCII FBX is refused with a message saying so.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core_models.io.motion import Motion, MotionImportError
from core_models.io.scene_motion import (
    MAX_JOINTS,
    interp_keys,
    largest_tree,
    motion_from_world,
    sample_times,
    skeleton_order,
)
from core_models.pose import euler_to_matrix

MAGIC = b"Kaydara FBX Binary  \x00"
KTIME_PER_SECOND = 46186158000
MAX_DEPTH = 64
MAX_ARRAY_BYTES = 256 * 1024 * 1024
MAX_NODES = 2_000_000
_TIME_MODE_FPS = {1: 120.0, 2: 100.0, 3: 60.0, 4: 50.0, 5: 48.0, 6: 30.0, 7: 30.0, 8: 29.97, 9: 29.97,
                  10: 25.0, 11: 24.0, 12: 1000.0, 13: 23.976, 15: 96.0, 16: 72.0, 17: 59.94, 18: 119.88}
_ROT_ORDERS = ("xyz", "xzy", "yzx", "yxz", "zxy", "zyx", "xyz")  # FBX EOrder → extrinsic sequence
_SCALAR = {"Y": "<h", "I": "<i", "F": "<f", "D": "<d", "L": "<q"}
_ARRAY = {"f": "<f4", "d": "<f8", "l": "<i8", "i": "<i4", "b": "u1", "c": "u1"}


@dataclass
class FbxNode:
    name: str
    props: list = field(default_factory=list)
    children: list["FbxNode"] = field(default_factory=list)
    codes: str = ""  # the FBX type code of each property ("I", "D", "S", "d", ...)

    def find(self, name: str) -> "FbxNode | None":
        return next((c for c in self.children if c.name == name), None)

    def all(self, name: str) -> list["FbxNode"]:
        return [c for c in self.children if c.name == name]


class _Reader:
    def __init__(self, data: bytes, where: str):
        self.data = data
        self.where = where
        self.nodes = 0
        if len(data) < 27 or not data.startswith(MAGIC):
            if data.lstrip()[:1] in (b";", b"F") and b"FBXHeaderExtension" in data[:4096]:
                raise MotionImportError(f"{where}: ASCII FBX is not supported; export it from your tool as "
                                        "binary FBX")
            raise MotionImportError(f"{where}: not a binary FBX file (no Kaydara header)")
        self.version = struct.unpack_from("<I", data, 23)[0]
        if not (7000 <= self.version < 8000):
            raise MotionImportError(f"{where}: unsupported FBX version {self.version}")
        self.wide = self.version >= 7500

    def fail(self, what: str, at: int) -> MotionImportError:
        return MotionImportError(f"{self.where}: corrupt FBX ({what} at byte {at})")

    def unpack(self, fmt: str, at: int):
        size = struct.calcsize(fmt)
        if at < 0 or at + size > len(self.data):
            raise self.fail("truncated", at)
        return struct.unpack_from(fmt, self.data, at)

    def top(self) -> FbxNode:
        root = FbxNode("")
        pos = 27
        while True:
            node, pos = self.node(pos, 0, len(self.data))
            if node is None:
                return root
            root.children.append(node)

    def node(self, pos: int, depth: int, limit: int):
        if depth > MAX_DEPTH:
            raise self.fail("nesting too deep", pos)
        hdr = "<QQQB" if self.wide else "<IIIB"
        end, nprops, plen, nlen = self.unpack(hdr, pos)
        pos += struct.calcsize(hdr)
        if end == 0:
            return None, pos
        if not (pos < end <= limit) or nprops > plen:
            raise self.fail("bad node length", pos)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail("too many nodes", pos)
        name = self.data[pos:pos + nlen].decode("latin-1")
        pos += nlen
        pend = pos + plen
        if pend > end:
            raise self.fail("property list overruns its node", pos)
        n = FbxNode(name)
        for _ in range(nprops):
            code = chr(self.data[pos]) if pos < pend else "?"
            v, pos = self.prop(pos, pend)
            n.props.append(v)
            n.codes += code
        pos = pend
        while pos < end:
            child, pos = self.node(pos, depth + 1, end)
            if child is None:
                break
            n.children.append(child)
        return n, end

    def prop(self, pos: int, limit: int):
        if pos >= limit:
            raise self.fail("property list truncated", pos)
        code = chr(self.data[pos])
        pos += 1
        if code in _SCALAR:
            (v,) = self.unpack(_SCALAR[code], pos)
            return v, pos + struct.calcsize(_SCALAR[code])
        if code == "C":
            (v,) = self.unpack("<B", pos)
            return bool(v), pos + 1
        if code in ("S", "R"):
            (ln,) = self.unpack("<I", pos)
            if pos + 4 + ln > limit:
                raise self.fail("string overruns its node", pos)
            raw = self.data[pos + 4:pos + 4 + ln]
            return (raw.decode("utf-8", "replace") if code == "S" else raw), pos + 4 + ln
        if code in _ARRAY:
            return self.array(code, pos, limit)
        raise self.fail(f"unknown property type {code!r}", pos - 1)

    def array(self, code: str, pos: int, limit: int):
        count, enc, clen = self.unpack("<III", pos)
        pos += 12
        if pos + clen > limit:
            raise self.fail("array overruns its node", pos)
        dt = np.dtype(_ARRAY[code])
        nbytes = count * dt.itemsize
        if nbytes > MAX_ARRAY_BYTES:
            raise self.fail(f"array of {count} values is too large", pos)
        raw = self.data[pos:pos + clen]
        if enc == 1:
            try:
                d = zlib.decompressobj()
                raw = d.decompress(raw, nbytes + 1)
            except zlib.error:
                raise self.fail("bad compressed array", pos) from None
        elif enc != 0:
            raise self.fail(f"unknown array encoding {enc}", pos)
        if len(raw) != nbytes:
            raise self.fail(f"array holds {len(raw)} bytes, expected {nbytes}", pos)
        return np.frombuffer(raw, dtype=dt).copy(), pos + clen


def parse_fbx(data: bytes, where: str = "FBX") -> FbxNode:
    """Binary FBX bytes → the node tree (a nameless root holding the top-level nodes)."""
    return _Reader(data, where).top()


# --- scene --------------------------------------------------------------------------------------------

def _props70(node: FbxNode) -> dict[str, list]:
    p70 = node.find("Properties70") or node.find("Properties60")
    out: dict[str, list] = {}
    for p in (p70.children if p70 else []):
        if p.props and isinstance(p.props[0], str):
            out[p.props[0]] = p.props[4:] if p.name == "P" else p.props[3:]
    return out


def _vec3(props: dict, key: str, default) -> np.ndarray:
    v = props.get(key)
    if v is None or len(v) < 3:
        return np.asarray(default, np.float64)
    try:
        a = np.array([float(x) for x in v[:3]], np.float64)
    except (TypeError, ValueError):
        return np.asarray(default, np.float64)
    return a


def _num(props: dict, key: str, default: float) -> float:
    v = props.get(key)
    try:
        return float(v[0]) if v else default
    except (TypeError, ValueError):
        return default


@dataclass
class _Model:
    uid: int
    name: str
    kind: str
    props: dict
    parent: int = 0  # uid of the parent model (0: scene root)
    curves: dict = field(default_factory=dict)  # "T"/"R"/"S" → [(times, values) | None]*3


def _local(m: _Model, T: np.ndarray, R: np.ndarray, S: np.ndarray) -> np.ndarray:
    """(F,4,4) local matrices from (F,3) translation, rotation (degrees) and scaling."""
    order = _ROT_ORDERS[int(_num(m.props, "RotationOrder", 0)) % len(_ROT_ORDERS)]
    pre = euler_to_matrix(_vec3(m.props, "PreRotation", (0, 0, 0)), "xyz", degrees=True)
    post = euler_to_matrix(_vec3(m.props, "PostRotation", (0, 0, 0)), "xyz", degrees=True)
    ang = R[:, ["xyz".index(a) for a in order]]  # Lcl Rotation holds (x, y, z); the sequence wants its own order
    rot = pre @ np.asarray(euler_to_matrix(ang, order, degrees=True)) @ post.T
    M = np.zeros((len(T), 4, 4))
    M[:, :3, :3] = rot * S[:, None, :]
    M[:, :3, 3] = T
    M[:, 3, 3] = 1.0
    return M


def _channels(m: _Model, times: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F,3) T, R, S of a model at ``times`` (None: its static Lcl values, one frame)."""
    out = []
    for key, prop, default in (("T", "Lcl Translation", (0, 0, 0)), ("R", "Lcl Rotation", (0, 0, 0)),
                               ("S", "Lcl Scaling", (1, 1, 1))):
        base = _vec3(m.props, prop, default)
        n = 1 if times is None else len(times)
        v = np.tile(base, (n, 1))
        if times is not None:
            for k, c in enumerate(m.curves.get(key, (None, None, None))):
                if c is not None:
                    v[:, k] = interp_keys(c[0], c[1], times)
        out.append(v)
    return out[0], out[1], out[2]


def _world(models: list[_Model], index: dict[int, int], times: np.ndarray | None) -> np.ndarray:
    """(F,M,4,4) world matrices of every model (parents first: ``models`` is in topological order)."""
    locs = [_local(m, *_channels(m, times)) for m in models]
    W = np.empty((len(locs[0]), len(models), 4, 4))
    for i, m in enumerate(models):
        p = index.get(m.parent)
        W[:, i] = locs[i] if p is None else W[:, p] @ locs[i]
    return W


def _name(v) -> str:
    s = v if isinstance(v, str) else ""
    return s.split("\x00\x01")[0]


def _objects(top: FbxNode, where: str):
    """(models by uid, curve nodes by uid, curves by uid, anim stacks [(uid, props)], layers uid list, bind
    matrices by model uid)."""
    objs = top.find("Objects")
    if objs is None:
        raise MotionImportError(f"{where}: the FBX has no Objects section")
    models: dict[int, _Model] = {}
    cnodes: dict[int, dict] = {}
    curves: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    stacks: list[tuple[int, dict]] = []
    layers: list[int] = []
    bind: dict[int, np.ndarray] = {}
    for o in objs.children:
        if len(o.props) < 2 or not isinstance(o.props[0], int):
            continue
        uid = int(o.props[0])
        if o.name == "Model":
            kind = o.props[2] if len(o.props) > 2 and isinstance(o.props[2], str) else ""
            models[uid] = _Model(uid, _name(o.props[1]), kind, _props70(o))
        elif o.name == "AnimationCurveNode":
            cnodes[uid] = {"props": _props70(o), "curves": {}}
        elif o.name == "AnimationCurve":
            kt, kv = o.find("KeyTime"), o.find("KeyValueFloat")
            if kt and kv and kt.props and kv.props and isinstance(kt.props[0], np.ndarray) \
                    and isinstance(kv.props[0], np.ndarray):
                with np.errstate(invalid="ignore", over="ignore"):
                    t = kt.props[0].astype(np.float64) / KTIME_PER_SECOND
                    v = kv.props[0].astype(np.float64)
                if len(t) != len(v) or len(t) == 0:
                    raise MotionImportError(f"{where}: an animation curve has {len(t)} key times and "
                                            f"{len(v)} values")
                if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
                    raise MotionImportError(f"{where}: an animation curve contains NaN or infinite values")
                order = np.argsort(t, kind="stable")
                curves[uid] = (t[order], v[order])
        elif o.name == "AnimationStack":
            stacks.append((uid, _props70(o)))
        elif o.name == "AnimationLayer":
            layers.append(uid)
        elif o.name == "Pose" and len(o.props) > 2 and o.props[2] == "BindPose":
            for pn in o.all("PoseNode"):
                nd, mx = pn.find("Node"), pn.find("Matrix")
                if nd and mx and nd.props and mx.props and isinstance(mx.props[0], np.ndarray) \
                        and mx.props[0].size == 16:
                    bind[int(nd.props[0])] = mx.props[0].astype(np.float64).reshape(4, 4).T
    return models, cnodes, curves, stacks, layers, bind


def _connect(top: FbxNode, models, cnodes, curves, stacks, layers) -> None:
    """Apply the Connections: model parents, curves → curve nodes → model properties (first stack's first
    layer only)."""
    conns = top.find("Connections")
    links = [c.props for c in (conns.children if conns else []) if len(c.props) >= 3]
    stack_ids = {s for s, _ in stacks[:1]}
    layer = next((lp[1] for lp in links if lp[0] == "OO" and lp[2] in stack_ids and lp[1] in set(layers)), None)
    used_cn = {lp[1] for lp in links if lp[0] == "OO" and lp[2] == layer and lp[1] in cnodes}
    for lp in links:
        kind, child, parent = lp[0], lp[1], lp[2]
        if kind == "OO" and child in models and (parent in models or parent == 0):
            models[child].parent = parent
        elif kind == "OP" and child in curves and parent in cnodes and len(lp) > 3:
            axis = str(lp[3])[-1:].upper()
            if axis in "XYZ":
                cnodes[parent]["curves"]["XYZ".index(axis)] = curves[child]
    for lp in links:
        if lp[0] == "OP" and lp[1] in used_cn and lp[2] in models and len(lp) > 3:
            key = {"Lcl Translation": "T", "Lcl Rotation": "R", "Lcl Scaling": "S"}.get(str(lp[3]))
            if key:
                c = cnodes[lp[1]]["curves"]
                models[lp[2]].curves[key] = [c.get(k) for k in range(3)]


def _axes(top: FbxNode) -> tuple[np.ndarray, float]:
    """(file → y-up metres matrix, frame rate) from GlobalSettings."""
    gs = top.find("GlobalSettings")
    p = _props70(gs) if gs else {}
    A = np.zeros((3, 3))
    for row, (ax, sg, dflt) in enumerate((("CoordAxis", "CoordAxisSign", 0), ("UpAxis", "UpAxisSign", 1),
                                          ("FrontAxis", "FrontAxisSign", 2))):
        a = int(_num(p, ax, dflt))
        s = 1.0 if _num(p, sg, 1) >= 0 else -1.0
        if a not in (0, 1, 2) or np.any(A[:, a]):
            return _axes_default(p)
        A[row, a] = s
    if np.linalg.det(A) < 0:
        A[2] *= -1.0
    unit = _num(p, "UnitScaleFactor", 1.0)
    if not (np.isfinite(unit) and 1e-6 < unit < 1e6):
        unit = 1.0
    mode = int(_num(p, "TimeMode", 0))
    fps = _TIME_MODE_FPS.get(mode) or _num(p, "CustomFrameRate", 30.0)
    if not (np.isfinite(fps) and 0 < fps <= 1000):
        fps = 30.0
    return A * (unit / 100.0), float(fps)


def _axes_default(p: dict) -> tuple[np.ndarray, float]:
    unit = _num(p, "UnitScaleFactor", 1.0)
    return np.eye(3) * (unit / 100.0 if np.isfinite(unit) and 1e-6 < unit < 1e6 else 0.01), 30.0


MAX_FILE_BYTES = 1 << 30


def read_fbx_bytes(path, what: str = "FBX") -> bytes:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MotionImportError(f"{what}: {p.name} is larger than {MAX_FILE_BYTES >> 20} MiB")
        data = p.read_bytes()
    except OSError as e:
        raise MotionImportError(f"{what}: cannot read {p}: {e.strerror or e}") from None
    if not data.strip():
        raise MotionImportError(f"{what}: {p} is empty")
    return data


def _skeleton(models: dict[int, _Model], where: str) -> tuple[list[_Model], dict[int, int], list[int]]:
    """(every model in topological order, uid → index, the skeleton's indices in depth-first order)."""
    uids = list(models)
    pos = {u: i for i, u in enumerate(uids)}
    par = [pos.get(models[u].parent, -1) for u in uids]
    order = skeleton_order(par)
    ordered = [models[uids[i]] for i in order]
    index = {m.uid: i for i, m in enumerate(ordered)}
    parents = [index.get(m.parent, -1) for m in ordered]
    limbs = [m.kind in ("LimbNode", "Limb", "Root") for m in ordered]
    if not any(limbs):  # some exporters use Null nodes as bones: the animated ones then
        limbs = [m.kind == "Null" and "R" in m.curves for m in ordered]
    tree = largest_tree(parents, limbs)
    if len(tree) < 2:
        raise MotionImportError(f"{where}: no skeleton found (no LimbNode bones)")
    if len(tree) > MAX_JOINTS:
        raise MotionImportError(f"{where}: the skeleton has {len(tree)} bones (more than {MAX_JOINTS})")
    return ordered, index, tree


def load_fbx(path) -> Motion:
    """Read a binary FBX file's skeleton animation into a :class:`Motion` (see the module docstring)."""
    p = Path(path)
    where = p.name
    top = parse_fbx(read_fbx_bytes(p), where)
    models, cnodes, curves, stacks, layers, bind = _objects(top, where)
    _connect(top, models, cnodes, curves, stacks, layers)
    ordered, index, tree = _skeleton(models, where)
    A, fps = _axes(top)
    keyed = [c for i in tree for k in ("T", "R", "S") for c in ordered[i].curves.get(k, ()) if c is not None]
    if keyed:
        t0 = min(float(c[0][0]) for c in keyed)
        t1 = max(float(c[0][-1]) for c in keyed)
        times = sample_times(t0, t1, fps, where)
    else:
        times = np.zeros(1)
    world = _world(ordered, index, times)[:, tree]
    skel = [ordered[i] for i in tree]
    if all(m.uid in bind for m in skel):
        rest = np.stack([bind[m.uid] for m in skel])
    else:
        rest = _world(ordered, index, None)[0, tree]
    tpos = {i: k for k, i in enumerate(tree)}
    parents = np.array([tpos.get(index.get(m.parent, -1), -1) for m in skel], dtype=np.int64)
    meta = {"units": f"{np.abs(np.linalg.det(A)) ** (1 / 3):g} m per file unit (UnitScaleFactor)",
            "bones": len(skel), "bind_pose": all(m.uid in bind for m in skel), "warnings": []}
    motion = motion_from_world([m.name for m in skel], parents, rest, world, fps, A, source=str(p), fmt="fbx",
                               meta=meta)
    lift = _num(skel[0].props, "PoseTailorGroundOffset", 0.0)
    if np.isfinite(lift) and lift != 0.0:
        motion.root_translation[:, 1] -= lift
        motion.meta["ground_offset"] = lift
    hand_rest = skel[0].props.get("PoseTailorHandRestPose")  # our exports: the fingers' bind hand pose
    if hand_rest:
        motion.meta["hand_rest_pose"] = str(hand_rest[0])
    return motion
