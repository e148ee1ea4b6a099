"""Light/dark theme that follows the OS (Fusion style; a dark palette when the OS asks for dark mode)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(35, 37, 41), QColor(47, 50, 55), QColor(226, 228, 232)
    dis = QColor(128, 130, 136)
    accent = QColor(64, 136, 222)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Window, window)
        p.setColor(group, QPalette.ColorRole.WindowText, text)
        p.setColor(group, QPalette.ColorRole.Base, base)
        p.setColor(group, QPalette.ColorRole.AlternateBase, window)
        p.setColor(group, QPalette.ColorRole.ToolTipBase, QColor(60, 63, 70))
        p.setColor(group, QPalette.ColorRole.ToolTipText, text)
        p.setColor(group, QPalette.ColorRole.PlaceholderText, dis)
        p.setColor(group, QPalette.ColorRole.Text, text)
        p.setColor(group, QPalette.ColorRole.Button, window)
        p.setColor(group, QPalette.ColorRole.ButtonText, text)
        p.setColor(group, QPalette.ColorRole.BrightText, QColor(255, 90, 90))
        p.setColor(group, QPalette.ColorRole.Highlight, accent)
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
        p.setColor(group, QPalette.ColorRole.Link, accent.lighter(130))
        p.setColor(group, QPalette.ColorRole.Light, QColor(70, 73, 80))
        p.setColor(group, QPalette.ColorRole.Midlight, QColor(58, 61, 67))
        p.setColor(group, QPalette.ColorRole.Mid, QColor(40, 42, 46))
        p.setColor(group, QPalette.ColorRole.Dark, QColor(25, 26, 29))
        p.setColor(group, QPalette.ColorRole.Shadow, QColor(10, 10, 12))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, dis)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, window)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, window)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(80, 80, 85))
    return p


def os_prefers_dark() -> bool:
    try:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # pragma: no cover - Qt < 6.5
        return False


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def apply_theme(app: QApplication, mode: str = "system") -> str:
    """Fusion + the OS palette; dark palette for "dark" or when the OS prefers dark. Returns the mode used."""
    app.setStyle("Fusion")
    dark = mode == "dark" or (mode == "system" and os_prefers_dark())
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    if mode == "system" and not getattr(app, "_posetailor_theme_hooked", False):
        try:
            QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _s: apply_theme(app, "system"))
            app._posetailor_theme_hooked = True  # type: ignore[attr-defined]
        except AttributeError:  # pragma: no cover
            pass
    return "dark" if dark else "light"
