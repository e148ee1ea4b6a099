"""NPZ export (AMASS keys) — a thin layer over the project's pose-file module ``core_models.io.npz_pose``.

The file layout (``poses`` (N,156), ``trans``, ``betas``, ``gender``, ``mocap_framerate``, ``root_orient``,
``pose_body``, ``up_axis``; z-up AMASS convention by default) and its atomic write belong to
``core_models.io.npz_pose.save_pose_npz``; this module adds the export API's checks and error type.
"""
from __future__ import annotations

import numpy as np

from core_models.export.common import ExportError, ProgressFn, as_pose_batch, check_destination, check_fps, report
from core_models.io import npz_pose
from core_models.pose import Pose


def write_npz(path, poses, body=None, *, fps: float = 30.0, progress: ProgressFn | None = None,
              up_axis: str = "z", gender: str = "neutral", betas=None, **kwargs) -> str:
    """Write ``poses`` (Pose single or (N,)) as an AMASS-style .npz (atomic, via ``save_pose_npz``).

    ``up_axis="z"`` (default) writes the AMASS convention, ``"y"`` PoseTailor's frame unchanged. With a
    ``body`` its rest pelvis is used for the z-up root conversion."""
    poses = as_pose_batch(poses)
    fps = check_fps(fps)
    p = check_destination(path)
    if p.suffix.lower() != ".npz":
        raise ExportError(f"{p.name}: NPZ files must end in .npz")
    if kwargs:
        raise ExportError(f"unknown NPZ export option(s): {', '.join(sorted(kwargs))}")
    rest_pelvis = None
    if body is not None:
        data = getattr(body, "skinning", body)
        rj = getattr(data, "rest_joints", None)
        if rj is not None:
            rest_pelvis = np.asarray(rj[0], dtype=np.float64)
    report(progress, 0.1)
    try:
        npz_pose.save_pose_npz(p, poses, fps=fps, betas=betas, gender=gender, up_axis=up_axis,
                               rest_pelvis=rest_pelvis)
    except npz_pose.PoseFileError as e:
        raise ExportError(str(e)) from None
    report(progress, 1.0)
    return str(p)


def read_npz_poses(path) -> tuple[Pose, float | None]:
    """Read a pose .npz (one pose or a sequence; AMASS or ours) → (Pose (N,), fps or None)."""
    try:
        pose, info = npz_pose.load_pose_npz(path)
    except npz_pose.PoseFileError as e:
        raise ExportError(str(e)) from None
    fps = info.get("fps") if isinstance(info, dict) else None
    return pose, (float(fps) if fps else None)


__all__ = ["write_npz", "read_npz_poses", "ExportError"]
