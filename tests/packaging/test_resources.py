"""Path resolution for the desktop bundle (core_models/resources.py and the places that use it), checked by
faking a frozen app: ``sys.frozen`` set and ``sys._MEIPASS`` pointing at a folder laid out like the bundle's."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models import resources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def frozen(tmp_path, monkeypatch):
    """A fake bundle root (``_MEIPASS``) with an empty ``resources/``; the app believes it is frozen."""
    meipass = tmp_path / "_internal"
    (meipass / "resources").mkdir(parents=True)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(meipass), raising=False)
    return meipass


def test_source_tree_paths():
    assert not resources.is_frozen()
    assert resources.app_root() == ROOT
    assert resources.resource_path("weights") == ROOT / "resources" / "weights"
    assert resources.bundled_path("poses") is None  # bundle-only files are never looked up outside the bundle
    from core_models.library import BUILTIN_DIR
    from core_models.nets.common.weights import WEIGHTS_DIR

    assert BUILTIN_DIR == ROOT / "resources" / "poses" and BUILTIN_DIR.is_dir()
    assert WEIGHTS_DIR == ROOT / "resources" / "weights" and WEIGHTS_DIR.is_dir()


def test_frozen_paths_resolve_under_meipass(frozen):
    assert resources.is_frozen()
    assert resources.app_root() == frozen
    assert resources.resource_path("poses", "a.json") == frozen / "resources" / "poses" / "a.json"
    assert resources.bundled_path("mediapipe") is None  # missing in the bundle → None, never a dead path
    (frozen / "resources" / "mediapipe").mkdir()
    assert resources.bundled_path("mediapipe") == frozen / "resources" / "mediapipe"


def test_landmark_models_come_from_the_bundle(frozen, monkeypatch, tmp_path):
    from core_models.capture import landmarks

    monkeypatch.delenv("POSETAILOR_MEDIAPIPE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert landmarks.model_dir() == tmp_path / "cache" / "posetailor" / "mediapipe"  # bundle without them
    mp = frozen / "resources" / "mediapipe"
    mp.mkdir()
    (mp / "pose_landmarker_lite.task").write_bytes(b"x")
    assert landmarks.model_dir() == mp
    assert landmarks.model_path("lite") == mp / "pose_landmarker_lite.task"
    assert landmarks.available_variants() == ["lite"]
    monkeypatch.setenv("POSETAILOR_MEDIAPIPE_DIR", str(tmp_path / "mine"))  # the user's choice still wins
    assert landmarks.model_dir() == tmp_path / "mine"


def test_body_cache_is_read_from_the_bundle_without_building(frozen, monkeypatch, tmp_path):
    """The bundle ships the default body's layer: a first start on a clean machine must not build it (a minute
    of work) nor write to the user's cache; a broken shipped file is rebuilt into the user's cache instead."""
    from core_models.body import anny_body

    user_cache = tmp_path / "user-cache"
    monkeypatch.setenv("POSETAILOR_CACHE", str(user_cache))
    name = f"anny_smplh_{anny_body._cache_key(anny_body.DEFAULT_PHENOTYPE)}.npz"
    source = Path.home() / ".cache" / "posetailor" / name
    if not source.is_file():
        anny_body.load_anny_layer()  # this checkout's own cache (what build.sh stages)
        source = user_cache / name
    shipped = frozen / "resources" / "body_cache"
    shipped.mkdir()
    shutil.copy2(source, shipped / name)
    for f in user_cache.glob("*"):
        f.unlink()

    def no_build(ph):
        raise AssertionError("the layer was built although the bundle ships it")

    monkeypatch.setattr(anny_body, "build_anny_layer", no_build)
    data = anny_body.load_anny_layer()
    with np.load(shipped / name) as z:
        assert np.array_equal(data.rest_vertices, z["rest_vertices"])
    assert list(user_cache.glob("*.npz")) == []

    (shipped / name).write_bytes(b"broken")
    rebuilt = []
    monkeypatch.setattr(anny_body, "build_anny_layer", lambda ph: rebuilt.append(ph) or data)
    anny_body.load_anny_layer()
    assert rebuilt and (user_cache / name).is_file()  # rebuilt into the user's cache, the bundle left alone
    assert (shipped / name).read_bytes() == b"broken"
