"""The body-model protocol every backend implements, and the shared SMPL-H-layer implementation.

A body model here is an SMPL-style LBS layer on the 22 SMPL-H body joints:
  * ``rest_vertices`` (V,3): the mesh in the zero pose (SMPL T-pose), y up, facing +z, metres,
    pelvis joint at the origin;
  * ``rest_joints`` (22,3): joint centres in that pose (joint frames are world-aligned at rest);
  * ``weights`` (V,22) skinning weights (rows sum to 1), also as a sparse top-K form;
  * ``faces`` (F,3) int32 triangles; optional UVs.
``forward(pose)`` returns posed vertices and joints: v = Σ_j w_vj · A_j(pose) · v_rest + transl,
where A_j comes from SMPL forward kinematics (core_models.kinematics).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix_np

if TYPE_CHECKING:
    import torch


@dataclass
class BodyOutput:
    """Result of a forward pass. Shapes follow the pose's batch shape (…)."""

    vertices: np.ndarray  # (...,V,3)
    joints: np.ndarray  # (...,22,3) posed joint centres (translation included)
    global_rotations: np.ndarray  # (...,22,3,3) world rotation of each joint frame
    skin_transforms: np.ndarray  # (...,22,3,4) rest→posed affine per joint (translation included)
    hand_joints: np.ndarray | None = None  # (...,30,3) posed hand joints (only when the pose has a hand_pose)
    hand_rotations: np.ndarray | None = None  # (...,30,3,3) their world rotations


@dataclass
class SkinningData:
    """Everything an exporter or the GPU viewport needs to skin the mesh itself."""

    rest_vertices: np.ndarray  # (V,3) float32
    rest_normals: np.ndarray  # (V,3) float32
    faces: np.ndarray  # (F,3) int32
    rest_joints: np.ndarray  # (22,3) float32
    parents: np.ndarray  # (22,) int64, -1 for the root
    joint_names: tuple[str, ...]
    weights: np.ndarray  # (V,22) float32 dense, rows sum to 1
    weight_idx: np.ndarray  # (V,K) int32 top-K joint indices
    weight_val: np.ndarray  # (V,K) float32 top-K weights (renormalised)
    uvs: np.ndarray | None = None  # (T,2) float32 texture coordinates
    face_uvs: np.ndarray | None = None  # (F,3) int32 index into uvs per triangle corner
    floor_height: float = 0.0  # y of the lowest rest vertex (the ground in the zero pose)
    # --- the hand layer (SMPL-H's 30 finger joints; all None for a body without finger bones) ---
    hand_rest_joints: np.ndarray | None = None  # (30,3) finger joint centres with *flat* hands (hand_pose = 0)
    hand_rest_pose: np.ndarray | None = None  # (30,3) axis-angle hand pose the mesh is modelled in
    weights52: np.ndarray | None = None  # (V,52) float32 weights on the 22 body + 30 hand joints

    @property
    def has_hands(self) -> bool:
        return self.weights52 is not None and self.hand_rest_joints is not None


@runtime_checkable
class BodyModel(Protocol):
    name: str

    @property
    def skinning(self) -> SkinningData: ...

    def forward(self, pose: Pose) -> BodyOutput: ...

    def joints(self, pose: Pose) -> np.ndarray: ...

    def forward_torch(self, rotmats: torch.Tensor, transl: torch.Tensor | None = None,
                      with_vertices: bool = True) -> tuple[torch.Tensor | None, torch.Tensor]: ...


def vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (no np.add.at: bincount per component is ~10x faster)."""
    v0, v1, v2 = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    fn = np.cross(v1 - v0, v2 - v0)
    n = np.zeros_like(verts)
    V = verts.shape[0]
    idx = faces.reshape(-1)
    fn3 = np.repeat(fn, 3, axis=0)
    for c in range(3):
        n[:, c] = np.bincount(idx, weights=fn3[:, c], minlength=V)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    return n.astype(np.float32)


def sparsify_weights(weights: np.ndarray, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Top-k joints per vertex, renormalised."""
    idx = np.argsort(-weights, axis=1)[:, :k].astype(np.int32)
    val = np.take_along_axis(weights, idx, axis=1).astype(np.float32)
    val /= np.maximum(val.sum(1, keepdims=True), 1e-12)
    return idx, val


