"""DeepMimic motion JSON importer (``humanoid3d`` character).

Frame layout (44 numbers): duration (s), root position (3, world, metres, y up), root rotation (w,x,y,z,
world), chest (4), neck (4), right hip (4), right knee (1), right ankle (4), right shoulder (4), right
elbow (1), left hip (4), left knee (1), left ankle (4), left shoulder (4), left elbow (1). Joint
quaternions are local to the parent; knees and elbows are revolute joints about the local z axis (radians).

The humanoid3d rest skeleton (written down here from the character's published dimensions, metres;
approximate to a few mm) faces +x with its right side at +z (y up): the imported :class:`Motion` keeps that
world frame, so headings are preserved as recorded. Its rest pose has the arms hanging down; ``tpose``
raises them to the side. End joints added for retargeting: ``head_end`` (centre of the head sphere),
``left/right_toe_end`` (front of the foot box) and ``left/right_wrist`` (the fixed wrists).

The frame rate comes from the per-frame durations (median of the non-final frames); the exact per-frame
times are kept in ``meta["frame_times"]``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core_models.io.motion import Motion, MotionImportError, axis_rotation, quat_wxyz_matrix, read_text

# name, parent, offset (DeepMimic frame: x forward, y up, z = body's right), kind
_JOINTS = [
    ("root", None, (0.0, 0.0, 0.0), "quat"),
    ("chest", "root", (0.0, 0.236151, 0.0), "quat"),
    ("neck", "chest", (0.0, 0.223894, 0.0), "quat"),
    ("right_hip", "root", (0.0, 0.0, 0.084887), "quat"),
    ("right_knee", "right_hip", (0.0, -0.421546, 0.0), "rev"),
    ("right_ankle", "right_knee", (0.0, -0.40987, 0.0), "quat"),
    ("right_shoulder", "chest", (-0.02405, 0.2435, 0.18311), "quat"),
    ("right_elbow", "right_shoulder", (0.0, -0.274788, 0.0), "rev"),
    ("left_hip", "root", (0.0, 0.0, -0.084887), "quat"),
    ("left_knee", "left_hip", (0.0, -0.421546, 0.0), "rev"),
    ("left_ankle", "left_knee", (0.0, -0.40987, 0.0), "quat"),
    ("left_shoulder", "chest", (-0.02405, 0.2435, -0.18311), "quat"),
    ("left_elbow", "left_shoulder", (0.0, -0.274788, 0.0), "rev"),
]
_ENDS = [
    ("head_end", "neck", (0.0, 0.175, 0.0)),
    ("right_toe_end", "right_ankle", (0.13, -0.045, 0.0)),
    ("right_wrist", "right_elbow", (0.0, -0.258947, 0.0)),
    ("left_toe_end", "left_ankle", (0.13, -0.045, 0.0)),
    ("left_wrist", "left_elbow", (0.0, -0.258947, 0.0)),
]
FRAME_SIZE = 44


def _frame_lines(text: str) -> list[int]:
    """Line numbers of the depth-2 '[' (one per frame) — for error messages."""
    out, depth, line, in_str, esc = [], 0, 1, False, False
    for ch in text:
        if ch == "\n":
            line += 1
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "[":
            depth += 1
            if depth == 2:
                out.append(line)
        elif ch == "]":
            depth -= 1
    return out


def load_deepmimic(path) -> Motion:
    path = Path(path)
    text = read_text(path, "DeepMimic")
    where = str(path)
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise MotionImportError(f"DeepMimic {where}, line {e.lineno}: invalid JSON ({e.msg})") from None
    except RecursionError:
        raise MotionImportError(f"DeepMimic {where}: JSON nested too deeply") from None
    if not isinstance(d, dict) or "Frames" not in d:
        raise MotionImportError(f"DeepMimic {where}: expected a JSON object with a 'Frames' list")
    frames = d["Frames"]
    if not isinstance(frames, list) or not frames:
        raise MotionImportError(f"DeepMimic {where}: 'Frames' must be a non-empty list")
    lines = _frame_lines(text)

    def at(k):
        return f"DeepMimic {where}, frame {k}" + (f" (line {lines[k]})" if k < len(lines) else "")

    data = np.empty((len(frames), FRAME_SIZE))
    for k, fr in enumerate(frames):
        if not isinstance(fr, list) or len(fr) != FRAME_SIZE:
            n = len(fr) if isinstance(fr, list) else type(fr).__name__
            raise MotionImportError(f"{at(k)}: expected {FRAME_SIZE} numbers, got {n}")
        for v in fr:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise MotionImportError(f"{at(k)}: {str(v)[:40]!r} is not a number")
        data[k] = fr
        if not np.all(np.isfinite(data[k])):
            raise MotionImportError(f"{at(k)}: NaN or infinite value")
    dur = data[:, 0]
    if np.any(dur < 0):
        k = int(np.nonzero(dur < 0)[0][0])
        raise MotionImportError(f"{at(k)}: negative frame duration {dur[k]}")
    body = dur[:-1] if len(dur) > 1 else dur
    pos_d = body[body > 0]
    if len(pos_d) == 0:
        raise MotionImportError(f"DeepMimic {where}: all frame durations are zero (no frame rate)")
    fps = 1.0 / float(np.median(pos_d))

    names = [j[0] for j in _JOINTS] + [e[0] for e in _ENDS]
    idx = {n: i for i, n in enumerate(names)}
    parents = np.array([-1] + [idx[p] for _n, p, *_rest in _JOINTS[1:] if p is not None] + [idx[e[1]] for e in _ENDS])
    offsets = np.array([j[2] for j in _JOINTS] + [e[2] for e in _ENDS], dtype=np.float64)
    # the tree must be topologically ordered: ends come after their parents (true by construction)
    F, J = len(frames), len(names)
    rot = np.broadcast_to(np.eye(3), (F, J, 3, 3)).copy()
    col = 4
    for ji, (name, _, _, kind) in enumerate(_JOINTS):
        if kind == "quat":
            q = data[:, col:col + 4]
            n = np.linalg.norm(q, axis=-1)
            bad = np.nonzero((n < 0.5) | (n > 1.5))[0]
            if len(bad):
                raise MotionImportError(f"{at(int(bad[0]))}: {name} quaternion has norm {n[bad[0]]:.3g} "
                                        "(not a rotation)")
            rot[:, ji] = quat_wxyz_matrix(q)
            col += 4
        else:
            rot[:, ji] = axis_rotation("z", data[:, col])
            col += 1
    tpose = np.broadcast_to(np.eye(3), (J, 3, 3)).copy()
    tpose[idx["right_shoulder"]] = axis_rotation("x", np.array(-np.pi / 2))
    tpose[idx["left_shoulder"]] = axis_rotation("x", np.array(np.pi / 2))
    is_end = np.array([False] * len(_JOINTS) + [True] * len(_ENDS))
    meta = {"units": "m", "loop": d.get("Loop"), "frame_times": np.concatenate([[0.0], np.cumsum(dur[:-1])]),
            "frame_durations": dur}
    return Motion(names, parents, offsets, rot, data[:, 1:4].copy(), fps, str(path), "deepmimic", "deepmimic",
                  is_end, tpose, meta)


def is_deepmimic_text(head: str) -> bool:
    return head.lstrip().startswith("{") and '"Frames"' in head
