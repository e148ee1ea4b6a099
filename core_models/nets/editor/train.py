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

import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from core_models.nets.editor import (MAX_CLAUSE_TOKENS, TEXT_DIM_IN, ClauseBatch, PoseEditor, build_model,
                                     recon_nll, split_clauses)
from core_models.nets.pose_vae import geodesic_rad, pose_to_rotmats

CONFIGS = {
    "tiny": dict(latent=32, pose_feat=64, pose_hidden=128, pose_layers=1, text_d=32, text_dim=64, text_layers=1,
                 dropout=0.0, batch=64, lr=2e-3, epochs=2, max_pairs=600, verts=128, p_copy=0.1, p_flip=0.5,
                 w_mean=0.5, part_pairs=200),
    "full": dict(latent=32, pose_feat=256, pose_hidden=512, pose_layers=2, text_d=128, text_dim=256,
                 text_layers=2, dropout=0.1, batch=128, lr=1e-3, epochs=30, max_pairs=None, verts=256,
                 p_copy=0.1, p_flip=0.5, w_mean=0.5, part_pairs=40000),
}
CLAUSE_CACHE = "editor_clauses.npz"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- body (joints + a vertex subset, differentiable) --------------------------------------------------------

class BodyTorch:
    """rotmats (B,22,3,3) → (joints (B,22,3), vertices (B,V,3)) on a fixed random subset of mesh vertices."""

    def __init__(self, body=None, n_verts: int = 256, seed: int = 0):
        if body is None:
            from core_models.body import load_body
            body = load_body("anny")
        s = body.skinning
        idx = np.sort(np.random.default_rng(seed).choice(len(s.rest_vertices), n_verts, replace=False))
        self.rest_j = torch.as_tensor(s.rest_joints, dtype=torch.float32)
        self.parents = s.parents
        self.W = torch.as_tensor(s.weights[idx], dtype=torch.float32)
        self.rest_v = torch.as_tensor(s.rest_vertices[idx], dtype=torch.float32)
        self.rest_joints_np = s.rest_joints

    def __call__(self, R: torch.Tensor):
        from core_models.kinematics import fk_torch, lbs_dense_torch
        _, J, skin = fk_torch(R, self.rest_j, self.parents)
        return J, lbs_dense_torch(skin, self.W, self.rest_v)


def mirror_rotmats(R: torch.Tensor) -> torch.Tensor:
    """L/R mirror of (B,22,3,3) rotations, consistent with ``pose.mirror``: swap sides, M·R·M, M = diag(-1,1,1)."""
    from core_models import skeleton as sk
    M = torch.tensor([-1.0, 1.0, 1.0])
    Rm = R[:, torch.as_tensor(sk.MIRROR)]
    return Rm * M[:, None] * M[None, :]


# --- data -------------------------------------------------------------------------------------------------

class PairData:
    """Pose pairs (heading-normalised rotmats) + per-pair text variants as clause-id lists."""

    def __init__(self, A: torch.Tensor, B: torch.Tensor, texts: list[list[str]], kind: np.ndarray,
                 pair_index: np.ndarray):
        self.A, self.B, self.texts, self.kind, self.pair_index = A, B, texts, kind, pair_index

    def __len__(self):
        return len(self.A)


def load_pairs(corpus_dir: Path, splits=(0,), max_pairs: int | None = None, seed: int = 0,
               require_texts: bool = True) -> PairData:
    from core_models.data.corpus import Corpus
    from core_models.data.pairs import PairSet, pair_poses

    corpus = Corpus(corpus_dir)
    pairs = PairSet.load(Path(corpus_dir) / "pairs.npz")
    mf = Path(corpus_dir) / "modifiers.json"
    if not mf.exists():
        if require_texts:
            raise FileNotFoundError(f"{mf} is missing (the corpus build writes it after the pairs)")
        mods = [[""]] * len(pairs)
    else:
        mods = json.loads(mf.read_text())
    sel = np.nonzero(np.isin(pairs.split, np.asarray(splits)))[0]
    if max_pairs and len(sel) > max_pairs:
        sel = np.sort(np.random.default_rng(seed).choice(sel, max_pairs, replace=False))
    As, Bs = [], []
    for s in range(0, len(sel), 8192):
        pa, pb = pair_poses(corpus, pairs, sel[s:s + 8192])
        As.append(pose_to_rotmats(pa))
        Bs.append(pose_to_rotmats(pb))
    A = torch.cat(As) if As else torch.zeros(0, 22, 3, 3)
    B = torch.cat(Bs) if Bs else torch.zeros(0, 22, 3, 3)
    return PairData(A, B, [list(mods[i]) for i in sel], pairs.kind[sel], sel)


