"""Entry point of the desktop bundle (PyInstaller runs this as ``__main__``).

Same command line as ``python main.py``: the GUI without arguments, ``PoseTailor <command> …`` for the headless
commands. Two things a frozen executable cannot do by itself are handled here:

* ``PoseTailor -m <module> args…`` runs a module of the app as a script — the app starts helpers with
  ``[sys.executable, "-m", …]`` (e.g. the thumbnail renderer when Qt has no GL context in a thread);
* ``PoseTailor path/to/main.py args…`` (a re-run of ``main.py`` with ``sys.executable``) drops the script path.

For packaging/smoke_test.sh only: with ``POSETAILOR_SMOKE_SHOT=<png>`` set, the GUI prints ``BODY_FRAME <epoch s>``
at the first viewport frame that shows the body, saves a screenshot of the screen there and exits.
"""
from __future__ import annotations

import multiprocessing
import os
import runpy
import sys


def _smoke_probe(shot: str) -> None:
    import time

    import app.viewport.widget as W
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    original = W.Viewport.paintGL
    state = {"seen": False}

    def finish() -> None:
        ok = QGuiApplication.primaryScreen().grabWindow(0).save(shot)
        print(f"SCREENSHOT {shot} {'saved' if ok else 'FAILED'}", flush=True)
        os._exit(0 if ok else 1)

    def paintGL(self) -> None:
        original(self)
        if state["seen"]:
            return
        if getattr(self, "_body", None) is None or not getattr(self, "_gl_ok", False):
            QTimer.singleShot(0, self.update)  # keep drawing until the body is there
            return
        state["seen"] = True
        print(f"BODY_FRAME {time.time():.3f}", flush=True)
        QTimer.singleShot(500, finish)

    W.Viewport.paintGL = paintGL


def _run() -> int:
    argv = sys.argv[1:]
    if len(argv) >= 2 and argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    if argv and os.path.basename(argv[0]) == "main.py":
        argv = argv[1:]
    shot = os.environ.get("POSETAILOR_SMOKE_SHOT")
    if shot and not argv:
        _smoke_probe(shot)
    import main

    return main.main(argv)


if __name__ == "__main__":
    if not getattr(sys, "frozen", False):  # run from the source tree (packaging/bench_start.py): the repository root
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    multiprocessing.freeze_support()
    sys.exit(_run())
