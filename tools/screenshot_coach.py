"""README screenshots of the coach: the Coach dock in the real main window (GL viewport: the live body with its
off joints coloured and the target as a ghost) and the full-window mode, under Xvfb.

    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python tools/screenshot_coach.py [--out docs/coach]

What is shown is real output of the coach engine, not mock-up text: target Tree (hold 20 s); the "camera" frame is
the body model rendered headless (EGL, in a child process) in Tree with the left leg straight — the deviation a
person makes most often — and the engine gets that frame's true pose for 3 s (10 updates a second; the capture's
own accuracy is measured elsewhere). The full-window picture is then taken after the leg is corrected and held
for 4.2 s (timer counting).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _qtpump import pump  # noqa: E402

RENDER = r"""
import sys, numpy as np, cv2
from core_models.body import load_body
from core_models.library import load_builtin
from core_models.render.offscreen import render_pose_image
sys.path.insert(0, "tools")
from screenshot_coach import deviated
lib = {p.slug: p.pose for p in load_builtin()}
body = load_body("anny")
for name, pose in (("deviated", deviated(lib)), ("target", lib["tree"])):
    img = render_pose_image(body, pose, size=(640, 480), view="front")
    cv2.imwrite(sys.argv[1] + f"/{name}.png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
"""


def deviated(lib):
    """Tree with the left leg straight (the bent leg's hip and knee from Mountain)."""
    from core_models import skeleton as sk

    p = lib["tree"].copy()
    for name in ("left_hip", "left_knee"):
        j = sk.JOINT_INDEX[name] - 1
        p.body_pose[j] = lib["mountain"].body_pose[j]
    return p


def render_frames(folder: Path) -> None:
    env = dict(os.environ, PYOPENGL_PLATFORM="egl")
    subprocess.run([sys.executable, "-c", RENDER, str(folder)], cwd=ROOT, env=env, check=True, timeout=600)


def feed(panel, engine, pose, preview, t0: float, seconds: float, app):
    """``seconds`` of engine updates at 10 Hz with ``pose``; every state painted by the panel. Returns the last."""
    state = None
    for i in range(int(round(seconds * 10))):
        state = engine.update(t0 + i / 10.0, pose, None)
        panel.show_state(state, preview)
        app.processEvents()
    return state


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/coach")
    args = ap.parse_args()
    for k in ("POSETAILOR_CONFIG_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        os.environ.setdefault(k, tempfile.mkdtemp())
    frames = Path(tempfile.mkdtemp())
    render_frames(frames)
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    from app.viewport.widget import configure_default_format

    configure_default_format()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.main_window import MainWindow
    from core_models.coach.targets import Routine, target_from_library
    from core_models.library import load_builtin

    lib = {p.slug: p.pose for p in load_builtin()}
    w = MainWindow()
    w.resize(1600, 1000)
    w.show()
    w.startup([], check_recovery=False)
    pump(app, until=lambda: "loading" not in w.lbl_backend.text(), timeout=180)
    w.feature_docks["dock_coach"].raise_()
    w.resizeDocks([w.feature_docks["dock_coach"]], [470], Qt.Orientation.Horizontal)
    panel = w.feature_panels["dock_coach"]
    if hasattr(w.viewport, "set_view"):
        w.viewport.set_view("front")
    engine = panel.make_engine(Routine("Tree", [target_from_library("tree", 20.0)]))
    panel._routine_len = 1
    bad, good = QImage(str(frames / "deviated.png")), QImage(str(frames / "target.png"))
    feed(panel, engine, deviated(lib), bad, 0.0, 3.0, app)
    if hasattr(w.viewport, "frame_body"):
        w.viewport.frame_body()
    pump(app, 1.5)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(out / "coach_panel.png"))
    print(out / "coach_panel.png", "|", panel.message_label.text())
    panel.toggle_full_window()
    fw = panel.full_window
    fw.showNormal()  # (Xvfb has no window manager to make it full screen)
    fw.setGeometry(0, 0, 1600, 900)
    pump(app, 0.5)
    feed(panel, engine, lib["tree"], good, 3.0, 4.2, app)
    pump(app, 1.0)
    fw.grab().save(str(out / "coach_full_window.png"))
    print(out / "coach_full_window.png", "|", fw.message.text(), "|", fw.timer.text())
    fw.close()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
