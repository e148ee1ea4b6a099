"""The editing document (no Qt): current pose, body backend + phenotype, keyframes, file path, dirty flag.

``Session.to_dict()`` / ``Session.from_dict()`` give a versioned, JSON-able form that round-trips poses
*exactly* (float32 values are written as the shortest decimal that reads back to the same float32's
float64 widening, so ``json.dumps``/``json.loads`` restores bit-identical arrays).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core_models.pose import Pose, PoseError

SESSION_FORMAT = "posetailor-session"
SESSION_VERSION = 1
DEFAULT_BACKEND = "anny"
BACKENDS = ("anny", "smplh")
PHENOTYPE_KEYS = ("gender", "age", "muscle", "weight", "height", "proportions")


class SessionError(ValueError):
    """A session file/dict that cannot be used; the message says what is wrong."""


def default_phenotype() -> dict[str, float]:
    return {k: 0.5 for k in PHENOTYPE_KEYS}


# --- pose <-> JSON ---------------------------------------------------------------------------------------

def pose_to_dict(pose: Pose) -> dict[str, Any]:
    """A single (unbatched) pose as plain lists of floats."""
    if pose.batch_shape != ():
        raise SessionError(f"expected a single pose, got batch shape {pose.batch_shape}")
    d: dict[str, Any] = {
        "root_orient": pose.root_orient.astype(np.float64).tolist(),
        "body_pose": pose.body_pose.astype(np.float64).tolist(),
        "transl": pose.transl.astype(np.float64).tolist(),
    }
    if pose.hand_pose is not None:
        d["hand_pose"] = pose.hand_pose.astype(np.float64).tolist()
    return d


def pose_from_dict(d: Any, where: str = "pose") -> Pose:
    if not isinstance(d, dict):
        raise SessionError(f"{where}: expected an object with root_orient/body_pose/transl")
    missing = [k for k in ("root_orient", "body_pose") if k not in d]
    if missing:
        raise SessionError(f"{where}: missing {', '.join(missing)}")
    try:
        p = Pose(np.asarray(d["root_orient"], dtype=np.float32), np.asarray(d["body_pose"], dtype=np.float32),
                 np.zeros(3, np.float32) if d.get("transl") is None else np.asarray(d["transl"], dtype=np.float32),
                 None if d.get("hand_pose") is None else np.asarray(d["hand_pose"], dtype=np.float32))
    except (PoseError, TypeError, ValueError) as e:
        raise SessionError(f"{where}: {e}") from None
    if p.batch_shape != ():
        raise SessionError(f"{where}: expected a single pose, got batch shape {p.batch_shape}")
    return p


def poses_equal(a: Pose | None, b: Pose | None) -> bool:
    """Exact equality (including hand poses)."""
    if a is None or b is None:
        return a is b
    if (a.hand_pose is None) != (b.hand_pose is None):
        return False
    same = (np.array_equal(a.root_orient, b.root_orient) and np.array_equal(a.body_pose, b.body_pose)
            and np.array_equal(a.transl, b.transl))
    if a.hand_pose is None or b.hand_pose is None:
        return same
    return same and np.array_equal(a.hand_pose, b.hand_pose)


# --- the document ----------------------------------------------------------------------------------------

@dataclass
class Keyframe:
    name: str
    pose: Pose


@dataclass
class Session:
    """The document the app edits. Mutate through the methods so ``dirty`` and ``revision`` stay right."""

    pose: Pose = field(default_factory=Pose.zeros)
    body_backend: str = DEFAULT_BACKEND
    phenotype: dict[str, float] = field(default_factory=default_phenotype)
    keyframes: list[Keyframe] = field(default_factory=list)
    path: str | None = None  # the pose file this session was opened from / saved to
    dirty: bool = False
    revision: int = 0  # increases with every change (autosave uses it)

    def _touch(self) -> None:
        self.dirty = True
        self.revision += 1

    # edits
    def set_pose(self, pose: Pose) -> None:
        if pose.batch_shape != ():
            raise SessionError(f"expected a single pose, got batch shape {pose.batch_shape}")
        self.pose = pose.copy()
        self._touch()

    def set_phenotype(self, phenotype: dict[str, float]) -> None:
        self.phenotype = _check_phenotype(phenotype)
        self._touch()

    def set_body_backend(self, backend: str) -> None:
        if backend not in BACKENDS:
            raise SessionError(f"unknown body backend {backend!r} (use {' or '.join(BACKENDS)})")
        self.body_backend = backend
        self._touch()

    def add_keyframe(self, name: str, pose: Pose, index: int | None = None) -> int:
        kf = Keyframe(str(name), pose.copy())
        idx = len(self.keyframes) if index is None else max(0, min(int(index), len(self.keyframes)))
        self.keyframes.insert(idx, kf)
        self._touch()
        return idx

    def remove_keyframe(self, index: int) -> Keyframe:
        if not 0 <= index < len(self.keyframes):
            raise SessionError(f"no keyframe {index} (there are {len(self.keyframes)})")
        kf = self.keyframes.pop(index)
        self._touch()
        return kf

    def next_keyframe_name(self) -> str:
        names = {k.name for k in self.keyframes}
        i = len(self.keyframes) + 1
        while f"Key {i}" in names:
            i += 1
        return f"Key {i}"

    def mark_saved(self, path: str | os.PathLike | None = None) -> None:
        if path is not None:
            self.path = str(path)
        self.dirty = False

    @property
    def display_name(self) -> str:
        return Path(self.path).name if self.path else "Untitled"

    # serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SESSION_FORMAT,
            "version": SESSION_VERSION,
            "pose": pose_to_dict(self.pose),
            "body": {"backend": self.body_backend, "phenotype": dict(self.phenotype)},
            "keyframes": [{"name": k.name, "pose": pose_to_dict(k.pose)} for k in self.keyframes],
            "path": self.path,
            "dirty": self.dirty,
        }

    @classmethod
    def from_dict(cls, d: Any) -> "Session":
        if not isinstance(d, dict):
            raise SessionError("session: expected a JSON object")
        if d.get("format") != SESSION_FORMAT:
            raise SessionError(f"not a PoseTailor session (format={d.get('format')!r})")
        v = d.get("version")
        if not isinstance(v, int) or v < 1:
            raise SessionError(f"session: bad version {v!r}")
        if v > SESSION_VERSION:
            raise SessionError(f"session version {v} is newer than this PoseTailor understands "
                               f"({SESSION_VERSION}); please update the app")
        pose = pose_from_dict(d.get("pose"), "pose")
        body = d.get("body") or {}
        if not isinstance(body, dict):
            raise SessionError("session: 'body' must be an object")
        backend = body.get("backend", DEFAULT_BACKEND)
        if backend not in BACKENDS:
            raise SessionError(f"session: unknown body backend {backend!r}")
        phenotype = _check_phenotype(body.get("phenotype") or {})
        kfs_raw = d.get("keyframes") or []
        if not isinstance(kfs_raw, list):
            raise SessionError("session: 'keyframes' must be a list")
        kfs = []
        for i, k in enumerate(kfs_raw):
            if not isinstance(k, dict) or not isinstance(k.get("name", ""), str):
                raise SessionError(f"keyframe {i}: expected {{name, pose}}")
            kfs.append(Keyframe(k.get("name") or f"Key {i + 1}", pose_from_dict(k.get("pose"), f"keyframe {i}")))
        path = d.get("path")
        if path is not None and not isinstance(path, str):
            raise SessionError("session: 'path' must be a string or null")
        return cls(pose=pose, body_backend=backend, phenotype=phenotype, keyframes=kfs, path=path,
                   dirty=bool(d.get("dirty", False)))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> "Session":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise SessionError(f"not valid JSON ({e})") from None
        return cls.from_dict(d)

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole session (pose, body, keyframes) as JSON, atomically."""
        from core_models.autosave import atomic_write_text

        d = self.to_dict()
        d["dirty"] = False
        atomic_write_text(path, json.dumps(d, indent=1, allow_nan=False))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Session":
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SessionError(f"{p.name}: cannot read ({e})") from None
        try:
            return cls.from_json(text)
        except SessionError as e:
            raise SessionError(f"{p.name}: {e}") from None


def _check_phenotype(ph: Any) -> dict[str, float]:
    if not isinstance(ph, dict):
        raise SessionError("phenotype must be an object")
    out = default_phenotype()
    for k, v in ph.items():
        if k not in PHENOTYPE_KEYS:
            raise SessionError(f"unknown phenotype key {k!r} (expected {', '.join(PHENOTYPE_KEYS)})")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise SessionError(f"phenotype {k}: not a number ({v!r})") from None
        if not 0.0 <= f <= 1.0:
            raise SessionError(f"phenotype {k}: {f} is outside [0, 1]")
        out[k] = f
    return out
