"""AMASS-compatible pose ``.npz`` import/export.

Keys written: ``poses`` (N,156) SMPL-H axis-angle (22 body + 30 hand joints), ``trans`` (N,3), ``betas``,
``gender``, ``mocap_framerate`` — the AMASS layout — plus our own ``posetailor_version``, ``up_axis``
("z" for AMASS convention, "y" for ours), ``root_orient`` (N,3) and ``pose_body`` (N,63).

Coordinate frames. AMASS is z-up; PoseTailor is y-up (facing +z). C = rotation of −90° about x maps
z-up to y-up ((x,y,z) → (x, z, −y)). SMPL rotates the body about its pelvis joint J0, not the origin, so
the conversion of a root orientation R and translation t is::

    R' = C·R,   t' = C·(t + J0) − J0'

where J0 is the rest pelvis joint of the SMPL body the file was made with and J0' the rest pelvis of our
skeleton (``rest_pelvis``; default ``skeleton.DEFAULT_REST_JOINTS[0]`` = the origin; pass the body
model's own). J0 is not in the file (it depends on the shape), so :data:`AMASS_PELVIS_REST` ≈ SMPL's
neutral rest pelvis (0.0, −0.223, 0.028) is used: the translation conversion is **approximate** (a few cm
for bodies whose pelvis differs); rotations are exact and our own export→import round trip is exact.

Loading always uses ``np.load(allow_pickle=False)``; any malformed file raises :class:`PoseFileError`.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from core_models.pose import Pose, PoseError, aa_to_matrix, matrix_to_aa

POSETAILOR_NPZ_VERSION = 1
#: SMPL's neutral rest pelvis joint (metres, body-model frame) — the J0 of the z-up conversion.
AMASS_PELVIS_REST = np.array([0.0, -0.223, 0.028], dtype=np.float64)
#: z-up → y-up: rotation of -90° about x.
C_ZUP_TO_YUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


class PoseFileError(ValueError):
    """A pose file that cannot be read or written. The message says what is wrong."""


def _our_pelvis(rest_pelvis) -> np.ndarray:
    if rest_pelvis is None:
        from core_models.skeleton import DEFAULT_REST_JOINTS

        return DEFAULT_REST_JOINTS[0].astype(np.float64)
    a = np.asarray(rest_pelvis, dtype=np.float64)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise PoseFileError(f"rest_pelvis must be 3 finite numbers, got {a.shape}")
    return a


def _convert_root(root_aa: np.ndarray, trans: np.ndarray, C: np.ndarray, j0_from: np.ndarray,
                  j0_to: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    R = aa_to_matrix(root_aa.astype(np.float64))
    root = matrix_to_aa(C @ R)
    t = (trans.astype(np.float64) + j0_from) @ C.T - j0_to
    return root, t


def save_pose_npz(path, pose: Pose, *, fps: float = 30.0, betas=None, gender: str = "neutral",
                  up_axis: str = "z", rest_pelvis=None) -> Path:
    """Write ``pose`` (batched (N,) or single) as an AMASS-style .npz. ``up_axis='z'`` (default) writes the
    AMASS convention; ``'y'`` writes our frame unchanged."""
    if up_axis not in ("y", "z"):
        raise PoseFileError(f"up_axis must be 'y' or 'z', got {up_axis!r}")
    if not (np.isfinite(fps) and fps > 0):
        raise PoseFileError(f"fps must be positive, got {fps}")
    p = pose if pose.batch_shape else pose[None]
    if len(p.batch_shape) != 1:
        raise PoseFileError(f"pose must be a single pose or a 1-D batch, got batch shape {p.batch_shape}")
    flat = p.flat156().astype(np.float64)
    trans = p.transl.astype(np.float64)
    if up_axis == "z":
        j0 = _our_pelvis(rest_pelvis)
        root, trans = _convert_root(flat[:, :3], trans, C_ZUP_TO_YUP.T, j0, AMASS_PELVIS_REST)
        flat[:, :3] = root
    betas = np.zeros(16) if betas is None else np.asarray(betas, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(betas)):
        raise PoseFileError("betas contain NaN/inf")
    path = Path(path)
    arrays = {
        "poses": flat.astype(np.float32), "trans": trans.astype(np.float32), "betas": betas.astype(np.float32),
        "gender": np.array(str(gender)), "mocap_framerate": np.array(float(fps)),
        "posetailor_version": np.array(POSETAILOR_NPZ_VERSION), "up_axis": np.array(up_axis),
        "root_orient": flat[:, :3].astype(np.float32), "pose_body": flat[:, 3:66].astype(np.float32),
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise PoseFileError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def _read_npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every member of the .npz as an array (no pickle); damaged files raise PoseFileError."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise PoseFileError(f"cannot read {path}: {e.strerror or e}") from None
    if not raw:
        raise PoseFileError(f"{path} is empty")
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise PoseFileError(f"{path} is not an .npz file (not a zip archive; truncated?)")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {}
            for k in set(z.files):
                try:
                    arrays[k] = z[k]
                    if not isinstance(arrays[k], np.ndarray):
                        raise PoseFileError(f"{path}: member {k!r} is not a .npy array")
                except ValueError as e:
                    raise PoseFileError(f"{path}: array {k!r} cannot be loaded without pickle "
                                        f"(object arrays are refused): {e}") from None
    except PoseFileError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
        raise PoseFileError(f"{path}: corrupt or truncated .npz ({type(e).__name__}: {e})") from None
    except Exception as e:  # numpy may raise other errors on damaged members
        raise PoseFileError(f"{path}: unreadable .npz ({type(e).__name__}: {e})") from None
    return arrays


def _num(arrays: dict[str, np.ndarray], path: Path, key: str, ndim: int | None = None) -> np.ndarray:
    """A numeric, finite member as float64 (with ``ndim`` dimensions when given)."""
    a = arrays[key]
    if a.dtype.kind not in "fiu":
        raise PoseFileError(f"{path}: {key!r} must be numeric, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if ndim is not None and a.ndim != ndim:
        raise PoseFileError(f"{path}: {key!r} must have {ndim} dimensions, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise PoseFileError(f"{path}: {key!r} contains NaN or infinite values")
    return a


def _npz_motion(arrays: dict[str, np.ndarray], path: Path):
    """→ ((N,66) body axis-angle, (N,3) translation, (N,30,3) hands or None), in the file's frame."""
    if "poses" in arrays:
        poses = _num(arrays, path, "poses", 2)
        if poses.shape[1] not in (66, 72, 156, 165):
            raise PoseFileError(f"{path}: 'poses' must be (N, 156) (or 66/72/165), got {poses.shape}")
    elif "root_orient" in arrays and "pose_body" in arrays:
        ro, pb = _num(arrays, path, "root_orient", 2), _num(arrays, path, "pose_body", 2)
        if ro.shape[1] != 3 or pb.shape[1] != 63 or ro.shape[0] != pb.shape[0]:
            raise PoseFileError(f"{path}: root_orient {ro.shape} / pose_body {pb.shape} must be (N,3)/(N,63)")
        poses = np.concatenate([ro, pb], 1)
    else:
        raise PoseFileError(f"{path}: missing key 'poses' (or 'root_orient' + 'pose_body'); "
                            f"keys: {sorted(arrays)}")
    N = poses.shape[0]
    if N == 0:
        raise PoseFileError(f"{path}: no frames")
    if "trans" in arrays:
        trans = _num(arrays, path, "trans", 2)
        if trans.shape != (N, 3):
            raise PoseFileError(f"{path}: 'trans' must be ({N}, 3), got {trans.shape}")
    else:
        trans = np.zeros((N, 3))
    hands = None
    if poses.shape[1] == 156:
        hands = poses[:, 66:156].reshape(N, 30, 3)
    elif poses.shape[1] == 165:  # SMPL-X: 22 body + jaw + 2 eyes + 30 hand joints
        hands = poses[:, 75:165].reshape(N, 30, 3)
    return poses[:, :66].copy(), trans, hands


