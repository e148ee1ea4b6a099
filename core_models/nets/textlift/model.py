"""Temporal text-aligned 2D→3D lifter for the issue-14 seed study (seed 002: "Learning Knowledge from Textual
Descriptions for 3D Human Pose Estimation"; our own code).

* :class:`TemporalBackbone` — VideoPose3D-style dilated temporal convolutions (kernel 3, dilations 1, 3, 9, 27,
  residual blocks with batch norm). Two equivalent execution modes share the weights: **window** mode (a batch
  of T-frame windows, the kernel-3 convolutions run with stride 3 — the cheap training form, one output per
  window) and **dense** mode (a whole sequence, dilated convolutions, one output per frame). A causal model lifts
  the last frame of its window (it never sees the future); a centred one the middle frame.
* :class:`TextLifter` — backbone → per-joint pose tokens ``f_pose`` (B, 22, d) → a shared linear head → the
  22 SMPL-H joints, root-relative, in the **canonical frame** (y up, heading removed: camera-invariant — the
  frame the automatic descriptions speak about), metres.
* Training-only alignment branch (``align``): the frozen MiniLM token states of the pose's own description
  (pooled to ``text_slots`` tokens) are mapped into the pose-token space (``f_trans`` (B, 22, d)) by
  - ``cm``: M cross-modality blocks, query = pose tokens, key/value = the text stream w (w⁰ = text),
    h = LN(w + MCA(f_pose, w)), w' = LN(h + FF(h)) (Eq. 5–7; the first block has no residual because it maps
    the m text tokens onto the n = 22 pose tokens);
  - ``fc``: a linear map of the text features and a linear map from the m text tokens to the 22 pose tokens;
  - ``oracle`` (control): the same CM blocks fed the ground-truth canonical joints instead of the text;
  and a second head predicts the joints from ``f_trans``. L = L_err1 + α·KL(f_pose, f_trans) + β·L_err2
  (:func:`textlift_losses`); at test time only the backbone and the first head run.
* ``input`` (control): the description is fused into the pose tokens (pose tokens + a CM block over the text)
  at training **and** test time — it measures how much 3D information the descriptions carry at all.
"""
from __future__ import annotations

from typing import cast

import torch
import torch.nn as nn
import torch.nn.functional as F

from core_models.nets.textlift.config import TextLiftConfig
from core_models.pose import rigid_align

N_LANDMARKS = 33
N_JOINTS = 22
TEXT_DIM = 384


class TemporalBackbone(nn.Module):
    """Dilated temporal convolutions over per-frame landmark features (VideoPose3D-like)."""

    def __init__(self, cfg: TextLiftConfig):
        super().__init__()
        C = cfg.channels
        self.expand = nn.Conv1d(N_LANDMARKS * cfg.in_dim, C, 3, bias=False)
        self.expand_bn = nn.BatchNorm1d(C)
        n = cfg.levels - 1
        self.convs = nn.ModuleList(nn.Conv1d(C, C, 3, bias=False) for _ in range(n))
        self.bn1 = nn.ModuleList(nn.BatchNorm1d(C) for _ in range(n))
        self.pw = nn.ModuleList(nn.Conv1d(C, C, 1, bias=False) for _ in range(n))
        self.bn2 = nn.ModuleList(nn.BatchNorm1d(C) for _ in range(n))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, dense: bool = False) -> torch.Tensor:
        """x (B, 33·in_dim, L) → (B, C, L') with L' = 1 for a window (L = 3^levels, ``dense=False``) and
        L' = L − window + 1 in dense mode."""
        stride = 1 if dense else 3
        x = self.drop(F.relu(self.expand_bn(F.conv1d(x, self.expand.weight, stride=stride))))
        for i, mod in enumerate(self.convs):
            conv = cast(nn.Conv1d, mod)
            dil = 3 ** (i + 1)
            if dense:
                res = x[:, :, dil:x.shape[2] - dil]
                y = F.conv1d(x, conv.weight, dilation=dil)
            else:
                res = x[:, :, 1::3]
                y = F.conv1d(x, conv.weight, stride=3)
            y = self.drop(F.relu(self.bn1[i](y)))
            x = res + self.drop(F.relu(self.bn2[i](self.pw[i](y))))
        return x


