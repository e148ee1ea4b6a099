"""Choose the prompt refiner's ``partial`` weight (see ``PromptRefiner``): prompting realised on val-clip
descriptions and on hand-written prompt files, for several weights, one model, one run.

    python tools/qposer_prompt_partial.py --corpus C [--weights-dir W] [--val 300] [--weights 0,0.25,0.5,1] \
        [--prompts resources/eval/prompts/human_dev.jsonl ...]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--weights-dir", default=None)
    ap.add_argument("--val", type=int, default=300, help="val-clip descriptions drawn (seed 1000)")
    ap.add_argument("--weights", default="0,0.25,0.5,1")
    ap.add_argument("--prompts", action="append", default=None)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from core_models.data.corpus import Corpus
    from core_models.nets.qposer import eval as qe
    from core_models.nets.qposer.data import clause_cache_path, make_examples
    from core_models.nets.qposer.infer import load_prompter, load_qposer
    from core_models.nets.qposer.train import evaluate_prompting

    qp = load_qposer("qposer", args.weights_dir)
    pr = load_prompter("qposer_prompt", args.weights_dir)
    if pr.refiner is None:
        raise SystemExit("error: these prompt weights have no refiner")
    corpus = Corpus(args.corpus)
    if clause_cache_path(corpus).exists():
        pr.feats.load(clause_cache_path(corpus))
    ex = make_examples(corpus, "val", args.val, 1000, qp) if args.val > 0 else None
    files = args.prompts or ["resources/eval/prompts/human_dev.jsonl"]
    for w in (float(x) for x in args.weights.split(",")):
        pr.refiner.partial = w
        row = [f"partial {w:g}"]
        if ex is not None:
            row.append(f"val {evaluate_prompting(qp, pr, ex)['realised_pct']}")
        for f in files:
            r = qe.evaluate_human_prompts(qp, pr, qe.read_prompt_file(f))
            row.append(f"{Path(f).stem} {r['realised_pct']} (in scope {r['in_scope_realised_pct']})")
        print(" | ".join(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
