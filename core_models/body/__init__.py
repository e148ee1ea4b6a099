"""Body models: one protocol (``BodyModel``), two backends (Anny, default; official SMPL-H via smplx)."""
from __future__ import annotations

from core_models.body.base import BodyModel, BodyOutput, LBSBody, SkinningData, vertex_normals

__all__ = ["BodyModel", "BodyOutput", "LBSBody", "SkinningData", "vertex_normals", "load_body", "BodyLoadError"]


class BodyLoadError(RuntimeError):
    """The requested body model could not be loaded; the message says why and what to do."""


def load_body(name: str = "anny", **kwargs) -> BodyModel:
    """Create a body model by backend name: ``"anny"`` (phenotype=dict) or ``"smplh"`` (model_path=...)."""
    if name == "anny":
        from core_models.body.anny_body import AnnyBody

        return AnnyBody(**kwargs)
    if name == "smplh":
        from core_models.body.smplh_body import SMPLHBody

        return SMPLHBody(**kwargs)
    raise BodyLoadError(f"unknown body backend {name!r} (use 'anny' or 'smplh')")
