"""Train / evaluate the text-assisted lifter (``python main.py train|eval lifter``).

Data (:func:`build_capture_data`, shared with the PoseEmbroider): corpus poses that have automatic descriptions
(``descriptions.json``), their 33 landmarks in 3D over a short causal window of the same clip
(:class:`core_models.capture.synth.LandmarkModel`), the 22 joints, and one description per pose encoded once by
the frozen MiniLM (token states pooled to 16 slots + a mean-pooled vector; cached on disk because encoding is
the slow part on a CPU). Every batch draws **fresh random cameras and MediaPipe-like noise**
(:func:`core_models.capture.synth.synthesize`); evaluation uses one fixed draw on held-out clips (test split).

``train lifter`` trains the variants in ``--variants`` (``none`` = no text, ``fc``/``tf``/``cm`` alignments) for
single frames (``--windows 1``) and a causal window (``5``), evaluates each (MPJPE / PA-MPJPE, mm, with and
without alignment) and ships all of them in ``resources/weights/lifter.pt`` (test-time weights only — the text
branch is dropped). ``eval lifter [--mocap DIR]`` re-evaluates the shipped variants, prints the table and ends
with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from core_models.nets.common.weights import (
    WeightsError,
    load_weights,
    manifest,
    save_weights,
)
from core_models.nets.lifter.eval import _print_table, evaluate
from core_models.nets.lifter.infer import variant_name
from core_models.nets.lifter.model import (
    Lifter,
    LifterConfig,
    lifter_losses,
)
from core_models.nets.training.capture_data import (
    CaptureData,
    build_capture_data,
    make_batch,
)
from core_models.nets.training import distributed as dist
from core_models.nets.training.common import log

# --- text features -----------------------------------------------------------------------------------------





# --- data --------------------------------------------------------------------------------------------------











# --- training ----------------------------------------------------------------------------------------------

def train_one(cfg: LifterConfig, train: CaptureData, epochs: int, batch: int = 256, lr: float = 1e-3,
              alpha: float = 0.5, beta: float = 0.1, seed: int = 0, max_minutes: float | None = None,
              log=log, tau: float = 1.0, device: str | torch.device = "cpu") -> tuple[Lifter, dict]:
    """One lifter variant on ``device``: the synthetic batches are drawn on the CPU (numpy rng: a seed gives the
    same batches on any device) and moved there once per step."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Lifter(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(1, len(train) // batch)
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.1)
    t0 = time.time()
    step = 0
    hist = {}
    step_loss = dist.wrap(model, lambda m, kp, tgt, text, tm: lifter_losses(m, kp, tgt, text, tm, alpha, beta, tau))
    for ep in range(epochs):
        perm = rng.permutation(len(train))
        agg: dict[str, float] = {}
        for b in range(steps_per_epoch):
            sel = perm[b * batch:(b + 1) * batch]
            kp, tgt, _ = make_batch(train, sel, rng, cfg.window)
            kp, tgt, ts = dist.shard((kp, tgt, torch.as_tensor(sel)))  # torchrun: this rank's share
            text = train.text_slots[ts].float().to(device) if cfg.align != "none" else None
            losses = step_loss(kp.to(device), tgt.to(device), text, train.text_mask[ts].to(device))
            opt.zero_grad()
            losses["total"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            for k, v in losses.items():
                agg[k] = agg.get(k, 0.0) + float(v.detach())
        hist = {k: v / steps_per_epoch for k, v in agg.items()}
        log(f"[lifter {cfg.align} T={cfg.window}] epoch {ep + 1}/{epochs} "
            + " ".join(f"{k} {v:.4f}" for k, v in hist.items()) + f" ({time.time() - t0:.0f} s)")
        if max_minutes and dist.elapsed(t0) > 60 * max_minutes and ep + 1 < epochs:
            log(f"[lifter] stopping after {ep + 1} epochs (time budget {max_minutes} min)")
            break
    model.eval()
    return model, {"seconds": round(time.time() - t0, 1), "epochs_run": ep + 1, "final": hist}












# --- CLI ---------------------------------------------------------------------------------------------------

#: ``--device cuda`` is allowed (core_models.cli.train_eval): model and batches go to the device, the evaluation
#: metrics are computed on the CPU and the weights are saved from CPU copies
DEVICE_CLEAN = True


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None, help="corpus folder (default: the built corpus)")
    p.add_argument("--variants", default="none,fc,tf,cm", help="alignment variants (none = no text)")
    p.add_argument("--windows", default="1,5", help="input windows (frames); the text variants run on the first")
    p.add_argument("--window-variants", default="none,cm", help="variants also trained on the other windows")
    p.add_argument("--n-train", type=int, default=12000)
    p.add_argument("--n-test", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--alpha", type=float, default=0.5, help="KL alignment weight")
    p.add_argument("--beta", type=float, default=0.1, help="auxiliary (text branch) regression weight")
    p.add_argument("--d", type=int, default=64)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--max-minutes", type=float, default=None, help="per-variant time budget")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=None, help="weights folder (default resources/weights)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cm-residual", default="pose", choices=("pose", "text"),
                   help="CM block residual: on the pose queries, or on the text stream (Eq. 5)")
    p.add_argument("--tau", type=float, default=1.0, help="softmax temperature of the feature KL")
    p.add_argument("--tag", default="", help="suffix of the variant names (e.g. a hyper-parameter setting)")
    from core_models.nets.lifter.real import add_real_args

    add_real_args(p)
    p.add_argument("--merge", action="store_true",
                   help="add the trained variants to the existing lifter.pt instead of replacing it "
                        "(lets the window-5 and single-frame runs go in separate processes)")


