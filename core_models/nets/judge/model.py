"""Independent judge for correction texts: a text ⇄ pose-pair (A, B) retrieval model trained contrastively,
separately from the generator (own weights, own vocabulary build, own training run). Used for the
R-precision of PoseFix Table 6 (rank of the true pair among a pool of 32, and 200 as in PoseEmbroider).

Text side (fastText-like): the mean of learned embeddings of the text's word 1-, 2- and 3-grams (the most
frequent ones of the corpus modifiers, words from our own word-level vocabulary) and an MLP. Local word order
is kept, so "left knee" and "right knee" are different features (raw sentence-embedding cosine would be
blind to sides); it is cheap enough to train well on one CPU thread. Pair side: shared pose encoder on A and B,
MLP on [a, b, b − a]. Both end in
L2-normalised 256-d embeddings; symmetric InfoNCE with a learned temperature.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from core_models.nets.corrector.model import PAD, UNK, PoseEncoder


@dataclass
class JudgeConfig:
    vocab: list
    n_ngrams: int = 20000
    d_text: int = 128
    d_pose: int = 256
    d_embed: int = 256
    max_len: int = 128
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def ngram_codes(tokens: torch.Tensor, V: int) -> torch.Tensor:
    """(B,T) word ids (PAD/BOS/EOS/UNK ignored) → (B, 3T) integer codes of their 1-, 2- and 3-grams (0 where
    invalid). Codes of different orders never collide: code(t1..tn) = digits (t+1) in base V+1."""
    valid = tokens > UNK
    t = tokens.long() + 1
    base = V + 1
    z = torch.zeros_like(t)
    uni = torch.where(valid, t, z)
    bi = torch.where(valid[:, :-1] & valid[:, 1:], t[:, :-1] * base + t[:, 1:], z[:, 1:])
    tri = torch.where(valid[:, :-2] & valid[:, 1:-1] & valid[:, 2:],
                      (t[:, :-2] * base + t[:, 1:-1]) * base + t[:, 2:], z[:, 2:])
    return torch.cat([uni, bi, tri], 1)


class JudgeNet(nn.Module):
    ngram_keys: torch.Tensor  # buffer (n_ngrams,) sorted n-gram codes kept for the bag of n-grams

    def __init__(self, cfg: JudgeConfig):
        super().__init__()
        self.cfg = cfg
        # sorted codes of the known n-grams (set by build_ngrams); row k+1 of the bag is n-gram k
        self.register_buffer("ngram_keys", torch.zeros(cfg.n_ngrams, dtype=torch.long))
        self.bag = nn.EmbeddingBag(cfg.n_ngrams + 1, cfg.d_text, mode="mean", padding_idx=0)
        self.text_head = nn.Sequential(nn.Linear(cfg.d_text, 512), nn.LayerNorm(512), nn.GELU(),
                                       nn.Dropout(cfg.dropout), nn.Linear(512, cfg.d_embed))
        self.pose_encoder = PoseEncoder(cfg.d_pose, dropout=cfg.dropout)
        self.pair_head = nn.Sequential(nn.Linear(3 * cfg.d_pose, 512), nn.LayerNorm(512), nn.GELU(),
                                       nn.Linear(512, cfg.d_embed))
        self.logit_scale = nn.Parameter(torch.tensor(np.log(10.0), dtype=torch.float32))

    def build_ngrams(self, token_batches) -> int:
        """Keep the ``n_ngrams`` most frequent 1/2/3-grams of the given (B,T) token tensors."""
        counts: dict[int, int] = {}
        for tok in token_batches:
            c = ngram_codes(tok, len(self.cfg.vocab))
            u, n = torch.unique(c[c > 0], return_counts=True)
            for k, v in zip(u.tolist(), n.tolist()):
                counts[k] = counts.get(k, 0) + v
        top = sorted(counts, key=lambda k: -counts[k])[:self.cfg.n_ngrams]
        keys = torch.full((self.cfg.n_ngrams,), torch.iinfo(torch.long).max, dtype=torch.long)
        keys[:len(top)] = torch.as_tensor(sorted(top), dtype=torch.long)
        self.ngram_keys.copy_(keys.sort().values)
        return len(top)

    def bag_ids(self, tokens: torch.Tensor) -> torch.Tensor:
        c = ngram_codes(tokens, len(self.cfg.vocab))
        pos = torch.searchsorted(self.ngram_keys, c).clamp(max=self.cfg.n_ngrams - 1)
        hit = (self.ngram_keys[pos] == c) & (c > 0)
        return torch.where(hit, pos + 1, torch.zeros_like(pos))

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B,T) word ids, PAD-padded → (B, d_embed) unit vectors."""
        ids = self.bag_ids(tokens)
        empty = (ids == 0).all(1)
        ids[empty, 0] = 0  # an all-padding bag gives the zero vector
        return F.normalize(self.text_head(self.bag(ids)), dim=-1)

    def encode_pair(self, fa: torch.Tensor, fb: torch.Tensor) -> torch.Tensor:
        ea, eb = self.pose_encoder(fa), self.pose_encoder(fb)
        return F.normalize(self.pair_head(torch.cat([ea, eb, eb - ea], -1)), dim=-1)

    def loss(self, fa, fb, tokens) -> torch.Tensor:
        zt, zp = self.encode_text(tokens), self.encode_pair(fa, fb)
        logits = self.logit_scale.exp().clamp(max=100.0) * zt @ zp.T
        y = torch.arange(len(zt))
        return 0.5 * (F.cross_entropy(logits, y) + F.cross_entropy(logits.T, y))


def pad_batch(seqs: list[list[int]], max_len: int) -> torch.Tensor:
    L = max(1, min(max_len, max((len(s) for s in seqs), default=1)))
    out = torch.full((len(seqs), L), PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        s = s[:L]
        if s:
            out[i, :len(s)] = torch.as_tensor(s)
    return out








def build_judge_net(cfg: JudgeConfig | dict) -> JudgeNet:
    return JudgeNet(JudgeConfig(**cfg) if isinstance(cfg, dict) else cfg)


