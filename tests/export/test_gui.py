"""The export dialog (export off the GUI thread, overwrite confirmation, errors) and the keyframe strip."""
from __future__ import annotations

import os
import time

import pytest

from .readers import make_poses


@pytest.fixture(scope="module")
def qapp():
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(["posetailor-export-tests"])


def _wait(pred, timeout=60.0):
    from PySide6.QtWidgets import QApplication

    t = time.time()
    while not pred():
        QApplication.processEvents()
        time.sleep(0.005)
        assert time.time() - t < timeout, "timed out waiting for the export"


def _dialog(qapp, poses, body, tmp_path, **kw):
    from app.panels.export_dialog import ExportDialog

    dlg = ExportDialog(None, poses, body, tmp_path, **kw)
    errors = []
    dlg.show_error = errors.append
    return dlg, errors


def test_dialog_exports_in_the_background(qapp, anny, tmp_path):
    poses = make_poses(5)
    dlg, errors = _dialog(qapp, poses, anny, tmp_path, default_name="walk")
    assert dlg.path_edit.text().endswith("walk.fbx")
    dlg.set_format("glb")
    assert dlg.path_edit.text().endswith("walk.glb")
    dlg.set_format("fbx")
    dlg.rig_box.setCurrentIndex(dlg.rig_box.findData("mixamo"))
    dlg.fps_box.setValue(24)
    got = []
    dlg.exported.connect(got.append)
    assert dlg.start_export()
    assert dlg.busy and not dlg.export_button.isEnabled()
    _wait(lambda: not dlg.busy)
    assert errors == []
    assert got == [str(tmp_path / "walk.fbx")] and dlg.result_path == got[0]
    assert (tmp_path / "walk.fbx").read_bytes()[:18] == b"Kaydara FBX Binary"
    assert b"mixamorig:Hips" in (tmp_path / "walk.fbx").read_bytes()


def test_dialog_overwrite_confirmation(qapp, anny, tmp_path):
    target = tmp_path / "x.bvh"
    target.write_text("old")
    dlg, errors = _dialog(qapp, make_poses(2), anny, tmp_path)
    dlg.set_format("bvh")
    dlg.set_path(target)
    asked = []
    dlg.confirm_overwrite = lambda p: asked.append(p) or False
    assert not dlg.start_export()
    assert asked == [target] and target.read_text() == "old"
    dlg.confirm_overwrite = lambda p: True
    assert dlg.start_export()
    _wait(lambda: not dlg.busy)
    assert target.read_text().startswith("HIERARCHY")


def test_dialog_shows_errors(qapp, anny, tmp_path):
    dlg, errors = _dialog(qapp, make_poses(1), anny, tmp_path)
    dlg.set_path(tmp_path / "missing" / "x.fbx")
    assert not dlg.start_export()
    assert errors and "does not exist" in errors[0]
    assert "failed" in dlg.status.text()
    dlg.set_path(tmp_path / "x.obj")
    dlg.start_export()
    assert "does not match" in errors[-1]


def test_dialog_failure_in_worker_is_reported(qapp, anny, tmp_path, monkeypatch):
    import app.panels.export_dialog as ed
    from core_models.export import ExportError

    def boom(*a, **k):
        raise ExportError("disk on fire")

    monkeypatch.setattr(ed, "export_poses", boom)
    dlg, errors = _dialog(qapp, make_poses(1), anny, tmp_path)
    assert dlg.start_export()
    _wait(lambda: not dlg.busy)
    assert errors == ["disk on fire"] and dlg.result_path is None and dlg.export_button.isEnabled()


def test_dialog_without_body(qapp, tmp_path):
    dlg, _ = _dialog(qapp, make_poses(1), None, tmp_path)
    assert dlg.fmt() == "bvh"
    fbx_item = dlg.format_box.model().item(dlg.format_box.findData("fbx"))
    assert not fbx_item.isEnabled()
    dlg.set_format("npz")
    assert not dlg.rig_box.isEnabled()


def test_run_export_dialog_refuses_bad_input(qapp, tmp_path, monkeypatch):
    import numpy as np

    import app.panels.export_dialog as ed

    shown = []
    monkeypatch.setattr(ed.QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    bad = make_poses(2)
    bad.transl[0, 0] = np.inf
    assert ed.run_export_dialog(None, bad, None, tmp_path) is None
    assert ed.run_export_dialog(None, [], None, tmp_path) is None
    assert len(shown) == 2 and "NaN" in shown[0] and "empty" in shown[1]


def test_timeline_requests(qapp):
    from PySide6.QtGui import QImage

    from app.panels.timeline import KeyframeTimeline, move_item

    poses = make_poses(3)
    kfs = [(f"key {i}", poses[i]) for i in range(3)]
    w = KeyframeTimeline()
    ev = []
    w.addRequested.connect(lambda: ev.append(("add",)))
    w.removeRequested.connect(lambda i: ev.append(("remove", i)))
    w.moveRequested.connect(lambda a, b: ev.append(("move", a, b)))
    w.renameRequested.connect(lambda i, s: ev.append(("rename", i, s)))
    w.activated.connect(lambda i: ev.append(("go", i)))
    w.set_keyframes(kfs)
    assert w.strip.count() == 3 and [n for n, _ in w.keyframes()] == ["key 0", "key 1", "key 2"]
    w.set_current(0)
    assert not w.left_button.isEnabled() and w.right_button.isEnabled()
    w.right_button.click()
    w.add_button.click()
    w.set_current(2)
    w.remove_button.click()
    w.strip.item(1).setText("renamed")
    w.strip.itemDoubleClicked.emit(w.strip.item(1))
    assert ev == [("move", 0, 1), ("add",), ("remove", 2), ("rename", 1, "renamed"), ("go", 1)]
    # the owner applies the move and refreshes; a thumbnail follows its pose
    w.set_thumbnail(0, QImage(16, 16, QImage.Format.Format_RGB32))
    w.set_keyframes(move_item(kfs, 0, 2))
    assert [n for n, _ in w.keyframes()] == ["key 1", "key 2", "key 0"]
    assert 2 in w._thumbs and 0 not in w._thumbs
    assert w.poses()[2] is poses_0(kfs)
    w.set_keyframes([])
    assert w.strip.count() == 0 and not w.remove_button.isEnabled()


def poses_0(kfs):
    return kfs[0][1]
