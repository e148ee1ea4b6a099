"""Shared nets code: the rotation maths now goes through core_models.pose (same 6D layout and values as the
hand-written helpers the shipped models were trained with), one TIRG, one PairData."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core_models.nets.common.layers import TIRG
from core_models.nets.lifter.model import procrustes_align
from core_models.nets.training.pairs import PairData, concat_pairs
from core_models.pose import aa_to_matrix, matrix_to_6d, sixd_to_matrix

# --- the previous hand-written helpers, kept here only as the reference the swap must reproduce ----------

def _old_rot6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    b1 = F.normalize(d6[..., :3], dim=-1, eps=1e-8)
    a2 = d6[..., 3:6]
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1, eps=1e-8)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-1)


def _old_matrix_to_rot6d(R: torch.Tensor) -> torch.Tensor:
    return R[..., :, :2].transpose(-1, -2).reshape(*R.shape[:-2], 6)


def _old_procrustes(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    mp, mt = pred.mean(1, keepdim=True), target.mean(1, keepdim=True)
    X, Y = pred - mp, target - mt
    U, S, Vt = torch.linalg.svd(X.transpose(1, 2) @ Y)
    d = torch.sign(torch.linalg.det(Vt.transpose(1, 2) @ U.transpose(1, 2)))
    D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
    R = Vt.transpose(1, 2) @ D @ U.transpose(1, 2)
    scale = (S * torch.diagonal(D, dim1=1, dim2=2)).sum(-1) / X.pow(2).sum((1, 2)).clamp_min(1e-9)
    return scale[:, None, None] * X @ R.transpose(1, 2) + mt


def test_6d_layout_and_values_match_the_trained_convention():
    g = torch.Generator().manual_seed(0)
    R = aa_to_matrix(torch.randn(64, 22, 3, generator=g))
    assert torch.equal(matrix_to_6d(R), _old_matrix_to_rot6d(R))  # columns c0 then c1, same flattening
    d6 = torch.randn(500, 6, generator=g)
    assert torch.allclose(sixd_to_matrix(d6), _old_rot6d_to_matrix(d6), atol=1e-5)
    d6.requires_grad_(True)
    sixd_to_matrix(d6).sum().backward()  # the decoders train through it
    assert d6.grad is not None and torch.isfinite(d6.grad).all()


def test_axis_angle_matches_rodrigues_near_zero_and_large_angles():
    aa = torch.cat([torch.randn(200, 3) * 1e-5, torch.randn(200, 3), torch.randn(200, 3) * 3.0])
    theta = aa.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    k = aa / theta
    K = torch.zeros(len(aa), 3, 3)
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 0] = -k[:, 2], k[:, 1], k[:, 2]
    K[:, 1, 2], K[:, 2, 0], K[:, 2, 1] = -k[:, 0], -k[:, 1], k[:, 0]
    s, c = torch.sin(theta)[..., None], torch.cos(theta)[..., None]
    rodrigues = torch.eye(3) + s * K + (1 - c) * (K @ K)
    assert torch.allclose(aa_to_matrix(aa), rodrigues, atol=1e-5)


def test_procrustes_align_matches_the_svd_version_including_reflections():
    g = torch.Generator().manual_seed(1)
    target = torch.randn(16, 22, 3, generator=g)
    R = aa_to_matrix(torch.randn(16, 3, generator=g))
    pred = 1.7 * target @ R.transpose(-1, -2) + torch.randn(16, 1, 3, generator=g) + 0.05 * torch.randn(
        16, 22, 3, generator=g)
    pred[::4] = pred[::4] * torch.tensor([-1.0, 1.0, 1.0])  # mirrored: the best rotation is not a reflection
    assert torch.allclose(procrustes_align(pred, target), _old_procrustes(pred, target), atol=1e-4)


def test_one_tirg_keeps_both_parameter_layouts():
    editor_like = TIRG(256, 128, activation=torch.nn.ReLU)
    corrector_like = TIRG(64)
    for t, d_in in ((editor_like, 384), (corrector_like, 128)):
        assert sorted(t.state_dict()) == ["f.0.bias", "f.0.weight", "f.2.bias", "f.2.weight", "g.0.bias",
                                          "g.0.weight", "g.2.bias", "g.2.weight", "w"]
        assert t.f[0].in_features == d_in
    assert isinstance(editor_like.f[1], torch.nn.ReLU) and isinstance(corrector_like.f[1], torch.nn.GELU)
    out = editor_like(torch.randn(2, 256), torch.randn(2, 128))
    assert out.shape == (2, 256)


def test_pair_data_gives_both_pose_forms():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 0.4, (5, 22, 3)).astype(np.float32), rng.normal(0, 0.4, (5, 22, 3)).astype(np.float32)
    p = PairData(a, b, [["raise the arm"]] * 5)
    assert p.a is not None and np.array_equal(p.a, a)  # kept exactly as given
    assert torch.allclose(p.A, aa_to_matrix(torch.from_numpy(a)), atol=1e-6)
    assert (p.kind == 0).all() and list(p.pair_index) == list(range(5))
    q = PairData(p.A, p.B, p.texts, np.ones(5, np.int8), np.arange(5) + 10)
    assert torch.equal(q.A, p.A)  # kept exactly as given
    assert np.allclose(q.a, a, atol=1e-5)
    both = concat_pairs(p, q)
    assert len(both) == 10 and list(both.kind) == [0] * 5 + [1] * 5
    with pytest.raises(ValueError):
        PairData(a, b, [["x"]])
