"""Capture panel inside the real main window (stand-in viewport, tiny body): a video file drives the body live
off the GUI thread (one merged undo step), preview + overlay + readout, freeze, capture to library, and a
missing camera reported without a crash."""
from __future__ import annotations

import numpy as np
import pytest
from _apptest_util import RecordingDialogs, pump, tiny_body

from core_models.session import poses_equal


@pytest.fixture
def win(qapp, tmp_path):
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st

    w = MainWindow(settings=st.defaults(), body=tiny_body(), viewport=FallbackViewport(),
                   dialogs=RecordingDialogs())
    w.show()
    w.startup([], check_recovery=False)
    assert pump(until=lambda: w.library.loaded, timeout=20)
    yield w
    panel = w.feature_panels.get("dock_capture")
    if hasattr(panel, "shutdown"):
        panel.shutdown()
    w.close()


def _video(tmp_path, n=12):
    from tests.capture._capture_data import demo_frames, write_video

    return write_video(tmp_path / "walk.mp4", demo_frames(n, step=4, scale=0.4))


def test_panel_is_registered_and_drives_the_body_from_a_video(win, tmp_path):
    from app.panels.capture import CapturePanel

    panel = win.feature_panels["dock_capture"]
    assert isinstance(panel, CapturePanel)
    start_pose = win.doc.pose()
    depth0 = win.doc.undo_stack.count()
    panel.source_kind.setCurrentIndex(1)
    panel.path_edit.setText(str(_video(tmp_path)))
    panel.regressor.setCurrentText("geometric")
    panel.text_hint.setText("walking forward")
    panel.start()
    assert panel.running and panel.start_btn.text() == "Stop"
    assert pump(until=lambda: not panel.running, timeout=120)
    assert panel.frames_shown >= 1 and panel.last_pose is not None
    assert not poses_equal(win.doc.pose(), start_pose)
    assert win.doc.undo_stack.count() == depth0 + 1  # the whole take is one undo step
    assert "fps" in panel.readout.text() and "latency" in panel.readout.text()
    pm = panel.preview.pixmap()
    assert pm is not None and not pm.isNull()
    img = pm.toImage()
    # the overlay drew green (trusted landmark) pixels on the preview
    arr = np.array([[img.pixelColor(x, y).getRgb()[:3] for x in range(0, img.width(), 2)]
                    for y in range(0, img.height(), 2)])
    assert ((arr[..., 1] > 180) & (arr[..., 0] < 120) & (arr[..., 2] < 140)).sum() > 5
    assert "end of" in panel.status.text()
    win.doc.undo_stack.undo()
    assert poses_equal(win.doc.pose(), start_pose)


def test_freeze_and_capture_to_library(win, tmp_path):
    from core_models import library

    panel = win.feature_panels["dock_capture"]
    assert panel.capture_to_library("nothing yet") is None  # no pose yet: a message, no crash
    panel.source_kind.setCurrentIndex(1)
    panel.path_edit.setText(str(_video(tmp_path, n=6)))
    panel.regressor.setCurrentText("geometric")
    panel.freeze_btn.setChecked(True)
    before = win.doc.pose()
    panel.start()
    assert pump(until=lambda: not panel.running, timeout=120)
    assert poses_equal(win.doc.pose(), before)  # frozen: the body was not driven
    panel.freeze_btn.setChecked(False)
    panel.start()
    assert pump(until=lambda: not panel.running, timeout=120)
    assert panel.last_pose is not None
    entry = panel.capture_to_library("My capture")
    assert entry is not None and entry.name == "My capture"
    names = [e.name for e in library.load_user()]
    assert "My capture" in names
    assert "saved" in panel.status.text()


def test_missing_camera_and_missing_file_are_reported(win, tmp_path):
    panel = win.feature_panels["dock_capture"]
    panel.source_kind.setCurrentIndex(0)
    panel.camera_index.setValue(97)
    panel.start()
    assert pump(until=lambda: "no camera found at index 97" in panel.status.text(), timeout=60)
    assert panel.running  # keeps waiting for the camera to be plugged in
    panel.stop()
    assert pump(until=lambda: not panel.running, timeout=30)
    assert panel.start_btn.text() == "Start"
    panel.source_kind.setCurrentIndex(1)
    panel.path_edit.setText(str(tmp_path / "missing.mp4"))
    panel.start()
    assert pump(until=lambda: not panel.running, timeout=60)
    assert "not found" in panel.status.text()


def test_image_folder_runs_per_image_without_carrying_state(win, tmp_path):
    """Issue 14 item 6: an image folder is a set of independent photos. The last image's pose after a folder of
    two different people is exactly that image's pose alone (no One-Euro smoothing, held limbs or regressor window
    carried from the first photo)."""
    import shutil

    from tests.capture._capture_data import opencv_image

    panel = win.feature_panels["dock_capture"]
    both, alone = tmp_path / "both", tmp_path / "alone"
    both.mkdir()
    alone.mkdir()
    shutil.copy(opencv_image("messi5.jpg"), both / "a.jpg")
    for d in (both, alone):
        shutil.copy(opencv_image("basketball1.png"), d / "b.png")
    results = {}
    for name, folder in (("both", both), ("alone", alone)):
        panel.source_kind.setCurrentIndex(2)
        panel.path_edit.setText(str(folder))
        panel.regressor.setCurrentText("geometric")
        panel.start()
        assert pump(until=lambda: not panel.running, timeout=120)
        pump(0.3)
        r = panel.last_result
        assert r is not None and r.pose is not None
        results[name] = r
    np.testing.assert_allclose(results["both"].landmarks.image, results["alone"].landmarks.image, atol=1e-6)
    assert poses_equal(results["both"].pose, results["alone"].pose)
