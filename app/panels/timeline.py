"""Keyframe strip: a horizontal list of keyframe thumbnails and names (the session's ``keyframes``).

The widget shows a list of keyframes — ``(name, Pose)`` tuples or objects with ``.name`` / ``.pose`` (the
session's ``Keyframe``) — and *requests* changes through signals; the owner applies them (with undo) and
calls :meth:`KeyframeTimeline.set_keyframes` again:

  * ``addRequested()``           — "+" button / Insert key: store the current pose as a new keyframe;
  * ``removeRequested(int)``     — "−" button / Delete key;
  * ``moveRequested(int, int)``  — drag a thumbnail to a new place, or the ◀ ▶ buttons (from, to);
  * ``renameRequested(int, str)``— double-click the name (F2) and edit;
  * ``activated(int)``           — double-click the thumbnail / Enter: go to that keyframe;
  * ``currentChanged(int)``      — selection changed (-1 for none).
Thumbnails come from the owner (e.g. the app's ThumbnailRenderer): :meth:`set_thumbnail`. Until then each
keyframe shows a numbered placeholder.
"""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


def keyframe_tuple(k: Any) -> tuple[str, Any]:
    if isinstance(k, tuple) and len(k) == 2:
        return str(k[0]), k[1]
    return str(getattr(k, "name")), getattr(k, "pose")


def move_item(items: list, src: int, dst: int) -> list:
    """A copy of ``items`` with the element at ``src`` moved to index ``dst`` (the owner's reorder rule)."""
    out = list(items)
    if not (0 <= src < len(out)) or not (0 <= dst < len(out)):
        raise IndexError(f"cannot move {src} → {dst} in a list of {len(out)}")
    out.insert(dst, out.pop(src))
    return out


class _Strip(QListWidget):
    """The list; reports a drag-and-drop reorder as (from, to) instead of moving items itself."""

    dropped = Signal(int, int)

    def dropEvent(self, e) -> None:  # noqa: N802 - Qt override
        src = self.currentRow()
        pos = e.position().toPoint()
        target = self.indexAt(pos)
        dst = target.row() if target.isValid() else self.count() - 1
        e.setDropAction(Qt.DropAction.IgnoreAction)
        e.accept()
        if src >= 0 and dst >= 0 and src != dst:
            self.dropped.emit(src, dst)


