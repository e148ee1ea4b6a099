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

Plain torch, no Qt, no body model. Weights: ``resources/weights/qposer.pt`` (:func:`load_qposer`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from core_models import skeleton as sk
from core_models.nets.pose_vae import matrix_to_rot6d, rot6d_to_matrix

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
            sel = torch.randint(0, N, (self.k,))
            self.embed[h] = z[sel, h] + 1e-3 * torch.randn(self.k, self.d)
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
                sel = torch.randint(0, N, (len(ks),))
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

    def codebook_size(self, g: str) -> int:
        return self.banks[BANK_OF[g]].k

    def codebook(self, g: str) -> torch.Tensor:
        """(n_heads[g], K, d) codebook entries of group ``g``'s heads."""
        return self.banks[BANK_OF[g]].embed

    def head_sizes(self) -> list[int]:
        """Codebook size of every position of the code sequence."""
        return [self.codebook_size(g) for g in self.groups for _ in range(self.n_heads[g])]

    # --- encode / quantize / decode
    @staticmethod
    def pose_input(body_rotmats: torch.Tensor) -> torch.Tensor:
        """(B,21,3,3) → (B,126) 6D input."""
        return matrix_to_rot6d(body_rotmats).reshape(body_rotmats.shape[0], NUM_BODY * 6)

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
            out.append(self.banks[BANK_OF[g]].lookup(idx[:, self.group_slice(g)]))
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
        return rot6d_to_matrix(self.decode_6d(zq))

    def decode_indices(self, idx: torch.Tensor) -> torch.Tensor:
        return self.decode(self.lookup(idx))

    def encode(self, body_rotmats: torch.Tensor) -> torch.Tensor:
        """(B,21,3,3) → code indices (B,H) (no EMA update)."""
        z = self.encode_continuous(body_rotmats)
        out = torch.empty(z.shape[:2], dtype=torch.long, device=z.device)
        for g in self.groups:
            out[:, self.group_slice(g)] = self.banks[BANK_OF[g]].nearest(z[:, self.group_slice(g)])
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


def load_qposer(name: str = "qposer", directory=None) -> QPoser:
    """The shipped QPoser (eval mode, float32). Raises WeightsError when missing/corrupt."""
    from core_models.nets.weights import WeightsError, float_state, load_weights

    blob = load_weights(name, directory)
    try:
        model = build_qposer(blob["config"]["model"])
        model.load_state_dict(float_state(blob["state"]))
    except Exception as e:
        raise WeightsError(f"the '{name}' weights do not fit the QPoser model: {e}") from e
    model.eval()
    return model


# --- codebook sliders and part paths ---------------------------------------------------------------------

def tour_order(x: np.ndarray, two_opt_rounds: int = 4) -> np.ndarray:
    """A short open path through the rows of ``x`` (N,D): start at the extreme of the first principal
    direction, greedy nearest neighbour, then a few rounds of 2-opt. Returns a permutation of range(N)."""
    x = np.asarray(x, np.float64)
    n = len(x)
    if n <= 2:
        return np.arange(n)
    xc = x - x.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    proj = xc @ vt[0]
    D = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    start = int(np.argmin(proj))
    order = [start]
    left = np.ones(n, bool)
    left[start] = False
    for _ in range(n - 1):
        d = np.where(left, D[order[-1]], np.inf)
        j = int(np.argmin(d))
        order.append(j)
        left[j] = False
    order = np.array(order)
    for _ in range(two_opt_rounds):  # open-path 2-opt: reverse order[i:j+1] when it shortens the path
        improved = False
        for i in range(1, n - 1):
            a, b = order[i - 1], order[i]
            for j in range(i + 1, n):
                c = order[j]
                d_ = order[j + 1] if j + 1 < n else None
                old = D[a, b] + (D[c, d_] if d_ is not None else 0.0)
                new = D[a, c] + (D[b, d_] if d_ is not None else 0.0)
                if new < old - 1e-12:
                    order[i:j + 1] = order[i:j + 1][::-1].copy()
                    improved = True
                    a, b = order[i - 1], order[i]
        if not improved:
            break
    return order


def slider_orders(model: QPoser) -> dict[str, list[np.ndarray]]:
    """For every group and head: the order in which a slider walks through that head's codebook entries
    (a permutation of range(K), a short path through the code vectors)."""
    out: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for g in model.groups:
            cb = model.codebook(g).detach().float().cpu().numpy()
            out[g] = [tour_order(cb[h]) for h in range(model.n_heads[g])]
    return out


@torch.no_grad()
def compute_part_paths(model: QPoser, body_rotmats: torch.Tensor, n: int = 96, seed: int = 0,
                       batch: int = 4096) -> dict[str, list[list[int]]]:
    """Per part: ``n`` distinct code tuples seen on real poses, chosen by farthest-point sampling of the part's
    decoded joint rotations and ordered along a short path, so one "part slider" walks through diverse real
    configurations of that part. Returns {group: [[code per head] * n]} (JSON/torch-save friendly)."""
    idx = torch.cat([model.encode(body_rotmats[i:i + batch]) for i in range(0, len(body_rotmats), batch)])
    paths: dict[str, list[list[int]]] = {}
    rng = np.random.default_rng(seed)
    for g in model.decoded_groups + (("global",) if "global" in model.groups else ()):
        cols = idx[:, model.group_slice(g)]
        uniq, counts = torch.unique(cols, dim=0, return_counts=True)
        keep = uniq[counts >= 2] if (counts >= 2).sum() >= n else uniq
        if len(keep) > 4000:
            keep = keep[torch.as_tensor(rng.choice(len(keep), 4000, replace=False))]
        # feature: the part's decoded rotations with the other codes of a fixed typical pose
        ref = idx[0:1].repeat(len(keep), 1)
        ref[:, model.group_slice(g)] = keep
        R = model.decode_indices(ref)
        joints = [j - 1 for j in (model.group_joints[g] if g in model.group_joints else range(1, 22))]
        feat = matrix_to_rot6d(R[:, joints]).reshape(len(keep), -1).numpy()
        # farthest-point sampling
        m = min(n, len(keep))
        sel = [int(rng.integers(len(keep)))]
        dmin = np.linalg.norm(feat - feat[sel[0]], axis=1)
        for _ in range(m - 1):
            j = int(np.argmax(dmin))
            sel.append(j)
            dmin = np.minimum(dmin, np.linalg.norm(feat - feat[j], axis=1))
        sel = np.array(sel)
        order = tour_order(feat[sel])
        paths[g] = keep[torch.as_tensor(sel[order])].tolist()
    return paths


# --- runtime for the app and the CLI -------------------------------------------------------------------

class LatentEditor:
    """Numpy-level QPoser operations on :class:`~core_models.pose.Pose` objects (the Latent panel's engine).

    Codes are int arrays (H,) in the model's code order. Decoding writes only the body joints of the parts it is
    told to (``parts``); other joints, the root orientation and the translation come from ``base`` — so editing a
    part never touches the rest of the user's pose, and the global code ("global" in ``parts``) changes every
    part (all decoded)."""

    def __init__(self, model: QPoser, paths: dict | None = None, gen=None, prompter=None):
        self.model = model.eval()
        self.paths = {g: np.asarray(v, np.int64) for g, v in (paths or {}).items()}
        self.gen = gen
        self.prompter = prompter
        self.orders = slider_orders(model)

    @classmethod
    def load(cls, directory=None, with_gen: bool = True, with_prompt: bool = True) -> "LatentEditor":
        from core_models.nets.weights import WeightsError, load_weights

        model = load_qposer("qposer", directory)
        paths = load_weights("qposer", directory, verify=False)["config"].get("paths")
        gen = prompter = None
        if with_gen:
            try:
                from core_models.nets.qposer_gen import load_gen
                gen = load_gen("qposer_gen", directory)
            except WeightsError:
                gen = None
        if with_prompt:
            try:
                from core_models.nets.qposer_prompt import load_prompter
                prompter = load_prompter("qposer_prompt", directory)
            except WeightsError:
                prompter = None
        return cls(model, paths, gen, prompter)

    # --- groups
    @property
    def groups(self) -> tuple[str, ...]:
        return self.model.groups

    def slice(self, g: str) -> slice:
        return self.model.group_slice(g)

    def n_heads(self, g: str) -> int:
        return self.model.n_heads[g]

    def codebook_size(self, g: str) -> int:
        return self.model.codebook_size(g)

    # --- encode / decode
    @staticmethod
    def _R(pose) -> torch.Tensor:
        from core_models.nets.pose_vae import aa_to_matrix_t
        return aa_to_matrix_t(torch.as_tensor(np.asarray(pose.body_pose, np.float32)).reshape(-1, NUM_BODY, 3))

    @torch.no_grad()
    def encode(self, pose) -> np.ndarray:
        return self.model.encode(self._R(pose))[0].numpy()

    @torch.no_grad()
    def encode_continuous(self, pose) -> torch.Tensor:
        return self.model.encode_continuous(self._R(pose))[0]

    @torch.no_grad()
    def decode_body(self, codes: np.ndarray) -> np.ndarray:
        """codes (H,) → body_pose axis-angle (21,3)."""
        import roma
        R = self.model.decode_indices(torch.as_tensor(np.asarray(codes, np.int64))[None])[0]
        return roma.rotmat_to_rotvec(R).numpy().astype(np.float32)

    def parts_joints(self, parts) -> list[int]:
        """Body joint indices (1..21) written when ``parts`` change ("global" or "all" = every joint)."""
        if any(p in ("global", "all") for p in parts):
            return list(range(1, 22))
        return sorted(j for p in parts for j in PART_JOINTS[p])

    def compose(self, base, body_aa: np.ndarray, parts) -> "object":
        """A copy of ``base`` with the joints of ``parts`` taken from ``body_aa`` (21,3)."""
        from core_models.pose import Pose
        bp = np.array(base.body_pose, np.float32, copy=True)
        for j in self.parts_joints(parts):
            bp[j - 1] = body_aa[j - 1]
        return Pose(base.root_orient.copy(), bp, base.transl.copy(),
                    None if base.hand_pose is None else base.hand_pose.copy())

    def decode(self, codes: np.ndarray, base, parts) -> "object":
        return self.compose(base, self.decode_body(codes), parts)

    # --- edits on code arrays
    def set_head(self, codes: np.ndarray, g: str, h: int, slider_pos: int) -> np.ndarray:
        """Head ``h`` of group ``g`` takes the code at position ``slider_pos`` of its slider order."""
        out = np.array(codes, copy=True)
        out[self.slice(g).start + h] = int(self.orders[g][h][slider_pos])
        return out

    def slider_pos(self, codes: np.ndarray, g: str, h: int) -> int:
        c = int(codes[self.slice(g).start + h])
        return int(np.nonzero(self.orders[g][h] == c)[0][0])

    def set_path(self, codes: np.ndarray, g: str, i: int) -> np.ndarray:
        """The part takes the ``i``-th code tuple of its part path."""
        out = np.array(codes, copy=True)
        out[self.slice(g)] = self.paths[g][i]
        return out

    def path_pos(self, codes: np.ndarray, g: str) -> int:
        """Index of the path entry closest (Hamming) to the part's current codes."""
        if g not in self.paths or not len(self.paths[g]):
            return 0
        return int(np.argmin((self.paths[g] != codes[self.slice(g)][None]).sum(1)))

    def copy_part(self, codes: np.ndarray, ref_pose, g: str) -> np.ndarray:
        out = np.array(codes, copy=True)
        out[self.slice(g)] = self.encode(ref_pose)[self.slice(g)]
        return out

    def resample(self, codes: np.ndarray, groups, rng: np.random.Generator | None = None) -> np.ndarray:
        """New codes for ``groups``; the other positions stay. With the masked transformer the new codes are
        drawn conditioned on the kept ones, otherwise uniformly from the codebooks (QPoser B.2)."""
        rng = rng or np.random.default_rng()
        out = np.array(codes, copy=True)
        free = np.zeros(len(out), bool)
        for g in groups:
            free[self.slice(g)] = True
        if not free.any():
            return out
        if self.gen is not None:
            gtor = torch.Generator().manual_seed(int(rng.integers(2 ** 31)))
            fixed = torch.as_tensor(out)[None]
            new = self.gen.sample(1, fixed=fixed, fixed_mask=torch.as_tensor(~free)[None], generator=gtor)[0]
            out[free] = new.numpy()[free]
            return out
        sizes = np.array(self.model.head_sizes())
        out[free] = rng.integers(0, sizes[free])
        return out

    @torch.no_grad()
    def interpolate(self, pose_a, pose_b, t: float) -> np.ndarray:
        """Body pose (21,3) decoded from the linear mix of the two poses' continuous latents (QPoser B.1)."""
        import roma
        za, zb = self.encode_continuous(pose_a), self.encode_continuous(pose_b)
        R = self.model.decode(((1 - t) * za + t * zb)[None])[0]
        return roma.rotmat_to_rotvec(R).numpy().astype(np.float32)

    def prompt(self, codes: np.ndarray, text: str) -> tuple[np.ndarray, list[str]]:
        """Codes with the parts the text talks about set from the text; returns (codes, parts changed)."""
        if self.prompter is None:
            raise RuntimeError("the QPoser prompt model is not available (train it: python main.py train qposer "
                               "--stage prompt)")
        pc = self.prompter.part_codes(text)
        out = np.array(codes, copy=True)
        for p, c in pc.items():
            out[self.slice(p)] = c
        return out, list(pc)
