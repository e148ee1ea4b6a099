"""Session fixtures for the export tests (body models)."""
from __future__ import annotations

import importlib.util

import pytest

from core_models.body import load_body

from .readers import ROOT


@pytest.fixture(scope="session")
def anny():
    return load_body("anny")


@pytest.fixture(scope="session")
def smplh(anny, tmp_path_factory):
    """The official-SMPL-H backend on a small synthetic model file (tests/body/synthetic_smplh.py)."""
    spec = importlib.util.spec_from_file_location("_synthetic_smplh", ROOT / "tests" / "body" / "synthetic_smplh.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    p = tmp_path_factory.mktemp("smplh") / "model.npz"
    mod.build(p, anny.skinning)
    return load_body("smplh", model_path=p)
