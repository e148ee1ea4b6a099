"""Text Edit panel: Enter applies the mean edit (undoable), history, notices, alternatives strip, strength."""
from __future__ import annotations

import numpy as np
import pytest
from _apptest_util import pump

from core_models import skeleton as sk
from core_models.pose import Pose, geodesic_deg
from core_models.session import poses_equal


@pytest.fixture(scope="module")
def services():
    import torch
    torch.set_num_threads(1)
    from core_models.services import ModelServices
    s = ModelServices()
    s.editor_with_encoder()  # load the shipped editor and MiniLM once for the module
    return s


@pytest.fixture
def panel(qapp, services):
    from app.commands import Document
    from app.context import PanelContext
    from app.panels.text_edit import TextEditPanel

    doc = Document()
    start = Pose(np.array([0, 0.5, 0], np.float32), np.zeros((21, 3), np.float32), np.array([0.2, 0.9, 0.1]))
    start.body_pose[sk.JOINT_INDEX["left_shoulder"] - 1] = [0, 0, -1.2]
    start.body_pose[sk.JOINT_INDEX["right_shoulder"] - 1] = [0, 0, 1.2]
    doc.push_pose(start, "start")
    doc.undo_stack.clear()
    p = TextEditPanel(PanelContext.for_document(doc, services=services))
    p.set_editor(services.editor())
    p.show()
    yield p, doc, start
    p.close()
    p.deleteLater()


def _wait(panel, timeout=30.0):
    pump(0.01)
    assert pump(until=lambda: not panel._busy, timeout=timeout)
    pump(0.01)


def test_enter_applies_mean_edit_and_undo_restores(panel):
    p, doc, start = panel
    p.input.setEditText("Raise your left arm.")
    p.input.lineEdit().returnPressed.emit()
    _wait(p)
    assert not poses_equal(doc.pose(), start)
    assert geodesic_deg(doc.pose().full(), start.full()).max() > 5
    assert np.allclose(doc.pose().transl, start.transl)  # keep global position (default)
    assert p.keep_global.isChecked()
    assert p.strip.count() == 8
    assert p.history()[0] == "Raise your left arm."
    doc.undo_stack.undo()
    assert poses_equal(doc.pose(), start)


def test_only_named_parts_checkbox(panel):
    p, doc, start = panel
    arm = [j - 1 for j in sk.BODY_PARTS["left_arm"]]
    others = [j for j in range(21) if j not in arm]
    assert p.hold_unnamed.isChecked()  # default: parts the text does not name stay put
    p.apply_text("Raise your left arm.")
    _wait(p)
    held = doc.pose()
    assert np.allclose(held.body_pose[others], start.body_pose[others], atol=1e-4)
    assert geodesic_deg(held.full(), start.full()).max() > 5
    doc.undo_stack.undo()
    p.hold_unnamed.setChecked(False)
    p.apply_text("Raise your left arm.")
    _wait(p)
    assert not np.allclose(doc.pose().body_pose[others], start.body_pose[others], atol=1e-3)


def test_nonsense_text_leaves_pose_with_notice(panel):
    p, doc, start = panel
    for text in ("", "blorp zzkx"):
        p.input.setEditText(text)
        p.apply_text()
        _wait(p)
        assert poses_equal(doc.pose(), start)
        assert "unchanged" in p.status.text()
    assert doc.undo_stack.count() == 0


def test_alternative_pick_and_strength_slider(panel):
    p, doc, start = panel
    p.apply_text("Bend your right knee.")
    _wait(p)
    mean = doc.pose().copy()
    item = p.strip.item(2)
    p._on_pick(item)
    assert not poses_equal(doc.pose(), mean)
    assert doc.undo_stack.count() == 2
    p.strength.setValue(0)  # blend back to the pose before the edit, merged into one undo step
    assert geodesic_deg(doc.pose().full(), start.full()).max() < 1e-2
    p.strength.setValue(50)
    assert doc.undo_stack.count() == 3
    d = geodesic_deg(doc.pose().full(), start.full()).mean()
    assert d > 0.1
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert poses_equal(doc.pose(), start)


def test_panel_registered():
    from app.panels import FEATURE_PANELS
    assert any(m == "app.panels.text_edit" and c == "TextEditPanel" and area == "right"
               for m, c, _t, _n, area in FEATURE_PANELS)


