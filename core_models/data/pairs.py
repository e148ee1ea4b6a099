"""Pose pairs A→B for the editing / correction models (PoseFix §3.1 selection, on our corpus).

* in-sequence (IS): A and B from the same clip, A before B, at most 0.5 s apart, ≥ 15 differing posecodes;
* out-of-sequence (OOS): for each B (in farthest-point order), A among B's 100 nearest poses by cosine
  similarity of posecode features, from another clip, with ≥ 20 differing posecodes; when A was not
  used yet, B→A is added too ("two-way").
Pairs never cross splits, and a pose is never paired with its own mirror image.
Posecodes are extracted in deterministic mode (no random offsets) for selection.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

IS, OOS = 0, 1


@dataclass
class PairSet:
    a: np.ndarray  # (P,) corpus indices
    b: np.ndarray
    kind: np.ndarray  # (P,) int8: 0 IS, 1 OOS
    two_way: np.ndarray  # (P,) bool
    split: np.ndarray  # (P,) int8
    n_diff: np.ndarray  # (P,) int16 number of differing posecodes

    def __len__(self):
        return len(self.a)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **self.__dict__)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "PairSet":
        with np.load(path, allow_pickle=False) as z:
            return cls(**{k: z[k] for k in ("a", "b", "kind", "two_way", "split", "n_diff")})


def _categories(corpus, idx: np.ndarray, rest_joints=None) -> tuple[np.ndarray, np.ndarray]:
    """(categories (n, C) int, semantic features (n, D) float) in deterministic mode, on the first (98-code)
    posecode inventory: the ≥ 15 / ≥ 20 differing-code thresholds and the nearest-neighbour features were set on
    it (the full inventory counts ~3× as many differences for the same two poses)."""
    from core_models.captioning.posecodes import extract, posecode_features

    cats, feats = [], []
    for s in range(0, len(idx), 8192):
        codes = extract(corpus.poses(idx[s:s + 8192]), rng=None, rest_joints=rest_joints, inventory="v1")
        cats.append(np.asarray(codes.cats))
        feats.append(np.asarray(posecode_features(codes, inventory="v1"), np.float32))
    return np.concatenate(cats), np.concatenate(feats)


def _append_pair(lists: tuple[list, ...], *values) -> None:
    """Append one pair's fields (a, b, kind, two-way, n differences) to their column lists."""
    for col, v in zip(lists, values):
        col.append(v)


