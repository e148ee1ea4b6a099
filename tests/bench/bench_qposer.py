"""Benchmark: one Latent-panel slider update = new code → QPoser decode → compose with the user's pose →
skinning (Anny, 13,718 vertices, CPU). Target ≤ 8 ms per update. Also: encode, part copy, interpolation, random
pose through the masked transformer. One thread (as on the shared CPU). Ends with a JSON line."""
from __future__ import annotations

import json
import statistics
import time

import numpy as np
import torch


def main() -> None:
    torch.set_num_threads(1)
    from core_models.body import load_body
    from core_models.library import load_builtin
    from core_models.nets.qposer import LatentEditor
    from core_models.render.scene import pose_state

    ed = LatentEditor.load()
    body = load_body("anny")
    lib = load_builtin()
    pose = lib[3].pose
    codes = ed.encode(pose)
    g = "left_arm"
    K = ed.codebook_size(g)
    times, dec, skin, view = [], [], [], []
    for i in range(300):
        t0 = time.perf_counter()
        c = ed.set_head(codes, g, i % ed.n_heads(g), i % K)
        new = ed.decode(c, pose, [g])
        t1 = time.perf_counter()
        body.forward(new)
        t2 = time.perf_counter()
        pose_state(body.skinning, new)
        t3 = time.perf_counter()
        view.append((t1 - t0 + t3 - t2) * 1000)
        times.append((t2 - t0) * 1000)
        dec.append((t1 - t0) * 1000)
        skin.append((t2 - t1) * 1000)
    t = statistics.median(times[20:])

    def timeit(fn, n=50):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t0) * 1000)
        return statistics.median(ts)

    enc = timeit(lambda: ed.encode(pose))
    interp = timeit(lambda: ed.interpolate(pose, lib[5].pose, 0.3))
    rnd = timeit(lambda: ed.resample(codes, list(ed.groups), np.random.default_rng(0)), n=20)
    print(f"slider update (decode + compose + skinning): median {t:.2f} ms "
          f"(decode+compose {statistics.median(dec[20:]):.2f} ms, skinning {statistics.median(skin[20:]):.2f} ms; "
          f"p95 {np.percentile(times[20:], 95):.2f} ms)")
    print(f"slider update as the viewport does it (decode + compose + FK skin matrices, skinning on the GPU): "
          f"median {statistics.median(view[20:]):.2f} ms")
    print(f"encode {enc:.2f} ms, interpolate {interp:.2f} ms, random pose codes "
          f"({'masked transformer' if ed.gen is not None else 'uniform'}) {rnd:.2f} ms")
    print(json.dumps({"name": "qposer_slider_update", "value": round(t, 3), "unit": "ms", "target": 8.0,
                      "viewport_path_ms": round(statistics.median(view[20:]), 3)}))


if __name__ == "__main__":
    main()
