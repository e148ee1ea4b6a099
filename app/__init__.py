"""PoseTailor desktop app (PySide6 only): main window, viewport, panels, undo commands, workers.

Entry point: ``app.main_window.run_app(files)``. Everything Qt-free lives in ``core_models``."""
