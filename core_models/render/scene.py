"""The PoseTailor 3D scene in raw PyOpenGL (GL 3.3 core), with no Qt.

One ``SceneRenderer`` draws, into whatever framebuffer is bound (a QOpenGLWidget's FBO, an offscreen
EGL/OSMesa FBO, ...):
  * a background gradient;
  * the floor: an anti-aliased procedural grid at ``floor_y`` that fades out, and a soft contact shadow
    made of one blob per joint (stronger when the joint is near the floor);
  * the body with **GPU linear blend skinning**: rest vertices/normals and up to 8 skin weights per vertex
    (``shader_weights``: all of Anny's ≤ 7 and SMPL-H's ≤ 4, so it matches the CPU skinning and the exports)
    live in persistent VBOs; per frame only the 52 (3x4) skin matrices (22 body + 30 finger joints; a body
    without finger bones or a pose without a hand pose gives the fingers their wrist's) go up as a uniform array;
  * joint markers (instanced spheres, per-joint colours, ghosted where the body hides them);
  * the rotation gizmo: three rings (X red, Y green, Z blue) around a joint, back halves dimmed;
  * optionally a side-view orthographic inset in the bottom-right corner (the scene drawn a second time,
    seen from 90° to the main camera's left).
Per-frame work is a handful of uniform uploads and draw calls; nothing is allocated per frame.

Use: ``initialize()`` once with a current context, ``set_mesh(skinning)``, ``set_state(skin, joints)``
whenever the pose changes, then ``render(camera, w, h)`` every frame. ``pose_state(skinning, pose)``
computes (skin, joints, global rotations) from a Pose with numpy FK (no vertex skinning on the CPU).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np
from OpenGL import GL

from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.body.base import hand_bind, hand_skinning, shader_weights, skin52
from core_models.pose import Pose, aa_to_matrix_np
from core_models.render import shaders
from core_models.render.camera import OrbitCamera
from core_models.render.geometry import icosphere, torus
from core_models.render.reference_image import ReferenceImage

NJ = sk.NUM_JOINTS
NJ_SKIN = 52  # skinning joints on the GPU: SMPL-H's 22 body + 30 finger joints
_WRIST_OF_HAND = np.array([sk.JOINT_INDEX["left_wrist"]] * 15 + [sk.JOINT_INDEX["right_wrist"]] * 15)


class RenderError(RuntimeError):
    """OpenGL could not do what was asked (no context, shader compile error, ...)."""


# --- pose → skinning state (numpy, no GL) ---------------------------------------------------------------

_bind_cache: dict[int, tuple] = {}


def _hand_layer(skinning):
    """(52-joint SkinningData, its bind) of a body with finger bones, cached per SkinningData; None without."""
    hit = _bind_cache.get(id(skinning))
    if hit is not None and hit[0] is skinning:
        return hit[1]
    d52 = hand_skinning(skinning) if getattr(skinning, "weights52", None) is not None else None
    value = None if d52 is None else (d52, hand_bind(d52))
    if len(_bind_cache) > 8:
        _bind_cache.clear()
    _bind_cache[id(skinning)] = (skinning, value)
    return value


def pose_state(skinning, pose: Pose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FK for one pose: (skin (22,3,4) — (52,3,4) with the finger joints when the pose has a hand pose and the
    body finger bones — float32 incl. translation, joints (22,3) float32, Rg (22,3,3)). Without a hand pose the
    fingers keep the body's rest hand (``set_state`` gives them their wrist's transform)."""
    if pose.batch_shape != ():
        raise ValueError(f"pose_state needs a single pose, got batch shape {pose.batch_shape}")
    layer = None if pose.hand_pose is None else _hand_layer(skinning)
    if layer is not None:
        Rg52, J52, sk52 = skin52(layer[0], layer[1], pose.full(), pose.hand_pose, pose.transl)
        return sk52.astype(np.float32), J52[:NJ].astype(np.float32), Rg52[:NJ]
    R = aa_to_matrix_np(pose.full())  # numpy Rodrigues (= roma.rotvec_to_rotmat), so drawing needs no torch
    Rg, J, skin = kin.fk_numpy(R, skinning.rest_joints.astype(np.float64), skinning.parents)
    t = pose.transl.astype(np.float64)
    J = J + t
    skin[..., 3] += t
    return skin.astype(np.float32), J.astype(np.float32), Rg


# --- looks ------------------------------------------------------------------------------------------------

def _srgb_to_linear(c) -> np.ndarray:
    """Display colour → linear with the gamma-2 approximation the shaders use (output = sqrt)."""
    c = np.asarray(c, np.float32)
    return (c * c).astype(np.float32)


GRID_HALF = 8  # metres of major grid lines around the body (minor lines: half of that; they fade out first)


def grid_lines(half: int = GRID_HALF, minor: float = 0.25, segment: float = 1.0) -> np.ndarray:
    """Line-segment vertices (N,3) = (x, z, kind) for the floor grid around the origin: major lines every
    metre out to ``half`` m (kind 1), minor lines every ``minor`` m out to ``half/2`` m (kind 0), and the
    world x/z axes (kinds 2/3). Lines are cut into ``segment``-long pieces so the per-vertex distance fade
    is smooth. (~1k segments: cheap to transform on software GL.)"""
    out = []
    for kind, ext, spacing in ((1.0, half, 1.0), (0.0, half / 2, minor)):
        steps = np.arange(-ext, ext + 1e-6, segment)
        for t in np.round(np.arange(-ext, ext + 1e-6, spacing), 6):
            if kind == 0.0 and abs(t - round(t)) < 1e-6:
                continue  # a major line is there
            for a, b in zip(steps[:-1], steps[1:]):
                out += [(t, a, kind), (t, b, kind), (a, t, kind), (b, t, kind)]
    steps = np.arange(-half, half + 1e-6, segment)
    for a, b in zip(steps[:-1], steps[1:]):
        out += [(a, 0.0, 2.0), (b, 0.0, 2.0), (0.0, a, 3.0), (0.0, b, 3.0)]
    return np.asarray(out, np.float32)


