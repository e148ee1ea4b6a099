"""Training and evaluation of QPoser (``python main.py train|eval qposer``).

Stages (``train qposer --stage ...``):
* ``prior`` (default): the MS-VQVAE + GLIF-AE on the corpus poses of the train split (mirrored copies included),
  loss = rotation-matrix L2 + joint-position L2 (FK on the default skeleton) + β·commitment; EMA codebooks with
  dead-code restarts. Saves ``resources/weights/qposer.pt`` with the slider "part paths" in its config.
* ``vae``: the VPoser-style baseline (``core_models.nets.common.pose_vae.PoseVAE``, d=32) trained on the same data →
  ``qposer_vae_baseline.pt`` (used as the baseline row and as the plausibility score of random samples).
* ``gen``: the masked transformer over code sequences (:class:`.model.MaskedCodeTransformer`) → ``qposer_gen.pt``.
* ``prompt``: text → part codes (:class:`~core_models.nets.qposer.model.PromptToCodes`) → ``qposer_prompt.pt``.

Evaluation (QPoser Tables 1/2 form): reconstruction MPJAE mean/std (degrees, 21 body joints), escalated error
after 50 and 1000 encode/decode iterations (error after k iterations minus the reconstruction error), codebook
usage / perplexity, on the held-out test clips of the corpus, on the 17 library poses and (``--mocap DIR``) on
clips the corpus never saw; the baseline VAE; ablations (1/8/32 heads, with/without GLIF, short runs); random
samples (joint limits, VAE-prior plausibility); prompting (posecodes realised). Ends with one JSON line.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core_models.device import model_device
from core_models.nets.common.pose_vae import (
    PoseVAE,
    rotmats_to_pose,
)
from core_models.nets.qposer.augment import Augment, augment_batch, perturb
from core_models.nets.common.weights import (
    continued,
    manifest,
    save_weights,
)
from core_models.nets.qposer.data import (
    clause_cache_path,
    code_parts,
    corpus_rotmats,
    describe_with_codes,
    make_examples,
)
from core_models.nets.qposer.infer import (
    ClauseFeatures,
    PosecodeReader,
    Prompter,
    PromptRefiner,
    VAEPrior,
    bank_code_table,
    body_code_categories,
    category_mask,
    compute_part_paths,
    load_prompter,
    load_qposer,
    measure_codes,
    model_spec,
    prompt_part_codes,
    prompted_parts,
    reader_targets,
)
from core_models.nets.qposer.model import (
    PART_JOINTS,
    PARTS,
    MaskedCodeTransformer,
    PromptToCodes,
    QPoser,
    QPoserConfig,
    full_rotmats,
    joints_of,
    mpjae_deg,
)
from core_models.nets.training import distributed as dist
from core_models.nets.training.common import report
from core_models.pose import aa_to_matrix
from core_models.text.clauses import split_clauses

CONFIGS: dict[str, dict[str, Any]] = {
    "tiny": dict(model=dict(heads={"head": 1, "torso": 2, "left_arm": 2, "right_arm": 2, "left_leg": 2,
                                   "right_leg": 2, "global": 1},
                            codes={"head": 8, "torso": 16, "arm": 16, "leg": 16, "global": 8},
                            code_dim=8, enc_hidden=32, dec_hidden=64, dec_layers=2),
                 batch=128, lr=3e-3, steps=300, minutes=2.0, path_n=16),
    "full": dict(model={}, batch=256, lr=2e-3, steps=16000, minutes=28.0, path_n=96),
}





# --- data ----------------------------------------------------------------------------------------------









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


def _nearest(m: QPoser, z: torch.Tensor) -> torch.Tensor:
    """Code indices of latents ``z`` (B,H,d) without touching the EMA codebooks."""
    idx = torch.empty(z.shape[:2], dtype=torch.long, device=z.device)
    for g in m.groups:
        idx[:, m.group_slice(g)] = m.bank(g).nearest(z[:, m.group_slice(g)].detach())
    return idx


def perturbed_consistency(m: QPoser, P: torch.Tensor, R: torch.Tensor, w_joints: float = 1.0) -> torch.Tensor:
    """Consistency over perturbed inputs: ``P`` (a perturbed copy of the clean poses ``R``) is encoded — its latents
    are pulled onto the clean pose's codes (the codes stay stable under the noise) —, decoded and compared with the
    clean ``R`` (denoising), and its decoding is encoded again onto the codes it came from (decode∘encode idempotent
    around the data). The codebooks are not updated by the perturbed copy."""
    with torch.no_grad():
        zq_clean = m.lookup(_nearest(m, m.encode_continuous(R)))
    z = m.encode_continuous(P)
    hard = m.lookup(_nearest(m, z))
    out = m.decode(z + (hard - z).detach())  # straight-through
    stable = ((z - zq_clean) ** 2).mean()
    again = ((m.encode_continuous(out) - hard.detach()) ** 2).mean()
    return recon_loss(out, R, w_joints) + stable + again


def mix_consistency(m: QPoser, idx: torch.Tensor, swap: torch.Tensor) -> torch.Tensor:
    """Code-mix consistency: the codes of each part group where ``swap`` (B, groups) is set are taken from the next
    pose of the batch; the mixed codes are decoded and the decoding encoded again onto them — decode∘encode made
    idempotent on part combinations the data never showed (an unseen source's poses are such combinations)."""
    mixed = idx.clone()
    other = idx.roll(1, 0)
    for k, g in enumerate(m.groups):
        sl = m.group_slice(g)
        mixed[:, sl] = torch.where(swap[:, k:k + 1], other[:, sl], idx[:, sl])
    zmix = m.lookup(mixed)
    return ((m.encode_continuous(m.decode(zmix)) - zmix.detach()) ** 2).mean()


def _prior_loss(cfg: QPoserConfig, w_joints: float, w_cc: float, aug: Augment | None):
    """The per-step loss ``fn(model, R, P=None, P_clean=None, swap=None)`` → (loss, commitment, code-consistency or
    None); ``P`` is the perturbed copy of the clean poses ``P_clean``."""

    def prior_loss(m: QPoser, R: torch.Tensor, P: torch.Tensor | None = None, P_clean: torch.Tensor | None = None,
                   swap: torch.Tensor | None = None):
        z = m.encode_continuous(R)
        zq, idx, commit = m.quantize(z)
        out = m.decode(zq)
        loss = recon_loss(out, R, w_joints) + cfg.beta * commit
        cc = ((m.encode_continuous(out) - zq.detach()) ** 2).mean() if w_cc else None
        if cc is not None:
            loss = loss + w_cc * cc
        if aug is not None and P is not None and P_clean is not None and aug.perturb > 0:
            loss = loss + aug.perturb * perturbed_consistency(m, P, P_clean, w_joints)
        if aug is not None and swap is not None and aug.mix > 0:
            loss = loss + aug.mix * mix_consistency(m, idx[:len(swap)], swap)
        return loss, commit, cc

    return prior_loss


def _aug_batch(R: torch.Tensor, train_R: torch.Tensor, aug: Augment, n_groups: int,
               g: torch.Generator) -> tuple[torch.Tensor | None, ...]:
    """One global batch of the augmented loss (drawn on the CPU before sharding, so every rank agrees; each part is
    cut into the ranks' shares on its own, so the perturbed copy travels with its clean poses): the targets, the
    perturbed copy of their first half, that half, and the code-mix swaps of as many rows."""
    T = augment_batch(R, train_R, aug, g)
    h = max(1, len(T) // 2)
    P = perturb(T[:h], aug, g) if aug.perturb > 0 else None
    swap = (torch.rand(h, n_groups, generator=g) < 0.5) if aug.mix > 0 else None
    return (T, P, T[:h], swap) if P is not None else (T, None, None, swap)


def train_prior(cfg: QPoserConfig, train_R: torch.Tensor, val_R: torch.Tensor | None = None, *, steps: int,
                minutes: float, batch: int = 256, lr: float = 2e-3, seed: int = 0, log_every: int = 1000,
                logf=report, w_joints: float = 1.0, w_cc: float = 0.0,
                model: QPoser | None = None, device: str | torch.device = "cpu",
                aug: Augment | None = None) -> tuple[QPoser, dict]:
    """Train one QPoser; stops at ``steps`` or ``minutes`` (the LR schedule follows whichever is further).

    ``w_cc`` > 0 adds a code-consistency term (ours, not in the paper): the reconstruction is encoded again and
    its pre-quantization latents are pulled onto the codes it was decoded from, so decode∘encode becomes
    idempotent (the escalated error of repeated encode/decode rounds shrinks). ``model``: continue training it
    (fine-tuning) instead of a fresh one. ``device``: where the model and each batch go (the poses stay on the CPU;
    the shuffling is drawn on the CPU, so a seed picks the same batches on any device). ``aug``
    (:class:`~core_models.nets.qposer.augment.Augment`): the generalisation options — augmented targets,
    consistency over perturbed inputs and over code mixes; their random numbers come from their own generator,
    so the batches (and a run without ``aug``) stay the same."""
    torch.manual_seed(seed)
    model = QPoser(cfg) if model is None else model
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    aug_on = aug if aug is not None and aug.active() else None
    g_aug = torch.Generator().manual_seed(seed + 7717)  # only drawn from when an option is on
    n = len(train_R)
    t0 = time.time()
    step = 0
    perm = torch.randperm(n, generator=g)
    pos = 0
    hist = []
    step_loss = dist.wrap(model, _prior_loss(cfg, w_joints, w_cc, aug))  # DDP under torchrun: a share per rank
    while True:
        frac = max(step / steps, dist.elapsed(t0) / (60 * minutes))
        if frac >= 1.0:
            break
        for pg in opt.param_groups:
            pg["lr"] = _lr_at(frac, lr)
        if pos + batch > n:
            perm = torch.randperm(n, generator=g)
            pos = 0
        if aug_on is None:
            loss, commit, cc = step_loss(train_R[dist.shard(perm[pos:pos + batch])].to(device))
        else:
            parts = dist.shard(_aug_batch(train_R[perm[pos:pos + batch]], train_R, aug_on, len(model.groups), g_aug))
            loss, commit, cc = step_loss(*(None if x is None else x.to(device) for x in parts))
        pos += batch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if log_every and (step % log_every == 0 or step == 1):
            hist_e = _log_step(model, step, frac, loss, commit, cc, val_R, device, t0, logf)
            if hist_e is not None:
                hist.append(hist_e)
    model.eval()
    return model, {"steps": step, "seconds": round(time.time() - t0, 1), "history": hist}


def _log_step(model: QPoser, step: int, frac: float, loss, commit, cc, val_R, device, t0: float,
              logf) -> tuple[int, float] | None:
    msg = f"[qposer] step {step} frac {frac:.2f} loss {loss.item():.4f} commit {commit.item():.4f}"
    if cc is not None:
        msg += f" code-consistency {cc.item():.4f}"
    out = None
    if val_R is not None:
        model.eval()
        with torch.no_grad():
            v = val_R[:2000].to(device)
            e = mpjae_deg(model.reconstruct(v), v).mean().item()
        model.train()
        msg += f" val MPJAE {e:.2f}°"
        out = (step, round(e, 3))
    logf(msg + f" ({time.time() - t0:.0f} s)")
    return out


# --- the VPoser-style baseline ------------------------------------------------------------------------

def train_vae(train_R: torch.Tensor, *, steps: int, minutes: float, batch: int = 256, lr: float = 1e-3,
              kl_weight: float = 5e-3, hidden: int = 256, seed: int = 0, logf=report,
              device: str | torch.device = "cpu"):
    """The VPoser-like baseline from the editor's pose_vae pieces: rotations + joints L2 reconstruction and a KL
    to N(0, I) (latent d=32). The root is the identity (the body pose alone is modelled, as for QPoser)."""

    torch.manual_seed(seed)
    vae = PoseVAE(latent_dim=32, hidden=hidden, feat_dim=hidden, layers=2, dropout=0.0)
    vae.to(device).train()
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = len(train_R)
    t0 = time.time()
    step = 0

    def vae_loss(m: PoseVAE, R: torch.Tensor):
        out, q = m(full_rotmats(R))
        rec = recon_loss(out[:, 1:], R)
        kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1).mean()
        return rec + kl_weight * kl, rec, kl

    step_loss = dist.wrap(vae, vae_loss)
    while True:
        frac = max(step / steps, dist.elapsed(t0) / (60 * minutes))
        if frac >= 1.0:
            break
        for pg in opt.param_groups:
            pg["lr"] = _lr_at(frac, lr)
        R = train_R[dist.shard(torch.randint(0, n, (batch,), generator=g))].to(device)
        loss, rec, kl = step_loss(R)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 1000 == 0 or step == 1:
            logf(f"[vae] step {step} rec {rec.item():.4f} kl {kl.item():.2f} ({time.time() - t0:.0f} s)")
    vae.eval()
    return vae, {"steps": step, "seconds": round(time.time() - t0, 1), "kl_weight": kl_weight, "hidden": hidden}






# --- CLI: train ------------------------------------------------------------------------------------------

#: ``--device cuda`` is allowed (core_models.cli.train_eval): every stage moves its model and batches to the device
#: and builds its tensors there; the weights are saved from CPU copies (common.weights.save_weights)
DEVICE_CLEAN = True


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
    p.add_argument("--aug-interp", type=float, default=0.0,
                   help="prior: share of each batch replaced by per-joint slerps towards random training poses")
    p.add_argument("--aug-twist", type=float, default=0.0,
                   help="prior: per-joint twist noise (± degrees about each bone) on half of each batch")
    p.add_argument("--aug-distal", type=float, default=0.0,
                   help="prior: rotation noise σ (degrees per axis) on the toes, wrists, neck and head of half of "
                        "each batch (the joints mocap rigs capture least consistently)")
    p.add_argument("--perturb-consistency", type=float, default=0.0,
                   help="prior: weight of the consistency over perturbed inputs (rotation + twist noise)")
    p.add_argument("--perturb-deg", type=float, default=3.0,
                   help="prior: rotation noise σ (degrees per axis) of the perturbed inputs")
    p.add_argument("--mix-consistency", type=float, default=0.0,
                   help="prior: weight of the code-mix consistency (part codes swapped between poses)")
    p.add_argument("--prompt-poses", type=int, default=None,
                   help="prompt: training poses described (two descriptions each; default 4000, tiny 200)")
    p.add_argument("--epochs", type=int, default=None, help="prompt: epochs (default 40, tiny 5)")
    p.add_argument("--prompt-from", default=None,
                   help="prompt: keep the prompt model saved in this weights folder (train only its reader/banks)")
    p.add_argument("--reader-prompts", action="store_true",
                   help="prompt: also train the posecode reader on prompt-sized texts (1-3 facts per pose, two per "
                        "training pose); measured, not the shipped recipe (docs/notes/qposer_prompt.md)")
    p.add_argument("--reader-instruct", type=float, default=0.0,
                   help="prompt: share of those texts said as typed instructions (\"raise your left arm ...\")")
    p.add_argument("--reader-null-slot", action="store_true",
                   help="prompt: give the reader a learned empty clause to attend to")


def augment_options(args) -> Augment | None:
    """The :class:`Augment` of the command line, or None when every generalisation option is off."""
    aug = Augment(interp=float(getattr(args, "aug_interp", 0.0) or 0.0),
                  twist_deg=float(getattr(args, "aug_twist", 0.0) or 0.0),
                  distal_deg=float(getattr(args, "aug_distal", 0.0) or 0.0),
                  perturb=float(getattr(args, "perturb_consistency", 0.0) or 0.0),
                  perturb_deg=float(getattr(args, "perturb_deg", 3.0) or 0.0),
                  mix=float(getattr(args, "mix_consistency", 0.0) or 0.0))
    for name, v in (("--aug-interp", aug.interp), ("--aug-twist", aug.twist_deg), ("--aug-distal", aug.distal_deg),
                    ("--perturb-consistency", aug.perturb), ("--perturb-deg", aug.perturb_deg),
                    ("--mix-consistency", aug.mix)):
        if not math.isfinite(v) or v < 0:
            raise SystemExit(f"error: {name} must be a finite number ≥ 0 (got {v})")
    if aug.interp > 1:
        raise SystemExit(f"error: --aug-interp is a share of the batch, 0..1 (got {aug.interp})")
    return aug if aug.active() else None


def _command_line() -> str:
    return "python main.py " + " ".join(sys.argv[1:])


def run_train(args) -> int:
    torch.set_num_threads(max(1, int(getattr(args, "threads", 1) or 1)))
    from core_models.data.corpus import Corpus

    corpus = Corpus(args.corpus)
    wdir = Path(args.weights_dir) if args.weights_dir else None
    if args.stage == "gen":
        return run_train_gen(args, corpus, wdir)
    if args.stage == "prompt":
        return run_train_prompt(args, corpus, wdir)

    dev = torch.device(getattr(args, "device", None) or "cpu")  # resolved by core_models.cli.train_eval
    cfgd = CONFIGS[args.config]
    steps = args.steps or cfgd["steps"]
    minutes = args.minutes or cfgd["minutes"]
    train_R = corpus_rotmats(corpus, "train")
    val_R = corpus_rotmats(corpus, "val", max_n=2000)
    if len(val_R) == 0:  # tiny corpora may have no validation clip
        val_R = corpus_rotmats(corpus, "test", max_n=2000)
    if len(val_R) == 0:
        val_R = train_R[:500]
    report(f"[qposer] {len(train_R)} training poses, {len(val_R)} val poses from {corpus.dir}")
    data = {"corpus": str(corpus.dir), "train_poses": int(len(train_R)), "split": "train (by clip), mirrors"}
    if args.stage == "vae":
        vae, stats = train_vae(train_R, steps=steps, minutes=minutes, seed=args.seed, device=dev)
        if not dist.is_main():  # rank 0 evaluates and saves
            return 0
        e = mpjae_deg(VAEPrior(vae).reconstruct(val_R.to(dev)), val_R.to(dev))
        metrics = {"val_mpjae_deg": round(e.mean().item(), 3)}
        report(f"[vae] val MPJAE {metrics['val_mpjae_deg']}°")
        save_weights(args.out or "qposer_vae_baseline", vae.state_dict(), {"hidden": stats["hidden"]},
                     {"command": _command_line(), "data": data, "metrics": metrics,
                      "train_seconds": stats["seconds"], "steps": stats["steps"]}, directory=wdir, half=True)
        return 0
    cfg = QPoserConfig.from_dict({**QPoserConfig().to_dict(), **cfgd["model"]})
    init, prev = None, None
    if getattr(args, "init_from", None):
        init = load_qposer("qposer", Path(args.init_from))
        cfg = init.config
        prev = manifest("qposer", Path(args.init_from))
        report(f"[qposer] continuing from {args.init_from}")
    w_cc = args.consistency if getattr(args, "consistency", None) is not None else cfgd.get("consistency", 0.0)
    lr = args.lr if getattr(args, "lr", None) else cfgd["lr"]
    aug = augment_options(args)
    model, stats = train_prior(cfg, train_R, val_R, steps=steps, minutes=minutes, batch=cfgd["batch"],
                               lr=lr, seed=args.seed, log_every=1000 if args.config == "full" else 100,
                               w_cc=w_cc, model=init, device=dev, aug=aug)
    if not dist.is_main():  # rank 0 evaluates and saves
        return 0
    # evaluate with the stored (float16) weights
    paths = compute_part_paths(model, train_R[torch.randperm(len(train_R))[:20000]], n=cfgd["path_n"])
    e = mpjae_deg(model.reconstruct(val_R.to(dev)), val_R.to(dev))
    metrics = {"val_mpjae_deg": round(e.mean().item(), 3), "val_mpjae_std": round(e.std().item(), 3)}
    report(f"[qposer] trained {stats['steps']} steps in {stats['seconds']} s; val MPJAE {metrics['val_mpjae_deg']}° "
        f"± {metrics['val_mpjae_std']}")
    cmd, secs = continued(prev, _command_line(), stats["seconds"])
    nsteps = stats["steps"] + (int(prev.get("steps", 0)) if prev is not None else 0)
    save_weights(args.out or "qposer", model.state_dict(), {"model": cfg.to_dict(), "paths": paths},
                 {"command": cmd, "data": data, "metrics": metrics, "train_seconds": round(secs, 1),
                  "steps": nsteps, "history": stats["history"], "code_consistency_weight": w_cc,
                  **({"augment": aug.to_dict()} if aug is not None else {})},
                 directory=wdir, half=True)
    report(f"[qposer] saved {args.out or 'qposer'}")
    return 0


# --- CLI: eval -------------------------------------------------------------------------------------------


def train_gen(codes: torch.Tensor, head_sizes: list[int], *, steps: int, minutes: float, batch: int = 256,
              lr: float = 2e-3, d: int = 64, layers: int = 2, seed: int = 0, logf=print,
              val_codes: torch.Tensor | None = None, device: str | torch.device = "cpu"):
    """The masked code transformer on ``device`` (codes stay on the CPU; each batch is moved, the masks are drawn
    on the CPU by the seeded generator, so a seed gives the same run on any device)."""
    torch.manual_seed(seed)
    model = MaskedCodeTransformer(head_sizes, d=d, layers=layers, ff=2 * d).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(seed)
    t0 = time.time()
    step = 0
    n = len(codes)
    step_loss = dist.wrap(model, lambda m, b: m.loss(b, g))  # under torchrun: masks drawn per rank's share
    while True:
        frac = max(step / steps, dist.elapsed(t0) / (60 * minutes))
        if frac >= 1:
            break
        for pg in opt.param_groups:
            pg["lr"] = lr * (0.5 * (1 + math.cos(math.pi * frac))) * min(1.0, 20 * frac + 0.05)
        b = codes[dist.shard(torch.randint(0, n, (batch,), generator=g))].to(device)
        loss = step_loss(b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 500 == 0 or step == 1:
            msg = f"[qposer-gen] step {step} loss {loss.item():.3f}"
            if val_codes is not None:
                with torch.no_grad():
                    model.eval()
                    vl = model.loss(val_codes[:1000].to(device), torch.Generator().manual_seed(1))
                    msg += f" val {vl.item():.3f}"
                    model.train()
            logf(msg + f" ({time.time() - t0:.0f} s)")
    model.eval()
    return model, {"steps": step, "seconds": round(time.time() - t0, 1), "d": d, "layers": layers}


def run_train_gen(args, corpus, wdir) -> int:
    """``train qposer --stage gen``: encode the training poses with the shipped QPoser, train the transformer."""
    import sys


    tiny = args.config == "tiny"
    dev = torch.device(getattr(args, "device", None) or "cpu")
    qp = load_qposer(getattr(args, "prior", None) or "qposer", wdir, dev)
    train_R = corpus_rotmats(corpus, "train")
    val_R = corpus_rotmats(corpus, "val", max_n=2000)
    with torch.no_grad():  # the codes are kept on the CPU
        codes = torch.cat([qp.encode(train_R[i:i + 4096].to(dev)).cpu() for i in range(0, len(train_R), 4096)])
        val = qp.encode(val_R.to(dev)).cpu() if len(val_R) else None
    d, layers = (32, 1) if tiny else (64, 2)
    model, stats = train_gen(codes, qp.head_sizes(), steps=args.steps or (200 if tiny else 6000),
                             minutes=args.minutes or (1.0 if tiny else 12.0), d=d, layers=layers, seed=args.seed,
                             val_codes=val, device=dev)
    if not dist.is_main():
        return 0
    metrics = {}
    if val is not None:
        with torch.no_grad():
            vl = model.loss(val[:2000].to(dev), torch.Generator().manual_seed(1))
        metrics["val_masked_ce"] = round(vl.item(), 4)
    save_weights(args.out or "qposer_gen", model.state_dict(),
                 {"head_sizes": qp.head_sizes(), "d": d, "layers": layers},
                 {"command": "python main.py " + " ".join(sys.argv[1:]), "data": {"corpus": str(corpus.dir),
                  "sequences": int(len(codes))}, "metrics": metrics, "train_seconds": stats["seconds"],
                  "steps": stats["steps"]}, directory=wdir, half=True)
    print(f"[qposer-gen] saved ({stats['steps']} steps, {stats['seconds']} s) {metrics}", flush=True)
    return 0












def _targets(qp, codes: torch.Tensor, texts: list[str]) -> tuple[dict, torch.Tensor]:
    tgt = {p: codes[:, qp.group_slice(p)] for p in PARTS}
    w = torch.zeros(len(texts), len(PARTS))
    for i, t in enumerate(texts):
        for p in prompted_parts(t):
            w[i, PARTS.index(p)] = 1.0
    return tgt, w


def train_prompt(qp, feats: ClauseFeatures, ex: dict, *, epochs: int = 30, batch: int = 64, lr: float = 1e-3,
                 d: int = 256, seed: int = 0, logf=print,
                 device: str | torch.device = "cpu") -> tuple[PromptToCodes, dict]:
    """The prompt model on ``device``: the clause vectors and targets are moved there once (they are small)."""
    torch.manual_seed(seed)
    ph, pcodes = model_spec(qp)
    model = PromptToCodes(ph, pcodes, d=d).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    texts = ex["texts"]
    tgt, w = _targets(qp, ex["codes"].cpu(), texts)
    tgt, w = {p: t.to(device) for p, t in tgt.items()}, w.to(device)
    X, M = (t.to(device) for t in feats.batch(texts))
    n = len(texts)
    t0 = time.time()
    g = torch.Generator().manual_seed(seed)

    def prompt_loss(m: PromptToCodes, b: torch.Tensor, wsum: torch.Tensor) -> torch.Tensor:
        logits = m(X[b], M[b])
        loss = torch.zeros((), device=X.device)
        for k, p in enumerate(PARTS):
            ce = F.cross_entropy(logits[p].reshape(-1, pcodes[p]), tgt[p][b].reshape(-1),
                                 reduction="none").view(len(b), -1).mean(1)
            loss = loss + (ce * w[b, k]).sum() / wsum
        return loss

    step_loss = dist.wrap(model, prompt_loss)
    for ep in range(epochs):
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, batch):
            b = dist.shard(perm[i:i + batch]).to(device)
            loss = step_loss(b, dist.share(w[b].sum()).clamp_min(1.0))  # the global batch's weight sum
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(b)
        if ep % 5 == 0 or ep == epochs - 1:
            logf(f"[qposer-prompt] epoch {ep + 1}/{epochs} loss {tot / n:.3f} ({time.time() - t0:.0f} s)")
    model.eval()
    return model, {"epochs": epochs, "seconds": round(time.time() - t0, 1), "examples": n, "d": d}




def _held_out_split(corpus) -> str:
    """Where the training run measures its prompt model: the validation clips (the test clips are for ``eval``)."""
    for split in ("val", "test", "train"):
        if len(corpus.indices(split)):
            return split
    return "train"


def _clause_features(corpus, texts: list[str]) -> ClauseFeatures:
    feats = ClauseFeatures()
    cache = clause_cache_path(corpus)
    if cache.exists():
        feats.load(cache)
    allc = [c for t in texts for c in split_clauses(t, "description")]
    print(f"[qposer-prompt] {len(set(allc) - feats.store.keys())} clauses to encode", flush=True)
    feats.add(allc, progress=lambda i, k: print(f"[qposer-prompt] encoded {i}/{k}", flush=True)
              if i % 1024 == 0 or i == k else None)
    try:
        if dist.is_main():  # one writer under torchrun
            feats.save(cache)
    except OSError:
        pass
    return feats


@torch.no_grad()
def part_banks(qp, R: torch.Tensor, min_count: int = 2) -> dict[str, torch.Tensor]:
    """Per part: the code tuples ((U, H_p), uint8 for codebooks up to 256) that at least ``min_count`` training
    poses encode to — the real part configurations :class:`~core_models.nets.qposer.infer.PromptRefiner` chooses
    among."""
    dev = model_device(qp)
    codes = torch.cat([qp.encode(R[i:i + 4096].to(dev)).cpu() for i in range(0, len(R), 4096)])
    out = {}
    for p in PARTS:
        u, cnt = torch.unique(codes[:, qp.group_slice(p)], dim=0, return_counts=True)
        keep = u[cnt >= min_count]
        out[p] = keep.to(torch.uint8 if qp.codebook_size(p) <= 256 else torch.int16)
    return out


def train_reader(feats: ClauseFeatures, ex: dict, n_codes: int, *, epochs: int = 30, batch: int = 64,
                 lr: float = 2e-3, d: int = 128, seed: int = 0, logf=print,
                 device: str | torch.device = "cpu", null_slot: bool = False) -> PosecodeReader:
    """The posecode reader: per posecode, cross-entropy over its categories + "not stated" (the description's
    stated posecodes, ``ex["used"]``, are the labels)."""
    from core_models.captioning.posecodes import CODE_NCATS

    torch.manual_seed(seed)
    n_cats = int(CODE_NCATS[:n_codes].max())
    model = PosecodeReader(n_codes, n_cats, d=d, null_slot=null_slot).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    tgt = reader_targets(ex["used"], n_codes, n_cats).to(device)
    bad = ~category_mask(n_codes, n_cats).to(device)
    X, M = (t.to(device) for t in feats.batch(ex["texts"]))
    n, t0 = len(tgt), time.time()
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        perm, tot = torch.randperm(n, generator=g), 0.0
        for i in range(0, n, batch):
            b = perm[i:i + batch].to(device)
            lg = model(X[b], M[b]).masked_fill(bad, -1e4)
            loss = F.cross_entropy(lg.reshape(-1, n_cats + 1), tgt[b].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(b)
        if ep % 5 == 0 or ep == epochs - 1:
            logf(f"[qposer-prompt] reader epoch {ep + 1}/{epochs} loss {tot / n:.4f} ({time.time() - t0:.0f} s)")
    return model.eval()


#: the refiner's settings (chosen on the validation clips' descriptions; since 2026-12-07 evening also on
#: resources/eval/prompts/human_dev.jsonl: top_k 24 → 256 and partial 0.25; later extra 64 and keep 0.5 — each by a
#: rule fixed before measuring, docs/notes/qposer_prompt.md; phrases 1.0 (prompt_states) on 2026-12-07 night)
REFINE: dict[str, Any] = {"top_k": 256, "rounds": 2, "alpha": 0.05, "partial": 0.25, "extra": 64, "keep": 0.5,
                          "phrases": 1.0}


@torch.no_grad()
def global_mode(qp, R: torch.Tensor, max_n: int = 20000, seed: int = 0) -> torch.Tensor | None:
    """The most common code per global head over (at most ``max_n`` of) the poses ``R`` — the global codes the
    refiner's bank table is decoded with (:func:`~core_models.nets.qposer.infer.bank_code_table`)."""
    if "global" not in qp.groups:
        return None
    if len(R) > max_n:
        R = R[torch.randperm(len(R), generator=torch.Generator().manual_seed(seed))[:max_n]]
    dev = model_device(qp)
    codes = torch.cat([qp.encode(R[i:i + 4096].to(dev)).cpu() for i in range(0, len(R), 4096)])
    return torch.mode(codes[:, qp.group_slice("global")], 0).values


#: the posecode reader's training texts besides the descriptions: per training pose, prompt-sized texts of a random
#: 1..max_facts of its facts (one per entry, seed offset), a share of them said as typed instructions; and the
#: reader's null attention slot. Shipped: descriptions only (the variants read more precisely but realised no more
#: of human_dev.jsonl, docs/notes/qposer_prompt.md); ``--reader-prompts / --reader-instruct / --reader-null-slot``
READER: dict[str, Any] = {"short": (), "instruct_p": 0.0, "null_slot": False}
#: the prompt-sized texts of ``--reader-prompts``
READER_PROMPTS = ((2, 555), (3, 556))


def reader_recipe(args) -> dict[str, Any]:
    """:data:`READER`, or the variant the command line asks for."""
    return {"short": READER_PROMPTS if getattr(args, "reader_prompts", False) else READER["short"],
            "instruct_p": float(getattr(args, "reader_instruct", 0.0) or READER["instruct_p"]),
            "null_slot": bool(getattr(args, "reader_null_slot", False) or READER["null_slot"])}


def reader_examples(corpus, ex: dict, seed: int, recipe: dict[str, Any] | None = None) -> dict:
    """``ex`` (descriptions of training poses) plus the prompt-sized texts of :data:`READER` for the same poses."""
    recipe = READER if recipe is None else recipe
    poses = corpus.poses(np.unique(ex["idx"]))
    texts, used = list(ex["texts"]), list(ex["used"])
    for max_facts, offset in recipe.get("short", ()):
        t, u = describe_with_codes(poses, seed=seed + offset, max_facts=max_facts,
                                   instruct_p=float(recipe.get("instruct_p", 0.0)))
        texts, used = texts + t, used + u
    return {"texts": texts, "used": used}


def _prompt_model(args, qp, feats, ex, dev) -> tuple[PromptToCodes, dict, str]:
    """The prompt model: trained here, or (``--prompt-from DIR``) the one saved in DIR (its command is chained)."""
    tiny = args.config == "tiny"
    if getattr(args, "prompt_from", None):
        prev = load_prompter("qposer_prompt", Path(args.prompt_from), dev)
        man = manifest("qposer_prompt", Path(args.prompt_from)) or {}
        return prev.model, {"d": prev.model.d, "seconds": man.get("train_seconds", 0)}, str(man.get("command", ""))
    epochs = getattr(args, "epochs", None) or (5 if tiny else 40)
    model, stats = train_prompt(qp, feats, ex, epochs=epochs, seed=args.seed, device=dev)
    return model, {**stats, "epochs": epochs}, ""


def run_train_prompt(args, corpus, wdir) -> int:
    """``train qposer --stage prompt``: descriptions of ``--prompt-poses`` training poses (two each), the prompt
    model, the posecode reader and the part banks of its refiner, and its prompting numbers on the validation
    clips' descriptions (:func:`evaluate_prompting`)."""
    from core_models.captioning.posecodes import NUM_CODES

    tiny = args.config == "tiny"
    dev = torch.device(getattr(args, "device", None) or "cpu")
    qp = load_qposer("qposer", wdir, dev)
    n_train = getattr(args, "prompt_poses", None) or (200 if tiny else 4000)
    t0 = time.time()
    ex = make_examples(corpus, "train", n_train, args.seed, qp)
    val_split = _held_out_split(corpus)
    ex_val = make_examples(corpus, val_split, 60 if tiny else 500, args.seed + 2000, qp)
    print(f"[qposer-prompt] {len(ex['texts'])} train / {len(ex_val['texts'])} {val_split} descriptions", flush=True)
    recipe = reader_recipe(args)
    rex = reader_examples(corpus, ex, args.seed, recipe)
    feats = _clause_features(corpus, rex["texts"] + ex_val["texts"])
    model, stats, prev_cmd = _prompt_model(args, qp, feats, ex, dev)
    reader = train_reader(feats, rex, NUM_CODES, epochs=5 if tiny else 30, seed=args.seed, device=dev,
                          null_slot=bool(recipe["null_slot"]))
    train_R = corpus_rotmats(corpus, "train")
    banks = part_banks(qp, train_R, min_count=1 if tiny else 2)
    deps = code_dependencies(_decoded(qp, qp.encode(train_R[:256].to(dev)).cpu()), NUM_CODES)
    if not dist.is_main():
        return 0
    table_codes, table = bank_code_table(qp, banks, deps, global_mode(qp, train_R), with_torso=True)
    refiner = PromptRefiner(reader, banks, [sorted(d) for d in deps], **REFINE, bank_codes=table_codes,
                            bank_cats=table)
    metrics = evaluate_prompting(qp, Prompter(model, feats, posecodes=NUM_CODES, refiner=refiner), ex_val)
    print(f"[qposer-prompt] {val_split}: {metrics}", flush=True)
    ph, pcodes = model_spec(qp)
    state = {**model.state_dict(), **{f"reader.{k}": v for k, v in reader.state_dict().items()},
             **{f"bank.{p}": b for p, b in banks.items()}, **{f"bankcat.{p}": t for p, t in table.items()}}
    config = {"part_heads": ph, "part_codes": pcodes, "d": stats["d"], "posecodes": NUM_CODES,
              "reader": {"n_codes": reader.n_codes, "n_cats": reader.n_cats, "d": reader.d,
                         "null_slot": reader.null_slot, "recipe": recipe, "reader_texts": len(rex["texts"]),
                         "bank_codes": table_codes, "table_with_torso": True,
                         "deps": [sorted(d) for d in deps], "refine": REFINE}}
    cmd = f"{prev_cmd} && {_command_line()}" if prev_cmd else _command_line()
    save_weights(args.out or "qposer_prompt", state, config,
                 {"command": cmd, "data": {"corpus": str(corpus.dir), "train_descriptions": len(ex["texts"]),
                                           f"{val_split}_descriptions": len(ex_val["texts"]),
                                           "split": f"train / {val_split} (by clip)",
                                           "bank_tuples": {p: len(b) for p, b in banks.items()}},
                  "metrics": {f"{val_split}_{k}": v for k, v in metrics.items()}, "epochs": stats.get("epochs"),
                  "train_seconds": round(time.time() - t0 + float(stats.get("seconds", 0) if prev_cmd else 0), 1)},
                 directory=wdir, half=True)
    return 0


#: posecodes the shipped prompt model's training descriptions were drawn from (CODES[:98]); codes the captioner
#: appends later (old indices stay) are left out of the prompting metric until a prompt model is trained with them
#: (a retrained model records its own count as ``posecodes`` in its config)
PROMPT_POSECODES = 98

#: float tolerance of a "the value moved" test, per posecode unit (the features are float32)
_MOVE_TOL = {"deg": 0.1, "m": 1e-3, "cos": 1e-3}


def _code_values(R: torch.Tensor, n_codes: int) -> np.ndarray:
    """Raw posecode measurements (N, n_codes) of body rotations R (N,21,3,3) under the identity root."""
    from core_models.captioning.features import compute_features

    return measure_codes(compute_features(rotmats_to_pose(full_rotmats(R.detach().float().cpu()))), range(n_codes))


@torch.no_grad()
def code_dependencies(R: torch.Tensor, n_codes: int | None = None, seed: int = 0) -> list[frozenset[str]]:
    """Per posecode (the first ``n_codes``): the QPoser parts whose joint rotations change the code's *value*.

    Measured, not read off the joint names: on the body poses ``R`` (N,21,3,3; identity root, the frame of the
    prompting metric) each part's rotations are (a) swapped for another pose's and (b) turned by random rotations
    (up to 90°); the part is a dependency when the value moves by more than a float tolerance on any pose. This is
    the kinematic-chain rule ("every part whose rotations move the joints the code reads, from the root down")
    minus the moves the value is invariant to: an elbow angle or a hand-to-hand distance ignores a rigid turn of
    the parents they share (a left-elbow angle depends on the left arm only), while a hand-above-head code depends
    on the arm, the torso and the head. The global orientation is not a dependency here because the metric holds
    it fixed (the identity, as QPoser models the body in the pelvis frame) for the truth and every edit."""
    from core_models.captioning import posecodes as pc

    nc = pc.NUM_CODES if n_codes is None else min(int(n_codes), pc.NUM_CODES)
    tol = np.array([_MOVE_TOL[pc.OPERATORS[c.op].unit] for c in pc.CODES[:nc]], np.float32)
    R = R.detach().float().cpu()
    n = len(R)
    g = torch.Generator().manual_seed(seed)
    v0 = _code_values(R, nc)
    other = torch.randperm(n, generator=g)
    other = torch.where(other == torch.arange(n), (other + 1) % n, other)
    deps: list[set[str]] = [set() for _ in range(nc)]
    for p in PARTS:
        jj = [j - 1 for j in PART_JOINTS[p]]
        swapped, turned = R.clone(), R.clone()
        swapped[:, jj] = R[other][:, jj]
        axis = F.normalize(torch.randn(n, len(jj), 3, generator=g), dim=-1)
        turn = aa_to_matrix(axis * torch.rand(n, len(jj), 1, generator=g) * (math.pi / 2))
        turned[:, jj] = turn @ R[:, jj]
        moved = np.zeros(nc, bool)
        for Rp in (swapped, turned):
            moved |= (np.abs(_code_values(Rp, nc) - v0) > tol).any(0)
        for ci in np.nonzero(moved)[0]:
            deps[ci].add(p)
    return [frozenset(d) for d in deps]


def _prompted_codes(qp, prompter: Prompter, ex: dict, seed: int):
    """The base (another held-out pose: the GUI's current pose, which the text does not describe), the model's
    edit and the oracle edit (true part codes) as code arrays, and the prompted parts of each text."""
    texts, codes = ex["texts"], ex["codes"].cpu()
    n = len(texts)
    rng = np.random.default_rng(seed)
    base_i = (np.arange(n) + rng.integers(1, max(2, n))) % n
    base = codes[torch.as_tensor(base_i)].clone()
    pred, oracle = base.clone(), base.clone()
    mentioned = []
    for i, t in enumerate(texts):
        parts = prompted_parts(t)
        mentioned.append(set(parts))
        pcodes = prompt_part_codes(prompter, t, parts, base[i].numpy(), qp)
        for p in parts:
            pred[i, qp.group_slice(p)] = torch.as_tensor(pcodes[p])
            oracle[i, qp.group_slice(p)] = codes[i, qp.group_slice(p)]
    return base, pred, oracle, mentioned


def _decoded(qp, c: torch.Tensor) -> torch.Tensor:
    dev = model_device(qp)
    return torch.cat([qp.decode_indices(c[i:i + 2048].to(dev)).cpu() for i in range(0, len(c), 2048)])


def _pct(a: int, b: int) -> float:
    return round(100.0 * a / max(b, 1), 1)


@torch.no_grad()
def evaluate_prompting(qp, prompter: Prompter, ex: dict, seed: int = 1, n_codes: int | None = None) -> dict:
    """Prompting: % of the posecodes a held-out description states that the prompted pose realises.

    The scenario is the GUI's (Latent panel ▸ Prompt): the parts the text names (:func:`prompted_parts`) take the
    prompt model's codes; everything else — the other parts' codes, the global codes, the root — stays from the
    user's current pose, which the text does not describe: here another held-out pose (seeded). Every pose is
    decoded by QPoser and measured under the identity root (QPoser's frame; the prompt never moves the root).

    A stated posecode (index ``ci``, category ``c``) *counts* only when
    * its dependency set (:func:`code_dependencies`: the parts whose rotations change its value) is non-empty and
      lies inside the prompted parts — codes that also read a part the prompt leaves alone are out of its reach;
    * ``c`` is the category of the QPoser reconstruction of the described pose (so quantisation, or the true
      root tilt the text was written under, cannot make a stated code unreachable), and of the oracle edit: the
      true part codes written into the base (they decode under the base's global codes, as in the GUI).
    So the oracle realises 100 % by construction; ``unchanged_pct`` is the base pose, ``realised_pct`` the model.
    Only codes below ``n_codes`` (default: the prompter's ``posecodes``, else :data:`PROMPT_POSECODES`) are read.
    The pre-#18 metric (joint names only, no reconstruction check; oracle ≈ 76 %) is returned as ``legacy``."""
    texts, used, codes = ex["texts"], ex["used"], ex["codes"].cpu()
    n = len(texts)
    base, pred, oracle, mentioned = _prompted_codes(qp, prompter, ex, seed)
    R_true = _decoded(qp, codes)
    nc = int(n_codes or getattr(prompter, "posecodes", None) or PROMPT_POSECODES)
    deps = code_dependencies(R_true[:256], nc)
    nc = len(deps)
    cr, cb, cp, co = (body_code_categories(R, range(nc)) for R in (R_true, _decoded(qp, base), _decoded(qp, pred),
                                                               _decoded(qp, oracle)))
    k = dict.fromkeys(("tot", "b", "p", "o", "new", "out", "recon", "oracle", "stated"), 0)
    for i in range(n):
        for ci, cat in used[i]:
            k["stated"] += 1
            if ci >= nc:
                k["new"] += 1
            elif not deps[ci] or not deps[ci] <= mentioned[i]:
                k["out"] += 1
            elif cr[i, ci] != cat:
                k["recon"] += 1
            elif co[i, ci] != cat:
                k["oracle"] += 1
            else:
                k["tot"] += 1
                k["b"] += int(cb[i, ci] == cat)
                k["p"] += int(cp[i, ci] == cat)
                k["o"] += int(co[i, ci] == cat)
    return {"descriptions": n, "stated_codes": k["stated"], "prompted_codes": k["tot"],
            "mean_prompted_parts": round(sum(len(m) for m in mentioned) / max(n, 1), 2),
            "realised_pct": _pct(k["p"], k["tot"]), "unchanged_pct": _pct(k["b"], k["tot"]),
            "oracle_pct": _pct(k["o"], k["tot"]),
            "excluded": {"reads_unprompted_parts": k["out"], "not_in_reconstruction": k["recon"],
                         "not_realised_by_true_part_codes": k["oracle"], "codes_newer_than_model": k["new"]},
            "posecodes": nc, "legacy": _legacy_prompting(used, mentioned, cb, cp, co)}


def _legacy_prompting(used, mentioned, cb, cp, co) -> dict:
    """The pre-#18 numbers: a stated code counts when the joints it names lie in the prompted parts (its value
    may still depend on other parts, and the text's category may not be reachable), so the oracle stays < 100 %."""
    tot = hb = hp = ho = 0
    for i, m in enumerate(mentioned):
        for ci, cat in used[i]:
            if ci >= cb.shape[1] or not m or not code_parts(ci) <= m:
                continue
            tot += 1
            hb += int(cb[i, ci] == cat)
            hp += int(cp[i, ci] == cat)
            ho += int(co[i, ci] == cat)
    return {"prompted_codes": tot, "realised_pct": _pct(hp, tot), "unchanged_pct": _pct(hb, tot),
            "oracle_pct": _pct(ho, tot)}