#: body-part groups of the part-wise pairs (``make_part_pairs``) and how often each is drawn
PART_GROUPS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head", "root")
PART_WEIGHTS = np.array([3, 3, 3, 3, 1, 1, 1], np.float64)


def make_part_pairs(data: PairData, n: int, seed: int = 0, n_texts: int = 2, rest_joints=None,
                    log=_log) -> PairData:
    """Part-wise pairs: A → B' where B' is A with only one or two body parts (a random group such as "left
    arm", or two of them) taken from B, captioned afresh by the comparative captioner.

    The corpus modifiers name 5–8 changes at once and typical pairs move both sides, so a model trained on them
    alone learns "raise your left arm" ≈ "raise your arms"; these pairs teach that a short instruction moves
    only what it names, on the side it names. Pairs whose caption finds nothing to say are dropped."""
    from core_models import skeleton as sk
    from core_models.captioning.compare import NO_CHANGE_TEXT, modifier
    from core_models.nets.pose_vae import rotmats_to_pose

    rng = np.random.default_rng(seed)
    if n <= 0 or len(data) == 0:
        return PairData(data.A[:0], data.B[:0], [], data.kind[:0], data.pair_index[:0])
    src = rng.choice(len(data), n, replace=n > len(data))
    groups = {g: ([0] if g == "root" else list(sk.BODY_PARTS[g])) for g in PART_GROUPS}
    A = data.A[src].clone()
    B = A.clone()
    for r, i in enumerate(src):
        k = 1 if rng.random() < 0.7 else 2
        for g in rng.choice(len(PART_GROUPS), k, replace=False, p=PART_WEIGHTS / PART_WEIGHTS.sum()):
            js = groups[PART_GROUPS[g]]
            B[r, js] = data.B[i, js]
    t0 = time.time()
    texts: list[list[str]] = []
    for s in range(0, n, 4096):
        pa, pb = rotmats_to_pose(A[s:s + 4096]), rotmats_to_pose(B[s:s + 4096])
        per = [modifier(pa, pb, seed=seed + 7919 * k + s, rest_joints=rest_joints) for k in range(n_texts)]
        texts.extend([list(t) for t in zip(*per)])
        log(f"[editor] part-pair captions {min(s + 4096, n)}/{n} ({time.time() - t0:.0f} s)")
    keep = np.array([any(t != NO_CHANGE_TEXT for t in ts) for ts in texts])
    texts = [[t for t in ts if t != NO_CHANGE_TEXT] for ts, k in zip(texts, keep) if k]
    kt = torch.as_tensor(keep)
    return PairData(A[kt], B[kt], texts, data.kind[src][keep], data.pair_index[src][keep])


def concat_pairs(a: PairData, b: PairData) -> PairData:
    return PairData(torch.cat([a.A, b.A]), torch.cat([a.B, b.B]), a.texts + b.texts,
                    np.concatenate([a.kind, b.kind]), np.concatenate([a.pair_index, b.pair_index]))


def load_part_pairs(cdir: Path, data: PairData, n: int, seed: int, rest_joints=None, log=_log) -> PairData:
    """``make_part_pairs`` cached in the corpus folder (keyed by the training set size, n and seed)."""
    path = cdir / f"editor_partpairs_{len(data)}_{n}_{seed}.npz"
    if path.exists():
        try:
            z = np.load(path, allow_pickle=False)
            texts = json.loads(str(z["texts"]))
            return PairData(torch.as_tensor(z["A"]), torch.as_tensor(z["B"]), texts, z["kind"], z["pair_index"])
        except Exception as e:  # rebuilt below
            log(f"[editor] ignoring unreadable part-pair cache {path}: {e}")
    pp = make_part_pairs(data, n, seed, rest_joints=rest_joints, log=log)
    try:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, A=pp.A.numpy(), B=pp.B.numpy(), texts=np.asarray(json.dumps(pp.texts)), kind=pp.kind,
                 pair_index=pp.pair_index)
        os.replace(tmp, path)
    except OSError as e:
        log(f"[editor] could not save the part-pair cache: {e}")
    return pp


