"""Text Edit panel: type an instruction ("raise your left arm and lean back"), Enter applies it to the current
pose through the sentence composer (``services.edit_sentence``: clause by clause, hold clauses, amounts) as one
undoable step. Under the text box: the input echoed with the words it ignored struck through in grey and the
words of clauses it could not use in red, and a table of every clause as understood (part, side, change,
amount) plus every clause it could not use with the reason. A strip of alternatives (samples) to pick from; a
strength slider (blend between the pose before the edit and the edit, re-blends the last edit in place); "keep
my global orientation and position" (on by default). Inference runs off the GUI thread; empty or nonsense text
leaves the pose unchanged and says why.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.context import PanelContext
from app.workers import run_in_background
from core_models.pose import interpolate
from core_models.text.echo import ClauseRow, clause_rows, word_marks

THUMB = 72
MAX_HISTORY = 30
COLUMNS = ("Clause", "Part", "Side", "Change", "Amount")
_MARK_STYLE = {"ignored": "color:#8a8a8a; text-decoration:line-through;",
               "unused": "color:#c0392b; text-decoration:underline;"}
HOLD_BG = QColor(221, 235, 247)


def echo_html(marks: list[tuple[str, str]]) -> str:
    """The input as rich text: ignored words grey and struck through, words of unusable clauses red."""
    out = []
    for piece, mark in marks:
        style = _MARK_STYLE.get(mark)
        out.append(f'<span style="{style}">{escape(piece)}</span>' if style else escape(piece))
    return "".join(out)


class TextEditPanel(QWidget):
    """Constructed as ``TextEditPanel(ctx)`` (:class:`app.context.PanelContext`); edits ``ctx.document``.
    Edits go through ``ctx.services.edit_sentence`` (the services' one editor); the first Apply loads it in the
    background (``set_editor`` marks it loaded, e.g. when a test loaded the services' editor already)."""

    editFinished = Signal(object)  # core_models.text.compose.SentenceEdit (also for notices)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.doc = ctx.document
        self._editor = None
        self._loading = None
        self._busy = False
        self._pending: tuple | None = None
        self._last: dict | None = None  # {'before', 'edit', 'samples', 'text', 'applied'}
        self._rows: list[ClauseRow] = []
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
        self._build_understood()

        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.echo)
        lay.addWidget(self.table)
        lay.addWidget(self.unused)
        lay.addLayout(srow)
        lay.addWidget(self.keep_global)
        lay.addWidget(self.hold_unnamed)
        lay.addWidget(self.samples)
        lay.addWidget(QLabel("Alternatives"))
        lay.addWidget(self.strip)
        lay.addWidget(self.status)
        lay.addStretch(1)

    def _build_understood(self) -> None:
        self.echo = QLabel("")
        self.echo.setObjectName("textEditEcho")
        self.echo.setTextFormat(Qt.TextFormat.RichText)
        self.echo.setWordWrap(True)
        self.echo.setToolTip("What was read: grey struck-through words were ignored; red words belong to a clause "
                             "that could not be used (see the table) — rephrase those")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("textEditClauses")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        hdr = self.table.horizontalHeader()
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            hdr.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Each clause as understood (blue: a hold clause: those parts stay where they are)")
        self.table.setVisible(False)
        self.unused = QLabel("")
        self.unused.setObjectName("textEditUnused")
        self.unused.setTextFormat(Qt.TextFormat.RichText)
        self.unused.setWordWrap(True)
        self.unused.setToolTip("Clauses that could not be used, with the reason: rephrase them")
        self.unused.setVisible(False)

    def understood_rows(self) -> list[ClauseRow]:
        """The rows shown in the clause table (after the last edit)."""
        return list(self._rows)

    def _show_understood(self, marks: list[tuple[str, str]], rows: list[ClauseRow]) -> None:
        self._rows = rows
        self.echo.setText(echo_html(marks))
        shown = [r for r in rows if r.status != "unused"]
        self.table.setRowCount(len(shown))
        for r, row in enumerate(shown):
            for c, value in enumerate((row.text, row.part, row.side, row.change, row.amount)):
                it = QTableWidgetItem(value)
                it.setToolTip(value)
                if row.status == "hold":
                    it.setBackground(QBrush(HOLD_BG))
                self.table.setItem(r, c, it)
        self.table.resizeRowsToContents()
        self.table.setVisible(bool(shown))
        if shown:  # as tall as its rows (no inner scrolling for a normal sentence)
            h = self.table.horizontalHeader().height() + 2 * self.table.frameWidth() + 2
            self.table.setFixedHeight(min(h + sum(self.table.rowHeight(i) for i in range(len(shown))), 320))
        unused = [r for r in rows if r.status == "unused"]
        self.unused.setText("<br>".join(
            f'<span style="color:#c0392b;">Not used:</span> “{escape(r.text)}” — '
            f'{escape(r.change.removeprefix("not used: "))}' for r in unused))
        self.unused.setVisible(bool(unused))

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
        run_in_background(self._compose, pose, text, n, keep_global, hold,
                          on_result=lambda out: self._on_result(pose, text, out), on_error=self._on_error)

    def _compose(self, pose, text, n, keep_global, hold):
        """Worker thread: the shipped sentence composition, then what to show about it."""
        res = self.ctx.services.edit_sentence(pose, text, hold=hold, n_samples=n, keep_global=keep_global, seed=0)
        marks = word_marks(text, {u["text"] for u in res.unused})
        return res, marks, clause_rows(res)

    def _on_error(self, e: BaseException) -> None:
        self._busy = False
        self.apply_btn.setEnabled(True)
        self.status.setText(f"Edit failed: {type(e).__name__}: {e}")
        self._next()

    def _on_result(self, before, text, out) -> None:
        res, marks, rows = out
        self._busy = False
        self.apply_btn.setEnabled(True)
        self._show_understood(marks, rows)
        if res.refused:
            notice = res.notice or "Nothing could be done."
            self.status.setText(notice if "unchanged" in notice else f"{notice} The pose is unchanged.")
            self.editFinished.emit(res)
            self._next()
            return
        samples = res.samples if res.samples is not None else []
        self._last = {"before": before, "edit": res.pose, "samples": samples, "text": text, "choice": None}
        self.doc.push_pose(self._blend(res.pose), f"Text edit: {text[:40]}")
        self._last["applied"] = self._doc_pose()
        self._fill_strip(samples)
        n_used = sum(r.status != "unused" for r in rows)
        n_unused = len(rows) - n_used
        skipped = f"; {n_unused} not used (see the list)" if n_unused else ""
        self.status.setText(f"Applied \"{text[:60]}\" ({n_used} clause(s){skipped}). Ctrl+Z undoes it.")
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
