"""Random scenes for the real-MediaPipe landmark dataset (:mod:`core_models.capture.realdata`): who is rendered
(a pool of Anny phenotypes, skin tone, clothing colours), where the camera is (a laptop on a table or a phone on
the floor), what is behind the person (flat, gradient, noise texture or a real photo) and how it is lit.

Everything here is numpy (+ OpenCV for image resizing) and draws from the ``numpy.random.Generator`` it is given,
so a row's scene depends only on its seed. Nothing touches GL: :mod:`realdata` applies a :class:`Look` to the
renderer and draws the background through a :class:`~core_models.render.reference_image.ReferenceImage`.

Cameras (:func:`sample_camera`) — the person's own frame: y up, facing +z; the floor at ``floor_y``:

* ``laptop``: eye 0.7–1.2 m above the floor, ``phone``: 0.1–0.4 m above the floor (so it looks up at the body);
* azimuth about +y from the body's front: 70 % within ±60°, 20 % 60–100° to a side, 10 % from behind (100–260°);
* vertical field of view 40–62° (landscape) or 55–70° (portrait);
* ``full`` framing (80 %): the whole body in view with a 5–30 % margin, at least 1–3.5 m away (often further when
  the body would not fit); ``cropped`` (20 %): aimed between the hips and the chest from 1–2 m, so knees / feet
  may leave the frame (shoulders and hips always stay in).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core_models.render.camera import OrbitCamera, look_at

#: Anny phenotypes the dataset draws from (values in [0, 1]; age 0.5 ≈ 25 years, 1 ≈ 90; gender 0 female, 1 male)
PHENOTYPE_POOL: tuple[dict[str, float], ...] = (
    {"gender": 0.5, "age": 0.5, "muscle": 0.5, "weight": 0.5, "height": 0.5, "proportions": 0.5},
    {"gender": 0.0, "age": 0.45, "muscle": 0.5, "weight": 0.45, "height": 0.35, "proportions": 0.5},
    {"gender": 1.0, "age": 0.5, "muscle": 0.7, "weight": 0.55, "height": 0.7, "proportions": 0.5},
    {"gender": 0.1, "age": 0.8, "muscle": 0.3, "weight": 0.75, "height": 0.4, "proportions": 0.4},
    {"gender": 0.9, "age": 0.85, "muscle": 0.4, "weight": 0.7, "height": 0.55, "proportions": 0.6},
    {"gender": 0.2, "age": 0.38, "muscle": 0.4, "weight": 0.25, "height": 0.6, "proportions": 0.7},
    {"gender": 0.8, "age": 0.4, "muscle": 0.9, "weight": 0.4, "height": 0.8, "proportions": 0.6},
    {"gender": 0.4, "age": 0.6, "muscle": 0.2, "weight": 0.95, "height": 0.45, "proportions": 0.3},
    {"gender": 0.6, "age": 0.36, "muscle": 0.6, "weight": 0.3, "height": 0.25, "proportions": 0.5},
    {"gender": 0.0, "age": 0.55, "muscle": 0.6, "weight": 0.6, "height": 0.9, "proportions": 0.8},
)
PHENOTYPE_LABELS = ("gender", "age", "muscle", "weight", "height", "proportions")

#: sRGB skin tones, light to dark
SKIN_TONES = ((0.96, 0.80, 0.69), (0.90, 0.72, 0.60), (0.82, 0.67, 0.59), (0.76, 0.57, 0.45),
              (0.63, 0.45, 0.33), (0.49, 0.34, 0.24), (0.36, 0.24, 0.17), (0.27, 0.18, 0.13))
#: sRGB clothing colours (sportswear, denim, greys, black, white, brights)
CLOTH_COLOURS = ((0.08, 0.08, 0.09), (0.90, 0.90, 0.88), (0.45, 0.46, 0.48), (0.17, 0.24, 0.40),
                 (0.28, 0.36, 0.52), (0.55, 0.12, 0.14), (0.14, 0.38, 0.22), (0.80, 0.55, 0.20),
                 (0.60, 0.30, 0.55), (0.20, 0.55, 0.70), (0.85, 0.40, 0.50), (0.35, 0.28, 0.22))
#: joint segments (SMPL-H: joint i's segment is the bone leaving it) covered by a top / trousers / shoes
TOP = (3, 6, 9, 13, 14, 16, 17)
SLEEVES = (18, 19)
SHORTS = (0, 1, 2)
TROUSER_LEGS = (4, 5)
SHOES = (7, 8, 10, 11)
#: photos in Debian opencv-doc with no person in them (backgrounds)
PHOTO_DIR = Path("/usr/share/doc/opencv-doc/examples/data")
PHOTO_NAMES = ("aero1.jpg", "aero3.jpg", "building.jpg", "home.jpg", "fruits.jpg", "board.jpg", "leuvenA.jpg",
               "leuvenB.jpg", "orange.jpg", "starry_night.jpg", "stuff.jpg", "aloeL.jpg", "graf1.png",
               "box_in_scene.png", "left01.jpg", "right05.jpg", "smarties.png", "sudoku.png", "notes.png",
               "rubberwhale1.png", "apple.jpg", "butterfly.jpg", "blox.jpg", "pic1.png")
BACKGROUND_KINDS = ("flat", "gradient", "noise", "photo")
#: image sizes (width, height) and how often each is drawn
SIZES = ((640, 480), (480, 640), (1280, 720))
SIZE_P = (0.6, 0.25, 0.15)


@dataclass
class Look:
    """How the person and the light look in one image (sRGB colours)."""

    skin: tuple[float, float, float]
    top: tuple[float, float, float]
    bottom: tuple[float, float, float]
    shoes: tuple[float, float, float]
    long_sleeves: bool
    long_trousers: bool
    light_rig: tuple[tuple[float, float, float], tuple[float, float, float]]
    gain: float = 1.0       # exposure multiplier of the final image
    gamma: float = 1.0
    noise: float = 0.0      # sensor noise sigma (0..255 scale)
    blur: float = 0.0       # Gaussian blur sigma in pixels (0: none)

    def tints(self) -> np.ndarray:
        """(22, 4) per-joint tint (sRGB + strength) for ``SceneRenderer.set_tints``: the clothes."""
        t = np.zeros((22, 4), np.float32)
        parts = [(TOP, self.top), (SHORTS, self.bottom), (SHOES, self.shoes)]
        if self.long_sleeves:
            parts.append((SLEEVES, self.top))
        if self.long_trousers:
            parts.append((TROUSER_LEGS, self.bottom))
        for joints, colour in parts:
            for j in joints:
                t[j, :3] = colour
                t[j, 3] = 0.92
        return t


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def sample_look(rng: np.random.Generator) -> Look:
    """A random skin tone, clothes and light (key from the upper front, fill from the other side)."""
    kx = float(rng.uniform(-0.9, 0.9))
    key = (kx, float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.8)))
    fill = (-math.copysign(float(rng.uniform(0.3, 0.9)), kx), float(rng.uniform(-0.2, 0.4)),
            float(rng.uniform(0.1, 0.6)))
    return Look(skin=_pick(rng, SKIN_TONES), top=_pick(rng, CLOTH_COLOURS), bottom=_pick(rng, CLOTH_COLOURS),
                shoes=_pick(rng, CLOTH_COLOURS[:4]), long_sleeves=bool(rng.random() < 0.5),
                long_trousers=bool(rng.random() < 0.7), light_rig=(key, fill),
                gain=float(rng.uniform(0.7, 1.25)), gamma=float(rng.uniform(0.8, 1.25)),
                noise=float(rng.uniform(0.0, 6.0)), blur=float(rng.uniform(0.4, 1.2)) if rng.random() < 0.2 else 0.0)


def apply_photometric(rgb: np.ndarray, look: Look, rng: np.random.Generator) -> np.ndarray:
    """Exposure, gamma, blur and sensor noise on a (H, W, 3) uint8 image (a camera, not a renderer)."""
    import cv2

    lut = np.clip(((np.arange(256) / 255.0 * look.gain).clip(0, 1) ** look.gamma) * 255.0 + 0.5, 0, 255)
    x = cv2.LUT(np.ascontiguousarray(rgb), lut.astype(np.uint8))
    if look.blur > 0:
        x = cv2.GaussianBlur(x, (0, 0), look.blur)
    if look.noise > 0:
        cv2.setRNGSeed(int(rng.integers(2 ** 31 - 1)))
        n = np.empty(x.shape, np.int16)
        cv2.randn(n, np.zeros(3), np.full(3, look.noise))
        x = np.clip(x.astype(np.int16) + n, 0, 255).astype(np.uint8)
    return x


# --- backgrounds --------------------------------------------------------------------------------------------

_photo_cache: dict[str, np.ndarray] = {}


def background_photos() -> list[Path]:
    """The opencv-doc photos that exist here (empty without the package: the other kinds are used)."""
    return [PHOTO_DIR / n for n in PHOTO_NAMES if (PHOTO_DIR / n).is_file()]


def _photo(path: Path) -> np.ndarray | None:
    img = _photo_cache.get(str(path))
    if img is None:
        import cv2

        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            return None
        img = _photo_cache[str(path)] = np.ascontiguousarray(bgr[:, :, ::-1])
    return img


def _photo_background(rng: np.random.Generator, w: int, h: int) -> np.ndarray | None:
    import cv2

    photos = background_photos()
    img = _photo(_pick(rng, photos)) if photos else None
    if img is None:
        return None
    ih, iw = img.shape[:2]
    scale = max(w / iw, h / ih) * float(rng.uniform(1.0, 1.6))
    big = cv2.resize(img, (max(w, int(iw * scale + 0.5)), max(h, int(ih * scale + 0.5))),
                     interpolation=cv2.INTER_LINEAR)
    y0 = int(rng.integers(big.shape[0] - h + 1))
    x0 = int(rng.integers(big.shape[1] - w + 1))
    out = big[y0:y0 + h, x0:x0 + w]
    return np.ascontiguousarray(out[:, ::-1] if rng.random() < 0.5 else out)


def background_image(rng: np.random.Generator, w: int, h: int, kind: str | None = None) -> tuple[np.ndarray, str]:
    """((h, w, 3) uint8 RGB, kind): a flat colour, a vertical/diagonal gradient, smooth noise or a real photo."""
    import cv2

    kind = kind or str(rng.choice(BACKGROUND_KINDS, p=(0.15, 0.2, 0.2, 0.45)))
    if kind == "photo":
        img = _photo_background(rng, w, h)
        if img is not None:
            return img, kind
        kind = "noise"
    c0 = rng.uniform(0, 255, 3)
    if kind == "flat":
        return np.broadcast_to(c0.astype(np.uint8), (h, w, 3)).copy(), kind
    if kind == "gradient":
        c1 = rng.uniform(0, 255, 3)
        a = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        t = (xx / w - 0.5) * math.cos(a) + (yy / h - 0.5) * math.sin(a) + 0.5
        t = np.clip(t, 0, 1)[..., None]
        return (c0 * (1 - t) + c1 * t).astype(np.uint8), kind
    cells = int(rng.integers(3, 24))
    small = rng.uniform(0, 255, (cells, max(2, int(cells * w / h)), 3)).astype(np.float32)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img = img * float(rng.uniform(0.3, 1.0)) + c0 * float(rng.uniform(0.0, 0.7))
    return np.clip(img, 0, 255).astype(np.uint8), "noise"


# --- cameras ------------------------------------------------------------------------------------------------

@dataclass
class Shot:
    """One camera: OpenGL eye frame (x right, y up, z towards the viewer); world → camera is ``R @ x + t``."""

    eye: np.ndarray
    target: np.ndarray
    fov_deg: float          # vertical field of view
    size: tuple[int, int]   # (width, height)
    kind: str               # laptop | phone
    framing: str            # full | cropped
    azimuth_deg: float

    def orbit(self) -> OrbitCamera:
        d = self.eye - self.target
        dist = float(np.linalg.norm(d))
        el = math.degrees(math.asin(float(np.clip(d[1] / max(dist, 1e-9), -1.0, 1.0))))
        az = math.degrees(math.atan2(float(d[0]), float(d[2])))
        return OrbitCamera(target=self.target.copy(), distance=dist, azimuth=az, elevation=el, fovy=self.fov_deg,
                           min_distance=0.05, max_distance=100.0)

    def extrinsics(self) -> tuple[np.ndarray, np.ndarray]:
        """(R (3,3), t (3,)): world → camera, the renderer's view matrix."""
        v = self.orbit().view_matrix().astype(np.float64)
        return v[:3, :3].copy(), v[:3, 3].copy()

    def focal_px(self) -> float:
        return 0.5 * self.size[1] / math.tan(math.radians(self.fov_deg) / 2.0)


