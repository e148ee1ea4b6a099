"""Corrector runtime: :func:`load_corrector` and :class:`Corrector` (batched greedy/beam decoding, no-change
shortcut, left/right equivariance), and the learned/rule texts side by side (:func:`correction_texts`)."""
from __future__ import annotations

import numpy as np
from typing import cast

import torch

from core_models.captioning.compare import NO_CHANGE_TEXT
from core_models.captioning.textutil import flip_text
from core_models.device import as_device, model_device, on_device
from core_models.nets.common.weights import load_module
from core_models.nets.corrector.model import (
    NO_CHANGE_M,
    NO_REPEAT,
    CorrectorNet,
    Vocab,
    build_net,
    chirality,
    pair_joint_displacement,
    pose_features,
    to_pair_frame,
)
from core_models.pose import (
    Pose,
    mirror,
)


class Corrector:
    """Generates correction texts for pose pairs. ``generate(a, b)`` accepts single poses or batches."""

    def __init__(self, net: CorrectorNet, meta: dict | None = None):
        self.net = net.eval()
        self.vocab = Vocab(net.cfg.vocab)
        self.meta = meta or {}
        self.no_repeat = NO_REPEAT

    @torch.no_grad()
    def generate(self, a: Pose, b: Pose, method: str = "greedy", beam: int = 4, max_len: int | None = None,
                 equivariant: bool = True, batch_size: int = 256, no_repeat: int | None = None) -> str | list[str]:
        single = a.batch_shape == ()
        A, B = to_pair_frame(Pose(a.root_orient.reshape(-1, 3), a.body_pose.reshape(-1, 21, 3)),
                             Pose(b.root_orient.reshape(-1, 3), b.body_pose.reshape(-1, 21, 3)))
        n = len(A.root_orient)
        still = pair_joint_displacement(A, B).max(-1) < NO_CHANGE_M
        flip = chirality(A, B) < 0 if equivariant else np.zeros(n, bool)
        if flip.any():
            ma, mb = mirror(A), mirror(B)
            A = Pose(np.where(flip[:, None], ma.root_orient, A.root_orient),
                     np.where(flip[:, None, None], ma.body_pose, A.body_pose))
            B = Pose(np.where(flip[:, None], mb.root_orient, B.root_orient),
                     np.where(flip[:, None, None], mb.body_pose, B.body_pose))
        fa, fb = pose_features(A), pose_features(B)
        texts: list[str] = []
        with on_device(self.net):  # decoding builds its token tensors where the net lives (a no-op on the CPU)
            dev = model_device(self.net)
            fa, fb = fa.to(dev), fb.to(dev)
            for s in range(0, n, batch_size):
                texts.extend(self._decode(fa[s:s + batch_size], fb[s:s + batch_size], method, beam, max_len,
                                          no_repeat))
        texts = [NO_CHANGE_TEXT if st else (flip_text(t) if f else t) for t, st, f in zip(texts, still, flip)]
        return texts[0] if single else texts

    def _decode(self, fa, fb, method: str, beam: int, max_len: int | None, no_repeat: int | None) -> list[str]:
        if method == "greedy":
            ids = self.net.greedy(fa, fb, max_len, self.no_repeat if no_repeat is None else no_repeat)
        elif method == "beam":
            ids = self.net.beam(fa, fb, beam=beam, max_len=max_len)
        else:
            raise ValueError(f"unknown decoding method {method!r} (greedy | beam)")
        return [self.vocab.decode(x) for x in ids]


def load_corrector(name: str = "corrector", directory=None, device=None) -> Corrector:
    """The shipped corrector on ``device`` (a :mod:`core_models.device` spec or torch.device; None: the CPU).
    Raises ``weights.WeightsError`` with a clear message when missing/corrupt, ``DeviceError`` for a device this
    machine lacks."""

    net, meta = load_module(name, build_net, directory, as_device(device if device is not None else "cpu"))
    return Corrector(cast(CorrectorNet, net), meta)


def rule_text(a: Pose, b: Pose, max_instructions: int = 3) -> str:
    from core_models.captioning.compare import correct

    return correct(a, b, max_instructions=max_instructions).text


def correction_texts(a: Pose, b: Pose, method: str = "both", corrector: Corrector | None = None,
                     decode: str = "greedy") -> dict[str, str]:
    """{'learned': ..., 'rules': ...} for one pair (keys per ``method``: learned | rules | both)."""
    out: dict[str, str] = {}
    if method in ("learned", "both"):
        c = corrector or load_corrector()
        text = c.generate(a, b, method=decode)
        out["learned"] = text if isinstance(text, str) else text[0]
    if method in ("rules", "both"):
        out["rules"] = rule_text(a, b)
    return out
