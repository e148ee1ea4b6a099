"""Properties panel: joint tree, per-joint X/Y/Z Euler sliders + spin boxes (degrees, intrinsic XYZ),
root orientation + translation, mirror / reset joint / reset pose, joint-limits toggle.

The panel never changes the document itself: it emits ``poseEdited(new_pose, text, merge_key)`` and the
main window pushes an undoable command. All values of one slider drag carry the same ``merge_key`` so
the drag becomes a single undo step.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core_models import skeleton as sk
from core_models.pose import (Pose, euler_xyz_deg_to_matrix_np, limit_euler_deg, limit_violation_deg, matrix_to_aa_np,
                              mirror)

AXES = ("X", "Y", "Z")
SLIDER_SCALE = 10  # slider units per degree (0.1° resolution)
AXIS_HINTS = ("X: bend forward/back (pitch)", "Y: twist (yaw)", "Z: sideways (roll)")


#: The joint list, grouped by body part (parents before children inside a group).
JOINT_GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("Root", (0,)),
    ("Spine and head", tuple(sk.JOINT_INDEX[n] for n in ("spine1", "spine2", "spine3", "neck", "head"))),
    ("Left arm", sk.BODY_PARTS["left_arm"]),
    ("Right arm", sk.BODY_PARTS["right_arm"]),
    ("Left leg", sk.BODY_PARTS["left_leg"]),
    ("Right leg", sk.BODY_PARTS["right_leg"]),
)


def pretty_joint(j: int) -> str:
    return sk.JOINT_NAMES[j].replace("_", " ").capitalize()


def reset_body(pose: Pose) -> Pose:
    """All joint rotations to zero (T-pose); root orientation, translation (and hands) are kept."""
    p = pose.copy()
    p.body_pose[...] = 0.0
    return p


def reset_joint(pose: Pose, j: int) -> Pose:
    return pose.with_joint(j, np.zeros(3, np.float32))


def display_euler(aa: np.ndarray, j: int) -> np.ndarray:
    """Euler triple (degrees) for a joint's axis-angle, choosing the decomposition that fits the joint's
    limits best (the same choice as the limit check in core_models.pose)."""
    full = np.zeros((22, 3), np.float64)
    full[j] = np.asarray(aa, np.float64)
    return limit_euler_deg(full)[j]


class PropertiesPanel(QWidget):
    poseEdited = Signal(object, str, object)  # new Pose, undo text, merge key (None = own step)
    jointSelected = Signal(int)
    limitsToggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pose = Pose.zeros()
        self._joint = -1
        self._limits = True
        self._euler = np.zeros((sk.NUM_JOINTS, 3), np.float64)  # the triple shown per joint
        self._emitted: Pose | None = None  # the last pose we produced (keeps our Euler triple stable)
        self._drag_id = 0
        self._drag_key = None
        self._updating = False
        self._build()
        self.set_pose(self._pose)
        self.set_selected_joint(-1)

    # --- construction
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        lay.addWidget(self._build_tree(), 3)
        lay.addWidget(self._build_joint_box())
        lay.addWidget(self._build_root_box())
        self._build_pose_buttons(lay)

    def _build_tree(self) -> QTreeWidget:
        """The joint list, grouped by body part."""
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Joint", "Rotation"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setMinimumHeight(160)
        self.tree.setIndentation(14)
        self._items: list[QTreeWidgetItem] = [None] * sk.NUM_JOINTS  # type: ignore[list-item]
        for group, joints in JOINT_GROUPS:
            g = QTreeWidgetItem([group, ""])
            g.setFlags(Qt.ItemFlag.ItemIsEnabled)
            f = g.font(0)
            f.setBold(True)
            g.setFont(0, f)
            self.tree.addTopLevelItem(g)
            for j in joints:
                it = QTreeWidgetItem([pretty_joint(j), ""])
                it.setData(0, Qt.ItemDataRole.UserRole, j)
                it.setToolTip(0, f"{sk.JOINT_NAMES[j]} (child of {sk.JOINT_NAMES[sk.PARENTS[j]]})"
                              if sk.PARENTS[j] >= 0 else "pelvis: the root of the skeleton")
                it.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                g.addChild(it)
                self._items[j] = it
        self.tree.expandAll()
        self.tree.currentItemChanged.connect(self._on_tree_current)
        return self.tree

    def _build_joint_box(self) -> QGroupBox:
        """Slider + spin box per Euler axis of the selected joint, limit note, reset joint."""
        self.joint_box = QGroupBox("Joint rotation (°, intrinsic XYZ)")
        g = QGridLayout(self.joint_box)
        g.setColumnStretch(1, 1)
        self.sliders: list[QSlider] = []
        self.spins: list[QDoubleSpinBox] = []
        for a, name in enumerate(AXES):
            lab = QLabel(name)
            lab.setToolTip(AXIS_HINTS[a])
            s = QSlider(Qt.Orientation.Horizontal)
            s.setToolTip(AXIS_HINTS[a])
            s.setSingleStep(SLIDER_SCALE)
            s.setPageStep(10 * SLIDER_SCALE)
            s.sliderPressed.connect(self._on_slider_pressed)
            s.sliderReleased.connect(self._on_slider_released)
            s.valueChanged.connect(lambda v, a=a: self._on_slider(a, v))
            sp = QDoubleSpinBox()
            sp.setDecimals(1)
            sp.setSuffix("°")
            sp.setKeyboardTracking(False)
            sp.setMinimumWidth(78)
            sp.valueChanged.connect(lambda v, a=a: self._on_spin(a, v))
            g.addWidget(lab, a, 0)
            g.addWidget(s, a, 1)
            g.addWidget(sp, a, 2)
            self.sliders.append(s)
            self.spins.append(sp)
        self.limit_label = QLabel("")
        self.limit_label.setWordWrap(True)
        g.addWidget(self.limit_label, 3, 0, 1, 3)
        self.reset_joint_button = QPushButton("Reset joint")
        self.reset_joint_button.setToolTip("Set the selected joint's rotation to zero")
        self.reset_joint_button.clicked.connect(self.reset_selected_joint)
        g.addWidget(self.reset_joint_button, 4, 0, 1, 3)
        return self.joint_box

    def _build_root_box(self) -> QGroupBox:
        """Root orientation (Euler °) and translation (m) spin boxes."""
        root = QGroupBox("Root (whole body)")
        f = QGridLayout(root)
        for a, name in enumerate(AXES):
            h = QLabel(name)
            h.setAlignment(Qt.AlignmentFlag.AlignCenter)
            f.addWidget(h, 0, 1 + a)
        f.addWidget(QLabel("Orientation"), 1, 0)
        f.addWidget(QLabel("Position"), 2, 0)
        self.root_spins: list[QDoubleSpinBox] = []
        self.transl_spins: list[QDoubleSpinBox] = []
        for a, name in enumerate(AXES):
            r = QDoubleSpinBox()
            r.setRange(-180.0, 180.0)
            r.setDecimals(1)
            r.setSuffix("°")
            r.setWrapping(True)
            r.setKeyboardTracking(False)
            r.setToolTip(f"Root orientation, intrinsic-XYZ Euler {name} (degrees)")
            r.valueChanged.connect(lambda v, a=a: self._on_root_spin(a, v))
            t = QDoubleSpinBox()
            t.setRange(-10.0, 10.0)
            t.setDecimals(3)
            t.setSingleStep(0.01)
            t.setSuffix(" m")
            t.setKeyboardTracking(False)
            t.setToolTip(f"Root translation {name} (metres)")
            t.valueChanged.connect(lambda v, a=a: self._on_transl_spin(a, v))
            for w in (r, t):
                w.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                w.setMinimumWidth(60)
            f.addWidget(r, 1, 1 + a)
            f.addWidget(t, 2, 1 + a)
            self.root_spins.append(r)
            self.transl_spins.append(t)
        return root

    def _build_pose_buttons(self, lay: QVBoxLayout) -> None:
        """Pose-wide: mirror, reset pose, joint limits."""
        row = QHBoxLayout()
        self.mirror_button = QPushButton("Mirror pose (L↔R)")
        self.mirror_button.setToolTip("Swap left and right sides of the pose")
        self.mirror_button.clicked.connect(self.mirror_pose)
        self.reset_pose_button = QPushButton("Reset pose")
        self.reset_pose_button.setToolTip("All joints back to the T-pose (root orientation and position kept)")
        self.reset_pose_button.clicked.connect(self.reset_pose)
        row.addWidget(self.mirror_button)
        row.addWidget(self.reset_pose_button)
        lay.addLayout(row)
        self.limits_check = QCheckBox("Anatomical joint limits")
        self.limits_check.setToolTip("Restrict the sliders to each joint's anatomical range "
                                     "(off: ±180° on every axis)")
        self.limits_check.setChecked(True)
        self.limits_check.toggled.connect(self._on_limits_toggled)
        lay.addWidget(self.limits_check)

    # --- public API
    def pose(self) -> Pose:
        return self._pose.copy()

    def selected_joint(self) -> int:
        return self._joint

    def limits_enabled(self) -> bool:
        return self._limits

    def set_pose(self, pose: Pose) -> None:
        """Show ``pose`` (the document's or a drag preview). Emits nothing."""
        pose = pose.copy()
        full = pose.full().astype(np.float64)
        if self._emitted is not None and np.array_equal(pose.full(), self._emitted.full()):
            pass  # our own edit coming back: keep the Euler triples the user is dragging
        else:
            old_full = self._pose.full()
            for j in range(sk.NUM_JOINTS):
                if not np.array_equal(full[j], old_full[j]) or not np.any(self._euler[j]) and np.any(full[j]):
                    self._euler[j] = display_euler(full[j], j)
            self._emitted = None
        self._pose = pose
        self._refresh_values()

    def set_selected_joint(self, j: int) -> None:
        j = int(j) if 0 <= int(j) < sk.NUM_JOINTS else -1
        changed = j != self._joint
        self._joint = j
        self._updating = True
        try:
            if j < 0:
                self.tree.setCurrentItem(None)
                self.tree.clearSelection()
            else:
                self.tree.setCurrentItem(self._items[j])
        finally:
            self._updating = False
        self.joint_box.setTitle(f"{pretty_joint(j)} rotation (°, intrinsic XYZ)" if j >= 0
                                else "Joint rotation — select a joint")
        for w in (*self.sliders, *self.spins, self.reset_joint_button):
            w.setEnabled(j >= 0)
        self._refresh_ranges()
        self._refresh_values()
        if changed:
            self.jointSelected.emit(j)

    def set_limits_enabled(self, on: bool) -> None:
        if self.limits_check.isChecked() != bool(on):
            self.limits_check.setChecked(bool(on))  # → _on_limits_toggled
        else:
            self._limits = bool(on)
            self._refresh_ranges()
            self._refresh_values()

    def mirror_pose(self) -> None:
        self._emit(mirror(self._pose), "Mirror pose", None)

    def reset_pose(self) -> None:
        self._emit(reset_body(self._pose), "Reset pose", None)

    def reset_selected_joint(self) -> None:
        if self._joint >= 0:
            self._emit(reset_joint(self._pose, self._joint), f"Reset {pretty_joint(self._joint)}", None)

    # --- internals
    def _emit(self, new: Pose, text: str, key) -> None:
        self._emitted = new.copy()
        self.poseEdited.emit(new, text, key)

    def _range(self, j: int, a: int) -> tuple[float, float]:
        if j <= 0 or not self._limits:
            return -180.0, 180.0
        lo, hi = sk.JOINT_LIMITS_DEG[j, a]
        return float(lo), float(hi)

    def _refresh_ranges(self) -> None:
        self._updating = True
        try:
            for a in range(3):
                lo, hi = self._range(max(self._joint, 0), a) if self._joint >= 0 else (-180.0, 180.0)
                self.sliders[a].setRange(int(round(lo * SLIDER_SCALE)), int(round(hi * SLIDER_SCALE)))
                self.spins[a].setRange(lo, hi)
                self.spins[a].setWrapping(self._joint == 0 or not self._limits)
        finally:
            self._updating = False

    def _refresh_values(self) -> None:
        self._updating = True
        try:
            j = self._joint
            e = self._euler[j] if j >= 0 else np.zeros(3)
            for a in range(3):
                self.sliders[a].setValue(int(round(e[a] * SLIDER_SCALE)))
                self.spins[a].setValue(float(e[a]))
            for a in range(3):
                self.root_spins[a].setValue(float(self._euler[0, a]))
                self.transl_spins[a].setValue(float(self._pose.transl[a]))
            viol = limit_violation_deg(self._pose)
            red = QBrush(QColor(220, 60, 50))
            normal = self.palette().brush(QPalette.ColorRole.Text)
            for jj, it in enumerate(self._items):
                bad = jj > 0 and viol[jj] > 0.5
                it.setForeground(0, red if bad else normal)
                it.setText(1, _short_angle(self._pose.full()[jj]))
            if j > 0 and viol[j] > 0.5:
                self.limit_label.setText(f"<span style='color:#d33'>Outside its anatomical range by "
                                         f"{viol[j]:.0f}°.</span>")
            elif j >= 0 and not self._limits and j > 0:
                self.limit_label.setText("Limits off: ±180° on every axis.")
            else:
                self.limit_label.setText("")
        finally:
            self._updating = False

    def _on_tree_current(self, cur: QTreeWidgetItem | None, _prev) -> None:
        if self._updating:
            return
        data = None if cur is None else cur.data(0, Qt.ItemDataRole.UserRole)
        self.set_selected_joint(-1 if data is None else int(data))

    def _on_limits_toggled(self, on: bool) -> None:
        self._limits = bool(on)
        self._refresh_ranges()
        self._refresh_values()
        self.limitsToggled.emit(self._limits)

    def _on_slider_pressed(self) -> None:
        self._drag_id += 1
        self._drag_key = ("slider-drag", self._drag_id)

    def _on_slider_released(self) -> None:
        self._drag_key = None

    def _set_joint_euler(self, j: int, a: int, deg: float, key, what: str) -> None:
        e = self._euler[j].copy()
        if abs(e[a] - deg) < 1e-9:
            return
        e[a] = deg
        self._euler[j] = e
        aa = matrix_to_aa_np(euler_xyz_deg_to_matrix_np(np.asarray(e, np.float64))).astype(np.float32)  # no torch
        new = self._pose.with_joint(j, aa)
        self._emit(new, f"Rotate {pretty_joint(j)} {AXES[a]}{' ' + what if what else ''}", key)

    def _on_slider(self, a: int, v: int) -> None:
        if self._updating or self._joint < 0:
            return
        j = self._joint
        if self.sliders[a].isSliderDown() and self._drag_key is not None:
            key = self._drag_key
        else:  # keyboard / page steps on the same axis merge while nothing else happens in between
            key = ("slider-step", j, a)
        self._set_joint_euler(j, a, v / SLIDER_SCALE, key, "")

    def _on_spin(self, a: int, v: float) -> None:
        if self._updating or self._joint < 0:
            return
        self._set_joint_euler(self._joint, a, float(v), None, "")

    def _on_root_spin(self, a: int, v: float) -> None:
        if self._updating:
            return
        self._set_joint_euler(0, a, float(v), None, "")

    def _on_transl_spin(self, a: int, v: float) -> None:
        if self._updating:
            return
        p = self._pose.copy()
        if abs(float(p.transl[a]) - v) < 5e-4:
            return
        p.transl[a] = v
        self._emit(p, f"Move root {AXES[a]}", None)


def _short_angle(aa: np.ndarray) -> str:
    ang = float(np.degrees(np.linalg.norm(aa)))
    return f"{ang:.0f}°" if ang >= 0.5 else ""
