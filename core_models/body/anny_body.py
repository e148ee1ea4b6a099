"""Anny (Apache-2.0 code, CC0 MakeHuman assets) driven by the canonical SMPL-H pose.

Anny's own rig has 104 bones, a MakeHuman A-pose rest and a z-up frame facing −y. PoseTailor's contract
is SMPL semantics, so this module builds a 22-joint SMPL-H LBS layer *on top of* Anny:

1. Anny produces the rest mesh for a phenotype (gender/age/muscle/weight/height/proportions).
2. We pose that mesh into the SMPL T-pose with Anny's own skinning weights and our own FK over Anny's
   bone tree (upper arms, forearms and hands horizontal along ±x; thighs and shins vertical; feet kept).
3. The frame is converted to PoseTailor's (y up, facing +z, x to the body's left): (x,y,z) → (x,z,−y).
4. SMPL-H joint centres are Anny bone heads (table below); Anny's 104-bone skinning weights are summed
   into the 22 SMPL-H segments (each Anny bone belongs to the SMPL segment that contains it).
The result is a plain SMPL-style layer (``LBSBody``): zero pose = T-pose with world-aligned joint
frames, FK exactly as SMPL's kinematic chain.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core_models import skeleton as sk
from core_models.body.base import LBSBody, SkinningData, sparsify_weights, vertex_normals
from core_models.pose import matrix_to_aa_np, rotation_between_np
from core_models.resources import bundled_path

#: SMPL-H joint → Anny bone whose head is that joint's centre.
JOINT_TO_ANNY_BONE = {
    "pelvis": "root",
    "left_hip": "upperleg01.L", "right_hip": "upperleg01.R",
    "spine1": "spine03",
    "left_knee": "lowerleg01.L", "right_knee": "lowerleg01.R",
    "spine2": "spine02",
    "left_ankle": "foot.L", "right_ankle": "foot.R",
    "spine3": "spine01",
    "left_foot": "toe3-1.L", "right_foot": "toe3-1.R",
    "neck": "neck01",
    "left_collar": "clavicle.L", "right_collar": "clavicle.R",
    "head": "head",
    "left_shoulder": "upperarm01.L", "right_shoulder": "upperarm01.R",
    "left_elbow": "lowerarm01.L", "right_elbow": "lowerarm01.R",
    "left_wrist": "wrist.L", "right_wrist": "wrist.R",
}

PHENOTYPE_LABELS = ("gender", "age", "muscle", "weight", "height", "proportions")
#: A fixed neutral adult by default (Anny's phenotype values are in [0, 1]).
DEFAULT_PHENOTYPE = {"gender": 0.5, "age": 0.5, "muscle": 0.5, "weight": 0.5, "height": 0.5, "proportions": 0.5}

#: "2"–"4": the layer also carries the 30 SMPL-H finger joints (hand_rest_joints, hand_rest_pose, weights52)
_LAYER_VERSION = "4"

#: SMPL-H finger → Anny finger number (Anny: finger1 = thumb … finger5 = little finger; joint k = finger<n>-k;
#: the index … little fingers also have a metacarpal bone, which stays in the wrist segment)
ANNY_FINGER = {"thumb": 1, "index": 2, "middle": 3, "ring": 4, "pinky": 5}
#: how much of the thumb's rest droop below the palm plane its flat (hand_pose = 0) position keeps
_THUMB_DROOP_KEEP = 0.15


def anny_bone_to_joint(label: str) -> str:
    """The SMPL-H segment an Anny bone belongs to."""
    side = label[-2:] if label.endswith((".L", ".R")) else ""
    s = "left_" if side == ".L" else "right_" if side == ".R" else ""
    base = label[:-2] if side else label
    if base in ("root", "pelvis", "spine05", "spine04"):
        return "pelvis"
    if base == "spine03":
        return "spine1"
    if base == "spine02":
        return "spine2"
    if base == "spine01":
        return "spine3"
    if base.startswith("neck"):
        return "neck"
    if base in ("head", "eye") or base.startswith(("jaw", "tongue", "teeth")):
        return "head"
    if base.startswith("upperleg"):
        return s + "hip"
    if base.startswith("lowerleg"):
        return s + "knee"
    if base == "foot":
        return s + "ankle"
    if base.startswith("toe"):
        return s + "foot"
    if base in ("clavicle", "shoulder01"):
        return s + "collar"
    if base.startswith("upperarm"):
        return s + "shoulder"
    if base.startswith("lowerarm"):
        return s + "elbow"
    if base == "wrist" or base.startswith(("finger", "metacarpal")):
        return s + "wrist"
    raise KeyError(f"no SMPL-H segment for Anny bone {label!r}")


# Anny frame (z up, facing −y) → PoseTailor frame (y up, facing +z): (x, y, z) → (x, z, −y)
ANNY_TO_CANON = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])


def _cache_dir() -> Path:
    d = Path(os.environ.get("POSETAILOR_CACHE", Path.home() / ".cache" / "posetailor"))
    d.mkdir(parents=True, exist_ok=True)
    return d


_anny_lock = threading.Lock()
_anny_model = None


def _anny():
    """The (lazily created, shared) Anny model: float64, plain LBS (no warp kernel needed)."""
    global _anny_model
    with _anny_lock:
        if _anny_model is None:
            import anny
            import torch

            _anny_model = anny.Anny(skinning_method="lbs").to(torch.float64)
        return _anny_model


def _phenotype(phenotype: dict | None) -> dict:
    """DEFAULT_PHENOTYPE updated with ``phenotype``; unknown labels and values outside [0, 1] raise."""
    ph = dict(DEFAULT_PHENOTYPE)
    ph.update(phenotype or {})
    for k, v in ph.items():
        if k not in PHENOTYPE_LABELS:
            raise ValueError(f"unknown phenotype {k!r}; known: {', '.join(PHENOTYPE_LABELS)}")
        if not (0.0 <= float(v) <= 1.0):
            raise ValueError(f"phenotype {k}={v} outside [0, 1]")
    return ph


def _tpose_globals(labels: list[str], parents: np.ndarray, heads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Absolute world rotations (deltas from Anny rest) that put the mesh into the T-pose: arms straight
    out, legs straight down, feet keeping their rest orientation → ((B,3,3) rotations, (B,3) posed heads)."""
    idx = {lab: i for i, lab in enumerate(labels)}
    target: dict[str, tuple[str, np.ndarray]] = {}
    for side, sx in (("L", 1.0), ("R", -1.0)):
        out_dir = np.array([sx, 0.0, 0.0])
        target[f"upperarm01.{side}"] = (f"lowerarm01.{side}", out_dir)
        target[f"lowerarm01.{side}"] = (f"wrist.{side}", out_dir)
        target[f"wrist.{side}"] = (f"finger3-1.{side}", out_dir)
        target[f"upperleg01.{side}"] = (f"lowerleg01.{side}", np.array([0.0, 0.0, -1.0]))
        target[f"lowerleg01.{side}"] = (f"foot.{side}", np.array([0.0, 0.0, -1.0]))
    keep_world = {"foot.L", "foot.R"}  # feet keep their rest orientation (flat on the ground)
    B = len(labels)
    G = np.zeros((B, 3, 3))
    P = np.zeros((B, 3))  # posed heads
    for b in sorted(range(B), key=lambda b: _depth(parents, b)):
        p = parents[b]
        Gp = np.eye(3) if p < 0 else G[p]
        P[b] = heads[b] if p < 0 else P[p] + Gp @ (heads[b] - heads[p])
        lab = labels[b]
        if lab in target:
            child, want = target[lab]
            d = Gp @ (heads[idx[child]] - heads[b])
            G[b] = rotation_between_np(d, want) @ Gp
        elif lab in keep_world:
            G[b] = np.eye(3)
        else:
            G[b] = Gp
    return G, P


