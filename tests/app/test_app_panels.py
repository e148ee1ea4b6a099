"""Properties / body panels + Document + undo (non-GL widgets, offscreen without a display)."""
from __future__ import annotations

import numpy as np
import pytest
from _apptest_util import pump

from core_models import kinematics as kin
from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix, euler_to_aa, mirror
from core_models.session import poses_equal

ELBOW = sk.JOINT_INDEX["left_elbow"]
SHOULDER = sk.JOINT_INDEX["left_shoulder"]
WRIST = sk.JOINT_INDEX["left_wrist"]


@pytest.fixture
def setup(qapp):
    from app.commands import Document
    from app.panels.properties import PropertiesPanel

    doc = Document()
    panel = PropertiesPanel()
    panel.poseEdited.connect(lambda new, text, key: doc.push_pose(new, text, key))
    doc.poseChanged.connect(panel.set_pose)
    panel.show()
    yield doc, panel
    panel.close()
    panel.deleteLater()


def _start_pose() -> Pose:
    rng = np.random.default_rng(3)
    p = Pose(rng.normal(0, 0.2, 3), rng.normal(0, 0.15, (21, 3)), [0.1, 0.0, -0.2])
    return p


def _fk(pose: Pose) -> np.ndarray:
    return kin.fk_numpy(aa_to_matrix(pose.full().astype(np.float64)), sk.DEFAULT_REST_JOINTS)[1]


def test_fk_edit_through_panel_and_undo_redo_exact(setup):
    doc, panel = setup
    start = _start_pose()
    doc.push_pose(start, "start")
    doc.undo_stack.clear()
    doc.undo_stack.setClean()
    panel.set_selected_joint(ELBOW)
    assert panel.spins[1].isEnabled()
    e0 = panel._euler[ELBOW].copy()
    panel.spins[1].setValue(-60.0)  # elbow flexion (left elbow: -y)
    edited = doc.pose()
    expected = np.asarray(euler_to_aa(np.array([e0[0], -60.0, e0[2]])), np.float32)
    assert np.allclose(edited.joint_aa(ELBOW), expected, atol=1e-6)
    # only the elbow changed; FK moves the wrist and nothing above the elbow
    assert np.array_equal(np.delete(edited.full(), ELBOW, 0), np.delete(start.full(), ELBOW, 0))
    J0, J1 = _fk(start), _fk(edited)
    assert np.linalg.norm(J1[WRIST] - J0[WRIST]) > 0.05
    assert np.allclose(J1[:WRIST - 2], J0[:WRIST - 2])
    assert doc.undo_stack.count() == 1 and doc.is_dirty()
    doc.undo_stack.undo()
    assert poses_equal(doc.pose(), start) and poses_equal(panel.pose(), start)
    assert not doc.is_dirty()
    doc.undo_stack.redo()
    assert poses_equal(doc.pose(), edited)
    assert panel.spins[1].value() == pytest.approx(-60.0)


def test_slider_drag_is_one_undo_step(setup):
    doc, panel = setup
    start = doc.pose()
    panel.set_selected_joint(SHOULDER)
    s = panel.sliders[2]
    s.setSliderDown(True)  # emits sliderPressed, like a mouse press on the handle
    for v in range(0, -600, -50):  # drag Z from 0° to -55° in 12 steps
        s.setValue(v)
    s.setSliderDown(False)
    assert doc.undo_stack.count() == 1
    dragged = doc.pose()
    assert np.degrees(np.linalg.norm(dragged.joint_aa(SHOULDER))) == pytest.approx(55.0, abs=0.01)
    # a second drag is a second step
    s.setSliderDown(True)
    s.setValue(-300)
    s.setValue(-200)
    s.setSliderDown(False)
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    assert poses_equal(doc.pose(), dragged)
    doc.undo_stack.undo()
    assert poses_equal(doc.pose(), start)


def test_drag_back_to_start_leaves_no_step(setup):
    doc, panel = setup
    panel.set_selected_joint(SHOULDER)
    s = panel.sliders[0]
    s.setSliderDown(True)
    s.setValue(100)
    s.setValue(0)
    s.setSliderDown(False)
    assert doc.undo_stack.count() == 0 or not doc.undo_stack.canUndo()


def test_mirror_reset_joint_reset_pose(setup):
    doc, panel = setup
    start = _start_pose()
    doc.push_pose(start, "start")
    n = doc.undo_stack.count()
    panel.mirror_button.click()
    assert poses_equal(doc.pose(), mirror(start))
    panel.mirror_button.click()
    assert doc.pose().allclose(start, atol=1e-6)
    panel.set_selected_joint(ELBOW)
    panel.reset_joint_button.click()
    assert np.all(doc.pose().joint_aa(ELBOW) == 0)
    panel.reset_pose_button.click()
    p = doc.pose()
    assert np.all(p.body_pose == 0)
    assert np.array_equal(p.root_orient, start.root_orient) and np.array_equal(p.transl, start.transl)
    assert doc.undo_stack.count() == n + 4
    for _ in range(4):
        doc.undo_stack.undo()
    assert poses_equal(doc.pose(), start)


