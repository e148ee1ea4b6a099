"""Train the auto-posing network (``python main.py train autopose``) on the pose corpus.

Each step draws a batch of training-split poses (:func:`core_models.nets.autopose.data.make_batch`): random
effector subsets, a start pose from the same clip for 60 % of them. Losses: joint positions (FK on the Anny rest
skeleton, pelvis-relative, L2 per joint), the given effectors' positions (×2), rotations (Frobenius²), the joint-
limit penalty (:func:`limit_excess`). AdamW with warm-up + cosine decay, 1 CPU thread by default, bounded by
``--max-minutes``. Saves ``resources/weights/autopose.pt`` (float16) + manifest with the evaluation metrics."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from core_models import kinematics as kin
from core_models.nets.autopose.data import Batch, PoseSet, load_split, make_batch
from core_models.nets.autopose.infer import AutoPoser
from core_models.nets.autopose.model import AutoPoseNet, build_model, limit_excess
from core_models.nets.common.weights import save_weights
from core_models.nets.training import distributed as dist
from core_models.nets.training.common import cosine, log, set_lr, set_threads, warmup
from core_models.pose import sixd_to_matrix
from core_models.posing.effectors import EFFECTOR_JOINTS

#: ``--device cuda`` is allowed (core_models.cli.train_eval): the network and each batch go to the device, the
#: random draws stay on the CPU, the weights are saved from the CPU and evaluated there
DEVICE_CLEAN = True

LOSS_WEIGHTS = dict(joints=1.0, effectors=2.0, rot=0.1, limits=0.1)


def autopose_losses(net: AutoPoseNet, b: Batch, rest: torch.Tensor) -> dict[str, torch.Tensor]:
    d6 = net(b.eff, b.mask, b.start6d, b.has_start)
    R = sixd_to_matrix(d6)
    _, J, _ = kin.fk_torch(R, rest)
    J = J - J[:, :1]
    per_joint = (J - b.joints).norm(dim=-1)  # (B,22)
    m = b.mask.float()
    eff = (per_joint[:, EFFECTOR_JOINTS] * m).sum() / dist.share(m.sum()).clamp(min=1)  # global-batch mean
    out = {"joints": per_joint.mean(), "effectors": eff, "rot": ((R - b.R) ** 2).sum((-1, -2)).mean(),
           "limits": limit_excess(R).mean()}
    out["total"] = sum(LOSS_WEIGHTS[k] * v for k, v in out.items())
    return out


def _to(b: Batch, device: torch.device) -> Batch:
    return Batch(*(t.to(device) for t in (b.eff, b.mask, b.start6d, b.has_start, b.R, b.joints)))


def train_net(train: PoseSet, rest: np.ndarray, cfg: dict | None = None, steps: int = 20000, batch: int = 256,
              lr: float = 1e-3, seed: int = 0, max_minutes: float | None = None, log=log,
              device: str | torch.device = "cpu") -> tuple[AutoPoseNet, dict]:
    """Batches are drawn on the CPU (same draws for a seed on any device) and moved to ``device``. Under torchrun
    every rank draws the same global batch and trains on its share (``nets.training.distributed``)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dev = torch.device(device)
    net = build_model(cfg).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    rest_t = torch.as_tensor(rest, dtype=torch.float32, device=dev)
    step_loss = dist.wrap(net, lambda m, b: autopose_losses(m, b, rest_t))
    t0 = time.time()
    agg: dict[str, float] = {}
    hist: list[dict] = []
    step = 0
    for step in range(steps):
        # the decay follows whichever runs out first, the steps or the time budget (a cut run still ends cooled)
        frac = max(step / steps, dist.elapsed(t0) / (60 * max_minutes) if max_minutes else 0.0)
        set_lr(opt, lr * warmup(step, 500) * cosine(frac))
        b = _to(dist.shard(make_batch(train, rng.integers(0, len(train), batch), rng, rest)), dev)
        losses = step_loss(b)
        opt.zero_grad()
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        for k, v in losses.items():
            agg[k] = agg.get(k, 0.0) + float(v.detach())
        if (step + 1) % 500 == 0:
            hist.append({k: round(dist.mean(v) / 500, 5) for k, v in agg.items()})
            log(f"[autopose] step {step + 1}/{steps} " + " ".join(f"{k} {v:.4f}" for k, v in hist[-1].items())
                + f" ({time.time() - t0:.0f} s)")
            agg = {}
        if frac >= 1.0:
            log(f"[autopose] stopping after {step + 1} steps (time budget {max_minutes} min)")
            break
    net.cpu().eval()
    return net, {"steps_run": step + 1, "seconds": round(time.time() - t0, 1), "history": hist[-3:]}


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None, help="corpus folder (default: the built corpus)")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--blocks", type=int, default=3)
    p.add_argument("--max-minutes", type=float, default=14.0, help="training time budget (minutes)")
    p.add_argument("--n-test", type=int, default=1000, help="held-out poses evaluated after training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out-dir", default=None, help="weights folder (default resources/weights)")


def run_train(args) -> int:
    from core_models.body import load_body
    from core_models.data.corpus import default_corpus_dir
    from core_models.nets.autopose.eval import evaluate, print_table

    set_threads(args.threads)
    t_all = time.time()
    cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
    body = load_body("anny")
    rest = np.asarray(body.skinning.rest_joints, np.float64)
    train = load_split(cdir, "train")
    log(f"[autopose] {len(train)} training poses")
    cfg = {"hidden": args.hidden, "blocks": args.blocks, "use_start": True}
    net, info = train_net(train, rest, cfg, args.steps, args.batch, args.lr, args.seed, args.max_minutes,
                          device=getattr(args, "device", None) or "cpu")
    if not dist.is_main():  # rank 0 saves and evaluates
        return 0
    command = "python main.py train autopose " + " ".join(sys.argv[3:])
    meta = {"command": command.strip(), "data": str(cdir), "n_train": len(train), "metrics": {},
            "train": info, "train_seconds": info["seconds"], "config": cfg, "threads": args.threads}
    out = Path(args.out_dir) if args.out_dir else None
    save_weights("autopose", net.state_dict(), cfg, meta, directory=out, half=True)  # kept even if eval fails
    metrics = evaluate(AutoPoser(net), load_split(cdir, "test"), body, n=args.n_test, seed=args.seed + 1)
    print_table(metrics, f"autopose on held-out clips (test split, {metrics['n']} poses)")
    meta["metrics"] = metrics
    f = save_weights("autopose", net.state_dict(), cfg, meta, directory=out, half=True)
    print(json.dumps({"name": "autopose_train", "metrics": metrics, "seconds": round(time.time() - t_all, 1),
                      "weights": str(f)}))
    return 0
