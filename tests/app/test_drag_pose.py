"""Drag-to-pose in the viewport (issue #16 item 1): effector handles, drags solved live by
core_models.posing.DragSolver, pins, Shift = the limb alone, Esc cancels, one undo step per drag.

The logic tests drive the real Viewport's mouse / key handlers with synthetic events on any Qt platform (the
viewport is not shown, so they need no GL); the last test draws the handles in a real GL context (Xvfb + xcb)
and drags through the native GL window."""
from __future__ import annotations

import os

import numpy as np
import pytest
from _apptest_util import RecordingDialogs, pump, tiny_body

from core_models import skeleton as sk
from core_models.pose import Pose
from core_models.posing import effector_positions
from core_models.render import handles as hd
from core_models.render.camera import OrbitCamera
from core_models.session import poses_equal

W, H = 480, 400
LW = "left_wrist"
ARM = {sk.JOINT_INDEX[n] for n in ("left_shoulder", "left_elbow", "left_wrist")}
HAS_GL_DISPLAY = bool(os.environ.get("DISPLAY")) and os.environ.get("QT_QPA_PLATFORM") not in ("offscreen", "minimal")


def _start_pose() -> Pose:
    """Arms lowered, the left elbow a little bent, fingers curled (a pose people start dragging from)."""
    p = Pose.zeros()
    p = p.with_joint(sk.JOINT_INDEX["left_shoulder"], np.array([0, 0, -1.2], np.float32))
    p = p.with_joint(sk.JOINT_INDEX["right_shoulder"], np.array([0, 0, 1.2], np.float32))
    p = p.with_joint(sk.JOINT_INDEX["left_elbow"], np.array([0, -0.4, 0], np.float32))
    p.hand_pose = np.tile(np.array([0.0, 0.0, 0.3], np.float32), (30, 1)) * np.linspace(0.5, 1.0, 30)[:, None]
    return p


@pytest.fixture
def body():
    return tiny_body()


@pytest.fixture
def vp(qapp, body):
    from app.viewport.widget import Viewport

    v = Viewport(samples=0)
    v.resize(W, H)
    v.set_body(body)
    v.set_pose(_start_pose())
    v.set_view("front")
    v.set_limits_enabled(True)
    v.set_drag_mode(True)
    yield v
    v.close()
    v.deleteLater()
    pump(0.02)


@pytest.fixture
def doc(vp):
    """A Document wired to the viewport the way the main window wires it."""
    from app.commands import Document
    from core_models.session import Session

    d = Document(Session())
    d._apply_pose(vp.pose())
    d.undo_stack.clear()
    vp.poseEditFinished.connect(lambda old, new, text: d.push_pose_change(old, new, text))
    d.poseChanged.connect(vp.set_pose)
    return d


def _mouse(vp, kind, pos, button=None, mods=None):
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    types = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
             "release": QEvent.Type.MouseButtonRelease}
    button = Qt.MouseButton.LeftButton if button is None else button
    held = button if kind == "press" or (kind == "move" and button != Qt.MouseButton.NoButton) else \
        Qt.MouseButton.NoButton
    mods = Qt.KeyboardModifier.NoModifier if mods is None else mods
    p = QPointF(float(pos[0]), float(pos[1]))
    ev = QMouseEvent(types[kind], p, vp.mapToGlobal(p), Qt.MouseButton.NoButton if kind == "move" else button,
                     held, mods)
    QApplication.sendEvent(vp, ev)


def _key(vp, key):
    from PySide6.QtTest import QTest

    QTest.keyClick(vp, key)


def _xy(vp, name):
    p = vp.handle_screen_pos(name)
    return p.x(), p.y()