def project(points: np.ndarray, R: np.ndarray, t: np.ndarray, fov_deg: float, size: tuple[int, int]) -> np.ndarray:
    """World points (..., 3) → (..., 3): pixel x, y (top-left origin, as MediaPipe's image landmarks × size) and the
    depth in front of the camera (metres, > 0 in front). The renderer's pinhole: focal = (h / 2) / tan(fov / 2)."""
    w, h = size
    pc = np.asarray(points, np.float64) @ np.asarray(R, np.float64).T + np.asarray(t, np.float64)
    depth = -pc[..., 2]
    f = 0.5 * h / math.tan(math.radians(fov_deg) / 2.0)
    safe = np.where(np.abs(depth) < 1e-9, 1e-9, depth)
    return np.stack([w / 2 + f * pc[..., 0] / safe, h / 2 - f * pc[..., 1] / safe, depth], -1)


def _shot(centre: np.ndarray, target: np.ndarray, dist: float, az: float, eye_y: float, fov: float, size, kind,
          framing) -> Shot:
    a = math.radians(az)
    eye = np.array([centre[0] + dist * math.sin(a), eye_y, centre[2] + dist * math.cos(a)])
    return Shot(eye, target.astype(np.float64), fov, size, kind, framing, az)


def _fits(shot: Shot, pts: np.ndarray, margin: float) -> bool:
    R, t = shot.extrinsics()
    p = project(pts, R, t, shot.fov_deg, shot.size)
    if p[:, 2].min() < 0.3:
        return False
    w, h = shot.size
    cx, cy = (p[:, 0] - w / 2) * margin + w / 2, (p[:, 1] - h / 2) * margin + h / 2
    return bool(cx.min() >= 0 and cx.max() <= w and cy.min() >= 0 and cy.max() <= h)


