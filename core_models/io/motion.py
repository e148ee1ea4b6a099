"""The :class:`Motion` type: any imported skeleton animation, before retargeting to SMPL-H.

Conventions (every importer converts to these):

* World frame: y up, metres (``meta["units"]`` says whether the unit was known or assumed).
* Joints form a tree in topological order (``parents[j] < j``, ``parents[0] == -1``).
* ``offsets[j]`` is joint j's rest position relative to its parent, expressed in the parent's *local*
  frame (the BVH convention). ``offsets[0]`` is informational only (the root's position comes from
  ``root_translation``).
* ``rotations[f, j]`` is joint j's local rotation (3x3) relative to its parent's frame; the rotation of
  joint j moves the segments to j's children. Forward kinematics (column vectors)::

      G[root] = rotations[root];           p[root] = root_translation
      G[j]    = G[parent] @ rotations[j];  p[j]    = p[parent] + G[parent] @ offsets[j]

* End sites (BVH ``End Site``, ASF bone ends, ...) are ordinary joints with ``is_end[j] = True`` and
  identity rotation.
* ``tpose`` (optional, (J,3,3) local rotations): a pose of this rig that stands in the SMPL T-pose (arms
  horizontal, palms down, legs straight, body facing the rig's forward) with anatomically neutral twists.
  Retargeting uses it to calibrate per-bone twist. ``None`` means the all-identity (zero) pose is such a
  T-pose (true for ASF/AMC, CMU exp-map and most BVH exports).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core_models.pose import aa_to_matrix, euler_to_matrix, quat_to_matrix


class MotionImportError(ValueError):
    """A motion file that cannot be imported. The message says what is wrong and where."""


@dataclass
class Motion:
    names: list[str]
    parents: np.ndarray  # (J,) int64
    offsets: np.ndarray  # (J,3) float64, metres, parent-local
    rotations: np.ndarray  # (F,J,3,3) float64 local rotations
    root_translation: np.ndarray  # (F,3) float64 world position of joint 0, metres, y up
    fps: float
    source: str = ""
    fmt: str = ""
    rig: str = "generic"
    is_end: np.ndarray | None = None  # (J,) bool
    tpose: np.ndarray | None = None  # (J,3,3) local rotations, see module docstring
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.names = [str(n) for n in self.names]
        self.parents = np.asarray(self.parents, dtype=np.int64)
        self.offsets = np.asarray(self.offsets, dtype=np.float64)
        self.rotations = np.asarray(self.rotations, dtype=np.float64)
        self.root_translation = np.asarray(self.root_translation, dtype=np.float64)
        J = len(self.names)
        where = f" ({self.source})" if self.source else ""
        if J == 0:
            raise MotionImportError(f"motion has no joints{where}")
        if len(set(self.names)) != J:
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise MotionImportError(f"duplicate joint names {dup[:5]}{where}")
        if self.parents.shape != (J,):
            raise MotionImportError(f"parents: expected ({J},), got {self.parents.shape}{where}")
        if self.parents[0] != -1 or np.any(self.parents[1:] < 0) or np.any(self.parents[1:] >= np.arange(1, J)):
            raise MotionImportError(f"parents must be topologically ordered with a single root{where}")
        if self.offsets.shape != (J, 3):
            raise MotionImportError(f"offsets: expected ({J}, 3), got {self.offsets.shape}{where}")
        if self.rotations.ndim != 4 or self.rotations.shape[1:] != (J, 3, 3):
            raise MotionImportError(f"rotations: expected (F, {J}, 3, 3), got {self.rotations.shape}{where}")
        F = self.rotations.shape[0]
        if F == 0:
            raise MotionImportError(f"motion has no frames{where}")
        if self.root_translation.shape != (F, 3):
            raise MotionImportError(f"root_translation: expected ({F}, 3), got {self.root_translation.shape}{where}")
        for name, a in (("offsets", self.offsets), ("rotations", self.rotations),
                        ("root_translation", self.root_translation)):
            if not np.all(np.isfinite(a)):
                raise MotionImportError(f"{name} contains NaN or infinite values{where}")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MotionImportError(f"fps must be a positive number, got {self.fps}{where}")
        self.fps = float(self.fps)
        if self.is_end is None:
            self.is_end = np.zeros(J, dtype=bool)
        self.is_end = np.asarray(self.is_end, dtype=bool)
        if self.tpose is not None:
            self.tpose = np.asarray(self.tpose, dtype=np.float64)
            if self.tpose.shape != (J, 3, 3):
                raise MotionImportError(f"tpose: expected ({J}, 3, 3), got {self.tpose.shape}{where}")

    # --- views ---------------------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.rotations.shape[0])

    @property
    def num_joints(self) -> int:
        return len(self.names)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no joint named {name!r} in {self.source or 'motion'}") from None

    def children(self, j: int) -> list[int]:
        return [int(c) for c in np.nonzero(self.parents == j)[0]]

    def fk(self, rotations: np.ndarray | None = None, root_translation: np.ndarray | None = None):
        """Forward kinematics → (global rotations (F,J,3,3), global positions (F,J,3))."""
        R = self.rotations if rotations is None else np.asarray(rotations, dtype=np.float64)
        t = self.root_translation if root_translation is None else np.asarray(root_translation, np.float64)
        return forward_kinematics(R, self.offsets, self.parents, t)

    def global_positions(self) -> np.ndarray:
        """(F,J,3) world joint positions, metres, y up."""
        return self.fk()[1]

    def global_rotations(self) -> np.ndarray:
        return self.fk()[0]

    def rest_positions(self, tpose: bool = False) -> np.ndarray:
        """(J,3) joint positions of the zero pose (or of :attr:`tpose`), root at the origin."""
        R = np.broadcast_to(np.eye(3), (1, self.num_joints, 3, 3))
        if tpose and self.tpose is not None:
            R = self.tpose[None]
        return forward_kinematics(R, self.offsets, self.parents, np.zeros((1, 3)))[1][0]

    def slice(self, start: int = 0, stop: int | None = None, step: int = 1) -> "Motion":
        sl = slice(start, stop, step)
        return Motion(self.names, self.parents, self.offsets, self.rotations[sl], self.root_translation[sl],
                      self.fps / step, self.source, self.fmt, self.rig, self.is_end, self.tpose, dict(self.meta))

    def __repr__(self) -> str:
        return (f"Motion({self.fmt or '?'}:{self.rig}, {self.num_joints} joints, {self.num_frames} frames @ "
                f"{self.fps:g} fps, source={self.source!r})")


def forward_kinematics(rotations: np.ndarray, offsets: np.ndarray, parents: np.ndarray,
                       root_translation: np.ndarray):
    """Batched FK for an arbitrary tree. rotations (F,J,3,3), offsets (J,3), root_translation (F,3)."""
    F, J = rotations.shape[:2]
    G = np.empty_like(rotations)
    P = np.empty((F, J, 3), dtype=rotations.dtype)
    G[:, 0] = rotations[:, 0]
    P[:, 0] = root_translation
    for j in range(1, J):
        p = parents[j]
        G[:, j] = G[:, p] @ rotations[:, j]
        P[:, j] = P[:, p] + G[:, p] @ offsets[j]
    return G, P


# --- rotation helpers shared by the importers ---------------------------------------------------------

def axis_rotation(axis: str, angle_rad: np.ndarray) -> np.ndarray:
    """(...,) angles → (...,3,3) float64 rotation about the named axis ('x', 'y' or 'z'), right-handed."""
    a = axis.upper()
    if a not in ("X", "Y", "Z"):
        raise ValueError(f"unknown axis {axis!r}")
    return euler_to_matrix(np.asarray(angle_rad, np.float64)[..., None], a, degrees=False)


def euler_matrix(angles_deg: np.ndarray, axes: str) -> np.ndarray:
    """Intrinsic rotations in the listed order: axes 'ZYX' → Rz(a0)·Ry(a1)·Rx(a2) (BVH channel order).

    angles_deg (..., len(axes)). Angles are not wrapped (not needed for matrices). float64 (roma)."""
    return euler_to_matrix(np.asarray(angles_deg, dtype=np.float64), axes.upper(), degrees=True)


def rotvec_matrix(rv: np.ndarray) -> np.ndarray:
    """(...,3) rotation vectors (radians) → (...,3,3) float64 (roma, :func:`core_models.pose.aa_to_matrix`)."""
    return aa_to_matrix(np.asarray(rv, dtype=np.float64))


def quat_wxyz_matrix(q: np.ndarray, where: str = "") -> np.ndarray:
    """(...,4) quaternions (w,x,y,z), normalised here → (...,3,3) float64 (roma,
    :func:`core_models.pose.quat_to_matrix`). Zero quaternions are an error."""
    q = np.asarray(q, dtype=np.float64)
    if np.any(np.linalg.norm(q, axis=-1) < 1e-8):
        raise MotionImportError(f"zero-length quaternion{where}")
    return quat_to_matrix(np.concatenate([q[..., 1:], q[..., :1]], -1))


def read_text(path, what: str) -> str:
    """Read a text file for an importer: binary content, undecodable bytes or an empty file raise."""
    from pathlib import Path

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise MotionImportError(f"{what}: cannot read {p}: {e.strerror or e}") from None
    if not data.strip():
        raise MotionImportError(f"{what}: {p} is empty")
    if b"\x00" in data[:65536]:
        raise MotionImportError(f"{what}: {p} looks binary (contains NUL bytes), not a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes everything
            raise MotionImportError(f"{what}: {p} is not text") from None
        bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f\v")
        if bad > 0.01 * len(text):
            raise MotionImportError(f"{what}: {p} looks binary (control characters), not a text file")
        return text


def parse_float(tok: str, where: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise MotionImportError(f"{where}: {tok[:40]!r} is not a number") from None
    if not np.isfinite(v):
        raise MotionImportError(f"{where}: value {tok[:40]!r} is not finite")
    return v


def manifest_fps(path) -> float | None:
    """Frame rate of ``path`` from a data-package ``MANIFEST.tsv`` (columns ``path`` and ``fps``) in one
    of its parent folders, or None. Formats without a frame rate in the file (AMC, exp-map CSV) use it."""
    from pathlib import Path

    p = Path(path).resolve()
    for root in list(p.parents)[:4]:
        man = root / "MANIFEST.tsv"
        if not man.is_file():
            continue
        try:
            rel = p.relative_to(root).as_posix()
            with open(man, encoding="utf-8", errors="replace") as fh:
                header = fh.readline().rstrip("\r\n").split("\t")
                if "path" not in header or "fps" not in header:
                    return None
                ip, ifps = header.index("path"), header.index("fps")
                for line in fh:
                    cols = line.rstrip("\r\n").split("\t")
                    if len(cols) > max(ip, ifps) and cols[ip] == rel:
                        v = float(cols[ifps])
                        return v if np.isfinite(v) and v > 0 else None
        except (OSError, ValueError):
            return None
        return None
    return None