def _drag(vp, name, dx, dy, steps=6, mods=None, release=True, solve_each=True):
    """Press on handle ``name``, move by (dx, dy) pixels in ``steps``, (release). Returns the release point."""
    x0, y0 = _xy(vp, name)
    _mouse(vp, "press", (x0, y0), mods=mods)
    for k in range(1, steps + 1):
        _mouse(vp, "move", (x0 + dx * k / steps, y0 + dy * k / steps), mods=mods)
        if solve_each:
            pump(0.0)
    if release:
        _mouse(vp, "release", (x0 + dx, y0 + dy), mods=mods)
    return (x0, y0), (x0 + dx, y0 + dy)


def _expected_target(camera: OrbitCamera, start_world, press, release):
    """Where the effector should go: moved by the cursor's displacement on the camera-facing plane through it."""
    n = camera.forward()

    def hit(px, py):
        o, d = camera.ray(px, py, W, H)
        return o + d * (np.dot(start_world - o, n) / np.dot(d, n))

    return start_world + hit(*release) - hit(*press)


# --- the Qt-free helpers -------------------------------------------------------------------------------------

def test_handles_are_picked_where_they_are_drawn_and_the_grab_plane_faces_the_camera():
    rest = sk.DEFAULT_REST_JOINTS.astype(np.float64)
    from core_models.posing.effectors import world_joints

    J = world_joints(_start_pose(), rest)
    cam = OrbitCamera(azimuth=20.0, elevation=8.0, fovy=35.0)
    cam.frame_points(J, W / H)
    pos = hd.handle_positions(J)
    radii = hd.handle_radii(cam, pos, H)
    assert pos.shape == (len(hd.HANDLES), 3)
    # constant on-screen size: a pole hint is smaller than a main handle
    assert radii[hd.HANDLES.index("left_elbow")] < radii[hd.HANDLES.index("left_wrist")]
    for i, name in enumerate(hd.HANDLES):
        sx, sy, _ = cam.project(pos[i], W, H)
        assert hd.HANDLES[hd.pick_handle(cam, sx, sy, W, H, pos, radii)] == name
    assert hd.pick_handle(cam, 2.0, 2.0, W, H, pos, radii) == -1
    # the grab plane: the grabbed point follows the cursor on screen and stays at its depth
    wrist = pos[hd.HANDLES.index(LW)]
    sx, sy, _ = cam.project(wrist, W, H)
    plane = hd.GrabPlane(cam, wrist, sx + 3, sy - 2, W, H)  # grabbed a little off-centre
    assert np.allclose(plane.target(sx + 3, sy - 2), wrist)
    t = plane.target(sx + 43, sy + 28)
    assert abs(np.dot(t - wrist, cam.forward())) < 1e-9
    assert np.allclose(cam.project(t, W, H)[:2], (sx + 40, sy + 30), atol=1e-3)
    # colours: pinned red, the dragged one yellow
    cols = hd.handle_colors({"left_ankle"}, hover=None, active=LW)
    assert np.allclose(cols[hd.HANDLES.index("left_ankle")], hd.PINNED_COLOR)
    assert np.allclose(cols[hd.HANDLES.index(LW)], hd.ACTIVE_COLOR)


# --- the viewport ---------------------------------------------------------------------------------------------

