"""Hands panel: SMPL-H finger poses — presets, mirror, per-finger curl, spread — for the left, right or both hands.

A thin Qt shell over :mod:`core_models.hands`: every change builds the new pose there and goes through
``Document.push_pose`` (one undo step; all values of one slider drag, or keyboard steps on one slider in a row,
merge into one step like the Properties panel's sliders). The sliders follow the current pose (they show the
curl / spread of the selected hand; "Both" shows the left hand's).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core_models import hands as H

SLIDER_MAX = 100  # curl / spread in percent
_SIDE_LABEL = {"left": "left hand", "right": "right hand", "both": "both hands"}


class HandsPanel(QWidget):
    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.doc = ctx.document
        self.side = "both"
        self._updating = False
        self._drag_id = 0
        self._drag_key: tuple | None = None
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self._build_sides())
        lay.addWidget(self._build_presets())
        lay.addWidget(self._build_library())
        lay.addWidget(self._build_sliders())
        lay.addLayout(self._build_actions())
        lay.addWidget(self.status)
        lay.addStretch(1)
        self.doc.poseChanged.connect(lambda _p: self.refresh())
        self.refresh()

    # --- widgets ---------------------------------------------------------------------------------------------
    def _build_sides(self) -> QWidget:
        box = QGroupBox("Hand")
        row = QHBoxLayout(box)
        self.side_group = QButtonGroup(self)
        self.side_buttons: dict[str, QRadioButton] = {}
        for s in H.HAND_SIDES:
            b = QRadioButton(s.capitalize())
            b.setObjectName(f"hands_side_{s}")
            b.setChecked(s == self.side)
            b.toggled.connect(lambda on, s=s: on and self.set_side(s))
            self.side_group.addButton(b)
            self.side_buttons[s] = b
            row.addWidget(b)
        return box

    def _build_presets(self) -> QWidget:
        box = QGroupBox("Presets")
        grid = QGridLayout(box)
        self.preset_buttons: dict[str, QPushButton] = {}
        for i, (name, label) in enumerate(H.PRESET_LABELS.items()):
            b = QPushButton(label)
            b.setObjectName(f"hands_preset_{name}")
            b.setToolTip(f"{label} for the selected hand(s)")
            b.clicked.connect(lambda _c=False, n=name: self.apply_preset(n))
            grid.addWidget(b, i // 3, i % 3)
            self.preset_buttons[name] = b
        return box

    def _build_library(self) -> QWidget:
        box = QGroupBox("My hand presets (pose library)")
        row = QHBoxLayout(box)
        self.library_combo = QComboBox()
        self.library_combo.setObjectName("hands_library_combo")
        self.library_combo.setToolTip("Hand presets saved in the pose library (category 'hands')")
        self.library_combo.setPlaceholderText("none saved yet")
        self.btn_library_apply = QPushButton("Apply")
        self.btn_library_apply.setObjectName("hands_library_apply")
        self.btn_library_apply.clicked.connect(lambda: self.apply_library_preset(self.library_combo.currentIndex()))
        self.btn_library_save = QPushButton("Save…")
        self.btn_library_save.setObjectName("hands_library_save")
        self.btn_library_save.setToolTip("Save the current hands as a preset in the pose library")
        self.btn_library_save.clicked.connect(self._ask_save_preset)
        row.addWidget(self.library_combo, 1)
        row.addWidget(self.btn_library_apply)
        row.addWidget(self.btn_library_save)
        self._library: list[tuple[str, np.ndarray]] = []
        self.reload_library()
        return box

    def reload_library(self) -> None:
        try:
            self._library = H.library_hand_presets()
        except Exception as e:  # a broken library never breaks the panel
            self._library = []
            self.status.setText(f"Could not read the pose library: {e}")
        self.library_combo.clear()
        for name, _hp in self._library:
            self.library_combo.addItem(name)
        self.btn_library_apply.setEnabled(bool(self._library))

    def apply_library_preset(self, index: int) -> bool:
        if not 0 <= index < len(self._library):
            return False
        name, hp = self._library[index]
        return self._push(H.apply_hand_preset(self._hands(), hp, self.side),
                          f"Hands: {name} ({_SIDE_LABEL[self.side]})")

    def save_preset(self, name: str) -> bool:
        """Save the current hands as a hand preset in the user's pose library."""
        from core_models.library import LibraryError

        try:
            H.save_hand_preset(name, self._hands())
        except (LibraryError, ValueError) as e:
            self.status.setText(f"Not saved: {e}")
            return False
        self.status.setText(f"Saved hand preset {name.strip()!r} to the pose library.")
        self.reload_library()
        self.ctx.library.reload()
        return True

    def _ask_save_preset(self) -> None:
        name, ok = QInputDialog.getText(self, "Save hand preset", "Name of the hand preset:")
        if ok:
            self.save_preset(name)

    def _slider(self, name: str, lo: int, tip: str) -> QSlider:
        s = QSlider(Qt.Orientation.Horizontal)
        s.setObjectName(f"hands_slider_{name}")
        s.setRange(lo, SLIDER_MAX)
        s.setSingleStep(2)
        s.setPageStep(10)
        s.setToolTip(tip)
        s.sliderPressed.connect(self._on_slider_pressed)
        s.sliderReleased.connect(self._on_slider_released)
        s.valueChanged.connect(lambda v, n=name: self._on_slider(n, v))
        return s

    def _build_sliders(self) -> QWidget:
        box = QGroupBox("Curl")
        grid = QGridLayout(box)
        self.sliders: dict[str, QSlider] = {}
        rows = [("hand", "Whole hand")] + [(f, f.capitalize()) for f in H.FINGERS_ANATOMICAL] + [("spread", "Spread")]
        for r, (name, label) in enumerate(rows):
            lo = int(round(H.SPREAD_RANGE[0] * SLIDER_MAX)) if name == "spread" else int(round(H.CURL_MIN * SLIDER_MAX))
            tip = ("Spread the fingers (0 = as at rest, negative = together)" if name == "spread"
                   else f"Bend {'every finger' if name == 'hand' else 'the ' + label.lower()} (0 flat, 100 fully bent)")
            grid.addWidget(QLabel(label), r, 0)
            self.sliders[name] = self._slider(name, lo, tip)
            grid.addWidget(self.sliders[name], r, 1)
        return box

    def _build_actions(self) -> QGridLayout:
        grid = QGridLayout()
        specs = [("mirror_lr", "Mirror L → R", "Copy the left hand onto the right, mirrored",
                  lambda: self.mirror("left")),
                 ("mirror_rl", "Mirror R → L", "Copy the right hand onto the left, mirrored",
                  lambda: self.mirror("right")),
                 ("flat", "Flat", "Flat hand(s): every finger joint at zero", self.flatten),
                 ("clear", "Clear hands", "Remove the hand pose (the body's own relaxed hands; exports without "
                  "finger bones)", self.clear)]
        self.action_buttons: dict[str, QPushButton] = {}
        for i, (name, label, tip, fn) in enumerate(specs):
            b = QPushButton(label)
            b.setObjectName(f"hands_{name}")
            b.setToolTip(tip)
            b.clicked.connect(lambda _c=False, fn=fn: fn())
            grid.addWidget(b, i // 2, i % 2)
            self.action_buttons[name] = b
        return grid

    # --- state -----------------------------------------------------------------------------------------------
    def _hands(self) -> np.ndarray:
        return H.hands_of(self.doc.pose())

    def _push(self, hand_pose: np.ndarray | None, text: str, key=None) -> bool:
        try:
            new = H.with_hands(self.doc.pose(), hand_pose)
        except ValueError as e:
            self.status.setText(str(e))
            return False
        return self.doc.push_pose(new, text, key)

    def set_side(self, side: str) -> None:
        if side not in H.HAND_SIDES:
            raise ValueError(f"unknown side {side!r}")
        self.side = side
        if not self.side_buttons[side].isChecked():
            self.side_buttons[side].setChecked(True)
        self.refresh()

    def refresh(self) -> None:
        """Sliders show the selected hand's curl and spread (the left hand's for 'both')."""
        hp = self._hands()
        none = self.doc.pose().hand_pose is None
        self.status.setText("No hand pose: the body shows its own relaxed hands (the sliders start from flat)."
                            if none else "")
        s = "left" if self.side == "both" else self.side
        values = {f: H.finger_curl(hp, s, f) for f in H.FINGERS}
        values["hand"] = float(np.mean([values[f] for f in H.FINGERS]))
        values["spread"] = H.hand_spread(hp, s)
        self._updating = True
        try:
            for name, sl in self.sliders.items():
                if not sl.isSliderDown():
                    sl.setValue(int(round(values[name] * SLIDER_MAX)))
        finally:
            self._updating = False

    # --- edits -----------------------------------------------------------------------------------------------
    def apply_preset(self, name: str) -> bool:
        hp = H.preset_hand_pose(name, self.side, base=self._hands())
        return self._push(hp, f"Hands: {H.PRESET_LABELS[name]} ({_SIDE_LABEL[self.side]})")

    def mirror(self, source: str) -> bool:
        other = "right" if source == "left" else "left"
        return self._push(H.mirror_hand(self._hands(), source), f"Hands: mirror {source} → {other}")

    def flatten(self) -> bool:
        hp = self._hands()
        for s in (H.SIDES if self.side == "both" else (self.side,)):
            hp[H._slice(s)] = 0.0
        return self._push(hp, f"Hands: flat ({_SIDE_LABEL[self.side]})")

    def clear(self) -> bool:
        if self.doc.pose().hand_pose is None:
            return False
        return self._push(None, "Hands: clear")

    def set_curl(self, name: str, value: float, key=None) -> bool:
        """``name``: a finger, 'hand' (every finger) or 'spread'; value in [CURL_MIN, 1] ([-0.4, 1] spread)."""
        hp = self._hands()
        if name == "spread":
            new = H.set_spread(hp, self.side, value)
            text = f"Hands: spread ({_SIDE_LABEL[self.side]})"
        elif name == "hand":
            new = H.set_hand_curl(hp, self.side, value)
            text = f"Hands: curl ({_SIDE_LABEL[self.side]})"
        else:
            new = H.set_finger_curl(hp, self.side, name, value)
            text = f"Hands: curl {name} ({_SIDE_LABEL[self.side]})"
        return self._push(new, text, key)

    def _on_slider_pressed(self) -> None:
        self._drag_id += 1
        self._drag_key = ("hands-drag", self._drag_id)

    def _on_slider_released(self) -> None:
        self._drag_key = None

    def _on_slider(self, name: str, v: int) -> None:
        if self._updating:
            return
        sl = self.sliders[name]
        if sl.isSliderDown() and self._drag_key is not None:
            key = self._drag_key
        else:  # keyboard / page steps on one slider merge while nothing else happens in between
            key = ("hands-step", name, self.side)
        self.set_curl(name, v / SLIDER_MAX, key)
