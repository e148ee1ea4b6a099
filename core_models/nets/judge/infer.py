"""Judge runtime: :func:`load_judge` and :class:`Judge` (text and pose-pair embeddings)."""
from __future__ import annotations

from typing import cast

import torch

from core_models.device import as_device, model_device, on_device
from core_models.nets.common.weights import load_module
from core_models.nets.corrector.model import (
    Vocab,
    pose_features,
)
from core_models.nets.judge.model import JudgeNet, build_judge_net, pad_batch
from core_models.pose import (
    Pose,
)


class Judge:
    def __init__(self, net: JudgeNet, meta: dict | None = None):
        self.net = net.eval()
        self.vocab = Vocab(net.cfg.vocab)
        self.meta = meta or {}

    @torch.no_grad()
    def embed_texts(self, texts: list[str], batch_size: int = 256) -> torch.Tensor:
        ids = self.vocab.encode(list(texts), self.net.cfg.max_len)
        with on_device(self.net):
            out = [self.net.encode_text(pad_batch(ids[s:s + batch_size], self.net.cfg.max_len)).cpu()
                   for s in range(0, len(ids), batch_size)]
        return torch.cat(out) if out else torch.zeros((0, self.net.cfg.d_embed))

    @torch.no_grad()
    def embed_pairs(self, a: Pose, b: Pose, batch_size: int = 1024) -> torch.Tensor:
        dev = model_device(self.net)
        fa, fb = pose_features(a).to(dev), pose_features(b).to(dev)
        with on_device(self.net):
            return torch.cat([self.net.encode_pair(fa[s:s + batch_size], fb[s:s + batch_size]).cpu()
                              for s in range(0, len(fa), batch_size)])


def load_judge(name: str = "judge", directory=None, device=None) -> Judge:
    """The shipped judge on ``device`` (a :mod:`core_models.device` spec or torch.device; None: the CPU)."""

    net, meta = load_module(name, build_judge_net, directory, as_device(device if device is not None else "cpu"))
    return Judge(cast(JudgeNet, net), meta)