def test_drag_left_wrist_with_both_feet_pinned(vp, doc, body):
    rest = body.skinning.rest_joints
    start = vp.pose()
    E0 = effector_positions(start, rest)
    vp.set_pinned("left_ankle", True)
    vp.set_pinned("right_ankle", True)
    assert vp.pins() == {"left_ankle", "right_ankle"}
    live = []
    vp.poseDragged.connect(live.append)
    status = []
    vp.dragStatus.connect(status.append)
    press, release = _drag(vp, LW, -45, 35)
    assert live, "no live preview while dragging"
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.text(0) == "Drag left wrist"
    new = doc.pose()
    assert poses_equal(vp.pose(), new) and not poses_equal(new, start)
    assert np.array_equal(new.hand_pose, start.hand_pose)  # the fingers ride along unchanged
    E1 = effector_positions(new, rest)
    target = _expected_target(vp.camera, E0[LW], press, release)
    assert np.linalg.norm(target - E0[LW]) > 0.1  # a real drag (more than 10 cm)
    assert np.linalg.norm(E1[LW] - target) < 0.005  # within 5 mm of where it was dragged
    for foot in ("left_ankle", "right_ankle"):
        assert np.linalg.norm(E1[foot] - E0[foot]) < 0.002  # pinned feet held within 2 mm
    # joint limits on: every joint stays inside its range (0.1° slack)
    from core_models.pose import limit_violation_deg

    assert float(np.max(limit_violation_deg(new))) < 0.1
    assert "left wrist" in status[-1] and "mm" in status[-1] and "(optimisation only" in status[-1]
    # pins persist across drags and are not pose edits
    assert vp.pins() == {"left_ankle", "right_ankle"}
    # undo restores the exact previous pose
    doc.undo_stack.undo()
    assert poses_equal(doc.pose(), start) and poses_equal(vp.pose(), start)
    assert np.array_equal(vp.pose().full(), start.full()) and np.array_equal(vp.pose().transl, start.transl)


def test_each_drag_is_one_undo_step(vp, doc):
    poses = [vp.pose()]
    for name, (dx, dy) in (("left_wrist", (-30, 20)), ("right_ankle", (15, -20)), ("head", (20, 5))):
        _drag(vp, name, dx, dy, steps=5)
        poses.append(vp.pose())
    assert doc.undo_stack.count() == 3
    assert [doc.undo_stack.text(i) for i in range(3)] == ["Drag left wrist", "Drag right ankle", "Drag head"]
    for k in (2, 1, 0):
        doc.undo_stack.undo()
        assert poses_equal(doc.pose(), poses[k]) and poses_equal(vp.pose(), poses[k])


def test_escape_cancels_the_drag_without_an_undo_step(vp, doc):
    from PySide6.QtCore import Qt

    start = vp.pose()
    dragged = []
    vp.poseDragged.connect(dragged.append)
    press, _ = _drag(vp, LW, -40, 30, release=False)
    assert not poses_equal(vp.pose(), start)  # the preview moved
    _key(vp, Qt.Key.Key_Escape)
    assert poses_equal(vp.pose(), start)
    assert poses_equal(dragged[-1], start)  # the panels are told the pose is back
    _mouse(vp, "release", (press[0] - 40, press[1] + 30))
    assert doc.undo_stack.count() == 0 and poses_equal(doc.pose(), start) and poses_equal(vp.pose(), start)


def test_shift_drag_moves_only_the_limb(vp, doc, body):
    from PySide6.QtCore import Qt

    start = vp.pose()
    E0 = effector_positions(start, body.skinning.rest_joints)
    _drag(vp, LW, -30, -40, mods=Qt.KeyboardModifier.ShiftModifier)
    assert doc.undo_stack.count() == 1 and doc.undo_stack.text(0) == "Drag left wrist (limb only)"
    new = doc.pose()
    changed = {j for j in range(sk.NUM_JOINTS) if not np.array_equal(new.full()[j], start.full()[j])}
    assert changed and changed <= ARM, [sk.JOINT_NAMES[j] for j in changed]
    assert np.array_equal(new.transl, start.transl) and np.array_equal(new.hand_pose, start.hand_pose)
    E1 = effector_positions(new, body.skinning.rest_joints)
    assert np.linalg.norm(E1[LW] - E0[LW]) > 0.05
    for other in ("right_wrist", "left_ankle", "right_ankle", "head", "pelvis"):
        assert np.allclose(E1[other], E0[other], atol=1e-6)


