"""QPoser training data: corpus poses as body rotation matrices, and seeded automatic descriptions with the
posecodes they state (the prompt model's examples)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core_models import skeleton as sk
from core_models.nets.qposer.model import (
    body_rotmats,
)


def corpus_rotmats(corpus, split: str, with_mirrors: bool = True, max_n: int | None = None,
                   seed: int = 0) -> torch.Tensor:
    idx = corpus.indices(split, with_mirrors=with_mirrors)
    if max_n is not None and len(idx) > max_n:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_n, replace=False))
    return body_rotmats(corpus.arrays["body_pose"][idx])


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


def describe_with_codes(poses, seed: int = 0, max_facts: int | None = None,
                        instruct_p: float = 0.0) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Automatic descriptions (the ``describe`` pipeline with a seeded rng) plus, per description, the elementary
    posecodes (code index, category) it states. ``max_facts``: prompt-sized texts instead — a random 1 to
    ``max_facts`` of the selected facts per pose (what people type: "left arm up, right knee bent");
    ``instruct_p``: the share of texts said as typed instructions (:func:`~core_models.captioning.instruct.instruct`:
    "raise your left arm above your head")."""
    from core_models.captioning import posecodes as pc
    from core_models.captioning.describe import aggregate, convert, select
    from core_models.captioning.instruct import instruct

    rng = np.random.default_rng(seed)
    pcs = pc.extract(poses, rng)
    texts, used = [], []
    for i in range(len(pcs)):
        facts = select(pcs, i, rng)
        if max_facts is not None and len(facts) > 1:
            k = int(rng.integers(1, min(max_facts, len(facts)) + 1))
            facts = [facts[j] for j in sorted(rng.choice(len(facts), k, replace=False))]
        codes = []
        for f in facts:
            if f.code >= 0:
                codes.append((int(f.code), int(f.cat if f.cat >= 0 else pcs.cats[i, f.code])))
        agg = aggregate(facts, rng)
        texts.append(instruct(agg, rng) if instruct_p and rng.random() < instruct_p else
                     convert(agg, rng, pcs.values[i]))
        used.append(codes)
    return texts, used


def described_parts(used: list[tuple[int, int]]) -> set[str]:
    out: set[str] = set()
    for ci, _ in used:
        out |= code_parts(ci)
    return out


def make_examples(corpus, split: str, n: int, seed: int, qp, texts_per_pose: int | None = None) -> dict:
    """``n`` poses of ``split`` with their QPoser codes and automatic descriptions; training poses get two
    descriptions each (two seeds of the noisy describer: more phrasings of the same pose), others one."""
    idx = corpus.indices(split, selected_only=True)
    if len(idx) == 0:
        idx = corpus.indices(split)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(idx, min(n, len(idx)), replace=False))
    poses = corpus.poses(idx)
    k = texts_per_pose if texts_per_pose is not None else (2 if split == "train" else 1)
    texts, used = describe_with_codes(poses, seed=seed)
    for j in range(1, k):
        t, u = describe_with_codes(poses, seed=seed + 7919 * j)
        texts, used = texts + t, used + u
    with torch.no_grad():
        codes = qp.encode(body_rotmats(poses.body_pose).to(qp.codebook(qp.groups[0]).device)).cpu()
    return {"idx": np.tile(idx, k), "texts": texts, "used": used, "codes": codes.repeat(k, 1)}


def clause_cache_path(corpus) -> Path:
    return Path(corpus.dir) / "qposer_clauses.npz"
