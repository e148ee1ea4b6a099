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

from core_models.io.motion import (Motion, MotionImportError, euler_matrix, manifest_fps, parse_float,
                                   read_text)

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


def parse_asf(path) -> dict:
    path = Path(path)
    text = read_text(path, "ASF")
    lines = text.splitlines()
    where = str(path)

    def err(ln, msg):
        return MotionImportError(f"ASF {where}, line {ln}: {msg}")

    length_unit, angle_deg = 1.0, True
    root = {"order": ["tx", "ty", "tz", "rx", "ry", "rz"], "axis": "XYZ", "position": (0.0, 0.0, 0.0),
            "orientation": (0.0, 0.0, 0.0)}
    bones: dict[str, _Bone] = {}
    order: list[str] = []
    hierarchy: list[tuple[int, list[str]]] = []
    section = None
    cur: _Bone | None = None
    in_limits = False
    saw_any = False
    for ln, raw in enumerate(lines, 1):
        s = raw.split("#", 1)[0].strip()
        if not s:
            continue
        toks = s.split()
        if toks[0].startswith(":"):
            saw_any = True
            section = toks[0][1:].lower()
            in_limits = False
            if cur is not None:
                raise err(ln, f"bone block starting at line {cur.line} is not closed with 'end'")
            if section == "name" or section == "version" or section == "documentation":
                continue
            if section in ("units", "root", "bonedata", "hierarchy", "skin"):
                continue
            continue  # unknown sections are skipped
        if section is None:
            raise err(ln, f"unexpected {toks[0][:40]!r} before the first ':section' (not an ASF file?)")
        key = toks[0].lower()
        if section == "units":
            if key == "length" and len(toks) >= 2:
                length_unit = parse_float(toks[1], f"ASF {where}, line {ln}")
                if length_unit <= 0:
                    raise err(ln, "units length must be positive")
            elif key == "angle" and len(toks) >= 2:
                if toks[1].lower() not in ("deg", "rad"):
                    raise err(ln, f"unknown angle unit {toks[1][:20]!r}")
                angle_deg = toks[1].lower() == "deg"
        elif section == "root":
            if key == "order":
                o = [t.lower() for t in toks[1:]]
                if not o or any(t not in _ALL_DOF for t in o) or len(set(o)) != len(o):
                    raise err(ln, f"bad root order {' '.join(toks[1:])[:60]!r}")
                root["order"] = o
            elif key == "axis":
                if len(toks) != 2 or sorted(toks[1].upper()) != ["X", "Y", "Z"]:
                    raise err(ln, f"bad root axis {' '.join(toks[1:])[:40]!r}")
                root["axis"] = toks[1].upper()
            elif key in ("position", "orientation"):
                if len(toks) != 4:
                    raise err(ln, f"root {key} needs 3 numbers")
                root[key] = tuple(parse_float(t, f"ASF {where}, line {ln}") for t in toks[1:])
        elif section == "bonedata":
            if key == "begin":
                cur = _Bone(ln)
                in_limits = False
            elif key == "end":
                if cur is None:
                    raise err(ln, "'end' without 'begin'")
                if cur.name is None or cur.direction is None or cur.length is None:
                    raise err(ln, f"bone block from line {cur.line} lacks name/direction/length")
                if cur.name in bones or cur.name == "root":
                    raise err(ln, f"duplicate bone {cur.name!r}")
                bones[cur.name] = cur
                order.append(cur.name)
                cur = None
            elif cur is None:
                raise err(ln, f"{toks[0][:40]!r} outside a begin/end bone block")
            elif key == "id":
                pass
            elif key == "name":
                if len(toks) != 2:
                    raise err(ln, "bone name must be one word")
                cur.name = toks[1]
                in_limits = False
            elif key == "direction":
                if len(toks) != 4:
                    raise err(ln, "direction needs 3 numbers")
                d = np.array([parse_float(t, f"ASF {where}, line {ln}") for t in toks[1:]])
                n = np.linalg.norm(d)
                cur.direction = d / n if n > 0 else d
            elif key == "length":
                if len(toks) != 2:
                    raise err(ln, "length needs 1 number")
                cur.length = parse_float(toks[1], f"ASF {where}, line {ln}")
                if cur.length < 0:
                    raise err(ln, "negative bone length")
            elif key == "axis":
                if len(toks) != 5 or sorted(toks[4].upper()) != ["X", "Y", "Z"]:
                    raise err(ln, "axis needs 3 numbers and an order such as XYZ")
                cur.axis = tuple(parse_float(t, f"ASF {where}, line {ln}") for t in toks[1:4])
                cur.axis_order = toks[4].upper()
            elif key == "dof":
                d = [t.lower() for t in toks[1:]]
                if any(t not in _ALL_DOF for t in d) or len(set(d)) != len(d):
                    raise err(ln, f"bad dof line {' '.join(toks[1:])[:60]!r}")
                cur.dof = d
            elif key == "limits" or in_limits or key.startswith("("):
                in_limits = True  # limits are not used
            elif key == "bodymass" or key == "cofmass":
                pass
            else:
                raise err(ln, f"unexpected {toks[0][:40]!r} in bone block")
        elif section == "hierarchy":
            if key in ("begin", "end"):
                continue
            hierarchy.append((ln, toks))
    if not saw_any:
        raise MotionImportError(f"ASF {where}: no ':' sections (not an ASF file)")
    if cur is not None:
        raise MotionImportError(f"ASF {where}: bone block from line {cur.line} is not closed (truncated?)")
    if not bones:
        raise MotionImportError(f"ASF {where}: no bones in :bonedata")
    if not hierarchy:
        raise MotionImportError(f"ASF {where}: empty :hierarchy")
    for ln, toks in hierarchy:
        par = toks[0]
        if par != "root" and par not in bones:
            raise err(ln, f"unknown parent bone {par!r} in hierarchy")
        for c in toks[1:]:
            if c not in bones:
                raise err(ln, f"unknown bone {c!r} in hierarchy")
            if bones[c].parent is not None:
                raise err(ln, f"bone {c!r} has two parents")
            bones[c].parent = par
    # topological order from the root
    topo: list[str] = []
    frontier = ["root"]
    while frontier:
        nxt = []
        for p in frontier:
            for ln, toks in hierarchy:
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
    return {"length_unit": length_unit, "angle_deg": angle_deg, "root": root, "bones": bones, "topo": topo,
            "path": where}


