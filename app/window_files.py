"""The main window's file side (a mixin of :class:`app.main_window.MainWindow`): open (worker thread), import
motion capture, save / save as, recent files, drag & drop, and the end of a run from outside (SIGTERM / SIGINT /
SIGHUP, the desktop session ending: unsaved work is autosaved at once and offered at the next start). Pose files
are read and written through the one reader :mod:`core_models.io.pose_file` (via the model services); every
change is undoable."""
from __future__ import annotations

import logging
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QMenu

from app.workers import busy_dialog, run_in_background
from core_models import settings as st
from core_models.io.pose_file import JSON_SUFFIXES, NPZ_SUFFIXES, PoseFile, PoseFileError
from core_models.pose import PoseError
from core_models.render.reference_image import IMAGE_SUFFIXES
from core_models.session import Session, SessionError

if TYPE_CHECKING:
    from app.main_window import MainWindow

    _Base = MainWindow
else:
    _Base = object

DROP_SUFFIXES = NPZ_SUFFIXES + JSON_SUFFIXES + IMAGE_SUFFIXES  # a dropped picture becomes the reference image
log = logging.getLogger(__name__)
#: signals that end the app the way logout / shutdown / ``kill`` / Ctrl+C in a terminal do
QUIT_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, n))
#: errors whose message is shown as is (anything else also names its type)
FILE_ERRORS: tuple[type[BaseException], ...] = (PoseFileError, PoseError, SessionError, OSError, ValueError)


class SignalBridge(QObject):
    """Unix signals into the Qt event loop. A Python signal handler only runs when the interpreter gets control,
    which it does not while ``QApplication.exec()`` waits in C++; so the C-level handler writes the signal number
    into a socket (:func:`signal.set_wakeup_fd`, the self-pipe pattern) that a :class:`QSocketNotifier` watches,
    and ``on_signal(signum)`` runs on the GUI thread at once. After the first signal the default handlers are
    back, so a second SIGTERM ends a run whose shutdown hangs."""

    def __init__(self, on_signal: Callable[[int], None], parent: QObject | None = None,
                 signals: tuple[int, ...] = QUIT_SIGNALS):
        super().__init__(parent)
        self._on_signal = on_signal
        self._rsock, self._wsock = socket.socketpair()
        self._rsock.setblocking(False)
        self._wsock.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._wsock.fileno(), warn_on_full_buffer=False)
        self._handled = {int(n): signal.signal(n, self._python_handler) for n in signals}
        self._notifier = QSocketNotifier(self._rsock.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)
        self._installed = True

    @staticmethod
    def _python_handler(signum, frame) -> None:
        """Runs later, in the interpreter; the work is done from the socket (which also sees the signal)."""

    def _read(self, *_a) -> None:
        try:
            data = self._rsock.recv(256)
        except (BlockingIOError, InterruptedError, OSError):
            return
        for num in data:
            if num in self._handled and self._installed:
                for n in self._handled:
                    signal.signal(n, signal.SIG_DFL)
                self._on_signal(int(num))
                return

    def uninstall(self) -> None:
        """Give the process its previous handlers and wake-up fd back."""
        if not self._installed:
            return
        self._installed = False
        self._notifier.setEnabled(False)
        for n, old in self._handled.items():
            if signal.getsignal(n) is self._python_handler:
                signal.signal(n, old if old is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._old_fd)
        self._rsock.close()
        self._wsock.close()


