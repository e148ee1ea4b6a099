"""Reference image benchmark (not collected by pytest): what a reference image costs per frame, and how long
"pose from this image" takes.

    .venv/bin/python tests/bench/bench_reference_image.py [--size 1920x1080] [--frames 30]

1. Frame time: the headless renderer (EGL; llvmpipe on a machine without a GPU) draws the body at ``--size``
   without a reference image, with a 4032x3024 photo-sized background image at 60 % opacity, and with the same
   image as a plane in the scene; the three are interleaved ``--rounds`` times and the medians compared (other jobs
   share the CPUs). Timed: SceneRenderer.render (per-vertex lighting, as the live viewport draws on software GL
   while interacting) + glFinish, i.e. the viewport's per-frame GL work, into a single-sampled target (so the
   background's kept backdrop is used after the first frame, as in the live viewport's fast frames).
2. Pose from image: ``core_models.capture.from_image.pose_from_image`` on the basketball photo with the
   per-image pipeline the panel uses (MediaPipe "full", regressor "auto"): the first call (building the
   pipeline + the regressor's weights) and the median of the next calls.
Ends with JSON lines {"name", "value", "unit"}.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core_models.render.offscreen import OffscreenRenderer  # noqa: E402  (chooses EGL before OpenGL loads)

import numpy as np  # noqa: E402


def frame_times(size: tuple[int, int], frames: int, rounds: int = 3) -> dict[str, float]:
    """Median ms per frame of SceneRenderer.render + glFinish (the viewport's per-frame work, no read-back)."""
    from OpenGL import GL

    from core_models.body import load_body
    from core_models.pose import Pose
    from core_models.render.reference_image import ReferenceImage, ReferenceSettings
    from core_models.render.scene import frame_camera, pose_state

    body = load_body("anny")
    pose = Pose.zeros()
    r = OffscreenRenderer(samples=0)
    r._ctx.make_current()
    r._ensure_mesh(body)
    sc = r.scene
    sc.set_state(*pose_state(body.skinning, pose)[:2])
    sc.per_pixel_lighting = False  # as the live viewport draws while interacting on software GL
    cam = frame_camera(body.forward(pose).vertices, "front", size[0] / size[1])
    target = r._target(*size)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (3024, 4032, 4), dtype=np.uint8)
    photo[..., 3] = 255
    refs = {"none": None,
            "background": ReferenceImage(photo, ReferenceSettings(opacity=0.6)),
            "plane": ReferenceImage(photo, ReferenceSettings(mode="plane", opacity=0.6, distance=1.0))}
    per: dict[str, list[float]] = {k: [] for k in refs}
    for _ in range(rounds):
        for name, ref in refs.items():
            sc.reference = ref
            target.bind()
            sc.render(cam, *size)  # warm (texture upload)
            GL.glFinish()
            t0 = time.perf_counter()
            for _ in range(frames):
                sc.render(cam, *size)
            GL.glFinish()
            per[name].append((time.perf_counter() - t0) * 1000 / frames)
    out = {k: statistics.median(v) for k, v in per.items()}
    renderer = r.gl_renderer
    r.close()
    return out | {"renderer": renderer}  # type: ignore[dict-item]


def pose_times(calls: int) -> tuple[float, float, str]:
    from core_models.capture.from_image import MAX_PEOPLE, pose_from_image
    from core_models.services import ModelServices
    from tests.capture._capture_data import opencv_image, read_rgb

    rgb = read_rgb(opencv_image("basketball1.png"))
    t0 = time.perf_counter()
    pipe = ModelServices.capture_pipeline("full", "auto", mode="image", max_people=MAX_PEOPLE)
    r = pose_from_image(rgb, pipe)
    first = time.perf_counter() - t0
    ts = [first]
    for _ in range(calls):
        t1 = time.perf_counter()
        pose_from_image(rgb, pipe)
        ts.append(time.perf_counter() - t1)
    pipe.close()
    return first, statistics.median(ts[1:] or ts), f"{r.status} {r.regressor} confidence {r.confidence:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--pose-calls", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    ft = frame_times((w, h), args.frames, args.rounds)
    print(f"renderer: {ft.pop('renderer')}, {w}x{h}, median ms/frame (SceneRenderer.render + glFinish):")
    for k, v in ft.items():
        print(f"  {k:10s} {v:7.2f} ms")
    first, warm, what = pose_times(args.pose_calls)
    print(f"pose from image (basketball1.png, {what}): first call {first:.2f} s, then {warm * 1000:.0f} ms")
    rows = [{"name": f"frame_ms_{k}", "value": round(v, 2), "unit": "ms"} for k, v in ft.items()]
    rows += [{"name": "pose_from_image_first_s", "value": round(first, 2), "unit": "s"},
             {"name": "pose_from_image_warm_ms", "value": round(warm * 1000, 1), "unit": "ms"}]
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
