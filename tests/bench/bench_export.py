"""Export speed (a benchmark, not a test). Prints one JSON line per case and a final summary line.

    .venv/bin/python tests/bench/bench_export.py [--repeat 7]

Targets: FBX of one pose ≤ 150 ms, 60 frames ≤ 400 ms (Anny body, 13.7k vertices, writing to disk).
The body model is loaded once before timing (it is resident in the app)."""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core_models.body import load_body  # noqa: E402
from core_models.export import export_poses  # noqa: E402
from core_models.pose import Pose  # noqa: E402

TARGETS_MS = {("fbx", 1): 150.0, ("fbx", 60): 400.0}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    body = load_body("anny")
    rng = np.random.default_rng(0)
    seq = Pose(rng.normal(0, 0.3, (60, 3)), rng.normal(0, 0.3, (60, 21, 3)), rng.normal(0, 0.1, (60, 3)))
    results = []
    with tempfile.TemporaryDirectory() as d:
        # warm-up: imports (scipy, zlib) and caches
        for fmt in ("fbx", "glb", "bvh", "npz"):
            export_poses(Path(d) / f"warm.{fmt}", seq[0], body)
        for fmt in ("fbx", "glb", "bvh", "npz"):
            for n in (1, 60):
                poses = seq[0] if n == 1 else seq[:n]
                out = Path(d) / f"bench.{fmt}"
                ts = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    export_poses(out, poses, body, fps=30)
                    ts.append((time.perf_counter() - t) * 1000.0)
                r = {"format": fmt, "frames": n, "median_ms": round(statistics.median(ts), 1),
                     "min_ms": round(min(ts), 1), "bytes": out.stat().st_size}
                tgt = TARGETS_MS.get((fmt, n))
                if tgt is not None:
                    r["target_ms"] = tgt
                    r["ok"] = r["median_ms"] <= tgt
                results.append(r)
                print(json.dumps(r), flush=True)
    ok = all(r.get("ok", True) for r in results)
    fbx_1 = next(r["median_ms"] for r in results if r["format"] == "fbx" and r["frames"] == 1)
    summary = {"bench": "export", "fbx_1_ms": fbx_1,
               "fbx_60_ms": next(r["median_ms"] for r in results if r["format"] == "fbx" and r["frames"] == 60),
               "targets_met": ok}
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
