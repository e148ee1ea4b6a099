"""glTF 2.0 import (.glb, or .gltf with embedded base64 buffers or .bin files next to it): our own reader
(json + struct + numpy; nothing downloaded, nothing executed).

What is read: the skeleton of the first skin (its ``joints`` and their ancestors' transforms; without a skin,
the nodes the first animation moves and the tree around them), its rest pose (the inverse of
``inverseBindMatrices`` where given — mapped from the mesh's space to the world's through the skeleton root's
own transform, which writers leave at its bind pose — else the nodes' own TRS)
and the first animation: translation, rotation
and scale channels (LINEAR, STEP, CUBICSPLINE values) sampled at ``animations[0].extras.fps`` (written by
PoseTailor) or 30 fps — glTF stores times in seconds and has no scene frame rate. glTF is y-up metres, so no
unit or axis conversion is needed; ``scenes[0].extras.posetailor_ground_offset`` (our grounded exports) is
undone.

Every index, count, offset and stride is checked against the file; malformed input raises
:class:`MotionImportError` with what is wrong.
"""
from __future__ import annotations

import base64
import json
import struct
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
from core_models.pose import matrix_to_quat, quat_to_matrix

MAX_FILE_BYTES = 1 << 30
DEFAULT_FPS = 30.0
_COMP = {5120: "i1", 5121: "u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
_NCOMP = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_NORM = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}


class _Gltf:
    def __init__(self, doc: dict, buffers: list[bytes], where: str):
        if not isinstance(doc, dict):
            raise MotionImportError(f"{where}: the glTF JSON is not an object")
        self.doc, self.buffers, self.where = doc, buffers, where

    def fail(self, msg: str) -> MotionImportError:
        return MotionImportError(f"{self.where}: {msg}")

    def items(self, key: str) -> list:
        v = self.doc.get(key, [])
        if not isinstance(v, list):
            raise self.fail(f"'{key}' is not a list")
        return v

    def item(self, key: str, i) -> dict:
        lst = self.items(key)
        if not isinstance(i, int) or isinstance(i, bool) or not (0 <= i < len(lst)) or not isinstance(lst[i], dict):
            raise self.fail(f"{key}[{i!r}] does not exist")
        return lst[i]

    def accessor(self, i) -> np.ndarray:
        """Accessor ``i`` as float64 (count, ncomp), normalised integers scaled to [0, 1] / [-1, 1]."""
        a = self.item("accessors", i)
        if "sparse" in a:
            raise self.fail(f"accessor {i}: sparse accessors are not supported")
        comp, typ, cnt = a.get("componentType"), a.get("type"), a.get("count")
        if not (isinstance(comp, int) and not isinstance(comp, bool) and comp in _COMP and isinstance(typ, str)
                and typ in _NCOMP and isinstance(cnt, int) and not isinstance(cnt, bool) and cnt >= 0):
            raise self.fail(f"accessor {i}: bad componentType/type/count")
        count: int = cnt
        dt = np.dtype(_COMP[comp])
        nc = _NCOMP[typ]
        if "bufferView" not in a:
            return np.zeros((count, nc))
        v = self.item("bufferViews", a["bufferView"])
        buf = self.buffers[self._index(v.get("buffer"), len(self.buffers), "buffer")]
        off = _int(v.get("byteOffset", 0)) + _int(a.get("byteOffset", 0))
        length = _int(v.get("byteLength"))
        stride = _int(v.get("byteStride", 0)) or nc * dt.itemsize
        if off < 0 or length < 0 or stride < nc * dt.itemsize or _int(v.get("byteOffset", 0)) + length > len(buf):
            raise self.fail(f"accessor {i}: buffer view out of range")
        need = (count - 1) * stride + nc * dt.itemsize if count else 0
        if off + need > _int(v.get("byteOffset", 0)) + length:
            raise self.fail(f"accessor {i}: {count} elements do not fit in its buffer view")
        if count == 0:
            return np.zeros((0, nc))
        raw = np.lib.stride_tricks.as_strided(np.frombuffer(buf, dtype=np.uint8, count=off + need)[off:],
                                              shape=(count, nc * dt.itemsize), strides=(stride, 1))
        out = np.ascontiguousarray(raw).view(dt).reshape(count, nc).astype(np.float64)
        if a.get("normalized") and comp in _NORM:
            out = np.maximum(out / _NORM[comp], -1.0)
        if not np.all(np.isfinite(out)):
            raise self.fail(f"accessor {i} contains NaN or infinite values")
        return out

    def _index(self, i, n: int, what: str) -> int:
        if not isinstance(i, int) or isinstance(i, bool) or not (0 <= i < n):
            raise self.fail(f"{what} {i!r} does not exist")
        return i


