"""Crash-safe persistence: atomic writes, a per-run lock file, autosave and crash recovery (no Qt).

How crash recovery works
------------------------
* Every running app instance owns a *run lock* ``<data>/runs/run-<pid>-<t>.lock`` (JSON: pid, start time,
  the process's kernel start ticks where available, host, the autosave file name) and an autosave file
  ``<data>/runs/autosave-<pid>-<t>.json`` next to it, written atomically after edits.
* A clean exit deletes both (:meth:`AutosaveManager.close`).
* A run ended from outside with unsaved changes (SIGTERM / SIGINT / SIGHUP: logout, shutdown, ``kill``) flushes
  its autosave and marks its lock as ended (:meth:`AutosaveManager.end_unsaved`) instead of deleting them, so the
  next start offers the work back exactly like after a crash, and can say why the run ended.
* On start, :meth:`AutosaveManager.start` scans ``runs/``: a lock whose process is gone (or whose PID was
  reused by another process) belongs to a run that crashed or was killed. The newest autosave among those
  runs is offered for recovery (:meth:`AutosaveManager.recovery_candidate`).
* After the user decides (restore or not), :meth:`AutosaveManager.dismiss_crashed` moves the crashed runs'
  autosaves into ``<data>/recovered/`` (the newest 20 are kept, so nothing is lost by a wrong click) and
  deletes their locks. Locks of runs that are still alive are never touched.

The data directory is ``$POSETAILOR_DATA`` or ``$XDG_DATA_HOME/posetailor`` (default
``~/.local/share/posetailor``), the same folder the pose library uses.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUTOSAVE_DEBOUNCE_S = 1.0
AUTOSAVE_INTERVAL_S = 30.0
KEEP_RECOVERED = 20
_RUN_IDS: set[str] = set()  # run ids of the managers started in this process


def data_dir() -> Path:
    """The app data directory (created on demand)."""
    env = os.environ.get("POSETAILOR_DATA")
    if env:
        d = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        d = (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "posetailor"
    d.mkdir(parents=True, exist_ok=True)
    return d


# --- atomic writes -------------------------------------------------------------------------------------

def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees either the old file or the complete new one.

    A temporary file is written in the same directory, flushed and fsync'ed, then renamed over ``path``
    with :func:`os.replace` (atomic on POSIX and Windows); the directory is fsync'ed where possible.
    If anything fails the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):
        try:
            dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, allow_nan=False))


# --- process liveness ----------------------------------------------------------------------------------

def _proc_start_ticks(pid: int) -> int | None:
    """Kernel start time of a process (Linux /proc, clock ticks since boot); None where unavailable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        # the command name (field 2) may contain spaces/parentheses: split after the last ')'
        rest = stat[stat.rindex(")") + 2:].split()
        return int(rest[19])  # field 22 overall
    except (OSError, ValueError, IndexError):
        return None


def _proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return stat[stat.rindex(")") + 2:].split()[0]
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int, start_ticks: int | None = None) -> bool:
    """Is process ``pid`` running (and, when ``start_ticks`` is given, the same process that wrote the lock)?"""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - not exercised on the Linux CI
        import ctypes

        k32 = ctypes.windll.kernel32
        h = k32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not h:
            return False
        code = ctypes.c_ulong()
        ok = k32.GetExitCodeProcess(h, ctypes.byref(code))
        k32.CloseHandle(h)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    if _proc_state(pid) in ("Z", "X"):  # a zombie has exited: its run is over
        return False
    if start_ticks is not None:
        now = _proc_start_ticks(pid)
        if now is not None and now != start_ticks:
            return False  # the PID was reused by another process
    return True


# --- autosave policy (debounce + periodic), pure logic ----------------------------------------------------