def shader_weights(data: SkinningData, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The skin weights packed for the GPU: (V,k) int32 joint indices and (V,k) float32 weights taken from the
    dense ``weights`` (the ones the CPU skinning and the exporters use), largest first, zero-padded. When a
    vertex has at most ``k`` non-zero weights (Anny: ≤ 7, SMPL-H: ≤ 4) this is exact; otherwise the top ``k``
    are renormalised."""
    W = np.asarray(data.weights, np.float32)
    k_eff = min(k, W.shape[1])
    idx = np.argsort(-W, axis=1, kind="stable")[:, :k_eff].astype(np.int32)
    val = np.take_along_axis(W, idx, axis=1)
    dropped = W.sum(1) - val.sum(1)
    lossy = dropped > 1e-7
    if lossy.any():
        val[lossy] /= np.maximum(val[lossy].sum(1, keepdims=True), 1e-12) / W[lossy].sum(1, keepdims=True)
    out_i = np.zeros((W.shape[0], k), np.int32)
    out_v = np.zeros((W.shape[0], k), np.float32)
    out_i[:, :k_eff] = idx
    out_v[:, :k_eff] = val
    out_i[out_v == 0.0] = 0
    return out_i, out_v


def hand_skinning(data: SkinningData) -> SkinningData | None:
    """The 52-joint (SMPL-H: 22 body + 30 finger joints) view of a body with a hand layer, or None.
    ``rest_joints`` are the flat-hand (hand_pose = 0) joint centres with world-aligned frames; the mesh itself
    is bound at ``hand_rest_pose`` (see :func:`hand_bind`)."""
    if data.weights52 is None or data.hand_rest_joints is None:
        return None
    if len(data.joint_names) == 52:
        return data
    from core_models.hands import PARENTS52, SMPLH52_NAMES

    W = np.ascontiguousarray(data.weights52, np.float32)
    widx, wval = sparsify_weights(W, k=4)
    rest_pose = (np.zeros((30, 3), np.float32) if data.hand_rest_pose is None
                 else np.asarray(data.hand_rest_pose, np.float32))
    return dataclasses.replace(
        data, rest_joints=np.concatenate([data.rest_joints, data.hand_rest_joints]).astype(np.float32),
        parents=PARENTS52.copy(), joint_names=SMPLH52_NAMES, weights=W, weight_idx=widx, weight_val=wval,
        hand_rest_pose=rest_pose)


def hand_bind(data52: SkinningData) -> tuple[np.ndarray, np.ndarray]:
    """Where the 52 joints sit in the mesh's own rest (body in the zero pose, hands at ``hand_rest_pose``):
    (world rotations (52,3,3), positions (52,3)) float64. Body joints: identity at ``rest_joints``."""
    R = np.tile(np.eye(3), (52, 1, 1))
    if data52.hand_rest_pose is not None:
        R[22:] = aa_to_matrix_np(data52.hand_rest_pose)
    Rg, J, _ = kin.fk_numpy(R, data52.rest_joints.astype(np.float64), data52.parents)
    return Rg, J


def skin52(data52: SkinningData, bind: tuple[np.ndarray, np.ndarray], full: np.ndarray,
           hands: np.ndarray | None, transl: np.ndarray):
    """52-joint FK for poses (…,22,3) + hands (…,30,3) (None: the mesh's rest hand) → (Rg (…,52,3,3),
    joints (…,52,3) with translation, skin (…,52,3,4) mesh-rest → posed, translation included)."""
    full = np.asarray(full, np.float64)
    batch = full.shape[:-2]
    if hands is None:
        rest_h = np.zeros((30, 3)) if data52.hand_rest_pose is None else data52.hand_rest_pose
        hands = np.broadcast_to(rest_h, batch + (30, 3))
    R = aa_to_matrix_np(np.concatenate([full, np.asarray(hands, np.float64)], axis=-2))
    Rg, J, _ = kin.fk_numpy(R, data52.rest_joints.astype(np.float64), data52.parents)
    bR, bt = bind
    M = Rg @ np.swapaxes(bR, -1, -2)  # G_j · inverse(bind_j)
    t = np.asarray(transl, np.float64)[..., None, :]
    J = J + t
    skin = np.concatenate([M, (J - np.einsum("...jab,jb->...ja", M, bt))[..., None]], axis=-1)
    return Rg, J, skin


class LBSBody:
    """Shared implementation of the SMPL-H layer from SkinningData (numpy fast path + torch path)."""

    name = "lbs"

    def __init__(self, data: SkinningData):
        self._data = data
        self._rest_j64 = data.rest_joints.astype(np.float64)
        self._t_weights: torch.Tensor | None = None
        self._W32 = np.ascontiguousarray(data.weights, dtype=np.float32)
        v = data.rest_vertices.astype(np.float32)
        self._rest_h = np.concatenate([v, np.ones((v.shape[0], 1), np.float32)], axis=1)
        self._data52 = hand_skinning(data)
        self._bind52 = None if self._data52 is None else hand_bind(self._data52)

    @property
    def skinning(self) -> SkinningData:
        return self._data

    @property
    def skinning_hands(self) -> SkinningData | None:
        """The 52-joint layer (22 body + 30 finger joints, SMPL-H order) or None when the body has no fingers."""
        return self._data52

    @property
    def faces(self) -> np.ndarray:
        return self._data.faces

    @property
    def rest_joints(self) -> np.ndarray:
        return self._data.rest_joints

    def _fk(self, pose: Pose):
        R = aa_to_matrix_np(pose.full())  # numpy Rodrigues (= roma.rotvec_to_rotmat; no torch on this path)
        Rg, J, skin = kin.fk_numpy(R, self._rest_j64, self._data.parents)
        t = pose.transl.astype(np.float64)
        J = J + t[..., None, :]
        skin = skin.copy()
        skin[..., 3] += t[..., None, :]
        return Rg, J, skin

    def joints(self, pose: Pose) -> np.ndarray:
        return self._fk(pose)[1].astype(np.float32)

    def _skin_one(self, skin12: np.ndarray) -> np.ndarray:
        """skin12 (22,12) float32 → (V,3): blend the per-joint affine maps, apply to homogeneous rest."""
        M = (self._W32 @ skin12).reshape(-1, 3, 4)
        return np.einsum("vij,vj->vi", M, self._rest_h)

    def forward(self, pose: Pose) -> BodyOutput:
        """Exact LBS with the dense weights in float32 (≈1.5 ms for Anny's 13.7k vertices on 2 cores). With a
        ``hand_pose`` (and a body with finger bones) the 52-joint layer skins the fingers too."""
        if pose.hand_pose is not None and self._data52 is not None:
            return self._forward52(pose)
        Rg, J, skin = self._fk(pose)
        skin32 = skin.astype(np.float32)
        flat = skin32.reshape(-1, sk.NUM_JOINTS, 12)
        verts = np.stack([self._skin_one(s) for s in flat]).reshape(*pose.batch_shape, -1, 3)
        return BodyOutput(verts, J.astype(np.float32), Rg.astype(np.float32), skin32)

    def _forward52(self, pose: Pose) -> BodyOutput:
        assert self._data52 is not None and self._bind52 is not None
        Rg, J, skin = skin52(self._data52, self._bind52, pose.full(), pose.hand_pose, pose.transl)
        skin32 = skin.astype(np.float32)
        W52 = self._data52.weights
        flat = skin32.reshape(-1, 52, 12)
        verts = np.stack([np.einsum("vij,vj->vi", (W52 @ s).reshape(-1, 3, 4), self._rest_h) for s in flat])
        verts = verts.reshape(*pose.batch_shape, -1, 3)
        J32, R32 = J.astype(np.float32), Rg.astype(np.float32)
        return BodyOutput(verts, J32[..., :22, :], R32[..., :22, :, :], skin32[..., :22, :, :],
                          hand_joints=J32[..., 22:, :], hand_rotations=R32[..., 22:, :, :])

    def forward_torch(self, rotmats: torch.Tensor, transl: torch.Tensor | None = None,
                      with_vertices: bool = True):
        """Differentiable batch forward for training: rotmats (...,22,3,3) → (vertices|None, joints)."""
        import torch

        dev, dt = rotmats.device, rotmats.dtype
        rest_j = torch.as_tensor(self._data.rest_joints, device=dev, dtype=dt)
        _, J, skin = kin.fk_torch(rotmats, rest_j, self._data.parents)
        if transl is not None:
            J = J + transl.unsqueeze(-2)
        if not with_vertices:
            return None, J
        if self._t_weights is None or self._t_weights.device != dev or self._t_weights.dtype != dt:
            self._t_weights = torch.as_tensor(self._data.weights, device=dev, dtype=dt)
            self._t_rest_v = torch.as_tensor(self._data.rest_vertices, device=dev, dtype=dt)
        V = kin.lbs_dense_torch(skin, self._t_weights, self._t_rest_v)
        if transl is not None:
            V = V + transl.unsqueeze(-2)
        return V, J
