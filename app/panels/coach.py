"""Coach panel: live camera / video / image folder against a target pose or a routine, one correction at a time.

The user picks a target (a library pose — built-in, their own or a captured one —, the editor's current pose, a
pose file) or builds a routine (targets with hold times: add / remove / reorder / hold seconds, saved and loaded
as JSON), a source (as in the Capture panel), a strictness, mirror (the user faces the screen) and mute (button
or M). Start runs the capture pipeline and the coach engine (:class:`core_models.coach.CoachEngine`, a pure state
machine) in a worker thread (``app.workers.run_in_background``); the GUI thread only paints the newest
:class:`CoachState`: the one message, the 0-100 score, the hold timer and why it is not counting, camera-placement
help, the camera frame next to the live figure with the target as a ghost (``app.viewport.coach_view``), and the
per-joint colours on the 3D body (red beyond tolerance, grey unseen). Speech (``core_models.coach.speech``) is
asked for from the worker thread only when the engine says ``speak`` — it never blocks either thread. F11 opens
the full-window mode (``app.coach_window``) readable from two metres. When the session ends (Stop, end of the
video or the routine finished) the session report is saved into the chosen folder and a button opens its HTML.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.context import PanelContext
from app.panels.capture import SOURCES, _downscale, frame_to_qimage
from app.viewport.coach_view import CoachView, StatusDebouncer, status_colors
from app.workers import run_in_background

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]

CURRENT = "__current__"
FILE = "__file__"
PHASE_HELP = {
    "partial": "Camera placement: put the camera at hip height, 2-3 m away, so that you are seen from head to feet.",
    "low_light": "More light, please: face a window or a lamp, and avoid a bright window behind you.",
    "several_people": "Only one person should be in the picture.",
    "no_person": "Step into the picture, 2-3 m from the camera, facing it.",
}
#: the 3D body (pose, colours, ghost) is redrawn at most this often during a session: on software GL one frame of
#: the body cost 160-230 ms on this loaded machine and the painting took the CPU the capture needed
BODY_UPDATE_S = 0.25
MAX_TIMELINE = 200_000  # states kept for the flicker count (about 2 h at 30 fps)


def phase_name(phase) -> str:
    return str(getattr(phase, "value", phase) or "")


def state_summary(state) -> tuple:
    """(t, phase, message, score, hold_elapsed, speak, joint_status bytes): what the timeline records per engine
    update (the colours are the joint status)."""
    return (float(state.t), phase_name(state.phase), str(state.message), state.score, float(state.hold_elapsed),
            bool(state.speak), np.asarray(state.joint_status, np.int8).tobytes())


def colour_changes_in_any_second(timeline: list[tuple]) -> int:
    """The most colour changes of any one joint inside any 1-second window of session time."""
    if len(timeline) < 2:
        return 0
    st = np.array([np.frombuffer(r[6], np.int8) for r in timeline])
    t = np.array([r[0] for r in timeline])
    best = 0
    for j in range(st.shape[1]):
        times = t[1:][st[1:, j] != st[:-1, j]]
        lo = 0
        for hi in range(len(times)):
            while times[hi] - times[lo] >= 1.0 - 1e-6:
                lo += 1
            best = max(best, hi - lo + 1)
    return best


def message_changes_per_second(timeline: list[tuple]) -> float:
    """How often the shown message changed, per second of session time (the flicker measure)."""
    if len(timeline) < 2:
        return 0.0
    changes = sum(1 for a, b in zip(timeline[:-1], timeline[1:]) if a[2] != b[2])
    span = max(timeline[-1][0] - timeline[0][0], 1e-6)
    return changes / span


def max_changes_in_any_second(timeline: list[tuple]) -> int:
    """The most message changes inside any 1-second window of session time."""
    times = [b[0] for a, b in zip(timeline[:-1], timeline[1:]) if a[2] != b[2]]
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0 - 1e-6:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class _CountingDetector:
    """Wraps the capture pipeline's (one-person, tracking) landmark detector and counts the people in the picture
    for the coach's "one person only" state. Looking for two people in every frame makes MediaPipe run its person
    detector on every frame (it never has a second person to track): the capture took 2-4x longer. So a second,
    image-mode detector looks for up to two people every ``every`` frames and its count holds in between (0 when
    the tracker sees nobody). Counts are keyed by frame timestamp because detection runs one frame ahead."""

    def __init__(self, inner, variant: str = "lite", every: int = 10):
        self.inner, self.variant, self.every = inner, variant, max(1, int(every))
        self.counts: dict[float, int] = {}
        self._lock = threading.Lock()
        self._frame = 0
        self._people = 1
        self._multi = None
        self.multi_error: str | None = None

    def _count_people(self, image) -> int:
        if self._multi is None and self.multi_error is None:
            try:
                from core_models.capture.landmarks import LandmarkDetector

                self._multi = LandmarkDetector(self.variant, mode="image", num_poses=2)
            except Exception as e:  # noqa: BLE001 - without it the coach cannot tell two people apart, no more
                self.multi_error = str(e)
        if self._multi is None:
            return 1
        return len(self._multi.detect_all(image))

    def detect(self, image, timestamp=None):
        one = self.inner.detect(image, timestamp)
        if one is not None and self._frame % self.every == 0:
            self._people = max(1, self._count_people(image))
        self._frame += 1
        with self._lock:
            self.counts[float(timestamp) if timestamp is not None else -1.0] = 0 if one is None else self._people
            if len(self.counts) > 64:
                self.counts.pop(next(iter(self.counts)))
        return one

    def count(self, timestamp: float) -> int:
        with self._lock:
            return self.counts.pop(float(timestamp), 1)

    def close(self) -> None:
        self.inner.close()
        if self._multi is not None:
            self._multi.close()

    def __getattr__(self, name):
        return getattr(self.inner, name)


class CoachPanel(QWidget):
    frameReady = Signal()           # a new state waits in self._latest (from the coach thread)
    statusChanged = Signal(str)     # from the coach thread
    templateStatusChanged = Signal(str, bool)  # the target templates' status, and whether it is a notice
    stateShown = Signal(object)     # CoachState just painted (GUI thread)
    reportSaved = Signal(object)    # the report's paths (GUI thread)
    sessionEnded = Signal()
    muteChanged = Signal(bool)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None, speaker=None):
        super().__init__(parent)
        self.ctx = ctx
        self._worker = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._latest = None
        self._pending = False
        self._commands: list[str] = []
        self._files: dict[str, object] = {}
        self._mirror = False
        self.timeline: list[tuple] = []       # every engine update of the last session (state_summary)
        self.last_state = None
        self.states_shown = 0
        self.report = None
        self.report_paths = None
        self.full_window = None
        self._routine_len = 0
        #: extra CoachEngine keyword arguments (tests, tools: e.g. measure="pose" with a true-pose regressor)
        self.engine_options: dict = {}
        self.latencies_ms: deque[float] = deque(maxlen=5000)  # per painted state: frame read → score on screen
        self._shown_t: deque[float] = deque(maxlen=30)
        self._body_t = 0.0
        self._saved_aa: int | None = None
        self._colours = StatusDebouncer()  # the joints' colours change at most once a second (coach thread)
        self._target_index = -1
        self._template_status: tuple[str, bool] | None = None  # the last one sent (coach thread)
        self._report_html: Path | None = None
        self.speaker = speaker if speaker is not None else self._make_speaker()
        self._build()
        self.reload_targets()
        self.frameReady.connect(self._on_frame, Qt.ConnectionType.QueuedConnection)
        self.statusChanged.connect(self._set_status, Qt.ConnectionType.QueuedConnection)
        self.templateStatusChanged.connect(self._set_template_status, Qt.ConnectionType.QueuedConnection)
        app = QCoreApplication.instance()
        if app is not None:  # a camera never ends: quitting the app must end the coach thread and the speech
            app.aboutToQuit.connect(self._on_quit)

    @staticmethod
    def _make_speaker():
        from core_models.coach.speech import Speaker

        return Speaker()

    # --- UI -------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        """The live display first (message, score, timer, picture), then the controls, then the set-up."""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self._build_display(), 1)
        lay.addLayout(self._build_buttons())
        self.readout = QLabel("")
        self.readout.setStyleSheet("color: #8a94a3;")
        lay.addWidget(self.readout)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        #: how the live body is compared with the target (captured templates, building them, or why not)
        self.template_label = QLabel("")
        self.template_label.setWordWrap(True)
        lay.addWidget(self.template_label)
        rep = QHBoxLayout()
        self.report_label = QLabel("")
        self.report_label.setWordWrap(True)
        self.open_report_btn = QPushButton("Open report")
        self.open_report_btn.setEnabled(False)
        self.open_report_btn.clicked.connect(self.open_report)
        rep.addWidget(self.report_label, 1)
        rep.addWidget(self.open_report_btn)
        lay.addLayout(rep)
        lay.addWidget(self._build_target_box())
        lay.addWidget(self._build_source_box())
        lay.addWidget(self._build_options_box())
        for key, slot in (("M", self.toggle_mute), ("F11", self.toggle_full_window)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)
        self.source_kind.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()

    def _build_target_box(self) -> QGroupBox:
        box = QGroupBox("Target / routine")
        v = QVBoxLayout(box)
        row = QHBoxLayout()
        self.target_combo = QComboBox()
        self.target_combo.setToolTip("A library pose (built-in, your own, captured), the editor's pose or a file")
        self.target_combo.activated.connect(self._on_target_choice)
        self.target_combo.currentIndexChanged.connect(lambda _i: self.routine_list.setCurrentRow(-1))
        self.hold_spin = QDoubleSpinBox()
        self.hold_spin.setRange(1.0, 600.0)
        self.hold_spin.setValue(20.0)
        self.hold_spin.setSuffix(" s")
        self.hold_spin.setToolTip("Hold time of the picked target (and of the selected routine step)")
        self.hold_spin.valueChanged.connect(self._on_hold_changed)
        row.addWidget(self.target_combo, 1)
        row.addWidget(self.hold_spin)
        v.addLayout(row)
        self.routine_list = QListWidget()
        self.routine_list.setMaximumHeight(110)
        self.routine_list.setToolTip("The routine: targets in order, each held for its time (empty: the picked "
                                     "target alone)")
        self.routine_list.currentRowChanged.connect(self._on_routine_row)
        v.addWidget(self.routine_list)
        row2 = QHBoxLayout()
        self.add_btn = QPushButton("Add")
        self.add_btn.setToolTip("Add the picked target (with its hold time) to the routine")
        self.remove_btn = QPushButton("Remove")
        self.up_btn = QPushButton("↑")
        self.down_btn = QPushButton("↓")
        self.up_btn.setToolTip("Move the selected step earlier")
        self.down_btn.setToolTip("Move the selected step later")
        for b in (self.up_btn, self.down_btn):
            b.setMaximumWidth(34)
        self.load_routine_btn = QPushButton("Load…")
        self.save_routine_btn = QPushButton("Save…")
        for b, slot in ((self.add_btn, self.add_to_routine), (self.remove_btn, self.remove_step),
                        (self.up_btn, lambda: self.move_step(-1)), (self.down_btn, lambda: self.move_step(1)),
                        (self.load_routine_btn, self._ask_load_routine),
                        (self.save_routine_btn, self._ask_save_routine)):
            b.clicked.connect(slot)
            row2.addWidget(b)
        v.addLayout(row2)
        return box

    def _build_source_box(self) -> QGroupBox:
        box = QGroupBox("Source")
        form = QFormLayout(box)
        self.source_kind = QComboBox()
        self.source_kind.addItems(SOURCES)
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 99)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("video file or image folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_source)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.model = QComboBox()
        self.model.addItems(["lite", "full", "heavy"])
        self.regressor = QComboBox()
        self.regressor.addItems(self.ctx.services.capture_regressor_names())
        form.addRow("Source", self.source_kind)
        form.addRow("Camera", self.camera_index)
        form.addRow("File", row)
        form.addRow("Model", self.model)
        form.addRow("Pose from", self.regressor)
        return box

    def _build_options_box(self) -> QGroupBox:
        box = QGroupBox("Coaching")
        form = QFormLayout(box)
        self.strictness = QComboBox()
        self.strictness.addItems(["beginner", "standard", "advanced"])
        self.strictness.setCurrentText("standard")
        self.strictness.setToolTip("How close counts as right: beginner is forgiving, advanced is strict")
        self.corrector = QComboBox()
        self.corrector.addItems(["auto", "rules", "learned"])
        self.corrector.setToolTip("auto: the learned corrector's step when its judge is confident, the rule-based "
                                  "coach otherwise; each message says which")
        self.mirror = QCheckBox("Mirror (I face the screen)")
        self.mirror.setToolTip("Show the picture and the figures as a mirror does (the words still name your own "
                               "left and right)")
        self.mirror.toggled.connect(self._on_mirror)
        self.on_body = QCheckBox("Show on the 3D body")
        self.on_body.setChecked(True)
        self.on_body.setToolTip("Pose the body in the main view live and colour its joints (the document is not "
                                "changed)")
        self.report_dir = QLineEdit(str(self.default_report_dir()))
        browse = QPushButton("…")
        browse.clicked.connect(self._browse_report_dir)
        row = QHBoxLayout()
        row.addWidget(self.report_dir, 1)
        row.addWidget(browse)
        form.addRow("Strictness", self.strictness)
        form.addRow("Corrections", self.corrector)
        form.addRow(self.mirror)
        form.addRow(self.on_body)
        form.addRow("Reports to", row)
        return box

    def _build_buttons(self) -> QVBoxLayout:
        col = QVBoxLayout()
        self.start_btn = QPushButton("Start")
        self.start_btn.clicked.connect(self.toggle)
        self.skip_btn = QPushButton("Skip")
        self.skip_btn.setToolTip("Go to the next target of the routine")
        self.skip_btn.clicked.connect(self.skip)
        self.mute_btn = QPushButton("Mute (M)")
        self.mute_btn.setCheckable(True)
        self.mute_btn.setChecked(self.speaker.muted)
        self.mute_btn.toggled.connect(self.set_muted)
        if not self.speaker.available:
            self.mute_btn.setToolTip(f"Speech is off: {self.speaker.reason}")
        self.full_btn = QPushButton("Full window (F11)")
        self.full_btn.setToolTip("The coach on the whole screen, readable from the mat (Esc leaves)")
        self.full_btn.clicked.connect(self.toggle_full_window)
        for pair in ((self.start_btn, self.skip_btn), (self.mute_btn, self.full_btn)):
            row = QHBoxLayout()
            for b in pair:
                row.addWidget(b)
            col.addLayout(row)
        return col

    def _build_display(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        self.target_label = QLabel("")
        self.message_label = QLabel("Pick a target and press Start.")
        self.message_label.setWordWrap(True)
        f = QFont(self.message_label.font())
        f.setPointSizeF(f.pointSizeF() * 1.5)
        f.setBold(True)
        self.message_label.setFont(f)
        self.source_label = QLabel("")
        self.source_label.setStyleSheet("color: #8a94a3;")
        top = QHBoxLayout()
        self.score_label = QLabel("—")
        self.score_label.setFont(f)
        self.timer_label = QLabel("")
        top.addWidget(self.score_label)
        top.addWidget(self.timer_label, 1)
        self.hold_bar = QProgressBar()
        self.hold_bar.setRange(0, 1000)
        self.hold_bar.setTextVisible(False)
        self.hold_bar.setMaximumHeight(10)
        self.reason_label = QLabel("")
        self.reason_label.setWordWrap(True)
        self.help_label = QLabel("")
        self.help_label.setWordWrap(True)
        self.help_label.setStyleSheet("color: #d9a441;")
        self.view = CoachView()
        self.view.setMinimumHeight(230)
        for x in (self.target_label, self.message_label, self.source_label):
            v.addWidget(x)
        v.addLayout(top)
        for x in (self.hold_bar, self.reason_label, self.help_label):
            v.addWidget(x)
        v.addWidget(self.view, 1)
        return w

    def _update_enabled(self) -> None:
        cam = self.source_kind.currentIndex() == 0
        self.camera_index.setEnabled(cam)
        self.path_edit.setEnabled(not cam)

    def _set_template_status(self, text: str, notice: bool) -> None:
        """The target templates' status (GUI thread) on its own line of the panel (orange for a notice: the target is
        compared with its ideal landmarks, and why); a notice also goes to the window's status bar."""
        self.template_label.setStyleSheet("color: #d08a2e;" if notice else "color: #8a94a3;")
        _set_text(self.template_label, text)
        if notice:
            self.ctx.status.showMessage(f"Coach: {text}", 15000)

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        if text:
            self.ctx.status.showMessage(f"Coach: {text}", 5000)

    @staticmethod
    def default_report_dir() -> Path:
        from core_models.library import user_data_dir

        return user_data_dir() / "coach_reports"

    def _browse_source(self) -> None:
        if self.source_kind.currentIndex() == 2:
            path = QFileDialog.getExistingDirectory(self, "Image folder")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Video file", "", "Videos (*.mp4 *.avi *.mov *.mkv *.webm)")
        if path:
            self.path_edit.setText(path)

    def _browse_report_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the session reports", self.report_dir.text())
        if path:
            self.report_dir.setText(path)

    # --- targets and the routine ------------------------------------------------------------------------------
    def reload_targets(self) -> None:
        """Fill the target list: every library pose (built-in, user, captured), the editor's pose, a file."""
        from core_models import library

        keep = self.target_combo.currentData()
        self.target_combo.clear()
        try:
            entries = library.load_library()
        except Exception as e:  # noqa: BLE001 - a broken library still leaves the other choices
            entries = []
            self._set_status(f"pose library unavailable: {e}")
        for e in entries:
            self.target_combo.addItem(f"{e.name}" + ("" if e.builtin else f"  ({e.category})"), ("lib", e))
        for key, p in self._files.items():
            self.target_combo.addItem(f"File: {Path(key).name}", ("pose", (Path(key).stem, p)))
        self.target_combo.addItem("Current pose (the editor's)", CURRENT)
        self.target_combo.addItem("Pose file…", FILE)
        idx = self.target_combo.findData(keep) if keep is not None else -1
        tree = next((i for i in range(self.target_combo.count())
                     if isinstance(self.target_combo.itemData(i), tuple)
                     and getattr(self.target_combo.itemData(i)[1], "slug", "") == "tree"), 0)
        self.target_combo.setCurrentIndex(idx if idx >= 0 else tree)
        self._show_target_preview()

    def _on_target_choice(self, i: int) -> None:
        if self.target_combo.itemData(i) == FILE:
            path, _ = QFileDialog.getOpenFileName(self, "Target pose file", "", "Poses (*.npz *.json)")
            if path:
                self.add_pose_file(path)
        self._show_target_preview()

    def add_pose_file(self, path: str) -> bool:
        """Read a pose file and make it the picked target (a clear message when it is not a pose)."""
        try:
            pf = self.ctx.services.read_pose_file(path)
        except Exception as e:  # noqa: BLE001 - PoseFileError and OSError: shown, nothing lost
            self._set_status(f"cannot use {Path(path).name} as a target: {e}")
            return False
        self._files[str(path)] = pf.pose
        self.reload_targets()
        self.target_combo.setCurrentIndex(self.target_combo.findText(f"File: {Path(path).name}"))
        self._show_target_preview()
        return True

    def picked_target(self):
        """The CoachTarget of the target picker (raises CoachError / ValueError with a message)."""
        from core_models.coach.targets import CoachError, CoachTarget, target_from_library

        data = self.target_combo.currentData()
        hold = float(self.hold_spin.value())
        if data == CURRENT:
            return CoachTarget("Current pose", self.ctx.document.pose().copy(), hold)
        if not isinstance(data, tuple):
            raise CoachError("pick a target pose first")
        kind, item = data
        if kind == "lib":
            if item.builtin:
                try:
                    t = target_from_library(item.slug, hold)
                    t.name = item.name.split(" (")[0]
                    return t
                except CoachError:
                    pass
            return CoachTarget(item.name, item.pose, hold)
        name, pose = item
        return CoachTarget(name, pose, hold)

    def _show_target_preview(self) -> None:
        if self.running:
            return
        try:
            t = self.picked_target()
        except ValueError:
            return
        self.view.set_target(t.pose)

    def add_to_routine(self) -> None:
        try:
            t = self.picked_target()
        except ValueError as e:
            self._set_status(str(e))
            return
        self._add_step(t)

    def _add_step(self, target) -> None:
        it = QListWidgetItem()
        it.setData(Qt.ItemDataRole.UserRole, target)
        self.routine_list.addItem(it)
        self._label_step(it)
        self.routine_list.setCurrentItem(it)

    @staticmethod
    def _label_step(it: QListWidgetItem) -> None:
        t = it.data(Qt.ItemDataRole.UserRole)
        it.setText(f"{t.name} — hold {t.hold_s:g} s")

    def routine_targets(self) -> list:
        return [self.routine_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.routine_list.count())]

    def remove_step(self) -> None:
        row = self.routine_list.currentRow()
        if row >= 0:
            self.routine_list.takeItem(row)

    def move_step(self, delta: int) -> None:
        row = self.routine_list.currentRow()
        new = row + delta
        if row < 0 or not 0 <= new < self.routine_list.count():
            return
        it = self.routine_list.takeItem(row)
        self.routine_list.insertItem(new, it)
        self.routine_list.setCurrentRow(new)

    def _on_routine_row(self, row: int) -> None:
        if row < 0:
            return
        t = self.routine_list.item(row).data(Qt.ItemDataRole.UserRole)
        self.hold_spin.blockSignals(True)
        self.hold_spin.setValue(float(t.hold_s))
        self.hold_spin.blockSignals(False)
        if not self.running:
            self.view.set_target(t.pose)

    def _on_hold_changed(self, value: float) -> None:
        it = self.routine_list.currentItem()
        if it is not None:
            it.data(Qt.ItemDataRole.UserRole).hold_s = float(value)
            self._label_step(it)

    def routine(self):
        """The Routine to run: the list, or the picked target alone when the list is empty."""
        from core_models.coach.targets import Routine

        steps = self.routine_targets()
        if steps:
            return Routine("Routine", steps)
        t = self.picked_target()
        return Routine(t.name, [t])

    def load_routine_file(self, path: str) -> bool:
        from core_models.coach.targets import load_routine

        try:
            r = load_routine(path)
        except ValueError as e:
            self._set_status(str(e))
            return False
        self.routine_list.clear()
        for t in r.targets:
            self._add_step(t)
        self._set_status(f"routine '{r.name}': {len(r.targets)} targets")
        return True

    def save_routine_file(self, path: str) -> bool:
        from core_models.coach.targets import Routine, save_routine

        steps = self.routine_targets()
        if not steps:
            self._set_status("the routine is empty: add targets first")
            return False
        try:
            save_routine(Routine(Path(path).stem, steps), path)
        except ValueError as e:
            self._set_status(str(e))
            return False
        self._set_status(f"routine saved to {path}")
        return True

    def _ask_load_routine(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load routine", "", "Routines (*.json)")
        if path:
            self.load_routine_file(path)

    def _ask_save_routine(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save routine", "routine.json", "Routines (*.json)")
        if path:
            self.save_routine_file(path)

    # --- mute, mirror, full window ----------------------------------------------------------------------------
    def toggle_mute(self) -> None:
        self.mute_btn.toggle()

    def set_muted(self, on: bool) -> None:
        self.speaker.set_muted(bool(on))
        if self.mute_btn.isChecked() != bool(on):
            self.mute_btn.setChecked(bool(on))
        self.mute_btn.setText("Unmute (M)" if on else "Mute (M)")
        self.ctx.status.showMessage("Coach: speech muted" if on else "Coach: speech on", 3000)
        self.muteChanged.emit(bool(on))

    @property
    def muted(self) -> bool:
        return self.speaker.muted

    def _on_mirror(self, on: bool) -> None:
        self._mirror = bool(on)
        self.view.mirror = bool(on)
        self.view.update()

    def toggle_full_window(self) -> None:
        from app.coach_window import CoachWindow

        if self.full_window is not None and self.full_window.isVisible():
            self.full_window.close()
            return
        if self.full_window is None:
            self.full_window = CoachWindow(self)
        self.full_window.open_full()

    # --- running ---------------------------------------------------------------------------------------------
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

    def make_engine(self, routine):
        """The engine for a session (``services.coach_engine``), with the session's MediaPipe variant for its target
        templates. Mirror is a display option here (the camera picture is not flipped, so the engine compares the
        body as captured and the words name the user's own sides)."""
        from core_models.coach.engine import Strictness

        return self.ctx.services.coach_engine(routine, strictness=Strictness(self.strictness.currentText()),
                                              corrector=self.corrector.currentText(),
                                              variant=self.model.currentText(), **self.engine_options)

    def start(self) -> bool:
        """Start a session; False (with the reason shown) when the target or the engine cannot be made."""
        if self.running:
            return False
        try:
            routine = self.routine()
            engine = self.make_engine(routine)
        except Exception as e:  # noqa: BLE001 - CoachError, a missing engine: shown, never a crash
            self._set_status(f"cannot start: {e}")
            return False
        source = self.make_source()
        self._stop.clear()
        self.timeline = []
        self.states_shown = 0
        self._colours.reset()
        self._target_index = -1
        self.latencies_ms.clear()
        self._shown_t.clear()
        self.report = self.report_paths = None
        self.open_report_btn.setEnabled(False)
        self.report_label.setText("")
        self._routine_len = len(routine.targets)
        self._template_status = None
        self.template_label.setText("")
        self.start_btn.setText("Stop")
        self._set_status(f"starting {source.description}…")
        vp = self.ctx.viewport
        if getattr(vp, "_software_gl", False) and getattr(vp, "aa_samples", 0):
            self._saved_aa, vp.aa_samples = vp.aa_samples, 0  # no extra anti-aliased frame after each update
        self._worker = run_in_background(self._loop, source, engine, self.model.currentText(),
                                         self.regressor.currentText(), on_result=self._on_result,
                                         on_error=self._on_error, on_finished=self._on_finished)
        return True

    def stop(self) -> None:
        self._stop.set()

    def skip(self) -> None:
        with self._lock:
            self._commands.append("skip")

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop and wait for the coach thread (window closing, tests)."""
        self.stop()
        t0 = time.monotonic()
        while self._worker is not None and time.monotonic() - t0 < timeout:
            QCoreApplication.processEvents()
            time.sleep(0.01)

    def _open_pipeline(self, source, variant: str, regressor: str):
        mode = "image" if source.kind == "images" else "video"
        pipe = self.ctx.services.capture_pipeline(variant, regressor, mode)
        counter = _CountingDetector(pipe.detector, variant)
        pipe.detector = counter
        return pipe, counter

    def _loop(self, source, engine, variant: str, regressor: str):
        """Coach thread: source → capture pipeline → engine; hands the newest state to the GUI; returns the
        engine's session report."""
        from core_models.capture.pipeline import run_source

        try:
            pipe, counter = self._open_pipeline(source, variant, regressor)
        except Exception:
            source.close()
            raise
        try:
            self._warm_up(engine)
            if not source.open():
                self.statusChanged.emit(source.status + (" — retrying" if source.retries else ""))
                if not source.retries:
                    return engine.report
            else:
                self.statusChanged.emit(f"{source.status} · pose from {pipe.regressor.name}")
            for r in run_source(pipe, source, should_stop=self._stop.is_set, keep_frames=True, overlap=True):
                if self._step(engine, r, counter.count(r.timestamp)):
                    break
            if source.finished:
                self.statusChanged.emit(source.status)
            return engine.report
        finally:
            pipe.close()
            source.close()

    def _warm_up(self, engine) -> None:
        """Load the learned corrector before the first frame (coach thread): loading it at the first correction
        stalled the coaching for seconds (7.8 s measured). A failure only means the rules are used."""
        learned = getattr(engine, "learned", None)
        load = getattr(learned, "_load", None)
        if callable(load):
            self.statusChanged.emit("loading the learned corrector…")
            if not load():
                self.statusChanged.emit(f"learned corrector unavailable, using the rules: {learned.error}")

    def _step(self, engine, r, n_people: int) -> bool:
        """One frame through the engine (coach thread). Returns True when the routine is finished."""
        self._run_commands(engine)
        if r.notice:  # a one-time note from the capture, e.g. why the geometric fallback is used (no weights)
            self.statusChanged.emit(r.notice)
        t_engine = time.perf_counter()
        state = engine.update(float(r.timestamp), r.pose, r.landmarks, n_people=n_people,
                              confidence=float(r.confidence) if r.pose is not None else 0.0)
        self._send_template_status(engine)
        if self._target_index != state.target_index:  # a new target: its colours at once
            self._target_index = state.target_index
            self._colours.reset()
        state = dataclasses.replace(state, joint_status=self._colours.update(state.t, state.joint_status))
        if len(self.timeline) < MAX_TIMELINE:
            self.timeline.append(state_summary(state))
        if state.speak:
            self.speaker.say(state.message)
        preview = _downscale(r.frame)
        r.frame = None
        with self._lock:
            self._latest = (preview, state, r, t_engine)
            notify = not self._pending
            self._pending = True
        if notify:
            self.frameReady.emit()
        return phase_name(state.phase) == "finished"

    def _send_template_status(self, engine) -> None:
        """The engine's template status / notice to the GUI when it changed (coach thread)."""
        text = getattr(engine, "template_status", None)
        notice = bool(getattr(engine, "template_notice", None))  # update() may set it a frame after the status
        if text and (text, notice) != self._template_status:
            self._template_status = (text, notice)
            self.templateStatusChanged.emit(text, notice)

    def _run_commands(self, engine) -> None:
        with self._lock:
            cmds, self._commands = self._commands, []
        for c in cmds:
            if c == "skip":
                engine.skip()

    # --- the GUI side ------------------------------------------------------------------------------------------
    def _on_frame(self) -> None:
        with self._lock:
            item, self._latest, self._pending = self._latest, None, False
        if item is None:
            return
        preview, state, r, t_engine = item
        self.show_state(state, frame_to_qimage(preview) if preview is not None else None)
        now = time.perf_counter()
        # frame → landmarks → pose (capture's own total) + engine → hand-off → painted
        self.latencies_ms.append(float(r.timings_ms.get("total", 0.0)) + (now - t_engine) * 1000.0)
        self._shown_t.append(now)
        n = len(self._shown_t)
        fps = (n - 1) / (self._shown_t[-1] - self._shown_t[0]) if n > 1 and self._shown_t[-1] > self._shown_t[0] else 0
        _set_text(self.readout, f"{fps:4.1f} fps · latency {self.latencies_ms[-1]:.0f} ms (frame to score on screen)")

    def show_state(self, state, preview=None) -> None:
        """Paint one CoachState (GUI thread); only widgets whose text changes are touched."""
        self.last_state = state
        self.states_shown += 1
        phase = phase_name(state.phase)
        _set_text(self.message_label, state.message or "")
        _set_text(self.source_label, source_text(state.instruction))
        _set_text(self.score_label, "—" if state.score is None else f"{state.score:.0f}")
        _set_text(self.timer_label, hold_text(state))
        self.hold_bar.setValue(int(1000 * min(1.0, state.hold_elapsed / max(state.hold_target, 1e-6))))
        _set_text(self.reason_label, reason_text(state))
        _set_text(self.help_label, PHASE_HELP.get(phase, ""))
        n = self._routine_len
        _set_text(self.target_label, f"Target {state.target_index + 1}"
                  + (f" of {n}" if n else "") + f": {state.target_name}")
        self.view.show_state(state, preview, self._mirror)
        now = time.perf_counter()
        if self.on_body.isChecked() and (now - self._body_t >= BODY_UPDATE_S or not self.running):
            self._body_t = now
            self._show_on_body(state)
        if self.full_window is not None:
            self.full_window.show_state(state, preview)
        self.stateShown.emit(state)

    def _show_on_body(self, state) -> None:
        """The live pose on the 3D body (the document's placement; the document itself is not changed), its
        joints coloured, and the target as a ghost body where the viewport can draw one."""
        vp = self.ctx.viewport
        transl = self.ctx.document.pose().transl.copy()
        if state.live_pose is not None:
            pose = state.live_pose.copy()
            pose.transl = transl
            vp.set_pose(pose)
        vp.set_joint_colors(status_colors(state.joint_status))
        set_ghost = getattr(vp, "set_ghost_pose", None)
        if set_ghost is not None and state.aligned_target is not None:
            ghost = state.aligned_target.copy()
            ghost.transl = transl
            set_ghost(ghost)

    def _restore_body(self) -> None:
        vp = self.ctx.viewport
        if self._saved_aa is not None:
            vp.aa_samples, self._saved_aa = self._saved_aa, None
        vp.set_joint_colors({})
        vp.set_pose(self.ctx.document.pose())
        set_ghost = getattr(vp, "set_ghost_pose", None)
        if set_ghost is not None:
            set_ghost(None)

    def _on_error(self, e: BaseException) -> None:
        self._set_status(f"coach stopped: {e}")
        _set_text(self.message_label, f"The coach stopped: {e}")

    def _on_result(self, report) -> None:
        self.report = report
        self.save_report(report)

    def _on_finished(self) -> None:
        self._worker = None
        self.start_btn.setText("Start")
        if self._latest is not None:
            self._on_frame()
        self._restore_body()
        self.sessionEnded.emit()

    # --- the session report ------------------------------------------------------------------------------------
    def save_report(self, report) -> None:
        """Save ``report`` into a new time-stamped folder under the chosen report folder (in the background)."""
        if report is None:
            return
        folder = Path(self.report_dir.text().strip() or self.default_report_dir()) / time.strftime("%Y%m%d-%H%M%S")
        self.report_label.setText(f"saving the session report to {folder}…")
        run_in_background(save_report_files, report, folder,
                          on_result=lambda paths: self._on_report_saved(folder, paths),
                          on_error=lambda e: self.report_label.setText(f"the session report was not saved: {e}"))

    def _on_report_saved(self, folder: Path, paths) -> None:
        self.report_paths = paths
        html = report_html(paths, folder)
        self._report_html = html
        self.open_report_btn.setEnabled(html is not None)
        note = f" (without the summary picture: {paths['png_error']})" if "png_error" in paths else ""
        self.report_label.setText(f"Session report saved in {folder}{note}"
                                  + (" — open it to see the summary." if html is not None else ""))
        self.ctx.status.showMessage(f"Coach: session report saved in {folder}", 8000)
        self.reportSaved.emit(paths)
        if self.full_window is not None:
            self.full_window.show_report(folder, html)

    def open_report(self) -> bool:
        html = self._report_html
        if html is None:
            return False
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(html))))

    def _on_quit(self) -> None:
        self.stop()
        self.speaker.close()

    def closeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        self.stop()
        self.speaker.close()
        super().closeEvent(ev)


