"""PoseEmbroider (seed: "PoseEmbroider: Towards a 3D, Visual, Semantic-aware Human Pose Representation").

Modalities (frozen encoders, computed by the caller; see :mod:`core_models.nets.embroider.train`):

* **v** ("visual") — MediaPipe landmarks through the frozen text-assisted lifter: mean-pooled lifter pose
  features + the lifted 3D joints (the camera input we have instead of images);
* **p** (pose) — the VPoser-style pose encoder (:class:`core_models.nets.common.pose_vae.PoseVAE`, latent mean);
* **t** (text) — the frozen MiniLM, mean-pooled token states of a description / text cue.

:class:`PoseEmbroider`: per modality a learnable linear + ReLU (→ m ∈ R^d), a learnable modality token e_m is
added, a learnable global token x is prepended, a transformer mixes {x} ∪ G for any input subset G, and the output
at x is the embroidered embedding x̄_G. Modality-specific MLP re-projection heads give m̂_G; training minimises
Σ_G Σ_m InfoNCE(m, m̂_G) over all single and dual subsets G (:data:`SUBSETS`) and **all** modalities m.
Two config options depart from the seed (defaults = the seed): ``tok_layers`` > 1 makes the tokenizers MLPs (the
seed's frozen encoders were already pose-aware, ours — MiniLM, a pose VAE, the lifter — are not), and
``loss_on="missing"`` keeps only the modalities m ∉ G (the Aligner's targets) in the sum.

:class:`Aligner` (baseline): deep modality-specific MLPs into one joint space, trained with
Σ_G Σ_{m∉G} InfoNCE(m, mean_{q∈G} q).

:class:`SMPLHead`: iterative residual regression (HMR) of the 22 joint rotations (6D) from a frozen embedding,
starting from the mean pose.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

MODALITIES = ("v", "p", "t")
SUBSETS: tuple[tuple[str, ...], ...] = (("v",), ("p",), ("t",), ("v", "p"), ("v", "t"), ("p", "t"))


@dataclass
class EmbroiderConfig:
    in_dims: dict = field(default_factory=lambda: {"v": 130, "p": 32, "t": 384})
    d: int = 128
    layers: int = 2
    heads: int = 4
    ff: int = 256
    proj_hidden: int = 256
    dropout: float = 0.0
    #: PoseEmbroider tokenizer depth: 1 = the seed's linear + ReLU; k > 1 = a k-layer MLP (GELU, linear output)
    tok_layers: int = 1
    #: PoseEmbroider loss targets per input subset G: "all" modalities (the seed) or only those "missing" from G
    loss_on: str = "all"

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def info_nce(y: torch.Tensor, z: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE between matched rows of y and z (cosine similarity × learnable scale γ)."""
    s = F.normalize(y, dim=-1) @ F.normalize(z, dim=-1).T * log_scale.exp().clamp(max=100)
    lab = torch.arange(len(y), device=y.device)
    return (F.cross_entropy(s, lab) + F.cross_entropy(s.T, lab)) / 2


def _mlp(i, h, o, layers=2, dropout=0.0):
    mods, d = [], i
    for _ in range(layers - 1):
        mods += [nn.Linear(d, h), nn.GELU(), nn.Dropout(dropout)]
        d = h
    mods.append(nn.Linear(d, o))
    return nn.Sequential(*mods)


