"""Reference panel in the real main window (stand-in viewport, tiny body): load a picture, opacity / flip / mode,
remove, a bad file reported with nothing changed, the path + settings restored at the next start (a missing
file gives a notice), File ▸ Load reference image…, and "pose from this image" on real photos (the capture
tests' opencv-doc pictures): one undo step off the GUI thread, translation and hands kept; nobody in the picture
or several people leave the pose unchanged with a notice. Plus the live GL viewport (Xvfb) drawing the image."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from _apptest_util import RecordingDialogs, pump, tiny_body

from core_models.session import poses_equal


def _window(settings=None):
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st

    w = MainWindow(settings=settings or st.defaults(), body=tiny_body(), viewport=FallbackViewport(),
                   dialogs=RecordingDialogs())
    w.show()
    w.startup([], check_recovery=False)
    return w


@pytest.fixture
def win(qapp, tmp_path):
    w = _window()
    yield w
    w.feature_panels["dock_reference"].shutdown()
    w.close()


def _wait(worker, timeout=120.0):
    from app.workers import wait_for

    wait_for(worker, timeout)


def _png(path, w=64, h=48):
    from PIL import Image

    a = np.zeros((h, w, 3), np.uint8)
    a[:, : w // 2] = (200, 30, 30)
    Image.fromarray(a).save(path)
    return path


def _photo(name):
    from tests.capture._capture_data import opencv_image

    return opencv_image(name)


def test_registered_with_a_file_menu_action(win):
    from app.panels.reference import ReferencePanel

    panel = win.feature_panels["dock_reference"]
    assert isinstance(panel, ReferencePanel)
    act = win.acts["load_reference"]
    file_menu = [m for m in win.menuBar().findChildren(type(win.acts["recent"])) if m.title() == "&File"][0]
    assert act in file_menu.actions() and "reference" in act.text().lower()
    assert not panel.pose_btn.isEnabled() and not panel.remove_btn.isEnabled()  # nothing loaded yet


def test_file_menu_action_loads_through_the_file_dialog(win, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    panel = win.feature_panels["dock_reference"]
    f = _png(tmp_path / "menu.png")
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (asked.append(a[3] if len(a) > 3 else "") or str(f), "")))
    win.acts["load_reference"].trigger()
    assert pump(until=lambda: panel.image is not None, timeout=20)
    assert asked and "*.png" in asked[0] and "*.webp" in asked[0]  # the dialog offers the picture formats
    assert panel.settings.path == str(f.absolute())


def test_load_opacity_flip_mode_remove_and_bad_files(win, tmp_path):
    panel = win.feature_panels["dock_reference"]
    _wait(panel.load_file(_png(tmp_path / "ref.png")))
    img = panel.image
    assert img is not None and img.image_size == (64, 48) and panel.remove_btn.isEnabled()
    assert panel.path_label.text() == "ref.png" and "64×48" in panel.status.text()
    assert panel.worker_threads and threading.get_ident() not in panel.worker_threads  # read off the GUI thread
    panel.opacity.setValue(30)
    panel.flip.setChecked(True)
    panel.mode.setCurrentIndex(panel.mode.findData("plane"))
    panel.distance.setValue(2.5)
    s = img.settings
    assert (s.opacity, s.flip, s.mode, s.distance) == (0.3, True, "plane", 2.5)
    # bad files: a clear notice, the image and its settings unchanged
    (tmp_path / "notes.png").write_text("not an image at all\n" * 10)
    (tmp_path / "empty.jpg").write_bytes(b"")
    for bad, why in (("notes.png", "not an image file"), ("empty.jpg", "empty"), ("gone.png", "no such file")):
        _wait(panel.load_file(tmp_path / bad))
        assert why in panel.last_error and why in panel.status.text() and "unchanged" in panel.status.text()
        assert panel.image is img and img.settings.opacity == 0.3
    panel.remove()
    assert panel.image is None and panel.state() is None and not panel.pose_btn.isEnabled()


def test_a_dropped_picture_becomes_the_reference_image(win, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    panel = win.feature_panels["dock_reference"]
    f = _png(tmp_path / "dropped.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f))])
    assert win._dropped_files(mime) == [str(f)]
    before, depth = win.doc.pose(), win.doc.undo_stack.count()
    win.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier))
    assert pump(until=lambda: panel.image is not None, timeout=20)
    assert panel.settings.path == str(f.absolute()) and win.dialogs.errors == []
    assert poses_equal(win.doc.pose(), before) and win.doc.undo_stack.count() == depth  # not opened as a pose


def test_settings_saved_and_restored_missing_file_notice(qapp, tmp_path):
    from core_models import settings as st

    p = _png(tmp_path / "keep.png")
    w = _window()
    panel = w.feature_panels["dock_reference"]
    _wait(panel.load_file(p))
    panel.opacity.setValue(45)
    panel.flip.setChecked(True)
    w.close()
    saved = st.load_settings()["reference_image"]
    assert saved["path"] == str(p.absolute()) and saved["opacity"] == 0.45 and saved["flip"] is True
    w2 = _window(st.load_settings())  # the next start shows it again
    p2 = w2.feature_panels["dock_reference"]
    assert pump(until=lambda: p2.image is not None, timeout=20)
    assert p2.image.settings.opacity == 0.45 and p2.image.settings.flip and p2.flip.isChecked()
    w2.close()
    p.unlink()
    w3 = _window(st.load_settings())
    p3 = w3.feature_panels["dock_reference"]
    assert p3.image is None and "was not found" in p3.status.text() and "keep.png" in p3.status.text()
    w3.close()


def test_pose_from_a_photo_is_one_undo_step_off_the_gui_thread(win):
    panel = win.feature_panels["dock_reference"]
    doc = win.doc
    start = doc.pose()
    start.transl[:] = (0.3, 0.0, -0.2)
    start.hand_pose = np.full((30, 3), 0.1, np.float32)
    doc.push_pose(start, "placed")
    _wait(panel.load_file(_photo("basketball1.png")))
    depth = doc.undo_stack.count()
    panel.worker_threads.clear()
    _wait(panel.pose_from_image(), timeout=180)
    r = panel.last_result
    assert r is not None and r.status == "ok" and r.people == 1 and r.confidence > 0.6, panel.status.text()
    assert panel.worker_threads and threading.get_ident() not in panel.worker_threads
    new = doc.pose()
    assert doc.undo_stack.count() == depth + 1 and "Pose from image" in doc.undo_stack.undoText()
    assert not poses_equal(new, start)
    assert np.allclose(new.transl, (0.3, 0.0, -0.2)) and np.allclose(new.hand_pose, 0.1)  # kept
    assert np.abs(new.body_pose).max() > 0.2  # the photo's arms are bent: not a rest pose
    doc.undo_stack.undo()
    assert poses_equal(doc.pose(), start)


def test_nobody_and_several_people_leave_the_pose_unchanged(win):
    panel = win.feature_panels["dock_reference"]
    doc = win.doc
    start, depth = doc.pose(), doc.undo_stack.count()
    _wait(panel.load_file(_photo("baboon.jpg")))
    _wait(panel.pose_from_image(), timeout=180)
    assert panel.last_result.status == "nobody" and "Nobody found" in panel.status.text()
    assert poses_equal(doc.pose(), start) and doc.undo_stack.count() == depth and not panel.apply_btn.isEnabled()
    _wait(panel.load_file(_photo("basketball2.png")))
    _wait(panel.pose_from_image(), timeout=180)
    r = panel.last_result
    assert r.status == "several" and r.people == 2 and "2 people" in panel.status.text()
    assert poses_equal(doc.pose(), start) and doc.undo_stack.count() == depth
    assert panel.apply_btn.isEnabled() and panel.person.count() == 2  # both people are offered, largest first
    assert panel.person.itemText(0).startswith("Person 1 (largest") and panel.person.itemText(1).startswith("Person 2")
    panel.person.setCurrentIndex(1)
    panel.apply_candidate()
    applied = doc.pose()
    assert not poses_equal(applied, start) and doc.undo_stack.count() == depth + 1
    assert "applied anyway (Person 2" in panel.status.text() and not panel.apply_btn.isEnabled()
    second = r.candidates[1][0]
    assert np.allclose(applied.body_pose, second.body_pose)  # the chosen person's pose, not the largest one's
    assert not np.allclose(second.body_pose, r.candidates[0][0].body_pose)


# --- the live GL viewport (Xvfb) -------------------------------------------------------------------------------

needs_x = pytest.mark.skipif(not os.environ.get("DISPLAY")
                             or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"),
                             reason="needs an X display with GL (run under xvfb-run with QT_QPA_PLATFORM=xcb)")


@pytest.mark.gl
@needs_x
def test_viewport_draws_the_image_and_frees_it(qapp, anny_body, tmp_path):
    from PySide6.QtGui import QImage

    from app.viewport.widget import Viewport
    from core_models.pose import Pose
    from core_models.render.reference_image import ReferenceImage, ReferenceSettings

    v = Viewport(samples=0)
    v.resize(320, 240)
    v.set_body(anny_body)
    v.set_pose(Pose.zeros())
    v.set_show_grid(False)
    v.show()
    pump(0.3)
    if v.gl_error:
        pytest.fail(v.gl_error)

    def grab(reference=True):
        im = v.grab_image(reference=reference).convertToFormat(QImage.Format.Format_RGB888)
        a = np.frombuffer(im.constBits(), np.uint8, count=im.bytesPerLine() * im.height())
        a = a.reshape(im.height(), im.bytesPerLine())[:, : im.width() * 3]
        return a.reshape(im.height(), im.width(), 3).copy()  # (a copy while the QImage is alive)

    before = grab().astype(int)
    green = np.zeros((10, 10, 4), np.uint8)
    green[...] = (0, 255, 0, 255)
    ref = ReferenceImage(green, ReferenceSettings(opacity=1.0))
    v.set_reference_image(ref)
    after = grab().astype(int)
    body = (before[..., 0] - before[..., 2]) > 40
    inside = after[5:40, 45:75]  # a square image in a 320x240 view: columns 40..280
    assert (np.abs(inside - (0, 255, 0)).max(-1) <= 2).mean() > 0.95
    assert np.abs(after[:, :35] - before[:, :35]).max() <= 2  # letterboxed: the sides are the plain background
    assert np.abs(grab(reference=False).astype(int) - before).max() <= 2  # thumbnails leave the user's photo out
    assert np.abs(after[body] - before[body]).mean() < 3  # behind the body
    # frames drawn one after another (software GL: straight into the window) copy the kept backdrop back
    v.set_continuous_redraw(True)
    pump(0.6)
    v.set_continuous_redraw(False)
    pump(0.05)
    assert ref.cache_hits > 0
    shot = qapp.primaryScreen().grabWindow(v.winId()).toImage().convertToFormat(QImage.Format.Format_RGB888)
    a = np.frombuffer(shot.constBits(), np.uint8, count=shot.bytesPerLine() * shot.height())
    on_screen = a.reshape(shot.height(), shot.bytesPerLine())[:, : shot.width() * 3].reshape(
        shot.height(), shot.width(), 3).astype(int)
    assert on_screen.shape == after.shape
    assert (np.abs(on_screen[5:40, 45:75] - (0, 255, 0)).max(-1) <= 2).mean() > 0.95
    assert np.abs(on_screen[:, :35] - before[:, :35]).max() <= 3 and np.abs(on_screen[body] - before[body]).mean() < 6
    tex = ref.texture
    assert tex is not None
    v.set_reference_image(None)
    from OpenGL import GL

    v.makeCurrent()
    try:
        assert not GL.glIsTexture(tex) and ref.texture is None
    finally:
        v.doneCurrent()
    assert np.abs(grab().astype(int) - before).max() <= 2
    v.close()
    v.deleteLater()
    pump(0.05)
