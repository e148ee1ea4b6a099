"""A reference image (a photo or a drawing) shown in the 3D view, Qt-free.

Two ways to show it (``ReferenceSettings.mode``):

* ``"background"``: a full-view backdrop drawn right after the background gradient, before the floor grid and
  the body, depth test off. The image keeps its aspect ratio and is letterboxed inside the view; ``scale``
  zooms it about the view's centre and ``offset_x`` / ``offset_y`` move it (in view heights, y up).
* ``"plane"``: a textured quad in the scene, facing the camera, ``distance`` metres behind the orbit target
  (negative: in front of it). At scale 1 it fills the view's height at that depth. Drawn after the body with
  the depth test on (the body hides the parts of the image behind it) and blended at ``opacity``.
  ``locked`` (the default) places it from the current camera every frame, so it stays put on screen while
  orbiting; unlocked, it stays where it was placed in the world (:meth:`ReferenceImage.place`, done at the
  first frame or when unlocking) and the camera moves around it like any scene object.

One class per renderable (upload the texture, draw, release), as in aitviewer: :class:`ReferenceImage` holds
the pixels, the settings and its GL objects; ``SceneRenderer.reference`` draws it (``stage`` "background" then
"scene"), in the live viewport as in the offscreen renderer. The texture is uploaded lazily at the first draw
with a current GL context and freed by :meth:`ReferenceImage.release` (the scene's release calls it).

Loading (:func:`load_image`) accepts PNG / JPEG / WebP / BMP / TIFF through Pillow (OpenCV as a fallback) and
refuses, with a :class:`ReferenceImageError` saying why, what is not a readable image, empty files, files over
:data:`MAX_FILE_BYTES` and images over :data:`MAX_PIXELS` (checked from the header, before decoding). Images
larger than :data:`MAX_TEXTURE_SIDE` on a side are downscaled for display (the file itself is never changed).
"""
from __future__ import annotations

import math
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: refuse files larger than this (bytes) before reading them
MAX_FILE_BYTES = 200 * 1024 * 1024
#: refuse images with more pixels than this (read from the header, before decoding): ~ 10000 x 10000
MAX_PIXELS = 100_000_000
#: the displayed texture's longest side (bigger images are downscaled once, at load: a view is rarely larger, and
#: a smaller texture is faster to sample on software GL)
MAX_TEXTURE_SIDE = 2048
MODES = ("background", "plane")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


class ReferenceImageError(ValueError):
    """The reference image cannot be used; the message says why (shown to the user as is)."""


# --- settings ---------------------------------------------------------------------------------------------

