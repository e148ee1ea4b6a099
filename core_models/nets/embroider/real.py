"""``python main.py train embroider --landmarks NAME``: the PoseEmbroider / Aligner **SMPL-H heads** fine-tuned on
real MediaPipe landmarks (a dataset built by ``python main.py data landmarks``).

The frozen chain stays as shipped (the lifter variant the PoseEmbroider was trained on → PoseEmbroider / Aligner
x̄ from the keypoints): only the heads learn, from the shipped heads, on the dataset's detected train-split rows
(each image as a still: the lifter's window filled with the same frame, as the live regressor does for one image;
each row also mirrored), keypoint-only input. The head of each representation is kept only when it lowers the
pose PA-MPJPE on the dataset's val split; the test split is reported. (Re-training the contrastive models
themselves on real landmarks needs a description per real row and more CPU time than this run had.)
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from core_models.capture import synth
from core_models.nets.common.weights import load_weights, manifest, save_weights
from core_models.nets.embroider.infer import load_embroider
from core_models.nets.lifter.infer import load_lifter
from core_models.nets.lifter.model import mpjpe, pa_mpjpe
from core_models.nets.training.common import log


def add_real_args(p) -> None:
    p.add_argument("--landmarks", default=None,
                   help="fine-tune the SMPL-H heads on this real-MediaPipe landmark dataset (keypoint input) "
                        "instead of training everything on synthetic landmarks")
    p.add_argument("--steps", type=int, default=800, help="head fine-tuning steps (with --landmarks)")


def _real_inputs(name: str, split: str, window: int, rest: np.ndarray, mirror: bool,
                 exclude_source: str | None = None):
    """(keypoint windows (N, T, 33, 4), heading-normalised rotation matrices (N, 22, 3, 3)) of a split
    (without ``exclude_source``'s rows: ``train embroider --exclude-source``)."""
    from core_models.capture.realdata import load_landmark_dataset
    from core_models.nets.lifter.real import Rows, _pose_targets, mirror_rows

    ds = load_landmark_dataset(name, split=split, exclude_source=exclude_source)
    ok = np.asarray(ds.detected, bool)
    lm = np.asarray(ds.landmarks, np.float32)[ok]
    pix = lm[:, :, :2] * np.asarray(ds.image_size, np.float32)[ok][:, None, :]
    kp = synth.keypoint_features(pix, lm[:, :, 6], lm[:, :, 7])
    tgt, rot = _pose_targets(ds.root_orient[ok], ds.body_pose[ok], ds.cam_R[ok], rest)
    rows = Rows(kp, tgt, rot)
    if mirror:
        rows = Rows.cat([rows, mirror_rows(rows)])
    return np.repeat(rows.kp[:, None], window, 1), rows.rot


@torch.no_grad()
def _embed(lifter, model, kp: np.ndarray, batch: int = 512) -> torch.Tensor:
    out = []
    for s in range(0, len(kp), batch):
        f, j = lifter.features(torch.from_numpy(kp[s:s + batch]))
        out.append(model({"v": torch.cat([f.mean(1), j.flatten(1)], -1)}, ("v",)))
    return torch.cat(out)


def _head_loss(head, x, R, rest):
    from core_models.kinematics import fk_torch
    from core_models.pose import sixd_to_matrix

    Jgt = fk_torch(R, rest)[1]
    loss = torch.zeros(())
    for k, th in enumerate(head(x, all_steps=True)):
        Rh = sixd_to_matrix(th)
        w = 0.5 if k + 1 < head.iterations else 1.0
        err = (fk_torch(Rh, rest)[1] - Jgt).norm(dim=-1).mean()
        loss = loss + w * (err + 0.1 * (Rh - R).pow(2).sum((-1, -2)).mean())
    return loss


@torch.no_grad()
def _metrics(head, x, R, rest) -> dict:
    from core_models.kinematics import fk_torch
    from core_models.pose import sixd_to_matrix

    head.eval()
    Jh, Jg = fk_torch(sixd_to_matrix(head(x)), rest)[1], fk_torch(R, rest)[1]
    return {"pa_mpjpe_mm": round(float(pa_mpjpe(Jh, Jg).mean()) * 1000, 1),
            "mpjpe_mm": round(float(mpjpe(Jh, Jg).mean()) * 1000, 1), "n": len(x)}


def finetune_head(head, x: torch.Tensor, R: torch.Tensor, rest: torch.Tensor, steps: int, batch: int,
                  lr: float = 3e-4, seed: int = 0):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    head.train()
    for step in range(steps):
        sel = torch.as_tensor(rng.integers(0, len(x), batch))
        loss = _head_loss(head, x[sel], R[sel], rest)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % max(1, steps // 5) == 0:
            log(f"[embroider real] step {step + 1}/{steps} loss {float(loss.detach()):.4f}")
    head.eval()
    return head


def run_train_real(args) -> int:
    torch.set_num_threads(args.threads)
    t0 = time.time()
    wd = Path(args.out_dir) if args.out_dir else None
    emb, ali, heads, _vae, cfg = load_embroider(wd)
    lifter = load_lifter(cfg.get("lifter_variant"), Path(args.lifter_dir) if args.lifter_dir else wd)
    rest_np = synth.LandmarkModel().rest_joints
    rest = torch.from_numpy(rest_np.astype(np.float32))
    drop = getattr(args, "exclude_source", None)
    data = {s: _real_inputs(args.landmarks, s, lifter.cfg.window, rest_np, s == "train", drop)
            for s in ("train", "val", "test")}
    metrics: dict = {}
    for name, model in (("embroider", emb), ("aligner", ali)):
        x = {s: _embed(lifter, model, kp) for s, (kp, _) in data.items()}
        R = {s: torch.from_numpy(rot) for s, (_, rot) in data.items()}
        before = {s: _metrics(heads[name], x[s], R[s], rest) for s in ("val", "test")}
        tuned = finetune_head(heads[name], x["train"], R["train"], rest, args.steps, args.batch, seed=args.seed)
        after = {s: _metrics(tuned, x[s], R[s], rest) for s in ("val", "test")}
        keep = after["val"]["pa_mpjpe_mm"] < before["val"]["pa_mpjpe_mm"]
        metrics[name] = {"before": before, "after": after, "kept": keep}
        log(f"[embroider real] {name}: before {before} after {after} kept {keep}")
        if not keep:
            heads[name] = load_embroider(wd)[2][name]
    blob, man = load_weights("embroider", wd), manifest("embroider", wd)
    state = dict(blob["state"])
    for name in ("embroider", "aligner"):
        if metrics[name]["kept"]:
            state.update({f"head_{name}.{k}": v for k, v in heads[name].state_dict().items()})
    cmd = "python main.py train embroider " + " ".join(sys.argv[3:])
    man = {k: v for k, v in man.items() if k not in ("sha256", "size", "date")}
    man.update(command=man.get("command", "") + " && " + cmd, real_heads={"landmarks": args.landmarks,
               "rows": {s: len(v[0]) for s, v in data.items()}, "metrics": metrics,
               "seconds": round(time.time() - t0, 1)})
    save_weights("embroider", state, blob["config"], man, directory=wd, half=True)
    print(json.dumps({"name": "embroider_train_real_heads", "metrics": metrics, "seconds": round(time.time() - t0, 1)}))
    return 0
