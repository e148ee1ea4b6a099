"""The whole app with the real OpenGL viewport and the Anny body (needs Xvfb: scripts/test.sh)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from _apptest_util import RecordingDialogs, pump

from core_models import skeleton as sk
from core_models.session import poses_equal

pytestmark = [
    pytest.mark.gl,
    pytest.mark.skipif(not os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"),
                       reason="needs an X display with GL (run under xvfb-run with QT_QPA_PLATFORM=xcb)"),
]


def test_full_window_real_viewport(qapp, tmp_path):
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from app.window_body import anny_cached
    from core_models import autosave as au

    if not anny_cached(None):
        pytest.skip("the Anny layer is not cached yet (run `python main.py warmup`)")
    d = RecordingDialogs()
    m = au.AutosaveManager(tmp_path / "data")
    m.start()
    w = MainWindow(dialogs=d, autosave=m)
    assert not isinstance(w.viewport, FallbackViewport), getattr(w.viewport, "reason", "")
    w.resize(1280, 760)
    w.show()
    w.startup([], check_recovery=False)
    try:
        assert pump(until=lambda: w.body is not None, timeout=60), "body did not load"
        assert d.errors == []
        assert w.lbl_backend.text() == "Body: anny"
        # edit through the panel: the viewport follows, undo restores exactly
        start = w.doc.pose()
        w.properties.set_selected_joint(sk.JOINT_INDEX["left_shoulder"])
        s = w.properties.sliders[2]
        s.setSliderDown(True)
        for v in range(0, -700, -100):
            s.setValue(v)
        s.setSliderDown(False)
        assert w.doc.undo_stack.count() == 1
        assert poses_equal(w.viewport.pose(), w.doc.pose())
        pump(0.3)
        img = w.viewport.grab_image()
        arr = np.frombuffer(img.convertToFormat(img.Format.Format_RGBA8888).constBits(), np.uint8)
        assert arr.reshape(img.height(), img.width(), 4)[..., :3].std() > 5  # something is drawn
        # viewport gizmo edits come back as one undo step
        old, new = w.doc.pose(), w.doc.pose().with_joint(sk.JOINT_INDEX["head"], np.array([0.3, 0, 0], np.float32))
        w.viewport.poseEditFinished.emit(old, new, "Rotate head")
        assert w.doc.undo_stack.count() == 2 and poses_equal(w.doc.pose(), new)
        w.acts["undo"].trigger()
        w.acts["undo"].trigger()
        assert poses_equal(w.doc.pose(), start) and poses_equal(w.viewport.pose(), start)
        # selection in the viewport shows in the panel and the status bar
        w.viewport.jointSelected.emit(sk.JOINT_INDEX["right_knee"])
        assert w.properties.selected_joint() == sk.JOINT_INDEX["right_knee"]
        assert "Right knee" in w.lbl_joint.text()
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()
        pump(0.05)


def test_models_load_in_the_background_after_the_first_body_frame(qapp, tmp_path):
    """run_app's warm-up: nothing loads before the body is on screen, then the editor loads off the GUI thread
    and the status bar says so."""
    import threading

    from app.main_window import MainWindow, warm_up_after_first_frame
    from app.viewport.fallback import FallbackViewport
    from app.window_body import anny_cached
    from core_models import autosave as au
    from core_models.services import ModelServices

    if not anny_cached(None):
        pytest.skip("the Anny layer is not cached yet (run `python main.py warmup`)")
    calls = []

    class FakeEditor:
        encoder = object()

    def load():
        calls.append(threading.current_thread() is threading.main_thread())
        return FakeEditor()

    m = au.AutosaveManager(tmp_path / "data")
    m.start()
    w = MainWindow(dialogs=RecordingDialogs(), autosave=m, services=ModelServices(loaders={"editor": load}))
    assert not isinstance(w.viewport, FallbackViewport), getattr(w.viewport, "reason", "")
    drawn = []
    w.viewport.bodyDrawn.connect(lambda: drawn.append(calls[:]))
    warm_up_after_first_frame(w)
    w.resize(900, 600)
    w.show()
    try:
        pump(0.3)
        assert calls == []  # no body yet: nothing loads
        w.startup([], check_recovery=False)
        assert pump(until=lambda: "Models ready" in w.statusBar().currentMessage(), timeout=60), \
            w.statusBar().currentMessage()
        assert drawn == [[]]  # the body frame came first, then the loading
        assert calls == [False]  # loaded once, off the GUI thread
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()
        pump(0.05)


def test_file_dropped_on_the_gl_viewport_opens(qapp, tmp_path, monkeypatch):
    """The viewport's native GL window hands drag-and-drop events to the widgets, so a pose file dropped on the
    3D view opens like one dropped anywhere else on the window."""
    from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import autosave as au

    m = au.AutosaveManager(tmp_path / "data")
    m.start()
    w = MainWindow(dialogs=RecordingDialogs(), autosave=m)
    assert not isinstance(w.viewport, FallbackViewport), getattr(w.viewport, "reason", "")
    opened = []
    monkeypatch.setattr(w, "open_file", lambda f: opened.append(f))
    f = tmp_path / "pose.npz"
    f.write_bytes(b"")
    w.resize(900, 600)
    w.show()
    try:
        pump(0.3)
        win = w.viewport.gl_window()
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(f))])
        p = QPointF(win.width() / 2, win.height() / 2)
        enter = QDragEnterEvent(p.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(win, enter)
        assert enter.isAccepted()
        drop = QDropEvent(p, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier, QEvent.Type.Drop)
        QApplication.sendEvent(win, drop)
        assert opened == [str(f)]
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()
        pump(0.05)
