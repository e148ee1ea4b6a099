"""``python main.py data landmarks`` (the real-MediaPipe landmark dataset) and ``python main.py eval capture``
(renders → MediaPipe → pose recovery, against the rendered truth).

    python main.py data landmarks --name real_v1 [--n-still 24000] [--n-seq-clips 60] [--variants lite,full]
                                  [--workers 2] [--resume]
    python main.py eval capture [--poses library|test|DIR] [--views front,three_quarter]
                                [--regressor auto|geometric|...] [--model auto|lite|full|heavy]
                                [--refine | --no-refine] [--json OUT]
    python main.py eval capture --photos [--refine | --no-refine] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: no tensor loop of its own: the capture regressors it scores place themselves on the device
DEVICE_CLEAN = True


def add_landmarks_parser(dsub) -> None:
    """``data landmarks`` under the ``data`` command (called by :mod:`core_models.cli.data`)."""
    p = dsub.add_parser("landmarks", help="render corpus/coaching poses and run the real MediaPipe landmarker "
                                          "on them (training data for the capture models)")
    p.add_argument("--name", required=True, help="dataset name (folder under ~/.cache/posetailor/landmarks)")
    p.add_argument("--n-still", type=int, default=24000, help="still images (default 24000)")
    p.add_argument("--n-seq-clips", type=int, default=60, help="video sequences from corpus clips (default 60)")
    p.add_argument("--seq-frames", type=int, default=96, help="frames per sequence (>= 96, default 96)")
    p.add_argument("--variants", default="lite,full", help="landmark models, comma-separated (lite,full,heavy); "
                                                           "heavy takes 10%% of the rows when listed")
    p.add_argument("--coaching-fraction", type=float, default=0.2,
                   help="fraction of the stills that are coaching poses (train split; default 0.2)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (one GL context each)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="finish an interrupted build (same options)")
    p.add_argument("--corpus-dir", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--root", default=None, help="datasets folder (default ~/.cache/posetailor/landmarks)")
    p.set_defaults(func=_landmarks)


def _landmark_settings(args):
    from core_models.capture.landmarks import VARIANTS
    from core_models.capture.realdata import BuildSettings

    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants:
        raise ValueError(f"--variants: unknown {', '.join(bad) or '(none given)'}; use lite, full, heavy")
    if args.n_still < 0 or args.n_seq_clips < 0 or args.n_still + args.n_seq_clips == 0:
        raise ValueError("--n-still and --n-seq-clips must be >= 0 and not both 0")
    if args.seq_frames < 96:
        raise ValueError("--seq-frames must be >= 96")
    if not 0.0 <= args.coaching_fraction <= 1.0:
        raise ValueError("--coaching-fraction must be in [0, 1]")
    if args.workers < 1:
        raise ValueError("--workers must be >= 1")
    return BuildSettings(n_still=args.n_still, n_seq_clips=args.n_seq_clips, seq_frames=args.seq_frames,
                         variants=variants, coaching_fraction=args.coaching_fraction, seed=args.seed)


def _landmarks(args) -> int:
    from core_models.capture.landmarks import LandmarkerError
    from core_models.capture.realdata import LandmarkDataError, build_landmark_dataset

    try:
        settings = _landmark_settings(args)
        meta = build_landmark_dataset(args.name, settings, workers=args.workers, resume=args.resume,
                                      root=args.root, corpus_dir=args.corpus_dir,
                                      log=lambda m: print(m, file=sys.stderr, flush=True))
    except (ValueError, LandmarkDataError, LandmarkerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"name": "landmarks", "dataset": args.name, "rows": meta["rows"],
                      "detection_rate": round(meta["detection_rate"], 4), "seconds": round(meta["seconds"], 1),
                      "images_per_s": round(meta["images_per_s"], 2)}))
    return 0


# --- eval capture ------------------------------------------------------------------------------------------------

def add_eval_args(p) -> None:
    p.description = ("Render poses, run the real MediaPipe landmarker, recover them (per-image mode, no smoothing) "
                     "and report PA-MPJPE / MPJPE / per-part errors and detection rate per view, with the "
                     "geometric fallback and a constant-pose baseline; --photos: 2D reprojection error on real "
                     "photos and video.")
    p.add_argument("--poses", default="library", help="library (the 17 shipped poses), test (poses from test-split "
                                                      "clips of the corpus) or a folder of pose files")
    p.add_argument("--views", default="front,three_quarter", help="comma-separated render views")
    p.add_argument("--regressor", default="auto", help="auto (the live default), geometric, or a registered name")
    p.add_argument("--model", default="auto", choices=("auto", "lite", "full", "heavy", "heavy+full"),
                   help="MediaPipe pose model; auto (default): what capture uses — heavy+full per image (renders, "
                        "photos), lite for the video")
    p.add_argument("--n-test", type=int, default=200, help="poses drawn for --poses test (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the --poses test draw")
    p.add_argument("--corpus-dir", default=None, help="corpus folder for --poses test")
    p.add_argument("--photos", action="store_true", help="real photos + video: 2D reprojection error instead")
    p.add_argument("--video-frames", type=int, default=120, help="frames of the real video for --photos")
    p.add_argument("--refine", action=argparse.BooleanOptionalAction, default=False,
                   help="also score the regressor followed by the 2D fitting step (row '<regressor>+fit', same "
                        "landmarks; what per-image capture runs by default); the regressor row stays without it")
    p.add_argument("--fit-ablation", action="store_true",
                   help="with --refine: also the row '<regressor>+fit-2d' (the 2D fit without the 3D step onto the "
                        "lifter's joints), same landmarks")
    p.add_argument("--json", default=None, help="write every number (and per-pose results) to this file")


def _table(res: dict) -> str:
    lines = ["| regressor | view | detected | PA-MPJPE | MPJPE | arms | legs | torso | head |",
             "|---|---|---|---|---|---|---|---|---|"]

    def f(x):
        return "–" if x is None else f"{x:.1f}"
    for name, per_view in res["rows"].items():
        for v, s in per_view.items():
            lines.append(f"| {name} | {v} | {s['detected']}/{s['total']} | {f(s['pa_mpjpe'])} | {f(s['mpjpe'])} | "
                         f"{f(s['pa_arms'])} | {f(s['pa_legs'])} | {f(s['pa_torso'])} | {f(s['pa_head'])} |")
    return "\n".join(lines)


def _photo_table(res: dict) -> str:
    lines = ["| regressor | input | frames | reprojection px | % of body height |", "|---|---|---|---|---|"]
    for name, per in res["rows"].items():
        for inp, s in per.items():
            px = "–" if s["reproj_px"] is None else f"{s['reproj_px']:.1f}"
            pct = "–" if s["reproj_pct_height"] is None else f"{s['reproj_pct_height']:.1f}"
            lines.append(f"| {name} | {inp} | {s['frames_scored']} | {px} | {pct} |")
    return "\n".join(lines)


def run_eval(args) -> int:
    from core_models.capture.evaluate import CaptureEvalError, evaluate_capture, evaluate_photos
    from core_models.capture.landmarks import LandmarkerError

    import os

    from core_models.device import ENV_VAR

    if getattr(args, "device", None):  # the learned regressor reads its device from the environment (as capture)
        os.environ[ENV_VAR] = str(args.device)

    def log(m: str) -> None:
        print(m, file=sys.stderr, flush=True)
    views = tuple(v.strip() for v in args.views.split(",") if v.strip())
    try:
        if args.photos:
            res = evaluate_photos(args.regressor, args.model, args.video_frames, log=log, refine=args.refine)
            print(_photo_table(res))
        else:
            res = evaluate_capture(args.poses, views, args.regressor, args.model, n_test=args.n_test,
                                   seed=args.seed, corpus_dir=args.corpus_dir, log=log, refine=args.refine,
                                   fit_ablation=args.fit_ablation)
            print(_table(res))
    except (CaptureEvalError, LandmarkerError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    print(json.dumps({"name": "eval_capture", "settings": res["settings"], "rows": res["rows"]}))
    return 0