@dataclass
class Theme:
    bg_top: tuple = (0.30, 0.32, 0.36)
    bg_bottom: tuple = (0.13, 0.14, 0.16)
    floor: tuple = (0.36, 0.38, 0.42, 0.30)
    minor: tuple = (0.55, 0.58, 0.63, 0.20)
    major: tuple = (0.66, 0.69, 0.75, 0.45)
    axis_x: tuple = (0.80, 0.38, 0.36, 0.70)
    axis_z: tuple = (0.38, 0.52, 0.85, 0.70)
    inset_bg_top: tuple = (0.22, 0.24, 0.28)
    inset_bg_bottom: tuple = (0.12, 0.13, 0.15)
    inset_border: tuple = (0.55, 0.58, 0.64)
    shadow: float = 0.85


DARK = Theme()
LIGHT = Theme(bg_top=(0.88, 0.89, 0.92), bg_bottom=(0.66, 0.68, 0.72), floor=(0.80, 0.81, 0.84, 0.35),
              minor=(0.55, 0.57, 0.62, 0.35), major=(0.42, 0.44, 0.50, 0.55),
              inset_bg_top=(0.95, 0.95, 0.97), inset_bg_bottom=(0.78, 0.79, 0.82), inset_border=(0.35, 0.37, 0.42),
              shadow=0.75)

#: Default marker colours (sRGB).
MARKER_NORMAL = (0.80, 0.88, 1.00)
MARKER_SELECTED = (1.00, 0.72, 0.15)
MARKER_OFF_TARGET = (0.95, 0.25, 0.25)
GIZMO_AXIS_COLORS = ((0.93, 0.27, 0.27), (0.35, 0.85, 0.35), (0.30, 0.52, 1.00))
GIZMO_HIGHLIGHT = (1.00, 0.86, 0.25)
SKIN_ALBEDO = (0.82, 0.67, 0.59)  # sRGB, a soft neutral skin / clay tone


# --- small GL helpers -------------------------------------------------------------------------------------

def _compile(vs: str, fs: str) -> int:
    def one(src, kind):
        sh = GL.glCreateShader(kind)
        GL.glShaderSource(sh, src)
        GL.glCompileShader(sh)
        if not GL.glGetShaderiv(sh, GL.GL_COMPILE_STATUS):
            log = GL.glGetShaderInfoLog(sh)
            text = log.decode(errors="replace") if isinstance(log, bytes) else log
            raise RenderError(f"shader compile failed: {text}")
        return sh

    v, f = one(vs, GL.GL_VERTEX_SHADER), one(fs, GL.GL_FRAGMENT_SHADER)
    p = GL.glCreateProgram()
    GL.glAttachShader(p, v)
    GL.glAttachShader(p, f)
    GL.glLinkProgram(p)
    if not GL.glGetProgramiv(p, GL.GL_LINK_STATUS):
        log = GL.glGetProgramInfoLog(p)
        raise RenderError(f"program link failed: {log.decode(errors='replace') if isinstance(log, bytes) else log}")
    GL.glDeleteShader(v)
    GL.glDeleteShader(f)
    return int(p)


def _compile_capture(vs: str, varyings: tuple[str, ...]) -> int:
    """A vertex-only program whose ``varyings`` are captured (interleaved) by transform feedback."""
    sh = GL.glCreateShader(GL.GL_VERTEX_SHADER)
    GL.glShaderSource(sh, vs)
    GL.glCompileShader(sh)
    if not GL.glGetShaderiv(sh, GL.GL_COMPILE_STATUS):
        raise RenderError(f"shader compile failed: {GL.glGetShaderInfoLog(sh)!r}")
    p = GL.glCreateProgram()
    GL.glAttachShader(p, sh)
    names = [ctypes.create_string_buffer(v.encode()) for v in varyings]
    arr = (ctypes.POINTER(ctypes.c_char) * len(names))(*[ctypes.cast(n, ctypes.POINTER(ctypes.c_char))
                                                          for n in names])
    GL.glTransformFeedbackVaryings(p, len(names), arr, GL.GL_INTERLEAVED_ATTRIBS)
    GL.glLinkProgram(p)
    GL.glDeleteShader(sh)
    if not GL.glGetProgramiv(p, GL.GL_LINK_STATUS):
        raise RenderError(f"program link failed: {GL.glGetProgramInfoLog(p)!r}")
    return int(p)


class _Program:
    def __init__(self, vs: str, fs: str | None, varyings: tuple[str, ...] = ()):
        self.id = _compile(vs, fs) if fs is not None else _compile_capture(vs, varyings)
        self._loc: dict[str, int] = {}

    def loc(self, name: str) -> int:
        l = self._loc.get(name)
        if l is None:
            l = self._loc[name] = GL.glGetUniformLocation(self.id, name)
        return l

    def use(self):
        GL.glUseProgram(self.id)


def _vbo(data: np.ndarray, target=GL.GL_ARRAY_BUFFER) -> int:
    b = GL.glGenBuffers(1)
    GL.glBindBuffer(target, b)
    GL.glBufferData(target, data.nbytes, np.ascontiguousarray(data), GL.GL_STATIC_DRAW)
    return int(b)


