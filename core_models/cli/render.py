"""`render` sub-command: a pose file → a PNG, headless (EGL, falling back to OSMesa).

    python main.py render --pose X.npz --out img.png [--view front|side|back|three_quarter|top]
                          [--size 512x512] [--frame 0] [--markers] [--no-grid] [--inset] [--transparent]
                          [--reference IMAGE [--reference-opacity 0.6] [--reference-plane]]
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VIEWS = ("front", "side", "back", "three_quarter", "top")
_FALLBACK_ENV = "POSETAILOR_RENDER_FALLBACK"


def register(sub) -> None:
    p = sub.add_parser("render", help="render a pose to a PNG image (headless)",
                       description="Render one frame of a pose file with the Anny body to a PNG, without a display.")
    p.add_argument("--pose", required=True, help="pose file (.npz, AMASS layout; z-up unless it says up_axis='y')")
    p.add_argument("--out", required=True, help="output image (.png)")
    p.add_argument("--view", default="front", choices=VIEWS)
    p.add_argument("--size", default="512x512", help="WIDTHxHEIGHT in pixels (default 512x512)")
    p.add_argument("--frame", type=int, default=0, help="frame index for multi-frame files (default 0)")
    p.add_argument("--markers", action="store_true", help="draw joint markers")
    p.add_argument("--no-grid", action="store_true", help="no ground grid")
    p.add_argument("--inset", action="store_true", help="add the side-view inset")
    p.add_argument("--transparent", action="store_true", help="keep the alpha channel (RGBA PNG)")
    p.add_argument("--reference", help="a reference picture drawn behind the body (PNG/JPEG/WebP/BMP)")
    p.add_argument("--reference-opacity", type=float, default=0.6, help="its opacity 0..1 (default 0.6)")
    p.add_argument("--reference-plane", action="store_true",
                   help="as a camera-facing plane 1 m behind the body instead of the letterboxed background")
    p.set_defaults(func=_render)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 512x512, got {text!r}") from None
    if not (8 <= w <= 8192 and 8 <= h <= 8192):
        raise ValueError(f"--size {w}x{h} out of range (8..8192 per side)")
    return w, h


def read_pose_file(path: str, frame: int = 0, rest_pelvis=None):
    """One Pose (frame ``frame``) from a pose .npz or a library / session .json through the shared reader
    :func:`core_models.io.pose_file.read_pose_file` (AMASS z-up files are converted; never unpickles)."""
    from core_models.io.pose_file import read_pose_file as read

    return read(path, frame=frame, rest_pelvis=rest_pelvis).pose


def _reference(args):
    """The --reference picture as a ReferenceImage (None without the option); ValueError says why not."""
    if not getattr(args, "reference", None):
        return None
    from core_models.render.reference_image import ReferenceImage, ReferenceSettings

    s = ReferenceSettings(mode="plane" if args.reference_plane else "background", opacity=args.reference_opacity)
    return ReferenceImage.from_file(args.reference, s)


def _render(args) -> int:
    from core_models.pose import PoseError

    try:
        size = parse_size(args.size)
        pose = read_pose_file(args.pose, args.frame)
        reference = _reference(args)
    except (PoseError, ValueError, OSError) as e:  # PoseFileError and ReferenceImageError are ValueErrors
        print(f"render: error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        print(f"render: error: --out must be a .png file, got {out.name!r}", file=sys.stderr)
        return 2
    if not out.parent.exists():
        print(f"render: error: folder {out.parent} does not exist", file=sys.stderr)
        return 2
    try:
        from core_models.body import load_body
        from core_models.render.offscreen import render_pose_image

        body = load_body("anny")
        img = render_pose_image(body, pose, size=size, view=args.view, markers=args.markers,
                                grid=not args.no_grid, inset=args.inset, alpha=args.transparent, reference=reference)
    except Exception as e:
        if os.environ.get("PYOPENGL_PLATFORM", "egl") == "egl" and not os.environ.get(_FALLBACK_ENV):
            print(f"render: EGL rendering failed ({e.__class__.__name__}: {e}); retrying with OSMesa",
                  file=sys.stderr)
            env = dict(os.environ, PYOPENGL_PLATFORM="osmesa", **{_FALLBACK_ENV: "1"})
            main_py = Path(__file__).resolve().parents[2] / "main.py"
            argv = [a for a in sys.argv[1:]] if sys.argv and sys.argv[0].endswith("main.py") else None
            if argv is None:
                print("render: error: cannot re-run for the OSMesa fallback (not started from main.py)",
                      file=sys.stderr)
                return 1
            return subprocess.call([sys.executable, str(main_py), *argv], env=env)
        print(f"render: error: rendering failed: {e.__class__.__name__}: {e}", file=sys.stderr)
        return 1
    from PIL import Image

    tmp = out.with_name(out.name + ".part")
    Image.fromarray(img).save(tmp, format="PNG")
    os.replace(tmp, out)
    print(f"render: wrote {out} ({size[0]}x{size[1]}, view {args.view})")
    return 0
