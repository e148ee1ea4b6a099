"""VPoser-style pose auto-encoder pieces, shared by the text editor (PoseFix §4), the corrector and QPoser.

Stable public API (other models import these names; keep signatures):

* :func:`sixd_to_matrix` ``(...,6) -> (...,3,3)`` and :func:`matrix_to_6d` ``(...,3,3) -> (...,6)``:
  the continuous 6D rotation representation (the first two *columns* of the matrix, flattened as
  ``(c0x,c0y,c0z,c1x,c1y,c1z)``, the same layout as :func:`core_models.pose.matrix_to_6d`), torch only and
  differentiable (Gram-Schmidt).
* :func:`pose_to_rotmats` / :func:`rotmats_to_pose`: :class:`~core_models.pose.Pose` ⇄ torch rotation matrices
  ``(B,22,3,3)`` (root + 21 body joints, SMPL-H order).
* :class:`PoseEncoder`: pose ``(B,22,3)`` axis-angle **or** ``(B,22,3,3)`` rotation matrices → features
  ``(B, out_dim)``. An MLP on the flattened 6D rotations (the pose should be heading-normalised, as everywhere
  in the learned models).
* :class:`PoseDecoder`: latent ``(B, latent_dim)`` → 6D rotations → rotation matrices ``(B,22,3,3)``.
* :class:`GaussianHead`: features ``(B, in_dim)`` → ``torch.distributions.Normal`` over the latent (diagonal).
* :class:`PoseVAE`: encoder + Gaussian head + decoder with learned constant decoder log-variances for the three
  reconstruction terms (rotations, joints, vertices), as in PoseFix (``d = 32`` latent by default).

Everything here is plain torch (no body model); losses that need joints/vertices take the body model's
``forward_torch`` from the caller.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from core_models.pose import aa_to_matrix, matrix_to_6d, matrix_to_aa, sixd_to_matrix

NUM_JOINTS = 22
LATENT_DIM = 32


def as_rotmats(pose: torch.Tensor) -> torch.Tensor:
    """Accept (B,22,3) axis-angle or (B,22,3,3) matrices (or 132-/66-/198-dim flat forms); return (B,22,3,3)."""
    if pose.dim() == 2:
        n = pose.shape[-1]
        if n == NUM_JOINTS * 3:
            pose = pose.reshape(-1, NUM_JOINTS, 3)
        elif n == NUM_JOINTS * 9:
            pose = pose.reshape(-1, NUM_JOINTS, 3, 3)
        elif n == NUM_JOINTS * 6:
            return sixd_to_matrix(pose.reshape(-1, NUM_JOINTS, 6))
        else:
            raise ValueError(f"flat pose of width {n}: expected 66, 132 or 198")
    if pose.dim() == 4 and pose.shape[-2:] == (3, 3):
        return pose
    if pose.shape[-1] == 3 and pose.shape[-2] == NUM_JOINTS:
        return aa_to_matrix(pose)
    if pose.shape[-1] == 6 and pose.shape[-2] == NUM_JOINTS:
        return sixd_to_matrix(pose)
    raise ValueError(f"pose tensor of shape {tuple(pose.shape)}: expected (B,22,3) or (B,22,3,3)")


def pose_to_rotmats(pose, device=None) -> torch.Tensor:
    """:class:`Pose` (batched or single) → float32 torch (B,22,3,3)."""
    full = torch.as_tensor(pose.full(), dtype=torch.float32, device=device)
    if full.dim() == 2:
        full = full[None]
    return aa_to_matrix(full.reshape(-1, NUM_JOINTS, 3))


def rotmats_to_pose(R: torch.Tensor, transl=None):
    """torch (B,22,3,3) → batched :class:`Pose` (axis-angle via roma)."""
    from core_models.pose import Pose

    return Pose.from_full(matrix_to_aa(R.detach().float().cpu()).numpy(), transl)


def geodesic_rad(R1: torch.Tensor, R2: torch.Tensor) -> torch.Tensor:
    """Angle between rotation matrices (...,3,3) → (...) radians."""
    tr = (R1.transpose(-1, -2) @ R2).diagonal(dim1=-2, dim2=-1).sum(-1)
    return torch.acos(((tr - 1) / 2).clamp(-1 + 1e-6, 1 - 1e-6))


# --- networks -------------------------------------------------------------------------------------------

class PoseEncoder(nn.Module):
    """Pose → features. Input (B,22,3) axis-angle or (B,22,3,3) rotmats; output (B, out_dim).

    Flattened 6D rotations → LayerNorm → [Linear → LeakyReLU → Dropout] × ``layers`` → Linear(out_dim).
    """

    def __init__(self, out_dim: int = 512, hidden: int = 512, layers: int = 2, dropout: float = 0.1,
                 num_joints: int = NUM_JOINTS):
        super().__init__()
        self.num_joints = num_joints
        self.out_dim = out_dim
        d_in = num_joints * 6
        mods: list[nn.Module] = [nn.LayerNorm(d_in)]
        d = d_in
        for _ in range(layers):
            mods += [nn.Linear(d, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            d = hidden
        mods.append(nn.Linear(d, out_dim))
        self.net = nn.Sequential(*mods)

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        R = as_rotmats(pose)
        x = matrix_to_6d(R).reshape(R.shape[0], -1)
        return self.net(x)


class PoseDecoder(nn.Module):
    """Latent (B, latent_dim) → rotation matrices (B,22,3,3) through 6D (``decode_6d`` gives the raw 6D)."""

    def __init__(self, latent_dim: int = LATENT_DIM, hidden: int = 512, layers: int = 2, dropout: float = 0.1,
                 num_joints: int = NUM_JOINTS):
        super().__init__()
        self.num_joints = num_joints
        self.latent_dim = latent_dim
        mods: list[nn.Module] = []
        d = latent_dim
        for _ in range(layers):
            mods += [nn.Linear(d, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            d = hidden
        self.body = nn.Sequential(*mods)
        self.out = nn.Linear(d, num_joints * 6)
        # start near the identity rotation so an untrained decoder outputs the T-pose
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            self.out.bias.copy_(torch.tensor([1., 0., 0., 0., 1., 0.]).repeat(num_joints))

    def decode_6d(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(z)).reshape(z.shape[0], self.num_joints, 6)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return sixd_to_matrix(self.decode_6d(z))


class GaussianHead(nn.Module):
    """Features (B, in_dim) → diagonal Normal over the latent (scale = softplus, bounded below)."""

    def __init__(self, in_dim: int, latent_dim: int = LATENT_DIM):
        super().__init__()
        self.lin = nn.Linear(in_dim, 2 * latent_dim)

    def forward(self, h: torch.Tensor) -> torch.distributions.Normal:
        mu, s = self.lin(h).chunk(2, dim=-1)
        return torch.distributions.Normal(mu, F.softplus(s) + 1e-4)


class PoseVAE(nn.Module):
    """VPoser-like pose VAE: PoseEncoder → GaussianHead → z → PoseDecoder, plus learned constant decoder
    log-variances (``log_sigma_rot``, ``log_sigma_joints``, ``log_sigma_verts``) used by :func:`gaussian_nll`."""

    def __init__(self, latent_dim: int = LATENT_DIM, hidden: int = 512, feat_dim: int = 512, layers: int = 2,
                 dropout: float = 0.1):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = PoseEncoder(out_dim=feat_dim, hidden=hidden, layers=layers, dropout=dropout)
        self.head = GaussianHead(feat_dim, latent_dim)
        self.decoder = PoseDecoder(latent_dim, hidden=hidden, layers=layers, dropout=dropout)
        self.log_sigma_rot = nn.Parameter(torch.zeros(()))
        self.log_sigma_joints = nn.Parameter(torch.zeros(()))
        self.log_sigma_verts = nn.Parameter(torch.zeros(()))

    def encode(self, pose: torch.Tensor) -> torch.distributions.Normal:
        return self.head(self.encoder(pose))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, pose: torch.Tensor, sample: bool = True):
        q = self.encode(pose)
        z = q.rsample() if sample else q.loc
        return self.decode(z), q

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.latent_dim, generator=generator)
        return self.decode(z)


def gaussian_nll(pred: torch.Tensor, target: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """Per-sample negative log-likelihood of ``target`` under N(pred, exp(log_sigma)²), summed over all but the
    batch dimension → (B,)."""
    d = (pred - target).reshape(pred.shape[0], -1)
    k = d.shape[1]
    return (0.5 * (d ** 2).sum(1) * torch.exp(-2 * log_sigma)
            + k * (log_sigma + 0.5 * math.log(2 * math.pi)))
