"""The PoseTailor main window: central 3D viewport, dockable Properties / Library / Body / Keyframes /
History panels and the learned-tool docks, menus + shortcuts (one declared table: app.actions), status bar,
undo, autosave + crash recovery, settings, drag & drop.

Files are in :mod:`app.window_files`, the body model in :mod:`app.window_body`, dialogs in :mod:`app.dialogs`.
Feature panels get a :class:`app.context.PanelContext` (never the window); models come from the lazy
:class:`core_models.services.ModelServices`. ``run_app(files)`` is the GUI entry point used by ``main.py``.
"""
from __future__ import annotations

import importlib
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QIcon, QImage
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMenu, QUndoView, QWidget

from app import dialogs as dlg
from app.actions import build_actions
from app.commands import Document
from app.docks import add_dock
from app.context import PanelContext, ViewportProtocol
from app.dialogs import APP_NAME, APP_VERSION, ROOT, Dialogs
from app.panels.body import BodyPanel
from app.panels.library import LibraryPanel, stick_figure_image
from app.panels.properties import PropertiesPanel, pretty_joint
from app.panels.timeline import KeyframeTimeline
from app.viewport.fallback import make_viewport
from app.window_body import BodyLoaderMixin
from app.window_drag import DragPoseMixin
from app.window_files import FileOpsMixin
from core_models import autosave as au
from core_models import settings as st
from core_models.pose import Pose, apply_heading, heading_of, mirror, normalize_heading
from core_models.services import ModelServices, default_services
from core_models.session import Session, SessionError

log = logging.getLogger(__name__)
KEYFRAME_THUMB = 64


