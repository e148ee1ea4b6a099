"""Where the capture error comes from: the live regressor on **exact** landmarks (issue 14 diagnostic).

The same poses ``eval capture`` renders (``--poses library|test|DIR``) go through the synthetic landmark generator
(``core_models.capture.synth``) with every corruption off — the 33 landmarks of the posed body projected with a
pinhole camera at the render views' azimuth / elevation (front 0° / 5°, three-quarter 35° / 15°, 3.2 m, the
renderer's 35° vertical field of view at 640×480), MediaPipe-like world landmarks exact — and, for contrast, with
the calibrated noise. Per view it reports PA-MPJPE (mm, 22 joints, similarity-aligned as ``eval capture``) of

* the regressor's pose (``direct`` = the live default, or ``--regressor``),
* its lifted 3D joints (the lifter's own output before the pose head; direct lifter only),
* the pose after the 3D step onto those joints (``fitting.fit_to_lifted``, the per-image setting),
* the geometric solver (it reads the world landmarks directly).

Compared with ``eval capture`` on the same poses (real MediaPipe on the renders), the gap is what MediaPipe's
landmarks cost; the exact row is what the regressor itself gives away on these poses.
``python tools/diagnose_capture_oracle.py --poses library [--json OUT]``
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VIEWS = {"front": (0.0, 5.0), "three_quarter": (35.0, 15.0)}  # (azimuth, elevation) as core_models.render.camera


def _cameras(n: int, az: float, el: float):
    from core_models.capture import synth
    from core_models.pose import euler_to_matrix

    R = euler_to_matrix(np.tile(np.radians([0.0, el, -az]), (n, 1)), "ZXY", degrees=False)
    size = np.tile([640.0, 480.0], (n, 1))
    hfov = 2 * np.arctan(np.tan(np.radians(17.5)) * 4 / 3)
    focal = np.full(n, 320.0 / np.tan(hfov / 2))
    return synth.Cameras(np.asarray(R, np.float64), np.tile([0.0, 0.0, -3.2], (n, 1)), focal, size / 2, size,
                         np.full(n, np.radians(az)))


def _clean_config():
    from core_models.capture import synth

    return synth.SynthConfig(sigma=np.zeros_like(synth.CALIBRATED_SIGMA), noise_scale=(1.0, 1.0), outlier_prob=0.0,
                             swap_prob=0.0, occluder_prob=0.0, world_sigma_m=(0.0, 0.0, 0.0),
                             world_scale=(1.0, 1.0), vis_seen=(1.0, 1.0))


def _score_view(obs, names, truths, body, reg, geo) -> dict[str, dict[str, float]]:
    from core_models.capture.evaluate import _bare, joint_errors
    from core_models.capture.fitting import fit_to_lifted

    rows: dict[str, dict[str, float]] = {"pose": {}, "lifted": {}, "pose+3d": {}, "geometric": {}}
    for i, name in enumerate(names):
        lm = obs.landmarks(i)
        reg.reset()
        pose, _ = reg.predict(lm)
        rows["pose"][name] = float(joint_errors(body.joints(_bare(pose)), truths[i])[0].mean())
        lifted = getattr(reg, "last_lifted", None)
        if lifted is not None:
            rows["lifted"][name] = float(joint_errors(lifted, truths[i])[0].mean())
            p3 = fit_to_lifted(pose, lifted).pose
            rows["pose+3d"][name] = float(joint_errors(body.joints(_bare(p3)), truths[i])[0].mean())
        g = geo.predict(lm)[0]
        rows["geometric"][name] = float(joint_errors(body.joints(_bare(g)), truths[i])[0].mean())
    return {k: v for k, v in rows.items() if v}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--poses", default="library", help="library, test or a folder of pose files (as eval capture)")
    ap.add_argument("--corpus-dir", default=None, help="corpus folder for --poses test")
    ap.add_argument("--regressor", default="direct", help="capture representation (direct, embroider, aligner)")
    ap.add_argument("--json", default=None, help="write per-pose numbers here")
    args = ap.parse_args(argv)
    import torch

    from core_models.body import load_body
    from core_models.capture import synth
    from core_models.capture.evaluate import pose_set
    from core_models.capture.pipeline import GeometricRegressor
    from core_models.capture.regressor import LearnedRegressor

    torch.set_num_threads(1)
    ps = pose_set(args.poses, 200, 0, args.corpus_dir)
    body = load_body("anny")
    truths = [body.joints(p) for p in ps.poses]
    lmm = synth.LandmarkModel(body)
    world = np.stack([lmm.world(p.matrices()[None])[0] for p in ps.poses])
    reg = LearnedRegressor(None, representation=args.regressor)
    geo = GeometricRegressor(temporal=False)
    out: dict = {"poses": ps.source, "regressor": args.regressor, "views": {}}
    print(f"| input | view | {' | '.join(('pose', 'lifted joints', 'pose + 3D step', 'geometric'))} |")
    print("|---|---|---|---|---|---|")
    for cname, cfg in (("exact", _clean_config()), ("synthetic noise", synth.SynthConfig())):
        for view, (az, el) in VIEWS.items():
            obs = synth.synthesize(world, np.random.default_rng(0), cfg, _cameras(len(ps.poses), az, el))
            rows = _score_view(obs, ps.names, truths, body, reg, geo)
            out["views"][f"{cname}/{view}"] = rows
            cells = [f"{np.mean(list(rows[k].values())):.1f}" if k in rows else "–"
                     for k in ("pose", "lifted", "pose+3d", "geometric")]
            print(f"| {cname} | {view} | {' | '.join(cells)} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