class AutosavePolicy:
    """When to autosave: ``debounce_s`` after the last edit, and at least every ``interval_s`` while
    edits keep coming (a long drag never postpones the save for more than ``interval_s``)."""

    def __init__(self, debounce_s: float = AUTOSAVE_DEBOUNCE_S, interval_s: float = AUTOSAVE_INTERVAL_S):
        self.debounce_s = float(debounce_s)
        self.interval_s = float(interval_s)
        self._first_unsaved: float | None = None
        self._last_edit: float | None = None

    @property
    def pending(self) -> bool:
        return self._last_edit is not None

    def edited(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self._first_unsaved is None:
            self._first_unsaved = now
        self._last_edit = now

    def due(self, now: float | None = None) -> bool:
        if self._last_edit is None:
            return False
        now = time.monotonic() if now is None else now
        first = self._last_edit if self._first_unsaved is None else self._first_unsaved
        return (now - self._last_edit >= self.debounce_s) or (now - first >= self.interval_s)

    def saved(self) -> None:
        self._first_unsaved = None
        self._last_edit = None


# --- run locks, autosave files, recovery -----------------------------------------------------------------

@dataclass
class RecoveryCandidate:
    """An autosave left behind by a run that did not exit cleanly."""

    autosave_path: Path
    lock_path: Path
    pid: int
    started_at: float  # epoch seconds when the crashed run started
    saved_at: float  # epoch seconds of the autosave
    ended_by: str | None = None  # why the run ended ("SIGTERM", "session end", …); None: it crashed or was killed

    def load(self) -> dict:
        """The autosaved payload (a dict; for the app, a Session dict). Raises ValueError if unreadable."""
        return read_autosave(self.autosave_path)["payload"]

    def describe_time(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))


AUTOSAVE_FORMAT = "posetailor-autosave"


