"""The capture benchmarks' shared input: the Sports2D demo video (PyPI sports2d, 1768×994) at 640 px wide, and
MediaPipe lite landmarks of its frames in VIDEO mode with the time each detection took."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def demo_frames(n: int | None = None) -> list[np.ndarray]:
    """The first ``n`` frames (all when None) as RGB uint8, resized to 640 px wide."""
    import cv2
    import Sports2D

    cap = cv2.VideoCapture(str(Path(Sports2D.__file__).parent / "Demo" / "demo.mp4"))
    out: list[np.ndarray] = []
    while n is None or len(out) < n:
        ok, f = cap.read()
        if not ok:
            break
        h, w = f.shape[:2]
        out.append(cv2.cvtColor(cv2.resize(f, (640, int(h * 640 / w))), cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def lite_landmarks(frames: list[np.ndarray]) -> tuple[list, list[float]]:
    """(landmarks of the frames where somebody was found, seconds per detection for every frame)."""
    from core_models.capture.landmarks import LandmarkDetector

    lms, t_mp = [], []
    with LandmarkDetector("lite", mode="video") as det:
        for i, fr in enumerate(frames):
            t0 = time.perf_counter()
            lm = det.detect(fr, i / 30.0)
            t_mp.append(time.perf_counter() - t0)
            if lm is not None:
                lms.append(lm)
    return lms, t_mp
