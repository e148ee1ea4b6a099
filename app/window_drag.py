"""The main window's drag-pose side (a mixin of :class:`app.main_window.MainWindow`): the "Drag pose" and "Clear
pins" actions, the viewport's drag messages in the status bar, and the learned auto-poser loaded in a worker the
first time the mode is turned on (until it arrives, or when it cannot load, the viewport solves by optimisation
alone and says so)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.workers import run_in_background

if TYPE_CHECKING:
    from app.main_window import MainWindow

    _Base = MainWindow
else:
    _Base = object

MISSING_NOTE = "(optimisation only: autopose weights missing)"


class DragPoseMixin(_Base):
    _autoposer_state: str = ""  # "" never asked, "loading", "ready", "missing"

    def _connect_drag_pose(self) -> None:
        vp: Any = self.viewport
        self.acts["clear_pins"].setEnabled(False)
        if not hasattr(vp, "dragStatus"):
            return
        vp.dragStatus.connect(self._show_drag_status)
        vp.pinsChanged.connect(lambda pins: self.acts["clear_pins"].setEnabled(bool(pins)))

    def _show_drag_status(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text, 10000)
        else:
            self.statusBar().clearMessage()

    def set_drag_pose(self, on: bool) -> None:
        """Drag-pose mode of the viewport (the "Drag pose" action, key D)."""
        vp: Any = self.viewport
        if not hasattr(vp, "set_drag_mode"):
            if on:
                self.statusBar().showMessage("Drag pose needs the 3D viewport, which is not available here", 8000)
                act = self.acts["drag_pose"]
                act.blockSignals(True)
                act.setChecked(False)
                act.blockSignals(False)
            return
        vp.set_drag_mode(on)
        if on:
            self._load_autoposer()

    def clear_drag_pins(self) -> None:
        clear = getattr(self.viewport, "clear_pins", None)
        if clear is not None:
            clear()

    def _load_autoposer(self) -> None:
        """Ask the services for the auto-posing network once, in a worker (loading may import torch)."""
        if self._autoposer_state:
            return
        vp: Any = self.viewport
        loader = getattr(self.services, "autoposer", None)
        if loader is None:
            self._autoposer_state = "missing"
            vp.set_autoposer(None, MISSING_NOTE)
            return
        self._autoposer_state = "loading"
        run_in_background(loader, on_result=self._autoposer_loaded, on_error=self._autoposer_failed)

    def _autoposer_loaded(self, autoposer: Any) -> None:
        self._autoposer_state = "ready" if autoposer is not None else "missing"
        self.viewport.set_autoposer(autoposer, None if autoposer is not None else MISSING_NOTE)  # type: ignore

    def _autoposer_failed(self, e: BaseException) -> None:
        """services.autoposer() raised (ModelUnavailable: weights missing or unusable): optimisation only."""
        self._autoposer_state = "missing"
        missing = isinstance(e, FileNotFoundError) or "missing" in str(e).lower()
        note = MISSING_NOTE if missing else f"(optimisation only: autopose unavailable: {str(e)[:120]})"
        self.viewport.set_autoposer(None, note)  # type: ignore[attr-defined]
        self.statusBar().showMessage(f"Drag pose {note}: {str(e)[:200]}", 10000)
