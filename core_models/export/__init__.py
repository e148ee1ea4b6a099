"""Export poses to files other tools open: binary FBX (skinned mesh + skeleton + animation), GLB, BVH, NPZ.

    from core_models.export import export_poses
    export_poses("walk.fbx", poses, body)                    # format from the extension
    export_poses("pose.glb", pose, body, rig="mixamo")       # one pose → a one-key animation
    export_poses("clip.bvh", poses, body, fps=60)

``poses`` is a single Pose, a batched Pose (N,) or a list of Poses; ``body`` a BodyModel (either backend) or
its SkinningData (BVH and NPZ also accept ``None``). Every writer writes a temporary file next to the
destination and ``os.replace``-s it at the end, so a failed export never leaves a half-written file.
Errors are :class:`ExportError` with a message meant for the user. No Qt here.
"""
from __future__ import annotations

import os
from pathlib import Path

from core_models.export.common import (
    RIGS,
    ExportError,
    ProgressFn,
    as_pose_batch,
    as_skinning,
    bone_names,
    check_fps,
    default_skeleton_data,
    grounded,
    rest_hand_of,
)

#: format id → (file extension, label for file dialogs)
FORMATS: dict[str, tuple[str, str]] = {
    "fbx": (".fbx", "FBX (skinned mesh + skeleton + animation)"),
    "glb": (".glb", "glTF binary (skinned mesh + skeleton + animation)"),
    "bvh": (".bvh", "BVH (skeleton + motion)"),
    "npz": (".npz", "NPZ (AMASS-style pose parameters)"),
}
_ALIASES = {".gltf": "glb"}
NEEDS_BODY = frozenset({"fbx", "glb"})


def format_from_path(path) -> str:
    """Format id from a file name's extension; ExportError if it is not one we write."""
    ext = Path(os.fspath(path)).suffix.lower()
    for fmt, (e, _) in FORMATS.items():
        if ext == e:
            return fmt
    if ext == ".gltf":
        raise ExportError("PoseTailor writes binary glTF: use the .glb extension")
    raise ExportError(f"cannot tell the export format from {Path(os.fspath(path)).name!r}: use one of "
                      + ", ".join(e for e, _ in FORMATS.values()) + " (or give format=...)")


def resolve_path_and_format(path, format: str | None) -> tuple[Path, str]:
    """(path, format): the format from the extension when not given; the extension added when missing."""
    if path is None or str(path) == "":
        raise ExportError("no output file given")
    p = Path(os.fspath(path)).expanduser()
    if p.is_dir():
        raise ExportError(f"{p} is a folder: give a file name")
    if format is None:
        return p, format_from_path(p)
    fmt = str(format).lower().lstrip(".")
    if fmt == "gltf":
        fmt = "glb"
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {format!r} (use one of {', '.join(FORMATS)})")
    ext = FORMATS[fmt][0]
    if p.suffix == "":
        p = p.with_name(p.name + ext)
    elif p.suffix.lower() != ext:
        raise ExportError(f"{p.name}: the extension {p.suffix!r} does not match the format {fmt!r} "
                          f"(expected {ext})")
    return p, fmt


def export_poses(path, poses, body=None, format: str | None = None, rig: str = "smplh", fps: float = 30,
                 progress: ProgressFn | None = None, ground: bool = False, **options) -> str:
    """Write ``poses`` to ``path``; returns the path written. See the module docstring.

    ``rig``: ``"smplh"`` (SMPL-H joint names) or ``"mixamo"`` (``mixamorig:Hips``, …; FBX/GLB/BVH).
    ``fps``: frame rate of the sequence (one key per pose). ``progress``: called with 0..1 (any thread).
    ``ground``: FBX/GLB/BVH only — move the whole body up so the rest pose's feet are at y = 0 (PoseTailor
    keeps the rest pelvis at the origin; DCC tools expect the floor at 0). NPZ pose parameters are unaffected.
    The GUI's export dialog and ``main.py export`` ground by default (``--no-ground`` opts out).
    Extra ``options`` go to the format's writer (e.g. ``compress_level`` for FBX, ``units="cm"`` for BVH, which
    writes metres by default, ``up_axis`` for NPZ)."""
    p, fmt = resolve_path_and_format(path, format)
    poses = as_pose_batch(poses, rest_hand_of(body))
    fps = check_fps(fps)
    bone_names(("pelvis",), rig)  # validates the rig name early
    if fmt in NEEDS_BODY and body is None:
        raise ExportError(f"{fmt.upper()} export needs a body model (mesh and skinning weights)")
    if ground and fmt != "npz":
        if body is None:
            body = default_skeleton_data()
        skin = as_skinning(body)
        if fmt in NEEDS_BODY:  # recorded in the file so that PoseTailor's importer can undo it
            options.setdefault("ground_offset", -float(skin.floor_height))
        body = grounded(skin)
    if fmt == "fbx":
        from core_models.export.fbx import write_fbx

        return write_fbx(p, poses, body, rig=rig, fps=fps, progress=progress, **options)
    if fmt == "glb":
        from core_models.export.gltf import write_glb

        return write_glb(p, poses, body, rig=rig, fps=fps, progress=progress, **options)
    if fmt == "bvh":
        from core_models.export.bvh import write_bvh

        return write_bvh(p, poses, body, rig=rig, fps=fps, progress=progress, **options)
    from core_models.export.npz import write_npz

    return write_npz(p, poses, body, fps=fps, progress=progress, **options)


__all__ = ["export_poses", "format_from_path", "resolve_path_and_format", "FORMATS", "RIGS", "ExportError",
           "NEEDS_BODY"]
