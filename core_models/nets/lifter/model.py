"""Text-assisted 2D→3D lifter (seed: "Learning Knowledge from Textual Descriptions for 3D Human Pose Estimation").

* :class:`KeypointEncoder` — the 3D pose estimation model's encoder: the 33 MediaPipe landmarks of a single frame
  or a short causal window (T frames, the last one is lifted) become n = 33 tokens (each landmark's T × (x, y,
  visibility, presence) through a linear layer + a learnable landmark embedding), mixed by a small transformer →
  pose features ``f_pose`` (B, n, d).
* :class:`Lifter` — encoder + regression head → 22 SMPL-H joint positions, root-relative, in the camera-aligned
  frame (x image-right, y up, z towards the camera; metres).
* Training-only alignment branch (``align`` = ``"fc" | "tf" | "cm"``): the frozen MiniLM token states of the pose's
  automatic description (pooled to ``text_slots`` slots, m tokens) are mapped into the pose-feature space
  (``f_trans`` (B, n, d)) by
  - **FC**: a linear map of the text features and a linear map from the m text slots to the n pose tokens;
  - **TF**: n learnable tokens concatenated with the text tokens through a transformer (the first n outputs);
  - **CM**: M cross-modality blocks with the pose features as queries (detached, so the pose encoder learns only
    from its own losses) and keys/values from w (w⁰ = text), w' = LN(h + FF(h)); ``cm_residual="pose"``:
    h = LN(q + MCA(q, w)) (f_trans = pose features refined by the text); ``"text"``: Eq. 5, h = LN(w + MCA(q, w)),
    the first block without residual (it maps the m text tokens onto the n pose tokens), so f_trans is built
    from the text only;
  a second regression head predicts the joints from ``f_trans``. Loss (:func:`lifter_losses`):
  L = L_err1(ŷ₁) + α·KL(f_pose ‖ f_trans) + β·L_err2(ŷ₂). At test time only the encoder and the first head run:
  the text branch is dropped from the shipped weights.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from core_models import skeleton as sk
from core_models.pose import (
    matrix_to_6d,
    rigid_align,
    sixd_to_matrix,
)

N_LANDMARKS = 33
N_JOINTS = 22
TEXT_DIM = 384
#: BlazePose landmark i ↔ its other-side twin (face: eyes 1-3 ↔ 4-6, ears 7 ↔ 8, mouth 9 ↔ 10; then left/right
#: pairs 11/12 … 31/32) — the same map as core_models.capture.landmarks.LM_MIRROR (a test checks it)
LM_MIRROR_IDX = [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9] + [i + 1 if i % 2 else i - 1 for i in range(11, N_LANDMARKS)]


def mirror_keypoints(kp: torch.Tensor) -> torch.Tensor:
    """Keypoint features (…, 33, F) of the left/right mirror image: landmarks swapped, x negated (the 2D x and,
    with world features, the world x)."""
    out = kp[..., LM_MIRROR_IDX, :].clone()
    out[..., 0] = -out[..., 0]
    if out.shape[-1] >= 7:
        out[..., 4] = -out[..., 4]
    return out


def average_rotations_6d(a: torch.Tensor, b: torch.Tensor, mode: str = "chordal") -> torch.Tensor:
    """The mean of two (…, 6) rotations: ``"chordal"`` — the mean of the rotation matrices projected back to
    SO(3) (the chordal L2 mean = the geodesic midpoint, :func:`half_rotation`); ``"sixd"`` — the mean of the 6D
    vectors (Gram-Schmidt when read back)."""
    if mode == "sixd":  # both normalised first: a raw 6D output's scale would otherwise weight the mean
        return (matrix_to_6d(sixd_to_matrix(a)) + matrix_to_6d(sixd_to_matrix(b))) / 2
    if mode != "chordal":
        raise ValueError(f"unknown rotation mean {mode!r}: 'chordal' or 'sixd'")
    Ra, Rb = sixd_to_matrix(a), sixd_to_matrix(b)
    return matrix_to_6d(Ra @ half_rotation(Ra.transpose(-1, -2) @ Rb))


def half_rotation(D: torch.Tensor) -> torch.Tensor:
    """(…, 3, 3) rotations by θ about n → the rotations by θ/2 about n, in closed form (no SVD, no quaternion
    round trip): I + D = 2c·R(θ/2) + 2(1 − c)·nnᵀ with c = cos(θ/2), and (1 − c)·nnᵀ = v vᵀ / (4(1 + c)c²)
    with v = sin θ · n = vee(D − Dᵀ) / 2. So Ra·half_rotation(Raᵀ Rb) is the geodesic midpoint of Ra and Rb,
    which is also their chordal L2 mean (the polar factor of Ra + Rb). Undefined at θ = π (c is clamped)."""
    tr = D.diagonal(dim1=-2, dim2=-1).sum(-1)
    c = (1 + tr).clamp_min(1e-8).sqrt()[..., None, None] / 2
    v = torch.stack([D[..., 2, 1] - D[..., 1, 2], D[..., 0, 2] - D[..., 2, 0], D[..., 1, 0] - D[..., 0, 1]], -1) / 2
    eye = torch.eye(3, dtype=D.dtype, device=D.device)
    c = c.clamp_min(1e-4)
    return (eye + D - v[..., :, None] * v[..., None, :] / (2 * (1 + c) * c * c)) / (2 * c)


def mirror_pose6d(th: torch.Tensor) -> torch.Tensor:
    """(…, 22, 6) rotations of the mirror-image pose (joints swapped, R → S R S with S = diag(-1, 1, 1))."""
    S = torch.tensor([-1.0, 1.0, 1.0], dtype=th.dtype, device=th.device)
    R = sixd_to_matrix(th)[..., sk.MIRROR, :, :]
    return matrix_to_6d(R * S[:, None] * S[None, :])


@dataclass
class LifterConfig:
    window: int = 1
    in_dim: int = 4
    d: int = 64
    layers: int = 3
    heads: int = 4
    ff: int = 128
    head_hidden: int = 128
    align: str = "none"          # none | fc | tf | cm
    text_slots: int = 16
    align_layers: int = 2
    cm_residual: str = "pose"    # CM block residual: "pose" (h = LN(q + MCA)) or "text" (Eq. 5: h = LN(w + MCA))
    dropout: float = 0.0
    encoder: str = "tf"          # "tf": landmark-token transformer; "mlp": residual MLP on all landmarks at once
    mlp_hidden: int = 512
    flip_test: bool = False      # predict_pose averages the prediction of the mirrored input (test-time flip)
    flip_mean: str = "chordal"   # how the two rotations are averaged: "sixd" (mean of the 6D vectors, then
    #                              Gram-Schmidt) or "chordal" (mean of the matrices projected back to SO(3))
    pose_head: bool = False      # also regress the 22 joint rotations (6D, heading-normalised) — :class:`PoseHead`
    pose_hidden: int = 256

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LifterConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def _encoder_layer(d, heads, ff, dropout):
    return nn.TransformerEncoderLayer(d, heads, ff, dropout=dropout, batch_first=True, norm_first=True,
                                      activation="gelu")


class KeypointEncoder(nn.Module):
    def __init__(self, cfg: LifterConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Linear(cfg.window * cfg.in_dim, cfg.d)
        self.pos = nn.Parameter(torch.randn(N_LANDMARKS, cfg.d) * 0.02)
        self.tf = nn.TransformerEncoder(_encoder_layer(cfg.d, cfg.heads, cfg.ff, cfg.dropout), cfg.layers,
                                        enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d)

    def forward(self, kp: torch.Tensor) -> torch.Tensor:
        """kp (B, T, 33, in_dim) or (B, 33, in_dim) when T = 1 → f_pose (B, 33, d)."""
        if kp.dim() == 3:
            kp = kp.unsqueeze(1)
        B, T = kp.shape[:2]
        x = kp.permute(0, 2, 1, 3).reshape(B, N_LANDMARKS, T * kp.shape[-1])
        return self.norm(self.tf(self.embed(x) + self.pos))


class MLPKeypointEncoder(nn.Module):
    """The cheap encoder (``cfg.encoder == "mlp"``, the simple-baseline lifter design): all landmarks' features
    flattened → linear → 2 residual blocks (linear-GELU-linear) → 33 × d "tokens" (so the heads are shared)."""

    def __init__(self, cfg: LifterConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.mlp_hidden
        self.inp = nn.Linear(N_LANDMARKS * cfg.window * cfg.in_dim, h)
        self.blocks = nn.ModuleList(nn.Sequential(nn.LayerNorm(h), nn.Linear(h, h), nn.GELU(), nn.Dropout(cfg.dropout),
                                                  nn.Linear(h, h)) for _ in range(2))
        self.out = nn.Linear(h, N_LANDMARKS * cfg.d)
        self.norm = nn.LayerNorm(cfg.d)

    def forward(self, kp: torch.Tensor) -> torch.Tensor:
        if kp.dim() == 3:
            kp = kp.unsqueeze(1)
        B = kp.shape[0]
        x = self.inp(kp.permute(0, 2, 1, 3).reshape(B, -1))
        for blk in self.blocks:
            x = x + blk(x)
        return self.norm(self.out(F.gelu(x)).view(B, N_LANDMARKS, self.cfg.d))


class JointHead(nn.Module):
    def __init__(self, cfg: LifterConfig):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(1), nn.Linear(N_LANDMARKS * cfg.d, cfg.head_hidden), nn.GELU(),
                                 nn.Linear(cfg.head_hidden, N_JOINTS * 3))

    def forward(self, f):
        return self.net(f).view(-1, N_JOINTS, 3)


class PoseHead(nn.Module):
    """Iterative residual regression (HMR-style) of the 22 joint rotations (6D) of the heading-normalised pose
    from the lifter's own outputs ([mean-pooled f_pose, lifted joints]), starting from the rest pose."""

    mean6d: torch.Tensor  # buffer (132,)

    def __init__(self, cfg: LifterConfig, iterations: int = 3):
        super().__init__()
        self.iterations = iterations
        self.register_buffer("mean6d", torch.tensor([1.0, 0, 0, 0, 1.0, 0]).repeat(N_JOINTS))
        h = cfg.pose_hidden
        last = nn.Linear(h, N_JOINTS * 6)
        with torch.no_grad():  # start near the rest pose
            last.weight.mul_(0.01)
            last.bias.zero_()
        self.net = nn.Sequential(nn.Linear(cfg.d + N_JOINTS * 3 + N_JOINTS * 6, h), nn.GELU(), nn.Linear(h, h),
                                 nn.GELU(), last)

    def forward(self, f: torch.Tensor, joints: torch.Tensor, all_steps: bool = False):
        """f (B, 33, d), joints (B, 22, 3) → (B, 22, 6) (or the list of every iteration's)."""
        x = torch.cat([f.mean(1), joints.flatten(1)], -1)
        th = self.mean6d.expand(len(x), -1)
        steps = []
        for _ in range(self.iterations):
            th = th + self.net(torch.cat([x, th], -1))
            steps.append(th.view(-1, N_JOINTS, 6))
        return steps if all_steps else steps[-1]


