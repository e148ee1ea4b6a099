"""The PoseTailor main window: central 3D viewport, dockable Properties / Library / Body / Keyframes /
History panels, menus + shortcuts, status bar, undo, autosave + crash recovery, settings, drag & drop.

``run_app(files)`` is the GUI entry point used by ``main.py``.
"""
from __future__ import annotations

import importlib
import logging
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (QAction, QColor, QDesktopServices, QGuiApplication, QIcon, QImage, QKeySequence,
                           QPainter, QPen)
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QHBoxLayout, QInputDialog, QLabel,
                               QListWidget, QMainWindow, QMessageBox, QPushButton, QTextBrowser, QUndoView,
                               QVBoxLayout, QWidget, QDialog, QDialogButtonBox)

from app.commands import Document
from app.panels.body import BodyPanel
from app.panels.library import LibraryPanel, stick_figure_image
from app.panels.properties import PropertiesPanel, pretty_joint, reset_body
from app.workers import busy_dialog, run_in_background
from core_models import autosave as au
from core_models import settings as st
from core_models import skeleton as sk
from core_models.pose import Pose, PoseError, apply_heading, heading_of, mirror, normalize_heading
from core_models.session import Session, SessionError

log = logging.getLogger(__name__)
APP_NAME = "PoseTailor"
APP_VERSION = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent
POSE_SUFFIXES = (".npz",)
SESSION_SUFFIXES = (".json",)
OPEN_FILTER = "Poses and sessions (*.npz *.json);;AMASS-style pose (*.npz);;PoseTailor session (*.json);;All files (*)"
SAVE_FILTER_NPZ = "AMASS-style pose (*.npz)"
SAVE_FILTER_SESSION = "PoseTailor session with keyframes (*.json)"


# --- pose file I/O: core_models.io.npz_pose when present, a minimal reader/writer otherwise --------------

class PoseFileError(ValueError):
    """Fallback error type (core_models.io.npz_pose defines the real one)."""


def _npz_module():
    try:
        return importlib.import_module("core_models.io.npz_pose")
    except ImportError:
        return None


def pose_file_errors() -> tuple[type[BaseException], ...]:
    mod = _npz_module()
    errs: list[type[BaseException]] = [PoseFileError, PoseError, SessionError]
    if mod is not None and isinstance(getattr(mod, "PoseFileError", None), type):
        errs.insert(0, mod.PoseFileError)
    return tuple(errs)


def _pick(mod, names: tuple[str, ...]) -> Callable | None:
    for n in names:
        fn = getattr(mod, n, None)
        if callable(fn):
            return fn
    return None


def read_pose_file(path: str) -> tuple[Pose, int]:
    """Read an .npz pose file → (first frame as a single Pose, number of frames). Raises a clear error."""
    mod = _npz_module()
    fn = _pick(mod, ("load_pose_npz", "read_pose_npz", "load_npz_pose", "read_npz", "load_npz", "read_pose",
                     "load_pose")) if mod is not None else None
    if fn is not None:
        out = fn(path)
        pose = out[0] if isinstance(out, tuple) else getattr(out, "pose", out)
    else:
        pose = _fallback_read_npz(path)
    if not isinstance(pose, Pose):
        raise PoseFileError(f"{Path(path).name}: the reader returned {type(pose).__name__}, not a pose")
    n = 1
    if pose.batch_shape != ():
        flat = pose.root_orient.reshape(-1, 3)
        n = flat.shape[0]
        if n == 0:
            raise PoseFileError(f"{Path(path).name}: the file contains no frames")
        idx = (0,) * len(pose.batch_shape)
        pose = pose[idx]
    return pose, n


def write_pose_file(path: str, pose: Pose) -> None:
    mod = _npz_module()
    fn = _pick(mod, ("save_pose_npz", "write_pose_npz", "save_npz_pose", "write_npz", "save_npz", "write_pose",
                     "save_pose")) if mod is not None else None
    if fn is not None:
        fn(path, pose)
        return
    _fallback_write_npz(path, pose)


