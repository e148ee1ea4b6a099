"""Train / evaluate the PoseEmbroider, the Aligner baseline and their SMPL-H regression heads
(``python main.py train|eval embroider``).

Frozen encoders: the shipped lifter (``lifter.pt``, its default variant: "visual" = mean-pooled lifter features +
lifted joints from synthetic MediaPipe-like landmarks, fresh cameras/noise every batch), the text encoder (MiniLM,
mean-pooled; one automatic description per pose) and a pose encoder. **The pose encoder** is the editor's
architecture (:class:`core_models.nets.common.pose_vae.PoseVAE`), but no trained editor weights were available when this
was written, so a small one is **pre-trained here** (rotations + joints reconstruction + KL, a few epochs) and then
frozen; it ships inside ``embroider.pt``.

Evaluation (held-out clips: test split, or ``--mocap DIR`` built on the fly and described automatically):
* any-to-any retrieval (Table 1 form: 6 single-query and 3 dual-query tasks, mRecall = mean of R@1/5/10 over the
  tasks) for the PoseEmbroider and the Aligner;
* SMPL-H regression (iterative residual head on the frozen embedding): MPJPE / PA-MPJPE (mm) of the 22 joints
  from keypoints alone and keypoints + text cue. The heads are trained on a 50/50 mix of keypoint-only and
  keypoint+text inputs (the seed trains on image features only; the mix keeps one head valid for both inputs).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from core_models.nets.common.pose_vae import (
    PoseVAE,
)
from core_models.nets.common.weights import (
    save_weights,
)
from core_models.nets.embroider.data import capture_rotmats, raw_encodings
from core_models.nets.embroider.eval import (
    evaluate_all,
    print_tables,
)
from core_models.nets.embroider.infer import Encoders
from core_models.nets.embroider.model import (
    Aligner,
    EmbroiderConfig,
    PoseEmbroider,
    SMPLHead,
)
from core_models.nets.lifter.infer import load_lifter, load_variants
from core_models.nets.training.capture_data import (
    CaptureData,
    build_capture_data,
)
from core_models.nets.training import distributed as dist
from core_models.nets.training.common import log


def pretrain_pose_vae(data: CaptureData, rest_joints: torch.Tensor, epochs: int = 6, batch: int = 256,
                      seed: int = 0, log=log, device: str | torch.device = "cpu"):
    """A small VPoser-like pose VAE on the training poses (used frozen as the pose modality encoder), trained on
    ``device`` (the poses stay on the CPU, each batch is moved)."""
    from core_models.kinematics import fk_torch

    torch.manual_seed(seed)
    vae = PoseVAE(latent_dim=32, hidden=256, feat_dim=256, layers=2, dropout=0.1).to(device)
    R = capture_rotmats(data)
    Jgt = fk_torch(R, rest_joints)[1]
    rest_d = rest_joints.to(device)
    opt = torch.optim.AdamW(vae.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    t0 = time.time()
    for ep in range(epochs):
        perm = rng.permutation(len(R))
        tot = 0.0
        for b in range(0, len(R) - batch + 1, batch):
            s = torch.as_tensor(perm[b:b + batch])
            Rs, Js = R[s].to(device), Jgt[s].to(device)
            Rh, q = vae(Rs)
            Jh = fk_torch(Rh, rest_d)[1]
            kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0, 1)).sum(-1).mean()
            loss = (Rh - Rs).pow(2).sum((-1, -2)).mean() + 50 * (Jh - Js).pow(2).sum(-1).mean() + 1e-3 * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach())
        log(f"[pose-vae] epoch {ep + 1}/{epochs} loss {tot / max(1, len(R) // batch):.4f} ({time.time() - t0:.0f} s)")
    vae.eval()
    return vae








# --- training -----------------------------------------------------------------------------------------------

def train_contrastive(model, enc: Encoders, data: CaptureData, epochs: int, batch: int = 256, lr: float = 5e-4,
                      seed: int = 0, name: str = "embroider", max_minutes=None, log=log):
    """Contrastive training of ``model`` on the encoders' device (it is moved there)."""
    torch.manual_seed(seed)
    model.to(enc.device)
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = max(1, len(data) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.1)
    t0 = time.time()
    model.train()
    step_loss = dist.wrap(model, lambda m, raw: m.loss(raw))  # torchrun: contrastive within each rank's share
    for ep in range(epochs):
        perm = rng.permutation(len(data))
        tot = 0.0
        for b in range(steps):
            sel = perm[b * batch:(b + 1) * batch]
            loss, _ = step_loss(dist.shard(raw_encodings(enc, data, sel, rng)))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tot += float(loss.detach())
        log(f"[{name}] epoch {ep + 1}/{epochs} loss {tot / steps:.4f} ({time.time() - t0:.0f} s)")
        if max_minutes and dist.elapsed(t0) > 60 * max_minutes and ep + 1 < epochs:
            log(f"[{name}] stopping after {ep + 1} epochs (time budget)")
            break
    model.eval()
    return time.time() - t0