class FCAlign(nn.Module):
    def __init__(self, cfg: LifterConfig):
        super().__init__()
        self.feat = nn.Linear(TEXT_DIM, cfg.d)
        self.tokens = nn.Linear(cfg.text_slots, N_LANDMARKS)

    def forward(self, text, mask, f_pose):
        x = self.feat(text) * mask.unsqueeze(-1)                            # (B, m, d)
        return self.tokens(x.transpose(1, 2)).transpose(1, 2)              # (B, n, d)


class TFAlign(nn.Module):
    def __init__(self, cfg: LifterConfig):
        super().__init__()
        self.feat = nn.Linear(TEXT_DIM, cfg.d)
        self.lp = nn.Parameter(torch.randn(N_LANDMARKS, cfg.d) * 0.02)
        self.kind = nn.Parameter(torch.randn(2, cfg.d) * 0.02)
        self.tf = nn.TransformerEncoder(_encoder_layer(cfg.d, cfg.heads, cfg.ff, cfg.dropout), cfg.align_layers,
                                        enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d)

    def forward(self, text, mask, f_pose):
        B = text.shape[0]
        x = torch.cat([self.lp.expand(B, -1, -1) + self.kind[0], self.feat(text) + self.kind[1]], 1)
        pad = torch.cat([torch.zeros(B, N_LANDMARKS, dtype=torch.bool, device=text.device), ~mask], 1)
        return self.norm(self.tf(x, src_key_padding_mask=pad)[:, :N_LANDMARKS])


