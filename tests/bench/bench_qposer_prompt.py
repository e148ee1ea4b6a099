"""Benchmark: one Latent-panel prompt (``LatentEditor.prompt``: clause encoding, prompt model, posecode reader,
refiner decoding its candidates) over the hand-written dev prompts on their start poses, one thread; the
refiner's ``extra`` candidates, ``keep`` weight and ``phrases`` (everyday-phrase states) off and as configured, in
the same run (ratio). Rule for the
shipped settings: the worst prompt ≤ 150 ms after warm-up. Ends with a JSON line.

    .venv/bin/python tests/bench/bench_qposer_prompt.py [--extra 64] [--keep 0.5] [--phrases 1] [--repeat 3]
        [--weights-dir W]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _times(ed, recs, lib, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for r in recs:
            codes = ed.encode(lib[r["start"]])
            t0 = time.perf_counter()
            ed.prompt(codes, r["text"])
            out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", type=int, default=None, help="refiner extra candidates (default: as shipped)")
    ap.add_argument("--keep", type=float, default=None, help="refiner keep weight (default: as shipped)")
    ap.add_argument("--phrases", type=float, default=None, help="phrase-state weight (default: as shipped)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--weights-dir", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from core_models.library import load_builtin
    from core_models.nets.qposer import LatentEditor
    from core_models.nets.qposer.eval import read_prompt_file

    ed = LatentEditor.load(Path(args.weights_dir) if args.weights_dir else None, with_gen=False)
    ref = ed.prompter.refiner
    lib = {it.name: it.pose for it in load_builtin()}
    recs = read_prompt_file(ROOT / "resources/eval/prompts/human_dev.jsonl")
    extra = ref.extra if args.extra is None else args.extra
    keep = ref.keep if args.keep is None else args.keep
    phrases = ref.phrases if args.phrases is None else args.phrases
    _times(ed, recs, lib, 1)  # warm-up: clause vectors cached, first-call costs paid
    res = {}
    for label, (e, k, ph) in (("off", (0, 0.0, 0.0)), ("configured", (extra, keep, phrases))):
        ref.extra, ref.keep, ref.phrases = e, k, ph
        t = _times(ed, recs, lib, args.repeat)
        res[label] = {"extra": e, "keep": k, "phrases": ph, "median_ms": float(np.median(t)),
                      "p90_ms": float(np.percentile(t, 90)), "max_ms": max(t)}
        print(f"extra {e:3d}, keep {k:g}, phrases {ph:g}: median {res[label]['median_ms']:.1f} ms, "
              f"p90 {res[label]['p90_ms']:.1f}, max {res[label]['max_ms']:.1f} ({len(t)} prompts)")
    a, b = res["off"], res["configured"]
    print(json.dumps({"name": "qposer_prompt_latency", "runs": res,
                      "median_ratio": round(b["median_ms"] / a["median_ms"], 3), "value": b["max_ms"], "unit": "ms"}))

if __name__ == "__main__":
    main()
