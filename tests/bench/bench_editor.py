"""Benchmark: text pose editing on this CPU (1 thread).

* model load (hash check + state dict; MiniLM loads separately, timed too);
* one edit = text encoding + prior + mean + 8 samples + skinning of the 9 poses (Anny, 13,718 vertices),
  after warm-up: once with a new instruction each time (no clause cache hits) and once repeating one
  instruction (clause cache hits, what the GUI sees when re-applying / dragging the strength slider).

Ends with one JSON line {"name", "value", "unit", ...} (value = median ms of an edit with a new text).
"""
from __future__ import annotations

import json
import time

import numpy as np
import torch

torch.set_num_threads(1)


def main() -> None:
    from core_models.body import load_body
    from core_models.nets.editor import load_editor
    from core_models.pose import Pose

    t0 = time.perf_counter()
    ed = load_editor()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ed.encoder  # noqa: B018
    enc_load_s = time.perf_counter() - t0
    body = load_body("anny")
    rng = np.random.default_rng(0)
    pose = Pose(np.array([0, 0.4, 0], np.float32), rng.normal(0, 0.15, (21, 3)).astype(np.float32))
    parts = ["left arm", "right arm", "left knee", "right knee", "head", "left hand", "right foot", "torso"]
    verbs = ["raise your", "bend your", "lower your", "move your", "straighten your", "turn your"]

    def one(text):
        t = time.perf_counter()
        res = ed.edit(pose, text, n_samples=8)
        allp = Pose.stack([res.mean] + [res.samples[i] for i in range(len(res.samples))])
        v = body.forward(allp)
        assert v.vertices.shape[-2] == 13718
        return 1000 * (time.perf_counter() - t)

    for k in range(5):  # warm-up
        one(f"{verbs[k % 6]} {parts[k % 8]} slightly")
    fresh = [one(f"{verbs[i % 6]} {parts[(i * 5 + 1) % 8]} a lot, then {verbs[(i + 2) % 6]} {parts[i % 8]} "
                 f"number{i}") for i in range(30)]
    cached = [one("Lift your right knee to hip height and lean back slightly.") for _ in range(30)]
    # break-down for the repeated text
    A = torch.eye(3).expand(1, 22, 3, 3).contiguous()
    t = time.perf_counter()
    for _ in range(30):
        ed.predict_normalized(A, ["Lift your right knee to hip height and lean back slightly."], 8)
    net_ms = 1000 * (time.perf_counter() - t) / 30
    allp = Pose.stack([pose] * 9)
    t = time.perf_counter()
    for _ in range(30):
        body.forward(allp)
    skin_ms = 1000 * (time.perf_counter() - t) / 30
    med_f, med_c = float(np.median(fresh)), float(np.median(cached))
    print(f"model load (hash check + weights): {1000 * load_s:.0f} ms; MiniLM load: {1000 * enc_load_s:.0f} ms")
    print(f"edit, new text (encode + mean + 8 samples + skin 9 poses): median {med_f:.1f} ms, "
          f"p90 {np.percentile(fresh, 90):.1f} ms")
    print(f"edit, repeated text (clause cache): median {med_c:.1f} ms  [network {net_ms:.1f} ms, "
          f"skinning 9 poses {skin_ms:.1f} ms]")
    print(json.dumps({"name": "editor_edit_ms", "value": round(med_f, 2), "unit": "ms",
                      "repeated_text_ms": round(med_c, 2), "load_ms": round(1000 * load_s, 1),
                      "minilm_load_ms": round(1000 * enc_load_s, 1), "network_ms": round(net_ms, 2),
                      "skinning_ms": round(skin_ms, 2)}))


if __name__ == "__main__":
    main()