def _fit_distance(make, pts: np.ndarray, margin: float, lo: float = 0.5, hi: float = 30.0) -> float:
    """The smallest horizontal distance at which ``make(d)`` sees every point (bisection; ``hi`` if none)."""
    if not _fits(make(hi), pts, margin):
        return hi
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if _fits(make(mid), pts, margin) else (mid, hi)
    return hi


def sample_camera(rng: np.random.Generator, verts: np.ndarray, joints: np.ndarray, floor_y: float,
                  size: tuple[int, int], framing: str | None = None) -> Shot:
    """A laptop / phone camera looking at the body (see the module docstring). ``verts`` (K, 3): the posed body's
    vertices (a subsample is enough; for a sequence, every frame's); ``joints`` (22, 3) for cropped framing."""
    w, h = size
    fov = float(rng.uniform(40, 62) if w >= h else rng.uniform(55, 70))
    kind = "laptop" if rng.random() < 0.65 else "phone"
    eye_y = floor_y + float(rng.uniform(0.7, 1.2) if kind == "laptop" else rng.uniform(0.1, 0.4))
    u = rng.random()
    az = (rng.uniform(-60, 60) if u < 0.7 else math.copysign(rng.uniform(60, 100), rng.random() - 0.5) if u < 0.9
          else rng.uniform(100, 260))
    framing = framing or ("full" if rng.random() < 0.8 else "cropped")
    lo, hi = verts.min(0), verts.max(0)
    centre = 0.5 * (lo + hi)
    if framing == "full":
        target = centre + rng.normal(0.0, 0.03, 3) * (hi[1] - lo[1])
        margin = float(rng.uniform(1.05, 1.3))
        d_fit = _fit_distance(lambda d: _shot(centre, target, d, az, eye_y, fov, size, kind, framing), verts, margin)
        d = max(d_fit, float(rng.uniform(1.0, 3.5)))
        return _shot(centre, target, d, az, eye_y, fov, size, kind, framing)
    core = joints[[1, 2, 16, 17]]
    target = centre.copy()
    for _ in range(8):
        ys = sorted((float(joints[0, 1]), float(joints[[16, 17], 1].mean())))  # (a handstand: shoulders low)
        target[1] = float(rng.uniform(ys[0], ys[1]))
        d = float(rng.uniform(1.0, 2.0))
        shot = _shot(centre, target, d, az, eye_y, fov, size, kind, framing)
        if _fits(shot, core, 1.1):
            return shot
    make = lambda dd: _shot(centre, target, dd, az, eye_y, fov, size, kind, framing)  # noqa: E731
    return make(_fit_distance(make, core, 1.1))


def look_at_matrix(shot: Shot) -> np.ndarray:
    """The 4x4 view matrix of ``shot`` (same as its orbit camera's)."""
    return look_at(shot.eye, shot.target)
