"""`coach` sub-command (headless coaching) and `eval coach` (the coach measured on rendered clips).

    python main.py coach --target tree --video in.mp4 --out report.json [--routine FILE] [--strictness standard]
                         [--true-poses FILE.npz] [--corrector auto|rules|learned] [--mirror] [--report-dir DIR]
    python main.py eval coach [--clips DIR] [--true-pose] [--capture] [--limit N] [--json OUT]

``coach`` runs the same :class:`~core_models.coach.CoachEngine` as the GUI over a video / image folder (through the
capture pipeline) or over known poses (``--true-poses``: a clip's ``.poses.npz`` or any AMASS-style pose file), prints
the instruction timeline and writes the JSON report (``--report-dir`` also writes the ``.npz`` of best poses, the
PNG and the HTML summary). ``eval coach`` renders nothing: make the clips first with
``python tools/render_coach_clips.py`` (see there for the ground truth).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

#: no tensor loop of its own: the capture regressor, corrector and judge place themselves on the device
DEVICE_CLEAN = True

DEFAULT_CLIPS = Path.home() / ".cache" / "posetailor" / "coach_clips"


def register(sub) -> None:
    p = sub.add_parser("coach", help="headless coach: a video / image folder against a target pose or routine",
                       description="Coach a video (or known poses) against a library target or a routine; prints "
                                   "the instruction timeline and writes a JSON report.")
    tg = p.add_mutually_exclusive_group(required=True)
    tg.add_argument("--target", help="library pose name (tree, warrior_ii, ...)")
    tg.add_argument("--routine", help="routine JSON file (a list of targets with hold times)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="video file")
    src.add_argument("--images", help="image folder")
    src.add_argument("--true-poses", help="known poses instead of capture (.npz)")
    p.add_argument("--out", required=True, help="report .json")
    p.add_argument("--report-dir", default=None, help="also write the .npz / .png / .html report files here")
    p.add_argument("--hold", type=float, default=20.0, help="hold time for --target (seconds)")
    p.add_argument("--strictness", default="standard", choices=("beginner", "standard", "advanced"))
    p.add_argument("--corrector", default="auto", choices=("auto", "rules", "learned"))
    p.add_argument("--mirror", action="store_true", help="the video is a mirror view (horizontally flipped)")
    p.add_argument("--regressor", default="auto")
    p.add_argument("--model", default="lite", choices=("lite", "full", "heavy"))
    p.add_argument("--measure", default="landmarks", choices=("landmarks", "pose"),
                   help="compare on MediaPipe's 3D landmarks (default) or on the regressed pose")
    p.set_defaults(func=_coach)


# ------------------------------------------------------------------------------------------ coach
def read_true_poses(path: str | Path):
    """(Pose batch, times) from a clip's ``.poses.npz`` (``poses`` (N,22,3) + ``times``) or an AMASS-style file."""
    from core_models.coach.targets import CoachError
    from core_models.pose import Pose

    p = Path(path)
    if not p.is_file():
        raise CoachError(f"no such pose file: {p}")
    try:
        with np.load(p, allow_pickle=False) as z:
            if "times" in z.files and "poses" in z.files and z["poses"].ndim == 3:
                full, times = z["poses"].astype(np.float32), z["times"].astype(np.float64)
                tr = z["transl"].astype(np.float32) if "transl" in z.files else np.zeros((len(full), 3), np.float32)
                return Pose.from_full(full, tr), times
    except (OSError, ValueError) as e:
        raise CoachError(f"cannot read {p}: {e}") from None
    from core_models.io.npz_pose import load_pose_npz

    try:
        pose, info = load_pose_npz(p)
    except ValueError as e:
        raise CoachError(str(e)) from None
    return pose, np.arange(len(pose.root_orient)) / float(info.get("fps") or 30.0)


def _routine(args):
    from core_models.coach import load_routine, target_from_library
    from core_models.coach.targets import single_routine

    return load_routine(args.routine) if args.routine else single_routine(target_from_library(args.target, args.hold))


