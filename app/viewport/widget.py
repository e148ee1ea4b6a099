"""The live 3D viewport: a QWidget holding a QOpenGLWindow (in a window container) that draws the Qt-free
``core_models.render`` scene straight into its own window surface.

Why not a QOpenGLWidget: a QOpenGLWidget draws into an FBO that Qt then composites into the top-level window
with one more full-window textured pass every frame (~9 ms at 1920x1080 on llvmpipe); a native GL child window
swaps directly, so the viewport runs at the speed of a bare GL loop (tests/bench/bench_viewport_fps.py measures
the ratio). The viewport draws only when something changed (``update()``); on software GL the anti-aliased,
per-pixel-lit frame is drawn once the view has been still for SETTLE_MS. Mouse and wheel events that reach the
GL window are handed to this widget's handlers; the GL window never takes the keyboard focus (the widget does),
so the main window's shortcuts keep working.

Mouse: left-drag on empty space orbits, middle-drag or shift+left-drag pans, the wheel zooms, a left
click on a joint marker selects it (on empty space: deselects), a left-drag on a gizmo ring rotates the
selected joint about that world axis with live preview; Esc cancels a ring drag. Keys: F frames the body.

Drag pose mode (``set_drag_mode``): effector handles on the pelvis, head, wrists and ankles (and smaller pole-hint
handles on the elbows and knees) are drawn over the body; a left-drag on a handle moves that effector on the
camera-facing plane through it and the whole body follows (core_models.posing.DragSolver, live); Shift+drag
moves the limb alone (two-bone IK); R or the right-click menu on a handle pins / unpins it (pinned effectors
hold where they are while another one moves); Esc cancels the drag. The release emits poseEditFinished (one
undo step). Solves are coalesced: a mouse move only records the cursor, the newest one is solved when the
event loop is free, so moves never queue up behind a slow solve.

Signals:
  jointSelected(int)                 joint index, -1 for none (only on user clicks)
  poseDragged(object)                preview Pose while a ring drag is in progress
  poseEditFinished(object, object, str)   (old Pose, new Pose, description) at mouse release — push an
                                     undo command with it (the viewport already shows the new pose)
  fpsChanged(float)                  measured frame rate (emitted about twice a second while drawing)
  frameSwapped()                     a frame reached the window (benchmarks pace themselves on it)
  bodyDrawn()                        the first frame showing a body (after each set_body) reached the window
  dragStatus(str)                    drag-pose mode: what is dragged, the reach error, the solver's kind
  pinsChanged(object)                drag-pose mode: the pinned effectors (a frozenset of names)
"""
from __future__ import annotations

import atexit
import math
import time
import weakref

import os

import numpy as np
import shiboken6
from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QImage, QPainter, QSurfaceFormat
from PySide6.QtOpenGL import QOpenGLWindow
from PySide6.QtWidgets import QApplication, QMenu, QVBoxLayout, QWidget

from core_models import skeleton as sk
from core_models.pose import Pose
from core_models.render import handles as hd
from core_models.render.camera import OrbitCamera
from core_models.render.picking import AXIS_NAMES, RingDrag, pick_joint, pick_ring, rotate_joint_about_world_axis
from core_models.render.scene import (
    DARK,
    LIGHT,
    MARKER_NORMAL,
    MARKER_SELECTED,
    SceneRenderer,
    gizmo_world_radius,
    pose_state,
)
from core_models.session import poses_equal

NJ = sk.NUM_JOINTS
# Qt waits QT_QPA_UPDATE_IDLE_TIME ms (default 5) before serving a window's update request; the viewport draws only
# on change, so the wait only adds latency (and caps a 60 fps frame at 11.7 ms of work). Read once, at the first
# request, so this must run before any window asks for an update.
os.environ.setdefault("QT_QPA_UPDATE_IDLE_TIME", "0")
#: MSAA samples of the widget's own (Qt) framebuffer when neither the caller nor
#: QSurfaceFormat.defaultFormat() asks for a number. Anti-aliasing is done by the viewport itself instead
#: (see ``aa_samples``): always on real GPUs; on software GL (llvmpipe) only for the frame drawn once the
#: view has settled, so interaction stays fast.
DEFAULT_SAMPLES = 0
#: MSAA samples of the viewport's own anti-aliased frames.
AA_SAMPLES = 4
#: How long (ms) the view must be still before a software renderer draws the anti-aliased frame.
SETTLE_MS = 150
#: On software GL, a frame that follows the previous one within this many seconds (a drag, an animation) may show
#: the side inset's previous image instead of drawing the scene a second time; every other frame redraws it,
#: and a frame that reused it always gets a follow-up frame, so the inset is at most one frame behind.
INSET_REUSE_GAP_S = 0.05


def surface_format(samples: int = 0, swap_interval: int = 1) -> QSurfaceFormat:
    """The GL format the viewport asks for (3.3 core, depth 24)."""
    fmt = QSurfaceFormat()
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    fmt.setDepthBufferSize(24)
    fmt.setSamples(samples)
    fmt.setSwapInterval(swap_interval)
    return fmt


def configure_default_format(samples: int | None = None, swap_interval: int = 1) -> None:
    """Call before creating the QApplication (swap interval 0 = no vsync, for benchmarks). ``samples`` is
    the Qt framebuffer's MSAA (default DEFAULT_SAMPLES = 0: the viewport anti-aliases by itself)."""
    samples = DEFAULT_SAMPLES if samples is None else samples
    QSurfaceFormat.setDefaultFormat(surface_format(samples, swap_interval))