def _fallback_read_npz(path: str) -> Pose:
    name = Path(path).name
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if "poses" in keys:
                poses = np.asarray(z["poses"], np.float32)
                if poses.ndim == 1:
                    poses = poses[None]
                if poses.ndim != 2 or poses.shape[1] < 66:
                    raise PoseFileError(f"{name}: 'poses' must be (frames, ≥66), got {poses.shape}")
                trans = np.asarray(z["trans"], np.float32).reshape(-1, 3) if "trans" in keys else None
                return Pose.from_full(poses[:, :66].reshape(-1, 22, 3), trans)
            if "root_orient" in keys and "pose_body" in keys:
                ro = np.asarray(z["root_orient"], np.float32).reshape(-1, 3)
                pb = np.asarray(z["pose_body"], np.float32).reshape(ro.shape[0], 21, 3)
                tr = np.asarray(z["trans"], np.float32).reshape(-1, 3) if "trans" in keys else None
                return Pose(ro, pb, tr)
            raise PoseFileError(f"{name}: no pose found (expected 'poses' or 'root_orient' + 'pose_body'; "
                                f"the file has {', '.join(sorted(keys)) or 'no arrays'})")
    except PoseFileError:
        raise
    except PoseError as e:
        raise PoseFileError(f"{name}: {e}") from None
    except (OSError, ValueError, EOFError) as e:
        raise PoseFileError(f"{name}: not a readable .npz pose file ({e})") from None


def _fallback_write_npz(path: str, pose: Pose) -> None:
    import io

    buf = io.BytesIO()
    np.savez(buf, poses=pose.flat156()[None].astype(np.float32), trans=pose.transl[None].astype(np.float32),
             root_orient=pose.root_orient[None], pose_body=pose.body_pose.reshape(1, 63),
             mocap_framerate=np.float32(30.0), gender=np.array("neutral"))
    au.atomic_write_bytes(path, buf.getvalue())


def read_any(path: str) -> dict[str, Any]:
    """Worker: read a pose (.npz) or a session (.json) file."""
    p = Path(path)
    if not p.is_file():
        raise PoseFileError(f"{p.name}: file not found ({p})")
    if p.suffix.lower() in SESSION_SUFFIXES:
        return {"kind": "session", "session": Session.load(p), "path": str(p)}
    pose, n = read_pose_file(str(p))
    return {"kind": "pose", "pose": pose, "frames": n, "path": str(p)}


# --- body loading ---------------------------------------------------------------------------------------

def anny_cached(phenotype: dict | None) -> bool:
    """Is the Anny SMPL-H layer for ``phenotype`` already in the on-disk cache (a fast load)?"""
    try:
        from core_models.body import anny_body as ab

        ph = dict(ab.DEFAULT_PHENOTYPE)
        ph.update(phenotype or {})
        return (ab._cache_dir() / f"anny_smplh_{ab._cache_key(ph)}.npz").exists()
    except Exception:
        return False


def build_body(backend: str, phenotype: dict | None, smplh_path: str | None):
    """Worker: create the body model."""
    from core_models.body import load_body

    if backend == "smplh":
        if not smplh_path:
            raise RuntimeError("The SMPL-H backend needs the path of your official SMPL-H model file "
                               "(Body panel → SMPL-H model…).")
        return load_body("smplh", model_path=smplh_path)
    return load_body("anny", phenotype=dict(phenotype or {}))


def torch_device() -> str:
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:
        return "cpu"


# --- user-facing dialogs (one place, replaceable in tests) ------------------------------------------------

