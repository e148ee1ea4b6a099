"""Qt-free maths of the viewport's *drag pose* mode: effector handles (where they are drawn, how big, in which
colour, which one is under the cursor), the camera-facing grab plane a dragged handle moves on, pins, and
:class:`PoseDrag`, one drag from press to release around a :class:`core_models.posing.DragSolver`.

Handles sit on the posed joints named in :data:`HANDLES`: the main effectors (pelvis, head, wrists, ankles) and
the smaller pole hints (elbows, knees). A handle is a sphere of a constant on-screen size (``HANDLE_PX`` /
``POLE_PX`` pixels), picked like the joint markers (nearest hit along the cursor's ray, grown to a few pixels
of tolerance). A drag moves the effector on the plane through it that faces the camera, by the cursor's motion
on that plane (Blender's grab): the handle keeps its offset from the cursor. Pinned effectors hold the world
position they have at the start of each drag; pins are view state (not part of the pose, not undoable).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from core_models import skeleton as sk
from core_models.pose import Pose
from core_models.render.camera import OrbitCamera
from core_models.render.picking import ray_sphere

#: Handles drawn in drag-pose mode, in drawing order (a subset of core_models.posing.EFFECTORS).
MAIN_HANDLES: tuple[str, ...] = ("pelvis", "head", "left_wrist", "right_wrist", "left_ankle", "right_ankle")
POLE_HANDLES: tuple[str, ...] = ("left_elbow", "right_elbow", "left_knee", "right_knee")
HANDLES: tuple[str, ...] = MAIN_HANDLES + POLE_HANDLES
HANDLE_JOINTS: np.ndarray = np.array([sk.JOINT_INDEX[n] for n in HANDLES], np.int64)
#: On-screen radius (pixels) of a main handle and of a pole-hint handle.
HANDLE_PX = 9.0
POLE_PX = 6.0
#: Handle colours (sRGB): normal, pole hint, pinned, under the cursor, being dragged.
HANDLE_COLOR = (0.10, 0.78, 0.95)
POLE_COLOR = (0.62, 0.50, 0.98)
PINNED_COLOR = (0.92, 0.16, 0.14)
HOVER_COLOR = (0.98, 0.98, 0.98)
ACTIVE_COLOR = (1.00, 0.82, 0.10)


def pretty(name: str) -> str:
    """'left_wrist' → 'left wrist' (status bar and undo text)."""
    return name.replace("_", " ")


def handle_positions(joints: np.ndarray) -> np.ndarray:
    """(len(HANDLES), 3) world positions of the handles on posed joints (22, 3)."""
    return np.asarray(joints, np.float64).reshape(-1, 3)[HANDLE_JOINTS]


def handle_radii(camera: OrbitCamera, positions: np.ndarray, height: float, scale: float = 1.0) -> np.ndarray:
    """World radius of each handle so it is drawn HANDLE_PX (main) or POLE_PX (pole hint) pixels large."""
    px = np.array([HANDLE_PX if n in MAIN_HANDLES else POLE_PX for n in HANDLES]) * float(scale)
    return np.array([p * camera.world_per_pixel(c, height) for p, c in zip(px, positions)])


def handle_colors(pinned: set[str] | frozenset[str], hover: str | None = None,
                  active: str | None = None) -> np.ndarray:
    """(len(HANDLES), 3) sRGB colours: pinned red, the hovered one white, the dragged one yellow."""
    out = np.empty((len(HANDLES), 3), np.float32)
    for i, n in enumerate(HANDLES):
        c = np.asarray(POLE_COLOR if n in POLE_HANDLES else HANDLE_COLOR, np.float32)
        if n in pinned:
            c = np.asarray(PINNED_COLOR, np.float32)
        if n == hover:  # lighter: white, or a light red for a pinned handle
            c = 0.5 * (c + np.asarray(HOVER_COLOR, np.float32)) if n in pinned else np.asarray(HOVER_COLOR, np.float32)
        if n == active:
            c = np.asarray(ACTIVE_COLOR, np.float32)
        out[i] = c
    return out


def pick_handle(camera: OrbitCamera, px: float, py: float, width: float, height: float, positions: np.ndarray,
                radii: np.ndarray, tolerance_px: float = 4.0) -> int:
    """Index into HANDLES of the handle under pixel (px, py), or -1: the nearest hit along the cursor's ray,
    each handle's sphere grown by ``tolerance_px`` pixels."""
    P = np.asarray(positions, np.float64).reshape(-1, 3)
    o, d = camera.ray(px, py, width, height)
    grown = np.array([r + tolerance_px * camera.world_per_pixel(c, height) for r, c in zip(radii, P)])
    t = ray_sphere(o, d, P, grown)
    i = int(np.argmin(t))
    return i if np.isfinite(t[i]) else -1


