"""Correctional text generation (PoseFix §5): pose pair A → B → "how to move from A to B".

Architecture (own code): poses A and B go through one shared pose encoder, TIRG fuses them with the gating on
B (B is the main modality, A the modifier: ``p = w_f·σ(f([b, a]))⊙b + w_g·g([b, a])``), ``p`` is projected
into N "pose tokens", and an auto-regressive transformer decoder (pre-LN, causal self-attention, cross-attention
to the pose tokens — PoseFix found cross-attention far better than prompting) predicts the next word. The
vocabulary is word-level, built with ``tokenizers`` on the corpus modifiers. Decoding is greedy or beam search,
batched, with key/value caches.

Inference guarantees that do not depend on training:

* identical (or nearly identical) poses give :data:`NO_CHANGE_TEXT` without running the network;
* left/right equivariance: a pair is decoded in a canonical chirality (the side whose joints change more is
  put on the left); the mirrored pair therefore yields exactly the side-swapped text.

The model never sees the text encoder of the app: its vocabulary is its own (stored in the weights config).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import cast

import numpy as np
import roma
import torch
import torch.nn as nn
import torch.nn.functional as F

from core_models import skeleton as sk
from core_models.nets.common.layers import TIRG
from core_models.pose import (
    Pose,
)

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
POSE_FEAT_DIM = 22 * 6 + 22 * 3
#: a pair whose joints all move less than this (metres, pelvis-centred, A's heading) needs no change
NO_CHANGE_M = 0.02
#: default n-gram repetition guard of greedy decoding (0: off)
NO_REPEAT = 0


# ------------------------------------------------------------------------------------------------------
# vocabulary
# ------------------------------------------------------------------------------------------------------


def _make_tokenizer(vocab: dict[str, int]):
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel

    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return tok


class Vocab:
    """Word-level vocabulary (lower case; punctuation marks are tokens). ``words[i]`` is token i."""

    def __init__(self, words: list[str]):
        if words[:len(SPECIALS)] != SPECIALS:
            raise ValueError("vocabulary must start with the special tokens")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self._tok = _make_tokenizer(self.index)

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls, texts, min_count: int = 1) -> "Vocab":
        from tokenizers import Tokenizer, normalizers, pre_tokenizers
        from tokenizers.models import WordLevel
        from tokenizers.trainers import WordLevelTrainer

        tok = Tokenizer(WordLevel(unk_token="<unk>"))
        tok.normalizer = normalizers.Lowercase()
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        trainer = WordLevelTrainer(special_tokens=SPECIALS, min_frequency=min_count, show_progress=False)
        tok.train_from_iterator(list(texts), trainer)
        v = tok.get_vocab()
        words = [w for w, _ in sorted(v.items(), key=lambda kv: kv[1])]
        rest = sorted(w for w in words if w not in SPECIALS)
        return cls(SPECIALS + rest)

    def encode(self, texts: list[str], max_len: int | None = None) -> list[list[int]]:
        """Token ids (no BOS/EOS), truncated to ``max_len``."""
        enc = self._tok.encode_batch(list(texts), add_special_tokens=False)
        out = [e.ids for e in enc]
        return [o[:max_len] for o in out] if max_len else out

    def decode(self, ids) -> str:
        ws = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, BOS):
                continue
            ws.append(self.words[i] if 0 <= i < len(self.words) else "<unk>")
        return detokenize(ws)


def detokenize(ws: list[str]) -> str:
    s = " ".join(ws)
    s = re.sub(r"\s+([.,;:!?)])", r"\1", s)
    s = re.sub(r"\s*([-'])\s*", r"\1", s)
    s = re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), s)
    return s.strip()


# ------------------------------------------------------------------------------------------------------
# pose features
# ------------------------------------------------------------------------------------------------------

_LEVELS: list[np.ndarray] = []


def _levels() -> list[np.ndarray]:
    if not _LEVELS:
        depth = np.zeros(len(sk.PARENTS), np.int64)
        for j in range(1, len(sk.PARENTS)):
            depth[j] = depth[sk.PARENTS[j]] + 1
        _LEVELS.extend(np.nonzero(depth == d)[0] for d in range(1, depth.max() + 1))
    return _LEVELS


def pose_features(poses: Pose | np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N, 198) float32: 6D rotations of the 22 joints (root included) + pelvis-centred joint positions from
    FK on the default SMPL-H rest skeleton. Accepts a Pose or full axis-angle (N,22,3)."""
    full = poses.full() if isinstance(poses, Pose) else poses
    full = torch.as_tensor(np.asarray(full, np.float32) if not isinstance(full, torch.Tensor) else full)
    full = full.reshape(-1, 22, 3).float()
    R = roma.rotvec_to_rotmat(full)  # (N,22,3,3)
    rest = torch.as_tensor(sk.DEFAULT_REST_JOINTS, dtype=torch.float32)
    rest = rest - rest[0]
    par = torch.as_tensor(sk.PARENTS)
    n = R.shape[0]
    Rg = torch.empty_like(R)
    tg = torch.zeros((n, 22, 3))
    Rg[:, 0] = R[:, 0]
    for js in _levels():
        jt = torch.as_tensor(js)
        p = par[jt]
        Rg[:, jt] = Rg[:, p] @ R[:, jt]
        tg[:, jt] = tg[:, p] + (Rg[:, p] @ (rest[jt] - rest[p])[None, :, :, None]).squeeze(-1)
    six = R[..., :, :2].transpose(-1, -2).reshape(n, 22 * 6)
    return torch.cat([six, tg.reshape(n, 66) * 2.0], 1)


