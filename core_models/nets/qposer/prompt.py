"""Control by prompting (QPoser §3.4): text → the codes of the body parts the text talks about.

* Which parts a prompt sets: :func:`prompted_parts` (a transparent word rule: "left arm" → left arm, "arms" /
  "hands" → both arms, "knee" → both legs unless a side is named, "head"/"neck" → head, "back"/"lean"/"torso" →
  torso, ...). Only those parts' codes change, so "arms crossed" sets the arm codes and nothing else.
* Which codes: :class:`PromptToCodes`, a multi-head classifier per part on top of the frozen MiniLM text encoder
  (the editor's). The prompt is split into clauses, each clause is encoded once (mean-pooled MiniLM states,
  cached), a learned query per part attends over the clauses (so "left hand up, right leg bent" routes each clause
  to its part) and one softmax per QPoser head of the part predicts that head's code.
* Training data: automatic descriptions of corpus poses (``captioning.describe`` internals with a seed), targets
  = the QPoser codes of the described pose; the loss only covers parts the description talks about.
* Evaluation (:func:`evaluate_prompting`): held-out poses (test clips) described with a seed; the prompted parts'
  codes are predicted from the description and written into *another* held-out pose's codes (its global and
  unprompted parts stay), the result is decoded, and the deterministic posecodes of the result are compared with
  the posecodes the description states: "% of prompted codes realised". Reported with the unchanged pose
  (lower bound) and the described pose's true part codes (upper bound).

Plain torch, no Qt. Weights: ``resources/weights/qposer_prompt.pt``.
"""
from __future__ import annotations

import math
import re
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from core_models import skeleton as sk
from core_models.nets.qposer import PARTS

TEXT_DIM = 384

# --- which parts does a text talk about ----------------------------------------------------------------

_ARM = r"(arm|arms|elbow|elbows|hand|hands|wrist|wrists|forearm|forearms|shoulder|shoulders|palm|palms|fist|fists" \
       r"|finger|fingers|upper arm|upper arms)"
_LEG = r"(leg|legs|knee|knees|foot|feet|ankle|ankles|thigh|thighs|shin|shins|calf|calves|hip|hips|toe|toes|heel|heels)"
_HEAD = r"\b(head|neck|face|chin|gaze|looks?|looking|nod|nods)\b"
_TORSO = r"\b(torso|back|spine|chest|trunk|upper body|lean|leans|leaning|bend|bends|bending|bent over|bows|bowing" \
         r"|twist|twists|twisted|hunch|hunched|arch|arched|waist|belly|stomach)\b"


def prompted_parts(text: str) -> list[str]:
    """The body parts a prompt talks about (subset of PARTS, in PARTS order)."""
    t = " " + text.lower().replace("-", " ") + " "
    found: set[str] = set()
    for limb, pat in (("arm", _ARM), ("leg", _LEG)):
        for m in re.finditer(r"\b" + pat + r"\b", t):
            before = re.findall(r"[a-z]+", t[:m.start()])[-2:]  # the two words before the noun
            side = next((w for w in reversed(before) if w in ("left", "right")), None)
            if side is not None:
                found.add(f"{side}_{limb}")
            else:
                found.update({f"left_{limb}", f"right_{limb}"})
    if re.search(_HEAD, t):
        found.add("head")
    # "bend"/"twist" about a limb ("bending the knees", "knees bent") is not the torso
    limbless = re.sub(r"\b(bend|bends|bending|bent|twist|twists|twisted)\s+(\w+\s+){0,2}?" + "(" + _ARM + "|" + _LEG
                      + r")\b", " ", t)
    limbless = re.sub(r"\b(" + _ARM + "|" + _LEG + r")\s+(\w+\s+){0,2}?(bend|bends|bending|bent|twist|twists|twisted)\b",
                      " ", limbless)
    if re.search(_TORSO, limbless):
        found.add("torso")
    return [p for p in PARTS if p in found]


def split_clauses(text: str) -> list[str]:
    """Sentences, then ", " / " while " / "; " pieces; empty pieces dropped; lowercase, no final dot."""
    out = []
    for s in re.split(r"(?<=[.!?;])\s+", text.strip()):
        for c in re.split(r",?\s+while\s+|,\s+(?:and\s+)?|;\s*", s):
            c = c.strip().strip(".!?;").strip()
            if c:
                out.append(c.lower())
    return out or [text.strip().lower() or "."]


