"""Pose thumbnails as QImages, rendered off the GUI thread.

A worker QThread owns its own QOpenGLContext on a QOffscreenSurface and draws with the same Qt-free
scene code as the viewport (core_models.render.scene) into a multisampled FBO. When Qt cannot give it
an OpenGL context (e.g. QT_QPA_PLATFORM=offscreen), it falls back to a child process running the
EGL/OSMesa renderer (``python -m core_models.render.thumbnails``), still off the GUI thread.

    thumbs = ThumbnailRenderer(body, size=(128, 128))
    thumbs.thumbnailReady.connect(lambda key, image: ...)
    thumbs.request_many([(name, pose) for name, pose in library.items()])
    ...
    thumbs.shutdown()      # when the owner goes away (also done on QApplication.aboutToQuit)

Results arrive in request order via queued signals on the thread that created the renderer.
``render_now(pose)`` is a blocking convenience for small one-off uses and tests.
"""
from __future__ import annotations

import collections
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage, QOffscreenSurface, QOpenGLContext, QSurfaceFormat
from PySide6.QtWidgets import QApplication

from core_models.pose import Pose

_ROOT = Path(__file__).resolve().parents[2]


def rgba_to_qimage(img: np.ndarray) -> QImage:
    """(H, W, 4) uint8 → an independent QImage (RGBA8888)."""
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    return QImage(img.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class _Worker(QObject):
    """Lives in the worker thread; drains the owner's queue."""

    done = Signal(object, QImage)
    failed = Signal(object, str)
    idle = Signal()

    def __init__(self, owner: "ThumbnailRenderer", surface: QOffscreenSurface | None):
        super().__init__()
        self._owner = owner
        self._surface = surface
        self._ctx: QOpenGLContext | None = None
        self._scene = None
        self._target = None
        self._mesh_key = None
        self._gl_error: str | None = None if surface is not None else "no offscreen surface"

    def _ensure_gl(self) -> bool:
        if self._gl_error is not None:
            return False
        if self._ctx is not None:
            return self._ctx.makeCurrent(self._surface)
        try:
            ctx = QOpenGLContext()
            ctx.setFormat(self._surface.format())
            if not ctx.create() or not ctx.makeCurrent(self._surface):
                raise RuntimeError("QOpenGLContext could not be created/made current")
            fmt = ctx.format()
            if (fmt.majorVersion(), fmt.minorVersion()) < (3, 3):
                raise RuntimeError(f"OpenGL {fmt.majorVersion()}.{fmt.minorVersion()} < 3.3")
            from core_models.render.scene import SceneRenderer

            self._ctx = ctx
            self._scene = SceneRenderer()
            self._scene.initialize()
            return True
        except Exception as e:  # fall back to the child-process renderer
            self._gl_error = f"{e.__class__.__name__}: {e}"
            self._ctx = None
            return False

    @Slot()
    def process(self) -> None:
        owner = self._owner
        while True:
            batch = owner._take(16)
            if not batch:
                break
            if self._ensure_gl():
                for gen, key, pose in batch:
                    if gen != owner._generation:
                        continue
                    try:
                        self.done.emit(key, rgba_to_qimage(self._render_gl(pose)))
                    except Exception as e:
                        self.failed.emit(key, f"{e.__class__.__name__}: {e}")
                self._ctx.doneCurrent()
            else:
                live = [(k, p) for g, k, p in batch if g == owner._generation]
                try:
                    imgs = self._render_subprocess([p for _, p in live])
                    for (key, _), img in zip(live, imgs):
                        self.done.emit(key, rgba_to_qimage(img))
                except Exception as e:
                    for key, _ in live:
                        self.failed.emit(key, f"{e.__class__.__name__}: {e}")
        self.idle.emit()

    def _render_gl(self, pose: Pose) -> np.ndarray:
        from core_models.render.scene import OffscreenTarget, frame_camera, pose_state

        owner = self._owner
        body = owner.body
        w, h = owner.size
        if self._mesh_key != id(body.skinning):
            self._scene.set_mesh(body.skinning)
            self._mesh_key = id(body.skinning)
        if self._target is None or (self._target.width, self._target.height) != (w, h):
            if self._target is not None:
                self._target.release()
            self._target = OffscreenTarget(w, h, samples=4)
        skin, joints, _ = pose_state(body.skinning, pose)
        sc = self._scene
        sc.set_state(skin, joints)
        sc.show_markers = False
        sc.show_inset = False
        sc.gizmo_joint = -1
        sc.theme = owner.theme
        verts = body.forward(pose).vertices
        sc.floor_y = float(verts[:, 1].min())  # the ground under this pose
        cam = frame_camera(verts, owner.view, w / h)
        self._target.bind()
        sc.render(cam, w, h)
        img = self._target.read_rgba()
        from OpenGL import GL

        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        return img

    def _render_subprocess(self, poses: list[Pose]) -> np.ndarray:
        owner = self._owner
        with tempfile.TemporaryDirectory(prefix="posetailor-thumbs-") as d:
            src, dst = Path(d) / "poses.npz", Path(d) / "images.npz"
            batch = Pose.stack(poses)
            np.savez(src, root_orient=batch.root_orient, body_pose=batch.body_pose, transl=batch.transl)
            env = dict(os.environ)
            env.pop("PYOPENGL_PLATFORM", None)
            r = subprocess.run([sys.executable, "-m", "core_models.render.thumbnails", str(src), str(dst),
                                "--size", f"{owner.size[0]}x{owner.size[1]}", "--view", owner.view],
                               cwd=_ROOT, env=env, capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                raise RuntimeError(f"thumbnail renderer failed: {r.stderr.strip()[-500:]}")
            with np.load(dst, allow_pickle=False) as z:
                return z["images"]

    @Slot()
    def cleanup(self) -> None:
        if self._ctx is not None and self._ctx.makeCurrent(self._surface):
            try:
                if self._target is not None:
                    self._target.release()
                self._scene.release()
            except Exception:
                pass
            self._ctx.doneCurrent()
        self._ctx = None


class ThumbnailRenderer(QObject):
    """Asynchronous pose → QImage thumbnails (see the module docstring)."""

    thumbnailReady = Signal(object, QImage)  # (key, image)
    thumbnailFailed = Signal(object, str)  # (key, message)
    progress = Signal(int, int)  # (done, total) since the queue was last empty
    finished = Signal()  # the queue is empty
    _wake = Signal()

    def __init__(self, body, size: tuple[int, int] = (128, 128), view: str = "three_quarter", parent=None,
                 dark: bool = True, use_qt_gl: bool = True):
        super().__init__(parent)
        from core_models.render.scene import DARK, LIGHT

        self.body = body
        self.size = (int(size[0]), int(size[1]))
        self.view = view
        self.theme = DARK if dark else LIGHT
        self._queue: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._generation = 0
        self._done = 0
        self._total = 0
        surface = None
        if use_qt_gl and QApplication.instance() is not None \
                and QApplication.platformName() not in ("offscreen", "minimal"):
            fmt = QSurfaceFormat()
            fmt.setVersion(3, 3)
            fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
            fmt.setDepthBufferSize(24)
            surface = QOffscreenSurface()
            surface.setFormat(fmt)
            surface.create()  # must happen on the GUI thread
            if not surface.isValid():
                surface = None
        self._surface = surface
        self._thread = QThread()
        self._thread.setObjectName("posetailor-thumbnails")
        self._worker = _Worker(self, surface)
        self._worker.moveToThread(self._thread)
        self._wake.connect(self._worker.process)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._worker.idle.connect(self._on_idle)
        self._thread.start()
        thread = self._thread
        # if the owner is deleted without shutdown(), still stop the thread before it is destroyed
        self.destroyed.connect(lambda *_: (thread.quit(), thread.wait(3000)))
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._alive = True

    # queue
    def request(self, key, pose: Pose) -> None:
        self.request_many([(key, pose)])

    def request_many(self, items) -> None:
        items = [(k, p.copy()) for k, p in items]
        if not items or not self._alive:
            return
        with self._lock:
            was_empty = not self._queue
            for k, p in items:
                self._queue.append((self._generation, k, p))
            self._total += len(items)
        if was_empty:
            self._wake.emit()

    def cancel_pending(self) -> None:
        """Drop requests not rendered yet (results already queued may still arrive)."""
        with self._lock:
            self._generation += 1
            self._queue.clear()
            self._done = self._total = 0

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def _take(self, n: int) -> list:
        with self._lock:
            out = []
            while self._queue and len(out) < n:
                out.append(self._queue.popleft())
            return out

    # results (GUI thread)
    def _on_done(self, key, image: QImage) -> None:
        self._done += 1
        self.thumbnailReady.emit(key, image)
        self.progress.emit(self._done, self._total)

    def _on_failed(self, key, msg: str) -> None:
        self._done += 1
        self.thumbnailFailed.emit(key, msg)

    def _on_idle(self) -> None:
        with self._lock:
            more = bool(self._queue)
            if not more:
                self._done = self._total = 0
        if more:
            self._wake.emit()
        else:
            self.finished.emit()

    @property
    def uses_subprocess(self) -> bool:
        """True when Qt had no GL context for the worker (the child-process renderer is used)."""
        return self._worker._gl_error is not None

    def render_now(self, pose: Pose, timeout_s: float = 60.0) -> QImage:
        """Blocking: render one pose and return its image (runs the event loop while waiting)."""
        from PySide6.QtCore import QEventLoop, QTimer

        key = object()
        result: list = []
        loop = QEventLoop()

        def got(k, img):
            if k is key:
                result.append(img)
                loop.quit()

        def bad(k, msg):
            if k is key:
                result.append(RuntimeError(msg))
                loop.quit()

        self.thumbnailReady.connect(got)
        self.thumbnailFailed.connect(bad)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        self.request(key, pose)
        if not result:
            loop.exec()
        self.thumbnailReady.disconnect(got)
        self.thumbnailFailed.disconnect(bad)
        if not result:
            raise TimeoutError("thumbnail not rendered in time")
        if isinstance(result[0], Exception):
            raise result[0]
        return result[0]

    def shutdown(self) -> None:
        if not getattr(self, "_alive", False):
            return
        self._alive = False
        self.cancel_pending()
        if self._thread.isRunning():
            from PySide6.QtCore import QMetaObject, Qt

            QMetaObject.invokeMethod(self._worker, "cleanup", Qt.ConnectionType.BlockingQueuedConnection)
            self._thread.quit()
            self._thread.wait(5000)
        if self._surface is not None:
            self._surface.destroy()
