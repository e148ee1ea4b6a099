"""BVH (Biovision hierarchy) importer for any rig.

Handles arbitrary channel orders per joint (rotations compose in the listed order, intrinsic:
``Zrotation Yrotation Xrotation`` → Rz·Ry·Rx), degrees, CR LF / LF line ends, blank lines, tabs and
trailing whitespace, ``End Site`` blocks (kept as end joints), and files whose root is an extra
transform bone (e.g. Character Creator ``RL_BoneRoot``, z-up with a -90° x rotation: forward kinematics
makes it y-up). Root position channels are added to the root's OFFSET (Character Creator exports store the hip
height in the OFFSET and small position channels; most other exporters have a zero root OFFSET); position
channels on other joints are ignored (recorded in ``meta["warnings"]``).

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
    best: dict[int, float] = {}
    for j in range(J):
        if branch[j] >= 0:
            best[branch[j]] = max(best.get(branch[j], 0.0), depth[j] - depth[top])
    vals = sorted(best.values(), reverse=True)
    if not vals:
        return float(depth.max())
    # a human: legs branch (~0.5 H) and spine→head or spine→hand branch; the two longest of three are
    # roughly leg + arm chain, so scale a little down
    return float(sum(vals[:2]) * 0.75) if len(vals) >= 2 else float(vals[0] * 2.0)


class _Reader:
    """Non-blank lines as token lists, with 1-based line numbers for the error messages."""

    def __init__(self, lines: list[str], where: str):
        self.lines, self.where, self.i = lines, where, 0

    def err(self, lineno: int, msg: str) -> MotionImportError:
        return MotionImportError(f"BVH {self.where}, line {lineno}: {msg}")

    def next_tokens(self) -> tuple[list[str] | None, int]:
        while self.i < len(self.lines):
            toks = self.lines[self.i].split()
            self.i += 1
            if toks:
                return toks, self.i
        return None, self.i


class _Hierarchy:
    """HIERARCHY parser state: one method per keyword."""

    def __init__(self, rd: _Reader):
        self.err = rd.err
        self.joints: list[_Joint] = []
        self.stack: list[int] = []
        self.pending: _Joint | None = None  # joint declared, waiting for its '{'
        self.seen_root = False

    def _no_pending(self, ln: int) -> None:
        if self.pending is not None:
            raise self.err(ln, f"joint {self.pending.name!r} has no '{{' block")

    def declare(self, toks: list[str], ln: int) -> None:  # ROOT / JOINT
        if toks[0].upper() == "ROOT":
            if self.seen_root:
                raise self.err(ln, "more than one ROOT (multiple skeletons are not supported)")
            self.seen_root = True
            parent = -1
        else:
            if not self.stack:
                raise self.err(ln, "JOINT outside of any joint block")
            parent = self.stack[-1]
        self._no_pending(ln)
        if len(toks) < 2:
            raise self.err(ln, f"{toks[0]} without a name")
        name = " ".join(toks[1:])
        if name.endswith("{"):
            raise self.err(ln, "put '{' on its own line")  # rare; keep the grammar simple and strict
        if parent >= 0 and self.joints[parent].end:
            raise self.err(ln, "an End Site cannot have children")
        self.pending = _Joint(name, parent, ln)

    def end_site(self, toks: list[str], ln: int) -> None:
        if not self.stack:
            raise self.err(ln, "End Site outside of any joint block")
        self._no_pending(ln)
        parent = self.stack[-1]
        self.pending = _Joint(f"{self.joints[parent].name}_end", parent, ln, end=True)

    def open(self, toks: list[str], ln: int) -> None:
        if self.pending is None:
            raise self.err(ln, "'{' without a ROOT/JOINT/End Site")
        self.joints.append(self.pending)
        self.stack.append(len(self.joints) - 1)
        self.pending = None
        if len(toks) > 1:
            raise self.err(ln, "unexpected text after '{'")

    def close(self, toks: list[str], ln: int) -> None:
        if not self.stack:
            raise self.err(ln, "unbalanced '}'")
        j = self.joints[self.stack.pop()]
        if j.offset is None:
            raise self.err(ln, f"joint {j.name!r} (line {j.line}) has no OFFSET")

    def _current(self, ln: int, what: str) -> _Joint:
        if not self.stack or self.pending is not None:
            raise self.err(ln, f"{what} outside of a joint block")
        return self.joints[self.stack[-1]]

    def offset(self, toks: list[str], ln: int) -> None:
        j = self._current(ln, "OFFSET")
        if j.offset is not None:
            raise self.err(ln, f"second OFFSET for joint {j.name!r}")
        if len(toks) != 4:
            raise self.err(ln, f"OFFSET needs 3 numbers, got {len(toks) - 1}")
        try:
            off = [float(t) for t in toks[1:]]
        except ValueError:
            raise self.err(ln, f"OFFSET values are not numbers: {' '.join(toks[1:])[:60]!r}") from None
        if not np.all(np.isfinite(off)):
            raise self.err(ln, "OFFSET is not finite")
        j.offset = off

    def channels(self, toks: list[str], ln: int) -> None:
        j = self._current(ln, "CHANNELS")
        if j.end:
            raise self.err(ln, "End Site cannot have CHANNELS")
        if j.channels:
            raise self.err(ln, f"second CHANNELS line for joint {j.name!r}")
        try:
            n = int(toks[1]) if len(toks) > 1 else -1
        except ValueError:
            raise self.err(ln, f"channel count {toks[1][:20]!r} is not an integer") from None
        if n < 0 or n > 6 or n != len(toks) - 2:
            raise self.err(ln, f"CHANNELS declares {toks[1] if len(toks) > 1 else '?'} channels but lists "
                               f"{len(toks) - 2}")
        chans = [t.lower() for t in toks[2:]]
        for c in chans:
            if c not in _ROT and c not in _POS:
                raise self.err(ln, f"unknown channel {c!r}")
        if len(set(chans)) != len(chans):
            raise self.err(ln, "repeated channel")
        j.channels = chans


def _parse_hierarchy(rd: _Reader) -> list[_Joint]:
    """HIERARCHY … MOTION: the joints in file order (End Sites included)."""
    toks, ln = rd.next_tokens()
    if toks is None or toks[0].upper() != "HIERARCHY":
        raise rd.err(ln, "file does not start with HIERARCHY (not a BVH file?)")
    h = _Hierarchy(rd)
    handlers = {"ROOT": h.declare, "JOINT": h.declare, "END": h.end_site, "{": h.open, "}": h.close,
                "OFFSET": h.offset, "CHANNELS": h.channels}
    while True:
        toks, ln = rd.next_tokens()
        if toks is None:
            raise rd.err(ln, "unexpected end of file inside HIERARCHY (missing MOTION section)")
        kw = toks[0].upper()
        if kw == "MOTION":
            if h.stack or h.pending is not None:
                raise rd.err(ln, "MOTION before the hierarchy is closed (unbalanced braces)")
            break
        if kw not in handlers:
            raise rd.err(ln, f"unexpected {toks[0][:40]!r} in HIERARCHY")
        handlers[kw](toks, ln)
    if not h.joints:
        raise rd.err(ln, "empty hierarchy")
    return h.joints


def _parse_motion_header(rd: _Reader) -> tuple[int, float, int]:
    """'Frames: n' and 'Frame Time: s' → (n, s, line number of the frame time)."""
    toks, ln = rd.next_tokens()
    if toks is None:
        raise rd.err(ln, "missing 'Frames:' line")
    if toks[0].lower() != "frames:" or len(toks) != 2:
        raise rd.err(ln, f"expected 'Frames: <n>', got {' '.join(toks)[:60]!r}")
    try:
        n_frames = int(toks[1])
    except ValueError:
        raise rd.err(ln, f"frame count {toks[1][:20]!r} is not an integer") from None
    if n_frames <= 0:
        raise rd.err(ln, f"frame count must be positive, got {n_frames}")
    toks, ln = rd.next_tokens()
    if toks is None:
        raise rd.err(ln, "missing 'Frame Time:' line")
    if len(toks) != 3 or toks[0].lower() != "frame" or toks[1].lower() != "time:":
        raise rd.err(ln, f"expected 'Frame Time: <seconds>', got {' '.join(toks)[:60]!r}")
    try:
        ft = float(toks[2])
    except ValueError:
        raise rd.err(ln, f"frame time {toks[2][:20]!r} is not a number") from None
    if not (np.isfinite(ft) and ft > 0):
        raise rd.err(ln, f"frame time must be positive, got {toks[2][:20]}")
    return n_frames, ft, ln


def _parse_motion_data(rd: _Reader, n_frames: int, n_ch: int) -> np.ndarray:
    """The remaining non-blank lines → (n_frames, n_ch) finite values."""
    rows, row_lines = [], []
    for k in range(rd.i, len(rd.lines)):
        s = rd.lines[k].strip()
        if s:
            rows.append(s)
            row_lines.append(k + 1)
    if len(rows) != n_frames:
        raise MotionImportError(f"BVH {rd.where}: header says {n_frames} frames but the file has {len(rows)} "
                                f"motion lines" + (" (truncated?)" if len(rows) < n_frames else ""))
    for s, line in zip(rows, row_lines):
        if len(s.split()) != n_ch:
            raise rd.err(line, f"expected {n_ch} values, got {len(s.split())}")
    try:
        data = np.array(" ".join(rows).split(), dtype=np.float64)
    except ValueError:
        for s, line in zip(rows, row_lines):
            try:
                np.array(s.split(), dtype=np.float64)
            except ValueError:
                bad = next(t for t in s.split() if not _is_float(t))
                raise rd.err(line, f"{bad[:40]!r} is not a number") from None
        raise  # pragma: no cover
    data = data.reshape(n_frames, n_ch)
    if not np.all(np.isfinite(data)):
        f = int(np.nonzero(~np.all(np.isfinite(data), axis=1))[0][0])
        raise rd.err(row_lines[f], "NaN or infinite value in the motion data")
    return data


def _channels_to_motion(joints: list[_Joint], data: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Channel values → ((F,J,3,3) local rotations, (F,3) root translation in file units, warnings)."""
    n_frames, J = len(data), len(joints)
    rot = np.broadcast_to(np.eye(3), (n_frames, J, 3, 3)).copy()
    root_t = np.broadcast_to(np.asarray(joints[0].offset, np.float64), (n_frames, 3)).copy()
    warnings: list[str] = []
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
    for axes, items in groups.items():  # one batched conversion per channel order
        idx = [ji for ji, _ in items]
        cols = np.array([c for _, c in items])  # (n, len(axes))
        rot[:, idx] = euler_matrix(data[:, cols], axes.upper())
    return rot, root_t, warnings


