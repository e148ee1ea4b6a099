"""NPZ export (AMASS keys) — delegates to the project's pose-file module ``core_models.io.npz_pose``.

The file layout (``poses`` (N,156), ``trans``, ``mocap_framerate``, ``root_orient``/``pose_body``/``pose_hand``,
…) is owned by ``core_models.io.npz_pose``; this module only adds the atomic write and the export API. While
that module is not installed (it is written in parallel), a minimal AMASS-key writer/reader is used instead.
Files are always read with ``allow_pickle=False``.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from core_models.export.common import (ExportError, ProgressFn, as_pose_batch, atomic_path, check_fps,
                                       check_destination, report)
from core_models.pose import Pose

_SAVE_NAMES = ("save_pose_npz", "save_npz_pose", "save_poses", "save_npz", "save")
_LOAD_NAMES = ("load_pose_npz", "load_npz_pose", "load_poses", "load_npz", "load")


def _npz_module():
    try:
        return importlib.import_module("core_models.io.npz_pose")
    except ImportError:
        return None


def _pick(mod, names):
    for n in names:
        fn = getattr(mod, n, None) if mod is not None else None
        if callable(fn):
            return fn
    return None


def _fallback_save(path: Path, poses: Pose, fps: float, gender: str) -> None:
    N = len(poses)
    flat = poses.flat156().astype(np.float32)
    with open(path, "wb") as f:
        np.savez(f, poses=flat, trans=poses.transl.astype(np.float32),
                 root_orient=flat[:, :3], pose_body=flat[:, 3:66], pose_hand=flat[:, 66:156],
                 mocap_framerate=np.float64(fps), gender=np.array(gender), betas=np.zeros(16, np.float32),
                 surface_model_type=np.array("smplh"), num_frames=np.int64(N))


def write_npz(path, poses, body=None, *, fps: float = 30.0, progress: ProgressFn | None = None,
              gender: str = "neutral", **kwargs) -> str:
    """Write ``poses`` (Pose single or (N,)) as an AMASS-style .npz (atomic)."""
    poses = as_pose_batch(poses)
    fps = check_fps(fps)
    p = check_destination(path)
    if p.suffix.lower() != ".npz":
        raise ExportError(f"{p.name}: NPZ files must end in .npz")
    report(progress, 0.1)
    save = _pick(_npz_module(), _SAVE_NAMES)
    with atomic_path(p, suffix=".npz") as tmp:
        try:
            if save is not None:
                try:
                    save(tmp, poses, fps=fps, **kwargs)
                except TypeError:
                    save(tmp, poses, fps)
            else:
                _fallback_save(tmp, poses, fps, gender)
        except ExportError:
            raise
        except OSError as e:
            raise ExportError(f"cannot write {p}: {e.strerror or e}") from None
        except Exception as e:  # the pose-file module's own errors (PoseFileError, ...)
            raise ExportError(f"cannot write {p}: {e}") from e
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise ExportError(f"cannot write {p}: the NPZ writer produced no data")
    report(progress, 1.0)
    return str(p)


def read_npz_poses(path) -> tuple[Pose, float | None]:
    """Read a pose .npz (single pose or sequence) → (Pose (N,) or single, fps or None).

    Uses ``core_models.io.npz_pose`` when installed; otherwise reads AMASS keys (``poses``/``trans`` or
    ``root_orient``/``pose_body``/``trans``) with ``allow_pickle=False``."""
    load = _pick(_npz_module(), _LOAD_NAMES)
    if load is not None:
        res = load(path)
        fps = None
        if isinstance(res, tuple):
            res, *rest = res
            for r in rest:
                if isinstance(r, (int, float)) and not isinstance(r, bool):
                    fps = float(r)
                elif isinstance(r, dict):
                    fps = r.get("fps", r.get("mocap_framerate", fps))
        if not isinstance(res, Pose):
            for attr in ("pose", "poses"):
                if isinstance(getattr(res, attr, None), Pose):
                    fps = getattr(res, "fps", fps)
                    res = getattr(res, attr)
                    break
        if isinstance(res, Pose):
            return res, (float(fps) if fps else None)
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ExportError(f"cannot read {path}: {e}") from None
    with z:
        keys = set(z.files)
        trans = z["trans"] if "trans" in keys else None
        if "poses" in keys:
            flat = z["poses"]
            pose = Pose.from_flat(flat if flat.shape[-1] == 156 else flat[..., :66], trans)
        elif {"root_orient", "pose_body"} <= keys:
            pose = Pose(z["root_orient"], z["pose_body"].reshape(*z["pose_body"].shape[:-1], 21, 3), trans)
        else:
            raise ExportError(f"{path}: no pose arrays found (expected 'poses' or 'root_orient'+'pose_body')")
        fps = float(z["mocap_framerate"]) if "mocap_framerate" in keys else None
    return pose, fps


__all__ = ["write_npz", "read_npz_poses", "ExportError"]
