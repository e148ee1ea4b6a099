"""README screenshot of drag-pose mode in the real main window (real GL viewport under Xvfb).

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python tools/screenshot_drag_pose.py [--out docs/screenshots/drag_pose.png]

Mountain pose from the library, Edit > Drag pose on, both ankles pinned (red), the right wrist being dragged up
and out (yellow handle; the status bar shows the reach error); the mouse button is still held when the window is
grabbed, so the shot shows a drag in progress."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _qtpump import pump  # noqa: E402




def _mouse(vp, kind: str, x: float, y: float) -> None:
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    t = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove}[kind]
    p = QPointF(x, y)
    left = Qt.MouseButton.LeftButton
    button = left if kind == "press" else Qt.MouseButton.NoButton
    QApplication.sendEvent(vp, QMouseEvent(t, p, vp.mapToGlobal(p), button, left, Qt.KeyboardModifier.NoModifier))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/screenshots/drag_pose.png")
    ap.add_argument("--pose", default="mountain", help="library pose to start from")
    ap.add_argument("--handle", default="right_wrist")
    ap.add_argument("--by", type=float, nargs=2, default=(-40.0, -120.0), help="cursor motion (pixels)")
    args = ap.parse_args()
    for k in ("POSETAILOR_DATA", "POSETAILOR_CONFIG"):  # the user's settings, library and autosaves stay untouched
        os.environ.setdefault(k, tempfile.mkdtemp())
    from PySide6.QtWidgets import QApplication

    from app.viewport.widget import configure_default_format

    configure_default_format()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.main_window import MainWindow
    from core_models.library import load_builtin

    lib = {p.slug: p.pose for p in load_builtin()}
    w = MainWindow()
    w.resize(1366, 800)
    w.show()
    w.startup([], check_recovery=False)
    pump(app, until=lambda: w.body is not None, timeout=180)
    w.doc.push_pose(lib[args.pose].copy(), args.pose)
    vp = w.viewport
    vp.set_view("three_quarter")
    w.acts["drag_pose"].trigger()
    pump(app, until=lambda: w._autoposer_state not in ("", "loading"), timeout=120)
    vp.set_pinned("left_ankle", True)
    vp.set_pinned("right_ankle", True)
    p = vp.handle_screen_pos(args.handle)
    x0, y0 = p.x(), p.y()
    _mouse(vp, "press", x0, y0)
    for k in range(1, 13):
        _mouse(vp, "move", x0 + args.by[0] * k / 12, y0 + args.by[1] * k / 12)
        pump(app, 0.03)
    pump(app, 1.5)  # the settled (anti-aliased) frame
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(out))
    print(out, "|", w.statusBar().currentMessage())
    w._closing_ok = True
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
