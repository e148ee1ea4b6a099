"""Lifter evaluation (``python main.py eval lifter``): MPJPE / PA-MPJPE of every variant on held-out clips."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from core_models.capture.synth import KEYPOINT_DIM_WORLD, keypoint_features
from core_models.device import model_device
from core_models.nets.lifter.infer import load_variants
from core_models.nets.lifter.model import (
    Lifter,
    mpjpe,
    pa_mpjpe,
)
from core_models.nets.training.capture_data import (
    CaptureData,
    add_capture_eval_args,
    build_capture_data,
    make_batch,
    mocap_corpus,
)


@torch.no_grad()
def evaluate(model: Lifter, data: CaptureData, seed: int = 123, batch: int = 1024) -> dict:
    """MPJPE / PA-MPJPE (mm) and per-axis mean absolute error on one fixed synthetic draw of ``data`` (the
    model runs where it lives; the draw and the metrics stay on the CPU)."""
    rng = np.random.default_rng(seed)
    dev = model_device(model)
    e1, e2, ax = [], [], []
    for s in range(0, len(data), batch):
        sel = np.arange(s, min(s + batch, len(data)))
        kp, tgt, obs = make_batch(data, sel, rng, model.cfg.window)
        if model.cfg.in_dim >= KEYPOINT_DIM_WORLD:  # a variant that reads the world landmarks too
            kp = torch.from_numpy(keypoint_features(obs.pixels, obs.visibility, obs.presence, obs.world))
        pred = model(kp.to(dev)).cpu()
        e1.append(mpjpe(pred, tgt))
        e2.append(pa_mpjpe(pred, tgt))
        p, t = pred - pred[:, :1], tgt - tgt[:, :1]
        ax.append((p - t).abs().mean(1))
    err, pa_err, axis_err = torch.cat(e1), torch.cat(e2), torch.cat(ax)
    return {"mpjpe_mm": round(float(err.mean()) * 1000, 2), "pa_mpjpe_mm": round(float(pa_err.mean()) * 1000, 2),
            "abs_xyz_mm": [round(float(v) * 1000, 2) for v in axis_err.mean(0)], "n": len(data)}


def is_text_variant(name: str) -> bool:
    """A text-alignment variant (fc / tf / cm …), not the no-text baseline nor a real-landmark variant (``real…``:
    it reads MediaPipe's world landmarks too, so its gain over ``none`` is not a text gain)."""
    align = name.split("_T")[0]
    return align != "none" and not align.startswith("real")


def _print_table(results: dict, title: str) -> None:
    print(title)
    print(f"{'variant':<10} {'window':>6} {'MPJPE':>8} {'PA-MPJPE':>9} {'|x|':>6} {'|y|':>6} {'|z|':>6} "
          f"{'gain vs none':>12}")
    for name, r in results.items():
        if not r or "abs_xyz_mm" not in r:   # e.g. a real-landmark variant's manifest metrics (other keys)
            continue
        align, T = name.split("_T")
        base = results.get(f"none_T{T}")
        gain = "" if (base is None or align == "none" or not is_text_variant(name)) else \
            f"{100 * (base['mpjpe_mm'] - r['mpjpe_mm']) / base['mpjpe_mm']:+.1f} %"
        x, y, z = r["abs_xyz_mm"]
        print(f"{align:<10} {T:>6} {r['mpjpe_mm']:>8.1f} {r['pa_mpjpe_mm']:>9.1f} {x:>6.1f} {y:>6.1f} {z:>6.1f} "
              f"{gain:>12}")


def add_eval_args(p: argparse.ArgumentParser) -> None:
    add_capture_eval_args(p)
    p.add_argument("--landmarks", default=None, metavar="NAME[,NAME]",
                   help="instead: compare the capture regressors on this real-MediaPipe landmark dataset's split "
                        "(PA-MPJPE / MPJPE of the recovered pose, per image; several names: their rows together)")
    p.add_argument("--split", default=None,
                   help="split of --landmarks (default test; with --loso: every split of the source unless given)")
    p.add_argument("--regressors", default="geometric,embroider,direct",
                   help="capture regressors compared with --landmarks (constant: always the rest pose)")


#: ``--device cuda`` is allowed (core_models.cli.train_eval): see :func:`evaluate`
DEVICE_CLEAN = True


def run_eval(args) -> int:
    from core_models.data.corpus import default_corpus_dir

    torch.set_num_threads(args.threads)
    if getattr(args, "landmarks", None):
        from core_models.nets.lifter.real import run_compare_real

        return run_compare_real(args)
    if args.mocap:
        cdir = mocap_corpus(args.mocap)
        test = build_capture_data(cdir, "test", args.n_test, args.seed, with_text=False)
    else:
        cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
        test = build_capture_data(cdir, "test", args.n_test, args.seed, with_text=False)
    models, cfg = load_variants(Path(args.weights_dir) if args.weights_dir else None,
                                getattr(args, "device", None) or "cpu")
    results = {n: evaluate(m, test) for n, m in models.items()}
    _print_table(results, f"lifter on held-out clips ({args.mocap or 'test split'}, {len(test)} poses)")
    out = {"name": "lifter_eval", "data": str(args.mocap or cdir), "metrics": results, "default": cfg["default"]}
    for T in sorted({n.split("_T")[1] for n in results}):
        base = results.get(f"none_T{T}")
        al = {n: r for n, r in results.items() if n.endswith(f"_T{T}") and is_text_variant(n)}
        if base and al:
            best = min(al, key=lambda n: al[n]["mpjpe_mm"])
            out[f"gain_T{T}_pct"] = round(100 * (base["mpjpe_mm"] - al[best]["mpjpe_mm"]) / base["mpjpe_mm"], 2)
    print(json.dumps(out))
    return 0