# --- which posecodes concern which parts ---------------------------------------------------------------

def _ext_part(name: str) -> str:
    if name in sk.JOINT_INDEX:
        p = sk.part_of_joint(sk.JOINT_INDEX[name])
        return p if p is not None else "torso"  # pelvis
    if name == "torso":
        return "torso"
    side, limb = name.split("_", 1)
    return f"{side}_arm" if limb in ("hand", "upperarm", "forearm") else f"{side}_leg"


def code_parts(code_index: int) -> frozenset[str]:
    from core_models.captioning.posecodes import CODES

    return frozenset(_ext_part(j) for j in CODES[code_index].joints)


def describe_with_codes(poses, seed: int = 0) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Automatic descriptions (the ``describe`` pipeline with a seeded rng) plus, per description, the elementary
    posecodes (code index, category) it states."""
    from core_models.captioning import posecodes as pc
    from core_models.captioning.describe import aggregate, convert, select

    rng = np.random.default_rng(seed)
    pcs = pc.extract(poses, rng)
    texts, used = [], []
    for i in range(len(pcs)):
        facts = select(pcs, i, rng)
        codes = []
        for f in facts:
            if f.code >= 0:
                codes.append((int(f.code), int(f.cat if f.cat >= 0 else pcs.cats[i, f.code])))
        texts.append(convert(aggregate(facts, rng), rng))
        used.append(codes)
    return texts, used


# --- clause features --------------------------------------------------------------------------------------

class ClauseFeatures:
    """Mean-pooled frozen-MiniLM vectors per unique clause (fp16 cache, saved as a plain npz)."""

    def __init__(self, encoder=None):
        self._encoder = encoder
        self.store: dict[str, torch.Tensor] = {}

    @property
    def encoder(self):
        if self._encoder is None:
            from core_models.nets.text_encoder import get_text_encoder
            self._encoder = get_text_encoder()
        return self._encoder

    def add(self, clauses, batch: int = 128, progress=None) -> None:
        todo = sorted(set(clauses) - self.store.keys(), key=len)
        for i in range(0, len(todo), batch):
            chunk = todo[i:i + batch]
            with torch.no_grad():
                v = self.encoder.encode_pooled(chunk)
            for c, x in zip(chunk, v):
                self.store[c] = x.to(torch.float16).clone()
            if progress:
                progress(min(i + batch, len(todo)), len(todo))

    def batch(self, texts: list[str], max_clauses: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
        """→ (B, C, 384) float32, mask (B, C) bool."""
        cl = [split_clauses(t)[:max_clauses] for t in texts]
        self.add([c for cs in cl for c in cs])
        C = max(len(cs) for cs in cl)
        x = torch.zeros(len(texts), C, TEXT_DIM)
        m = torch.zeros(len(texts), C, dtype=torch.bool)
        for i, cs in enumerate(cl):
            for j, c in enumerate(cs):
                x[i, j] = self.store[c].float()
                m[i, j] = True
        return x, m

    def save(self, path: Path) -> None:
        keys = sorted(self.store)
        np.savez(path, texts=np.array(keys, dtype=str),
                 vecs=torch.stack([self.store[k] for k in keys]).numpy() if keys else np.zeros((0, TEXT_DIM),
                                                                                                np.float16))

    def load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as z:
            for t, v in zip(z["texts"].tolist(), z["vecs"]):
                self.store[str(t)] = torch.as_tensor(v)


# --- the model -------------------------------------------------------------------------------------------

class PromptToCodes(nn.Module):
    """Clause vectors → per part, per head: logits over that head's codebook."""

    def __init__(self, part_heads: dict[str, int], part_codes: dict[str, int], d: int = 256, dropout: float = 0.1):
        super().__init__()
        self.part_heads = {p: int(part_heads[p]) for p in PARTS}
        self.part_codes = {p: int(part_codes[p]) for p in PARTS}
        self.proj = nn.Sequential(nn.Linear(TEXT_DIM, d), nn.GELU(), nn.Dropout(dropout), nn.Linear(d, d))
        self.query = nn.Parameter(torch.randn(len(PARTS), d) * 0.05)
        self.heads = nn.ModuleDict({p: nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Dropout(dropout),
                                                     nn.Linear(d, self.part_heads[p] * self.part_codes[p]))
                                    for p in PARTS})
        self.d = d

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.proj(x)  # (B,C,d)
        att = torch.einsum("bcd,pd->bpc", h, self.query) / math.sqrt(self.d)
        att = att.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)
        pooled = torch.einsum("bpc,bcd->bpd", att, h)
        return {p: self.heads[p](pooled[:, i]).view(x.shape[0], self.part_heads[p], self.part_codes[p])
                for i, p in enumerate(PARTS)}


