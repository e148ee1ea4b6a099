"""``python main.py`` (GUI, info, edit ...) must not import training / evaluation code; ``train|eval MODEL``
builds the model's options only when that command runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _is_training(module: str) -> bool:
    """nets.training, nets.<model>.train/eval/data (and the flat ``nets.<model>_train`` / ``_eval`` modules of the
    old layout, so the check means the same before and after the restructuring)."""
    if not module.startswith("core_models.nets."):
        return False
    last = module.rsplit(".", 1)[-1]
    return (module.startswith("core_models.nets.training") or last in ("train", "eval", "data")
            or last.endswith(("_train", "_eval")))

_PROBE = """
import json, sys
import main
parser = main.build_parser()
for argv in ([], ["info"], ["edit", "in.npz", "raise the left arm"], ["gui"], ["train", "editor"]):
    try:
        parser.parse_known_args(argv) if argv[:1] != ["train"] else None
    except SystemExit:
        pass
main.main(["info"])
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_gui_info_and_edit_parsing_import_no_training_module():
    loaded = _modules_after(_PROBE)
    assert "core_models.cli.train_eval" in loaded  # the train/eval commands are registered ...
    bad = [m for m in loaded if _is_training(m)]
    assert bad == [], f"training/evaluation modules imported without train/eval: {bad}"  # ... but nothing loaded


def test_train_help_builds_the_model_options(capsys):
    import main

    with pytest.raises(SystemExit):
        main.main(["train", "editor", "--help"])
    assert "--part-pairs" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main.main(["eval", "qposer", "--help"])
    assert "usage:" in capsys.readouterr().out


def test_missing_eval_module_is_reported_as_unavailable(monkeypatch, capsys):
    import main
    from core_models.cli import train_eval

    monkeypatch.setitem(train_eval.EVAL_MODULES, "phrasing", "core_models.text.no_such_phrasing_eval")
    assert main.main(["eval", "phrasing"]) == 2
    out = capsys.readouterr().out
    assert "eval phrasing is unavailable" in out and "no_such_phrasing_eval" in out


def test_phrasing_is_an_eval_only_entry():
    from core_models.cli import train_eval

    assert train_eval.EVAL_MODULES["phrasing"] == "core_models.text.phrasing_eval"
    assert "phrasing" not in train_eval.TRAIN_MODULES


_GUI_PROBE = """
import json, sys
import main
seen = []
main._run_gui = lambda args: seen.append(list(args.files)) or 0
main.main([])
main.main(["gui"])
main.main(["gui", "README.md"])
print(json.dumps({"files": seen, "cli": sorted(m for m in sys.modules if m.startswith("core_models.cli"))}))
"""


def test_the_gui_starts_without_building_the_cli():
    out = subprocess.run([sys.executable, "-c", _GUI_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["files"] == [[], [], ["README.md"]]
    assert res["cli"] == [], f"the GUI path imported CLI modules: {res['cli']}"


def test_gui_files_only_takes_plain_gui_requests(tmp_path):
    import main

    f = tmp_path / "pose.npz"
    f.write_bytes(b"x")
    assert main.gui_files([]) == []
    assert main.gui_files([str(f)]) == [str(f)]
    assert main.gui_files(["gui", str(f)]) == [str(f)]
    assert main.gui_files(["info"]) is None            # a command, not a file
    assert main.gui_files(["gui", "--help"]) is None   # options go through the parser
    assert main.gui_files(["train", "editor"]) is None
