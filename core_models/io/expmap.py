"""CMU exponential-map CSV importer (motion-prediction benchmark layout) + its ``skeleton.json``.

The skeleton file (searched in the CSV's folder and up to three parent folders, or given) holds
``parents``, ``offsets`` (CMU ASF units), ``metres_per_unit``, ``num_columns`` and the column layout.
Conventions, as stated in ``skeleton.json`` (reference FK with row vectors)::

    R_global[i] = R(r_i) · R_global[parent];  p[i] = offsets[i] · R_global[parent] + p[parent]

With column vectors that is ``G[i] = G[parent] · R(r_i)ᵀ``, ``p[i] = p[parent] + G[parent] · offsets[i]``,
so the local rotation stored in :class:`Motion` is ``R(r_i)ᵀ = R(-r_i)``. The root position is read as
(col2, col1, col0), as the reference code does. Offsets and root position × ``metres_per_unit``.

Joint names: the ASF bone whose rotation a node carries (``inferred_asf_bone_of_rotation``; the same
names as the ASF/AMC importer, e.g. ``lfemur`` = left hip joint), ``<parent>_end`` for end nodes.
The rest pose is the CMU T-pose with world-aligned frames (``tpose`` None). Frame rate: argument, else
the data package's MANIFEST.tsv, else 30.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core_models.io.motion import Motion, MotionImportError, manifest_fps, read_text, rotvec_matrix


def find_skeleton_json(csv_path: Path) -> Path:
    p = Path(csv_path).resolve().parent
    for _ in range(4):
        cand = p / "skeleton.json"
        if cand.is_file():
            return cand
        p = p.parent
    raise MotionImportError(f"exp-map {csv_path}: no skeleton.json in its folder or the 3 folders above")


def parse_skeleton_json(path) -> dict:
    path = Path(path)
    text = read_text(path, "exp-map skeleton.json")
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise MotionImportError(f"skeleton.json {path}: invalid JSON at line {e.lineno}: {e.msg}") from None
    if not isinstance(d, dict):
        raise MotionImportError(f"skeleton.json {path}: top level must be an object")
    try:
        parents = np.asarray(d["parents"], dtype=np.int64)
        offsets = np.asarray(d["offsets"], dtype=np.float64)
    except KeyError as e:
        raise MotionImportError(f"skeleton.json {path}: missing key {e.args[0]!r}") from None
    except (TypeError, ValueError):
        raise MotionImportError(f"skeleton.json {path}: parents/offsets are not numeric arrays") from None
    J = parents.shape[0] if parents.ndim == 1 else -1
    if J <= 0 or offsets.shape != (J, 3):
        raise MotionImportError(f"skeleton.json {path}: parents {parents.shape} and offsets {offsets.shape} "
                                "do not describe the same joints")
    if not np.all(np.isfinite(offsets)):
        raise MotionImportError(f"skeleton.json {path}: offsets contain NaN/inf")
    if parents[0] != -1 or np.any(parents[1:] < 0) or np.any(parents[1:] >= np.arange(1, J)):
        raise MotionImportError(f"skeleton.json {path}: parents must be topologically ordered")
    mpu = d.get("metres_per_unit", 0.0254 / 0.45)
    try:
        mpu = float(mpu)
    except (TypeError, ValueError):
        raise MotionImportError(f"skeleton.json {path}: metres_per_unit is not a number") from None
    if not (np.isfinite(mpu) and mpu > 0):
        raise MotionImportError(f"skeleton.json {path}: metres_per_unit must be positive")
    try:
        ncol = int(d.get("num_columns", 3 + 3 * J))
    except (TypeError, ValueError):
        raise MotionImportError(f"skeleton.json {path}: num_columns is not an integer") from None
    cols = d.get("columns", {}) if isinstance(d.get("columns", {}), dict) else {}
    pos_cols = cols.get("root_position", [0, 1, 2])
    rot_cols = cols.get("rotation_columns", [[3 + 3 * i, 4 + 3 * i, 5 + 3 * i] for i in range(J)])
    try:
        pos_cols = np.asarray(pos_cols, dtype=np.int64).reshape(3)
        rot_cols = np.asarray(rot_cols, dtype=np.int64).reshape(J, 3)
    except (TypeError, ValueError):
        raise MotionImportError(f"skeleton.json {path}: bad column layout") from None
    if pos_cols.min() < 0 or rot_cols.min() < 0 or max(pos_cols.max(), rot_cols.max()) >= ncol:
        raise MotionImportError(f"skeleton.json {path}: column layout outside 0..{ncol - 1}")
    bones = d.get("inferred_asf_bone_of_rotation")
    names = []
    for i in range(J):
        b = bones[i] if isinstance(bones, list) and len(bones) == J else None
        if isinstance(b, str) and b:
            names.append(b)
        elif i > 0:
            names.append(f"{names[parents[i]]}_end")
        else:
            names.append("root")
    # unique names (the end-name rule could collide if a parent has two end children)
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in seen:
            seen[n] += 1
            names[i] = f"{n}{seen[n]}"
        else:
            seen[n] = 0
    ends = np.array([not (isinstance(bones, list) and len(bones) == J and isinstance(bones[i], str))
                     for i in range(J)])
    ends[0] = False
    return {"parents": parents, "offsets": offsets, "mpu": mpu, "ncol": ncol, "pos_cols": pos_cols,
            "rot_cols": rot_cols, "names": names, "is_end": ends, "path": str(path)}


def load_expmap(path, skeleton=None, fps: float | None = None, reverse_root_columns: bool = False) -> Motion:
    path = Path(path)
    sk = parse_skeleton_json(skeleton if skeleton is not None else find_skeleton_json(path))
    text = read_text(path, "exp-map CSV")
    rows, row_lines = [], []
    for ln, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s:
            continue
        toks = [t.strip() for t in s.split(",")]
        if toks and toks[-1] == "":
            toks = toks[:-1]  # trailing comma
        if len(toks) != sk["ncol"]:
            raise MotionImportError(f"exp-map {path}, line {ln}: expected {sk['ncol']} comma-separated values, "
                                    f"got {len(toks)}")
        try:
            vals = np.array(toks, dtype=np.float64)
        except ValueError:
            bad = next((t for t in toks if not _is_float(t)), "?")
            raise MotionImportError(f"exp-map {path}, line {ln}: {bad[:40]!r} is not a number") from None
        if not np.all(np.isfinite(vals)):
            raise MotionImportError(f"exp-map {path}, line {ln}: NaN or infinite value")
        rows.append(vals)
        row_lines.append(ln)
    if not rows:
        raise MotionImportError(f"exp-map {path}: no data rows")
    data = np.stack(rows)
    rv = data[:, sk["rot_cols"]]  # (F,J,3)
    rot = np.swapaxes(rotvec_matrix(rv), -1, -2)  # local = R(r)^T
    pos = data[:, sk["pos_cols"]]
    if reverse_root_columns:
        pos = pos[:, ::-1]
    mpu = sk["mpu"]
    if fps is None:
        fps = manifest_fps(path) or 30.0
    meta = {"units": f"m (x{mpu:.6f} per CMU unit)", "skeleton": sk["path"]}
    return Motion(sk["names"], sk["parents"], sk["offsets"] * mpu, rot, pos * mpu, fps, str(path), "expmap",
                  "cmu_expmap", sk["is_end"], None, meta)


def _is_float(t: str) -> bool:
    try:
        float(t)
        return True
    except ValueError:
        return False