REPORT_CHILD = r"""
import sys
from core_models.coach.report import add_summary_picture
print("PNG " + str(add_summary_picture(sys.argv[1])))
"""


def save_report_files(report, folder: Path, timeout: float = 300.0) -> dict:
    """Write the session report (worker thread): JSON, npz and HTML here, then the summary picture. The picture is
    rendered with the headless GL renderer, which must not share a process with Qt's GL (PyOpenGL picks one platform
    per process): so a child Python (EGL) reads the saved JSON + npz back (plain data, nothing unpickled) and adds it.
    Where there is none (the frozen bundle) or it fails, the report stays without the picture and ``png_error`` in
    the returned paths says why."""
    import subprocess
    import sys

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = dict(report.save(folder, images=False))
    why = "no separate Python to render the summary picture in (frozen bundle)"
    if not getattr(sys, "frozen", False):
        env = dict(os.environ, PYOPENGL_PLATFORM=os.environ.get("POSETAILOR_HEADLESS_GL", "egl"))
        try:
            r = subprocess.run([sys.executable, "-c", REPORT_CHILD, str(folder)], cwd=str(ROOT), env=env,
                               capture_output=True, text=True, timeout=timeout)
            line = next((x for x in r.stdout.splitlines() if x.startswith("PNG ")), None)
            if r.returncode == 0 and line is not None:
                paths["png"] = Path(line[4:])
                return paths
            why = f"the report process failed (exit {r.returncode}): {r.stderr.strip()[-300:]}"
        except (OSError, subprocess.SubprocessError) as e:
            why = f"the report process failed: {e}"
    log.warning("coach report: %s; saved without the summary picture", why)
    paths["png_error"] = why
    return paths


def _set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


def source_text(instruction) -> str:
    """Which coach wrote the current correction."""
    if instruction is None:
        return ""
    return "from the learned corrector" if instruction.source == "learned" else "from the rule-based coach"


def hold_text(state) -> str:
    return f"Hold {state.hold_elapsed:.1f} / {state.hold_target:.0f} s"


def reason_text(state) -> str:
    phase = phase_name(state.phase)
    if phase == "holding":
        return "Holding — the timer is counting."
    if phase in ("complete", "finished"):
        return "Done!" if phase == "finished" else "Hold complete."
    why = state.hold_blocked_reason or ""
    why = why[len("paused:"):].strip() if why.lower().startswith("paused:") else why
    return f"Timer paused: {why}" if why else ""


def report_html(paths, folder: Path) -> Path | None:
    """The HTML file among whatever ``report.save`` returned (a dict, a list, a path), or one in ``folder``."""
    vals = list(paths.values()) if isinstance(paths, dict) else list(paths) if isinstance(paths, (list, tuple)) \
        else [paths]
    for v in vals:
        if isinstance(v, Path) and str(v).endswith(".html"):
            return Path(v)
    found = sorted(Path(folder).glob("*.html"))
    return found[0] if found else None


