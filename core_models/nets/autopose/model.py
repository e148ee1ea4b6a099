"""Auto-posing network (ours): a few effector positions (+ optionally the start pose) → the whole body pose.

Input (all in the body's heading frame, positions relative to the pelvis, metres):
  * the 11 effectors of :data:`core_models.posing.EFFECTORS` (33 values) with a presence mask (11): missing
    effectors are zeroed; trained with random subsets (the six Cascadeur effectors — pelvis, neck, wrists,
    ankles — most of the time, plus head / elbows / knees);
  * optionally the start pose (22 local rotations in 6D, root heading-normalised) and a flag saying it is there.
Output: 22 local rotations in 6D (root orientation in the heading frame + the 21 body joints) as a residual on
the start pose (or on the zero pose without one), so "no change" is easy to represent.
Net: input Linear → ``blocks`` pre-norm residual MLP blocks (LayerNorm, Linear, GELU, Linear) → Linear; about
1.4 M parameters in the default configuration (one forward pass ≈ 0.3 ms on one CPU thread).

:func:`limit_excess` is the differentiable joint-limit penalty (intrinsic XYZ Euler angles of both exact
decompositions against :data:`core_models.skeleton.JOINT_LIMITS_DEG`, the smaller excess counts)."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from core_models import skeleton as sk
from core_models.posing.effectors import NUM_EFFECTORS

DEFAULT_CONFIG: dict = dict(hidden=512, blocks=3, use_start=True)
IDENTITY_6D = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])


class _Block(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, d), nn.Linear(d, d)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.act(self.fc1(self.norm(x))))


class AutoPoseNet(nn.Module):
    """(effectors (B,11,3), mask (B,11), start6d (B,22,6) | None) → (B,22,6) local rotations in 6D."""

    def __init__(self, cfg: dict | None = None):
        super().__init__()
        c = dict(DEFAULT_CONFIG, **(cfg or {}))
        self.cfg = c
        d = int(c["hidden"])
        n_in = NUM_EFFECTORS * 4 + (sk.NUM_JOINTS * 6 + 1 if c["use_start"] else 0)
        self.inp = nn.Linear(n_in, d)
        self.blocks = nn.ModuleList([_Block(d) for _ in range(int(c["blocks"]))])
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, sk.NUM_JOINTS * 6)
        nn.init.zeros_(self.out.weight)  # starts as "the start pose" (or the zero pose)
        nn.init.zeros_(self.out.bias)

    def forward(self, eff: torch.Tensor, mask: torch.Tensor, start6d: torch.Tensor | None = None,
                has_start: torch.Tensor | None = None) -> torch.Tensor:
        """``has_start`` (B,) marks the rows whose ``start6d`` is real (default: all when start6d is given)."""
        B = eff.shape[0]
        m = mask.to(eff.dtype)
        parts = [(eff * m[..., None]).reshape(B, -1), m]
        base = IDENTITY_6D.to(eff).expand(B, sk.NUM_JOINTS, 6)
        if self.cfg["use_start"]:
            if start6d is None:
                parts.append(torch.zeros(B, sk.NUM_JOINTS * 6 + 1, dtype=eff.dtype, device=eff.device))
            else:
                hs = (torch.ones(B, dtype=eff.dtype, device=eff.device) if has_start is None
                      else has_start.to(eff.dtype))[:, None]
                s6 = start6d.reshape(B, -1) * hs
                parts += [s6, hs]
                base = torch.where(hs[..., None] > 0, start6d, base)
        h = self.inp(torch.cat(parts, -1))
        for blk in self.blocks:
            h = blk(h)
        return base + self.out(self.norm(h)).reshape(B, sk.NUM_JOINTS, 6)


def build_model(cfg: dict | None = None) -> AutoPoseNet:
    return AutoPoseNet(cfg)


_LIMITS_RAD = torch.tensor(sk.JOINT_LIMITS_DEG * math.pi / 180.0, dtype=torch.float32)  # (22,3,2)


def _wrap(a: torch.Tensor) -> torch.Tensor:
    return torch.remainder(a + math.pi, 2 * math.pi) - math.pi


def limit_excess(R: torch.Tensor) -> torch.Tensor:
    """(...,22,3,3) local rotations → (...,22) excess (radians) beyond the joint limits (root: 0). Smooth enough
    for a penalty; the gimbal-aware check of :func:`core_models.pose.limit_violation_deg` is the reference."""
    a = torch.atan2(-R[..., 1, 2], R[..., 2, 2])
    b = torch.asin(R[..., 0, 2].clamp(-1 + 1e-6, 1 - 1e-6))
    c = torch.atan2(-R[..., 0, 1], R[..., 0, 0])
    e1 = torch.stack([a, b, c], -1)
    e2 = _wrap(torch.stack([a + math.pi, math.pi - b, c + math.pi], -1))
    lim = _LIMITS_RAD.to(R)
    lo, hi = lim[..., 0], lim[..., 1]

    def excess(e: torch.Tensor) -> torch.Tensor:
        return (torch.relu(lo - e) + torch.relu(e - hi)).max(-1).values

    out = torch.minimum(excess(e1), excess(e2))
    return out * (torch.arange(sk.NUM_JOINTS, device=R.device) > 0).to(out)
