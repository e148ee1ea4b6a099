"""Shared pytest fixtures (keep small; each area adds only what several test files need)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anny_body():
    """The default Anny body (the layer is cached on disk after `main.py warmup`)."""
    from core_models.body import load_body

    return load_body("anny")


@pytest.fixture(scope="session")
def qapp():
    """One QApplication for the whole session (GL widgets need QT_QPA_PLATFORM=xcb under Xvfb)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    yield app

