"""Qt-free picking maths: ray vs joint spheres, ray vs gizmo rings, dragging on a ring, and the joint
rotation a ring drag produces.

The gizmo has three rings around the selected joint, one per *world* axis (0=X, 1=Y, 2=Z), all of the
same radius. A drag on ring ``a`` rotates the joint about world axis ``a`` through its centre:
``R_local' = R_pgᵀ · R_axis(θ) · R_pg · R_local`` where ``R_pg`` is the parent's global rotation, so the
joint's global frame becomes ``R_axis(θ) · R_global`` (children follow).
"""
from __future__ import annotations

import math

import numpy as np

from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix_np, clamp_to_limits, matrix_to_aa_np
from core_models.render.camera import OrbitCamera

AXES = np.eye(3)
AXIS_NAMES = ("X", "Y", "Z")


def ray_sphere(origin: np.ndarray, direction: np.ndarray, centers: np.ndarray, radius) -> np.ndarray:
    """Ray parameter t of the first hit of a ray with each sphere (inf where missed or behind)."""
    c = np.asarray(centers, np.float64).reshape(-1, 3)
    r = np.broadcast_to(np.asarray(radius, np.float64), (c.shape[0],))
    oc = np.asarray(origin, np.float64) - c
    d = np.asarray(direction, np.float64)
    b = oc @ d
    cc = np.einsum("ij,ij->i", oc, oc) - r * r
    disc = b * b - cc
    t = np.full(c.shape[0], np.inf)
    ok = disc >= 0
    sq = np.sqrt(np.where(ok, disc, 0.0))
    t0, t1 = -b - sq, -b + sq
    tt = np.where(t0 > 0, t0, t1)
    hit = ok & (tt > 0)
    t[hit] = tt[hit]
    return t


def pick_joint(camera: OrbitCamera, px: float, py: float, width: float, height: float, joints: np.ndarray,
               marker_radius: float, tolerance_px: float = 6.0) -> int:
    """Index of the joint marker under pixel (px, py), or -1. Each marker's pick sphere is its drawn
    sphere grown to at least ``tolerance_px`` pixels; the nearest hit along the ray wins."""
    J = np.asarray(joints, np.float64).reshape(-1, 3)
    o, d = camera.ray(px, py, width, height)
    radii = np.array([max(marker_radius, tolerance_px * camera.world_per_pixel(j, height)) for j in J])
    t = ray_sphere(o, d, J, radii)
    i = int(np.argmin(t))
    return i if np.isfinite(t[i]) else -1


def ring_points(center: np.ndarray, axis: int, radius: float, n: int = 96) -> np.ndarray:
    """n points on the ring about world axis ``axis`` (0/1/2)."""
    a = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    u, v = (axis + 1) % 3, (axis + 2) % 3
    p = np.zeros((n, 3))
    p[:, u] = np.cos(a) * radius
    p[:, v] = np.sin(a) * radius
    return p + np.asarray(center, np.float64)


def pick_ring(camera: OrbitCamera, px: float, py: float, width: float, height: float, center: np.ndarray,
              radius: float, tolerance_px: float = 7.0) -> tuple[int, np.ndarray | None]:
    """The gizmo ring under pixel (px, py): (axis 0/1/2, the grabbed world point on the ring) or (-1, None).

    Rings are compared in screen space (distance from the cursor to the projected ring polyline), so an
    edge-on ring is still easy to grab; among rings within tolerance the closest to the cursor wins, with a
    small bias (2.5 px) towards rings facing the camera, so crossings pick the face-on ring."""
    best = (-1, None, math.inf)
    cur = np.array([px, py], np.float64)
    fwd = camera.forward()
    for axis in range(3):
        pts = ring_points(center, axis, radius, 128)
        scr = camera.project(pts, width, height)
        a2 = scr[:, :2]
        b2 = np.roll(a2, -1, axis=0)
        seg = b2 - a2
        L2 = np.maximum(np.einsum("ij,ij->i", seg, seg), 1e-12)
        t = np.clip(np.einsum("ij,ij->i", cur - a2, seg) / L2, 0.0, 1.0)
        q = a2 + seg * t[:, None]
        dist = np.linalg.norm(q - cur, axis=1)
        world_all = pts + (np.roll(pts, -1, axis=0) - pts) * t[:, None]
        near = np.nonzero(dist <= tolerance_px)[0]
        if near.size == 0:
            continue
        # among this ring's segments under the cursor, grab the one nearest to the camera
        depth = (world_all[near] - camera.eye()) @ fwd
        k = int(near[np.argmin(depth)])
        # where rings overlap on screen (e.g. at their crossings) prefer the one that faces the camera
        score = float(dist[k]) + 2.5 * (1.0 - abs(float(fwd[axis])))
        if score < best[2]:
            best = (axis, world_all[k], score)
    return best[0], best[1]


