"""Body panel: Anny phenotype sliders (height, weight, gender, muscle, age, proportions).

Moving a slider emits ``phenotypeEdited(dict)`` once the drag ends (or ~0.4 s after keyboard steps); the
main window pushes an undoable PhenotypeCommand and rebuilds the body in a worker while ``set_busy`` shows
an indeterminate progress bar here.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core_models.session import PHENOTYPE_KEYS, default_phenotype

#: (key, label, left hint, right hint) in display order
SLIDERS = (
    ("height", "Height", "short", "tall"),
    ("weight", "Weight", "light", "heavy"),
    ("gender", "Gender", "female", "male"),
    ("muscle", "Muscle", "low", "high"),
    ("age", "Age", "young", "old"),
    ("proportions", "Proportions", "uncommon", "ideal"),
)
SCALE = 100


class BodyPanel(QWidget):
    phenotypeEdited = Signal(object)  # dict of all phenotype values
    backendRequested = Signal(str)  # "anny" | "smplh"
    smplhFileRequested = Signal()  # the user wants to pick (another) SMPL-H model file

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._ph = default_phenotype()
        self._updating = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        brow = QHBoxLayout()
        brow.addWidget(QLabel("Body model"))
        self.backend_combo = QComboBox()
        self.backend_combo.addItem("Anny (open, built in)", "anny")
        self.backend_combo.addItem("SMPL-H (your model file)", "smplh")
        self.backend_combo.setToolTip("Anny ships with PoseTailor. SMPL-H needs the official model file, "
                                      "which you download yourself under its own licence.")
        self.backend_combo.activated.connect(
            lambda i: self.backendRequested.emit(self.backend_combo.itemData(i)))
        brow.addWidget(self.backend_combo, 1)
        self.smplh_button = QPushButton("Model file…")
        self.smplh_button.setToolTip("Choose the SMPL-H model file (.npz)")
        self.smplh_button.clicked.connect(self.smplhFileRequested)
        brow.addWidget(self.smplh_button)
        lay.addLayout(brow)
        self.backend_label = QLabel("")
        self.backend_label.setWordWrap(True)
        lay.addWidget(self.backend_label)
        box = QGroupBox("Shape (Anny phenotype)")
        form = QFormLayout(box)
        self.sliders: dict[str, QSlider] = {}
        self.value_labels: dict[str, QLabel] = {}
        for key, label, lo, hi in SLIDERS:
            s = QSlider(Qt.Orientation.Horizontal)
            s.setRange(0, SCALE)
            s.setSingleStep(1)
            s.setPageStep(10)
            s.setToolTip(f"{label}: 0 = {lo}, 100 = {hi}")
            s.valueChanged.connect(lambda v, k=key: self._on_value(k, v))
            s.sliderReleased.connect(self._commit)
            v = QLabel("50")
            v.setMinimumWidth(28)
            v.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            row = QHBoxLayout()
            row.addWidget(s, 1)
            row.addWidget(v)
            form.addRow(label, row)
            self.sliders[key] = s
            self.value_labels[key] = v
        lay.addWidget(box)
        row = QHBoxLayout()
        self.reset_button = QPushButton("Default body")
        self.reset_button.setToolTip("Back to the neutral adult (all values 50)")
        self.reset_button.clicked.connect(self.reset)
        row.addWidget(self.reset_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(True)
        self.busy.setFormat("Rebuilding the body…")
        self.busy.setVisible(False)
        lay.addWidget(self.busy)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addStretch(1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(400)
        self._timer.timeout.connect(self._commit)
        self.set_phenotype(self._ph)

    def phenotype(self) -> dict[str, float]:
        return {k: self.sliders[k].value() / SCALE for k in PHENOTYPE_KEYS}

    def set_phenotype(self, ph: dict[str, float]) -> None:
        """Show ``ph`` without emitting."""
        self._ph = dict(default_phenotype(), **ph)
        self._updating = True
        try:
            for k, s in self.sliders.items():
                s.setValue(int(round(self._ph[k] * SCALE)))
                self.value_labels[k].setText(str(s.value()))
        finally:
            self._updating = False

    def set_backend(self, name: str, detail: str = "") -> None:
        """Show the active backend (emits nothing); the shape sliders only apply to Anny."""
        anny = name == "anny"
        i = self.backend_combo.findData(name)
        if i >= 0:
            self.backend_combo.setCurrentIndex(i)
        self.backend_label.setText(detail or ("Anny: open body model (Apache-2.0 code, CC0 assets)." if anny else
                                              "SMPL-H: shape is fixed by the model file (sliders off)."))
        for s in self.sliders.values():
            s.setEnabled(anny)
        self.reset_button.setEnabled(anny)

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.busy.setVisible(busy)
        self.status.setText(text)

    def reset(self) -> None:
        self.set_phenotype(default_phenotype())
        self._commit()

    def _on_value(self, key: str, v: int) -> None:
        self.value_labels[key].setText(str(v))
        if self._updating:
            return
        if not self.sliders[key].isSliderDown():
            self._timer.start()  # keyboard / click steps: commit after a short pause

    def _commit(self) -> None:
        self._timer.stop()
        ph = self.phenotype()
        if any(abs(ph[k] - self._ph[k]) > 1e-9 for k in PHENOTYPE_KEYS):
            self._ph = ph
            self.phenotypeEdited.emit(dict(ph))
