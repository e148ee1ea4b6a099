"""Offline text-to-speech for the coach: ``Speaker.say(text)`` speaks through ``espeak-ng`` without blocking.

One worker thread owns the speech; ``say`` only drops the text into a one-slot mailbox and returns at once (the
GUI thread never waits). The newest message wins: a text still waiting is replaced, and a text being spoken is
cut short (its ``espeak-ng`` process is terminated) when a newer one arrives — a coach that is still reading an
old correction is worse than silence. ``mute()`` silences at once (queued text dropped, current speech stopped);
``unmute()`` speaks the next message. Nothing here raises into the caller: a missing ``espeak-ng`` binary sets
``available = False`` and ``reason`` (what to install), a failing one sets ``reason`` and is retried on the next
message. Qt-free; the Coach panel calls it from the GUI thread, ``python main.py coach --speak`` from a script.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

BINARIES = ("espeak-ng", "espeak")
INSTALL_HINT = "install the Debian package espeak-ng (apt-get install espeak-ng)"


def find_binary(names: Sequence[str] = BINARIES) -> str | None:
    """The first speech program on PATH (``espeak-ng``, then the older ``espeak``), or None."""
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


class Speaker:
    """Non-blocking, newest-message-wins speech (see the module docstring).

    ``enabled=False`` starts muted. ``binary`` overrides the program (tests); ``voice``/``rate`` are espeak's
    ``-v`` and ``-s`` (words per minute; slower is easier to follow from a mat). ``on_spoken(text)`` is called
    from the speech thread after each finished message (tests, logs)."""

    def __init__(self, enabled: bool = True, binary: str | None = None, voice: str = "en", rate: int = 150,
                 on_spoken: Callable[[str], None] | None = None):
        self.voice, self.rate = voice, int(rate)
        self.on_spoken = on_spoken
        self.binary = binary if binary is not None else find_binary()
        self.available = bool(self.binary) and os.access(str(self.binary), os.X_OK)
        self.reason: str | None = None if self.available else f"no speech: {INSTALL_HINT}"
        self.spoken: list[str] = []       # finished messages, in order (bounded)
        self.interrupted = 0              # messages cut short by a newer one or by mute
        self._muted = not enabled
        self._cv = threading.Condition()
        self._pending: str | None = None
        self._proc: subprocess.Popen | None = None
        self._closed = False
        self._busy = False
        self._thread: threading.Thread | None = None

    # --- the caller's side (any thread; never blocks on speech) ------------------------------------------------
    @property
    def muted(self) -> bool:
        return self._muted

    def say(self, text: str) -> bool:
        """Queue ``text`` (replacing anything not yet spoken, interrupting what is being spoken). Returns
        whether it will be spoken (False when muted, closed, empty or without a speech program)."""
        text = " ".join(str(text or "").split())
        if not text or self._muted or self._closed or not self.available:
            return False
        with self._cv:
            self._pending = text
            self._stop_current()
            self._ensure_thread()
            self._cv.notify_all()
        return True

    def mute(self) -> None:
        """Silence now: drop the queued message and stop the one being spoken."""
        with self._cv:
            self._muted = True
            self._pending = None
            self._stop_current()

    def unmute(self) -> None:
        self._muted = False

    def set_muted(self, on: bool) -> None:
        self.mute() if on else self.unmute()

    def toggle_mute(self) -> bool:
        """Flip mute; returns the new muted state."""
        self.set_muted(not self._muted)
        return self._muted

    def idle(self) -> bool:
        """Nothing queued and nothing being spoken."""
        with self._cv:
            return self._pending is None and not self._busy

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until idle (tests and scripts only — never from the GUI thread). Returns whether it got idle."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Stop speaking and end the speech thread (safe to call twice)."""
        with self._cv:
            self._closed = True
            self._pending = None
            self._stop_current()
            self._cv.notify_all()
            th = self._thread
        if th is not None and th is not threading.current_thread():
            th.join(timeout)

    # --- the speech thread ----------------------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="coach-speech", daemon=True)
            self._thread.start()

    def _stop_current(self) -> None:
        p = self._proc
        if p is not None and p.poll() is None:
            try:
                p.terminate()
            except OSError:
                pass

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._pending is not None or self._closed)
                text = self._pending
                if self._closed or text is None:
                    return
                self._pending, self._busy = None, True
            try:
                self._speak(text)
            finally:
                with self._cv:
                    self._busy = False
                    self._proc = None
                    self._cv.notify_all()

    def _speak(self, text: str) -> None:
        cmd = [str(self.binary), "-v", self.voice, "-s", str(self.rate), "--", text]
        try:
            with self._cv:
                if self._closed or self._muted:
                    return
                self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.PIPE)
                proc = self._proc
            _, err = proc.communicate()
        except OSError as e:
            self.reason = f"speech failed: {e}"
            log.warning("coach speech: %s", e)
            return
        if proc.returncode == 0:
            self.reason = None
            self.spoken.append(text)
            del self.spoken[:-50]
            if self.on_spoken is not None:
                self.on_spoken(text)
        elif proc.returncode < 0:  # terminated by a newer message, mute or close
            self.interrupted += 1
        else:
            msg = (err or b"").decode("utf-8", "replace").strip().splitlines()
            self.reason = f"speech failed (exit {proc.returncode})" + (f": {msg[-1]}" if msg else "")
            log.warning("coach speech: %s", self.reason)

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close(timeout=0.1)
        except Exception:  # noqa: BLE001
            pass
