"""Benchmark: live viewport frame rate with the pose changing every frame (numpy FK + GPU re-skinning), swap
interval 0, against a bare reference loop measured in the same run. Needs an X display; re-runs itself under
xvfb-run if none.

    .venv/bin/python tests/bench/bench_viewport_fps.py [--seconds 2] [--sizes 1280x720,1920x1080]
                                                       [--inset both|on|off] [--rounds 2] [--static]

The reference ("bare loop") is the limit the viewport can reach on this machine: a plain QWindow with its own
QOpenGLContext (no widgets, no event loop work beyond what X needs) drawing the same scene (same SceneRenderer,
same mesh, shaders, skinning, camera, size, inset, markers and gizmo), re-posed the same way every frame and
swapped straight to the window. Viewport and reference alternate ``--rounds`` times per configuration
(the machine is shared: ratios of interleaved runs are the stable number). For each configuration it prints the
median viewport and reference fps, the median of the paired ratios (each viewport run / the bare run right after
it) and the ratio of the best runs (the least disturbed by other load).
Last line: one JSON object with every configuration, e.g.
{"name": "viewport_fps", "results": [{"size": "1920x1080", "inset": true, "viewport_fps": ..., "bare_fps": ...,
"ratio": ...}, ...]}
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def pose_at(frame: int, full, base):
    """The benchmark's animation: shoulders, elbow, knee, hip and root move every frame."""
    from core_models.pose import Pose

    t = frame / 60.0
    full[16] = (0, 0, 0.9 * math.sin(t * 2.0))
    full[17] = (0, 0, -0.9 * math.sin(t * 1.7))
    full[18] = (0, -1.0 * (0.5 + 0.5 * math.sin(t * 3.0)), 0)
    full[4] = (1.2 * (0.5 + 0.5 * math.sin(t * 2.5)), 0, 0)
    full[1] = (-0.8 * (0.5 + 0.5 * math.sin(t * 2.5)), 0, 0)
    full[0] = (0, 0.4 * math.sin(t), 0)
    return Pose(full[0], full[1:], base.transl)