def read_autosave(path: str | os.PathLike) -> dict:
    """Read and check an autosave file; ValueError with a clear message when it is not usable."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path.name}: not a readable autosave ({e})") from None
    if not isinstance(obj, dict) or obj.get("format") != AUTOSAVE_FORMAT or not isinstance(obj.get("payload"), dict):
        raise ValueError(f"{path.name}: not a PoseTailor autosave")
    return obj


class AutosaveManager:
    """Owns this run's lock + autosave file; finds and tidies crashed runs. See the module docstring."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.root = Path(directory) if directory is not None else data_dir()
        self.runs_dir = self.root / "runs"
        self.recovered_dir = self.root / "recovered"
        self.pid = os.getpid()
        self.started_at = time.time()
        tag = f"{self.pid}-{int(self.started_at * 1000)}"
        self.lock_path = self.runs_dir / f"run-{tag}.lock"
        self.autosave_path = self.runs_dir / f"autosave-{tag}.json"
        self._crashed: list[RecoveryCandidate] = []
        self._crashed_locks: list[Path] = []
        self._started = False
        self.last_saved_at: float | None = None
        self.ended_by: str | None = None  # set by end_unsaved()

    # lifecycle
    def start(self) -> list[RecoveryCandidate]:
        """Detect crashed runs (before taking our own lock), then write our lock. Returns the crashed
        runs that left an autosave, newest first."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._crashed, self._crashed_locks = self._scan()
        run_id = uuid.uuid4().hex
        _RUN_IDS.add(run_id)
        atomic_write_json(self.lock_path, {
            "run_id": run_id, "pid": self.pid, "started_at": self.started_at,
            "start_ticks": _proc_start_ticks(self.pid),
            "host": socket.gethostname(), "autosave": self.autosave_path.name,
        })
        self._started = True
        return list(self._crashed)

    def close(self, keep_autosave: bool = False) -> None:
        """Clean exit: remove our lock (and our autosave unless ``keep_autosave``). After :meth:`end_unsaved`
        nothing is removed: the ended run's lock and autosave are for the next start."""
        if self.ended_by is not None:
            return
        paths = [self.lock_path] if keep_autosave else [self.autosave_path, self.lock_path]
        for p in paths:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        self._started = False

    def end_unsaved(self, payload: dict, reason: str) -> Path:
        """The run is being ended from outside (a signal, the end of the desktop session) with unsaved work:
        write ``payload`` as the autosave now (whatever the debounce says) and mark the run lock as ended by
        ``reason``, keeping both, so that the next start offers the work back. Raises OSError / ValueError
        when the autosave cannot be written (the lock is then left as it was: the run still looks crashed)."""
        path = self.save(payload)
        try:
            info = json.loads(self.lock_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {"pid": self.pid, "started_at": self.started_at, "start_ticks": _proc_start_ticks(self.pid),
                    "host": socket.gethostname(), "autosave": self.autosave_path.name}
        info.update(ended_by=str(reason), ended_at=time.time())
        atomic_write_json(self.lock_path, info)
        self._started = False
        self.ended_by = str(reason)
        return path

    # autosave
    def save(self, payload: dict) -> Path:
        """Atomically write ``payload`` (JSON-able dict) as this run's autosave."""
        now = time.time()
        atomic_write_json(self.autosave_path, {"format": AUTOSAVE_FORMAT, "version": 1, "saved_at": now,
                                               "pid": self.pid, "payload": payload})
        self.last_saved_at = now
        return self.autosave_path

    def clear_autosave(self) -> None:
        """Forget this run's autosave (e.g. after the document was saved by the user)."""
        try:
            self.autosave_path.unlink()
        except FileNotFoundError:
            pass

    # recovery
    def recovery_candidate(self) -> RecoveryCandidate | None:
        """The newest autosave of a crashed run, or None."""
        return self._crashed[0] if self._crashed else None

    @property
    def crashed_runs(self) -> list[RecoveryCandidate]:
        return list(self._crashed)

    def dismiss_crashed(self) -> None:
        """Move the crashed runs' autosaves to ``recovered/`` and delete their locks."""
        self.recovered_dir.mkdir(parents=True, exist_ok=True)
        for c in self._crashed:
            if c.autosave_path.exists():
                dest = self.recovered_dir / f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(c.saved_at))}" \
                    f"-{c.autosave_path.name}"
                try:
                    os.replace(c.autosave_path, dest)
                except OSError:
                    pass
        for lock in self._crashed_locks:
            try:
                lock.unlink()
            except FileNotFoundError:
                pass
        self._crashed, self._crashed_locks = [], []
        old = sorted(self.recovered_dir.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for p in old[KEEP_RECOVERED:]:
            try:
                p.unlink()
            except OSError:
                pass

    def _scan(self) -> tuple[list[RecoveryCandidate], list[Path]]:
        crashed: list[RecoveryCandidate] = []
        dead_locks: list[Path] = []
        for lock in sorted(self.runs_dir.glob("run-*.lock")):
            if lock == self.lock_path:
                continue
            try:
                info = json.loads(lock.read_text(encoding="utf-8"))
                pid = int(info["pid"])
                started = float(info.get("started_at", 0.0))
                ticks = info.get("start_ticks")
                ticks = int(ticks) if ticks is not None else None
                same_host = info.get("host", socket.gethostname()) == socket.gethostname()
                ended_by = info.get("ended_by")
                ended_by = str(ended_by) if ended_by is not None else None
            except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):
                # an unreadable lock: the run died while writing it (atomic writes make this unlikely)
                dead_locks.append(lock)
                continue
            if pid == self.pid and same_host:
                if info.get("run_id") in _RUN_IDS and ended_by is None:
                    continue  # another manager of this very process (tests); alive
                # our PID in a lock we did not write: an earlier run that had the same PID (containers)
            elif not same_host or (ended_by is None and pid_alive(pid, ticks)):
                continue  # another live instance (or another machine sharing the folder): not ours to touch
            dead_locks.append(lock)
            auto = self.runs_dir / str(info.get("autosave", ""))
            if auto.is_file():
                try:
                    saved = float(read_autosave(auto).get("saved_at", auto.stat().st_mtime))
                except ValueError:
                    continue  # unreadable autosave: nothing to offer (left in place for a human)
                crashed.append(RecoveryCandidate(auto, lock, pid, started, saved, ended_by))
        crashed.sort(key=lambda c: c.saved_at, reverse=True)
        return crashed, dead_locks
