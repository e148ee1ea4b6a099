"""Acclaim ASF skeleton + AMC motion importer (CMU, HDM05).

* ``:units length L`` → metres = value × 0.0254 / L (1 unit = 1/L inch; HDM05/CMU L = 0.45).
  ``angle deg|rad``.
* Each bone's ``axis a b c ORDER`` gives its local frame C (intrinsic composition, the axis named first
  is applied first: ``XYZ`` → C = Rz(c)·Ry(b)·Rx(a)); the AMC values follow the bone's ``dof`` line and
  compose the same way (``rx ry rz`` → M = Rz·Ry·Rx). Local rotation L = C·M·C⁻¹, global G = G_parent·L,
  bone end = bone start + G·direction·length. Angles are not wrapped (−542° is fine for matrices).
* In the resulting :class:`Motion`, joint ``<bone>`` sits at the bone's *start* and carries the bone's
  rotation (so ``lfemur`` is the hip joint); leaf bones get an end joint ``<bone>_end``. Rest frames are
  world-aligned and the ASF rest pose is a T-pose, so ``tpose`` is None.
* AMC has no frame rate: ``fps`` argument, else the data package's MANIFEST.tsv, else 120 (CMU default).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from core_models.io.motion import Motion, MotionImportError, euler_matrix, manifest_fps, parse_float, read_text

_ROT_DOF = {"rx": "x", "ry": "y", "rz": "z"}
_TRANS_DOF = {"tx": 0, "ty": 1, "tz": 2}
_ALL_DOF = set(_ROT_DOF) | set(_TRANS_DOF) | {"l"}


class _Bone:
    def __init__(self, line):
        self.line = line
        self.name = None
        self.direction = None
        self.length = None
        self.axis = (0.0, 0.0, 0.0)
        self.axis_order = "XYZ"
        self.dof: list[str] = []
        self.parent: str | None = None


class _AsfParser:
    """Line-by-line ASF state: the current section and bone block; one method per section."""

    def __init__(self, where: str):
        self.where = where
        self.length_unit, self.angle_deg = 1.0, True
        self.root: dict = {"order": ["tx", "ty", "tz", "rx", "ry", "rz"], "axis": "XYZ",
                           "position": (0.0, 0.0, 0.0), "orientation": (0.0, 0.0, 0.0)}
        self.bones: dict[str, _Bone] = {}
        self.hierarchy: list[tuple[int, list[str]]] = []
        self.section: str | None = None
        self.cur: _Bone | None = None
        self.in_limits = False
        self.saw_any = False

    def err(self, ln: int, msg: str) -> MotionImportError:
        return MotionImportError(f"ASF {self.where}, line {ln}: {msg}")

    def num(self, t: str, ln: int) -> float:
        return parse_float(t, f"ASF {self.where}, line {ln}")

    def line(self, toks: list[str], ln: int) -> None:
        if toks[0].startswith(":"):  # a new section (unknown ones are skipped)
            self.saw_any = True
            self.section = toks[0][1:].lower()
            self.in_limits = False
            if self.cur is not None:
                raise self.err(ln, f"bone block starting at line {self.cur.line} is not closed with 'end'")
            return
        if self.section is None:
            raise self.err(ln, f"unexpected {toks[0][:40]!r} before the first ':section' (not an ASF file?)")
        key = toks[0].lower()
        if self.section == "units":
            self.units(key, toks, ln)
        elif self.section == "root":
            self.root_line(key, toks, ln)
        elif self.section == "bonedata":
            self.bone_line(key, toks, ln)
        elif self.section == "hierarchy" and key not in ("begin", "end"):
            self.hierarchy.append((ln, toks))

    def units(self, key: str, toks: list[str], ln: int) -> None:
        if key == "length" and len(toks) >= 2:
            self.length_unit = self.num(toks[1], ln)
            if self.length_unit <= 0:
                raise self.err(ln, "units length must be positive")
        elif key == "angle" and len(toks) >= 2:
            if toks[1].lower() not in ("deg", "rad"):
                raise self.err(ln, f"unknown angle unit {toks[1][:20]!r}")
            self.angle_deg = toks[1].lower() == "deg"

    def root_line(self, key: str, toks: list[str], ln: int) -> None:
        if key == "order":
            o = [t.lower() for t in toks[1:]]
            if not o or any(t not in _ALL_DOF for t in o) or len(set(o)) != len(o):
                raise self.err(ln, f"bad root order {' '.join(toks[1:])[:60]!r}")
            self.root["order"] = o
        elif key == "axis":
            if len(toks) != 2 or sorted(toks[1].upper()) != ["X", "Y", "Z"]:
                raise self.err(ln, f"bad root axis {' '.join(toks[1:])[:40]!r}")
            self.root["axis"] = toks[1].upper()
        elif key in ("position", "orientation"):
            if len(toks) != 4:
                raise self.err(ln, f"root {key} needs 3 numbers")
            self.root[key] = tuple(self.num(t, ln) for t in toks[1:])

    def bone_line(self, key: str, toks: list[str], ln: int) -> None:
        if key == "begin":
            self.cur = _Bone(ln)
            self.in_limits = False
        elif key == "end":
            self.end_bone(ln)
        elif self.cur is None:
            raise self.err(ln, f"{toks[0][:40]!r} outside a begin/end bone block")
        elif key in ("id", "bodymass", "cofmass"):
            pass
        elif key in ("name", "direction", "length", "axis", "dof"):
            self.bone_field(self.cur, key, toks, ln)
        elif key == "limits" or self.in_limits or key.startswith("("):
            self.in_limits = True  # limits are not used
        else:
            raise self.err(ln, f"unexpected {toks[0][:40]!r} in bone block")

    def end_bone(self, ln: int) -> None:
        cur = self.cur
        if cur is None:
            raise self.err(ln, "'end' without 'begin'")
        if cur.name is None or cur.direction is None or cur.length is None:
            raise self.err(ln, f"bone block from line {cur.line} lacks name/direction/length")
        if cur.name in self.bones or cur.name == "root":
            raise self.err(ln, f"duplicate bone {cur.name!r}")
        self.bones[cur.name] = cur
        self.cur = None

    def bone_field(self, cur: _Bone, key: str, toks: list[str], ln: int) -> None:
        if key == "name":
            if len(toks) != 2:
                raise self.err(ln, "bone name must be one word")
            cur.name = toks[1]
            self.in_limits = False
        elif key == "direction":
            if len(toks) != 4:
                raise self.err(ln, "direction needs 3 numbers")
            d = np.array([self.num(t, ln) for t in toks[1:]])
            n = np.linalg.norm(d)
            cur.direction = d / n if n > 0 else d
        elif key == "length":
            if len(toks) != 2:
                raise self.err(ln, "length needs 1 number")
            cur.length = self.num(toks[1], ln)
            if cur.length < 0:
                raise self.err(ln, "negative bone length")
        elif key == "axis":
            if len(toks) != 5 or sorted(toks[4].upper()) != ["X", "Y", "Z"]:
                raise self.err(ln, "axis needs 3 numbers and an order such as XYZ")
            cur.axis = tuple(self.num(t, ln) for t in toks[1:4])
            cur.axis_order = toks[4].upper()
        else:  # dof
            dof = [t.lower() for t in toks[1:]]
            if any(t not in _ALL_DOF for t in dof) or len(set(dof)) != len(dof):
                raise self.err(ln, f"bad dof line {' '.join(toks[1:])[:60]!r}")
            cur.dof = dof


def _link_hierarchy(ps: _AsfParser) -> list[str]:
    """Set each bone's parent from :hierarchy; the bones in topological order from the root."""
    bones, hierarchy, where = ps.bones, ps.hierarchy, ps.where
    for ln, toks in hierarchy:
        par = toks[0]
        if par != "root" and par not in bones:
            raise ps.err(ln, f"unknown parent bone {par!r} in hierarchy")
        for c in toks[1:]:
            if c not in bones:
                raise ps.err(ln, f"unknown bone {c!r} in hierarchy")
            if bones[c].parent is not None:
                raise ps.err(ln, f"bone {c!r} has two parents")
            bones[c].parent = par
    topo: list[str] = []
    frontier = ["root"]
    while frontier:
        nxt = []
        for p in frontier:
            for _ln, toks in hierarchy:
                if toks[0] == p:
                    for c in toks[1:]:
                        topo.append(c)
                        nxt.append(c)
        frontier = nxt
        if len(topo) > len(bones):
            raise MotionImportError(f"ASF {where}: cycle in :hierarchy")
    orphans = [b for b in bones if b not in topo]
    if orphans:
        raise MotionImportError(f"ASF {where}: bones not connected to the root: {orphans[:5]}")
    return topo


