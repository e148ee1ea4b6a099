"""`correct` sub-command: how to move from pose A to pose B, as coaching text.

    python main.py correct --a a.npz --b b.npz [--method learned|rules|both] [--decode greedy|beam]
                           [--frame-a 0] [--frame-b 0] [--json]

``learned`` is the trained corrector (resources/weights/corrector.pt), ``rules`` the deterministic rule-based
comparative captioner (``captioning.compare.correct``). Each pose is compared in its own facing direction;
``--keep-heading`` expresses B in A's heading frame instead, so a turn of the body is part of the correction.
"""
from __future__ import annotations

import json

from core_models.device import add_device_arg


def register(sub) -> None:
    p = sub.add_parser("correct", help="correction text: how to move from pose A to pose B",
                       description="Generate coaching text that turns pose A into pose B.")
    p.add_argument("--a", required=True, help="pose A (.npz, the current / student pose)")
    p.add_argument("--b", required=True, help="pose B (.npz, the target pose)")
    p.add_argument("--method", default="both", choices=["learned", "rules", "both"])
    p.add_argument("--decode", default="greedy", choices=["greedy", "beam"], help="decoding for the learned text")
    p.add_argument("--frame-a", type=int, default=0)
    p.add_argument("--frame-b", type=int, default=0)
    p.add_argument("--keep-heading", action="store_true",
                   help="B keeps its facing relative to A (a turn becomes part of the correction); by default "
                        "each pose is compared in its own facing direction")
    p.add_argument("--top-joints", type=int, default=3, help="also list the joints that differ most")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    add_device_arg(p, default=None, what="the learned corrector")
    p.set_defaults(func=_correct)


def _correct(args) -> int:
    from core_models import skeleton as sk
    from core_models.cli.render import read_pose_file
    from core_models.nets.common.weights import WeightsError
    from core_models.device import DeviceError, resolve_device
    from core_models.nets.corrector import correction_texts, load_corrector, normalize_pair, pair_joint_displacement
    from core_models.pose import PoseError

    try:
        a = read_pose_file(args.a, args.frame_a)
        b = read_pose_file(args.b, args.frame_b)
    except (OSError, ValueError, PoseError) as e:
        print(f"error: {e}")
        return 2
    a, b = normalize_pair(a, b, args.keep_heading)
    try:
        corrector = load_corrector(device=resolve_device(args.device)) if args.method != "rules" else None
        texts = correction_texts(a, b, method=args.method, corrector=corrector, decode=args.decode)
    except DeviceError as e:
        print(f"error: {e}")
        return 2
    except WeightsError as e:
        print(f"error: {e}")
        if args.method == "both":
            print("(use --method rules for the rule-based text, which needs no weights)")
        return 2
    d = pair_joint_displacement(a, b)
    top = [(sk.JOINT_NAMES[j], float(d[j])) for j in d.argsort()[::-1][:max(0, args.top_joints)] if d[j] > 0.01]
    if args.json:
        print(json.dumps({**texts, "joints": {n: round(v, 4) for n, v in top}}))
        return 0
    for k in ("learned", "rules"):
        if k in texts:
            print(f"{k + ':':<9}{texts[k]}")
    if top:
        print("differs most: " + ", ".join(f"{n} ({100 * v:.0f} cm)" for n, v in top))
    return 0
