"""Main window behaviour without GL (stand-in viewport, tiny body): files, errors, undo, autosave, crash
recovery with a real SIGKILLed child process. The real-viewport test is in test_app_gl.py."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _apptest_util import RecordingDialogs, pump, tiny_body

from core_models import autosave as au
from core_models import skeleton as sk
from core_models.pose import Pose
from core_models.session import poses_equal

ROOT = Path(__file__).resolve().parents[2]


def make_window(dialogs=None, autosave=None, debounce=0.2):
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st

    s = st.defaults()
    s["autosave_debounce_s"] = debounce
    w = MainWindow(settings=s, body=tiny_body(), viewport=FallbackViewport(), autosave=autosave,
                   dialogs=dialogs or RecordingDialogs())
    return w


@pytest.fixture
def win(qapp, tmp_path):
    d = RecordingDialogs()
    m = au.AutosaveManager(tmp_path / "data")
    m.start()
    w = make_window(d, m)
    w.show()
    w.startup([], check_recovery=False)
    assert pump(until=lambda: w.body is not None and w.library.loaded, timeout=20)
    yield w, d
    w._closing_ok = True
    w.close()
    w.deleteLater()
    pump(0.01)


def _pose(seed=1) -> Pose:
    rng = np.random.default_rng(seed)
    return Pose(rng.normal(0, 0.3, 3), rng.normal(0, 0.2, (21, 3)), rng.normal(0, 0.1, 3))


def _wait_open(w, path):
    job = w.open_file(str(path))
    from app.workers import wait_for

    wait_for(job)
    pump(0.02)


@pytest.mark.parametrize("content, needle", [
    (b"this is not a zip file", None),
    ("npz_wrong_keys", "poses"),
    ("npz_nan", "NaN"),
    ("npz_pickle", None),
])
def test_malformed_npz_shows_error_and_keeps_pose(win, tmp_path, content, needle):
    w, d = win
    before = _pose(2)
    w.doc.push_pose(before, "edit")
    n = w.doc.undo_stack.count()
    f = tmp_path / "bad.npz"
    if content == "npz_wrong_keys":
        np.savez(f, foo=np.zeros(3))
    elif content == "npz_nan":
        poses = np.zeros((1, 156), np.float32)
        poses[0, 5] = np.nan
        np.savez(f, poses=poses, trans=np.zeros((1, 3), np.float32))
    elif content == "npz_pickle":
        np.savez(f, poses=np.array([{"evil": 1}], dtype=object))
    else:
        f.write_bytes(content)
    _wait_open(w, f)
    assert len(d.errors) == 1, d.errors
    title, text = d.errors[0]
    assert "bad.npz" in text and "unchanged" in text
    if needle:
        assert needle in text
    assert poses_equal(w.doc.pose(), before)
    assert w.doc.undo_stack.count() == n and w.doc.path is None


def test_open_valid_npz_save_roundtrip_title_and_recent(win, tmp_path):
    from core_models.io.pose_file import write_pose_file

    w, d = win
    p = _pose(4)
    f = tmp_path / "good.npz"
    write_pose_file(str(f), p)
    _wait_open(w, f)
    assert d.errors == []
    assert np.allclose(w.doc.pose().full(), p.full(), atol=1e-6)
    assert "good.npz" in w.windowTitle() and not w.isWindowModified()
    assert w.settings["recent_files"][0] == str(f.absolute())
    w.properties.set_selected_joint(sk.JOINT_INDEX["right_knee"])
    w.properties.spins[0].setValue(45.0)
    assert w.isWindowModified()
    saved = w.doc.pose()
    assert w.save()
    assert not w.isWindowModified()
    w.doc.push_pose(Pose.zeros(), "something else")
    _wait_open(w, f)
    assert w.doc.pose().allclose(saved, atol=1e-6)  # the edit went through the file and back
    w.doc.undo_stack.undo()  # opening is undoable
    assert w.doc.undo_stack.canRedo()


def test_session_json_keeps_keyframes(win, tmp_path):
    w, d = win
    w.doc.push_pose(_pose(5), "x")
    w.doc.add_keyframe("A")
    w.doc.push_pose(_pose(6), "y")
    w.doc.add_keyframe("B")
    f = tmp_path / "s.json"
    assert w.save_to(str(f))
    w.doc.remove_keyframe(0)
    w.doc.push_pose(Pose.zeros(), "z")
    _wait_open(w, f)
    assert [k.name for k in w.doc.keyframes] == ["A", "B"]
    assert poses_equal(w.doc.pose(), _pose(6))


def test_open_library_pose_json(win):
    """One reader for every pose file: a library pose .json opens like an .npz (before, every .json was read
    as a session and a library pose was refused)."""
    from core_models.library import load_builtin

    w, d = win
    tree = next(p for p in load_builtin() if p.slug == "tree")
    _wait_open(w, tree.path)
    assert d.errors == []
    assert poses_equal(w.doc.pose(), tree.pose)
    w.doc.undo_stack.undo()
    assert poses_equal(w.doc.pose(), Pose.zeros())


def test_library_apply_keeps_heading_and_position(win):
    from core_models.pose import heading_of

    w, d = win
    entries = w.library.entries()
    if not entries:
        pytest.skip("library not available")
    cur = Pose.zeros()
    cur.root_orient[:] = [0, 1.0, 0]
    cur.transl[:] = [0.5, 0.0, -0.3]
    w.doc.push_pose(cur, "turn")
    e = entries[-1]
    w.apply_library_pose(e, mirrored=False)
    p = w.doc.pose()
    assert np.array_equal(p.body_pose, e.pose.body_pose)
    assert float(heading_of(p.root_orient)) == pytest.approx(1.0, abs=1e-4)
    assert p.transl[0] == pytest.approx(0.5) and p.transl[2] == pytest.approx(-0.3)
    w.doc.undo_stack.undo()
    assert poses_equal(w.doc.pose(), cur)


def test_keyframes_dock_and_edit_actions(win):
    w, d = win
    w.acts["add_key"].trigger()
    assert w.keyframes.strip.count() == 1
    w.doc.push_pose(_pose(7), "x")
    w.acts["mirror"].trigger()
    w.acts["reset_pose"].trigger()
    assert np.all(w.doc.pose().body_pose == 0)
    w.keyframes.set_current(0)
    w.keyframes.activated.emit(0)
    assert poses_equal(w.doc.pose(), Pose.zeros())
    w.acts["undo"].trigger()
    assert np.all(w.doc.pose().body_pose == 0)
    w.acts["redo"].trigger()
    assert poses_equal(w.doc.pose(), Pose.zeros())


def test_keyframe_timeline_is_the_keyframes_dock_and_every_change_is_undoable(win):
    """The timeline (thumbnails, reorder, rename, remove) is what the Keyframes dock shows; before it was wired
    the dock was a plain list that could neither reorder nor rename."""
    from app.panels.timeline import KeyframeTimeline

    w, d = win
    tl = w.keyframes
    assert isinstance(tl, KeyframeTimeline) and w.dock_keyframes.widget() is tl
    for seed, name in ((1, "A"), (2, "B"), (3, "C")):
        w.doc.push_pose(_pose(seed), "x")
        w.doc.add_keyframe(name)
    assert [n for n, _ in tl.keyframes()] == ["A", "B", "C"]
    assert not tl.strip.item(0).icon().isNull()  # a stick-figure thumbnail, not only the number
    depth = w.doc.undo_stack.count()
    tl.set_current(0)
    tl.right_button.click()  # move A after B
    assert [k.name for k in w.doc.keyframes] == ["B", "A", "C"]
    tl.strip.item(2).setText("Last")  # rename in place (F2)
    assert [k.name for k in w.doc.keyframes] == ["B", "A", "Last"]
    tl.set_current(0)
    tl.remove_button.click()
    assert [k.name for k in w.doc.keyframes] == ["A", "Last"]
    tl.add_button.click()
    assert len(w.doc.keyframes) == 3 and tl.current_index() == 2
    assert w.doc.undo_stack.count() == depth + 4
    for _ in range(4):
        w.doc.undo_stack.undo()
    assert [k.name for k in w.doc.keyframes] == ["A", "B", "C"]
    assert poses_equal(w.doc.keyframes[0].pose, _pose(1))
    # reachable by the user: View > Panels lists the Keyframes dock, Edit > Add keyframe adds to it
    panels = w.acts["panels"]
    assert "Keyframes" in [a.text() for a in panels.actions()]


def test_autosave_after_edit_debounced(win):
    w, d = win
    assert not w.autosave.autosave_path.exists()
    w.doc.push_pose(_pose(8), "x")
    assert pump(until=lambda: w.autosave.autosave_path.exists(), timeout=5)
    from core_models.session import Session

    s = Session.from_dict(au.read_autosave(w.autosave.autosave_path)["payload"])
    assert poses_equal(s.pose, _pose(8))


def test_close_with_unsaved_changes_can_cancel(qapp, tmp_path):
    d = RecordingDialogs(save_changes="cancel")
    m = au.AutosaveManager(tmp_path / "data")
    m.start()
    w = make_window(d, m)
    w.show()
    w.doc.push_pose(_pose(9), "x")
    w.close()
    assert w.isVisible()  # cancelled
    d.save_changes = "discard"
    w.close()
    assert not w.isVisible() and not m.lock_path.exists()


CHILD = textwrap.dedent("""
    import os, sys, time
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from _apptest_util import RecordingDialogs, pump, tiny_body
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st
    from core_models import skeleton as sk
    s = st.defaults(); s["autosave_debounce_s"] = 0.2
    w = MainWindow(settings=s, body=tiny_body(), viewport=FallbackViewport(), dialogs=RecordingDialogs())
    w.show()
    w.startup([])
    pump(until=lambda: w.body is not None)
    # edits through the properties panel, like a user
    w.properties.set_selected_joint(sk.JOINT_INDEX["left_shoulder"])
    w.properties.spins[2].setValue(-40.0)
    w.properties.set_selected_joint(sk.JOINT_INDEX["right_knee"])
    s2 = w.properties.sliders[0]
    s2.setSliderDown(True)
    for v in range(0, 700, 70):
        s2.setValue(v)
    s2.setSliderDown(False)
    w.properties.transl_spins[0].setValue(0.3)
    w.doc.add_keyframe("kept")
    w.acts["mirror"].trigger()
    assert pump(until=lambda: w.autosave.autosave_path.exists() and not w.policy.pending, timeout=10)
    np.save(sys.argv[2], w.doc.pose().full())
    np.save(sys.argv[3], w.doc.pose().transl)
    print("READY", flush=True)
    while True:
        pump(0.1)