def build_pairs(corpus, rest_joints=None, min_diff_is: int = 15, min_diff_oos: int = 20, max_dt: float = 0.5,
                top_k: int = 100, is_per_b: int = 1, log: Callable[[str], None] = print) -> PairSet:
    """``is_per_b``: in-sequence pairs kept per pose B (the earlier poses A with the most differing posecodes);
    every valid (A, B) would give ~9 pairs per pose, mostly near-duplicates of each other."""
    import torch

    a_ = corpus.arrays
    S = np.nonzero(a_["selected"])[0]
    S = S[np.argsort(a_["fps_order"][S])]  # farthest-point order
    t0 = time.time()
    cats, feats = _categories(corpus, S, rest_joints)
    log(f"[pairs] posecodes for {len(S)} poses in {time.time() - t0:.0f} s")
    pos = {int(i): k for k, i in enumerate(S)}
    clip, tim, split, mirror_of = a_["clip"], a_["time"], a_["split"], a_["mirror_of"]
    base = np.where(mirror_of >= 0, mirror_of, np.arange(len(clip)))
    mirrored = a_["mirrored"]

    A: list[int] = []
    B: list[int] = []
    K: list[int] = []
    TW: list[bool] = []
    N: list[int] = []
    # --- in-sequence pairs ------------------------------------------------------------------------------
    order = np.lexsort((tim[S], mirrored[S], clip[S]))
    Ss = S[order]
    for i in range(len(Ss)):
        b = Ss[i]
        j = i - 1
        cand = []
        while j >= 0 and clip[Ss[j]] == clip[b] and mirrored[Ss[j]] == mirrored[b] and tim[b] - tim[Ss[j]] <= max_dt:
            a = Ss[j]
            if tim[a] < tim[b]:
                nd = int((cats[pos[int(a)]] != cats[pos[int(b)]]).sum())
                if nd >= min_diff_is:
                    cand.append((nd, a))
            j -= 1
        for nd, a in sorted(cand, key=lambda t: -t[0])[:is_per_b]:
            _append_pair((A, B, K, TW, N), a, b, IS, False, nd)
    n_is = len(A)
    log(f"[pairs] {n_is} in-sequence pairs")
    # --- out-of-sequence pairs ----------------------------------------------------------------------------
    F = torch.nn.functional.normalize(torch.as_tensor(feats), dim=1)
    used_a = np.zeros(len(S), bool)
    in_pair = np.zeros(len(S), bool)
    ts = torch.as_tensor(split[S])
    tc = torch.as_tensor(clip[S])
    for s0 in range(0, len(S), 1024):
        sim = F[s0:s0 + 1024] @ F.T  # (c, |S|)
        rows = torch.arange(s0, min(s0 + 1024, len(S)))
        bad = (ts[None, :] != ts[rows][:, None]) | (tc[None, :] == tc[rows][:, None])
        sim[bad] = -2.0
        top = torch.topk(sim, min(top_k, sim.shape[1]), dim=1).indices.numpy()
        for r, kb in enumerate(rows.numpy()):
            if in_pair[kb] and used_a[kb]:
                continue
            b = S[kb]
            for ka in top[r]:
                a = S[ka]
                if ka == kb or base[a] == base[b] or split[a] != split[b] or clip[a] == clip[b]:
                    continue
                nd = int((cats[ka] != cats[kb]).sum())
                if nd < min_diff_oos:
                    continue
                two = not used_a[ka] and not in_pair[ka]
                _append_pair((A, B, K, TW, N), a, b, OOS, two, nd)
                if two:
                    _append_pair((A, B, K, TW, N), b, a, OOS, True, nd)
                    used_a[kb] = True
                used_a[ka] = True
                in_pair[ka] = in_pair[kb] = True
                break
        if s0 % 8192 == 0:
            log(f"[pairs] OOS {s0}/{len(S)}: {len(A) - n_is} pairs")
    ps = PairSet(np.array(A, np.int64), np.array(B, np.int64), np.array(K, np.int8), np.array(TW, bool),
                 split[np.array(B, np.int64)].astype(np.int8), np.array(N, np.int16))
    log(f"[pairs] {len(ps)} pairs ({n_is} IS, {len(ps) - n_is} OOS) in {time.time() - t0:.0f} s")
    return ps


def pair_poses(corpus, pairs: PairSet, sl=slice(None)):
    """(A, B) poses of a slice of pairs: A heading-normalised; B normalised with **A's** heading for
    in-sequence pairs (so the change of global orientation is kept, as PoseFix does), by its own for OOS."""
    from core_models.pose import (
        apply_heading,
    )

    a, b = pairs.a[sl], pairs.b[sl]
    pa, pb = corpus.poses(a), corpus.poses(b)
    h = corpus.arrays["heading"]
    dh = np.where(pairs.kind[sl] == IS, h[b] - h[a], 0.0).astype(np.float32)
    return pa, apply_heading(pb, dh)


def caption_pairs(corpus, pairs: PairSet, n_texts: int = 3, seed: int = 0, rest_joints=None,
                  log: Callable[[str], None] = print) -> list[list[str]]:
    """``n_texts`` automatic modifiers per pair (different random draws of the comparative pipeline)."""
    from core_models.captioning.compare import modifier

    out: list[list[str]] = []
    t0 = time.time()
    for s in range(0, len(pairs), 4096):
        sl = slice(s, s + 4096)
        pa, pb = pair_poses(corpus, pairs, sl)
        per = [modifier(pa, pb, seed=seed + 7919 * k + s, rest_joints=rest_joints) for k in range(n_texts)]
        out.extend([list(t) for t in zip(*per)])
        log(f"[pairs] captions {min(s + 4096, len(pairs))}/{len(pairs)} ({time.time() - t0:.0f} s)")
    return out


def save_captions(path: Path, texts: list[list[str]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(texts))
    os.replace(tmp, path)