def _isint(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(v) -> int:
    if not _isint(v):
        raise MotionImportError(f"expected an integer in the glTF, got {v!r}")
    return v


def _read_glb(data: bytes, where: str) -> tuple[dict, bytes | None]:
    if len(data) < 20:
        raise MotionImportError(f"{where}: truncated GLB header")
    magic, version, total = struct.unpack_from("<4sII", data, 0)
    if version != 2:
        raise MotionImportError(f"{where}: glTF version {version} is not supported (only 2)")
    if total > len(data):
        raise MotionImportError(f"{where}: truncated GLB ({len(data)} of {total} bytes)")
    pos, doc, binary = 12, None, None
    while pos + 8 <= total:
        ln, kind = struct.unpack_from("<I4s", data, pos)
        if pos + 8 + ln > total:
            raise MotionImportError(f"{where}: GLB chunk overruns the file")
        chunk = data[pos + 8:pos + 8 + ln]
        if kind == b"JSON" and doc is None:
            doc = _json(chunk, where)
        elif kind == b"BIN\x00" and binary is None:
            binary = chunk
        pos += 8 + ln
    if doc is None:
        raise MotionImportError(f"{where}: the GLB has no JSON chunk")
    return doc, binary


def _json(raw: bytes, where: str) -> dict:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise MotionImportError(f"{where}: the glTF JSON cannot be read ({e})") from None
    if not isinstance(doc, dict):
        raise MotionImportError(f"{where}: the glTF JSON is not an object")
    return doc


def _buffers(doc: dict, binary: bytes | None, folder: Path, where: str) -> list[bytes]:
    out = []
    bufs = doc.get("buffers", [])
    if not isinstance(bufs, list):
        raise MotionImportError(f"{where}: 'buffers' is not a list")
    for k, b in enumerate(bufs):
        uri = b.get("uri") if isinstance(b, dict) else None
        if uri is None:
            if binary is None or k != 0:
                raise MotionImportError(f"{where}: buffer {k} has no data")
            out.append(binary)
        elif isinstance(uri, str) and uri.startswith("data:"):
            try:
                out.append(base64.b64decode(uri.split(",", 1)[1], validate=True))
            except (ValueError, IndexError):
                raise MotionImportError(f"{where}: buffer {k}: bad base64 data URI") from None
        elif isinstance(uri, str) and "/" not in uri and "\\" not in uri and ":" not in uri and uri not in (".", ".."):
            f = folder / uri
            try:
                if f.stat().st_size > MAX_FILE_BYTES:
                    raise MotionImportError(f"{where}: buffer file {uri} is too large")
                out.append(f.read_bytes())
            except OSError as e:
                raise MotionImportError(f"{where}: cannot read buffer file {uri}: {e.strerror or e}") from None
        else:
            raise MotionImportError(f"{where}: buffer {k}: only data URIs and files next to the .gltf are read")
    return out


def _trs(g: _Gltf, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(translation, rotation quaternion xyzw, scale) of node ``i`` (a ``matrix`` is decomposed)."""
    n = g.item("nodes", i)
    try:
        if "matrix" in n:
            M = np.array(n["matrix"], np.float64).reshape(4, 4).T
            S = np.linalg.norm(M[:3, :3], axis=0)
            R = M[:3, :3] / np.where(S > 1e-12, S, 1.0)
            if np.linalg.det(R) < 0:
                S[0], R[:, 0] = -S[0], -R[:, 0]
            return M[:3, 3].copy(), np.asarray(matrix_to_quat(R), np.float64), S
        t = np.array(n.get("translation", [0, 0, 0]), np.float64).reshape(3)
        q = np.array(n.get("rotation", [0, 0, 0, 1]), np.float64).reshape(4)
        s = np.array(n.get("scale", [1, 1, 1]), np.float64).reshape(3)
    except (TypeError, ValueError):
        raise g.fail(f"node {i}: bad transform") from None
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(q)) and np.all(np.isfinite(s))):
        raise g.fail(f"node {i}: transform contains NaN or infinite values")
    return t, q, s


def _parents(g: _Gltf) -> list[int]:
    nodes = g.items("nodes")
    par = [-1] * len(nodes)
    for i, n in enumerate(nodes):
        if not isinstance(n, dict):
            raise g.fail(f"nodes[{i}] is not an object")
        kids = n.get("children", [])
        if not isinstance(kids, list):
            raise g.fail(f"node {i}: 'children' is not a list")
        for c in kids:
            c = g._index(c, len(nodes), "child node")
            if par[c] != -1 or c == i:
                raise g.fail(f"node {c} has more than one parent")
            par[c] = i
    return par


def _channels(g: _Gltf) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray, str]]:
    """(node, path) → (times, values, interpolation) of the first animation."""
    anims = g.items("animations")
    if not anims:
        return {}
    a = g.item("animations", 0)
    samplers = a.get("samplers", [])
    out = {}
    for ch in a.get("channels", []) if isinstance(a.get("channels", []), list) else []:
        tgt = ch.get("target", {}) if isinstance(ch, dict) else {}
        path = tgt.get("path")
        if path not in ("translation", "rotation", "scale") or "node" not in tgt:
            continue
        if not isinstance(samplers, list):
            raise g.fail("animation samplers is not a list")
        s = samplers[g._index(ch.get("sampler"), len(samplers), "animation sampler")]
        if not isinstance(s, dict):
            raise g.fail("bad animation sampler")
        t = g.accessor(s.get("input"))[:, 0]
        v = g.accessor(s.get("output"))
        interp = s.get("interpolation", "LINEAR")
        if interp == "CUBICSPLINE":
            if len(v) != 3 * len(t):
                raise g.fail("CUBICSPLINE output must hold 3 values per key")
            v = v[1::3]
        want = 4 if path == "rotation" else 3
        if len(t) == 0 or len(v) != len(t) or v.shape[1] != want:
            raise g.fail(f"animation channel on node {tgt['node']}: {len(t)} times, {len(v)} values")
        order = np.argsort(t, kind="stable")
        out[(g._index(tgt["node"], len(g.items("nodes")), "node"), path)] = (t[order], v[order], interp)
    return out


def _local(g: _Gltf, i: int, chans: dict, times: np.ndarray | None) -> np.ndarray:
    t, q, s = _trs(g, i)
    n = 1 if times is None else len(times)
    T, Q, S = np.tile(t, (n, 1)), np.tile(q, (n, 1)), np.tile(s, (n, 1))
    if times is not None:
        for path, arr in (("translation", T), ("rotation", Q), ("scale", S)):
            c = chans.get((i, path))
            if c is None:
                continue
            vals = c[1]
            if path == "rotation":
                vals = vals.copy()
                for k in range(1, len(vals)):
                    if vals[k] @ vals[k - 1] < 0:
                        vals[k] = -vals[k]
            arr[:] = interp_keys(c[0], vals, times, step=c[2] == "STEP")
    if np.any(np.linalg.norm(Q, axis=-1) < 1e-8):
        raise g.fail(f"node {i}: zero-length rotation quaternion")
    M = np.zeros((n, 4, 4))
    M[:, :3, :3] = np.asarray(quat_to_matrix(Q), np.float64) * S[:, None, :]
    M[:, :3, 3] = T
    M[:, 3, 3] = 1.0
    return M


def _skeleton(g: _Gltf, par: list[int], chans: dict) -> tuple[list[int], list[int], np.ndarray | None]:
    """(every node in topological order, the skeleton's positions in that order, rest world matrices from
    the skin or None)."""
    order = skeleton_order(par)
    pos = {n: k for k, n in enumerate(order)}
    oparents = [pos.get(par[n], -1) for n in order]
    skins = g.items("skins")
    joints: list[int] = []
    ibm = None
    if skins:
        sk = g.item("skins", 0)
        js = sk.get("joints", [])
        if not isinstance(js, list):
            raise g.fail("skin joints is not a list")
        joints = [g._index(j, len(par), "skin joint") for j in js]
        if "inverseBindMatrices" in sk:
            ibm = g.accessor(sk["inverseBindMatrices"])
            if ibm.shape != (len(joints), 16):
                raise g.fail("inverseBindMatrices do not match the skin's joints")
    members = set(joints) if joints else {n for n, _ in chans}
    tree = largest_tree(oparents, [n in members for n in order])
    if len(tree) < 2:
        raise g.fail("no skeleton found (no skin joints or animated node tree)")
    if len(tree) > MAX_JOINTS:
        raise g.fail(f"the skeleton has {len(tree)} joints (more than {MAX_JOINTS})")
    rest = None
    if ibm is not None and all(order[k] in joints for k in tree):
        inv = ibm.reshape(-1, 4, 4).transpose(0, 2, 1)
        try:
            rest = np.linalg.inv(np.stack([inv[joints.index(order[k])] for k in tree]))
        except np.linalg.LinAlgError:
            raise g.fail("an inverse bind matrix is singular") from None
    return order, tree, rest


def load_gltf(path) -> Motion:
    """Read a .glb / .gltf file's skeleton animation into a :class:`Motion` (see the module docstring)."""
    p = Path(path)
    where = p.name
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise MotionImportError(f"{where}: larger than {MAX_FILE_BYTES >> 20} MiB")
        data = p.read_bytes()
    except OSError as e:
        raise MotionImportError(f"{where}: cannot read {p}: {e.strerror or e}") from None
    if not data.strip():
        raise MotionImportError(f"{where}: {p} is empty")
    if data[:4] == b"glTF":
        doc, binary = _read_glb(data, where)
    elif data.lstrip()[:1] == b"{":
        doc, binary = _json(data, where), None
    else:
        raise MotionImportError(f"{where}: not a glTF file (neither GLB nor JSON)")
    g = _Gltf(doc, _buffers(doc, binary, p.parent, where), where)
    par = _parents(g)
    chans = _channels(g)
    order, tree, rest = _skeleton(g, par, chans)
    fps = _fps(g)
    times = sample_times(min(float(c[0][0]) for c in chans.values()), max(float(c[0][-1]) for c in chans.values()),
                         fps, where) if chans else np.zeros(1)
    W = _world(g, order, chans, times)
    static = _world(g, order, chans, None)[0, tree]
    if rest is None:
        rest = static
    else:  # inverse bind matrices live in the mesh's space (FBX2glTF's is scaled by 1/100): map it to the world
        try:
            rest = (static[0] @ np.linalg.inv(rest[0]))[None] @ rest
        except np.linalg.LinAlgError:
            raise g.fail("the skeleton root's transform is singular") from None
    pos = {k: i for i, k in enumerate(tree)}
    oparents = [order.index(par[n]) if par[n] >= 0 else -1 for n in order]
    parents = np.array([pos.get(oparents[k], -1) for k in tree], dtype=np.int64)
    names = [str(g.item("nodes", order[k]).get("name") or f"node{order[k]}") for k in tree]
    meta = {"units": "m (glTF)", "fps_from": "extras.fps" if _has_fps(g) else f"assumed {DEFAULT_FPS:g}",
            "warnings": []}
    motion = motion_from_world(names, parents, rest, W[:, tree], fps, np.eye(3), source=str(p), fmt="gltf",
                               meta=meta)
    lift = _ground_offset(g)
    if lift:
        motion.root_translation[:, 1] -= lift
        motion.meta["ground_offset"] = lift
    sc = g.items("scenes")
    ex = sc[0].get("extras") if sc and isinstance(sc[0], dict) else None
    if isinstance(ex, dict) and isinstance(ex.get("posetailor_hand_rest_pose"), list):  # our exports' bind hands
        motion.meta["hand_rest_pose"] = ex["posetailor_hand_rest_pose"]
    return motion


def _world(g: _Gltf, order: list[int], chans: dict, times: np.ndarray | None) -> np.ndarray:
    pos = {n: k for k, n in enumerate(order)}
    par = _parents(g)
    locs = [_local(g, n, chans, times) for n in order]
    W = np.empty((len(locs[0]), len(order), 4, 4))
    for k, n in enumerate(order):
        W[:, k] = locs[k] if par[n] < 0 else W[:, pos[par[n]]] @ locs[k]
    return W


def _has_fps(g: _Gltf) -> bool:
    a = g.items("animations")
    ex = a[0].get("extras") if a and isinstance(a[0], dict) else None
    return isinstance(ex, dict) and isinstance(ex.get("fps"), (int, float)) and not isinstance(ex.get("fps"), bool)


def _fps(g: _Gltf) -> float:
    if not _has_fps(g):
        return DEFAULT_FPS
    f = float(g.items("animations")[0]["extras"]["fps"])
    if not (np.isfinite(f) and 0 < f <= 1000):
        raise g.fail(f"animation frame rate {f!r} is not in (0, 1000]")
    return f


def _ground_offset(g: _Gltf) -> float:
    sc = g.items("scenes")
    ex = sc[0].get("extras") if sc and isinstance(sc[0], dict) else None
    v = ex.get("posetailor_ground_offset") if isinstance(ex, dict) else None
    if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v):
        return float(v)
    return 0.0