class KeyframeTimeline(QWidget):
    addRequested = Signal()
    removeRequested = Signal(int)
    moveRequested = Signal(int, int)
    renameRequested = Signal(int, str)
    activated = Signal(int)
    currentChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None, thumb_size: int = 72):
        super().__init__(parent)
        self._keyframes: list[tuple[str, Any]] = []
        self._thumbs: dict[int, QPixmap] = {}
        self._thumb = QSize(thumb_size, thumb_size)
        self._updating = False

        self.strip = _Strip()
        self.strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.strip.setFlow(QListWidget.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setMovement(QListWidget.Movement.Snap)
        self.strip.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.strip.setIconSize(self._thumb)
        self.strip.setGridSize(QSize(thumb_size + 24, thumb_size + 30))
        self.strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.strip.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.strip.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.strip.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.strip.setFixedHeight(thumb_size + 48)
        self.strip.setToolTip("Keyframes — drag to reorder, double-click to go to, F2 to rename")
        self.strip.dropped.connect(self._request_move)
        self.strip.itemDoubleClicked.connect(lambda it: self.activated.emit(self.strip.row(it)))
        self.strip.itemActivated.connect(lambda it: self.activated.emit(self.strip.row(it)))
        self.strip.currentRowChanged.connect(self._current_changed)
        self.strip.itemChanged.connect(self._item_changed)

        def tool(text: str, tip: str, slot) -> QToolButton:
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            return b

        self.add_button = tool("+", "Add the current pose as a keyframe (Insert)", self.addRequested.emit)
        self.remove_button = tool("−", "Remove the selected keyframe (Delete)", self._request_remove)
        self.left_button = tool("◀", "Move the selected keyframe earlier", lambda: self._request_step(-1))
        self.right_button = tool("▶", "Move the selected keyframe later", lambda: self._request_step(+1))
        self.count_label = QLabel("")
        buttons = QVBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.add_button, self.remove_button, self.left_button, self.right_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.strip, 1)
        lay.addLayout(buttons)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.strip, self._request_remove,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence(Qt.Key.Key_Insert), self.strip, self.addRequested.emit,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self._update_buttons()

    # --- model ---
    def set_keyframes(self, keyframes: Sequence[Any], current: int | None = None) -> None:
        """Show ``keyframes`` ((name, Pose) tuples or Keyframe objects). Thumbnails are kept for poses that
        are unchanged objects at the same index; others fall back to placeholders until set again."""
        new = [keyframe_tuple(k) for k in keyframes]
        old = self._keyframes
        keep = {}
        for i, (_, pose) in enumerate(new):
            for j, (_, p_old) in enumerate(old):
                if p_old is pose and j in self._thumbs:
                    keep[i] = self._thumbs[j]
                    break
        self._thumbs = keep
        prev = self.strip.currentRow() if current is None else current
        self._keyframes = new
        self._updating = True
        try:
            self.strip.clear()
            for i, (name, _) in enumerate(new):
                it = QListWidgetItem(self._icon(i), name)
                it.setFlags(it.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDragEnabled)
                it.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
                it.setToolTip(name)
                self.strip.addItem(it)
            if new:
                self.strip.setCurrentRow(min(max(prev, 0), len(new) - 1))
        finally:
            self._updating = False
        self._update_buttons()
        self.currentChanged.emit(self.strip.currentRow())

    def keyframes(self) -> list[tuple[str, Any]]:
        return list(self._keyframes)

    def poses(self) -> list[Any]:
        """The keyframe poses in strip order (e.g. for the export dialog)."""
        return [p for _, p in self._keyframes]

    def current_index(self) -> int:
        return self.strip.currentRow()

    def set_current(self, i: int) -> None:
        self.strip.setCurrentRow(i)

    def set_thumbnail(self, i: int, image: QImage | QPixmap) -> None:
        if not (0 <= i < len(self._keyframes)):
            return
        pm = QPixmap.fromImage(image) if isinstance(image, QImage) else QPixmap(image)
        self._thumbs[i] = pm.scaled(self._thumb, Qt.AspectRatioMode.KeepAspectRatio,
                                    Qt.TransformationMode.SmoothTransformation)
        it = self.strip.item(i)
        if it is not None:
            self._updating = True
            try:
                it.setIcon(self._icon(i))
            finally:
                self._updating = False

    # --- internals ---
    def _icon(self, i: int) -> QIcon:
        pm = self._thumbs.get(i)
        if pm is None:
            pm = QPixmap(self._thumb)
            pm.fill(QColor(58, 60, 66))
            p = QPainter(pm)
            p.setPen(QColor(200, 200, 205))
            f = QFont()
            f.setPointSize(max(8, self._thumb.height() // 5))
            p.setFont(f)
            p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, str(i + 1))
            p.end()
        return QIcon(pm)

    def _update_buttons(self) -> None:
        i, n = self.strip.currentRow(), len(self._keyframes)
        self.remove_button.setEnabled(0 <= i < n)
        self.left_button.setEnabled(0 < i < n)
        self.right_button.setEnabled(0 <= i < n - 1)

    def _current_changed(self, i: int) -> None:
        self._update_buttons()
        if not self._updating:
            self.currentChanged.emit(i)

    def _item_changed(self, it: QListWidgetItem) -> None:
        if self._updating:
            return
        i = self.strip.row(it)
        name = it.text().strip()
        if 0 <= i < len(self._keyframes) and name and name != self._keyframes[i][0]:
            self.renameRequested.emit(i, name)
        elif 0 <= i < len(self._keyframes):
            self._updating = True
            try:
                it.setText(self._keyframes[i][0])
            finally:
                self._updating = False

    def _request_remove(self) -> None:
        i = self.strip.currentRow()
        if 0 <= i < len(self._keyframes):
            self.removeRequested.emit(i)

    def _request_step(self, d: int) -> None:
        i = self.strip.currentRow()
        j = i + d
        if 0 <= i < len(self._keyframes) and 0 <= j < len(self._keyframes):
            self.moveRequested.emit(i, j)

    def _request_move(self, src: int, dst: int) -> None:
        if 0 <= src < len(self._keyframes) and 0 <= dst < len(self._keyframes) and src != dst:
            self.moveRequested.emit(src, dst)


__all__ = ["KeyframeTimeline", "move_item", "keyframe_tuple"]
