"""Text Edit panel: type an instruction ("raise your left arm and lean back"), Enter applies the trained
editor's mean result to the current pose (one undoable step); a strip of alternatives (samples) to pick from; a
strength slider (blend between the pose before the edit and the edit, re-blends the last edit in place); "keep my
global orientation and position" (on by default). Inference runs off the GUI thread; empty or nonsense text
leaves the pose unchanged and says why.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.context import PanelContext
from app.workers import run_in_background
from core_models.pose import interpolate

THUMB = 72
MAX_HISTORY = 30


class TextEditPanel(QWidget):
    """Constructed as ``TextEditPanel(ctx)`` (:class:`app.context.PanelContext`); edits ``ctx.document``.
    ``set_editor`` injects an editor (tests); otherwise the shared one (``ctx.services``) is loaded in the
    background on first use."""

    editFinished = Signal(object)  # EditResult (also for notices)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.doc = ctx.document
        self._editor = None
        self._loading = None
        self._busy = False
        self._pending: tuple | None = None
        self._last: dict | None = None  # {'before', 'edit', 'samples', 'text', 'applied'}
        self.setObjectName("textEditPanel")

        self.input = QComboBox()
        self.input.setEditable(True)
        self.input.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.input.setMaxCount(MAX_HISTORY)
        self.input.lineEdit().setPlaceholderText("e.g. lift your right knee and lean back slightly")
        self.input.lineEdit().setClearButtonEnabled(True)
        self.input.lineEdit().returnPressed.connect(self.apply_text)
        self.input.setToolTip("Type an instruction and press Enter (history in the drop-down)")
        self.apply_btn = QPushButton("Apply")
        self.apply_btn.clicked.connect(self.apply_text)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.apply_btn)

        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(100)
        self.strength.setToolTip("Blend between the pose before the edit (0 %) and the edit (100 %)")
        self.strength_label = QLabel("Strength 100 %")
        self.strength.valueChanged.connect(self._on_strength)
        srow = QHBoxLayout()
        srow.addWidget(self.strength_label)
        srow.addWidget(self.strength, 1)

        self.keep_global = QCheckBox("Keep my global orientation and position")
        self.keep_global.setChecked(True)
        self.hold_unnamed = QCheckBox("Only move the body parts I name")
        self.hold_unnamed.setToolTip("For instructions that name only arms, legs or the head, every other joint "
                                     "keeps its rotation (instructions about the torso or the whole body are "
                                     "never restricted)")
        self.hold_unnamed.setChecked(True)
        self.samples = QSpinBox()
        self.samples.setRange(0, 16)
        self.samples.setValue(8)
        self.samples.setPrefix("Alternatives: ")

        self.strip = QListWidget()
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setFixedHeight(THUMB + 34)
        self.strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.strip.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.strip.itemClicked.connect(self._on_pick)
        self.strip.setToolTip("Alternatives: click one to use it instead of the mean result")

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("textEditStatus")

        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addLayout(srow)
        lay.addWidget(self.keep_global)
        lay.addWidget(self.hold_unnamed)
        lay.addWidget(self.samples)
        lay.addWidget(QLabel("Alternatives"))
        lay.addWidget(self.strip)
        lay.addWidget(self.status)
        lay.addStretch(1)

    # editor ------------------------------------------------------------------------------------------------
    def set_editor(self, editor) -> None:
        self._editor = editor
        self.apply_btn.setEnabled(True)

    def _ensure_editor(self) -> bool:
        if self._editor is not None:
            return True
        if self._loading is None:
            self.status.setText("Loading the text editor model…")
            self.apply_btn.setEnabled(False)
            self._loading = run_in_background(self.ctx.services.editor_with_encoder,  # MiniLM off the GUI thread
                                              on_result=self._on_loaded, on_error=self._on_load_error)
        return False

    def _on_loaded(self, editor) -> None:
        self._loading = None
        self.set_editor(editor)
        self.status.setText("Text editor ready.")
        if self._pending is not None:
            args, self._pending = self._pending, None
            self._run(*args)

    def _on_load_error(self, e: BaseException) -> None:
        self._loading = None
        self._pending = None
        self.apply_btn.setEnabled(True)
        self.status.setText(f"Text editing is unavailable: {e}")

    # actions -------------------------------------------------------------------------------------------------
    def apply_text(self, text: str | None = None) -> None:
        text = self.input.currentText() if text is None or isinstance(text, bool) else text
        text = text.strip()
        self._remember(text)
        args = (self._doc_pose(), text, self.samples.value(), self.keep_global.isChecked(),
                self.hold_unnamed.isChecked())
        if self._busy:
            self._pending = args  # the latest request wins
            return
        if not self._ensure_editor():
            self._pending = args
            return
        self._run(*args)

    def _remember(self, text: str) -> None:
        if not text:
            return
        i = self.input.findText(text)
        if i >= 0:
            self.input.removeItem(i)
        self.input.insertItem(0, text)
        self.input.setCurrentIndex(0)
        while self.input.count() > MAX_HISTORY:
            self.input.removeItem(self.input.count() - 1)

    def history(self) -> list[str]:
        return [self.input.itemText(i) for i in range(self.input.count())]

    def _run(self, pose, text, n, keep_global, hold=True) -> None:
        self._busy = True
        self.apply_btn.setEnabled(False)
        self.status.setText("Editing…")
        ed = self._editor
        run_in_background(ed.edit, pose, text, n_samples=n, strength=1.0, keep_global=keep_global, seed=0,
                          hold=hold, on_result=lambda res: self._on_result(pose, text, res), on_error=self._on_error)

    def _on_error(self, e: BaseException) -> None:
        self._busy = False
        self.apply_btn.setEnabled(True)
        self.status.setText(f"Edit failed: {type(e).__name__}: {e}")
        self._next()

    def _on_result(self, before, text, res) -> None:
        self._busy = False
        self.apply_btn.setEnabled(True)
        if res.notice:
            self.status.setText(res.notice)
            self.editFinished.emit(res)
            self._next()
            return
        self._last = {"before": before, "edit": res.mean, "samples": res.samples, "text": text, "choice": None}
        self.doc.push_pose(self._blend(res.mean), f"Text edit: {text[:40]}")
        self._last["applied"] = self._doc_pose()
        self._fill_strip(res.samples)
        self.status.setText(f"Applied \"{text[:60]}\" ({len(res.clauses)} clause(s)). Ctrl+Z undoes it.")
        self.editFinished.emit(res)
        self._next()

    def _next(self) -> None:
        if self._pending is not None and self._editor is not None:
            args, self._pending = self._pending, None
            self._run(*args)

    def _blend(self, target):
        s = self.strength.value() / 100.0
        if self._last is None or s >= 1.0:
            return target
        return interpolate(self._last["before"], target, s)

    def _on_strength(self, v: int) -> None:
        self.strength_label.setText(f"Strength {v} %")
        last = self._last
        if last is None or not self._is_current(last.get("applied")):
            return
        target = last["edit"] if last["choice"] is None else last["samples"][last["choice"]]
        new = self._blend(target)
        self.doc.push_pose(new, f"Text edit strength {v} %", merge_key=("text_edit_strength", id(last)))
        last["applied"] = self._doc_pose()

    def _doc_pose(self):
        return self.doc.pose()

    def _is_current(self, pose) -> bool:
        from core_models.session import poses_equal
        return pose is not None and poses_equal(pose, self._doc_pose())

    def _fill_strip(self, samples) -> None:
        from app.panels.library import stick_figure_image

        self.strip.clear()
        for i in range(len(samples)):
            it = QListWidgetItem(QIcon(QPixmap.fromImage(stick_figure_image(samples[i], THUMB))), f"#{i + 1}")
            it.setData(Qt.ItemDataRole.UserRole, i)
            self.strip.addItem(it)

    def _on_pick(self, item: QListWidgetItem) -> None:
        last = self._last
        if last is None:
            return
        i = int(item.data(Qt.ItemDataRole.UserRole))
        last["choice"] = i
        self.doc.push_pose(self._blend(last["samples"][i]), f"Text edit alternative #{i + 1}")
        last["applied"] = self._doc_pose()
        self.status.setText(f"Using alternative #{i + 1} of \"{last['text'][:50]}\".")