def _embed_for_head(model, raw: dict, subset) -> torch.Tensor:
    with torch.no_grad():
        return model(raw, subset)


def train_head(model, enc: Encoders, data: CaptureData, rest_joints, epochs: int, batch: int = 256,
               lr: float = 1e-3, seed: int = 0, name: str = "head", max_minutes=None, log=log) -> SMPLHead:
    from core_models.kinematics import fk_torch
    from core_models.pose import sixd_to_matrix

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed + 7)
    dev = enc.device  # the model, the head and every batch live with the encoders
    head = SMPLHead(model.cfg.d).to(dev)
    rest_d = rest_joints.to(dev)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    steps = max(1, len(data) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.1)
    t0 = time.time()

    def head_loss(h: SMPLHead, x: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
        Jgt = fk_torch(R, rest_d)[1]
        loss = torch.zeros((), device=dev)
        for k, th in enumerate(h(x, all_steps=True)):
            Rh = sixd_to_matrix(th)
            Jh = fk_torch(Rh, rest_d)[1]
            w = 0.5 if k + 1 < h.iterations else 1.0
            loss = loss + w * ((Jh - Jgt).norm(dim=-1).mean() + 0.1 * (Rh - R).pow(2).sum((-1, -2)).mean())
        return loss

    step_loss = dist.wrap(head, head_loss)
    for ep in range(epochs):
        perm = rng.permutation(len(data))
        tot = 0.0
        for b in range(steps):
            sel = perm[b * batch:(b + 1) * batch]
            raw = raw_encodings(enc, data, sel, rng, with_pose=False)
            n2 = len(sel) // 2   # half the batch with the text cue
            x = torch.cat([_embed_for_head(model, {"v": raw["v"][:n2]}, ("v",)),
                           _embed_for_head(model, {"v": raw["v"][n2:], "t": raw["t"][n2:]}, ("v", "t"))])
            loss = step_loss(*dist.shard((x, capture_rotmats(data, sel).to(dev))))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach())
        log(f"[{name}] epoch {ep + 1}/{epochs} loss {tot / steps:.4f} ({time.time() - t0:.0f} s)")
        if max_minutes and dist.elapsed(t0) > 60 * max_minutes and ep + 1 < epochs:
            break
    head.eval()
    return head


# --- evaluation ---------------------------------------------------------------------------------------------









# --- save / load --------------------------------------------------------------------------------------------



# --- CLI ----------------------------------------------------------------------------------------------------

