"""Text-based pose editing (PoseFix §4 on our corpus): pose A + instruction text → pose B (mean + samples).

Model (:class:`PoseEditor`, own implementation of the PoseFix cVAE):

* pose auto-encoder pieces from :mod:`core_models.nets.common.pose_vae` (VPoser-style MLPs, 6D rotation output,
  latent d = 32, learned constant decoder variances for rotations / joints / vertices);
* text: the instruction is split into short clauses (:func:`split_clauses`: at ``. , ;`` "then", "and"); each
  clause is encoded by the frozen MiniLM (:mod:`core_models.nets.common.text_encoder`) into token states; a trainable
  head pools each clause's tokens (token MLP + multi-query attention pooling, so side words such as
  "left"/"right" are picked up — raw MiniLM cosine is side-blind) and runs a small transformer over the clause
  vectors, masked mean → text feature ``m``. Encoding clauses instead of whole texts lets the training corpus
  share a few thousand unique clauses (hundreds of thousands of modifier texts would take hours to encode on
  a CPU), and repeated clauses are cached at inference;
* TIRG fusion ``p = w_f·σ(f([a,m]))⊙a + w_g·g([a,m])``;
* two Gaussian heads: posterior N(b) from pose B's features, prior N(p) from the fusion;
  loss = NLL(6D rotations) + NLL(joints) + NLL(vertices) + KL(N(b) ‖ N(p)) (see :mod:`core_models.nets.editor.train`).

Inference: :func:`load_editor` (hash-checked weights, no text encoder load), then
``Editor.edit(pose, text, n_samples=8, strength=1.0, keep_global=True, seed=0)`` → :class:`EditResult`
(``mean``, ``samples``, ``notice``). Empty or nonsense text returns the pose unchanged with a notice.
The model sees the heading-normalised pose; the user's heading and translation are put back afterwards.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
import torch.nn as nn

from core_models.nets.common.layers import TIRG
from core_models.nets.common.pose_vae import (
    LATENT_DIM,
    GaussianHead,
    PoseDecoder,
    PoseEncoder,
    gaussian_nll,
)
from core_models.pose import matrix_to_6d, sixd_to_matrix
from core_models.text.clauses import MAX_CLAUSES

TEXT_DIM_IN = 384
MAX_CLAUSE_TOKENS = 32

# --- text handling --------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+")



#: side / direction words given to the text head as explicit presence flags per clause: frozen MiniLM token
#: states barely separate "left" from "right" (the first shipped model, trained without this channel, raised
#: both arms for "raise your left arm")
KEYWORDS = ("left", "right", "both", "up", "down", "forward", "back", "backward", "higher", "lower", "closer",
            "farther", "apart", "together", "front", "behind", "above", "below", "more", "less")
_KW_INDEX = {w: i for i, w in enumerate(KEYWORDS)}
_KW_ALIAS = {"forwards": "forward", "backwards": "backward", "upward": "up",
             "upwards": "up", "downward": "down", "downwards": "down", "further": "farther", "raise": "up",
             "lift": "up"}


def keyword_flags(clause: str) -> list[float]:
    """(len(KEYWORDS),) 0/1 presence of each side/direction keyword in a clause."""
    v = [0.0] * len(KEYWORDS)
    for w in _WORD.findall(clause.lower()):
        w = _KW_ALIAS.get(w, w)
        if w in _KW_INDEX:
            v[_KW_INDEX[w]] = 1.0
    return v












@dataclass
class ClauseBatch:
    """Token states of the unique clauses of a batch and, per text, the indices of its clauses.

    states (C, L, 384) float, mask (C, L) bool, seq (B, K) long (−1 = padding; a row of −1 = empty text),
    kw (C, len(KEYWORDS)) keyword flags (None: computed as zeros)."""
    states: torch.Tensor
    mask: torch.Tensor
    seq: torch.Tensor
    kw: torch.Tensor | None = None

    def to(self, device) -> "ClauseBatch":
        return ClauseBatch(self.states.to(device), self.mask.to(device), self.seq.to(device),
                           None if self.kw is None else self.kw.to(device))


def clause_batch_from_lists(clauses_per_text: list[list[str]], encode) -> ClauseBatch:
    """Build a ClauseBatch; ``encode(list_of_unique_clauses) -> (states (C,L,384), mask (C,L))``."""
    uniq: dict[str, int] = {}
    for cl in clauses_per_text:
        for c in cl:
            uniq.setdefault(c, len(uniq))
    K = max([len(c) for c in clauses_per_text] + [1])
    seq = torch.full((len(clauses_per_text), K), -1, dtype=torch.long)
    for i, cl in enumerate(clauses_per_text):
        for k, c in enumerate(cl):
            seq[i, k] = uniq[c]
    if uniq:
        states, mask = encode(list(uniq))
    else:
        states, mask = torch.zeros(0, 1, TEXT_DIM_IN), torch.zeros(0, 1, dtype=torch.bool)
    kw = torch.tensor([keyword_flags(c) for c in uniq], dtype=torch.float32).reshape(len(uniq), len(KEYWORDS))
    return ClauseBatch(states.float(), mask.bool(), seq, kw)


# --- networks -------------------------------------------------------------------------------------------

class _MixBlock(nn.Module):
    """Pre-norm transformer block (self-attention over the clauses of one instruction + feed-forward)."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.att = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * d, d))

    def forward(self, x, pad):
        h = self.n1(x)
        x = x + self.att(h, h, h, key_padding_mask=pad, need_weights=False)[0]
        return x + self.ff(self.n2(x))