def _lbs(rest_v: np.ndarray, G: np.ndarray, P: np.ndarray, heads: np.ndarray, wi: np.ndarray,
         wv: np.ndarray) -> np.ndarray:
    """The rest mesh posed by (G, P) with Anny's 104-bone weights (linear blend skinning)."""
    skin_t = P - np.einsum("bij,bj->bi", G, heads)
    per = np.einsum("bij,vj->vbi", G[np.unique(wi)], rest_v)  # cheap enough (V × used bones)
    used = {b: k for k, b in enumerate(np.unique(wi))}
    tpose = np.zeros_like(rest_v)
    for k in range(wi.shape[1]):
        cols = np.array([used[b] for b in wi[:, k]])
        tpose += wv[:, k:k + 1] * (per[np.arange(len(rest_v)), cols] + skin_t[wi[:, k]])
    return tpose


def anny_bone_to_joint52(label: str) -> str:
    """The SMPL-H 52-joint segment an Anny bone belongs to: finger bones are their own joints."""
    if label.startswith("finger") and label.endswith((".L", ".R")):
        n, k = label[6:-2].split("-")
        finger = {v: f for f, v in ANNY_FINGER.items()}[int(n)]
        return f"{'left' if label.endswith('.L') else 'right'}_{finger}{int(k)}"
    return anny_bone_to_joint(label)


