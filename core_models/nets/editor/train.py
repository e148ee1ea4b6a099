"""Training and evaluation of the text pose editor (``python main.py train|eval editor``).

Data: the corpus pairs (``pairs.npz``) with their automatic modifiers (``modifiers.json``, 3 wordings per
pair: wording variety), split by clip (train 0 / val 1 / test 2). Augmentations: L/R flip (poses mirrored,
text through ``textutil.flip_text``), PoseCopy (A → A with an empty instruction). Text features: the unique
clauses of all modifiers are encoded once by the frozen MiniLM through ``TextFeatureCache`` and saved next to
the corpus (``editor_clauses.npz``).

Evaluation (PoseFix Tables 4/5 form) for the three input types (pose A only = empty text, text only = pose A
set to the zero pose, A + text): size-normalised ELBO (joints, vertices, rotations), best-of-30 MPJE / MPVE
(mm) / geodesic (deg), FID on posecode features; then instruction compliance (the paircode changes named by the
deterministic coach text ``compare.correct(A, B)`` are realised by the mean output, same direction, past the
first threshold) and chained edits (3 instructions in a row: joint-limit excess and drift of the untouched body
parts). Ends with one JSON line.
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core_models.device import add_device_arg, on_device
from core_models.nets.common.weights import continued, float_state, load_weights, manifest, save_weights
from core_models.nets.editor.data import (
    CLAUSE_CACHE,
    BodyTorch,
    ClauseStore,
    _corpus_dir,
    add_coach_texts,
    budget_wordings,
    load_part_pairs,
    mirror_rotmats,
)
from core_models.nets.editor.eval import (
    compliance,
    evaluate_inputs,
    side_specificity,
)
from core_models.nets.editor.infer import (
    Editor,
    build_model,
    load_state_compat,
)
from core_models.nets.editor.model import (
    ClauseBatch,
    PoseEditor,
    recon_nll,
)
from core_models.nets.training import distributed as dist
from core_models.nets.training.common import log
from core_models.nets.training.pairs import (
    PairData,
    concat_pairs,
    load_pairs,
)

CONFIGS: dict[str, dict[str, Any]] = {
    "tiny": dict(latent=32, pose_feat=64, pose_hidden=128, pose_layers=1, text_d=32, text_dim=64, text_layers=1,
                 dropout=0.0, batch=64, lr=2e-3, epochs=2, max_pairs=600, verts=128, p_copy=0.1, p_flip=0.5,
                 w_mean=0.5, part_pairs=200),
    "full": dict(latent=32, pose_feat=256, pose_hidden=512, pose_layers=2, text_d=128, text_dim=256,
                 text_layers=2, dropout=0.1, batch=128, lr=1e-3, epochs=30, max_pairs=None, verts=256,
                 p_copy=0.1, p_flip=0.5, w_mean=0.5, part_pairs=40000),
}




# --- body (joints + a vertex subset, differentiable) --------------------------------------------------------





# --- data -------------------------------------------------------------------------------------------------















# --- training ------------------------------------------------------------------------------------------------

def training_loss(model: PoseEditor, body_fn, A, B, cb: ClauseBatch, w_kl: float = 1.0, w_mean: float = 0.0):
    """PoseFix loss: NLL(rot 6D) + NLL(joints) + NLL(vertices) of the decoded posterior sample + KL(N_b ‖ N_p).
    ``w_mean`` > 0 adds the same reconstruction NLL for the decoded prior *mean* (our addition: the app applies
    the mean, so it is trained to land on B directly)."""
    from torch.distributions import kl_divergence
    d6, q, p = model(A, B, cb)
    nll_r, nll_j, nll_v, *_ = recon_nll(model, d6, B, body_fn)
    kl = kl_divergence(q, p).sum(-1)
    loss = (nll_r + nll_j + nll_v + w_kl * kl).mean()
    if w_mean:
        mr, mj, mv, *_ = recon_nll(model, model.decoder.decode_6d(p.loc), B, body_fn)
        loss = loss + w_mean * (mr + mj + mv).mean()
    return loss, {"rot": nll_r.mean().item(), "jts": nll_j.mean().item(), "v2v": nll_v.mean().item(),
                  "kl": kl.mean().item()}


def sample_batch(data: PairData, store: ClauseStore, idx: np.ndarray, rng: np.random.Generator, p_flip: float,
                 p_copy: float):
    A, B = data.A[idx].clone(), data.B[idx].clone()
    flip = rng.random(len(idx)) < p_flip
    copy = rng.random(len(idx)) < p_copy
    ids = []
    for r, i in enumerate(idx):
        k = int(rng.integers(len(store.ids[i])))
        ids.append([] if copy[r] else (store.flip_ids[i][k] if flip[r] else store.ids[i][k]))
    if flip.any():
        f = torch.as_tensor(flip)
        A[f], B[f] = mirror_rotmats(A[f]), mirror_rotmats(B[f])
    if copy.any():
        c = torch.as_tensor(copy)
        B[c] = A[c]
    return A, B, store.batch(ids)


def train_model(model: PoseEditor, data: PairData, store: ClauseStore, body_fn, cfg: dict, epochs: float,
                minutes: float | None = None, seed: int = 0, device: str = "cpu", log=log) -> dict:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=1e-4)
    n = len(data)
    steps_per_epoch = max(1, n // cfg["batch"])
    total = max(1, int(epochs * steps_per_epoch))
    warm = max(1, min(200, total // 10))
    t0 = time.time()

    def lr_factor(s):  # warm-up, then cosine over the steps or the time budget, whichever ends first
        prog = s / total
        if minutes:
            prog = max(prog, dist.elapsed(t0) / (60 * minutes))
        return min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, prog)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    hist, step, perm, pos = [], 0, rng.permutation(n), 0
    w_mean = cfg.get("w_mean", 0.0)
    step_loss = dist.wrap(model, lambda m, A, B, cb: training_loss(m, body_fn, A, B, cb, w_mean=w_mean))
    while step < total:
        if minutes is not None and dist.elapsed(t0) > 60 * minutes:
            log(f"[editor] time budget reached after {step} steps")
            break
        if pos + cfg["batch"] > n:
            perm, pos = rng.permutation(n), 0
        idx = perm[pos:pos + cfg["batch"]]
        pos += cfg["batch"]
        A, B, cb = sample_batch(data, store, idx, rng, cfg["p_flip"], cfg["p_copy"])
        cb = dataclasses.replace(cb, seq=dist.shard(cb.seq))  # the clause table is shared, the rows are split
        loss, parts = step_loss(dist.shard(A).to(device), dist.shard(B).to(device), cb.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        sched.step()
        hist.append(loss.item())
        step += 1
        if step % 100 == 0 or step == total:
            log(f"[editor] step {step}/{total} loss {np.mean(hist[-100:]):.1f} " +
                " ".join(f"{k} {v:.1f}" for k, v in parts.items()) + f" ({time.time() - t0:.0f} s)")
    model.eval()
    return {"steps": step, "seconds": round(time.time() - t0, 1), "loss_first": hist[0] if hist else None,
            "loss_last": float(np.mean(hist[-50:])) if hist else None, "history": hist}


# --- evaluation ----------------------------------------------------------------------------------------------





# instruction compliance ----------------------------------------------------------------------------------













#: ``--device cuda`` is allowed (core_models.cli.train_eval): the model, the batches and the tensors model code
#: builds go to the device; the weights are saved from the CPU
DEVICE_CLEAN = True


# --- CLI -----------------------------------------------------------------------------------------------------

def add_train_args(p) -> None:
    p.add_argument("--config", choices=sorted(CONFIGS), default="full")
    add_device_arg(p, default="cpu", what="training")
    p.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--epochs", type=float, default=None, help="override the config's epochs")
    p.add_argument("--minutes", type=float, default=None, help="stop training after this many minutes")
    p.add_argument("--max-pairs", type=int, default=None, help="use at most this many training pairs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="weights folder (default resources/weights)")
    p.add_argument("--no-save", action="store_true")
    p.add_argument("--part-pairs", type=int, default=None,
                   help="part-wise pairs added to the training set (default: the config's; 0 = none)")
    p.add_argument("--init-from", default=None,
                   help="weights folder holding an editor.pt to continue from (fine-tuning; same config)")
    p.add_argument("--clause-budget", type=int, default=None,
                   help="keep only wordings whose clauses fit this many unique clauses (frequent first; each costs "
                        "one MiniLM encoding); default: all")
    p.add_argument("--clause-fill", action="store_true",
                   help="with --clause-budget: spend the budget on whole wordings, cheapest first (without it, the "
                        "most frequent clauses are kept and a larger budget keeps almost no more wordings)")
    p.add_argument("--coach-texts", action="store_true",
                   help="add one coach-style wording (compare.correct, 1-3 instructions) per training pair")




def run_train(args) -> int:
    torch.set_num_threads(max(1, int(getattr(args, "threads", 1) or 1)))
    from core_models.body import load_body

    cfg = dict(CONFIGS[args.config])
    if args.max_pairs is not None:
        cfg["max_pairs"] = args.max_pairs
    epochs = args.epochs if args.epochs is not None else cfg["epochs"]
    cdir = _corpus_dir(args.corpus)
    t_all = time.time()
    body = load_body("anny")
    data = load_pairs(cdir, (0,), cfg["max_pairs"], args.seed)
    if getattr(args, "part_pairs", None) is not None:
        cfg["part_pairs"] = args.part_pairs
    n_full = len(data)
    n_coach = 0
    if getattr(args, "coach_texts", False):
        n_coach = add_coach_texts(cdir, data, args.seed, body.skinning.rest_joints)
        log(f"[editor] + coach-style wordings for {n_coach} pairs")
    if cfg.get("part_pairs"):
        pp = load_part_pairs(cdir, data, cfg["part_pairs"], args.seed, body.skinning.rest_joints)
        log(f"[editor] + {len(pp)} part-wise pairs")
        data = concat_pairs(data, pp)
    val = load_pairs(cdir, (1,), 1000 if args.config == "full" else 100, args.seed)
    if len(val) == 0:  # tiny corpora may have no validation clip
        val = load_pairs(cdir, (2,), 1000 if args.config == "full" else 100, args.seed)
    log(f"[editor] {len(data)} training pairs, {len(val)} validation pairs from {cdir}")
    budget, fill = getattr(args, "clause_budget", None), bool(getattr(args, "clause_fill", False))
    if budget:
        data.texts, kept = budget_wordings(data.texts, budget, args.seed, fill)
        log(f"[editor] clause budget {budget}: {kept}")
    t_text = time.time()
    store = ClauseStore(data, cdir / CLAUSE_CACHE)
    vstore = ClauseStore(val, cdir / CLAUSE_CACHE, flip=False)
    text_seconds = time.time() - t_text
    log(f"[editor] {len(store.index)} unique clauses ({text_seconds:.0f} s)")
    body_fn = BodyTorch(body, cfg["verts"], seed=args.seed)
    model = build_model(cfg)
    prev = None
    if getattr(args, "init_from", None):
        blob = load_weights("editor", Path(args.init_from))
        new = load_state_compat(model, float_state(blob["state"]))
        prev = manifest("editor", Path(args.init_from))
        log(f"[editor] continuing from {args.init_from} (new parameters: {new})")
    log(f"[editor] {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    with on_device(model.to(args.device)):  # model code that builds tensors builds them on the device too
        info = train_model(model, data, store, body_fn, cfg, epochs, args.minutes, args.seed, args.device)
    if not dist.is_main():  # rank 0 validates and saves
        return 0
    model.cpu()
    ed = Editor(model, set(store.vocabulary))
    metrics = evaluate_inputs(model, val, vstore, body_fn, n_best=30, rest_joints=body.skinning.rest_joints)
    metrics["compliance"] = compliance(ed, val, n=200 if args.config == "full" else 30,
                                       rest_joints=body.skinning.rest_joints)
    metrics["side"] = side_specificity(ed, val, n=200 if args.config == "full" else 30)
    summary = {"val_mpje_pose_text": round(metrics["pose_text"]["mpje"], 1),
               "val_mpje_pose_only": round(metrics["pose_only"]["mpje"], 1),
               "val_compliance": round(metrics["compliance"]["compliance"], 3),
               "val_side_correct": round(metrics["side"]["side_correct"], 3)}
    log(f"[editor] validation: {summary}")
    if not args.no_save:
        config = dict(cfg, vocabulary=store.vocabulary)
        cmd = "python main.py train editor " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else \
            f"python main.py train editor --config {args.config}"
        cmd, train_seconds = continued(prev, cmd, info["seconds"])
        path = save_weights("editor", model.state_dict(), config,
                            {"command": cmd, "data": {"corpus": str(cdir), "train_pairs": n_full,
                                                      "part_pairs": len(data) - n_full,
                                                      "coach_wordings": n_coach,
                                                      "clause_budget": budget, "clause_fill": fill,
                                                      "unique_clauses": len(store.index)},
                             "metrics": {"validation": summary}, "train_seconds": round(train_seconds, 1),
                             "text_encoding_seconds": round(text_seconds, 1), "steps": info["steps"],
                             "threads": torch.get_num_threads()},
                            directory=Path(args.out) if args.out else None, half=True)
        log(f"[editor] saved {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(json.dumps({"name": "train_editor", "config": args.config, "steps": info["steps"],
                      "train_seconds": info["seconds"], "total_seconds": round(time.time() - t_all, 1),
                      "loss_first": info["loss_first"], "loss_last": info["loss_last"], **summary}))
    return 0









