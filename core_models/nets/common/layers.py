"""Small layers shared by several models."""
from __future__ import annotations

import torch
from torch import nn


class TIRG(nn.Module):
    """Text-image residual gating (Vo et al. 2019): ``p = w_f·σ(f([main, mod]))⊙main + w_g·g([main, mod])``,
    ``f`` and ``g`` 2-layer MLPs (``dim + mod_dim → hidden → dim``).

    The editor fuses pose features with text (``TIRG(pose_dim, text_dim, activation=nn.ReLU)``), the corrector
    pose B with pose A (``TIRG(d)``, GELU); the parameter names (``f.0``, ``f.2``, ``g.0``, ``g.2``, ``w``) are
    the ones in the shipped weights."""

    def __init__(self, dim: int, mod_dim: int | None = None, hidden: int | None = None,
                 activation: type[nn.Module] = nn.GELU):
        super().__init__()
        d_in = dim + (dim if mod_dim is None else mod_dim)
        h = hidden or dim
        self.f = nn.Sequential(nn.Linear(d_in, h), activation(), nn.Linear(h, dim))
        self.g = nn.Sequential(nn.Linear(d_in, h), activation(), nn.Linear(h, dim))
        self.w = nn.Parameter(torch.tensor([1.0, 1.0]))

    def forward(self, main: torch.Tensor, mod: torch.Tensor) -> torch.Tensor:
        x = torch.cat([main, mod], -1)
        return self.w[0] * torch.sigmoid(self.f(x)) * main + self.w[1] * self.g(x)
