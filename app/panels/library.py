"""Library panel: a grid of pose thumbnails with names; double-click / Apply, Apply mirrored, Save current
pose…, Delete (user poses).

Loading the library and drawing missing thumbnails happen off the GUI thread. A thumbnail comes from the
library entry's PNG when it has one, otherwise from ``app.viewport.thumbnails`` when that module offers a
renderer, otherwise a stick figure drawn here with QPainter on a QImage (thread-safe).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import run_in_background
from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix

THUMB = 112
ALL = "All categories"


def stick_figure_image(pose: Pose, size: int = THUMB, rest_joints: np.ndarray | None = None,
                       yaw_deg: float = 25.0) -> QImage:
    """A small 3/4-view stick figure of ``pose`` (safe to call in a worker thread)."""
    rest = sk.DEFAULT_REST_JOINTS if rest_joints is None else np.asarray(rest_joints, np.float64)
    p = Pose(pose.root_orient, pose.body_pose, np.zeros(3, np.float32))
    R = aa_to_matrix(p.full().astype(np.float64))
    _, J, _ = kin.fk_numpy(R, rest, sk.PARENTS)
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    Ry = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    P = J @ Ry.T
    xy = P[:, :2]
    lo, hi = xy.min(0), xy.max(0)
    span = max(float((hi - lo).max()), 0.5)
    scale = (size * 0.84) / span
    mid = (lo + hi) / 2
    pts = [QPointF(size / 2 + (x - mid[0]) * scale, size / 2 - (y - mid[1]) * scale) for x, y in xy]
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    qp = QPainter(img)
    qp.setRenderHint(QPainter.RenderHint.Antialiasing)
    colours = {"left": QColor(70, 140, 230), "right": QColor(230, 110, 60), "": QColor(150, 150, 160)}
    order = np.argsort(P[:, 2])  # far bones first
    for j in order:
        par = int(sk.PARENTS[j])
        if par < 0:
            continue
        name = sk.JOINT_NAMES[j]
        side = "left" if name.startswith("left") else "right" if name.startswith("right") else ""
        qp.setPen(QPen(colours[side], max(2.0, size / 28), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        qp.drawLine(pts[par], pts[j])
    head = pts[sk.JOINT_INDEX["head"]]
    qp.setPen(QPen(colours[""], max(2.0, size / 28)))
    qp.setBrush(QColor(0, 0, 0, 0))
    qp.drawEllipse(head, size / 16, size / 16)
    qp.end()
    return img


def image_to_png(img: QImage) -> bytes:
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    buf.close()
    return bytes(ba.data())


def _load_with_thumbs(size: int) -> tuple[list, dict[int, QImage], list[str]]:
    """Worker: read the library; entries without a picture get a stick figure (replaced by a rendered
    thumbnail once the panel has a body, see LibraryPanel.set_body)."""
    import warnings

    from core_models import library

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        items = library.load_library()
    problems = [str(x.message) for x in w]
    images: dict[int, QImage] = {}
    rendered: set[int] = set()  # entries that came with their own picture
    for i, it in enumerate(items):
        img = None
        if it.thumbnail is not None and it.thumbnail.is_file():
            img = QImage(str(it.thumbnail))
            if img.isNull():
                img = None
            else:
                rendered.add(i)
        if img is None:
            img = stick_figure_image(it.pose, size)
        images[i] = img.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
    return items, images, problems, rendered


class LibraryPanel(QWidget):
    applyRequested = Signal(object, bool)  # LibraryPose, mirrored
    message = Signal(str)  # for the status bar

    def __init__(self, parent: QWidget | None = None,
                 pose_provider: Callable[[], Pose] | None = None,
                 thumbnail_provider: Callable[[], QImage | None] | None = None):
        super().__init__(parent)
        self.pose_provider = pose_provider
        self.thumbnail_provider = thumbnail_provider
        self._items: list = []
        self._loading = False
        self.loaded = False
        self._generation = 0
        self._needs_render: list[int] = []
        self._body = None
        self._thumbs = None  # app.viewport.thumbnails.ThumbnailRenderer, created on demand
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by name…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.category = QComboBox()
        self.category.addItem(ALL)
        self.category.currentIndexChanged.connect(self._filter)
        top.addWidget(self.search, 2)
        top.addWidget(self.category, 1)
        lay.addLayout(top)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 34, THUMB + 44))
        self.list.setSpacing(4)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWrapping(True)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.itemDoubleClicked.connect(lambda _it: self.apply_selected(False))
        self.list.currentItemChanged.connect(self._on_current)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        lay.addWidget(self.list, 1)

        self.info = QLabel("Loading the pose library…")
        self.info.setWordWrap(True)
        self.info.setMinimumHeight(34)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.info)
        row = QHBoxLayout()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Apply the selected pose (double-click does the same); keeps your "
                                     "body's heading and position")
        self.apply_button.clicked.connect(lambda: self.apply_selected(False))
        self.mirror_button = QPushButton("Apply mirrored")
        self.mirror_button.clicked.connect(lambda: self.apply_selected(True))
        self.save_button = QPushButton("Save current pose…")
        self.save_button.clicked.connect(self.save_current)
        for b in (self.apply_button, self.mirror_button, self.save_button):
            row.addWidget(b)
        lay.addLayout(row)
        self._on_current(None, None)

    # --- loading
    def reload(self):
        """(Re)load the library in a worker; returns the worker."""
        if self._loading:
            return None
        self._loading = True
        self.info.setText("Loading the pose library…")
        return run_in_background(_load_with_thumbs, THUMB, on_result=self._on_loaded, on_error=self._on_load_error,
                                 on_finished=self._on_load_finished)

    def _on_load_finished(self) -> None:
        self._loading = False

    def _on_load_error(self, e: BaseException) -> None:
        self.loaded = True
        self.info.setText(f"The pose library is not available: {e}")

    def _on_loaded(self, out) -> None:
        items, images, problems, rendered = out
        self._items = items
        self._generation += 1
        self._needs_render = [i for i in range(len(items)) if i not in rendered]
        cur_cat = self.category.currentText()
        self.list.clear()
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItem(ALL)
        for cat in dict.fromkeys(it.category for it in items):
            self.category.addItem(cat)
        idx = self.category.findText(cur_cat)
        self.category.setCurrentIndex(max(idx, 0))
        self.category.blockSignals(False)
        for i, it in enumerate(items):
            li = QListWidgetItem(QIcon(QPixmap.fromImage(images[i])), it.name)
            li.setData(Qt.ItemDataRole.UserRole, i)
            tip = f"<b>{it.name}</b> <i>({it.category})</i>"
            if it.description:
                tip += f"<br>{it.description}"
            li.setToolTip(tip)
            li.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.list.addItem(li)
        self._filter()
        n = len(items)
        self.info.setText(f"{n} poses. Double-click to apply." if n else "The library is empty.")
        self._render_missing()
        if problems:
            self.message.emit(f"Library: {len(problems)} file(s) skipped — {problems[0]}")
        self.loaded = True

    # --- rendered thumbnails (off the GUI thread, app.viewport.thumbnails)
    def set_body(self, body) -> None:
        """Render proper thumbnails with ``body`` for the entries that have no picture of their own."""
        if body is self._body:
            return
        self._body = body
        if self._thumbs is not None:
            self._thumbs.shutdown()
            self._thumbs = None
        self._render_missing()

    def _render_missing(self) -> None:
        if self._body is None or not self._needs_render or not self._items:
            return
        if self._thumbs is None:
            try:
                from app.viewport.thumbnails import ThumbnailRenderer

                self._thumbs = ThumbnailRenderer(self._body, size=(THUMB * 2, THUMB * 2), parent=self)
                self._thumbs.thumbnailReady.connect(self._on_thumbnail)
            except Exception as e:  # noqa: BLE001 - stick figures stay
                self.message.emit(f"Library thumbnails: {e}")
                self._needs_render = []
                return
        gen = self._generation
        self._thumbs.request_many([((gen, i), self._items[i].pose) for i in self._needs_render])

    def _on_thumbnail(self, key, image: QImage) -> None:
        gen, i = key
        if gen != self._generation or image.isNull():
            return
        for r in range(self.list.count()):
            li = self.list.item(r)
            if int(li.data(Qt.ItemDataRole.UserRole)) == i:
                li.setIcon(QIcon(QPixmap.fromImage(image.scaled(
                    THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))))
                break

    def shutdown(self) -> None:
        if self._thumbs is not None:
            self._thumbs.shutdown()
            self._thumbs = None

    # --- selection / filtering
    def entries(self) -> list:
        return list(self._items)

    def current_entry(self):
        li = self.list.currentItem()
        if li is None or li.isHidden():
            return None
        return self._items[int(li.data(Qt.ItemDataRole.UserRole))]

    def select_name(self, name: str) -> bool:
        for r in range(self.list.count()):
            li = self.list.item(r)
            if self._items[int(li.data(Qt.ItemDataRole.UserRole))].name == name:
                self.list.setCurrentItem(li)
                return True
        return False

    def _filter(self, *_a) -> None:
        text = self.search.text().strip().lower()
        cat = self.category.currentText()
        for r in range(self.list.count()):
            li = self.list.item(r)
            it = self._items[int(li.data(Qt.ItemDataRole.UserRole))]
            ok = (not text or text in it.name.lower() or text in it.description.lower()) and \
                 (cat in ("", ALL) or it.category == cat)
            li.setHidden(not ok)

    def _on_current(self, cur, _prev) -> None:
        e = self.current_entry() if cur is not None else None
        for b in (self.apply_button, self.mirror_button):
            b.setEnabled(e is not None)
        if e is not None:
            self.info.setText(f"<b>{e.name}</b> ({e.category}){': ' + e.description if e.description else ''}")

    # --- actions
    def apply_selected(self, mirrored: bool = False) -> None:
        e = self.current_entry()
        if e is not None:
            self.applyRequested.emit(e, bool(mirrored))

    def save_current(self) -> None:
        if self.pose_provider is None:
            return
        name, ok = QInputDialog.getText(self, "Save pose to library", "Name of the pose:")
        if ok:
            self.save_pose_as(name)

    def save_pose_as(self, name: str) -> object | None:
        """Save the current pose under ``name`` (errors are shown, nothing is lost). Returns the entry."""
        from core_models import library

        pose = self.pose_provider() if self.pose_provider else None
        if pose is None:
            return None
        png = None
        try:
            img = self.thumbnail_provider() if self.thumbnail_provider else None
            if img is None or img.isNull():
                img = stick_figure_image(pose, 160)
            png = image_to_png(_square(img, 160))
        except Exception:
            png = None
        try:
            entry = library.save_user_pose(name, pose, thumbnail_png=png)
        except (library.LibraryError, ValueError) as e:
            QMessageBox.warning(self, "Could not save the pose", str(e))
            return None
        self.message.emit(f"Saved '{entry.name}' to the library ({entry.path})")
        self.reload()
        return entry

    def _context_menu(self, pos) -> None:
        li = self.list.itemAt(pos)
        if li is None:
            return
        e = self._items[int(li.data(Qt.ItemDataRole.UserRole))]
        m = QMenu(self)
        m.addAction("Apply", lambda: self.applyRequested.emit(e, False))
        m.addAction("Apply mirrored", lambda: self.applyRequested.emit(e, True))
        if not e.builtin:
            m.addSeparator()
            m.addAction("Delete from library…", lambda: self._delete(e))
        m.exec(self.list.viewport().mapToGlobal(pos))

    def _delete(self, e) -> None:
        from core_models import library

        if QMessageBox.question(self, "Delete pose", f"Delete '{e.name}' from your library?") \
                != QMessageBox.StandardButton.Yes:
            return
        try:
            library.delete_user_pose(e)
        except (library.LibraryError, OSError) as err:
            QMessageBox.warning(self, "Could not delete the pose", str(err))
            return
        self.reload()


def _square(img: QImage, size: int) -> QImage:
    """Centre-crop to a square and scale to ``size``."""
    w, h = img.width(), img.height()
    s = min(w, h)
    return img.copy((w - s) // 2, (h - s) // 2, s, s).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
