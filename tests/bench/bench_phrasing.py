"""Human-phrasing edit latency (not collected by pytest): ``edit_sentence`` end to end (parse → rewrite →
batched editor steps → magnitude control → holds) on 1 thread, for instructions the process has not seen.

    .venv/bin/python tests/bench/bench_phrasing.py [--repeat 3]

Every timed sentence is new to the process (different words / numbers each time). Two cases per length:
"warm" keeps the editor's clause-encoding cache (the rewrites are a small set of editor-vocabulary phrases
that an app session quickly has encoded), "cold" clears it before every sentence (each rewrite goes through
MiniLM). Targets: one clause ≤ 16 ms, five clauses ≤ 40 ms. Reference measured in the same run: one
``Editor.edit`` call on a new one-clause text (the raw text through MiniLM and the editor, no composition:
what the app did before), so that ratios survive a loaded machine. Ends with JSON lines {"name", "value",
"unit"}.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

torch.set_num_threads(1)

from core_models.nets.editor import load_editor  # noqa: E402
from core_models.text.compose import edit_sentence, warm_up  # noqa: E402
from core_models.text.phrasing_eval import resolve_start  # noqa: E402

ONE = ["raise your left arm about {n} cm", "bend your right knee {n} degrees", "lift ur left knee up {n} cm pls",
       "turn your head {n} degrees to the right", "step your right foot forward about {n} cm",
       "lean forward maybe {n} degrees", "lower the right arm by {n} cm", "move your left foot out {n} cm"]
FIVE = ["raise your left arm {n} cm, bend your right knee, turn your head to the left, lean back a bit and "
        "step your left foot forward",
        "lift your right knee about {n} cm then bend the left elbow, look down, move your right hand forward "
        "and twist your torso to the left",
        "bend both knees {n} degrees, raise your right arm, keep your left arm still, turn your head right, "
        "lean forward slightly and move your left foot back"]


def sentences(templates: list[str], count: int, offset: int) -> list[str]:
    return [templates[i % len(templates)].format(n=offset + i) for i in range(count)]


def time_case(editor, pose, texts: list[str], cold: bool) -> tuple[float, float]:
    """(median, fastest) milliseconds over the sentences."""
    times = []
    for t in texts:
        if cold and hasattr(editor, "_cache"):
            editor._cache.clear()
        t0 = time.perf_counter()
        edit_sentence(editor, pose, t)
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times), min(times)


def time_reference(editor, pose, count: int, offset: int) -> float:
    """Median ms of ``Editor.edit`` (mean only) on new one-clause texts."""
    times = []
    for t in sentences(ONE, count, offset):
        t0 = time.perf_counter()
        editor.edit(pose, t, n_samples=0)
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3, help="sentences per template and case")
    args = ap.parse_args()
    editor = load_editor()
    pose = resolve_start("Mountain")
    edit_sentence(editor, pose, "raise your left arm and bend your right knee")  # load MiniLM, warm up torch
    t0 = time.perf_counter()
    n_warm = warm_up(editor)
    print(f"warm_up: {n_warm} rewrite texts encoded in {time.perf_counter() - t0:.2f} s (once per session)")
    results = {}
    offset = 10
    for name, templates in (("one_clause", ONE), ("five_clause", FIVE)):
        for cold in (False, True):
            n = args.repeat * len(templates)
            results[f"{name}_{'cold' if cold else 'warm'}"] = time_case(editor, pose, sentences(templates, n, offset),
                                                                       cold)
            offset += n
    ref = time_reference(editor, pose, args.repeat * len(ONE), offset)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other jobs inflate the numbers)")
    print(f"{'reference':<20} median {ref:7.1f} ms   (Editor.edit, one new one-clause text, no composition)")
    for k, (med, best) in results.items():
        print(f"{k:<20} median {med:7.1f} ms   fastest {best:7.1f} ms   {med / ref:5.2f}× reference")
    print(json.dumps({"name": "phrasing_reference_editor_edit_ms", "value": round(ref, 2), "unit": "ms"}))
    for k, (med, _) in results.items():
        print(json.dumps({"name": f"phrasing_edit_{k}_ms", "value": round(med, 2), "unit": "ms"}))
        print(json.dumps({"name": f"phrasing_edit_{k}_ratio", "value": round(med / ref, 3), "unit": "x"}))


if __name__ == "__main__":
    main()
