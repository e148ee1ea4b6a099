"""Coach benchmark (not a test): live frame rate with the coach running, against capture alone in the same run,
and memory growth over a long looped video run.

    .venv/bin/python tests/bench/bench_coach.py [--video CLIP.mp4] [--frames 300] [--minutes 3] [--model lite]

1. **fps**: the same frames through capture alone, then through capture + ``CoachEngine.update`` (MediaPipe in
   video mode, the shipped regressor), alternating twice; reports both and the ratio.
2. **memory**: capture + coach over the video looped for ``--minutes`` of video time; the resident memory after the
   first minute (warm-up) and at the end; growth in MB (target ≤ 50 MB over 20 minutes).
Ends with JSON lines ``{"name", "value", "unit"}``.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "coach" / "000_mountain_knee_bend_right.mp4"


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _frames(video: Path, n: int):
    from core_models.capture.sources import VideoFileSource

    src = VideoFileSource(video, loop=True)
    src.open()
    out = []
    while len(out) < n:
        f = src.read()
        if f is not None:
            out.append(f.image)
    src.close()
    return out, src.fps


def _fps(frames, fps: float, model: str, coach: bool) -> tuple[float, float]:
    """(frames per second, mean engine ms)."""
    from core_models.capture.pipeline import CapturePipeline
    from core_models.coach import CoachEngine, Routine, target_from_library

    t = target_from_library("tree", 600.0)
    engine = CoachEngine(Routine(t.name, [t]), corrector="rules") if coach else None
    pipe = CapturePipeline(model, regressor="auto")
    eng_ms = 0.0
    t0 = time.perf_counter()
    for i, img in enumerate(frames):
        r = pipe.process(img, i / fps)
        if engine is not None:
            e0 = time.perf_counter()
            engine.update(i / fps, r.pose, r.landmarks, 1 if r.pose is not None else 0, r.confidence)
            eng_ms += (time.perf_counter() - e0) * 1000
    wall = time.perf_counter() - t0
    pipe.close()
    return len(frames) / wall, eng_ms / len(frames)


def _memory(video: Path, minutes: float, model: str) -> tuple[float, float, float]:
    from core_models.capture.pipeline import CapturePipeline
    from core_models.capture.sources import VideoFileSource
    from core_models.coach import CoachEngine, Routine, target_from_library

    t = target_from_library("tree", 30.0)
    r2 = target_from_library("warrior_ii", 30.0)
    engine = CoachEngine(Routine("bench", [t, r2] * 200), corrector="rules")
    pipe = CapturePipeline(model, regressor="auto")
    src = VideoFileSource(video, loop=True)
    src.open()
    n_total = int(minutes * 60 * src.fps)
    warm_at = int(min(60.0, minutes * 30) * src.fps)
    warm = _rss_mb()
    i = 0
    while i < n_total:
        f = src.read()
        if f is None:
            continue
        ts = i / src.fps
        r = pipe.process(f.image, ts)
        engine.update(ts, r.pose, r.landmarks, 1 if r.pose is not None else 0, r.confidence)
        i += 1
        if i == warm_at:
            warm = _rss_mb()
    end = _rss_mb()
    pipe.close()
    src.close()
    return warm, end, end - warm


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", default=str(DEFAULT))
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--minutes", type=float, default=3.0, help="video minutes for the memory run (0: skip)")
    ap.add_argument("--model", default="lite")
    args = ap.parse_args()
    frames, fps = _frames(Path(args.video), args.frames)
    runs: dict[str, list[float]] = {"capture": [], "coach": []}
    eng = []
    for _ in range(2):
        runs["capture"].append(_fps(frames, fps, args.model, False)[0])
        f, e = _fps(frames, fps, args.model, True)
        runs["coach"].append(f)
        eng.append(e)
    cap, coach = max(runs["capture"]), max(runs["coach"])
    print(f"capture alone {cap:.1f} fps, capture + coach {coach:.1f} fps ({coach / cap:.2f}×), "
          f"engine {min(eng):.2f} ms / update (runs: {runs})")
    print(json.dumps({"name": "coach_live_fps", "value": round(coach, 2), "unit": "fps"}))
    print(json.dumps({"name": "coach_vs_capture_ratio", "value": round(coach / cap, 3), "unit": "x"}))
    print(json.dumps({"name": "coach_engine_ms", "value": round(min(eng), 3), "unit": "ms"}))
    if args.minutes > 0:
        warm, end, growth = _memory(Path(args.video), args.minutes, args.model)
        print(f"memory over {args.minutes:g} video minutes: {warm:.0f} MB after warm-up → {end:.0f} MB "
              f"(growth {growth:+.1f} MB)")
        print(json.dumps({"name": "coach_memory_growth", "value": round(growth, 1), "unit": "MB",
                          "minutes": args.minutes}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
