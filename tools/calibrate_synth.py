"""Calibrate / check the synthetic landmark noise model (core_models.capture.synth) against real MediaPipe output.

Runs MediaPipe (``full`` model; video mode on Sports2D's demo.mp4, image mode on opencv-doc photos), measures the
per-landmark jitter in torso lengths (local quadratic fit residual, :func:`synth.jitter_per_landmark`), the
visibility statistics and the world-landmark bone-length spread, prints them next to the synthetic model's
values, and ends with one JSON line. Usage: ``.venv/bin/python tools/calibrate_synth.py [--variant full]``.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_models.capture import synth  # noqa: E402
from core_models.capture.landmarks import LANDMARK_NAMES, LM, LandmarkDetector  # noqa: E402


def _video():
    import Sports2D

    return Path(Sports2D.__file__).parent / "Demo" / "demo.mp4"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="full")
    args = ap.parse_args()
    import cv2

    cap = cv2.VideoCapture(str(_video()))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    size = (int(cap.get(3)), int(cap.get(4)))
    rows = []
    with LandmarkDetector(args.variant, mode="video") as det:
        i = 0
        while True:
            ok, fr = cap.read()
            if not ok:
                break
            lm = det.detect(cv2.cvtColor(fr, cv2.COLOR_BGR2RGB), timestamp=i / fps)
            rows.append(lm.to_array() if lm is not None else np.full((33, 8), np.nan, np.float32))
            i += 1
    a = np.stack(rows)
    ok = ~np.isnan(a[:, 0, 0])
    sig = synth.jitter_per_landmark(a[:, :, :2], size)
    vis = a[ok][:, :, 6]
    W = a[ok][:, :, 3:6]
    bones = {}
    for s in ("left", "right"):
        for p, c in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")):
            L = np.linalg.norm(W[:, LM[f"{s}_{p}"]] - W[:, LM[f"{s}_{c}"]], axis=-1)
            bones[f"{s}_{p}-{c}"] = (float(L.mean()), float(L.std()))
    print(f"video {size} {len(a)} frames, detected {int(ok.sum())}")
    print(f"{'landmark':<18} {'jitter(torso)':>13} {'synth sigma':>11} {'vis mean':>8} {'vis p10':>8}")
    for i, n in enumerate(LANDMARK_NAMES):
        print(f"{n:<18} {sig[i]:>13.3f} {synth.CALIBRATED_SIGMA[i]:>11.3f} {vis[:, i].mean():>8.2f} "
              f"{np.percentile(vis[:, i], 10):>8.2f}")
    for k, (m, s) in bones.items():
        print(f"world bone {k:<22} {m:.3f} ± {s:.3f} m")
    imgs = {}
    d = Path("/usr/share/doc/opencv-doc/examples/data")
    with LandmarkDetector(args.variant, mode="image") as det:
        for f in ("basketball1.png", "basketball2.png", "messi5.jpg"):
            if (d / f).exists():
                im = cv2.cvtColor(cv2.imread(str(d / f)), cv2.COLOR_BGR2RGB)
                lm = det.detect(im)
                imgs[f] = None if lm is None else float(lm.visibility.mean())
                print(f"{f}: " + ("no person" if lm is None else f"mean visibility {lm.visibility.mean():.2f}"))
    ratio = float(np.nanmedian(sig / synth.CALIBRATED_SIGMA))
    print(json.dumps({"name": "synth_noise_calibration", "value": round(ratio, 3),
                      "unit": "measured/synth jitter ratio (median over landmarks)",
                      "jitter": [round(float(x), 4) for x in sig], "images_mean_visibility": imgs}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