def parse_asf(path) -> dict:
    """Stages: scan the sections line by line (:class:`_AsfParser`) → check completeness → link the
    hierarchy."""
    path = Path(path)
    ps = _AsfParser(str(path))
    for ln, raw in enumerate(read_text(path, "ASF").splitlines(), 1):
        s = raw.split("#", 1)[0].strip()
        if s:
            ps.line(s.split(), ln)
    where = ps.where
    if not ps.saw_any:
        raise MotionImportError(f"ASF {where}: no ':' sections (not an ASF file)")
    if ps.cur is not None:
        raise MotionImportError(f"ASF {where}: bone block from line {ps.cur.line} is not closed (truncated?)")
    if not ps.bones:
        raise MotionImportError(f"ASF {where}: no bones in :bonedata")
    if not ps.hierarchy:
        raise MotionImportError(f"ASF {where}: empty :hierarchy")
    topo = _link_hierarchy(ps)
    return {"length_unit": ps.length_unit, "angle_deg": ps.angle_deg, "root": ps.root, "bones": ps.bones,
            "topo": topo, "path": where}


def _order_matrix(values_deg_or_rad, axes_in_order: str, deg: bool) -> np.ndarray:
    """Composition with the axis named first applied first: 'XYZ' → Rz·Ry·Rx."""
    v = np.asarray(values_deg_or_rad, dtype=np.float64)
    if not deg:
        v = np.rad2deg(v)
    return euler_matrix(v[..., ::-1], axes_in_order[::-1])


