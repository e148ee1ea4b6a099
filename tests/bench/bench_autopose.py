"""Benchmark: one drag-to-pose update on one CPU thread — the auto-posing network + the exact-reach refinement
(DragSolver "full" mode) + skinning the Anny body (AnnyBody.forward, 13,718 vertices), median ms over a drag of a
held-out-like pose (library poses, wrists / ankles / head, pinned opposite foot, 30 mouse events per drag).

    nice -n 5 env OMP_NUM_THREADS=1 .venv/bin/python tests/bench/bench_autopose.py [--events 30] [--no-network]

Also prints the parts (network alone, refinement iterations) and the optimisation-only solver for comparison.
Last line: {"name": "autopose_drag_update_ms", "value": ..., "unit": "ms", ...}
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

torch.set_num_threads(1)

_DRAGS = (("left_wrist", "right_ankle"), ("right_wrist", "left_ankle"), ("left_ankle", "right_ankle"),
          ("head", "left_ankle"), ("pelvis", "left_ankle"))


def _drags(solver, body, poses, events: int) -> tuple[list[float], list[int], list[float]]:
    from core_models.posing import effector_positions

    rest = body.skinning.rest_joints
    ms, iters, errs = [], [], []
    for pose in poses:
        E = effector_positions(pose, rest)
        for eff, pin in _DRAGS:
            pins = (pin,) if pin != eff else ()
            solver.begin(pose, eff, pins)
            step = np.array([0.004, 0.003, 0.005])  # 12-15 cm over a drag
            for k in range(1, events + 1):
                t = time.perf_counter()
                out = solver.update(E[eff] + step * k, "full")
                v = body.forward(out)
                ms.append(1000 * (time.perf_counter() - t))
                iters.append(solver.last_iterations)
                errs.append(1000 * solver.last_error)
                assert v.vertices.shape[-2] == body.skinning.rest_vertices.shape[0]
            solver.end()
    return ms, iters, errs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=30)
    ap.add_argument("--no-network", action="store_true")
    a = ap.parse_args()
    from core_models.body import load_body
    from core_models.library import load_builtin
    from core_models.nets.autopose import load_autoposer
    from core_models.pose import clamp_to_limits
    from core_models.posing import DragSolver

    body = load_body("anny")
    poses = [clamp_to_limits(p.pose) for p in load_builtin()[:4]]
    t = time.perf_counter()
    net = None if a.no_network else load_autoposer()
    load_ms = 1000 * (time.perf_counter() - t)
    solver = DragSolver(body.skinning.rest_joints, net)
    _drags(solver, body, poses[:1], 3)  # warm-up
    ms, iters, errs = _drags(solver, body, poses, a.events)
    base, base_it, _ = _drags(DragSolver(body.skinning.rest_joints, None), body, poses, a.events)
    net_ms = 0.0
    if net is not None:
        E, m = np.zeros((11, 3)), np.ones(11, bool)
        R = np.broadcast_to(np.eye(3), (22, 3, 3)).copy()
        t = time.perf_counter()
        for _ in range(200):
            net.predict_matrices(E, m, R)
        net_ms = 1000 * (time.perf_counter() - t) / 200
    med = float(np.median(ms))
    print(f"auto-poser load: {load_ms:.0f} ms; network alone: {net_ms:.2f} ms per call")
    print(f"drag update (network + refinement + skinning), {len(ms)} events: median {med:.2f} ms, "
          f"p90 {np.percentile(ms, 90):.2f} ms, refinement iterations mean {np.mean(iters):.1f}, "
          f"target error median {np.median(errs):.3f} mm")
    print(f"optimisation only (no network): median {np.median(base):.2f} ms, p90 {np.percentile(base, 90):.2f} ms, "
          f"iterations mean {np.mean(base_it):.1f}")
    print(json.dumps({"name": "autopose_drag_update_ms", "value": round(med, 2), "unit": "ms",
                      "p90_ms": round(float(np.percentile(ms, 90)), 2), "network_ms": round(net_ms, 3),
                      "refine_iterations": round(float(np.mean(iters)), 2),
                      "optimisation_only_ms": round(float(np.median(base)), 2), "events": len(ms),
                      "network": net is not None}))


if __name__ == "__main__":
    main()
