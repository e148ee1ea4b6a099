"""``python main.py train corrector`` / ``python main.py eval corrector``.

Training (time-budgeted, CPU, 1 thread by default): ``--what corrector`` trains the pair → text generator
(teacher forcing, cross-entropy, L/R flip augmentation of pose pair and text, "copy" pairs A→A with the
no-change text), ``--what judge`` trains the independent text ⇄ pair retrieval model used for R-precision.
Both read the corpus pairs (``pairs.npz``) and their automatic modifiers (``modifiers.json``, 3 per pair).

Evaluation prints a PoseFix-Table-6-style table on held-out pairs (the test split, or every pair of the clips
in ``--mocap DIR`` imported on the fly): R@1/2/3 for pools of 32 and 200 (judge), BLEU-4 / ROUGE-L / METEOR
against the automatic references, and best-of-N reconstruction through the text editor when its weights are
available; rows for the ground-truth automatic text, a random text, the rule-based text and the learned model.
Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from core_models.captioning.compare import NO_CHANGE_TEXT
from core_models.captioning.textutil import flip_text
from core_models.device import model_device, on_device
from core_models.nets.common.weights import (
    continued,
    float_state,
    load_weights,
    manifest,
    save_weights,
)
from core_models.nets.corrector.model import (
    BOS,
    EOS,
    PAD,
    CorrectorConfig,
    CorrectorNet,
    Vocab,
    build_net,
    pose_features,
)
from core_models.nets.judge.model import JudgeConfig, JudgeNet
from core_models.nets.training import distributed as dist
from core_models.nets.training.common import cosine, length_batches, log, set_lr, set_threads, warmup
from core_models.nets.training.pairs import (
    PairData,
    load_pairs,
)
from core_models.nets.training.retrieval import pools, r_precision

SPLIT_IDS = {"train": 0, "val": 1, "test": 2}




# ------------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------------








def _flip_pose(full: np.ndarray) -> np.ndarray:
    from core_models.pose import mirror_aa

    return np.ascontiguousarray(mirror_aa(full))


class TokenTable:
    """Every text of every pair (and its L/R-flipped twin) as a padded uint8/int16 array
    [BOS w1 .. wn EOS PAD..] of width max_len + 2."""

    def __init__(self, vocab: Vocab, texts: list[list[str]], max_len: int, flip: bool = True):
        self.n_texts = min(len(t) for t in texts)
        dtype = np.uint8 if len(vocab) < 256 else np.int16
        P = len(texts)
        self.tok = np.zeros((2 if flip else 1, P, self.n_texts, max_len + 2), dtype)
        self.len = np.zeros((2 if flip else 1, P, self.n_texts), np.int16)
        for f in range(self.tok.shape[0]):
            flat = [(flip_text(t) if f else t) for group in texts for t in group[:self.n_texts]]
            for s in range(0, len(flat), 20000):
                ids = vocab.encode(flat[s:s + 20000], max_len)
                for k, seq in enumerate(ids):
                    i, j = divmod(s + k, self.n_texts)
                    row = [BOS] + seq + ([EOS] if len(seq) < max_len else [])
                    self.tok[f, i, j, :len(row)] = row
                    self.len[f, i, j] = len(row)
        no = [BOS] + vocab.encode([NO_CHANGE_TEXT])[0] + [EOS]
        self.no_change = np.zeros(max_len + 2, dtype)
        self.no_change[:len(no)] = no[:max_len + 2]




def _make_batch(data: PairData, table: TokenTable, rows: np.ndarray, which: np.ndarray, flip: np.ndarray,
                copy: np.ndarray | None = None):
    a = data.a[rows].copy()
    b = data.b[rows].copy()
    if flip.any():
        a[flip] = _flip_pose(a[flip])
        b[flip] = _flip_pose(b[flip])
    f = flip.astype(np.int64) if table.tok.shape[0] > 1 else np.zeros(len(rows), np.int64)
    tok = table.tok[f, rows, which].astype(np.int64)
    if copy is not None and copy.any():
        b[copy] = a[copy]
        tok[copy] = table.no_change
    L = int((tok != PAD).sum(1).max())
    return pose_features(a), pose_features(b), torch.as_tensor(tok[:, :L])




# ------------------------------------------------------------------------------------------------------
# train
# ------------------------------------------------------------------------------------------------------


#: ``--device cuda`` is allowed (core_models.cli.train_eval): net, batches and the tensors model code builds go to
#: the device; the weights are saved from the CPU
DEVICE_CLEAN = True


def add_train_args(p) -> None:
    p.add_argument("--what", choices=["corrector", "judge"], default="corrector",
                   help="the generator, or the independent retrieval judge used for R-precision")
    p.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--minutes", type=float, default=20.0, help="wall-clock training budget")
    p.add_argument("--epochs", type=float, default=1000.0, help="stop earlier after this many epochs")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--ff", type=int, default=512)
    p.add_argument("--pose-tokens", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--joint-tokens", action=argparse.BooleanOptionalAction, default=True,
                   help="add one cross-attention memory token per joint (A, B, B − A) to the TIRG tokens")
    p.add_argument("--max-len", type=int, default=112, help="max words+punctuation per text")
    p.add_argument("--p-flip", type=float, default=0.5, help="L/R flip augmentation probability")
    p.add_argument("--p-copy", type=float, default=0.03, help="A→A pairs with the no-change text")
    p.add_argument("--ngrams", type=int, default=20000, help="judge: most frequent word 1/2/3-grams kept")
    p.add_argument("--max-pairs", type=int, default=None, help="use a random subset of the training pairs")
    p.add_argument("--tiny", action="store_true", help="tiny model (tests / smoke runs)")
    p.add_argument("--name", default=None, help="weights name (default: corrector or judge)")
    p.add_argument("--out-dir", default=None, help="weights folder (default resources/weights)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--init-from", default=None,
                   help="corrector: weights folder holding a corrector.pt to continue training from (its config "
                        "and vocabulary are kept; the manifest records both commands)")


def _load_data(args) -> tuple[PairData, PairData | None]:
    data = load_pairs(args.corpus, "train", args.max_pairs, args.seed)
    try:
        val: PairData | None = load_pairs(args.corpus, "val", 2000, args.seed)
    except (FileNotFoundError, ValueError):
        val = None
    return data, val if val is not None and len(val) else None


def _previous(args) -> tuple[dict | None, dict | None]:
    """(weights blob, manifest) of the corrector training continues from (``--init-from``), else (None, None)."""
    if not getattr(args, "init_from", None) or args.what != "corrector":
        return None, None
    name, directory = args.name or "corrector", Path(args.init_from)
    return load_weights(name, directory), manifest(name, directory)


def _vocabulary(data: PairData, prev_blob: dict | None) -> Vocab:
    if prev_blob is not None:  # continued training keeps the word ids of the weights
        return Vocab(list(prev_blob["config"]["vocab"]))
    all_texts = [t for g in data.texts for t in g]
    return Vocab.build(all_texts + [flip_text(t) for t in all_texts[:20000]] + [NO_CHANGE_TEXT])


def _build_corrector(args, vocab: Vocab, prev_blob: dict | None) -> CorrectorNet:
    if prev_blob is not None:
        net = build_net(prev_blob["config"])
        net.load_state_dict(float_state(prev_blob["state"]))
        log(f"[train corrector] continuing from {args.init_from}")
        return net
    return CorrectorNet(CorrectorConfig(vocab=vocab.words, d_model=args.d_model, n_layers=args.layers,
                                        n_heads=max(1, args.d_model // 64), d_ff=args.ff, d_pose=args.d_model,
                                        n_pose_tokens=args.pose_tokens, max_len=args.max_len,
                                        joint_tokens=args.joint_tokens, dropout=args.dropout))


def _build_judge(args, vocab: Vocab, table: TokenTable, n: int) -> JudgeNet:
    net = JudgeNet(JudgeConfig(vocab=vocab.words, n_ngrams=2000 if args.tiny else args.ngrams,
                               d_text=args.d_model // 2 if args.tiny else 128, d_pose=args.d_model,
                               d_embed=args.d_model, max_len=args.max_len + 2))
    chunks = (torch.as_tensor(table.tok[f, s:s + 4096, j].astype(np.int64))
              for f in range(table.tok.shape[0]) for j in range(table.n_texts) for s in range(0, n, 4096))
    log(f"[train judge] {net.build_ngrams(chunks)} distinct word 1/2/3-grams kept")
    return net


def _net_loss(net: CorrectorNet | JudgeNet, fa: torch.Tensor, fb: torch.Tensor, tok: torch.Tensor) -> torch.Tensor:
    if isinstance(net, CorrectorNet):
        return net.loss(fa, fb, tok, label_smoothing=0.05)
    return net.loss(fa, fb, tok[:, 1:])  # the judge reads words only (no BOS)


def _batch_loss(args, net: CorrectorNet | JudgeNet, data: PairData, table: TokenTable, rows: np.ndarray,
                which: np.ndarray, rng: np.random.Generator, step_loss=None) -> torch.Tensor:
    """``step_loss``: the DDP-wrapped :func:`_net_loss` (nets.training.distributed); under torchrun each rank
    takes its share of the batch after the global random draws (the judge's contrastive negatives are then the
    rank's share)."""
    flip = rng.random(len(rows)) < args.p_flip
    dev = model_device(net)
    copy = rng.random(len(rows)) < args.p_copy if isinstance(net, CorrectorNet) else None
    fa, fb, tok = (t.to(dev) for t in dist.shard(_make_batch(data, table, rows, which, flip, copy)))
    return (step_loss or (lambda *a: _net_loss(net, *a)))(fa, fb, tok)


def _train_loop(args, net: CorrectorNet | JudgeNet, data: PairData, table: TokenTable,
                rng: np.random.Generator) -> tuple[dict, float]:
    """Length-bucketed AdamW steps until ``--minutes`` or ``--epochs`` run out → (metrics, seconds)."""
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    budget, t0 = args.minutes * 60.0, time.time()
    step, seen, losses = 0, 0, list[float]()
    step_loss = dist.wrap(net, _net_loss)
    while True:
        which_all = rng.integers(0, table.n_texts, len(data))
        for rows in length_batches(table.len[0, np.arange(len(data)), which_all], args.batch, rng):
            if len(rows) < 2:
                continue
            frac = dist.elapsed(t0) / budget
            if frac >= 1.0 or seen >= args.epochs * len(data):
                metrics = {"train_loss": round(float(np.mean(losses[-100:])), 4) if losses else None,
                           "steps": step, "epochs": round(seen / max(1, len(data)), 2)}
                return metrics, time.time() - t0
            set_lr(opt, args.lr * warmup(step, 200) * (0.05 + 0.95 * cosine(frac)))
            net.train()
            loss = _batch_loss(args, net, data, table, rows, which_all[rows], rng, step_loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
            step, seen = step + 1, seen + len(rows)
            if step % args.log_every == 0:
                log(f"[train {args.what}] step {step} epoch {seen / len(data):.2f} loss "
                    f"{np.mean(losses[-args.log_every:]):.4f} lr {opt.param_groups[0]['lr']:.2e} "
                    f"{time.time() - t0:.0f} s")


def run_train(args) -> int:
    set_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t_load = time.time()
    data, val = _load_data(args)
    prev_blob, prev_meta = _previous(args)
    vocab = _vocabulary(data, prev_blob)
    if prev_blob is not None:
        args.max_len = int(prev_blob["config"].get("max_len", args.max_len))
    if args.tiny:
        args.d_model, args.layers, args.ff = 64, 1, 128
    table = TokenTable(vocab, data.texts, args.max_len)
    log(f"[train {args.what}] {len(data)} training pairs, vocabulary {len(vocab)}, "
        f"data ready in {time.time() - t_load:.0f} s")
    net: CorrectorNet | JudgeNet = _build_corrector(args, vocab, prev_blob) if args.what == "corrector" \
        else _build_judge(args, vocab, table, len(data))
    n_params = sum(p.numel() for p in net.parameters())
    log(f"[train {args.what}] {n_params / 1e6:.2f} M parameters")
    net.to(getattr(args, "device", "cpu"))
    with on_device(net):  # model code that builds tensors (labels, masks) builds them on the device too
        metrics, train_s = _train_loop(args, net, data, table, rng)
        if val is not None and dist.is_main():
            metrics.update(_val_metrics(args.what, net, val, TokenTable(vocab, val.texts, args.max_len, flip=False)))
    if not dist.is_main():  # rank 0 saves
        return 0
    net.cpu()
    log(f"[train {args.what}] done: {metrics} in {train_s:.0f} s")
    cmd = "python main.py train corrector " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else \
        f"python main.py train corrector --what {args.what}"
    cmd, train_s_total = continued(prev_meta, cmd, train_s)
    path = save_weights(args.name or args.what, net.state_dict(), net.cfg.to_dict(),
                        {"model": args.what, "command": cmd,
                         "data": {"corpus": str(Path(args.corpus) if args.corpus else "~/.cache/posetailor/corpus"),
                                  "train_pairs": len(data), "val_pairs": len(val) if val is not None else 0},
                         "metrics": metrics, "train_seconds": round(train_s_total, 1), "parameters": n_params,
                         "threads": args.threads},
                        directory=Path(args.out_dir) if args.out_dir else None, half=True)
    print(json.dumps({"name": f"train_{args.what}", "weights": str(path), "seconds": round(train_s, 1),
                      **metrics}))
    return 0


@torch.no_grad()
def _val_metrics(what: str, net, val: PairData, table: TokenTable) -> dict:
    net.eval()
    rows = np.arange(min(len(val), 1000))
    fa, fb, tok = (t.to(model_device(net)) for t in
                   _make_batch(val, table, rows, np.zeros(len(rows), np.int64), np.zeros(len(rows), bool)))
    if what == "corrector":
        losses = [float(net.loss(fa[s:s + 200], fb[s:s + 200], tok[s:s + 200])) for s in range(0, len(rows), 200)]
        return {"val_loss": round(float(np.mean(losses)), 4)}

    zt = net.encode_text(tok[:, 1:])
    zp = net.encode_pair(fa, fb)
    if len(rows) < 32:
        return {}
    r = r_precision(zt, zp, pools(len(rows), 32, 0))
    return {"val_R@1_gt_pool32": round(r["R@1"], 2), "val_R@3_gt_pool32": round(r["R@3"], 2)}

