"""Benchmark: posecode extraction throughput (FK + virtual joints + all elementary and super posecodes), and the
length of the descriptions written from them.

Run: .venv/bin/python tests/bench/bench_posecodes.py [N] [--describe K] [--before REV]  — prints a final JSON line.

The full inventory and the previous ("v1", 98-code) inventory are timed in the same run, interleaved, so the
ratio between them holds on a loaded machine. ``--describe K`` also describes K corpus poses (selected poses,
seeded; library poses with random perturbations when no corpus is built) in the deterministic and the noisy mode
and prints word and sentence counts. ``--before REV`` times posecodes.py of a git revision (e.g. 2481a46, before
the full inventory) against the working tree, interleaved in the same run.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from core_models.captioning import posecodes as pc
from core_models.pose import Pose


def _time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _extract_fn(poses: Pose, inventory: str, rng=None):
    if "inventory" in pc.extract.__code__.co_varnames:
        return lambda: pc.extract(poses, rng=rng, inventory=inventory)
    return lambda: pc.extract(poses, rng=rng)  # before the inventory parameter existed


def _git_show(rev: str, path: str) -> str:
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, check=True, capture_output=True,
                          text=True).stdout


def _import_source(name: str, src: str):
    import importlib.util
    import sys
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def load_revision(rev: str):
    """posecodes.py and features.py as they were at git revision ``rev``, imported as separate modules (the old
    posecodes reads the old features)."""
    _import_source("features_before", _git_show(rev, "core_models/captioning/features.py"))
    src = _git_show(rev, "core_models/captioning/posecodes.py")
    src = src.replace("from core_models.captioning.features import", "from features_before import")
    return _import_source("posecodes_before", src)


def bench_before(rev: str, n: int, repeats: int) -> dict:
    """The extraction of revision ``rev`` and of the working tree, interleaved in this run."""
    old = load_revision(rev)
    rng = np.random.default_rng(0)
    poses = Pose(rng.normal(0, 0.4, (n, 3)).astype(np.float32), rng.normal(0, 0.4, (n, 21, 3)).astype(np.float32))
    old.extract(poses[:100])
    t_old = t_new = float("inf")
    for _ in range(repeats):
        t_old = min(t_old, _time(lambda: old.extract(poses), 1))
        t_new = min(t_new, _time(lambda: pc.extract(poses), 1))
    print(f"before ({rev}, {old.NUM_CODES} codes): {n / t_old:.0f} poses/s; now ({pc.NUM_CODES} codes): "
          f"{n / t_new:.0f} poses/s (now / before time: {t_new / t_old:.2f})")
    return {"rate_before": n / t_old, "rate_now": n / t_new, "before_codes": old.NUM_CODES}


def bench_extract(n: int = 20000, repeats: int = 3) -> dict:
    rng = np.random.default_rng(0)
    poses = Pose(rng.normal(0, 0.4, (n, 3)).astype(np.float32), rng.normal(0, 0.4, (n, 21, 3)).astype(np.float32))
    pc.extract(poses[:100])  # warm-up
    full, v1 = _extract_fn(poses, "full"), _extract_fn(poses, "v1")
    t_full = t_v1 = float("inf")
    for _ in range(repeats):  # interleaved: both see the same machine load
        t_full = min(t_full, _time(full, 1))
        t_v1 = min(t_v1, _time(v1, 1))
    n_codes = getattr(pc, "NUM_CODES", 0)
    n_v1 = getattr(pc, "NUM_CODES_V1", n_codes)
    print(f"extract: {n} poses in {t_full * 1000:.1f} ms (deterministic mode), {n_codes} codes, "
          f"{pc.NUM_SUPERS} super-codes -> {n / t_full:.0f} poses/s")
    print(f"extract, v1 inventory ({n_v1} codes): {t_v1 * 1000:.1f} ms -> {n / t_v1:.0f} poses/s "
          f"(full / v1 time: {t_full / t_v1:.2f})")
    t_noisy = _time(_extract_fn(poses, "full", np.random.default_rng(1)), 1)
    print(f"extract with noise: {t_noisy * 1000:.1f} ms -> {n / t_noisy:.0f} poses/s")
    res = {"rate": n / t_full, "rate_v1": n / t_v1, "rate_noisy": n / t_noisy, "codes": n_codes}
    if "inventory" in pc.measure_all.__code__.co_varnames:  # the code stage alone, on shared features
        from core_models.captioning.features import compute_features

        t_fk = _time(lambda: compute_features(poses), 1)
        f = compute_features(poses)
        stage = {inv: float("inf") for inv in ("full", "v1")}
        for _ in range(repeats):
            for inv in stage:
                stage[inv] = min(stage[inv], _time(lambda: pc.eval_supers(pc.bin_all(pc.measure_all(f, inv))), 1))
        print(f"FK + virtual joints: {t_fk * 1000:.1f} ms; codes stage (measure + bin + supers): full "
              f"{stage['full'] * 1000:.1f} ms, v1 {stage['v1'] * 1000:.1f} ms (full / v1: "
              f"{stage['full'] / stage['v1']:.2f})")
        res.update(fk_ms=t_fk * 1000, stage_full_ms=stage["full"] * 1000, stage_v1_ms=stage["v1"] * 1000)
    return res


def _describe_poses(k: int, seed: int) -> tuple[Pose, str]:
    try:
        from core_models.data.corpus import Corpus

        corpus = Corpus(None)
        sel = np.nonzero(corpus.arrays["selected"])[0]
        idx = np.sort(np.random.default_rng(seed).choice(sel, min(k, len(sel)), replace=False))
        return corpus.poses(idx), f"{len(idx)} corpus poses (selected, seed {seed})"
    except FileNotFoundError:
        from core_models.captioning.vocab import sample_pairs

        a, _ = sample_pairs(k, seed, random_share=0.0)
        return a, f"{k} perturbed library poses (no corpus built)"


def _stats(texts: list[str]) -> dict:
    words = np.array([len(t.split()) for t in texts])
    sents = np.array([max(1, t.count(". ") + 1) for t in texts])
    return {"words_mean": round(float(words.mean()), 1), "words_median": float(np.median(words)),
            "words_p90": float(np.percentile(words, 90)), "words_max": int(words.max()),
            "sentences_mean": round(float(sents.mean()), 2)}


def bench_describe(k: int, seed: int = 0) -> dict:
    from core_models.captioning.describe import describe

    poses, what = _describe_poses(k, seed)
    out = {}
    for mode in ("deterministic", "noisy"):
        t0 = time.perf_counter()
        texts = describe(poses, deterministic=True) if mode == "deterministic" else describe(poses, seed=seed)
        dt = time.perf_counter() - t0
        st = _stats(list(texts))
        st["poses_per_s"] = round(len(texts) / dt, 1)
        out[mode] = st
        print(f"describe ({mode}) on {what}: {st}")
        print(f"  e.g. {texts[0]}")
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=20000)
    ap.add_argument("--describe", type=int, default=0, help="also describe this many corpus poses")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--before", default=None, metavar="REV",
                    help="also time posecodes.py of this git revision, interleaved with the working tree's")
    args = ap.parse_args(argv)
    res = bench_extract(args.n, args.repeats)
    if args.before:
        res.update(bench_before(args.before, args.n, args.repeats))
    if args.describe > 0:
        res["describe"] = bench_describe(args.describe)
    print(json.dumps({"name": "posecode_extraction_throughput", "value": round(res["rate"], 1), "unit": "poses/s",
                      "v1_value": round(res["rate_v1"], 1), "codes": res["codes"]}))
    return res


if __name__ == "__main__":
    main()
