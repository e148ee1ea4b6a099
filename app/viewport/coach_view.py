"""The coach's picture: the camera frame next to the live body as a figure with the target pose as a ghost.

``CoachView.show(state, preview, mirror)`` takes a :class:`core_models.coach.CoachState` and an optional RGB
preview frame; ``paintEvent`` draws (QPainter, no GL, so it is the same in the dock, the full-window mode and
offscreen tests):
  * the camera frame (mirrored when the user faces the screen), when there is one;
  * the target pose (``state.aligned_target``: turned to the live heading) as a wide translucent ghost;
  * the live pose over it, each bone coloured by the coach's per-joint status — green within tolerance, red
    beyond it, grey where the camera cannot see the joint (gated out, so neither scored nor corrected).
Both figures are seen from the front of the live body and pinned at the pelvis with a fixed scale (2.3 m of
height fill the picture), so nothing jumps when the pose changes. Colours come straight from ``joint_status``,
whose hysteresis lives in the engine: the picture flickers no more than the state.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix, heading_of

OK, OFF, UNSEEN = 0, 1, 2
STATUS_RGB = {OK: (60, 200, 95), OFF: (235, 60, 50), UNSEEN: (135, 135, 140)}
GHOST_RGBA = (235, 235, 255, 95)
VIEW_HEIGHT_M = 2.3


def status_colors(joint_status: np.ndarray | None, ok: bool = False) -> dict[int, tuple[float, float, float]]:
    """{joint: rgb 0..1} for the 3D viewport: red for joints beyond tolerance, grey for unseen ones (and green
    for the ones within tolerance when ``ok``)."""
    out: dict[int, tuple[float, float, float]] = {}
    if joint_status is None:
        return out
    for j, s in enumerate(np.asarray(joint_status).reshape(-1)[:sk.NUM_JOINTS]):
        s = int(s)
        if s == OK and not ok:
            continue
        r, g, b = STATUS_RGB.get(s, STATUS_RGB[UNSEEN])
        out[j] = (r / 255.0, g / 255.0, b / 255.0)
    return out


class StatusDebouncer:
    """Per-joint display debounce of the coach's joint status (the colours): a joint takes a new colour only after
    the new status has held for ``dwell_s`` and its colour has been shown for ``min_show_s`` — at most one colour
    change per joint per second. The engine's tolerance hysteresis keeps the status steady for clean poses; through
    a noisy capture (the geometric regressor on a rendered clip) one joint still changed up to 6 times in a second."""

    def __init__(self, dwell_s: float = 0.3, min_show_s: float = 1.0, n: int = sk.NUM_JOINTS):
        self.dwell_s, self.min_show_s, self.n = float(dwell_s), float(min_show_s), int(n)
        self.reset()

    def reset(self) -> None:
        self.shown: np.ndarray | None = None
        self._pending = np.zeros(self.n, np.int8)
        self._pending_since = np.zeros(self.n)
        self._changed_at = np.full(self.n, -np.inf)

    def update(self, t: float, status: np.ndarray) -> np.ndarray:
        """The status to show at time ``t`` (seconds) for the engine's ``status``; a copy."""
        st = np.asarray(status, np.int8).reshape(self.n)
        if self.shown is None:
            self.shown = st.copy()
            self._pending[...] = st
            return self.shown.copy()
        same = st == self.shown
        new = ~same & (st != self._pending)
        self._pending[same] = self.shown[same]
        self._pending[new] = st[new]
        self._pending_since[new] = t
        eps = 1e-6  # frame times like 3.0 + 0.3 are not exact
        ready = ~same & (t - self._pending_since >= self.dwell_s - eps)
        ready &= t - self._changed_at >= self.min_show_s - eps
        self.shown[ready] = st[ready]
        self._changed_at[ready] = t
        return self.shown.copy()


def front_joints(pose: Pose, heading: float | None = None) -> np.ndarray:
    """(22, 3) joints of ``pose`` on the default skeleton, pelvis at the origin, turned by ``-heading`` (the
    pose's own heading when None) so the body faces the viewer (+z)."""
    p = Pose(pose.root_orient, pose.body_pose, np.zeros(3, np.float32))
    R = aa_to_matrix(p.full().astype(np.float64))
    _, J, _ = kin.fk_numpy(R, sk.DEFAULT_REST_JOINTS, sk.PARENTS)
    h = float(heading_of(np.asarray(pose.root_orient, np.float64))) if heading is None else float(heading)
    c, s = math.cos(-h), math.sin(-h)
    Ry = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    J = (J - J[0]) @ Ry.T
    return J


def bone_status(joint_status: np.ndarray | None) -> np.ndarray:
    """(22,) status of the bone from each joint's parent to the joint: unseen if either end is unseen, off when
    the parent joint (whose rotation places the bone) is off."""
    st = np.zeros(sk.NUM_JOINTS, np.int8) if joint_status is None else np.asarray(joint_status, np.int8)
    out = np.zeros(sk.NUM_JOINTS, np.int8)
    for j in range(1, sk.NUM_JOINTS):
        par = int(sk.PARENTS[j])
        if st[j] == UNSEEN or st[par] == UNSEEN:
            out[j] = UNSEEN
        elif st[par] == OFF or (st[j] == OFF and not any(int(sk.PARENTS[k]) == j for k in range(sk.NUM_JOINTS))):
            out[j] = OFF
    return out


