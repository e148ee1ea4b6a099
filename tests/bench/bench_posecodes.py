"""Benchmark: posecode extraction throughput (FK + virtual joints + all elementary and super posecodes).

Run: .venv/bin/python tests/bench/bench_posecodes.py [N]  — prints a final JSON line.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from core_models.captioning import posecodes as pc
from core_models.pose import Pose


def main(n: int = 20000, repeats: int = 3) -> float:
    rng = np.random.default_rng(0)
    poses = Pose(rng.normal(0, 0.4, (n, 3)).astype(np.float32), rng.normal(0, 0.4, (n, 21, 3)).astype(np.float32))
    pc.extract(poses[:100])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        pc.extract(poses)
        best = min(best, time.perf_counter() - t0)
    rate = n / best
    print(f"extract: {n} poses in {best * 1000:.1f} ms (deterministic mode), {pc.NUM_CODES} codes, "
          f"{pc.NUM_SUPERS} super-codes")
    t0 = time.perf_counter()
    pc.extract(poses, rng=np.random.default_rng(1))
    print(f"extract with noise: {(time.perf_counter() - t0) * 1000:.1f} ms")
    print(json.dumps({"name": "posecode_extraction_throughput", "value": round(rate, 1), "unit": "poses/s"}))
    return rate


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
