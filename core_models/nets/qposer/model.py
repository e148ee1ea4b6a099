"""QPoser (Li et al.): a quantized, part-wise explicit pose prior — MS-VQVAE + GLIF-AE — on our corpus.

Model (QPoser §3):
* **MS-VQVAE**: every latent code comes from its own small MLP "head" that reads the *whole* pose (21 body joint
  rotations as 6D, the root is not modelled: it passes through untouched); each head's output (``code_dim``) is
  vector-quantized against that head's codebook (EMA codebook updates, commitment loss, dead-code restarts).
* **GLIF-AE**: the heads are grouped into 6 body parts (head, torso, left/right arm, left/right leg, the joint
  grouping of :data:`core_models.skeleton.BODY_PARTS`) and one global "embodied" group. Part ``p``'s decoder sees
  only part ``p``'s codes and the global codes and outputs the 6D rotations of ``p``'s joints; the outputs are
  assembled into the full body pose. Changing one part's codes therefore changes only that part's joints, and the
  same part code decodes differently under different global codes.
* Symmetric parts share codebooks (left and right arm use bank ``arm``, the legs bank ``leg``): head ``h`` of the
  left arm and head ``h`` of the right arm quantize against the same codebook ``arm[h]``.
* ``glif=False`` (ablation, plain MS-VQVAE): one group of heads and one decoder for the whole pose.

The code sequence of a pose is one LongTensor ``(B, H)`` (H = total heads) in the order of :attr:`QPoser.groups`
(parts first, then global); :meth:`QPoser.group_slice` gives a group's columns.

Also here: :class:`MaskedCodeTransformer` (unconditional / partially conditioned generation of code sequences,
MaskGIT-style: a random cosine-scheduled fraction of the ``H`` code tokens is masked and predicted; sampling
fills the free positions in a few rounds, fixed positions condition the rest; ``qposer_gen.pt``) and
:class:`PromptToCodes` (control by prompting: clause vectors of the frozen MiniLM → per part, per head, logits
over that head's codebook; ``qposer_prompt.pt``; which parts a prompt sets is the word rule
:func:`core_models.nets.qposer.infer.prompted_parts`).

Plain torch, no Qt, no body model. Weights: ``resources/weights/qposer.pt`` (:func:`load_qposer`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import cast

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from core_models import skeleton as sk
from core_models.kinematics import fk_torch
from core_models.pose import (
    aa_to_matrix,
    matrix_to_6d,
    sixd_to_matrix,
)

PARTS: tuple[str, ...] = ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")
#: Body joints (1..21, SMPL-H index) of each part.
PART_JOINTS: dict[str, tuple[int, ...]] = {p: tuple(sk.BODY_PARTS[p]) for p in PARTS}
BANK_OF: dict[str, str] = {"head": "head", "torso": "torso", "left_arm": "arm", "right_arm": "arm",
                           "left_leg": "leg", "right_leg": "leg", "global": "global", "all": "all"}
NUM_BODY = sk.NUM_BODY_JOINTS  # 21

assert sorted(j for p in PARTS for j in PART_JOINTS[p]) == list(range(1, 22))


@dataclass
class QPoserConfig:
    glif: bool = True
    #: heads per group (GLIF: per part + "global"; no GLIF: {"all": n})
    heads: dict = field(default_factory=lambda: {"head": 3, "torso": 12, "left_arm": 12, "right_arm": 12,
                                                 "left_leg": 12, "right_leg": 12, "global": 3})
    #: codebook size per bank
    codes: dict = field(default_factory=lambda: {"head": 16, "torso": 32, "arm": 32, "leg": 32, "global": 16,
                                                 "all": 32})
    code_dim: int = 16
    enc_hidden: int = 64
    dec_hidden: int = 256
    dec_layers: int = 2
    beta: float = 0.25       # commitment weight
    decay: float = 0.99      # EMA decay of the codebooks
    dead_threshold: float = 0.03  # EMA usage below which a code is restarted

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "QPoserConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def ablation_config(n_heads: int, glif: bool, codes: int = 32, **kw) -> QPoserConfig:
    """Ablation configs of QPoser Table 2: ``n_heads`` heads in total, with or without GLIF."""
    if not glif:
        return QPoserConfig(glif=False, heads={"all": n_heads}, codes={"all": codes}, **kw)
    if n_heads < 7:
        raise ValueError("GLIF needs at least one head per part and one global head (7)")
    # one head for the head part, the rest spread over torso/arms/legs/global as evenly as possible
    rest = n_heads - 1
    base, extra = divmod(rest, 6)
    order = ["torso", "left_arm", "right_arm", "left_leg", "right_leg", "global"]
    heads = {"head": 1}
    for i, g in enumerate(order):
        heads[g] = base
    # symmetric parts must have the same number of heads: give extras in pairs, then torso/global
    for g in ["left_arm", "right_arm", "left_leg", "right_leg", "torso", "global"]:
        if extra >= 2 and g in ("left_arm", "left_leg"):
            heads[g] += 1
            heads["right" + g[4:]] += 1
            extra -= 2
        elif extra >= 1 and g in ("torso", "global"):
            heads[g] += 1
            extra -= 1
    heads["head"] += extra
    return QPoserConfig(glif=True, heads=heads, codes={"head": codes, "torso": codes, "arm": codes, "leg": codes,
                                                       "global": codes}, **kw)


# --- building blocks ----------------------------------------------------------------------------------

class MultiHeadMLP(nn.Module):
    """H independent MLP heads on the same input: x (B, D) → (B, H, out). Two hidden layers per head; the first
    layer of all heads is one matmul, the others batched matmuls."""

    def __init__(self, d_in: int, n_heads: int, hidden: int, d_out: int):
        super().__init__()
        self.n_heads, self.hidden, self.d_out = n_heads, hidden, d_out
        self.l1 = nn.Linear(d_in, n_heads * hidden)
        self.w2 = nn.Parameter(torch.empty(n_heads, hidden, hidden))
        self.b2 = nn.Parameter(torch.zeros(n_heads, 1, hidden))
        self.w3 = nn.Parameter(torch.empty(n_heads, hidden, d_out))
        self.b3 = nn.Parameter(torch.zeros(n_heads, 1, d_out))
        for w in (self.w2, self.w3):
            nn.init.uniform_(w, -1 / math.sqrt(w.shape[1]), 1 / math.sqrt(w.shape[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.l1(x)).view(x.shape[0], self.n_heads, self.hidden).transpose(0, 1)  # (H,B,hid)
        h = F.silu(torch.baddbmm(self.b2, h, self.w2))
        out = torch.baddbmm(self.b3, h, self.w3)  # (H,B,out)
        return out.transpose(0, 1)


class EMACodebooks(nn.Module):
    """``n`` codebooks of ``k`` entries (dim ``d``), updated by exponential moving averages (VQ-VAE-2 style),
    with restarts of dead entries to random encoder outputs. ``forward(z (N, n, d))`` → (z_q, idx, commit)."""

    embed: torch.Tensor          # buffers (n, k, d), (n, k), (n, k, d), () bool
    cluster_size: torch.Tensor
    embed_avg: torch.Tensor
    initialised: torch.Tensor

    def __init__(self, n: int, k: int, d: int, decay: float = 0.99, eps: float = 1e-5,
                 dead_threshold: float = 0.03):
        super().__init__()
        self.n, self.k, self.d = n, k, d
        self.decay, self.eps, self.dead_threshold = decay, eps, dead_threshold
        embed = torch.randn(n, k, d) * 0.1
        self.register_buffer("embed", embed)
        self.register_buffer("cluster_size", torch.ones(n, k))
        self.register_buffer("embed_avg", embed.clone())
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, n, d) → idx (N, n) of the nearest entry of each head's codebook."""
        e = self.embed  # (n,k,d)
        d2 = (z * z).sum(-1, keepdim=True) - 2 * torch.einsum("bnd,nkd->bnk", z, e) + (e * e).sum(-1)[None]
        return d2.argmin(-1)

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        """idx (N, n) → (N, n, d)."""
        return self.embed[torch.arange(self.n, device=idx.device)[None, :], idx]

    @torch.no_grad()
    def _init_from(self, z: torch.Tensor) -> None:
        N = z.shape[0]
        for h in range(self.n):
            sel = torch.randint(0, N, (self.k,), device=z.device)
            self.embed[h] = z[sel, h] + 1e-3 * torch.randn(self.k, self.d, device=z.device, dtype=z.dtype)
        self.embed_avg.copy_(self.embed)
        self.cluster_size.fill_(1.0)
        self.initialised.fill_(True)

    @torch.no_grad()
    def _ema_update(self, z: torch.Tensor, idx: torch.Tensor) -> None:
        onehot = F.one_hot(idx, self.k).type(z.dtype)  # (N,n,k)
        counts = onehot.sum(0)  # (n,k)
        sums = torch.einsum("bnk,bnd->nkd", onehot, z)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_avg.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.cluster_size.sum(-1, keepdim=True)
        size = (self.cluster_size + self.eps) / (total + self.k * self.eps) * total
        self.embed.copy_(self.embed_avg / size.unsqueeze(-1))
        # dead-code restarts: entries whose EMA usage fell below the threshold jump to random encoder outputs
        dead = self.cluster_size < self.dead_threshold
        if dead.any():
            N = z.shape[0]
            for h in torch.nonzero(dead.any(1)).flatten().tolist():
                ks = torch.nonzero(dead[h]).flatten()
                sel = torch.randint(0, N, (len(ks),), device=z.device)
                self.embed[h, ks] = z[sel, h]
                self.embed_avg[h, ks] = z[sel, h]
                self.cluster_size[h, ks] = 1.0

    def forward(self, z: torch.Tensor):
        if self.training and not bool(self.initialised):
            self._init_from(z.detach())
        idx = self.nearest(z.detach())
        zq = self.lookup(idx)
        if self.training:
            self._ema_update(z.detach(), idx)
        commit = F.mse_loss(z, zq.detach())
        zq_st = z + (zq - z).detach()  # straight-through estimator
        return zq_st, idx, commit


