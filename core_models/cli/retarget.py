"""`retarget-check` sub-command: retargeting quality per motion-capture source folder.

    python main.py retarget-check --mocap ../shared/data/mocap [--per-source 3] [--json]

Samples clips (evenly over the sorted file list, reproducible) from every source folder (the top-level
folders of --mocap), retargets them onto the default SMPL-H rest skeleton and prints one row per source:
clips, frames, MPJPE (mm, mapped joints, after the height-ratio scale normalisation), % frames whose
output exceeds a joint limit by more than the tolerance, the largest output violation, and the same two
numbers for the raw solver output before the final clamp. The last line is one JSON object.
"""
from __future__ import annotations

import json
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("retarget-check", help="measure mocap → SMPL-H retargeting quality per source folder")
    p.add_argument("--mocap", required=True, help="data folder with one sub-folder per source")
    p.add_argument("--per-source", type=int, default=3, help="clips sampled per source (default 3)")
    p.add_argument("--max-frames", type=int, default=600, help="frames used per clip at most (default 600)")
    p.add_argument("--tol", type=float, default=2.0, help="joint-limit tolerance in degrees (default 2)")
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.add_argument("--body", choices=("default", "anny"), default="default",
                   help="rest skeleton to retarget onto: the default SMPL-H skeleton (the reported table) or the "
                        "Anny body's (what `data build` uses)")
    p.add_argument("--renders", default=None, metavar="DIR",
                   help="also write a visual-check sheet per source (first sampled clip): the body posed by the "
                        "retargeted frames with the source skeleton drawn over it in red")
    p.set_defaults(func=_run)


def _clips(folder: Path) -> list[Path]:
    """The motion files of a source folder — the same selection as the corpus build (licences, READMEs,
    manifests and skeleton tables are not clips)."""
    from core_models.data.corpus import is_motion_file

    return [p for p in sorted(folder.rglob("*")) if p.is_file() and is_motion_file(p)]


def _sample(files: list[Path], n: int) -> list[Path]:
    if n <= 0 or len(files) <= n:
        return files
    step = len(files) / n
    return [files[int(i * step + step / 2)] for i in range(n)]


def check_folder(root: Path, per_source: int = 3, max_frames: int = 600, tol: float = 2.0,
                 rest=None) -> list[dict]:
    from core_models.io import MotionImportError, load_motion
    from core_models.io.retarget import retarget, retarget_quality

    rows = []
    for src in sorted(p for p in root.iterdir() if p.is_dir()):
        files = _sample(_clips(src), per_source)
        if not files:
            continue
        frames, errs, viol, maxv, rawviol, rawmax, failed, secs = 0, [], [], 0.0, [], 0.0, [], 0.0
        errs_body = []
        for f in files:
            t = time.time()
            try:
                m = load_motion(f)
                if m.num_frames > max_frames:
                    m = m.slice(0, max_frames)
                r = retarget(m, rest_joints=rest, limit_tol_deg=tol)
                q = retarget_quality(r, rest_joints=rest, tol_deg=tol)
            except (MotionImportError, ValueError) as e:
                failed.append(f"{f.name}: {e}")
                continue
            secs += time.time() - t
            n = q["frames"]
            frames += n
            errs.append((q["mpjpe_mm"], n))
            errs_body.append((q["mpjpe_body_mm"], n))
            viol.append((q["frac_frames_violation"], n))
            rawviol.append((q["raw_frac_frames_violation"], n))
            maxv = max(maxv, q["max_violation_deg"])
            rawmax = max(rawmax, q["raw_max_violation_deg"])

        def wmean(v):
            return float(sum(a * n for a, n in v) / max(sum(n for _, n in v), 1)) if v else float("nan")

        rows.append({"source": src.name, "clips": len(errs), "frames": frames, "mpjpe_mm": wmean(errs),
                     "mpjpe_body_mm": wmean(errs_body),
                     "pct_frames_violation": 100 * wmean(viol), "max_violation_deg": maxv,
                     "raw_pct_frames_violation": 100 * wmean(rawviol), "raw_max_violation_deg": rawmax,
                     "tol_deg": tol, "seconds": round(secs, 2), "failed": failed,
                     "clip_files": [str(f.relative_to(root)) for f in files]})
    return rows