def _order_matrix(values_deg_or_rad, axes_in_order: str, deg: bool) -> np.ndarray:
    """Composition with the axis named first applied first: 'XYZ' → Rz·Ry·Rx."""
    v = np.asarray(values_deg_or_rad, dtype=np.float64)
    if not deg:
        v = np.rad2deg(v)
    return euler_matrix(v[..., ::-1], axes_in_order[::-1])


def load_amc(amc_path, asf_path=None, fps: float | None = None) -> Motion:
    amc_path = Path(amc_path)
    if asf_path is None:
        asf_path = find_asf(amc_path)
    asf = parse_asf(asf_path)
    scale = 0.0254 / asf["length_unit"]
    deg = asf["angle_deg"]
    bones: dict[str, _Bone] = asf["bones"]
    topo: list[str] = asf["topo"]
    root = asf["root"]
    where = str(amc_path)

    text = read_text(amc_path, "AMC")
    lines = text.splitlines()
    need = {"root": len(root["order"])}
    for b in topo:
        if bones[b].dof:
            need[b] = len(bones[b].dof)
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
        name = toks[0]
        if name not in need:
            if name in bones:
                raise MotionImportError(f"AMC {where}, line {ln}: bone {name!r} has no dof in the ASF")
            raise MotionImportError(f"AMC {where}, line {ln}: unknown bone {name[:40]!r}")
        if name in cur:
            raise MotionImportError(f"AMC {where}, line {ln}: bone {name!r} twice in one frame")
        if len(toks) - 1 != need[name]:
            raise MotionImportError(f"AMC {where}, line {ln}: bone {name!r} needs {need[name]} values, "
                                    f"got {len(toks) - 1}")
        cur[name] = [parse_float(t, f"AMC {where}, line {ln}") for t in toks[1:]]
    if cur is None:
        raise MotionImportError(f"AMC {where}: no frames")
    _check_frame(cur, need, where, frame_lines[-1])

    F = len(frames)
    # joints: root, one per bone (at the bone's start), an end joint per leaf bone
    names = ["root"]
    parents = [-1]
    offsets = [np.zeros(3)]
    jidx = {"root": 0}
    children = {b: [] for b in topo}
    for b in topo:
        p = bones[b].parent
        if p != "root":
            children[p].append(b)
    for b in topo:
        p = bones[b].parent
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
    J = len(names)
    # reorder to a topological order where parents precede children (already true by construction)
    rot = np.broadcast_to(np.eye(3), (F, J, 3, 3)).copy()
    trans = np.zeros((F, 3))
    # root
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
    for b in topo:
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
