"""edit_sentence with the real shipped editor: the named joint moves the asked way, held parts stay put,
unusable text is refused with a notice and nothing moves."""
from __future__ import annotations

import numpy as np
import pytest

from core_models.text.compose import edit_sentence, rewrite, schedule, swap_sides
from core_models.text.measures import PoseFrame, measure, part_rotation_change_deg
from core_models.text.parse import Action
from core_models.text.phrasing_eval import resolve_start


@pytest.fixture(scope="module")
def editor():
    import torch

    from core_models.nets.editor import load_editor

    torch.set_num_threads(1)
    return load_editor()


def _change(start, edited, part: str, kind: str) -> float:
    return measure(PoseFrame(edited), part, kind) - measure(PoseFrame(start), part, kind)


@pytest.mark.parametrize("start, text, part, kind, sign, still", [
    ("Mountain", "Raise your left arm but keep your right arm where it is.", "left_wrist", "height", 1,
     ["right_arm"]),
    ("Mountain", "bend yor rigth knee and don't move your left leg", "right_knee", "flexion", 1, ["left_leg"]),
    ("T-pose", "Lower your left arm. Keep the other one where it is.", "left_wrist", "height", -1, ["right_arm"]),
    ("Chair", "Straighten your left leg, keep the right one bent.", "left_knee", "flexion", -1, ["right_leg"]),
    ("Mountain", "scoot your left foot out about six inches", "left_ankle", "sideways", 1, []),
    ("Lunge", "Straighten the front knee, don't touch the back leg.", "left_knee", "flexion", -1, ["right_leg"]),
])
def test_named_joint_moves_the_asked_way_and_held_parts_stay(editor, start, text, part, kind, sign, still):
    pose = resolve_start(start)
    res = edit_sentence(editor, pose, text)
    assert not res.refused, res.notice
    assert sign * _change(pose, res.pose, part, kind) >= (15.0 if kind == "flexion" else 0.05)
    for held in still:
        assert part_rotation_change_deg(pose, res.pose, held) <= 5.0, held
    assert res.understood and all(c["text"] for c in res.understood)


def test_five_clause_sentence_realises_each_clause(editor):
    pose = resolve_start("Mountain")
    text = ("Raise your left knee up to hip height, then extend your right arm forward, then raise your left arm "
            "up to the ceiling, bend your right elbow and finally lean back slightly.")
    res = edit_sentence(editor, pose, text)
    assert _change(pose, res.pose, "left_knee", "height") >= 0.10
    assert _change(pose, res.pose, "right_wrist", "forward") >= 0.10
    assert _change(pose, res.pose, "left_wrist", "height") >= 0.10
    assert _change(pose, res.pose, "right_elbow", "flexion") >= 15.0
    assert _change(pose, res.pose, "torso", "flexion") <= -3.0
    assert len([c for c in res.understood if c["role"] == "action"]) == 5


def test_measured_amount_sets_the_size(editor):
    pose = resolve_start("Mountain")
    small = edit_sentence(editor, pose, "Bend your right knee about 20 degrees.").pose
    big = edit_sentence(editor, pose, "Bend your right knee about 70 degrees.").pose
    s, b = _change(pose, small, "right_knee", "flexion"), _change(pose, big, "right_knee", "flexion")
    assert 10.0 <= s <= 35.0 and b >= 55.0


@pytest.mark.parametrize("text", ["", "hello there", "x" * 3000])
def test_unusable_text_is_refused_and_pose_unchanged(editor, text):
    pose = resolve_start("T-pose")
    res = edit_sentence(editor, pose, text)
    assert res.refused and res.notice
    assert np.allclose(res.pose.full(), pose.full())


def test_unused_clause_is_reported(editor):
    res = edit_sentence(editor, resolve_start("Mountain"), "Raise your left arm and sing a song")
    assert [u["text"] for u in res.unused] == ["sing a song"]
    assert res.unused[0]["reason"]


@pytest.mark.parametrize("strategy", ["whole", "rewrite", "clauses"])
def test_every_strategy_runs(editor, strategy):
    pose = resolve_start("Mountain")
    res = edit_sentence(editor, pose, "Raise your left arm and bend your right knee", strategy=strategy)
    assert res.strategy == strategy and _change(pose, res.pose, "left_wrist", "height") > 0.05


def test_rewrite_and_helpers():
    assert rewrite("foot", ("left",), Action("sideways", 0)) == "move your left foot away from your body"
    assert rewrite("knee", ("left", "right"), Action("flexion", 1), "slight") == "bend both knees slightly"
    assert rewrite("head", (), Action("turn", -1)) == "turn your head to the right"
    assert swap_sides("raise your left hand, bend the right knee") == "raise your right hand, bend the left knee"


def test_schedule_keeps_steps_on_one_part_in_order():
    class S:  # a stand-in with the only attribute schedule reads
        def __init__(self, joints):
            self.joints = joints
    a, b, c = S([1, 2]), S([3]), S([2])
    rounds = schedule([a, b, c])  # type: ignore[list-item]
    assert rounds == [[a, b], [c]]


def test_warm_up_encodes_every_rewrite(editor):
    from core_models.text.compose import all_rewrites, warm_up

    texts = all_rewrites()
    assert "raise your left hand" in texts and "move your feet apart" in texts
    assert warm_up(editor) >= len(texts)
    assert all(t in editor._cache for t in texts)  # the shipped editor's clause-encoding cache


def test_above_your_head_ends_above_the_head(editor):
    """"Raise your left arm above your head" is a goal: the default raise stops at shoulder height."""
    start = resolve_start("mountain")
    out = edit_sentence(editor, start, "Raise your left arm above your head.")
    f = PoseFrame(out.pose)
    assert measure(f, "left_wrist", "height") > measure(f, "head", "height")
    plain = edit_sentence(editor, start, "raise your left arm")
    assert measure(out.pose, "left_wrist", "height") > measure(plain.pose, "left_wrist", "height") + 0.1