class CMBlock(nn.Module):
    """h = LN(w + MCA(q, w)) (no residual when ``residual`` is False), w' = LN(h + FF(h))."""

    def __init__(self, d: int, heads: int, ff: int):
        super().__init__()
        self.att = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.ReLU(), nn.Linear(ff, d))

    def forward(self, q, w, pad=None, residual: bool = True):
        a = self.att(q, w, w, key_padding_mask=pad, need_weights=False)[0]
        h = self.ln1(w + a if residual else a)
        return self.ln2(h + self.ff(h))


class CMAlign(nn.Module):
    """The seed's cross-modality alignment; ``source="joints"`` is the oracle control (GT joints as tokens)."""

    def __init__(self, cfg: TextLiftConfig, source: str = "text"):
        super().__init__()
        self.source = source
        self.proj = nn.Linear(TEXT_DIM if source == "text" else 3, cfg.d)
        self.joint_embed = nn.Parameter(torch.randn(N_JOINTS, cfg.d) * 0.02) if source == "joints" else None
        self.blocks = nn.ModuleList(CMBlock(cfg.d, cfg.heads, cfg.ff) for _ in range(cfg.align_layers))

    def forward(self, f_pose, text=None, mask=None, joints=None):
        if self.source == "joints":
            w, pad = self.proj(joints) + self.joint_embed, None
        else:
            w, pad = self.proj(text), (None if mask is None else ~mask)
        for i, blk in enumerate(self.blocks):
            # the first block maps the m text tokens onto the 22 pose tokens (no residual: the shapes differ);
            # the oracle's joint tokens already are the 22 pose tokens, so its residual keeps them
            w = blk(f_pose, w, pad if i == 0 else None, residual=i > 0 or self.source == "joints")
        return w


class FCAlign(nn.Module):
    def __init__(self, cfg: TextLiftConfig):
        super().__init__()
        self.feat = nn.Linear(TEXT_DIM, cfg.d)
        self.tokens = nn.Linear(cfg.text_slots, N_JOINTS)

    def forward(self, f_pose, text=None, mask=None, joints=None):
        x = self.feat(text)
        if mask is not None:
            x = x * mask.unsqueeze(-1).to(x.dtype)
        return self.tokens(x.transpose(1, 2)).transpose(1, 2)


