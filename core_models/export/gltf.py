"""Binary glTF 2.0 (.glb) writer (struct + json + numpy): skinned body mesh, joint hierarchy, animation.

  * one mesh primitive: POSITION, NORMAL, TEXCOORD_0 (vertices split at UV seams; V flipped to glTF's
    top-left origin), JOINTS_0/WEIGHTS_0 (+ JOINTS_1/WEIGHTS_1 when a vertex has more than 4 influences,
    up to 8; beyond 8 the smallest are dropped and the rest renormalised), uint16/uint32 indices;
  * one node per joint, oriented along its limb like the FBX (``common.limb_orientations``: local +Y towards
    the child joint; translation = rest offset in the parent joint's frame, rotation = rest orientation relative
    to the parent), the skinned mesh node at the scene root (glTF ignores a skinned mesh node's own transform);
  * skin: inverseBindMatrices = inverse of each joint's rest world matrix;
  * one animation: LINEAR rotation channels for every joint (quaternions kept in one hemisphere frame to
    frame) and a translation channel for the root; one key per exported frame. glTF has no scene frame rate
    (times are seconds): the rate is recorded as ``animations[0].extras.fps`` (and the frame count as
    ``extras.frames``); a grounded export records its lift as ``scenes[0].extras.posetailor_ground_offset``;
glTF is y-up, metres, +z front: PoseTailor's canonical frame, so nothing is converted.
"""
from __future__ import annotations

import json
import struct

import numpy as np

from core_models.body.base import SkinningData
from core_models.export.common import (
    ExportError,
    ProgressFn,
    as_pose_batch,
    bone_names,
    check_fps,
    compute_frames,
    limb_orientations,
    report,
    rest_hand_of,
    rig_data,
    write_bytes_atomic,
)
from core_models.pose import Pose, matrix_to_quat

MAX_INFLUENCES = 8
_F32, _U8, _U16, _U32 = 5126, 5121, 5123, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963


class _Builder:
    def __init__(self):
        self.bin = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, arr: np.ndarray, comp: int, type_: str, target: int | None = None, minmax: bool = False,
            normalized: bool = False) -> int:
        arr = np.ascontiguousarray(arr)
        while len(self.bin) % 4:
            self.bin += b"\x00"
        view = {"buffer": 0, "byteOffset": len(self.bin), "byteLength": arr.nbytes}
        if target is not None:
            view["target"] = target
        self.bin += arr.tobytes()
        self.views.append(view)
        acc = {"bufferView": len(self.views) - 1, "componentType": comp, "count": int(arr.shape[0]),
               "type": type_}
        if normalized:
            acc["normalized"] = True
        if minmax:
            flat = arr.reshape(arr.shape[0], -1)
            acc["min"] = [float(x) for x in flat.min(0)]
            acc["max"] = [float(x) for x in flat.max(0)]
        self.accessors.append(acc)
        return len(self.accessors) - 1


