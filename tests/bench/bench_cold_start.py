"""Benchmark: process start → first rendered viewport frame, in seconds (a fresh Python process each run).

    .venv/bin/python tests/bench/bench_cold_start.py [--runs 3] [--viewport-only]

By default the real app starts (``main.py`` → app.main_window.run_app) and the time to the first viewport
frame that shows the body is reported; ``--viewport-only`` measures a bare Viewport + Anny body. Needs an
X display; re-runs itself under xvfb-run if there is none (the X server start is not counted).
Each run is split into: interpreter (process start → first line of the script), imports (main.py and the GUI
modules), window (QApplication + main window built and shown), first frame (→ the first frame with the body);
it also says whether torch had been imported by then. Medians of ``--runs`` runs.
Last line: {"name": "cold_start_first_frame_s", "value": ..., "unit": "s", "breakdown": {...}}
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
import time
print("T_PY", time.time(), flush=True)
import os, sys
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
        print("TORCH", int("torch" in sys.modules), flush=True)
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
    import app.main_window as M
    print("T_IMPORTS", time.time(), flush=True)
    _show = M.MainWindow.show
    def show(self):
        _show(self)
        print("T_WINDOW", time.time(), flush=True)
    M.MainWindow.show = show
    main.main([])
"""


def run_once(viewport_only: bool) -> dict:
    """One fresh process: seconds from its start to each milestone (T_PY, T_IMPORTS, T_WINDOW, FIRST_FRAME,
    BODY_FRAME) and whether torch was loaded at the body frame."""
    code = CHILD.format(root=str(ROOT), viewport_only=viewport_only)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    env.pop("PYOPENGL_PLATFORM", None)
    t0 = time.time()
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    marks: dict = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("T_PY", "T_IMPORTS", "T_WINDOW", "FIRST_FRAME", "BODY_FRAME"):
            marks.setdefault(parts[0], float(parts[1]) - t0)
        elif len(parts) == 2 and parts[0] == "TORCH":
            marks["torch"] = bool(int(parts[1]))
    if "BODY_FRAME" not in marks:
        raise RuntimeError(f"no frame with the body was drawn; stderr tail:\n{err[-1500:]}")
    return marks


def breakdown(m: dict) -> dict:
    """Stage durations (s) from one run's milestones."""
    py = m.get("T_PY", 0.0)
    imp = m.get("T_IMPORTS", py)
    win = m.get("T_WINDOW", imp)
    return {"interpreter": py, "imports": imp - py, "window": win - imp, "first_frame": m["BODY_FRAME"] - win}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--viewport-only", action="store_true")
    a = ap.parse_args()
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and not os.environ.get("_BENCH_XVFB"):
        env = dict(os.environ, _BENCH_XVFB="1")
        os.execvpe("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, *sys.argv], env)
    runs = []
    for i in range(a.runs):
        m = run_once(a.viewport_only)
        runs.append(m)
        b = breakdown(m)
        print(f"run {i + 1}: first frame {m.get('FIRST_FRAME', float('nan')):.2f} s, with the body "
              f"{m['BODY_FRAME']:.2f} s = interpreter {b['interpreter']:.2f} + imports {b['imports']:.2f} + window "
              f"{b['window']:.2f} + first frame {b['first_frame']:.2f}; torch loaded: {m.get('torch')}", flush=True)
    what = "bare viewport" if a.viewport_only else "main.py (full app)"
    med = statistics.median(m["BODY_FRAME"] for m in runs)
    parts = {k: round(statistics.median(breakdown(m)[k] for m in runs), 3)
             for k in ("interpreter", "imports", "window", "first_frame")}
    print(f"{what}: median first frame with the body {med:.2f} s; median stages {parts}")
    print(json.dumps({"name": "cold_start_first_frame_s", "value": round(med, 2), "unit": "s", "breakdown": parts,
                      "torch_loaded": any(m.get("torch") for m in runs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
