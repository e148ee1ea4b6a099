"""Helpers shared by the app tests (imported as a top-level module: tests/ has no __init__.py)."""
from __future__ import annotations

import time

import numpy as np


def pump(seconds: float = 0.0, until=None, timeout: float = 20.0) -> bool:
    """Process Qt events for ``seconds`` or until ``until()`` is true (False on timeout)."""
    from PySide6.QtCore import QCoreApplication

    t0 = time.monotonic()
    while True:
        QCoreApplication.processEvents()
        now = time.monotonic() - t0
        if until is not None:
            if until():
                return True
            if now > timeout:
                return False
        elif now >= seconds:
            return True
        time.sleep(0.005)


def tiny_body():
    """An LBSBody on the default rest skeleton: one small triangle per joint (fast, no Anny needed)."""
    from core_models import skeleton as sk
    from core_models.body.base import LBSBody, SkinningData, sparsify_weights, vertex_normals

    J = sk.DEFAULT_REST_JOINTS.astype(np.float32)
    off = np.array([[0.02, 0, 0], [-0.02, 0, 0], [0, 0.03, 0.01]], np.float32)
    V = (J[:, None, :] + off[None]).reshape(-1, 3)
    F = np.arange(V.shape[0], dtype=np.int32).reshape(-1, 3)
    W = np.zeros((V.shape[0], sk.NUM_JOINTS), np.float32)
    W[np.arange(V.shape[0]), np.repeat(np.arange(sk.NUM_JOINTS), 3)] = 1.0
    idx, val = sparsify_weights(W, 4)
    data = SkinningData(rest_vertices=V, rest_normals=vertex_normals(V, F), faces=F, rest_joints=J,
                        parents=sk.PARENTS.copy(), joint_names=sk.JOINT_NAMES, weights=W, weight_idx=idx,
                        weight_val=val, floor_height=float(V[:, 1].min()))
    body = LBSBody(data)
    body.name = "tiny"
    return body


class RecordingDialogs:
    """Stands in for app.main_window.Dialogs: records messages, answers questions as told."""

    def __init__(self, restore: bool = True, save_changes: str = "discard", open_path=None, save_path=None):
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.restore_asked: list[str] = []
        self.restore = restore
        self.save_changes = save_changes
        self.open_path = open_path
        self.save_path = save_path
        self.smplh_path = None

    def error(self, parent, title, text):
        self.errors.append((title, text))

    def info(self, parent, title, text):
        self.infos.append((title, text))

    def ask_restore(self, parent, when, detail):
        self.restore_asked.append(when)
        return self.restore

    def ask_save_changes(self, parent, name):
        return self.save_changes

    def open_smplh(self, parent, directory):
        return self.smplh_path

    def open_file(self, parent, directory):
        return self.open_path

    def save_file(self, parent, suggested):
        return self.save_path

    def get_text(self, parent, title, label, text=""):
        return None
