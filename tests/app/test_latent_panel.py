"""Latent panel (QPoser): codebook/path sliders decode live with one undo step per drag, lock, resample, copy
part from a reference, latent interpolation, random pose, text prompt. Uses a tiny untrained QPoser (the panel's
behaviour, not the model's quality, is under test)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core_models.nets.qposer import PART_JOINTS, LatentEditor, QPoser, QPoserConfig, compute_part_paths
from core_models.nets.qposer.infer import lowest_joint_y
from core_models.nets.qposer.model import body_rotmats
from core_models.nets.qposer.train import CONFIGS
from core_models.pose import Pose


class _FakePrompter:
    def __init__(self, editor):
        self.editor = editor

    def part_codes(self, text, parts=None):
        from core_models.nets.qposer import prompted_parts
        parts = prompted_parts(text) if parts is None else parts
        return {p: (np.arange(self.editor.n_heads(p)) % self.editor.codebook_size(p)) for p in parts}


@pytest.fixture(scope="module")
def editor():
    torch.manual_seed(0)
    cfg = QPoserConfig.from_dict({**QPoserConfig().to_dict(), **CONFIGS["tiny"]["model"]})
    model = QPoser(cfg).eval()
    rng = np.random.default_rng(0)
    R = body_rotmats(rng.normal(scale=0.4, size=(64, 21, 3)).astype(np.float32))
    paths = compute_part_paths(model, R, n=6)
    return LatentEditor(model, paths)


@pytest.fixture
def panel(qapp, editor):
    from app.commands import Document
    from app.context import PanelContext
    from app.panels.latent import LatentPanel

    doc = Document()
    rng = np.random.default_rng(1)
    start = Pose(np.array([0.0, 0.5, 0.0], np.float32), rng.normal(scale=0.3, size=(21, 3)).astype(np.float32),
                 np.array([0.1, 0.9, 0.0], np.float32))
    doc.push_pose(start, "start")
    doc.undo_stack.clear()
    p = LatentPanel(PanelContext.for_document(doc), editor=editor)
    p.editor.prompter = None
    yield p
    p.deleteLater()


def _select(panel, g):
    panel.part_combo.setCurrentIndex(panel.part_combo.findData(g))


def _changed_joints(a: Pose, b: Pose) -> set[int]:
    d = np.abs(a.body_pose - b.body_pose).max(1)
    return {j + 1 for j in np.nonzero(d > 1e-6)[0]}


def _drag(slider, values):
    slider.sliderPressed.emit()
    slider.setSliderDown(True)
    for v in values:
        slider.setValue(v)
    slider.setSliderDown(False)
    slider.sliderReleased.emit()


def test_panel_registered_and_built(panel, editor):
    from app.panels import FEATURE_PANELS

    assert ("app.panels.latent", "LatentPanel", "Latent", "dock_latent", "right") in FEATURE_PANELS
    assert panel.part_combo.count() == 7
    _select(panel, "torso")
    assert len(panel.head_sliders) == editor.n_heads("torso")
    assert panel.head_sliders[0].maximum() == editor.codebook_size("torso") - 1
    assert panel.random_btn.isEnabled() and not panel.prompt_btn.isEnabled()  # no prompt model here


def test_head_slider_drag_moves_only_the_part_in_one_undo_step(panel, editor):
    doc = panel.doc
    _select(panel, "left_arm")
    start = doc.pose()
    s = panel.head_sliders[0]
    v0 = s.value()
    K = editor.codebook_size("left_arm")
    _drag(s, [(v0 + k) % K for k in range(1, 6)])
    after = doc.pose()
    assert doc.undo_stack.count() == 1
    changed = _changed_joints(start, after)
    assert changed and changed <= set(PART_JOINTS["left_arm"])
    assert np.array_equal(after.root_orient, start.root_orient) and np.array_equal(after.transl[[0, 2]],
                                                                                   start.transl[[0, 2]])
    assert abs(lowest_joint_y(after) - lowest_joint_y(start)) < 1e-5  # "Keep feet on the floor" (default on)
    assert panel.last_update_ms < 200
    doc.undo_stack.undo()
    assert doc.pose().allclose(start)
    # after undo the sliders show the codes of the restored pose again
    assert panel.head_sliders[0].value() == editor.slider_pos(editor.encode(start), "left_arm", 0)


def test_path_slider_and_global_code(panel, editor):
    doc = panel.doc
    _select(panel, "right_leg")
    start = doc.pose()
    target = (panel.path_slider.value() + 2) % (panel.path_slider.maximum() + 1)
    _drag(panel.path_slider, [target])
    assert _changed_joints(start, doc.pose()) <= set(PART_JOINTS["right_leg"])
    assert doc.undo_stack.count() == 1
    # the global code re-decodes every part
    _select(panel, "global")
    before = doc.pose()
    s = panel.head_sliders[0]
    _drag(s, [(s.value() + 1) % (s.maximum() + 1)])
    assert len(_changed_joints(before, doc.pose())) > 8
    assert doc.undo_stack.count() == 2


def test_resample_copy_and_lock(panel, editor):
    doc = panel.doc
    panel._rng = np.random.default_rng(3)
    _select(panel, "head")
    start = doc.pose()
    for _ in range(5):  # a resample may redraw the same codes; a few tries must change something
        panel.resample_part()
        if _changed_joints(start, doc.pose()):
            break
    assert _changed_joints(start, doc.pose()) <= set(PART_JOINTS["head"])
    # copy the torso from a reference
    ref = Pose(np.zeros(3, np.float32), np.full((21, 3), 0.4, np.float32))
    panel.add_reference("ref", ref)
    _select(panel, "torso")
    before = doc.pose()
    panel.copy_part()
    assert _changed_joints(before, doc.pose()) <= set(PART_JOINTS["torso"])
    assert "copy torso" in doc.undo_stack.text(doc.undo_stack.count() - 1).lower()
    # lock the left arm and the legs: random pose leaves them alone
    for g in ("left_arm", "left_leg", "right_leg"):
        panel.set_locked(g, True)
    assert "Left arm" in panel.locked_label.text()
    before = doc.pose()
    panel.random_pose()
    locked = set(PART_JOINTS["left_arm"]) | set(PART_JOINTS["left_leg"]) | set(PART_JOINTS["right_leg"])
    changed = _changed_joints(before, doc.pose())
    assert changed and not (changed & locked)
    panel.set_locked("left_arm", False)
    assert "Left arm" not in panel.locked_label.text()


def test_keep_feet_on_the_floor_toggle(panel, editor):
    """On (default): a latent edit moves the body vertically so that its lowest joint keeps its height; off: the
    translation is left exactly as it was."""
    doc = panel.doc
    _select(panel, "left_leg")
    for on in (True, False):
        panel.floor_box.setChecked(on)
        start = doc.pose()
        _drag(panel.path_slider, [(panel.path_slider.value() + 3) % (panel.path_slider.maximum() + 1)])
        end = doc.pose()
        assert _changed_joints(start, end)
        if on:
            assert abs(lowest_joint_y(end) - lowest_joint_y(start)) < 1e-5
        else:
            assert np.array_equal(end.transl, start.transl)


def test_interpolation_drag_is_one_step_and_reaches_the_reference(panel, editor):
    doc = panel.doc
    ref = Pose(np.zeros(3, np.float32), np.full((21, 3), -0.3, np.float32))
    panel.add_reference("target", ref)
    start = doc.pose()
    _drag(panel.interp_slider, [10, 40, 70, 100])
    assert doc.undo_stack.count() == 1
    end = doc.pose()
    expected = editor.interpolate(start, ref, 1.0)
    assert np.allclose(end.body_pose, expected, atol=1e-5)
    assert np.array_equal(end.transl[[0, 2]], start.transl[[0, 2]])
    assert abs(lowest_joint_y(end) - lowest_joint_y(start)) < 1e-5
    assert panel.interp_slider.value() == 0  # reset for the next interpolation
    doc.undo_stack.undo()
    assert doc.pose().allclose(start)


def test_prompt_sets_only_named_parts(panel, editor):
    doc = panel.doc
    panel.editor.prompter = _FakePrompter(editor)
    panel._set_enabled(True)
    assert panel.prompt_btn.isEnabled()
    start = doc.pose()
    panel.prompt_edit.setText("the left arm is raised")
    _prompt(panel)
    assert _changed_joints(start, doc.pose()) <= set(PART_JOINTS["left_arm"])
    assert "left arm" in panel.status.text() and panel.prompt_btn.isEnabled()
    assert doc.undo_stack.count() == 1
    # locked parts are not prompted
    panel.set_locked("right_leg", True)
    before = doc.pose()
    panel.prompt_edit.setText("the right knee is bent")
    _prompt(panel)
    assert doc.pose().allclose(before)
    assert "no unlocked body part" in panel.status.text()


def _prompt(panel):
    """Press Prompt and wait for the worker; the button is disabled while it reads."""
    from app.workers import wait_for

    panel.apply_prompt()
    job = panel._prompt_job
    assert job is not None and not panel.prompt_btn.isEnabled()
    wait_for(job)
    from _apptest_util import pump

    pump(until=lambda: panel._prompt_job is None)


def test_a_prompt_read_while_the_pose_changes_is_not_applied(panel, editor):
    """The prompt runs in a worker: if the user edits the pose before it returns, its result (computed for the old
    pose) is dropped with a message instead of overwriting the edit."""
    import threading

    doc = panel.doc
    gate = threading.Event()

    class SlowPrompter(_FakePrompter):
        def part_codes(self, text, parts=None):
            gate.wait(10)
            return super().part_codes(text, parts)

    panel.editor.prompter = SlowPrompter(editor)
    panel._set_enabled(True)
    panel.prompt_edit.setText("the left arm is raised")
    panel.apply_prompt()
    job = panel._prompt_job
    assert job is not None
    edited = doc.pose().copy()
    edited.body_pose[0] += 0.2
    doc.push_pose(edited, "user edit")
    gate.set()
    from _apptest_util import pump

    from app.workers import wait_for

    wait_for(job)
    pump(until=lambda: panel._prompt_job is None)
    assert doc.pose().allclose(edited) and "pose changed" in panel.status.text()


def test_main_window_latent_dock_with_shipped_weights(qapp, tmp_path):
    """The registered dock loads the shipped QPoser off the GUI thread when the user opens it (not at start-up)
    and a drag edits the window's pose."""
    from _apptest_util import RecordingDialogs, pump, tiny_body

    from app.main_window import MainWindow
    from app.viewport.fallback import FallbackViewport
    from core_models import settings as st
    from core_models.nets.common.weights import weights_dir

    if not (weights_dir() / "qposer.pt").exists():
        pytest.skip("shipped qposer weights not present")
    from core_models.services import ModelServices

    w = MainWindow(settings=st.defaults(), body=tiny_body(), viewport=FallbackViewport(), dialogs=RecordingDialogs(),
                   services=ModelServices())
    try:
        panel = w.feature_panels["dock_latent"]
        w.show()
        pump(0.3)
        assert panel.editor is None and not w.services._latent.loaded  # hidden dock: nothing loaded yet
        w.feature_docks["dock_latent"].raise_()
        assert pump(until=lambda: panel.editor is not None, timeout=60)
        _select(panel, "right_arm")
        start = w.doc.pose()
        s = panel.head_sliders[0]
        _drag(s, [(s.value() + k) % (s.maximum() + 1) for k in (1, 2, 3)])
        assert _changed_joints(start, w.doc.pose()) <= set(PART_JOINTS["right_arm"])
        assert w.doc.undo_stack.count() == 1
    finally:
        w.close()
        w.deleteLater()
