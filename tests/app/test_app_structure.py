"""Structure of the GUI: one action table without shortcut clashes, panels that only see a PanelContext, the
GUI never imports the CLI or training / evaluation code (checked in a fresh process), small functions."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"


# --- actions ------------------------------------------------------------------------------------------------------

def test_no_two_actions_share_a_shortcut(qapp):
    from app.actions import ACTIONS, shortcut_conflicts

    assert shortcut_conflicts(ACTIONS) == {}
    assert len({a.id for a in ACTIONS}) == len(ACTIONS)


def test_the_old_table_with_ctrl_i_twice_is_caught(qapp):
    """The defect: Ctrl+I was bound to "Import motion capture" and "Side inset view" (Qt fires neither)."""
    from dataclasses import replace

    from app.actions import ACTIONS, shortcut_conflicts

    old = [replace(a, shortcut="Ctrl+I") if a.id == "inset" else a for a in ACTIONS]
    assert shortcut_conflicts(old) == {"Ctrl+I": ["import_mocap", "inset"]}


def test_standard_keys_are_expanded_before_comparing(qapp):
    from PySide6.QtGui import QKeySequence

    from app.actions import ActionSpec, key_sequences, shortcut_conflicts

    open_keys = [s.toString() for s in key_sequences(QKeySequence.StandardKey.Open)]
    assert "Ctrl+O" in open_keys
    clash = [ActionSpec("open", "Open", "x", QKeySequence.StandardKey.Open), ActionSpec("other", "O", "y", "Ctrl+O")]
    assert shortcut_conflicts(clash) == {"Ctrl+O": ["open", "other"]}


def test_window_actions_come_from_the_table(qapp, tmp_path):
    from _apptest_util import RecordingDialogs, tiny_body

    from app.actions import ACTIONS, key_sequences
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st

    w = MainWindow(settings=st.defaults(), body=tiny_body(), viewport=FallbackViewport(), dialogs=RecordingDialogs())
    try:
        assert set(w.acts) == {a.id for a in ACTIONS}
        for spec in ACTIONS:
            if spec.kind != "submenu":
                assert w.acts[spec.id].shortcuts() == key_sequences(spec.shortcut), spec.id
        assert w.acts["inset"].shortcut().toString() == "Ctrl+Shift+I"
        assert w.acts["import_mocap"].shortcut().toString() == "Ctrl+I"
        on = w.acts["inset"].isChecked()
        w.acts["inset"].trigger()
        assert w.settings["show_inset"] is (not on)
        menus = [a.text() for a in w.menuBar().actions()]
        assert menus == ["&File", "&Edit", "&View", "&Help"]
        # every QAction of the window (also any made outside the table): no key sequence twice
        from PySide6.QtGui import QAction

        seen: dict[str, list[str]] = {}
        for act in w.findChildren(QAction):
            for seq in act.shortcuts():
                seen.setdefault(seq.toString(), []).append(act.text())
        assert {k: v for k, v in seen.items() if len(v) > 1} == {}
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()


def test_readme_names_the_new_inset_shortcut():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Ctrl+Shift+I" in text


# --- panels see a PanelContext, never the window ---------------------------------------------------------------

def test_no_panel_touches_the_window():
    offenders = []
    for f in sorted((APP / "panels").glob("*.py")):
        for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "window":
                offenders.append(f"{f.name}:{n.lineno} window.{n.attr}")
            if isinstance(n, ast.Attribute) and n.attr in ("window", "window_") and \
                    isinstance(n.value, ast.Name) and n.value.id == "self":
                offenders.append(f"{f.name}:{n.lineno} self.{n.attr}")
    assert offenders == []


def test_feature_panels_get_a_panel_context(qapp):
    from _apptest_util import RecordingDialogs, tiny_body

    from app.context import PanelContext
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st

    w = MainWindow(settings=st.defaults(), body=tiny_body(), viewport=FallbackViewport(), dialogs=RecordingDialogs())
    try:
        assert w.feature_panels and all(isinstance(getattr(p, "ctx", None), PanelContext)
                                        for p in w.feature_panels.values())
        assert all(p.ctx.services is w.services for p in w.feature_panels.values())
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()


def test_app_never_imports_the_cli_statically():
    """Before: the Correction panel imported core_models.cli.render (forbidden by the import-linter contract)."""
    offenders = []
    for f in sorted(APP.rglob("*.py")):
        for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            mods = [n.module or ""] if isinstance(n, ast.ImportFrom) else \
                [a.name for a in n.names] if isinstance(n, ast.Import) else []
            offenders += [f"{f.relative_to(ROOT)}:{n.lineno} {m}" for m in mods if m.startswith("core_models.cli")]
    assert offenders == []


def test_functions_in_app_are_at_most_80_lines():
    long = []
    for f in sorted(APP.rglob("*.py")):
        for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 80:
                long.append(f"{f.relative_to(ROOT)}:{n.name} ({n.end_lineno - n.lineno + 1} lines)")
    assert long == []


def test_main_window_is_small():
    assert len((APP / "main_window.py").read_text(encoding="utf-8").splitlines()) < 500


# --- a fresh GUI process imports no CLI, training or evaluation module ---------------------------------------

CHILD = textwrap.dedent("""
    import sys, threading
    sys.path.insert(0, sys.argv[1])
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import app.main_window as mw
    from core_models.services import default_services

    result = {}

    def exercise():
        # what the panels do on first use: every model the GUI offers, loaded through the services
        s = default_services()
        for name in ("editor", "corrector", "latent"):
            try:
                getattr(s, name)()
                result[name] = "ready"
            except Exception as e:
                result[name] = f"unavailable: {e}"

    def finish():
        t = threading.Thread(target=exercise)
        t.start()
        t.join(300)
        QApplication.instance().closeAllWindows()
        QApplication.instance().quit()

    orig = mw.MainWindow.startup
    def startup(self, files=None, check_recovery=True):
        orig(self, files, check_recovery=False)
        QTimer.singleShot(500, finish)
    mw.MainWindow.startup = startup
    code = mw.run_app([])
    bad = sorted(m for m in sys.modules if m.startswith("core_models.cli") or m == "core_models.nets.training"
                 or m.startswith("core_models.nets.training.") or m.endswith((".train", ".eval", "_train", "_eval")))
    print("MODELS", result)
    print("BAD", bad)
    print("EXIT", code)
