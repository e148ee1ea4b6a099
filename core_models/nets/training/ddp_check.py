"""Check that multi-process training reproduces one process: ``python -m core_models.nets.training.ddp_check``.

Trains the auto-posing network (its real ``train_net`` loop) for a few steps on seeded synthetic poses and
writes, from rank 0, the per-step global-batch loss and the final parameters to ``--out`` (.npz). Run it once
plainly and once under ``torchrun --nproc_per_node N -m core_models.nets.training.ddp_check`` with the same
``--batch`` (the global batch) and compare the two files (``--compare A B``; ``tests/nets/test_distributed.py``
does both with 2 CPU processes). ``--device cuda`` checks nccl on GPUs the same way.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

#: a small auto-posing network (the loop and losses are the real ones)
CFG = {"hidden": 64, "blocks": 1, "use_start": True}


def synthetic_poses(n: int = 256, seed: int = 0):
    from core_models.nets.autopose.data import PoseSet
    from core_models.pose import aa_to_matrix_np

    rng = np.random.default_rng(seed)
    aa = rng.normal(0.0, 0.3, (n, 22, 3))
    R = aa_to_matrix_np(aa).astype(np.float32)
    run = np.arange(n) // 16
    lo, hi = run * 16, np.minimum(run * 16 + 16, n)
    return PoseSet(R, np.zeros(n, np.float32), lo, hi)


def run_check(steps: int, batch: int, seed: int, device: str) -> tuple[list[float], dict[str, np.ndarray]]:
    from core_models import skeleton as sk
    from core_models.nets.autopose.train import train_net
    from core_models.nets.training import distributed as dist

    torch.set_num_threads(1)
    dist.TRACE = []
    net, _info = train_net(synthetic_poses(), np.asarray(sk.DEFAULT_REST_JOINTS, np.float64),
                           CFG, steps=steps, batch=batch, lr=3e-3,
                           seed=seed, log=lambda s: None, device=device)
    losses, dist.TRACE = list(dist.TRACE), None
    return losses, {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}


def compare(a: str, b: str) -> dict:
    """Largest differences between two check files: loss curve (relative) and parameters (absolute)."""
    with np.load(a) as x, np.load(b) as y:
        la, lb = x["losses"], y["losses"]
        if la.shape != lb.shape:
            raise ValueError(f"{a} has {len(la)} steps, {b} has {len(lb)}")
        params = [k for k in x.files if k.startswith("p:")]
        return {"steps": int(len(la)), "loss_rel_diff": float(np.max(np.abs(la - lb) / np.abs(la))),
                "param_abs_diff": float(max(np.max(np.abs(x[k] - y[k])) for k in params)),
                "param_change": float(max(np.max(np.abs(x[k] - x["i:" + k[2:]])) for k in params)),
                "world_sizes": [int(x["world_size"]), int(y["world_size"])]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="result file (.npz)")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--batch", type=int, default=32, help="global batch (a multiple of the process count)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two result files instead")
    a = p.parse_args(argv)
    if a.compare:
        print(json.dumps(compare(*a.compare)))
        return 0
    if not a.out:
        p.error("--out is required")
    from core_models.nets.autopose.model import build_model
    from core_models.nets.training import distributed as dist

    device = dist.setup(a.device)
    try:
        torch.manual_seed(a.seed)
        init = {k: v.numpy() for k, v in build_model(CFG).state_dict().items()}
        losses, params = run_check(a.steps, a.batch, a.seed, device)
        if dist.is_main():
            arrays: dict[str, np.ndarray] = {"losses": np.asarray(losses), "world_size": np.asarray(dist.world_size())}
            arrays.update({f"p:{k}": v for k, v in params.items()})
            arrays.update({f"i:{k}": v for k, v in init.items()})
            np.savez(a.out, **arrays)  # type: ignore[arg-type]
    finally:
        dist.teardown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