class PartDecoder(nn.Module):
    def __init__(self, d_in: int, n_joints: int, hidden: int, layers: int):
        super().__init__()
        mods: list[nn.Module] = []
        d = d_in
        for _ in range(layers):
            mods += [nn.Linear(d, hidden), nn.SiLU()]
            d = hidden
        self.body = nn.Sequential(*mods)
        self.out = nn.Linear(d, n_joints * 6)
        self.n_joints = n_joints
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            self.out.bias.copy_(torch.tensor([1., 0., 0., 0., 1., 0.]).repeat(n_joints))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x)).view(x.shape[0], self.n_joints, 6)


# --- the model ------------------------------------------------------------------------------------------

class QPoser(nn.Module):
    """MS-VQVAE + GLIF-AE over the 21 body joint rotations. See the module docstring."""

    def __init__(self, config: QPoserConfig | None = None):
        super().__init__()
        self.config = cfg = config or QPoserConfig()
        if cfg.glif:
            self.groups: tuple[str, ...] = PARTS + ("global",)
            self.decoded_groups: tuple[str, ...] = PARTS
        else:
            self.groups = ("all",)
            self.decoded_groups = ("all",)
        for a, b in (("left_arm", "right_arm"), ("left_leg", "right_leg")):
            if cfg.glif and cfg.heads[a] != cfg.heads[b]:
                raise ValueError(f"symmetric parts {a}/{b} must have the same number of heads (shared codebooks)")
        self.n_heads = {g: int(cfg.heads[g]) for g in self.groups}
        self.offsets: dict[str, int] = {}
        o = 0
        for g in self.groups:
            self.offsets[g] = o
            o += self.n_heads[g]
        self.total_heads = o
        self.encoder = MultiHeadMLP(NUM_BODY * 6, self.total_heads, cfg.enc_hidden, cfg.code_dim)
        banks = {}
        for g in self.groups:
            banks[BANK_OF[g]] = self.n_heads[g]
        self.banks = nn.ModuleDict({b: EMACodebooks(n, int(cfg.codes[b]), cfg.code_dim, cfg.decay,
                                                    dead_threshold=cfg.dead_threshold)
                                    for b, n in banks.items()})
        self.group_joints = {g: (PART_JOINTS[g] if g in PART_JOINTS else tuple(range(1, 22)))
                             for g in self.decoded_groups}
        n_global = self.n_heads.get("global", 0)
        self.decoders = nn.ModuleDict({
            g: PartDecoder((self.n_heads[g] + n_global) * cfg.code_dim, len(self.group_joints[g]),
                           cfg.dec_hidden, cfg.dec_layers) for g in self.decoded_groups})

    # --- bookkeeping
    def group_slice(self, g: str) -> slice:
        return slice(self.offsets[g], self.offsets[g] + self.n_heads[g])

    def bank(self, g: str) -> EMACodebooks:
        """The codebook bank group ``g``'s heads quantize against (shared by symmetric parts)."""
        return cast(EMACodebooks, self.banks[BANK_OF[g]])

    def codebook_size(self, g: str) -> int:
        return self.bank(g).k

    def codebook(self, g: str) -> torch.Tensor:
        """(n_heads[g], K, d) codebook entries of group ``g``'s heads."""
        return self.bank(g).embed

    def head_sizes(self) -> list[int]:
        """Codebook size of every position of the code sequence."""
        return [self.codebook_size(g) for g in self.groups for _ in range(self.n_heads[g])]

    # --- encode / quantize / decode
    @staticmethod
    def pose_input(body_rotmats: torch.Tensor) -> torch.Tensor:
        """(B,21,3,3) → (B,126) 6D input."""
        return matrix_to_6d(body_rotmats).reshape(body_rotmats.shape[0], NUM_BODY * 6)

    def encode_continuous(self, body_rotmats: torch.Tensor) -> torch.Tensor:
        """(B,21,3,3) → pre-quantization latents (B, H, d)."""
        return self.encoder(self.pose_input(body_rotmats))

    def quantize(self, z: torch.Tensor):
        """z (B,H,d) → (z_q (B,H,d) straight-through, idx (B,H), commitment loss)."""
        B = z.shape[0]
        zq = torch.empty_like(z)
        idx = torch.empty(z.shape[:2], dtype=torch.long, device=z.device)
        commit = z.new_zeros(())
        for bank, mod in self.banks.items():
            gs = [g for g in self.groups if BANK_OF[g] == bank]
            zz = torch.cat([z[:, self.group_slice(g)] for g in gs], 0)  # symmetric parts stacked on the batch
            q, i, c = mod(zz)
            for k, g in enumerate(gs):
                zq[:, self.group_slice(g)] = q[k * B:(k + 1) * B]
                idx[:, self.group_slice(g)] = i[k * B:(k + 1) * B]
            commit = commit + c * len(gs) * mod.n
        return zq, idx, commit / self.total_heads

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        """Code indices (B,H) → code vectors (B,H,d)."""
        out = []
        for g in self.groups:
            out.append(self.bank(g).lookup(idx[:, self.group_slice(g)]))
        return torch.cat(out, 1)

    def decode_6d(self, zq: torch.Tensor) -> torch.Tensor:
        """(B,H,d) code vectors → (B,21,6) body joint rotations (6D)."""
        B = zq.shape[0]
        out = zq.new_zeros(B, NUM_BODY, 6)
        glob = zq[:, self.group_slice("global")].reshape(B, -1) if "global" in self.groups else None
        for g in self.decoded_groups:
            x = zq[:, self.group_slice(g)].reshape(B, -1)
            if glob is not None:
                x = torch.cat([x, glob], 1)
            jidx = [j - 1 for j in self.group_joints[g]]
            out[:, jidx] = self.decoders[g](x)
        return out

    def decode(self, zq: torch.Tensor) -> torch.Tensor:
        """(B,H,d) → (B,21,3,3)."""
        return sixd_to_matrix(self.decode_6d(zq))

    def decode_indices(self, idx: torch.Tensor) -> torch.Tensor:
        return self.decode(self.lookup(idx))

    def encode(self, body_rotmats: torch.Tensor) -> torch.Tensor:
        """(B,21,3,3) → code indices (B,H) (no EMA update)."""
        z = self.encode_continuous(body_rotmats)
        out = torch.empty(z.shape[:2], dtype=torch.long, device=z.device)
        for g in self.groups:
            out[:, self.group_slice(g)] = self.bank(g).nearest(z[:, self.group_slice(g)])
        return out

    def forward(self, body_rotmats: torch.Tensor):
        """Training pass: (B,21,3,3) → (reconstruction (B,21,3,3), idx, commitment loss)."""
        z = self.encode_continuous(body_rotmats)
        zq, idx, commit = self.quantize(z)
        return self.decode(zq), idx, commit

    @torch.no_grad()
    def reconstruct(self, body_rotmats: torch.Tensor) -> torch.Tensor:
        return self.decode_indices(self.encode(body_rotmats))