def _rgb(c) -> tuple[float, float, float]:
    if isinstance(c, QColor):
        return (c.redF(), c.greenF(), c.blueF())
    a = np.asarray(c, np.float64).ravel()[:3]
    if a.max(initial=0.0) > 1.0:
        a = a / 255.0
    return tuple(float(x) for x in np.clip(a, 0.0, 1.0))


#: Live viewports, deleted before PySide's own exit clean-up: that clean-up deletes Python-created QWindows first,
#: and Qt then dereferences the window container's (now null) window when the top-level goes (a crash at exit).
_LIVE: weakref.WeakSet = weakref.WeakSet()


@atexit.register  # registered after PySide's handler, so it runs before it
def _delete_live_viewports() -> None:
    for v in list(_LIVE):
        if shiboken6.isValid(v):
            shiboken6.delete(v)


class _GLWindow(QOpenGLWindow):
    """The native GL surface inside the Viewport: GL callbacks and input go to the owning Viewport."""

    _FORWARD = {QEvent.Type.MouseButtonPress: "mousePressEvent", QEvent.Type.MouseMove: "mouseMoveEvent",
                QEvent.Type.MouseButtonRelease: "mouseReleaseEvent", QEvent.Type.Wheel: "wheelEvent",
                QEvent.Type.MouseButtonDblClick: "mousePressEvent"}

    def __init__(self, owner: Viewport):
        super().__init__(QOpenGLWindow.UpdateBehavior.NoPartialUpdate)
        self._owner = owner
        self.setFlag(Qt.WindowType.WindowDoesNotAcceptFocus, True)

    def initializeGL(self) -> None:
        self._owner.initializeGL()

    def resizeGL(self, w: int, h: int) -> None:
        pass

    def paintGL(self) -> None:
        self._owner.paintGL()

    _DND = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.DragLeave, QEvent.Type.Drop)

    def event(self, ev) -> bool:
        if ev.type() in self._DND:  # to the viewport widget, which hands it up to the window (file drops)
            return QApplication.sendEvent(self._owner, ev)
        name = self._FORWARD.get(ev.type())
        if name is not None:
            if ev.type() == QEvent.Type.MouseButtonPress:
                self._owner.setFocus(Qt.FocusReason.MouseFocusReason)
            getattr(self._owner, name)(ev)
            return True
        return super().event(ev)


