"""Export dialog: format (FBX/GLB/BVH/NPZ), bone naming, frame rate, destination; runs the export off the GUI
thread (QThreadPool) with a progress bar, asks before overwriting, shows errors.

    from app.panels.export_dialog import run_export_dialog
    path = run_export_dialog(self, poses, body, default_dir)   # → the written path, or None if cancelled

``poses`` is a Pose (single or (N,)) or a list of Poses (keyframes become an animation, one key per pose);
``body`` the current BodyModel (FBX and GLB need it; BVH/NPZ also work without one).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core_models.export import FORMATS, NEEDS_BODY, ExportError, export_poses, resolve_path_and_format
from core_models.export.common import as_pose_batch, check_destination

FORMAT_ORDER = ("fbx", "glb", "bvh", "npz")
FORMAT_NAMES = {"fbx": "FBX — skinned mesh + skeleton + animation",
                "glb": "glTF binary (.glb) — skinned mesh + animation",
                "bvh": "BVH — skeleton + motion", "npz": "NPZ — AMASS pose parameters"}
RIG_CHOICES = (("smplh", "SMPL-H joint names (pelvis, left_hip, …)"),
               ("mixamo", "Mixamo names (mixamorig:Hips, mixamorig:LeftUpLeg, …)"))


class _Signals(QObject):
    progress = Signal(float)
    done = Signal(str)
    failed = Signal(str)


class ExportTask(QRunnable):
    """One export in a pool thread; reports through :attr:`signals` (queued to the GUI thread)."""

    def __init__(self, path, poses, body, fmt: str, rig: str, fps: float, ground: bool = False):
        super().__init__()
        self.setAutoDelete(False)  # the dialog keeps the Python wrapper alive until it reports
        self.signals = _Signals()
        self.args = (path, poses, body, fmt, rig, fps, ground)

    def run(self) -> None:  # pool thread
        path, poses, body, fmt, rig, fps, ground = self.args
        try:
            out = export_poses(path, poses, body, format=fmt, rig=rig, fps=fps, ground=ground,
                               progress=self.signals.progress.emit)
        except ExportError as e:
            self.signals.failed.emit(str(e))
        except OSError as e:
            self.signals.failed.emit(f"cannot write {path}: {e.strerror or e}")
        except Exception as e:  # noqa: BLE001 - shown to the user, never lost in the pool thread
            self.signals.failed.emit(f"{type(e).__name__}: {e}")
        else:
            self.signals.done.emit(str(out))


class ExportDialog(QDialog):
    """The dialog. ``confirm_overwrite`` / ``show_error`` can be replaced (tests, embedding)."""

    exported = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QWidget | None, poses, body, default_dir: str | os.PathLike | None = None,
                 default_name: str = "pose", default_format: str = "fbx", rig: str = "smplh", fps: float = 30.0,
                 ground: bool = True):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setModal(True)
        self.poses = as_pose_batch(poses)  # ExportError for empty / NaN input: the caller shows it
        self.body = body
        self.result_path: str | None = None
        self._task: ExportTask | None = None
        self._t0 = 0.0
        self.confirm_overwrite: Callable[[Path], bool] = self._ask_overwrite
        self.show_error: Callable[[str], None] = self._error_box
        n = len(self.poses)

        self.format_box = QComboBox()
        for f in FORMAT_ORDER:
            self.format_box.addItem(FORMAT_NAMES[f], f)
            if f in NEEDS_BODY and body is None:
                item = self.format_box.model().item(self.format_box.count() - 1)
                item.setEnabled(False)
                item.setToolTip("needs a body model")
        self.rig_box = QComboBox()
        for key, label in RIG_CHOICES:
            self.rig_box.addItem(label, key)
        self.rig_box.setCurrentIndex(max(0, self.rig_box.findData(rig)))
        self.fps_box = QDoubleSpinBox()
        self.fps_box.setRange(1.0, 240.0)
        self.fps_box.setDecimals(2)
        self.fps_box.setValue(float(fps))
        self.fps_box.setSuffix(" fps")
        self.ground_box = QCheckBox("Feet on the ground (y = 0)")
        self.ground_box.setToolTip("Move the body up so the rest pose stands on the floor of the other tool "
                                   "(PoseTailor keeps the pelvis at the origin). Not used for NPZ.")
        self.ground_box.setChecked(ground)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("file to write")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.frames_label = QLabel(f"{n} pose{'s' if n != 1 else ''} → "
                                   + ("an animation, one key per pose" if n > 1 else "a single-key animation"))
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("Bone names", self.rig_box)
        form.addRow("Frame rate", self.fps_box)
        form.addRow("", self.ground_box)
        form.addRow("File", path_row)
        form.addRow("", self.frames_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.start_export)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

        self._dir = Path(default_dir) if default_dir else Path.home()
        self._name = default_name or "pose"
        self.format_box.currentIndexChanged.connect(self._format_changed)
        fi = self.format_box.findData(default_format if default_format in FORMATS else "fbx")
        if body is None and default_format in NEEDS_BODY:
            fi = self.format_box.findData("bvh")
        self.format_box.setCurrentIndex(fi)
        self._format_changed()
        self.resize(560, self.sizeHint().height())

    # --- state ---
    def fmt(self) -> str:
        return self.format_box.currentData()

    def rig(self) -> str:
        return self.rig_box.currentData()

    def set_path(self, path) -> None:
        self.path_edit.setText(str(path))

    def set_format(self, fmt: str) -> None:
        i = self.format_box.findData(fmt)
        if i >= 0:
            self.format_box.setCurrentIndex(i)

    def _format_changed(self, *_):
        fmt = self.fmt()
        ext = FORMATS[fmt][0]
        self.rig_box.setEnabled(fmt != "npz")
        self.ground_box.setEnabled(fmt != "npz")
        self.fps_box.setEnabled(fmt != "npz" or len(self.poses) > 1)
        cur = self.path_edit.text().strip()
        if not cur:
            self.path_edit.setText(str(self._dir / (self._name + ext)))
        else:
            p = Path(cur)
            if p.suffix.lower() in {e for e, _ in FORMATS.values()} and p.suffix.lower() != ext:
                self.path_edit.setText(str(p.with_suffix(ext)))

    def _browse(self) -> None:
        fmt = self.fmt()
        ext = FORMATS[fmt][0]
        start = self.path_edit.text().strip() or str(self._dir / (self._name + ext))
        path, _ = QFileDialog.getSaveFileName(self, "Export to", start, f"{FORMATS[fmt][1]} (*{ext})",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            if not path.lower().endswith(ext):
                path += ext
            self.path_edit.setText(path)

    # --- export ---
    @property
    def busy(self) -> bool:
        return self._task is not None

    def start_export(self) -> bool:
        """Validate, confirm overwriting, then export in the thread pool. False if it did not start."""
        if self.busy:
            return False
        try:
            path, fmt = resolve_path_and_format(self.path_edit.text().strip(), self.fmt())
            check_destination(path)
            if fmt in NEEDS_BODY and self.body is None:
                raise ExportError(f"{fmt.upper()} export needs a body model")
        except ExportError as e:
            self._fail(str(e))
            return False
        if path.exists() and not self.confirm_overwrite(path):
            return False
        self.path_edit.setText(str(path))
        self._set_busy(True)
        self.status.setText(f"Writing {path.name}…")
        self._t0 = time.perf_counter()
        task = ExportTask(path, self.poses, self.body, fmt, self.rig(), self.fps_box.value(),
                          self.ground_box.isChecked() and fmt != "npz")
        task.signals.progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        task.signals.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        task.signals.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        self._task = task
        QThreadPool.globalInstance().start(task)
        return True

    def _set_busy(self, busy: bool) -> None:
        for w in (self.format_box, self.rig_box, self.fps_box, self.ground_box, self.path_edit, self.export_button):
            w.setEnabled(not busy)
        if not busy:
            self._format_changed()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(not busy)
        self.progress.setVisible(busy)
        self.progress.setValue(0)

    def _on_progress(self, v: float) -> None:
        self.progress.setValue(int(round(100 * v)))

    def _on_done(self, path: str) -> None:
        self._task = None
        self._set_busy(False)
        self.result_path = path
        self.status.setText(f"Wrote {path} ({time.perf_counter() - self._t0:.2f} s)")
        self.exported.emit(path)
        self.accept()

    def _on_failed(self, msg: str) -> None:
        self._task = None
        self._set_busy(False)
        self._fail(msg)

    def _fail(self, msg: str) -> None:
        self.status.setText(f"Export failed: {msg}")
        self.failed.emit(msg)
        self.show_error(msg)

    def reject(self) -> None:  # no closing while a file is being written (it finishes quickly)
        if self.busy:
            return
        super().reject()

    def closeEvent(self, e) -> None:
        if self.busy:
            e.ignore()
            return
        super().closeEvent(e)

    # --- default interactions ---
    def _ask_overwrite(self, path: Path) -> bool:
        r = QMessageBox.question(self, "Overwrite?", f"{path.name} already exists in {path.parent}.\nReplace it?",
                                 QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                 QMessageBox.StandardButton.No)
        return r == QMessageBox.StandardButton.Yes

    def _error_box(self, msg: str) -> None:
        QMessageBox.critical(self, "Export failed", msg)


def run_export_dialog(parent, poses, body, default_dir=None, **kwargs) -> str | None:
    """Show the export dialog modally; returns the written file's path, or None when cancelled.
    Bad input (no poses, NaN values) is reported in a message box and returns None."""
    try:
        dlg = ExportDialog(parent, poses, body, default_dir, **kwargs)
    except ExportError as e:
        QMessageBox.warning(parent, "Export", f"Nothing to export: {e}")
        return None
    dlg.exec()
    return dlg.result_path


__all__ = ["run_export_dialog", "ExportDialog", "ExportTask"]