class Dialogs:
    def error(self, parent, title: str, text: str) -> None:
        QMessageBox.critical(parent, title, text)

    def info(self, parent, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def ask_restore(self, parent, when: str, detail: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?",
                          f"PoseTailor did not shut down properly last time.\n\n"
                          f"Restore unsaved work from {when}?", parent=parent)
        box.setInformativeText(detail)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Restore")
        box.button(QMessageBox.StandardButton.No).setText("Don't restore")
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        return box.exec() == QMessageBox.StandardButton.Yes

    def ask_save_changes(self, parent, name: str) -> str:
        r = QMessageBox.question(parent, "Unsaved changes", f"Save the changes to {name} before closing?",
                                 QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                                 | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(r, "cancel")

    def open_smplh(self, parent, directory: str) -> str | None:
        f, _ = QFileDialog.getOpenFileName(parent, "Choose the SMPL-H model file", directory,
                                           "SMPL-H model (*.npz);;All files (*)")
        return f or None

    def open_file(self, parent, directory: str) -> str | None:
        f, _ = QFileDialog.getOpenFileName(parent, "Open pose", directory, OPEN_FILTER)
        return f or None

    def open_mocap(self, parent, directory: str) -> str | None:
        f, _ = QFileDialog.getOpenFileName(
            parent, "Import motion capture", directory,
            "Motion capture (*.bvh *.amc *.txt *.csv *.json);;BVH (*.bvh);;ASF/AMC (*.amc);;"
            "CMU exp-map (*.txt *.csv);;DeepMimic (*.json *.txt);;All files (*)")
        return f or None

    def save_file(self, parent, suggested: str) -> str | None:
        f, flt = QFileDialog.getSaveFileName(parent, "Save pose as", suggested,
                                             f"{SAVE_FILTER_NPZ};;{SAVE_FILTER_SESSION}")
        if not f:
            return None
        if not Path(f).suffix:
            f += ".json" if flt == SAVE_FILTER_SESSION else ".npz"
        return f

    def get_text(self, parent, title: str, label: str, text: str = "") -> str | None:
        s, ok = QInputDialog.getText(parent, title, label, text=text)
        return s if ok else None


# --- a stand-in viewport (only used when app.viewport.widget cannot be imported) -------------------------

class FallbackViewport(QWidget):
    """Same API as app.viewport.widget.Viewport; draws a front-view stick figure with QPainter."""

    jointSelected = Signal(int)
    poseDragged = Signal(object)
    poseEditFinished = Signal(object, object, str)
    fpsChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pose = Pose.zeros()
        self._body = None
        self._sel = -1
        self._limits = True
        self._inset = True
        self._colors: dict[int, tuple] = {}
        self.setMinimumSize(320, 240)
        self.reason = ""

    def set_body(self, body) -> None:
        self._body = body
        self.update()

    def set_pose(self, pose: Pose) -> None:
        self._pose = pose.copy()
        self.update()

    def pose(self) -> Pose:
        return self._pose.copy()

    def set_selected_joint(self, j: int) -> None:
        self._sel = int(j)
        self.update()

    def set_joint_colors(self, colors: dict) -> None:
        self._colors = dict(colors)
        self.update()

    def set_limits_enabled(self, on: bool) -> None:
        self._limits = bool(on)

    def set_show_inset(self, on: bool) -> None:
        self._inset = bool(on)

    def reset_camera(self) -> None:
        self.update()

    def grab_image(self) -> QImage:
        return self.grab().toImage()

    def paintEvent(self, _e) -> None:  # noqa: N802
        qp = QPainter(self)
        qp.fillRect(self.rect(), self.palette().base())
        side = min(self.width(), self.height())
        rest = self._body.skinning.rest_joints if self._body is not None else None
        img = stick_figure_image(self._pose, max(64, int(side * 0.9)), rest, yaw_deg=20.0)
        qp.drawImage((self.width() - img.width()) // 2, (self.height() - img.height()) // 2, img)
        qp.setPen(QPen(self.palette().text().color()))
        qp.drawText(self.rect().adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                    "Simple preview (3D viewport unavailable)" + (f": {self.reason}" if self.reason else ""))
        qp.end()


def make_viewport(parent: QWidget | None = None):
    platform = QGuiApplication.platformName()
    if platform in ("offscreen", "minimal", "minimalegl"):
        v = FallbackViewport(parent)
        v.reason = f"no OpenGL on the '{platform}' Qt platform"
        return v
    try:
        from app.viewport.widget import Viewport  # the real OpenGL viewport

        return Viewport(parent)
    except Exception as e:  # noqa: BLE001 - the app must still start
        v = FallbackViewport(parent)
        v.reason = f"{type(e).__name__}: {e}"[:160]
        return v


# --- keyframes dock ---------------------------------------------------------------------------------------

class KeyframesPanel(QWidget):
    addRequested = Signal()
    removeRequested = Signal(int)
    gotoRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda it: self.gotoRequested.emit(self.list.row(it)))
        lay.addWidget(self.list)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Store the current pose as a keyframe (Ctrl+K)")
        self.add_button.clicked.connect(self.addRequested)
        self.goto_button = QPushButton("Go to")
        self.goto_button.clicked.connect(lambda: self.list.currentRow() >= 0
                                         and self.gotoRequested.emit(self.list.currentRow()))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(lambda: self.list.currentRow() >= 0
                                           and self.removeRequested.emit(self.list.currentRow()))
        for b in (self.add_button, self.goto_button, self.remove_button):
            row.addWidget(b)
        lay.addLayout(row)

    def set_keyframes(self, names: list[str]) -> None:
        cur = self.list.currentRow()
        self.list.clear()
        self.list.addItems(names)
        if names:
            self.list.setCurrentRow(min(max(cur, 0), len(names) - 1))


# --- the window -------------------------------------------------------------------------------------------

class MainWindow(QMainWindow):
    bodyReady = Signal(object)

    def __init__(self, settings: dict | None = None, body=None, viewport=None,
                 autosave: au.AutosaveManager | None = None, dialogs: Dialogs | None = None):
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
        self.doc = Document(Session(body_backend=settings["body_backend"], phenotype=dict(settings["phenotype"])),
                            self)
        self.autosave = autosave
        self.policy = au.AutosavePolicy(settings["autosave_debounce_s"], settings["autosave_interval_s"])
        self.body = None
        self._body_job = None
        self._body_pending: dict | None = None
        self._body_dialog = None
        self._open_jobs: list = []
        self._closing_ok = False
        self._injected_body = body

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
        self._build_actions()
        self._build_menus()
        self._build_status()
        self._connect()

        self.properties.set_limits_enabled(bool(settings["limits_enabled"]))
        self.viewport.set_limits_enabled(bool(settings["limits_enabled"]))
        self.viewport.set_show_inset(bool(settings["show_inset"]))
        self.act_inset.setChecked(bool(settings["show_inset"]))
        self.body_panel.set_phenotype(self.doc.phenotype)
        self.body_panel.set_backend(self.doc.session.body_backend)
        self._on_pose_changed(self.doc.pose())
        self._update_title()
        self._restore_window_state()

        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(250)
        self._autosave_timer.timeout.connect(self._autosave_tick)
        self._autosave_timer.start()

    # ----- construction
    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                      | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                      | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, d)
        return d

    def _build_docks(self) -> None:
        R, L = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
        self.properties = PropertiesPanel()
        self.library = LibraryPanel(pose_provider=self.doc.pose, thumbnail_provider=self._viewport_thumbnail)
        self.body_panel = BodyPanel()
        self.keyframes = KeyframesPanel()
        self.history = QUndoView(self.doc.undo_stack)
        self.history.setEmptyLabel("<opened pose>")
        self.dock_properties = self._dock("Properties", "dock_properties", self.properties, R)
        self.dock_library = self._dock("Library", "dock_library", self.library, L)
        self.dock_body = self._dock("Body", "dock_body", self.body_panel, L)
        self.dock_keyframes = self._dock("Keyframes", "dock_keyframes", self.keyframes, R)
        self.dock_history = self._dock("History", "dock_history", self.history, R)
        self.tabifyDockWidget(self.dock_library, self.dock_body)
        self._build_feature_docks()
        self.dock_library.raise_()
        self.tabifyDockWidget(self.dock_keyframes, self.dock_history)
        self.dock_keyframes.raise_()
        self.resizeDocks([self.dock_library, self.dock_properties], [330, 360], Qt.Orientation.Horizontal)
        self.resizeDocks([self.dock_properties, self.dock_keyframes], [640, 170], Qt.Orientation.Vertical)

    def _build_feature_docks(self) -> None:
        """Docks for the learned tools registered in app.panels.FEATURE_PANELS (tabbed with the body panel on
        the left, with the keyframes on the right)."""
        from app.panels import FEATURE_PANELS

        self.feature_panels: dict[str, QWidget] = {}
        self.feature_docks: dict[str, QDockWidget] = {}
        for module, cls_name, title, name, area in FEATURE_PANELS:
            try:
                widget = getattr(importlib.import_module(module), cls_name)(self)
            except Exception as e:  # a broken feature never stops the app: show why instead
                log.exception("feature panel %s failed", name)
                widget = QLabel(f"{title} is unavailable:\n{type(e).__name__}: {e}")
                widget.setWordWrap(True)
            left = area == "left"
            dock = self._dock(title, name, widget, Qt.DockWidgetArea.LeftDockWidgetArea if left
                              else Qt.DockWidgetArea.RightDockWidgetArea)
            self.tabifyDockWidget(self.dock_body if left else self.dock_keyframes, dock)
            self.feature_panels[name] = widget
            self.feature_docks[name] = dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                a.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.setCheckable(checkable)
        (a.toggled if checkable else a.triggered).connect(slot)
        return a

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_open = self._action("&Open…", self.open_dialog, K.Open, "Open a pose (.npz) or a session (.json)")
        self.act_import_mocap = self._action(
            "&Import motion capture…", self.import_mocap_dialog, "Ctrl+I",
            "Import a BVH / ASF+AMC / CMU exp-map / DeepMimic clip: retargeted onto the body, frames become keyframes")
        self.act_save = self._action("&Save", self.save, K.Save, "Save the pose")
        self.act_save_as = self._action("Save &As…", self.save_as, K.SaveAs, "Save under a new name")
        self.act_quit = self._action("&Quit", self.close, K.Quit)
        self.act_export = self._action("&Export pose…", lambda: self.export_dialog(False), "Ctrl+E",
                                       "Export the current pose as FBX / GLB / BVH / NPZ")
        self.act_export_anim = self._action("Export &keyframes as animation…", lambda: self.export_dialog(True),
                                            "Ctrl+Shift+E", "Export the keyframes as an animation")
        self.act_undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence(K.Undo))
        self.act_redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        self.act_mirror = self._action("&Mirror pose (L↔R)", self.properties.mirror_pose, "Ctrl+M",
                                       "Swap the left and right sides of the pose")
        self.act_reset_joint = self._action("Reset &joint", self.properties.reset_selected_joint, "Ctrl+J")
        self.act_reset_pose = self._action("Reset &pose", self.properties.reset_pose, "Ctrl+R",
                                           "All joints back to the T-pose")
        self.act_add_key = self._action("Add &keyframe", lambda: self.doc.add_keyframe(), "Ctrl+K",
                                        "Store the current pose as a keyframe")
        self.act_limits = self._action("Joint &limits", self.properties.set_limits_enabled, None,
                                       "Restrict rotations to anatomical ranges", checkable=True)
        self.act_reset_cam = self._action("&Reset camera", self.viewport.reset_camera, "Home")
        self.act_inset = self._action("Side &inset view", self._set_inset, "Ctrl+I",
                                      "Show a small orthographic side view for depth", checkable=True)
        self.act_about = self._action("&About PoseTailor", self.show_about)
        self.act_notice = self._action("&Data and licence notice", self.show_data_notice)

    def export_poses_for(self, keyframes: bool) -> list:
        """What File > Export writes: the current pose, or the keyframes in order (an animation)."""
        if keyframes:
            return [k.pose for k in self.doc.keyframes]
        return [self.doc.pose()]

    def export_dialog(self, keyframes: bool = False):
        from app.panels.export_dialog import run_export_dialog

        poses = self.export_poses_for(keyframes)
        if not poses:
            QMessageBox.information(self, "Export", "There are no keyframes yet: add some with Edit > Add keyframe.")
            return None
        if self.body is None:
            QMessageBox.information(self, "Export", "The body model is still loading; try again in a moment.")
            return None
        start = str(Path(self.doc.session.path).parent) if getattr(self.doc.session, "path", None) else None
        path = run_export_dialog(self, poses, self.body, start)
        if path:
            self.statusBar().showMessage(f"Exported {len(poses)} pose(s) to {path}", 5000)
        return path

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.act_open)
        f.addAction(self.act_import_mocap)
        self.recent_menu = f.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        f.addSeparator()
        f.addAction(self.act_save)
        f.addAction(self.act_save_as)
        f.addSeparator()
        f.addAction(self.act_export)
        f.addAction(self.act_export_anim)
        f.addSeparator()
        f.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        e.addSeparator()
        e.addAction(self.act_mirror)
        e.addAction(self.act_reset_joint)
        e.addAction(self.act_reset_pose)
        e.addSeparator()
        e.addAction(self.act_add_key)
        e.addSeparator()
        e.addAction(self.act_limits)
        v = mb.addMenu("&View")
        v.addAction(self.act_reset_cam)
        v.addAction(self.act_inset)
        v.addSeparator()
        panels = v.addMenu("&Panels")
        for d in (self.dock_properties, self.dock_library, self.dock_body, self.dock_keyframes, self.dock_history):
            panels.addAction(d.toggleViewAction())
        h = mb.addMenu("&Help")
        h.addAction(self.act_notice)
        h.addAction(self.act_about)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.lbl_joint = QLabel("No joint selected")
        self.lbl_fps = QLabel("— fps")
        self.lbl_backend = QLabel("Body: loading…")
        self.lbl_device = QLabel(f"Device: {torch_device()}")
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
        vp = self.viewport
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
        k.addRequested.connect(lambda: d.add_keyframe())
        k.removeRequested.connect(d.remove_keyframe)
        k.gotoRequested.connect(self.goto_keyframe)

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
            recovered = Session.from_dict(cand.load())
        except (ValueError, SessionError) as e:
            self.dialogs.error(self, "Cannot restore", f"The autosave from {cand.describe_time()} is not "
                               f"usable: {e}\nIt was kept in {self.autosave.recovered_dir}.")
            recovered = None
        if recovered is not None:
            n = len(self.autosave.crashed_runs)
            detail = (f"The autosave holds the pose{', ' + str(len(recovered.keyframes)) + ' keyframe(s)' if recovered.keyframes else ''}"
                      f"{' of ' + Path(recovered.path).name if recovered.path else ''}. If you don't restore it, it is "
                      f"kept in {self.autosave.recovered_dir}." + (f" ({n} crashed runs found; offering the newest.)"
                                                                     if n > 1 else ""))
            if self.dialogs.ask_restore(self, cand.describe_time(), detail):
                self.restore_session(recovered)
                restored = True
        self.autosave.dismiss_crashed()
        return restored

    def restore_session(self, s: Session) -> None:
        """Put a recovered session on the undo stack (one undoable step) and mark the document unsaved."""
        st_ = self.doc.undo_stack
        st_.beginMacro("Restore unsaved work")
        try:
            self.doc.push_pose(s.pose, "Restore pose")
            if s.body_backend == self.doc.session.body_backend:
                self.doc.set_phenotype(s.phenotype)
            for i in reversed(range(len(self.doc.keyframes))):
                self.doc.remove_keyframe(i)
            for k in s.keyframes:
                self.doc.add_keyframe(k.name, k.pose)
        finally:
            st_.endMacro()
        self.doc.session.path = s.path
        self.doc.mark_dirty()
        self._update_title()
        self.statusBar().showMessage("Unsaved work restored (Ctrl+Z undoes the restore)", 10000)

    # ----- body model
    def load_body(self, phenotype: dict | None = None) -> None:
        """(Re)build the body in a worker; a modal progress dialog only when a slow first build is needed."""
        if self._injected_body is not None:
            body, self._injected_body = self._injected_body, None
            self._on_body_ready(body)
            return
        ph = dict(phenotype if phenotype is not None else self.doc.phenotype)
        if self._body_job is not None:
            self._body_pending = ph  # coalesce: build the latest request when the current one ends
            return
        backend = self.doc.session.body_backend
        slow = backend == "anny" and not anny_cached(ph)
        first = self.body is None
        if slow and first:
            self._body_dialog = busy_dialog(self, "Preparing the body model",
                                            "Building the Anny body model for the first time.\n"
                                            "This takes about a minute once; later starts are instant.")
            self._body_dialog.show()
        self.body_panel.set_busy(True, "Rebuilding the body…" if not first else "Loading the body model…")
        self.lbl_backend.setText(f"Body: {backend} (loading…)")
        self._body_job = run_in_background(build_body, backend, ph, self.settings.get("smplh_model_path"),
                                           on_result=self._on_body_ready, on_error=self._on_body_error,
                                           on_finished=self._on_body_finished)

    def set_backend(self, name: str, choose_file: bool = False) -> bool:
        """Switch the body backend ("anny" | "smplh"); SMPL-H asks for the model file when needed."""
        if name == "smplh":
            path = self.settings.get("smplh_model_path")
            if choose_file or not path or not Path(path).is_file():
                start = str(Path(path).parent) if path else str(Path.home())
                path = self.dialogs.open_smplh(self, start)
                if not path:
                    self.body_panel.set_backend(self.doc.session.body_backend)
                    return False
            self.settings["smplh_model_path"] = str(path)
        elif name != "anny":
            return False
        self._previous_backend = self.doc.session.body_backend
        self.doc.session.body_backend = name
        self.settings["body_backend"] = name
        self._save_settings()
        self.body_panel.set_backend(name)
        self.load_body()
        return True

    def _on_body_ready(self, body) -> None:
        self.body = body
        self.viewport.set_body(body)
        self.viewport.set_pose(self.doc.pose())
        name = getattr(body, "name", "body")
        self.lbl_backend.setText(f"Body: {name}")
        if not isinstance(self.viewport, FallbackViewport):
            self.library.set_body(body)  # rendered thumbnails (off the GUI thread)
        self.body_panel.set_busy(False, "")
        self.bodyReady.emit(body)

    def _on_body_error(self, e: BaseException) -> None:
        backend = self.doc.session.body_backend
        self.body_panel.set_busy(False, f"Could not build the body: {e}")
        self.lbl_backend.setText(f"Body: {getattr(self.body, 'name', 'unavailable')}")
        self.dialogs.error(self, "Body model", f"The {backend} body model could not be loaded:\n{e}")
        if backend == "smplh":  # fall back to the built-in body; the pose is untouched
            self.doc.session.body_backend = "anny"
            self.settings["body_backend"] = "anny"
            self._save_settings()
            self.body_panel.set_backend("anny")
            if getattr(self.body, "name", None) != "anny":
                self._body_pending = dict(self.doc.phenotype)

    def _on_body_finished(self) -> None:
        self._body_job = None
        if self._body_dialog is not None:
            self._body_dialog.close()
            self._body_dialog.deleteLater()
            self._body_dialog = None
        if self._body_pending is not None:
            ph, self._body_pending = self._body_pending, None
            cur = getattr(self.body, "phenotype", None)
            if cur is None or getattr(self.body, "name", "") != self.doc.session.body_backend \
                    or any(abs(cur.get(k, 0.5) - v) > 1e-6 for k, v in ph.items()):
                self.load_body(ph)

    # ----- document → views
    def _on_pose_changed(self, pose: Pose) -> None:
        self.viewport.set_pose(pose)
        self.properties.set_pose(pose)

    def _on_pose_dragged(self, pose: Pose) -> None:
        self.properties.set_pose(pose)  # live values while the gizmo moves; the command comes at the end

    def _on_keyframes_changed(self) -> None:
        self.keyframes.set_keyframes([k.name for k in self.doc.keyframes])

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
        if self.act_limits.isChecked() != on:
            self.act_limits.blockSignals(True)
            self.act_limits.setChecked(on)
            self.act_limits.blockSignals(False)
        self.settings["limits_enabled"] = bool(on)

    def _set_inset(self, on: bool) -> None:
        self.viewport.set_show_inset(on)
        self.settings["show_inset"] = bool(on)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.doc.session.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.doc.is_dirty())

    def _viewport_thumbnail(self) -> QImage | None:
        try:
            img = self.viewport.grab_image()
            return img if isinstance(img, QImage) and not img.isNull() else None
        except Exception:
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

    def goto_keyframe(self, i: int) -> None:
        kfs = self.doc.keyframes
        if 0 <= i < len(kfs):
            self.doc.push_pose(kfs[i].pose, f"Go to keyframe '{kfs[i].name}'")

    # ----- files
    def _start_dir(self) -> str:
        rec = self.settings.get("recent_files") or []
        if self.doc.path:
            return str(Path(self.doc.path).parent)
        return str(Path(rec[0]).parent) if rec else str(Path.home())

    def open_dialog(self) -> None:
        f = self.dialogs.open_file(self, self._start_dir())
        if f:
            self.open_file(f)

    def open_file(self, path: str):
        """Read ``path`` in a worker; on success it becomes the current pose (undoable), on failure an error
        box explains why and nothing changes. Returns the worker."""
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        w = run_in_background(read_any, str(path), on_result=self._on_file_read,
                              on_error=lambda e, p=str(path): self._on_file_error(p, e))
        self._open_jobs.append(w)
        w.signals.finished.connect(lambda: self._open_jobs.remove(w) if w in self._open_jobs else None)
        return w

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
        self._open_jobs.append(w)
        w.signals.finished.connect(lambda: self._open_jobs.remove(w) if w in self._open_jobs else None)
        return w

    def _on_mocap_error(self, path: str, e: BaseException) -> None:
        self.statusBar().showMessage(f"Could not import {Path(path).name}", 8000)
        msg = str(e) if isinstance(e, (OSError, ValueError)) or type(e).__name__ == "MotionImportError" \
            else f"{type(e).__name__}: {e}"
        self.dialogs.error(self, "Cannot import motion capture",
                           f"{Path(path).name} could not be imported.\n\n{msg}\n\nYour current pose is unchanged.")

    def _on_mocap_imported(self, clip) -> None:
        st_ = self.doc.undo_stack
        st_.beginMacro(f"Import {clip.name}")
        self.doc.push_pose(clip.poses[int(clip.key_indices[0])], f"Import {clip.name}")
        for i in clip.key_indices:
            self.doc.add_keyframe(f"{clip.name} {int(i) / clip.fps:.2f}s", clip.poses[int(i)])
        st_.endMacro()
        self.statusBar().showMessage(
            f"Imported {clip.name}: {len(clip.poses)} frames at {clip.fps:g} fps, {len(clip.key_indices)} keyframes "
            f"(retarget error {clip.quality['mpjpe_mm']:.0f} mm)", 10000)

    def _on_file_error(self, path: str, e: BaseException) -> None:
        self.statusBar().showMessage(f"Could not open {Path(path).name}", 8000)
        if isinstance(e, pose_file_errors()) or isinstance(e, (OSError, ValueError)):
            msg = str(e)
        else:
            msg = f"{type(e).__name__}: {e}"
        self.dialogs.error(self, "Cannot open file", f"{Path(path).name} could not be opened.\n\n{msg}\n\n"
                           "Your current pose is unchanged.")

    def _on_file_read(self, out: dict) -> None:
        path = out["path"]
        name = Path(path).name
        if out["kind"] == "session":
            s: Session = out["session"]
            st_ = self.doc.undo_stack
            st_.beginMacro(f"Open {name}")
            self.doc.push_pose(s.pose, f"Open {name}")
            if s.body_backend == self.doc.session.body_backend:
                self.doc.set_phenotype(s.phenotype)
            for i in reversed(range(len(self.doc.keyframes))):
                self.doc.remove_keyframe(i)
            for k in s.keyframes:
                self.doc.add_keyframe(k.name, k.pose)
            st_.endMacro()
        else:
            self.doc.push_pose(out["pose"], f"Open {name}")
            if out.get("frames", 1) > 1:
                self.statusBar().showMessage(f"{name} has {out['frames']} frames; showing the first.", 8000)
        self.doc.mark_saved(path)
        self._add_recent(path)
        if out.get("frames", 1) <= 1:
            self.statusBar().showMessage(f"Opened {name}", 5000)

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
            if p.suffix.lower() in SESSION_SUFFIXES:
                self.doc.session.save(p)
            else:
                if p.suffix.lower() != ".npz":
                    p = p.with_suffix(p.suffix + ".npz") if p.suffix else p.with_suffix(".npz")
                write_pose_file(str(p), self.doc.pose())
        except Exception as e:  # noqa: BLE001 - shown to the user, the document stays as it is
            self.dialogs.error(self, "Cannot save", f"Could not save to {p}:\n{e}")
            return False
        self.doc.mark_saved(str(p))
        self._add_recent(str(p))
        if self.autosave is not None:
            self.autosave.clear_autosave()
            self.policy.saved()
        msg = f"Saved {p.name}"
        if p.suffix.lower() == ".npz" and self.doc.keyframes:
            msg += " (pose only; save as .json to keep the keyframes)"
        self.statusBar().showMessage(msg, 6000)
        return True

    def _add_recent(self, path: str) -> None:
        st.add_recent_file(self.settings, path)
        self._save_settings()

    def _fill_recent(self) -> None:
        m = self.recent_menu
        m.clear()
        rec = [r for r in self.settings.get("recent_files", [])]
        for i, r in enumerate(rec):
            a = m.addAction(f"&{i + 1} {Path(r).name}", lambda r=r: self.open_file(r))
            a.setToolTip(r)
            a.setStatusTip(r)
        if not rec:
            a = m.addAction("(none)")
            a.setEnabled(False)
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
                if u.isLocalFile() and Path(u.toLocalFile()).suffix.lower() in POSE_SUFFIXES + SESSION_SUFFIXES]

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
            self.open_file(files[0])

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
        try:
            qs = self._qsettings()
            g, s = qs.value("geometry"), qs.value("state")
            if isinstance(g, QByteArray):
                self.restoreGeometry(g)
            if isinstance(s, QByteArray):
                self.restoreState(s, 1)
        except Exception:
            pass

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
        try:
            qs = self._qsettings()
            qs.setValue("geometry", self.saveGeometry())
            qs.setValue("state", self.saveState(1))
            qs.sync()
        except Exception:
            pass
        self.settings["phenotype"] = self.doc.phenotype
        self._save_settings()
        self.library.shutdown()
        if self.autosave is not None:
            self.autosave.close()
        e.accept()

    # ----- help
    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<h3>{APP_NAME} {APP_VERSION}</h3>"
                          "<p>Offline editor for 3D human body poses: SMPL-H body pose on the open "
                          "<b>Anny</b> body model (Apache-2.0 code, CC0 assets).</p>"
                          f"<p>Python {sys.version.split()[0]} · Qt {_qt_version()} · device {torch_device()}</p>"
                          "<p>Licensed under Apache-2.0. See Help → Data and licence notice.</p>")

    def show_data_notice(self) -> None:
        text = None
        for cand in (ROOT / "docs" / "DATA_NOTICE.md", ROOT / "DATA_NOTICE.md", ROOT / "resources" / "LICENSES.md"):
            if cand.is_file():
                try:
                    text = cand.read_text(encoding="utf-8")
                    break
                except OSError:
                    pass
        dlg = QDialog(self)
        dlg.setWindowTitle("Data and licence notice")
        lay = QVBoxLayout(dlg)
        tb = QTextBrowser()
        tb.setOpenExternalLinks(True)
        if text:
            tb.setMarkdown(text)
        else:
            tb.setPlainText("The Anny body model (Apache-2.0 code, CC0 MakeHuman assets) ships with PoseTailor. "
                            "Official SMPL-H model files are never shipped; if you use them, their licence applies.")
        lay.addWidget(tb)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(dlg.reject)
        lay.addWidget(bb)
        dlg.resize(720, 560)
        dlg.exec()


def _qt_version() -> str:
    from PySide6 import QtCore

    return QtCore.qVersion()


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
    if hasattr(w.viewport, "set_theme"):
        w.viewport.set_theme(mode)
    w.show()
    QTimer.singleShot(0, lambda: w.startup(list(files or [])))
    return int(app.exec())
