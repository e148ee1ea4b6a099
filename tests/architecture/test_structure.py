"""Architecture rules the suite enforces: no import cycles in core_models (function-level imports count),
no function over 80 lines, and the scans themselves catch a deliberate violation."""
from __future__ import annotations

import _scan


def test_core_models_has_no_import_cycles():
    found = _scan.cycles(_scan.import_graph("core_models"))
    assert found == [], "import cycles in core_models (function-level imports included):\n" + "\n".join(
        " ↔ ".join(c) for c in found)


def test_cycle_scan_finds_a_hidden_function_level_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _scan.cycles(graph) == [["a", "b", "c"]]
    assert _scan.cycles({"a": {"b"}, "b": set()}) == []


def test_import_graph_sees_imports_inside_functions(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg import b\n    return b\n")
    (pkg / "b.py").write_text("from . import a\n")
    monkeypatch.setattr(_scan, "ROOT", tmp_path)
    graph = _scan.import_graph("pkg")
    assert graph["pkg.a"] == {"pkg.b"}
    assert ["pkg.a", "pkg.b"] in _scan.cycles(graph)


def test_no_function_longer_than_80_lines():
    long = _scan.long_functions(80)
    assert long == [], "functions over 80 lines (split them into named stages):\n" + "\n".join(
        f"{where}: {n} lines" for where, n in long)


def test_length_scan_counts_a_long_function(tmp_path, monkeypatch):
    body = "\n".join(f"    x{i} = {i}" for i in range(85))
    (tmp_path / "core_models").mkdir()
    (tmp_path / "core_models" / "m.py").write_text(f"def short():\n    return 1\n\n\ndef too_long():\n{body}\n")
    (tmp_path / "main.py").write_text("def main():\n    return 0\n")
    monkeypatch.setattr(_scan, "ROOT", tmp_path)
    monkeypatch.setattr(_scan, "SOURCE_DIRS", ("core_models",))
    assert _scan.long_functions(80) == [("core_models/m.py:5 too_long", 86)]
