"""A resumable runner of command stages (``python main.py train all``): each stage is one or more
``python main.py …`` command lines with declared inputs and outputs; a stage whose outputs and whose inputs'
hashes are recorded in the run's manifest is skipped, anything else runs again.

The manifest (``<out>/train_all.json``) records per stage: the command lines as run, their seeds, the hash of
the inputs (the command lines, the files the stage reads — the mocap folder, the corpus, the weights of the
stages it needs), the sha256 of every output, the wall time, the estimate and the status; and for the run: the
data hash (the corpus files), the device and the total wall time.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "train_all.json"
#: the corpus files whose hash is the run's "data hash"
DATA_FILES = ("corpus.npz", "clips.json", "pairs.npz", "modifiers.json", "descriptions.json",
              "descriptions_index.npy")


@dataclass
class Stage:
    """``commands``: argv lists after ``python main.py``; ``inputs`` / ``outputs``: files or folders;
    ``needs``: names of the stages that must have run first; ``estimate_s``: expected wall time."""

    name: str
    commands: list[list[str]]
    outputs: list[Path]
    inputs: list[Path] = field(default_factory=list)
    needs: tuple[str, ...] = ()
    estimate_s: float | None = None
    launcher: list[str] | None = None  # argv that starts each command (default: the runner's python main.py)
    label: str = "python main.py"  # how the launcher reads in the manifest and the plan

    def command_lines(self) -> list[str]:
        return [f"{self.label} " + shlex.join(c) for c in self.commands]

    def seeds(self) -> list[int]:
        out = []
        for c in self.commands:
            out.append(int(c[c.index("--seed") + 1]) if "--seed" in c[:-1] else 0)
        return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_MEMO: dict[tuple[str, int, int], str] = {}


def _file_hash(path: Path) -> str:
    """sha256 of a file, remembered for this process while its size and mtime stay the same."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _MEMO:
        _MEMO[key] = sha256_file(path)
    return _MEMO[key]


def hash_path(path: Path, content: bool = True) -> str:
    """sha256 of a file, or of a folder's files (relative names + contents, or + sizes and mtimes when
    ``content`` is False: a mocap folder of hundreds of MB is hashed by its listing); "missing" when absent."""
    if path.is_file():
        return _file_hash(path)
    if not path.is_dir():
        return "missing"
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(path)}|{st.st_size}|".encode())
        h.update((_file_hash(f) if content else str(st.st_mtime_ns)).encode())
    return h.hexdigest()


def data_hash(corpus: Path) -> str:
    h = hashlib.sha256()
    for name in DATA_FILES:
        h.update(f"{name}:{hash_path(corpus / name)}".encode())
    return h.hexdigest()