def gizmo_world_radius(camera: OrbitCamera, center: np.ndarray, viewport_h: float, px: float = 75.0) -> float:
    """World radius of the gizmo rings so they appear ``px`` pixels large (same for drawing and picking)."""
    return px * camera.world_per_pixel(center, viewport_h)


# --- the renderer ---------------------------------------------------------------------------------------------

class SceneRenderer:
    """See the module docstring. All methods except the pure-state setters need a current GL context."""

    def __init__(self, theme: Theme = DARK):
        self.theme = theme
        self.show_grid = True
        self.show_shadow = True
        self.show_markers = True
        self.show_inset = False
        self.cull_backfaces = True
        self.floor_fill = False  # a faded ground plane under the grid lines (~2 ms at 720p on llvmpipe)
        #: per-pixel (True) or per-vertex (False, much cheaper on software GL) lighting of the body
        self.per_pixel_lighting = True
        self.marker_radius = 0.022
        self.gizmo_joint = -1
        self.gizmo_active_axis = -1
        self.gizmo_hover_axis = -1
        self.gizmo_px = 75.0
        self.floor_y = 0.0
        self.inset_fraction = 0.34  # inset height / viewport height
        #: draw the inset through its own FBO (the live viewport), so that with ``inset_reuse`` a frame can show
        #: the previous inset image instead of drawing the scene a second time (``inset_reused`` says it did)
        self.inset_cache = False
        self.inset_reuse = False
        self.inset_reused = False
        self._inset_target: OffscreenTarget | None = None
        self._inset_valid = False
        #: a reference image (core_models.render.reference_image.ReferenceImage) drawn behind / in the scene
        self.reference: ReferenceImage | None = None
        #: a translucent second body drawn after this one (core_models.render.ghost.GhostBody: the coach's target)
        self.ghost = None
        self.albedo = _srgb_to_linear(SKIN_ALBEDO)
        #: (key, fill) light directions in camera terms (right, up, towards the camera); None: the default rig
        self.light_rig: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
        # per-frame state (preallocated; setters copy into these)
        self._skin = np.zeros((NJ_SKIN * 3, 4), np.float32)
        self._skin.reshape(NJ_SKIN, 3, 4)[:, :, :3] = np.eye(3, dtype=np.float32)
        self._joints = np.zeros((NJ, 3), np.float32)
        self._marker = np.zeros((NJ, 4), np.float32)
        self._marker_col = np.zeros((NJ, 4), np.float32)
        self._marker_col[:, :3] = MARKER_NORMAL
        self._marker_col[:, 3] = 1.0
        self._marker_scale = np.ones(NJ, np.float32)
        self._tint = np.zeros((NJ, 4), np.float32)
        self._shadow = np.zeros((NJ, 4), np.float32)
        self._shadow[:, 3] = 0.09
        self._grid_cols = np.zeros((4, 4), np.float32)
        self._gizmo_cols = np.array([(*c, 0.95) for c in GIZMO_AXIS_COLORS], np.float32)
        self._n_indices = 0
        self._n_vertices = 0
        self._p_capture: _Program | None = None
        self._initialized = False
        self._has_mesh = False
        self._bbox = (np.array([-0.8, -0.9, -0.2]), np.array([0.8, 0.8, 0.2]))
        self._handles: np.ndarray | None = None  # drag-pose handles (set_handles)
        self._handle_cols = np.ones((NJ, 4), np.float32)
        self._n_handles = 0

    # --- state setters (no GL) -------------------------------------------------------------------------
    def set_state(self, skin: np.ndarray, joints: np.ndarray) -> None:
        """The pose to draw: skin (22,3,4) or, with the finger joints, (52,3,4) rest→posed transforms and joints
        (22,3). With 22 the finger joints follow their wrists."""
        s = self._skin.reshape(NJ_SKIN, 3, 4)
        if len(skin) == NJ_SKIN:
            s[...] = skin
        else:
            s[:NJ] = skin
            s[NJ:] = s[_WRIST_OF_HAND]
        self._joints[...] = joints
        self._marker[:, :3] = joints
        self._shadow[:, :3] = joints

    def set_marker_colors(self, colors: np.ndarray) -> None:
        """(22,3) sRGB marker colours."""
        self._marker_col[:, :3] = colors

    def set_marker_scale(self, scale: np.ndarray) -> None:
        """(22,) marker size factors (0 hides a marker)."""
        self._marker_scale[...] = scale

    def set_tints(self, tints: np.ndarray) -> None:
        """(22,4) sRGB colour + strength tinting each joint's skin segment (strength 0 = none)."""
        t = np.asarray(tints, np.float32)
        self._tint[:, :3] = _srgb_to_linear(t[:, :3]) * t[:, 3:4]
        self._tint[:, 3] = t[:, 3]

    @property
    def joints(self) -> np.ndarray:
        return self._joints

    def body_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Approximate posed-body bounds: joint bounds padded for flesh, head and hands/feet."""
        lo = self._joints.min(0).astype(np.float64) - 0.12
        hi = self._joints.max(0).astype(np.float64) + 0.12
        hi[1] = max(hi[1], self._joints[15, 1] + 0.16)  # top of the head
        return lo, hi

    # --- GL resources ------------------------------------------------------------------------------------
    def initialize(self) -> None:
        """Compile shaders and create the static buffers (needs a current GL ≥ 3.3 core context)."""
        if self._initialized:
            return
        self.p_bg = _Program(shaders.BACKGROUND_VS, shaders.BACKGROUND_FS)
        self.p_floor = _Program(shaders.FLOOR_VS, shaders.FLOOR_FS)
        self.p_grid = _Program(shaders.GRID_VS, shaders.GRID_FS)
        self.p_shadow = _Program(shaders.SHADOW_VS, shaders.SHADOW_FS)
        self.p_body_pixel = _Program(shaders.BODY_VS, shaders.BODY_FS)
        self.p_body_vertex = _Program(shaders.BODY_GOURAUD_VS, shaders.BODY_GOURAUD_FS)
        self.p_marker = _Program(shaders.MARKER_VS, shaders.MARKER_FS)
        self.p_gizmo = _Program(shaders.GIZMO_VS, shaders.GIZMO_FS)
        self.vao_empty = int(GL.glGenVertexArrays(1))
        # marker sphere
        sv, sf = icosphere(1)
        self.vao_sphere = int(GL.glGenVertexArrays(1))
        GL.glBindVertexArray(self.vao_sphere)
        self._bufs = [_vbo(sv)]
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 3, GL.GL_FLOAT, GL.GL_FALSE, 0, ctypes.c_void_p(0))
        self._bufs.append(_vbo(sf.ravel(), GL.GL_ELEMENT_ARRAY_BUFFER))
        self._n_sphere = int(sf.size)
        # gizmo torus
        tv, tf = torus(96, 8)
        self.vao_torus = int(GL.glGenVertexArrays(1))
        GL.glBindVertexArray(self.vao_torus)
        self._bufs.append(_vbo(tv))
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 4, GL.GL_FLOAT, GL.GL_FALSE, 0, ctypes.c_void_p(0))
        self._bufs.append(_vbo(tf.ravel(), GL.GL_ELEMENT_ARRAY_BUFFER))
        self._n_torus = int(tf.size)
        # floor grid lines
        gl_lines = grid_lines()
        self.vao_grid = int(GL.glGenVertexArrays(1))
        GL.glBindVertexArray(self.vao_grid)
        self._bufs.append(_vbo(gl_lines))
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 3, GL.GL_FLOAT, GL.GL_FALSE, 0, ctypes.c_void_p(0))
        self._n_grid = int(gl_lines.shape[0])
        GL.glBindVertexArray(0)
        self.vao_body: int | None = None
        self._body_bufs: list[int] = []
        self._initialized = True

    def set_mesh(self, skinning) -> None:
        """Upload the body's rest mesh and skin weights once (SkinningData); needs a current context."""
        if not self._initialized:
            self.initialize()
        self._release_mesh()
        d = skinning
        layer = _hand_layer(d)
        widx, wval = shader_weights(d if layer is None else layer[0], shaders.SKIN_INFLUENCES)
        self.vao_body = int(GL.glGenVertexArrays(1))
        GL.glBindVertexArray(self.vao_body)
        for loc, arr, n in ((0, d.rest_vertices, 3), (1, d.rest_normals, 3)):
            self._body_bufs.append(_vbo(np.asarray(arr, np.float32)))
            GL.glEnableVertexAttribArray(loc)
            GL.glVertexAttribPointer(loc, n, GL.GL_FLOAT, GL.GL_FALSE, 0, ctypes.c_void_p(0))
        for half in range(2):  # influences 0-3 at locations 2/3, 4-7 at 4/5
            cols = slice(4 * half, 4 * half + 4)
            self._body_bufs.append(_vbo(np.ascontiguousarray(widx[:, cols])))
            GL.glEnableVertexAttribArray(2 + 2 * half)
            GL.glVertexAttribIPointer(2 + 2 * half, 4, GL.GL_INT, 0, ctypes.c_void_p(0))
            self._body_bufs.append(_vbo(np.ascontiguousarray(wval[:, cols])))
            GL.glEnableVertexAttribArray(3 + 2 * half)
            GL.glVertexAttribPointer(3 + 2 * half, 4, GL.GL_FLOAT, GL.GL_FALSE, 0, ctypes.c_void_p(0))
        self._n_vertices = int(d.rest_vertices.shape[0])
        # triangles ordered by their first vertex: neighbours share vertices within llvmpipe's vertex-cache
        # window, so fewer vertices are skinned twice (~7 % of the body pass); the drawn image is the same
        faces = np.asarray(d.faces, np.uint32)
        faces = faces[np.argsort(faces.min(1), kind="stable")]
        self._body_bufs.append(_vbo(faces.ravel(), GL.GL_ELEMENT_ARRAY_BUFFER))
        self._n_indices = int(d.faces.size)
        GL.glBindVertexArray(0)
        self.floor_y = float(d.floor_height)
        self._has_mesh = True

    def _release_mesh(self):
        if self._body_bufs:
            GL.glDeleteBuffers(len(self._body_bufs), self._body_bufs)
            self._body_bufs = []
        if self.vao_body is not None:
            GL.glDeleteVertexArrays(1, [self.vao_body])
            self.vao_body = None
        self._has_mesh = False

    def release(self) -> None:
        """Free GL objects (call with the context current)."""
        if not self._initialized:
            return
        self._release_mesh()
        if self.reference is not None:
            self.reference.release()
        if self.ghost is not None:
            self.ghost.release()
        if self._inset_target is not None:
            self._inset_target.release()
            self._inset_target = None
            self._inset_valid = False
        GL.glDeleteBuffers(len(self._bufs), self._bufs)
        GL.glDeleteVertexArrays(4, [self.vao_empty, self.vao_sphere, self.vao_torus, self.vao_grid])
        for p in (self.p_bg, self.p_floor, self.p_grid, self.p_shadow, self.p_body_pixel, self.p_body_vertex,
                  self.p_marker, self.p_gizmo, self._p_capture):
            if p is not None:
                GL.glDeleteProgram(p.id)
        self._p_capture = None
        self._initialized = False

    def skinned_vertices(self) -> tuple[np.ndarray, np.ndarray]:
        """The current pose's mesh exactly as the GPU skins it for drawing (same attributes, weights and
        skinning code, read back through transform feedback): (vertices (V,3), normals (V,3)) float32,
        normals not normalised. Needs a current context with a complete framebuffer bound, and a mesh."""
        if not self._has_mesh:
            raise RenderError("no mesh uploaded (call set_mesh first)")
        if self._p_capture is None:
            self._p_capture = _Program(shaders.SKIN_CAPTURE_VS, None, ("tf_pos", "tf_nrm"))
        n = self._n_vertices
        p = self._p_capture
        p.use()
        GL.glUniformMatrix4fv(p.loc("u_vp"), 1, GL.GL_TRUE, np.eye(4, dtype=np.float32))
        GL.glUniform4fv(p.loc("u_skin"), NJ_SKIN * 3, self._skin)
        GL.glUniform4fv(p.loc("u_tint"), NJ, self._tint)
        buf = int(GL.glGenBuffers(1))
        out = np.zeros((n, 6), np.float32)
        try:
            GL.glBindBuffer(GL.GL_TRANSFORM_FEEDBACK_BUFFER, buf)
            GL.glBufferData(GL.GL_TRANSFORM_FEEDBACK_BUFFER, out.nbytes, None, GL.GL_STATIC_READ)
            GL.glBindBufferBase(GL.GL_TRANSFORM_FEEDBACK_BUFFER, 0, buf)
            GL.glEnable(GL.GL_RASTERIZER_DISCARD)
            GL.glBindVertexArray(self.vao_body)
            GL.glBeginTransformFeedback(GL.GL_POINTS)
            GL.glDrawArrays(GL.GL_POINTS, 0, n)
            GL.glEndTransformFeedback()
            GL.glDisable(GL.GL_RASTERIZER_DISCARD)
            ptr = GL.glMapBufferRange(GL.GL_TRANSFORM_FEEDBACK_BUFFER, 0, out.nbytes, GL.GL_MAP_READ_BIT)
            if not ptr:
                raise RenderError("could not map the transform feedback buffer")
            ctypes.memmove(out.ctypes.data, ptr, out.nbytes)
            GL.glUnmapBuffer(GL.GL_TRANSFORM_FEEDBACK_BUFFER)
        finally:
            GL.glBindVertexArray(0)
            GL.glDeleteBuffers(1, [buf])  # (deleting it unbinds it)
            GL.glUseProgram(0)
        return out[:, :3].copy(), out[:, 3:].copy()

    def set_handles(self, centers: np.ndarray | None, radii: np.ndarray | None = None,
                    colors: np.ndarray | None = None) -> None:
        """Drag-pose handles (core_models.render.handles): up to 22 spheres (centres, world radii, sRGB colours)
        drawn after the joint markers, faint where the body hides them; ``centers`` None hides them."""
        if centers is None:
            self._handles = None
            return
        c = np.asarray(centers, np.float32).reshape(-1, 3)[:NJ]
        h = np.zeros((NJ, 4), np.float32)
        h[: len(c), :3], h[: len(c), 3] = c, np.asarray(radii, np.float32)[: len(c)]
        col = np.ones((NJ, 4), np.float32)
        col[: len(c), :3] = np.asarray(colors, np.float32)[: len(c)]
        self._handles, self._handle_cols, self._n_handles = h, col, len(c)

    def draw_handles(self, vp: np.ndarray, fwd: np.ndarray, key) -> None:
        """The drag-pose handles with the marker shader: visible parts solid, parts behind the body faint."""
        if self._handles is None or self._handle_cols is None:
            return
        p = self._use_marker_shader(vp, fwd, key, self._handles, self._handle_cols)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        for depth_func, alpha in ((GL.GL_GREATER, 0.55), (GL.GL_LEQUAL, 1.0)):
            GL.glDepthFunc(depth_func)
            GL.glUniform1f(p.loc("u_alpha"), alpha)
            GL.glDrawElementsInstanced(GL.GL_TRIANGLES, self._n_sphere, GL.GL_UNSIGNED_INT, None, self._n_handles)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glDisable(GL.GL_BLEND)

    # --- drawing -----------------------------------------------------------------------------------------
    def render(self, camera: OrbitCamera, width: int, height: int, x: int = 0, y: int = 0,
               draw_gizmo: bool = True) -> None:
        """Draw the whole frame into the bound framebuffer's viewport (x, y, width, height) in device pixels,
        plus the inset if ``show_inset``."""
        if not self._initialized:
            self.initialize()
        self.inset_reused = False
        if not self.inset_cache:
            self._inset_valid = False  # the kept inset image is not the one on screen any more
        GL.glViewport(x, y, width, height)
        GL.glDisable(GL.GL_SCISSOR_TEST)
        GL.glClearColor(*self.theme.bg_bottom, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        self._draw_pass(camera, width / max(height, 1), height, self.theme.bg_top, self.theme.bg_bottom,
                        gizmo=draw_gizmo, markers=self.show_markers, marker_scale=1.0)
        if self.show_inset and height >= 120 and width >= 160:
            self._draw_inset(camera, x, y, width, height)

    def inset_rect(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the inset in GL viewport coordinates (bottom-left origin)."""
        h = int(height * self.inset_fraction)
        w = int(h * 0.78)
        m = max(6, int(height * 0.015))
        return width - w - m, m, w, h

    def inset_camera(self, camera: OrbitCamera, aspect: float) -> OrbitCamera:
        """The inset's orthographic camera: 90° to the left of the main view, level, framing the body."""
        cam = OrbitCamera(ortho=True, fovy=30.0)
        cam.azimuth = camera.azimuth + 90.0
        cam.elevation = 0.0
        lo, hi = self.body_bounds()
        corners = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (lo[2], hi[2])])
        cam.frame_points(corners, aspect, margin=1.1)
        return cam

    def _draw_inset(self, camera, x0, y0, width, height):
        ix, iy, iw, ih = self.inset_rect(width, height)
        ix += x0
        iy += y0
        GL.glEnable(GL.GL_SCISSOR_TEST)
        GL.glScissor(ix - 1, iy - 1, iw + 2, ih + 2)
        GL.glClearColor(*self.theme.inset_border, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        if self.inset_cache:
            GL.glDisable(GL.GL_SCISSOR_TEST)
            self._draw_inset_cached(camera, ix, iy, iw, ih)
        else:
            GL.glScissor(ix, iy, iw, ih)
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT)
            GL.glViewport(ix, iy, iw, ih)
            self._inset_pass(camera, iw, ih)
            GL.glDisable(GL.GL_SCISSOR_TEST)
        GL.glViewport(x0, y0, width, height)

    def _inset_pass(self, camera, iw: int, ih: int) -> None:
        cam = self.inset_camera(camera, iw / max(ih, 1))
        self._draw_pass(cam, iw / max(ih, 1), ih, self.theme.inset_bg_top, self.theme.inset_bg_bottom,
                        gizmo=False, markers=self.show_markers, marker_scale=0.8, ghost=False, reference=False)

    def _draw_inset_cached(self, camera, ix: int, iy: int, iw: int, ih: int) -> bool:
        """The inset drawn into its own FBO and copied into place; with ``inset_reuse`` the previous copy is
        used again when it has the right size (no second scene pass). Returns True when it was reused."""
        dst = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
        c = self._inset_target
        reuse = self.inset_reuse and self._inset_valid and c is not None and (c.width, c.height) == (iw, ih)
        if not reuse:
            if c is None or (c.width, c.height) != (iw, ih):
                if c is not None:
                    c.release()
                c = self._inset_target = OffscreenTarget(iw, ih, samples=0)
            c.bind()
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT)
            self._inset_pass(camera, iw, ih)
            self._inset_valid = True
        assert c is not None
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, c.fbo)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, dst)
        GL.glBlitFramebuffer(0, 0, iw, ih, ix, iy, ix + iw, iy + ih, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, dst)
        self.inset_reused = reuse
        return reuse

    def _lights(self, camera: OrbitCamera):
        """Camera-relative key (upper left-front), fill (right), rim (behind) in world space."""
        r, u = camera.right_up()
        f = camera.forward()
        def d(a, b, c):
            v = a * r + b * u - c * f
            return (v / np.linalg.norm(v)).astype(np.float32)
        key, fill = self.light_rig or ((-0.55, 0.75, 0.45), (0.80, 0.10, 0.35))
        return d(*key), d(*fill)

    def _draw_pass(self, camera: OrbitCamera, aspect: float, vp_height: float, bg_top, bg_bottom,
                   gizmo: bool, markers: bool, marker_scale: float, ghost: bool = True, reference: bool = True):
        """Stages: background → floor (fill, grid, contact shadow) → body → joint markers → gizmo."""
        vp = camera.view_proj(aspect)
        eye = camera.eye().astype(np.float32)
        fwd = camera.forward().astype(np.float32)
        key, fill = self._lights(camera)
        # background
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_BLEND)
        self.p_bg.use()
        GL.glUniform3f(self.p_bg.loc("u_top"), *bg_top)
        GL.glUniform3f(self.p_bg.loc("u_bottom"), *bg_bottom)
        GL.glBindVertexArray(self.vao_empty)
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        ref = self.reference if reference else None
        if ref is not None:  # reference image hook: a background image goes under the floor and the body
            ref.draw(camera, int(vp_height * aspect + 0.5), int(vp_height), "background", (bg_top, bg_bottom))
        self._draw_floor(vp)
        # body
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glDepthMask(GL.GL_TRUE)
        if self._has_mesh:
            self._draw_body(camera, vp, eye, fwd, key, fill)
            if self.ghost is not None:
                self.ghost.draw(self, camera, vp, eye, fwd)
        if ref is not None:  # a camera-facing reference plane: after the body, depth-tested, blended
            ref.draw(camera, int(vp_height * aspect + 0.5), int(vp_height), "scene")
        if markers:
            self._draw_markers(vp, fwd, key, marker_scale, ghost)
        if gizmo and self._handles is not None:
            self.draw_handles(vp, fwd, key)
        if gizmo and 0 <= self.gizmo_joint < NJ:
            self._draw_gizmo(camera, vp, eye, fwd, vp_height)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)

    def _draw_floor(self, vp: np.ndarray) -> None:
        """Floor: faded plane, grid lines, contact shadow (no depth; the body is drawn after and covers it)."""
        th = self.theme
        cx, cz = float(self._joints[0, 0]), float(self._joints[0, 2])
        fade = 7.0
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        if self.show_grid and self.floor_fill:
            p = self.p_floor
            p.use()
            GL.glUniformMatrix4fv(p.loc("u_vp"), 1, GL.GL_TRUE, vp)
            GL.glUniform1f(p.loc("u_floor_y"), self.floor_y)
            GL.glUniform2f(p.loc("u_center"), cx, cz)
            GL.glUniform1f(p.loc("u_half"), fade)
            GL.glUniform1f(p.loc("u_fade"), fade)
            GL.glUniform4f(p.loc("u_floor_col"), *th.floor)
            GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        if self.show_grid:
            p = self.p_grid
            p.use()
            GL.glUniformMatrix4fv(p.loc("u_vp"), 1, GL.GL_TRUE, vp)
            GL.glUniform1f(p.loc("u_floor_y"), self.floor_y)
            GL.glUniform2f(p.loc("u_snap"), float(round(cx)), float(round(cz)))
            GL.glUniform2f(p.loc("u_center"), cx, cz)
            GL.glUniform1f(p.loc("u_fade"), fade)
            self._grid_cols[0] = th.minor
            self._grid_cols[1] = th.major
            self._grid_cols[2] = th.axis_x
            self._grid_cols[3] = th.axis_z
            GL.glUniform4fv(p.loc("u_col"), 4, self._grid_cols)
            GL.glBindVertexArray(self.vao_grid)
            GL.glDrawArrays(GL.GL_LINES, 0, self._n_grid)
        if self.show_shadow and self._has_mesh:
            p = self.p_shadow
            p.use()
            GL.glBlendFunc(GL.GL_ZERO, GL.GL_SRC_COLOR)
            GL.glUniformMatrix4fv(p.loc("u_vp"), 1, GL.GL_TRUE, vp)
            GL.glUniform1f(p.loc("u_floor_y"), self.floor_y)
            GL.glUniform4fv(p.loc("u_pts"), NJ, self._shadow)
            GL.glUniform1f(p.loc("u_strength"), th.shadow)
            GL.glBindVertexArray(self.vao_empty)
            GL.glDrawArraysInstanced(GL.GL_TRIANGLE_STRIP, 0, 4, NJ)
        GL.glDisable(GL.GL_BLEND)

    def _draw_body(self, camera: OrbitCamera, vp: np.ndarray, eye: np.ndarray, fwd: np.ndarray, key, fill) -> None:
        """The skinned body (GPU skinning, key/fill/rim + hemisphere lighting)."""
        p = self.p_body_pixel if self.per_pixel_lighting else self.p_body_vertex
        p.use()
        GL.glUniformMatrix4fv(p.loc("u_vp"), 1, GL.GL_TRUE, vp)
        GL.glUniform4fv(p.loc("u_skin"), NJ_SKIN * 3, self._skin)
        GL.glUniform4fv(p.loc("u_tint"), NJ, self._tint)
        GL.glUniform3f(p.loc("u_eye"), *eye)
        GL.glUniform3f(p.loc("u_view_dir"), *fwd)
        GL.glUniform1i(p.loc("u_ortho"), int(camera.ortho))
        GL.glUniform3f(p.loc("u_albedo"), *self.albedo)
        GL.glUniform3f(p.loc("u_sky"), 0.42, 0.44, 0.50)
        GL.glUniform3f(p.loc("u_ground"), 0.16, 0.14, 0.13)
        GL.glUniform3f(p.loc("u_key_dir"), *key)
        GL.glUniform3f(p.loc("u_key_col"), 1.00, 0.93, 0.84)
        GL.glUniform3f(p.loc("u_fill_dir"), *fill)
        GL.glUniform3f(p.loc("u_fill_col"), 0.22, 0.26, 0.34)
        GL.glUniform3f(p.loc("u_rim_col"), 0.20, 0.24, 0.30)
        GL.glUniform1f(p.loc("u_floor_y"), self.floor_y)
        GL.glBindVertexArray(self.vao_body)
        if self.cull_backfaces:  # the mesh is closed and wound CCW outward: halves llvmpipe's raster work
            GL.glEnable(GL.GL_CULL_FACE)
            GL.glCullFace(GL.GL_BACK)
            GL.glFrontFace(GL.GL_CCW)
        GL.glDrawElements(GL.GL_TRIANGLES, self._n_indices, GL.GL_UNSIGNED_INT, None)
        GL.glDisable(GL.GL_CULL_FACE)

    def _use_marker_shader(self, vp: np.ndarray, fwd: np.ndarray, key, spheres: np.ndarray, colors: np.ndarray):
        """Bind the instanced-sphere marker shader with (NJ,4) centres+radii and (NJ,4) colours; returns it."""
        p = self.p_marker
        p.use()
        GL.glUniformMatrix4fv(p.loc("u_vp"), 1, GL.GL_TRUE, vp)
        GL.glUniform4fv(p.loc("u_joint"), NJ, spheres)
        GL.glUniform4fv(p.loc("u_color"), NJ, colors)
        GL.glUniform3f(p.loc("u_key_dir"), *key)
        GL.glUniform3f(p.loc("u_view_dir"), *fwd)
        GL.glBindVertexArray(self.vao_sphere)
        return p

    def _draw_markers(self, vp: np.ndarray, fwd: np.ndarray, key, marker_scale: float, ghost: bool) -> None:
        """Joint markers: visible ones normally, hidden ones ghosted (drawn where the depth test fails)."""
        np.multiply(self._marker_scale, self.marker_radius * marker_scale, out=self._marker[:, 3])
        p = self._use_marker_shader(vp, fwd, key, self._marker, self._marker_col)
        GL.glUniform1f(p.loc("u_alpha"), 1.0)
        GL.glDrawElementsInstanced(GL.GL_TRIANGLES, self._n_sphere, GL.GL_UNSIGNED_INT, None, NJ)
        if ghost:
            GL.glEnable(GL.GL_BLEND)
            GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
            GL.glDepthFunc(GL.GL_GREATER)
            GL.glDepthMask(GL.GL_FALSE)
            GL.glUniform1f(p.loc("u_alpha"), 0.38)
            GL.glDrawElementsInstanced(GL.GL_TRIANGLES, self._n_sphere, GL.GL_UNSIGNED_INT, None, NJ)
            GL.glDepthFunc(GL.GL_LESS)
            GL.glDepthMask(GL.GL_TRUE)
            GL.glDisable(GL.GL_BLEND)

    def _draw_gizmo(self, camera: OrbitCamera, vp: np.ndarray, eye: np.ndarray, fwd: np.ndarray,
                    vp_height: float) -> None:
        """The rotation gizmo on the selected joint, on top of everything."""
        c = self._joints[self.gizmo_joint]
        R = gizmo_world_radius(camera, c, vp_height, self.gizmo_px)
        to_eye = (-fwd if camera.ortho else (eye - c))
        to_eye = to_eye / max(float(np.linalg.norm(to_eye)), 1e-9)
        p = self.p_gizmo
        p.use()
        GL.glUniformMatrix4fv(p.loc("u_vp"), 1, GL.GL_TRUE, vp)
        GL.glUniform3f(p.loc("u_center"), *c)
        GL.glUniform1f(p.loc("u_R"), R)
        GL.glUniform1f(p.loc("u_r"), R * 0.042)
        GL.glUniform3f(p.loc("u_to_eye"), *to_eye)
        GL.glUniform4fv(p.loc("u_axis_col"), 3, self._gizmo_cols)
        GL.glUniform1i(p.loc("u_active"), int(self.gizmo_active_axis))
        GL.glUniform1i(p.loc("u_hover"), int(self.gizmo_hover_axis))
        GL.glUniform3f(p.loc("u_highlight"), *GIZMO_HIGHLIGHT)
        GL.glClear(GL.GL_DEPTH_BUFFER_BIT)  # on top of the body, but the rings occlude themselves
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glBindVertexArray(self.vao_torus)
        GL.glDrawElementsInstanced(GL.GL_TRIANGLES, self._n_torus, GL.GL_UNSIGNED_INT, None, 3)
        GL.glDisable(GL.GL_BLEND)
        GL.glEnable(GL.GL_DEPTH_TEST)


