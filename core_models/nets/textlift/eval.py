"""Evaluate a study lifter on whole sequences (``python main.py eval textlift --checkpoint PATH``).

Every test sequence is lifted in dense mode (:meth:`TextLifter.forward_sequence`: causal models see only past
frames, centred ones (window − 1)/2 frames either side, edges padded by repetition) and the joints of every
target frame (MediaPipe detected the person) are compared with the ground truth: MPJPE (root-relative,
canonical frame) and PA-MPJPE (after a similarity alignment), in mm, plus the mean absolute error per axis
(x body-left, y up, z body-forward).
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from core_models.nets.textlift.data import SeqPool, TextTable, study_data
from core_models.nets.textlift.infer import load_textlift
from core_models.nets.textlift.model import TextLifter, mpjpe, pa_mpjpe

#: landmarks hidden by the ``--occlude`` settings (visibility/presence 0, position at the hip centre)
OCCLUDE = {"left_arm": [13, 15, 17, 19, 21], "left_leg": [25, 27, 29, 31]}

#: ``--device cuda`` works: the network and its inputs go to the device, the metrics are computed on the CPU
DEVICE_CLEAN = True


def occlude(feats: np.ndarray, which: str | None) -> np.ndarray:
    """Hide a limb's landmarks (all frames): the ambiguous-input control."""
    if not which:
        return feats
    out = np.array(feats, copy=True)
    out[..., OCCLUDE[which], :] = 0.0
    return out


def _sequence_text(pool: SeqPool, table: TextTable, sl: slice):
    rows = pool.text_row[sl]
    slots = table.slots[np.maximum(rows, 0)].astype(np.float32)
    mask = table.mask[np.maximum(rows, 0)].copy()
    slots[rows < 0] = 0.0
    mask[rows < 0] = False
    mask[rows < 0, 0] = True      # one (zero) key so that attention stays defined on frames without a text
    return torch.from_numpy(slots), torch.from_numpy(mask)


@torch.no_grad()
def evaluate(model: TextLifter, pool: SeqPool, table: TextTable | None = None, hide: str | None = None,
             device: str | torch.device = "cpu") -> dict:
    model.eval()
    preds = np.zeros_like(pool.target)
    for s0 in np.unique(pool.start):
        sl = slice(int(s0), int(pool.end[s0]) + 1)
        x = torch.from_numpy(occlude(pool.feats[sl], hide))[None].to(device)
        text = mask = None
        if model.needs_text:
            if table is None:
                raise ValueError("this lifter needs the test descriptions (align='input')")
            t, m = _sequence_text(pool, table, sl)
            text, mask = t[None].to(device), m[None].to(device)
        preds[sl] = model.forward_sequence(x, text, mask)[0].cpu().numpy()
    rows = pool.targets()
    p, t = torch.from_numpy(preds[rows]), torch.from_numpy(pool.target[rows])
    axis = (p - p[:, :1] - (t - t[:, :1])).abs().mean((0, 1)) * 1000
    return {"mpjpe_mm": round(float(mpjpe(p, t).mean()) * 1000, 2),
            "pa_mpjpe_mm": round(float(pa_mpjpe(p, t).mean()) * 1000, 2),
            "abs_xyz_mm": [round(float(v), 2) for v in axis], "n_frames": int(len(rows)),
            "n_sequences": int(pool.n_sequences)}


def add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default=None, help="a checkpoint written by train textlift --save (required)")
    p.add_argument("--landmarks", default=None, help="real MediaPipe landmark dataset (test-split sequences)")
    p.add_argument("--test-landmarks", default=None, help="dataset(s) of the test sequences (default --landmarks)")
    p.add_argument("--synth-segments", type=int, default=120)
    p.add_argument("--occlude", default=None, choices=sorted(OCCLUDE))
    p.add_argument("--threads", type=int, default=1)


def run_eval(args) -> int:
    torch.set_num_threads(args.threads)
    if not args.checkpoint:
        print("error: eval textlift needs --checkpoint PATH (written by train textlift --save PATH)")
        return 2
    try:
        model = load_textlift(args.checkpoint, args.device)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}")
        return 2
    _, _, test, tt = study_data(args.landmarks, args.synth_segments, test_landmarks=args.test_landmarks)
    res = evaluate(model, test, tt, args.occlude, args.device)
    cfg = model.cfg
    print(f"textlift {cfg.align} T={cfg.window} {'causal' if cfg.causal else 'centred'}: MPJPE {res['mpjpe_mm']} mm, "
          f"PA-MPJPE {res['pa_mpjpe_mm']} mm ({res['n_frames']} frames, {res['n_sequences']} sequences)")
    print(json.dumps({"name": "textlift_eval", "config": cfg.to_dict(), **res}))
    return 0
