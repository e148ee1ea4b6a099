"""2D fitting step latency (not collected by pytest): on Sports2D's demo.mp4 at 640 px wide, 1 torch thread, in one
run: MediaPipe lite (video mode), the live regressor (``make_capture_regressor``), and the live regressor followed
by :func:`core_models.capture.fitting.fit_pose` at the per-image setting (``FitConfig()``) and at a few iteration
counts, and by the 3D step onto the lifter's own joints (:func:`~core_models.capture.fitting.fit_to_lifted`) at a
few iteration counts (not on the live path: measured, docs/notes/capture_fitting.md); prints ms per frame (median)
and the end-to-end fps each would give (MediaPipe + regressor + step, serial).
Ends with one JSON line. ``python tests/bench/bench_fitting.py [N_FRAMES]``"""
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _demo_video import demo_frames, lite_landmarks  # noqa: E402


def _median_ms(fn, items) -> float:
    ts = []
    for x in items:
        t0 = time.perf_counter()
        fn(x)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)) * 1000


def main() -> int:
    import torch

    torch.set_num_threads(1)
    from core_models.capture.fitting import FitConfig, fit_pose
    from core_models.capture.regressor import make_capture_regressor

    frames = demo_frames(int(sys.argv[1]) if len(sys.argv) > 1 else 120)
    lms, t_mp = lite_landmarks(frames)
    reg = make_capture_regressor(threads=1)
    inits, lifted = [], []
    for lm in lms:
        inits.append(reg.predict(lm)[0])
        lifted.append(getattr(reg, "last_lifted", None))
    mp = float(np.median(t_mp)) * 1000
    rg = _median_ms(reg.predict, lms)
    res = {"frames": len(frames), "detected": len(lms), "mediapipe_ms": mp, "regressor_ms": rg,
           "fps_without_fit": 1000 / (mp + rg)}
    base = FitConfig(max_yaw_deg=180.0)  # time every frame (the yaw gate would skip turned ones)
    for it in sorted({base.iters, 3, 5, 8}):
        cfg = replace(base, iters=it)
        ms = _median_ms(lambda p: fit_pose(p[0], p[1], cfg), list(zip(inits, lms)))
        res[f"fit_{it}_ms"] = ms
        res[f"fps_with_fit_{it}"] = 1000 / (mp + rg + ms)
        print(f"fit, {it:2d} iterations: {ms:6.1f} ms/frame → {res[f'fps_with_fit_{it}']:5.1f} fps end to end "
              f"(without: {res['fps_without_fit']:.1f})")
    if all(j is not None for j in lifted):
        from core_models.capture.fitting import fit_to_lifted

        for it in (3, 5, 10):
            cfg = FitConfig(lift_iters=it)
            ms = _median_ms(lambda p: fit_to_lifted(p[0], p[1], cfg), list(zip(inits, lifted)))
            res[f"lift_{it}_ms"] = ms
            res[f"fps_with_lift_{it}"] = 1000 / (mp + rg + ms)
            print(f"3D step, {it:2d} iterations: {ms:6.1f} ms/frame → {res[f'fps_with_lift_{it}']:5.1f} fps end to "
                  f"end (without: {res['fps_without_fit']:.1f})")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
