"""Capture benchmark (not collected by pytest): MediaPipe lite alone vs the whole live pipeline on a video file,
and the One-Euro jitter / latency trade-off on real MediaPipe outputs.

    .venv/bin/python tests/bench/bench_capture.py [--frames 150] [--width 640]

1. Throughput: the sports2d demo video (a walking person) re-encoded at ``--width`` px wide (webcam-like);
   per frame, decode + MediaPipe lite in tracking (video) mode ("MediaPipe alone") vs decode + the full
   pipeline (MediaPipe + gating + One-Euro + geometric regressor → Pose) ("end to end"). The two are run
   interleaved several times and the medians are compared (other jobs share the 2 cores).
2. One-Euro trade-off: *jitter* = RMS frame-to-frame motion of the world landmarks on a still scene (the
   basketball photo repeated with camera-like pixel noise, so MediaPipe's own jitter shows), *lag* = the delay
   (ms) that best aligns the filtered wrist/ankle tracks with the raw ones on the walking video.
Ends with JSON lines {"name", "value", "unit"}.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

torch.set_num_threads(1)

from core_models.capture.filters import LandmarkFilter  # noqa: E402
from core_models.capture.landmarks import LM, LandmarkDetector  # noqa: E402
from core_models.capture.pipeline import CapturePipeline  # noqa: E402
from tests.capture._capture_data import opencv_image, read_rgb, sports2d_demo  # noqa: E402


def make_video(width: int, frames: int, out: Path) -> Path:
    import cv2

    cap = cv2.VideoCapture(str(sports2d_demo()))
    w0, h0 = cap.get(3), cap.get(4)
    size = (width, int(round(h0 * width / w0 / 2)) * 2)
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size)
    n = 0
    while n < frames:
        ok, img = cap.read()
        if not ok:
            break
        vw.write(cv2.resize(img, size, interpolation=cv2.INTER_AREA))
        n += 1
    vw.release()
    cap.release()
    return out


def run_alone(path: Path) -> list[float]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    times = []
    with LandmarkDetector("lite", mode="video") as det:
        i = 0
        while True:
            t0 = time.perf_counter()
            ok, img = cap.read()
            if not ok:
                break
            det.detect(np.ascontiguousarray(img[:, :, ::-1]), i / 30.0)
            times.append((time.perf_counter() - t0) * 1000)
            i += 1
    cap.release()
    return times


def run_pipeline(path: Path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    times, parts, found = [], {"landmarks": [], "filter": [], "regress": []}, 0
    with CapturePipeline("lite", regressor="geometric", mode="video") as pipe:
        i = 0
        while True:
            t0 = time.perf_counter()
            ok, img = cap.read()
            if not ok:
                break
            r = pipe.process(np.ascontiguousarray(img[:, :, ::-1]), i / 30.0)
            times.append((time.perf_counter() - t0) * 1000)
            found += r.detected
            for k in parts:
                if k in r.timings_ms:
                    parts[k].append(r.timings_ms[k])
            i += 1
    cap.release()
    return times, parts, found


def run_throughput(path: Path, overlap: bool | None) -> float:
    """Wall-clock ms per frame over the whole file: MediaPipe alone (overlap None) or the pipeline."""
    from core_models.capture.pipeline import run_source
    from core_models.capture.sources import VideoFileSource

    src = VideoFileSource(path)
    src.open()
    if overlap is None:
        with LandmarkDetector("lite", mode="video") as det:
            t0 = time.perf_counter()
            n = 0
            for f in src:
                det.detect(f.image, f.timestamp)
                n += 1
            return (time.perf_counter() - t0) * 1000 / n
    with CapturePipeline("lite", regressor="geometric", mode="video") as pipe:
        t0 = time.perf_counter()
        n = sum(1 for _ in run_source(pipe, src, overlap=overlap))
        return (time.perf_counter() - t0) * 1000 / n


def one_euro_tradeoff(video: Path, settings):
    import cv2

    rng = np.random.default_rng(0)
    still = read_rgb(opencv_image("basketball1.png"))
    raw_still = []
    with LandmarkDetector("lite", mode="video") as det:
        for i in range(90):
            noisy = np.clip(still.astype(np.int16) + rng.normal(0, 4, still.shape), 0, 255).astype(np.uint8)
            lm = det.detect(noisy, i / 30.0)
            if lm is not None:
                raw_still.append(lm)
    runs, cur = [], []
    cap = cv2.VideoCapture(str(video))
    with LandmarkDetector("lite", mode="video") as det:
        i = 0
        while True:
            ok, img = cap.read()
            if not ok:
                break
            lm = det.detect(np.ascontiguousarray(img[:, :, ::-1]), i / 30.0)
            i += 1
            if lm is None:
                runs.append(cur)
                cur = []
                continue
            cur.append(lm)
    cap.release()
    raw_walk = max(runs + [cur], key=len)  # the longest continuously detected stretch
    track_ids = [LM["left_wrist"], LM["right_wrist"], LM["left_ankle"], LM["right_ankle"]]
    rows = []
    for name, kw in settings:
        f = LandmarkFilter(**kw)
        out = np.array([f(lm).world for lm in raw_still])
        jitter = float(np.sqrt(np.mean(np.sum(np.diff(out[10:], axis=0) ** 2, -1))) * 1000)
        f = LandmarkFilter(**kw)
        fw = np.array([f(lm).world for lm in raw_walk])[:, track_ids]
        rw = np.array([lm.world for lm in raw_walk])[:, track_ids]
        # the delay d (frames, 0.1 steps) for which the raw track delayed by d best matches the filtered one
        t = np.arange(len(rw), dtype=np.float64)
        cols = rw.reshape(len(rw), -1)
        best = (np.inf, 0.0)
        for d in np.arange(0.0, 8.01, 0.1):
            delayed = np.stack([np.interp(t - d, t, c) for c in cols.T], 1)
            e = float(np.mean((fw.reshape(len(fw), -1)[10:] - delayed[10:]) ** 2))
            best = min(best, (e, float(d)))
        lag_frames = best[1]
        rows.append((name, jitter, lag_frames * 1000 / 30.0))
    return rows, len(raw_still), len(raw_walk)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=230)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        video = make_video(a.width, a.frames, Path(tmp) / "demo.mp4")
        alone, e2e, parts, found = [], [], {"landmarks": [], "filter": [], "regress": []}, 0
        run_alone(video)  # warm-up (model load, caches)
        for _ in range(a.repeats):
            alone += run_alone(video)
            t, p, found = run_pipeline(video)
            e2e += t
            for k in parts:
                parts[k] += p[k]
        m_alone, m_e2e = statistics.median(alone), statistics.median(e2e)
        print(f"video {a.width}px, {a.frames} frames x {a.repeats} (interleaved), person found in "
              f"{found}/{a.frames} frames")
        print(f"  MediaPipe lite alone (decode + detect): median {m_alone:.2f} ms/frame = {1000 / m_alone:.1f} fps")
        print(f"  end to end (decode + detect + filter + regress): median {m_e2e:.2f} ms/frame = "
              f"{1000 / m_e2e:.1f} fps")
        print("  inside the pipeline (median ms): " + ", ".join(
            f"{k} {statistics.median(v):.2f}" for k, v in parts.items() if v))
        ratio = m_e2e / m_alone
        print(f"  end to end / MediaPipe alone = {ratio:.3f} (target <= 1.15); fps target >= 25: "
              f"{'yes' if 1000 / m_e2e >= 25 else 'no'}")
        thr = {"alone": [], "sequential": [], "overlapped": []}
        for _ in range(a.repeats):
            thr["alone"].append(run_throughput(video, None))
            thr["sequential"].append(run_throughput(video, False))
            thr["overlapped"].append(run_throughput(video, True))
        t_alone = statistics.median(thr["alone"])
        print("  throughput over the whole file (wall ms/frame, median of runs; FrameSource decoding included):")
        for k, v in thr.items():
            t = statistics.median(v)
            print(f"    {k:11s} {t:6.2f} ms/frame = {1000 / t:5.1f} fps  ({t / t_alone:.3f} x MediaPipe alone)")
        ratio_overlap = statistics.median(thr["overlapped"]) / t_alone
        fps_overlap = 1000 / statistics.median(thr["overlapped"])
        settings = [
            ("raw (gating only)", dict(smooth=False)),
            ("one-euro mc=0.5 b=0.5", dict(min_cutoff=0.5, beta=0.5)),
            ("one-euro mc=1.0 b=0.05", dict(min_cutoff=1.0, beta=0.05)),
            ("one-euro mc=1.0 b=0.5", dict(min_cutoff=1.0, beta=0.5)),
            ("one-euro mc=1.0 b=1.0", dict(min_cutoff=1.0, beta=1.0)),
            ("one-euro mc=1.0 b=2.0", dict(min_cutoff=1.0, beta=2.0)),
            ("one-euro mc=0.5 b=2.0", dict(min_cutoff=0.5, beta=2.0)),
            ("one-euro mc=1.0 b=4.0", dict(min_cutoff=1.0, beta=4.0)),
            ("one-euro mc=2.0 b=0.5", dict(min_cutoff=2.0, beta=0.5)),
            ("one-euro mc=4.0 b=0.5", dict(min_cutoff=4.0, beta=0.5)),
        ]
        rows, n_still, n_walk = one_euro_tradeoff(video, settings)
    print(f"One-Euro trade-off (still: {n_still} noisy copies of basketball1.png; lag: {n_walk} walking frames)")
    print(f"  {'setting':26s} {'jitter mm/frame':>16s} {'lag ms':>8s}")
    for name, jit, lag in rows:
        print(f"  {name:26s} {jit:16.2f} {lag:8.1f}")
    print(json.dumps({"name": "capture_e2e_fps_lite", "value": round(1000 / m_e2e, 1), "unit": "fps"}))
    print(json.dumps({"name": "capture_mediapipe_alone_fps_lite", "value": round(1000 / m_alone, 1), "unit": "fps"}))
    print(json.dumps({"name": "capture_e2e_over_mediapipe", "value": round(ratio, 3), "unit": "ratio"}))
    print(json.dumps({"name": "capture_e2e_overlapped_fps_lite", "value": round(fps_overlap, 1), "unit": "fps"}))
    print(json.dumps({"name": "capture_e2e_overlapped_over_mediapipe", "value": round(ratio_overlap, 3),
                      "unit": "ratio"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
