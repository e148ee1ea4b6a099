"""Offscreen rendering without Qt or a display: an EGL (surfaceless Mesa / device) or OSMesa GL 3.3 core
context plus an FBO, reusing ``scene.SceneRenderer``.

PyOpenGL picks its platform once, at its first import. This module sets ``PYOPENGL_PLATFORM=egl`` when
nothing chose one and OpenGL is not imported yet; with ``PYOPENGL_PLATFORM=osmesa`` it uses OSMesa.
Do not use it in a process that also runs Qt's OpenGL (the GUI renders thumbnails through
``app/viewport/thumbnails.py`` instead). The ``render`` CLI falls back to OSMesa in a child process when
EGL is unusable.

    from core_models.render.offscreen import render_pose_image
    rgb = render_pose_image(body, pose, size=(512, 512), view="front")   # (H, W, 3) uint8
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading

if "OpenGL.platform" not in sys.modules and not os.environ.get("PYOPENGL_PLATFORM"):
    os.environ["PYOPENGL_PLATFORM"] = "egl"

import numpy as np  # noqa: E402

from core_models.pose import Pose  # noqa: E402
from core_models.render.scene import (  # noqa: E402
    OffscreenTarget,
    RenderError,
    SceneRenderer,
    Theme,
    frame_camera,
    pose_state,
)

VIEW_NAMES = ("front", "side", "back", "three_quarter", "top")


def gl_platform() -> str:
    return os.environ.get("PYOPENGL_PLATFORM", "") or "default"


class _EGLContext:
    def __init__(self):
        from OpenGL import EGL

        self.EGL = EGL
        self.display = None
        errors = []
        for name, make in (("surfaceless", self._surfaceless_display), ("device", self._device_display),
                           ("default", lambda: EGL.eglGetDisplay(EGL.EGL_DEFAULT_DISPLAY))):
            try:
                d = make()
                if not d:
                    continue
                maj, mn = EGL.EGLint(), EGL.EGLint()
                if EGL.eglInitialize(d, ctypes.pointer(maj), ctypes.pointer(mn)):
                    self.display = d
                    self.kind = name
                    break
            except Exception as e:  # try the next kind of display
                errors.append(f"{name}: {e.__class__.__name__}")
        if self.display is None:
            raise RenderError("no usable EGL display (" + "; ".join(errors) + ")")
        if not EGL.eglBindAPI(EGL.EGL_OPENGL_API):
            raise RenderError("EGL: desktop OpenGL API not available")
        attribs = (EGL.EGLint * 5)(EGL.EGL_RENDERABLE_TYPE, EGL.EGL_OPENGL_BIT,
                                   EGL.EGL_SURFACE_TYPE, EGL.EGL_PBUFFER_BIT, EGL.EGL_NONE)
        config = EGL.EGLConfig()
        n = EGL.EGLint()
        ok = EGL.eglChooseConfig(self.display, attribs, ctypes.pointer(config), 1, ctypes.pointer(n))
        if not ok or n.value < 1:
            # configless context (EGL_KHR_no_config_context) for surfaceless platforms
            config = EGL.EGL_NO_CONFIG_KHR if hasattr(EGL, "EGL_NO_CONFIG_KHR") else None
        ctx_attribs = (EGL.EGLint * 7)(EGL.EGL_CONTEXT_MAJOR_VERSION, 3, EGL.EGL_CONTEXT_MINOR_VERSION, 3,
                                       EGL.EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                       EGL.EGL_NONE)
        self.context = EGL.eglCreateContext(self.display, config, EGL.EGL_NO_CONTEXT, ctx_attribs)
        if not self.context:
            raise RenderError("EGL: could not create a GL 3.3 core context")
        if not EGL.eglMakeCurrent(self.display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, self.context):
            raise RenderError("EGL: eglMakeCurrent (surfaceless) failed")

    def _surfaceless_display(self):
        from OpenGL.EGL.EXT.platform_base import eglGetPlatformDisplayEXT

        return eglGetPlatformDisplayEXT(0x31DD, None, None)  # EGL_PLATFORM_SURFACELESS_MESA

    def _device_display(self):
        from OpenGL.EGL.EXT.device_base import eglQueryDevicesEXT
        from OpenGL.EGL.EXT.platform_base import eglGetPlatformDisplayEXT

        EGL = self.EGL
        devices = (EGL.EGLDeviceEXT * 8)()
        n = EGL.EGLint()
        eglQueryDevicesEXT(8, devices, ctypes.pointer(n))
        if n.value < 1:
            return None
        return eglGetPlatformDisplayEXT(0x313F, devices[0], None)  # EGL_PLATFORM_DEVICE_EXT

    def make_current(self):
        EGL = self.EGL
        EGL.eglMakeCurrent(self.display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, self.context)

    def release(self):
        EGL = self.EGL
        EGL.eglMakeCurrent(self.display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        EGL.eglDestroyContext(self.display, self.context)
        # no eglTerminate: an EGL display is one per process, shared by every renderer in it; terminating it here
        # would invalidate the contexts of the renderers still open (the process exit releases it)


class _OSMesaContext:
    def __init__(self):
        from OpenGL import GL, osmesa

        attrs = (ctypes.c_int * 11)(osmesa.OSMESA_FORMAT, osmesa.OSMESA_RGBA, osmesa.OSMESA_DEPTH_BITS, 24,
                                    osmesa.OSMESA_PROFILE, osmesa.OSMESA_CORE_PROFILE,
                                    osmesa.OSMESA_CONTEXT_MAJOR_VERSION, 3, osmesa.OSMESA_CONTEXT_MINOR_VERSION, 3, 0)
        self.osmesa = osmesa
        self.context = osmesa.OSMesaCreateContextAttribs(attrs, None)
        if not self.context:
            raise RenderError("OSMesa: could not create a GL 3.3 core context")
        # OSMesa needs a colour buffer to make a context current; we render into our own FBO.
        self._buf = (GL.GLubyte * (4 * 4 * 4))()
        self.make_current()

    def make_current(self):
        from OpenGL import GL

        if not self.osmesa.OSMesaMakeCurrent(self.context, self._buf, GL.GL_UNSIGNED_BYTE, 4, 4):
            raise RenderError("OSMesa: OSMesaMakeCurrent failed")

    def release(self):
        self.osmesa.OSMesaDestroyContext(self.context)


class OffscreenRenderer:
    """A headless GL context with a SceneRenderer and a reusable FBO per image size.

    Not thread-safe: use one per thread (the methods lock anyway)."""

    def __init__(self, samples: int = 4, theme: Theme | None = None):
        plat = gl_platform()
        if plat == "osmesa":
            self._ctx: _OSMesaContext | _EGLContext = _OSMesaContext()
        elif plat in ("egl", "default"):
            if plat == "default":
                raise RenderError("OpenGL was imported before core_models.render.offscreen chose a headless "
                                  "platform; set PYOPENGL_PLATFORM=egl (or osmesa) before starting Python")
            self._ctx = _EGLContext()
        else:
            raise RenderError(f"PYOPENGL_PLATFORM={plat!r} cannot render offscreen; use egl or osmesa")
        from OpenGL import GL

        self.GL = GL
        version = GL.glGetString(GL.GL_VERSION)
        self.gl_version = version.decode() if isinstance(version, bytes) else str(version)
        renderer = GL.glGetString(GL.GL_RENDERER)
        self.gl_renderer = renderer.decode() if isinstance(renderer, bytes) else str(renderer)
        self.samples = samples
        self.scene = SceneRenderer(theme or Theme())
        self.scene.initialize()
        self._targets: dict[tuple[int, int, int], OffscreenTarget] = {}
        self._mesh_key: int | None = None
        self._lock = threading.Lock()

    def _target(self, w: int, h: int) -> OffscreenTarget:
        key = (w, h, self.samples)
        t = self._targets.get(key)
        if t is None:
            if len(self._targets) > 4:
                for old in self._targets.values():
                    old.release()
                self._targets.clear()
            t = self._targets[key] = OffscreenTarget(w, h, self.samples)
        return t

    def _ensure_mesh(self, body) -> None:
        key = id(body.skinning)
        if key != self._mesh_key:
            self.scene.set_mesh(body.skinning)
            self._mesh_key = key

    def render(self, body, pose: Pose, size: tuple[int, int] = (512, 512), view: str = "front",
               markers: bool = False, grid: bool = True, inset: bool = False, camera=None,
               alpha: bool = False, floor_y: float | None = None, reference=None) -> np.ndarray:
        """One image of ``body`` in ``pose``: (H, W, 3) uint8 RGB, or RGBA with ``alpha``. The ground is
        at the posed body's lowest point unless ``floor_y`` is given. ``reference``: a
        :class:`~core_models.render.reference_image.ReferenceImage` drawn too (kept uploaded for the next call;
        a different one, or None, frees the previous one's texture)."""
        if view not in VIEW_NAMES:
            raise ValueError(f"unknown view {view!r}; use one of {', '.join(VIEW_NAMES)}")
        w, h = int(size[0]), int(size[1])
        with self._lock:
            self._ctx.make_current()
            self._ensure_mesh(body)
            skin, joints, _ = pose_state(body.skinning, pose)
            sc = self.scene
            sc.set_state(skin, joints)
            sc.show_markers = markers
            sc.show_grid = grid
            sc.show_inset = inset
            sc.gizmo_joint = -1
            if sc.reference is not None and sc.reference is not reference:
                sc.reference.release()
            sc.reference = reference
            need_mesh = floor_y is None or camera is None  # skin the mesh only when it sets the floor or framing
            verts = body.forward(pose).vertices if need_mesh else np.zeros((1, 3), np.float32)
            sc.floor_y = float(verts[:, 1].min()) if floor_y is None else float(floor_y)
            if camera is None:
                camera = frame_camera(verts, view, w / h)
            t = self._target(w, h)
            t.bind()
            sc.render(camera, w, h)
            img = t.read_rgba()
        return img if alpha else img[..., :3].copy()

    def close(self) -> None:
        with self._lock:
            try:
                self._ctx.make_current()
                for t in self._targets.values():
                    t.release()
                self._targets.clear()
                self.scene.release()
            finally:
                self._ctx.release()


_shared: OffscreenRenderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> OffscreenRenderer:
    """A lazily created process-wide OffscreenRenderer."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = OffscreenRenderer()
        return _shared


def render_pose_image(body, pose: Pose, size: tuple[int, int] = (512, 512), view: str = "front",
                      **kwargs) -> np.ndarray:
    """Render ``body`` in ``pose`` headless: (H, W, 3) uint8 RGB (``alpha=True`` for RGBA).
    ``view`` is one of front, side, back, three_quarter, top; the camera frames the posed body."""
    return shared_renderer().render(body, pose, size=size, view=view, **kwargs)
