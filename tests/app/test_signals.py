"""No edit lost when the app is ended from outside: a REAL GUI process (``run_app``, offscreen, tiny body) is sent
SIGTERM / SIGINT / SIGHUP 2 s after a library pose was applied; it must exit at once (no "save changes?" box)
with unsaved work in the autosave, and the next start must offer it back. The child's autosave debounce is long
(30 s), so the edit is not saved yet when the signal comes: only the signal handling can keep it (before the fix
the process died on SIG_DFL and the next start showed the T-pose and offered nothing). Also: the session
manager's commit-data request flushes the autosave, and the signal bridge wakes a Qt event loop that sits in C++.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from _apptest_util import RecordingDialogs, pump, tiny_body

from core_models import autosave as au
from core_models.pose import Pose
from core_models.session import Session, poses_equal

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from PySide6.QtCore import QTimer
    import app.main_window as mw
    from _apptest_util import RecordingDialogs, tiny_body
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st
    from core_models.library import load_builtin

    s = st.defaults(); s["autosave_debounce_s"] = 30.0; s["autosave_interval_s"] = 60.0
    made, dialogs = [], RecordingDialogs(save_changes="cancel")  # a "save changes?" box would keep it open
    if sys.argv[2] == "ask":  # the real dialogs: Ctrl+Q's modal "save changes?" box is up when the signal comes
        from app.dialogs import Dialogs
        dialogs = Dialogs()
    Orig = mw.MainWindow
    def factory():
        made.append(Orig(settings=s, body=tiny_body(), viewport=FallbackViewport(), dialogs=dialogs))
        QTimer.singleShot(100, go)
        return made[0]
    mw.MainWindow = factory  # run_app builds the window through this name
    def go():
        w = made[0]
        if w.body is None or w.autosave is None:
            QTimer.singleShot(50, go)
            return
        if sys.argv[2] in ("edit", "ask"):
            w.apply_library_pose(next(e for e in load_builtin() if e.name.startswith("Tree")))
            np.save(sys.argv[3], w.doc.pose().full())
        print("READY", flush=True)
        if sys.argv[2] == "ask":
            QTimer.singleShot(0, w.close)  # blocks in the modal question until the signal
    code = mw.run_app([])  # the real entry point: QApplication.exec() until the signal
    print("EXIT", code, flush=True)
    sys.exit(code)
""")


def _run_child(tmp_path: Path, sig: int, edit: bool | str) -> tuple[subprocess.Popen, str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), POSETAILOR_DATA=str(tmp_path / "data"),
               POSETAILOR_CONFIG=str(tmp_path / "config"), QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(Path(__file__).parent),
                              edit if isinstance(edit, str) else "edit" if edit else "none",
                              str(tmp_path / "expected.npy")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        ready = select.select([child.stdout], [], [], 120)[0]  # a hang guard for a child that never starts
        line = child.stdout.readline() if ready else "(nothing in 120 s)"
        if line.strip() != "READY":
            child.kill()
            pytest.fail(f"child did not get ready: {line!r}\n{child.stderr.read()[-3000:]}")
        time.sleep(2.0)  # like a user who applied a pose 2 s before logging out
        t0 = time.monotonic()
        child.send_signal(sig)
        try:
            out, err = child.communicate(timeout=20)  # a hang guard, not a timing test
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            pytest.fail(f"the app did not exit on {signal.Signals(sig).name}:\n{err[-3000:]}")
        return child, out + err, time.monotonic() - t0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


class DetailDialogs(RecordingDialogs):
    def __init__(self):
        super().__init__(restore=True)
        self.details: list[str] = []

    def ask_restore(self, parent, when, detail):
        self.details.append(detail)
        return super().ask_restore(parent, when, detail)


def _restart(data: Path):
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st

    d = DetailDialogs()
    m = au.AutosaveManager(data)
    found = m.start()
    w = MainWindow(settings=st.defaults(), body=tiny_body(), viewport=FallbackViewport(), autosave=m, dialogs=d)
    w.startup([], check_recovery=True)
    return w, d, found