def _run(args) -> int:
    root = Path(args.mocap)
    if not root.is_dir():
        print(f"retarget-check: {root} is not a folder")
        return 2
    rest = None
    if args.body == "anny":
        from core_models.body import load_body

        rest = load_body("anny").skinning.rest_joints
    rows = check_folder(root, args.per_source, args.max_frames, args.tol, rest)
    if args.renders:
        for r in rows:
            if r["clip_files"]:
                out = render_check(root / r["clip_files"][0], Path(args.renders), r["source"], args.max_frames)
                print(f"[retarget-check] visual check: {out}")
    if not args.json:
        print(f"{'source':<14}{'clips':>6}{'frames':>8}{'MPJPE mm':>10}{'body mm':>9}{'%>tol':>8}{'max°':>7}"
              f"{'raw%>tol':>10}{'raw max°':>10}")
        for r in rows:
            print(f"{r['source']:<14}{r['clips']:>6}{r['frames']:>8}{r['mpjpe_mm']:>10.1f}"
                  f"{r['mpjpe_body_mm']:>9.1f}"
                  f"{r['pct_frames_violation']:>8.1f}{r['max_violation_deg']:>7.1f}"
                  f"{r['raw_pct_frames_violation']:>10.1f}{r['raw_max_violation_deg']:>10.1f}")
            for msg in r["failed"]:
                print(f"    failed: {msg}")
        print(f"(tolerance {args.tol}°; MPJPE over mapped joints after height-ratio scaling, pose on the SMPL-H "
              "skeleton with the source's segment lengths; 'body mm': the same pose on the body's own proportions, "
              "centred — includes the proportion mismatch)")
    summary = {"retarget_check": [{k: v for k, v in r.items() if k != "clip_files"} for r in rows]}
    print(json.dumps(summary))
    return 0 if rows and all(not r["failed"] for r in rows) else 1


def render_check(path: Path, out_dir: Path, tag: str, max_frames: int = 600, frames: int = 4,
                 size: int = 320) -> Path:
    """A sheet of ``frames`` evenly spaced frames (front and side views): the Anny body posed by the retargeted
    pose, the scale-normalised source joints (red dots, bones in red) projected with the same camera. Uses the
    headless renderer (EGL/OSMesa)."""
    import numpy as np
    from PIL import Image, ImageDraw

    from core_models import skeleton as sk
    from core_models.body import load_body
    from core_models.io import load_motion
    from core_models.io.retarget import retarget, retargeted_joints
    from core_models.render.offscreen import render_pose_image
    from core_models.render.scene import frame_camera

    body = load_body("anny")
    rest = body.skinning.rest_joints
    m = load_motion(path)
    if m.num_frames > max_frames:
        m = m.slice(0, max_frames)
    r = retarget(m, rest_joints=rest)
    idx = np.linspace(0, len(r.pose) - 1, frames).round().astype(int)
    # place the source skeleton at the body's pelvis (the solve skeleton has the source's proportions)
    Jsolve = retargeted_joints(r.pose, r.info.get("solve_rest"))
    Jbody = retargeted_joints(r.pose, rest)
    sheet = Image.new("RGB", (size * frames, size * 2), "white")
    for col, f in enumerate(idx):
        pose = r.pose[int(f)]
        verts = body.forward(pose).vertices
        src = r.target_positions[f] - Jsolve[f, 0] + Jbody[f, 0]
        for row, view in enumerate(("front", "side")):
            cam = frame_camera(np.concatenate([verts, src[r.mapped]]), view, 1.0)
            img = Image.fromarray(render_pose_image(body, pose, size=(size, size), view=view, camera=cam))
            vp = cam.projection_matrix(1.0) @ cam.view_matrix()
            h = np.concatenate([src, np.ones((22, 1))], 1) @ vp.T
            xy = np.stack([(h[:, 0] / h[:, 3] + 1) * size / 2, (1 - h[:, 1] / h[:, 3]) * size / 2], 1)
            d = ImageDraw.Draw(img)
            for j in range(1, sk.NUM_JOINTS):
                a = sk.PARENTS[j]
                while a > 0 and not r.mapped[a]:
                    a = sk.PARENTS[a]
                if r.mapped[j] and a >= 0 and r.mapped[a]:
                    d.line([tuple(xy[a]), tuple(xy[j])], fill=(220, 30, 30), width=2)
            for k in np.nonzero(r.mapped)[0]:
                x, y = xy[k]
                d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(220, 30, 30))
            d.text((4, 4), f"{tag} {path.name} frame {int(f)}, {view} camera", fill=(0, 0, 0))
            sheet.paste(img, (col * size, row * size))
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"retarget_{tag}.png"
    sheet.save(out)
    return out
