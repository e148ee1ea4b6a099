"""Auto-posing runtime: :func:`load_autoposer` (hash-checked weights) → :class:`AutoPoser`, whose
``predict_matrices`` is what :class:`core_models.posing.DragSolver` calls on every full-body drag update."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core_models import kinematics as kin
from core_models.nets.autopose.model import AutoPoseNet, build_model
from core_models.nets.common.weights import load_module
from core_models.pose import matrix_to_6d, sixd_to_matrix
from core_models.posing.effectors import EFFECTOR_JOINTS, NUM_EFFECTORS

WEIGHTS_NAME = "autopose"


class AutoPoser:
    """The auto-posing network on one device (CPU by default), used from one thread at a time per drag."""

    def __init__(self, net: AutoPoseNet, meta: dict | None = None):
        self.net = net.eval()
        self.meta = meta or {}
        self.device = next(net.parameters()).device

    @torch.no_grad()
    def predict(self, effectors: np.ndarray, mask: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """Batched: effectors (B,11,3) pelvis-relative in the heading frame, mask (B,11), start (B,22,3,3) local
        rotations (root heading-normalised) or None → (B,22,3,3) predicted local rotations (float64)."""
        eff = torch.as_tensor(np.array(effectors, np.float32), device=self.device)
        m = torch.as_tensor(np.array(mask, bool), device=self.device)
        if eff.ndim != 3 or eff.shape[1:] != (NUM_EFFECTORS, 3) or m.shape != eff.shape[:2]:
            raise ValueError(f"effectors must be (B,{NUM_EFFECTORS},3) with a (B,{NUM_EFFECTORS}) mask, got "
                             f"{tuple(eff.shape)} and {tuple(m.shape)}")
        if not torch.isfinite(eff).all():
            raise ValueError("effector positions contain NaN or infinite values")
        s6 = None
        if start is not None:
            s6 = matrix_to_6d(torch.as_tensor(np.asarray(start, np.float32), device=self.device))
        d6 = self.net(eff, m, s6)
        return sixd_to_matrix(d6).double().cpu().numpy()

    def predict_matrices(self, effectors: np.ndarray, mask: np.ndarray, start: np.ndarray | None) -> np.ndarray:
        """One pose: (11,3), (11,), (22,3,3) | None → (22,3,3) (the :class:`core_models.posing.DragSolver` hook)."""
        return self.predict(np.asarray(effectors)[None], np.asarray(mask)[None],
                            None if start is None else np.asarray(start)[None])[0]


def effectors_of(R: np.ndarray, rest_joints: np.ndarray) -> np.ndarray:
    """(...,22,3,3) local rotations (root in the heading frame) → (...,11,3) pelvis-relative effectors."""
    _, J, _ = kin.fk_numpy(np.asarray(R, np.float64), np.asarray(rest_joints, np.float64))
    E = J[..., EFFECTOR_JOINTS, :]
    return E - E[..., :1, :]


def load_autoposer(directory: str | Path | None = None, device: torch.device | str | None = None) -> AutoPoser:
    """The shipped auto-posing network (WeightsError with a clear message when missing or corrupt)."""
    dev = torch.device(device) if device is not None else None
    net, meta = load_module(WEIGHTS_NAME, build_model, Path(directory) if directory else None, dev)
    assert isinstance(net, AutoPoseNet)
    return AutoPoser(net, meta)