class ClauseStore:
    """All unique clauses of a text set, their frozen token states (fp16, padded to MAX_CLAUSE_TOKENS) and,
    per pair, the clause-id lists of every wording and of its L/R-flipped version."""

    def __init__(self, data: PairData, cache_path: Path | None = None, flip: bool = True, log=_log):
        from core_models.captioning.textutil import flip_text
        from core_models.nets.text_encoder import TextFeatureCache

        self.index: dict[str, int] = {}

        def ids(text: str) -> list[int]:
            return [self.index.setdefault(c, len(self.index)) for c in split_clauses(text)]

        self.ids = [[ids(t) for t in ts] for ts in data.texts]
        self.flip_ids = [[ids(flip_text(t)) for t in ts] for ts in data.texts] if flip else self.ids
        clauses = list(self.index)
        cache = TextFeatureCache()
        if cache_path is not None and cache_path.exists():
            try:
                cache.load(cache_path)
            except Exception as e:  # a broken cache is rebuilt
                log(f"[editor] ignoring unreadable clause cache {cache_path}: {e}")
        from core_models.nets.text_encoder import normalize_text
        missing = [c for c in clauses if normalize_text(c) not in cache.store]
        if missing:
            t0 = time.time()
            log(f"[editor] encoding {len(missing)} new clauses with MiniLM ({len(clauses)} in all)")
            cache.add(missing, progress=lambda i, n: log(f"[editor] clauses {i}/{n} ({time.time() - t0:.0f} s)")
                      if i % 2048 < cache.batch_size else None)
            if cache_path is not None:
                try:
                    cache.save(cache_path)
                except OSError as e:
                    log(f"[editor] could not save the clause cache: {e}")
        self.states = torch.zeros(max(len(clauses), 1), MAX_CLAUSE_TOKENS, TEXT_DIM_IN, dtype=torch.float16)
        self.lens = torch.zeros(max(len(clauses), 1), dtype=torch.long)
        for c, i in self.index.items():
            s = cache.store[normalize_text(c)][:MAX_CLAUSE_TOKENS]
            self.states[i, :len(s)] = s
            self.lens[i] = len(s)
        from core_models.nets.editor import KEYWORDS, keyword_flags
        self.kw = torch.zeros(max(len(clauses), 1), len(KEYWORDS))
        for c, i in self.index.items():
            self.kw[i] = torch.tensor(keyword_flags(c))
        self.vocabulary = sorted({w for c in clauses for w in c.replace("-", " ").split() if w.isalpha()})

    def batch(self, id_lists: list[list[int]]) -> ClauseBatch:
        uniq = sorted({i for ids in id_lists for i in ids})
        pos = {c: k for k, c in enumerate(uniq)}
        K = max([len(x) for x in id_lists] + [1])
        seq = torch.full((len(id_lists), K), -1, dtype=torch.long)
        for r, ids in enumerate(id_lists):
            if ids:
                seq[r, :len(ids)] = torch.as_tensor([pos[i] for i in ids])
        if not uniq:
            return ClauseBatch(torch.zeros(0, 1, TEXT_DIM_IN), torch.zeros(0, 1, dtype=torch.bool), seq)
        u = torch.as_tensor(uniq)
        L = int(self.lens[u].max())
        mask = torch.arange(L)[None, :] < self.lens[u][:, None]
        return ClauseBatch(self.states[u, :L].float(), mask, seq, self.kw[u])


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
                minutes: float | None = None, seed: int = 0, device: str = "cpu", log=_log) -> dict:
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
            prog = max(prog, (time.time() - t0) / (60 * minutes))
        return min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, prog)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    hist, step, perm, pos = [], 0, rng.permutation(n), 0
    while step < total:
        if minutes is not None and time.time() - t0 > 60 * minutes:
            log(f"[editor] time budget reached after {step} steps")
            break
        if pos + cfg["batch"] > n:
            perm, pos = rng.permutation(n), 0
        idx = perm[pos:pos + cfg["batch"]]
        pos += cfg["batch"]
        A, B, cb = sample_batch(data, store, idx, rng, cfg["p_flip"], cfg["p_copy"])
        loss, parts = training_loss(model, body_fn, A.to(device), B.to(device), cb.to(device),
                                    w_mean=cfg.get("w_mean", 0.0))
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

