"""Dock widgets of the main window: side panels scroll instead of forcing their full height on the window."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

_SIDES = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)


def add_dock(window: QMainWindow, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
    """A movable, floatable, closable dock around ``widget`` in ``area``. Left/right panels sit in a scroll area,
    so stacked panels never make the window taller than a laptop screen (their full heights summed to 1011 px)."""
    d = QDockWidget(title, window)
    d.setObjectName(name)
    if area in _SIDES:
        scroll = QScrollArea()
        scroll.setObjectName(f"{name}_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        d.setWidget(scroll)
    else:
        d.setWidget(widget)
    d.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                  | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                  | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(area, d)
    return d
