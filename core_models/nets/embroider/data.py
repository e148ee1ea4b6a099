"""PoseEmbroider training data: raw modality encodings {v, p, t} of capture samples."""
from __future__ import annotations

import numpy as np
import torch

from core_models.nets.embroider.infer import Encoders
from core_models.nets.embroider.model import (
    MODALITIES,
)
from core_models.nets.training.capture_data import (
    CaptureData,
    make_batch,
)


def capture_rotmats(data: CaptureData, sel=None) -> torch.Tensor:
    from core_models.pose import Pose

    sel = slice(None) if sel is None else sel
    return torch.from_numpy(Pose(data.root_orient[sel], data.body_pose[sel]).matrices().astype(np.float32))


def raw_encodings(enc: Encoders, data: CaptureData, sel, rng, with_pose: bool = True,
                  with_text: bool = True) -> dict[str, torch.Tensor]:
    """Raw encodings {v, p, t} of the samples ``sel`` (synthetic keypoints drawn on the CPU with ``rng``), on the
    encoders' device."""
    kp, _, _ = make_batch(data, sel, rng, enc.window)
    out = {"v": enc.visual(kp)}
    if with_pose:
        out["p"] = enc.pose(capture_rotmats(data, sel))
    if with_text:
        out["t"] = data.text_pooled[torch.as_tensor(sel)].float().to(enc.device)
    return out


def fixed_raw(enc: Encoders, data: CaptureData, seed: int = 123, batch: int = 1024) -> dict:
    """One fixed synthetic draw of every modality for evaluation."""
    rng = np.random.default_rng(seed)
    parts = [raw_encodings(enc, data, np.arange(s, min(s + batch, len(data))), rng) for s in range(0, len(data), batch)]
    return {m: torch.cat([p[m] for p in parts]) for m in MODALITIES}
