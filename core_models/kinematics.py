"""Forward kinematics and linear blend skinning on the SMPL-H 22-joint tree (numpy and torch).

The rest skeleton is given by joint positions in the zero pose (T-pose, world-aligned joint frames).
FK follows SMPL: G_j = G_parent(j) · [R_j | J_j - J_parent(j)], posed joint j = translation of G_j,
skinning transform A_j = G_j · [I | -J_j].
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core_models import skeleton as sk

if TYPE_CHECKING:
    import torch

_PARENTS = sk.PARENTS


def fk_numpy(rotmats: np.ndarray, rest_joints: np.ndarray, parents: np.ndarray = _PARENTS):
    """rotmats (...,J,3,3) local; rest_joints (J,3) or (...,J,3).

    Returns (global_rot (...,J,3,3), joints (...,J,3), skin (...,J,3,4)) where skin maps a rest-pose
    point to its posed position for a vertex rigidly attached to joint j (no root translation)."""
    J = rotmats.shape[-3]
    batch = rotmats.shape[:-3]
    rest = np.broadcast_to(rest_joints, batch + (J, 3))
    Rg = np.empty(batch + (J, 3, 3), dtype=rotmats.dtype)
    tg = np.empty(batch + (J, 3), dtype=rotmats.dtype)
    Rg[..., 0, :, :] = rotmats[..., 0, :, :]
    tg[..., 0, :] = rest[..., 0, :]
    for j in range(1, J):
        p = parents[j]
        Rg[..., j, :, :] = Rg[..., p, :, :] @ rotmats[..., j, :, :]
        off = rest[..., j, :] - rest[..., p, :]
        tg[..., j, :] = tg[..., p, :] + np.einsum("...ij,...j->...i", Rg[..., p, :, :], off)
    skin_t = tg - np.einsum("...jab,...jb->...ja", Rg, rest)
    skin = np.concatenate([Rg, skin_t[..., None]], axis=-1)
    return Rg, tg, skin


def fk_torch(rotmats: torch.Tensor, rest_joints: torch.Tensor, parents: np.ndarray = _PARENTS):
    """Torch twin of :func:`fk_numpy` (differentiable, any batch shape)."""
    import torch  # (lazy: numpy users of this module never load torch)

    J = rotmats.shape[-3]
    batch = rotmats.shape[:-3]
    rest = rest_joints.expand(*batch, J, 3)
    Rg = [rotmats[..., 0, :, :]]
    tg = [rest[..., 0, :]]
    for j in range(1, J):
        p = int(parents[j])
        Rg.append(Rg[p] @ rotmats[..., j, :, :])
        off = rest[..., j, :] - rest[..., p, :]
        tg.append(tg[p] + (Rg[p] @ off.unsqueeze(-1)).squeeze(-1))
    Rg_t = torch.stack(Rg, -3)
    tg_t = torch.stack(tg, -2)
    skin_t = tg_t - (Rg_t @ rest.unsqueeze(-1)).squeeze(-1)
    skin = torch.cat([Rg_t, skin_t.unsqueeze(-1)], -1)
    return Rg_t, tg_t, skin


def lbs_numpy(skin: np.ndarray, weight_idx: np.ndarray, weight_val: np.ndarray, rest_verts: np.ndarray):
    """Sparse LBS. skin (J,3,4); weight_idx/val (V,K) top-K joints per vertex; rest_verts (V,3)."""
    T = skin.reshape(-1, 12)[weight_idx]  # (V,K,12)
    M = np.einsum("vk,vkc->vc", weight_val, T).reshape(-1, 3, 4)
    return np.einsum("vij,vj->vi", M[:, :, :3], rest_verts) + M[:, :, 3]


def lbs_dense_torch(skin: torch.Tensor, weights: torch.Tensor, rest_verts: torch.Tensor):
    """Dense batched LBS. skin (...,J,3,4); weights (V,J); rest_verts (V,3) or (...,V,3)."""
    import torch

    M = torch.einsum("vj,...jc->...vc", weights, skin.flatten(-2)).unflatten(-1, (3, 4))
    return (M[..., :3] @ rest_verts.unsqueeze(-1)).squeeze(-1) + M[..., 3]
