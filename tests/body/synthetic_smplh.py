"""Builds a small synthetic SMPL-H model file in the official .npz format (official files can't ship).

The mesh is a subsample of the Anny layer's T-pose plus one vertex per joint, with the template shifted so
that its pelvis sits where an SMPL template's does; J_regressor picks the joint vertices, so the model's
rest joints equal the Anny layer's exactly."""
from __future__ import annotations

import numpy as np

from core_models import skeleton as sk

SMPL_PELVIS = np.array([0.0, -0.223, 0.028])


def smplh_parents() -> np.ndarray:
    par = list(sk.PARENTS)
    for wrist in (20, 21):
        for f in range(5):
            base = len(par)
            par += [wrist, base, base + 1]
    return np.array(par)


def build(path, layer, stride: int = 12, seed: int = 0, posedirs_scale: float = 0.0) -> None:
    rng = np.random.default_rng(seed)
    sub = np.arange(0, layer.rest_vertices.shape[0], stride)
    V0 = len(sub)
    joints52 = np.zeros((52, 3))
    joints52[:22] = layer.rest_joints
    par = smplh_parents()
    for j in range(22, 52):  # finger joints laid out beyond the wrist
        joints52[j] = joints52[par[j]] + np.array([0.03 if j < 37 else -0.03, 0, 0])
    verts = np.concatenate([layer.rest_vertices[sub], joints52]) + SMPL_PELVIS
    V = len(verts)
    W = np.zeros((V, 52))
    W[:V0, :22] = layer.weights[sub]
    W[V0 + np.arange(52), np.arange(52)] = 1.0
    Jreg = np.zeros((52, V))
    Jreg[np.arange(52), V0 + np.arange(52)] = 1.0
    faces = layer.faces[np.all(np.isin(layer.faces, sub), axis=1)]
    remap = -np.ones(layer.rest_vertices.shape[0], np.int64)
    remap[sub] = np.arange(V0)
    faces = remap[faces]
    np.savez(
        path,
        v_template=verts, f=faces.astype(np.uint32), J_regressor=Jreg, weights=W,
        kintree_table=np.stack([np.where(par < 0, 2**32 - 1, par), np.arange(52)]).astype(np.int64),
        shapedirs=rng.normal(0, 0.002, (V, 3, 16)), posedirs=rng.normal(0, posedirs_scale, (V, 3, 51 * 9)),
        hands_componentsl=np.eye(45), hands_componentsr=np.eye(45),
        hands_meanl=np.zeros(45), hands_meanr=np.zeros(45),
    )
