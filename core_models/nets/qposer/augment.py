"""Pose augmentations for training QPoser towards sources it never saw (issue #18).

All functions take and return body rotations ``(B, 21, 3, 3)`` (joints 1..21 of :mod:`core_models.skeleton`,
local rotations, the SMPL convention: every joint frame is aligned with the world axes at rest). Random numbers are
drawn on the CPU from the given generator (a seed picks the same augmentation on any device); the results are on
the input's device.

* :func:`twist_noise` turns each joint about its own bone axis only (the rest-pose direction to its primary child;
  a leaf joint — foot, head, wrist — about the bone that ends in it): the child joint stays where it was, only the
  subtree's roll changes — the degree of freedom mocap sources disagree on most (retargeted forearm / thigh roll).
* :func:`rotation_noise`: a small isotropic rotation per joint (a noisy capture).
* :func:`distal_noise`: isotropic rotation noise on the distal joints alone (toes, wrists, neck, head) — the joints
  mocap rigs capture least consistently (three of the corpus's six sources never move their toes), so a held-out
  source's toe / wrist / head rotations can lie outside every other source's range.
* :func:`slerp_rotmats` / :func:`interpolate_batch`: per-joint geodesic interpolation between two poses — new
  in-between poses from two clips (the training poses are drawn at random, so almost always from different clips).
* :class:`Augment`: the training options of ``train qposer`` built on them (:func:`augment_batch`, the targets;
  the perturbed-input and code-mix consistency terms live in :mod:`core_models.nets.qposer.train`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from core_models import skeleton as sk
from core_models.pose import aa_to_matrix, matrix_to_aa


def _primary_child(j: int) -> int | None:
    kids = sk.children(j)
    if not kids:
        return None
    # spine3 has three children (neck, both collars): its bone is the one up the spine
    return sk.JOINT_INDEX["neck"] if sk.JOINT_INDEX["neck"] in kids else kids[0]


def twist_axes() -> torch.Tensor:
    """(21, 3) unit twist axis of each body joint in its local frame (= the world frame at rest)."""
    rest = np.asarray(sk.DEFAULT_REST_JOINTS, np.float64)
    axes = np.zeros((sk.NUM_BODY_JOINTS, 3))
    for j in range(1, sk.NUM_JOINTS):
        c = _primary_child(j)
        v = rest[c] - rest[j] if c is not None else rest[j] - rest[sk.PARENTS[j]]
        axes[j - 1] = v / np.linalg.norm(v)
    return torch.as_tensor(axes, dtype=torch.float32)


_AXES = twist_axes()


def twist_noise(R: torch.Tensor, max_deg: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each joint of each pose turned about its twist axis by an angle drawn uniformly in ±``max_deg``:
    ``R_j @ Rot(axis_j, θ)``, so the joint's bone keeps its direction (its child does not move)."""
    B, J = R.shape[:2]
    theta = (torch.rand(B, J, 1, generator=generator) * 2 - 1) * np.deg2rad(max_deg)
    T = aa_to_matrix(_AXES[None] * theta).to(R)
    return R @ T


