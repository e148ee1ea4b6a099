"""`edit` sub-command: apply a text instruction to a pose file with the trained editor (headless).

    python main.py edit --pose in.npz --text "raise your left arm" [--samples 8] --out out.npz
                        [--frame 0] [--strength 1.0] [--free-global] [--move-unnamed] [--seed 0]
                        [--compose clauses|whole|rewrite]

The instruction goes through the same sentence composer as the app (``core_models.text.compose.edit_sentence``:
clauses, hold clauses, amounts; ``--compose whole`` sends the raw text to the editor at once). The output file
holds the edit as frame 0 followed by the ``--samples`` alternatives (frames 1..N), in the input file's up-axis
convention, with its betas / gender / frame rate. The JSON line lists the clauses as understood and the ones it
could not use (with why).
"""
from __future__ import annotations

import json
import sys

from core_models.device import add_device_arg


def register(sub) -> None:
    p = sub.add_parser("edit", help="edit a pose with a text instruction (trained PoseFix-style editor)",
                       description="Apply a natural-language instruction to a pose: mean result + alternatives.")
    p.add_argument("--pose", required=True, help="input pose file (.npz, AMASS layout)")
    p.add_argument("--text", required=True, help='instruction, e.g. "lift your right knee and lean back"')
    p.add_argument("--out", required=True, help="output .npz: frame 0 = mean edit, frames 1..N = alternatives")
    p.add_argument("--samples", type=int, default=8, help="number of alternative samples (default 8)")
    p.add_argument("--frame", type=int, default=0, help="frame of the input file to edit (default 0)")
    p.add_argument("--strength", type=float, default=1.0, help="blend between the input (0) and the edit (1)")
    p.add_argument("--free-global", action="store_true",
                   help="let the edit change the facing direction (default: keep the input's heading)")
    p.add_argument("--move-unnamed", action="store_true",
                   help="let the edit move body parts the text does not name (default: they keep their rotation "
                        "for instructions about limbs / the head only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compose", default="clauses", choices=("clauses", "whole", "rewrite"),
                   help="clauses (default, as the app): clause by clause with holds and amounts; whole: the raw "
                        "text to the editor at once; rewrite: the understood clauses as one editor text")
    add_device_arg(p, default=None, what="the editor")
    p.set_defaults(func=_edit)


def _edit(args) -> int:
    import torch

    torch.set_num_threads(1)
    from core_models.io.npz_pose import PoseFileError, load_pose_npz, save_pose_npz
    from core_models.device import DeviceError
    from core_models.nets.common.weights import WeightsError
    from core_models.nets.editor import load_editor
    from core_models.pose import Pose, interpolate
    from core_models.text.compose import edit_sentence

    if args.samples < 0 or args.samples > 64:
        print("error: --samples must be between 0 and 64", file=sys.stderr)
        return 2
    try:
        poses, info = load_pose_npz(args.pose)
    except PoseFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not (0 <= args.frame < len(poses)):
        print(f"error: --frame {args.frame} out of range (file has {len(poses)} frames)", file=sys.stderr)
        return 2
    try:
        ed = load_editor(device=args.device)
    except (WeightsError, DeviceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    start = poses[args.frame]
    res = edit_sentence(ed, start, args.text, args.compose, hold=not args.move_unnamed, n_samples=args.samples,
                        keep_global=not args.free_global, seed=args.seed)
    s = min(max(float(args.strength), 0.0), 1.0)
    alts = res.samples
    edits = [res.pose] + ([alts[i] for i in range(len(alts))] if alts is not None else [])
    out = Pose.stack([e if s >= 1.0 else interpolate(start, e, s) for e in edits])
    try:
        save_pose_npz(args.out, out, fps=float(info.get("fps", 30.0) or 30.0), betas=info.get("betas"),
                      gender=str(info.get("gender", "neutral")), up_axis=str(info.get("up_axis", "z")))
    except PoseFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if res.notice:
        print(f"notice: {res.notice}", file=sys.stderr)
    for u in res.unused:
        print(f"not used: \"{u['text']}\" ({u['reason']})", file=sys.stderr)
    print(json.dumps({"name": "edit", "out": str(args.out), "frames": len(out), "notice": res.notice,
                      "clauses": [c["text"] for c in res.understood if c["role"] == "action"],
                      "understood": res.understood, "unused": res.unused}))
    return 0
