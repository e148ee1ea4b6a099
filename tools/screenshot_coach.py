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

import numpy as np

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


def render_frames(folder: Path, script: str = RENDER) -> None:
    env = dict(os.environ, PYOPENGL_PLATFORM="egl")
    subprocess.run([sys.executable, "-c", script, str(folder)], cwd=ROOT, env=env, check=True, timeout=600)


RENDER_OWN = r"""
import sys, numpy as np, cv2
sys.path.insert(0, "tools")
from core_models.body import load_body
from core_models.render.offscreen import render_pose_image
from screenshot_coach import own_pose
pose = own_pose()
np.save(sys.argv[1] + "/pose.npy", np.concatenate([pose.root_orient.reshape(1, 3), pose.body_pose.reshape(21, 3)]))
img = render_pose_image(load_body("anny"), pose, size=(640, 480), view="front")
cv2.imwrite(sys.argv[1] + "/own.png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
"""


def own_pose():
    """Mountain with both arms raised 70° out to the sides: a pose with no shipped templates."""
    import roma
    import torch

    from core_models import skeleton as sk
    from core_models.library import load_builtin

    p = {q.slug: q.pose for q in load_builtin()}["mountain"].copy()
    for name, deg in (("left_shoulder", 70.0), ("right_shoulder", -70.0)):
        j = sk.JOINT_INDEX[name] - 1
        R = roma.rotvec_to_rotmat(torch.tensor(p.body_pose[j], dtype=torch.float64))
        Rz = roma.rotvec_to_rotmat(torch.tensor([0.0, 0.0, np.deg2rad(deg)]))
        p.body_pose[j] = roma.rotmat_to_rotvec(Rz @ R).numpy().astype(np.float32)
    return p


def feed(panel, engine, pose, preview, t0: float, seconds: float, app):
    """``seconds`` of engine updates at 10 Hz with ``pose``; every state painted by the panel. Returns the last."""
    state = None
    for i in range(int(round(seconds * 10))):
        state = engine.update(t0 + i / 10.0, pose, None)
        panel.show_state(state, preview)
        app.processEvents()
    return state


def open_window():
    """The real main window with the Coach dock raised (the Qt application is created here)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    from app.viewport.widget import configure_default_format

    configure_default_format()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.main_window import MainWindow

    w = MainWindow()
    w.resize(1600, 1000)
    w.show()
    w.startup([], check_recovery=False)
    pump(app, until=lambda: "loading" not in w.lbl_backend.text(), timeout=180)
    w.feature_docks["dock_coach"].raise_()
    w.resizeDocks([w.feature_docks["dock_coach"]], [470], Qt.Orientation.Horizontal)
    if hasattr(w.viewport, "set_view"):
        w.viewport.set_view("front")
    return app, w, w.feature_panels["dock_coach"]


def coach_shots(app, w, panel, frames: Path, out: Path) -> None:
    """The dock on Tree with the left leg straight, then the full window after the correction (timer counting)."""
    from PySide6.QtGui import QImage

    from core_models.coach.targets import Routine, target_from_library
    from core_models.library import load_builtin

    lib = {p.slug: p.pose for p in load_builtin()}
    engine = panel.make_engine(Routine("Tree", [target_from_library("tree", 20.0)]))
    panel._routine_len = 1
    bad, good = QImage(str(frames / "deviated.png")), QImage(str(frames / "target.png"))
    feed(panel, engine, deviated(lib), bad, 0.0, 3.0, app)
    if hasattr(w.viewport, "frame_body"):
        w.viewport.frame_body()
    pump(app, 1.5)
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


def frame_landmarks(path: Path):
    """MediaPipe (lite, image mode) on the rendered frame: the engine compares landmarks with the templates."""
    import cv2

    from core_models.capture.landmarks import LandmarkDetector

    det = LandmarkDetector("lite", mode="image")
    try:
        lm = det.detect(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), 0.0)
    finally:
        det.close()
    if lm is None:
        raise RuntimeError(f"MediaPipe found nobody in {path}")
    return lm


def templates_shot(app, w, panel, frames: Path, out: Path) -> None:
    """The dock while the own pose's templates are built (a fresh template cache forces a real build); taken at
    view 4 of 7, then the build is waited for so that the child process ends with the script."""
    import time

    from PySide6.QtGui import QImage

    from core_models.coach import templates as T
    from core_models.coach.targets import CoachTarget, Routine

    T.CACHE_DIR = Path(tempfile.mkdtemp())
    pose = own_pose()
    w.doc.push_pose(pose, "arms out")
    panel.target_combo.setCurrentIndex(panel.target_combo.findData("__current__"))
    engine = panel.make_engine(Routine("My pose", [CoachTarget("Current pose", pose, 20.0)]))
    panel._routine_len = 1
    img, shot = QImage(str(frames / "own.png")), False
    lm = frame_landmarks(frames / "own.png")
    for i in range(3000):
        st = engine.update(i / 10.0, pose, lm)
        panel._send_template_status(engine)  # (the coach thread does this in a live session)
        panel.show_state(st, img)
        app.processEvents()
        text = panel.template_label.text()
        if not shot and "view 4/7" in text:
            pump(app, 0.3)
            w.feature_docks["dock_coach"].grab().save(str(out / "coach_panel_templates.png"))
            shot = True
            print(out / "coach_panel_templates.png", "|", text, "|", panel.message_label.text(), flush=True)
        if "captured views" in text or "compared with" in text:
            print("templates:", text, flush=True)
            return
        time.sleep(0.05)
    raise RuntimeError(f"the template build did not finish: {panel.template_label.text()!r}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/coach")
    ap.add_argument("--templates", action="store_true", help="only the template-build picture")
    args = ap.parse_args()
    for k in ("POSETAILOR_CONFIG_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        os.environ.setdefault(k, tempfile.mkdtemp())
    frames = Path(tempfile.mkdtemp())
    render_frames(frames, RENDER_OWN if args.templates else RENDER)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app, w, panel = open_window()
    (templates_shot if args.templates else coach_shots)(app, w, panel, frames, out)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