def _top_weights(weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per vertex the ``k`` largest weights (renormalised, float32) and their joints; unused slots (weight 0)
    point at joint 0, as the glTF validator expects."""
    W = np.asarray(weights, dtype=np.float64)
    idx = np.argsort(-W, axis=1, kind="stable")[:, :k]
    val = np.take_along_axis(W, idx, axis=1)
    val = np.where(val > 0, val, 0.0)
    s = val.sum(1, keepdims=True)
    if np.any(s <= 0):
        raise ExportError(f"{int((s <= 0).sum())} vertices have no skinning weight")
    val = (val / s).astype(np.float32)
    # put any float32 rounding remainder on the largest weight so each row sums to 1 in float32
    val[:, 0] += np.float32(1.0) - val.sum(1, dtype=np.float32)
    idx = np.where(val > 0, idx, 0)
    return idx, val


def _quats_continuous(local_rot: np.ndarray) -> np.ndarray:
    """(N,J,3,3) → (N,J,4) XYZW quaternions, signs chosen continuous over frames."""
    q = matrix_to_quat(np.asarray(local_rot, np.float64))  # XYZW
    N = q.shape[0]
    for f in range(1, N):
        flip = (q[f] * q[f - 1]).sum(-1) < 0
        q[f][flip] *= -1
    return q


def _split_vertices(data: SkinningData):
    """Vertices split at UV seams → (source vertex per output vertex, source uv per output vertex or None,
    (T,3) triangles in output vertices)."""
    faces = np.asarray(data.faces, dtype=np.int64)
    if data.uvs is not None and data.face_uvs is not None and data.face_uvs.shape == data.faces.shape:
        T = len(data.uvs)
        key = faces.reshape(-1) * T + np.asarray(data.face_uvs, dtype=np.int64).reshape(-1)
        uniq, inv = np.unique(key, return_inverse=True)
        return uniq // T, uniq % T, inv.reshape(-1, 3)
    return np.arange(len(data.rest_vertices)), None, faces


def _add_mesh(b: _Builder, data: SkinningData, J: int, ibm_world: np.ndarray,
              progress: ProgressFn | None) -> tuple[dict, int, int]:
    """Mesh attributes (positions, unit normals, uvs, joints/weights), indices and inverse bind matrices
    → (attributes, indices accessor, inverse-bind-matrices accessor)."""
    src_v, src_uv, tri = _split_vertices(data)
    pos = np.asarray(data.rest_vertices, dtype=np.float32)[src_v]
    nz = int((np.asarray(data.weights) > 0).sum(1).max())
    k = 4 if nz <= 4 else MAX_INFLUENCES
    widx, wval = _top_weights(np.asarray(data.weights)[src_v], k)
    report(progress, 0.3)
    attrs = {"POSITION": b.add(pos, _F32, "VEC3", _ARRAY_BUFFER, minmax=True)}
    if data.rest_normals is not None and len(data.rest_normals) == len(data.rest_vertices):
        nrm = np.asarray(data.rest_normals, dtype=np.float64)[src_v]
        ln = np.linalg.norm(nrm, axis=1, keepdims=True)
        nrm = np.where(ln > 1e-12, nrm / np.maximum(ln, 1e-12), [0.0, 1.0, 0.0]).astype(np.float32)  # glTF: unit
        attrs["NORMAL"] = b.add(nrm, _F32, "VEC3", _ARRAY_BUFFER)
    if src_uv is not None:
        uv = np.asarray(data.uvs, dtype=np.float32)[src_uv].copy()
        uv[:, 1] = 1.0 - uv[:, 1]
        attrs["TEXCOORD_0"] = b.add(uv, _F32, "VEC2", _ARRAY_BUFFER)
    jt, jtype = (np.uint8, _U8) if J <= 256 else (np.uint16, _U16)
    for s in range(k // 4):
        attrs[f"JOINTS_{s}"] = b.add(widx[:, 4 * s:4 * s + 4].astype(jt), jtype, "VEC4", _ARRAY_BUFFER)
        attrs[f"WEIGHTS_{s}"] = b.add(wval[:, 4 * s:4 * s + 4], _F32, "VEC4", _ARRAY_BUFFER)
    itype, icomp = (np.uint16, _U16) if len(pos) < 65535 else (np.uint32, _U32)
    indices = b.add(tri.reshape(-1).astype(itype), icomp, "SCALAR", _ELEMENT_ARRAY_BUFFER, minmax=False)
    ibm = np.linalg.inv(ibm_world).transpose(0, 2, 1).astype(np.float32)  # column-major
    return attrs, indices, b.add(ibm.reshape(J, 16), _F32, "MAT4")


def _add_animation(b: _Builder, frames, fps: float, J: int) -> tuple[list[dict], list[dict]]:
    """A rotation channel per joint and the root translation → (samplers, channels)."""
    times = (np.arange(frames.num_frames, dtype=np.float64) / fps).astype(np.float32)
    t_acc = b.add(times, _F32, "SCALAR", minmax=True)
    quats = _quats_continuous(frames.local_rot).astype(np.float32)
    samplers: list[dict] = []
    channels: list[dict] = []
    for j in range(J):
        samplers.append({"input": t_acc, "output": b.add(quats[:, j], _F32, "VEC4"), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": j, "path": "rotation"}})
    samplers.append({"input": t_acc, "output": b.add(frames.local_trans[:, 0].astype(np.float32), _F32, "VEC3"),
                     "interpolation": "LINEAR"})
    channels.append({"sampler": len(samplers) - 1, "target": {"node": 0, "path": "translation"}})
    return samplers, channels


def _glb_bytes(doc: dict, b: _Builder) -> bytes:
    """The binary container: header, JSON chunk, BIN chunk (both 4-byte aligned)."""
    while len(b.bin) % 4:
        b.bin += b"\x00"
    doc["buffers"][0]["byteLength"] = len(b.bin)
    js = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    js += b" " * ((4 - len(js) % 4) % 4)
    total = 12 + 8 + len(js) + 8 + len(b.bin)
    out = bytearray(struct.pack("<4sII", b"glTF", 2, total))
    out += struct.pack("<I4s", len(js), b"JSON") + js
    out += struct.pack("<I4s", len(b.bin), b"BIN\x00") + b.bin
    return bytes(out)


def build_glb(poses, body, *, rig: str = "smplh", fps: float = 30.0, mesh_name: str = "Body",
              anim_name: str = "PoseTailor", progress: ProgressFn | None = None, ground_offset: float = 0.0,
              orient_bones: bool = True) -> bytes:
    """Stages: frames → mesh buffers → animation buffers → node tree + JSON document → GLB container."""
    poses = as_pose_batch(poses, rest_hand_of(body))
    data = rig_data(body, poses)  # 52 bones (fingers) when the poses carry a hand_pose
    fps = check_fps(fps)
    names = bone_names(data.joint_names, rig)
    parents = data.parents
    J = len(names)
    orient = limb_orientations(data.rest_joints, parents, data.joint_names) if orient_bones else None
    frames = compute_frames(poses, data.rest_joints, parents, orient,
                            rest_hand=data.hand_rest_pose if J == 52 else None)
    report(progress, 0.05)
    b = _Builder()
    attrs, indices, ibm_acc = _add_mesh(b, data, J, frames.rest_world, progress)
    report(progress, 0.5)
    samplers, channels = _add_animation(b, frames, fps, J)
    report(progress, 0.8)
    nodes: list[dict] = []
    rest_q = None if frames.rest_local_rot is None else matrix_to_quat(frames.rest_local_rot)
    for j in range(J):
        n: dict = {"name": names[j], "translation": [float(x) for x in frames.offsets[j]]}
        if rest_q is not None:
            n["rotation"] = [float(x) for x in rest_q[j] / np.linalg.norm(rest_q[j])]
        ch = [int(c) for c in np.nonzero(parents == j)[0]]
        if ch:
            n["children"] = ch
        nodes.append(n)
    nodes.append({"name": mesh_name, "mesh": 0, "skin": 0})
    roots = [j for j in range(J) if parents[j] < 0]
    doc = {
        "asset": {"version": "2.0", "generator": "PoseTailor 0.1.0 glTF exporter"},
        "scene": 0,
        "scenes": [{"name": "Scene", "nodes": roots + [J],  # node J: the mesh
                    **_scene_extras(ground_offset, data.hand_rest_pose if J == 52 else None)}],
        "nodes": nodes,
        "meshes": [{"name": mesh_name, "primitives": [{"attributes": attrs, "indices": indices, "material": 0,
                                                         "mode": 4}]}],
        "materials": [{"name": "Skin", "pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.62, 0.52, 1.0],
                                                                 "metallicFactor": 0.0, "roughnessFactor": 0.7},
                       "doubleSided": False}],
        "skins": [{"name": "Armature", "joints": list(range(J)), "inverseBindMatrices": ibm_acc,
                   "skeleton": roots[0]}],
        "animations": [{"name": anim_name, "samplers": samplers, "channels": channels,
                        "extras": {"fps": float(fps), "frames": int(frames.num_frames)}}],
        "buffers": [{"byteLength": 0}],
        "bufferViews": b.views,
        "accessors": b.accessors,
    }
    out = _glb_bytes(doc, b)
    report(progress, 0.95)
    return out


def _scene_extras(ground_offset: float, hand_rest: np.ndarray | None) -> dict:
    """Scene extras PoseTailor's importer reads back: the ground lift, the fingers' bind hand pose."""
    ex: dict = {}
    if ground_offset:
        ex["posetailor_ground_offset"] = float(ground_offset)
    if hand_rest is not None:
        ex["posetailor_hand_rest_pose"] = [round(float(v), 7) for v in np.asarray(hand_rest).reshape(-1)]
    return {"extras": ex} if ex else {}


def write_glb(path, poses: Pose, body, *, rig: str = "smplh", fps: float = 30.0,
              progress: ProgressFn | None = None, **kwargs) -> str:
    """Write ``poses`` on ``body`` to ``path`` as a skinned, animated GLB (atomic)."""
    data = build_glb(poses, body, rig=rig, fps=fps, progress=progress, **kwargs)
    p = write_bytes_atomic(path, data)
    report(progress, 1.0)
    return str(p)


__all__ = ["build_glb", "write_glb", "ExportError"]