def _fid(x: np.ndarray, y: np.ndarray) -> float:
    from scipy import linalg
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False) + 1e-6 * np.eye(x.shape[1]), np.cov(y, rowvar=False) + 1e-6 * np.eye(x.shape[1])
    cs, _ = linalg.sqrtm(s1 @ s2, disp=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(cs)))


@torch.no_grad()
def evaluate_inputs(model: PoseEditor, data: PairData, store: ClauseStore, body_fn, n_best: int = 30,
                    chunk: int = 128, seed: int = 0, rest_joints=None) -> dict:
    """PoseFix Table-5 style numbers for the three input types. Text = the first wording of each pair."""
    from torch.distributions import kl_divergence

    from core_models.captioning.posecodes import posecode_features
    from core_models.nets.pose_vae import rotmats_to_pose

    g = torch.Generator().manual_seed(seed)
    model.eval()
    n = len(data)
    Dv = body_fn.rest_v.shape[0] * 3
    out = {}
    feat_b = posecode_features(rotmats_to_pose(data.B), kind="continuous", rest_joints=rest_joints)
    for mode in ("pose_only", "text_only", "pose_text"):
        acc = {k: [] for k in ("elbo_jts", "elbo_v2v", "elbo_rot", "mpje", "mpve", "geo")}
        gen = []
        for s in range(0, n, chunk):
            A, B = data.A[s:s + chunk], data.B[s:s + chunk]
            ids = [store.ids[i][0] if mode != "pose_only" else [] for i in range(s, min(s + chunk, n))]
            if mode == "text_only":
                A = torch.eye(3).expand_as(A).clone()
            cb = store.batch(ids)
            q = model.posterior_dist(B)
            p = model.prior_dist(A, cb)
            kl = kl_divergence(q, p).sum(-1)
            d6 = model.decoder.decode_6d(q.loc + q.scale * torch.randn(q.loc.shape, generator=g))
            nll_r, nll_j, nll_v, *_ = recon_nll(model, d6, B, body_fn)
            acc["elbo_rot"].append((-(nll_r + kl) / (22 * 6)).numpy())
            acc["elbo_jts"].append((-(nll_j + kl) / 66).numpy())
            acc["elbo_v2v"].append((-(nll_v + kl) / Dv).numpy())
            b = len(A)
            z = p.loc[:, None] + p.scale[:, None] * torch.randn(b, n_best, p.loc.shape[-1], generator=g)
            R = model.decoder(z.reshape(-1, z.shape[-1])).reshape(b, n_best, 22, 3, 3)
            J, V = body_fn(R.reshape(-1, 22, 3, 3))
            Jb, Vb = body_fn(B)
            J, V = J.reshape(b, n_best, 22, 3), V.reshape(b, n_best, -1, 3)
            acc["mpje"].append((1000 * (J - Jb[:, None]).norm(dim=-1).mean(-1)).min(1).values.numpy())
            acc["mpve"].append((1000 * (V - Vb[:, None]).norm(dim=-1).mean(-1)).min(1).values.numpy())
            geo = torch.rad2deg(geodesic_rad(R, B[:, None])).mean(-1)
            acc["geo"].append(geo.min(1).values.numpy())
            gen.append(R[:, 0])
        feat_g = posecode_features(rotmats_to_pose(torch.cat(gen)), kind="continuous", rest_joints=rest_joints)
        res = {k: float(np.concatenate(v).mean()) for k, v in acc.items()}
        res["fid"] = _fid(feat_g, feat_b)
        out[mode] = res
    return out


# instruction compliance ----------------------------------------------------------------------------------