class MainWindow(FileOpsMixin, BodyLoaderMixin, DragPoseMixin, QMainWindow):
    bodyReady = Signal(object)

    def __init__(self, settings: dict | None = None, body=None, viewport: ViewportProtocol | None = None,
                 autosave: au.AutosaveManager | None = None, dialogs: Dialogs | None = None,
                 services: ModelServices | None = None):
        super().__init__()
        self.setObjectName("PoseTailorMainWindow")
        self._settings_warnings: list[str] = []
        if settings is None:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always", st.SettingsWarning)
                settings = st.load_settings()
            self._settings_warnings = [str(x.message) for x in w]
        self.settings = settings
        self.dialogs = dialogs or Dialogs()
        self.services = services if services is not None else default_services()
        if services is None:
            self.services.set_device(settings.get("device"))  # $POSETAILOR_DEVICE wins (core_models.device)
        self.doc = Document(Session(body_backend=settings["body_backend"], phenotype=dict(settings["phenotype"])),
                            self)
        self.autosave = autosave
        self.policy = au.AutosavePolicy(settings["autosave_debounce_s"], settings["autosave_interval_s"])
        self.body: Any = None
        self._body_job: Any = None
        self._body_pending: dict | None = None
        self._body_dialog: Any = None
        self._open_jobs: list = []
        self._closing_ok = False
        self._injected_body = body
        self._setup_window(viewport)
        self._apply_settings(settings)
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(250)
        self._autosave_timer.timeout.connect(self._autosave_tick)
        self._autosave_timer.start()

    # ----- construction
    def _setup_window(self, viewport: ViewportProtocol | None) -> None:
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(_app_icon())
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        scr = QGuiApplication.primaryScreen()
        if scr is not None:
            av = scr.availableGeometry()
            self.resize(min(1500, int(av.width() * 0.94)), min(960, int(av.height() * 0.94)))
        else:
            self.resize(1440, 900)
        self.viewport = viewport if viewport is not None else make_viewport(self)
        self.setCentralWidget(self.viewport)
        self._build_docks()
        self.acts = build_actions(self, self.menuBar())
        self._build_status()
        self._connect()

    def _apply_settings(self, settings: dict) -> None:
        self.properties.set_limits_enabled(bool(settings["limits_enabled"]))
        self.viewport.set_limits_enabled(bool(settings["limits_enabled"]))
        self.viewport.set_show_inset(bool(settings["show_inset"]))
        self.acts["inset"].setChecked(bool(settings["show_inset"]))
        self.body_panel.set_phenotype(self.doc.phenotype)
        self.body_panel.set_backend(self.doc.session.body_backend)
        self._on_pose_changed(self.doc.pose())
        self._update_title()
        self._restore_window_state()
        self.restore_reference_image(settings.get("reference_image"))  # app.window_files

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        return add_dock(self, title, name, widget, area)

    def _build_docks(self) -> None:
        R, L, B = (Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea,
                   Qt.DockWidgetArea.BottomDockWidgetArea)
        self.properties = PropertiesPanel()
        self.library = LibraryPanel(pose_provider=self.doc.pose, thumbnail_provider=self._viewport_thumbnail)
        self.body_panel = BodyPanel()
        self.keyframes = KeyframeTimeline(thumb_size=KEYFRAME_THUMB)
        self.history = QUndoView(self.doc.undo_stack)
        self.history.setEmptyLabel("<opened pose>")
        self.dock_properties = self._dock("Properties", "dock_properties", self.properties, R)
        self.dock_library = self._dock("Library", "dock_library", self.library, L)
        self.dock_body = self._dock("Body", "dock_body", self.body_panel, L)
        self.dock_keyframes = self._dock("Keyframes", "dock_keyframes", self.keyframes, B)  # a strip under the view
        self.dock_history = self._dock("History", "dock_history", self.history, R)
        self.tabifyDockWidget(self.dock_library, self.dock_body)
        self.panel_context = PanelContext(self.doc, self.viewport, self.services, self.statusBar(), self.library)
        self._build_feature_docks()
        self.dock_library.raise_()
        self.dock_history.raise_()
        self.setCorner(Qt.Corner.BottomLeftCorner, L)  # the keyframe strip sits under the viewport only
        self.setCorner(Qt.Corner.BottomRightCorner, R)
        self.resizeDocks([self.dock_library, self.dock_properties], [330, 360], Qt.Orientation.Horizontal)
        self.resizeDocks([self.dock_properties, self.dock_history], [600, 220], Qt.Orientation.Vertical)

    def _build_feature_docks(self) -> None:
        """Docks for the learned tools registered in app.panels.FEATURE_PANELS (tabbed with the body panel on
        the left, with the history on the right). Each panel gets the PanelContext, never the window."""
        from app.panels import FEATURE_PANELS

        self.feature_panels: dict[str, QWidget] = {}
        self.feature_docks: dict[str, QDockWidget] = {}
        for module, cls_name, title, name, area in FEATURE_PANELS:
            try:
                widget = getattr(importlib.import_module(module), cls_name)(self.panel_context)
            except Exception as e:  # a broken feature never stops the app: show why instead
                log.exception("feature panel %s failed", name)
                widget = QLabel(f"{title} is unavailable:\n{type(e).__name__}: {e}")
                widget.setWordWrap(True)
            left = area == "left"
            dock = self._dock(title, name, widget, Qt.DockWidgetArea.LeftDockWidgetArea if left
                              else Qt.DockWidgetArea.RightDockWidgetArea)
            self.tabifyDockWidget(self.dock_body if left else self.dock_history, dock)
            self.feature_panels[name] = widget
            self.feature_docks[name] = dock

    def fill_submenu(self, menu_id: str, menu: QMenu) -> None:
        """Called by app.actions.build_actions for the "submenu" entries of the action table."""
        if menu_id == "recent":
            menu.aboutToShow.connect(lambda: self.fill_recent_menu(menu))
            self.fill_recent_menu(menu)
        elif menu_id == "panels":
            for d in (self.dock_properties, self.dock_library, self.dock_body, self.dock_keyframes,
                      self.dock_history, *self.feature_docks.values()):
                menu.addAction(d.toggleViewAction())

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.lbl_joint = QLabel("No joint selected")
        self.lbl_fps = QLabel("— fps")
        self.lbl_backend = QLabel("Body: loading…")
        self.lbl_device = QLabel(f"Device: {self.services.device_label()}")  # the spec until torch is loaded
        self.watch_device_label()  # app.window_files: the resolved device once torch is loaded
        for w in (self.lbl_joint, self.lbl_fps, self.lbl_backend, self.lbl_device):
            w.setContentsMargins(8, 0, 8, 0)
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        d = self.doc
        d.poseChanged.connect(self._on_pose_changed)
        d.keyframesChanged.connect(self._on_keyframes_changed)
        d.phenotypeChanged.connect(self._on_phenotype_changed)
        d.dirtyChanged.connect(lambda _b: self._update_title())
        d.pathChanged.connect(lambda _p: self._update_title())
        d.edited.connect(lambda: self.policy.edited())
        p = self.properties
        p.poseEdited.connect(lambda new, text, key: d.push_pose(new, text, key))
        p.jointSelected.connect(self._on_joint_selected)
        p.limitsToggled.connect(self._on_limits_toggled)
        vp: Any = self.viewport
        vp.jointSelected.connect(self._on_viewport_joint)
        vp.poseDragged.connect(self._on_pose_dragged)
        vp.poseEditFinished.connect(lambda old, new, text: d.push_pose_change(old, new, text or "Edit pose"))
        vp.fpsChanged.connect(lambda fps: self.lbl_fps.setText(f"{fps:.0f} fps"))
        self.library.applyRequested.connect(self.apply_library_pose)
        self.library.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.body_panel.phenotypeEdited.connect(d.set_phenotype)
        self.body_panel.backendRequested.connect(self.set_backend)
        self.body_panel.smplhFileRequested.connect(lambda: self.set_backend("smplh", choose_file=True))
        k = self.keyframes
        k.addRequested.connect(self.add_keyframe)
        k.removeRequested.connect(d.remove_keyframe)
        k.moveRequested.connect(d.move_keyframe)
        k.renameRequested.connect(d.rename_keyframe)
        k.activated.connect(self.goto_keyframe)
        self._connect_drag_pose()  # app.window_drag

    # ----- startup
    def startup(self, files: list[str] | None = None, check_recovery: bool = True) -> None:
        """Everything after the window is shown: body load, crash recovery offer, files from the command line."""
        if self._settings_warnings:
            n = len(self._settings_warnings)
            self.statusBar().showMessage(f"Settings: {self._settings_warnings[0]}"
                                         + (f" (+{n - 1} more)" if n > 1 else ""), 15000)
        if self.autosave is None:
            try:
                self.autosave = au.AutosaveManager()
                self.autosave.start()
            except OSError as e:
                self.autosave = None
                self.statusBar().showMessage(f"Autosave is off: cannot write to the data folder ({e})", 10000)
        self.load_body()
        self.library.reload()
        if check_recovery:
            self.check_crash_recovery()
        for f in files or []:
            self.open_file(f)

    def check_crash_recovery(self) -> bool:
        """Offer to restore the newest autosave of a crashed run. Returns True if something was restored."""
        if self.autosave is None:
            return False
        cand = self.autosave.recovery_candidate()
        if cand is None:
            return False
        restored = False
        try:
            recovered: Session | None = Session.from_dict(cand.load())
        except (ValueError, SessionError) as e:
            self.dialogs.error(self, "Cannot restore", f"The autosave from {cand.describe_time()} is not "
                               f"usable: {e}\nIt was kept in {self.autosave.recovered_dir}.")
            recovered = None
        if recovered is not None and self.dialogs.ask_restore(self, cand.describe_time(),
                                                              self._recovery_detail(recovered)):
            self.restore_session(recovered)
            restored = True
        self.autosave.dismiss_crashed()
        return restored

    def _recovery_detail(self, recovered: Session) -> str:
        n = len(self.autosave.crashed_runs)
        keys = f", {len(recovered.keyframes)} keyframe(s)" if recovered.keyframes else ""
        of = f" of {Path(recovered.path).name}" if recovered.path else ""
        more = f" ({n} crashed runs found; offering the newest.)" if n > 1 else ""
        cand = self.autosave.recovery_candidate()
        why = (f"PoseTailor was ended from outside ({cand.ended_by}: logout, shutdown or kill) with unsaved "
               "changes; they were autosaved. ") if cand is not None and cand.ended_by else ""
        return (f"{why}The autosave holds the pose{keys}{of}. If you don't restore it, it is kept in "
                f"{self.autosave.recovered_dir}.{more}")

    def restore_session(self, s: Session) -> None:
        """Put a recovered session on the undo stack (one undoable step) and mark the document unsaved."""
        self.apply_session(s, "Restore unsaved work")
        self.doc.session.path = s.path
        self.doc.mark_dirty()
        self._update_title()
        self.statusBar().showMessage("Unsaved work restored (Ctrl+Z undoes the restore)", 10000)

    # ----- document → views
    def _on_pose_changed(self, pose: Pose) -> None:
        self.viewport.set_pose(pose)
        self.properties.set_pose(pose)

    def _on_pose_dragged(self, pose: Pose) -> None:
        self.properties.set_pose(pose)  # live values while the gizmo moves; the command comes at the end

    def _on_keyframes_changed(self) -> None:
        kfs = self.doc.keyframes
        self.keyframes.set_keyframes(kfs)
        rest = self.body.skinning.rest_joints if self.body is not None else None
        for i, k in enumerate(kfs):
            self.keyframes.set_thumbnail(i, stick_figure_image(k.pose, KEYFRAME_THUMB, rest))

    def _on_phenotype_changed(self, ph: dict) -> None:
        self.body_panel.set_phenotype(ph)
        if self.doc.session.body_backend == "anny":
            self.load_body(ph)

    def _on_joint_selected(self, j: int) -> None:
        self.viewport.set_selected_joint(j)
        self.lbl_joint.setText(f"Joint: {pretty_joint(j)}" if j >= 0 else "No joint selected")

    def _on_viewport_joint(self, j: int) -> None:
        self.properties.set_selected_joint(j)
        self.lbl_joint.setText(f"Joint: {pretty_joint(j)}" if j >= 0 else "No joint selected")

    def _on_limits_toggled(self, on: bool) -> None:
        self.viewport.set_limits_enabled(on)
        act = self.acts["limits"]
        if act.isChecked() != on:
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)
        self.settings["limits_enabled"] = bool(on)

    def set_inset(self, on: bool) -> None:
        self.viewport.set_show_inset(on)
        self.settings["show_inset"] = bool(on)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.doc.session.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.doc.is_dirty())

    def _viewport_thumbnail(self) -> QImage | None:
        try:
            img = self.viewport.grab_image()
            return img if isinstance(img, QImage) and not img.isNull() else None
        except Exception:  # noqa: BLE001 - no thumbnail is fine
            return None

    # ----- pose operations
    def apply_library_pose(self, entry, mirrored: bool = False) -> None:
        """Apply a library pose, keeping the user's heading and horizontal position."""
        lib = mirror(entry.pose) if mirrored else entry.pose
        cur = self.doc.pose()
        norm, _ = normalize_heading(lib)
        new = apply_heading(norm, np.asarray(heading_of(cur.root_orient), np.float32))
        transl = cur.transl.copy()
        transl[1] = new.transl[1]
        new = Pose(new.root_orient, new.body_pose, transl, cur.hand_pose)
        self.doc.push_pose(new, f"Apply '{entry.name}'{' mirrored' if mirrored else ''}")
        self.statusBar().showMessage(f"Applied '{entry.name}'{' (mirrored)' if mirrored else ''}", 5000)

    def add_keyframe(self) -> None:
        self.doc.add_keyframe()
        self.keyframes.set_current(len(self.doc.keyframes) - 1)

    def goto_keyframe(self, i: int) -> None:
        kfs = self.doc.keyframes
        if 0 <= i < len(kfs):
            self.doc.push_pose(kfs[i].pose, f"Go to keyframe '{kfs[i].name}'")

    # ----- export
    def export_poses_for(self, keyframes: bool) -> list:
        """What File > Export writes: the current pose, or the keyframes in order (an animation)."""
        if keyframes:
            return [k.pose for k in self.doc.keyframes]
        return [self.doc.pose()]

    def export_pose_dialog(self):
        return self.export_dialog(False)

    def export_keyframes_dialog(self):
        return self.export_dialog(True)

    def export_dialog(self, keyframes: bool = False):
        from app.panels.export_dialog import run_export_dialog

        poses = self.export_poses_for(keyframes)
        if not poses:
            self.dialogs.info(self, "Export", "There are no keyframes yet: add some with Edit > Add keyframe.")
            return None
        if self.body is None:
            self.dialogs.info(self, "Export", "The body model is still loading; try again in a moment.")
            return None
        start = str(Path(self.doc.path).parent) if self.doc.path else None
        path = run_export_dialog(self, poses, self.body, start)
        if path:
            self.statusBar().showMessage(f"Exported {len(poses)} pose(s) to {path}", 5000)
        return path

    # ----- autosave
    def _autosave_tick(self) -> None:
        if self.autosave is None or not self.policy.due():
            return
        self.autosave_now()

    def autosave_now(self) -> bool:
        if self.autosave is None:
            return False
        try:
            self.autosave.save(self.doc.session.to_dict())
        except (OSError, ValueError) as e:
            self.statusBar().showMessage(f"Autosave failed: {e}", 8000)
            return False
        self.policy.saved()
        return True

    # ----- settings / window state
    def _qsettings(self) -> QSettings:
        return QSettings(str(st.config_dir() / "window.ini"), QSettings.Format.IniFormat)

    def _restore_window_state(self) -> None:
        qs = self._qsettings()
        g, s = qs.value("geometry"), qs.value("state")
        if isinstance(g, QByteArray):
            self.restoreGeometry(g)
        if isinstance(s, QByteArray):
            self.restoreState(s, 1)

    def _save_settings(self) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", st.SettingsWarning)
                st.save_settings(self.settings)
        except OSError as e:
            self.statusBar().showMessage(f"Settings not saved: {e}", 8000)

    def closeEvent(self, e) -> None:  # noqa: N802
        if self.doc.is_dirty() and not self._closing_ok:
            ans = self.dialogs.ask_save_changes(self, self.doc.session.display_name)
            if ans == "cancel" or (ans == "save" and not self.save()):
                e.ignore()
                return
        self._autosave_timer.stop()
        qs = self._qsettings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState(1))
        qs.sync()
        self.settings["phenotype"] = self.doc.phenotype
        self.settings["reference_image"] = self.reference_image_state()
        self._save_settings()
        self.library.shutdown()
        if self.autosave is not None:
            self.autosave.close()
        e.accept()

    # ----- help
    def show_about(self) -> None:
        dlg.show_about(self)

    def show_data_notice(self) -> None:
        dlg.show_data_notice(self)


