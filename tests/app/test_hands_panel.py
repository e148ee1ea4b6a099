"""Hands panel: presets / mirror / flat / clear and per-finger curl sliders, each one undo step through the Document
(a slider drag merges into one step), sliders following the pose, registration as a feature dock."""
from __future__ import annotations

import os

import numpy as np
import pytest

from core_models import hands as H


@pytest.fixture
def panel(qapp):
    from app.commands import Document
    from app.context import PanelContext
    from app.panels.hands import HandsPanel
    from core_models.pose import Pose

    doc = Document()
    start = Pose.zeros()
    start.body_pose[17] = [0.0, 0.0, -0.5]
    doc.push_pose(start, "start")
    p = HandsPanel(PanelContext.for_document(doc))
    p.show()
    yield p, doc
    p.close()
    p.deleteLater()


def test_registered_as_right_feature_panel():
    from app.panels import FEATURE_PANELS

    assert ("app.panels.hands", "HandsPanel", "Hands", "dock_hands", "right") in FEATURE_PANELS


def test_preset_buttons_for_each_side_are_one_undo_step_each(panel):
    p, doc = panel
    before = doc.pose().copy()
    n0 = doc.undo_stack.count()
    p.side_buttons["left"].click()
    p.preset_buttons["fist"].click()
    hp = doc.pose().hand_pose
    assert np.allclose(hp[:15], H.preset_hand_pose("fist", "left")[:15]) and np.all(hp[15:] == 0)
    assert np.array_equal(doc.pose().body_pose, before.body_pose)  # the body is untouched
    p.side_buttons["right"].click()
    p.preset_buttons["point"].click()
    hp = doc.pose().hand_pose
    assert np.allclose(hp[15:], H.preset_hand_pose("point", "right")[15:])
    assert np.allclose(hp[:15], H.preset_hand_pose("fist", "left")[:15])  # the left hand kept its fist
    assert doc.undo_stack.count() == n0 + 2
    doc.undo_stack.undo()
    assert np.allclose(doc.pose().hand_pose[15:], 0)
    doc.undo_stack.undo()
    assert doc.pose().hand_pose is None  # exactly the pose before any hand edit
    assert "Fist" in doc.undo_stack.text(n0)


def test_mirror_flat_and_clear(panel):
    p, doc = panel
    p.side_buttons["left"].click()
    p.preset_buttons["peace"].click()
    p.action_buttons["mirror_lr"].click()
    hp = doc.pose().hand_pose
    assert np.allclose(hp, H.mirror_hand(H.preset_hand_pose("peace", "left"), "left"), atol=1e-6)
    p.side_buttons["right"].click()
    p.action_buttons["flat"].click()
    assert np.all(doc.pose().hand_pose[15:] == 0) and np.any(doc.pose().hand_pose[:15] != 0)
    n = doc.undo_stack.count()
    p.action_buttons["clear"].click()
    assert doc.pose().hand_pose is None and doc.undo_stack.count() == n + 1
    p.action_buttons["clear"].click()  # nothing to clear: no empty undo step
    assert doc.undo_stack.count() == n + 1


def test_slider_drag_is_one_undo_step_and_sliders_follow_the_pose(panel):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    p, doc = panel
    p.side_buttons["both"].click()
    sl = p.sliders["index"]
    n0 = doc.undo_stack.count()
    sl.setSliderDown(True)
    p._on_slider_pressed()
    for v in (10, 25, 40, 55):
        sl.setValue(v)
    sl.setSliderDown(False)
    p._on_slider_released()
    assert doc.undo_stack.count() == n0 + 1  # the whole drag merged
    hp = doc.pose().hand_pose
    assert H.finger_curl(hp, "left", "index") == pytest.approx(0.55, abs=1e-3)
    assert H.finger_curl(hp, "right", "index") == pytest.approx(0.55, abs=1e-3)
    assert H.finger_curl(hp, "left", "middle") == pytest.approx(0.0, abs=1e-3)
    # keyboard steps on the same slider merge too; another slider is its own step
    sl.setFocus()
    QTest.keyClick(sl, Qt.Key.Key_Right)
    QTest.keyClick(sl, Qt.Key.Key_Right)
    assert doc.undo_stack.count() == n0 + 2
    p.sliders["hand"].setValue(80)
    assert doc.undo_stack.count() == n0 + 3
    assert all(H.finger_curl(doc.pose().hand_pose, "right", f) == pytest.approx(0.8, abs=1e-3) for f in H.FINGERS)
    # undo: the sliders show the restored pose
    doc.undo_stack.undo()
    assert p.sliders["middle"].value() == 0
    assert p.sliders["index"].value() == 59
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.pose().hand_pose is None and p.sliders["index"].value() == 0