class TextLifter(nn.Module):
    def __init__(self, cfg: TextLiftConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or TextLiftConfig()
        self.backbone = TemporalBackbone(cfg)
        self.to_tokens = nn.Linear(cfg.channels, N_JOINTS * cfg.d)
        self.tok_norm = nn.LayerNorm(cfg.d)
        self.head = nn.Linear(cfg.d, 3)
        if cfg.align in ("cm", "fc", "oracle"):
            self.align = CMAlign(cfg, "joints") if cfg.align == "oracle" else (
                CMAlign(cfg) if cfg.align == "cm" else FCAlign(cfg))
            self.head2 = nn.Linear(cfg.d, 3)
        elif cfg.align == "input":
            self.fuse = CMAlign(cfg)

    @property
    def needs_text(self) -> bool:
        """True when the description is an input at test time (the ``input`` control)."""
        return self.cfg.align == "input"

    def _tokens(self, h: torch.Tensor, text=None, mask=None) -> torch.Tensor:
        """h (N, C) backbone features → f_pose (N, 22, d)."""
        f = self.tok_norm(self.to_tokens(h).view(-1, N_JOINTS, self.cfg.d))
        if self.needs_text:
            if text is None:
                raise ValueError("this lifter (align='input') needs the description as an input")
            f = f + self.fuse(f, text, mask)
        return f

    def encode(self, kp: torch.Tensor, text=None, mask=None) -> torch.Tensor:
        """kp (B, window, 33, in_dim) → f_pose (B, 22, d) of the window's lifted frame."""
        B, T = kp.shape[:2]
        if T != self.cfg.window:
            raise ValueError(f"expected windows of {self.cfg.window} frames, got {T}")
        h = self.backbone(kp.reshape(B, T, -1).transpose(1, 2), dense=False)[:, :, 0]
        return self._tokens(h, text, mask)

    def forward(self, kp: torch.Tensor, text=None, mask=None) -> torch.Tensor:
        """(B, window, 33, in_dim) → (B, 22, 3) root-relative canonical joints (metres)."""
        return self.head(self.encode(kp, text, mask))

    def forward_sequence(self, feats: torch.Tensor, text=None, mask=None) -> torch.Tensor:
        """Dense mode over whole sequences: feats (B, F, 33, in_dim) → (B, F, 22, 3), frame f lifted from the
        window that ends at f (causal) or is centred on f; the sequence is padded by repeating its edge frames.
        ``text`` (B, F, m, 384) / ``mask`` (B, F, m) only for the ``input`` control."""
        B, Fn = feats.shape[:2]
        left = self.cfg.target_offset
        right = self.cfg.window - 1 - left
        x = feats.reshape(B, Fn, -1)
        x = torch.cat([x[:, :1].expand(B, left, -1), x, x[:, -1:].expand(B, right, -1)], 1)
        h = self.backbone(x.transpose(1, 2), dense=True)          # (B, C, F)
        h = h.transpose(1, 2).reshape(B * Fn, -1)
        if text is not None:
            text = text.reshape(B * Fn, *text.shape[2:])
            mask = None if mask is None else mask.reshape(B * Fn, -1)
        return self.head(self._tokens(h, text, mask)).view(B, Fn, N_JOINTS, 3)

    def forward_train(self, kp, text=None, mask=None, joints=None):
        """→ (ŷ₁, ŷ₂ or None, f_pose, f_trans or None)."""
        f = self.encode(kp, text, mask)
        y1 = self.head(f)
        if not hasattr(self, "align"):
            return y1, None, f, None
        ft = self.align(f, text, mask, joints)
        return y1, self.head2(ft), f, ft

    def inference_state(self) -> dict:
        """The weights used at test time (the training-only text branch dropped)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith(("align.", "head2."))}


def joint_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-joint Euclidean error (the training loss; metres)."""
    return (pred - target).norm(dim=-1).mean()


def feature_kl(f_pose: torch.Tensor, f_trans: torch.Tensor, teacher_sg: bool = False) -> torch.Tensor:
    """KL between the per-token softmax distributions over the feature dimension, KL(f_trans ‖ f_pose) (the
    seed's L_align); both sides receive gradients unless ``teacher_sg`` (then f_trans is a fixed target and the
    teacher learns from L_err2 only)."""
    ft = f_trans.detach() if teacher_sg else f_trans
    return F.kl_div(F.log_softmax(f_pose, -1), F.log_softmax(ft, -1), log_target=True,
                    reduction="none").sum(-1).mean()


def textlift_losses(model: TextLifter, kp, target, text=None, mask=None, alpha: float = 0.5, beta: float = 0.1):
    """L = L_err1 + α·KL + β·L_err2 (seed Eq. 4; α = 0.5, β = 0.1 as in the paper)."""
    y1, y2, f, ft = model.forward_train(kp, text, mask, target)
    l1 = joint_error(y1, target)
    out = {"err1": l1, "total": l1}
    if y2 is not None and ft is not None:
        kl = feature_kl(f, ft, model.cfg.teacher_sg)
        l2 = joint_error(y2, target)
        out.update(kl=kl, err2=l2, total=l1 + alpha * kl + beta * l2)
    return out


def mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample MPJPE (B,) after aligning the root (pelvis) joint."""
    return ((pred - pred[:, :1]) - (target - target[:, :1])).norm(dim=-1).mean(-1)


def pa_mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample MPJPE after a similarity (Procrustes) alignment."""
    return (rigid_align(pred, target, scale=True) - target).norm(dim=-1).mean(-1)