def _app_icon() -> QIcon:
    for name in ("posetailor.svg", "posetailor.png"):
        p = ROOT / "resources" / "icons" / name
        if p.is_file():
            return QIcon(str(p))
    return QIcon()


def run_app(files: list[str] | None = None) -> int:
    """Start the desktop app (blocks until the window closes); returns the exit code."""
    from app.theme import apply_theme

    if QApplication.instance() is None:
        QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        try:
            from app.viewport.widget import configure_default_format

            configure_default_format()
        except Exception:  # noqa: BLE001 - the viewport module reports its own problems later
            pass
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(APP_VERSION)
    w = MainWindow()
    mode = apply_theme(app, w.settings.get("theme", "system"))
    w.viewport.set_theme(mode)
    w.show()
    w.watch_session_end(app)  # SIGTERM / SIGINT / SIGHUP, session end: unsaved work → autosave, offered next start
    QTimer.singleShot(0, lambda: w.startup(list(files or [])))
    warm_up_after_first_frame(w)
    return int(app.exec())


def warm_up_after_first_frame(w: MainWindow) -> None:
    """The first frame needs no torch (a fast start); once the body is on screen, torch and the text editor
    load off the GUI thread so the model-backed panels answer at once, and the status bar says when."""
    sig = getattr(w.viewport, "bodyDrawn", None)
    if sig is None:
        return

    def ready(_editor) -> None:
        w.statusBar().showMessage("Models ready: text editing is available.", 6000)

    def failed(e: BaseException) -> None:
        w.statusBar().showMessage(f"Text editing is unavailable: {e}", 10000)

    def start() -> None:
        from app.workers import run_in_background

        sig.disconnect(start)
        w.statusBar().showMessage("Loading the models in the background…")
        run_in_background(w.services.editor_with_encoder, on_result=ready, on_error=failed)

    sig.connect(start)