#: ``--device cuda`` is allowed (core_models.cli.train_eval): lifter, pose VAE, models, heads and batches go to the
#: device, the regression metrics are computed on the CPU and the weights are saved from CPU copies
DEVICE_CLEAN = True


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None)
    p.add_argument("--n-train", type=int, default=12000)
    p.add_argument("--n-test", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=8, help="PoseEmbroider / Aligner epochs")
    p.add_argument("--head-epochs", type=int, default=6)
    p.add_argument("--vae-epochs", type=int, default=6)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--tok-layers", type=int, default=1, help="PoseEmbroider tokenizer depth (1: the seed's linear + "
                   "ReLU; 3: the MLP tokenizers that beat the Aligner on real landmarks, docs/notes/textlift_study.md)")
    p.add_argument("--loss-on", default="all", choices=("all", "missing"),
                   help="PoseEmbroider InfoNCE targets per input subset: all modalities (the seed) or the missing ones")
    p.add_argument("--max-minutes", type=float, default=None, help="per-model time budget")
    p.add_argument("--lifter-dir", default=None, help="folder of lifter.pt (default resources/weights)")
    p.add_argument("--out-dir", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    from core_models.nets.embroider.real import add_real_args

    add_real_args(p)


def run_train(args) -> int:
    from core_models.capture.synth import LandmarkModel
    from core_models.data.corpus import default_corpus_dir

    if getattr(args, "landmarks", None):
        from core_models.nets.embroider.real import run_train_real

        return run_train_real(args)
    torch.set_num_threads(args.threads)
    t_all = time.time()
    cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
    train = build_capture_data(cdir, "train", args.n_train, args.seed)
    test = build_capture_data(cdir, "test", args.n_test, args.seed + 1, with_text=True)
    rest = torch.from_numpy(LandmarkModel().rest_joints.astype(np.float32))
    dev = torch.device(getattr(args, "device", None) or "cpu")  # resolved by core_models.cli.train_eval
    lifter = load_lifter(directory=Path(args.lifter_dir) if args.lifter_dir else None, device=dev)
    t = time.time()
    vae = pretrain_pose_vae(train, rest, args.vae_epochs, args.batch, args.seed, device=dev)
    times = {"pose_vae": round(time.time() - t, 1)}
    enc = Encoders(lifter, vae)
    ec = EmbroiderConfig(in_dims={"v": lifter.cfg.d + 66, "p": 32, "t": 384}, d=args.d,
                         tok_layers=getattr(args, "tok_layers", 1), loss_on=getattr(args, "loss_on", "all"))
    emb, ali = PoseEmbroider(ec).to(dev), Aligner(ec).to(dev)
    times["embroider"] = round(train_contrastive(emb, enc, train, args.epochs, args.batch, seed=args.seed,
                                                 name="embroider", max_minutes=args.max_minutes), 1)
    times["aligner"] = round(train_contrastive(ali, enc, train, args.epochs, args.batch, seed=args.seed,
                                               name="aligner", max_minutes=args.max_minutes), 1)
    heads = {}
    for name, m in (("embroider", emb), ("aligner", ali)):
        t = time.time()
        heads[name] = train_head(m, enc, train, rest, args.head_epochs, args.batch, seed=args.seed,
                                 name=f"head-{name}", max_minutes=args.max_minutes)
        times[f"head_{name}"] = round(time.time() - t, 1)
    if not dist.is_main():  # rank 0 evaluates and saves
        return 0
    ret, reg = evaluate_all({"embroider": emb, "aligner": ali}, heads, enc, test, rest)
    print_tables({"Aligner": ret["aligner"], "PoseEmbroider": ret["embroider"]}, reg)
    state = {}
    for prefix, mod in (("embroider.", emb), ("aligner.", ali), ("head_embroider.", heads["embroider"]),
                        ("head_aligner.", heads["aligner"])):
        state.update({prefix + k: v for k, v in mod.state_dict().items()})
    state.update({"pose_vae." + k: v for k, v in vae.state_dict().items() if not k.startswith("decoder.")})

    _, lcfg = load_variants(Path(args.lifter_dir) if args.lifter_dir else None)
    config = {"embroider": ec.to_dict(), "lifter_variant": lcfg["default"], "window": lifter.cfg.window}
    meta = {"command": "python main.py train embroider " + " ".join(sys.argv[3:]), "data": str(cdir),
            "n_train": len(train), "n_test": len(test), "metrics": {"retrieval": ret, "regression": reg},
            "train_seconds": round(time.time() - t_all, 1), "stage_seconds": times,
            "pose_encoder": "PoseVAE pre-trained inside embroider.train (no editor weights available)"}
    f = save_weights("embroider", state, config, meta, directory=Path(args.out_dir) if args.out_dir else None,
                     half=True)
    print(json.dumps({"name": "embroider_train", "retrieval": ret, "regression": reg,
                      "seconds": round(time.time() - t_all, 1), "weights": str(f)}))
    return 0




