"""Benchmark: process start → first rendered viewport frame, in seconds (a fresh Python process each run).

    .venv/bin/python tests/bench/bench_cold_start.py [--runs 3] [--viewport-only]

By default the real app starts (``main.py`` → app.main_window.run_app) and the time to the first viewport
frame that shows the body is reported; ``--viewport-only`` measures a bare Viewport + Anny body. Needs an
X display; re-runs itself under xvfb-run if there is none (the X server start is not counted).
Last line: {"name": "cold_start_first_frame_s", "value": ..., "unit": "s"}
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, sys, time
sys.path.insert(0, {root!r})
import app.viewport.widget as W
_orig = W.Viewport.paintGL
_seen = {{"first": None}}
def paintGL(self):
    _orig(self)
    now = time.time()
    if _seen["first"] is None:
        _seen["first"] = now
        print("FIRST_FRAME", now, flush=True)
    if self._body is not None and self._gl_ok:
        print("BODY_FRAME", now, flush=True)
        os._exit(0)
    self.update()
W.Viewport.paintGL = paintGL
if {viewport_only!r}:
    from PySide6.QtWidgets import QApplication
    W.configure_default_format()
    app = QApplication([])
    from core_models.body import load_body
    v = W.Viewport()
    v.resize(1280, 720)
    v.set_body(load_body("anny"))
    v.show()
    app.exec()
else:
    sys.argv = ["main.py"]
    import main
    main.main([])
"""


def run_once(viewport_only: bool) -> tuple[float, float]:
    code = CHILD.format(root=str(ROOT), viewport_only=viewport_only)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    env.pop("PYOPENGL_PLATFORM", None)
    t0 = time.time()
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    first = body = None
    try:
        out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    for line in out.splitlines():
        if line.startswith("FIRST_FRAME") and first is None:
            first = float(line.split()[1]) - t0
        if line.startswith("BODY_FRAME") and body is None:
            body = float(line.split()[1]) - t0
    if body is None:
        raise RuntimeError(f"no frame with the body was drawn; stderr tail:\n{err[-1500:]}")
    return first, body


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--viewport-only", action="store_true")
    a = ap.parse_args()
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and not os.environ.get("_BENCH_XVFB"):
        env = dict(os.environ, _BENCH_XVFB="1")
        os.execvpe("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, *sys.argv], env)
    firsts, bodies = [], []
    for i in range(a.runs):
        f, b = run_once(a.viewport_only)
        firsts.append(f)
        bodies.append(b)
        print(f"run {i + 1}: first frame {f:.2f} s, first frame with the body {b:.2f} s")
    what = "bare viewport" if a.viewport_only else "main.py (full app)"
    print(f"{what}: median first frame {statistics.median(firsts):.2f} s, with body {statistics.median(bodies):.2f} s")
    print(json.dumps({"name": "cold_start_first_frame_s", "value": round(statistics.median(bodies), 2), "unit": "s"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