def model_spec(qp) -> tuple[dict, dict]:
    return ({p: qp.n_heads[p] for p in PARTS}, {p: qp.codebook_size(p) for p in PARTS})


class Prompter:
    """Runtime: text → {part: code indices (H_p,)} for the parts the text talks about."""

    def __init__(self, model: PromptToCodes, feats: ClauseFeatures | None = None):
        self.model = model.eval()
        self.feats = feats or ClauseFeatures()

    @torch.no_grad()
    def part_codes(self, text: str, parts: list[str] | None = None) -> dict[str, np.ndarray]:
        parts = prompted_parts(text) if parts is None else parts
        if not parts:
            return {}
        x, m = self.feats.batch([text])
        logits = self.model(x, m)
        return {p: logits[p][0].argmax(-1).numpy() for p in parts}


def load_prompter(name: str = "qposer_prompt", directory=None) -> Prompter:
    from core_models.nets.weights import WeightsError, float_state, load_weights

    blob = load_weights(name, directory)
    c = blob["config"]
    try:
        m = PromptToCodes(c["part_heads"], c["part_codes"], d=c["d"])
        m.load_state_dict(float_state(blob["state"]))
    except Exception as e:
        raise WeightsError(f"the '{name}' weights do not fit the prompt model: {e}") from e
    return Prompter(m)


# --- data, training, evaluation ------------------------------------------------------------------------

def described_parts(used: list[tuple[int, int]]) -> set[str]:
    out: set[str] = set()
    for ci, _ in used:
        out |= code_parts(ci)
    return out


def make_examples(corpus, split: str, n: int, seed: int, qp) -> dict:
    from core_models.nets.qposer_train import body_rotmats

    idx = corpus.indices(split, selected_only=True)
    if len(idx) == 0:
        idx = corpus.indices(split)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(idx, min(n, len(idx)), replace=False))
    poses = corpus.poses(idx)
    texts, used = describe_with_codes(poses, seed=seed)
    with torch.no_grad():
        codes = qp.encode(body_rotmats(poses.body_pose))
    return {"idx": idx, "texts": texts, "used": used, "codes": codes}


def _targets(qp, codes: torch.Tensor, texts: list[str]) -> tuple[dict, torch.Tensor]:
    tgt = {p: codes[:, qp.group_slice(p)] for p in PARTS}
    w = torch.zeros(len(texts), len(PARTS))
    for i, t in enumerate(texts):
        for p in prompted_parts(t):
            w[i, PARTS.index(p)] = 1.0
    return tgt, w


def train_prompt(qp, feats: ClauseFeatures, ex: dict, *, epochs: int = 30, batch: int = 64, lr: float = 1e-3,
                 d: int = 256, seed: int = 0, logf=print) -> tuple[PromptToCodes, dict]:
    torch.manual_seed(seed)
    ph, pcodes = model_spec(qp)
    model = PromptToCodes(ph, pcodes, d=d)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    texts = ex["texts"]
    tgt, w = _targets(qp, ex["codes"], texts)
    X, M = feats.batch(texts)
    n = len(texts)
    t0 = time.time()
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, batch):
            b = perm[i:i + batch]
            logits = model(X[b], M[b])
            loss = 0.0
            for k, p in enumerate(PARTS):
                ce = F.cross_entropy(logits[p].reshape(-1, pcodes[p]), tgt[p][b].reshape(-1),
                                     reduction="none").view(len(b), -1).mean(1)
                loss = loss + (ce * w[b, k]).sum() / w[b].sum().clamp_min(1.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss) * len(b)
        if ep % 5 == 0 or ep == epochs - 1:
            logf(f"[qposer-prompt] epoch {ep + 1}/{epochs} loss {tot / n:.3f} ({time.time() - t0:.0f} s)")
    model.eval()
    return model, {"epochs": epochs, "seconds": round(time.time() - t0, 1), "examples": n, "d": d}