def _pump(loop, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        loop.processEvents()


class BareLoop:
    """The reference: QWindow + QOpenGLContext + SceneRenderer, drawn and swapped in a tight loop."""

    def __init__(self, vp, body, w: int, h: int):
        from PySide6.QtGui import QOpenGLContext, QSurface, QSurfaceFormat, QWindow

        from core_models.render.scene import SceneRenderer

        self.win = QWindow()
        self.win.setSurfaceType(QSurface.SurfaceType.OpenGLSurface)
        self.win.setFormat(QSurfaceFormat.defaultFormat())
        self.win.resize(w, h)
        self.win.setTitle("bare reference loop")
        self.win.show()
        self.ctx = QOpenGLContext()
        self.ctx.setFormat(QSurfaceFormat.defaultFormat())
        if not self.ctx.create():
            raise RuntimeError("could not create the reference GL context")
        self.ctx.makeCurrent(self.win)
        src = vp.scene()
        self.scene = SceneRenderer(src.theme)
        for k in ("show_grid", "show_shadow", "show_markers", "show_inset", "marker_radius", "gizmo_joint",
                  "gizmo_px", "floor_y", "per_pixel_lighting", "inset_fraction"):
            setattr(self.scene, k, getattr(src, k))
        self.scene.initialize()
        self.scene.set_mesh(body.skinning)
        self.scene.floor_y = src.floor_y
        self.camera = vp.camera
        self.body = body

    def run(self, loop, seconds: float, static: bool) -> float:
        import numpy as np

        from core_models.pose import Pose
        from core_models.render.scene import pose_state

        full, base = np.zeros((22, 3), np.float32), Pose.zeros()
        dpr = self.win.devicePixelRatio()
        w, h = int(self.win.width() * dpr), int(self.win.height() * dpr)
        frames, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            if not static or frames == 0:
                skin, joints, _ = pose_state(self.body.skinning, pose_at(frames, full, base))
                self.scene.set_state(skin, joints)
            self.ctx.makeCurrent(self.win)
            self.scene.render(self.camera, w, h)
            self.ctx.swapBuffers(self.win)
            loop.processEvents()
            frames += 1
        return frames / (time.perf_counter() - t0)

    def close(self) -> None:
        self.ctx.makeCurrent(self.win)
        self.scene.release()
        self.ctx.doneCurrent()
        self.win.destroy()


def run_viewport(vp, loop, seconds: float, static: bool) -> tuple[float, float]:
    """(fps, median paint ms) of the real Viewport re-posed on every swapped frame."""
    import numpy as np

    from core_models.pose import Pose

    full, base = np.zeros((22, 3), np.float32), Pose.zeros()
    state = {"frames": 0, "paint_ms": []}

    def next_frame():
        if static:
            vp.update()
        else:
            vp.set_pose(pose_at(state["frames"], full, base))
        state["frames"] += 1
        state["paint_ms"].append(vp.last_frame_ms())

    vp.frameSwapped.connect(next_frame)
    try:
        next_frame()
        _pump(loop, 0.3)  # warm-up
        state["frames"], state["paint_ms"] = 0, []
        t0 = time.perf_counter()
        _pump(loop, seconds)
        el = time.perf_counter() - t0
        frames = state["frames"]
    finally:
        vp.frameSwapped.disconnect(next_frame)
        _pump(loop, 0.05)
    return frames / el, statistics.median(state["paint_ms"] or [0.0])


def measure(body, loop, w: int, h: int, inset: bool, a) -> dict:
    """Viewport and bare loop alternated ``a.rounds`` times at one size / inset setting."""
    from app.viewport.widget import Viewport

    vp = Viewport(samples=0)
    vp.resize(w, h)
    vp.set_body(body)
    vp.set_selected_joint(16)
    vp.set_show_inset(inset)
    vp.show()
    _pump(loop, 0.8)
    vps, bares, paint = [], [], []
    for _ in range(a.rounds):
        fps, ms = run_viewport(vp, loop, a.seconds, a.static)
        vps.append(fps)
        paint.append(ms)
        vp.hide()
        bare = BareLoop(vp, body, w, h)
        _pump(loop, 0.3)
        bare.run(loop, 0.3, a.static)  # warm-up
        bares.append(bare.run(loop, a.seconds, a.static))
        bare.close()
        vp.show()
        _pump(loop, 0.3)
    info = vp.gl_info
    vp.close()
    vp.deleteLater()
    _pump(loop, 0.1)
    v, b = statistics.median(vps), statistics.median(bares)
    pairs = [x / y for x, y in zip(vps, bares)]  # each viewport run against the bare run right after it
    return {"size": f"{w}x{h}", "inset": inset, "viewport_fps": round(v, 1), "bare_fps": round(b, 1),
            "ratio": round(statistics.median(pairs), 3), "best_ratio": round(max(vps) / max(bares), 3),
            "best_viewport_fps": round(max(vps), 1), "paint_ms": round(statistics.median(paint), 2), "gl": info,
            "viewport_runs": [round(x, 1) for x in vps], "bare_runs": [round(x, 1) for x in bares]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement")
    ap.add_argument("--rounds", type=int, default=2, help="viewport/bare alternations per configuration")
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--inset", choices=("both", "on", "off"), default="both")
    ap.add_argument("--static", action="store_true", help="do not change the pose (draw only)")
    a = ap.parse_args()
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and not os.environ.get("_BENCH_XVFB"):
        env = dict(os.environ, _BENCH_XVFB="1", QT_QPA_PLATFORM="xcb")
        env.pop("PYOPENGL_PLATFORM", None)
        os.execvpe("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1920x1200x24", sys.executable, *sys.argv], env)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from app.viewport.widget import configure_default_format
    from core_models.body import load_body

    configure_default_format(samples=0, swap_interval=0)
    app = QApplication(sys.argv)  # noqa: F841  (kept alive for the whole run)
    # QEventLoop.processEvents: PySide6 6.12.0's static QCoreApplication.processEvents() leaks a None ref per call
    loop = QEventLoop()
    body = load_body("anny")
    insets = {"both": (False, True), "on": (True,), "off": (False,)}[a.inset]
    results = []
    for size in a.sizes.split(","):
        w, h = (int(x) for x in size.split("x"))
        for inset in insets:
            r = measure(body, loop, w, h, inset, a)
            results.append(r)
            print(f"{r['size']} inset {'on ' if inset else 'off'}: viewport {r['viewport_fps']:6.1f} fps "
                  f"(best {r['best_viewport_fps']:.1f}; paint {r['paint_ms']:.1f} ms)  bare loop {r['bare_fps']:6.1f} "
                  f"fps  ratio {r['ratio']:.2f} (paired median; bests {r['best_ratio']:.2f})  "
                  f"runs {r['viewport_runs']} / {r['bare_runs']}", flush=True)
    print(f"GL: {results[0]['gl'] if results else '?'}; pose change every frame: {not a.static}")
    print(json.dumps({"name": "viewport_fps", "results": [{k: v for k, v in r.items() if k != "gl"}
                                                          for r in results]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
