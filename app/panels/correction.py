"""Correction panel: coaching text that turns pose A into pose B (learned corrector + rule-based text).

A is the current pose, a library pose or a pose file (e.g. a captured / imported one); B is a library pose
(built-in or saved by the user) or a pose file. Both are compared in their own facing direction (the heading
is ignored unless "keep facing" is ticked). Texts are generated off the GUI thread; the joints that differ
most are highlighted in the viewport; "Apply" feeds the text to the text editor (when its weights exist) and
pushes the result as one undoable edit of the current pose; "Copy" puts a text on the clipboard. The corrector
and the editor come from the shared model services (``ctx.services``): one editor per process.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.context import PanelContext
from app.panels.visibility import on_screen, watch_visibility
from core_models.pose import Pose
from core_models.services import Comparison, ModelUnavailable, PoseFileError

CURRENT = "current"
FILE = "file"
HIGHLIGHT_MIN_M = 0.05  # joints that moved less than this are not highlighted
HIGHLIGHT_MAX = 5


def joint_highlight_colors(displacement: np.ndarray, n: int = HIGHLIGHT_MAX,
                           min_m: float = HIGHLIGHT_MIN_M) -> dict[int, tuple[float, float, float]]:
    """{joint: rgb} for the ``n`` joints that move most (≥ ``min_m`` metres): red for the largest,
    orange → yellow for smaller ones."""
    order = np.argsort(displacement)[::-1][:n]
    top = float(displacement[order[0]]) if len(order) else 0.0
    out = {}
    for j in order:
        d = float(displacement[j])
        if d < min_m:
            break
        t = min(1.0, d / max(top, 1e-6))
        out[int(j)] = (1.0, 0.85 * (1.0 - t), 0.1)
    return out


class CorrectionPanel(QWidget):
    """Constructed as ``CorrectionPanel(ctx)`` (:class:`app.context.PanelContext`): edits go through
    ``ctx.document``, the models come from ``ctx.services`` (shared with the other panels)."""

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self._request = 0
        self._files: dict[str, Pose] = {}
        self._last: Comparison | None = None
        self.busy = False  # a comparison is running

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        form = QFormLayout()
        self.combo_a = QComboBox()
        self.combo_b = QComboBox()
        self.combo_a.setToolTip("Pose A: where you are (the current pose, a saved or captured pose)")
        self.combo_b.setToolTip("Pose B: the target (a library pose or a pose file)")
        form.addRow("From (A)", self.combo_a)
        form.addRow("To (B)", self.combo_b)
        lay.addLayout(form)
        opts = QHBoxLayout()
        self.mirror_b = QCheckBox("Mirror B")
        self.keep_heading = QCheckBox("Keep facing")
        self.keep_heading.setToolTip("Also correct the facing direction (otherwise each pose is compared in "
                                     "its own facing direction)")
        self.highlight = QCheckBox("Highlight joints")
        self.highlight.setChecked(True)
        for w in (self.mirror_b, self.keep_heading, self.highlight):
            opts.addWidget(w)
        opts.addStretch(1)
        self.refresh_button = QPushButton("Compare")
        opts.addWidget(self.refresh_button)
        lay.addLayout(opts)

        self.learned_box, self.learned_text, self.copy_learned, self.apply_learned = self._text_box(
            "Learned coach")
        self.rules_box, self.rules_text, self.copy_rules, self.apply_rules = self._text_box("Rule-based coach")
        lay.addWidget(self.learned_box)
        lay.addWidget(self.rules_box)
        self.joints_label = QLabel("")
        self.joints_label.setWordWrap(True)
        lay.addWidget(self.joints_label)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addStretch(1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(350)
        self._timer.timeout.connect(self.compare)
        self.reload_choices()
        self.combo_a.activated.connect(lambda i: self._on_choice(self.combo_a, i))
        self.combo_b.activated.connect(lambda i: self._on_choice(self.combo_b, i))
        self.mirror_b.toggled.connect(self.schedule)
        self.keep_heading.toggled.connect(self.schedule)
        self.highlight.toggled.connect(self._update_highlight)
        self.refresh_button.clicked.connect(self.compare)
        self.copy_learned.clicked.connect(lambda: self.copy_text(self.learned_text.toPlainText()))
        self.copy_rules.clicked.connect(lambda: self.copy_text(self.rules_text.toPlainText()))
        self.apply_learned.clicked.connect(lambda: self.apply(self.learned_text.toPlainText()))
        self.apply_rules.clicked.connect(lambda: self.apply(self.rules_text.toPlainText()))
        ctx.document.poseChanged.connect(self._on_pose_changed)

    # -- construction helpers -----------------------------------------------------------------------------
    def _text_box(self, title: str):
        box = QGroupBox(title)
        v = QVBoxLayout(box)
        text = QPlainTextEdit()
        text.setReadOnly(True)
        text.setMaximumHeight(110)
        v.addWidget(text)
        row = QHBoxLayout()
        copy = QPushButton("Copy")
        apply = QPushButton("Apply")
        apply.setToolTip("Move the current pose with this text through the text editor (undoable)")
        row.addStretch(1)
        row.addWidget(copy)
        row.addWidget(apply)
        v.addLayout(row)
        copy.setEnabled(False)
        apply.setEnabled(False)
        return box, text, copy, apply

    def reload_choices(self) -> None:
        from core_models.library import load_library

        try:
            entries = load_library()
        except Exception:  # noqa: BLE001 - an unreadable library leaves only the other choices
            entries = []
        self._library = {f"lib:{e.slug}:{e.name}": e.pose for e in entries}
        for combo, with_current in ((self.combo_a, True), (self.combo_b, False)):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            if with_current:
                combo.addItem("Current pose", CURRENT)
            for key, e in zip(self._library, entries):
                combo.addItem(f"{e.name} ({e.category})", key)
            for key in self._files:
                combo.addItem(f"File: {key[5:]}", key)
            combo.addItem("Pose file…", FILE)
            i = combo.findData(keep) if keep is not None else -1
            if i < 0 and not with_current:
                i = next((k for k in range(combo.count()) if str(combo.itemData(k)).startswith("lib:tree:")), 0)
            combo.setCurrentIndex(max(0, i))
            combo.blockSignals(False)

    # -- choices ------------------------------------------------------------------------------------------
    def select(self, combo: QComboBox, name: str) -> bool:
        """Select 'current', or a library pose by its file slug ("tree") or (case-insensitive) name."""
        for k in range(combo.count()):
            d = str(combo.itemData(k))
            parts = d.split(":", 2)
            if d == name or (parts[0] == "lib" and name.lower() in (parts[1], parts[2].lower())):
                combo.setCurrentIndex(k)
                self.schedule()
                return True
        return False

    def _on_choice(self, combo: QComboBox, i: int) -> None:
        if combo.itemData(i) == FILE:
            path, _ = QFileDialog.getOpenFileName(self, "Pose file", "", "Pose files (*.npz *.json)")
            if path:
                self.add_file(path, combo)
            else:
                combo.setCurrentIndex(0)
        self.schedule()

    def add_file(self, path: str, combo: QComboBox | None = None) -> None:
        try:
            pose = self.ctx.services.read_pose_file(path).pose
        except PoseFileError as e:
            self.status.setText(f"Cannot read {path}: {e}")
            return
        key = f"file:{path}"
        self._files[key] = Pose(pose.root_orient, pose.body_pose)
        self.reload_choices()
        if combo is not None:
            combo.setCurrentIndex(combo.findData(key))

    def _pose_of(self, combo: QComboBox) -> Pose | None:
        key = combo.currentData()
        if key == CURRENT:
            return self.ctx.document.pose()
        if key in self._library:
            return self._library[key]
        return self._files.get(key)

    def poses(self) -> tuple[Pose | None, Pose | None]:
        a, b = self._pose_of(self.combo_a), self._pose_of(self.combo_b)
        if b is not None and self.mirror_b.isChecked():
            from core_models.pose import mirror

            b = mirror(b)
        return a, b

    # -- work ---------------------------------------------------------------------------------------------
    def _on_pose_changed(self, *_a) -> None:
        if self.combo_a.currentData() == CURRENT and on_screen(self):
            self.schedule()

    def schedule(self, *_a) -> None:
        self._timer.start()

    def compare(self) -> None:
        a, b = self.poses()
        if a is None or b is None:
            self.status.setText("Choose pose A and pose B.")
            return
        self._request += 1
        req = self._request
        self.busy = True
        self.status.setText("Comparing…")
        from app.workers import run_in_background

        run_in_background(self.ctx.services.compare, a, b, self.keep_heading.isChecked(),
                          on_result=lambda out: self._on_result(req, out),
                          on_error=lambda e: self._on_error(req, e))

    def _on_result(self, req: int, out: Comparison) -> None:
        if req != self._request:
            return  # a newer comparison is running
        self.busy = False
        self._last = out
        learned = out.learned
        self.learned_text.setPlainText(learned if learned else f"(learned coach {out.learned_error})")
        self.rules_text.setPlainText(out.rules)
        self.copy_learned.setEnabled(bool(learned))
        self.copy_rules.setEnabled(True)
        can_apply = self.combo_a.currentData() == CURRENT
        self.apply_learned.setEnabled(bool(learned) and can_apply)
        self.apply_rules.setEnabled(can_apply)
        from core_models import skeleton as sk

        d = out.displacement
        top = [j for j in np.argsort(d)[::-1][:HIGHLIGHT_MAX] if d[j] >= HIGHLIGHT_MIN_M]
        self.joints_label.setText("Differs most: " + (", ".join(
            f"{sk.JOINT_NAMES[j].replace('_', ' ')} {100 * d[j]:.0f} cm" for j in top) or "nothing"))
        self.status.setText("")
        self._update_highlight()

    def _on_error(self, req: int, e: BaseException) -> None:
        if req == self._request:
            self.busy = False
            self.status.setText(f"Comparison failed: {type(e).__name__}: {e}")

    def highlight_colors(self) -> dict:
        if self._last is None or not self.highlight.isChecked():
            return {}
        return joint_highlight_colors(self._last.displacement)

    def _update_highlight(self, *_a) -> None:
        self.ctx.viewport.set_joint_colors(self.highlight_colors())

    def copy_text(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.status.setText("Copied.")

    def apply(self, text: str) -> None:
        doc = self.ctx.document
        if not text or self.combo_a.currentData() != CURRENT:
            return
        a = doc.pose()
        self.status.setText("Applying the text with the editor…")
        from app.workers import run_in_background

        def done(new: Pose) -> None:
            doc.push_pose(new, "Apply correction text")
            self.status.setText("Applied (Ctrl+Z to undo).")

        run_in_background(self.ctx.services.edit_with_text, a, text, on_result=done, on_error=self._on_apply_error)

    def _on_apply_error(self, e: BaseException) -> None:
        if isinstance(e, ModelUnavailable):
            self.status.setText(f"Cannot apply: the text editor is unavailable ({e})")
        else:
            self.status.setText(f"Cannot apply: {e}")

    def hideEvent(self, ev) -> None:  # noqa: N802 - Qt override
        self.ctx.viewport.set_joint_colors({})
        super().hideEvent(ev)

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt override
        super().showEvent(ev)
        watch_visibility(self, self._on_visible)

    def _on_visible(self, visible: bool) -> None:
        """Compare (and highlight) only while the panel is on screen, not from a background dock tab."""
        if not visible:
            self.ctx.viewport.set_joint_colors({})
            return
        if self._last is not None:
            self._update_highlight()
        self.schedule()
