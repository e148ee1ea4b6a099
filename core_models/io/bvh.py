"""BVH (Biovision hierarchy) importer for any rig.

Handles arbitrary channel orders per joint (rotations compose in the listed order, intrinsic:
``Zrotation Yrotation Xrotation`` → Rz·Ry·Rx), degrees, CR LF / LF line ends, blank lines, tabs and
trailing whitespace, ``End Site`` blocks (kept as end joints), and files whose root is an extra
transform bone (e.g. Character Creator ``RL_BoneRoot``, z-up with a -90° x rotation: forward kinematics
makes it y-up). Root position channels are added to the root's OFFSET (Character Creator exports store the hip
height in the OFFSET and small position channels; most other exporters have a zero root OFFSET); position channels on other joints are ignored (recorded in ``meta["warnings"]``).

Units: BVH has none. The importer guesses from the size of the skeleton (centimetres, metres, millimetres,
inches) unless ``unit_scale`` (metres per file unit) is given; ``meta["units"]`` records the decision.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core_models.io.motion import Motion, MotionImportError, euler_matrix, read_text

_ROT = {"xrotation": "x", "yrotation": "y", "zrotation": "z"}
_POS = {"xposition": 0, "yposition": 1, "zposition": 2}


class _Joint:
    __slots__ = ("name", "parent", "offset", "channels", "line", "end")

    def __init__(self, name, parent, line, end=False):
        self.name, self.parent, self.line, self.end = name, parent, line, end
        self.offset = None
        self.channels: list[str] = []


def _rig_of(names: list[str]) -> str:
    s = set(names)
    if "CC_Base_Hip" in s:
        return "cc_base"
    if {"hip", "abdomen", "chest", "lThigh", "rThigh"} <= s:
        return "daz"
    if {"lfemur", "rfemur", "lhumerus"} <= s:
        return "cmu_asf"
    return "generic"


def _guess_unit(motion_rest_extent: float) -> tuple[float, str]:
    """Metres per file unit from the rough height of the skeleton (see :func:`_skeleton_size`)."""
    h = motion_rest_extent
    if 0.4 <= h <= 3.0:
        return 1.0, "m (assumed from skeleton size)"
    if 40.0 <= h <= 300.0:
        return 0.01, "cm (assumed from skeleton size)"
    if 400.0 <= h <= 3000.0:
        return 0.001, "mm (assumed from skeleton size)"
    if 15.0 <= h < 40.0:
        return 0.0254 / 0.45 if h < 25.0 else 0.0254, "ASF units or inches (assumed from skeleton size)"
    if h > 0:
        return 1.7 / h, "unknown; rescaled to a 1.7 m figure"
    return 1.0, "unknown"


def _skeleton_size(offsets: np.ndarray, parents: np.ndarray) -> float:
    """Approximate standing height from bone lengths: longest chain below the root's first branches plus
    the longest chain through another branch (legs + spine/head for humanoids). Orientation-free."""
    J = len(parents)
    depth = np.zeros(J)
    for j in range(1, J):
        depth[j] = depth[parents[j]] + np.linalg.norm(offsets[j])
    # the longest root-to-leaf path through each distinct child subtree of the first branching joint
    top = 0
    while True:
        ch = np.nonzero(parents == top)[0]
        if len(ch) == 1:
            top = int(ch[0])
            continue
        break
    branch = np.full(J, -1)
    for j in range(J):
        a = j
        while a > top and parents[a] != top and parents[a] >= 0:
            a = parents[a]
        if parents[a] == top:
            branch[j] = a
    best = {}
    for j in range(J):
        if branch[j] >= 0:
            best[branch[j]] = max(best.get(branch[j], 0.0), depth[j] - depth[top])
    vals = sorted(best.values(), reverse=True)
    if not vals:
        return float(depth.max())
    # a human: legs branch (~0.5 H) and spine→head or spine→hand branch; the two longest of three are
    # roughly leg + arm chain, so scale a little down
    return float(sum(vals[:2]) * 0.75) if len(vals) >= 2 else float(vals[0] * 2.0)


def load_bvh(path, unit_scale: float | None = None) -> Motion:
    path = Path(path)
    text = read_text(path, "BVH")
    lines = text.splitlines()
    where = str(path)

    def err(lineno: int, msg: str):
        return MotionImportError(f"BVH {where}, line {lineno}: {msg}")

    # --- hierarchy ---------------------------------------------------------------------------------
    i = 0
    n_lines = len(lines)

    def next_tokens():
        nonlocal i
        while i < n_lines:
            toks = lines[i].split()
            i += 1
            if toks:
                return toks, i
        return None, i

    toks, ln = next_tokens()
    if toks is None or toks[0].upper() != "HIERARCHY":
        raise err(ln, "file does not start with HIERARCHY (not a BVH file?)")
    joints: list[_Joint] = []
    stack: list[int] = []
    pending: _Joint | None = None  # joint declared, waiting for its '{'
    seen_root = False
    while True:
        toks, ln = next_tokens()
        if toks is None:
            raise err(ln, "unexpected end of file inside HIERARCHY (missing MOTION section)")
        kw = toks[0].upper()
        if kw in ("ROOT", "JOINT"):
            if kw == "ROOT":
                if seen_root:
                    raise err(ln, "more than one ROOT (multiple skeletons are not supported)")
                seen_root = True
                parent = -1
            else:
                if not stack:
                    raise err(ln, "JOINT outside of any joint block")
                parent = stack[-1]
            if pending is not None:
                raise err(ln, f"joint {pending.name!r} has no '{{' block")
            if len(toks) < 2:
                raise err(ln, f"{toks[0]} without a name")
            name = " ".join(toks[1:])
            if name.endswith("{"):
                raise err(ln, "put '{' on its own line")  # rare; keep the grammar simple and strict
            if parent >= 0 and joints[parent].end:
                raise err(ln, "an End Site cannot have children")
            pending = _Joint(name, parent, ln)
        elif kw == "END":
            if not stack:
                raise err(ln, "End Site outside of any joint block")
            if pending is not None:
                raise err(ln, f"joint {pending.name!r} has no '{{' block")
            parent = stack[-1]
            pending = _Joint(f"{joints[parent].name}_end", parent, ln, end=True)
        elif kw == "{":
            if pending is None:
                raise err(ln, "'{' without a ROOT/JOINT/End Site")
            joints.append(pending)
            stack.append(len(joints) - 1)
            pending = None
            if len(toks) > 1:
                raise err(ln, "unexpected text after '{'")
        elif kw == "}":
            if not stack:
                raise err(ln, "unbalanced '}'")
            j = joints[stack.pop()]
            if j.offset is None:
                raise err(ln, f"joint {j.name!r} (line {j.line}) has no OFFSET")
        elif kw == "OFFSET":
            if not stack or pending is not None:
                raise err(ln, "OFFSET outside of a joint block")
            j = joints[stack[-1]]
            if j.offset is not None:
                raise err(ln, f"second OFFSET for joint {j.name!r}")
            if len(toks) != 4:
                raise err(ln, f"OFFSET needs 3 numbers, got {len(toks) - 1}")
            try:
                off = [float(t) for t in toks[1:]]
            except ValueError:
                raise err(ln, f"OFFSET values are not numbers: {' '.join(toks[1:])[:60]!r}") from None
            if not np.all(np.isfinite(off)):
                raise err(ln, "OFFSET is not finite")
            j.offset = off
        elif kw == "CHANNELS":
            if not stack or pending is not None:
                raise err(ln, "CHANNELS outside of a joint block")
            j = joints[stack[-1]]
            if j.end:
                raise err(ln, "End Site cannot have CHANNELS")
            if j.channels:
                raise err(ln, f"second CHANNELS line for joint {j.name!r}")
            try:
                n = int(toks[1]) if len(toks) > 1 else -1
            except ValueError:
                raise err(ln, f"channel count {toks[1][:20]!r} is not an integer") from None
            if n < 0 or n > 6 or n != len(toks) - 2:
                raise err(ln, f"CHANNELS declares {toks[1] if len(toks) > 1 else '?'} channels but lists "
                              f"{len(toks) - 2}")
            chans = [t.lower() for t in toks[2:]]
            for c in chans:
                if c not in _ROT and c not in _POS:
                    raise err(ln, f"unknown channel {c!r}")
            if len(set(chans)) != len(chans):
                raise err(ln, "repeated channel")
            j.channels = chans
        elif kw == "MOTION":
            if stack or pending is not None:
                raise err(ln, "MOTION before the hierarchy is closed (unbalanced braces)")
            break
        else:
            raise err(ln, f"unexpected {toks[0][:40]!r} in HIERARCHY")
    if not joints:
        raise err(ln, "empty hierarchy")

    # --- motion header ----------------------------------------------------------------------------------
    toks, ln = next_tokens()
    if toks is None:
        raise err(ln, "missing 'Frames:' line")
    if toks[0].lower() != "frames:" or len(toks) != 2:
        raise err(ln, f"expected 'Frames: <n>', got {' '.join(toks)[:60]!r}")
    try:
        n_frames = int(toks[1])
    except ValueError:
        raise err(ln, f"frame count {toks[1][:20]!r} is not an integer") from None
    if n_frames <= 0:
        raise err(ln, f"frame count must be positive, got {n_frames}")
    toks, ln = next_tokens()
    if toks is None:
        raise err(ln, "missing 'Frame Time:' line")
    if len(toks) != 3 or toks[0].lower() != "frame" or toks[1].lower() != "time:":
        raise err(ln, f"expected 'Frame Time: <seconds>', got {' '.join(toks)[:60]!r}")
    try:
        ft = float(toks[2])
    except ValueError:
        raise err(ln, f"frame time {toks[2][:20]!r} is not a number") from None
    if not (np.isfinite(ft) and ft > 0):
        raise err(ln, f"frame time must be positive, got {toks[2][:20]}")

    n_ch = sum(len(j.channels) for j in joints)
    if n_ch == 0:
        raise err(ln, "no CHANNELS in the hierarchy")
    rows = []
    row_lines = []
    for k in range(i, n_lines):
        s = lines[k].strip()
        if s:
            rows.append(s)
            row_lines.append(k + 1)
    if len(rows) != n_frames:
        raise MotionImportError(f"BVH {where}: header says {n_frames} frames but the file has {len(rows)} "
                                f"motion lines" + (" (truncated?)" if len(rows) < n_frames else ""))
    for s, l in zip(rows, row_lines):
        if len(s.split()) != n_ch:
            raise err(l, f"expected {n_ch} values, got {len(s.split())}")
    try:
        data = np.array(" ".join(rows).split(), dtype=np.float64)
    except ValueError:
        for s, l in zip(rows, row_lines):
            try:
                np.array(s.split(), dtype=np.float64)
            except ValueError:
                bad = next(t for t in s.split() if not _is_float(t))
                raise err(l, f"{bad[:40]!r} is not a number") from None
        raise  # pragma: no cover
    data = data.reshape(n_frames, n_ch)
    if not np.all(np.isfinite(data)):
        f = int(np.nonzero(~np.all(np.isfinite(data), axis=1))[0][0])
        raise err(row_lines[f], "NaN or infinite value in the motion data")

    # --- convert -------------------------------------------------------------------------------------------
    J = len(joints)
    names = [j.name for j in joints]
    if len(set(names)) != J:
        dup = sorted({n for n in names if names.count(n) > 1})
        raise MotionImportError(f"BVH {where}: duplicate joint names {dup[:5]}")
    parents = np.array([j.parent for j in joints], dtype=np.int64)
    offsets = np.array([j.offset for j in joints], dtype=np.float64)
    rot = np.broadcast_to(np.eye(3), (n_frames, J, 3, 3)).copy()
    root_t = np.broadcast_to(offsets[0], (n_frames, 3)).copy()
    warnings = []
    col = 0
    groups: dict[str, list[tuple[int, list[int]]]] = {}
    for ji, j in enumerate(joints):
        rcols, axes = [], ""
        for c in j.channels:
            if c in _ROT:
                rcols.append(col)
                axes += _ROT[c]
            elif ji == 0:
                root_t[:, _POS[c]] += data[:, col]
            elif "position channels on non-root joints ignored" not in warnings:
                warnings.append("position channels on non-root joints ignored")
            col += 1
        if axes:
            groups.setdefault(axes, []).append((ji, rcols))
    for axes, items in groups.items():
        idx = [ji for ji, _ in items]
        cols = np.array([c for _, c in items])  # (n, len(axes))
        rot[:, idx] = euler_matrix(data[:, cols], axes.upper())

    scale = unit_scale
    if scale is None:
        scale, units = _guess_unit(_skeleton_size(offsets, parents))
    else:
        if not (np.isfinite(scale) and scale > 0):
            raise MotionImportError(f"unit_scale must be positive, got {scale}")
        units = f"{scale:g} m per file unit (given)"
    meta = {"units": units, "unit_scale": scale, "file_frame_time": ft, "warnings": warnings}
    return Motion(names, parents, offsets * scale, rot, root_t * scale, 1.0 / ft, str(path), "bvh",
                  _rig_of(names), np.array([j.end for j in joints]), None, meta)


def _is_float(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False
