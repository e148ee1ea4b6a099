"""Motion and pose file import/export.

``load_motion(path)`` reads any supported motion-capture file into a :class:`~core_models.io.motion.Motion`
(BVH, ASF/AMC, CMU exp-map CSV, DeepMimic JSON, binary FBX, glTF/GLB), dispatching by extension and
content; every malformed input raises :class:`~core_models.io.motion.MotionImportError`
with a message saying what and where.
Retargeting to the canonical SMPL-H :class:`~core_models.pose.Pose` is in :mod:`core_models.io.retarget`;
AMASS-compatible pose ``.npz`` files are in :mod:`core_models.io.npz_pose`.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from core_models.io.motion import Motion, MotionImportError

__all__ = ["Motion", "MotionImportError", "load_motion", "MOTION_EXTENSIONS"]

MOTION_EXTENSIONS = (".bvh", ".amc", ".txt", ".csv", ".json", ".fbx", ".glb", ".gltf")


def _sniff(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as e:
        raise MotionImportError(f"cannot read {path}: {e.strerror or e}") from None
    if not head.strip():
        raise MotionImportError(f"{path} is empty")
    if head.startswith(b"Kaydara FBX Binary"):
        return "fbx"
    if head.startswith(b"glTF"):
        return "gltf"
    if b"\x00" in head:
        raise MotionImportError(f"{path} looks binary (contains NUL bytes), not a motion file")
    h = head.decode("latin-1").lstrip("\ufeff").lstrip()
    if h[:9].upper() == "HIERARCHY":
        return "bvh"
    if h.startswith("{") or h.startswith("["):
        return "deepmimic"
    if ":FULLY-SPECIFIED" in h.upper() or ":DEGREES" in h.upper() or h.startswith("#!OML"):
        return "amc"
    if ":bonedata" in h or ":hierarchy" in h or h.startswith(":version"):
        return "asf"
    first = h.splitlines()[0] if h else ""
    if "," in first:
        return "expmap"
    return "unknown"


def load_motion(path, **kw) -> Motion:
    """Load a motion file. Keyword arguments go to the format's loader (e.g. ``fps=``, ``unit_scale=`` for
    BVH, ``asf_path=`` for AMC, ``skeleton=`` for exp-map).

    Every failure is a :class:`MotionImportError`; an unexpected error inside a parser (a bug) is wrapped
    in one too, naming the file, rather than escaping as IndexError & co."""
    try:
        return _load_motion(path, **kw)
    except MotionImportError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, ArithmeticError, RecursionError,
            UnicodeError, np.linalg.LinAlgError, struct.error, zlib.error, MemoryError) as e:
        raise MotionImportError(f"{path}: cannot import ({type(e).__name__}: {e})") from e


def _load_motion(path, **kw) -> Motion:
    p = Path(path)
    if p.is_dir():
        raise MotionImportError(f"{p} is a folder, not a motion file")
    if not p.exists():
        raise MotionImportError(f"{p} does not exist")
    ext = p.suffix.lower()
    kind = {".bvh": "bvh", ".amc": "amc", ".asf": "asf", ".json": "deepmimic", ".fbx": "fbx", ".glb": "gltf",
            ".gltf": "gltf"}.get(ext) or _sniff(p)
    if kind == "fbx":
        from core_models.io.fbx_import import load_fbx

        return load_fbx(p, **kw)
    if kind == "gltf":
        from core_models.io.gltf_import import load_gltf

        return load_gltf(p, **kw)
    if kind == "bvh":
        from core_models.io.bvh import load_bvh

        return load_bvh(p, **kw)
    if kind == "amc":
        from core_models.io.asf_amc import load_amc

        return load_amc(p, **kw)
    if kind == "asf":
        raise MotionImportError(f"{p} is an ASF skeleton without motion; open one of its .amc files")
    if kind == "deepmimic":
        from core_models.io.deepmimic import load_deepmimic

        return load_deepmimic(p, **kw)
    if kind == "expmap":
        from core_models.io.expmap import load_expmap

        return load_expmap(p, **kw)
    raise MotionImportError(f"{p}: unrecognised motion file (supported: BVH, ASF/AMC, CMU exp-map CSV with "
                            "skeleton.json, DeepMimic JSON, binary FBX, glTF/GLB)")
