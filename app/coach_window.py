"""The coach's full-window mode: readable from a mat two metres from the screen.

One top-level window (full screen; F11 or Esc leaves it) showing what the Coach panel shows, large: the target, the
0-100 score, the one message, the camera frame with the live figure and the target ghost (``CoachView``), the hold
timer with a bar and why it is not counting, and camera-placement help. Font sizes follow the window (the message
is 1/15 of its height: 72 px on a 1080p screen, capitals about 1.4 cm high on a 24" monitor; the score 180 px).
The figure is on the left, the texts on the right (a laptop or TV is wider than tall). Keys: Esc / F11 leave,
M mute, Space start/stop, S skip. It paints the states the panel hands it and owns no coaching logic.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from app.viewport.coach_view import CoachView

KEYS_HINT = "Esc: leave full window · M: mute · Space: start / stop · S: skip"


def _label(align=Qt.AlignmentFlag.AlignCenter, colour: str = "#f2f2f2", wrap: bool = True) -> QLabel:
    lb = QLabel("")
    lb.setAlignment(align)
    lb.setWordWrap(wrap)
    lb.setStyleSheet(f"color: {colour}; background: transparent;")
    return lb


class CoachWindow(QWidget):
    """Built around a :class:`app.panels.coach.CoachPanel`; ``open_full()`` shows it full screen."""

    def __init__(self, panel, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.panel = panel
        self.setObjectName("CoachWindow")
        self.setWindowTitle("PoseTailor — Coach")
        self.setStyleSheet("#CoachWindow { background: #15171b; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._build()
        panel.muteChanged.connect(self._show_mute)
        self._show_mute(panel.muted)
        self.reset_texts()

    def _build(self) -> None:
        v = QVBoxLayout(self)
        v.setContentsMargins(28, 18, 28, 18)
        top = QHBoxLayout()
        self.target = _label(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "#b8c4d6")
        self.mute = _label(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "#e3b04b", wrap=False)
        top.addWidget(self.target, 1)
        top.addWidget(self.mute)
        v.addLayout(top)
        mid = QHBoxLayout()
        self.view = CoachView(big=True)
        mid.addWidget(self.view, 3)
        mid.addLayout(self._build_text_column(), 2)
        v.addLayout(mid, 1)
        self.keys = _label(Qt.AlignmentFlag.AlignLeft, "#7d8794")
        self.keys.setText(KEYS_HINT)
        v.addWidget(self.keys)

    def _build_text_column(self) -> QVBoxLayout:
        col = QVBoxLayout()
        col.setSpacing(14)
        self.score = _label(Qt.AlignmentFlag.AlignCenter, "#ffffff", wrap=False)
        self.score_caption = _label(Qt.AlignmentFlag.AlignCenter, "#7d8794")
        self.score_caption.setText("score")
        self.message = _label(colour="#ffffff")
        self.timer = _label(Qt.AlignmentFlag.AlignCenter, "#ffffff", wrap=False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setStyleSheet("QProgressBar { background: #2a2e35; border: none; border-radius: 6px; }"
                               "QProgressBar::chunk { background: #3cc85f; border-radius: 6px; }")
        self.reason = _label(colour="#cfd6df")
        self.help = _label(colour="#e3b04b")
        for w in (self.score, self.score_caption):
            col.addWidget(w)
        col.addStretch(1)
        col.addWidget(self.message)
        col.addStretch(1)
        for w in (self.timer, self.bar, self.reason, self.help):
            col.addWidget(w)
        return col

    def reset_texts(self) -> None:
        self.message.setText(self.panel.message_label.text())
        self.score.setText(self.panel.score_label.text())
        self.timer.setText(self.panel.timer_label.text())
        self.reason.setText(self.panel.reason_label.text())
        self.help.setText(self.panel.help_label.text())
        self.target.setText(self.panel.target_label.text())
        self.view.mirror = self.panel.view.mirror
        self.view.target_pose = self.panel.view.target_pose
        if self.panel.last_state is not None:
            self.view.show_state(self.panel.last_state, self.panel.view.preview, self.panel.view.mirror)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(ev)
        h, w = max(self.height(), 300), max(self.width(), 400)
        unit = min(h, w * 0.6)
        for lb, frac, bold in ((self.message, 15, True), (self.score, 6, True), (self.timer, 11, True),
                               (self.target, 24, False), (self.reason, 28, False), (self.help, 30, False),
                               (self.keys, 55, False), (self.mute, 30, True), (self.score_caption, 40, False)):
            f = QFont(lb.font())
            f.setPixelSize(max(12, int(unit / frac)))
            f.setBold(bold)
            lb.setFont(f)
        self.bar.setFixedHeight(max(8, h // 50))

    def open_full(self) -> None:
        self.reset_texts()
        self.showFullScreen()
        self.raise_()
        self.activateWindow()

    # --- fed by the panel ---------------------------------------------------------------------------------------
    def show_state(self, state, preview=None) -> None:
        from app.panels.coach import PHASE_HELP, hold_text, phase_name, reason_text

        if not self.isVisible():
            return
        _set(self.message, state.message or "")
        _set(self.score, "—" if state.score is None else f"{state.score:.0f}")
        _set(self.timer, hold_text(state))
        _set(self.reason, reason_text(state))
        _set(self.help, PHASE_HELP.get(phase_name(state.phase), ""))
        _set(self.target, self.panel.target_label.text())
        self.bar.setValue(int(1000 * min(1.0, state.hold_elapsed / max(state.hold_target, 1e-6))))
        self.view.show_state(state, preview, self.panel.view.mirror)

    def show_report(self, folder: Path, html: Path | None) -> None:
        if self.isVisible():
            self.help.setText(f"Session report saved in {folder}")

    def _show_mute(self, on: bool) -> None:
        self.mute.setText("MUTED (M)" if on else "")

    # --- keys -----------------------------------------------------------------------------------------------------
    def keyPressEvent(self, ev) -> None:  # noqa: N802 - Qt API
        k = ev.key()
        if k in (Qt.Key.Key_Escape, Qt.Key.Key_F11):
            self.close()
        elif k == Qt.Key.Key_M:
            self.panel.toggle_mute()
        elif k == Qt.Key.Key_Space:
            self.panel.toggle()
        elif k == Qt.Key.Key_S:
            self.panel.skip()
        else:
            super().keyPressEvent(ev)


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)
