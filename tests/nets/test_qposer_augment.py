"""QPoser generalisation options (issue #18): pose augmentations (twist noise, rotation noise, per-joint slerp),
the perturbed-input and code-mix consistency terms, their command-line options, and LOSO with them."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core_models import skeleton as sk
from core_models.nets.qposer.augment import (
    DISTAL_JOINTS,
    Augment,
    augment_batch,
    distal_noise,
    interpolate_batch,
    perturb,
    rotation_noise,
    slerp_rotmats,
    twist_axes,
    twist_noise,
)
from core_models.nets.qposer.model import QPoserConfig, body_rotmats, joints_of, mpjae_deg
from core_models.nets.qposer.train import (
    CONFIGS,
    add_train_args,
    augment_options,
    mix_consistency,
    perturbed_consistency,
    train_prior,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = QPoserConfig.from_dict({**QPoserConfig().to_dict(), **CONFIGS["tiny"]["model"]})


def _R(n: int = 32, seed: int = 0, scale: float = 0.6) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return body_rotmats(rng.normal(size=(n, 21, 3)).astype(np.float32) * scale)


def _assert_rotations(R: torch.Tensor) -> None:
    eye = torch.eye(3).expand_as(R)
    assert torch.allclose(R @ R.transpose(-1, -2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(R), torch.ones(R.shape[:-2]), atol=1e-5)


def test_twist_axes_follow_the_bones():
    axes = twist_axes()
    assert axes.shape == (21, 3) and torch.allclose(axes.norm(dim=-1), torch.ones(21), atol=1e-6)
    # the left elbow twists about the forearm (elbow → wrist), the left wrist (a leaf) about the same bone
    e, w = sk.JOINT_INDEX["left_elbow"], sk.JOINT_INDEX["left_wrist"]
    fore = torch.as_tensor(sk.DEFAULT_REST_JOINTS[w] - sk.DEFAULT_REST_JOINTS[e], dtype=torch.float32)
    assert torch.allclose(axes[e - 1], fore / fore.norm(), atol=1e-6)
    assert torch.allclose(axes[w - 1], axes[e - 1], atol=1e-6)


def test_twist_noise_only_twists():
    R = _R()
    g = torch.Generator().manual_seed(0)
    T = twist_noise(R, 30.0, g)
    assert T.shape == R.shape
    _assert_rotations(T)
    rel = R.transpose(-1, -2) @ T  # the applied local rotation: about the joint's own bone axis only
    axes = twist_axes()
    assert torch.allclose(rel @ axes[None, :, :, None], axes[None, :, :, None].expand(len(R), -1, -1, -1), atol=1e-5)
    ang = torch.rad2deg(torch.acos(((rel.diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2).clamp(-1, 1)))
    assert float(ang.max()) <= 30.0 + 1e-3 and float(ang.mean()) > 5.0
    # twisting one joint leaves its child where it was: the left knee's twist moves the ankle nowhere (only the
    # foot, below the ankle, rolls about the shin)
    one = R.clone()
    k = sk.JOINT_INDEX["left_knee"] - 1
    one[:, k] = T[:, k]
    moved = (joints_of(one) - joints_of(R)).norm(dim=-1).amax(0)
    assert float(moved[sk.JOINT_INDEX["left_ankle"]]) < 1e-5
    still = [j for j in range(sk.NUM_JOINTS) if j != sk.JOINT_INDEX["left_foot"]]
    assert float(moved[still].max()) < 1e-5 and float(moved[sk.JOINT_INDEX["left_foot"]]) > 1e-3
    # while a general rotation of the knee moves the ankle
    other = R.clone()
    other[:, k] = rotation_noise(R, 20.0, g)[:, k]
    assert (joints_of(other) - joints_of(R)).norm(dim=-1).max() > 1e-2


def test_rotation_noise_scale():
    R = _R()
    N = rotation_noise(R, 3.0, torch.Generator().manual_seed(1))
    _assert_rotations(N)
    e = float(mpjae_deg(N, R).mean())
    assert 2.0 < e < 8.0  # |ω| of a 3-D N(0, 3°²) vector is ≈ 4.8° on average


def test_slerp_endpoints_midpoint_and_rotations():
    A, B = _R(seed=1), _R(seed=2)
    assert torch.allclose(slerp_rotmats(A, B, 0.0), A, atol=1e-5)
    assert torch.allclose(slerp_rotmats(A, B, 1.0), B, atol=1e-4)
    M = slerp_rotmats(A, B, torch.full((len(A),), 0.5))
    _assert_rotations(M)
    # the midpoint is geodesically halfway on every joint
    d_am, d_mb = (torch.rad2deg(torch.acos((((X.transpose(-1, -2) @ Y).diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2)
                                           .clamp(-1, 1))) for X, Y in ((A, M), (M, B)))
    assert torch.allclose(d_am, d_mb, atol=1e-2)


def test_distal_noise_moves_the_toes_wrists_neck_and_head_alone():
    R = _R(64, seed=5)
    out = distal_noise(R, 10.0, torch.Generator().manual_seed(0))
    _assert_rotations(out)
    angle = torch.rad2deg(torch.acos(((((R.transpose(-1, -2) @ out).diagonal(dim1=-2, dim2=-1)
                                          .sum(-1)) - 1) / 2).clamp(-1, 1)))
    names = [sk.JOINT_NAMES[j + 1] for j in DISTAL_JOINTS]
    assert sorted(names) == sorted(["left_foot", "right_foot", "neck", "head", "left_wrist", "right_wrist"])
    others = [j for j in range(sk.NUM_BODY_JOINTS) if j not in DISTAL_JOINTS]
    assert torch.equal(out[:, others], R[:, others])
    # sigma 10 deg per axis: the rotation angle follows a Maxwell law with mean 2·sqrt(2/pi)·10 ≈ 16 deg
    assert 12.0 < float(angle[:, list(DISTAL_JOINTS)].mean()) < 20.0
    # on a share of the rows only, through the command-line option
    aug = augment_options(_args("--aug-distal", "10"))
    assert aug == Augment(distal_deg=10.0) and aug.active()
    T = augment_batch(R, R, aug, torch.Generator().manual_seed(1))
    changed = (T - R).abs().flatten(1).amax(1) > 1e-6
    assert int(changed.sum()) == 32
    with pytest.raises(SystemExit, match="--aug-distal must be a finite number"):
        augment_options(_args("--aug-distal", "nan"))


def test_interpolate_batch_replaces_the_asked_share():
    R, pool = _R(40, seed=3), _R(10, seed=4)
    out = interpolate_batch(R, pool, 0.25, torch.Generator().manual_seed(0))
    changed = (out - R).abs().flatten(1).amax(1) > 1e-6
    assert out.shape == R.shape and int(changed.sum()) == 10
    _assert_rotations(out)
    assert interpolate_batch(R, pool, 0.0) is R


def test_augment_batch_and_perturb_shapes():
    R = _R(20)
    aug = Augment(interp=0.5, twist_deg=10.0, perturb=1.0, mix=1.0)
    g = torch.Generator().manual_seed(0)
    T = augment_batch(R, R, aug, g)
    P = perturb(T, aug, g)
    assert T.shape == P.shape == R.shape
    _assert_rotations(T)
    _assert_rotations(P)
    assert 0 < float(mpjae_deg(P, T).mean()) < 15
    assert not Augment().active() and aug.active()


def test_consistency_terms_are_finite_and_reach_the_encoder():
    from core_models.nets.qposer.model import QPoser

    torch.manual_seed(0)
    m = QPoser(TINY).train()
    R = _R(16)
    _zq, idx, _ = m.quantize(m.encode_continuous(R))
    loss = perturbed_consistency(m, perturb(R[:8], Augment(perturb=1.0)), R[:8])
    loss = loss + mix_consistency(m, idx[:8], torch.rand(8, len(m.groups)) < 0.5)
    assert torch.isfinite(loss)
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.encoder.parameters())


def test_tiny_training_step_with_every_option_is_finite():
    torch.set_num_threads(1)
    R = _R(64, scale=0.3)
    logs: list[str] = []
    aug = Augment(interp=0.3, twist_deg=10.0, perturb=1.0, mix=1.0)
    model, stats = train_prior(TINY, R, R[:16], steps=3, minutes=1.0, batch=32, lr=1e-3, log_every=1,
                               logf=logs.append, w_cc=1.0, aug=aug)
    assert stats["steps"] == 3 and len(logs) == 3
    losses = [float(s.split(" loss ")[1].split()[0]) for s in logs]
    assert all(np.isfinite(losses))
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_without_options_the_training_is_unchanged():
    """Off by default: the options leave the batches and the loss of a plain run alone (same seed → same weights)."""
    torch.set_num_threads(1)
    R = _R(64, scale=0.3)
    a, _ = train_prior(TINY, R, None, steps=4, minutes=1.0, batch=16, lr=1e-3, log_every=0, w_cc=1.0)
    b, _ = train_prior(TINY, R, None, steps=4, minutes=1.0, batch=16, lr=1e-3, log_every=0, w_cc=1.0,
                       aug=Augment())
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), k


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_train_args(p)
    return p.parse_args(list(argv))


def test_command_line_options():
    assert augment_options(_args()) is None  # the shipped recipe replays unchanged
    aug = augment_options(_args("--aug-interp", "0.25", "--aug-twist", "10", "--perturb-consistency", "0.5",
                                "--mix-consistency", "1"))
    assert aug == Augment(interp=0.25, twist_deg=10.0, perturb=0.5, mix=1.0)
    with pytest.raises(SystemExit, match="--aug-interp is a share"):
        augment_options(_args("--aug-interp", "2"))
    with pytest.raises(SystemExit, match="--perturb-consistency must be a finite number"):
        augment_options(_args("--perturb-consistency", "-1"))


def test_loso_fine_tune_with_the_options_records_them_and_is_accepted(tmp_path):
    from tests.nets.test_loso import make_corpus

    c = make_corpus(tmp_path)
    w1, w2 = tmp_path / "w1", tmp_path / "w2"
    base = [sys.executable, "main.py", "train", "qposer", "--config", "tiny", "--corpus", str(c),
            "--exclude-source", "src_b"]
    r = subprocess.run([*base, "--weights-dir", str(w1), "--steps", "10"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    r = subprocess.run([*base, "--weights-dir", str(w2), "--steps", "5", "--init-from", str(w1), "--consistency",
                        "1", "--aug-interp", "0.25", "--perturb-consistency", "1", "--mix-consistency", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    man = json.loads((w2 / "qposer.json").read_text())
    assert man["augment"]["mix"] == 1.0 and man["augment"]["interp"] == 0.25
    assert " && " in man["command"] and "--mix-consistency 1" in man["command"]
    from core_models.nets.training import loso

    args = argparse.Namespace(corpus=str(c), loso="src_b", allow_seen_source=False, weights_dir=str(w2))
    loso.apply_eval(args, "qposer")  # trained without src_b: accepted
    assert args.corpus.endswith("only-src_b")


@pytest.mark.parametrize("r", [0, 1, 2])
def test_each_rank_gets_the_perturbed_copy_of_its_own_clean_poses(monkeypatch, r):
    """Under torchrun every part of the augmented batch is cut into shares on its own: the perturbed copy must come
    with its clean poses (the first version paired a rank's perturbed share with other clean poses)."""
    from core_models.nets.qposer.train import _aug_batch
    from core_models.nets.training import distributed as dist

    monkeypatch.setattr(dist, "active", lambda: True)
    monkeypatch.setattr(dist, "world_size", lambda: 3)
    monkeypatch.setattr(dist, "rank", lambda: r)
    R = _R(30, seed=5)
    aug = Augment(perturb=1.0, perturb_deg=1.0, perturb_twist_deg=0.0, mix=1.0)
    T, P, P_clean, swap = dist.shard(_aug_batch(R, R, aug, 7, torch.Generator().manual_seed(0)))
    assert len(T) == 10 and len(P) == len(P_clean) == len(swap) == 5
    assert float(mpjae_deg(P, P_clean).max()) < 6.0  # its own poses, one degree of noise
    assert float(mpjae_deg(P, _R(30, seed=5)[r * 5:(r + 1) * 5]).max()) < 6.0
