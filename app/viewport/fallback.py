"""The stand-in viewport (a QPainter stick figure) used when OpenGL is not available — the offscreen /
minimal Qt platforms, or an import or driver error of the real viewport — and ``make_viewport`` that picks
one. Both viewports provide :class:`app.context.ViewportProtocol`."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from app.context import ViewportProtocol
from app.panels.library import stick_figure_image
from core_models.pose import Pose

NO_GL_PLATFORMS = ("offscreen", "minimal", "minimalegl")


class FallbackViewport(QWidget):
    """Same API as app.viewport.widget.Viewport; draws a front-view stick figure with QPainter."""

    jointSelected = Signal(int)
    poseDragged = Signal(object)
    poseEditFinished = Signal(object, object, str)
    fpsChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pose = Pose.zeros()
        self._body = None
        self._sel = -1
        self._limits = True
        self._inset = True
        self._colors: dict[int, tuple] = {}
        self.setMinimumSize(320, 240)
        self.reason = ""

    def set_body(self, body) -> None:
        self._body = body
        self.update()

    def set_pose(self, pose: Pose) -> None:
        self._pose = pose.copy()
        self.update()

    def pose(self) -> Pose:
        return self._pose.copy()

    def set_selected_joint(self, j: int) -> None:
        self._sel = int(j)
        self.update()

    def set_joint_colors(self, colors: dict) -> None:
        self._colors = dict(colors)
        self.update()

    def set_limits_enabled(self, on: bool) -> None:
        self._limits = bool(on)

    def set_show_inset(self, on: bool) -> None:
        self._inset = bool(on)

    def reset_camera(self) -> None:
        self.update()

    def set_theme(self, name: str) -> None:
        self.update()

    def grab_image(self) -> QImage:
        return self.grab().toImage()

    def paintEvent(self, _e) -> None:  # noqa: N802
        qp = QPainter(self)
        qp.fillRect(self.rect(), self.palette().base())
        side = min(self.width(), self.height())
        rest = self._body.skinning.rest_joints if self._body is not None else None
        img = stick_figure_image(self._pose, max(64, int(side * 0.9)), rest, yaw_deg=20.0)
        qp.drawImage((self.width() - img.width()) // 2, (self.height() - img.height()) // 2, img)
        qp.setPen(QPen(self.palette().text().color()))
        qp.drawText(self.rect().adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                    "Simple preview (3D viewport unavailable)" + (f": {self.reason}" if self.reason else ""))
        qp.end()


def make_viewport(parent: QWidget | None = None) -> ViewportProtocol:
    """The OpenGL viewport, or the stand-in (with the reason shown in its corner) when GL cannot work."""
    platform = QGuiApplication.platformName()
    if platform in NO_GL_PLATFORMS:
        v = FallbackViewport(parent)
        v.reason = f"no OpenGL on the '{platform}' Qt platform"
        return v
    try:
        from app.viewport.widget import Viewport  # the real OpenGL viewport

        return Viewport(parent)
    except Exception as e:  # noqa: BLE001 - the app must still start
        v = FallbackViewport(parent)
        v.reason = f"{type(e).__name__}: {e}"[:160]
        return v