def rotation_noise(R: torch.Tensor, sigma_deg: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each joint's rotation times a random rotation whose axis-angle components are N(0, σ²) (σ in degrees)."""
    B, J = R.shape[:2]
    w = torch.randn(B, J, 3, generator=generator) * np.deg2rad(sigma_deg)
    return R @ aa_to_matrix(w).to(R)


#: body-joint indices (0-based over joints 1..21) of :func:`distal_noise`: toes, neck, head, wrists
DISTAL_JOINTS = tuple(sk.JOINT_INDEX[n] - 1 for n in ("left_foot", "right_foot", "neck", "head",
                                                       "left_wrist", "right_wrist"))


def distal_noise(R: torch.Tensor, sigma_deg: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """:func:`rotation_noise` on the :data:`DISTAL_JOINTS` only; every other joint is returned unchanged."""
    out = R.clone()
    idx = list(DISTAL_JOINTS)
    out[:, idx] = rotation_noise(R[:, idx], sigma_deg, generator)
    return out


def slerp_rotmats(Ra: torch.Tensor, Rb: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Per-joint geodesic interpolation ``Ra · exp(t · log(Raᵀ Rb))``; ``t`` a float or (B,) (broadcast over the
    joints). t = 0 gives ``Ra``, t = 1 gives ``Rb``."""
    rel = matrix_to_aa(Ra.transpose(-1, -2) @ Rb)  # (B, J, 3)
    tt = torch.as_tensor(t, dtype=Ra.dtype, device=Ra.device)
    if tt.dim() == 1:
        tt = tt[:, None, None]
    return Ra @ aa_to_matrix(rel * tt)


def interpolate_batch(R: torch.Tensor, pool: torch.Tensor, frac: float,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """``R`` with a ``frac`` share of its rows (drawn at random) replaced by slerps, at t ~ U(0, 1), between the
    row and a random pose of ``pool`` (B2, 21, 3, 3)."""
    B = len(R)
    k = int(round(frac * B))
    if k <= 0 or len(pool) == 0:
        return R
    rows = torch.randperm(B, generator=generator)[:k]
    other = pool[torch.randint(0, len(pool), (k,), generator=generator)].to(R)
    t = torch.rand(k, generator=generator).to(R)
    out = R.clone()
    out[rows.to(R.device)] = slerp_rotmats(R[rows.to(R.device)], other, t)
    return out


@dataclass
class Augment:
    """The generalisation options of ``train qposer`` (all off by default: the shipped recipe is unchanged).

    * ``interp``: share of each batch replaced by per-joint slerps towards random training poses;
    * ``twist_deg`` / ``twist_frac``: per-joint twist noise (±deg) on that share of each batch;
    * ``distal_deg`` / ``distal_frac``: rotation noise σ (deg per axis) on the toes, wrists, neck and head of
      that share of each batch (:func:`distal_noise`);
    * ``perturb``: weight of the perturbed-input consistency (a copy of the batch with ``perturb_deg`` rotation
      noise and ``perturb_twist_deg`` twist noise is encoded: its latents are pulled onto the clean pose's codes,
      its decoding onto the clean pose, and its decoding re-encoded onto its own codes);
    * ``mix``: weight of the code-mix consistency (each part's codes swapped with another pose's, decoded,
      re-encoded onto the mixed codes: decode∘encode idempotent on part combinations the data never showed).
    """

    interp: float = 0.0
    twist_deg: float = 0.0
    twist_frac: float = 0.5
    distal_deg: float = 0.0
    distal_frac: float = 0.5
    perturb: float = 0.0
    perturb_deg: float = 3.0
    perturb_twist_deg: float = 10.0
    mix: float = 0.0

    def active(self) -> bool:
        return bool(self.interp > 0 or self.twist_deg > 0 or self.distal_deg > 0 or self.perturb > 0
                    or self.mix > 0)

    def to_dict(self) -> dict:
        return asdict(self)


def augment_batch(R: torch.Tensor, pool: torch.Tensor, aug: Augment,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """The training targets of one (global) batch: interpolations, then twist noise on a share of the rows, then
    distal-joint noise on a share of the rows (drawn independently)."""
    out = interpolate_batch(R, pool, aug.interp, generator) if aug.interp > 0 else R
    if aug.twist_deg > 0 and aug.twist_frac > 0:
        out = _on_rows(out, aug.twist_frac, lambda x: twist_noise(x, aug.twist_deg, generator), generator)
    if aug.distal_deg > 0 and aug.distal_frac > 0:
        out = _on_rows(out, aug.distal_frac, lambda x: distal_noise(x, aug.distal_deg, generator), generator)
    return out


def _on_rows(R: torch.Tensor, frac: float, fn, generator: torch.Generator | None) -> torch.Tensor:
    """``R`` with ``fn`` applied to a random ``frac`` share of its rows."""
    k = int(round(frac * len(R)))
    rows = torch.randperm(len(R), generator=generator)[:k].to(R.device)
    out = R.clone()
    out[rows] = fn(out[rows])
    return out


def perturb(R: torch.Tensor, aug: Augment, generator: torch.Generator | None = None) -> torch.Tensor:
    """The perturbed copy of the consistency-over-perturbed-inputs term: rotation noise, then twist noise."""
    P = rotation_noise(R, aug.perturb_deg, generator) if aug.perturb_deg > 0 else R
    return twist_noise(P, aug.perturb_twist_deg, generator) if aug.perturb_twist_deg > 0 else P