def to_pair_frame(a: Pose, b: Pose) -> tuple[Pose, Pose]:
    """(A with its heading removed, B rotated by the same angle), translations dropped: the frame the models
    are trained in (a change of global orientation between A and B is kept)."""
    from core_models.pose import apply_heading, heading_of

    h = np.asarray(heading_of(a.root_orient), np.float32)
    return (apply_heading(Pose(a.root_orient, a.body_pose), -h),
            apply_heading(Pose(b.root_orient, b.body_pose), -h))


def normalize_pair(a: Pose, b: Pose, keep_heading: bool = False) -> tuple[Pose, Pose]:
    """``keep_heading``: B in A's heading frame (:func:`to_pair_frame`, a turn of the body is part of the
    correction); otherwise each pose loses its own heading (like the out-of-sequence training pairs)."""
    if keep_heading:
        return to_pair_frame(a, b)
    from core_models.pose import normalize_heading

    return (normalize_heading(Pose(a.root_orient, a.body_pose))[0],
            normalize_heading(Pose(b.root_orient, b.body_pose))[0])


def pair_joint_displacement(a: Pose, b: Pose) -> np.ndarray:
    """(..., 22) per-joint displacement (metres) between A and B, pelvis-centred, both in A's heading frame
    (so a change of global orientation counts, a change of heading of the pair as a whole does not)."""
    from core_models.pose import apply_heading, heading_of

    h = np.asarray(heading_of(a.root_orient), np.float32)
    fa = pose_features(apply_heading(Pose(a.root_orient, a.body_pose), -h))[:, 132:] / 2.0
    fb = pose_features(apply_heading(Pose(b.root_orient, b.body_pose), -h))[:, 132:] / 2.0
    d = (fa - fb).reshape(-1, 22, 3).norm(dim=-1).numpy()
    return d.reshape(a.batch_shape + (22,))


_LEFT = np.array([j for j in range(22) if sk.MIRROR[j] != j and "left" in sk.JOINT_NAMES[j]])
_RIGHT = np.array([sk.MIRROR[j] for j in _LEFT])


def chirality(a: Pose, b: Pose) -> np.ndarray:
    """Exactly antisymmetric under mirroring both poses: (sum of left-joint rotation changes) − (right).
    Positive means the left side changes more."""
    d = np.linalg.norm(np.asarray(b.full(), np.float64) - np.asarray(a.full(), np.float64), axis=-1)
    return d[..., _LEFT].sum(-1) - d[..., _RIGHT].sum(-1)


# ------------------------------------------------------------------------------------------------------
# network
# ------------------------------------------------------------------------------------------------------


@dataclass
class CorrectorConfig:
    vocab: list
    d_model: int = 128
    n_layers: int = 2
    n_heads: int = 2
    d_ff: int = 512
    d_pose: int = 128
    n_pose_tokens: int = 4
    max_len: int = 112
    dropout: float = 0.1
    joint_tokens: bool = False  # also one memory token per joint (A, B and B − A of that joint)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


JOINT_TOKEN_IN = 6 + 6 + 3 + 3 + 3


def joint_token_inputs(fa: torch.Tensor, fb: torch.Tensor) -> torch.Tensor:
    """(B, 22, 21) per-joint inputs from two pose-feature batches: 6D rotation in A and B, position in A and B
    (pair frame, pelvis-centred) and its change."""
    n = fa.shape[0]
    ra, rb = fa[:, :132].reshape(n, 22, 6), fb[:, :132].reshape(n, 22, 6)
    pa, pb = fa[:, 132:].reshape(n, 22, 3), fb[:, 132:].reshape(n, 22, 3)
    return torch.cat([ra, rb, pa, pb, pb - pa], -1)


