"""Train one study lifter (``python main.py train textlift``): one window / mode / alignment / seed.

Batches are windows gathered from the precomputed sequence pools of :func:`data.study_data` (a fixed share
``--real-frac`` of each batch from the real MediaPipe train-split sequences, the rest from the synthetic
corpus videos); the lifted frame's own description (MiniLM slots) feeds the alignment branch. ``--shuffle-text``
(control) gives the teacher the description of another pose. The run ends with the test-split evaluation
(:func:`eval.evaluate`), a table line and one JSON line; ``--save`` writes the test-time weights.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from core_models.nets.textlift.config import ALIGNS, TextLiftConfig
from core_models.nets.textlift.data import SeqPool, TextTable, study_data, window_index
from core_models.nets.textlift.eval import OCCLUDE, evaluate, occlude
from core_models.nets.textlift.model import TextLifter, textlift_losses
from core_models.nets.training.common import log as default_log

#: ``--device cuda`` works: the network and its batches go to the device (drawn on the CPU, seeded there)
DEVICE_CLEAN = True


def sample_rows(pool: SeqPool, rng: np.random.Generator, batch: int, real_frac: float) -> np.ndarray:
    real, synth = pool.targets(True), pool.targets(False)
    if not len(real) or not len(synth):
        allr = pool.targets()
        return allr[rng.integers(0, len(allr), batch)]
    k = int(round(batch * real_frac))
    return np.concatenate([real[rng.integers(0, len(real), k)], synth[rng.integers(0, len(synth), batch - k)]])


def make_batch(pool: SeqPool, table: TextTable, rows: np.ndarray, cfg: TextLiftConfig,
               text_perm: np.ndarray | None = None, hide: str | None = None):
    """(kp (B, T, 33, 4), target (B, 22, 3), text slots (B, m, 384), mask (B, m)) as CPU tensors."""
    idx = window_index(pool, rows, cfg.window, cfg.target_offset)
    kp = torch.from_numpy(occlude(pool.feats[idx], hide))
    tr = pool.text_row[rows]
    if (tr < 0).any():
        raise ValueError("a training target has no description")
    if text_perm is not None:
        tr = text_perm[tr]
    return (kp, torch.from_numpy(pool.target[rows]), torch.from_numpy(table.slots[tr].astype(np.float32)),
            torch.from_numpy(table.mask[tr]))


def train_run(cfg: TextLiftConfig, pool: SeqPool, table: TextTable, steps: int = 600, batch: int = 128,
              lr: float = 1e-3, seed: int = 0, alpha: float = 0.5, beta: float = 0.1, real_frac: float = 0.5,
              shuffle_text: bool = False, hide: str | None = None, device: str | torch.device = "cpu",
              log=default_log) -> tuple[TextLifter, dict]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = TextLifter(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    perm = np.random.default_rng(seed + 1000).permutation(len(table.texts)) if shuffle_text else None
    t0, hist = time.time(), []
    agg: dict[str, float] = {}
    model.train()
    for step in range(steps):
        rows = sample_rows(pool, rng, batch, real_frac)
        kp, tgt, text, mask = (t.to(device) for t in make_batch(pool, table, rows, cfg, perm, hide))
        losses = textlift_losses(model, kp, tgt, text, mask, alpha, beta)
        opt.zero_grad()
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        for k, v in losses.items():
            agg[k] = agg.get(k, 0.0) + float(v.detach())
        if (step + 1) % max(1, steps // 5) == 0:
            n = max(1, steps // 5)
            hist.append({k: round(v / n, 5) for k, v in agg.items()})
            log(f"[textlift {cfg.align} T={cfg.window}{'c' if cfg.causal else 'm'} s{seed}] step {step + 1}/{steps} "
                + " ".join(f"{k} {v / n:.4f}" for k, v in agg.items()) + f" ({time.time() - t0:.0f} s)")
            agg = {}
    model.eval()
    return model, {"seconds": round(time.time() - t0, 1), "steps": steps, "batch": batch, "history": hist}


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--landmarks", default=None,
                   help="real MediaPipe landmark dataset (train on its train-split sequences + synthetic videos, "
                        "test on its test-split sequences); default: synthetic only")
    p.add_argument("--test-landmarks", default=None,
                   help="dataset(s) whose test-split sequences are the test set (default --landmarks)")
    p.add_argument("--window", type=int, default=27, help="receptive field (3, 9, 27, 81)")
    p.add_argument("--centred", action="store_true", help="lift the window's centre frame (default: causal)")
    p.add_argument("--align", default="none", choices=ALIGNS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--alpha", type=float, default=0.5, help="KL alignment weight (the seed's α)")
    p.add_argument("--beta", type=float, default=0.1, help="text-branch regression weight (the seed's β)")
    p.add_argument("--channels", type=int, default=128)
    p.add_argument("--teacher-sg", action="store_true",
                   help="stop the alignment KL's gradient into the text teacher (a fixed target)")
    p.add_argument("--real-frac", type=float, default=0.5, help="share of each batch from real sequences")
    p.add_argument("--synth-segments", type=int, default=120, help="synthetic 128-frame corpus videos")
    p.add_argument("--shuffle-text", action="store_true", help="control: the teacher gets another pose's text")
    p.add_argument("--occlude", default=None, choices=sorted(OCCLUDE), help="control: hide a limb everywhere")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--save", default=None, help="write the test-time weights here")


def run_train(args) -> int:
    torch.set_num_threads(args.threads)
    device = getattr(args, "device", None) or "cpu"
    try:
        cfg = TextLiftConfig(window=args.window, causal=not args.centred, align=args.align, channels=args.channels,
                             teacher_sg=args.teacher_sg)
    except ValueError as e:
        print(f"error: {e}")
        return 2
    train, tt, test, tt_test = study_data(args.landmarks, args.synth_segments, test_landmarks=args.test_landmarks)
    model, info = train_run(cfg, train, tt, args.steps, args.batch, args.lr, args.seed, args.alpha, args.beta,
                            args.real_frac, args.shuffle_text, args.occlude, device)
    res = evaluate(model, test, tt_test, args.occlude, device)
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        torch.save({"config": cfg.to_dict(), "state": {k: v.cpu() for k, v in model.inference_state().items()}},
                   args.save)
    print(f"textlift {cfg.align} T={cfg.window} {'causal' if cfg.causal else 'centred'} seed {args.seed}: "
          f"MPJPE {res['mpjpe_mm']} mm, PA-MPJPE {res['pa_mpjpe_mm']} mm ({info['seconds']} s)")
    print(json.dumps({"name": "textlift_train", "config": cfg.to_dict(), "seed": args.seed, **res, "train": info}))
    return 0
