"""Fixtures for the app tests: one QApplication (offscreen when there is no X display), isolated data and
config folders, a tiny synthetic body, helpers to pump the event loop."""
from __future__ import annotations

import os

import pytest

HAS_X = bool(os.environ.get("DISPLAY")) and os.environ.get("QT_QPA_PLATFORM", "xcb") not in ("offscreen", "minimal")


@pytest.fixture(scope="session")
def qapp():
    """One QApplication for the session. Without a display the non-GL widget tests run on the offscreen
    platform (GL tests are skipped there); under xvfb-run they use xcb."""
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["posetailor-tests"])
    yield app


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Autosaves, settings, window state and the user library go to the test's tmp folder."""
    monkeypatch.setenv("POSETAILOR_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("POSETAILOR_CONFIG", str(tmp_path / "config"))
