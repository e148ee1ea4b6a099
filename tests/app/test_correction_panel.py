"""Correction panel: texts computed off the GUI thread for current pose → library pose, joint highlight in
the viewport, copy, apply (through a stand-in editor) as one undoable edit, registration."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from _apptest_util import pump

torch.set_num_threads(1)


class _Viewport:
    def __init__(self):
        self.colors = None
        self.calls = 0

    def set_joint_colors(self, colors):
        self.colors = dict(colors)
        self.calls += 1


@pytest.fixture(scope="module")
def services():
    """One set of model services for the module (the shipped corrector loads once)."""
    from core_models.services import ModelServices

    return ModelServices()


@pytest.fixture
def panel(qapp, services):
    from app.commands import Document
    from app.context import PanelContext
    from app.panels.correction import CorrectionPanel
    from core_models.library import load_builtin

    doc = Document()
    lib = {p.slug: p.pose for p in load_builtin()}
    doc.push_pose(lib["mountain"].copy(), "start")
    w = PanelContext.for_document(doc, viewport=_Viewport(), services=services)
    p = CorrectionPanel(w)
    p.show()
    yield p, w, lib
    p.close()
    p.deleteLater()


def _wait_result(p, timeout=60):
    return pump(until=lambda: p.rules_text.toPlainText() != "" and not p.busy and not p._timer.isActive(),
                timeout=timeout)


def test_registered_as_left_feature_panel():
    from app.panels import FEATURE_PANELS

    assert ("app.panels.correction", "CorrectionPanel", "Correction", "dock_correction", "left") in FEATURE_PANELS


def test_current_pose_to_tree_texts_highlight_and_copy(panel):
    p, w, lib = panel
    assert p.combo_a.currentData() == "current"
    assert p.select(p.combo_b, "tree")
    p.compare()
    assert _wait_result(p)
    rules = p.rules_text.toPlainText()
    assert rules and not rules.startswith("No change")
    learned = p.learned_text.toPlainText()
    # the shipped corrector weights exist: the learned coach must answer (not "unavailable")
    assert learned and "unavailable" not in learned and p.copy_learned.isEnabled() and p.apply_learned.isEnabled()
    assert learned != rules and not learned.startswith("No change")
    # tree lifts one leg: a leg joint is highlighted in the viewport, the largest one in red
    cols = w.viewport.colors
    from core_models import skeleton as sk

    names = {sk.JOINT_NAMES[j] for j in cols}
    assert names & {"left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot"}
    assert any(c == (1.0, 0.0, 0.1) for c in cols.values())
    assert "Differs most" in p.joints_label.text()
    # highlight off clears the viewport colours
    p.highlight.setChecked(False)
    assert w.viewport.colors == {}
    p.highlight.setChecked(True)
    assert w.viewport.colors == cols
    p.copy_text(rules)
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == rules


def test_same_pose_gives_no_change(panel):
    p, w, lib = panel
    assert p.select(p.combo_b, "mountain")
    p.compare()
    assert _wait_result(p)
    assert p.rules_text.toPlainText().startswith("No change")
    assert p.copy_learned.isEnabled()  # the learned coach is available with the shipped weights
    assert p.learned_text.toPlainText().startswith("No change")
    assert w.viewport.colors == {}


def test_mirror_b_swaps_sides_of_the_rule_text(panel):
    from core_models.captioning.textutil import flip_text

    p, w, lib = panel
    p.select(p.combo_b, "warrior_ii")
    p.compare()
    assert _wait_result(p)
    t = p.rules_text.toPlainText()
    p.rules_text.setPlainText("")
    p.mirror_b.setChecked(True)  # mountain is symmetric: mirroring B mirrors the pair
    p.compare()
    assert _wait_result(p)
    assert p.rules_text.toPlainText() == flip_text(t)


def test_apply_pushes_one_undoable_edit(panel, monkeypatch):
    from core_models.pose import Pose

    p, w, lib = panel
    seen = {}

    def fake_apply(a, text):
        seen["text"] = text
        return Pose(a.root_orient, a.body_pose + 0.1, a.transl)

    monkeypatch.setattr(w.services, "edit_with_text", fake_apply)
    p.select(p.combo_b, "tree")
    p.compare()
    assert _wait_result(p)
    assert p.apply_rules.isEnabled()
    before = w.document.pose()
    p.apply_rules.click()
    assert pump(until=lambda: "Applied" in p.status.text(), timeout=30)
    assert seen["text"] == p.rules_text.toPlainText()
    assert np.allclose(w.document.pose().body_pose, before.body_pose + 0.1)
    w.document.undo_stack.undo()
    assert np.allclose(w.document.pose().body_pose, before.body_pose)
    # A that is not the current pose cannot be applied to the document
    p.select(p.combo_a, "chair")
    p.compare()
    assert _wait_result(p)
    assert not p.apply_rules.isEnabled()


def test_apply_without_editor_reports(panel, monkeypatch):
    from core_models.services import ModelServices

    p, w, lib = panel

    def missing():
        raise RuntimeError("the 'editor' model weights are missing")

    monkeypatch.setattr(w, "services", ModelServices(loaders={"editor": missing, "corrector": w.services.corrector}))
    p.select(p.combo_b, "tree")
    p.compare()
    assert _wait_result(p)
    before = w.document.pose()
    p.apply_rules.click()
    assert pump(until=lambda: "Cannot apply" in p.status.text(), timeout=30)
    assert "the text editor is unavailable (the 'editor' model weights are missing)" in p.status.text()
    assert np.array_equal(w.document.pose().body_pose, before.body_pose)


def test_highlight_colors_function():
    from app.panels.correction import joint_highlight_colors

    d = np.zeros(22)
    d[4], d[7], d[10] = 0.30, 0.15, 0.01
    c = joint_highlight_colors(d)
    assert set(c) == {4, 7}
    assert c[4] == (1.0, 0.0, 0.1) and c[7][1] > 0.3
    assert joint_highlight_colors(np.zeros(22)) == {}


class _FakeEditor:
    """A stand-in editor: moves every body joint by 0.05 rad, counts its calls."""

    encoder = None

    def __init__(self):
        self.calls = []

    def edit(self, pose, text, n_samples=0, **kw):
        from types import SimpleNamespace

        from core_models.pose import Pose

        self.calls.append(text)
        moved = Pose(pose.root_orient, pose.body_pose + 0.05, pose.transl)
        return SimpleNamespace(mean=moved, samples=Pose(moved.root_orient[None], moved.body_pose[None],
                                                        moved.transl[None]), notice=None, clauses=[text])


def test_correction_and_text_edit_share_one_editor_from_the_services(qapp, services):
    """Before: the Correction panel kept its own editor in an unlocked module-level cache (a second editor
    per process, filled from worker threads). Now both panels use the services' one editor."""
    from app.commands import Document
    from app.context import PanelContext
    from app.panels.correction import CorrectionPanel
    from app.panels.text_edit import TextEditPanel
    from core_models.services import ModelServices

    made = []

    def load():
        made.append(_FakeEditor())
        return made[-1]

    shared = ModelServices(loaders={"editor": load, "corrector": services.corrector})
    doc = Document()
    ctx = PanelContext.for_document(doc, services=shared)
    corr, text = CorrectionPanel(ctx), TextEditPanel(ctx)
    try:
        corr.select(corr.combo_b, "tree")
        corr.compare()
        assert _wait_result(corr)
        corr.apply_rules.click()
        assert pump(until=lambda: "Applied" in corr.status.text(), timeout=30), corr.status.text()
        text.apply_text("raise your left arm")
        assert pump(until=lambda: "Applied" in text.status.text(), timeout=30), text.status.text()
        assert len(made) == 1 and len(made[0].calls) == 2  # one editor, used by both panels
        assert doc.undo_stack.count() == 2
        doc.undo_stack.undo()
        doc.undo_stack.undo()
        assert np.allclose(doc.pose().body_pose, 0)
    finally:
        corr.deleteLater()
        text.deleteLater()
