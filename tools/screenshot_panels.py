"""README screenshots of the learned-feature panels in the real main window (real GL viewport under Xvfb).

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python tools/screenshot_panels.py [--out docs/screenshots]

Text Edit: Mountain pose + "Raise your left arm above your head." applied (mean edit + alternatives strip).
Correction: current pose Mountain → library Tree, learned and rule-based texts, differing joints highlighted.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _qtpump import pump  # noqa: E402




def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/screenshots")
    args = ap.parse_args()
    import os
    os.environ.setdefault("POSETAILOR_CONFIG_DIR", tempfile.mkdtemp())
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp())
    os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp())
    import torch
    torch.set_num_threads(1)
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    from app.viewport.widget import configure_default_format
    configure_default_format()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.main_window import MainWindow
    from core_models.library import load_builtin

    lib = {p.slug: p.pose for p in load_builtin()}
    w = MainWindow()
    w.resize(1560, 960)
    w.show()
    w.startup([], check_recovery=False)
    pump(app, until=lambda: "loading" not in w.lbl_backend.text(), timeout=180)
    pump(app, 2.0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # Text Edit
    w.doc.push_pose(lib["mountain"].copy(), "Mountain")
    w.feature_docks["dock_text_edit"].raise_()
    te = w.feature_panels["dock_text_edit"]
    pump(app, 0.5)
    te.apply_text("Raise your left arm above your head.")
    # the request waits while the editor model loads (_loading / _pending), then runs (_busy)
    pump(app, until=lambda: te._loading is None and te._pending is None and not te._busy, timeout=240)
    pump(app, 2.0)
    w.grab().save(str(out / "text_edit_panel.png"))
    print(out / "text_edit_panel.png")

    # Correction: Mountain → Tree
    w.dock_text_edit.lower() if hasattr(w, "dock_text_edit") else None
    w.doc.push_pose(lib["mountain"].copy(), "Mountain")
    w.feature_docks["dock_correction"].raise_()
    cp = w.feature_panels["dock_correction"]
    pump(app, 0.5)
    cp.select(cp.combo_b, "tree")
    cp.compare()
    pump(app, until=lambda: cp.rules_text.toPlainText() != "" and not cp.busy and not cp._timer.isActive(),
         timeout=120)
    pump(app, 2.0)
    w.grab().save(str(out / "correction_panel.png"))
    print(out / "correction_panel.png")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