def _run_drop(args) -> int:
    """``train lifter --drop-variants A,B``: no training, the variants leave the lifter.pt in --out-dir (rank 0
    alone writes when ``train all --nproc N`` runs it under torchrun)."""
    from core_models.nets.lifter.real import drop_variants
    from core_models.nets.training import distributed

    if not distributed.is_main():
        return 0
    try:
        drop_variants([n.strip() for n in args.drop_variants.split(",") if n.strip()],
                      Path(args.out_dir) if args.out_dir else None)
    except (ValueError, WeightsError) as e:
        print(f"error: {e}")
        return 2
    return 0


def run_train(args) -> int:
    from core_models.data.corpus import default_corpus_dir

    if getattr(args, "drop_variants", None):
        return _run_drop(args)
    if getattr(args, "landmarks", None):
        from core_models.nets.lifter.real import run_train_real

        return run_train_real(args)

    torch.set_num_threads(args.threads)
    t_all = time.time()
    cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
    train = build_capture_data(cdir, "train", args.n_train, args.seed)
    test = build_capture_data(cdir, "test", args.n_test, args.seed + 1, with_text=False)
    windows = [int(w) for w in args.windows.split(",")]
    plan = [(v, windows[0]) for v in args.variants.split(",")]
    plan += [(v, w) for w in windows[1:] for v in args.window_variants.split(",")]
    results, state, cfgs, train_info = {}, {}, {}, {}
    for align, T in plan:
        cfg = LifterConfig(window=T, align=align, d=args.d, layers=args.layers, cm_residual=args.cm_residual)
        model, info = train_one(cfg, train, args.epochs, args.batch, args.lr, args.alpha, args.beta, args.seed,
                                args.max_minutes, tau=args.tau, device=getattr(args, "device", None) or "cpu")
        if not dist.is_main():  # rank 0 evaluates and saves
            continue
        info.update(alpha=args.alpha, beta=args.beta, tau=args.tau)
        name = variant_name(align + (f"-{args.tag}" if args.tag and align != "none" else ""), T)
        results[name] = evaluate(model, test)
        train_info[name] = info
        log(f"[lifter] {name}: {results[name]} ({info['seconds']} s)")
        for k, v in model.inference_state().items():
            state[f"{name}.{k}"] = v
        cfgs[name] = cfg.to_dict()
    if not dist.is_main():
        return 0
    out = Path(args.out_dir) if args.out_dir else None
    commands = ["python main.py train lifter " + " ".join(sys.argv[3:])]
    seconds = round(time.time() - t_all, 1)
    real_default = None
    if args.merge:

        try:
            blob, man = load_weights("lifter", out), manifest("lifter", out)
            real_default = blob["config"].get("real_default")   # the capture model's variant survives a merge
            for k, v in blob["state"].items():
                if k.split(".")[0] not in cfgs:
                    state[k] = v
            for n, c in blob["config"]["variants"].items():
                if n not in cfgs:
                    cfgs[n] = c
                    results.setdefault(n, man.get("metrics", {}).get(n))
                    train_info.setdefault(n, man.get("train", {}).get(n))
            commands = man.get("commands", [man.get("command")]) + commands
            seconds += float(man.get("train_seconds", 0))
        except WeightsError as e:
            log(f"[lifter] nothing to merge with ({e})")
    results = {n: results[n] for n in sorted(results, key=lambda n: (int(n.split("_T")[1]), n != "none_T" +
                                                                      n.split("_T")[1], n))}
    _print_table(results, f"lifter on held-out clips (test split, {len(test)} poses, synthetic MediaPipe-like input)")
    # the live default: the best window model
    windows = sorted({int(n.split("_T")[1]) for n in cfgs})
    wmax = max(windows)
    cands = {n: r for n, r in results.items() if n.endswith(f"_T{wmax}")}
    default = min(cands, key=lambda n: cands[n]["mpjpe_mm"])
    meta = {"command": " && ".join(commands), "commands": commands, "data": str(cdir), "n_train": len(train),
            "n_test": len(test), "metrics": results, "train": train_info, "train_seconds": seconds,
            "default": default}
    config = {"variants": cfgs, "default": default}
    if real_default in cfgs:
        config["real_default"] = meta["real_default"] = real_default
    f = save_weights("lifter", state, config, meta, directory=out, half=True)
    print(json.dumps({"name": "lifter_train", "default": default, "metrics": results,
                      "seconds": round(time.time() - t_all, 1), "weights": str(f)}))
    return 0