def _metres_per_unit(unit_scale: float | None, offsets: np.ndarray, parents: np.ndarray) -> tuple[float, str]:
    if unit_scale is None:
        return _guess_unit(_skeleton_size(offsets, parents))
    if not (np.isfinite(unit_scale) and unit_scale > 0):
        raise MotionImportError(f"unit_scale must be positive, got {unit_scale}")
    return unit_scale, f"{unit_scale:g} m per file unit (given)"


def load_bvh(path, unit_scale: float | None = None) -> Motion:
    """Stages: hierarchy → motion header → motion data → channels to rotations → units."""
    path = Path(path)
    rd = _Reader(read_text(path, "BVH").splitlines(), str(path))
    joints = _parse_hierarchy(rd)
    n_frames, ft, ln = _parse_motion_header(rd)
    n_ch = sum(len(j.channels) for j in joints)
    if n_ch == 0:
        raise rd.err(ln, "no CHANNELS in the hierarchy")
    data = _parse_motion_data(rd, n_frames, n_ch)
    names = [j.name for j in joints]
    if len(set(names)) != len(joints):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise MotionImportError(f"BVH {path}: duplicate joint names {dup[:5]}")
    parents = np.array([j.parent for j in joints], dtype=np.int64)
    offsets = np.array([j.offset for j in joints], dtype=np.float64)
    rot, root_t, warnings = _channels_to_motion(joints, data)
    scale, units = _metres_per_unit(unit_scale, offsets, parents)
    meta = {"units": units, "unit_scale": scale, "file_frame_time": ft, "warnings": warnings}
    return Motion(names, parents, offsets * scale, rot, root_t * scale, 1.0 / ft, str(path), "bvh",
                  _rig_of(names), np.array([j.end for j in joints]), None, meta)


def _is_float(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False
