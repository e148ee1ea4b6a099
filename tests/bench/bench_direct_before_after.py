"""``direct`` capture regressor latency, before / after in ONE run (not collected by pytest): MediaPipe lite (video
mode) on Sports2D's demo.mp4 at 640 px, then the direct regressor (1 torch thread, per frame) from two weights
folders, interleaved in rounds so that machine load hits both alike; then the per-image cost of the lite / full /
heavy landmarkers in IMAGE mode. ``before`` is read with the 6D-mean mirror
averaging it shipped with, ``after`` with its own config (the chordal mean).

    .venv/bin/python tests/capture/bench_direct_before_after.py OLD_WEIGHTS_DIR [NEW_WEIGHTS_DIR] [--rounds 5]

Ends with one JSON line (medians, ms/frame; the ratios against MediaPipe are what transfers between loads)."""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _demo_video import demo_frames, lite_landmarks  # noqa: E402


def _image_mode_costs(frames: list[np.ndarray]) -> dict[str, float]:
    """Median ms per image of each landmarker in IMAGE mode (what an image folder / still runs)."""
    from core_models.capture.landmarks import LandmarkDetector

    out = {}
    for variant in ("lite", "full", "heavy"):
        with LandmarkDetector(variant, mode="image") as det:
            det.detect(frames[0], 0.0)
            ts = []
            for fr in frames:
                t0 = time.perf_counter()
                det.detect(fr, 0.0)
                ts.append(time.perf_counter() - t0)
        out[variant] = round(float(np.median(ts)) * 1000, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new", nargs="?", default=None, help="default: the shipped resources/weights")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from core_models.capture.regressor import LearnedRegressor

    frames = demo_frames()
    lms, t_mp = lite_landmarks(frames)
    regs = {"before": LearnedRegressor(args.old, representation="direct", threads=1),
            "after": LearnedRegressor(args.new, representation="direct", threads=1)}
    regs["before"].model.lifter.cfg.flip_mean = "sixd"
    times: dict[str, list[float]] = {k: [] for k in regs}
    for _ in range(args.rounds):
        for name, reg in regs.items():
            reg.reset()
            for lm in lms:
                t0 = time.perf_counter()
                reg.predict(lm)
                times[name].append(time.perf_counter() - t0)
    mp = float(np.median(t_mp)) * 1000
    res = {"mediapipe_lite_ms": round(mp, 2), "frames": len(frames), "detected": len(lms)}
    print(f"frames {len(frames)}, detected {len(lms)}; MediaPipe lite {mp:.2f} ms/frame (median)")
    for name, reg in regs.items():
        r = float(np.median(times[name])) * 1000
        variant = reg.model.lifter.cfg
        print(f"direct {name:<6} ({variant.flip_mean} flip mean) {r:6.2f} ms/frame → MP + direct "
              f"{mp + r:.2f} ms = {1000 / (mp + r):.1f} fps, ratio vs MP {(mp + r) / mp:.3f}")
        res[name] = {"direct_ms": round(r, 2), "fps_end_to_end": round(1000 / (mp + r), 1),
                     "ratio_vs_mediapipe": round((mp + r) / mp, 3), "flip_mean": variant.flip_mean}
    res["image_mode_ms"] = _image_mode_costs(frames[::10][:12])
    print("per-image landmarker (IMAGE mode, median ms/image): "
          + ", ".join(f"{k} {v:.1f}" for k, v in res["image_mode_ms"].items()))
    print(json.dumps({"name": "direct_before_after", **res}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