def _direction(op: str, cat: int) -> int:
    from core_models.captioning.compare import PAIR_OPS
    cats = PAIR_OPS[op].categories
    mid = cats.index("ignored")
    return int(np.sign(cat - mid))


@torch.no_grad()
def compliance(editor, data: PairData, n: int = 300, rest_joints=None) -> dict:
    """Share of named paircode changes (deterministic coach text of A→B) realised by the mean edit."""
    from core_models.captioning.compare import PAIRS, correct, extract_pairs
    from core_models.nets.pose_vae import rotmats_to_pose

    key_index = {p.key: p.index for p in PAIRS}
    n = min(n, len(data))
    A_p, B_p = rotmats_to_pose(data.A[:n]), rotmats_to_pose(data.B[:n])
    texts, named = [], []
    for i in range(n):
        r = correct(A_p[i], B_p[i], max_instructions=3, rest_joints=rest_joints)
        texts.append(r.text if r.instructions else "")
        named.append([[key_index[k] for k in ins.codes] for ins in r.instructions])
    mean, _ = editor.predict_normalized(data.A[:n], texts, 0)
    out_p = rotmats_to_pose(mean)
    ref = extract_pairs(A_p, B_p, None, rest_joints)
    got = extract_pairs(A_p, out_p, None, rest_joints)
    ok_codes = tot_codes = ok_instr = tot_instr = 0
    for i in range(n):
        for codes in named[i]:
            if not codes:
                continue
            res = [_direction(PAIRS[c].op, int(ref.cats[i, c])) == _direction(PAIRS[c].op, int(got.cats[i, c]))
                   != 0 for c in codes]
            ok_codes += sum(res)
            tot_codes += len(res)
            ok_instr += all(res)
            tot_instr += 1
    return {"compliance": ok_instr / max(tot_instr, 1), "compliance_codes": ok_codes / max(tot_codes, 1),
            "instructions": tot_instr, "example": texts[0]}


CHAIN_INSTRUCTIONS = [
    ("Raise your left arm.", {"left_arm"}), ("Raise your right arm.", {"right_arm"}),
    ("Bend your left knee.", {"left_leg"}), ("Bend your right knee.", {"right_leg"}),
    ("Straighten your left arm.", {"left_arm"}), ("Bend your right elbow.", {"right_arm"}),
    ("Turn your head to the left.", {"head"}), ("Tilt your head to the right.", {"head"}),
    ("Move your left foot forward.", {"left_leg"}), ("Lower your right hand.", {"right_arm"}),
    ("Lean forward.", {"torso"}), ("Straighten your right leg.", {"right_leg"}),
]


@torch.no_grad()
def chained(editor, data: PairData, n: int = 100, steps: int = 3, seed: int = 0) -> dict:
    """3 instructions on 3 different body parts in a row; drift of the other parts and joint-limit excess."""
    from core_models import skeleton as sk
    from core_models.nets.pose_vae import rotmats_to_pose
    from core_models.pose import limit_violation_deg, normalize_heading

    rng = np.random.default_rng(seed)
    n = min(n, len(data))
    R = data.A[:n].clone()
    touched = [set() for _ in range(n)]
    for _ in range(steps):
        texts = []
        for i in range(n):
            while True:
                t, parts = CHAIN_INSTRUCTIONS[int(rng.integers(len(CHAIN_INSTRUCTIONS)))]
                if not parts & touched[i]:
                    break
            touched[i] |= parts
            texts.append(t)
        mean, _ = editor.predict_normalized(R, texts, 0)
        p, _ = normalize_heading(rotmats_to_pose(mean))
        R = pose_to_rotmats(p)
    geo = torch.rad2deg(geodesic_rad(R, data.A[:n])).numpy()  # (n,22)
    drift = []
    for i in range(n):
        js = [j for part, jj in sk.BODY_PARTS.items() if part not in touched[i] for j in jj]
        drift.append(float(geo[i, js].mean()))
    drift = np.array(drift)
    lim0 = limit_violation_deg(rotmats_to_pose(data.A[:n]))
    lim = limit_violation_deg(rotmats_to_pose(R))
    return {"chain_drift_deg": float(drift.mean()), "chain_drift_ok": float((drift <= 10).mean()),
            "chain_limit_excess_deg": float(lim.mean()), "start_limit_excess_deg": float(lim0.mean())}


