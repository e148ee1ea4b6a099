"""`export` sub-command: pose file (.npz, one pose or a sequence) or motion file (FBX, glTF/GLB, BVH, ...:
retargeted onto the body like File > Import motion capture) → FBX / GLB / BVH / NPZ."""
from __future__ import annotations

import sys
import time


def register(sub) -> None:
    p = sub.add_parser("export", help="export a pose or a pose sequence to FBX, GLB, BVH or NPZ",
                       description="Export a pose file (.npz; a multi-frame file becomes an animation) to a file "
                       "other tools open: FBX (skinned mesh + skeleton + animation), GLB, BVH or NPZ.")
    p.add_argument("--pose", required=True,
                   help="input: a pose file (.npz, AMASS keys) or a motion file to retarget onto the body "
                   "(.fbx, .glb/.gltf, .bvh, .amc, ...)")
    p.add_argument("--out", required=True, help="output file (.fbx, .glb, .bvh or .npz)")
    p.add_argument("--format", choices=("fbx", "glb", "bvh", "npz"), default=None,
                   help="output format (default: from the --out extension)")
    p.add_argument("--rig", choices=("smplh", "mixamo"), default="smplh",
                   help="bone names: SMPL-H joint names or Mixamo-style (mixamorig:Hips, ...)")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate (default: the input file's mocap_framerate, else 30)")
    p.add_argument("--body", choices=("anny", "smplh"), default=None,
                   help="body model for FBX/GLB (default: the app's setting, else anny)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--ground", dest="ground", action="store_true", default=True,
                   help="FBX/GLB/BVH: move the body up so the rest pose's feet are at y=0, the floor of DCC tools "
                   "(the default, as in the GUI's export dialog)")
    g.add_argument("--no-ground", dest="ground", action="store_false",
                   help="keep PoseTailor's own origin (rest pelvis at y=0, feet below the floor)")
    p.add_argument("--frames", default=None, metavar="START:STOP[:STEP]", help="export a slice of the frames")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_export)


def _body_backend(name: str | None) -> str:
    if name:
        return name
    try:
        from core_models.settings import load_settings

        return load_settings().get("body_backend", "anny") or "anny"
    except Exception:
        return "anny"


def _load_body(name: str):
    from core_models.body import load_body

    if name == "smplh":
        try:
            from core_models.settings import load_settings

            s = load_settings()
            path = s.get("smplh_model_path") or s.get("smplh_path")
        except Exception:
            path = None
        return load_body("smplh", **({"model_path": path} if path else {}))
    return load_body(name)


def _is_motion_file(path) -> bool:
    from pathlib import Path

    from core_models.io import MOTION_EXTENSIONS

    ext = Path(str(path)).suffix.lower()
    return ext in MOTION_EXTENSIONS and ext not in (".npz",)


def _import_motion(path, body):
    """A motion file retargeted onto ``body`` (every frame, up to 120 fps) → (poses, fps)."""
    from core_models.io.retarget import import_clip

    clip = import_clip(path, rest_joints=body.skinning.rest_joints, max_fps=120.0)
    return clip.poses, clip.fps


def _export(args) -> int:
    from core_models.export import ExportError, export_poses, resolve_path_and_format
    from core_models.export.npz import read_npz_poses

    t0 = time.perf_counter()
    try:
        out, fmt = resolve_path_and_format(args.out, args.format)
        body = None
        if _is_motion_file(args.pose):
            body = _load_body(_body_backend(args.body))
            poses, file_fps = _import_motion(args.pose, body)
        else:
            poses, file_fps = read_npz_poses(args.pose)
        if poses.batch_shape == ():
            poses = poses[None]
        if args.frames:
            try:
                parts = [int(x) if x else None for x in args.frames.split(":")]
                poses = poses[slice(*parts)]
            except (ValueError, TypeError):
                raise ExportError(f"--frames: expected START:STOP[:STEP], got {args.frames!r}") from None
        fps = args.fps or file_fps or 30.0
        if fmt in ("fbx", "glb", "bvh") and body is None:
            body = _load_body(_body_backend(args.body))
        path = export_poses(out, poses, body, format=fmt, rig=args.rig, fps=fps, ground=args.ground)
    except ExportError as e:
        print(f"export: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # pose-file and body-model errors carry their own messages
        print(f"export: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        n = len(poses)
        print(f"wrote {path} ({fmt}, {n} frame{'s' if n != 1 else ''} @ {fps:g} fps, rig {args.rig}, "
              f"{time.perf_counter() - t0:.2f} s)")
    return 0