def _coach(args) -> int:
    from core_models.coach import run_coach_detailed, run_poses
    from core_models.coach.targets import CoachError

    out = Path(args.out)
    try:
        if out.suffix.lower() != ".json":
            raise CoachError(f"--out must end in .json, got {out.name}")
        if not out.parent.is_dir():
            raise CoachError(f"folder {out.parent} does not exist")
        routine = _routine(args)
        if args.true_poses:
            poses, times = read_true_poses(args.true_poses)
            run = run_poses(poses, times, routine, strictness=args.strictness, corrector=args.corrector,
                            mirror=args.mirror)
        else:
            run = run_coach_detailed(args.video or args.images, routine, regressor=args.regressor, model=args.model,
                                     strictness=args.strictness, corrector=args.corrector, mirror=args.mirror,
                                     measure=args.measure)
        report = run.report
        out.write_text(json.dumps(report.to_dict(), indent=1))
        files = report.save(args.report_dir) if args.report_dir else {}
    except (CoachError, OSError) as e:
        print(f"coach: error: {e}", file=sys.stderr)
        return 2
    for x in report.timeline():
        print(f"{x['t']:7.1f} s  [{x['target']}] {x['text']}  ({x['source']})")
    for r in report.to_dict()["targets"]:
        best = "–" if r["best_similarity"] is None else f"{r['best_similarity']:.0f}"
        print(f"{r['name']}: best similarity {best}, held {r['hold_s']:.1f} / {r['hold_target_s']:g} s"
              + (" (complete)" if r["completed"] else ""))
    print(json.dumps({"name": "coach", "out": str(out), "instructions": len(report.timeline()),
                      "regressor": run.regressor, "files": {k: str(v) for k, v in files.items()}}))
    return 0


# ------------------------------------------------------------------------------------------ eval coach
def add_eval_args(p) -> None:
    p.add_argument("--clips", default=str(DEFAULT_CLIPS), help="folder of clips from tools/render_coach_clips.py")
    p.add_argument("--true-pose", action="store_true", help="only the true poses (no capture)")
    p.add_argument("--capture-only", action="store_true", help="only through capture")
    p.add_argument("--regressor", default="auto")
    p.add_argument("--model", default="lite", choices=("lite", "full", "heavy"))
    p.add_argument("--corrector", default="auto", choices=("auto", "rules", "learned"))
    p.add_argument("--strictness", default="standard", choices=("beginner", "standard", "advanced"))
    p.add_argument("--measure", default="landmarks", choices=("landmarks", "pose"),
                   help="through capture: compare on MediaPipe's 3D landmarks or on the regressed pose")
    p.add_argument("--depth-weight", type=float, default=None,
                   help="through capture: how much camera depth counts (default: compare.DEPTH_WEIGHT)")
    p.add_argument("--templates", default="captured", choices=("captured", "ideal"),
                   help="landmark measure: the target through the same capture path (cached) or its ideal landmarks")
    p.add_argument("--template-blend", type=float, default=None,
                   help="how much of the captured template's difference from the ideal target is used (default: "
                        "CoachEngine.template_blend)")
    p.add_argument("--limit", type=int, default=None, help="only the first N clips")
    p.add_argument("--shard", default=None, help="K/N: only every N-th clip starting at K (parallel runs)")
    p.add_argument("--json", default=None, help="also write the per-clip results here")


def run_eval(args) -> int:
    from core_models.coach.evaluate import evaluate_clips, print_summary

    clips = sorted(Path(args.clips).expanduser().glob("*.json"))
    if not clips:
        print(f"error: no clips in {args.clips}: render them with python tools/render_coach_clips.py --out "
              f"{args.clips}")
        return 2
    clips = clips[:args.limit] if args.limit else clips
    if args.shard:
        k, n = (int(x) for x in args.shard.split("/"))
        clips = clips[k::n]
    modes = ["true"] if args.true_pose else ["capture"] if args.capture_only else ["true", "capture"]
    results = {}
    for mode in modes:
        results[mode] = evaluate_clips(clips, mode, regressor=args.regressor, model=args.model,
                                       corrector=args.corrector, strictness=args.strictness, measure=args.measure,
                                       depth_weight=args.depth_weight, templates=args.templates,
                                       template_blend=args.template_blend)
    summary = print_summary(results)
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "clips": results}, indent=1, default=str))
    print(json.dumps({"name": "eval_coach", **summary}))
    return 0
