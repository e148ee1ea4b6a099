"""Editor training data: the differentiable body (joints + a vertex subset), part-wise pairs, the clause
store (unique clauses, their frozen MiniLM token states, clause ids per wording). Shared by ``.train`` and ``.eval``."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from core_models.nets.common.pose_vae import rotmats_to_pose
from core_models.nets.common.text_encoder import TextFeatureCache, normalize_text
from core_models.nets.editor.model import (
    KEYWORDS,
    MAX_CLAUSE_TOKENS,
    TEXT_DIM_IN,
    ClauseBatch,
    keyword_flags,
)
from core_models.nets.training.common import log
from core_models.nets.training.pairs import (
    PairData,
)
from core_models.text.clauses import split_clauses

CLAUSE_CACHE = "editor_clauses.npz"


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
        self._copies: dict[torch.device, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {
            self.rest_j.device: (self.rest_j, self.W, self.rest_v)}

    def __call__(self, R: torch.Tensor):
        from core_models.kinematics import fk_torch, lbs_dense_torch
        rest_j, W, rest_v = self._on(R.device)
        _, J, skin = fk_torch(R, rest_j, self.parents)
        return J, lbs_dense_torch(skin, W, rest_v)

    def _on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The skeleton and skin on the rotations' device (a GPU run), copied once from the CPU originals."""
        if device not in self._copies:
            self._copies[device] = (self.rest_j.to(device), self.W.to(device), self.rest_v.to(device))
        return self._copies[device]


def mirror_rotmats(R: torch.Tensor) -> torch.Tensor:
    """L/R mirror of (B,22,3,3) rotations, consistent with ``pose.mirror``: swap sides, M·R·M, M = diag(-1,1,1)."""
    from core_models import skeleton as sk
    M = torch.tensor([-1.0, 1.0, 1.0], device=R.device)
    Rm = R[:, torch.as_tensor(sk.MIRROR, device=R.device)]
    return Rm * M[:, None] * M[None, :]


#: body-part groups of the part-wise pairs (``make_part_pairs``) and how often each is drawn
PART_GROUPS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head", "root")


PART_WEIGHTS = np.array([3, 3, 3, 3, 1, 1, 1], np.float64)


def make_part_pairs(data: PairData, n: int, seed: int = 0, n_texts: int = 2, rest_joints=None,
                    log=log) -> PairData:
    """Part-wise pairs: A → B' where B' is A with only one or two body parts (a random group such as "left
    arm", or two of them) taken from B, captioned afresh by the comparative captioner.

    The corpus modifiers name 5–8 changes at once and typical pairs move both sides, so a model trained on them
    alone learns "raise your left arm" ≈ "raise your arms"; these pairs teach that a short instruction moves
    only what it names, on the side it names. Pairs whose caption finds nothing to say are dropped."""
    from core_models import skeleton as sk
    from core_models.captioning.compare import NO_CHANGE_TEXT, modifier

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


def load_part_pairs(cdir: Path, data: PairData, n: int, seed: int, rest_joints=None, log=log) -> PairData:
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


def coach_texts(data: PairData, seed: int = 0, rest_joints=None, log=log) -> list[str]:
    """One coach-style wording per pair: the deterministic correction text ``compare.correct(A, B)`` with 1–3
    instructions (a seeded draw per pair), "" where it finds nothing to say. The app sends exactly this kind of
    text to the editor (the Correction panel applies generated corrections; ``eval editor`` measures compliance
    on it), while the corpus modifiers are the looser PoseFix-style wording."""
    from core_models.captioning.compare import correct

    rng = np.random.default_rng(seed + 104729)
    k_max = rng.integers(1, 4, len(data))
    a, b = rotmats_to_pose(data.A), rotmats_to_pose(data.B)
    out, t0 = [], time.time()
    for i in range(len(data)):
        r = correct(a[i], b[i], max_instructions=int(k_max[i]), rest_joints=rest_joints)
        out.append(r.text if r.instructions else "")
        if (i + 1) % 10000 == 0:
            log(f"[editor] coach texts {i + 1}/{len(data)} ({time.time() - t0:.0f} s)")
    return out


def add_coach_texts(cdir: Path, data: PairData, seed: int = 0, rest_joints=None, log=log) -> int:
    """Append :func:`coach_texts` to each pair's wordings (cached next to the corpus, keyed by the set size and
    seed). Returns how many pairs got one."""
    path = cdir / f"editor_coach_{len(data)}_{seed}.json"
    texts = None
    if path.exists():
        try:
            texts = json.loads(path.read_text())
            if len(texts) != len(data):
                texts = None
        except (OSError, ValueError) as e:
            log(f"[editor] ignoring unreadable coach-text cache {path}: {e}")
    if texts is None:
        texts = coach_texts(data, seed, rest_joints, log)
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(texts))
            os.replace(tmp, path)
        except OSError as e:
            log(f"[editor] could not save the coach-text cache: {e}")
    n = 0
    for ts, t in zip(data.texts, texts):
        if t:
            ts.append(t)
            n += 1
    return n