def _read_amc_frames(lines: list[str], need: dict[str, int], bones: dict[str, _Bone],
                     where: str) -> list[dict[str, list[float]]]:
    """AMC lines → one {bone: values} dict per frame, every frame complete."""
    frames: list[dict[str, list[float]]] = []
    frame_lines: list[int] = []
    cur: dict[str, list[float]] | None = None
    last_no = None
    for ln, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s or s.startswith("#") or s.startswith(":"):
            if s.startswith(":") and frames:
                raise MotionImportError(f"AMC {where}, line {ln}: header line after the first frame")
            continue
        toks = s.split()
        if len(toks) == 1 and re.fullmatch(r"-?[0-9]+", toks[0]):
            no = int(toks[0])
            if last_no is not None and no <= last_no:
                raise MotionImportError(f"AMC {where}, line {ln}: frame number {no} after {last_no}")
            if cur is not None:
                _check_frame(cur, need, where, frame_lines[-1])
            last_no = no
            cur = {}
            frames.append(cur)
            frame_lines.append(ln)
            continue
        if cur is None:
            raise MotionImportError(f"AMC {where}, line {ln}: {toks[0][:40]!r} before the first frame number "
                                    "(not an AMC file?)")
        _read_amc_bone(cur, toks, need, bones, f"AMC {where}, line {ln}")
    if cur is None:
        raise MotionImportError(f"AMC {where}: no frames")
    _check_frame(cur, need, where, frame_lines[-1])
    return frames


def _read_amc_bone(cur: dict[str, list[float]], toks: list[str], need: dict[str, int], bones: dict[str, _Bone],
                   at: str) -> None:
    name = toks[0]
    if name not in need:
        if name in bones:
            raise MotionImportError(f"{at}: bone {name!r} has no dof in the ASF")
        raise MotionImportError(f"{at}: unknown bone {name[:40]!r}")
    if name in cur:
        raise MotionImportError(f"{at}: bone {name!r} twice in one frame")
    if len(toks) - 1 != need[name]:
        raise MotionImportError(f"{at}: bone {name!r} needs {need[name]} values, got {len(toks) - 1}")
    cur[name] = [parse_float(t, at) for t in toks[1:]]


def _amc_joints(bones: dict[str, _Bone], topo: list[str], scale: float):
    """Joints: root, one per bone (at the bone's start), an end joint per leaf bone (parents precede
    children). → (names, parents, offsets, is_end, joint index per bone)."""
    names, parents, offsets = ["root"], [-1], [np.zeros(3)]
    jidx = {"root": 0}
    children: dict[str, list[str]] = {b: [] for b in topo}
    for b in topo:
        p = bones[b].parent
        if p is not None and p != "root":
            children[p].append(b)
    for b in topo:
        p = bones[b].parent
        assert p is not None  # every bone in topo was linked
        jidx[b] = len(names)
        names.append(b)
        parents.append(jidx[p])
        offsets.append(np.zeros(3) if p == "root" else bones[p].direction * bones[p].length * scale)
    is_end = [False] * len(names)
    for b in topo:
        if not children[b]:
            names.append(f"{b}_end")
            parents.append(jidx[b])
            offsets.append(bones[b].direction * bones[b].length * scale)
            is_end.append(True)
    return names, parents, offsets, is_end, jidx


