"""Training and evaluation of QPoser (``python main.py train|eval qposer``).

Stages (``train qposer --stage ...``):
* ``prior`` (default): the MS-VQVAE + GLIF-AE on the corpus poses of the train split (mirrored copies included),
  loss = rotation-matrix L2 + joint-position L2 (FK on the default skeleton) + β·commitment; EMA codebooks with
  dead-code restarts. Saves ``resources/weights/qposer.pt`` with the slider "part paths" in its config.
* ``vae``: the VPoser-style baseline (``core_models.nets.pose_vae.PoseVAE``, d=32) trained on the same data →
  ``qposer_vae_baseline.pt`` (used as the baseline row and as the plausibility score of random samples).
* ``gen``: the masked transformer over code sequences (:mod:`core_models.nets.qposer_gen`) → ``qposer_gen.pt``.
* ``prompt``: text → part codes (:mod:`core_models.nets.qposer_prompt`) → ``qposer_prompt.pt``.

Evaluation (QPoser Tables 1/2 form): reconstruction MPJAE mean/std (degrees, 21 body joints), escalated error
after 50 and 1000 encode/decode iterations (error after k iterations minus the reconstruction error), codebook
usage / perplexity, on the held-out test clips of the corpus, on the 17 library poses and (``--mocap DIR``) on
clips the corpus never saw; the baseline VAE; ablations (1/8/32 heads, with/without GLIF, short runs); random
samples (joint limits, VAE-prior plausibility); prompting (posecodes realised). Ends with one JSON line.
"""
from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from core_models import skeleton as sk
from core_models.kinematics import fk_torch
from core_models.nets.pose_vae import aa_to_matrix_t
from core_models.nets.qposer import (QPoser, QPoserConfig, ablation_config, build_qposer, compute_part_paths,
                                     mpjae_deg)

CONFIGS = {
    "tiny": dict(model=dict(heads={"head": 1, "torso": 2, "left_arm": 2, "right_arm": 2, "left_leg": 2,
                                   "right_leg": 2, "global": 1},
                            codes={"head": 8, "torso": 16, "arm": 16, "leg": 16, "global": 8},
                            code_dim=8, enc_hidden=32, dec_hidden=64, dec_layers=2),
                 batch=128, lr=3e-3, steps=300, minutes=2.0, path_n=16),
    "full": dict(model={}, batch=256, lr=2e-3, steps=16000, minutes=28.0, path_n=96),
}

_REST = torch.as_tensor(sk.DEFAULT_REST_JOINTS, dtype=torch.float32)


def log(msg: str) -> None:
    print(msg, flush=True)


# --- data ----------------------------------------------------------------------------------------------

def body_rotmats(body_pose: np.ndarray) -> torch.Tensor:
    """(N,21,3) axis-angle → (N,21,3,3) float32 torch."""
    return aa_to_matrix_t(torch.as_tensor(np.asarray(body_pose, np.float32)))


def corpus_rotmats(corpus, split: str, with_mirrors: bool = True, max_n: int | None = None,
                   seed: int = 0) -> torch.Tensor:
    idx = corpus.indices(split, with_mirrors=with_mirrors)
    if max_n is not None and len(idx) > max_n:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_n, replace=False))
    return body_rotmats(corpus.arrays["body_pose"][idx])


def full_rotmats(body: torch.Tensor) -> torch.Tensor:
    """Body rotations (B,21,3,3) → (B,22,3,3) with an identity root."""
    eye = torch.eye(3).expand(body.shape[0], 1, 3, 3)
    return torch.cat([eye, body], 1)


def joints_of(body: torch.Tensor) -> torch.Tensor:
    return fk_torch(full_rotmats(body), _REST)[1]


# --- the prior -----------------------------------------------------------------------------------------

def recon_loss(pred: torch.Tensor, target: torch.Tensor, w_joints: float = 1.0) -> torch.Tensor:
    rot = ((pred - target) ** 2).sum((-1, -2)).mean()
    if w_joints <= 0:
        return rot
    pj = joints_of(pred) * 10.0  # decimetres
    tj = joints_of(target) * 10.0
    return rot + w_joints * ((pj - tj) ** 2).sum(-1).mean()


