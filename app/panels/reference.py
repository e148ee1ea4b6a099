"""Reference panel: a photo or drawing in the 3D view, and "pose from this image".

Load an image (PNG / JPEG / WebP / BMP; File ▸ Load reference image… or the panel's button): it is read off the
GUI thread and shown as a letterboxed **background** behind the floor and the body, or as a **plane** in the
scene facing the camera, ``distance`` metres behind the body (locked to the camera: it stays put while orbiting;
unlocked: it stays in the world). Opacity, show / hide, flip, scale and offsets apply at once; "Remove" frees it.
A bad, huge or non-image file is reported in the panel and the status bar and changes nothing.

"Pose from this image" runs the per-image capture pipeline (``ctx.services.capture_pipeline(..., mode="image")``)
on the image in a worker (:func:`core_models.capture.from_image.pose_from_image`): the recovered body pose becomes
ONE undoable edit (``Document.push_pose``), keeping the current translation and hand pose; with "Face the camera"
the body is turned to face the view as the person faces the photo's camera, and with "Fit the image to the body"
a background image is scaled / moved so the person lies over the posed body. Nobody found → a notice, the pose is
unchanged; several people or a low confidence → a notice and "Apply anyway" (the largest person's pose).

The image's path and its settings are part of the app settings (``settings["reference_image"]``): the main
window calls :meth:`ReferencePanel.state` when closing and :meth:`ReferencePanel.restore_state` at start; a file
that has gone missing gives a notice. Constructed as ``ReferencePanel(ctx)``.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.context import PanelContext
from app.workers import run_in_background
from core_models.render.reference_image import (
    IMAGE_SUFFIXES,
    ReferenceImage,
    ReferenceImageError,
    ReferenceSettings,
)

log = logging.getLogger(__name__)
MODE_LABELS = (("background", "Background"), ("plane", "Plane in the scene"))
FILE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"


class ReferencePanel(QWidget):
    imageChanged = Signal(object)   # the ReferenceImage shown now, or None
    poseApplied = Signal(object)    # the Pose pushed by "pose from this image"
    message = Signal(str)           # every notice shown in the panel

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.image: ReferenceImage | None = None
        self.settings = ReferenceSettings()
        self.last_result: Any = None     # the last ImagePose
        self.last_error = ""
        self.fit_error_px: float | None = None
        self.worker_threads: list[int] = []  # thread ids the image / pose work ran on (tests)
        self._candidate: Any = None      # an ImagePose offered by "Apply anyway"
        self._load_job: Any = None
        self._pose_job: Any = None
        self._pipe: Any = None
        self._pipe_key: tuple | None = None
        self._pipe_lock = threading.Lock()
        self._syncing = False
        self._build()
        self._sync_widgets()

    # --- UI ---------------------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.path_label = QLabel("No reference image")
        self.path_label.setWordWrap(True)
        self.load_btn = QPushButton("Load…")
        self.load_btn.setToolTip("Load a photo or drawing to pose against (PNG, JPEG, WebP, BMP)")
        self.load_btn.clicked.connect(self.load_dialog)
        self.remove_btn = QPushButton("Remove")
        self.remove_btn.clicked.connect(self.remove)
        row.addWidget(self.path_label, 1)
        row.addWidget(self.load_btn)
        row.addWidget(self.remove_btn)
        lay.addLayout(row)
        lay.addLayout(self._build_form())
        lay.addLayout(self._build_pose_box())
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addStretch(1)

    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        self.visible = QCheckBox("Show")
        self.flip = QCheckBox("Flip horizontally")
        self.mode = QComboBox()
        for key, label in MODE_LABELS:
            self.mode.addItem(label, key)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.scale = self._spin(0.05, 20.0, 0.05, 2, " ×")
        self.offset_x = self._spin(-5.0, 5.0, 0.01, 2)
        self.offset_y = self._spin(-5.0, 5.0, 0.01, 2)
        self.distance = self._spin(-20.0, 50.0, 0.1, 2, " m")
        self.distance.setToolTip("plane mode: how far behind the body (negative: in front of it)")
        self.locked = QCheckBox("Lock to the camera")
        self.locked.setToolTip("plane mode: the plane stays put on screen while orbiting (off: it stays in the "
                               "world where it is now)")
        checks = QHBoxLayout()
        checks.addWidget(self.visible)
        checks.addWidget(self.flip)
        form.addRow(checks)
        form.addRow("Display", self.mode)
        form.addRow("Opacity", self.opacity)
        form.addRow("Scale", self.scale)
        form.addRow("Offset x / y", self._pair(self.offset_x, self.offset_y))
        form.addRow("Distance", self.distance)
        form.addRow(self.locked)
        for w in (self.visible, self.flip, self.locked):
            w.toggled.connect(self._from_widgets)
        self.mode.currentIndexChanged.connect(self._from_widgets)
        self.opacity.valueChanged.connect(self._from_widgets)
        for sp in (self.scale, self.offset_x, self.offset_y, self.distance):
            sp.valueChanged.connect(self._from_widgets)
        return form

    def _build_pose_box(self) -> QVBoxLayout:
        box = QVBoxLayout()
        self.pose_btn = QPushButton("Pose from this image")
        self.pose_btn.setToolTip("Find the person in the image and set the body to their pose (one undo step); "
                                 "then refine it by dragging")
        self.pose_btn.clicked.connect(self.pose_from_image)
        self.face_camera = QCheckBox("Face the camera")
        self.face_camera.setChecked(True)
        self.face_camera.setToolTip("turn the body to face the view the way the person faces the photo's camera")
        self.fit_image = QCheckBox("Fit the image to the body")
        self.fit_image.setChecked(True)
        self.fit_image.setToolTip("background mode: scale and move the image so the person lies over the body")
        self.apply_btn = QPushButton("Apply anyway")
        self.apply_btn.setEnabled(False)
        self.apply_btn.clicked.connect(self.apply_candidate)
        self.person = QComboBox()
        self.person.setToolTip("several people in the image: whose pose to apply")
        self.person.setVisible(False)
        opts = QHBoxLayout()
        opts.addWidget(self.face_camera)
        opts.addWidget(self.fit_image)
        box.addWidget(self.pose_btn)
        box.addLayout(opts)
        offer = QHBoxLayout()
        offer.addWidget(self.person, 1)
        offer.addWidget(self.apply_btn)
        box.addLayout(offer)
        return box

    @staticmethod
    def _spin(lo: float, hi: float, step: float, decimals: int, suffix: str = "") -> QDoubleSpinBox:
        sp = QDoubleSpinBox()
        sp.setRange(lo, hi)
        sp.setSingleStep(step)
        sp.setDecimals(decimals)
        sp.setSuffix(suffix)
        sp.setKeyboardTracking(False)
        return sp

    @staticmethod
    def _pair(a: QWidget, b: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(a)
        row.addWidget(b)
        return row

    def _sync_widgets(self) -> None:
        """Settings → widgets (without feeding back)."""
        s = self.settings
        self._syncing = True
        try:
            self.visible.setChecked(s.visible)
            self.flip.setChecked(s.flip)
            self.locked.setChecked(s.locked)
            self.mode.setCurrentIndex(max(0, self.mode.findData(s.mode)))
            self.opacity.setValue(int(round(s.opacity * 100)))
            self.scale.setValue(s.scale)
            self.offset_x.setValue(s.offset_x)
            self.offset_y.setValue(s.offset_y)
            self.distance.setValue(s.distance)
        finally:
            self._syncing = False
        has = self.image is not None
        for w in (self.remove_btn, self.pose_btn):
            w.setEnabled(has)
        plane = s.mode == "plane"
        self.distance.setEnabled(plane)
        self.locked.setEnabled(plane)
        self.fit_image.setEnabled(not plane)
        self.path_label.setText(Path(s.path).name if s.path else "No reference image")
        self.path_label.setToolTip(s.path)

    def _from_widgets(self, *_: Any) -> None:
        """Widgets → settings → the view."""
        if self._syncing:
            return
        s = self.settings
        geometry = (s.mode, s.scale, s.offset_x, s.offset_y, s.distance)
        was_locked = s.locked
        s.visible, s.flip = self.visible.isChecked(), self.flip.isChecked()
        s.mode = str(self.mode.currentData())
        s.opacity = self.opacity.value() / 100.0
        s.scale, s.offset_x, s.offset_y = self.scale.value(), self.offset_x.value(), self.offset_y.value()
        s.distance = self.distance.value()
        s.validate()
        cam = getattr(self.ctx.viewport, "camera", None)
        if self.image is not None and self.locked.isChecked() != was_locked:
            # unlocking keeps the plane where it is on screen now; it then stays there in the world
            self.image.set_locked(self.locked.isChecked(), cam, self._view_aspect())
        elif self.image is not None and not s.locked and cam is not None and geometry != (
                s.mode, s.scale, s.offset_x, s.offset_y, s.distance):
            self.image.place(cam, self._view_aspect())  # a new size / distance: placed again from this view
        s.locked = self.locked.isChecked()
        self._sync_widgets()
        self._show()

    def _view_aspect(self) -> float:
        vp: Any = self.ctx.viewport
        w, h = (vp.width(), vp.height()) if hasattr(vp, "width") else (1, 1)
        return w / max(h, 1)

    def _show(self) -> None:
        setter = getattr(self.ctx.viewport, "set_reference_image", None)
        if setter is not None:
            setter(self.image)

    def _say(self, text: str, status_ms: int = 8000) -> None:
        self.status.setText(text)
        if text:
            self.ctx.status.showMessage(f"Reference: {text}", status_ms)
        self.message.emit(text)

    # --- loading ------------------------------------------------------------------------------------------
    def load_dialog(self) -> None:
        start = str(Path(self.settings.path).parent) if self.settings.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Load reference image", start, FILE_FILTER)
        if path:
            self.load_file(path)

    def load_file(self, path: str | Path, settings: ReferenceSettings | None = None):
        """Read ``path`` off the GUI thread; on success it replaces the current image (keeping the display
        settings unless ``settings`` is given); on failure a clear notice and nothing changes. Returns the
        worker."""
        s = ReferenceSettings.from_dict((settings or self.settings).to_dict())
        self._say(f"loading {Path(path).name}…", 3000)
        self._load_job = run_in_background(self._read, str(path), s, on_result=self._on_loaded,
                                           on_error=lambda e, p=str(path): self._on_load_error(p, e))
        return self._load_job

    def _read(self, path: str, s: ReferenceSettings) -> ReferenceImage:
        self.worker_threads.append(threading.get_ident())
        return ReferenceImage.from_file(path, s)

    def _on_loaded(self, img: ReferenceImage) -> None:
        self.image = img
        self.settings = img.settings
        self.last_error = ""
        self._candidate = None
        self.apply_btn.setEnabled(False)
        self._sync_widgets()
        self._show()
        w, h = img.image_size
        shown = getattr(self.ctx.viewport, "set_reference_image", None) is not None
        self._say(f"{Path(img.settings.path).name} ({w}×{h})"
                  + ("" if shown else " — the 3D view is unavailable, so it is not shown"), 5000)
        self.imageChanged.emit(img)

    def _on_load_error(self, path: str, e: BaseException) -> None:
        why = str(e) if isinstance(e, (ReferenceImageError, OSError)) else f"{type(e).__name__}: {e}"
        self.last_error = why
        keep = " The current reference image is unchanged." if self.image is not None else ""
        self._say(f"cannot load {Path(path).name}: {why}.{keep}", 10000)

    def remove(self) -> None:
        """Take the image out of the view (its texture is freed) and forget its path."""
        self.image = None
        self._candidate = None
        self.apply_btn.setEnabled(False)
        self.settings.path = ""
        self._show()
        self._sync_widgets()
        self._say("removed", 3000)
        self.imageChanged.emit(None)

    # --- saved state -------------------------------------------------------------------------------------
    def state(self) -> dict | None:
        """What the app settings keep: the path and the display settings (None: no image)."""
        return self.settings.to_dict() if self.settings.path else None

    def restore_state(self, d: Any):
        """Show the image saved in the settings again; a missing file gives a notice. Returns the worker."""
        if not d:
            return None
        try:
            s = ReferenceSettings.from_dict(d)
        except ReferenceImageError as e:
            self._say(f"saved reference settings ignored: {e}")
            return None
        if not s.path:
            return None
        if not Path(s.path).is_file():
            self.last_error = f"{s.path} was not found"
            self._say(f"the reference image {Path(s.path).name} was not found ({s.path}); load it again.", 15000)
            return None
        return self.load_file(s.path, s)

    # --- pose from this image -------------------------------------------------------------------------------
    def pose_from_image(self):
        """Run the capture pipeline on the image in a worker; see the module docstring. Returns the worker."""
        if self.image is None:
            self._say("load a reference image first")
            return None
        if self._pose_job is not None:
            return self._pose_job
        self.pose_btn.setEnabled(False)
        self.apply_btn.setEnabled(False)
        self._candidate = None
        self._say("finding the person in the image…", 0)
        self._pose_job = run_in_background(self._run_pose, self.settings.path, self.settings.flip,
                                           on_result=self._on_pose, on_error=self._on_pose_error,
                                           on_finished=self._on_pose_finished)
        return self._pose_job

    def _pipeline(self, variant: str | None = None, regressor: str = "auto"):
        from core_models.capture.from_image import MAX_PEOPLE
        from core_models.capture.per_image import PER_IMAGE_VARIANT

        variant = variant or PER_IMAGE_VARIANT  # a still: the per-image landmarker (heavy, full where it misses)
        with self._pipe_lock:
            if self._pipe is None or self._pipe_key != (variant, regressor):
                if self._pipe is not None:
                    self._pipe.close()
                self._pipe = self.ctx.services.capture_pipeline(variant, regressor, mode="image",
                                                                max_people=MAX_PEOPLE)
                self._pipe_key = (variant, regressor)
            self._pipe.reset()
            return self._pipe

    def _run_pose(self, path: str, flip: bool):
        """Worker: the image at full resolution (flipped like the view) → ImagePose."""
        from core_models.capture.from_image import pose_from_image
        from core_models.render.reference_image import load_image

        self.worker_threads.append(threading.get_ident())
        rgb = load_image(path)[:, :, :3]
        if flip:
            rgb = rgb[:, ::-1]
        return pose_from_image(np.ascontiguousarray(rgb), self._pipeline())

    def _on_pose(self, r: Any) -> None:
        from core_models.capture.from_image import person_label

        self.last_result = r
        note = f" ({r.notice})" if r.notice else ""
        if r.ok:
            self.apply_result(r)
            return
        if r.pose is not None:  # several people / low confidence: offered, not applied
            self._candidate = r
            self.apply_btn.setEnabled(True)
            self.person.clear()
            self.person.addItems([person_label(r, i) for i in range(len(r.candidates))])
            self.person.setVisible(len(r.candidates) > 1)
        self._say(r.message + note, 12000)

    def _on_pose_error(self, e: BaseException) -> None:
        self._say(f"pose from image failed: {e}. The pose is unchanged.", 12000)

    def _on_pose_finished(self) -> None:
        self._pose_job = None
        self.pose_btn.setEnabled(self.image is not None)

    def apply_candidate(self) -> None:
        """"Apply anyway": the offered pose (several people: the person chosen in the list; low confidence) as
        one undo step."""
        from core_models.capture.from_image import candidate

        r = self._candidate
        if r is None:
            return
        label = ""
        if len(r.candidates) > 1:
            label = self.person.currentText()
            r = candidate(r, max(0, self.person.currentIndex()))
        if r.pose is None:
            self._say(f"no pose could be recovered for {label or 'that person'}; the pose is unchanged")
            return
        self.apply_result(r, label)

    def apply_result(self, r: Any, label: str = "") -> None:
        """Push the recovered pose (turned to the view if asked; translation and hands kept) as ONE undo step,
        then lay a background image over the body if asked."""
        from core_models.capture.from_image import face_view, merge_body_pose

        cam = getattr(self.ctx.viewport, "camera", None)
        pose = r.pose
        if self.face_camera.isChecked() and cam is not None:
            pose = face_view(pose, cam.azimuth)
        doc = self.ctx.document
        new = merge_body_pose(doc.pose(), pose)
        doc.push_pose(new, f"Pose from image {Path(self.settings.path).name}")
        self._candidate = None
        self.apply_btn.setEnabled(False)
        self.person.setVisible(False)
        fitted = self.fit_image.isChecked() and self.settings.mode == "background" and self._fit_to_body(r)
        text = r.message if r.ok else (f"Pose applied anyway{f' ({label})' if label else ''}, "
                                        f"confidence {r.confidence:.2f}.")
        self._say(text + (" The image was fitted to the body." if fitted else ""), 10000)
        self.poseApplied.emit(new)

    def _fit_to_body(self, r: Any) -> bool:
        """Scale / move the background so the person's landmarks lie over the body's joints on screen."""
        from core_models.capture.from_image import joint_correspondences
        from core_models.render.reference_image import fit_background, image_to_view_pixels

        vp: Any = self.ctx.viewport
        cam = getattr(vp, "camera", None)
        if cam is None or not hasattr(vp, "joints") or r.landmarks is None or self.image is None:
            return False
        px, joints = joint_correspondences(r.landmarks)
        if len(joints) < 4:
            return False
        w, h = vp.width(), vp.height()
        if self.settings.flip:  # landmarks are in the flipped image: back to the file's pixel coordinates
            px = px.copy()
            px[:, 0] = r.image_size[0] - px[:, 0]
        screen = cam.project(vp.joints()[joints], w, h)[:, :2]
        k, ox, oy = fit_background(px, screen, self.image.image_size, w, h, self.settings)
        self.settings.scale, self.settings.offset_x, self.settings.offset_y = k, ox, oy
        on_view = image_to_view_pixels(px, self.image.image_size, w, h, self.settings)
        #: median distance (view pixels) between the person's landmarks and the body's joints after the fit
        self.fit_error_px = float(np.median(np.linalg.norm(on_view - screen, axis=1)))
        self._sync_widgets()
        self._show()
        return True

    def shutdown(self) -> None:
        with self._pipe_lock:
            if self._pipe is not None:
                self._pipe.close()
                self._pipe = None

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(ev)