def _flat_targets(d: np.ndarray, thumb: bool) -> np.ndarray:
    """Flat-hand directions for a finger's three rest bone directions d (3,3) (canonical frame): the index …
    little fingers straight in the horizontal palm plane (each bone along its own heading); the thumb straight
    along its first bone's heading with a little of its droop kept."""
    if thumb:
        t = d[0] * np.array([1.0, _THUMB_DROOP_KEEP, 1.0])
        return np.tile(t / np.linalg.norm(t), (3, 1))
    f = d * np.array([1.0, 0.0, 1.0])
    return f / np.linalg.norm(f, axis=1, keepdims=True)


def _hand_layer(labels: list[str], Pc: np.ndarray, bone_y: np.ndarray) -> tuple[np.ndarray, ...]:
    """The 30 finger joints from Anny's T-posed finger bones (canonical frame, pelvis-relative ``Pc``):
    (flat-hand joint centres (30,3), the mesh's rest hand pose (30,3) axis-angle). ``bone_y`` (B,3): each bone's
    T-posed direction. The flat hand straightens each finger (:func:`_flat_targets`) by the smallest rotations."""
    from core_models.hands import FINGERS, SIDES

    idx = {lab: i for i, lab in enumerate(labels)}
    F = np.zeros((30, 3))
    Q = np.zeros((30, 3))
    for s, side in enumerate(SIDES):
        for f, finger in enumerate(FINGERS):
            bones = [idx[f"finger{ANNY_FINGER[finger]}-{k}.{side[0].upper()}"] for k in (1, 2, 3)]
            P = Pc[bones]
            d = np.stack([P[1] - P[0], P[2] - P[1], bone_y[bones[2]]])
            d /= np.linalg.norm(d, axis=1, keepdims=True)
            want = _flat_targets(d, finger == "thumb")
            Rr_prev = np.eye(3)
            pos = P[0].copy()
            for k in range(3):
                j = 15 * s + 3 * f + k
                D = rotation_between_np(d[k], want[k])  # rest bone → flat bone (world)
                Rr = D.T  # the rest bone's orientation relative to its flat, world-aligned frame
                F[j] = pos
                Q[j] = matrix_to_aa_np(Rr_prev.T @ Rr)
                if k < 2:
                    pos = pos + D @ (P[k + 1] - P[k])
                Rr_prev = Rr
    return F, Q


def build_anny_layer(phenotype: dict | None = None) -> SkinningData:
    """Run Anny for a phenotype and build the SMPL-H T-pose layer (see module docstring).
    Stages: Anny rest mesh → T-pose rotations → skinning → frame change + SMPL-H joints → segment weights."""
    import torch

    ph = _phenotype(phenotype)
    m = _anny()
    with torch.no_grad():
        out = m(phenotype_kwargs={k: torch.tensor([float(v)], dtype=torch.float64) for k, v in ph.items()})
    rest_v = out["rest_vertices"][0].numpy()
    heads = out["rest_bone_heads"][0].numpy()
    labels = list(m.bone_labels)
    parents = np.asarray(m.bone_parents.cpu() if hasattr(m.bone_parents, "cpu") else m.bone_parents)
    idx = {lab: i for i, lab in enumerate(labels)}
    G, P = _tpose_globals(labels, parents, heads)
    wi = m.vertex_bone_indices.cpu().numpy()
    wv = m.vertex_bone_weights.cpu().numpy()
    tpose = _lbs(rest_v, G, P, heads, wi, wv)
    # frame change and SMPL-H joints
    C = ANNY_TO_CANON
    tpose = tpose @ C.T
    Pc = P @ C.T
    joints = np.stack([Pc[idx[JOINT_TO_ANNY_BONE[n]]] for n in sk.JOINT_NAMES])
    origin = joints[0].copy()
    tpose -= origin
    joints -= origin
    bone_y = np.einsum("ab,nbc,nc->na", C, G, out["rest_bone_poses"][0].numpy()[:, :3, 1])
    hand_joints, hand_rest = _hand_layer(labels, Pc - origin, bone_y)
    # skinning weights aggregated per SMPL-H segment
    seg = np.array([sk.JOINT_INDEX[anny_bone_to_joint(lab)] for lab in labels])
    W = np.zeros((rest_v.shape[0], sk.NUM_JOINTS))
    for k in range(wi.shape[1]):
        np.add.at(W, (np.arange(rest_v.shape[0]), seg[wi[:, k]]), wv[:, k])
    W /= np.maximum(W.sum(1, keepdims=True), 1e-12)
    W52 = _weights52(labels, wi, wv)
    widx, wval = sparsify_weights(W, k=4)
    faces = m.get_triangular_faces().cpu().numpy().astype(np.int32)
    uvs = face_uvs = None
    if getattr(m, "texture_coordinates", None) is not None:
        uvs = m.texture_coordinates.cpu().numpy().astype(np.float32)
        face_uvs = m.face_texture_coordinate_indices.cpu().numpy().astype(np.int32)
    tpose32 = tpose.astype(np.float32)
    return SkinningData(
        rest_vertices=tpose32, rest_normals=vertex_normals(tpose32, faces), faces=faces,
        rest_joints=joints.astype(np.float32), parents=sk.PARENTS.copy(), joint_names=sk.JOINT_NAMES,
        weights=W.astype(np.float32), weight_idx=widx, weight_val=wval, uvs=uvs, face_uvs=face_uvs,
        floor_height=float(tpose32[:, 1].min()), hand_rest_joints=hand_joints.astype(np.float32),
        hand_rest_pose=hand_rest.astype(np.float32), weights52=W52,
    )