SIDED_INSTRUCTIONS = [
    ("Raise your {s} arm.", "{s}_arm"), ("Bend your {s} knee.", "{s}_leg"), ("Straighten your {s} arm.", "{s}_arm"),
    ("Lift your {s} knee.", "{s}_leg"), ("Move your {s} hand forward.", "{s}_arm"),
    ("Bend your {s} elbow.", "{s}_arm"), ("Move your {s} foot to the side.", "{s}_leg"),
    ("Lower your {s} hand.", "{s}_arm"),
]


@torch.no_grad()
def side_specificity(editor, data: PairData, n: int = 100, seed: int = 0) -> dict:
    """Single-side instructions ("raise your left arm") on held-out poses: share of edits whose named part
    rotates more (mean geodesic over its joints) than the same part on the other side, and the mean ratio
    other/named (0 = only the named side moves, 1 = side-blind)."""
    from core_models import skeleton as sk

    rng = np.random.default_rng(seed)
    n = min(n, len(data))
    A, texts, named, other = [], [], [], []
    for i in range(n):
        t, part = SIDED_INSTRUCTIONS[int(rng.integers(len(SIDED_INSTRUCTIONS)))]
        side = "left" if rng.random() < 0.5 else "right"
        opp = "right" if side == "left" else "left"
        A.append(data.A[i])
        texts.append(t.format(s=side))
        named.append(sk.BODY_PARTS[part.format(s=side)])
        other.append(sk.BODY_PARTS[part.format(s=opp)])
    A = torch.stack(A)
    mean, _ = editor.predict_normalized(A, texts, 0)
    geo = torch.rad2deg(geodesic_rad(mean, A)).numpy()
    gn = np.array([geo[i, list(j)].mean() for i, j in enumerate(named)])
    go = np.array([geo[i, list(j)].mean() for i, j in enumerate(other)])
    return {"side_correct": float((gn > go).mean()), "side_ratio": float(np.median(go / np.maximum(gn, 1e-6))),
            "side_named_deg": float(gn.mean()), "side_other_deg": float(go.mean())}


# --- CLI -----------------------------------------------------------------------------------------------------

def add_train_args(p) -> None:
    p.add_argument("--config", choices=sorted(CONFIGS), default="full")
    p.add_argument("--device", default="cpu")
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


def _corpus_dir(arg) -> Path:
    from core_models.data.corpus import default_corpus_dir
    return Path(arg) if arg else default_corpus_dir()


