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
    p.set_defaults(func=_run)


def _clips(folder: Path) -> list[Path]:
    out = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        ext = p.suffix.lower()
        if ext in (".bvh", ".amc"):
            out.append(p)
        elif ext in (".txt", ".csv", ".json") and p.name.lower() not in ("license.txt", "readme.txt",
                                                                        "skeleton.json"):
            out.append(p)
    return out


def _sample(files: list[Path], n: int) -> list[Path]:
    if n <= 0 or len(files) <= n:
        return files
    step = len(files) / n
    return [files[int(i * step + step / 2)] for i in range(n)]


def check_folder(root: Path, per_source: int = 3, max_frames: int = 600, tol: float = 2.0) -> list[dict]:
    from core_models.io import MotionImportError, load_motion
    from core_models.io.retarget import retarget, retarget_quality

    rows = []
    for src in sorted(p for p in root.iterdir() if p.is_dir()):
        files = _sample(_clips(src), per_source)
        if not files:
            continue
        frames, errs, viol, maxv, rawviol, rawmax, failed, secs = 0, [], [], 0.0, [], 0.0, [], 0.0
        for f in files:
            t = time.time()
            try:
                m = load_motion(f)
                if m.num_frames > max_frames:
                    m = m.slice(0, max_frames)
                r = retarget(m, limit_tol_deg=tol)
                q = retarget_quality(r, tol_deg=tol)
            except (MotionImportError, ValueError) as e:
                failed.append(f"{f.name}: {e}")
                continue
            secs += time.time() - t
            n = q["frames"]
            frames += n
            errs.append((q["mpjpe_mm"], n))
            viol.append((q["frac_frames_violation"], n))
            rawviol.append((q["raw_frac_frames_violation"], n))
            maxv = max(maxv, q["max_violation_deg"])
            rawmax = max(rawmax, q["raw_max_violation_deg"])

        def wmean(v):
            return float(sum(a * n for a, n in v) / max(sum(n for _, n in v), 1)) if v else float("nan")

        rows.append({"source": src.name, "clips": len(errs), "frames": frames, "mpjpe_mm": wmean(errs),
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
    rows = check_folder(root, args.per_source, args.max_frames, args.tol)
    if not args.json:
        print(f"{'source':<14}{'clips':>6}{'frames':>8}{'MPJPE mm':>10}{'%>tol':>8}{'max°':>7}"
              f"{'raw%>tol':>10}{'raw max°':>10}")
        for r in rows:
            print(f"{r['source']:<14}{r['clips']:>6}{r['frames']:>8}{r['mpjpe_mm']:>10.1f}"
                  f"{r['pct_frames_violation']:>8.1f}{r['max_violation_deg']:>7.1f}"
                  f"{r['raw_pct_frames_violation']:>10.1f}{r['raw_max_violation_deg']:>10.1f}")
            for msg in r["failed"]:
                print(f"    failed: {msg}")
        print(f"(tolerance {args.tol}°; MPJPE over mapped joints after height-ratio scaling)")
    summary = {"retarget_check": [{k: v for k, v in r.items() if k != "clip_files"} for r in rows]}
    print(json.dumps(summary))
    return 0 if rows and all(not r["failed"] for r in rows) else 1