""")


def test_fresh_gui_process_imports_no_cli_training_or_eval_module(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", POSETAILOR_DATA=str(tmp_path / "data"),
               POSETAILOR_CONFIG=str(tmp_path / "config"))
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=400)
    lines = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in out.stdout.splitlines() if " " in ln}
    assert "BAD" in lines, f"the GUI did not run to the end:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    assert lines["BAD"] == "[]"
    assert lines["EXIT"] == "0"
    models = ast.literal_eval(lines["MODELS"])
    assert models == {"editor": "ready", "corrector": "ready", "latent": "ready"}, models


@pytest.mark.parametrize("module", ["app.main_window", "app.panels.correction", "app.panels.text_edit",
                                    "app.panels.latent", "app.panels.capture"])
def test_gui_modules_import_without_loading_models(module):
    code = (f"import sys; import {module}; "
            "print(sorted(m for m in sys.modules if m.startswith(('core_models.cli', 'core_models.nets.training')) "
            "or m.endswith(('.train', '.eval', '_train'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_no_model_loads_while_its_dock_is_a_background_tab(qapp):
    """Start-up stays light: the Latent and Correction docks sit behind other tabs, so neither the QPoser nor
    the corrector is loaded until the user opens them."""
    from _apptest_util import RecordingDialogs, pump, tiny_body

    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st
    from core_models.services import ModelServices

    services = ModelServices()
    w = MainWindow(settings=st.defaults(), body=tiny_body(), viewport=FallbackViewport(), dialogs=RecordingDialogs(),
                   services=services)
    try:
        w.show()
        w.startup([], check_recovery=False)
        pump(1.0)
        assert [services.status(m) for m in ("editor", "corrector", "latent")] == ["not loaded"] * 3
        w.feature_docks["dock_correction"].raise_()
        assert pump(until=lambda: services.status("corrector") == "ready", timeout=60)
        assert services.status("latent") == "not loaded"
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()
