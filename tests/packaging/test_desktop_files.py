"""The desktop integration files of the bundle (packaging/): the .desktop entry, install.sh, the frozen entry
point's command-line handling. They run without building the bundle."""
from __future__ import annotations

import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "packaging"


def _desktop(path: Path) -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str  # keys are case-sensitive
    cp.read(path, encoding="utf-8")
    return cp["Desktop Entry"]


def test_desktop_entry_is_valid():
    e = _desktop(PKG / "posetailor.desktop")
    assert e["Type"] == "Application" and e["Name"] == "PoseTailor" and e["Terminal"] == "false"
    assert e["Exec"].split()[0] == "PoseTailor"  # the executable name the spec builds
    assert 'name="PoseTailor"' in (PKG / "posetailor.spec").read_text()
    assert (ROOT / "resources" / "icons" / f"{e['Icon']}.svg").is_file()
    assert all(c for c in e["Categories"].split(";")[:-1]) and e["Categories"].endswith(";")
    validator = shutil.which("desktop-file-validate")
    if validator:  # the freedesktop validator when installed (not required)
        r = subprocess.run([validator, str(PKG / "posetailor.desktop")], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_install_script_writes_a_working_menu_entry(tmp_path):
    """install.sh, run from an unpacked bundle, puts a menu entry whose Exec is the bundle's absolute path, the
    icon and a launcher into the user's folders; --remove takes them away again."""
    bundle = tmp_path / "opt" / "Pose Tailor"  # a space in the path must survive
    bundle.mkdir(parents=True)
    for f in ("install.sh", "posetailor.desktop"):
        shutil.copy2(PKG / f, bundle / f)
    shutil.copy2(ROOT / "resources" / "icons" / "posetailor.svg", bundle / "posetailor.svg")
    (bundle / "posetailor.png").write_bytes(b"\x89PNG")
    exe = bundle / "PoseTailor"
    exe.write_text("#!/bin/sh\necho ran\n")
    exe.chmod(0o755)
    home = tmp_path / "home"
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    r = subprocess.run(["bash", str(bundle / "install.sh")], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    entry = home / ".local" / "share" / "applications" / "posetailor.desktop"
    e = _desktop(entry)
    assert e["Exec"] == f'"{exe}" %F' and e["TryExec"] == str(exe)
    assert (home / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "posetailor.svg").is_file()
    launcher = home / ".local" / "bin" / "PoseTailor"
    assert subprocess.run([str(launcher)], capture_output=True, text=True).stdout.strip() == "ran"
    r = subprocess.run(["bash", str(bundle / "install.sh"), "--remove"], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and not entry.exists() and not os.path.lexists(launcher)
    assert exe.is_file()  # the bundle itself is left alone


@pytest.fixture
def entry(monkeypatch):
    spec = importlib.util.spec_from_file_location("posetailor_entry", PKG / "posetailor_entry.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_entry_runs_modules_and_drops_a_main_py_argument(entry, monkeypatch):
    """The app starts helpers with [sys.executable, "-m", module, …]; in the bundle sys.executable is PoseTailor."""
    calls = []
    monkeypatch.setattr(entry.runpy, "run_module", lambda name, **kw: calls.append((name, list(sys.argv), kw)))
    monkeypatch.setattr(sys, "argv", ["PoseTailor", "-m", "core_models.render.thumbnails", "a.npz", "b.npz"])
    assert entry._run() == 0
    assert calls == [("core_models.render.thumbnails", ["core_models.render.thumbnails", "a.npz", "b.npz"],
                      {"run_name": "__main__", "alter_sys": True})]
    import main

    seen = []
    monkeypatch.setattr(main, "main", lambda argv: seen.append(argv) or 0)
    monkeypatch.setattr(sys, "argv", ["PoseTailor", "/x/main.py", "render", "--help"])
    assert entry._run() == 0 and seen == [["render", "--help"]]


def test_packaging_folders_do_not_shadow_the_packaging_library():
    """packaging/ and tests/packaging/ have no __init__.py: with the repository root and tests/ on sys.path (as
    pytest and `python main.py` put them), `import packaging` must still be PyPI's `packaging` (matplotlib and
    mediapipe import it) — a regular package of that name there broke webcam capture in the test run."""
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests']; import packaging.version, "
            "packaging; print(packaging.__file__)")
    r = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "site-packages" in r.stdout, r.stdout
    assert not (PKG / "__init__.py").exists() and not (ROOT / "tests" / "packaging" / "__init__.py").exists()