def _lr_at(frac: float, lr: float) -> float:
    warm = 0.02
    if frac < warm:
        return lr * max(frac / warm, 0.05)
    return 1e-5 + 0.5 * (lr - 1e-5) * (1 + math.cos(math.pi * min(1.0, (frac - warm) / (1 - warm))))


def train_prior(cfg: QPoserConfig, train_R: torch.Tensor, val_R: torch.Tensor | None = None, *, steps: int,
                minutes: float, batch: int = 256, lr: float = 2e-3, seed: int = 0, log_every: int = 1000,
                logf=log, w_joints: float = 1.0, w_cc: float = 0.0,
                model: QPoser | None = None) -> tuple[QPoser, dict]:
    """Train one QPoser; stops at ``steps`` or ``minutes`` (the LR schedule follows whichever is further).

    ``w_cc`` > 0 adds a code-consistency term (ours, not in the paper): the reconstruction is encoded again and
    its pre-quantization latents are pulled onto the codes it was decoded from, so decode∘encode becomes
    idempotent (the escalated error of repeated encode/decode rounds shrinks). ``model``: continue training it
    (fine-tuning) instead of a fresh one."""
    torch.manual_seed(seed)
    model = QPoser(cfg) if model is None else model
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = len(train_R)
    t0 = time.time()
    step = 0
    perm = torch.randperm(n, generator=g)
    pos = 0
    hist = []
    while True:
        frac = max(step / steps, (time.time() - t0) / (60 * minutes))
        if frac >= 1.0:
            break
        for pg in opt.param_groups:
            pg["lr"] = _lr_at(frac, lr)
        if pos + batch > n:
            perm = torch.randperm(n, generator=g)
            pos = 0
        R = train_R[perm[pos:pos + batch]]
        pos += batch
        z = model.encode_continuous(R)
        zq, idx, commit = model.quantize(z)
        out = model.decode(zq)
        loss = recon_loss(out, R, w_joints) + cfg.beta * commit
        if w_cc:
            cc = ((model.encode_continuous(out) - zq.detach()) ** 2).mean()
            loss = loss + w_cc * cc
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if log_every and (step % log_every == 0 or step == 1):
            msg = f"[qposer] step {step} frac {frac:.2f} loss {loss.item():.4f} commit {commit.item():.4f}"
            if w_cc:
                msg += f" code-consistency {cc.item():.4f}"
            if val_R is not None:
                model.eval()
                with torch.no_grad():
                    v = val_R[:2000]
                    e = mpjae_deg(model.reconstruct(v), v).mean().item()
                model.train()
                msg += f" val MPJAE {e:.2f}°"
                hist.append((step, round(e, 3)))
            logf(msg + f" ({time.time() - t0:.0f} s)")
    model.eval()
    return model, {"steps": step, "seconds": round(time.time() - t0, 1), "history": hist}


# --- the VPoser-style baseline ------------------------------------------------------------------------

def train_vae(train_R: torch.Tensor, *, steps: int, minutes: float, batch: int = 256, lr: float = 1e-3,
              kl_weight: float = 5e-3, hidden: int = 256, seed: int = 0, logf=log):
    """The VPoser-like baseline from the editor's pose_vae pieces: rotations + joints L2 reconstruction and a KL
    to N(0, I) (latent d=32). The root is the identity (the body pose alone is modelled, as for QPoser)."""
    from core_models.nets.pose_vae import PoseVAE

    torch.manual_seed(seed)
    vae = PoseVAE(latent_dim=32, hidden=hidden, feat_dim=hidden, layers=2, dropout=0.0)
    vae.train()
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = len(train_R)
    t0 = time.time()
    step = 0
    while True:
        frac = max(step / steps, (time.time() - t0) / (60 * minutes))
        if frac >= 1.0:
            break
        for pg in opt.param_groups:
            pg["lr"] = _lr_at(frac, lr)
        R = train_R[torch.randint(0, n, (batch,), generator=g)]
        full = full_rotmats(R)
        out, q = vae(full)
        rec = recon_loss(out[:, 1:], R)
        kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1).mean()
        loss = rec + kl_weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 1000 == 0 or step == 1:
            logf(f"[vae] step {step} rec {rec.item():.4f} kl {kl.item():.2f} ({time.time() - t0:.0f} s)")
    vae.eval()
    return vae, {"steps": step, "seconds": round(time.time() - t0, 1), "kl_weight": kl_weight, "hidden": hidden}


