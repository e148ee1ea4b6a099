"""Benchmark: one drag-pose update in the viewport (core_models.posing.DragSolver + the reach / pin measurement +
the FK / skinning state of the new pose), on the Anny body with joint limits on, through the viewport's own
drag code (no GL needed: runs on the offscreen Qt platform). Pin OMP_NUM_THREADS=1 for the 1-thread number.

    QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 .venv/bin/python tests/bench/bench_drag_pose.py [--moves 60]
                                                                               [--solver network|optimisation]

Each scenario starts from a library pose, pins what it names and moves the handle's cursor along a straight line
in ``--moves`` steps, solving every step (as when the event loop is free between mouse moves). Prints per
scenario the median / p90 / max time of one update and the largest / final reach error; the last line is one JSON
object {"name": "drag_pose", "results": [...]}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SCENARIOS = (  # (library pose, dragged handle, pins, cursor motion in pixels at 960x720)
    ("mountain", "right_wrist", ("left_ankle", "right_ankle"), (-40, -120)),
    ("chair", "left_wrist", ("left_ankle", "right_ankle"), (30, -60)),
    ("a_pose", "left_wrist", ("left_ankle", "right_ankle"), (60, -60)),
    ("mountain", "right_ankle", ("left_ankle",), (-20, -40)),
    ("mountain", "pelvis", ("left_ankle", "right_ankle"), (0, 40)),
)


def run_scenario(v, pose, handle: str, pins, by, moves: int) -> dict:
    from PySide6.QtCore import QPointF

    v.set_pose(pose)
    v.set_view("three_quarter")
    v.clear_pins()
    for p in pins:
        v.set_pinned(p, True)
    p0 = v.handle_screen_pos(handle)
    v._start_pose_drag(handle, p0, limb=False)
    v._mode = "pose"
    ts, errs = [], []
    for k in range(1, moves + 1):
        v._pending_cursor = QPointF(p0.x() + by[0] * k / moves, p0.y() + by[1] * k / moves)
        t = time.perf_counter()
        v._solve_pending()
        ts.append((time.perf_counter() - t) * 1000.0)
        errs.append(v._pose_drag.last.reach_mm)
    v._finish_pose_drag()
    v._mode = None
    a = np.array(ts)
    return {"handle": handle, "pins": len(pins), "median_ms": round(float(np.median(a)), 2),
            "p90_ms": round(float(np.percentile(a, 90)), 2), "max_ms": round(float(a.max()), 2),
            "reach_max_mm": round(max(errs), 2), "reach_final_mm": round(errs[-1], 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=60)
    ap.add_argument("--solver", choices=("network", "optimisation"), default="network",
                    help="network: the shipped auto-posing weights through ModelServices (falls back with a note)")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - the widgets need it
    from app.viewport.widget import Viewport
    from core_models.body import load_body
    from core_models.library import load_builtin

    lib = {p.slug: p.pose for p in load_builtin()}
    v = Viewport(samples=0)
    v.resize(960, 720)
    v.set_body(load_body("anny"))
    v.set_limits_enabled(True)
    v.set_drag_mode(True)
    if args.solver == "network":
        import torch

        from core_models.services import ModelServices, ModelUnavailable

        torch.set_num_threads(1)
        try:
            v.set_autoposer(ModelServices().autoposer())
        except ModelUnavailable as e:
            print(f"no network: {e}")
    results = []
    for pose, handle, pins, by in SCENARIOS:
        r = run_scenario(v, lib[pose].copy(), handle, pins, by, args.moves)
        r["pose"] = pose
        results.append(r)
        print(f"{pose:9s} {handle:12s} pins={len(pins)}: one update median {r['median_ms']:.1f} ms, "
              f"p90 {r['p90_ms']:.1f} ms, max {r['max_ms']:.1f} ms; reach error max {r['reach_max_mm']:.1f} mm, "
              f"final {r['reach_final_mm']:.1f} mm")
    print(json.dumps({"name": "drag_pose", "solver": v.solver_note(), "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