class FileOpsMixin(_Base):
    # ----- sessions into the document
    def apply_session(self, s: Session, text: str) -> None:
        """Pose, phenotype (same backend only) and keyframes of ``s`` into the document as one undo step."""
        stack = self.doc.undo_stack
        stack.beginMacro(text)
        try:
            self.doc.push_pose(s.pose, text)
            if s.body_backend == self.doc.session.body_backend:
                self.doc.set_phenotype(s.phenotype)
            for i in reversed(range(len(self.doc.keyframes))):
                self.doc.remove_keyframe(i)
            for k in s.keyframes:
                self.doc.add_keyframe(k.name, k.pose)
        finally:
            stack.endMacro()

    # ----- open
    def _start_dir(self) -> str:
        rec = self.settings.get("recent_files") or []
        if self.doc.path:
            return str(Path(self.doc.path).parent)
        return str(Path(rec[0]).parent) if rec else str(Path.home())

    def open_dialog(self) -> None:
        f = self.dialogs.open_file(self, self._start_dir())
        if f:
            self.open_file(f)

    def _track(self, w: Any) -> Any:
        self._open_jobs.append(w)
        w.signals.finished.connect(lambda: self._open_jobs.remove(w) if w in self._open_jobs else None)
        return w

    def open_file(self, path: str):
        """Read ``path`` in a worker; on success it becomes the current pose (undoable), on failure an error
        box explains why and nothing changes. Returns the worker."""
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        w = run_in_background(self.services.read_pose_file, str(path), on_result=self._on_file_read,
                              on_error=lambda e, p=str(path): self._on_file_error(p, e))
        return self._track(w)

    def _on_file_error(self, path: str, e: BaseException) -> None:
        self.statusBar().showMessage(f"Could not open {Path(path).name}", 8000)
        msg = str(e) if isinstance(e, FILE_ERRORS) else f"{type(e).__name__}: {e}"
        self.dialogs.error(self, "Cannot open file", f"{Path(path).name} could not be opened.\n\n{msg}\n\n"
                           "Your current pose is unchanged.")

    def _on_file_read(self, out: PoseFile) -> None:
        name = out.path.name
        if out.session is not None:
            self.apply_session(out.session, f"Open {name}")
        else:
            self.doc.push_pose(out.pose, f"Open {name}")
        self.doc.mark_saved(str(out.path))
        self._add_recent(str(out.path))
        if out.frames > 1:
            self.statusBar().showMessage(f"{name} has {out.frames} frames; showing the first.", 8000)
        else:
            self.statusBar().showMessage(f"Opened {name}", 5000)

    # ----- the reference image (app.panels.reference: the image and its settings live in the app settings)
    def load_reference_image(self) -> None:
        """File ▸ Load reference image…: the Reference panel's file dialog (its dock is raised)."""
        ref = self.feature_panels.get("dock_reference")
        if hasattr(ref, "load_dialog"):
            self.feature_docks["dock_reference"].raise_()
            ref.load_dialog()

    def restore_reference_image(self, saved: Any) -> None:
        """At start: show the reference image saved in the settings again (the panel reports a missing file)."""
        ref = self.feature_panels.get("dock_reference")
        if saved and hasattr(ref, "restore_state"):
            ref.restore_state(saved)

    def reference_image_state(self) -> Any:
        """At close: what the settings keep of the reference image (None: none)."""
        ref = self.feature_panels.get("dock_reference")
        return ref.state() if hasattr(ref, "state") else None

    # ----- motion capture
    def import_mocap_dialog(self) -> None:
        f = self.dialogs.open_mocap(self, self._start_dir())
        if f:
            self.import_mocap(f)

    def import_mocap(self, path: str):
        """Import a mocap clip in a worker (progress in a busy dialog): on success the first frame becomes the
        pose and evenly spaced frames are appended as keyframes, all in one undoable step; on failure an error
        box explains why and nothing changes. Returns the worker."""
        from core_models.io.retarget import import_clip

        rest = self.body.skinning.rest_joints if self.body is not None else None
        name = Path(path).name
        dlg = busy_dialog(self, "Import motion capture", f"Importing {name}…")
        dlg.show()
        w = run_in_background(import_clip, str(path), rest, on_result=self._on_mocap_imported,
                              on_error=lambda e, p=str(path): self._on_mocap_error(p, e),
                              on_progress=lambda pct, msg: dlg.setLabelText(f"{name}: {msg}") if dlg else None)
        w.signals.finished.connect(dlg.close)
        return self._track(w)

    def _on_mocap_error(self, path: str, e: BaseException) -> None:
        self.statusBar().showMessage(f"Could not import {Path(path).name}", 8000)
        msg = str(e) if isinstance(e, (OSError, ValueError)) or type(e).__name__ == "MotionImportError" \
            else f"{type(e).__name__}: {e}"
        self.dialogs.error(self, "Cannot import motion capture",
                           f"{Path(path).name} could not be imported.\n\n{msg}\n\nYour current pose is unchanged.")

    def _on_mocap_imported(self, clip) -> None:
        stack = self.doc.undo_stack
        stack.beginMacro(f"Import {clip.name}")
        try:
            self.doc.push_pose(clip.poses[int(clip.key_indices[0])], f"Import {clip.name}")
            for i in clip.key_indices:
                self.doc.add_keyframe(f"{clip.name} {int(i) / clip.fps:.2f}s", clip.poses[int(i)])
        finally:
            stack.endMacro()
        self.statusBar().showMessage(
            f"Imported {clip.name}: {len(clip.poses)} frames at {clip.fps:g} fps, {len(clip.key_indices)} keyframes "
            f"(retarget error {clip.quality['mpjpe_mm']:.0f} mm)", 10000)

    # ----- save
    def save(self) -> bool:
        if not self.doc.path:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        suggested = self.doc.path or str(Path(self._start_dir()) / "pose.npz")
        f = self.dialogs.save_file(self, suggested)
        return self.save_to(f) if f else False

    def save_to(self, path: str) -> bool:
        p = Path(path)
        try:
            if p.suffix.lower() in JSON_SUFFIXES:
                self.doc.session.save(p)
            else:
                if p.suffix.lower() not in NPZ_SUFFIXES:
                    p = p.with_suffix(p.suffix + ".npz") if p.suffix else p.with_suffix(".npz")
                self.services.write_pose_file(p, self.doc.pose())
        except Exception as e:  # noqa: BLE001 - shown to the user, the document stays as it is
            self.dialogs.error(self, "Cannot save", f"Could not save to {p}:\n{e}")
            return False
        self.doc.mark_saved(str(p))
        self._add_recent(str(p))
        if self.autosave is not None:
            self.autosave.clear_autosave()
            self.policy.saved()
        msg = f"Saved {p.name}"
        if p.suffix.lower() in NPZ_SUFFIXES and self.doc.keyframes:
            msg += " (pose only; save as .json to keep the keyframes)"
        self.statusBar().showMessage(msg, 6000)
        return True

    # ----- recent files
    def _add_recent(self, path: str) -> None:
        st.add_recent_file(self.settings, path)
        self._save_settings()

    def fill_recent_menu(self, m: QMenu) -> None:
        m.clear()
        rec = list(self.settings.get("recent_files", []))
        for i, r in enumerate(rec):
            a = m.addAction(f"&{i + 1} {Path(r).name}", lambda r=r: self.open_file(r))
            a.setToolTip(r)
            a.setStatusTip(r)
        if not rec:
            m.addAction("(none)").setEnabled(False)
        else:
            m.addSeparator()
            m.addAction("Clear list", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings["recent_files"] = []
        self._save_settings()

    # ----- drag & drop
    @staticmethod
    def _dropped_files(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls()
                if u.isLocalFile() and Path(u.toLocalFile()).suffix.lower() in DROP_SUFFIXES]

    def dragEnterEvent(self, e) -> None:  # noqa: N802
        if self._dropped_files(e.mimeData()):
            e.acceptProposedAction()
        else:
            e.ignore()

    def dragMoveEvent(self, e) -> None:  # noqa: N802
        self.dragEnterEvent(e)

    def dropEvent(self, e) -> None:  # noqa: N802
        files = self._dropped_files(e.mimeData())
        if files:
            e.acceptProposedAction()
            ref = self.feature_panels.get("dock_reference")
            if Path(files[0]).suffix.lower() in IMAGE_SUFFIXES and hasattr(ref, "load_file"):
                ref.load_file(files[0])
            else:
                self.open_file(files[0])

    # ----- ended from outside: signals, the end of the desktop session
    def watch_session_end(self, app: QApplication) -> SignalBridge:
        """SIGTERM / SIGINT / SIGHUP and the session manager's commit-data / save-state requests flush unsaved
        work into the autosave (see :meth:`end_by_signal`, :meth:`on_commit_data`). Called by ``run_app``."""
        bridge = SignalBridge(self.end_by_signal, self)
        app.aboutToQuit.connect(bridge.uninstall)
        app.commitDataRequest.connect(self.on_commit_data)
        app.saveStateRequest.connect(self.on_commit_data)
        self._signal_bridge = bridge
        return bridge

    def end_by_signal(self, signum: int) -> None:
        """Logout, shutdown, ``kill``, Ctrl+C: no question is asked; unsaved work is written to the autosave and
        left for the next start, which offers it back; the app quits with exit code 128 + ``signum``."""
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        self.flush_unsaved(name)
        self._closing_ok = True
        self.close()
        app = QApplication.instance()
        if app is not None:
            app.exit(128 + int(signum))

    def flush_unsaved(self, reason: str) -> bool:
        """Unsaved work → this run's autosave, kept for the next start with ``reason`` recorded. False when there
        is nothing unsaved or no autosave can be written (said on stderr: the window may be gone)."""
        if self.autosave is None or not self.doc.is_dirty():
            return False
        try:
            self.autosave.end_unsaved(self.doc.session.to_dict(), reason)
        except (OSError, ValueError) as e:
            log.error("%s: unsaved work could not be autosaved: %s", reason, e)
            return False
        self.policy.saved()
        return True

    def on_commit_data(self, manager: Any = None) -> None:
        """The desktop session is ending (QGuiApplication.commitDataRequest / saveStateRequest): write unsaved
        work to the autosave now, whatever the debounce says. The run lock stays live (the session may still be
        cancelled); if the session then ends the app by a signal or by force, the next start offers the work."""
        if self.doc.is_dirty():
            self.autosave_now()

    # ----- the status bar's device label (lives here to keep main_window.py small)
    def watch_device_label(self) -> None:
        """"Device: …" shows the spec ("auto") until torch is imported (never imported for the label: a fast
        start), then where the models load ("CPU", "CUDA:0 (…)" or why the asked-for device is unavailable);
        checked every second until torch is there, and again whenever the body is rebuilt."""
        timer = QTimer(self)
        timer.setInterval(1000)

        def refresh() -> None:
            self.lbl_device.setText(f"Device: {self.services.device_label()}")
            if "torch" in sys.modules:
                timer.stop()

        timer.timeout.connect(refresh)
        timer.start()
        self.bodyReady.connect(lambda _b: refresh())
        refresh()