@pytest.mark.parametrize("sig,mode", [(signal.SIGTERM, "edit"), (signal.SIGINT, "edit"), (signal.SIGHUP, "edit"),
                                      (signal.SIGTERM, "ask")], ids=["SIGTERM", "SIGINT", "SIGHUP", "SIGTERM-modal"])
def test_signal_keeps_unsaved_edit_for_next_start(qapp, tmp_path, sig, mode):
    """mode "ask": the user pressed Ctrl+Q and the modal "save changes?" box is open when logout comes."""
    child, log, _dt = _run_child(tmp_path, sig, edit=mode)
    expected = np.load(tmp_path / "expected.npy")
    assert not np.array_equal(expected, Pose.zeros().full())
    w, d, found = _restart(tmp_path / "data")
    try:
        assert len(d.restore_asked) == 1, "the next start must offer the edit back"
        assert len(found) == 1 and found[0].ended_by == sig.name
        assert sig.name in d.details[0] and "autosaved" in d.details[0]
        assert np.array_equal(w.doc.pose().full(), expected)
        assert w.isWindowModified() and w.doc.undo_stack.text(0) == "Restore unsaved work"
        assert au.AutosaveManager(tmp_path / "data").start() == []  # offered once, then moved aside
        assert len(list((tmp_path / "data" / "recovered").glob("*.json"))) == 1
        assert child.returncode == 128 + sig, log[-3000:]  # quit through the event loop, not killed by it
    finally:
        w._closing_ok = True
        w.close()


def test_sigterm_without_unsaved_work_exits_cleanly(qapp, tmp_path):
    child, log, _dt = _run_child(tmp_path, signal.SIGTERM, edit=False)
    assert child.returncode == 128 + signal.SIGTERM, log[-3000:]
    runs = tmp_path / "data" / "runs"
    assert list(runs.iterdir()) == []  # nothing unsaved: lock and autosave removed like a normal quit
    w, d, found = _restart(tmp_path / "data")
    try:
        assert found == [] and d.restore_asked == [] and poses_equal(w.doc.pose(), Pose.zeros())
    finally:
        w._closing_ok = True
        w.close()


def test_commit_data_request_flushes_autosave_and_keeps_the_run_live(qapp, tmp_path):
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st

    s = st.defaults()
    s["autosave_debounce_s"] = 3600.0
    m = au.AutosaveManager(tmp_path / "data")
    m.start()
    w = MainWindow(settings=s, body=tiny_body(), viewport=FallbackViewport(), autosave=m,
                   dialogs=RecordingDialogs())
    bridge = w.watch_session_end(qapp)
    try:
        pose = Pose.zeros()
        pose.body_pose[3, 0] = 0.7
        w.doc.push_pose(pose, "edit")
        pump(0.3)
        assert not m.autosave_path.exists()  # the debounce is far away
        w.on_commit_data(None)  # what QGuiApplication.commitDataRequest / saveStateRequest call
        saved = Session.from_dict(au.read_autosave(m.autosave_path)["payload"])
        assert poses_equal(saved.pose, pose)
        assert m.lock_path.exists() and m.ended_by is None  # the session may be cancelled: still a live run
    finally:
        bridge.uninstall()
        w._closing_ok = True
        w.close()
    assert not m.autosave_path.exists()  # a normal quit afterwards tidies up as before


def test_signal_bridge_wakes_the_event_loop(qapp):
    """A Python handler alone would not run while exec() waits in C++: the bridge must deliver the signal
    into a running QEventLoop (here SIGHUP to ourselves, caught; the old handlers come back after)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from app.window_files import SignalBridge

    before = signal.getsignal(signal.SIGHUP)
    got: list[int] = []
    loop = QEventLoop()
    bridge = SignalBridge(lambda n: (got.append(n), loop.quit()), signals=(signal.SIGHUP,))
    try:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGHUP)).start()  # arrives while exec() waits in C++
        QTimer.singleShot(10000, loop.quit)  # hang guard
        loop.exec()
        assert got == [signal.SIGHUP]
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL  # a second signal would end a hung shutdown
    finally:
        bridge.uninstall()
        signal.signal(signal.SIGHUP, before)
