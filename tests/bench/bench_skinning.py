"""Benchmark: CPU pose → skinned vertices with AnnyBody.forward (one pose), median ms.

    .venv/bin/python tests/bench/bench_skinning.py [--runs 200]

Also prints (info) the viewport's per-pose CPU work: numpy FK → 22 skin matrices (the GPU does the rest).
Last line: {"name": "skinning_cpu_forward_ms", "value": ..., "unit": "ms"}
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()
    from core_models.body import load_body
    from core_models.pose import Pose
    from core_models.render.scene import pose_state

    body = load_body("anny")
    rng = np.random.default_rng(0)
    poses = [Pose.from_full(rng.normal(0, 0.3, (22, 3)).astype(np.float32)) for _ in range(a.runs)]
    for p in poses[:10]:  # warm-up
        body.forward(p)
        pose_state(body.skinning, p)
    t_fwd, t_fk = [], []
    for p in poses:
        t0 = time.perf_counter()
        body.forward(p)
        t1 = time.perf_counter()
        pose_state(body.skinning, p)
        t2 = time.perf_counter()
        t_fwd.append((t1 - t0) * 1000)
        t_fk.append((t2 - t1) * 1000)
    V = body.skinning.rest_vertices.shape[0]
    print(f"vertices {V}, runs {a.runs}")
    print(f"AnnyBody.forward (FK + CPU LBS, top-4 weights): median {statistics.median(t_fwd):.2f} ms, "
          f"p90 {np.percentile(t_fwd, 90):.2f} ms")
    print(f"viewport per-pose CPU work (FK → skin matrices, GPU skinning): median {statistics.median(t_fk):.3f} ms")
    print(json.dumps({"name": "skinning_cpu_forward_ms", "value": round(statistics.median(t_fwd), 3), "unit": "ms"}))


if __name__ == "__main__":
    main()
