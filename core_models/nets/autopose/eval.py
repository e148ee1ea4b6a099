"""Evaluate auto-posing (``python main.py eval autopose [--mocap DIR]``) on held-out real poses.

From the six main effectors (pelvis, neck, wrists, ankles) of each held-out pose (test-split clips, or every clip
of ``--mocap DIR`` imported and retargeted like ``data build``): the network's prediction, then the exact-reach
refinement (the six effectors as hard targets, stay close to the prediction, joint limits on). Reported:
effector error after refinement (mm), MPJPE of the 16 other joints before / after refinement (mm), joint-limit
excess (°/joint, gimbal-aware check), predictability (a full-body drag of a wrist / ankle by 5 cm from a real
pose: the largest local rotation change of the unrelated limbs, °), and self-penetration (deepest capsule overlap
of :func:`core_models.plausibility.penetrations`, mm) of the result vs the real poses. The same refinement from the
zero pose ("optimisation only") is the baseline row."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from core_models import skeleton as sk
from core_models.nets.autopose.data import MAIN_MASK, PoseSet, load_split
from core_models.nets.autopose.infer import AutoPoser, effectors_of
from core_models.pose import Pose, clamp_to_limits, geodesic_deg, limit_violation_matrices, matrix_to_aa_np
from core_models.posing import EFFECTOR_JOINTS, DragSolver, RefineProblem, refine, world_joints

_OTHER = np.setdiff1d(np.arange(sk.NUM_JOINTS), EFFECTOR_JOINTS[MAIN_MASK])
_DRAGGED = ("left_wrist", "right_wrist", "left_ankle", "right_ankle")
_LIMB_OF = {"left_wrist": "left_arm", "right_wrist": "right_arm", "left_ankle": "left_leg", "right_ankle": "right_leg"}


def _fk(R: np.ndarray, rest: np.ndarray) -> np.ndarray:
    from core_models import kinematics as kin

    return kin.fk_numpy(R, rest)[1]


def _reach(R_pred: np.ndarray, R_true: np.ndarray, rest: np.ndarray) -> dict:
    """Refine each prediction onto the true main effectors; errors in mm, limit excess in °/joint."""
    eff_err, mp_before, mp_after, lim, iters, ms, Rs = [], [], [], [], [], [], []
    hard_joints = EFFECTOR_JOINTS[MAIN_MASK]
    for Rp, Rt in zip(R_pred, R_true):
        Jt = _fk(Rt, rest)
        prob = RefineProblem(hard_joints, Jt[hard_joints], np.ones(len(hard_joints)), np.ones(len(hard_joints), bool))
        t = time.perf_counter()
        res = refine(Rp, np.zeros(3), rest, prob)
        ms.append(1000 * (time.perf_counter() - t))
        Jb, Ja = _fk(Rp, rest), _fk(res.R, rest) + res.transl
        eff_err.append(1000 * np.linalg.norm(Ja[hard_joints] - Jt[hard_joints], axis=-1).max())
        mp_before.append(1000 * np.linalg.norm((Jb - Jb[:1])[_OTHER] - (Jt - Jt[:1])[_OTHER], axis=-1).mean())
        mp_after.append(1000 * np.linalg.norm(Ja[_OTHER] - Jt[_OTHER], axis=-1).mean())
        lim.append(limit_violation_matrices(res.R)[1:].mean())
        iters.append(res.iterations)
        Rs.append(res.R)
    e = np.asarray(eff_err)
    return {"effector_err_mm": round(float(e.mean()), 3), "effector_err_p95_mm": round(float(np.percentile(e, 95)), 3),
            "reached_5mm_pct": round(100 * float((e <= 5).mean()), 2),
            "mpjpe_other_pred_mm": round(float(np.mean(mp_before)), 2),
            "mpjpe_other_mm": round(float(np.mean(mp_after)), 2),
            "limit_excess_deg_per_joint": round(float(np.mean(lim)), 4),
            "refine_iters": round(float(np.mean(iters)), 2),
            "refine_ms": round(float(np.median(ms)), 3), "_R": np.stack(Rs)}


def _predictability(autoposer: AutoPoser | None, R_true: np.ndarray, rest: np.ndarray, rng) -> dict:
    """Full-body drags of one limb end by 5 cm: the largest rotation change (°) of the unrelated limbs."""
    solver = DragSolver(rest, autoposer, limits=True)
    worst, errs = [], []
    for k, Rt in enumerate(R_true):
        pose = clamp_to_limits(Pose.from_full(matrix_to_aa_np(Rt).astype(np.float32)))
        eff = _DRAGGED[k % len(_DRAGGED)]
        j = sk.JOINT_INDEX[eff]
        d = rng.normal(size=3)
        target = world_joints(pose, rest)[j] + 0.05 * d / np.linalg.norm(d)
        solver.begin(pose, eff)
        out = solver.update(target, "full")
        solver.end()
        errs.append(1000 * solver.last_error)
        unrelated = [i for part in ("left_arm", "right_arm", "left_leg", "right_leg") if part != _LIMB_OF[eff]
                     for i in sk.BODY_PARTS[part]]
        worst.append(float(np.max(geodesic_deg(pose.full()[unrelated], out.full()[unrelated]))))
    w = np.asarray(worst)
    return {"unrelated_max_deg_mean": round(float(w.mean()), 3),
            "unrelated_max_deg_p95": round(float(np.percentile(w, 95)), 3),
            "unrelated_within_3deg_pct": round(100 * float((w <= 3).mean()), 2),
            "drag_err_mm": round(float(np.mean(errs)), 3)}


def _penetration_mm(body, R: np.ndarray) -> float:
    from core_models.plausibility import penetrations

    depths = [max([c.depth - c.allowance for c in penetrations(body, Pose.from_full(
        matrix_to_aa_np(r).astype(np.float32)))] + [0.0]) for r in R]
    return round(1000 * float(np.mean(depths)), 3)


def evaluate(autoposer: AutoPoser | None, data: PoseSet, body, n: int = 1000, seed: int = 1, n_drag: int = 200,
             n_pen: int = 200) -> dict:
    """Metrics of ``autoposer`` (None: optimisation only, from the zero pose) on ``n`` poses of ``data``."""
    rng = np.random.default_rng(seed)
    rest = np.asarray(body.skinning.rest_joints, np.float64)
    idx = np.sort(rng.choice(len(data), size=min(n, len(data)), replace=False))
    R_true = data.R[idx].astype(np.float64)
    if autoposer is not None:
        E = effectors_of(R_true, rest)
        t = time.perf_counter()
        R_pred = autoposer.predict(E, np.broadcast_to(MAIN_MASK, E.shape[:2]), None)
        net_ms = 1000 * (time.perf_counter() - t) / len(idx)
    else:
        R_pred, net_ms = np.broadcast_to(np.eye(3), R_true.shape).copy(), 0.0
    out = _reach(R_pred, R_true, rest)
    R_ref = out.pop("_R")
    out.update(_predictability(autoposer, R_true[:n_drag], rest, rng))
    out["penetration_mm"] = _penetration_mm(body, R_ref[:n_pen])
    out["penetration_real_mm"] = _penetration_mm(body, R_true[:n_pen])
    out["real_limit_excess_deg_per_joint"] = round(float(limit_violation_matrices(R_true)[:, 1:].mean()), 4)
    out.update(n=int(len(idx)), network_ms_per_pose_batched=round(net_ms, 4))
    return out


_ROWS = (("effector error after refinement (mm, mean / p95)", ("effector_err_mm", "effector_err_p95_mm")),
         ("effectors within 5 mm (%)", ("reached_5mm_pct",)),
         ("MPJPE other 16 joints, prediction only (mm)", ("mpjpe_other_pred_mm",)),
         ("MPJPE other 16 joints, after refinement (mm)", ("mpjpe_other_mm",)),
         ("joint-limit excess (°/joint; real poses)",
          ("limit_excess_deg_per_joint", "real_limit_excess_deg_per_joint")),
         ("5 cm drag: unrelated limbs max change (°, mean / p95)", ("unrelated_max_deg_mean", "unrelated_max_deg_p95")),
         ("5 cm drag: unrelated limbs within 3° (%)", ("unrelated_within_3deg_pct",)),
         ("self-penetration depth (mm; real poses)", ("penetration_mm", "penetration_real_mm")),
         ("refinement iterations / median ms", ("refine_iters", "refine_ms")))


def print_table(metrics: dict, title: str, baseline: dict | None = None) -> None:
    print(title)
    print(f"{'metric':<56} {'network + refine':>20} {'optimisation only':>20}")
    for label, keys in _ROWS:
        def fmt(m):
            return " / ".join(f"{m[k]:g}" for k in keys) if m else "-"
        print(f"{label:<56} {fmt(metrics):>20} {fmt(baseline):>20}")


def add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None)
    p.add_argument("--mocap", default=None, help="evaluate on every clip of this mocap folder (retargeted on the fly)")
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-baseline", action="store_true", help="skip the optimisation-only row")


#: ``--device cuda`` is allowed: the network runs on the device (AutoPoser moves its inputs there and returns numpy);
#: the refinement and the metrics are numpy on the CPU
DEVICE_CLEAN = True


def run_eval(args) -> int:
    from core_models.body import load_body
    from core_models.data.corpus import default_corpus_dir
    from core_models.nets.autopose.infer import load_autoposer
    from core_models.nets.training.capture_data import mocap_corpus
    from core_models.nets.training.common import set_threads

    set_threads(args.threads)
    cdir = mocap_corpus(args.mocap) if args.mocap else (Path(args.corpus) if args.corpus else default_corpus_dir())
    test = load_split(cdir, "test")
    body = load_body("anny")
    ap = load_autoposer(args.weights_dir, device=getattr(args, "device", None) or "cpu")
    metrics = evaluate(ap, test, body, n=args.n_test, seed=args.seed)
    base = None if args.no_baseline else evaluate(None, test, body, n=args.n_test, seed=args.seed)
    print_table(metrics, f"autopose on held-out real poses ({args.mocap or 'test split'}, {metrics['n']} poses, "
                         f"6 effectors in)", base)
    print(json.dumps({"name": "eval_autopose", "data": str(args.mocap or cdir), "metrics": metrics,
                      "optimisation_only": base}))
    return 0
