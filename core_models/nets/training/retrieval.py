"""Text ⇄ pose-pair retrieval metrics: fixed evaluation pools and R-precision."""
from __future__ import annotations

import numpy as np
import torch


def pools(n: int, pool: int, seed: int = 0) -> np.ndarray:
    """(n, pool) indices: row i = [i, pool-1 distinct random others]. Fixed by ``seed`` so every text
    row of a table is ranked against the same pools."""
    if n < pool:
        raise ValueError(f"R-precision with a pool of {pool} needs at least {pool} pairs (got {n})")
    rng = np.random.default_rng(seed)
    out = np.empty((n, pool), np.int64)
    for i in range(n):
        others = rng.choice(n - 1, size=pool - 1, replace=False)
        others[others >= i] += 1
        out[i, 0] = i
        out[i, 1:] = others
    return out


def r_precision(text_emb: torch.Tensor, pair_emb: torch.Tensor, pool_idx: np.ndarray,
                ks=(1, 2, 3)) -> dict[str, float]:
    """Text i ranks its own pair among the pool row i (ties count against). Returns {'R@k': percent}."""
    P = pair_emb[torch.as_tensor(pool_idx)]  # (n, pool, d)
    sims = (P @ text_emb.unsqueeze(-1)).squeeze(-1)  # (n, pool)
    rank = (sims[:, 1:] >= sims[:, :1]).sum(1)
    return {f"R@{k}": float((rank < k).float().mean() * 100.0) for k in ks}
