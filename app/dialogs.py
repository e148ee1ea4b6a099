"""Every user-facing dialog of the main window in one place (tests replace :class:`Dialogs` with a recorder):
message boxes, file choosers, the restore / save-changes questions, About and the data and licence notice."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

APP_NAME = "PoseTailor"
APP_VERSION = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent
OPEN_FILTER = "Poses and sessions (*.npz *.json);;AMASS-style pose (*.npz);;PoseTailor session (*.json);;All files (*)"
SAVE_FILTER_NPZ = "AMASS-style pose (*.npz)"
SAVE_FILTER_SESSION = "PoseTailor session with keyframes (*.json)"
MOCAP_FILTER = ("Motion capture (*.bvh *.fbx *.glb *.gltf *.amc *.txt *.csv *.json);;BVH (*.bvh);;"
                "FBX (*.fbx);;glTF (*.glb *.gltf);;ASF/AMC (*.amc);;"
                "CMU exp-map (*.txt *.csv);;DeepMimic (*.json *.txt);;All files (*)")
NOTICE_FILES = ("docs/DATA_NOTICE.md", "DATA_NOTICE.md", "resources/DATA_NOTICE.md", "resources/LICENSES.md")
NOTICE_FALLBACK = ("The Anny body model (Apache-2.0 code, CC0 MakeHuman assets) ships with PoseTailor. "
                   "Official SMPL-H model files are never shipped; if you use them, their licence applies.")


class Dialogs:
    """The real dialogs (modal Qt boxes)."""

    def error(self, parent, title: str, text: str) -> None:
        QMessageBox.critical(parent, title, text)

    def info(self, parent, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def ask_restore(self, parent, when: str, detail: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?",
                          f"PoseTailor did not shut down properly last time.\n\n"
                          f"Restore unsaved work from {when}?", parent=parent)
        box.setInformativeText(detail)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Restore")
        box.button(QMessageBox.StandardButton.No).setText("Don't restore")
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        return box.exec() == QMessageBox.StandardButton.Yes

    def ask_save_changes(self, parent, name: str) -> str:
        r = QMessageBox.question(parent, "Unsaved changes", f"Save the changes to {name} before closing?",
                                 QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                                 | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(r, "cancel")

    def open_smplh(self, parent, directory: str) -> str | None:
        f, _ = QFileDialog.getOpenFileName(parent, "Choose the SMPL-H model file", directory,
                                           "SMPL-H model (*.npz);;All files (*)")
        return f or None

    def open_file(self, parent, directory: str) -> str | None:
        f, _ = QFileDialog.getOpenFileName(parent, "Open pose", directory, OPEN_FILTER)
        return f or None

    def open_mocap(self, parent, directory: str) -> str | None:
        f, _ = QFileDialog.getOpenFileName(parent, "Import motion capture", directory, MOCAP_FILTER)
        return f or None

    def save_file(self, parent, suggested: str) -> str | None:
        f, flt = QFileDialog.getSaveFileName(parent, "Save pose as", suggested,
                                             f"{SAVE_FILTER_NPZ};;{SAVE_FILTER_SESSION}")
        if not f:
            return None
        if not Path(f).suffix:
            f += ".json" if flt == SAVE_FILTER_SESSION else ".npz"
        return f

    def get_text(self, parent, title: str, label: str, text: str = "") -> str | None:
        s, ok = QInputDialog.getText(parent, title, label, text=text)
        return s if ok else None


def torch_device() -> str:
    """"cuda" or "cpu" (only asks torch when it is already imported: never slows the start down)."""
    torch = sys.modules.get("torch")
    try:
        return "cuda" if torch is not None and torch.cuda.is_available() else "cpu"
    except Exception:  # noqa: BLE001 - a broken CUDA set-up still runs on the CPU
        return "cpu"


def show_about(parent: QWidget) -> None:
    from PySide6 import QtCore

    QMessageBox.about(parent, f"About {APP_NAME}",
                      f"<h3>{APP_NAME} {APP_VERSION}</h3>"
                      "<p>Offline editor for 3D human body poses: SMPL-H body pose on the open "
                      "<b>Anny</b> body model (Apache-2.0 code, CC0 assets).</p>"
                      f"<p>Python {sys.version.split()[0]} · Qt {QtCore.qVersion()} · device {torch_device()}</p>"
                      "<p>Licensed under Apache-2.0. See Help → Data and licence notice.</p>")


def data_notice_text() -> str:
    for rel in NOTICE_FILES:
        cand = ROOT / rel
        if cand.is_file():
            try:
                return cand.read_text(encoding="utf-8")
            except OSError:
                continue
    return NOTICE_FALLBACK


def show_data_notice(parent: QWidget) -> None:
    dlg = QDialog(parent)
    dlg.setWindowTitle("Data and licence notice")
    lay = QVBoxLayout(dlg)
    tb = QTextBrowser()
    tb.setOpenExternalLinks(True)
    text = data_notice_text()
    if text is NOTICE_FALLBACK:
        tb.setPlainText(text)
    else:
        tb.setMarkdown(text)
    lay.addWidget(tb)
    bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    bb.rejected.connect(dlg.reject)
    lay.addWidget(bb)
    dlg.resize(720, 560)
    dlg.exec()