class ClauseTextHead(nn.Module):
    """Frozen token states of clauses → one text feature per instruction (B, out_dim).

    Per clause: multi-query attention pooling of the (frozen, contextual) MiniLM token states — trained scores,
    so single words such as "left"/"right" can dominate — and a projection to ``d``; then ``layers`` small
    transformer blocks over the clauses of each instruction (learned clause positions), masked mean, Linear."""

    def __init__(self, d: int = 128, out_dim: int = 256, layers: int = 2, heads: int = 4, pool_queries: int = 4,
                 dropout: float = 0.1):
        super().__init__()
        self.scores = nn.Linear(TEXT_DIM_IN, pool_queries)
        self.pool_out = nn.Sequential(nn.Linear(pool_queries * TEXT_DIM_IN, d), nn.GELU(), nn.Linear(d, d))
        self.kw = nn.Linear(len(KEYWORDS), d)  # keyword channel, zero-initialised (fine-tuning starts unchanged)
        nn.init.zeros_(self.kw.weight)
        nn.init.zeros_(self.kw.bias)
        self.pos = nn.Parameter(torch.zeros(MAX_CLAUSES, d))
        self.blocks = nn.ModuleList([_MixBlock(d, heads, dropout) for _ in range(layers)])
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, out_dim)
        self.empty = nn.Parameter(torch.zeros(out_dim))  # feature of an empty instruction (PoseCopy)

    def clause_vectors(self, states: torch.Tensor, mask: torch.Tensor, kw: torch.Tensor | None = None):
        s = self.scores(states).transpose(1, 2)  # (C,Q,L)
        s = s.masked_fill(~mask[:, None, :], float("-inf"))
        pooled = torch.softmax(s, -1) @ states  # (C,Q,384)
        h = self.pool_out[0](pooled.flatten(1))
        if kw is not None:
            h = h + self.kw(kw)
        return self.pool_out[2](self.pool_out[1](h))

    def forward(self, cb: ClauseBatch) -> torch.Tensor:
        B, K = cb.seq.shape
        if cb.states.shape[0] == 0:
            return self.empty.expand(B, -1)
        cv = self.clause_vectors(cb.states, cb.mask, cb.kw)  # (C,d)
        pad = cb.seq < 0
        x = cv[cb.seq.clamp(min=0)] + self.pos[:K]
        empty_row = pad.all(1)
        pad_safe = pad.clone()
        pad_safe[empty_row, 0] = False  # keep attention defined; result replaced below
        for blk in self.blocks:
            x = blk(x, pad_safe)
        x = self.norm(x)
        keep = (~pad).float()[..., None]
        m = (x * keep).sum(1) / keep.sum(1).clamp(min=1)
        out = self.out(m)
        return torch.where(empty_row[:, None], self.empty.expand(B, -1), out)




DEFAULT_CONFIG = dict(latent=LATENT_DIM, pose_feat=256, pose_hidden=512, pose_layers=2, text_d=128,
                      text_dim=256, text_layers=2, dropout=0.1)


class PoseEditor(nn.Module):
    """PoseFix-style conditional VAE (see module docstring). Poses are rotmats (B,22,3,3), heading-normalised."""

    def __init__(self, cfg: dict | None = None):
        super().__init__()
        c = dict(DEFAULT_CONFIG, **(cfg or {}))
        self.cfg = c
        self.pose_enc = PoseEncoder(c["pose_feat"], c["pose_hidden"], c["pose_layers"], c["dropout"])
        self.text_head = ClauseTextHead(c["text_d"], c["text_dim"], c["text_layers"], dropout=c["dropout"])
        self.fusion = TIRG(c["pose_feat"], c["text_dim"], activation=nn.ReLU)
        self.posterior = GaussianHead(c["pose_feat"], c["latent"])
        self.prior = GaussianHead(c["pose_feat"], c["latent"])
        self.decoder = PoseDecoder(c["latent"], c["pose_hidden"], c["pose_layers"], c["dropout"])
        # learned constant decoder scales, started near the typical errors (6D units, metres, metres)
        self.log_sigma_rot = nn.Parameter(torch.tensor(math.log(0.2)))
        self.log_sigma_joints = nn.Parameter(torch.tensor(math.log(0.05)))
        self.log_sigma_verts = nn.Parameter(torch.tensor(math.log(0.05)))

    def prior_dist(self, A: torch.Tensor, cb: ClauseBatch | None = None, text_feat: torch.Tensor | None = None):
        m = self.text_head(cb) if text_feat is None else text_feat
        return self.prior(self.fusion(self.pose_enc(A), m))

    def posterior_dist(self, B: torch.Tensor):
        return self.posterior(self.pose_enc(B))

    def forward(self, A: torch.Tensor, B: torch.Tensor, cb: ClauseBatch):
        q = self.posterior_dist(B)
        p = self.prior_dist(A, cb)
        return self.decoder.decode_6d(q.rsample()), q, p


# --- inference API ----------------------------------------------------------------------------------------













def recon_nll(model: PoseEditor, d6_hat: torch.Tensor, B_rot: torch.Tensor, body_fn):
    """(nll_rot, nll_joints, nll_verts) per sample. ``body_fn(rotmats) -> (joints (B,22,3), verts (B,V,3))``."""
    R_hat = sixd_to_matrix(d6_hat)
    J_hat, V_hat = body_fn(R_hat)
    with torch.no_grad():
        J, V = body_fn(B_rot)
    return (gaussian_nll(matrix_to_6d(R_hat), matrix_to_6d(B_rot), model.log_sigma_rot),
            gaussian_nll(J_hat, J, model.log_sigma_joints),
            gaussian_nll(V_hat, V, model.log_sigma_verts), R_hat, J_hat, V_hat, J, V)

