"""The Coach panel's speed in the real main window (GL viewport, Xvfb): frames coached per second and latency from a
frame to its score on screen, against the Capture panel alone on the same clip in the same run (the reference).

    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python tools/bench_coach_gui.py [--seconds 12] [--regressor auto] [--rounds 2]

The clip (rendered headless in a child process: Mountain, then Warrior II) is read as fast as the pipeline goes, so
"fps" is throughput (clip frames / wall time; both panels process every frame): a 30 fps camera needs 30. The GUI
paints only the newest state, so "painted" per second can be lower. Latency per painted state = the capture's own
total (MediaPipe + filter + regressor, including its wait in the overlap queue) + engine + hand-off to the GUI
thread + painting (panel, figure, 3D body and ghost). Ends with JSON lines {"name", "value", "unit"}.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _qtpump import pump  # noqa: E402

RENDER = r"""
import sys, cv2
from core_models.body import load_body
from core_models.library import load_builtin
from core_models.render.offscreen import render_pose_image
lib = {p.slug: p.pose for p in load_builtin()}
body = load_body("anny")
w = cv2.VideoWriter(sys.argv[1], cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (640, 480))
half = int(float(sys.argv[2]) * 15)
for name in ("mountain", "warrior_ii"):
    img = cv2.cvtColor(render_pose_image(body, lib[name], size=(640, 480), view="front"), cv2.COLOR_RGB2BGR)
    for _ in range(half):
        w.write(img)
w.release()
"""


def run_panel(app, panel, clip: Path, regressor: str, timeout: float = 600.0) -> dict:
    """Run one panel over the clip; times from its first frame on screen (model loading is not coaching)."""
    panel.source_kind.setCurrentIndex(1)
    panel.path_edit.setText(str(clip))
    panel.regressor.setCurrentText(regressor)
    first: list[float] = []
    coach = hasattr(panel, "routine_list")
    sig = panel.stateShown if coach else panel.poseCaptured
    sig.connect(lambda *_: first.append(time.perf_counter()) if not first else None)
    if coach:
        panel.report_dir.setText(tempfile.mkdtemp())
    else:
        panel.drive_body.setChecked(True)
    before = panel.states_shown if coach else panel.frames_shown  # the Capture panel's count runs on across takes
    panel.start()
    pump(app, 0.2)
    pump(app, until=lambda: not panel.running, timeout=timeout)
    wall = time.perf_counter() - first[0]
    shown = (panel.states_shown if coach else panel.frames_shown) - (0 if coach else before)
    out = {"wall_s": wall, "shown": shown, "shown_fps": shown / wall}
    if coach:
        lat = np.asarray(panel.latencies_ms, float)
        out.update(updates=len(panel.timeline), latency_median_ms=float(np.median(lat)),
                   latency_p90_ms=float(np.percentile(lat, 90)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=12.0, help="clip length (30 fps)")
    ap.add_argument("--regressor", default="auto")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    for k in ("POSETAILOR_CONFIG_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        os.environ.setdefault(k, tempfile.mkdtemp())
    clip = Path(tempfile.mkdtemp()) / "bench.mp4"
    subprocess.run([sys.executable, "-c", RENDER, str(clip), str(args.seconds)], cwd=ROOT, check=True,
                   env=dict(os.environ, PYOPENGL_PLATFORM="egl"), timeout=600)
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    from app.viewport.widget import configure_default_format

    configure_default_format()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.main_window import MainWindow
    from core_models.coach.targets import target_from_library

    w = MainWindow()
    w.resize(1600, 1000)
    w.show()
    w.startup([], check_recovery=False)
    pump(app, until=lambda: "loading" not in w.lbl_backend.text(), timeout=180)
    coach, capture = w.feature_panels["dock_coach"], w.feature_panels["dock_capture"]
    coach.speaker.mute()
    coach.routine_list.clear()
    coach._add_step(target_from_library("warrior_ii", 60.0))
    rows = []
    for r in range(args.rounds):
        for name, panel, dock in (("capture", capture, "dock_capture"), ("coach", coach, "dock_coach")):
            w.feature_docks[dock].raise_()
            res = run_panel(app, panel, clip, args.regressor)
            res.update(name=name, round=r)
            rows.append(res)
            print(json.dumps(res))
    cap = [x for x in rows if x["name"] == "capture"]
    co = [x for x in rows if x["name"] == "coach"]
    frames = int(round(args.seconds * 30))
    fps = frames / float(np.median([x["wall_s"] for x in co]))
    cap_fps = frames / float(np.median([x["wall_s"] for x in cap]))
    lat = float(np.median([x["latency_median_ms"] for x in co]))
    print(f"{frames} frames: coach {fps:.1f} frames/s vs the Capture panel alone {cap_fps:.1f} frames/s "
          f"({fps / cap_fps:.2f}x); painted {np.median([x['shown_fps'] for x in co]):.1f} vs "
          f"{np.median([x['shown_fps'] for x in cap]):.1f} per second; latency median {lat:.0f} ms, "
          f"p90 {np.median([x['latency_p90_ms'] for x in co]):.0f} ms")
    for name, value, unit in (("coach_gui_fps", fps, "frames/s"), ("coach_vs_capture_ratio", fps / cap_fps, "x"),
                              ("coach_gui_latency_median", lat, "ms")):
        print(json.dumps({"name": name, "value": round(float(value), 3), "unit": unit}))
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