@torch.no_grad()
def evaluate_prompting(qp, prompter: Prompter, ex: dict, seed: int = 1) -> dict:
    """% of the posecodes stated by held-out descriptions (on the prompted parts) realised by the prompted
    pose; with the unchanged base pose and the oracle (true part codes) for reference."""
    from core_models.captioning import posecodes as pc
    from core_models.nets.qposer_train import full_rotmats
    from core_models.nets.pose_vae import rotmats_to_pose

    texts, used, codes = ex["texts"], ex["used"], ex["codes"]
    n = len(texts)
    rng = np.random.default_rng(seed)
    base_i = (np.arange(n) + rng.integers(1, max(2, n))) % n  # another held-out pose gives global + other parts
    base = codes[torch.as_tensor(base_i)].clone()
    pred = base.clone()
    oracle = base.clone()
    mentioned = []
    for i, t in enumerate(texts):
        parts = prompted_parts(t)
        mentioned.append(parts)
        pcodes = prompter.part_codes(t, parts)
        for p in parts:
            pred[i, qp.group_slice(p)] = torch.as_tensor(pcodes[p])
            oracle[i, qp.group_slice(p)] = codes[i, qp.group_slice(p)]

    def cats(c):
        R = full_rotmats(qp.decode_indices(c))
        return pc.extract(rotmats_to_pose(R), None).cats

    res = {}
    cb, cp, co = cats(base), cats(pred), cats(oracle)
    tot = hit_b = hit_p = hit_o = 0
    n_parts = 0
    for i in range(n):
        m = set(mentioned[i])
        n_parts += len(m)
        for ci, cat in used[i]:
            if not code_parts(ci) <= m or not m:
                continue
            tot += 1
            hit_b += int(cb[i, ci] == cat)
            hit_p += int(cp[i, ci] == cat)
            hit_o += int(co[i, ci] == cat)
    res["descriptions"] = n
    res["prompted_codes"] = tot
    res["mean_prompted_parts"] = round(n_parts / max(n, 1), 2)
    res["realised_pct"] = round(100.0 * hit_p / max(tot, 1), 1)
    res["unchanged_pct"] = round(100.0 * hit_b / max(tot, 1), 1)
    res["oracle_pct"] = round(100.0 * hit_o / max(tot, 1), 1)
    return res


def clause_cache_path(corpus) -> Path:
    return Path(corpus.dir) / "qposer_clauses.npz"


def run_train_prompt(args, corpus, wdir) -> int:
    import sys

    from core_models.nets.qposer import load_qposer
    from core_models.nets.weights import save_weights

    tiny = args.config == "tiny"
    qp = load_qposer("qposer", wdir)
    n_train, n_test = (200, 60) if tiny else (4000, 500)
    t0 = time.time()
    ex = make_examples(corpus, "train", n_train, args.seed, qp)
    test_split = "test" if len(corpus.indices("test")) else "train"
    ex_test = make_examples(corpus, test_split, n_test, args.seed + 1000, qp)
    feats = ClauseFeatures()
    cache = clause_cache_path(corpus)
    if cache.exists():
        feats.load(cache)
    allc = [c for t in ex["texts"] + ex_test["texts"] for c in split_clauses(t)]
    print(f"[qposer-prompt] {len(ex['texts'])} train / {len(ex_test['texts'])} test descriptions, "
          f"{len(set(allc) - feats.store.keys())} clauses to encode", flush=True)
    feats.add(allc, progress=lambda i, k: print(f"[qposer-prompt] encoded {i}/{k}", flush=True)
              if i % 1024 == 0 or i == k else None)
    try:
        feats.save(cache)
    except OSError:
        pass
    model, stats = train_prompt(qp, feats, ex, epochs=5 if tiny else 40, seed=args.seed)
    metrics = evaluate_prompting(qp, Prompter(model, feats), ex_test)
    print(f"[qposer-prompt] held-out: {metrics}", flush=True)
    ph, pcodes = model_spec(qp)
    save_weights(args.out or "qposer_prompt", model.state_dict(), {"part_heads": ph, "part_codes": pcodes,
                                                                   "d": stats["d"]},
                 {"command": "python main.py " + " ".join(sys.argv[1:]),
                  "data": {"corpus": str(corpus.dir), "train_descriptions": len(ex["texts"]),
                           "test_descriptions": len(ex_test["texts"]), "split": f"train / {test_split} (by clip)"},
                  "metrics": metrics, "train_seconds": round(time.time() - t0, 1)}, directory=wdir, half=True)
    return 0
