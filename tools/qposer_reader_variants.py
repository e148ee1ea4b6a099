"""Posecode-reader variants for QPoser prompting, measured on val-clip descriptions and a hand-written prompt file
with the shipped prompt model, banks and refiner (docs/notes/qposer_prompt.md, "Candidates the reader asks for").

    python tools/qposer_reader_variants.py --corpus C [--variants base,short,short+null,short+instr+null,
        short+instr+implied+null] [--poses 12000] [--extra 0] [--prompts resources/eval/prompts/human_dev.jsonl]

``base``: descriptions only (the shipped recipe); ``short``: + two prompt-sized texts per pose (1-2 and 1-3 of its
facts); ``instr``: 60 % of those said as typed instructions; ``null``: the reader's null attention slot;
``implied``: every text's labels widened by the posecodes its stated ones entail on the training poses
(P >= 0.97, support >= 50, marginal <= 0.8, and true of the pose). One line per variant: val % | prompts %.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def entailments(cats: np.ndarray, p: float = 0.97, support: int = 50, marginal: float = 0.8) -> dict:
    """{(code, category): [(code, category) it entails]} from deterministic categories ``cats`` (N, C)."""
    n, c = cats.shape
    k = int(cats.max()) + 1
    oh = np.zeros((n, c, k), np.float32)
    oh[np.arange(n)[:, None], np.arange(c)[None], cats] = 1.0
    flat = oh.reshape(n, c * k)
    co = flat.T @ flat
    sup = np.diag(co)
    out = {}
    for a in np.nonzero(sup >= support)[0]:
        js = [b for b in np.nonzero((co[a] / sup[a] >= p) & (sup / n <= marginal))[0] if b // k != a // k]
        if js:
            out[(int(a // k), int(a % k))] = [(int(b // k), int(b % k)) for b in js]
    return out


def widen(used: list, rows: np.ndarray, cats: np.ndarray, imp: dict) -> list:
    out = []
    for u, r in zip(used, rows):
        s = set(u)
        for ci, cat in u:
            s.update((cj, cb) for cj, cb in imp.get((ci, cat), ()) if cats[r, cj] == cb)
        out.append(sorted(s))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--variants", default="base,short,short+null,short+instr+null")
    ap.add_argument("--poses", type=int, default=12000)
    ap.add_argument("--extra", type=int, default=None, help="refiner extra candidates (default: as shipped)")
    ap.add_argument("--prompts", default="resources/eval/prompts/human_dev.jsonl")
    ap.add_argument("--val", type=int, default=300)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from core_models.captioning import posecodes as pc
    from core_models.data.corpus import Corpus
    from core_models.nets.qposer import eval as qe
    from core_models.nets.qposer.data import clause_cache_path, describe_with_codes, make_examples
    from core_models.nets.qposer.infer import load_prompter, load_qposer
    from core_models.nets.qposer.train import READER_PROMPTS, evaluate_prompting, train_reader

    qp, pr = load_qposer("qposer"), load_prompter("qposer_prompt")
    if pr.refiner is None:
        raise SystemExit("error: the prompt weights have no refiner")
    if args.extra is not None:
        pr.refiner.extra = args.extra
    corpus = Corpus(args.corpus)
    if clause_cache_path(corpus).exists():
        pr.feats.load(clause_cache_path(corpus))
    ex = make_examples(corpus, "train", args.poses, 0, qp)  # the shipped recipe: seed 0, two descriptions per pose
    rows = np.arange(len(ex["idx"]) // 2)
    poses = corpus.poses(ex["idx"][:len(rows)])
    cats = pc.extract(poses, None).cats[:, :pr.refiner.reader.n_codes].astype(np.int64)
    exv = make_examples(corpus, "val", args.val, 1000, qp)
    recs = qe.read_prompt_file(args.prompts)
    n_codes, n_cats = pr.refiner.reader.n_codes, pr.refiner.reader.n_cats
    for var in args.variants.split(","):
        texts, used = list(ex["texts"]), list(ex["used"])
        lab_rows = list(np.tile(rows, 2))
        if "short" in var:
            for max_facts, off in READER_PROMPTS:
                t, u = describe_with_codes(poses, seed=off, max_facts=max_facts,
                                           instruct_p=0.6 if "instr" in var else 0.0)
                texts, used, lab_rows = texts + t, used + u, lab_rows + list(rows)
        if "implied" in var:
            used = widen(used, np.asarray(lab_rows), cats, entailments(cats))
        r = train_reader(pr.feats, {"texts": texts, "used": used}, n_codes, epochs=30, seed=0,
                         null_slot="null" in var, logf=lambda m: None)
        assert r.n_cats == n_cats
        pr.refiner.reader = r
        v = evaluate_prompting(qp, pr, exv)["realised_pct"]
        h = qe.evaluate_human_prompts(qp, pr, recs)
        print(f"{var} (extra {pr.refiner.extra}): val {v} | {Path(args.prompts).stem} {h['realised_pct']} "
              f"(in scope {h['in_scope_realised_pct']})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
