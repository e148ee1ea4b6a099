"""Train / evaluate the PoseEmbroider, the Aligner baseline and their SMPL-H regression heads
(``python main.py train|eval embroider``).

Frozen encoders: the shipped lifter (``lifter.pt``, its default variant: "visual" = mean-pooled lifter features +
lifted joints from synthetic MediaPipe-like landmarks, fresh cameras/noise every batch), the text encoder (MiniLM,
mean-pooled; one automatic description per pose) and a pose encoder. **The pose encoder** is the editor's
architecture (:class:`core_models.nets.pose_vae.PoseVAE`), but no trained editor weights were available when this
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

from core_models.nets.embroider import (MODALITIES, SUBSETS, Aligner, EmbroiderConfig, PoseEmbroider,
                                        SMPLHead)
from core_models.nets.lifter import pa_mpjpe
from core_models.nets.lifter_train import CaptureData, _log, build_capture_data, make_batch

RETRIEVAL_TASKS = (("v", "p"), ("v", "t"), ("p", "v"), ("p", "t"), ("t", "v"), ("t", "p"),
                   ("vp", "t"), ("pt", "v"), ("vt", "p"))


# --- frozen encoders ----------------------------------------------------------------------------------------

def _rotmats(data: CaptureData, sel=None) -> torch.Tensor:
    from core_models.pose import Pose

    sel = slice(None) if sel is None else sel
    return torch.from_numpy(Pose(data.root_orient[sel], data.body_pose[sel]).matrices().astype(np.float32))


def pretrain_pose_vae(data: CaptureData, rest_joints: torch.Tensor, epochs: int = 6, batch: int = 256,
                      seed: int = 0, log=_log):
    """A small VPoser-like pose VAE on the training poses (used frozen as the pose modality encoder)."""
    from core_models.kinematics import fk_torch
    from core_models.nets.pose_vae import PoseVAE

    torch.manual_seed(seed)
    vae = PoseVAE(latent_dim=32, hidden=256, feat_dim=256, layers=2, dropout=0.1)
    R = _rotmats(data)
    Jgt = fk_torch(R, rest_joints)[1]
    opt = torch.optim.AdamW(vae.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    t0 = time.time()
    for ep in range(epochs):
        perm = rng.permutation(len(R))
        tot = 0.0
        for b in range(0, len(R) - batch + 1, batch):
            s = torch.as_tensor(perm[b:b + batch])
            Rh, q = vae(R[s])
            Jh = fk_torch(Rh, rest_joints)[1]
            kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0, 1)).sum(-1).mean()
            loss = (Rh - R[s]).pow(2).sum((-1, -2)).mean() + 50 * (Jh - Jgt[s]).pow(2).sum(-1).mean() + 1e-3 * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach())
        log(f"[pose-vae] epoch {ep + 1}/{epochs} loss {tot / max(1, len(R) // batch):.4f} ({time.time() - t0:.0f} s)")
    vae.eval()
    return vae


class Encoders:
    """The frozen modality encoders → raw encodings {v, p, t}."""

    def __init__(self, lifter, pose_vae):
        self.lifter, self.pose_vae = lifter, pose_vae
        self.window = lifter.cfg.window

    @torch.no_grad()
    def visual(self, kp: torch.Tensor) -> torch.Tensor:
        f, j = self.lifter.features(kp)
        return torch.cat([f.mean(1), j.flatten(1)], -1)

    @torch.no_grad()
    def pose(self, rotmats: torch.Tensor) -> torch.Tensor:
        return self.pose_vae.encode(rotmats).loc

    def raw(self, data: CaptureData, sel, rng, with_pose=True, with_text=True):
        kp, _, _ = make_batch(data, sel, rng, self.window)
        out = {"v": self.visual(kp)}
        if with_pose:
            out["p"] = self.pose(_rotmats(data, sel))
        if with_text:
            out["t"] = data.text_pooled[torch.as_tensor(sel)].float()
        return out


def fixed_raw(enc: Encoders, data: CaptureData, seed: int = 123, batch: int = 1024) -> dict:
    """One fixed synthetic draw of every modality for evaluation."""
    rng = np.random.default_rng(seed)
    parts = [enc.raw(data, np.arange(s, min(s + batch, len(data))), rng) for s in range(0, len(data), batch)]
    return {m: torch.cat([p[m] for p in parts]) for m in MODALITIES}


# --- training -----------------------------------------------------------------------------------------------

def train_contrastive(model, enc: Encoders, data: CaptureData, epochs: int, batch: int = 256, lr: float = 5e-4,
                      seed: int = 0, name: str = "embroider", max_minutes=None, log=_log):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = max(1, len(data) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.1)
    t0 = time.time()
    model.train()
    for ep in range(epochs):
        perm = rng.permutation(len(data))
        tot = 0.0
        for b in range(steps):
            sel = perm[b * batch:(b + 1) * batch]
            loss, _ = model.loss(enc.raw(data, sel, rng))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tot += float(loss.detach())
        log(f"[{name}] epoch {ep + 1}/{epochs} loss {tot / steps:.4f} ({time.time() - t0:.0f} s)")
        if max_minutes and time.time() - t0 > 60 * max_minutes and ep + 1 < epochs:
            log(f"[{name}] stopping after {ep + 1} epochs (time budget)")
            break
    model.eval()
    return time.time() - t0


def _embed_for_head(model, raw: dict, subset) -> torch.Tensor:
    with torch.no_grad():
        return model(raw, subset)


def train_head(model, enc: Encoders, data: CaptureData, rest_joints, epochs: int, batch: int = 256,
               lr: float = 1e-3, seed: int = 0, name: str = "head", max_minutes=None, log=_log) -> SMPLHead:
    from core_models.kinematics import fk_torch
    from core_models.nets.pose_vae import rot6d_to_matrix

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed + 7)
    head = SMPLHead(model.cfg.d)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    steps = max(1, len(data) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.1)
    t0 = time.time()
    for ep in range(epochs):
        perm = rng.permutation(len(data))
        tot = 0.0
        for b in range(steps):
            sel = perm[b * batch:(b + 1) * batch]
            raw = enc.raw(data, sel, rng, with_pose=False)
            n2 = len(sel) // 2   # half the batch with the text cue
            x = torch.cat([_embed_for_head(model, {"v": raw["v"][:n2]}, ("v",)),
                           _embed_for_head(model, {"v": raw["v"][n2:], "t": raw["t"][n2:]}, ("v", "t"))])
            R = _rotmats(data, sel)
            Jgt = fk_torch(R, rest_joints)[1]
            loss = 0.0
            for k, th in enumerate(head(x, all_steps=True)):
                Rh = rot6d_to_matrix(th)
                Jh = fk_torch(Rh, rest_joints)[1]
                w = 0.5 if k + 1 < head.iterations else 1.0
                loss = loss + w * ((Jh - Jgt).norm(dim=-1).mean() + 0.1 * (Rh - R).pow(2).sum((-1, -2)).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach())
        log(f"[{name}] epoch {ep + 1}/{epochs} loss {tot / steps:.4f} ({time.time() - t0:.0f} s)")
        if max_minutes and time.time() - t0 > 60 * max_minutes and ep + 1 < epochs:
            break
    head.eval()
    return head


# --- evaluation ---------------------------------------------------------------------------------------------

@torch.no_grad()
def retrieval_table(model, raw: dict, ks=(1, 5, 10)) -> dict:
    """Recall@K (%) for every task; keys 'V→P' … plus mRecall single/dual/total."""
    import torch.nn.functional as F

    out = {}
    n = len(raw["v"])
    lab = torch.arange(n)
    for q, tgt in RETRIEVAL_TASKS:
        subset = tuple(q)
        qv = F.normalize(model.query({m: raw[m] for m in subset}, subset, tgt), dim=-1)
        cv = F.normalize(model.candidates(raw, tgt), dim=-1)
        sim = qv @ cv.T
        rank = (sim > sim[lab, lab][:, None]).sum(1)
        rec = [float((rank < k).float().mean()) * 100 for k in ks]
        out[f"{q.upper()}→{tgt.upper()}"] = round(sum(rec) / len(rec), 1)
    single = [v for k, v in out.items() if len(k.split("→")[0]) == 1]
    dual = [v for k, v in out.items() if len(k.split("→")[0]) == 2]
    out["mRecall_single"] = round(sum(single) / len(single), 1)
    out["mRecall_dual"] = round(sum(dual) / len(dual), 1)
    out["mRecall"] = round((out["mRecall_single"] + out["mRecall_dual"]) / 2, 1)
    return out


@torch.no_grad()
def regression_metrics(model, head: SMPLHead, raw: dict, data: CaptureData, rest_joints, subset) -> dict:
    from core_models.kinematics import fk_torch
    from core_models.nets.lifter import mpjpe
    from core_models.nets.pose_vae import rot6d_to_matrix

    x = model({m: raw[m] for m in subset}, subset)
    Rh = rot6d_to_matrix(head(x))
    Jh = fk_torch(Rh, rest_joints)[1]
    Jgt = fk_torch(_rotmats(data), rest_joints)[1]
    return {"pa_mpjpe_mm": round(float(pa_mpjpe(Jh, Jgt).mean()) * 1000, 1),
            "mpjpe_mm": round(float(mpjpe(Jh, Jgt).mean()) * 1000, 1)}


def print_tables(ret: dict, reg: dict) -> None:
    cols = [f"{q.upper()}→{t.upper()}" for q, t in RETRIEVAL_TASKS]
    print("any-to-any retrieval (mean of R@1/5/10, %), held-out clips")
    print(f"{'model':<14} {'total':>6} {'single':>6} {'dual':>6} " + " ".join(f"{c:>6}" for c in cols))
    for name, r in ret.items():
        print(f"{name:<14} {r['mRecall']:>6.1f} {r['mRecall_single']:>6.1f} {r['mRecall_dual']:>6.1f} "
              + " ".join(f"{r[c]:>6.1f}" for c in cols))
    print("SMPL-H regression from the frozen embedding (22 joints, mm)")
    print(f"{'representation (input)':<34} {'PA-MPJPE':>9} {'MPJPE':>7}")
    for name, r in reg.items():
        print(f"{name:<34} {r['pa_mpjpe_mm']:>9.1f} {r['mpjpe_mm']:>7.1f}")


def evaluate_all(models: dict, heads: dict, enc: Encoders, test: CaptureData, rest_joints, seed: int = 123):
    raw = fixed_raw(enc, test, seed)
    ret = {name: retrieval_table(m, raw) for name, m in models.items()}
    reg = {}
    for name, m in models.items():
        for subset, label in ((("v",), "keypoints"), (("v", "t"), "keypoints + text")):
            reg[f"{name} ({label})"] = regression_metrics(m, heads[name], raw, test, rest_joints, subset)
    return ret, reg


# --- save / load --------------------------------------------------------------------------------------------

def load_embroider(directory: Path | None = None):
    """(embroider, aligner, {name: head}, pose_vae, config) from the shipped embroider.pt."""
    from core_models.nets.pose_vae import PoseVAE
    from core_models.nets.weights import float_state, load_weights

    blob = load_weights("embroider", directory)
    cfg = blob["config"]
    st = float_state(blob["state"])

    def part(prefix):
        return {k[len(prefix):]: v for k, v in st.items() if k.startswith(prefix)}

    ec = EmbroiderConfig.from_dict(cfg["embroider"])
    emb, ali = PoseEmbroider(ec), Aligner(ec)
    emb.load_state_dict(part("embroider."))
    ali.load_state_dict(part("aligner."))
    heads = {}
    for name in ("embroider", "aligner"):
        h = SMPLHead(ec.d)
        h.load_state_dict(part(f"head_{name}."))
        heads[name] = h.eval()
    vae = PoseVAE(latent_dim=32, hidden=256, feat_dim=256, layers=2, dropout=0.1)
    vae.load_state_dict(part("pose_vae."), strict=False)   # the decoder is not shipped
    return emb.eval(), ali.eval(), heads, vae.eval(), cfg


# --- CLI ----------------------------------------------------------------------------------------------------

def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None)
    p.add_argument("--n-train", type=int, default=12000)
    p.add_argument("--n-test", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=8, help="PoseEmbroider / Aligner epochs")
    p.add_argument("--head-epochs", type=int, default=6)
    p.add_argument("--vae-epochs", type=int, default=6)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--max-minutes", type=float, default=None, help="per-model time budget")
    p.add_argument("--lifter-dir", default=None, help="folder of lifter.pt (default resources/weights)")
    p.add_argument("--out-dir", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)


def run_train(args) -> int:
    from core_models.capture.synth import LandmarkModel
    from core_models.data.corpus import default_corpus_dir
    from core_models.nets.lifter_train import load_lifter
    from core_models.nets.weights import save_weights

    torch.set_num_threads(args.threads)
    t_all = time.time()
    cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
    train = build_capture_data(cdir, "train", args.n_train, args.seed)
    test = build_capture_data(cdir, "test", args.n_test, args.seed + 1, with_text=True)
    rest = torch.from_numpy(LandmarkModel().rest_joints.astype(np.float32))
    lifter = load_lifter(directory=Path(args.lifter_dir) if args.lifter_dir else None)
    t = time.time()
    vae = pretrain_pose_vae(train, rest, args.vae_epochs, args.batch, args.seed)
    times = {"pose_vae": round(time.time() - t, 1)}
    enc = Encoders(lifter, vae)
    ec = EmbroiderConfig(in_dims={"v": lifter.cfg.d + 66, "p": 32, "t": 384}, d=args.d)
    emb, ali = PoseEmbroider(ec), Aligner(ec)
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
    ret, reg = evaluate_all({"embroider": emb, "aligner": ali}, heads, enc, test, rest)
    print_tables({"Aligner": ret["aligner"], "PoseEmbroider": ret["embroider"]}, reg)
    state = {}
    for prefix, mod in (("embroider.", emb), ("aligner.", ali), ("head_embroider.", heads["embroider"]),
                        ("head_aligner.", heads["aligner"])):
        state.update({prefix + k: v for k, v in mod.state_dict().items()})
    state.update({"pose_vae." + k: v for k, v in vae.state_dict().items() if not k.startswith("decoder.")})
    from core_models.nets.lifter_train import load_variants

    _, lcfg = load_variants(Path(args.lifter_dir) if args.lifter_dir else None)
    config = {"embroider": ec.to_dict(), "lifter_variant": lcfg["default"], "window": lifter.cfg.window}
    meta = {"command": "python main.py train embroider " + " ".join(sys.argv[3:]), "data": str(cdir),
            "n_train": len(train), "n_test": len(test), "metrics": {"retrieval": ret, "regression": reg},
            "train_seconds": round(time.time() - t_all, 1), "stage_seconds": times,
            "pose_encoder": "PoseVAE pre-trained inside embroider_train (no editor weights available)"}
    f = save_weights("embroider", state, config, meta, directory=Path(args.out_dir) if args.out_dir else None,
                     half=True)
    print(json.dumps({"name": "embroider_train", "retrieval": ret, "regression": reg,
                      "seconds": round(time.time() - t_all, 1), "weights": str(f)}))
    return 0


def add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None)
    p.add_argument("--mocap", default=None, help="evaluate on the clips of this mocap folder (built on the fly)")
    p.add_argument("--n-test", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--threads", type=int, default=1)


def run_eval(args) -> int:
    from core_models.capture.synth import LandmarkModel
    from core_models.data.corpus import default_corpus_dir
    from core_models.nets.lifter_train import load_lifter, mocap_corpus

    torch.set_num_threads(args.threads)
    wd = Path(args.weights_dir) if args.weights_dir else None
    if args.mocap:
        cdir = mocap_corpus(args.mocap)
        test = build_capture_data(cdir, "test", args.n_test, args.seed, with_text=True, describe_missing=True)
    else:
        cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
        test = build_capture_data(cdir, "test", args.n_test, args.seed, with_text=True)
    emb, ali, heads, vae, cfg = load_embroider(wd)
    lifter = load_lifter(cfg.get("lifter_variant"), wd)
    rest = torch.from_numpy(LandmarkModel().rest_joints.astype(np.float32))
    ret, reg = evaluate_all({"embroider": emb, "aligner": ali}, heads, Encoders(lifter, vae), test, rest)
    print_tables({"Aligner": ret["aligner"], "PoseEmbroider": ret["embroider"]}, reg)
    print(json.dumps({"name": "embroider_eval", "data": str(args.mocap or cdir), "n": len(test),
                      "retrieval": ret, "regression": reg}))
    return 0