def test_spread_slider_and_preset_values_shown(panel):
    p, doc = panel
    p.side_buttons["right"].click()
    p.preset_buttons["open"].click()
    assert p.sliders["spread"].value() == 100
    p.sliders["spread"].setValue(30)
    assert H.hand_spread(doc.pose().hand_pose, "right") == pytest.approx(0.3, abs=0.01)
    assert p.sliders["index"].value() == -5  # "open" bends the fingers back a little (curl -0.05)


@pytest.mark.gl
@pytest.mark.skipif(not os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"),
                    reason="needs an X display with GL (run under xvfb-run with QT_QPA_PLATFORM=xcb)")
def test_main_window_viewport_shows_the_fingers(qapp, tmp_path):
    from _apptest_util import RecordingDialogs, pump

    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from app.window_body import anny_cached
    from core_models import autosave as au
    from core_models.render.scene import NJ_SKIN

    if not anny_cached(None):
        pytest.skip("the Anny layer is not cached yet (run `python main.py warmup`)")
    m = au.AutosaveManager(tmp_path / "data")
    m.start()
    w = MainWindow(dialogs=RecordingDialogs(), autosave=m)
    assert not isinstance(w.viewport, FallbackViewport), getattr(w.viewport, "reason", "")
    w.resize(1280, 760)
    w.show()
    w.startup([], check_recovery=False)
    try:
        assert pump(until=lambda: w.body is not None, timeout=60), "body did not load"
        panel = w.feature_panels["dock_hands"]
        cam = w.viewport.camera
        cam.target = np.asarray(w.body.forward(w.doc.pose()).joints[20], np.float64) + [0.08, 0, 0]
        cam.distance, cam.azimuth, cam.elevation = 0.45, 0.0, 30.0
        w.viewport.update()
        pump(0.5)

        def image():
            img = w.viewport.grab_image().convertToFormat(w.viewport.grab_image().Format.Format_RGBA8888)
            return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.width(), 4)[..., :3].astype(int)

        before = image()
        panel.set_side("left")
        panel.preset_buttons["fist"].click()
        pump(0.5)
        assert w.viewport.pose().hand_pose is not None
        skin = w.viewport.scene()._skin.reshape(NJ_SKIN, 3, 4)
        assert np.abs(skin[22:37] - skin[20]).max() > 0.1  # the left fingers have their own transforms
        after = image()
        assert np.abs(after - before).mean() > 2.0  # the fist is drawn
        w.acts["undo"].trigger()
        pump(0.3)
        assert w.viewport.pose().hand_pose is None
    finally:
        w.close()
        pump(0.1)


def test_save_a_hand_preset_to_the_library_and_apply_it(panel):
    from core_models.library import load_user

    p, doc = panel
    reloads = []
    p.ctx.library.reload = lambda: reloads.append(1)
    p.side_buttons["both"].click()
    p.preset_buttons["point"].click()
    p.sliders["thumb"].setValue(10)
    made = doc.pose().hand_pose.copy()
    assert p.save_preset("My point") and reloads == [1]
    saved = [e for e in load_user() if e.category == H.HAND_PRESET_CATEGORY]
    assert [e.name for e in saved] == ["My point"] and np.allclose(saved[0].pose.hand_pose, made, atol=1e-5)
    assert p.library_combo.findText("My point") >= 0
    assert not p.save_preset("   ") and "Not saved" in p.status.text()  # a bad name: a message, nothing written
    assert len([e for e in load_user() if e.category == H.HAND_PRESET_CATEGORY]) == 1
    # apply it to the right hand only, over fists: one undo step
    p.preset_buttons["fist"].click()
    p.side_buttons["right"].click()
    n = doc.undo_stack.count()
    assert p.apply_library_preset(p.library_combo.findText("My point"))
    hp = doc.pose().hand_pose
    assert np.allclose(hp[15:], made[15:], atol=1e-5)
    assert np.allclose(hp[:15], H.preset_hand_pose("fist", "left")[:15])
    assert doc.undo_stack.count() == n + 1
