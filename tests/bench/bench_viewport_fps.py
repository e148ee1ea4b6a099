"""Benchmark: live viewport frame rate at 1280x720 with the pose changing every frame (numpy FK + GPU
re-skinning), swap interval 0, over ~5 s. Needs an X display; re-runs itself under xvfb-run if none.

    .venv/bin/python tests/bench/bench_viewport_fps.py [--seconds 5] [--samples 4] [--inset] [--size 1280x720]

Last line: {"name": "viewport_fps_1280x720", "value": ..., "unit": "fps"}
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--samples", type=int, default=None, help="MSAA samples (default: the viewport's default)")
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--inset", action="store_true", help="also draw the side-view inset")
    ap.add_argument("--static", action="store_true", help="do not change the pose (draw only)")
    a = ap.parse_args()
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and not os.environ.get("_BENCH_XVFB"):
        env = dict(os.environ, _BENCH_XVFB="1", QT_QPA_PLATFORM="xcb")
        env.pop("PYOPENGL_PLATFORM", None)
        os.execvpe("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, *sys.argv], env)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    w, h = (int(x) for x in a.size.split("x"))

    import numpy as np
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from app.viewport.widget import DEFAULT_SAMPLES, Viewport, configure_default_format
    from core_models.body import load_body
    from core_models.pose import Pose

    samples = DEFAULT_SAMPLES if a.samples is None else a.samples
    configure_default_format(samples=samples, swap_interval=0)
    app = QApplication(sys.argv)  # noqa: F841  (kept alive for the whole run)
    # QEventLoop.processEvents: PySide6 6.12.0's static QCoreApplication.processEvents() leaks a None ref per call
    loop = QEventLoop()
    body = load_body("anny")
    vp = Viewport(samples=samples)
    vp.resize(w, h)
    vp.set_body(body)
    vp.set_selected_joint(16)
    vp.set_show_inset(a.inset)
    vp.show()
    t_end = time.time() + 1.0
    while time.time() < t_end:
        loop.processEvents()

    base = Pose.zeros()
    full = np.zeros((22, 3), np.float32)
    state = {"frames": 0, "t0": 0.0, "paint_ms": []}

    def next_frame():
        if not a.static:
            t = state["frames"] / 60.0
            full[16] = (0, 0, 0.9 * math.sin(t * 2.0))
            full[17] = (0, 0, -0.9 * math.sin(t * 1.7))
            full[18] = (0, -1.0 * (0.5 + 0.5 * math.sin(t * 3.0)), 0)
            full[4] = (1.2 * (0.5 + 0.5 * math.sin(t * 2.5)), 0, 0)
            full[1] = (-0.8 * (0.5 + 0.5 * math.sin(t * 2.5)), 0, 0)
            full[0] = (0, 0.4 * math.sin(t), 0)
            vp.set_pose(Pose(full[0], full[1:], base.transl))
        else:
            vp.update()
        state["frames"] += 1
        state["paint_ms"].append(vp.last_frame_ms())

    vp.frameSwapped.connect(next_frame)
    # warm-up 0.5 s, then measure
    next_frame()
    t_end = time.time() + 0.5
    while time.time() < t_end:
        loop.processEvents()
    state["frames"] = 0
    state["paint_ms"] = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < a.seconds:
        loop.processEvents()
    el = time.perf_counter() - t0
    fps = state["frames"] / el
    print(f"GL: {vp.gl_info}")
    print(f"size {w}x{h}, MSAA {samples}, inset {a.inset}, pose change every frame: {not a.static}")
    print(f"frames {state['frames']} in {el:.2f} s -> {fps:.1f} fps; paintGL CPU median "
          f"{statistics.median(state['paint_ms'] or [0]):.2f} ms")
    print(json.dumps({"name": f"viewport_fps_{w}x{h}", "value": round(fps, 1), "unit": "fps"}))
    vp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