def _amc_rotations(frames: list[dict[str, list[float]]], asf: dict, jidx: dict[str, int], J: int,
                   scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(F,J,3,3) local rotations L = C·M·C⁻¹ and (F,3) root translation in metres."""
    bones: dict[str, _Bone] = asf["bones"]
    root, deg, F = asf["root"], asf["angle_deg"], len(frames)
    rot = np.broadcast_to(np.eye(3), (F, J, 3, 3)).copy()
    trans = np.zeros((F, 3))
    rv = np.array([fr["root"] for fr in frames])  # (F, n)
    order = root["order"]
    raxes = "".join(_ROT_DOF[o] for o in order if o in _ROT_DOF).upper()
    rcols = [k for k, o in enumerate(order) if o in _ROT_DOF]
    for k, o in enumerate(order):
        if o in _TRANS_DOF:
            trans[:, _TRANS_DOF[o]] = rv[:, k] * scale
    trans += np.asarray(root["position"]) * scale
    Croot = _order_matrix(root["orientation"], root["axis"], deg)
    if raxes:
        M = _order_matrix(rv[:, rcols], raxes, deg)
        rot[:, 0] = Croot @ M @ Croot.T
    for b in asf["topo"]:
        bone = bones[b]
        rdofs = [d for d in bone.dof if d in _ROT_DOF]
        if not rdofs:
            continue
        vals = np.array([fr[b] for fr in frames])
        cols = [k for k, d in enumerate(bone.dof) if d in _ROT_DOF]
        axes = "".join(_ROT_DOF[d] for d in rdofs).upper()
        M = _order_matrix(vals[:, cols], axes, deg)
        C = _order_matrix(bone.axis, bone.axis_order, True if deg else False)
        rot[:, jidx[b]] = C @ M @ C.T
    return rot, trans


def load_amc(amc_path, asf_path=None, fps: float | None = None) -> Motion:
    """Stages: the ASF skeleton → AMC frames → joints (bone starts + leaf ends) → rotations/translation."""
    amc_path = Path(amc_path)
    if asf_path is None:
        asf_path = find_asf(amc_path)
    asf = parse_asf(asf_path)
    scale = 0.0254 / asf["length_unit"]
    bones: dict[str, _Bone] = asf["bones"]
    topo: list[str] = asf["topo"]
    need = {"root": len(asf["root"]["order"])}
    for b in topo:
        if bones[b].dof:
            need[b] = len(bones[b].dof)
    frames = _read_amc_frames(read_text(amc_path, "AMC").splitlines(), need, bones, str(amc_path))
    names, parents, offsets, is_end, jidx = _amc_joints(bones, topo, scale)
    rot, trans = _amc_rotations(frames, asf, jidx, len(names), scale)
    if fps is None:
        fps = manifest_fps(amc_path) or 120.0
    meta = {"units": f"m (ASF length {asf['length_unit']:g}: x{scale:.6f})", "asf": asf["path"],
            "fps_source": "argument/manifest/default"}
    return Motion(names, np.array(parents), np.array(offsets), rot, trans, fps, str(amc_path), "asf_amc",
                  "cmu_asf", np.array(is_end), None, meta)


def _check_frame(cur, need, where, ln):
    missing = [b for b in need if b not in cur]
    if missing:
        raise MotionImportError(f"AMC {where}, frame at line {ln}: missing bones {missing[:5]}"
                                + (" (truncated?)" if len(missing) else ""))


def find_asf(amc_path: Path) -> Path:
    """The skeleton for an AMC: HDM05 ``HDM_<actor>_*.amc`` → ``HDM_<actor>.asf``; CMU ``<subj>_<take>.amc``
    → ``<subj>.asf``; else the only .asf in the folder."""
    folder = amc_path.parent
    asfs = [p for p in folder.iterdir() if p.suffix.lower() == ".asf"] if folder.is_dir() else []
    stem = amc_path.stem
    cands = []
    parts = stem.split("_")
    if len(parts) >= 2 and parts[0].upper() == "HDM":
        cands.append(f"HDM_{parts[1]}")
    cands.append(parts[0])
    for c in cands:
        for p in asfs:
            if p.stem.lower() == c.lower():
                return p
    if len(asfs) == 1:
        return asfs[0]
    raise MotionImportError(f"AMC {amc_path}: cannot find its ASF skeleton in {folder} "
                            f"({len(asfs)} .asf files there); pass asf_path")