def budget_wordings(texts: list[list[str]], budget: int | None, seed: int = 0,
                    fill: bool = False) -> tuple[list[list[str]], dict]:
    """Keep the wordings whose clauses fit a budget of unique clauses (every unique clause costs one frozen
    MiniLM encoding: ~6 ms and 24 KB each on the CPU). The widened grammar gives ~15 unique clauses per pair, a
    million for the corpus; the budget keeps the most frequent clauses (the templates' shared wording, coach
    text) and a random share of the rare ones, then drops every wording with a clause outside the kept set. A
    pair left with no wording keeps its cheapest one (fewest clauses outside the set). Returns the texts and
    counts.

    A wording needs *all* its clauses kept, and rare clauses rarely complete one: a larger budget spent this
    way keeps almost no more wordings (corpus: 40,000 → 152,631 wordings, 120,000 → 154,389, both using
    ~42,000 clauses). ``fill=True`` spends the budget on whole wordings instead (:func:`_fill_budget`)."""
    if budget is None:
        return texts, {"clauses": None, "wordings_kept": sum(map(len, texts)), "wordings_dropped": 0}
    ids = [[split_clauses(t) for t in ts] for ts in texts]
    freq: dict[str, int] = {}
    for per in ids:
        for cl in per:
            for c in set(cl):
                freq[c] = freq.get(c, 0) + 1
    rng = np.random.default_rng(seed)
    if fill:
        kept = _fill_budget(ids, freq, budget, rng)
    else:
        clauses = list(freq)
        tie = rng.random(len(clauses))
        order = sorted(range(len(clauses)), key=lambda k: (-freq[clauses[k]], tie[k]))
        kept = {clauses[k] for k in order[:budget]}
    out, dropped = [], 0
    for ts, per in zip(texts, ids):
        ok = [t for t, cl in zip(ts, per) if all(c in kept for c in cl)]
        if not ok and ts:
            k = min(range(len(ts)), key=lambda j: sum(c not in kept for c in per[j]))
            ok = [ts[k]]
        dropped += len(ts) - len(ok)
        out.append(ok)
    return out, {"clauses": len(kept), "wordings_kept": sum(map(len, out)), "wordings_dropped": dropped}


def _fill_budget(ids: list[list[list[str]]], freq: dict[str, int], budget: int,
                 rng: np.random.Generator) -> set[str]:
    """Clauses of whole wordings, cheapest first, while their union fits ``budget``. A wording's cost is the sum
    of 1/frequency of its clauses (shared template wording ~0, one rare clause ~1); first the cheapest wording of
    every pair (coverage), then all the others; a wording whose new clauses do not fit is skipped."""
    cost = [[sum(1.0 / freq[c] for c in set(cl)) for cl in per] for per in ids]
    first = [(min(range(len(per)), key=lambda j: cost[i][j]), i) for i, per in enumerate(ids) if per]
    first_set = {(i, j) for j, i in first}
    rest = [(j, i) for i, per in enumerate(ids) for j in range(len(per)) if (i, j) not in first_set]
    kept: set[str] = set()
    for group in (first, rest):
        tie = rng.random(len(group))
        for k in sorted(range(len(group)), key=lambda k: (cost[group[k][1]][group[k][0]], tie[k])):
            j, i = group[k]
            new = set(ids[i][j]) - kept
            if len(kept) + len(new) <= budget:
                kept |= new
    return kept


class ClauseStore:
    """All unique clauses of a text set, their frozen token states (fp16, padded to MAX_CLAUSE_TOKENS) and,
    per pair, the clause-id lists of every wording and of its L/R-flipped version."""

    def __init__(self, data: PairData, cache_path: Path | None = None, flip: bool = True, log=log):
        from core_models.captioning.textutil import flip_text

        self.index: dict[str, int] = {}
        self.ids = [[self._clause_ids(t) for t in ts] for ts in data.texts]
        self.flip_ids = [[self._clause_ids(flip_text(t)) for t in ts] for ts in data.texts] if flip else self.ids
        clauses = list(self.index)
        cache = TextFeatureCache()
        if cache_path is not None and cache_path.exists():
            try:
                cache.load(cache_path)
            except Exception as e:  # a broken cache is rebuilt
                log(f"[editor] ignoring unreadable clause cache {cache_path}: {e}")
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
        self.kw = torch.zeros(max(len(clauses), 1), len(KEYWORDS))
        for c, i in self.index.items():
            self.kw[i] = torch.tensor(keyword_flags(c))
        self.vocabulary = sorted({w for c in clauses for w in c.replace("-", " ").split() if w.isalpha()})

    def _clause_ids(self, text: str) -> list[int]:
        """Ids of the text's clauses (the editor's "instruction" splitting), new clauses added to the index."""
        return [self.index.setdefault(c, len(self.index)) for c in split_clauses(text)]

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


def _corpus_dir(arg) -> Path:
    from core_models.data.corpus import default_corpus_dir
    return Path(arg) if arg else default_corpus_dir()
