"""Unconditional (and partially conditioned) generation of QPoser code sequences by a small masked transformer
(QPoser §3.4 "unconditional generation"; MaskGIT-style training and iterative decoding).

The code sequence of a pose (one code index per QPoser head, :meth:`QPoser.encode`) is a sentence of
``H`` tokens; position ``p`` has its own vocabulary of size ``K_p``. Training masks a random fraction (cosine
schedule) of the tokens and predicts them. Sampling starts from a sequence where the free positions are masked
and fills them in a few rounds, keeping the most confident predictions each round; fixed positions (locked
body parts, a part being resampled in context) condition the rest.

Plain torch, no Qt. Weights: ``resources/weights/qposer_gen.pt``.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedCodeTransformer(nn.Module):
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
        u = torch.rand(B, 1, generator=generator)
        ratio = torch.cos(u * math.pi / 2)  # MaskGIT cosine schedule
        masked = torch.rand(B, self.H, generator=generator) < ratio
        masked[torch.arange(B), torch.randint(0, self.H, (B,), generator=generator)] = True  # ≥ 1 masked
        logits = self(codes, masked)
        return F.cross_entropy(logits[masked], codes[masked])

    @torch.no_grad()
    def sample(self, n: int = 1, fixed: torch.Tensor | None = None, fixed_mask: torch.Tensor | None = None,
               steps: int = 8, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample ``n`` code sequences. ``fixed`` (n,H) / ``fixed_mask`` (n,H) bool: positions kept as given."""
        codes = torch.zeros(n, self.H, dtype=torch.long)
        known = torch.zeros(n, self.H, dtype=torch.bool)
        if fixed is not None and fixed_mask is not None:
            codes = torch.where(fixed_mask, fixed, codes)
            known = fixed_mask.clone()
        free0 = (~known).sum(1)
        for s in range(steps):
            if bool(known.all()):
                break
            logits = self(codes, ~known) / max(temperature, 1e-4)
            probs = F.softmax(logits, -1)
            draw = torch.multinomial(probs.view(-1, self.kmax), 1, generator=generator).view(n, self.H)
            conf = torch.gather(probs, 2, draw[..., None])[..., 0]
            conf = torch.where(known, torch.full_like(conf, -1.0), conf)
            # after this round, cos((s+1)/steps·π/2) of the free positions stay masked
            remain = torch.floor(free0.float() * math.cos((s + 1) / steps * math.pi / 2)).long()
            n_new = ((~known).sum(1) - remain).clamp_min(1)
            order = conf.argsort(1, descending=True)
            rank = torch.empty_like(order)
            rank.scatter_(1, order, torch.arange(self.H).expand(n, -1).contiguous())
            take = (rank < n_new[:, None]) & ~known
            codes = torch.where(take, draw, codes)
            known = known | take
        return codes


def train_gen(codes: torch.Tensor, head_sizes: list[int], *, steps: int, minutes: float, batch: int = 256,
              lr: float = 2e-3, d: int = 64, layers: int = 2, seed: int = 0, logf=print,
              val_codes: torch.Tensor | None = None):
    torch.manual_seed(seed)
    model = MaskedCodeTransformer(head_sizes, d=d, layers=layers, ff=2 * d)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(seed)
    t0 = time.time()
    step = 0
    n = len(codes)
    while True:
        frac = max(step / steps, (time.time() - t0) / (60 * minutes))
        if frac >= 1:
            break
        for pg in opt.param_groups:
            pg["lr"] = lr * (0.5 * (1 + math.cos(math.pi * frac))) * min(1.0, 20 * frac + 0.05)
        b = codes[torch.randint(0, n, (batch,), generator=g)]
        loss = model.loss(b, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 500 == 0 or step == 1:
            msg = f"[qposer-gen] step {step} loss {loss.item():.3f}"
            if val_codes is not None:
                with torch.no_grad():
                    model.eval()
                    msg += f" val {model.loss(val_codes[:1000], torch.Generator().manual_seed(1)).item():.3f}"
                    model.train()
            logf(msg + f" ({time.time() - t0:.0f} s)")
    model.eval()
    return model, {"steps": step, "seconds": round(time.time() - t0, 1), "d": d, "layers": layers}


def load_gen(name: str = "qposer_gen", directory=None) -> MaskedCodeTransformer:
    from core_models.nets.weights import WeightsError, float_state, load_weights

    blob = load_weights(name, directory)
    c = blob["config"]
    try:
        m = MaskedCodeTransformer(c["head_sizes"], d=c["d"], layers=c["layers"], ff=2 * c["d"])
        m.load_state_dict(float_state(blob["state"]))
    except Exception as e:
        raise WeightsError(f"the '{name}' weights do not fit the masked code transformer: {e}") from e
    m.eval()
    return m


def run_train_gen(args, corpus, wdir) -> int:
    """``train qposer --stage gen``: encode the training poses with the shipped QPoser, train the transformer."""
    import sys

    from core_models.nets.qposer import load_qposer
    from core_models.nets.qposer_train import corpus_rotmats
    from core_models.nets.weights import save_weights

    tiny = args.config == "tiny"
    qp = load_qposer(getattr(args, "prior", None) or "qposer", wdir)
    train_R = corpus_rotmats(corpus, "train")
    val_R = corpus_rotmats(corpus, "val", max_n=2000)
    with torch.no_grad():
        codes = torch.cat([qp.encode(train_R[i:i + 4096]) for i in range(0, len(train_R), 4096)])
        val = qp.encode(val_R) if len(val_R) else None
    d, layers = (32, 1) if tiny else (64, 2)
    model, stats = train_gen(codes, qp.head_sizes(), steps=args.steps or (200 if tiny else 6000),
                             minutes=args.minutes or (1.0 if tiny else 12.0), d=d, layers=layers, seed=args.seed,
                             val_codes=val)
    metrics = {}
    if val is not None:
        metrics["val_masked_ce"] = round(model.loss(val[:2000], torch.Generator().manual_seed(1)).item(), 4)
    save_weights(args.out or "qposer_gen", model.state_dict(),
                 {"head_sizes": qp.head_sizes(), "d": d, "layers": layers},
                 {"command": "python main.py " + " ".join(sys.argv[1:]), "data": {"corpus": str(corpus.dir),
                  "sequences": int(len(codes))}, "metrics": metrics, "train_seconds": stats["seconds"],
                  "steps": stats["steps"]}, directory=wdir, half=True)
    print(f"[qposer-gen] saved ({stats['steps']} steps, {stats['seconds']} s) {metrics}", flush=True)
    return 0
