"""BVH (Biovision hierarchy) writer: the 22-joint SMPL-H skeleton and its motion (52 joints when the poses carry a
``hand_pose``: the 30 finger joints, flat-hand offsets, channels = the hand pose's local rotations).

  * lengths in metres by default (``units="m"``): Blender's BVH import (scale 1.0, the default) then gives the
    body its real size, and PoseTailor's own importer reads metres from the skeleton size. ``units="cm"`` writes
    centimetres for tools that assume them (MotionBuilder; Blender then needs scale 0.01);
  * the root OFFSET is zero and the root's position channels carry its absolute position, so readers that add
    the root OFFSET to the position and readers that ignore it agree;
  * root: ``Xposition Yposition Zposition Zrotation Xrotation Yrotation``; other joints:
    ``Zrotation Xrotation Yrotation`` (intrinsic, R = Rz·Rx·Ry), degrees, continuous over frames;
  * BVH joints have identity rest frames — so do PoseTailor's (the SMPL T-pose is world-aligned), so the
    channel rotations are exactly the pose's local rotations;
  * an ``End Site`` after each leaf joint (head, toes, wrists) for tools that draw bones from it.
y up, facing +z (the BVH/Blender "Y up, -Z forward" import setting is *not* needed: leave the default).
"""
from __future__ import annotations

import io

import numpy as np

from core_models.export.common import (
    ExportError,
    ProgressFn,
    as_pose_batch,
    bone_names,
    check_fps,
    compute_frames,
    continuous_euler,
    default_skeleton_data,
    matrix_to_euler,
    report,
    rest_hand_of,
    rig_data,
    write_bytes_atomic,
)
from core_models.pose import Pose

CM_PER_M = 100.0
#: file units → multiplier from metres
UNITS = {"m": 1.0, "cm": CM_PER_M}


def _skeleton(body, poses):
    """(joint_names, parents, rest_joints) from a BodyModel / SkinningData, or the default SMPL-H skeleton; with
    the 30 finger joints (flat hand) when the poses carry a ``hand_pose``."""
    d = rig_data(default_skeleton_data() if body is None else body, poses)
    return d.joint_names, d.parents, d.rest_joints


def build_bvh(poses, body=None, *, rig: str = "smplh", fps: float = 30.0, progress: ProgressFn | None = None,
              precision: int = 6, units: str = "m") -> str:
    """BVH text for ``poses`` on ``body``'s skeleton (``body=None``: the default SMPL-H rest skeleton);
    lengths in ``units`` ("m", the default, or "cm")."""
    if units not in UNITS:
        raise ExportError(f"BVH units must be one of {', '.join(UNITS)}, got {units!r}")
    scale = UNITS[units]
    poses = as_pose_batch(poses, rest_hand_of(body))
    joint_names, parents, rest = _skeleton(body, poses)
    fps = check_fps(fps)
    names = bone_names(joint_names, rig)
    for n in names:
        if not n or any(c.isspace() for c in n) or "{" in n or "}" in n:
            raise ExportError(f"bone name {n!r} cannot be written to BVH")
    frames = compute_frames(poses, rest, parents)  # (hands: the poses' own; the bind pose does not matter here)
    N, J = frames.local_rot.shape[:2]
    report(progress, 0.1)
    # intrinsic ZXY: scipy returns (z, x, y) for R = Rz·Rx·Ry
    euler = np.degrees(continuous_euler(matrix_to_euler(frames.local_rot, "ZXY")))  # (N,J,3)
    report(progress, 0.5)

    children = {j: [int(c) for c in np.nonzero(parents == j)[0]] for j in range(J)}
    fmt = f"{{:.{precision}f}}"
    out = io.StringIO()
    out.write("HIERARCHY\n")

    def vec(v) -> str:
        return " ".join(fmt.format(float(x) + 0.0) for x in v)

    def write_joint(j: int, depth: int) -> None:
        ind = "\t" * depth
        if parents[j] < 0:
            out.write(f"{ind}ROOT {names[j]}\n{ind}{{\n")
            out.write(f"{ind}\tOFFSET {vec((0.0, 0.0, 0.0))}\n")
            out.write(f"{ind}\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n")
        else:
            out.write(f"{ind}JOINT {names[j]}\n{ind}{{\n")
            out.write(f"{ind}\tOFFSET {vec(frames.offsets[j] * scale)}\n")
            out.write(f"{ind}\tCHANNELS 3 Zrotation Xrotation Yrotation\n")
        if children[j]:
            for c in children[j]:
                write_joint(c, depth + 1)
        else:
            off = frames.offsets[j] if parents[j] >= 0 else np.array([0.0, 0.1, 0.0])
            length = float(np.linalg.norm(off))
            end = off / length * max(0.05, 0.5 * length) if length > 1e-9 else np.array([0.0, 0.05, 0.0])
            out.write(f"{ind}\tEnd Site\n{ind}\t{{\n{ind}\t\tOFFSET {vec(end * scale)}\n{ind}\t}}\n")
        out.write(f"{ind}}}\n")

    roots = [j for j in range(J) if parents[j] < 0]
    if len(roots) != 1:
        raise ExportError("BVH needs exactly one root joint")
    write_joint(roots[0], 0)
    # channel order in the MOTION lines = depth-first order of the hierarchy
    order: list[int] = []

    def visit(j: int) -> None:
        order.append(j)
        for c in children[j]:
            visit(c)

    visit(roots[0])
    out.write("MOTION\n")
    out.write(f"Frames: {N}\n")
    out.write(f"Frame Time: {1.0 / fps:.8f}\n")
    cols = [frames.local_trans[:, roots[0]] * scale] + [euler[:, j] for j in order]
    table = np.concatenate(cols, axis=1) + 0.0  # + 0.0: no "-0.000000"
    line_fmt = " ".join([fmt] * table.shape[1]) + "\n"
    for f in range(N):
        out.write(line_fmt.format(*table[f].tolist()))
    report(progress, 0.9)
    return out.getvalue()


def write_bvh(path, poses: Pose, body=None, *, rig: str = "smplh", fps: float = 30.0,
              progress: ProgressFn | None = None, **kwargs) -> str:
    """Write ``poses`` to ``path`` as BVH (atomic: temp file + os.replace)."""
    text = build_bvh(poses, body, rig=rig, fps=fps, progress=progress, **kwargs)
    p = write_bytes_atomic(path, text.encode("ascii"))
    report(progress, 1.0)
    return str(p)


__all__ = ["build_bvh", "write_bvh", "ExportError"]