def _weights52(labels: list[str], wi: np.ndarray, wv: np.ndarray) -> np.ndarray:
    """Anny's bone weights summed into the 52 SMPL-H segments (finger bones are their own segments)."""
    from core_models.hands import SMPLH52_NAMES

    index52 = {n: i for i, n in enumerate(SMPLH52_NAMES)}
    seg = np.array([index52[anny_bone_to_joint52(lab)] for lab in labels])
    V = wi.shape[0]
    W = np.zeros((V, 52))
    for k in range(wi.shape[1]):
        np.add.at(W, (np.arange(V), seg[wi[:, k]]), wv[:, k])
    W /= np.maximum(W.sum(1, keepdims=True), 1e-12)
    return W.astype(np.float32)


def _depth(parents, b: int) -> int:
    d = 0
    while parents[b] >= 0:
        b = int(parents[b])
        d += 1
    return d


def _cache_key(phenotype: dict) -> str:
    from importlib.metadata import version

    blob = json.dumps({"anny": version("anny"), "layer": _LAYER_VERSION,
                       "ph": {k: round(float(v), 4) for k, v in sorted(phenotype.items())}})
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


_FIELDS = ("rest_vertices", "rest_normals", "faces", "rest_joints", "parents", "weights", "weight_idx",
           "weight_val", "uvs", "face_uvs", "hand_rest_joints", "hand_rest_pose")
_W52_K = 8  # the cache keeps the 52-joint weights sparse (Anny: ≤ 7 per vertex, so exact): 0.9 MB instead of 2.9


def _pack_w52(W: np.ndarray) -> dict[str, np.ndarray]:
    idx = np.argsort(-W, axis=1, kind="stable")[:, :_W52_K].astype(np.int8)
    return {"weights52_idx": idx, "weights52_val": np.take_along_axis(W, idx.astype(np.int64), axis=1)}


def _unpack_w52(z) -> np.ndarray | None:
    if "weights52_idx" not in z.files:
        return None
    idx = z["weights52_idx"].astype(np.int64)
    W = np.zeros((idx.shape[0], 52), np.float32)
    np.put_along_axis(W, idx, z["weights52_val"].astype(np.float32), axis=1)
    return W


def load_anny_layer(phenotype: dict | None = None, use_cache: bool = True) -> SkinningData:
    """The SMPL-H layer for a phenotype, from the on-disk cache when present (fast app starts)."""
    ph = dict(DEFAULT_PHENOTYPE)
    ph.update(phenotype or {})
    path = None
    if use_cache:
        try:
            path = _cache_dir() / f"anny_smplh_{_cache_key(ph)}.npz"
            shipped = bundled_path("body_cache", path.name)  # the desktop bundle ships the default body
            if shipped is not None or path.exists():
                with np.load(shipped or path, allow_pickle=False) as z:
                    kw: dict[str, Any] = {f: (z[f] if f in z.files else None) for f in _FIELDS}
                    return SkinningData(joint_names=sk.JOINT_NAMES, floor_height=float(z["floor_height"]),
                                        weights52=_unpack_w52(z), **kw)
        except Exception:
            path = path if path is not None else None  # a broken cache file is rebuilt below
    data = build_anny_layer(ph)
    if use_cache and path is not None:
        tmp = path.with_suffix(".tmp.npz")
        arrays = {f: getattr(data, f) for f in _FIELDS if getattr(data, f) is not None}
        if data.weights52 is not None:
            arrays.update(_pack_w52(data.weights52))
        np.savez(tmp, floor_height=np.float32(data.floor_height), **arrays)
        os.replace(tmp, path)
    return data


class AnnyBody(LBSBody):
    """The default body: Anny's mesh on the SMPL-H 22-joint layer."""

    name = "anny"

    def __init__(self, phenotype: dict | None = None, use_cache: bool = True):
        self.phenotype = dict(DEFAULT_PHENOTYPE)
        self.phenotype.update(phenotype or {})
        super().__init__(load_anny_layer(self.phenotype, use_cache=use_cache))

    def with_phenotype(self, **changes) -> "AnnyBody":
        ph = dict(self.phenotype)
        ph.update(changes)
        return AnnyBody(ph)
