"""Small helpers every training / evaluation run uses: progress logging, learning-rate schedules, batching of
variable-length sequences, CPU thread setup."""
from __future__ import annotations

import math
import sys

import numpy as np
import torch

from core_models.nets.training import distributed


def log(msg: str) -> None:
    """Progress line on stderr (stdout carries the result tables and the final JSON line); under torchrun only
    rank 0's (the other ranks keep stderr for their errors)."""
    if distributed.is_main():
        print(msg, file=sys.stderr, flush=True)


def cosine(frac: float) -> float:
    """Half-cosine decay 1 → 0 over ``frac`` in [0, 1] (clamped)."""
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, frac))))


def warmup(step: int, steps: int) -> float:
    """Linear warm-up factor (step + 1) / steps, at most 1."""
    return min(1.0, (step + 1) / steps)


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


def set_threads(n: int | None) -> None:
    """The CPU threads of a training / evaluation run (a command-line run owns its process)."""
    torch.set_num_threads(max(1, int(n or 1)))


def length_batches(lengths: np.ndarray, batch: int, rng: np.random.Generator, chunk: int = 64) -> list[np.ndarray]:
    """Shuffled batches of similar lengths (sorted inside chunks of ``chunk`` batches)."""
    perm = rng.permutation(len(lengths))
    out: list[np.ndarray] = []
    for s in range(0, len(perm), batch * chunk):
        c = perm[s:s + batch * chunk]
        c = c[np.argsort(lengths[c], kind="stable")]
        out.extend(c[k:k + batch] for k in range(0, len(c), batch))
    rng.shuffle(out)
    return out


def report(msg: str) -> None:
    """A result / progress line on stdout (QPoser's runs print their tables and progress there)."""
    print(msg, flush=True)