# --- an FBO to render into without a window (used by offscreen.py and the app's thumbnailer) ----------------

class OffscreenTarget:
    """A colour+depth framebuffer of a fixed size, multisampled when ``samples`` > 0, that can be read back
    as an RGBA uint8 image (top row first). Needs a current GL context."""

    def __init__(self, width: int, height: int, samples: int = 4):
        self.width, self.height = int(width), int(height)
        if self.width <= 0 or self.height <= 0 or self.width > 8192 or self.height > 8192:
            raise RenderError(f"bad image size {width}x{height} (1..8192)")
        max_samples = int(GL.glGetIntegerv(GL.GL_MAX_SAMPLES))
        self.samples = max(0, min(int(samples), max_samples))
        self._rbs: list[int] = []
        self.fbo = int(GL.glGenFramebuffers(1))
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        color = self._rb(GL.GL_RGBA8)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, color)
        depth = self._rb(GL.GL_DEPTH_COMPONENT24)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, depth)
        self._check()
        self.resolve = None
        if self.samples:
            self.resolve = int(GL.glGenFramebuffers(1))
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.resolve)
            rb = int(GL.glGenRenderbuffers(1))
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, self.width, self.height)
            self._rbs.append(rb)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, rb)
            self._check()
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        self._buf = np.empty((self.height, self.width, 4), np.uint8)

    def _rb(self, fmt) -> int:
        rb = int(GL.glGenRenderbuffers(1))
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
        if self.samples:
            GL.glRenderbufferStorageMultisample(GL.GL_RENDERBUFFER, self.samples, fmt, self.width, self.height)
        else:
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, fmt, self.width, self.height)
        self._rbs.append(rb)
        return rb

    def _check(self):
        st = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if st != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RenderError(f"framebuffer incomplete (status 0x{int(st):x})")

    def bind(self) -> None:
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        GL.glViewport(0, 0, self.width, self.height)

    def read_rgba(self) -> np.ndarray:
        """The rendered image, (H, W, 4) uint8, top row first (a new array)."""
        src = self.fbo
        if self.resolve is not None:
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.fbo)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self.resolve)
            GL.glBlitFramebuffer(0, 0, self.width, self.height, 0, 0, self.width, self.height,
                                 GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
            src = self.resolve
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, src)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        GL.glReadPixels(0, 0, self.width, self.height, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, self._buf)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        return self._buf[::-1].copy()

    def blit_to(self, fbo: int, width: int | None = None, height: int | None = None) -> None:
        """Copy (resolve) the image into framebuffer ``fbo`` (e.g. a QOpenGLWidget's), same size."""
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.fbo)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, fbo)
        w = self.width if width is None else width
        h = self.height if height is None else height
        GL.glBlitFramebuffer(0, 0, self.width, self.height, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)

    def release(self) -> None:
        fbos = [self.fbo] + ([self.resolve] if self.resolve is not None else [])
        GL.glDeleteFramebuffers(len(fbos), fbos)
        GL.glDeleteRenderbuffers(len(self._rbs), self._rbs)
        self._rbs = []


def frame_camera(points: np.ndarray, view: str = "three_quarter", aspect: float = 1.0,
                 margin: float = 1.10) -> OrbitCamera:
    """A camera looking from a named view that frames the given points (e.g. posed vertices)."""
    cam = OrbitCamera(fovy=30.0)
    cam.set_view(view)
    cam.frame_points(points, aspect, margin=margin)
    return cam
