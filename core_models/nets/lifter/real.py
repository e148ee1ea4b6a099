"""Training the capture model on **real MediaPipe landmarks** (``python main.py train lifter --landmarks NAME``).

Data: a landmark dataset built by ``python main.py data landmarks`` (:mod:`core_models.capture.realdata`: the
app's body rendered in corpus and coaching poses, with random phenotypes, cameras, backgrounds and lights, and
the real landmarker run on every image) — the rows MediaPipe detected. Each row becomes

* the model input: image 2D (hip-centred, torso-normalised), visibility, presence **and MediaPipe's own world
  landmarks** (3D, hip-centred, divided by their torso length) — (33, 7), :func:`synth.keypoint_features`;
* the lifter target: the 22 joints of the rendered pose on the shared rest skeleton, root-relative, in the
  camera-aligned frame (x image-right, y up, z towards the camera), as for the synthetic data;
* the pose-head target: the heading-normalised pose (22 rotation matrices).

Every row is also used mirrored (landmarks swapped left/right and x negated, the pose mirrored). The synthetic
generator stays as augmentation: a fraction ``synth_mix`` of every batch is drawn from corpus train-split poses
and coaching poses (:func:`core_models.data.coaching_poses.coaching_pose_set`) with fresh cameras and noise,
its jitter **recalibrated against the real dataset** (:func:`calibrate_from_real`: per-landmark residual of
MediaPipe's world landmarks against the truth, after a similarity alignment). The 17 library poses are never
used (evaluation only: ``python main.py eval capture --poses library``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from core_models import skeleton as sk
from core_models.capture import synth
from core_models.capture.landmarks import LM, LM_MIRROR, NUM_LANDMARKS
from core_models.nets.lifter.infer import real_variant_name
from core_models.nets.lifter.model import Lifter, LifterConfig, mpjpe, pa_mpjpe
from core_models.nets.training.common import log

_JOINT_LMS = np.array([LM[f"{s}_{n}"] for s in ("left", "right")
                       for n in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")])
_JOINT_IDX = np.array([sk.JOINT_INDEX[f"{s}_{n}"] for s in ("left", "right")
                       for n in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")])


@dataclass
class Rows:
    """Model-ready rows: ``kp`` (N, 33, 7) inputs, ``target`` (N, 22, 3) camera-frame root-relative joints on
    the shared rest skeleton, ``rot`` (N, 22, 3, 3) heading-normalised pose."""

    kp: np.ndarray
    target: np.ndarray
    rot: np.ndarray

    def __len__(self) -> int:
        return len(self.kp)

    def take(self, sel) -> "Rows":
        return Rows(self.kp[sel], self.target[sel], self.rot[sel])

    @staticmethod
    def cat(parts: list["Rows"]) -> "Rows":
        return Rows(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("kp", "target", "rot")))


def _pose_targets(root_orient: np.ndarray, body_pose: np.ndarray, cam_R: np.ndarray, rest: np.ndarray):
    """(camera-frame root-relative joints on ``rest``, heading-normalised rotation matrices)."""
    from core_models.kinematics import fk_numpy
    from core_models.pose import Pose, normalize_heading

    pose = Pose(np.asarray(root_orient, np.float32), np.asarray(body_pose, np.float32))
    J = fk_numpy(pose.matrices().astype(np.float64), rest)[1]
    tgt = np.einsum("nab,nkb->nka", np.asarray(cam_R, np.float64), J - J[:, :1])
    norm, _ = normalize_heading(pose)
    return tgt.astype(np.float32), norm.matrices().astype(np.float32)


def rows_from_dataset(ds, rest: np.ndarray, mirror: bool = True) -> Rows:
    """The detected rows of a :class:`core_models.capture.realdata.LandmarkDataset` (and their mirror images)."""
    ok = np.asarray(ds.detected, bool)
    lm = np.asarray(ds.landmarks, np.float32)[ok]
    size = np.asarray(ds.image_size, np.float32)[ok]
    pix = lm[:, :, :2] * size[:, None, :]
    kp = synth.keypoint_features(pix, lm[:, :, 6], lm[:, :, 7], lm[:, :, 3:6])
    tgt, rot = _pose_targets(ds.root_orient[ok], ds.body_pose[ok], ds.cam_R[ok], rest)
    rows = Rows(kp, tgt, rot)
    return Rows.cat([rows, mirror_rows(rows)]) if mirror else rows


def mirror_rows(r: Rows) -> Rows:
    """Left/right mirror images: landmarks swapped and x negated (2D and world), joints swapped and x negated,
    the pose mirrored."""
    from core_models.pose import Pose, mirror_aa

    kp = r.kp[:, LM_MIRROR].copy()
    kp[..., 0] *= -1
    if kp.shape[-1] >= synth.KEYPOINT_DIM_WORLD:
        kp[..., 4] *= -1
    tgt = r.target[:, sk.MIRROR].copy()
    tgt[..., 0] *= -1
    from core_models.pose import matrix_to_aa

    aa = np.asarray(matrix_to_aa(torch.from_numpy(r.rot)).numpy(), np.float32)
    rot = Pose.from_full(np.asarray(mirror_aa(aa), np.float32)).matrices().astype(np.float32)
    return Rows(kp.astype(np.float32), tgt.astype(np.float32), rot)


# --- synthetic augmentation --------------------------------------------------------------------------------

def _robust_rms(res: np.ndarray) -> np.ndarray:
    """Per-landmark RMS of (n, K, D) residuals with gross outliers excluded (> 5 × the median norm; MediaPipe's
    outliers are modelled separately by ``outlier_prob``)."""
    r = np.linalg.norm(res, axis=-1)
    med = np.median(r, 0, keepdims=True)
    r = np.where(r <= 5 * np.maximum(med, 1e-6), r, np.nan)
    return np.sqrt(np.nanmean(r ** 2, 0))


def calibrate_from_real(ds, rest: np.ndarray | None = None) -> dict:
    """Per-landmark residuals of MediaPipe against the truth on the detected rows of a real dataset, for the 12
    limb landmarks (the rendered body's own joints), in torso lengths:

    * ``world_rms_torso`` — MediaPipe's **world** landmarks vs the truth joints in the camera-aligned frame,
      hip-centred, after a per-row similarity alignment (MediaPipe's skeleton has its own size);
    * ``image_rms_torso`` — the **image** landmarks (pixels) vs the projected truth joints, in on-screen torso
      lengths (needs ``cam_t``/``fov_deg``, :func:`core_models.capture.realdata.project_joints`).

    Both include MediaPipe's systematic offsets (its hip landmarks are not the skeleton's hip joints): the
    synthetic generator models them as noise. Gross outliers (> 5 × the median) are left out."""
    from core_models.pose import rigid_align

    ok = np.asarray(ds.detected, bool)
    lm = np.asarray(ds.landmarks, np.float32)[ok]
    W = lm[:, _JOINT_LMS, 3:6].astype(np.float64)
    J = np.asarray(ds.joints, np.float64)[ok][:, _JOINT_IDX]
    Jc = np.einsum("nab,nkb->nka", np.asarray(ds.cam_R, np.float64)[ok], J)
    hip = [3, 9]  # left_hip / right_hip in the 12-landmark order (shoulders: 0 / 6)
    W = W - W[:, hip].mean(1, keepdims=True)
    Jc = Jc - Jc[:, hip].mean(1, keepdims=True)
    torso = np.linalg.norm(Jc[:, [0, 6]].mean(1) - Jc[:, hip].mean(1), axis=-1)[:, None, None]
    Wa = rigid_align(torch.from_numpy(W), torch.from_numpy(Jc), scale=True).numpy()
    out = {"world_rms_torso": _robust_rms((Wa - Jc) / np.maximum(torso, 1e-3)).round(4).tolist(),
           "landmarks": [synth.LANDMARK_NAMES[i] for i in _JOINT_LMS], "rows": int(ok.sum())}
    if hasattr(ds, "cam_t") and hasattr(ds, "fov_deg"):
        from core_models.capture.realdata import project_joints

        P = project_joints(ds, np.nonzero(ok)[0])[:, _JOINT_IDX].astype(np.float64)
        pix = lm[:, _JOINT_LMS, :2] * np.asarray(ds.image_size, np.float64)[ok][:, None, :]
        t2 = np.linalg.norm(P[:, [0, 6]].mean(1) - P[:, hip].mean(1), axis=-1)[:, None, None]
        out["image_rms_torso"] = _robust_rms((pix - P) / np.maximum(t2, 1.0)).round(4).tolist()
    return out


#: RMS of synth's per-sample noise scale (log-uniform on [0.25, 1]): sqrt(E[s²]) — measured RMS / this = sigma
_SCALE_RMS = float(np.sqrt((1 - 0.25 ** 2) / (2 * np.log(4))))


def _per_landmark(vals: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(33,) from the 12 limb-landmark values: hands follow the wrists, feet the ankles, the face ``others``."""
    per = np.asarray(others, np.float64).copy()
    per[_JOINT_LMS] = vals
    for s in ("left", "right"):
        for n in ("pinky", "index", "thumb"):
            per[LM[f"{s}_{n}"]] = per[LM[f"{s}_wrist"]]
        for n in ("heel", "foot_index"):
            per[LM[f"{s}_{n}"]] = per[LM[f"{s}_ankle"]]
    return per


def calibrated_config(calib: dict | None, torso_m: float = 0.5) -> synth.SynthConfig:
    """A :class:`synth.SynthConfig` recalibrated on a real dataset (:func:`calibrate_from_real`): image jitter
    per landmark = the measured image RMS (2D, per axis) divided by the RMS of synth's per-sample noise scale;
    world-landmark noise likewise (torso lengths → metres with a ``torso_m`` torso; depth twice the lateral
    noise); face landmarks keep the old calibration scaled by the limb landmarks' median ratio; wider camera
    elevations (a phone on the floor looks up, a laptop down)."""
    cfg = synth.SynthConfig(elevation_std_deg=15.0)
    if not calib:
        return cfg
    old = np.asarray(synth.CALIBRATED_SIGMA, np.float64)
    if calib.get("image_rms_torso"):
        img = np.asarray(calib["image_rms_torso"], np.float64) / np.sqrt(2) / _SCALE_RMS
        ratio = float(np.median(img / old[_JOINT_LMS]))
        cfg.sigma = _per_landmark(img, old * ratio).astype(np.float32)
    w = np.asarray(calib["world_rms_torso"], np.float64) * torso_m / _SCALE_RMS / np.sqrt(6)
    per = _per_landmark(w, np.full(NUM_LANDMARKS, float(np.min(w))))
    cfg.world_sigma_m = np.stack([per, per, 2 * per], -1).astype(np.float32)  # type: ignore[assignment]
    return cfg


@dataclass
class SynthStream:
    """Corpus / coaching poses for synthetic batches: body-frame landmarks (N, 33, 3), joints (N, 22, 3) on the
    shared rest skeleton, heading-normalised rotation matrices (N, 22, 3, 3)."""

    world: np.ndarray
    joints: np.ndarray
    rot: np.ndarray
    cfg: synth.SynthConfig

    def __len__(self) -> int:
        return len(self.world)

    def batch(self, sel, rng: np.random.Generator) -> Rows:
        obs = synth.synthesize(self.world[sel], rng, self.cfg)
        kp = synth.keypoint_features(obs.pixels, obs.visibility, obs.presence, obs.world)
        J = self.joints[sel]
        tgt = np.einsum("nab,nkb->nka", obs.R, J - J[:, :1]).astype(np.float32)
        return Rows(kp, tgt, self.rot[sel])


def synth_stream(poses, model: synth.LandmarkModel, cfg: synth.SynthConfig) -> SynthStream:
    """A :class:`SynthStream` of heading-normalised ``poses`` (a batched Pose)."""
    from core_models.kinematics import fk_numpy
    from core_models.pose import normalize_heading

    poses, _ = normalize_heading(poses)
    mats = poses.matrices().astype(np.float64)
    return SynthStream(model.world_from_poses(poses), fk_numpy(mats, model.rest_joints)[1].astype(np.float32),
                       mats.astype(np.float32), cfg)


# --- training ----------------------------------------------------------------------------------------------

def pose_losses(model: Lifter, kp: torch.Tensor, tgt: torch.Tensor, rot: torch.Tensor, rest: torch.Tensor,
                w_pose: float = 1.0) -> dict:
    """Lifter joint MPJPE + the pose head's FK joint error (every iteration, the last one weighted 1) and a
    small rotation-matrix term."""
    from core_models.kinematics import fk_torch
    from core_models.pose import sixd_to_matrix

    f = model.encoder(kp)
    j = model.head(f)
    l_lift = (j - tgt).norm(dim=-1).mean()
    Jgt = fk_torch(rot, rest)[1]
    l_pose = torch.zeros((), dtype=kp.dtype)
    steps = model.pose_head(f, j, all_steps=True)
    for k, th in enumerate(steps):
        Rh = sixd_to_matrix(th)
        Jh = fk_torch(Rh, rest)[1]
        w = 1.0 if k + 1 == len(steps) else 0.5
        l_pose = l_pose + w * ((Jh - Jgt).norm(dim=-1).mean() + 0.1 * (Rh - rot).pow(2).sum((-1, -2)).mean())
    return {"lift": l_lift, "pose": l_pose, "total": l_lift + w_pose * l_pose}


@torch.no_grad()
def evaluate_rows(model: Lifter, rows: Rows, rest: torch.Tensor, batch: int = 1024, flip: bool = False) -> dict:
    """Lifter MPJPE / PA-MPJPE (camera frame) and the pose head's PA-MPJPE / MPJPE (FK joints on ``rest`` vs the
    truth pose's), mm, on real rows."""
    from core_models.kinematics import fk_torch
    from core_models.pose import sixd_to_matrix

    model.eval()
    e: dict[str, list[torch.Tensor]] = {"lift_mpjpe": [], "lift_pa": [], "pose_pa": [], "pose_mpjpe": []}
    for s in range(0, len(rows), batch):
        r = rows.take(slice(s, s + batch))
        th, j = model.predict_pose(torch.from_numpy(r.kp), flip=flip)
        tgt = torch.from_numpy(r.target)
        e["lift_mpjpe"].append(mpjpe(j, tgt))
        e["lift_pa"].append(pa_mpjpe(j, tgt))
        Jh = fk_torch(sixd_to_matrix(th), rest)[1]
        Jg = fk_torch(torch.from_numpy(r.rot), rest)[1]
        e["pose_pa"].append(pa_mpjpe(Jh, Jg))
        e["pose_mpjpe"].append(mpjpe(Jh, Jg))
    return {f"{k}_mm": round(float(torch.cat(v).mean()) * 1000, 1) for k, v in e.items()} | {"n": len(rows)}


def _draw(real: Rows, syn: list[SynthStream], n: int, mix: float, rng: np.random.Generator) -> Rows:
    """One batch: ``round(n * mix)`` synthetic rows (split evenly over the streams), the rest real."""
    n_syn = int(round(n * mix)) if syn else 0
    parts = [real.take(rng.integers(0, len(real), n - n_syn))]
    for k, st in enumerate(syn):
        m = n_syn // len(syn) + (1 if k < n_syn % len(syn) else 0)
        if m:
            parts.append(st.batch(rng.integers(0, len(st), m), rng))
    return Rows.cat(parts)


def _schedule(opt, lr: float, steps: int, max_minutes: float | None):
    """OneCycle-like warm-up (5 %) + cosine decay over the run's progress: the step fraction, or — with a time
    budget — the larger of the step and the elapsed-time fractions, so that a run cut by ``max_minutes`` still
    ends annealed."""
    import math

    t0 = time.time()
    budget = 60.0 * float(max_minutes) if max_minutes else 0.0

    def factor(step: int) -> float:
        frac = step / max(1, steps)
        if budget:
            frac = max(frac, (time.time() - t0) / budget)
        frac = min(1.0, frac)
        if frac < 0.05:
            return 0.04 + 0.96 * frac / 0.05
        return 0.5 * (1 + math.cos(math.pi * (frac - 0.05) / 0.95)) + 1e-3

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def train_real(cfg: LifterConfig, real: Rows, syn: list[SynthStream], val: Rows, rest: np.ndarray, steps: int,
               batch: int = 256, lr: float = 1e-3, mix: float = 0.3, seed: int = 0,
               max_minutes: float | None = None, init: Lifter | None = None, log=log) -> tuple[Lifter, dict]:
    """Lifter + pose head on real rows (+ a ``mix`` fraction of synthetic rows per batch), warm-up + cosine
    over ``steps`` or the time budget (:func:`_schedule`; stops early at ``max_minutes``, keeping the weights of
    the best validation check)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Lifter(cfg)
    if init is not None:
        model.load_state_dict(init.state_dict(), strict=False)
    rest_t = torch.from_numpy(np.asarray(rest, np.float32))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = _schedule(opt, lr, steps, max_minutes)
    t0, n_agg, hist = time.time(), 0, []
    t_check = t0
    agg: dict[str, float] = {}
    best: tuple[float, dict | None] = (float("inf"), None)
    check = max(50, steps // 10)
    for step in range(steps):
        model.train()
        b = _draw(real, syn, batch, mix, rng)
        losses = pose_losses(model, torch.from_numpy(b.kp), torch.from_numpy(b.target), torch.from_numpy(b.rot),
                             rest_t)
        opt.zero_grad()
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        for k, v in losses.items():
            agg[k] = agg.get(k, 0.0) + float(v.detach())
        n_agg += 1
        out_of_time = bool(max_minutes) and time.time() - t0 > 60 * float(max_minutes or 0)
        timed_check = bool(max_minutes) and time.time() - t_check > 60 * float(max_minutes or 0) / 12
        if (step + 1) % check == 0 or step + 1 == steps or out_of_time or timed_check:
            t_check = time.time()
            m = evaluate_rows(model, val, rest_t) if len(val) else {}
            hist.append({"step": step + 1, **{k: round(v / n_agg, 4) for k, v in agg.items()}, **m})
            log(f"[lifter real] step {step + 1}/{steps} " + " ".join(f"{k} {v / n_agg:.4f}" for k, v in agg.items())
                + f" val {m} ({time.time() - t0:.0f} s)")
            agg, n_agg = {}, 0
            score = m.get("pose_pa_mm", 0.0)
            if score < best[0]:
                best = (score, {k: v.detach().clone() for k, v in model.state_dict().items()})
            if out_of_time:
                log(f"[lifter real] stopping at step {step + 1} (time budget {max_minutes} min)")
                break
    if best[1] is not None:
        model.load_state_dict(best[1])
    model.eval()
    return model, {"seconds": round(time.time() - t0, 1), "steps_run": step + 1, "history": hist,
                   "best_val_pose_pa_mm": best[0]}


# --- CLI (``train lifter --landmarks NAME``) ------------------------------------------------------------------

def add_real_args(p) -> None:
    p.add_argument("--landmarks", default=None,
                   help="train on this real-MediaPipe landmark dataset (python main.py data landmarks --name NAME) "
                        "with the synthetic generator as augmentation; ships the variant 'real<tag>_T1' with its "
                        "pose head")
    p.add_argument("--synth-mix", type=float, default=0.3, help="fraction of each batch drawn synthetically")
    p.add_argument("--coaching", type=int, default=4000, help="coaching poses in the synthetic stream (0: none)")
    p.add_argument("--steps", type=int, default=3000, help="optimiser steps (real-landmark training)")
    p.add_argument("--synth-partmix", type=int, default=0, metavar="N",
                   help="add a synthetic stream of N part-mixed poses (core_models.data.part_mix: each body part "
                        "from another corpus / coaching pose; 0: none)")
    p.add_argument("--no-mirror", action="store_true", help="do not add the mirrored real rows")
    p.add_argument("--encoder", default="mlp", choices=("mlp", "tf"),
                   help="mlp: residual MLP over all landmarks (cheap); tf: the landmark-token transformer")
    p.add_argument("--extra-landmarks", default=None, metavar="NAME[,NAME]",
                   help="more landmark datasets whose train-split rows join --landmarks' train rows (val / test "
                        "stay --landmarks', so runs with and without them are scored on the same rows)")
    p.add_argument("--pair-with", default=None, metavar="VARIANT",
                   help="make the new variant and this one (already in the output lifter.pt) the shipped "
                        "'direct' pair (config real_ensemble: rotations averaged on SO(3)); without it the new "
                        "variant alone becomes 'direct'")
    p.add_argument("--val-split", default="val", help="split of --landmarks used to pick the checkpoint")
    p.add_argument("--init", default=None, help="start from this variant of lifter.pt (same architecture), e.g. a "
                                                "synthetic-only pre-training (--synth-mix 1)")
    p.add_argument("--init-dir", default=None, help="folder of the lifter.pt holding --init (default: --out-dir)")
    p.add_argument("--drop-variants", default=None, metavar="NAME[,NAME]",
                   help="no training: remove these variants from the lifter.pt in --out-dir (recorded in its "
                        "manifest's dropped_variants; the default, real-input and paired variants are refused)")


def _streams(args, cal_cfg: synth.SynthConfig, model: synth.LandmarkModel) -> list[SynthStream]:
    from core_models.data.corpus import default_corpus_dir
    from core_models.nets.training.capture_data import build_capture_data
    from core_models.pose import Pose

    out = []
    if args.synth_mix > 0:
        from pathlib import Path

        cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
        cd = build_capture_data(cdir, "train", args.n_train, args.seed, with_text=False)
        out.append(synth_stream(Pose(cd.root_orient, cd.body_pose), model, cal_cfg))
        roots, bodies = [np.asarray(cd.root_orient, np.float32)], [np.asarray(cd.body_pose, np.float32)]
        if args.coaching > 0:
            try:
                from core_models.data.coaching_poses import coaching_pose_set
            except ImportError as e:
                log(f"[lifter real] no coaching poses ({e})")
            else:
                cp = coaching_pose_set(args.coaching, seed=args.seed)
                roots.append(np.asarray(cp.root_orient, np.float32))
                bodies.append(np.asarray(cp.body_pose, np.float32))
                out.append(synth_stream(Pose(roots[-1], bodies[-1]), model, cal_cfg))
        n_mix = int(getattr(args, "synth_partmix", 0) or 0)
        if n_mix > 0:  # one more stream: poses whose parts come from different poses of the two pools above
            from core_models.body import load_body
            from core_models.data.part_mix import part_mix

            r, b = part_mix(np.concatenate(roots), np.concatenate(bodies), n_mix, np.random.default_rng(args.seed),
                            body=load_body("anny"))
            out.append(synth_stream(Pose(r, b), model, cal_cfg))
    return out


def _merge_save(name: str, model: Lifter, metrics: dict, info: dict, out, pair_with: str | None = None) -> str:
    """Add/replace the variant ``name`` in lifter.pt (the other variants and the default are kept) and make it
    the capture model's real-input variant (config ``real_default``); ``pair_with``: a variant already in lifter.pt
    that forms the ``direct`` pair with it (config ``real_ensemble``; ValueError when it is missing or has no pose
    head, before anything is written)."""
    import sys

    from core_models.nets.common.weights import WeightsError, load_weights, manifest, save_weights

    state = {f"{name}.{k}": v for k, v in model.inference_state().items()}
    cfgs, results, train_info, commands, seconds, default = {name: model.cfg.to_dict()}, {name: metrics}, \
        {name: info}, [], 0.0, name
    try:
        blob, man = load_weights("lifter", out), manifest("lifter", out)
        state.update({k: v for k, v in blob["state"].items() if k.split(".")[0] != name})
        for n, c in blob["config"]["variants"].items():
            if n != name:
                cfgs[n] = c
                results[n] = man.get("metrics", {}).get(n)
                train_info[n] = man.get("train", {}).get(n)
        # the whole chain stays: later real-landmark steps start from earlier ones (--init), so `train all`
        # needs every step, and the landmark datasets' build commands (data_commands) with them
        commands = [c for c in man.get("commands", [man.get("command")]) if c]
        seconds, default = float(man.get("train_seconds", 0)), blob["config"].get("default", name)
        keep: dict = {k: man[k] for k in ("data", "n_train", "n_test", "data_commands", "dropped_variants",
                                          "notes", "command_note") if k in man}
    except WeightsError as e:
        log(f"[lifter real] nothing to merge with ({e})")
        keep = {}
    config: dict = {"variants": cfgs, "default": default, "real_default": name}
    if pair_with:
        if pair_with == name or not cfgs.get(pair_with, {}).get("pose_head"):
            raise ValueError(f"--pair-with {pair_with}: not another variant with a pose head in the output "
                             f"lifter.pt (has: {', '.join(sorted(cfgs))})")
        config["real_ensemble"] = [pair_with, name]
    commands.append("python main.py train lifter " + " ".join(sys.argv[3:]))
    meta = {**keep, "command": " && ".join(commands), "commands": commands, "metrics": results, "train": train_info,
            "train_seconds": round(seconds + info["seconds"], 1), "default": default, "real_default": name,
            **({"real_ensemble": config["real_ensemble"]} if pair_with else {})}
    save_weights("lifter", state, config, meta, directory=out, half=True)
    return default


def drop_variants(names: list[str], out=None) -> list[str]:
    """Remove the variants ``names`` from the lifter.pt in ``out`` (weights, configs, per-variant metrics and
    training records) and add them to its manifest's ``dropped_variants``; the recorded commands stay, so a replay
    still makes the variants later steps start from. Names not in the file are skipped; the variants the capture
    model runs (``default``, ``real_default``, ``real_ensemble``) are refused (ValueError, nothing written).
    Returns the names removed."""
    from core_models.nets.common.weights import load_weights, manifest, save_weights

    blob, man = load_weights("lifter", out), manifest("lifter", out)
    cfg = blob["config"]
    used = {cfg.get("default"), cfg.get("real_default"), *(cfg.get("real_ensemble") or [])} - {None}
    refused = sorted(set(names) & used)
    if refused:
        raise ValueError(f"cannot drop {', '.join(refused)}: the capture model runs it (default / real_default / "
                         "real_ensemble)")
    gone = [n for n in names if n in cfg["variants"]]
    state = {k: v for k, v in blob["state"].items() if k.split(".")[0] not in gone}
    config = {**cfg, "variants": {n: c for n, c in cfg["variants"].items() if n not in gone}}
    meta = {k: v for k, v in man.items() if k not in ("file", "sha256", "bytes", "created")}
    for key in ("metrics", "train"):
        if isinstance(meta.get(key), dict):
            meta[key] = {n: v for n, v in meta[key].items() if n not in gone}
    meta["dropped_variants"] = sorted(set(meta.get("dropped_variants") or []) | set(gone))
    save_weights("lifter", state, config, meta, directory=out, half=True)
    skipped = [n for n in names if n not in gone]
    log(f"[lifter] dropped {', '.join(gone) or 'nothing'}" + (f"; not in lifter.pt: {', '.join(skipped)}"
                                                               if skipped else ""))
    return gone


def run_train_real(args) -> int:
    """``train lifter --landmarks NAME``: lifter + pose head on the real dataset's train split (+ mirrored rows,
    + synthetic augmentation), validated on its val split, evaluated on its test split; merged into lifter.pt."""
    import json
    from pathlib import Path

    from core_models.capture.realdata import load_landmark_dataset

    torch.set_num_threads(args.threads)
    t_all = time.time()
    lm_model = synth.LandmarkModel()
    rest = lm_model.rest_joints
    # --exclude-source: that source's landmark rows leave every split with its corpus poses (LOSO)
    drop = getattr(args, "exclude_source", None)
    ds_train = load_landmark_dataset(args.landmarks, split="train", exclude_source=drop)
    calib = calibrate_from_real(ds_train)
    log(f"[lifter real] world-landmark residuals (torso lengths): {calib['world_rms_torso']}")
    real = rows_from_dataset(ds_train, rest, mirror=not args.no_mirror)
    for extra in [n.strip() for n in (getattr(args, "extra_landmarks", None) or "").split(",") if n.strip()]:
        more = rows_from_dataset(load_landmark_dataset(extra, split="train", exclude_source=drop), rest,
                                 mirror=not args.no_mirror)
        log(f"[lifter real] + {len(more)} train rows of {extra} (mirrored incl.)")
        real = Rows.cat([real, more])
    val = rows_from_dataset(load_landmark_dataset(args.landmarks, split=args.val_split, exclude_source=drop), rest,
                            mirror=False)
    test = rows_from_dataset(load_landmark_dataset(args.landmarks, split="test", exclude_source=drop), rest,
                             mirror=False)
    cal_cfg = calibrated_config(calib)
    syn = _streams(args, cal_cfg, lm_model)
    log(f"[lifter real] {len(real)} real rows (mirrored incl.), {len(val)} val, {len(test)} test; synthetic "
        f"streams {[len(s) for s in syn]} at mix {args.synth_mix}")
    cfg = LifterConfig(window=1, in_dim=synth.KEYPOINT_DIM_WORLD, d=args.d, layers=args.layers, pose_head=True,
                       encoder=args.encoder)
    init = None
    if args.init:
        from core_models.nets.lifter.infer import load_variants

        init_dir = args.init_dir or args.out_dir
        init = load_variants(Path(init_dir) if init_dir else None)[0][args.init]
        cfg = init.cfg
    model, info = train_real(cfg, real, syn, val, rest, args.steps, args.batch, args.lr, args.synth_mix, args.seed,
                             args.max_minutes, init=init)
    rest_t = torch.from_numpy(np.asarray(rest, np.float32))
    metrics = {"real_val": evaluate_rows(model, val, rest_t), "real_test": evaluate_rows(model, test, rest_t),
               "real_val_flip": evaluate_rows(model, val, rest_t, flip=True),
               "real_test_flip": evaluate_rows(model, test, rest_t, flip=True)}
    # test-time flip when it helps on the val split
    model.cfg.flip_test = metrics["real_val_flip"]["pose_pa_mm"] < metrics["real_val"]["pose_pa_mm"]
    log(f"[lifter real] test-time flip: {model.cfg.flip_test} (val {metrics['real_val']} / {metrics['real_val_flip']})")
    info.update(landmarks=args.landmarks, extra_landmarks=getattr(args, "extra_landmarks", None), init=args.init,
                synth_mix=args.synth_mix, coaching=args.coaching, synth_partmix=getattr(args, "synth_partmix", 0),
                calibration=calib,
                synth_config=cal_cfg.to_dict() | {"world_sigma_m": np.asarray(cal_cfg.world_sigma_m).tolist()},
                real_rows=len(real), val_rows=len(val), test_rows=len(test))
    name = real_variant_name(args.tag)
    out = Path(args.out_dir) if args.out_dir else None
    _merge_save(name, model, metrics, info, out, getattr(args, "pair_with", None))
    print(json.dumps({"name": "lifter_train_real", "variant": name, "metrics": metrics,
                      "seconds": round(time.time() - t_all, 1)}))
    return 0


# --- comparison of the capture regressors on real landmarks (``eval lifter --landmarks NAME``) -----------------

def _regressor(name: str, weights_dir):
    if name == "constant":
        return None
    if name == "geometric":
        from core_models.capture.pipeline import GeometricRegressor

        return GeometricRegressor(temporal=False)
    from core_models.capture.regressor import LearnedRegressor

    return LearnedRegressor(weights_dir, representation=name)


def compare_on_real(ds, names: list[str], weights_dir=None, rest: np.ndarray | None = None) -> dict:
    """PA-MPJPE / MPJPE (mm, 22 joints on the shared rest skeleton; MPJPE after root alignment with both poses
    heading-normalised) of each capture regressor on every detected row of ``ds``, per image (each regressor reset
    before each row). ``constant``: always the rest pose."""
    from core_models.capture.landmarks import Landmarks
    from core_models.kinematics import fk_numpy
    from core_models.pose import Pose, matrix_to_aa_np, normalize_heading

    rest = synth.LandmarkModel().rest_joints if rest is None else rest
    ok = np.nonzero(np.asarray(ds.detected, bool))[0]
    truth, _ = normalize_heading(Pose(ds.root_orient[ok], ds.body_pose[ok]))
    Jg = torch.from_numpy(fk_numpy(truth.matrices().astype(np.float64), rest)[1].astype(np.float32))
    out = {}
    for name in names:
        reg = _regressor(name, weights_dir)
        t0, mats = time.time(), []
        for i in ok:
            if reg is None:
                mats.append(np.tile(np.eye(3, dtype=np.float32), (22, 1, 1)))
                continue
            getattr(reg, "reset", lambda: None)()
            lm = Landmarks.from_array(ds.landmarks[i], (int(ds.image_size[i][0]), int(ds.image_size[i][1])))
            pose, _ = reg.predict(lm)
            mats.append(pose.matrices().astype(np.float32))
        ms = (time.time() - t0) * 1000 / max(1, len(ok))
        pred, _ = normalize_heading(Pose.from_full(matrix_to_aa_np(np.stack(mats).astype(np.float64))
                                                   .astype(np.float32)))
        Jh = torch.from_numpy(fk_numpy(pred.matrices().astype(np.float64), rest)[1].astype(np.float32))
        out[name] = {"pa_mpjpe_mm": round(float(pa_mpjpe(Jh, Jg).mean()) * 1000, 1),
                     "mpjpe_mm": round(float(mpjpe(Jh, Jg).mean()) * 1000, 1), "ms_per_image": round(ms, 2),
                     "n": len(ok)}
        log(f"[compare] {name}: {out[name]}")
    return out


def run_compare_real(args) -> int:
    import json
    from pathlib import Path

    from core_models.capture.realdata import LandmarkDataset, load_landmark_dataset

    # eval --loso SOURCE: that source's rows (of every split unless --split is given)
    src = getattr(args, "loso", None)
    split = args.split if (src or args.split) else "test"
    names = [n.strip() for n in args.landmarks.split(",") if n.strip()]
    ds = LandmarkDataset.concat([load_landmark_dataset(n, split=split, only_source=src) for n in names])
    res = compare_on_real(ds, [n.strip() for n in args.regressors.split(",") if n.strip()],
                          Path(args.weights_dir) if args.weights_dir else None)
    where = f"{split or 'every'} split" + (f" of {src}" if src else "")
    print(f"capture regressors on real MediaPipe landmarks ({args.landmarks}, {where}, "
          f"{next(iter(res.values()))['n'] if res else 0} images, per image)")
    print(f"{'regressor':<12} {'PA-MPJPE':>9} {'MPJPE':>7} {'ms/img':>7}")
    for n, r in res.items():
        print(f"{n:<12} {r['pa_mpjpe_mm']:>9.1f} {r['mpjpe_mm']:>7.1f} {r['ms_per_image']:>7.2f}")
    print(json.dumps({"name": "capture_compare_real", "landmarks": args.landmarks, "split": split, "loso": src,
                      "metrics": res}))
    return 0