""")


def test_crash_recovery_with_killed_gui_process(qapp, tmp_path):
    data = tmp_path / "data"
    env = dict(os.environ, PYTHONPATH=str(ROOT), POSETAILOR_DATA=str(data),
               POSETAILOR_CONFIG=str(tmp_path / "config"), QT_QPA_PLATFORM="offscreen")
    exp_full, exp_t = tmp_path / "full.npy", tmp_path / "transl.npy"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(Path(__file__).parent), str(exp_full), str(exp_t)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        line = child.stdout.readline()
        if line.strip() != "READY":
            child.kill()
            pytest.fail(f"child did not get ready: {line!r}\n{child.stderr.read()[-3000:]}")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    # a new start: the crash is detected and the exact last pose comes back
    d = RecordingDialogs(restore=True)
    m = au.AutosaveManager(data)
    assert len(m.start()) == 1
    w = make_window(d, m)
    w.show()
    w.startup([], check_recovery=True)
    try:
        assert len(d.restore_asked) == 1
        got = w.doc.pose()
        assert np.array_equal(got.full(), np.load(exp_full))
        assert np.array_equal(got.transl, np.load(exp_t))
        assert [k.name for k in w.doc.keyframes] == ["kept"]
        assert w.isWindowModified()
        assert w.doc.undo_stack.count() == 1  # the restore is one undoable step
        assert w.doc.undo_stack.text(0) == "Restore unsaved work"
        w.doc.undo_stack.undo()
        assert poses_equal(w.doc.pose(), Pose.zeros()) and w.doc.keyframes == []
        # the crashed run's autosave was moved aside, not offered again
        assert m.recovery_candidate() is None
        assert len(list((data / "recovered").glob("*.json"))) == 1
        assert au.AutosaveManager(data).start() == []
    finally:
        w._closing_ok = True
        w.close()


def test_declined_recovery_keeps_file_aside(qapp, tmp_path):
    data = tmp_path / "data"
    m0 = au.AutosaveManager(data)
    m0.start()
    from core_models.session import Session

    s = Session()
    s.set_pose(_pose(10))
    m0.save(s.to_dict())
    lock = __import__("json").loads(m0.lock_path.read_text())
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    lock["pid"], lock["start_ticks"] = p.pid, None
    m0.lock_path.write_text(__import__("json").dumps(lock))
    d = RecordingDialogs(restore=False)
    m = au.AutosaveManager(data)
    m.start()
    w = make_window(d, m)
    w.startup([], check_recovery=True)
    try:
        assert d.restore_asked and poses_equal(w.doc.pose(), Pose.zeros())
        assert len(list((data / "recovered").glob("*.json"))) == 1
    finally:
        w._closing_ok = True
        w.close()


def test_bad_smplh_file_falls_back_to_anny(win, tmp_path):
    from app.window_body import anny_cached

    if not anny_cached(None):
        pytest.skip("Anny layer not cached")
    w, d = win
    before = _pose(11)
    w.doc.push_pose(before, "x")
    bogus = tmp_path / "SMPLH_fake.npz"
    np.savez(bogus, nothing=np.zeros(2))
    d.smplh_path = str(bogus)
    assert w.set_backend("smplh", choose_file=True)
    assert pump(until=lambda: d.errors and getattr(w.body, "name", "") == "anny", timeout=30)
    assert "smplh" in d.errors[0][1]
    assert w.doc.session.body_backend == "anny" and w.settings["body_backend"] == "anny"
    assert w.body_panel.backend_combo.currentData() == "anny"
    assert poses_equal(w.doc.pose(), before)


def test_drop_npz_opens_it(win, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    from core_models.io.pose_file import write_pose_file

    w, d = win
    f = tmp_path / "dropped.npz"
    write_pose_file(str(f), _pose(12))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)), QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    assert w._dropped_files(mime) == [str(f)]
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    w.dropEvent(ev)
    assert pump(until=lambda: w.doc.path == str(f), timeout=10)
    assert w.doc.pose().allclose(_pose(12), atol=1e-6) and d.errors == []


def test_import_mocap_adds_keyframes_undoably(win):
    from app.workers import wait_for

    w, d = win
    before = w.doc.pose()
    nk = len(w.doc.keyframes)
    job = w.import_mocap(str(ROOT / "tests" / "fixtures" / "mocap" / "tiny_deepmimic.txt"))
    wait_for(job, 60)
    pump(0.05)
    assert not d.errors
    assert len(w.doc.keyframes) > nk
    assert not poses_equal(w.doc.pose(), before)
    w.doc.undo_stack.undo()  # one step undoes pose + keyframes
    assert len(w.doc.keyframes) == nk and poses_equal(w.doc.pose(), before)


def test_import_bad_mocap_shows_error_and_keeps_pose(win, tmp_path):
    from app.workers import wait_for

    w, d = win
    before = w.doc.pose()
    n = w.doc.undo_stack.count()
    f = tmp_path / "broken.bvh"
    f.write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0\n")
    wait_for(w.import_mocap(str(f)), 30)
    pump(0.05)
    assert len(d.errors) == 1 and "broken.bvh" in d.errors[0][1] and "unchanged" in d.errors[0][1]
    assert poses_equal(w.doc.pose(), before) and w.doc.undo_stack.count() == n


def test_status_bar_shows_the_device(win, monkeypatch):
    """The GUI says where the learned models run (settings "device" = auto here: the CPU without a GPU); a GPU
    asked for through $POSETAILOR_DEVICE on a machine without one is shown as unavailable, not hidden."""
    import torch

    from core_models import device as dv

    w, _ = win
    monkeypatch.delenv(dv.ENV_VAR, raising=False)
    w.bodyReady.emit(w.body)
    assert w.lbl_device.text() == f"Device: {dv.describe(dv.resolve_device('auto'))}"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(dv.ENV_VAR, "cuda")
    w.bodyReady.emit(w.body)
    assert w.lbl_device.text().startswith("Device: cuda (unavailable: ") and "--device cpu" in w.lbl_device.text()


def test_window_fits_a_laptop_screen(win):
    win, _dialogs = win
    """Side panels scroll instead of stacking their full heights: the window's minimum size fits a 1366×768
    screen (with the panels' docks it needed 1011 px before, so the bottom of the window and the status bar
    were off screen)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget, QScrollArea

    hint = win.minimumSizeHint().expandedTo(win.minimumSize())
    assert hint.height() <= 700 and hint.width() <= 1300, hint
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    scrolls = [d.widget() for d in win.findChildren(QDockWidget) if win.dockWidgetArea(d) != bottom]
    assert scrolls and all(isinstance(s, QScrollArea) for s in scrolls)
