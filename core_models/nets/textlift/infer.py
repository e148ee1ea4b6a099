"""Runtime side of the study lifter: per-frame input features, sequence lifting, checkpoint loading.

Per-frame features (:func:`frame_features`) are the capture models' keypoint features of each frame on its own
(hip-centred, divided by that frame's body scale, y up, visibility, presence), so a window is just a stack of
frames and the dense (whole-sequence) and window forms of the network agree. Frames where MediaPipe found
nobody carry the last detected frame's landmarks with visibility and presence 0 (:func:`fill_undetected`:
forward fill, so a causal model still never looks ahead; leading misses take the first detection).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core_models.capture.synth import keypoint_features
from core_models.nets.textlift.config import TextLiftConfig
from core_models.nets.textlift.model import TextLifter


def frame_features(pixels: np.ndarray, visibility: np.ndarray, presence: np.ndarray | None = None) -> np.ndarray:
    """(F, 33, 2) pixel landmarks (x right, y down) + (F, 33) visibility/presence → (F, 33, 4), each frame
    normalised on its own."""
    p = np.asarray(pixels, np.float32)
    if p.ndim != 3 or p.shape[1:] != (33, 2):
        raise ValueError(f"pixels must be (F, 33, 2), got {p.shape}")
    return keypoint_features(p, visibility, presence)


def fill_undetected(feats: np.ndarray, detected: np.ndarray) -> np.ndarray:
    """Frames with ``detected`` False take the previous detected frame's landmarks (the first detected frame's
    for leading misses) with visibility and presence 0; a sequence with no detection at all is all zeros."""
    out = np.array(feats, np.float32, copy=True)
    det = np.asarray(detected, bool)
    if not det.any():
        out[:] = 0.0
        return out
    idx = np.where(det, np.arange(len(det)), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.argmax(det))
    out = out[idx]
    out[~det, :, 2:] = 0.0
    return out


@torch.no_grad()
def lift_sequence(model: TextLifter, feats: np.ndarray, text=None, mask=None) -> np.ndarray:
    """(F, 33, 4) per-frame features of one sequence → (F, 22, 3) root-relative canonical joints (metres)."""
    model.eval()
    dev = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(feats, np.float32), device=dev)[None]
    t = None if text is None else torch.as_tensor(text, device=dev).float()[None]
    m = None if mask is None else torch.as_tensor(mask, device=dev)[None]
    return model.forward_sequence(x, t, m)[0].cpu().numpy()


def load_textlift(path: str | Path, device: str | torch.device = "cpu") -> TextLifter:
    """A study checkpoint written by ``train textlift --save PATH`` ({"config", "state"}; test-time weights)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no textlift checkpoint at {path}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or "config" not in blob or "state" not in blob:
        raise ValueError(f"{path} is not a textlift checkpoint (expected keys 'config' and 'state')")
    model = TextLifter(TextLiftConfig.from_dict(blob["config"]))
    missing, unexpected = model.load_state_dict(blob["state"], strict=False)
    bad = [k for k in missing if not k.startswith(("align.", "head2."))]
    if bad or unexpected:
        raise ValueError(f"{path}: weights do not match the config (missing {bad[:3]}, unexpected {unexpected[:3]})")
    return model.to(device).eval()
