"""Learned capture regressor latency (not collected by pytest): MediaPipe lite (video mode) alone vs MediaPipe +
the live default regressor (``make_capture_regressor``: $POSETAILOR_CAPTURE_MODEL or ``LIVE_DEFAULT``) and the
PoseEmbroider chain (lifter → PoseEmbroider → SMPL-H head, keypoints only and with a text cue) on Sports2D's
demo.mp4 at 640 px wide, 1 torch thread, all in one run. Ends with one JSON line."""
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _demo_video import demo_frames, lite_landmarks  # noqa: E402


def main() -> int:
    import torch

    torch.set_num_threads(1)
    from core_models.capture.regressor import LearnedRegressor, live_representation, make_capture_regressor

    frames = demo_frames()
    reg = LearnedRegressor(threads=1)
    live_name = live_representation()
    live = make_capture_regressor(**({} if live_name == "geometric" else {"threads": 1}))
    t_reg, t_txt = [], []
    lms, t_mp = lite_landmarks(frames)
    for lm in lms:
        t0 = time.perf_counter()
        reg.predict(lm)
        t_reg.append(time.perf_counter() - t0)
    t_live = []
    for lm in lms:
        t0 = time.perf_counter()
        live.predict(lm)
        t_live.append(time.perf_counter() - t0)
    reg.reset()
    reg.predict(lms[0], "the person is walking")   # text encoded once, then cached
    for lm in lms:
        t0 = time.perf_counter()
        reg.predict(lm, "the person is walking")
        t_txt.append(time.perf_counter() - t0)
    mp, r, rt, rl = (float(np.median(x)) * 1000 for x in (t_mp, t_reg, t_txt, t_live))
    print(f"frames {len(frames)}, detected {len(lms)}")
    print(f"MediaPipe lite (video mode)      {mp:6.2f} ms/frame (median)")
    print(f"live default ({live_name:<9})      {rl:6.2f} ms/frame  → (MP + reg) / MP = {(mp + rl) / mp:.3f}"
          f"  → {1000 / (mp + rl):.1f} fps")
    print(f"embroider, keypoints             {r:6.2f} ms/frame  → (MP + reg) / MP = {(mp + r) / mp:.3f}")
    print(f"embroider, + text cue            {rt:6.2f} ms/frame  → (MP + reg) / MP = {(mp + rt) / mp:.3f}")
    print(json.dumps({"name": "learned_regressor_latency", "live_default": live_name, "value": round(rl, 2),
                      "unit": "ms/frame", "mediapipe_ms": round(mp, 2), "embroider_ms": round(r, 2),
                      "embroider_with_text_ms": round(rt, 2), "ratio_vs_mediapipe": round((mp + rl) / mp, 3),
                      "fps_end_to_end": round(1000 / (mp + rl), 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