def test_long_sentence_shows_each_clause_ignored_words_and_unused_reason(panel):
    """Before: the panel sent the raw sentence to the editor and said only "N clause(s)"; a clause it could not
    use vanished silently. Now every clause is listed as understood, ignored words are struck through in the
    echo and an unusable clause is listed with its reason; the edit is still one undo step."""
    p, doc, start = panel
    text = ("ok so please bend your right knee about 30 degrees, keep your left leg where it is, "
            "sing a little song and raise your left arm lol")
    p.apply_text(text)
    _wait(p)
    rows = p.understood_rows()
    by_status = {s: [r for r in rows if r.status == s] for s in ("action", "hold", "unused")}
    knee = next(r for r in by_status["action"] if r.part == "knee")
    assert knee.side == "right" and knee.change == "bend" and knee.amount == "30°"
    arm = next(r for r in by_status["action"] if r.part == "arm")
    assert arm.side == "left" and arm.change == "raise"
    assert [r.part for r in by_status["hold"]] == ["left leg"]
    assert len(by_status["unused"]) == 1 and "sing" in by_status["unused"][0].text
    assert by_status["unused"][0].change.startswith("not used: ")
    assert len(rows) == 4 and p.table.rowCount() == 3  # the understood clauses; the unusable one below
    assert [p.table.item(r, 1).text() for r in range(3)] == ["knee", "left leg", "arm"]
    assert p.unused.isVisibleTo(p) and "sing a little song" in p.unused.text()
    assert "no body part or movement" in p.unused.text()
    html = p.echo.text()
    assert 'line-through;">please</span>' in html and 'line-through;">lol</span>' in html
    assert 'underline;">sing</span>' in html
    assert "1 not used" in p.status.text()
    assert doc.undo_stack.count() == 1 and p.strip.count() == 8
    left_leg = list(sk.BODY_PARTS["left_leg"])
    assert geodesic_deg(doc.pose().full(), start.full())[left_leg].max() <= 5.0  # the hold clause
    doc.undo_stack.undo()
    assert poses_equal(doc.pose(), start)


def test_nonsense_lists_the_unusable_clause_and_keeps_the_pose(panel):
    p, doc, start = panel
    p.apply_text("blorp zzkx")
    _wait(p)
    rows = p.understood_rows()
    assert [r.status for r in rows] == ["unused"] and rows[0].change.startswith("not used: ")
    assert not p.table.isVisibleTo(p) and "blorp zzkx" in p.unused.text()
    assert "unchanged" in p.status.text() and poses_equal(doc.pose(), start)
    assert doc.undo_stack.count() == 0
    p.apply_text("")  # empty: today's notice, nothing listed, nothing pushed
    _wait(p)
    assert p.understood_rows() == [] and "No instruction given" in p.status.text()
    assert not p.unused.isVisibleTo(p) and not p.table.isVisibleTo(p)
    assert doc.undo_stack.count() == 0


def test_clause_the_editor_cannot_do_is_reported_and_the_pose_kept(panel):
    """Both arms hanging (1.45 rad from T; the fixture's 1.2 rad leaves a few centimetres to lower, which a
    good editor may use): "lower your left arm" moves nothing the asked way. The clause is listed as not used
    with the editor's reason, the pose is unchanged and nothing is pushed."""
    p, doc, start = panel
    start = start.copy()
    start.body_pose[sk.JOINT_INDEX["left_shoulder"] - 1] = [0, 0, -1.45]
    start.body_pose[sk.JOINT_INDEX["right_shoulder"] - 1] = [0, 0, 1.45]
    doc.push_pose(start, "start")
    doc.undo_stack.clear()
    p.apply_text("lower your left arm")
    _wait(p)
    rows = p.understood_rows()
    assert [r.status for r in rows] == ["unused"] and "could not" in rows[0].change
    assert "lower your left arm" in p.unused.text() and "unchanged" in p.status.text()
    assert poses_equal(doc.pose(), start) and doc.undo_stack.count() == 0


def test_panel_uses_the_services_sentence_composer(panel, monkeypatch):
    """The panel's edits go through services.edit_sentence (the shipped composition), with the panel's
    options."""
    p, doc, start = panel
    seen = []
    real = p.ctx.services.edit_sentence

    def spy(pose, text, **kw):
        seen.append((text, kw))
        return real(pose, text, **kw)

    monkeypatch.setattr(p.ctx.services, "edit_sentence", spy)
    p.samples.setValue(3)
    p.apply_text("raise your left arm and bend your right knee")
    _wait(p)
    assert seen == [("raise your left arm and bend your right knee",
                     {"hold": True, "n_samples": 3, "keep_global": True, "seed": 0})]
    assert p.strip.count() == 3 and len([r for r in p.understood_rows() if r.status == "action"]) == 2