def run_train(args) -> int:
    torch.set_num_threads(max(1, int(getattr(args, "threads", 1) or 1)))
    from core_models.body import load_body
    from core_models.nets.weights import save_weights

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
    if cfg.get("part_pairs"):
        pp = load_part_pairs(cdir, data, cfg["part_pairs"], args.seed, body.skinning.rest_joints)
        _log(f"[editor] + {len(pp)} part-wise pairs")
        data = concat_pairs(data, pp)
    val = load_pairs(cdir, (1,), 1000 if args.config == "full" else 100, args.seed)
    if len(val) == 0:  # tiny corpora may have no validation clip
        val = load_pairs(cdir, (2,), 1000 if args.config == "full" else 100, args.seed)
    _log(f"[editor] {len(data)} training pairs, {len(val)} validation pairs from {cdir}")
    t_text = time.time()
    store = ClauseStore(data, cdir / CLAUSE_CACHE)
    vstore = ClauseStore(val, cdir / CLAUSE_CACHE, flip=False)
    text_seconds = time.time() - t_text
    _log(f"[editor] {len(store.index)} unique clauses ({text_seconds:.0f} s)")
    body_fn = BodyTorch(body, cfg["verts"], seed=args.seed)
    model = build_model(cfg)
    prev = None
    if getattr(args, "init_from", None):
        from core_models.nets.editor import load_state_compat
        from core_models.nets.weights import float_state, load_weights, manifest
        blob = load_weights("editor", Path(args.init_from))
        new = load_state_compat(model, float_state(blob["state"]))
        prev = manifest("editor", Path(args.init_from))
        _log(f"[editor] continuing from {args.init_from} (new parameters: {new})")
    _log(f"[editor] {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    info = train_model(model, data, store, body_fn, cfg, epochs, args.minutes, args.seed, args.device)
    model.cpu()
    from core_models.nets.editor import Editor
    ed = Editor(model, set(store.vocabulary))
    metrics = evaluate_inputs(model, val, vstore, body_fn, n_best=30, rest_joints=body.skinning.rest_joints)
    metrics["compliance"] = compliance(ed, val, n=200 if args.config == "full" else 30,
                                       rest_joints=body.skinning.rest_joints)
    metrics["side"] = side_specificity(ed, val, n=200 if args.config == "full" else 30)
    summary = {"val_mpje_pose_text": round(metrics["pose_text"]["mpje"], 1),
               "val_mpje_pose_only": round(metrics["pose_only"]["mpje"], 1),
               "val_compliance": round(metrics["compliance"]["compliance"], 3),
               "val_side_correct": round(metrics["side"]["side_correct"], 3)}
    _log(f"[editor] validation: {summary}")
    if not args.no_save:
        config = dict(cfg, vocabulary=store.vocabulary)
        cmd = "python main.py train editor " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else \
            f"python main.py train editor --config {args.config}"
        from core_models.nets.weights import continued
        cmd, train_seconds = continued(prev, cmd, info["seconds"])
        path = save_weights("editor", model.state_dict(), config,
                            {"command": cmd, "data": {"corpus": str(cdir), "train_pairs": n_full,
                                                      "part_pairs": len(data) - n_full,
                                                      "unique_clauses": len(store.index)},
                             "metrics": {"validation": summary}, "train_seconds": round(train_seconds, 1),
                             "text_encoding_seconds": round(text_seconds, 1), "steps": info["steps"],
                             "threads": torch.get_num_threads()},
                            directory=Path(args.out) if args.out else None, half=True)
        _log(f"[editor] saved {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(json.dumps({"name": "train_editor", "config": args.config, "steps": info["steps"],
                      "train_seconds": info["seconds"], "total_seconds": round(time.time() - t_all, 1),
                      "loss_first": info["loss_first"], "loss_last": info["loss_last"], **summary}))
    return 0


