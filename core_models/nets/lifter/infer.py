"""Lifter runtime: every variant shipped in lifter.pt (:func:`load_variants`) and the default one
(:func:`load_lifter`)."""
from __future__ import annotations

from pathlib import Path

from core_models.device import as_device
from core_models.nets.common.weights import float_state, load_weights
from core_models.nets.lifter.model import (
    Lifter,
    LifterConfig,
)


def variant_name(align: str, window: int) -> str:
    return f"{align}_T{window}"


def real_variant_name(tag: str | None = None) -> str:
    """The variant a real-landmark training step (``train lifter --landmarks … [--tag TAG]``) merges into
    lifter.pt: ``real[-TAG]_T1``."""
    return variant_name(f"real-{tag}" if tag else "real", 1)


def load_variants(directory: Path | None = None, device=None) -> tuple[dict[str, Lifter], dict]:
    """All lifter variants shipped in lifter.pt ({name: model}, manifest config), on ``device`` (a
    :mod:`core_models.device` spec or torch.device; None: the CPU)."""
    dev = as_device(device if device is not None else "cpu")

    blob = load_weights("lifter", directory)
    cfgs = blob["config"]["variants"]
    st = float_state(blob["state"])
    out = {}
    for name, cd in cfgs.items():
        m = Lifter(LifterConfig.from_dict(dict(cd, align="none")))
        pre = f"{name}."
        m.load_state_dict({k[len(pre):]: v for k, v in st.items() if k.startswith(pre)})
        out[name] = m.eval().to(dev)
    return out, blob["config"]


def load_lifter(name: str | None = None, directory: Path | None = None, device=None) -> Lifter:
    models, cfg = load_variants(directory, device)
    return models[name or cfg["default"]]