class Runner:
    """Runs stages in order into ``out`` (logs in ``out/logs``), skipping the ones already done with the same
    inputs; ``argv_prefix`` starts each command (default ``python main.py``)."""

    def __init__(self, out: Path, argv_prefix: list[str] | None = None, log: Callable[[str], None] = print,
                 env: dict[str, str] | None = None):
        self.out = out
        self.prefix = argv_prefix or [sys.executable, str(Path(__file__).resolve().parents[3] / "main.py")]
        self.log = log
        self.env = env
        self.path = out / MANIFEST
        self.state: dict = json.loads(self.path.read_text()) if self.path.exists() else {"stages": {}}
        self._lock = threading.Lock()

    def save(self) -> None:
        with self._lock:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.state, indent=1))
            os.replace(tmp, self.path)

    def _record(self, name: str, rec: dict, **fields: object) -> None:
        with self._lock:
            rec.update(fields)
            self.state["stages"][name] = rec
        self.save()

    def _status(self, name: str) -> str | None:
        return self.state["stages"].get(name, {}).get("status")

    def inputs_hash(self, stage: Stage) -> str:
        h = hashlib.sha256("\n".join(stage.command_lines()).encode())
        for p in stage.inputs:
            h.update(f"{p}:{hash_path(p, content=p.is_file())}".encode())
        for dep in stage.needs:
            h.update(json.dumps(self.state["stages"].get(dep, {}).get("outputs", {}), sort_keys=True).encode())
        return h.hexdigest()

    def done(self, stage: Stage) -> bool:
        """Recorded as done with these inputs, and every output still has its recorded hash."""
        rec = self.state["stages"].get(stage.name)
        if not rec or rec.get("status") != "done" or rec.get("inputs_hash") != self.inputs_hash(stage):
            return False
        return all(hash_path(self.out / k) == v for k, v in rec.get("outputs", {}).items())

    def _outputs(self, stage: Stage) -> dict[str, str]:
        missing = [str(p) for p in stage.outputs if not p.exists()]
        if missing:
            raise RuntimeError(f"stage {stage.name} finished but did not write {', '.join(missing)}")
        return {str(p.relative_to(self.out)): hash_path(p) for p in stage.outputs}

    def run_stage(self, stage: Stage) -> bool:
        """Run one stage (all its commands); record it. False when a command failed."""
        (self.out / "logs").mkdir(parents=True, exist_ok=True)
        logf = self.out / "logs" / f"{stage.name}.log"
        rec: dict = {}
        self._record(stage.name, rec, commands=stage.command_lines(), seeds=stage.seeds(),
                     inputs_hash=self.inputs_hash(stage), estimate_s=stage.estimate_s,
                     log=str(logf.relative_to(self.out)), status="running", command_seconds=[],
                     started=time.strftime("%Y-%m-%d %H:%M:%S"))
        t0 = time.time()
        with open(logf, "a") as fh:
            for argv, line in zip(stage.commands, stage.command_lines()):
                self.log(f"[train all] {stage.name}: {line}")
                fh.write(f"$ {line}\n")
                fh.flush()
                t1 = time.time()
                rc = subprocess.call([*(stage.launcher or self.prefix), *argv], stdout=fh, stderr=subprocess.STDOUT,
                                     env=self.env)
                rec["command_seconds"].append(round(time.time() - t1, 1))
                if rc != 0:
                    self._record(stage.name, rec, status="failed", returncode=rc, seconds=round(time.time() - t0, 1))
                    self.log(f"[train all] {stage.name} FAILED (exit code {rc}); see {logf}")
                    return False
        try:
            outputs = self._outputs(stage)
        except RuntimeError as e:
            self._record(stage.name, rec, status="failed", error=str(e), seconds=round(time.time() - t0, 1))
            self.log(f"[train all] {e}")
            return False
        self._record(stage.name, rec, status="done", seconds=round(time.time() - t0, 1), outputs=outputs,
                     finished=time.strftime("%Y-%m-%d %H:%M:%S"))
        self.log(f"[train all] {stage.name} done in {rec['seconds']:.0f} s")
        return True

    def run(self, stages: Iterable[Stage], only: set[str] | None = None, jobs: int = 1) -> int:
        """Run ``stages`` (listed in dependency order; ``only``: just those, their other prerequisites must be
        done), up to ``jobs`` at a time once what they need is done. 0 when all ran or were up to date, 1 when
        one failed (nothing new starts after a failure; ``--resume`` continues the run)."""
        t0 = time.time()
        todo = [st for st in stages if only is None or st.name in only]
        names = {st.name for st in todo}
        for st in todo:
            lacking = [d for d in st.needs if d not in names and self._status(d) != "done"]
            if lacking:
                raise RuntimeError(f"stage {st.name} needs {', '.join(lacking)}, which has not run in {self.out}")
        rc = self._schedule(todo, names, max(1, jobs))
        with self._lock:
            self.state["last_run_seconds"] = round(time.time() - t0, 1)
            self.state["jobs"] = jobs
            self.state["total_stage_seconds"] = round(sum(r.get("seconds", 0.0)
                                                          for r in self.state["stages"].values()), 1)
        self.save()
        return rc

    def _schedule(self, todo: list[Stage], names: set[str], jobs: int) -> int:
        pending, failed = list(todo), False
        running: dict[Future, Stage] = {}
        with ThreadPoolExecutor(jobs) as pool:
            while pending or running:
                for st in sorted(pending, key=lambda s: -(s.estimate_s or 0.0)):  # longest ready stage first
                    if failed or len(running) >= jobs:
                        break
                    if any(d in names and self._status(d) != "done" for d in st.needs):
                        continue  # what it needs is still to run (or running)
                    pending.remove(st)
                    if self.done(st):
                        self.log(f"[train all] {st.name}: up to date (inputs and outputs unchanged), skipped")
                        continue
                    running[pool.submit(self.run_stage, st)] = st
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for f in finished:
                    running.pop(f)
                    failed |= not f.result()
        return 1 if failed else 0


def schedule_estimate(stages: list[Stage], jobs: int) -> float:
    """Wall time of ``stages`` (their estimates) run ``jobs`` at a time as :meth:`Runner.run` schedules them
    (whenever a slot is free: the longest stage whose prerequisites are done)."""
    names = {st.name for st in stages}
    pending, t = list(stages), 0.0
    end: dict[str, float] = {}
    running: list[tuple[float, str]] = []
    while pending or running:
        ready = sorted((st for st in pending if all(d not in names or d in end and end[d] <= t for d in st.needs)),
                       key=lambda s: -(s.estimate_s or 0.0))
        for st in ready[:max(1, jobs) - len(running)]:
            pending.remove(st)
            end[st.name] = t + (st.estimate_s or 0.0)
            running.append((end[st.name], st.name))
        if not running:
            break
        running.sort()
        t, _ = running.pop(0)
    return max(end.values(), default=0.0)


def stage_dict(st: Stage) -> dict:
    d = dataclasses.asdict(st)
    d["outputs"] = [str(p) for p in st.outputs]
    d["inputs"] = [str(p) for p in st.inputs]
    return d