class PoseEncoder(nn.Module):
    """Pose features → d_pose (shared by A and B)."""

    def __init__(self, d_out: int, hidden: int = 512, dropout: float = 0.1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(POSE_FEAT_DIM, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)




class _Attention(nn.Module):
    def __init__(self, d: int, h: int, dropout: float):
        super().__init__()
        self.h = h
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.o = nn.Linear(d, d)
        self.dropout = dropout

    def split(self, x):  # (B,T,d) -> (B,h,T,dh)
        B, T, d = x.shape
        return x.view(B, T, self.h, d // self.h).transpose(1, 2)

    def keys_values(self, x):
        k, v = self.kv(x).chunk(2, -1)
        return self.split(k), self.split(v)

    def forward(self, x, k, v, causal: bool):
        q = self.split(self.q(x))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        B, h, T, dh = y.shape
        return self.o(y.transpose(1, 2).reshape(B, T, h * dh))


class DecoderLayer(nn.Module):
    def __init__(self, d: int, h: int, d_ff: int, dropout: float):
        super().__init__()
        self.n1, self.n2, self.n3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = _Attention(d, h, dropout)
        self.cross_attn = _Attention(d, h, dropout)
        self.ff = nn.Sequential(nn.Linear(d, d_ff), nn.GELU(), nn.Linear(d_ff, d))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mem_kv, cache=None):
        """Full sequence (cache None, causal) or one step appending to ``cache`` = [k, v] (or [None, None])."""
        y = self.n1(x)
        k, v = self.self_attn.keys_values(y)
        if cache is not None:
            if cache[0] is not None:
                k = torch.cat([cache[0], k], 2)
                v = torch.cat([cache[1], v], 2)
            cache[0], cache[1] = k, v
        x = x + self.drop(self.self_attn(y, k, v, causal=cache is None))
        x = x + self.drop(self.cross_attn(self.n2(x), mem_kv[0], mem_kv[1], causal=False))
        return x + self.drop(self.ff(self.n3(x)))


class CorrectorNet(nn.Module):
    def __init__(self, cfg: CorrectorConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        V = len(cfg.vocab)
        self.pose_encoder = PoseEncoder(cfg.d_pose, dropout=cfg.dropout)
        self.fusion = TIRG(cfg.d_pose)
        self.to_tokens = nn.Linear(cfg.d_pose, cfg.n_pose_tokens * d)
        self.token_pos = nn.Parameter(torch.randn(cfg.n_pose_tokens, d) * 0.02)
        if cfg.joint_tokens:
            self.joint_in = nn.Sequential(nn.Linear(JOINT_TOKEN_IN, d), nn.GELU(), nn.Linear(d, d))
            self.joint_emb = nn.Parameter(torch.randn(22, d) * 0.02)
        self.mem_norm = nn.LayerNorm(d)
        self.embed = nn.Embedding(V, d, padding_idx=PAD)
        self.pos = nn.Parameter(torch.randn(cfg.max_len + 1, d) * 0.02)
        self.layers = nn.ModuleList(DecoderLayer(d, cfg.n_heads, cfg.d_ff, cfg.dropout) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, V)

    # -- conditioning --------------------------------------------------------------------------------
    def pose_tokens(self, fa: torch.Tensor, fb: torch.Tensor) -> torch.Tensor:
        """fa, fb (B, 198) pose features → (B, N, d) pose tokens (TIRG tokens, then 22 joint tokens when
        ``joint_tokens``)."""
        ea, eb = self.pose_encoder(fa), self.pose_encoder(fb)
        p = self.fusion(eb, ea)
        t = self.to_tokens(p).view(-1, self.cfg.n_pose_tokens, self.cfg.d_model) + self.token_pos
        if self.cfg.joint_tokens:
            t = torch.cat([t, self.joint_in(joint_token_inputs(fa, fb)) + self.joint_emb], 1)
        return self.mem_norm(t)

    def memory_kv(self, mem: torch.Tensor):
        return [cast(DecoderLayer, layer).cross_attn.keys_values(mem) for layer in self.layers]

    # -- teacher forcing -------------------------------------------------------------------------------
    def forward(self, fa, fb, tokens_in):
        """tokens_in (B,T) starting with BOS → logits (B,T,V)."""
        mem_kv = self.memory_kv(self.pose_tokens(fa, fb))
        T = tokens_in.shape[1]
        x = self.embed(tokens_in) + self.pos[:T]
        for layer, kv in zip(self.layers, mem_kv):
            x = layer(x, kv)
        return self.out(self.norm(x))

    def loss(self, fa, fb, tokens, label_smoothing: float = 0.0):
        """tokens (B,T) = BOS w1 ... wn EOS PAD...; mean cross-entropy on the shifted targets."""
        logits = self(fa, fb, tokens[:, :-1])
        tgt = tokens[:, 1:]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=PAD,
                               label_smoothing=label_smoothing)

    # -- decoding ------------------------------------------------------------------------------------------
    def _step(self, tok, t, mem_kv, caches, log_probs: bool = True):
        x = self.embed(tok[:, None]) + self.pos[t]
        for layer, kv, c in zip(self.layers, mem_kv, caches):
            x = layer(x, kv, c)
        logits = self.out(self.norm(x[:, 0]))
        return F.log_softmax(logits, -1) if log_probs else logits

    @torch.inference_mode()
    def greedy(self, fa, fb, max_len: int | None = None, no_repeat: int = 0) -> list[list[int]]:
        """Greedy decoding. ``no_repeat`` = n > 0 forbids repeating any n-gram of tokens within a text (the
        usual guard against an under-trained decoder looping on a clause)."""
        max_len = min(max_len or self.cfg.max_len, self.cfg.max_len)
        B = fa.shape[0]
        mem_kv = self.memory_kv(self.pose_tokens(fa, fb))
        caches = [[None, None] for _ in self.layers]
        tok = torch.full((B,), BOS, dtype=torch.long)
        out = torch.full((B, max_len), PAD, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        seen: list[dict] = [dict() for _ in range(B)] if no_repeat > 0 else []
        hist: list[list[int]] = [[] for _ in range(B)]
        for t in range(max_len):
            logits = self._step(tok, t, mem_kv, caches, log_probs=False)
            if no_repeat > 0 and t >= no_repeat - 1:
                for i in range(B):
                    banned = seen[i].get(tuple(hist[i][len(hist[i]) - no_repeat + 1:]))
                    if banned:
                        logits[i, list(banned)] = -math.inf
            tok = logits.argmax(-1)
            tok = torch.where(done, torch.full_like(tok, PAD), tok)
            out[:, t] = tok
            if no_repeat > 0:
                for i, x in enumerate(tok.tolist()):
                    h = hist[i]
                    h.append(x)
                    if len(h) >= no_repeat:
                        seen[i].setdefault(tuple(h[-no_repeat:-1]), set()).add(x)
            done |= tok == EOS
            if bool(done.all()):
                break
        return [_cut(row) for row in out.tolist()]

    @torch.inference_mode()
    def beam(self, fa, fb, beam: int = 4, max_len: int | None = None, length_alpha: float = 0.7) -> list[list[int]]:
        max_len = min(max_len or self.cfg.max_len, self.cfg.max_len)
        B, K = fa.shape[0], beam
        mem = self.pose_tokens(fa, fb).repeat_interleave(K, 0)
        mem_kv = self.memory_kv(mem)
        caches = [[None, None] for _ in self.layers]
        tok = torch.full((B * K,), BOS, dtype=torch.long)
        score = torch.full((B, K), -math.inf)
        score[:, 0] = 0.0
        seqs = torch.zeros((B * K, 0), dtype=torch.long)
        done = torch.zeros(B * K, dtype=torch.bool)
        length = torch.zeros(B * K)
        V = self.out.out_features
        for t in range(max_len):
            logp = self._step(tok, t, mem_kv, caches)  # (BK, V)
            # finished beams only extend with PAD at no cost
            fin = torch.full_like(logp, -math.inf)
            fin[:, PAD] = 0.0
            logp = torch.where(done[:, None], fin, logp)
            cand = (score.view(-1, 1) + logp).view(B, K * V)
            top, idx = cand.topk(K, -1)
            src = (idx // V) + torch.arange(B)[:, None] * K  # (B,K) flat source beam
            src = src.view(-1)
            tok = (idx % V).view(-1)
            score = top
            seqs = torch.cat([seqs[src], tok[:, None]], 1)
            prev_done = done[src]
            done = prev_done | (tok == EOS)
            length = length[src] + (~prev_done).float()
            for c in caches:
                c[:] = [None if x is None else x[src] for x in c]
            if bool(done.all()):
                break
        norm = score.view(-1) / length.clamp(min=1) ** length_alpha
        best = norm.view(B, K).argmax(-1) + torch.arange(B) * K
        return [_cut(row) for row in seqs[best].tolist()]


def _cut(row: list[int]) -> list[int]:
    out = []
    for t in row:
        if t in (EOS, PAD):
            break
        out.append(t)
    return out


# ------------------------------------------------------------------------------------------------------
# inference wrapper
# ------------------------------------------------------------------------------------------------------




def build_net(cfg: CorrectorConfig | dict) -> CorrectorNet:
    if isinstance(cfg, dict):
        cfg = CorrectorConfig(**cfg)
    return CorrectorNet(cfg)






