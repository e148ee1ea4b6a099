"""Build the shipped coach target templates: the 17 library poses × the lite / full / heavy MediaPipe landmarker,
each rendered on the default body from the 7 azimuths of ``core_models.coach.templates.VIEWS_DEG`` and run through
that landmarker (IMAGE mode), into one small versioned ``.npz`` that the coach looks up before its cache:

    .venv/bin/python tools/build_coach_templates.py [--out resources/coach_templates/library_templates_v1.npz]
                                                    [--variants lite,full,heavy] [--poses tree,chair]

Every pose is rendered once and the pictures go through the three landmarkers. The file holds plain arrays only
(format name, template version, pose keys = ``templates.pose_key``, pose names, variants, offsets, world
landmarks float32, hip angles, view azimuths); a pose where MediaPipe found nobody in any view is stored with no
views (the coach then uses the ideal landmarks and says so). Bump ``templates.VERSION`` when the rendering set-up
changes, and rebuild.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from core_models.coach import templates as T
    from core_models.coach.targets import library_names, target_from_library

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(T.SHIPPED))
    ap.add_argument("--variants", default=",".join(T.VARIANTS))
    ap.add_argument("--poses", default=None, help="comma-separated library names (default: all)")
    args = ap.parse_args(argv)
    from core_models.body import load_body
    from core_models.capture.landmarks import LandmarkDetector
    from core_models.render.offscreen import shared_renderer

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in T.VARIANTS]
    if bad:
        print(f"error: unknown variant(s) {bad}; choose from {T.VARIANTS}", file=sys.stderr)
        return 2
    names = args.poses.split(",") if args.poses else library_names()
    body, renderer = load_body("anny"), shared_renderer()
    detectors = {v: LandmarkDetector(v, mode="image") for v in variants}
    entries = []
    t0 = time.perf_counter()
    try:
        for name in names:
            pose = target_from_library(name).pose
            images = T.render_views(pose, T.VIEWS_DEG, renderer, body)
            for v in variants:
                try:
                    t = T.detect_views(images, detectors[v])
                except RuntimeError:
                    t = None
                entries.append((name, v, pose, t))
                print(f"{name:<22} {v:<6} {0 if t is None else len(t.world)} views", flush=True)
    finally:
        for d in detectors.values():
            d.close()
    out = T.write_shipped(args.out, entries)
    print(json.dumps({"name": "build_coach_templates", "out": str(out), "entries": len(entries),
                      "bytes": out.stat().st_size, "seconds": round(time.perf_counter() - t0, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
