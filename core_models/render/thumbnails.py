"""Batch pose thumbnails in one headless GL context (pose library, alternatives strips).

    from core_models.render.thumbnails import render_thumbnails
    imgs = render_thumbnails(body, poses, size=(128, 128))      # (N, H, W, 4) uint8 RGBA

Also usable as a child process (what the GUI does when it cannot render with Qt's GL):
    python -m core_models.render.thumbnails POSES.npz OUT.npz [--size 128x128] [--view three_quarter]
POSES.npz holds ``root_orient`` (N,3), ``body_pose`` (N,21,3) and optionally ``transl`` (N,3); OUT.npz gets
``images`` (N,H,W,4) uint8. Each thumbnail is framed on its own posed body; the camera looks from ``view``.
The GUI itself uses the same scene code through Qt (app/viewport/thumbnails.py); this module must not be
imported into a process that renders with Qt's OpenGL.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from core_models.pose import Pose, PoseError


def _as_list(poses) -> list[Pose]:
    if isinstance(poses, Pose):
        if poses.batch_shape == ():
            return [poses]
        flat = poses.root_orient.reshape(-1, 3).shape[0]
        hands = None if poses.hand_pose is None else poses.hand_pose.reshape(-1, 30, 3)
        return [Pose(poses.root_orient.reshape(-1, 3)[i], poses.body_pose.reshape(-1, 21, 3)[i],
                     poses.transl.reshape(-1, 3)[i], None if hands is None else hands[i]) for i in range(flat)]
    return list(poses)


def render_thumbnails(body, poses, size: tuple[int, int] = (128, 128), view: str = "three_quarter",
                      renderer=None, supersample: int = 4, progress=None) -> np.ndarray:
    """(N, H, W, 4) uint8 RGBA thumbnails of ``poses`` (a batched Pose or a list of Poses).

    ``progress(done, total)`` is called after each image. Uses the process-wide offscreen renderer unless
    ``renderer`` (an OffscreenRenderer) is given."""
    from core_models.render.offscreen import shared_renderer

    r = renderer or shared_renderer()
    plist = _as_list(poses)
    w, h = int(size[0]), int(size[1])
    out = np.empty((len(plist), h, w, 4), np.uint8)
    old = r.samples
    r.samples = supersample
    try:
        for i, p in enumerate(plist):
            out[i] = r.render(body, p, size=(w, h), view=view, markers=False, grid=True, alpha=True)
            if progress is not None:
                progress(i + 1, len(plist))
    finally:
        r.samples = old
    return out


def load_pose_batch(path: str) -> Pose:
    """Read a batch of poses from an npz with root_orient/body_pose[/transl] (never unpickles)."""
    with np.load(path, allow_pickle=False) as z:
        missing = {"root_orient", "body_pose"} - set(z.files)
        if missing:
            raise PoseError(f"{path}: missing arrays {sorted(missing)}")
        transl = z["transl"] if "transl" in z.files else np.zeros(z["root_orient"].shape[:-1] + (3,), np.float32)
        return Pose(z["root_orient"], z["body_pose"], transl)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m core_models.render.thumbnails", description=__doc__.split("\n")[0])
    ap.add_argument("poses")
    ap.add_argument("out")
    ap.add_argument("--size", default="128x128")
    ap.add_argument("--view", default="three_quarter")
    ap.add_argument("--progress", action="store_true", help="print 'done/total' lines on stdout")
    a = ap.parse_args(argv)
    try:
        w, h = (int(x) for x in a.size.lower().split("x"))
        poses = load_pose_batch(a.poses)
    except (ValueError, OSError, PoseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from core_models.body import load_body

    body = load_body("anny")
    prog = (lambda d, n: print(f"{d}/{n}", flush=True)) if a.progress else None
    imgs = render_thumbnails(body, poses, (w, h), a.view, progress=prog)
    np.savez(a.out, images=imgs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
