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
import time
from collections.abc import Callable, Iterable
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

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        os.replace(tmp, self.path)

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
        rec: dict = {"commands": stage.command_lines(), "seeds": stage.seeds(), "inputs_hash": self.inputs_hash(stage),
                     "estimate_s": stage.estimate_s, "log": str(logf.relative_to(self.out)), "status": "running",
                     "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        self.state["stages"][stage.name] = rec
        self.save()
        t0 = time.time()
        rec["command_seconds"] = []
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
                    rec.update(status="failed", returncode=rc, seconds=round(time.time() - t0, 1))
                    self.save()
                    self.log(f"[train all] {stage.name} FAILED (exit code {rc}); see {logf}")
                    return False
        rec.update(status="done", seconds=round(time.time() - t0, 1), outputs=self._outputs(stage),
                   finished=time.strftime("%Y-%m-%d %H:%M:%S"))
        self.save()
        self.log(f"[train all] {stage.name} done in {rec['seconds']:.0f} s")
        return True

    def run(self, stages: Iterable[Stage], only: set[str] | None = None) -> int:
        """Run ``stages`` in order (``only``: just those; their prerequisites must be done). 0 when all ran or
        were up to date, 1 when one failed (the run stops there; ``--resume`` continues it)."""
        t0 = time.time()
        for st in stages:
            if only is not None and st.name not in only:
                continue
            lacking = [d for d in st.needs if self.state["stages"].get(d, {}).get("status") != "done"]
            if lacking:
                raise RuntimeError(f"stage {st.name} needs {', '.join(lacking)}, which has not run in {self.out}")
            if self.done(st):
                self.log(f"[train all] {st.name}: up to date (inputs and outputs unchanged), skipped")
                continue
            if not self.run_stage(st):
                return 1
        self.state["last_run_seconds"] = round(time.time() - t0, 1)
        self.state["total_stage_seconds"] = round(sum(r.get("seconds", 0.0)
                                                      for r in self.state["stages"].values()), 1)
        self.save()
        return 0


def stage_dict(st: Stage) -> dict:
    d = dataclasses.asdict(st)
    d["outputs"] = [str(p) for p in st.outputs]
    d["inputs"] = [str(p) for p in st.inputs]
    return d
