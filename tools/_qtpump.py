"""Shared by the screenshot tools: run the Qt event loop for a while or until a condition holds."""
from __future__ import annotations

import time


def pump(app, seconds: float = 0.0, until=None, timeout: float = 60.0) -> bool:
    """Process events for ``seconds`` (or until ``until()`` is true); False when ``timeout`` ran out first."""
    t0 = time.time()
    while True:
        app.processEvents()
        if until is not None and until():
            return True
        if until is None and time.time() - t0 >= seconds:
            return True
        if time.time() - t0 > timeout:
            return False
        time.sleep(0.01)
