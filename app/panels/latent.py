"""Latent panel: QPoser part-wise latent control of the current pose.

Per body part (and the global "embodied" code): a *part path* slider that walks through diverse real
configurations of the part, and one *codebook slider* per QPoser head (its codebook entries ordered along a short
path so neighbouring positions decode to similar poses). Dragging decodes live; a drag is one undo step (one
merge key per drag). Lock/unlock parts (random pose, prompting and "resample all" leave locked parts alone),
resample one part, copy a part from a reference pose (library or file), interpolate in latent space towards a
reference pose, random pose (masked transformer, conditioned on the locked parts), text prompt (sets only the
parts the text talks about). Editing a part rewrites only that part's joints; the global code re-decodes all
parts with the same part codes (the GLIF "embodied" effect).

Constructed as ``LatentPanel(ctx)`` (:class:`app.context.PanelContext`). The model comes from the shared model
services (``ctx.services.latent()``), off the GUI thread, when the panel is first on screen; all edits go
through ``ctx.document.push_pose`` (undoable).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.context import PanelContext
from app.panels.visibility import watch_visibility
from core_models.services import PoseFileError

PART_LABELS = {"head": "Head", "torso": "Torso", "left_arm": "Left arm", "right_arm": "Right arm",
               "left_leg": "Left leg", "right_leg": "Right leg", "global": "Global (embodied)"}
#: core_models.nets.qposer.PARTS, spelled out: importing the model package loads torch (seconds), and the panel
#: is built at start-up, before the first frame (tests/app/test_viewport_cold_start.py checks they agree)
PARTS: tuple[str, ...] = ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")


class LatentPanel(QWidget):
    ready = Signal()  # the model finished loading (tests wait on it)

    def __init__(self, ctx: PanelContext, editor=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.doc = ctx.document
        self.editor = None
        self._codes: np.ndarray | None = None
        self._pose_of_codes = None  # the document pose the codes describe (None: re-encode before use)
        self._pushing = False
        self._drag_id = 0
        self._drag_key = None
        self._updating = False
        self.locked: set[str] = set()
        self.last_update_ms = 0.0
        self._rng = np.random.default_rng()
        self._refs: list = []
        self._build()
        self.doc.poseChanged.connect(self._on_doc_pose)
        self._worker = None
        self._prompt_job = None
        if editor is not None:
            self._on_loaded(editor)
        else:
            self.status.setText("The QPoser model loads when this panel is first shown.")

    # --- UI ----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.status = QLabel("Loading the QPoser model…")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

        row = QHBoxLayout()
        row.addWidget(QLabel("Part"))
        self.part_combo = QComboBox()
        for g in PARTS + ("global",):
            self.part_combo.addItem(PART_LABELS[g], g)
        self.part_combo.currentIndexChanged.connect(self._rebuild_sliders)
        row.addWidget(self.part_combo, 1)
        self.lock_box = QCheckBox("Locked")
        self.lock_box.setToolTip("Locked parts keep their codes under Random pose, Resample all and text prompts")
        self.lock_box.toggled.connect(self._on_lock)
        row.addWidget(self.lock_box)
        lay.addLayout(row)
        self.locked_label = QLabel("Locked: none")
        lay.addWidget(self.locked_label)

        self.path_slider = QSlider(Qt.Orientation.Horizontal)
        self.path_slider.setToolTip("Walk through diverse real configurations of this part")
        self._wire(self.path_slider, self._on_path_slider)
        pl = QFormLayout()
        pl.addRow("Part path", self.path_slider)
        lay.addLayout(pl)

        box = QGroupBox("Codebook sliders (one per head)")
        bl = QVBoxLayout(box)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.head_host = QWidget()
        self.head_grid = QGridLayout(self.head_host)
        self.head_grid.setContentsMargins(0, 0, 0, 0)
        self.scroll.setWidget(self.head_host)
        bl.addWidget(self.scroll)
        lay.addWidget(box, 1)
        self.head_sliders: list[QSlider] = []

        br = QHBoxLayout()
        self.resample_btn = QPushButton("Resample part")
        self.resample_btn.clicked.connect(self.resample_part)
        br.addWidget(self.resample_btn)
        self.random_btn = QPushButton("Random pose")
        self.random_btn.setToolTip("New codes for every unlocked part (and the global code unless locked)")
        self.random_btn.clicked.connect(self.random_pose)
        br.addWidget(self.random_btn)
        lay.addLayout(br)
        self.floor_box = QCheckBox("Keep feet on the floor")
        self.floor_box.setChecked(True)
        self.floor_box.setToolTip("After each latent edit the body moves up or down so that its lowest joint stays "
                                  "at the height it had: bent legs lower the body instead of lifting the feet")
        lay.addWidget(self.floor_box)

        self._build_reference_and_prompt(lay)
        self._interp_from = None
        self._set_enabled(False)

    def _build_reference_and_prompt(self, lay: QVBoxLayout) -> None:
        ref = QGroupBox("Reference pose")
        rl = QGridLayout(ref)
        self.ref_combo = QComboBox()
        rl.addWidget(self.ref_combo, 0, 0, 1, 2)
        self.file_btn = QPushButton("File…")
        self.file_btn.clicked.connect(self._pick_file)
        rl.addWidget(self.file_btn, 0, 2)
        self.copy_btn = QPushButton("Copy part from reference")
        self.copy_btn.clicked.connect(self.copy_part)
        rl.addWidget(self.copy_btn, 1, 0, 1, 3)
        rl.addWidget(QLabel("Interpolate"), 2, 0)
        self.interp_slider = QSlider(Qt.Orientation.Horizontal)
        self.interp_slider.setRange(0, 100)
        self.interp_slider.setToolTip("Current pose → reference pose through the latent space")
        self._wire(self.interp_slider, self._on_interp)
        rl.addWidget(self.interp_slider, 2, 1, 1, 2)
        lay.addWidget(ref)

        pr = QHBoxLayout()
        self.prompt_edit = QLineEdit()
        self.prompt_edit.setPlaceholderText("e.g. the left arm is raised above the head")
        self.prompt_edit.returnPressed.connect(self.apply_prompt)
        pr.addWidget(self.prompt_edit, 1)
        self.prompt_btn = QPushButton("Prompt")
        self.prompt_btn.clicked.connect(self.apply_prompt)
        pr.addWidget(self.prompt_btn)
        lay.addLayout(pr)

    def _wire(self, s: QSlider, slot) -> None:
        s.sliderPressed.connect(self._on_pressed)
        s.sliderReleased.connect(self._on_released)
        s.valueChanged.connect(slot)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.part_combo, self.lock_box, self.path_slider, self.resample_btn, self.random_btn,
                  self.ref_combo, self.file_btn, self.copy_btn, self.interp_slider, self.prompt_edit,
                  self.prompt_btn, self.floor_box):
            w.setEnabled(on)
        if on and self.editor is not None and self.editor.prompter is None:
            self.prompt_edit.setEnabled(False)
            self.prompt_btn.setEnabled(False)
            self.prompt_edit.setPlaceholderText("prompt model not available")

    # --- loading -------------------------------------------------------------------------------------------
    def ensure_loaded(self) -> None:
        """Start loading the shared QPoser runtime (once, off the GUI thread) unless it is already there."""
        if self.editor is not None or self._worker is not None:
            return
        from app.workers import run_in_background

        self.status.setText("Loading the QPoser model…")
        self._worker = run_in_background(self.ctx.services.latent, on_result=self._on_loaded, on_error=self._on_error)

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt override
        super().showEvent(ev)
        # lazy: the model is not loaded before the user opens the dock (a faster start)
        watch_visibility(self, lambda visible: visible and self.ensure_loaded())

    def _on_error(self, e: BaseException) -> None:
        self.status.setText(f"QPoser is unavailable: {e}")

    def _on_loaded(self, editor) -> None:
        self.editor = editor
        extra = []
        if editor.gen is None:
            extra.append(f"no masked transformer, random codes are uniform — {self._why('generator')}")
        if editor.prompter is None:
            extra.append(f"no prompt model — {self._why('prompter')}")
        self.status.setText("QPoser ready: drag a slider to walk through the part's codes."
                            + (" (" + "; ".join(extra) + ")" if extra else ""))
        self._load_refs()
        self._set_enabled(True)
        self._pose_of_codes = None
        self._rebuild_sliders()
        self.ready.emit()

    def _why(self, model: str) -> str:
        st = self.ctx.services.status(model)
        return st if st.startswith("unavailable") else "not loaded"

    def _load_refs(self) -> None:
        from core_models.library import load_library

        try:
            self._refs = [(it.name, it.pose) for it in load_library()]
        except Exception:  # a broken user library never disables the panel
            self._refs = []
        self.ref_combo.clear()
        for name, _ in self._refs:
            self.ref_combo.addItem(name)

    def add_reference(self, name: str, pose) -> None:
        self._refs.append((name, pose))
        self.ref_combo.addItem(name)
        self.ref_combo.setCurrentIndex(self.ref_combo.count() - 1)

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Reference pose", "", "Poses (*.npz *.json)")
        if path:
            self.load_reference_file(path)

    def load_reference_file(self, path: str) -> bool:
        try:
            pose = self.ctx.services.read_pose_file(path).pose
        except PoseFileError as e:
            self.status.setText(f"Cannot read {Path(path).name}: {e}")
            return False
        self.add_reference(Path(path).stem, pose)
        return True

    def reference_pose(self):
        i = self.ref_combo.currentIndex()
        return self._refs[i][1] if 0 <= i < len(self._refs) else None

    # --- state ---------------------------------------------------------------------------------------------
    @property
    def part(self) -> str:
        return self.part_combo.currentData() or "head"

    def codes(self) -> np.ndarray:
        """The codes of the current document pose (re-encoded when the pose changed elsewhere)."""
        if self._codes is None or self._pose_of_codes is None:
            self._codes = self.editor.encode(self.doc.pose())
            self._pose_of_codes = self.doc.pose()
        return self._codes

    def _on_doc_pose(self, pose) -> None:
        if self._pushing:
            return
        self._pose_of_codes = None  # undo/redo or another tool: re-encode
        self._interp_from = None
        if self.editor is not None and not self._slider_down():
            self._refresh_sliders()

    def _slider_down(self) -> bool:
        return self.path_slider.isSliderDown() or self.interp_slider.isSliderDown() or any(
            s.isSliderDown() for s in self.head_sliders)

    def _push(self, codes: np.ndarray, groups, text: str, key=None, body_aa: np.ndarray | None = None) -> bool:
        t0 = time.perf_counter()
        base = self.doc.pose()
        body = self.editor.decode_body(codes) if body_aa is None else body_aa
        new = self.editor.compose(base, body, groups, keep_floor=self.floor_box.isChecked())
        self._pushing = True
        try:
            changed = self.doc.push_pose(new, text, key)
        finally:
            self._pushing = False
        self._codes = np.array(codes, copy=True)
        self._pose_of_codes = self.doc.pose()
        self.last_update_ms = (time.perf_counter() - t0) * 1000
        return changed

    # --- sliders -------------------------------------------------------------------------------------------
    def _rebuild_sliders(self, *_a) -> None:
        if self.editor is None:
            return
        g = self.part
        for s in self.head_sliders:
            s.setParent(None)
            s.deleteLater()
        while self.head_grid.count():
            it = self.head_grid.takeAt(0)
            if it.widget() is not None:
                it.widget().deleteLater()
        self.head_sliders = []
        K = self.editor.codebook_size(g)
        for h in range(self.editor.n_heads(g)):
            s = QSlider(Qt.Orientation.Horizontal)
            s.setRange(0, K - 1)
            s.setPageStep(1)
            s.setToolTip(f"{PART_LABELS[g]} head {h + 1}: {K} codebook entries in slider order")
            self._wire(s, lambda v, h=h: self._on_head_slider(h, v))
            self.head_grid.addWidget(QLabel(f"{h + 1}"), h, 0)
            self.head_grid.addWidget(s, h, 1)
            self.head_sliders.append(s)
        n = len(self.editor.paths.get(g, []))
        self._updating = True
        try:
            self.path_slider.setEnabled(n > 1)
            self.path_slider.setRange(0, max(0, n - 1))  # may clamp the value: no edit from that
            self.lock_box.setChecked(g in self.locked)
        finally:
            self._updating = False
        self.resample_btn.setText("Resample global code" if g == "global" else "Resample part")
        self._refresh_sliders()

    def _refresh_sliders(self) -> None:
        if self.editor is None:
            return
        g = self.part
        codes = self.codes()
        self._updating = True
        try:
            for h, s in enumerate(self.head_sliders):
                s.setValue(self.editor.slider_pos(codes, g, h))
            if len(self.editor.paths.get(g, [])):
                self.path_slider.setValue(self.editor.path_pos(codes, g))
            self.interp_slider.setValue(0)
        finally:
            self._updating = False

    def _on_pressed(self) -> None:
        self._drag_id += 1
        self._drag_key = ("latent-drag", self._drag_id)

    def _on_released(self) -> None:
        self._drag_key = None
        self._interp_from = None
        self._refresh_sliders()

    def _key(self, what):
        return self._drag_key if self._drag_key is not None else ("latent-step", what)

    def _on_head_slider(self, h: int, v: int) -> None:
        if self._updating or self.editor is None:
            return
        g = self.part
        codes = self.editor.set_head(self.codes(), g, h, v)
        self._push(codes, [g], f"Latent: {PART_LABELS[g].lower()} code {h + 1}", self._key((g, h)))

    def _on_path_slider(self, v: int) -> None:
        if self._updating or self.editor is None:
            return
        g = self.part
        codes = self.editor.set_path(self.codes(), g, v)
        self._push(codes, [g], f"Latent: {PART_LABELS[g].lower()} path", self._key((g, "path")))

    def set_head_value(self, h: int, v: int, key=None) -> None:
        """Programmatic slider move (tests, scripting): as if dragged to ``v`` within drag ``key``."""
        self._drag_key = key
        self.head_sliders[h].setValue(v)

    # --- actions ---------------------------------------------------------------------------------------------
    def _on_lock(self, on: bool) -> None:
        if self._updating:
            return
        (self.locked.add if on else self.locked.discard)(self.part)
        names = [PART_LABELS[g] for g in PARTS + ("global",) if g in self.locked]
        self.locked_label.setText("Locked: " + (", ".join(names) if names else "none"))

    def set_locked(self, g: str, on: bool) -> None:
        i = self.part_combo.findData(g)
        self.part_combo.setCurrentIndex(i)
        self.lock_box.setChecked(on)

    def resample_part(self) -> None:
        g = self.part
        codes = self.editor.resample(self.codes(), [g], self._rng)
        self._push(codes, [g], f"Latent: resample {PART_LABELS[g].lower()}")
        self._refresh_sliders()

    def random_pose(self) -> None:
        groups = [g for g in self.editor.groups if g not in self.locked]
        codes = self.editor.resample(self.codes(), groups, self._rng)
        # locked parts keep their codes *and* their joints; every unlocked part is re-decoded
        written = [g for g in PARTS if g not in self.locked] if self.locked else ["global"]
        self._push(codes, written, "Latent: random pose")
        self._refresh_sliders()

    def copy_part(self) -> None:
        ref = self.reference_pose()
        if ref is None:
            return
        g = self.part
        codes = self.editor.copy_part(self.codes(), ref, g)
        self._push(codes, [g], f"Latent: copy {PART_LABELS[g].lower()} from {self.ref_combo.currentText()}")
        self._refresh_sliders()

    def _on_interp(self, v: int) -> None:
        if self._updating or self.editor is None:
            return
        ref = self.reference_pose()
        if ref is None:
            return
        if self._interp_from is None:
            self._interp_from = self.doc.pose()
        body = self.editor.interpolate(self._interp_from, ref, v / 100.0)
        base = self._interp_from
        self._pushing = True
        try:
            self.doc.push_pose(self.editor.compose(base, body, ["global"], keep_floor=self.floor_box.isChecked()),
                               f"Latent: interpolate to {self.ref_combo.currentText()}", self._key("interp"))
        finally:
            self._pushing = False
        self._pose_of_codes = None

    def apply_prompt(self) -> None:
        """Read the prompt in a worker (the refiner decodes hundreds of candidates); the result is applied on the
        GUI thread if the pose has not changed meanwhile."""
        text = self.prompt_edit.text().strip()
        if not text or self.editor is None or self.editor.prompter is None or self._prompt_job is not None:
            return
        from app.workers import run_in_background

        codes0, pose0 = np.array(self.codes(), copy=True), self.doc.pose()
        self.prompt_btn.setEnabled(False)
        self.status.setText(f"Reading “{text}”…")
        self._prompt_job = run_in_background(
            self.editor.prompt, codes0, text,
            on_result=lambda r: self._on_prompt(text, codes0, pose0, r),
            on_error=lambda e: self.status.setText(f"“{text}”: the prompt failed ({e})"),
            on_finished=self._on_prompt_finished)

    def _on_prompt_finished(self) -> None:
        self._prompt_job = None
        self.prompt_btn.setEnabled(self.editor is not None and self.editor.prompter is not None)

    def _on_prompt(self, text: str, codes0: np.ndarray, pose0, result) -> None:
        if not self.doc.pose().allclose(pose0):
            self.status.setText(f"“{text}”: the pose changed while the prompt was read — press Prompt again")
            return
        codes, parts = result
        parts = [p for p in parts if p not in self.locked]
        if not parts:
            self.status.setText(f"“{text}”: no unlocked body part named (try arm, leg, head, back…)")
            return
        final = np.array(codes0, copy=True)
        for p in parts:
            final[self.editor.slice(p)] = codes[self.editor.slice(p)]
        self._push(final, parts, f"Latent prompt: {text}")
        self.status.setText(f"“{text}” set: " + ", ".join(PART_LABELS[p].lower() for p in parts))
        self._refresh_sliders()