def test_pins_toggle_with_r_and_the_handle_menu(vp, doc):
    from PySide6.QtCore import Qt

    seen = []
    vp.pinsChanged.connect(seen.append)
    _mouse(vp, "move", _xy(vp, "right_ankle"), button=Qt.MouseButton.NoButton)  # hover
    assert vp.hovered_handle() == "right_ankle"
    _key(vp, Qt.Key.Key_R)
    assert vp.pins() == {"right_ankle"} and seen[-1] == {"right_ankle"}
    _key(vp, Qt.Key.Key_R)
    assert vp.pins() == frozenset()
    # the right-click menu of a handle pins it; "Clear pins" clears every pin
    m = vp.handle_menu("left_ankle")
    texts = [a.text() for a in m.actions()]
    assert texts[0].startswith("Pin left ankle") and "Clear pins" in texts
    m.actions()[0].trigger()
    vp.handle_menu("head").actions()[0].trigger()
    assert vp.pins() == {"left_ankle", "head"}
    assert vp.handle_menu("head").actions()[0].text().startswith("Unpin head")
    clear = [a for a in vp.handle_menu(None).actions() if a.text() == "Clear pins"][0]
    assert clear.isEnabled()
    clear.trigger()
    assert vp.pins() == frozenset() and seen[-1] == frozenset()
    # a right-click on a handle opens the menu (no pose change, nothing on the undo stack)
    _mouse(vp, "press", _xy(vp, "left_ankle"), button=Qt.MouseButton.RightButton)
    _mouse(vp, "release", _xy(vp, "left_ankle"), button=Qt.MouseButton.RightButton)
    assert vp._handle_menu is not None and vp._handle_menu.actions()[0].text().startswith("Pin left ankle")
    vp._handle_menu.close()
    assert doc.undo_stack.count() == 0
    with pytest.raises(ValueError, match="unknown effector"):
        vp.set_pinned("left_pinky", True)


def test_mouse_moves_are_coalesced_not_queued(vp, doc):
    """Moves that arrive while a solve is pending replace the pending cursor: one solve for the newest one."""
    solver = vp._drag_solver()
    calls = []
    orig = solver.update
    solver.update = lambda target, mode="full": (calls.append(np.array(target)), orig(target, mode))[1]
    x0, y0 = _xy(vp, LW)
    _mouse(vp, "press", (x0, y0))
    for k in range(1, 21):  # 20 moves before the event loop runs
        _mouse(vp, "move", (x0 - k, y0 + k))
    assert calls == []
    pump(0.0)
    assert len(calls) == 1
    _mouse(vp, "release", (x0 - 20, y0 + 20))
    assert len(calls) == 1  # the newest position was already solved
    assert doc.undo_stack.count() == 1


def test_drag_mode_off_keeps_clicks_and_rotation_rings(vp, doc):
    """Without drag mode a press on the wrist selects the joint; in drag mode a selected joint's gizmo rings
    still rotate it (the old joint-rotate tool keeps working)."""
    import math

    vp.set_drag_mode(False)
    got = []
    vp.jointSelected.connect(got.append)
    x, y = _xy(vp, LW)
    _mouse(vp, "press", (x, y))
    _mouse(vp, "release", (x, y))
    assert got == [sk.JOINT_INDEX[LW]] and doc.undo_stack.count() == 0
    vp.set_drag_mode(True)
    j = sk.JOINT_INDEX["spine3"]
    vp.set_selected_joint(j)
    c, R = vp.joints()[j].astype(np.float64), vp.gizmo_radius()

    def ring(a):  # the Z ring faces the camera in the front view
        return tuple(vp.camera.project(c + R * np.array([math.cos(a), math.sin(a), 0.0]), W, H)[:2])

    angles = np.radians(np.linspace(-20, 30, 6))
    _mouse(vp, "press", ring(angles[0]))
    for a in angles[1:]:
        _mouse(vp, "move", ring(a))
    _mouse(vp, "release", ring(angles[-1]))
    assert doc.undo_stack.count() == 1 and doc.undo_stack.text(0).startswith("Rotate spine3 about Z")