class Viewport(QWidget):
    jointSelected = Signal(int)
    poseDragged = Signal(object)
    poseEditFinished = Signal(object, object, str)
    fpsChanged = Signal(float)
    frameSwapped = Signal()
    bodyDrawn = Signal()
    dragStatus = Signal(str)
    pinsChanged = Signal(object)

    def __init__(self, parent=None, samples: int | None = None):
        super().__init__(parent)
        default = QSurfaceFormat.defaultFormat()
        if samples is None:
            samples = default.samples() if default.samples() >= 0 else DEFAULT_SAMPLES
        self._win = _GLWindow(self)
        self._win.setFormat(surface_format(samples, default.swapInterval()))
        self._win.frameSwapped.connect(self.frameSwapped)
        self._win.frameSwapped.connect(self._after_swap)
        self._body_pending = False  # a body was set and has not been on screen yet
        self._container = QWidget.createWindowContainer(self._win, self)
        self._container.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._container.setMouseTracking(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._container)
        _LIVE.add(self)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(200, 150)
        self._scene = SceneRenderer()
        self._camera = OrbitCamera(azimuth=20.0, elevation=8.0, fovy=35.0)
        self._body = None
        self._mesh_uploaded = False
        self._pose = Pose.zeros()
        self._joints = np.zeros((NJ, 3), np.float32)
        self._Rg = np.tile(np.eye(3), (NJ, 1, 1))
        self._selected = -1
        self._joint_colors: dict[int, tuple[float, float, float]] = {}
        self._ghost_pose: Pose | None = None  # set_ghost_pose: a translucent second body
        self._ghost = None
        self._limits = False
        self._floor_override: float | None = None
        self._gl_ok = False
        self.gl_error: str | None = None
        self.gl_info = ""
        # interaction state
        self._mode = None  # None | "orbit" | "pan" | "ring" | "click"
        self._last = QPointF()
        self._press = QPointF()
        self._drag: RingDrag | None = None
        self._drag_joint = -1
        self._drag_start_pose: Pose | None = None
        self._drag_parent_rot = np.eye(3)
        self._drag_desc = ""
        self._init_drag_pose()
        # frame timing
        self._continuous = False
        self._fps_timer = QElapsedTimer()
        self._fps_frames = 0
        self._fps = 0.0
        self._last_frame_ms = 0.0
        self._camera_framed = False
        # anti-aliasing: own MSAA target; on software GL only for settled frames
        self.aa_samples = AA_SAMPLES
        self._aa_target = None
        self._software_gl = False
        self._hq_pending = False
        self._last_fast_frame = 0.0
        self._last_paint_t = 0.0
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.timeout.connect(self._on_settle)
        self._snapshot: QImage | None = None  # the last still frame, for QWidget.grab() (see paintEvent)
        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setSingleShot(True)
        self._snapshot_timer.timeout.connect(self._take_snapshot)
        self._update_colors()

    # ------------------------------------------------------------------ public API
    def set_body(self, body) -> None:
        """Show ``body`` (a BodyModel: uses body.skinning); keeps the current pose."""
        self._abort_pose_drag()
        self._body = body
        self._body_pending = True
        self._mesh_uploaded = False
        if self._gl_ok:
            self.makeCurrent()
            try:
                self._scene.set_mesh(body.skinning)
                self._mesh_uploaded = True
            finally:
                self.doneCurrent()
        self._apply_floor()
        self._recompute()
        self._pose_ghost()
        if not self._camera_framed:
            self.reset_camera()
        self.update()

    def body(self):
        return self._body

    def set_pose(self, pose: Pose) -> None:
        """Display ``pose`` (copied). Emits nothing."""
        if not isinstance(pose, Pose) or pose.batch_shape != ():
            raise TypeError("set_pose needs a single (unbatched) Pose")
        self._abort_pose_drag()
        self._pose = pose.copy()
        self._recompute()
        self.update()

    def pose(self) -> Pose:
        return self._pose.copy()

    def set_ghost_pose(self, pose: Pose | None) -> None:
        """Show ``pose`` as a translucent ghost body over the posed one (the coach's target); None hides it."""
        if pose is None:
            self._ghost_pose = None
            self._scene.ghost = None
        else:
            from core_models.render.ghost import GhostBody

            self._ghost_pose = pose.copy()
            if self._scene.ghost is None:
                self._scene.ghost = self._ghost if self._ghost is not None else GhostBody()
                self._ghost = self._scene.ghost
            self._pose_ghost()
        self.update()

    def ghost_pose(self) -> Pose | None:
        return None if self._ghost_pose is None else self._ghost_pose.copy()

    def _pose_ghost(self) -> None:
        if self._ghost_pose is not None and self._body is not None and self._scene.ghost is not None:
            self._scene.ghost.set_pose(self._body.skinning, self._ghost_pose)

    def set_selected_joint(self, j: int) -> None:
        """Select joint ``j`` (-1: none) without emitting jointSelected."""
        j = int(j)
        if not -1 <= j < NJ:
            raise ValueError(f"joint index {j} out of range (-1..{NJ - 1})")
        if j != self._selected:
            self._cancel_drag()
            self._selected = j
            self._scene.gizmo_joint = j
            self._scene.gizmo_hover_axis = -1
            self._update_colors()
            self.update()

    def selected_joint(self) -> int:
        return self._selected

    def set_joint_colors(self, colors: dict) -> None:
        """Per-joint highlight colours {joint: rgb} (floats 0..1, ints 0..255 or QColor), e.g. red for
        "off-target" joints; the marker and the joint's body segment get the colour. {} clears."""
        self._joint_colors = {int(j): _rgb(c) for j, c in (colors or {}).items() if 0 <= int(j) < NJ}
        self._update_colors()
        self.update()

    def set_limits_enabled(self, on: bool) -> None:
        self._limits = bool(on)

    def limits_enabled(self) -> bool:
        return self._limits

    def set_show_inset(self, on: bool) -> None:
        self._scene.show_inset = bool(on)
        self.update()

    def set_show_markers(self, on: bool) -> None:
        self._scene.show_markers = bool(on)
        self.update()

    def set_show_grid(self, on: bool) -> None:
        self._scene.show_grid = bool(on)
        self.update()

    def set_reference_image(self, ref) -> None:
        """Show a reference image (core_models.render.reference_image.ReferenceImage; None removes it and frees
        the old one's texture). Call again with the same object after changing its settings (redraws)."""
        old = self._scene.reference
        if old is not None and old is not ref and self._gl_ok:
            self.makeCurrent()
            try:
                old.release()
            finally:
                self.doneCurrent()
        self._scene.reference = ref
        self.update()

    def reference_image(self):
        return self._scene.reference

    def set_floor_height(self, y: float | None) -> None:
        """y of the ground grid / shadow (None: the body's rest floor height)."""
        self._floor_override = None if y is None else float(y)
        self._apply_floor()
        self.update()

    def set_theme(self, name: str) -> None:
        """"dark" or "light" background/grid colours."""
        self._scene.theme = LIGHT if name == "light" else DARK
        self.update()

    def reset_camera(self) -> None:
        """Front-left three-quarter view framing the whole body."""
        self._camera = OrbitCamera(azimuth=20.0, elevation=8.0, fovy=35.0)
        self.frame_body()

    def frame_body(self) -> None:
        lo, hi = self._scene.body_bounds()
        lo[1] = min(lo[1], self._scene.floor_y)
        corners = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (lo[2], hi[2])])
        self._camera.frame_points(corners, self._aspect(), margin=1.08)
        self._camera_framed = True
        self.update()

    def set_view(self, name: str) -> None:
        """Named view: front, side, back, three_quarter, top (keeps the framing)."""
        self._camera.set_view(name)
        self.frame_body()

    @property
    def camera(self) -> OrbitCamera:
        return self._camera

    def scene(self) -> SceneRenderer:
        """The Qt-free renderer (its settings; benchmarks copy them)."""
        return self._scene

    def grab_image(self, handles: bool = False, reference: bool = False) -> QImage:
        """The current view as a QImage (always the anti-aliased, per-pixel-lit rendering, drawn offscreen
        at the widget's size in device pixels). A null QImage while GL is not up (never shown, or no GL).
        Drag-pose handles only with ``handles`` (thumbnails and exports show the body, not the tool), the
        reference image only with ``reference`` (a saved pose's thumbnail never shows the user's photo)."""
        if not self._gl_ok or not self._win.isValid():
            return QImage()
        from core_models.render.scene import OffscreenTarget

        w, h = self._device_size()
        self.makeCurrent()
        per_pixel = self._scene.per_pixel_lighting
        ref = self._scene.reference
        t = None
        try:
            if not reference:
                self._scene.reference = None
            t = OffscreenTarget(w, h, samples=self.aa_samples)
            t.bind()
            self._sync_handles(handles)
            self._scene.per_pixel_lighting = True
            self._scene.inset_cache = self._scene.inset_reuse = False
            self._scene.render(self._camera, w, h)
            rgba = t.read_rgba()
        finally:
            self._scene.per_pixel_lighting = per_pixel
            self._scene.reference = ref
            if t is not None:
                t.release()
            self.doneCurrent()
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        img.setDevicePixelRatio(self._win.devicePixelRatio())
        return img

    # ------------------------------------------------------------------ the GL window
    def update(self, *args) -> None:  # type: ignore[override]
        """Schedule a redraw of the GL window (frames are drawn only on change)."""
        self._win.update()
        if args:
            super().update(*args)

    def makeCurrent(self) -> None:  # noqa: N802 - the QOpenGLWidget name callers know
        self._win.makeCurrent()

    def doneCurrent(self) -> None:  # noqa: N802
        self._win.doneCurrent()

    def context(self):
        return self._win.context()

    def defaultFramebufferObject(self) -> int:  # noqa: N802
        return int(self._win.defaultFramebufferObject())

    def gl_window(self) -> QOpenGLWindow:
        """The native GL window inside (tests send input to it)."""
        return self._win

    def setCursor(self, cursor) -> None:  # noqa: N802 - the native child window shows its own cursor
        super().setCursor(cursor)
        self._win.setCursor(cursor)

    def _device_size(self) -> tuple[int, int]:
        dpr = self._win.devicePixelRatio()
        return max(1, int(round(self.width() * dpr))), max(1, int(round(self.height() * dpr)))

    def set_continuous_redraw(self, on: bool) -> None:
        """Redraw as fast as possible (benchmarks / animation)."""
        self._continuous = bool(on)
        self.update()

    def fps(self) -> float:
        return self._fps

    def last_frame_ms(self) -> float:
        """CPU time of the last paintGL (ms)."""
        return self._last_frame_ms

    def joint_screen_pos(self, j: int) -> QPointF:
        """Where joint j's centre is drawn, in widget coordinates (for tests and tooltips)."""
        p = self._camera.project(self._joints[j], self.width(), self.height())
        return QPointF(float(p[0]), float(p[1]))

    def joints(self) -> np.ndarray:
        """Posed joint positions (22,3) of the displayed pose."""
        return self._joints.copy()

    def gizmo_radius(self) -> float:
        if self._selected < 0:
            return 0.0
        return gizmo_world_radius(self._camera, self._joints[self._selected], self.height(), self._scene.gizmo_px)

    # ------------------------------------------------------------------ internals
    def _aspect(self) -> float:
        return self.width() / max(self.height(), 1)

    def _apply_floor(self):
        if self._floor_override is not None:
            self._scene.floor_y = self._floor_override
        elif self._body is not None:
            self._scene.floor_y = float(self._body.skinning.floor_height)

    def _recompute(self):
        """FK for the current pose (numpy; only when the pose changes)."""
        if self._body is None:
            return
        skin, joints, Rg = pose_state(self._body.skinning, self._pose)
        self._scene.set_state(skin, joints)
        self._joints = joints
        self._Rg = Rg

    def _update_colors(self):
        cols = np.tile(np.asarray(MARKER_NORMAL, np.float32), (NJ, 1))
        scale = np.ones(NJ, np.float32)
        tints = np.zeros((NJ, 4), np.float32)
        for j, c in self._joint_colors.items():
            cols[j] = c
            tints[j] = (*c, 0.45)
            scale[j] = 1.2
        if self._selected >= 0:
            cols[self._selected] = MARKER_SELECTED
            scale[self._selected] = 1.4
            if self._selected not in self._joint_colors:
                tints[self._selected] = (*MARKER_SELECTED, 0.18)
        if self._drag_mode:  # the handles stand in for these joints' markers; the other markers step back
            scale *= 0.7
            scale[hd.HANDLE_JOINTS] = 0.0
        self._scene.set_marker_colors(cols)
        self._scene.set_marker_scale(scale)
        self._scene.set_tints(tints)

    # ------------------------------------------------------------------ GL
    def initializeGL(self) -> None:
        try:
            from OpenGL import GL

            ctx = self.context()
            ctx.aboutToBeDestroyed.connect(self._cleanup_gl)
            self._scene = self._fresh_scene(self._scene)
            self._scene.initialize()
            if self._body is not None:
                self._scene.set_mesh(self._body.skinning)
                self._apply_floor()
                self._mesh_uploaded = True
            v = GL.glGetString(GL.GL_VERSION)
            r = GL.glGetString(GL.GL_RENDERER)
            self.gl_info = f"{v.decode() if isinstance(v, bytes) else v} | {r.decode() if isinstance(r, bytes) else r}"
            low = self.gl_info.lower()
            self._software_gl = any(k in low for k in ("llvmpipe", "softpipe", "swrast", "software"))
            self._aa_target = None
            self._gl_ok = True
            self.gl_error = None
        except Exception as e:  # keep the app alive without a 3D view
            self._gl_ok = False
            self.gl_error = f"{e.__class__.__name__}: {e}"
        self._fps_timer.start()

    @staticmethod
    def _fresh_scene(old: SceneRenderer) -> SceneRenderer:
        """A new SceneRenderer (new context) carrying over the old one's settings and state."""
        new = SceneRenderer(old.theme)
        for k in ("show_grid", "show_shadow", "show_markers", "show_inset", "marker_radius", "gizmo_joint",
                  "gizmo_active_axis", "gizmo_hover_axis", "gizmo_px", "floor_y"):
            setattr(new, k, getattr(old, k))
        for k in ("_skin", "_joints", "_marker", "_marker_col", "_marker_scale", "_tint", "_shadow"):
            getattr(new, k)[...] = getattr(old, k)
        new.reference = old.reference  # the reference image (re-uploaded lazily in the new context)
        new.ghost = old.ghost  # the ghost body (its program is rebuilt lazily for the new scene)
        return new

    def _cleanup_gl(self):
        if self._gl_ok and shiboken6.isValid(self._win):
            self.makeCurrent()
            try:
                if self._aa_target is not None:
                    self._aa_target.release()
                    self._aa_target = None
                self._scene.release()
            except Exception:
                pass
            self.doneCurrent()
        self._gl_ok = False

    def resizeGL(self, w: int, h: int) -> None:
        pass

    def paintGL(self) -> None:
        if not self._gl_ok:
            return
        t0 = time.perf_counter()
        self._sync_handles()
        dpr = self._win.devicePixelRatio()
        w, h = max(1, int(round(self._win.width() * dpr))), max(1, int(round(self._win.height() * dpr)))
        hq = self.aa_samples > 0 and (not self._software_gl or self._hq_pending)
        sc = self._scene
        if hq and not self._continuous:
            sc.per_pixel_lighting = True
            sc.inset_cache = sc.inset_reuse = False  # (the inset is anti-aliased with the rest)
            self._render_antialiased(w, h)
            self._hq_pending = False
        else:
            # software GL: per-vertex lighting while interacting (looks the same, several times cheaper), and
            # while frames follow each other (drags, animation) the side inset is redrawn every other frame
            sc.per_pixel_lighting = not self._software_gl
            sc.inset_cache = self._software_gl
            sc.inset_reuse = (t0 - self._last_paint_t) < INSET_REUSE_GAP_S and not sc.inset_reused
            sc.render(self._camera, w, h)
            if sc.inset_reused:
                self._win.update()  # a follow-up frame always shows the up-to-date inset
            if self._software_gl and self.aa_samples > 0 and not self._continuous:
                self._last_fast_frame = time.perf_counter()
                if not self._settle.isActive():
                    self._settle.start(SETTLE_MS)
        self._last_frame_ms = (time.perf_counter() - t0) * 1000.0
        self._last_paint_t = t0
        self._fps_frames += 1
        el = self._fps_timer.elapsed()
        if el >= 500:
            if self._fps_frames >= 2:
                self._fps = self._fps_frames * 1000.0 / el
                self.fpsChanged.emit(self._fps)
            self._fps_frames = 0
            self._fps_timer.restart()
        if self._continuous:
            self.update()

    def _after_swap(self) -> None:
        if self._body_pending and self._body is not None and self._gl_ok and self._mesh_uploaded:
            self._body_pending = False
            self.bodyDrawn.emit()

    def _render_antialiased(self, w: int, h: int) -> None:
        from OpenGL import GL

        from core_models.render.scene import OffscreenTarget

        t = self._aa_target
        if t is None or (t.width, t.height) != (w, h):
            if t is not None:
                t.release()
            t = self._aa_target = OffscreenTarget(w, h, samples=self.aa_samples)
        t.bind()
        self._scene.render(self._camera, w, h)
        t.blit_to(self.defaultFramebufferObject())
        if self._software_gl:  # a settled frame (rare): keep a copy for QWidget.grab() of the window
            self._keep_snapshot(t.read_rgba(), w, h)
        else:  # every frame is anti-aliased: copy once the view has been still for a moment
            self._snapshot_timer.start(SETTLE_MS)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.defaultFramebufferObject())

    def _keep_snapshot(self, rgba: np.ndarray, w: int, h: int) -> None:
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        img.setDevicePixelRatio(self._win.devicePixelRatio())
        self._snapshot = img

    def _take_snapshot(self) -> None:
        img = self.grab_image(handles=True, reference=True)  # what the window shows: handles, reference image
        if not img.isNull():
            self._snapshot = img

    def paintEvent(self, ev) -> None:  # noqa: N802
        """Only seen where the native GL window is not: QWidget.grab() / render() of the main window draw
        widgets, not native child windows, so they get the last still frame here (screenshots, docs)."""
        if self._snapshot is None:
            return
        p = QPainter(self)
        p.drawImage(self.rect(), self._snapshot)
        p.end()

    def _on_settle(self) -> None:
        left = SETTLE_MS / 1000.0 - (time.perf_counter() - self._last_fast_frame)
        if left > 0.005:  # something was drawn since: wait until the view is still
            self._settle.start(int(left * 1000) + 1)
            return
        self._hq_pending = True
        self.update()

    # ------------------------------------------------------------------ mouse
    def _pos(self, ev) -> QPointF:
        return ev.position()

    def mousePressEvent(self, ev) -> None:
        p = self._pos(ev)
        self._press = QPointF(p)
        self._last = QPointF(p)
        btn = ev.button()
        mods = ev.modifiers()
        if self._press_drag_pose(p, btn, mods, ev):
            return
        if btn == Qt.MouseButton.MiddleButton or (btn == Qt.MouseButton.LeftButton
                                                   and mods & Qt.KeyboardModifier.ShiftModifier):
            self._mode = "pan"
            return
        if btn != Qt.MouseButton.LeftButton:
            return
        if self._selected >= 0 and self._body is not None and self._start_ring_drag(p):
            self._mode = "ring"
            return
        j = self._pick_joint(p)
        if j >= 0:
            self._mode = "click"
            if j != self._selected:
                self.set_selected_joint(j)
                self.jointSelected.emit(j)
            return
        self._mode = "orbit"

    def mouseMoveEvent(self, ev) -> None:
        p = self._pos(ev)
        dx, dy = p.x() - self._last.x(), p.y() - self._last.y()
        self._last = QPointF(p)
        if self._mode == "orbit":
            self._camera.orbit_pixels(dx, dy)
            self.update()
        elif self._mode == "pan":
            self._camera.pan_pixels(dx, dy, self.height())
            self.update()
        elif self._mode == "ring" and self._drag is not None:
            self._update_ring_drag(p)
        elif self._mode == "pose":
            self._queue_pose_solve(p)
        elif self._mode is None:
            self._hover(p)

    def mouseReleaseEvent(self, ev) -> None:
        p = self._pos(ev)
        mode = self._mode
        self._mode = None
        if mode == "ring":
            self._finish_ring_drag()
        elif mode == "pose":
            self._finish_pose_drag()
        elif mode == "orbit":
            moved = abs(p.x() - self._press.x()) + abs(p.y() - self._press.y())
            if moved < 3 and self._selected >= 0:  # a click on empty space deselects
                self.set_selected_joint(-1)
                self.jointSelected.emit(-1)
        self._hover(p)

    def wheelEvent(self, ev) -> None:
        steps = ev.angleDelta().y() / 120.0
        if steps:
            self._camera.zoom(steps)
            self.update()
        ev.accept()

    def keyPressEvent(self, ev) -> None:
        if ev.key() == Qt.Key.Key_Escape and self._mode == "ring":
            self._cancel_drag()
            self._mode = None
            return
        if ev.key() == Qt.Key.Key_Escape and self._mode == "pose":
            self._cancel_pose_drag()
            return
        if ev.key() == Qt.Key.Key_R and self._drag_mode and self._hover_handle is not None and not ev.modifiers():
            self.toggle_pin(self._hover_handle)
            return
        if ev.key() == Qt.Key.Key_F:
            self.frame_body()
            return
        super().keyPressEvent(ev)

    def _pick_joint(self, p: QPointF) -> int:
        if self._body is None or not self._scene.show_markers:
            return -1
        return pick_joint(self._camera, p.x(), p.y(), self.width(), self.height(), self._joints,
                          self._scene.marker_radius * 1.3, tolerance_px=7.0)

    def _hover(self, p: QPointF) -> None:
        if self._hover_drag_pose(p):
            return
        axis = -1
        if self._selected >= 0 and self._body is not None:
            axis, _ = pick_ring(self._camera, p.x(), p.y(), self.width(), self.height(),
                                self._joints[self._selected], self.gizmo_radius())
        if axis != self._scene.gizmo_hover_axis:
            self._scene.gizmo_hover_axis = axis
            self.update()
        over = axis >= 0 or self._pick_joint(p) >= 0
        self.setCursor(QCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor))

    # ------------------------------------------------------------------ ring drag
    def _start_ring_drag(self, p: QPointF) -> bool:
        j = self._selected
        c = self._joints[j]
        R = self.gizmo_radius()
        axis, grab = pick_ring(self._camera, p.x(), p.y(), self.width(), self.height(), c, R)
        if axis < 0:
            return False
        self._drag = RingDrag(self._camera, axis, c, R, grab, p.x(), p.y(), self.width(), self.height())
        self._drag_joint = j
        self._drag_start_pose = self._pose.copy()
        parent = int(sk.PARENTS[j])
        self._drag_parent_rot = np.eye(3) if parent < 0 else self._Rg[parent].copy()
        self._scene.gizmo_active_axis = axis
        self._drag_desc = ""
        self.update()
        return True

    def _update_ring_drag(self, p: QPointF) -> None:
        d = self._drag
        angle = d.update(p.x(), p.y())
        new = rotate_joint_about_world_axis(self._drag_start_pose, self._drag_joint, d.axis, angle,
                                            self._drag_parent_rot, limits=self._limits)
        self._pose = new
        self._recompute()
        self._drag_desc = (f"Rotate {sk.JOINT_NAMES[self._drag_joint].replace('_', ' ')} about "
                           f"{AXIS_NAMES[d.axis]} by {math.degrees(angle):+.0f}°")
        self.update()
        self.poseDragged.emit(new.copy())

    def _finish_ring_drag(self) -> None:
        old, d = self._drag_start_pose, self._drag
        self._drag = None
        self._drag_start_pose = None
        self._scene.gizmo_active_axis = -1
        self.update()
        if old is None or d is None:
            return
        new = self._pose.copy()
        if not new.allclose(old, atol=1e-6):
            self.poseEditFinished.emit(old, new, self._drag_desc or "Rotate joint")

    def _cancel_drag(self) -> None:
        if self._drag is not None and self._drag_start_pose is not None:
            self._pose = self._drag_start_pose
            self._recompute()
            self.poseDragged.emit(self._pose.copy())
        self._drag = None
        self._drag_start_pose = None
        self._scene.gizmo_active_axis = -1
        if self._mode == "ring":
            self._mode = None
        self.update()

    # ------------------------------------------------------------------ drag pose (effector handles)
    def _init_drag_pose(self) -> None:
        self._drag_mode = False
        self._pins: set[str] = set()
        self._hover_handle: str | None = None
        self._pose_drag: hd.PoseDrag | None = None
        self._pending_cursor: QPointF | None = None
        self._solve_timer = QTimer(self)
        self._solve_timer.setSingleShot(True)
        self._solve_timer.setInterval(0)
        self._solve_timer.timeout.connect(self._solve_pending)
        self._solver = None
        self._solver_key: tuple | None = None
        self._autoposer = None
        self._solver_note = "(optimisation only: autopose weights missing)"
        self._handle_menu: QMenu | None = None
        self.last_solve_ms = 0.0

    def set_drag_mode(self, on: bool) -> None:
        """Drag-pose mode on/off: effector handles drawn and dragged (the rotation rings keep working)."""
        on = bool(on)
        if on == self._drag_mode:
            return
        if not on:
            self._cancel_pose_drag()
        self._drag_mode = on
        self._hover_handle = None
        self._update_colors()
        self.update()
        self.dragStatus.emit("Drag pose: drag a handle (Shift: limb only, R: pin) " + self._solver_note if on
                             else "")

    def drag_mode(self) -> bool:
        return self._drag_mode

    def set_autoposer(self, autoposer, note: str | None = None) -> None:
        """The learned auto-poser the drag solver starts from (None: optimisation only); ``note`` is shown in the
        status bar after each drag (default: "(network)" / "(optimisation only: autopose weights missing)")."""
        self._autoposer = autoposer
        self._solver_note = note or ("(network)" if autoposer is not None
                                     else "(optimisation only: autopose weights missing)")
        self._solver = None

    def solver_note(self) -> str:
        return self._solver_note

    def pins(self) -> frozenset[str]:
        return frozenset(self._pins)

    def set_pinned(self, name: str, on: bool) -> None:
        """Pin (hold where it is while others move) or unpin effector ``name`` (one of handles.HANDLES)."""
        if name not in hd.HANDLES:
            raise ValueError(f"unknown effector {name!r} (one of {', '.join(hd.HANDLES)})")
        before = set(self._pins)
        (self._pins.add if on else self._pins.discard)(name)
        if self._pins != before:
            self.update()
            self.pinsChanged.emit(frozenset(self._pins))
            n = len(self._pins)
            self.dragStatus.emit(f"{'Pinned' if on else 'Unpinned'} {hd.pretty(name)} ({n} pin{'s' * (n != 1)})")

    def toggle_pin(self, name: str) -> None:
        self.set_pinned(name, name not in self._pins)

    def clear_pins(self) -> None:
        if self._pins:
            self._pins.clear()
            self.update()
            self.pinsChanged.emit(frozenset())
            self.dragStatus.emit("Pins cleared")

    def hovered_handle(self) -> str | None:
        return self._hover_handle

    def handle_screen_pos(self, name: str) -> QPointF:
        """Where handle ``name`` is drawn, in widget coordinates."""
        return self.joint_screen_pos(sk.JOINT_INDEX[name])

    def _sync_handles(self, show: bool = True) -> None:
        """Hand the handles (position, on-screen size, colour) to the scene before a frame is drawn."""
        if not (show and self._drag_mode) or self._body is None:
            self._scene.set_handles(None)
            return
        pos = hd.handle_positions(self._joints)
        active = self._pose_drag.effector if self._pose_drag is not None else None
        self._scene.set_handles(pos, hd.handle_radii(self._camera, pos, self.height()),
                                hd.handle_colors(self._pins, self._hover_handle, active))

    def _pick_handle(self, p: QPointF) -> str | None:
        if not self._drag_mode or self._body is None:
            return None
        pos = hd.handle_positions(self._joints)
        i = hd.pick_handle(self._camera, p.x(), p.y(), self.width(), self.height(), pos,
                           hd.handle_radii(self._camera, pos, self.height()))
        return hd.HANDLES[i] if i >= 0 else None

    def _hover_drag_pose(self, p: QPointF) -> bool:
        """Hover in drag-pose mode: highlight the handle under the cursor. True when one is."""
        name = self._pick_handle(p)
        if name != self._hover_handle:
            self._hover_handle = name
            self.update()
        if name is None:
            return False
        if self._scene.gizmo_hover_axis != -1:  # the handle, not a ring behind it, is what a press takes
            self._scene.gizmo_hover_axis = -1
            self.update()
        self.setCursor(QCursor(Qt.CursorShape.OpenHandCursor))
        return True

    def _press_drag_pose(self, p: QPointF, btn, mods, ev) -> bool:
        """A press in drag-pose mode: left on a handle starts a drag (Shift: limb only), right opens the
        handle menu. True when the press was taken."""
        if not self._drag_mode or self._body is None or self._mode is not None:
            return False
        name = self._pick_handle(p)
        if btn == Qt.MouseButton.RightButton:
            self._popup_handle_menu(name, ev.globalPosition().toPoint())
            return True
        if name is None or btn != Qt.MouseButton.LeftButton:
            return False
        try:
            self._start_pose_drag(name, p, limb=bool(mods & Qt.KeyboardModifier.ShiftModifier))
        except Exception as e:  # noqa: BLE001 - a solver that cannot start must not take the viewport down
            self._pose_drag = None
            self.dragStatus.emit(f"Cannot drag {hd.pretty(name)}: {e}")
            return True
        self._mode = "pose"
        return True

    def handle_menu(self, name: str | None) -> QMenu:
        """The right-click menu of handle ``name`` (None: empty space): pin / unpin it, clear all pins."""
        m = QMenu(self)
        if name is not None:
            pinned = name in self._pins
            a = m.addAction(f"{'Unpin' if pinned else 'Pin'} {hd.pretty(name)}\tR")
            a.triggered.connect(lambda: self.toggle_pin(name))
        c = m.addAction("Clear pins")
        c.setEnabled(bool(self._pins))
        c.triggered.connect(self.clear_pins)
        return m

    def _popup_handle_menu(self, name: str | None, global_pos) -> None:
        if self._handle_menu is not None:
            self._handle_menu.deleteLater()
        self._handle_menu = self.handle_menu(name)
        self._handle_menu.popup(global_pos)

    def _drag_solver(self):
        """The DragSolver for the current body, limits setting and auto-poser (made again when one changes)."""
        key = (id(self._body), self._limits, id(self._autoposer))
        if self._solver is None or self._solver_key != key:
            from core_models.posing import DragSolver  # the first drag loads it, not the app's start

            self._solver = DragSolver(self._body.skinning.rest_joints, autoposer=self._autoposer,
                                      limits=self._limits)
            self._solver_key = key
        return self._solver

    def _start_pose_drag(self, name: str, p: QPointF, limb: bool) -> None:
        from core_models.posing import effector_positions

        rest = np.asarray(self._body.skinning.rest_joints, np.float64)
        self._pose_drag = hd.PoseDrag.start(self._drag_solver(), lambda pose: effector_positions(pose, rest),
                                            self._pose, name, self._camera, p.x(), p.y(), self.width(),
                                            self.height(), pins=sorted(self._pins), limb=limb)
        self._hover_handle = name
        self.setCursor(QCursor(Qt.CursorShape.ClosedHandCursor))
        self.update()
        self.dragStatus.emit(self._pose_drag.status(self._solver_note))

    def _queue_pose_solve(self, p: QPointF) -> None:
        """Keep only the newest cursor position; solve it when the event loop is free (never queue solves)."""
        self._pending_cursor = QPointF(p)
        if not self._solve_timer.isActive():
            self._solve_timer.start()

    def _solve_pending(self) -> None:
        d, p = self._pose_drag, self._pending_cursor
        self._pending_cursor = None
        if d is None or p is None:
            return
        t0 = time.perf_counter()
        try:
            res = d.move(p.x(), p.y())
        except Exception as e:  # noqa: BLE001 - a failed solve ends the drag where it started, nothing is lost
            self._mode = "pose"
            self._cancel_pose_drag()
            self.dragStatus.emit(f"Drag of {hd.pretty(d.effector)} stopped: {type(e).__name__}: {e}")
            return
        self.last_solve_ms = (time.perf_counter() - t0) * 1000.0
        self._pose = res.pose.copy()
        self._recompute()
        self.update()
        self.poseDragged.emit(self._pose.copy())
        self.dragStatus.emit(f"{d.status(self._solver_note)} [{self.last_solve_ms:.1f} ms]")

    def _finish_pose_drag(self) -> None:
        self._solve_timer.stop()
        self._solve_pending()  # the last cursor position counts
        d, self._pose_drag = self._pose_drag, None
        self.update()
        if d is None:
            return
        old, new = d.start_pose, d.finish()
        self._pose = new.copy()
        self._recompute()
        if not poses_equal(new, old):
            self.poseEditFinished.emit(old.copy(), new.copy(), d.undo_text())
        last = d.status(self._solver_note).replace("Dragging", "Dragged", 1)
        self.dragStatus.emit(last if d.last is not None else "")

    def _cancel_pose_drag(self) -> None:
        """Esc: back to the exact pose from before the drag, no undo step."""
        self._solve_timer.stop()
        self._pending_cursor = None
        d, self._pose_drag = self._pose_drag, None
        if self._mode == "pose":
            self._mode = None
        if d is None:
            return
        self._pose = d.cancel()
        self._recompute()
        self.update()
        self.poseDragged.emit(self._pose.copy())
        self.dragStatus.emit(f"Drag of {hd.pretty(d.effector)} cancelled")

    def _abort_pose_drag(self) -> None:
        """The pose or body was replaced from outside during a drag: drop the drag silently."""
        if getattr(self, "_pose_drag", None) is None:
            return
        self._solve_timer.stop()
        self._pending_cursor = None
        d, self._pose_drag = self._pose_drag, None
        d.solver.end()
        if self._mode == "pose":
            self._mode = None
