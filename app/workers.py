"""Run slow work off the GUI thread: ``run_in_background(fn, ...)`` on the global QThreadPool.

The function runs in a pool thread; its result / exception / progress reports come back to the GUI thread
through Qt signals (queued connections). If ``fn`` accepts a ``progress`` keyword it receives a callable
``progress(percent: int, message: str)``; if it accepts ``cancelled`` it receives a callable returning
True once :meth:`Worker.cancel` was called.
"""
from __future__ import annotations

import inspect
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget


class WorkerSignals(QObject):
    result = Signal(object)
    error = Signal(object)  # the exception instance (with .traceback_text)
    progress = Signal(int, str)
    finished = Signal()


class Worker(QRunnable):
    """A QRunnable that calls ``fn(*args, **kwargs)`` and reports through :attr:`signals`."""

    _alive: set["Worker"] = set()  # keep Python wrappers alive until finished

    def __init__(self, fn: Callable[..., Any], *args, **kwargs):
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, dict(kwargs)
        self.signals = WorkerSignals()
        self._cancelled = False
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            params = {}
        if "progress" in params:
            self.kwargs["progress"] = self._report
        if "cancelled" in params:
            self.kwargs["cancelled"] = lambda: self._cancelled

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def is_cancelled(self) -> bool:
        return self._cancelled

    def _report(self, percent: int, message: str = "") -> None:
        self.signals.progress.emit(int(percent), str(message))

    def run(self) -> None:  # pool thread
        try:
            out = self.fn(*self.args, **self.kwargs)
        except BaseException as e:  # noqa: BLE001 - reported to the GUI, never swallowed silently
            e.traceback_text = traceback.format_exc()  # type: ignore[attr-defined]
            self._emit(self.signals.error, e)
        else:
            self._emit(self.signals.result, out)
        finally:
            self._emit(self.signals.finished)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the signal object is gone (the app is shutting down): nobody to tell
            pass


def run_in_background(fn: Callable[..., Any], *args, on_result: Callable[[Any], None] | None = None,
                      on_error: Callable[[BaseException], None] | None = None,
                      on_progress: Callable[[int, str], None] | None = None,
                      on_finished: Callable[[], None] | None = None,
                      pool: QThreadPool | None = None, **kwargs) -> Worker:
    """Start ``fn`` in the thread pool; callbacks run on the GUI thread. Returns the worker."""
    w = Worker(fn, *args, **kwargs)
    q = Qt.ConnectionType.QueuedConnection
    if on_result is not None:
        w.signals.result.connect(on_result, q)
    if on_error is not None:
        w.signals.error.connect(on_error, q)
    if on_progress is not None:
        w.signals.progress.connect(on_progress, q)
    if on_finished is not None:
        w.signals.finished.connect(on_finished, q)
    Worker._alive.add(w)
    w.signals.finished.connect(lambda: Worker._alive.discard(w), q)
    (pool or QThreadPool.globalInstance()).start(w)
    return w


def busy_dialog(parent: QWidget | None, title: str, text: str, cancellable: bool = False,
                delay_ms: int = 0) -> QProgressDialog:
    """An indeterminate, window-modal progress dialog (the window keeps repainting; input is blocked)."""
    d = QProgressDialog(text, "Cancel" if cancellable else None, 0, 0, parent)
    d.setWindowTitle(title)
    d.setWindowModality(Qt.WindowModality.WindowModal)
    d.setMinimumDuration(delay_ms)
    d.setAutoClose(False)
    d.setAutoReset(False)
    if not cancellable:
        d.setCancelButton(None)
    d.setMinimumWidth(360)
    return d


def wait_for(worker: Worker, timeout_s: float = 30.0) -> None:
    """Test helper: process events until ``worker`` finished (or raise TimeoutError)."""
    import time

    from PySide6.QtCore import QCoreApplication

    done = []
    worker.signals.finished.connect(lambda: done.append(1), Qt.ConnectionType.QueuedConnection)
    t0 = time.monotonic()
    while not done and worker in Worker._alive:
        QCoreApplication.processEvents()
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError("worker did not finish")
        time.sleep(0.005)
    QCoreApplication.processEvents()