class GrabPlane:
    """The plane through ``point`` facing the camera; ``target(px, py)`` is where the grabbed point goes when
    the cursor is at (px, py): ``point`` moved by the cursor's displacement on the plane since the grab."""

    def __init__(self, camera: OrbitCamera, point: np.ndarray, px: float, py: float, width: float, height: float):
        self.camera = camera.copy()
        self.size = (float(width), float(height))
        self.point = np.asarray(point, np.float64).reshape(3).copy()
        self.normal = self.camera.forward().astype(np.float64)
        hit = self._hit(px, py)
        self._grab = hit if hit is not None else self.point.copy()

    def _hit(self, px: float, py: float) -> np.ndarray | None:
        o, d = self.camera.ray(px, py, *self.size)
        den = float(np.dot(d, self.normal))
        if abs(den) < 1e-9:
            return None
        t = float(np.dot(self.point - o, self.normal)) / den
        return None if t <= 0 else o + t * d

    def target(self, px: float, py: float) -> np.ndarray:
        hit = self._hit(px, py)
        if hit is None:  # the ray runs along the plane (cannot happen for a camera-facing plane): stay
            return self.point.copy()
        return self.point + (hit - self._grab)


class Solver(Protocol):
    """What PoseDrag needs of core_models.posing.DragSolver."""

    def begin(self, pose: Pose, effector: str, pins: list[str] | None = None) -> Any: ...

    def update(self, target: np.ndarray, mode: str = "full") -> Pose: ...

    def end(self) -> Pose: ...


@dataclass
class DragResult:
    """The state after one solve: the pose, the dragged effector's miss (mm) and the worst pin's drift (mm)."""

    pose: Pose
    target: np.ndarray
    reach_mm: float
    pin_drift_mm: float = 0.0


@dataclass
class PoseDrag:
    """One drag of an effector: ``start`` at the press, ``move`` per cursor position, then ``finish`` (the
    final pose) or ``cancel`` (the start pose). ``positions(pose)`` gives {effector: (3,) world} for the reach
    error and the pins' drift (core_models.posing.effector_positions on the body's rest joints)."""

    solver: Solver
    positions: Callable[[Pose], dict[str, np.ndarray]]
    effector: str
    start_pose: Pose
    plane: GrabPlane
    mode: str = "full"
    pins: tuple[str, ...] = ()
    last: DragResult | None = None
    _pin_start: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def start(cls, solver: Solver, positions: Callable[[Pose], dict[str, np.ndarray]], pose: Pose, effector: str,
              camera: OrbitCamera, px: float, py: float, width: float, height: float, *, pins=(),
              limb: bool = False) -> PoseDrag:
        if effector not in HANDLES:
            raise ValueError(f"unknown effector {effector!r} (one of {', '.join(HANDLES)})")
        mode = "limb" if limb else "full"
        pins = tuple(p for p in pins if p != effector)
        start = pose.copy()
        pos = positions(start)
        plane = GrabPlane(camera, pos[effector], px, py, width, height)
        solver.begin(start, effector, pins=list(pins))
        d = cls(solver, positions, effector, start, plane, mode, pins)
        d._pin_start = {p: np.asarray(pos[p], np.float64).copy() for p in pins}
        return d

    def move(self, px: float, py: float) -> DragResult:
        """Solve for the cursor at (px, py)."""
        return self.solve_to(self.plane.target(px, py))

    def solve_to(self, target: np.ndarray) -> DragResult:
        target = np.asarray(target, np.float64).reshape(3)
        pose = self.solver.update(target, mode=self.mode)
        pos = self.positions(pose)
        reach = float(np.linalg.norm(np.asarray(pos[self.effector], np.float64) - target)) * 1000.0
        drift = max((float(np.linalg.norm(np.asarray(pos[p], np.float64) - q)) * 1000.0
                     for p, q in self._pin_start.items()), default=0.0)
        self.last = DragResult(pose, target, reach, drift)
        return self.last

    def finish(self) -> Pose:
        """The pose to commit (the start pose when nothing was solved)."""
        final = self.solver.end()
        if self.last is None:
            return self.start_pose.copy()
        return final if isinstance(final, Pose) else self.last.pose

    def cancel(self) -> Pose:
        """Ends the solver's drag and gives back the exact start pose."""
        self.solver.end()
        return self.start_pose.copy()

    def undo_text(self) -> str:
        return f"Drag {pretty(self.effector)}" + (" (limb only)" if self.mode == "limb" else "")

    def status(self, note: str = "") -> str:
        """One status-bar line: what is dragged, the reach error, the pins' drift, the solver's kind."""
        what = f"Dragging {pretty(self.effector)}" + (" (Shift: limb only)" if self.mode == "limb"
                                                       else "")
        if self.last is None:
            return what + (f" {note}" if note else "")
        s = f"{what}: reach error {self.last.reach_mm:.1f} mm"
        if self.pins:
            n = len(self.pins)
            s += f", {n} pin{'s' if n > 1 else ''} held within {self.last.pin_drift_mm:.1f} mm"
        return s + (f" {note}" if note else "")