def test_limits_toggle_changes_ranges(setup):
    doc, panel = setup
    panel.set_selected_joint(sk.JOINT_INDEX["left_knee"])
    lo, hi = sk.JOINT_LIMITS_DEG[sk.JOINT_INDEX["left_knee"], 0]
    assert (panel.spins[0].minimum(), panel.spins[0].maximum()) == (lo, hi)
    seen = []
    panel.limitsToggled.connect(seen.append)
    panel.limits_check.setChecked(False)
    assert (panel.spins[0].minimum(), panel.spins[0].maximum()) == (-180.0, 180.0)
    assert panel.sliders[0].maximum() == 1800 and seen == [False]
    # root is always free
    panel.limits_check.setChecked(True)
    panel.set_selected_joint(0)
    assert panel.spins[1].maximum() == 180.0


def test_root_translation_spin_and_tree_selection(setup):
    doc, panel = setup
    panel.transl_spins[1].setValue(0.25)
    assert doc.pose().transl[1] == pytest.approx(0.25)
    got = []
    panel.jointSelected.connect(got.append)
    panel.tree.setCurrentItem(panel._items[WRIST])
    assert got == [WRIST] and panel.selected_joint() == WRIST


def test_out_of_limit_pose_is_shown_not_changed(setup):
    doc, panel = setup
    knee = sk.JOINT_INDEX["left_knee"]
    p = Pose.zeros().with_joint(knee, np.radians([-60.0, 0, 0]).astype(np.float32))  # hyperextended
    doc.push_pose(p, "bad knee")
    panel.set_selected_joint(knee)
    assert "Outside" in panel.limit_label.text()
    assert poses_equal(doc.pose(), p)  # showing a clamped slider never edits the pose
    assert doc.undo_stack.count() == 1


def test_keyframe_and_phenotype_commands(qapp):
    from app.commands import Document
    from app.panels.body import BodyPanel

    doc = Document()
    doc.add_keyframe()
    doc.push_pose(_start_pose(), "x")
    doc.add_keyframe("second")
    assert [k.name for k in doc.keyframes] == ["Key 1", "second"]
    doc.remove_keyframe(0)
    assert [k.name for k in doc.keyframes] == ["second"]
    doc.undo_stack.undo()
    assert [k.name for k in doc.keyframes] == ["Key 1", "second"]
    body = BodyPanel()
    body.phenotypeEdited.connect(doc.set_phenotype)
    doc.phenotypeChanged.connect(body.set_phenotype)
    s = body.sliders["height"]
    s.setSliderDown(True)
    s.setValue(80)
    s.setSliderDown(False)  # release commits
    assert doc.phenotype["height"] == pytest.approx(0.8)
    doc.undo_stack.undo()
    assert doc.phenotype["height"] == 0.5 and body.sliders["height"].value() == 50
    body.sliders["weight"].setValue(70)  # keyboard-like change: committed after a short pause
    assert pump(until=lambda: doc.phenotype["weight"] == pytest.approx(0.7), timeout=3)
    body.deleteLater()


def test_worker_result_error_progress(qapp):
    from app.workers import run_in_background, wait_for

    got, errs, prog = [], [], []

    def job(n, progress):
        for i in range(n):
            progress(int(100 * (i + 1) / n), f"step {i}")
        return n * 2

    w = run_in_background(job, 3, on_result=got.append, on_progress=lambda p, m: prog.append(p))
    wait_for(w)
    assert got == [6] and prog[-1] == 100

    def bad():
        raise ValueError("nope")

    w = run_in_background(bad, on_error=errs.append)
    wait_for(w)
    assert isinstance(errs[0], ValueError) and "nope" in errs[0].traceback_text


_SLIDER_PROBE = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.commands import Document
from app.panels.properties import PropertiesPanel
doc = Document()
panel = PropertiesPanel()
panel.poseEdited.connect(lambda new, text, key: doc.push_pose(new, text, key))
doc.poseChanged.connect(panel.set_pose)
panel.set_selected_joint(16)
panel.sliders[2].setValue(-300)
assert doc.undo_stack.count() == 1, doc.undo_stack.count()
print("TORCH_LOADED" if "torch" in sys.modules else "NO_TORCH")
"""


def test_moving_a_joint_slider_does_not_wait_for_torch():
    """Right after start the models (and torch) load in the background: a slider move must not need them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _SLIDER_PROBE], cwd=root, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("NO_TORCH")