def test_autoposer_note_in_the_status(vp):
    assert vp.solver_note() == "(optimisation only: autopose weights missing)"
    vp.set_autoposer(FakeNet())
    assert vp.solver_note() == "(network)"
    status = []
    vp.dragStatus.connect(status.append)
    _drag(vp, LW, -10, 10, steps=2)
    assert status[-1].endswith("(network)") and status[-1].startswith("Dragged left wrist: reach error")


class FakeNet:
    """Stands in for core_models.nets.autopose.AutoPoser: predicts the start pose back (a network that is there)."""

    def predict_matrices(self, effectors, mask, start):
        return start


def _missing_weights():
    from core_models.nets.common.weights import WeightsError

    raise WeightsError("the 'autopose' model weights are missing (resources/weights/autopose.pt)")


@pytest.mark.parametrize("loader, note", [(_missing_weights, "(optimisation only: autopose weights missing)"),
                                          (FakeNet, "(network)")], ids=["weights-missing", "network"])
def test_main_window_action_status_bar_and_undo(qapp, body, loader, note):
    """Edit > Drag pose (D) turns the mode on and loads the auto-poser in a worker; the drag message with the
    solver's kind reaches the status bar; Ctrl+Z undoes the drag exactly."""
    from app.main_window import MainWindow
    from app.viewport.widget import Viewport
    from core_models import settings as st
    from core_models.services import ModelServices

    vp = Viewport(samples=0)
    w = MainWindow(settings=st.defaults(), body=body, viewport=vp, dialogs=RecordingDialogs(),
                   services=ModelServices(loaders={"autoposer": loader}))
    try:
        vp.set_body(body)
        w.doc._apply_pose(_start_pose())
        w.doc.undo_stack.clear()
        vp.resize(W, H)
        vp.set_view("front")
        assert w.acts["drag_pose"].shortcut().toString() == "D"
        w.acts["drag_pose"].trigger()
        assert vp.drag_mode()
        assert pump(until=lambda: w._autoposer_state in ("missing", "ready"), timeout=20)
        assert vp.solver_note() == note
        start = w.doc.pose()
        assert not w.acts["clear_pins"].isEnabled()
        vp.set_pinned("left_ankle", True)
        assert w.acts["clear_pins"].isEnabled()
        _drag(vp, LW, -30, 25)
        msg = w.statusBar().currentMessage()
        assert msg.startswith("Dragged left wrist: reach error") and msg.endswith(note), msg
        assert w.doc.undo_stack.count() == 1 and not poses_equal(w.doc.pose(), start)
        w.acts["undo"].trigger()
        assert poses_equal(w.doc.pose(), start) and poses_equal(vp.pose(), start)
        w.acts["clear_pins"].trigger()
        assert vp.pins() == frozenset() and not w.acts["clear_pins"].isEnabled()
        w.acts["drag_pose"].trigger()
        assert not vp.drag_mode()
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()
        pump(0.05)


def test_fallback_viewport_refuses_drag_mode_clearly(qapp, body):
    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st

    w = MainWindow(settings=st.defaults(), body=body, viewport=FallbackViewport(), dialogs=RecordingDialogs())
    try:
        w.acts["drag_pose"].trigger()
        assert not w.acts["drag_pose"].isChecked()
        assert "needs the 3D viewport" in w.statusBar().currentMessage()
        # the D key: fires the action from the viewport, but a "d" typed into a text field stays text
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        fired = []
        w.acts["drag_pose"].triggered.connect(lambda *_: fired.append(1))
        w.show()
        w.activateWindow()
        assert pump(until=lambda: w.isActiveWindow(), timeout=5)
        w.viewport.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        w.viewport.setFocus()
        QTest.keyClick(w.viewport, Qt.Key.Key_D)
        assert len(fired) == 1
        w.library.search.setFocus()
        QTest.keyClick(w.library.search, Qt.Key.Key_D)
        assert w.library.search.text() == "d" and len(fired) == 1
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()
        pump(0.05)


