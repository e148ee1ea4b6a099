"""Boundaries enforced by the suite, not by memory: the import-linter contracts in pyproject.toml, ruff and mypy
on the code, and a fresh-process check that importing every core_models module loads no Qt. Each checker is also
shown to fail on a deliberate violation, so a broken configuration cannot pass silently."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    exe = BIN / name
    if not exe.exists():
        pytest.fail(f"{name} is not installed in the venv: run scripts/setup.sh --test "
                    "(it comes with the [test] extra)")
    return str(exe)


def _run(args: list[str], cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _copy_tree(dst: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for d in ("core_models", "app"):
        shutil.copytree(ROOT / d, dst / d, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    return dst


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return _run([_tool("lint-imports"), "--no-cache"], cwd, env={"PYTHONPATH": str(cwd)})


def test_import_contracts_hold():
    r = _lint_imports(ROOT)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


@pytest.mark.parametrize("module, line, contract", [
    ("core_models/pose.py", "import PySide6.QtCore  # deliberate violation", "Qt-free"),
    ("core_models/nets/editor/infer.py", "from core_models.nets.editor import train as _t  # deliberate",
     "never import training"),
    ("app/commands.py", "import core_models.cli.render  # deliberate violation", "never imports the CLI"),
])
def test_a_deliberate_violation_breaks_a_contract(tmp_path, module, line, contract):
    tree = _copy_tree(tmp_path)
    target = tree / module
    assert target.exists(), f"{module} moved: update this test"
    target.write_text(target.read_text("utf-8") + f"\n{line}\n", "utf-8")
    r = _lint_imports(tree)
    assert r.returncode != 0, r.stdout[-3000:]
    assert "BROKEN" in r.stdout and contract in r.stdout, r.stdout[-3000:]


def test_ruff_is_clean():
    r = _run([_tool("ruff"), "check", "core_models", "app", "tests", "tools", "scripts", "main.py"], ROOT)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]


def test_ruff_catches_a_deliberate_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    r = _run([_tool("ruff"), "check", "--config", str(ROOT / "pyproject.toml"), str(bad)], tmp_path)
    assert r.returncode != 0 and "F401" in r.stdout


@pytest.mark.slow
def test_mypy_is_clean_on_core_models():
    r = _run([_tool("mypy"), "--cache-dir", str(ROOT / ".mypy_cache")], ROOT)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]


def test_mypy_catches_a_deliberate_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x: int) -> str:\n    return x\n")
    r = _run([_tool("mypy"), "--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", str(bad)], tmp_path)
    assert r.returncode != 0 and "Incompatible return value" in r.stdout


IMPORT_ALL = """
import importlib, pkgutil, sys
import core_models
failed = []
for m in pkgutil.walk_packages(core_models.__path__, "core_models."):
    if m.name.endswith("__main__"):
        continue
    importlib.import_module(m.name)
qt = sorted(n for n in sys.modules if n.split(".")[0] in ("PySide6", "shiboken6", "app"))
print("QT:" + ",".join(qt))
"""


def test_importing_every_core_models_module_loads_no_qt():
    r = _run([sys.executable, "-c", IMPORT_ALL], ROOT, env={"QT_QPA_PLATFORM": "offscreen"}, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "QT:\n" in r.stdout or r.stdout.strip().endswith("QT:"), r.stdout[-2000:]
