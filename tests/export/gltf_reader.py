"""A small, independent glTF 2.0 / GLB reader for the tests: accessors, node hierarchy, animation sampling
and linear-blend skinning evaluated from the file's own data (skin joints, inverseBindMatrices, JOINTS_n /
WEIGHTS_n). Used on the FBX SDK's output (FBX2glTF) and on our own GLB files. Deliberately shares no code
with core_models.export."""
from __future__ import annotations

import json
import struct

import numpy as np

_CT = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_NC = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


class GLB:
    def __init__(self, data: bytes):
        magic, version, length = struct.unpack_from("<4sII", data, 0)
        assert magic == b"glTF" and version == 2, (magic, version)
        assert length == len(data), (length, len(data))
        off = 12
        self.json: dict = {}
        self.bin = b""
        while off < length:
            clen, ctype = struct.unpack_from("<II", data, off)
            chunk = data[off + 8: off + 8 + clen]
            if ctype == 0x4E4F534A:
                self.json = json.loads(chunk.decode("utf-8"))
            elif ctype == 0x004E4942:
                self.bin = chunk
            off += 8 + clen
        self.nodes = self.json.get("nodes", [])

    @classmethod
    def load(cls, path) -> "GLB":
        with open(path, "rb") as f:
            return cls(f.read())

    # --- data ---
    def accessor(self, i: int) -> np.ndarray:
        a = self.json["accessors"][i]
        dt = np.dtype(_CT[a["componentType"]])
        nc = _NC[a["type"]]
        n = a["count"]
        bv = self.json["bufferViews"][a["bufferView"]]
        assert bv.get("buffer", 0) == 0
        start = bv.get("byteOffset", 0) + a.get("byteOffset", 0)
        stride = bv.get("byteStride", 0) or dt.itemsize * nc
        raw = np.frombuffer(self.bin, dtype=np.uint8, count=(n - 1) * stride + dt.itemsize * nc if n else 0,
                            offset=start)
        out = np.empty((n, nc), dtype=dt)
        for k in range(nc):
            col = np.lib.stride_tricks.as_strided(raw[k * dt.itemsize:], shape=(n, dt.itemsize),
                                                  strides=(stride, 1))
            out[:, k] = np.ascontiguousarray(col).view(dt).reshape(n)
        if a.get("normalized"):
            out = out.astype(np.float64) / float(np.iinfo(dt).max)
        return out if nc > 1 else out[:, 0]

    # --- transforms ---
    def node_trs(self, i: int):
        n = self.nodes[i]
        if "matrix" in n:
            m = np.array(n["matrix"], dtype=np.float64).reshape(4, 4).T
            return ("matrix", m)
        return (np.array(n.get("translation", [0, 0, 0]), np.float64),
                np.array(n.get("rotation", [0, 0, 0, 1]), np.float64),
                np.array(n.get("scale", [1, 1, 1]), np.float64))

    def parents(self) -> np.ndarray:
        par = -np.ones(len(self.nodes), dtype=np.int64)
        for i, n in enumerate(self.nodes):
            for c in n.get("children", []):
                par[c] = i
        return par

    def key_times(self, anim: int = 0) -> np.ndarray:
        a = self.json["animations"][anim]
        ts = [self.accessor(s["input"]) for s in a["samplers"]]
        return np.unique(np.concatenate(ts))

    def local_matrices(self, anim: int | None = None, t: float = 0.0) -> np.ndarray:
        trs = [self.node_trs(i) for i in range(len(self.nodes))]
        trs = [list(x) for x in trs]
        if anim is not None:
            a = self.json["animations"][anim]
            for ch in a["channels"]:
                node = ch["target"].get("node")
                path = ch["target"]["path"]
                if node is None or path == "weights":
                    continue
                s = a["samplers"][ch["sampler"]]
                val = _sample(self.accessor(s["input"]), self.accessor(s["output"]).astype(np.float64), t,
                              s.get("interpolation", "LINEAR"), path == "rotation")
                k = {"translation": 0, "rotation": 1, "scale": 2}[path]
                assert not isinstance(trs[node][0], str), "animated node uses a matrix"
                trs[node][k] = val
        out = np.empty((len(self.nodes), 4, 4))
        for i, x in enumerate(trs):
            out[i] = x[1] if isinstance(x[0], str) else _compose(*x)
        return out

    def world_matrices(self, anim: int | None = None, t: float = 0.0) -> np.ndarray:
        local = self.local_matrices(anim, t)
        par = self.parents()
        world = np.empty_like(local)
        done = np.zeros(len(local), bool)

        def get(i):
            if not done[i]:
                world[i] = local[i] if par[i] < 0 else get(par[i]) @ local[i]
                done[i] = True
            return world[i]

        for i in range(len(local)):
            get(i)
        return world

    def skinned_mesh(self):
        """(mesh node index, skin index) of the first skinned mesh node."""
        for i, n in enumerate(self.nodes):
            if "mesh" in n and "skin" in n:
                return i, n["skin"]
        raise AssertionError("no skinned mesh in the glTF scene")

    def skin_joint_names(self, skin: int = 0) -> list[str]:
        return [self.nodes[j].get("name", "") for j in self.json["skins"][skin]["joints"]]

    def primitive_attributes(self, mesh: int):
        for prim in self.json["meshes"][mesh]["primitives"]:
            yield prim["attributes"], prim

    def rest_positions(self) -> np.ndarray:
        node, _ = self.skinned_mesh()
        return np.concatenate([self.accessor(at["POSITION"]).astype(np.float64)
                               for at, _ in self.primitive_attributes(self.nodes[node]["mesh"])])

    def skinned_positions(self, anim: int | None, t: float) -> np.ndarray:
        node, skin_i = self.skinned_mesh()
        skin = self.json["skins"][skin_i]
        world = self.world_matrices(anim, t)
        joints = skin["joints"]
        ibm = (self.accessor(skin["inverseBindMatrices"]).astype(np.float64).reshape(-1, 4, 4).transpose(0, 2, 1)
               if "inverseBindMatrices" in skin else np.tile(np.eye(4), (len(joints), 1, 1)))
        jm = world[joints] @ ibm  # (K,4,4)
        outs = []
        for at, _ in self.primitive_attributes(self.nodes[node]["mesh"]):
            pos = self.accessor(at["POSITION"]).astype(np.float64)
            M = np.zeros((len(pos), 4, 4))
            k = 0
            while f"JOINTS_{k}" in at:
                jj = self.accessor(at[f"JOINTS_{k}"]).astype(np.int64)
                ww = self.accessor(at[f"WEIGHTS_{k}"]).astype(np.float64)
                M += np.einsum("vc,vcab->vab", ww, jm[jj])
                k += 1
            assert k > 0, "skinned primitive without JOINTS_0"
            outs.append(np.einsum("vab,vb->va", M[:, :3, :3], pos) + M[:, :3, 3])
        return np.concatenate(outs)


def _quat_matrix(q) -> np.ndarray:
    x, y, z, w = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _compose(t, q, s) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = _quat_matrix(np.asarray(q, np.float64)) * np.asarray(s, np.float64)[None, :]
    m[:3, 3] = t
    return m


def _sample(times: np.ndarray, values: np.ndarray, t: float, interp: str, is_quat: bool):
    if interp == "CUBICSPLINE":
        values = values.reshape(len(times), 3, -1)[:, 1]
    if t <= times[0]:
        return values[0]
    if t >= times[-1]:
        return values[-1]
    i = int(np.searchsorted(times, t, side="right")) - 1
    t0, t1 = times[i], times[i + 1]
    if abs(t - t0) < 1e-6:
        return values[i]
    if abs(t - t1) < 1e-6:
        return values[i + 1]
    u = (t - t0) / (t1 - t0)
    if interp == "STEP":
        return values[i]
    a, b = values[i], values[i + 1]
    if is_quat:
        if np.dot(a, b) < 0:
            b = -b
        q = (1 - u) * a + u * b
        return q / np.linalg.norm(q)
    return (1 - u) * a + u * b
