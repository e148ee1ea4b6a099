"""Coach targets and routines: a target pose with a hold time (and optional per-joint weights), a routine = a list
of targets. Routines are JSON files (``load_routine`` / ``save_routine``); a target names a library pose
(``"library": "tree"``) or carries its own axis-angle pose (``"pose": {"axis_angle": 22×3, "transl": 3}``)."""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core_models import skeleton as sk
from core_models.pose import Pose

ROUTINE_FORMAT = "posetailor-coach-routine"
ROUTINE_VERSION = 1


class CoachError(ValueError):
    """A bad target, routine file or report path: the message says what and where."""


@dataclass
class CoachTarget:
    name: str
    pose: Pose
    hold_s: float = 20.0
    weights: np.ndarray | None = None  # (22,) what matters for this pose; None: derived from the pose
    library: str | None = None         # the library slug it came from (kept when saved in a routine)

    def __post_init__(self):
        if not (isinstance(self.hold_s, (int, float)) and math.isfinite(self.hold_s) and self.hold_s > 0):
            raise CoachError(f"target {self.name!r}: hold time must be a positive number of seconds, "
                             f"got {self.hold_s!r}")
        if self.pose.batch_shape != ():
            raise CoachError(f"target {self.name!r}: one pose expected, got a batch {self.pose.batch_shape}")
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=np.float32).reshape(-1)
            if w.shape != (sk.NUM_JOINTS,) or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise CoachError(f"target {self.name!r}: weights must be 22 non-negative numbers")
            self.weights = w


@dataclass
class Routine:
    name: str
    targets: list[CoachTarget]

    def __post_init__(self):
        if not self.targets:
            raise CoachError(f"routine {self.name!r} has no targets")


def _library() -> dict[str, Pose]:
    from core_models.library import load_builtin

    out: dict[str, Pose] = {}
    for item in load_builtin():
        out[item.slug] = item.pose
    return out


def library_names() -> list[str]:
    return sorted(_library())


def _pretty(slug: str) -> str:
    return {"warrior_i": "Warrior I", "warrior_ii": "Warrior II", "t_pose": "T-pose", "a_pose": "A-pose"}.get(
        slug, slug.replace("_", " ").capitalize())


def target_from_library(name: str, hold_s: float = 20.0) -> CoachTarget:
    """A built-in library pose as a target (``"tree"``, ``"warrior_ii"``, ...; case and spaces don't matter).
    ValueError (:class:`CoachError`) lists the names when there is no such pose."""
    slug = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    lib = _library()
    if slug not in lib:
        raise CoachError(f"no library pose named {name!r}; choose one of: {', '.join(sorted(lib))}")
    return CoachTarget(_pretty(slug), lib[slug], float(hold_s), library=slug)


def _pose_to_json(p: Pose) -> dict:
    aa = np.concatenate([np.asarray(p.root_orient).reshape(1, 3), np.asarray(p.body_pose).reshape(21, 3)])
    return {"axis_angle": np.round(aa.astype(np.float64), 6).tolist(),
            "transl": np.round(np.asarray(p.transl, np.float64), 6).tolist()}


def _pose_from_json(d: object, where: str) -> Pose:
    if not isinstance(d, dict):
        raise CoachError(f"{where}: 'pose' must be an object with 'axis_angle' (22×3 numbers)")
    try:
        aa = np.asarray(d["axis_angle"], dtype=np.float32)
        tr = np.asarray(d.get("transl", [0, 0, 0]), dtype=np.float32)
    except (TypeError, KeyError, ValueError) as e:
        raise CoachError(f"{where}: 'pose' needs 'axis_angle' (22×3 numbers): {e}") from None
    if aa.shape != (sk.NUM_JOINTS, 3) or tr.shape != (3,) or not (np.isfinite(aa).all() and np.isfinite(tr).all()):
        raise CoachError(f"{where}: 'axis_angle' must be 22×3 finite numbers and 'transl' 3")
    return Pose(aa[0], aa[1:], tr)


def _target_from_json(d: object, i: int, path: Path) -> CoachTarget:
    where = f"{path}: target {i + 1}"
    if not isinstance(d, dict):
        raise CoachError(f"{where}: expected an object, got {type(d).__name__}")
    hold = d.get("hold_s", 20.0)
    if not isinstance(hold, (int, float)) or isinstance(hold, bool):
        raise CoachError(f"{where}: 'hold_s' must be a number")
    if "library" in d:
        t = target_from_library(str(d["library"]), float(hold))
        if d.get("name"):
            t.name = str(d["name"])
    elif "pose" in d:
        t = CoachTarget(str(d.get("name") or f"Target {i + 1}"), _pose_from_json(d["pose"], where), float(hold))
    else:
        raise CoachError(f"{where}: needs 'library' (a library pose name) or 'pose'")
    if d.get("weights") is not None:
        t.weights = np.asarray(d["weights"], dtype=np.float32)
        t.__post_init__()
    return t


def load_routine(path: str | os.PathLike) -> Routine:
    """Read a routine JSON file; :class:`CoachError` says what is wrong (missing file, bad JSON, bad target)."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CoachError(f"routine file {p} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CoachError(f"cannot read routine file {p}: {e}") from None
    if not isinstance(d, dict) or d.get("format", ROUTINE_FORMAT) != ROUTINE_FORMAT:
        raise CoachError(f"{p} is not a coach routine (expected a JSON object with format {ROUTINE_FORMAT!r})")
    items = d.get("targets")
    if not isinstance(items, list) or not items:
        raise CoachError(f"{p}: 'targets' must be a non-empty list")
    return Routine(str(d.get("name") or p.stem), [_target_from_json(x, i, p) for i, x in enumerate(items)])


def save_routine(routine: Routine, path: str | os.PathLike) -> Path:
    """Write ``routine`` as JSON (atomic). Library targets are stored by name, others with their pose."""
    p = Path(path)
    if not p.parent.is_dir():
        raise CoachError(f"cannot save the routine: folder {p.parent} does not exist")
    items = []
    for t in routine.targets:
        d: dict = {"name": t.name, "hold_s": float(t.hold_s)}
        if t.library:
            d["library"] = t.library
        else:
            d["pose"] = _pose_to_json(t.pose)
        if t.weights is not None:
            d["weights"] = np.round(t.weights.astype(np.float64), 4).tolist()
        items.append(d)
    text = json.dumps({"format": ROUTINE_FORMAT, "version": ROUTINE_VERSION, "name": routine.name,
                       "targets": items}, indent=1)
    tmp = p.with_name(p.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
    except OSError as e:
        raise CoachError(f"cannot save the routine to {p}: {e}") from None
    return p


def single_routine(target: CoachTarget) -> Routine:
    return Routine(target.name, [target])