# --- real GL (Xvfb) ---------------------------------------------------------------------------------------------

def _img(vp, handles=True) -> np.ndarray:
    from PySide6.QtGui import QImage

    im = vp.grab_image(handles=handles).convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = im.width(), im.height(), im.bytesPerLine()
    a = np.frombuffer(im.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)[:, : w * 3]
    return a.reshape(h, w, 3).astype(np.int16)


def _near(img, xy, colour, r=3) -> bool:
    x, y = int(round(xy[0])), int(round(xy[1]))
    patch = img[y - r:y + r + 1, x - r:x + r + 1].reshape(-1, 3)
    return bool(np.any(np.abs(patch - np.asarray(colour) * 255).max(1) < 60))


@pytest.mark.gl
@pytest.mark.skipif(not HAS_GL_DISPLAY, reason="needs an X display with GL (xvfb-run with QT_QPA_PLATFORM=xcb)")
def test_gl_handles_drawn_and_dragged_through_the_native_window(qapp, anny_body):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from app.viewport.widget import Viewport

    v = Viewport(samples=0)
    try:
        v.resize(W, H)
        v.set_body(anny_body)
        v.set_pose(_start_pose())
        v.set_show_grid(False)
        v.show()
        pump(0.3)
        assert not v.gl_error, v.gl_error
        v.set_view("front")
        before = _img(v)
        v.set_drag_mode(True)
        v.set_pinned("right_ankle", True)
        pump(0.1)
        img = _img(v)
        assert _near(img, _xy(v, LW), hd.HANDLE_COLOR) and not _near(before, _xy(v, LW), hd.HANDLE_COLOR)
        assert not _near(_img(v, handles=False), _xy(v, LW), hd.HANDLE_COLOR)  # thumbnails show no handles
        assert _near(img, _xy(v, "right_ankle"), hd.PINNED_COLOR)
        assert _near(img, _xy(v, "left_elbow"), hd.POLE_COLOR)
        finished = []
        v.poseEditFinished.connect(lambda a, b, t: finished.append((a, b, t)))
        win = v.gl_window()
        x0, y0 = (int(round(c)) for c in _xy(v, LW))
        QTest.mousePress(win, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x0, y0))
        for k in range(1, 6):
            QTest.mouseMove(win, QPoint(x0 - 8 * k, y0 - 6 * k))
            pump(0.02)
        QTest.mouseRelease(win, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x0 - 40, y0 - 30))
        pump(0.1)
        assert len(finished) == 1 and finished[0][2] == "Drag left wrist"
        assert poses_equal(v.pose(), finished[0][1]) and not poses_equal(finished[0][0], finished[0][1])
        E = effector_positions(v.pose(), anny_body.skinning.rest_joints)
        sx, sy, _ = v.camera.project(E[LW], W, H)
        assert abs(sx - (x0 - 40)) < 3 and abs(sy - (y0 - 30)) < 3  # the wrist is under the cursor
    finally:
        v.close()
        v.deleteLater()
        pump(0.05)


def test_a_failing_solve_ends_the_drag_at_the_start_pose(vp, doc):
    """Bad input to the solver (here: it raises) gives a clear message and loses nothing."""
    solver = vp._drag_solver()

    def broken(target, mode="full"):
        raise ValueError("target contains NaN")

    solver.update = broken
    start = vp.pose()
    status = []
    vp.dragStatus.connect(status.append)
    _drag(vp, LW, -20, 20, steps=3)
    assert poses_equal(vp.pose(), start) and doc.undo_stack.count() == 0
    assert any("stopped: ValueError: target contains NaN" in m for m in status)
    assert vp._mode is None and vp._pose_drag is None
    del solver.update  # the next drag works again
    _drag(vp, LW, -20, 20, steps=3)
    assert doc.undo_stack.count() == 1