class RingDrag:
    """Turns mouse motion into a rotation angle (radians) about a world axis through ``center``.

    When the ring faces the camera enough, the angle is the signed angle swept by the cursor's ray
    hitting the ring's plane (it follows the cursor around the ring exactly). When the ring is seen
    nearly edge-on, motion along the ring's screen-space tangent at the grabbed point is used instead.
    Increments are accumulated, so several turns are possible."""

    PLANE_MIN_COS = 0.25

    def __init__(self, camera: OrbitCamera, axis: int, center: np.ndarray, radius: float, grab_point: np.ndarray,
                 px: float, py: float, width: float, height: float):
        self.camera = camera.copy()
        self.axis = int(axis)
        self.a = AXES[self.axis].astype(np.float64)
        self.center = np.asarray(center, np.float64).copy()
        self.radius = float(radius)
        self.size = (float(width), float(height))
        self.start_px = np.array([px, py], np.float64)
        self.angle = 0.0
        self.use_plane = abs(float(np.dot(self.camera.forward(), self.a))) >= self.PLANE_MIN_COS
        if self.use_plane:
            self._last = self._plane_vec(px, py)
            if self._last is None:
                self.use_plane = False
        if grab_point is not None:
            g = np.asarray(grab_point, np.float64)
        else:
            g = self.center + self.radius * AXES[(self.axis + 1) % 3]
        tangent = np.cross(self.a, g - self.center)
        n = np.linalg.norm(tangent)
        tangent = tangent / n if n > 1e-12 else AXES[(self.axis + 2) % 3]
        eps = self.radius * 0.05
        p0 = self.camera.project(g, *self.size)[:2]
        p1 = self.camera.project(g + tangent * eps, *self.size)[:2]
        s = (p1 - p0) / (eps / self.radius)  # pixels per radian along the tangent
        sn = float(np.linalg.norm(s))
        self._tan_dir = s / sn if sn > 1e-9 else np.array([1.0, 0.0])
        self._px_per_rad = max(sn, 20.0)

    def _plane_vec(self, px: float, py: float) -> np.ndarray | None:
        o, d = self.camera.ray(px, py, *self.size)
        den = float(np.dot(d, self.a))
        if abs(den) < 1e-6:
            return None
        t = float(np.dot(self.center - o, self.a)) / den
        v = o + t * d - self.center
        v -= self.a * np.dot(v, self.a)
        n = np.linalg.norm(v)
        if n < 1e-9:
            return None
        return v / n

    def update(self, px: float, py: float) -> float:
        """Cursor now at (px, py): total rotation angle (radians, right-handed about the axis)."""
        if self.use_plane:
            v = self._plane_vec(px, py)
            if v is not None and self._last is not None:
                s = float(np.dot(self.a, np.cross(self._last, v)))
                c = float(np.dot(self._last, v))
                self.angle += math.atan2(s, c)
                self._last = v
            return self.angle
        delta = np.array([px, py], np.float64) - self.start_px
        self.angle = float(np.dot(delta, self._tan_dir)) / self._px_per_rad
        return self.angle


def axis_rotation(axis: int, angle: float) -> np.ndarray:
    """3x3 rotation about world axis 0/1/2 by ``angle`` radians."""
    aa = np.zeros(3)
    aa[axis] = angle
    return aa_to_matrix_np(aa)


def rotate_joint_about_world_axis(pose: Pose, joint: int, axis: int, angle: float, parent_global: np.ndarray,
                                  limits: bool = False) -> Pose:
    """``pose`` with joint ``joint`` rotated by ``angle`` radians about world axis ``axis`` (through the joint).

    ``parent_global`` is the (3,3) global rotation of the joint's parent in ``pose`` (identity for the root).
    With ``limits`` the joint's own rotation is clamped into skeleton.JOINT_LIMITS_DEG (other joints are
    left untouched, even if they are outside their limits)."""
    Rpg = np.asarray(parent_global, np.float64)
    Rl = aa_to_matrix_np(pose.joint_aa(joint))  # numpy closed forms: per mouse move, no torch dispatch
    Ra = axis_rotation(axis, float(angle)).astype(np.float64)
    new = Rpg.T @ Ra @ Rpg @ Rl
    out = pose.with_joint(joint, matrix_to_aa_np(new).astype(np.float32))
    if limits and joint != 0:
        clamped = clamp_to_limits(out, sk.JOINT_LIMITS_DEG)
        out = pose.with_joint(joint, clamped.joint_aa(joint))
    return out
