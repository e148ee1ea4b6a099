"""core_models.services (lazy, lock-guarded model access, cached failures, one editor per process) and
core_models.io.pose_file (the one pose-file reader)."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core_models.io import pose_file as pf
from core_models.pose import Pose
from core_models.services import LazyModel, ModelServices, ModelUnavailable, default_services

ROOT = Path(__file__).resolve().parents[2]


# --- LazyModel / ModelServices ---------------------------------------------------------------------------------

def test_two_threads_asking_at_once_get_one_instance():
    started = threading.Event()

    def slow_load():
        started.set()
        time.sleep(0.2)  # the second thread arrives while the first one is loading
        return object()

    lazy = LazyModel("slow", slow_load)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(lazy.get())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == 4 and all(g is got[0] for g in got)
    assert lazy.loads == 1 and lazy.status() == "ready"


def test_failure_is_cached_with_the_models_own_message():
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("the 'editor' model weights are missing (/x/editor.pt)")

    s = ModelServices(loaders={"editor": broken})
    assert s.status("editor") == "not loaded"
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match="the 'editor' model weights are missing"):
            s.editor()
    assert len(calls) == 1  # not retried on every click
    assert s.status("editor") == "unavailable: the 'editor' model weights are missing (/x/editor.pt)"


def test_missing_weights_folder_gives_weights_error_text(tmp_path):
    s = ModelServices(weights_dir=tmp_path)
    with pytest.raises(ModelUnavailable) as e:
        s.corrector()
    assert "corrector" in str(e.value) and str(tmp_path) in str(e.value)
    assert s.status("corrector").startswith("unavailable: ")
    out = s.compare(Pose.zeros(), Pose.zeros())  # the rule text still works without the learned model
    assert out.learned is None and out.learned_error.startswith("unavailable: ")
    assert out.rules.startswith("No change")


def test_latent_editor_works_without_its_optional_parts():
    """A missing prompt model leaves the QPoser latent editor usable (prompter None) and says why."""
    def no_prompter():
        raise RuntimeError("the 'qposer_prompt' model weights are missing")

    s = ModelServices(loaders={"prompter": no_prompter})
    ed = s.latent()
    assert ed.prompter is None and ed.gen is not None and ed.gen is s.generator()
    assert s.status("prompter") == "unavailable: the 'qposer_prompt' model weights are missing"
    assert s.status("latent") == "ready" and s.latent() is ed


def test_unknown_loader_is_refused():
    with pytest.raises(ValueError, match="nope"):
        ModelServices(loaders={"nope": object})


def test_default_services_is_one_per_process():
    got = []
    threads = [threading.Thread(target=lambda: got.append(default_services())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert all(g is got[0] for g in got)


def test_shipped_editor_is_loaded_once_and_shared():
    s = ModelServices()
    eds: list[object] = []
    threads = [threading.Thread(target=lambda: eds.append(s.editor())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(eds) == 2 and eds[0] is eds[1] and s._editor.loads == 1


def test_shipped_corrector_gives_a_learned_text():
    from core_models.library import load_builtin

    lib = {p.slug: p.pose for p in load_builtin()}
    out = ModelServices().compare(lib["mountain"], lib["tree"])
    assert out.learned_error is None and out.learned and not out.learned.startswith("No change")
    assert out.displacement.shape == (22,)


def test_importing_services_does_not_import_models_training_or_cli():
    code = ("import sys; import core_models.services; "
            "bad = [m for m in sys.modules "
            "if m.startswith(('core_models.cli', 'core_models.nets', 'core_models.capture')) "
            "or m.endswith(('.train', '.eval', '_train'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --- pose_file ---------------------------------------------------------------------------------------------------

def _pose(seed=0) -> Pose:
    rng = np.random.default_rng(seed)
    return Pose(rng.normal(0, 0.3, 3), rng.normal(0, 0.2, (21, 3)), rng.normal(0, 0.1, 3))


def test_npz_roundtrip_and_frames(tmp_path):
    f = tmp_path / "a.npz"
    pf.write_pose_file(f, _pose(1))
    got = pf.read_pose_file(f)
    assert got.kind == "npz" and got.frames == 1 and got.pose.batch_shape == ()
    assert got.pose.allclose(_pose(1), atol=1e-5)
    batch = Pose(np.stack([_pose(i).root_orient for i in range(3)]), np.stack([_pose(i).body_pose for i in range(3)]),
                 np.stack([_pose(i).transl for i in range(3)]))
    pf.write_pose_file(tmp_path / "b.npz", batch)
    got = pf.read_pose_file(tmp_path / "b.npz", frame=2)
    assert got.frames == 3 and got.pose.allclose(_pose(2), atol=1e-5)
    with pytest.raises(pf.PoseFileError, match="frame 3 out of range"):
        pf.read_pose_file(tmp_path / "b.npz", frame=3)


def test_library_and_session_json(tmp_path):
    from core_models.session import Session

    got = pf.read_pose_file(ROOT / "resources" / "poses" / "tree.json")
    assert got.kind == "library" and got.library is not None and got.library.slug == "tree"
    s = Session()
    s.set_pose(_pose(3))
    s.add_keyframe("k", _pose(4))
    s.save(tmp_path / "s.json")
    got = pf.read_pose_file(tmp_path / "s.json")
    assert got.kind == "session" and got.session is not None and [k.name for k in got.session.keyframes] == ["k"]


@pytest.mark.parametrize("make, needle", [
    (lambda f: f.write_bytes(b"not a zip"), "not an .npz"),
    (lambda f: np.savez(f, poses=np.array([{"evil": 1}], dtype=object)), "pickle"),
    (lambda f: np.savez(f, foo=np.zeros(3)), "bad.npz"),
])
def test_bad_npz_raises_pose_file_error_naming_the_file(tmp_path, make, needle):
    f = tmp_path / "bad.npz"
    make(f)
    with pytest.raises(pf.PoseFileError) as e:
        pf.read_pose_file(f)
    assert needle in str(e.value) and "bad.npz" in str(e.value)


def test_unknown_json_and_missing_file(tmp_path):
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(pf.PoseFileError, match="not a PoseTailor pose or session"):
        pf.read_pose_file(tmp_path / "x.json")
    with pytest.raises(pf.PoseFileError, match="file not found"):
        pf.read_pose_file(tmp_path / "nothing.npz")
    with pytest.raises(pf.PoseFileError, match="unknown pose file type"):
        (tmp_path / "a.txt").write_text("x")
        pf.read_pose_file(tmp_path / "a.txt")


def test_cli_render_reads_every_pose_file_kind_through_the_shared_reader(tmp_path):
    """Before the shared reader, the CLI's read_pose_file only read .npz (a library pose .json failed). The
    library keeps its own format validator (pose_file uses it; the reverse import would be a cycle)."""
    from core_models.cli.render import read_pose_file
    from core_models.library import LibraryError
    from core_models.library import read_pose_file as read_library

    tree = ROOT / "resources" / "poses" / "tree.json"
    assert read_pose_file(str(tree)).allclose(read_library(tree).pose)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (pf.MAX_JSON_BYTES + 1))
    with pytest.raises(LibraryError, match="too large"):
        read_library(big)