def load_vae_baseline(directory=None):
    from core_models.nets.pose_vae import PoseVAE
    from core_models.nets.weights import WeightsError, float_state, load_weights

    blob = load_weights("qposer_vae_baseline", directory)
    try:
        vae = PoseVAE(latent_dim=32, hidden=blob["config"]["hidden"], feat_dim=blob["config"]["hidden"],
                      layers=2, dropout=0.0)
        vae.load_state_dict(float_state(blob["state"]))
    except Exception as e:
        raise WeightsError(f"qposer_vae_baseline weights do not fit: {e}") from e
    vae.eval()
    return vae


class VAEPrior:
    """The baseline VAE seen through the same interface as QPoser for the metrics (latent = posterior mean)."""

    def __init__(self, vae):
        self.vae = vae

    @torch.no_grad()
    def reconstruct(self, R: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(self.vae.encode(full_rotmats(R)).loc)[:, 1:]

    @torch.no_grad()
    def plausibility(self, R: torch.Tensor) -> torch.Tensor:
        """Per pose: −‖μ(x)‖²/2 − the reconstruction error (deg/10): a cheap prior score; higher = more typical."""
        q = self.vae.encode(full_rotmats(R))
        rec = mpjae_deg(self.vae.decode(q.loc)[:, 1:], R)
        return -0.5 * (q.loc ** 2).sum(-1) / q.loc.shape[-1] - rec / 10.0


# --- CLI: train ------------------------------------------------------------------------------------------

def add_train_args(p) -> None:
    p.add_argument("--stage", choices=("prior", "vae", "gen", "prompt"), default="prior")
    p.add_argument("--config", choices=sorted(CONFIGS), default="full")
    p.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--minutes", type=float, default=None, help="wall-clock budget")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="weights name (default qposer / qposer_vae_baseline / ...)")
    p.add_argument("--weights-dir", default=None, help="write weights here instead of resources/weights")
    p.add_argument("--consistency", type=float, default=None,
                   help="prior: weight of the code-consistency term (default: the config's)")
    p.add_argument("--init-from", default=None,
                   help="prior: weights folder holding a qposer.pt to continue training from (fine-tuning)")
    p.add_argument("--lr", type=float, default=None, help="prior: peak learning rate (default: the config's)")


def _command_line() -> str:
    return "python main.py " + " ".join(sys.argv[1:])


def run_train(args) -> int:
    torch.set_num_threads(max(1, int(getattr(args, "threads", 1) or 1)))
    from core_models.data.corpus import Corpus

    corpus = Corpus(args.corpus)
    wdir = Path(args.weights_dir) if args.weights_dir else None
    if args.stage == "gen":
        from core_models.nets.qposer_gen import run_train_gen
        return run_train_gen(args, corpus, wdir)
    if args.stage == "prompt":
        from core_models.nets.qposer_prompt import run_train_prompt
        return run_train_prompt(args, corpus, wdir)
    from core_models.nets.weights import save_weights

    cfgd = CONFIGS[args.config]
    steps = args.steps or cfgd["steps"]
    minutes = args.minutes or cfgd["minutes"]
    train_R = corpus_rotmats(corpus, "train")
    val_R = corpus_rotmats(corpus, "val", max_n=2000)
    if len(val_R) == 0:  # tiny corpora may have no validation clip
        val_R = corpus_rotmats(corpus, "test", max_n=2000)
    if len(val_R) == 0:
        val_R = train_R[:500]
    log(f"[qposer] {len(train_R)} training poses, {len(val_R)} val poses from {corpus.dir}")
    data = {"corpus": str(corpus.dir), "train_poses": int(len(train_R)), "split": "train (by clip), mirrors"}
    if args.stage == "vae":
        vae, stats = train_vae(train_R, steps=steps, minutes=minutes, seed=args.seed)
        e = mpjae_deg(VAEPrior(vae).reconstruct(val_R), val_R)
        metrics = {"val_mpjae_deg": round(e.mean().item(), 3)}
        log(f"[vae] val MPJAE {metrics['val_mpjae_deg']}°")
        save_weights(args.out or "qposer_vae_baseline", vae.state_dict(), {"hidden": stats["hidden"]},
                     {"command": _command_line(), "data": data, "metrics": metrics,
                      "train_seconds": stats["seconds"], "steps": stats["steps"]}, directory=wdir, half=True)
        return 0
    cfg = QPoserConfig.from_dict({**QPoserConfig().to_dict(), **cfgd["model"]})
    init, prev = None, None
    if getattr(args, "init_from", None):
        from core_models.nets.qposer import load_qposer
        from core_models.nets.weights import manifest
        init = load_qposer("qposer", Path(args.init_from))
        cfg = init.config
        prev = manifest("qposer", Path(args.init_from))
        log(f"[qposer] continuing from {args.init_from}")
    w_cc = args.consistency if getattr(args, "consistency", None) is not None else cfgd.get("consistency", 0.0)
    lr = args.lr if getattr(args, "lr", None) else cfgd["lr"]
    model, stats = train_prior(cfg, train_R, val_R, steps=steps, minutes=minutes, batch=cfgd["batch"],
                               lr=lr, seed=args.seed, log_every=1000 if args.config == "full" else 100,
                               w_cc=w_cc, model=init)
    # evaluate with the stored (float16) weights
    paths = compute_part_paths(model, train_R[torch.randperm(len(train_R))[:20000]], n=cfgd["path_n"])
    e = mpjae_deg(model.reconstruct(val_R), val_R)
    metrics = {"val_mpjae_deg": round(e.mean().item(), 3), "val_mpjae_std": round(e.std().item(), 3)}
    log(f"[qposer] trained {stats['steps']} steps in {stats['seconds']} s; val MPJAE {metrics['val_mpjae_deg']}° "
        f"± {metrics['val_mpjae_std']}")
    from core_models.nets.weights import continued
    cmd, secs = continued(prev, _command_line(), stats["seconds"])
    nsteps = stats["steps"] + (int(prev.get("steps", 0)) if prev is not None else 0)
    save_weights(args.out or "qposer", model.state_dict(), {"model": cfg.to_dict(), "paths": paths},
                 {"command": cmd, "data": data, "metrics": metrics, "train_seconds": round(secs, 1),
                  "steps": nsteps, "history": stats["history"], "code_consistency_weight": w_cc},
                 directory=wdir, half=True)
    log(f"[qposer] saved {args.out or 'qposer'}")
    return 0


# --- CLI: eval -------------------------------------------------------------------------------------------

def add_eval_args(p) -> None:
    p.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--mocap", default=None, help="folder of mocap files the corpus never saw (imported on the fly)")
    p.add_argument("--max-poses", type=int, default=3000, help="test poses evaluated (random subset)")
    p.add_argument("--ablations", action="store_true", help="also train+evaluate the Table 2 ablations (short runs)")
    p.add_argument("--ablation-minutes", type=float, default=2.5)
    p.add_argument("--ablation-steps", type=int, default=3000)
    p.add_argument("--samples", type=int, default=500, help="random samples for the plausibility numbers")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-body", action="store_true", help="skip the self-penetration column (no body model)")
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--name", default="qposer")


def run_eval(args) -> int:
    from core_models.nets.qposer_eval import run_eval as _run
    return _run(args)