class PoseEmbroider(nn.Module):
    def __init__(self, cfg: EmbroiderConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or EmbroiderConfig()
        if cfg.loss_on not in ("all", "missing"):
            raise ValueError(f"loss_on must be 'all' or 'missing', not {cfg.loss_on!r}")
        self.inp = nn.ModuleDict({m: self._tokenizer(cfg, cfg.in_dims[m]) for m in MODALITIES})
        self.tok = nn.ParameterDict({m: nn.Parameter(torch.randn(cfg.d) * 0.02) for m in MODALITIES})
        self.glob = nn.Parameter(torch.randn(cfg.d) * 0.02)
        layer = nn.TransformerEncoderLayer(cfg.d, cfg.heads, cfg.ff, dropout=cfg.dropout, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.tf = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d)
        self.reproj = nn.ModuleDict({m: _mlp(cfg.d, cfg.proj_hidden, cfg.d) for m in MODALITIES})
        self.log_scale = nn.ParameterDict({m: nn.Parameter(torch.tensor(2.66)) for m in MODALITIES})

    @staticmethod
    def _tokenizer(cfg: EmbroiderConfig, in_dim: int) -> nn.Module:
        if cfg.tok_layers <= 1:
            return nn.Sequential(nn.Linear(in_dim, cfg.d), nn.ReLU())
        return _mlp(in_dim, cfg.proj_hidden, cfg.d, cfg.tok_layers, cfg.dropout)

    def encode_inputs(self, raw: dict) -> dict:
        """raw frozen encodings {m: (B, in_dim)} → modality features {m: (B, d)} (the tokenizers)."""
        return {m: self.inp[m](x) for m, x in raw.items()}

    def embroider(self, feats: dict, subset) -> torch.Tensor:
        """x̄_G (B, d) from the modality features of ``subset``."""
        B = feats[subset[0]].shape[0]
        toks = [self.glob.expand(B, 1, -1)] + [(feats[m] + self.tok[m]).unsqueeze(1) for m in subset]
        return self.norm(self.tf(torch.cat(toks, 1))[:, 0])

    def forward(self, raw: dict, subset=None) -> torch.Tensor:
        """x̄ from the given raw encodings (all given modalities unless ``subset``)."""
        feats = self.encode_inputs(raw)
        return self.embroider(feats, tuple(subset or [m for m in MODALITIES if m in raw]))

    def reproject(self, xbar: torch.Tensor) -> dict:
        return {m: self.reproj[m](xbar) for m in MODALITIES}

    def loss(self, raw: dict, subsets=SUBSETS) -> tuple[torch.Tensor, dict]:
        feats = self.encode_inputs(raw)
        total, parts = torch.zeros((), device=self.glob.device), {}
        for G in subsets:
            hat = self.reproject(self.embroider(feats, G))
            targets = [m for m in MODALITIES if self.cfg.loss_on == "all" or m not in G]
            lg = torch.stack([info_nce(hat[m], feats[m], self.log_scale[m]) for m in targets]).sum()
            parts["".join(G)] = float(lg.detach())
            total = total + lg
        return total, parts

    @torch.no_grad()
    def query(self, raw: dict, subset, target: str) -> torch.Tensor:
        """Retrieval query for ``target`` modality: m̂_G."""
        return self.reproject(self.forward(raw, subset))[target]

    @torch.no_grad()
    def candidates(self, raw: dict, target: str) -> torch.Tensor:
        return self.inp[target](raw[target])


class Aligner(nn.Module):
    """Deep modality-specific projection heads into one joint space (baseline)."""

    def __init__(self, cfg: EmbroiderConfig | None = None, layers: int = 3):
        super().__init__()
        self.cfg = cfg = cfg or EmbroiderConfig()
        self.proj = nn.ModuleDict({m: _mlp(cfg.in_dims[m], cfg.proj_hidden, cfg.d, layers) for m in MODALITIES})
        self.log_scale = nn.Parameter(torch.tensor(2.66))

    def embed(self, raw: dict) -> dict:
        return {m: self.proj[m](x) for m, x in raw.items()}

    def joint(self, emb: dict, subset) -> torch.Tensor:
        return torch.stack([F.normalize(emb[m], dim=-1) for m in subset]).mean(0)

    def loss(self, raw: dict, subsets=SUBSETS) -> tuple[torch.Tensor, dict]:
        emb = self.embed(raw)
        total, parts = torch.zeros((), device=self.log_scale.device), {}
        for G in subsets:
            q = self.joint(emb, G)
            lg = torch.stack([info_nce(q, emb[m], self.log_scale) for m in MODALITIES if m not in G]).sum()
            parts["".join(G)] = float(lg.detach())
            total = total + lg
        return total, parts

    @torch.no_grad()
    def query(self, raw: dict, subset, target: str) -> torch.Tensor:
        return self.joint(self.embed({m: raw[m] for m in subset}), subset)

    @torch.no_grad()
    def candidates(self, raw: dict, target: str) -> torch.Tensor:
        return self.proj[target](raw[target])

    def forward(self, raw: dict, subset=None) -> torch.Tensor:
        subset = tuple(subset or [m for m in MODALITIES if m in raw])
        return self.joint(self.embed({m: raw[m] for m in subset}), subset)


class SMPLHead(nn.Module):
    """Iterative residual regression: θ_{k+1} = θ_k + MLP([x̄, θ_k]) from the mean pose θ_0 (22 × 6D)."""

    mean6d: torch.Tensor  # buffer (132,)

    def __init__(self, in_dim: int, hidden: int = 512, iterations: int = 3, dropout: float = 0.1):
        super().__init__()
        self.iterations = iterations
        self.register_buffer("mean6d", torch.tensor([1.0, 0, 0, 0, 1.0, 0]).repeat(22))
        first, mid, last = nn.Linear(in_dim + 22 * 6, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 22 * 6)
        with torch.no_grad():  # start near the mean pose
            last.weight.mul_(0.01)
            last.bias.zero_()
        self.net = nn.Sequential(first, nn.ReLU(), nn.Dropout(dropout), mid, nn.ReLU(), nn.Dropout(dropout), last)

    def forward(self, x: torch.Tensor, all_steps: bool = False):
        th = self.mean6d.expand(len(x), -1)
        steps = []
        for _ in range(self.iterations):
            th = th + self.net(torch.cat([x, th], -1))
            steps.append(th)
        out = [s.view(-1, 22, 6) for s in steps]
        return out if all_steps else out[-1]