def add_eval_args(p) -> None:
    p.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--mocap", default=None, help="evaluate on these mocap files instead (imported on the fly)")
    p.add_argument("--max-pairs", type=int, default=2000)
    p.add_argument("--compliance-pairs", type=int, default=500)
    p.add_argument("--no-hold", action="store_true",
                   help="let the model move body parts the text does not name (the app holds them by default)")
    p.add_argument("--chain-poses", type=int, default=200)
    p.add_argument("--weights", default=None, help="weights folder (default resources/weights)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)


def _mocap_corpus(mocap: str, tmp: Path, body) -> Path:
    from core_models.data.corpus import Corpus, build_corpus
    from core_models.data.pairs import build_pairs, caption_pairs, save_captions

    build_corpus(mocap, tmp, body=body, log=_log)
    corpus = Corpus(tmp)
    pairs = build_pairs(corpus, rest_joints=body.skinning.rest_joints, log=_log)
    pairs.save(tmp / "pairs.npz")
    save_captions(tmp / "modifiers.json", caption_pairs(corpus, pairs, n_texts=1,
                                                        rest_joints=body.skinning.rest_joints, log=_log))
    return tmp


def format_table(res: dict) -> str:
    rows = [("pose A only", "pose_only"), ("modifier only", "text_only"), ("pose A + modifier", "pose_text")]
    lines = [f"{'input':<20} {'FID':>6} | {'ELBO jts':>8} {'v2v':>6} {'rot':>6} | "
             f"{'MPJE':>6} {'MPVE':>6} {'Geodesic':>8}  (best of 30; mm, mm, deg)"]
    for name, k in rows:
        r = res[k]
        lines.append(f"{name:<20} {r['fid']:6.2f} | {r['elbo_jts']:8.2f} {r['elbo_v2v']:6.2f} {r['elbo_rot']:6.2f} | "
                     f"{r['mpje']:6.0f} {r['mpve']:6.0f} {r['geo']:8.2f}")
    return "\n".join(lines)


def run_eval(args) -> int:
    torch.set_num_threads(max(1, int(getattr(args, "threads", 1) or 1)))
    from core_models.body import load_body
    from core_models.nets.editor import load_editor
    from core_models.nets.weights import WeightsError

    try:
        ed = load_editor(Path(args.weights) if args.weights else None)
    except WeightsError as e:
        print(f"error: {e}")
        return 2
    ed.hold_unnamed = not getattr(args, "no_hold", False)
    body = load_body("anny")
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="posetailor_eval_") as tmp:
        if args.mocap:
            cdir, splits, label = _mocap_corpus(args.mocap, Path(tmp), body), (0, 1, 2), f"mocap {args.mocap}"
        else:
            cdir, splits, label = _corpus_dir(args.corpus), (2,), "test split (held out by clip)"
        data = load_pairs(cdir, splits, args.max_pairs, args.seed)
        if len(data) == 0:
            print("error: no evaluation pairs")
            return 2
        store = ClauseStore(data, None if args.mocap else cdir / CLAUSE_CACHE, flip=False)
        body_fn = BodyTorch(body, 1024, seed=1)
        res = evaluate_inputs(ed.model, data, store, body_fn, rest_joints=body.skinning.rest_joints,
                              seed=args.seed)
        comp = compliance(ed, data, args.compliance_pairs, rest_joints=body.skinning.rest_joints)
        ch = chained(ed, data, args.chain_poses, seed=args.seed)
        sd = side_specificity(ed, data, args.chain_poses, seed=args.seed)
    print(f"Text-based pose editing, {len(data)} pairs, {label} ({int((data.kind == 0).sum())} IS, "
          f"{int((data.kind == 1).sum())} OOS); MPVE on 1024 mesh vertices; unnamed parts "
          f"{'held at A (app default)' if ed.hold_unnamed else 'free (--no-hold)'} for compliance / chains / sides")
    print(format_table(res))
    red = 1 - res["pose_text"]["mpje"] / res["pose_only"]["mpje"]
    print(f"MPJE reduction A+text vs A only: {100 * red:.1f} % (target >= 35 %)")
    print(f"instruction compliance: {100 * comp['compliance']:.1f} % of {comp['instructions']} instructions "
          f"({100 * comp['compliance_codes']:.1f} % of named paircodes) (target >= 85 %)")
    print(f"chained edits (3 in a row, {min(args.chain_poses, len(data))} poses): untouched-part drift "
          f"{ch['chain_drift_deg']:.1f} deg mean, {100 * ch['chain_drift_ok']:.0f} % of chains <= 10 deg; "
          f"joint-limit excess {ch['chain_limit_excess_deg']:.2f} deg/joint (start {ch['start_limit_excess_deg']:.2f})")
    print(f"single-side instructions ({min(args.chain_poses, len(data))} poses): named side moves more in "
          f"{100 * sd['side_correct']:.0f} %; named part {sd['side_named_deg']:.1f} deg vs same part on the other "
          f"side {sd['side_other_deg']:.1f} deg (median ratio other/named {sd['side_ratio']:.2f})")
    out = {"name": "eval_editor", "pairs": len(data), "data": label, "hold_unnamed": ed.hold_unnamed,
           "mpje_reduction": round(red, 4),
           **{f"{k}_{m}": round(v, 4) for k, r in res.items() for m, v in r.items()},
           "compliance": round(comp["compliance"], 4), "compliance_codes": round(comp["compliance_codes"], 4),
           **{k: round(v, 4) for k, v in ch.items()}, **{k: round(v, 4) for k, v in sd.items()},
           "seconds": round(time.time() - t0, 1)}
    print(json.dumps(out))
    return 0


__all__ = ["CONFIGS", "BodyTorch", "PairData", "ClauseStore", "load_pairs", "train_model", "training_loss",
           "evaluate_inputs", "compliance", "chained", "side_specificity", "run_train", "run_eval",
           "add_train_args", "add_eval_args", "mirror_rotmats", "make_part_pairs", "load_part_pairs"]
