"""Training / evaluation data of the auto-posing network: corpus poses (heading-normalised local rotations) and
start-pose partners from the same clip run, with random effector subsets (:func:`make_batch`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core_models import kinematics as kin
from core_models.pose import aa_to_matrix_np, matrix_to_6d
from core_models.posing.effectors import EFFECTOR_INDEX, EFFECTOR_JOINTS, MAIN_EFFECTORS, NUM_EFFECTORS

MAIN_MASK = np.zeros(NUM_EFFECTORS, bool)
MAIN_MASK[[EFFECTOR_INDEX[n] for n in MAIN_EFFECTORS]] = True


@dataclass
class PoseSet:
    """R (N,22,3,3) float32 heading-normalised local rotations; heading (N,); run_lo / run_hi (N,): the index
    range of the pose's clip run (same clip, same mirroring, consecutive frames) for start-pose partners."""

    R: np.ndarray
    heading: np.ndarray
    run_lo: np.ndarray
    run_hi: np.ndarray

    def __len__(self) -> int:
        return len(self.R)


def _runs(clip: np.ndarray, mirrored: np.ndarray, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    key = clip.astype(np.int64) * 2 + mirrored.astype(np.int64)
    brk = np.ones(len(key), bool)
    brk[1:] = (key[1:] != key[:-1]) | (frame[1:] <= frame[:-1])
    starts = np.nonzero(brk)[0]
    ends = np.append(starts[1:], len(key))
    run = np.cumsum(brk) - 1
    return starts[run], ends[run]


def load_split(corpus_dir: str | Path, split: str) -> PoseSet:
    """The poses of one split of a built corpus (in file order, so clip runs stay contiguous)."""
    from core_models.data.corpus import SPLITS, Corpus

    c = Corpus(corpus_dir)
    a = c.arrays
    keep = np.nonzero(a["split"] == SPLITS.index(split))[0]
    if len(keep) == 0:
        raise ValueError(f"the corpus at {c.dir} has no '{split}' poses")
    full = np.concatenate([a["root_orient"][keep, None], a["body_pose"][keep]], 1)
    R = aa_to_matrix_np(full).astype(np.float32)
    lo, hi = _runs(a["clip"][keep], a["mirrored"][keep], a["frame"][keep])
    return PoseSet(R, a["heading"][keep].astype(np.float32), lo, hi)


def _ry(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(angle.shape + (3, 3)).astype(np.float32)


def random_masks(n: int, rng: np.random.Generator, all_prob: float = 0.3) -> np.ndarray:
    """(n,11) presence masks: the six main effectors exactly (30 %), everything (``all_prob``), or a random
    subset (main effectors 85 %, head / elbows / knees 35 %); the pelvis is always present."""
    m = np.where(MAIN_MASK, rng.random((n, NUM_EFFECTORS)) < 0.85, rng.random((n, NUM_EFFECTORS)) < 0.35)
    kind = rng.random(n)
    m[kind < 0.3] = MAIN_MASK
    m[(kind >= 0.3) & (kind < 0.3 + all_prob)] = True
    m[:, EFFECTOR_INDEX["pelvis"]] = True
    return m


@dataclass
class Batch:
    eff: torch.Tensor  # (B,11,3) pelvis-relative effectors of the target (all, masked by the net)
    mask: torch.Tensor  # (B,11) bool
    start6d: torch.Tensor  # (B,22,6)
    has_start: torch.Tensor  # (B,) bool
    R: torch.Tensor  # (B,22,3,3) target local rotations (root in the start's heading frame)
    joints: torch.Tensor  # (B,22,3) target joints, pelvis-relative


def make_batch(data: PoseSet, idx: np.ndarray, rng: np.random.Generator, rest: np.ndarray,
               p_start: float = 0.6, max_offset: int = 30) -> Batch:
    """Targets ``idx``; a start pose (another frame of the same run, up to ``max_offset`` away) for a fraction
    ``p_start`` of them, the target's root then expressed in the start's heading frame."""
    n = len(idx)
    has = rng.random(n) < p_start
    j = np.clip(idx + rng.integers(-max_offset, max_offset + 1, n), data.run_lo[idx], data.run_hi[idx] - 1)
    R = data.R[idx].copy()
    dh = np.where(has, data.heading[idx] - data.heading[j], 0.0)
    R[:, 0] = _ry(dh) @ R[:, 0]
    _, J, _ = kin.fk_numpy(R.astype(np.float64), rest)
    J = (J - J[:, :1]).astype(np.float32)
    mask = random_masks(n, rng, all_prob=0.3)
    mask[has & (rng.random(n) < 0.5)] = True  # a drag sees every effector (the others as hints)
    start6d = matrix_to_6d(torch.as_tensor(data.R[j])) * torch.as_tensor(has, dtype=torch.float32)[:, None, None]
    return Batch(torch.as_tensor(J[:, EFFECTOR_JOINTS]), torch.as_tensor(mask), start6d, torch.as_tensor(has),
                 torch.as_tensor(R), torch.as_tensor(J))
