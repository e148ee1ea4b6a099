"""Capture panel: camera / video file / image folder → MediaPipe landmarks → pose on the body, live.

The capture loop (``core_models.capture``: source → landmarks → One-Euro → pose regressor) runs off the GUI thread
(``app.workers.run_in_background``); it hands the newest frame to the GUI and drops frames the GUI has not shown
yet, so a slow viewport never builds a backlog. The panel shows the camera preview with the landmark overlay
(green: trusted, red: gated out), an fps / latency readout, and drives the document's pose (one merged undo step
per take) unless frozen. "Capture to library" saves the current captured pose; the text hint is passed to the
regressor (learned regressors use it, the geometric fallback ignores it). Constructed as ``CapturePanel(ctx)``
(:class:`app.context.PanelContext`); the pipeline comes from ``ctx.services``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.context import PanelContext
from app.workers import run_in_background

log = logging.getLogger(__name__)

PREVIEW_W = 320
SOURCES = ("Camera", "Video file", "Image folder")


def _downscale(rgb: np.ndarray | None, width: int = PREVIEW_W * 2) -> np.ndarray | None:
    """A preview-sized copy of a frame (capture thread)."""
    if rgb is None:
        return None
    h, w = rgb.shape[:2]
    if w <= width:
        return rgb.copy()
    import cv2

    return cv2.resize(rgb, (width, max(1, int(round(h * width / w)))), interpolation=cv2.INTER_AREA)


def frame_to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB → a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def draw_overlay(img: QImage, landmarks, gate: float = 0.5) -> QImage:
    """Draw the 33 landmarks and their skeleton onto a copy of ``img``."""
    from core_models.capture.landmarks import CONNECTIONS

    out = img.copy()
    if landmarks is None:
        return out
    w, h = out.width(), out.height()
    xy = landmarks.image[:, :2] * np.array([w, h], np.float32)
    ok = landmarks.confidence(gate)
    qp = QPainter(out)
    qp.setRenderHint(QPainter.RenderHint.Antialiasing)
    good, bad = QColor(60, 220, 90), QColor(230, 60, 50)
    for a, b in CONNECTIONS:
        qp.setPen(QPen(good if ok[a] and ok[b] else bad, 2))
        qp.drawLine(QPointF(*xy[a]), QPointF(*xy[b]))
    for i, (x, y) in enumerate(xy):
        c = good if ok[i] else bad
        qp.setPen(QPen(c, 1))
        qp.setBrush(c)
        qp.drawEllipse(QPointF(x, y), 2.5, 2.5)
    qp.end()
    return out


class CapturePanel(QWidget):
    frameReady = Signal()          # a new frame is waiting in self._latest (emitted from the capture thread)
    statusChanged = Signal(str)    # from the capture thread
    poseCaptured = Signal(object)  # Pose, each frame applied (GUI thread)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self._worker = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._latest = None          # (preview rgb, CaptureResult)
        self._pending = False
        self.last_pose = None
        self.last_result = None
        self.frames_shown = 0
        self._times = deque(maxlen=30)
        self._hint = ""  # the text hint, mirrored for the capture thread (widgets are GUI-thread only)
        self._build()
        self.text_hint.textChanged.connect(lambda t: setattr(self, "_hint", t.strip()))
        self.frameReady.connect(self._on_frame, Qt.ConnectionType.QueuedConnection)
        self.statusChanged.connect(self._set_status, Qt.ConnectionType.QueuedConnection)

    # --- UI ---------------------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.source_kind = QComboBox()
        self.source_kind.addItems(SOURCES)
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 99)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("video file or image folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.model = QComboBox()
        self.model.addItems(["auto", "lite", "full", "heavy"])
        self.model.setToolTip("MediaPipe pose model: auto = full for an image folder (no live budget, more "
                              "accurate), lite for a camera or video; lite is fastest, heavy slowest")
        self.regressor = QComboBox()
        self.regressor.addItems(self.ctx.services.capture_regressor_names())
        self.text_hint = QLineEdit()
        self.text_hint.setPlaceholderText("optional hint, e.g. “my left hand touches my knee”")
        form.addRow("Source", self.source_kind)
        form.addRow("Camera", self.camera_index)
        form.addRow("File", row)
        form.addRow("Model", self.model)
        form.addRow("Pose from", self.regressor)
        form.addRow("Text hint", self.text_hint)
        lay.addLayout(form)
        self.preview = QLabel("no capture running")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW_W, PREVIEW_W * 3 // 4)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview.setStyleSheet("background: #202020; color: #aaaaaa;")
        lay.addWidget(self.preview, 1)
        self.readout = QLabel("—")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.readout)
        lay.addWidget(self.status)
        buttons = QHBoxLayout()
        self.start_btn = QPushButton("Start")
        self.start_btn.clicked.connect(self.toggle)
        self.freeze_btn = QPushButton("Freeze")
        self.freeze_btn.setCheckable(True)
        self.freeze_btn.setToolTip("stop updating the body and the preview (the capture keeps running)")
        self.save_btn = QPushButton("Capture to library…")
        self.save_btn.clicked.connect(self._ask_capture_to_library)
        buttons.addWidget(self.start_btn)
        buttons.addWidget(self.freeze_btn)
        buttons.addWidget(self.save_btn)
        lay.addLayout(buttons)
        self.drive_body = QCheckBox("Drive the body live")
        self.drive_body.setChecked(True)
        lay.addWidget(self.drive_body)
        self.source_kind.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()

    def _update_enabled(self) -> None:
        cam = self.source_kind.currentIndex() == 0
        self.camera_index.setEnabled(cam)
        self.path_edit.setEnabled(not cam)

    def _browse(self) -> None:
        if self.source_kind.currentIndex() == 2:
            path = QFileDialog.getExistingDirectory(self, "Image folder")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Video file", "", "Videos (*.mp4 *.avi *.mov *.mkv *.webm)")
        if path:
            self.path_edit.setText(path)

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        if text:
            self.ctx.status.showMessage(f"Capture: {text}", 5000)

    # --- running ----------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    def toggle(self) -> None:
        self.stop() if self.running else self.start()

    def make_source(self):
        from core_models.capture.sources import CameraSource, ImageFolderSource, VideoFileSource

        k = self.source_kind.currentIndex()
        if k == 0:
            return CameraSource(self.camera_index.value())
        path = self.path_edit.text().strip()
        return VideoFileSource(path) if k == 1 else ImageFolderSource(path)

    def start(self) -> None:
        if self.running:
            return
        source = self.make_source()
        self._stop.clear()
        self._times.clear()
        self._merge_key = ("capture", time.monotonic())  # one undo step per take
        self.start_btn.setText("Stop")
        self._set_status(f"starting {source.description}…")
        self._worker = run_in_background(
            self._loop, source, self.model.currentText(), self.regressor.currentText(),
            on_error=self._on_error, on_finished=self._on_finished)

    def stop(self) -> None:
        self._stop.set()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop and wait for the capture thread (window closing, tests)."""
        self.stop()
        t0 = time.monotonic()
        from PySide6.QtCore import QCoreApplication

        while self._worker is not None and time.monotonic() - t0 < timeout:
            QCoreApplication.processEvents()
            time.sleep(0.01)

    def _loop(self, source, variant: str, regressor: str) -> str:
        """Capture thread: source → pipeline; hands the newest frame to the GUI. An image folder runs per image
        (IMAGE-mode detector, the pipeline reset before every file: no smoothing or held limbs carried from one
        photo to the next); a video or a camera tracks."""
        from core_models.capture.per_image import default_mode, resolve_variant, run_images
        from core_models.capture.pipeline import run_source

        mode = default_mode(source.kind)
        variant = resolve_variant(variant, mode)  # auto: heavy+full per image, lite for a camera or a video
        try:
            pipe = self.ctx.services.capture_pipeline(variant, regressor, mode)
        except Exception:
            source.close()
            raise
        try:
            if not source.open():
                self.statusChanged.emit(source.status + (" — retrying" if source.retries else ""))
                if not source.retries:
                    return source.status
            else:
                self.statusChanged.emit(f"{source.status} · {variant} landmarks · pose from {pipe.regressor.name}")
            hint, stop = (lambda: self._hint or None), self._stop_check(source)
            results = (run_images(pipe, source, text=hint, should_stop=stop, keep_frames=True) if mode == "image"
                       else run_source(pipe, source, text=hint, should_stop=stop, keep_frames=True, overlap=True))
            for r in results:
                preview = _downscale(r.frame)
                r.frame = None
                with self._lock:
                    self._latest = (preview, r)
                    notify = not self._pending
                    self._pending = True
                if notify:
                    self.frameReady.emit()
            if source.finished:
                self.statusChanged.emit(source.status)  # "end of video ..." / unreadable images skipped
            return source.status
        finally:
            pipe.close()
            source.close()

    def _stop_check(self, source):
        """should_stop for run_source: also reports the source's status changes (camera missing/unplugged)."""
        seen = {"status": source.status}

        def check() -> bool:
            if source.status != seen["status"]:
                seen["status"] = source.status
                if not source.opened or "disconnected" in source.status:
                    self.statusChanged.emit(source.status + (" — retrying" if source.retries else ""))
                else:
                    self.statusChanged.emit(source.status)
            return self._stop.is_set()

        return check

    def _on_frame(self) -> None:
        with self._lock:
            item, self._latest, self._pending = self._latest, None, False
        if item is None:
            return
        preview, r = item
        self.last_result = r
        now = time.monotonic()
        self._times.append(now)
        fps = (len(self._times) - 1) / (self._times[-1] - self._times[0]) if len(self._times) > 1 else 0.0
        t = r.timings_ms
        self.readout.setText(
            f"{fps:4.1f} fps shown · latency {t.get('total', 0):.0f} ms (landmarks {t.get('landmarks', 0):.0f} ms)"
            f" · confidence {r.confidence:.2f}" + ("" if r.detected else f" · {r.message}"))
        if self.freeze_btn.isChecked():
            return
        self.frames_shown += 1
        if preview is not None:
            img = draw_overlay(frame_to_qimage(preview), r.landmarks)
            self.preview.setPixmap(QPixmap.fromImage(img).scaled(
                self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
        if r.pose is not None:
            self.last_pose = r.pose
            if self.drive_body.isChecked():
                doc = self.ctx.document
                new = r.pose.copy()
                new.transl = doc.pose().transl.copy()  # keep the user's placement
                doc.push_pose(new, "Capture", self._merge_key)
            self.poseCaptured.emit(r.pose)

    def _on_error(self, e: BaseException) -> None:
        self._set_status(f"capture stopped: {e}")

    def _on_finished(self) -> None:
        self._worker = None
        self.start_btn.setText("Start")
        if self._latest is not None:
            self._on_frame()
        if not self.status.text().startswith("capture stopped"):
            self._set_status(self.status.text() + " · stopped" if self.status.text() else "stopped")

    # --- library ----------------------------------------------------------------------------------------
    def _ask_capture_to_library(self) -> None:
        if self.last_pose is None:
            QMessageBox.information(self, "Capture to library", "No captured pose yet: start a capture first.")
            return
        name, ok = QInputDialog.getText(self, "Capture to library", "Name of the pose:")
        if ok:
            self.capture_to_library(name)

    def capture_to_library(self, name: str):
        """Save the last captured pose (the frozen one when frozen) to the user library; returns the entry."""
        from core_models import library

        if self.last_pose is None:
            self._set_status("no captured pose to save yet")
            return None
        try:
            entry = library.save_user_pose(name, self.last_pose, description="captured from the camera",
                                           category="Captured")
        except (library.LibraryError, ValueError) as e:
            self._set_status(f"could not save: {e}")
            return None
        self.ctx.library.reload()
        self._set_status(f"saved '{entry.name}' to the library")
        return entry

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        self.stop()
        super().closeEvent(ev)