# --- metrics ----------------------------------------------------------------------------------------------

def mpjae_deg(R1: torch.Tensor, R2: torch.Tensor) -> torch.Tensor:
    """Per-pose mean per-joint angle error (degrees) between (B,J,3,3) rotation sets → (B,)."""
    tr = (R1.transpose(-1, -2) @ R2).diagonal(dim1=-2, dim2=-1).sum(-1)
    ang = torch.acos(((tr - 1) / 2).clamp(-1.0, 1.0))
    return torch.rad2deg(ang).mean(-1)


# --- persistence -------------------------------------------------------------------------------------------

def build_qposer(config: dict | QPoserConfig | None = None) -> QPoser:
    if isinstance(config, dict):
        config = QPoserConfig.from_dict(config)
    return QPoser(config)




# --- codebook sliders and part paths ---------------------------------------------------------------------







# --- runtime for the app and the CLI -------------------------------------------------------------------


class MaskedCodeTransformer(nn.Module):
    valid: torch.Tensor    # buffers (H, Kmax) bool, (H,) long
    offsets: torch.Tensor

    def __init__(self, head_sizes: list[int], d: int = 64, layers: int = 2, nhead: int = 4, ff: int = 128,
                 dropout: float = 0.0):
        super().__init__()
        self.head_sizes = [int(k) for k in head_sizes]
        self.H = len(self.head_sizes)
        self.kmax = max(self.head_sizes)
        self.mask_token = self.H * self.kmax
        self.tok = nn.Embedding(self.H * self.kmax + 1, d)
        self.pos = nn.Parameter(torch.randn(self.H, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, nhead, ff, dropout, batch_first=True, norm_first=True,
                                           activation="gelu")
        self.tf = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, self.kmax)
        valid = torch.zeros(self.H, self.kmax, dtype=torch.bool)
        for p, k in enumerate(self.head_sizes):
            valid[p, :k] = True
        self.register_buffer("valid", valid)
        self.register_buffer("offsets", torch.arange(self.H) * self.kmax)

    def forward(self, codes: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """codes (B,H) long, masked (B,H) bool → logits (B,H,Kmax) (invalid codes at −inf)."""
        tok = torch.where(masked, torch.full_like(codes, self.mask_token), codes + self.offsets)
        h = self.tf(self.tok(tok) + self.pos)
        logits = self.out(self.norm(h))
        return logits.masked_fill(~self.valid, float("-inf"))

    def loss(self, codes: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        B = codes.shape[0]
        # the mask is drawn on the generator's device (the CPU by default: the same seed masks the same positions
        # on any device), then moved to the codes
        gdev = generator.device if generator is not None else codes.device
        u = torch.rand(B, 1, generator=generator, device=gdev)
        ratio = torch.cos(u * math.pi / 2)  # MaskGIT cosine schedule
        masked = torch.rand(B, self.H, generator=generator, device=gdev) < ratio
        masked[torch.arange(B, device=gdev), torch.randint(0, self.H, (B,), generator=generator, device=gdev)] = True
        masked = masked.to(codes.device)  # ≥ 1 masked per row
        logits = self(codes, masked)
        return F.cross_entropy(logits[masked], codes[masked])

    @torch.no_grad()
    def sample(self, n: int = 1, fixed: torch.Tensor | None = None, fixed_mask: torch.Tensor | None = None,
               steps: int = 8, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample ``n`` code sequences. ``fixed`` (n,H) / ``fixed_mask`` (n,H) bool: positions kept as given."""
        dev = self.offsets.device
        codes = torch.zeros(n, self.H, dtype=torch.long, device=dev)
        known = torch.zeros(n, self.H, dtype=torch.bool, device=dev)
        if fixed is not None and fixed_mask is not None:
            codes = torch.where(fixed_mask.to(dev), fixed.to(dev), codes)
            known = fixed_mask.to(dev).clone()
        free0 = (~known).sum(1)
        for s in range(steps):
            if bool(known.all()):
                break
            logits = self(codes, ~known) / max(temperature, 1e-4)
            probs = F.softmax(logits, -1)
            flat = probs.view(-1, self.kmax)
            if generator is not None and generator.device != flat.device:  # e.g. a CPU generator, model on a GPU
                flat = flat.to(generator.device)
            draw = torch.multinomial(flat, 1, generator=generator).view(n, self.H).to(dev)
            conf = torch.gather(probs, 2, draw[..., None])[..., 0]
            conf = torch.where(known, torch.full_like(conf, -1.0), conf)
            # after this round, cos((s+1)/steps·π/2) of the free positions stay masked
            remain = torch.floor(free0.float() * math.cos((s + 1) / steps * math.pi / 2)).long()
            n_new = ((~known).sum(1) - remain).clamp_min(1)
            order = conf.argsort(1, descending=True)
            rank = torch.empty_like(order)
            rank.scatter_(1, order, torch.arange(self.H, device=dev).expand(n, -1).contiguous())
            take = (rank < n_new[:, None]) & ~known
            codes = torch.where(take, draw, codes)
            known = known | take
        return codes


class PromptToCodes(nn.Module):
    """Clause vectors → per part, per head: logits over that head's codebook."""

    def __init__(self, part_heads: dict[str, int], part_codes: dict[str, int], d: int = 256, dropout: float = 0.1):
        super().__init__()
        self.part_heads = {p: int(part_heads[p]) for p in PARTS}
        self.part_codes = {p: int(part_codes[p]) for p in PARTS}
        self.proj = nn.Sequential(nn.Linear(TEXT_DIM, d), nn.GELU(), nn.Dropout(dropout), nn.Linear(d, d))
        self.query = nn.Parameter(torch.randn(len(PARTS), d) * 0.05)
        self.heads = nn.ModuleDict({p: nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Dropout(dropout),
                                                     nn.Linear(d, self.part_heads[p] * self.part_codes[p]))
                                    for p in PARTS})
        self.d = d

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.proj(x)  # (B,C,d)
        att = torch.einsum("bcd,pd->bpc", h, self.query) / math.sqrt(self.d)
        att = att.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)
        pooled = torch.einsum("bpc,bcd->bpd", att, h)
        return {p: self.heads[p](pooled[:, i]).view(x.shape[0], self.part_heads[p], self.part_codes[p])
                for i, p in enumerate(PARTS)}


_REST = torch.as_tensor(sk.DEFAULT_REST_JOINTS, dtype=torch.float32)


def body_rotmats(body_pose: np.ndarray) -> torch.Tensor:
    """(N,21,3) axis-angle → (N,21,3,3) float32 torch."""
    return aa_to_matrix(torch.as_tensor(np.asarray(body_pose, np.float32)))


def full_rotmats(body: torch.Tensor) -> torch.Tensor:
    """Body rotations (B,21,3,3) → (B,22,3,3) with an identity root."""
    eye = torch.eye(3, dtype=body.dtype, device=body.device).expand(body.shape[0], 1, 3, 3)
    return torch.cat([eye, body], 1)


def joints_of(body: torch.Tensor) -> torch.Tensor:
    return fk_torch(full_rotmats(body), _REST.to(body.device))[1]


TEXT_DIM = 384
