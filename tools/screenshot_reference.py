"""README screenshot of the reference image in the real main window (real GL viewport under Xvfb).

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python tools/screenshot_reference.py [--image PATH] [--out docs/screenshots/reference_image.png]

Loads a photo as the viewport background (the Reference panel), runs "Pose from this image" (body turned to face
the view, the photo fitted over the posed body) and grabs the window. The default photo is OpenCV's basketball1.png
(Debian opencv-doc, also used by the capture tests)."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _qtpump import pump  # noqa: E402




def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", default="/usr/share/doc/opencv-doc/examples/data/basketball1.png")
    ap.add_argument("--out", default="docs/screenshots/reference_image.png")
    ap.add_argument("--opacity", type=float, default=0.6)
    ap.add_argument("--view", default="front")
    args = ap.parse_args()
    for k in ("POSETAILOR_DATA", "POSETAILOR_CONFIG"):  # the user's settings, library and autosaves stay untouched
        os.environ.setdefault(k, tempfile.mkdtemp())
    from PySide6.QtWidgets import QApplication

    from app.viewport.widget import configure_default_format

    configure_default_format()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.main_window import MainWindow

    w = MainWindow()
    w.resize(1366, 800)
    w.show()
    w.startup([], check_recovery=False)
    pump(app, until=lambda: w.body is not None, timeout=180)
    panel = w.feature_panels["dock_reference"]
    w.feature_docks["dock_reference"].raise_()
    w.viewport.set_view(args.view)
    panel.load_file(args.image)
    pump(app, until=lambda: panel.image is not None, timeout=60)
    panel.opacity.setValue(int(round(args.opacity * 100)))
    t0 = time.perf_counter()
    panel.pose_from_image()
    pump(app, until=lambda: panel.last_result is not None and panel._pose_job is None, timeout=300)
    seconds = time.perf_counter() - t0
    pump(app, 1.5)  # the settled (anti-aliased) frame
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(out))
    r = panel.last_result
    vp_size = f"{w.viewport.width()}x{w.viewport.height()}"
    print(out, "|", r.status, f"people={r.people} confidence={r.confidence:.3f} regressor={r.regressor}",
          f"pose-from-image {seconds:.2f} s (first call: includes loading the pipeline)",
          f"fit: median landmark-to-joint distance {panel.fit_error_px:.1f} px in a {vp_size} view", "|",
          panel.status.text())
    w._closing_ok = True
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