class CMBlock(nn.Module):
    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.att = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.ReLU(), nn.Linear(ff, d))

    def forward(self, q, w, pad=None, residual: str | None = "text"):
        a = self.att(q, w, w, key_padding_mask=pad, need_weights=False)[0]
        h = self.ln1(a if residual is None else (w if residual == "text" else q) + a)
        return self.ln2(h + self.ff(h))


class CMAlign(nn.Module):
    def __init__(self, cfg: LifterConfig):
        super().__init__()
        self.feat = nn.Linear(TEXT_DIM, cfg.d)
        self.residual = cfg.cm_residual
        self.blocks = nn.ModuleList(CMBlock(cfg.d, cfg.heads, cfg.ff, cfg.dropout) for _ in range(cfg.align_layers))

    def forward(self, text, mask, f_pose):
        q = f_pose.detach()
        w, pad = self.feat(text), ~mask
        for i, blk in enumerate(self.blocks):
            if self.residual == "pose":
                w = blk(q, w, pad if i == 0 else None, residual="pose")
            else:
                # block 0 turns the m text tokens into n pose-ordered tokens (no residual: the shapes differ);
                # later blocks follow Eq. 5 with the residual on w
                w = blk(q, w, pad if i == 0 else None, residual="text" if i > 0 else None)
        return w


