"""Issue 14 item 5: PoseEmbroider vs the Aligner on real MediaPipe landmarks, distinct descriptions, ≥ 2 seeds.

    nice -n 5 .venv/bin/python tools/study_embroider.py --landmarks real_v1 --seeds 0,1,2 \
        --out docs/capture/studies/embroider_real_v1.json

Data: the detected **still** rows of the landmark dataset (``core_models.capture.realdata``), train split for
training (``--n-train``), test split (corpus test clips) as the retrieval pool (``--n-test``). Modalities (frozen):
* v — the shipped lifter (``--lifter``; default: the real-landmark variant ``train lifter --landmarks`` wrote,
  else lifter.pt's default) on the row's real landmarks (``lifter.real.rows_from_dataset`` input features):
  mean-pooled lifter features + lifted joints, as ``embroider.infer.Encoders.visual``;
* p — a pose VAE pre-trained on the training rows' heading-normalised poses (``embroider.train.pretrain_pose_vae``,
  one per seed);
* t — MiniLM (mean-pooled) of the pose's description in the captioner's **noisy data mode** (seeded: wording,
  skipped codes and numbers differ between poses, so descriptions are distinct).
Models (the seed's Table 1 rows): ``embroider.model.Aligner`` trained on the single-input subsets only and on all
six input subsets ("dual-input extension"), ``PoseEmbroider`` on single inputs only and on all six (the proposed
one), each with its own loss (InfoNCE), trained on the precomputed frozen encodings (the encoders are frozen,
so this is the objective of ``embroider.train.train_contrastive`` without re-running them every step); evaluation:
``embroider.eval.retrieval_table`` (6 single- and 3 dual-input tasks, mean of R@1/5/10) on the test pool.

Since 2026-12-07: ``--extra-landmarks`` adds more datasets' train rows, ``--n-val`` scores a val pool too (choose
there, report test), ``--models`` also offers PoseEmbroider variants (``embroider_missing``, ``embroider_deep``,
``embroider_deep_missing``: ``EmbroiderConfig.loss_on`` / ``tok_layers``), ``--text-encoder posetext`` swaps MiniLM
for a pose-aware text tower (:func:`posetext_tower`), ``--merge`` joins per-seed runs (one process per seed).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_models.nets.embroider.eval import retrieval_table  # noqa: E402
from core_models.nets.embroider.model import MODALITIES, SUBSETS, Aligner, EmbroiderConfig, PoseEmbroider  # noqa: E402
from core_models.nets.training.common import log  # noqa: E402


def _pick_lifter(name: str | None):
    from core_models.nets.lifter.infer import load_variants

    models, cfg = load_variants()
    if name is None:
        real = sorted(n for n in models if n.startswith("real"))
        name = real[0] if real else cfg["default"]
    return name, models[name]


def _rows(names: str, split: str, n: int, seed: int):
    """Detected stills of ``split`` from one dataset or a comma list of them (rows concatenated), ``n`` drawn."""
    from core_models.capture.realdata import load_landmark_dataset

    parts = [load_landmark_dataset(name, split=split, kind="still") for name in names.split(",")]
    ds = parts[0] if len(parts) == 1 else SimpleNamespace(**{
        f: np.concatenate([np.asarray(getattr(p, f)) for p in parts]) for f in _FIELDS + ("detected",)})
    ok = np.nonzero(ds.detected)[0]
    if len(ok) == 0:
        raise ValueError(f"{names}: no detected {split} stills")
    keep = np.sort(np.random.default_rng(seed).choice(ok, min(n, len(ok)), replace=False))
    return ds, keep


_FIELDS = ("landmarks", "image_size", "root_orient", "body_pose", "cam_R")


def _subset(ds, keep):
    return SimpleNamespace(**{f: np.asarray(getattr(ds, f))[keep] for f in _FIELDS + ("detected",)})


@torch.no_grad()
def _visual(lifter, ds, keep) -> torch.Tensor:
    from core_models.capture.synth import LandmarkModel
    from core_models.nets.lifter.real import rows_from_dataset

    kp = torch.from_numpy(rows_from_dataset(_subset(ds, keep), LandmarkModel().rest_joints, mirror=False).kp)
    kp = kp[..., :lifter.cfg.in_dim]
    if lifter.cfg.window > 1:
        kp = kp[:, None].expand(-1, lifter.cfg.window, -1, -1)
    out = []
    for i in range(0, len(kp), 512):
        f, j = lifter.features(kp[i:i + 512])
        out.append(torch.cat([f.mean(1), j.flatten(1)], -1))
    return torch.cat(out)


def _texts(ds, keep, seed: int) -> tuple[torch.Tensor, list[str]]:
    from core_models.captioning.describe import describe
    from core_models.nets.training.capture_data import encode_texts
    from core_models.pose import Pose, normalize_heading

    pose, _ = normalize_heading(Pose(ds.root_orient[keep], ds.body_pose[keep]))
    texts = describe(pose, seed=seed)
    return encode_texts(list(texts), log=log)[2], list(texts)


def build_split(args, lifter, split: str, n: int, seed: int) -> dict:
    from core_models.pose import Pose, normalize_heading

    names = args.landmarks + (f",{args.extra_landmarks}" if split == "train" and args.extra_landmarks else "")
    ds, keep = _rows(names, split, n, seed)
    tag = names.replace(",", "+")
    f = Path(args.cache) / f"emb_{tag}_{len(ds.detected)}_{args.lifter_name}_{split}_{n}_{seed}.pt"
    if f.exists():
        return torch.load(f, weights_only=False)
    t, texts = _texts(ds, keep, seed)
    pose, _ = normalize_heading(Pose(ds.root_orient[keep], ds.body_pose[keep]))
    d = {"v": _visual(lifter, ds, keep), "t": t.float(), "texts": texts,
         "rot": torch.from_numpy(pose.matrices().astype(np.float32)), "root_orient": pose.root_orient,
         "body_pose": pose.body_pose}
    f.parent.mkdir(parents=True, exist_ok=True)
    torch.save(d, f)
    return d


#: the seed's Table 1 rows: (name, model class, training input subsets, config changes), then PoseEmbroider
#: variants (MLP tokenizers, loss only on the modalities missing from the input subset; model.EmbroiderConfig)
MODELS = (("aligner_single", Aligner, SUBSETS[:3], {}), ("aligner", Aligner, SUBSETS, {}),
          ("embroider_single", PoseEmbroider, SUBSETS[:3], {}), ("embroider", PoseEmbroider, SUBSETS, {}),
          ("embroider_missing", PoseEmbroider, SUBSETS, {"loss_on": "missing"}),
          ("embroider_deep", PoseEmbroider, SUBSETS, {"tok_layers": 3}),
          ("embroider_deep_missing", PoseEmbroider, SUBSETS, {"tok_layers": 3, "loss_on": "missing"}))


def train_model(model, raw: dict, epochs: int, batch: int, lr: float, seed: int, subsets=SUBSETS) -> float:
    """The model's own contrastive loss over the training input ``subsets`` on precomputed frozen encodings."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n = len(raw["v"])
    steps = max(1, n // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.1)
    t0 = time.time()
    model.train()
    for _ in range(epochs):
        perm = rng.permutation(n)
        for b in range(steps):
            sel = torch.as_tensor(perm[b * batch:(b + 1) * batch])
            loss, _ = model.loss({m: raw[m][sel] for m in MODALITIES}, subsets)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
    model.eval()
    return time.time() - t0


def posetext_tower(args, seed: int) -> torch.nn.Module:
    """``--text-encoder posetext``: a text encoder made pose-aware the way the seed's was (there: the text tower of
    a text-to-pose retrieval model). Frozen MiniLM (pooled) → MLP, trained with symmetric InfoNCE against an MLP of
    the heading-normalised joint rotations on ``--text-pretrain`` described **train-split corpus poses** (the
    corpus's own descriptions; val / test clips never seen); the text tower is then frozen and its output is the
    t modality of every model (Aligner and PoseEmbroider alike)."""
    from core_models.nets.embroider.model import _mlp, info_nce
    from core_models.nets.training.capture_data import build_capture_data
    from core_models.pose import Pose, normalize_heading

    cd = build_capture_data(args.text_corpus, "train", args.text_pretrain, seed=3, with_text=True, log=log)
    pose, _ = normalize_heading(Pose(cd.root_orient, cd.body_pose))
    rot = torch.from_numpy(pose.matrices().astype(np.float32)).flatten(1)
    txt = cd.text_pooled.float()
    torch.manual_seed(seed)
    text_net, pose_net = _mlp(txt.shape[1], 512, 256, 3), _mlp(rot.shape[1], 512, 256, 3)
    scale = torch.nn.Parameter(torch.tensor(2.66))
    params = [*text_net.parameters(), *pose_net.parameters(), scale]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
    rng = np.random.default_rng(seed)
    steps = max(1, len(txt) // args.batch)
    for epoch in range(args.text_epochs):
        perm, total = rng.permutation(len(txt)), 0.0
        for b in range(steps):
            sel = torch.as_tensor(perm[b * args.batch:(b + 1) * args.batch])
            loss = info_nce(text_net(txt[sel]), pose_net(rot[sel]), scale)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        log(f"[study embroider] pose-text pre-training epoch {epoch + 1}/{args.text_epochs}: loss {total / steps:.3f}")
    return text_net.eval().requires_grad_(False)


def one_seed(args, train: dict, pools: dict, seed: int) -> dict:
    from core_models.capture.synth import LandmarkModel
    from core_models.nets.embroider.train import pretrain_pose_vae

    rest = torch.from_numpy(LandmarkModel().rest_joints.astype(np.float32))
    vae = pretrain_pose_vae(SimpleNamespace(root_orient=train["root_orient"], body_pose=train["body_pose"]), rest,
                            args.vae_epochs, 256, seed, log=log)
    with torch.no_grad():
        raw_tr = {"v": train["v"], "p": vae.encode(train["rot"]).loc, "t": train["t"]}
        raw = {k: {"v": d["v"], "p": vae.encode(d["rot"]).loc, "t": d["t"]} for k, d in pools.items()}
    if args.text_encoder == "posetext":
        tower = posetext_tower(args, seed)
        with torch.no_grad():
            for r in (raw_tr, *raw.values()):
                r["t"] = tower(r["t"])
    out: dict = {k: {} for k in pools}
    for name, cls, subsets, changes in MODELS:
        if args.models and name not in args.models.split(","):
            continue
        ec = EmbroiderConfig(in_dims={m: int(raw_tr[m].shape[1]) for m in MODALITIES}, d=args.d, **changes)
        model = cls(ec)
        sec = train_model(model, raw_tr, args.epochs, args.batch, args.lr, seed, subsets)
        for k in pools:
            out[k][name] = {**retrieval_table(model, raw[k]), "seconds": round(sec, 1)}
        log(f"[study embroider] seed {seed} {name}: mRecall " +
            ", ".join(f"{k} {out[k][name]['mRecall']}" for k in pools) + f" ({sec:.0f} s)")
    return out


def summarise(per_seed: dict) -> dict:
    keys = [k for k in next(iter(per_seed.values()))["aligner"] if k != "seconds"]
    out = {}
    for name in next(iter(per_seed.values())):
        out[name] = {k: [round(float(np.mean([r[name][k] for r in per_seed.values()])), 2),
                         round(float(np.std([r[name][k] for r in per_seed.values()])), 2)] for k in keys}
    for name in next(iter(per_seed.values())):
        if name.startswith("embroider") and "aligner" in next(iter(per_seed.values())):
            gaps = [r[name]["mRecall"] - r["aligner"]["mRecall"] for r in per_seed.values()]
            out[f"{name}_minus_aligner_mRecall"] = [round(float(np.mean(gaps)), 2), round(float(np.std(gaps)), 2)]
    return out


def merge(files: list[str], out: str) -> dict:
    """One result from runs of the same settings on different seeds (``--merge A.json B.json … --out M.json``)."""
    runs = [json.loads(Path(f).read_text()) for f in files]
    res = {k: v for k, v in runs[0].items() if k not in ("per_seed", "per_seed_val", "summary", "summary_val")}
    res.update(command=[r["command"] for r in runs], seconds=round(sum(r["seconds"] for r in runs), 1))
    for key, summ in (("per_seed", "summary"), ("per_seed_val", "summary_val")):
        if all(key in r for r in runs):
            res[key] = {s: v for r in runs for s, v in r[key].items()}
            res[summ] = summarise(res[key])
    Path(out).write_text(json.dumps(res, indent=1))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--landmarks", default="real_v1")
    ap.add_argument("--extra-landmarks", default=None, help="more datasets (comma list) whose train rows are added")
    ap.add_argument("--n-val", type=int, default=0, help="also score a pool of this many val-split rows (the "
                    "selection pool: choose a variant on val, report test)")
    ap.add_argument("--lifter", default=None, help="lifter.pt variant for the visual modality")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--n-train", type=int, default=6000)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--vae-epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--models", default=None, help="comma list of " + ", ".join(m[0] for m in MODELS) + " (all)")
    ap.add_argument("--text-encoder", default="minilm", choices=("minilm", "posetext"),
                    help="t modality: frozen MiniLM (pooled), or MiniLM + a tower pre-trained for text-to-pose "
                         "retrieval on described train-split corpus poses (the seed's pose-aware text encoder)")
    ap.add_argument("--text-corpus", default=None, help="corpus for --text-encoder posetext (default corpus)")
    ap.add_argument("--text-pretrain", type=int, default=20000, help="described corpus poses for the tower")
    ap.add_argument("--text-epochs", type=int, default=15)
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "posetailor" / "textlift"))
    ap.add_argument("--out", default="docs/capture/studies/embroider_real_v1.json")
    ap.add_argument("--merge", nargs="+", default=None, metavar="JSON", help="merge per-seed result files into --out")
    args = ap.parse_args(argv)
    if args.merge:
        print(json.dumps(merge(args.merge, args.out)["summary"], indent=1))
        return 0
    torch.set_num_threads(1)
    args.lifter_name, lifter = _pick_lifter(args.lifter)
    if args.text_corpus is None:
        from core_models.data.corpus import default_corpus_dir

        args.text_corpus = str(default_corpus_dir())
    t0 = time.time()
    train = build_split(args, lifter, "train", args.n_train, 0)
    pools = {"test": build_split(args, lifter, "test", args.n_test, 1)}
    if args.n_val:
        pools["val"] = build_split(args, lifter, "val", args.n_val, 2)
    distinct = {s: len(set(d["texts"])) / len(d["texts"]) for s, d in (("train", train), *pools.items())}
    runs = {int(s): one_seed(args, train, pools, int(s)) for s in args.seeds.split(",")}
    per_seed = {s: r["test"] for s, r in runs.items()}
    res = {"command": "nice -n 5 .venv/bin/python tools/study_embroider.py " + " ".join(sys.argv[1:]),
           "landmarks": args.landmarks, "lifter_variant": args.lifter_name, "n_train": len(train["v"]),
           "n_test": len(pools["test"]["v"]), "distinct_text_fraction": distinct,
           "seconds": round(time.time() - t0, 1),
           "settings": {k: getattr(args, k) for k in ("epochs", "vae_epochs", "batch", "lr", "d", "extra_landmarks",
                                                     "text_encoder", "text_pretrain", "text_epochs")},
           "per_seed": per_seed, "summary": summarise(per_seed)}
    if args.n_val:
        val = {s: r["val"] for s, r in runs.items()}
        res.update(n_val=len(pools["val"]["v"]), per_seed_val=val, summary_val=summarise(val))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(json.dumps({k: res[k] for k in ("summary", "summary_val") if k in res}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