class CoachView(QWidget):
    """See the module docstring."""

    def __init__(self, parent: QWidget | None = None, big: bool = False):
        super().__init__(parent)
        self.big = big
        self.state = None
        self.preview: QImage | None = None
        self.mirror = False
        self.target_pose: Pose | None = None  # the target before any live body is seen
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def show_state(self, state, preview: QImage | None = None, mirror: bool | None = None) -> None:
        self.state = state
        if preview is not None:
            self.preview = preview
        if mirror is not None:
            self.mirror = bool(mirror)
        self.update()

    def set_target(self, pose: Pose | None) -> None:
        self.target_pose = pose
        self.update()

    def clear(self) -> None:
        self.state, self.preview = None, None
        self.update()

    # --- painting --------------------------------------------------------------------------------------------
    def paintEvent(self, ev) -> None:  # noqa: N802 - Qt API
        qp = QPainter(self)
        qp.setRenderHint(QPainter.RenderHint.Antialiasing)
        qp.fillRect(self.rect(), QColor(24, 26, 30))
        r = QRectF(self.rect())
        fig = r
        if self.preview is not None and not self.preview.isNull() and r.width() > 1.15 * r.height():
            cam = QRectF(r.x(), r.y(), r.width() / 2, r.height())
            fig = QRectF(r.x() + r.width() / 2, r.y(), r.width() / 2, r.height())
            self._paint_preview(qp, cam)
        elif self.preview is not None and not self.preview.isNull():
            w = r.width() * 0.34
            self._paint_preview(qp, QRectF(r.right() - w - 6, r.y() + 6, w, w * 0.75))
        self._paint_figures(qp, fig)
        qp.end()

    def _paint_preview(self, qp: QPainter, rect: QRectF) -> None:
        img = self.preview.mirrored(True, False) if self.mirror else self.preview
        s = min(rect.width() / img.width(), rect.height() / img.height())
        w, h = img.width() * s, img.height() * s
        qp.drawImage(QRectF(rect.center().x() - w / 2, rect.center().y() - h / 2, w, h), img)

    def _mapper(self, rect: QRectF):
        scale = rect.height() / VIEW_HEIGHT_M
        cx, cy = rect.center().x(), rect.y() + rect.height() * 0.47
        sx = -scale if self.mirror else scale

        def to_screen(p: np.ndarray) -> QPointF:
            return QPointF(cx + sx * float(p[0]), cy - scale * float(p[1]))

        return to_screen, scale

    def _paint_figures(self, qp: QPainter, rect: QRectF) -> None:
        st = self.state
        live = getattr(st, "live_pose", None)
        target = getattr(st, "aligned_target", None) if st is not None else self.target_pose
        heading = float(heading_of(np.asarray(live.root_orient, np.float64))) if live is not None else None
        to_screen, scale = self._mapper(rect)
        width = max(3.0, scale * 0.035)
        head_r = scale * 0.1
        if target is not None:
            pts = [to_screen(p) for p in front_joints(target, heading)]
            self._draw_bones(qp, pts, None, width * 2.2, QColor(*GHOST_RGBA), head_r)
        if live is not None:
            pts = [to_screen(p) for p in front_joints(live, heading)]
            status = getattr(st, "joint_status", None)
            self._draw_bones(qp, pts, bone_status(status), width, None, head_r)
            self._draw_joints(qp, pts, status, width * 0.8)

    @staticmethod
    def _draw_bones(qp: QPainter, pts: list[QPointF], status: np.ndarray | None, width: float,
                    colour: QColor | None, head_r: float) -> None:
        for j in range(1, sk.NUM_JOINTS):
            c = colour if colour is not None else QColor(*STATUS_RGB[int(status[j]) if status is not None else OK])
            qp.setPen(QPen(c, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            qp.drawLine(pts[int(sk.PARENTS[j])], pts[j])
        head = pts[sk.JOINT_INDEX["head"]]
        c = colour if colour is not None else QColor(*STATUS_RGB[int(status[sk.JOINT_INDEX["head"]])
                                                                 if status is not None else OK])
        qp.setPen(QPen(c, width))
        qp.setBrush(Qt.BrushStyle.NoBrush)
        qp.drawEllipse(head, head_r, head_r)

    @staticmethod
    def _draw_joints(qp: QPainter, pts: list[QPointF], status: np.ndarray | None, radius: float) -> None:
        qp.setPen(Qt.PenStyle.NoPen)
        for j, p in enumerate(pts):
            s = int(status[j]) if status is not None else OK
            qp.setBrush(QColor(*STATUS_RGB.get(s, STATUS_RGB[UNSEEN])))
            qp.drawEllipse(p, radius, radius)