def _npz_info(arrays: dict[str, np.ndarray], path: Path) -> dict:
    """fps, betas, gender, up_axis and posetailor_version of the file (defaults where absent)."""
    up = "z"
    if "up_axis" in arrays:
        u = arrays["up_axis"]
        if u.dtype.kind not in "US" or u.ndim != 0 or str(u) not in ("y", "z"):
            raise PoseFileError(f"{path}: 'up_axis' must be the string 'y' or 'z'")
        up = str(u)
    fps = 30.0
    if "mocap_framerate" in arrays:
        f = _num(arrays, path, "mocap_framerate")
        if f.size != 1 or not f.reshape(()) > 0:
            raise PoseFileError(f"{path}: 'mocap_framerate' must be one positive number")
        fps = float(f.reshape(()))
    betas = _num(arrays, path, "betas").reshape(-1) if "betas" in arrays else np.zeros(16)
    gender = "neutral"
    if "gender" in arrays:
        g = arrays["gender"]
        if g.dtype.kind not in "US":
            raise PoseFileError(f"{path}: 'gender' must be a string, got dtype {g.dtype}")
        gender = str(g.reshape(-1)[0]) if g.size else "neutral"
    v = arrays.get("posetailor_version")
    version = int(v) if v is not None and v.dtype.kind in "iu" and v.size == 1 else None
    return {"fps": fps, "betas": betas, "gender": gender, "up_axis": up, "posetailor_version": version}


def load_pose_npz(path, *, rest_pelvis=None) -> tuple[Pose, dict]:
    """Read an AMASS-style (or our) pose .npz → (Pose batch (N,), info dict with fps, betas, gender,
    up_axis of the file). Files without ``up_axis == 'y'`` are converted from z-up.
    Stages: read the members → body/translation/hands → file info → z-up conversion → Pose."""
    path = Path(path)
    arrays = _read_npz_arrays(path)
    body, trans, hands = _npz_motion(arrays, path)
    info = _npz_info(arrays, path)
    if info["up_axis"] == "z":
        j0_to = _our_pelvis(rest_pelvis)
        body[:, :3], trans = _convert_root(body[:, :3], trans, C_ZUP_TO_YUP, AMASS_PELVIS_REST, j0_to)
    try:
        pose = Pose.from_full(body.reshape(len(body), 22, 3).astype(np.float32), trans.astype(np.float32))
        if hands is not None:
            pose.hand_pose = hands.astype(np.float32)
    except PoseError as e:
        raise PoseFileError(f"{path}: {e}") from None
    return pose, info