@dataclass
class ReferenceSettings:
    """How the reference image is shown (a plain, JSON-able value: saved with the app's settings)."""

    path: str = ""
    mode: str = "background"
    opacity: float = 0.6
    visible: bool = True
    flip: bool = False
    scale: float = 1.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    distance: float = 1.0
    locked: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check types and clamp numbers into their ranges (raises ReferenceImageError for a bad value)."""
        if self.mode not in MODES:
            raise ReferenceImageError(f"reference mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not isinstance(self.path, str):
            raise ReferenceImageError("reference path must be a string")
        for name, lo, hi in (("opacity", 0.0, 1.0), ("scale", 0.05, 20.0), ("offset_x", -5.0, 5.0),
                             ("offset_y", -5.0, 5.0), ("distance", -20.0, 50.0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ReferenceImageError(f"reference {name} must be a number, got {v!r}")
            setattr(self, name, float(min(max(v, lo), hi)))
        for name in ("visible", "flip", "locked"):
            if not isinstance(getattr(self, name), bool):
                raise ReferenceImageError(f"reference {name} must be true or false")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> "ReferenceSettings":
        """From a dict (unknown keys ignored, missing ones default); ReferenceImageError if a value is bad."""
        if not isinstance(d, dict):
            raise ReferenceImageError("reference settings must be an object")
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# --- loading ----------------------------------------------------------------------------------------------

def _check_file(p: Path) -> None:
    if not p.exists():
        raise ReferenceImageError(f"{p.name}: no such file")
    if not p.is_file():
        raise ReferenceImageError(f"{p.name}: not a file")
    size = p.stat().st_size
    if size == 0:
        raise ReferenceImageError(f"{p.name}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise ReferenceImageError(f"{p.name}: the file is too large ({size / 2**20:.0f} MB; at most "
                                  f"{MAX_FILE_BYTES // 2**20} MB)")


def _to_rgba(a: np.ndarray) -> np.ndarray:
    """Grey / grey+alpha / RGB / RGBA (uint8 or uint16) → (H, W, 4) uint8 RGBA."""
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a.astype(np.float64), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    c = a.shape[2]
    if c == 1:
        return np.concatenate([np.repeat(a, 3, axis=2), np.full(a.shape[:2] + (1,), 255, np.uint8)], axis=2)
    if c == 2:
        return np.concatenate([np.repeat(a[:, :, :1], 3, axis=2), a[:, :, 1:2]], axis=2)
    if c == 3:
        return np.concatenate([a, np.full(a.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(a[:, :, :4])


def _read_pillow(p: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(p) as im:  # lazy: only the header is read here
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise ReferenceImageError(f"{p.name}: the image is too large ({w}x{h} pixels; at most "
                                          f"{MAX_PIXELS // 1_000_000} megapixels)")
            im.seek(0)
            mode = "RGBA" if im.mode in ("RGBA", "LA", "PA", "P") or "transparency" in im.info else "RGB"
            return _to_rgba(np.asarray(im.convert(mode)))
    except ReferenceImageError:
        raise
    except UnidentifiedImageError:
        raise ReferenceImageError(f"{p.name}: not an image file PoseTailor can read "
                                  "(use PNG, JPEG, WebP or BMP)") from None
    except (OSError, ValueError, SyntaxError) as e:  # truncated / corrupt data, decompression bombs
        raise ReferenceImageError(f"{p.name}: the image cannot be read ({e})") from None


def load_image(path: str | Path) -> np.ndarray:
    """The image at ``path`` as (H, W, 4) uint8 RGBA, top row first. ReferenceImageError says why not."""
    p = Path(path)
    _check_file(p)
    try:
        rgba = _read_pillow(p)
    except ImportError:  # pragma: no cover - Pillow is a dependency; OpenCV as a fallback
        rgba = _read_opencv(p)
    h, w = rgba.shape[:2]
    if w < 2 or h < 2:
        raise ReferenceImageError(f"{p.name}: the image is too small ({w}x{h} pixels)")
    return rgba


def _read_opencv(p: Path) -> np.ndarray:  # pragma: no cover - used only without Pillow
    import cv2

    data = np.fromfile(str(p), np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ReferenceImageError(f"{p.name}: not an image file PoseTailor can read (use PNG, JPEG, WebP or BMP)")
    if img.ndim == 3 and img.shape[2] >= 3:
        img = img[:, :, [2, 1, 0, 3][: img.shape[2]]]
    return _to_rgba(img)


def display_pixels(rgba: np.ndarray, max_side: int = MAX_TEXTURE_SIDE) -> np.ndarray:
    """A copy no longer than ``max_side`` on either side (area-averaged), for the texture."""
    h, w = rgba.shape[:2]
    f = max(w, h) / float(max_side)
    if f <= 1.0:
        return np.ascontiguousarray(rgba)
    import cv2

    size = (max(1, int(round(w / f))), max(1, int(round(h / f))))
    return np.ascontiguousarray(cv2.resize(rgba, size, interpolation=cv2.INTER_AREA))


# --- geometry (no GL) -------------------------------------------------------------------------------------

def background_rect(image_aspect: float, width: float, height: float, s: ReferenceSettings) -> np.ndarray:
    """Where the background image lands, in pixels of a ``width`` x ``height`` view (top-left origin, y down):
    [left, top, right, bottom]. Letterboxed (aspect kept, fits the view at scale 1), then scaled about the
    centre and moved by the offsets (in view heights, +y up)."""
    view_aspect = width / max(height, 1.0)
    if image_aspect >= view_aspect:
        dw, dh = width, width / image_aspect
    else:
        dw, dh = height * image_aspect, height
    dw, dh = dw * s.scale, dh * s.scale
    cx = width / 2.0 + s.offset_x * height
    cy = height / 2.0 - s.offset_y * height
    return np.array([cx - dw / 2, cy - dh / 2, cx + dw / 2, cy + dh / 2], np.float64)


def image_to_view_pixels(uv_px: np.ndarray, image_size: tuple[int, int], width: float, height: float,
                         s: ReferenceSettings) -> np.ndarray:
    """Image pixel coordinates (N, 2) (of the original image, before a flip) → view pixels of the background."""
    iw, ih = image_size
    left, top, right, bottom = background_rect(iw / ih, width, height, s)
    u = np.asarray(uv_px, np.float64)[:, 0] / iw
    v = np.asarray(uv_px, np.float64)[:, 1] / ih
    if s.flip:
        u = 1.0 - u
    return np.stack([left + u * (right - left), top + v * (bottom - top)], -1)


def fit_background(image_px: np.ndarray, view_px: np.ndarray, image_size: tuple[int, int], width: float,
                   height: float, s: ReferenceSettings) -> tuple[float, float, float]:
    """(scale, offset_x, offset_y) that best move the background's ``image_px`` points onto ``view_px``
    (least squares; no rotation). Used to lay a photo over the body posed from it."""
    iw, ih = image_size
    base = ReferenceSettings(mode="background", flip=s.flip)  # scale 1, no offsets
    p0 = image_to_view_pixels(image_px, image_size, width, height, base) - np.array([width / 2, height / 2])
    q = np.asarray(view_px, np.float64) - np.array([width / 2, height / 2])
    n = len(p0)
    if n < 2:
        raise ValueError("need at least two points to fit the image")
    # q_x = k p_x + ox*H ; q_y = k p_y - oy*H
    A = np.zeros((2 * n, 3))
    A[:n, 0], A[:n, 1] = p0[:, 0], height
    A[n:, 0], A[n:, 2] = p0[:, 1], -height
    b = np.concatenate([q[:, 0], q[:, 1]])
    (k, ox, oy), *_ = np.linalg.lstsq(A, b, rcond=None)
    return float(np.clip(k, 0.05, 20.0)), float(np.clip(ox, -5, 5)), float(np.clip(oy, -5, 5))


def plane_corners(camera, view_aspect: float, image_aspect: float, s: ReferenceSettings) -> np.ndarray:
    """World corners (4, 3) of the camera-facing plane for ``camera`` (an OrbitCamera), in the order
    bottom-left, bottom-right, top-left, top-right (a triangle strip)."""
    fwd = camera.forward()
    r, u = camera.right_up()
    near, _ = camera.near_far()
    depth = max(camera.distance + s.distance, near * 1.5)
    center = camera.eye() + fwd * depth
    if camera.ortho:
        h = 2.0 * camera.ortho_half_height() * s.scale
    else:
        h = 2.0 * depth * math.tan(math.radians(camera.fovy) / 2.0) * s.scale
    w = h * image_aspect
    center = center + r * s.offset_x * h + u * s.offset_y * h
    return np.array([center + sx * r * w / 2 + sy * u * h / 2 for sy in (-1, 1) for sx in (-1, 1)], np.float64)


# --- the renderable -----------------------------------------------------------------------------------------

_VS = """#version 330 core
uniform mat4 u_vp;
uniform vec3 u_corner[4];   // bottom-left, bottom-right, top-left, top-right
uniform int u_flip;
out vec2 v_uv;
void main() {
    float x = float(gl_VertexID & 1);
    float y = float((gl_VertexID >> 1) & 1);
    v_uv = vec2(u_flip == 1 ? 1.0 - x : x, 1.0 - y);   // texture row 0 = the image's top row
    gl_Position = u_vp * vec4(u_corner[gl_VertexID], 1.0);
}
"""

_FS = """#version 330 core
uniform sampler2D u_tex;
uniform float u_opacity;
in vec2 v_uv;
out vec4 frag;
void main() {
    vec4 c = texture(u_tex, v_uv);
    float a = c.a * u_opacity;
    frag = vec4(c.rgb * a, a);   // premultiplied (blend ONE, ONE_MINUS_SRC_ALPHA)
}
"""


def _program(vs: str, fs: str) -> int:
    """Compile and link a GL program (ReferenceImageError with the driver's log on failure)."""
    from OpenGL import GL

    shaders = []
    for src, kind in ((vs, GL.GL_VERTEX_SHADER), (fs, GL.GL_FRAGMENT_SHADER)):
        sh = GL.glCreateShader(kind)
        GL.glShaderSource(sh, src)
        GL.glCompileShader(sh)
        if not GL.glGetShaderiv(sh, GL.GL_COMPILE_STATUS):
            raise ReferenceImageError(f"reference image shader: {GL.glGetShaderInfoLog(sh)!r}")
        shaders.append(sh)
    p = GL.glCreateProgram()
    for sh in shaders:
        GL.glAttachShader(p, sh)
    GL.glLinkProgram(p)
    for sh in shaders:
        GL.glDeleteShader(sh)
    if not GL.glGetProgramiv(p, GL.GL_LINK_STATUS):
        raise ReferenceImageError(f"reference image program: {GL.glGetProgramInfoLog(p)!r}")
    return int(p)


class ReferenceImage:
    """Pixels + settings + GL objects of one reference image. Drawing needs a current GL 3.3 core context;
    everything else does not."""

    def __init__(self, rgba: np.ndarray, settings: ReferenceSettings | None = None):
        a = np.asarray(rgba)
        if a.ndim != 3 or a.shape[2] != 4 or a.dtype != np.uint8 or a.shape[0] < 2 or a.shape[1] < 2:
            raise ReferenceImageError(f"reference pixels must be (H, W, 4) uint8, got {a.shape} {a.dtype}")
        self.image_size = (int(a.shape[1]), int(a.shape[0]))  # of the source image (width, height)
        self.pixels = display_pixels(a)
        self.settings = settings if settings is not None else ReferenceSettings()
        #: world corners of an unlocked plane (None: placed at the next draw)
        self.anchor: np.ndarray | None = None
        self._tex: int | None = None
        self._vao: int | None = None
        self._prog: int | None = None
        self._loc: dict[str, int] = {}
        self._cache: tuple[int, int, int, int] | None = None  # (fbo, renderbuffer, w, h) of the kept backdrop
        self._cache_key: tuple | None = None
        self.cache_hits = 0  # frames whose background was copied from the kept backdrop (tests, benchmarks)

    @classmethod
    def from_file(cls, path: str | Path, settings: ReferenceSettings | None = None) -> "ReferenceImage":
        s = settings if settings is not None else ReferenceSettings()
        s.path = str(Path(path).absolute())
        return cls(load_image(path), s)

    @property
    def aspect(self) -> float:
        return self.image_size[0] / self.image_size[1]

    @property
    def texture(self) -> int | None:
        """The GL texture name while uploaded (tests check it is freed)."""
        return self._tex

    def place(self, camera, view_aspect: float) -> None:
        """Fix an unlocked plane where the locked one would be for ``camera`` now."""
        self.anchor = plane_corners(camera, view_aspect, self.aspect, self.settings)

    def set_locked(self, locked: bool, camera=None, view_aspect: float = 1.0) -> None:
        """Lock to / unlock from the camera; unlocking keeps the plane where it is on screen now."""
        self.settings.locked = bool(locked)
        if not locked and camera is not None:
            self.place(camera, view_aspect)
        elif locked:
            self.anchor = None

    def corners(self, camera, view_aspect: float) -> np.ndarray:
        """The plane's world corners for drawing with ``camera`` (locked: follows it; unlocked: the anchor)."""
        if self.settings.locked:
            return plane_corners(camera, view_aspect, self.aspect, self.settings)
        if self.anchor is None:
            self.place(camera, view_aspect)
        assert self.anchor is not None
        return self.anchor

    # --- GL -----------------------------------------------------------------------------------------------
    def upload(self) -> None:
        """Create the texture, program and VAO (needs a current context; done by the first draw)."""
        from OpenGL import GL

        if self._tex is not None:
            return
        self._prog = _program(_VS, _FS)
        self._loc = {n: int(GL.glGetUniformLocation(self._prog, n))
                     for n in ("u_vp", "u_corner", "u_flip", "u_tex", "u_opacity")}
        self._vao = int(GL.glGenVertexArrays(1))
        tex = int(GL.glGenTextures(1))
        GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        h, w = self.pixels.shape[:2]
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGBA8, w, h, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, self.pixels)
        GL.glGenerateMipmap(GL.GL_TEXTURE_2D)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR_MIPMAP_NEAREST)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        self._tex = tex

    def draw(self, camera, width: int, height: int, stage: str, backdrop: tuple = ()) -> bool:
        """Draw into the bound framebuffer's current viewport when ``stage`` ("background": before the floor
        and the body; "scene": after the body) is this image's stage. Returns True when something was drawn.

        A background does not move with the camera, so after it is drawn once, the view's backdrop (what was
        under it + the image) is kept in a framebuffer and later frames copy it back (a blit: ~0.3 ms at 1080p
        on llvmpipe instead of a full-screen textured pass) while the size, the settings and ``backdrop`` (the
        caller's description of what is under the image, e.g. the gradient colours) stay the same. Multisampled
        targets (the settled anti-aliased frames) always draw it."""
        s = self.settings
        if not s.visible or s.opacity <= 0.0 or stage != ("background" if s.mode == "background" else "scene"):
            return False
        from OpenGL import GL

        self.upload()
        aspect = width / max(height, 1)
        if s.mode == "background":
            key = (tuple(int(v) for v in GL.glGetIntegerv(GL.GL_VIEWPORT)), backdrop, astuple(s))
            if self._blit_cached(key):
                return True
            left, top, right, bottom = background_rect(self.aspect, width, height, s)
            x0, x1 = 2 * left / width - 1, 2 * right / width - 1
            y0, y1 = 1 - 2 * bottom / height, 1 - 2 * top / height
            corners = np.array([[x0, y0, 0.0], [x1, y0, 0.0], [x0, y1, 0.0], [x1, y1, 0.0]], np.float32)
            GL.glDisable(GL.GL_DEPTH_TEST)
            self._draw_quad(corners, np.eye(4, dtype=np.float32))
            self._keep_backdrop(key)
        else:
            GL.glEnable(GL.GL_DEPTH_TEST)
            GL.glDepthFunc(GL.GL_LESS)
            GL.glDepthMask(GL.GL_FALSE)
            self._draw_quad(self.corners(camera, aspect).astype(np.float32),
                            camera.view_proj(aspect).astype(np.float32))
        return True

    def _draw_quad(self, corners: np.ndarray, vp: np.ndarray) -> None:
        from OpenGL import GL

        s = self.settings
        GL.glUseProgram(self._prog)
        GL.glUniformMatrix4fv(self._loc["u_vp"], 1, GL.GL_TRUE, vp)
        GL.glUniform3fv(self._loc["u_corner"], 4, np.ascontiguousarray(corners))
        GL.glUniform1i(self._loc["u_flip"], int(s.flip))
        GL.glUniform1i(self._loc["u_tex"], 0)
        GL.glUniform1f(self._loc["u_opacity"], float(s.opacity))
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._tex)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glBindVertexArray(0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glDisable(GL.GL_BLEND)
        GL.glDepthMask(GL.GL_TRUE)

    def _blit(self, src: int, dst: int, rect: tuple, to_cache: bool) -> None:
        from OpenGL import GL

        x, y, w, h = rect
        a, b = ((x, y, x + w, y + h), (0, 0, w, h)) if to_cache else ((0, 0, w, h), (x, y, x + w, y + h))
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, src)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, dst)
        GL.glBlitFramebuffer(*a, *b, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)

    def _blit_cached(self, key: tuple) -> bool:
        """Copy the kept backdrop into the bound (single-sampled) framebuffer if it is still right."""
        from OpenGL import GL

        if self._cache is None or key != self._cache_key or int(GL.glGetIntegerv(GL.GL_SAMPLE_BUFFERS)):
            return False
        dst = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
        self._blit(self._cache[0], dst, key[0], to_cache=False)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, dst)
        self.cache_hits += 1
        return True

    def _keep_backdrop(self, key: tuple) -> None:
        """Copy the bound framebuffer's viewport (backdrop + image) into the cache (single-sampled targets)."""
        from OpenGL import GL

        if int(GL.glGetIntegerv(GL.GL_SAMPLE_BUFFERS)):
            return
        x, y, w, h = key[0]
        if self._cache is None or self._cache[2:] != (w, h):
            self._free_cache()
            fbo, rb = int(GL.glGenFramebuffers(1)), int(GL.glGenRenderbuffers(1))
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, w, h)
            dst = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, rb)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, dst)
            self._cache = (fbo, rb, w, h)
        dst = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
        self._blit(dst, self._cache[0], key[0], to_cache=True)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, dst)
        self._cache_key = key

    def _free_cache(self) -> None:
        if self._cache is not None:
            from OpenGL import GL

            GL.glDeleteFramebuffers(1, [self._cache[0]])
            GL.glDeleteRenderbuffers(1, [self._cache[1]])
        self._cache = None
        self._cache_key = None

    def release(self) -> None:
        """Free the GL objects (with the context they were made in current). Drawing again re-uploads."""
        if self._tex is None:
            return
        from OpenGL import GL

        GL.glDeleteTextures(1, [self._tex])
        self._free_cache()
        if self._vao is not None:
            GL.glDeleteVertexArrays(1, [self._vao])
        if self._prog is not None:
            GL.glDeleteProgram(self._prog)
        self._tex = self._vao = self._prog = None
        self._loc = {}

    def forget_gl(self) -> None:
        """Drop the GL names without deleting them (their context is gone); the next draw re-uploads."""
        self._cache = self._cache_key = None
        self._tex = self._vao = self._prog = None
        self._loc = {}

