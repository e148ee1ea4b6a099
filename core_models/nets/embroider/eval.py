"""PoseEmbroider evaluation (``python main.py eval embroider``): cross-modal retrieval and SMPL-head
regression (MPJPE / PA-MPJPE) from keypoints alone and keypoints + text."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from core_models.nets.embroider.data import capture_rotmats, fixed_raw
from core_models.nets.embroider.infer import Encoders, load_embroider
from core_models.nets.embroider.model import (
    SMPLHead,
)
from core_models.nets.lifter.infer import load_lifter
from core_models.nets.lifter.model import (
    mpjpe,
    pa_mpjpe,
)
from core_models.nets.training.capture_data import (
    CaptureData,
    add_capture_eval_args,
    build_capture_data,
    mocap_corpus,
)

RETRIEVAL_TASKS = (("v", "p"), ("v", "t"), ("p", "v"), ("p", "t"), ("t", "v"), ("t", "p"),
                   ("vp", "t"), ("pt", "v"), ("vt", "p"))


@torch.no_grad()
def retrieval_table(model, raw: dict, ks=(1, 5, 10)) -> dict:
    """Recall@K (%) for every task; keys 'V→P' … plus mRecall single/dual/total."""
    import torch.nn.functional as F

    out = {}
    n = len(raw["v"])
    lab = torch.arange(n, device=raw["v"].device)
    for q, tgt in RETRIEVAL_TASKS:
        subset = tuple(q)
        qv = F.normalize(model.query({m: raw[m] for m in subset}, subset, tgt), dim=-1)
        cv = F.normalize(model.candidates(raw, tgt), dim=-1)
        sim = qv @ cv.T
        rank = (sim > sim[lab, lab][:, None]).sum(1)
        rec = [float((rank < k).float().mean()) * 100 for k in ks]
        out[f"{q.upper()}→{tgt.upper()}"] = round(sum(rec) / len(rec), 1)
    single = [v for k, v in out.items() if len(k.split("→")[0]) == 1]
    dual = [v for k, v in out.items() if len(k.split("→")[0]) == 2]
    out["mRecall_single"] = round(sum(single) / len(single), 1)
    out["mRecall_dual"] = round(sum(dual) / len(dual), 1)
    out["mRecall"] = round((out["mRecall_single"] + out["mRecall_dual"]) / 2, 1)
    return out


@torch.no_grad()
def regression_metrics(model, head: SMPLHead, raw: dict, data: CaptureData, rest_joints, subset) -> dict:
    from core_models.kinematics import fk_torch
    from core_models.pose import sixd_to_matrix

    x = model({m: raw[m] for m in subset}, subset)
    Rh = sixd_to_matrix(head(x)).cpu()  # the metrics are computed on the CPU
    Jh = fk_torch(Rh, rest_joints.cpu())[1]
    Jgt = fk_torch(capture_rotmats(data), rest_joints.cpu())[1]
    return {"pa_mpjpe_mm": round(float(pa_mpjpe(Jh, Jgt).mean()) * 1000, 1),
            "mpjpe_mm": round(float(mpjpe(Jh, Jgt).mean()) * 1000, 1)}


def print_tables(ret: dict, reg: dict) -> None:
    cols = [f"{q.upper()}→{t.upper()}" for q, t in RETRIEVAL_TASKS]
    print("any-to-any retrieval (mean of R@1/5/10, %), held-out clips")
    print(f"{'model':<14} {'total':>6} {'single':>6} {'dual':>6} " + " ".join(f"{c:>6}" for c in cols))
    for name, r in ret.items():
        print(f"{name:<14} {r['mRecall']:>6.1f} {r['mRecall_single']:>6.1f} {r['mRecall_dual']:>6.1f} "
              + " ".join(f"{r[c]:>6.1f}" for c in cols))
    print("SMPL-H regression from the frozen embedding (22 joints, mm)")
    print(f"{'representation (input)':<34} {'PA-MPJPE':>9} {'MPJPE':>7}")
    for name, r in reg.items():
        print(f"{name:<34} {r['pa_mpjpe_mm']:>9.1f} {r['mpjpe_mm']:>7.1f}")


def evaluate_all(models: dict, heads: dict, enc: Encoders, test: CaptureData, rest_joints, seed: int = 123):
    raw = fixed_raw(enc, test, seed)
    ret = {name: retrieval_table(m, raw) for name, m in models.items()}
    reg = {}
    for name, m in models.items():
        for subset, label in ((("v",), "keypoints"), (("v", "t"), "keypoints + text")):
            reg[f"{name} ({label})"] = regression_metrics(m, heads[name], raw, test, rest_joints, subset)
    return ret, reg


def add_eval_args(p: argparse.ArgumentParser) -> None:
    add_capture_eval_args(p)


#: ``--device cuda`` is allowed (core_models.cli.train_eval): the models run on the device, the metrics on the CPU
DEVICE_CLEAN = True


def run_eval(args) -> int:
    from core_models.capture.synth import LandmarkModel
    from core_models.data.corpus import default_corpus_dir

    torch.set_num_threads(args.threads)
    wd = Path(args.weights_dir) if args.weights_dir else None
    if args.mocap:
        cdir = mocap_corpus(args.mocap)
        test = build_capture_data(cdir, "test", args.n_test, args.seed, with_text=True, describe_missing=True)
    else:
        cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
        test = build_capture_data(cdir, "test", args.n_test, args.seed, with_text=True)
    dev = getattr(args, "device", None) or "cpu"  # resolved by core_models.cli.train_eval
    emb, ali, heads, vae, cfg = load_embroider(wd, dev)
    lifter = load_lifter(cfg.get("lifter_variant"), wd, dev)
    rest = torch.from_numpy(LandmarkModel().rest_joints.astype(np.float32))
    ret, reg = evaluate_all({"embroider": emb, "aligner": ali}, heads, Encoders(lifter, vae), test, rest)
    print_tables({"Aligner": ret["aligner"], "PoseEmbroider": ret["embroider"]}, reg)
    print(json.dumps({"name": "embroider_eval", "data": str(args.mocap or cdir), "n": len(test),
                      "retrieval": ret, "regression": reg}))
    return 0