ALIGNERS = {"fc": FCAlign, "tf": TFAlign, "cm": CMAlign}


class Lifter(nn.Module):
    def __init__(self, cfg: LifterConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or LifterConfig()
        self.encoder: nn.Module = MLPKeypointEncoder(cfg) if cfg.encoder == "mlp" else KeypointEncoder(cfg)
        self.head = JointHead(cfg)
        if cfg.pose_head:
            self.pose_head = PoseHead(cfg)
        if cfg.align != "none":
            self.align = ALIGNERS[cfg.align](cfg)
            self.head2 = JointHead(cfg)

    def forward(self, kp: torch.Tensor) -> torch.Tensor:
        """(B, [T,] 33, 4) keypoint features → (B, 22, 3) root-relative joints (camera-aligned frame)."""
        return self.head(self.encoder(kp))

    def features(self, kp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(f_pose (B, 33, d), joints (B, 22, 3)) — the "visual" modality of the PoseEmbroider."""
        f = self.encoder(kp)
        return f, self.head(f)

    def predict_pose(self, kp: torch.Tensor, flip: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(6D rotations (B, 22, 6) of the heading-normalised pose, lifted joints (B, 22, 3)); needs
        ``cfg.pose_head``. ``flip`` (default ``cfg.flip_test``): also run the mirrored input and average."""
        if flip is None:
            flip = self.cfg.flip_test
        B = kp.shape[0]
        x = torch.cat([kp, mirror_keypoints(kp)]) if flip else kp
        f = self.encoder(x)
        j = self.head(f)
        th = self.pose_head(f, j)
        if not flip:
            return th, j
        jm = j[B:, sk.MIRROR] * torch.tensor([-1.0, 1.0, 1.0], dtype=j.dtype, device=j.device)
        return average_rotations_6d(th[:B], mirror_pose6d(th[B:]), self.cfg.flip_mean), (j[:B] + jm) / 2

    def forward_train(self, kp, text=None, text_mask=None):
        f = self.encoder(kp)
        y1 = self.head(f)
        if self.cfg.align == "none" or text is None:
            return y1, None, f, None
        ft = self.align(text, text_mask, f)
        return y1, self.head2(ft), f, ft

    def inference_state(self) -> dict:
        """The weights needed at test time (no text branch)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith(("align.", "head2."))}


class LifterPair(nn.Module):
    """Two real-landmark variants with pose heads run as one ``direct`` model (lifter.pt config
    ``real_ensemble``): :meth:`predict_pose` averages their (flip-averaged) rotations on SO(3) — the geodesic
    midpoint, :func:`average_rotations_6d` — and their lifted joints. Exposes ``cfg`` (the first member's) like a
    :class:`Lifter`, so :class:`core_models.nets.embroider.infer.CaptureModel` takes either."""

    def __init__(self, members: list[Lifter]):
        super().__init__()
        if len(members) != 2 or not all(m.cfg.pose_head for m in members):
            raise ValueError("LifterPair needs exactly two lifters with pose heads")
        if len({(m.cfg.window, m.cfg.in_dim) for m in members}) != 1:
            raise ValueError("LifterPair members must read the same input (window, in_dim)")
        self.members = nn.ModuleList(members)
        self._pair: tuple[Lifter, Lifter] = (members[0], members[1])
        self.cfg = members[0].cfg

    def predict_pose(self, kp: torch.Tensor, flip: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        (ta, ja), (tb, jb) = (m.predict_pose(kp, flip) for m in self._pair)
        return average_rotations_6d(ta, tb, "chordal"), (ja + jb) / 2


def mpjpe_loss(pred, target):
    return (pred - target).norm(dim=-1).mean()


def feature_kl(f_pose, f_trans, tau: float = 1.0):
    """KL(softmax(f_trans) ‖ softmax(f_pose)) over the feature dimension, per token (the text side is the
    target distribution and is not pushed towards the pose side)."""
    return F.kl_div(F.log_softmax(f_pose / tau, -1), F.log_softmax(f_trans.detach() / tau, -1), log_target=True,
                    reduction="none").sum(-1).mean()


def lifter_losses(model: Lifter, kp, target, text=None, text_mask=None, alpha: float = 0.5, beta: float = 0.1,
                  tau: float = 1.0):
    y1, y2, f, ft = model.forward_train(kp, text, text_mask)
    l1 = mpjpe_loss(y1, target)
    out = {"err1": l1, "total": l1}
    if y2 is not None:
        kl = feature_kl(f, ft, tau)
        l2 = mpjpe_loss(y2, target)
        out.update(kl=kl, err2=l2, total=l1 + alpha * kl + beta * l2)
    return out


# --- metrics ---------------------------------------------------------------------------------------------

def procrustes_align(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Similarity-align pred (B, K, 3) to target (rotation, scale, translation; Umeyama, reflections excluded)
    through :func:`core_models.pose.rigid_align`."""
    return rigid_align(pred, target, scale=True)


def mpjpe(pred, target, root: int = 0):
    """Per-sample MPJPE (B,) after aligning the root joint."""
    p = pred - pred[:, root:root + 1]
    t = target - target[:, root:root + 1]
    return (p - t).norm(dim=-1).mean(-1)


def pa_mpjpe(pred, target):
    return (procrustes_align(pred, target) - target).norm(dim=-1).mean(-1)
