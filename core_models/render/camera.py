"""Qt-free camera maths: an orbit camera (orbit / pan / zoom / frame), view & projection matrices,
world → pixel projection and pixel → ray.

Conventions: matrices are numpy float32 (4,4) acting on column vectors (``M @ [x,y,z,1]``); upload them
to GL with ``transpose=GL_TRUE``. Pixel coordinates have their origin at the *top-left* corner of the
viewport, x to the right, y down (Qt mouse coordinates). The canonical world frame is y up, the body
faces +z, so azimuth 0 looks at the body's front (the camera sits on +z).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def perspective(fovy_deg: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(math.radians(fovy_deg) / 2.0)
    m = np.zeros((4, 4), np.float32)
    m[0, 0] = f / max(aspect, 1e-6)
    m[1, 1] = f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2.0 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def orthographic(half_h: float, aspect: float, near: float, far: float) -> np.ndarray:
    half_w = half_h * aspect
    m = np.eye(4, dtype=np.float32)
    m[0, 0] = 1.0 / half_w
    m[1, 1] = 1.0 / half_h
    m[2, 2] = -2.0 / (far - near)
    m[2, 3] = -(far + near) / (far - near)
    return m


def look_at(eye, target, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    eye = np.asarray(eye, np.float64)
    target = np.asarray(target, np.float64)
    f = target - eye
    f /= max(np.linalg.norm(f), 1e-12)
    up = np.asarray(up, np.float64)
    s = np.cross(f, up)
    if np.linalg.norm(s) < 1e-9:  # looking straight along up: pick another up
        s = np.cross(f, np.array([0.0, 0.0, -1.0]))
    s /= np.linalg.norm(s)
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m.astype(np.float32)


#: Named views: (azimuth°, elevation°). Azimuth is measured about +y from +z (the body's front).
VIEWS: dict[str, tuple[float, float]] = {
    "front": (0.0, 5.0),
    "side": (90.0, 5.0),  # from the body's left (+x)
    "back": (180.0, 5.0),
    "three_quarter": (35.0, 15.0),
    "top": (0.0, 89.0),
}


@dataclass
class OrbitCamera:
    """A turntable camera orbiting ``target``: azimuth about +y, elevation above the horizon."""

    target: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float64))
    distance: float = 3.0
    azimuth: float = 25.0  # degrees, 0 = in front of the body (on +z)
    elevation: float = 10.0  # degrees
    fovy: float = 35.0
    ortho: bool = False
    min_distance: float = 0.2
    max_distance: float = 50.0

    def __post_init__(self):
        self.target = np.asarray(self.target, np.float64).copy()

    # --- pose of the camera ----------------------------------------------------------------------
    def forward(self) -> np.ndarray:
        """Unit vector from the eye towards the target."""
        return -self._offset_dir()

    def _offset_dir(self) -> np.ndarray:
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        return np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])

    def eye(self) -> np.ndarray:
        return self.target + self.distance * self._offset_dir()

    def right_up(self) -> tuple[np.ndarray, np.ndarray]:
        v = self.view_matrix().astype(np.float64)
        return v[0, :3].copy(), v[1, :3].copy()

    def view_matrix(self) -> np.ndarray:
        return look_at(self.eye(), self.target)

    def near_far(self) -> tuple[float, float]:
        return max(0.01, self.distance * 0.05), self.distance * 4.0 + 20.0

    def projection_matrix(self, aspect: float) -> np.ndarray:
        near, far = self.near_far()
        if self.ortho:
            return orthographic(self.ortho_half_height(), aspect, near, far)
        return perspective(self.fovy, aspect, near, far)

    def ortho_half_height(self) -> float:
        """Half the visible height at the target (perspective or orthographic)."""
        return self.distance * math.tan(math.radians(self.fovy) / 2.0)

    # --- interaction -------------------------------------------------------------------------------
    def orbit(self, d_azimuth: float, d_elevation: float) -> None:
        self.azimuth = (self.azimuth + d_azimuth + 180.0) % 360.0 - 180.0
        self.elevation = float(np.clip(self.elevation + d_elevation, -89.0, 89.0))

    def orbit_pixels(self, dx: float, dy: float, degrees_per_pixel: float = 0.4) -> None:
        """Mouse drag of (dx, dy) pixels: drag right turns the scene right (camera moves left)."""
        self.orbit(-dx * degrees_per_pixel, dy * degrees_per_pixel)

    def pan_pixels(self, dx: float, dy: float, viewport_h: float) -> None:
        """Move the target so the point under the cursor follows the mouse."""
        r, u = self.right_up()
        world_per_px = 2.0 * self.ortho_half_height() / max(viewport_h, 1.0)
        self.target = self.target - r * dx * world_per_px + u * dy * world_per_px

    def zoom(self, steps: float) -> None:
        """Positive steps zoom in (wheel forward); each step = 12%."""
        self.distance = float(np.clip(self.distance * (0.88 ** steps), self.min_distance, self.max_distance))

    def set_view(self, name: str) -> None:
        try:
            self.azimuth, self.elevation = VIEWS[name]
        except KeyError:
            raise ValueError(f"unknown view {name!r}; use one of {', '.join(VIEWS)}") from None

    def frame_points(self, points: np.ndarray, aspect: float = 1.0, margin: float = 1.08) -> None:
        """Centre the target on the points' bounding box and choose a distance that shows all of them
        from the current direction (exact: every point is tested against the view frustum)."""
        p = np.asarray(points, np.float64).reshape(-1, 3)
        lo, hi = p.min(0), p.max(0)
        self.target = (lo + hi) / 2.0
        # distance such that each point fits: work in camera axes
        fwd = self.forward()
        r, u = self.right_up()
        d = p - self.target
        x = np.abs(d @ r)
        y = np.abs(d @ u)
        z = d @ (-fwd)  # towards the camera
        t = math.tan(math.radians(self.fovy) / 2.0)
        tx = t * max(aspect, 1e-6)
        if self.ortho:
            half_h = max(float(y.max()), float(x.max()) / max(aspect, 1e-6)) * margin
            self.distance = float(half_h / t)
            self.distance = max(self.distance, float(z.max()) + 0.5)
        else:
            need = np.maximum(y * margin / t, x * margin / tx) + z
            self.distance = float(np.clip(need.max(), self.min_distance, self.max_distance))

    # --- projection & rays -------------------------------------------------------------------------
    def view_proj(self, aspect: float) -> np.ndarray:
        return self.projection_matrix(aspect) @ self.view_matrix()

    def project(self, points: np.ndarray, width: float, height: float) -> np.ndarray:
        """World points (...,3) → pixel coordinates (...,2) (top-left origin) and NDC depth as (...,3)."""
        p = np.asarray(points, np.float64)
        vp = self.view_proj(width / max(height, 1.0)).astype(np.float64)
        h = p @ vp[:3, :3].T + vp[:3, 3]
        w = p @ vp[3, :3] + vp[3, 3]
        ndc = h / w[..., None]
        px = (ndc[..., 0] + 1.0) * 0.5 * width
        py = (1.0 - ndc[..., 1]) * 0.5 * height
        return np.stack([px, py, ndc[..., 2]], -1)

    def ray(self, px: float, py: float, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
        """The world-space ray (origin, unit direction) through pixel (px, py)."""
        aspect = width / max(height, 1.0)
        nx = 2.0 * px / max(width, 1.0) - 1.0
        ny = 1.0 - 2.0 * py / max(height, 1.0)
        r, u = self.right_up()
        f = self.forward()
        t = math.tan(math.radians(self.fovy) / 2.0)
        if self.ortho:
            half_h = self.ortho_half_height()
            origin = self.eye() + r * nx * half_h * aspect + u * ny * half_h
            return origin, f
        d = f + r * nx * t * aspect + u * ny * t
        return self.eye(), d / np.linalg.norm(d)

    def world_per_pixel(self, point: np.ndarray, height: float) -> float:
        """Size in metres of one pixel at ``point``'s depth."""
        if self.ortho:
            return 2.0 * self.ortho_half_height() / max(height, 1.0)
        depth = float(np.dot(np.asarray(point, np.float64) - self.eye(), self.forward()))
        return 2.0 * max(depth, 1e-3) * math.tan(math.radians(self.fovy) / 2.0) / max(height, 1.0)

    def copy(self) -> "OrbitCamera":
        return OrbitCamera(self.target.copy(), self.distance, self.azimuth, self.elevation, self.fovy, self.ortho,
                           self.min_distance, self.max_distance)


def default_camera_for(points: np.ndarray, view: str = "three_quarter", aspect: float = 1.0,
                       ortho: bool = False) -> OrbitCamera:
    cam = OrbitCamera(ortho=ortho)
    cam.set_view(view)
    cam.frame_points(points, aspect)
    return cam
