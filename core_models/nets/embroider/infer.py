"""Runtime side of PoseEmbroider: :func:`load_embroider` (the shipped embroider.pt), the frozen modality
:class:`Encoders` and :class:`CaptureModel`, the learned capture regressor's model side (lifter features →
PoseEmbroider / Aligner → SMPL-H head → rotation matrices). The capture pipeline
(:mod:`core_models.capture.regressor`) wraps :class:`CaptureModel`; nothing here imports the capture package."""
from __future__ import annotations

from pathlib import Path

import torch

from core_models.nets.common.pose_vae import (
    PoseVAE,
)
from core_models.device import as_device, model_device, on_device
from core_models.nets.common.weights import WeightsError, float_state, load_weights
from core_models.nets.embroider.model import (
    Aligner,
    EmbroiderConfig,
    PoseEmbroider,
    SMPLHead,
)
from core_models.nets.lifter.infer import load_lifter, load_variants
from core_models.nets.lifter.model import Lifter, LifterPair
from core_models.pose import sixd_to_matrix


class Encoders:
    """The frozen modality encoders → raw encodings {v, p, t}, on the lifter's device (inputs are moved there;
    the pose VAE must live on the same device)."""

    def __init__(self, lifter, pose_vae):
        self.lifter, self.pose_vae = lifter, pose_vae
        self.window = lifter.cfg.window

    @property
    def device(self) -> torch.device:
        return model_device(self.lifter)

    @torch.no_grad()
    def visual(self, kp: torch.Tensor) -> torch.Tensor:
        f, j = self.lifter.features(kp.to(self.device))
        return torch.cat([f.mean(1), j.flatten(1)], -1)

    @torch.no_grad()
    def pose(self, rotmats: torch.Tensor) -> torch.Tensor:
        return self.pose_vae.encode(rotmats.to(self.device)).loc



def load_embroider(directory: Path | None = None, device=None):
    """(embroider, aligner, {name: head}, pose_vae, config) from the shipped embroider.pt, on ``device`` (a
    :mod:`core_models.device` spec or torch.device; None: the CPU)."""
    dev = as_device(device if device is not None else "cpu")
    blob = load_weights("embroider", directory)
    cfg = blob["config"]
    st = float_state(blob["state"])

    def part(prefix):
        return {k[len(prefix):]: v for k, v in st.items() if k.startswith(prefix)}

    ec = EmbroiderConfig.from_dict(cfg["embroider"])
    emb, ali = PoseEmbroider(ec), Aligner(ec)
    emb.load_state_dict(part("embroider."))
    ali.load_state_dict(part("aligner."))
    heads = {}
    for name in ("embroider", "aligner"):
        h = SMPLHead(ec.d)
        h.load_state_dict(part(f"head_{name}."))
        heads[name] = h.to(dev).eval()
    vae = PoseVAE(latent_dim=32, hidden=256, feat_dim=256, layers=2, dropout=0.1)
    vae.load_state_dict(part("pose_vae."), strict=False)   # the decoder is not shipped
    return emb.to(dev).eval(), ali.to(dev).eval(), heads, vae.to(dev).eval(), cfg


class CaptureModel:
    """Lifter + PoseEmbroider (or the Aligner baseline, ``representation="aligner"``) + SMPL-H head; or
    ``representation="direct"``: the real-landmark lifter variant with its own pose head (``model``/``head``
    None; ``train lifter --landmarks NAME``).

    ``predict(kp, text_feature)``: keypoint features (1, T, 33, 4) of the last ``window`` observations and an
    optional pooled text feature (1, 384) → (heading-normalised rotation matrices (22, 3, 3), lifted joints
    (22, 3) in the camera-aligned frame)."""

    def __init__(self, lifter: Lifter | LifterPair, model: PoseEmbroider | Aligner | None, head: SMPLHead | None,
                 name: str):
        self.lifter, self.model, self.head, self.name = lifter, model, head, name
        self.window = lifter.cfg.window
        #: the lifter reads MediaPipe's world landmarks too (7 features per landmark instead of 4)
        self.uses_world = lifter.cfg.in_dim >= 7

    @property
    def device(self) -> torch.device:
        return model_device(self.model if self.model is not None else self.lifter)

    @torch.no_grad()
    def predict(self, kp: torch.Tensor, text_feature: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs go to the model's device; the results come back on the CPU."""
        dev = self.device
        if self.model is None or self.head is None:
            with on_device(self.lifter):
                th, lifted = self.lifter.predict_pose(kp.to(dev))
                return sixd_to_matrix(th)[0].cpu(), lifted[0].cpu()
        assert isinstance(self.lifter, Lifter), "the PoseEmbroider chain reads one lifter's features"
        with on_device(self.model):
            f, lifted = self.lifter.features(kp.to(dev))
            raw = {"v": torch.cat([f.mean(1), lifted.flatten(1)], -1)}
            subset: tuple[str, ...] = ("v",)
            if text_feature is not None:
                raw["t"] = text_feature.to(dev)
                subset = ("v", "t")
            x = self.model(raw, subset)
            return sixd_to_matrix(self.head(x))[0].cpu(), lifted[0].cpu()


def load_capture_model(directory: Path | None = None, representation: str = "embroider",
                       device=None) -> CaptureModel:
    """The shipped capture model (embroider.pt + the lifter variant it was trained on) on ``device`` (a
    :mod:`core_models.device` spec or torch.device; None: the CPU). Raises
    :class:`~core_models.nets.common.weights.WeightsError` when a weights file is missing or corrupt,
    :class:`~core_models.device.DeviceError` for a device this machine lacks."""
    if representation not in ("embroider", "aligner", "direct"):
        raise ValueError(f"unknown representation {representation!r}: 'embroider', 'aligner' or 'direct'")
    if representation == "direct":
        return load_direct_model(directory, device)
    emb, ali, heads, _vae, cfg = load_embroider(directory)
    dev = as_device(device if device is not None else "cpu")
    lifter = load_lifter(cfg.get("lifter_variant"), directory, dev)
    model, head = (emb if representation == "embroider" else ali).to(dev), heads[representation].to(dev)
    return CaptureModel(lifter, model, head, representation)


def load_direct_model(directory: Path | None = None, device=None) -> CaptureModel:
    """The real-landmark lifter variant with its pose head (lifter.pt config ``real_default``, trained by
    ``python main.py train lifter --landmarks NAME``). Raises WeightsError when lifter.pt has none."""
    dev = as_device(device if device is not None else "cpu")
    models, cfg = load_variants(directory, dev)
    name = cfg.get("real_default")
    if not name or name not in models or not models[name].cfg.pose_head:
        raise WeightsError("lifter.pt has no real-landmark variant with a pose head; train one with "
                           "python main.py train lifter --landmarks NAME")
    pair = cfg.get("real_ensemble")  # two variants averaged on SO(3) (LifterPair), when the config names them
    if pair:
        missing = [n for n in pair if n not in models or not models[n].cfg.pose_head]
        if missing:
            raise WeightsError(f"lifter.pt names the real-landmark pair {pair} but lacks {missing}; restore "
                               "resources/weights/lifter.pt")
        return CaptureModel(LifterPair([models[n] for n in pair]).eval(), None, None, "direct")
    return CaptureModel(models[name], None, None, "direct")
