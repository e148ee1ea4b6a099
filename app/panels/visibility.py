"""Is a dock panel really on screen? Qt keeps every tabbed dock widget "visible" (``isVisible()`` is True and
no show/hide events come when the user switches tabs; the hidden tabs are only moved off screen), so panels
that load a model or compute something only while the user looks at them watch their dock's
``visibilityChanged`` through :func:`watch_visibility`."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDockWidget, QWidget

_WATCHED = "_visibility_watched"


def dock_of(w: QWidget) -> QDockWidget | None:
    p = w.parentWidget()
    while p is not None and not isinstance(p, QDockWidget):
        p = p.parentWidget()
    return p


def on_screen(w: QWidget) -> bool:
    """Shown and not in a background dock tab."""
    if not w.isVisible():
        return False
    dock = dock_of(w)
    return dock is None or not w.visibleRegion().isEmpty()


def watch_visibility(w: QWidget, callback: Callable[[bool], None]) -> None:
    """Call from the panel's showEvent: ``callback(True)`` once the panel is really on screen (now or when its
    dock tab is selected later), ``callback(False)`` when its dock tab is hidden again."""
    dock = dock_of(w)
    if dock is not None and not w.property(_WATCHED):
        w.setProperty(_WATCHED, True)
        dock.visibilityChanged.connect(callback)
    QTimer.singleShot(0, lambda: on_screen(w) and callback(True))
