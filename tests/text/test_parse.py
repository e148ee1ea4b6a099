"""Sentence understanding: clauses, sides, holds, magnitudes with units, references, typos, refusals."""
from __future__ import annotations

import pytest

from core_models.text.parse import correct_word, normalise, parse_sentence


def _actions(text: str) -> list[tuple]:
    """(part, sides, [(measure, direction)]) per action clause."""
    return [(c.part, c.sides, [(a.kind, a.direction) for a in c.actions]) for c in parse_sentence(text).actions]


@pytest.mark.parametrize("text, expected", [
    ("Raise your left arm.", [("arm", ("left",), [("height", 1)])]),
    ("bend the right knee", [("knee", ("right",), [("flexion", 1)])]),
    ("Lower both arms.", [("arm", ("left", "right"), [("height", -1)])]),
    ("Straighten your legs", [("leg", ("left", "right"), [("flexion", -1)])]),
    ("Step back with your right foot.", [("foot", ("right",), [("forward", -1)])]),
    ("Turn your head to the left.", [("head", (), [("turn", 1)])]),
    ("Look to your right", [("head", (), [("turn", -1)])]),
    ("look down at the floor", [("head", (), [("flexion", 1)])]),
    ("Lean forward.", [("torso", (), [("flexion", 1)])]),
    ("Twist your torso to the right.", [("torso", (), [("turn", -1)])]),
    ("Move your right foot out to the right.", [("foot", ("right",), [("sideways", -1)])]),
    ("Take your left arm out to the side.", [("arm", ("left",), [("sideways", 0)])]),
])
def test_single_commands(text, expected):
    assert _actions(text) == expected


def test_sides_are_the_bodys_own_and_per_clause():
    got = _actions("Raise your right arm, then bend your left knee and turn your head to the right")
    assert got == [("arm", ("right",), [("height", 1)]), ("knee", ("left",), [("flexion", 1)]),
                   ("head", (), [("turn", -1)])]


def test_subject_is_not_the_object_of_a_preposition():
    assert _actions("Raise your left arm above your head")[0][:2] == ("arm", ("left",))
    assert _actions("Lift your right knee up toward your chest")[0][:2] == ("knee", ("right",))


@pytest.mark.parametrize("text, held", [
    ("Raise your left arm but keep your right arm where it is.", {"right_arm"}),
    ("Bend your right knee and don't move your left leg.", {"left_leg"}),
    ("Lift your right arm up, leave the left one alone.", {"left_arm"}),
    ("Keep your legs exactly as they are and raise both arms.", {"left_leg", "right_leg"}),
    ("Lower just the right arm, the left arm stays up.", {"left_arm"}),
    ("Without moving your legs, twist your upper body to the left.", {"left_leg", "right_leg"}),
    ("Turn your head to the right and keep everything else still.", {"rest"}),
])
def test_hold_clauses(text, held):
    ps = parse_sentence(text)
    assert ps.held_parts == held
    assert ps.actions, text


@pytest.mark.parametrize("text, amount, unit", [
    ("Lift your left foot about 6 inches off the floor.", 6 * 0.0254, "m"),
    ("Step your right foot forward a foot or so.", 0.3048, "m"),
    ("Move your left foot out about 20 cm to the left.", 0.20, "m"),
    ("Step your left foot forwards about half a metre.", 0.5, "m"),
    ("Turn your head 45 degrees to the right.", 45.0, "deg"),
    ("Bend your head down 30°.", 30.0, "deg"),
    ("Lift your right heel an inch.", 0.0254, "m"),
    ("Step your left foot forward 2 ft", 2 * 0.3048, "m"),
])
def test_magnitudes_with_units(text, amount, unit):
    c = parse_sentence(text).actions[0]
    assert c.amount == pytest.approx(amount)
    assert c.unit == unit


def test_absolute_targets_and_size_words():
    c = parse_sentence("Bend your left elbow to 90 degrees.").actions[0]
    assert (c.amount, c.unit, c.absolute) == (90.0, "deg", True)
    c = parse_sentence("The right elbow should be bent at a right angle.").actions[0]
    assert (c.amount, c.absolute) == (90.0, True)
    assert parse_sentence("Bend your right knee a little.").actions[0].degree == "slight"
    assert parse_sentence("Bend your knees a lot.").actions[0].degree == "large"
    assert parse_sentence("Lift your left foot about 6 inches.").actions[0].degree == "normal"
    assert parse_sentence("Lift your left foot 1 inch.").actions[0].degree == "slight"


def test_a_foot_as_a_unit_is_not_the_body_part():
    c = parse_sentence("Lift your left knee about a foot higher.").actions[0]
    assert (c.part, c.amount) == ("knee", pytest.approx(0.3048))


@pytest.mark.parametrize("text, expected", [
    ("Lift your left knee and then bend that same leg a bit more.",
     [("knee", ("left",), [("height", 1)]), ("leg", ("left",), [("flexion", 1)])]),
    ("Raise your right arm, then bend it at the elbow.",
     [("arm", ("right",), [("height", 1)]), ("arm", ("right",), [("flexion", 1)])]),
    ("Bend your left knee, then do the same with the other one.",
     [("knee", ("left",), [("flexion", 1)]), ("knee", ("right",), [("flexion", 1)])]),
    ("Raise your left arm. Now the other one too.",
     [("arm", ("left",), [("height", 1)]), ("arm", ("right",), [("height", 1)])]),
    ("Bend your right elbow; same thing with the left.",
     [("elbow", ("right",), [("flexion", 1)]), ("elbow", ("left",), [("flexion", 1)])]),
    ("Lift your right arm to the side, and lift the opposite knee.",
     [("arm", ("right",), [("height", 1), ("sideways", 0)]), ("knee", ("left",), [("height", 1)])]),
])
def test_references(text, expected):
    assert _actions(text) == expected


def test_hold_with_reference_to_the_other_side():
    ps = parse_sentence("Lower your left arm. Keep the other one where it is.")
    assert ps.held_parts == {"right_arm"}


def test_relative_legs_are_left_for_the_pose():
    c = parse_sentence("Straighten the front leg").actions[0]
    assert c.relative == "front"
    c = parse_sentence("Bend your standing knee 20 degrees.").actions[0]
    assert c.relative == "standing"


@pytest.mark.parametrize("typo, fixed", [("rigth", "right"), ("lefft", "left"), ("elbw", "elbow"),
                                         ("forwrd", "forward"), ("strighten", "straighten"), ("liftt", "lift")])
def test_typos_in_part_side_direction_words(typo, fixed):
    assert correct_word(typo) == fixed


def test_known_words_are_not_corrected():
    assert correct_word("angle") == "angle"
    assert correct_word("higher") == "higher"
    assert normalise("bend ur rite knee") == ["bend", "your", "right", "knee"]


def test_casual_run_on_sentence_is_split():
    assert _actions("step left foot forward bend the knee look down") == [
        ("foot", ("left",), [("forward", 1)]), ("knee", ("left",), [("flexion", 1)]), ("head", (), [("flexion", 1)])]
    assert _actions("right arm up left arm out front") == [
        ("arm", ("right",), [("height", 1)]), ("arm", ("left",), [("forward", 1)])]


def test_descriptive_and_too():
    assert _actions("Your left arm should be higher.") == [("arm", ("left",), [("height", 1)])]
    assert _actions("Your knees are bent too much") == [("knee", ("left", "right"), [("flexion", -1)])]


def test_goal_tail_fills_a_missing_direction_only():
    assert _actions("Turn your head so that you are looking over your right shoulder.") == [
        ("head", (), [("turn", -1)])]
    assert _actions("Raise your left arm until your hand is above your head.") == [
        ("arm", ("left",), [("height", 1)])]


@pytest.mark.parametrize("text", ["", "   ", "hello there", "asdf qwerty zxcv", "make it nicer", "12345"])
def test_nonsense_and_empty_are_refused_with_a_notice(text):
    ps = parse_sentence(text)
    assert not ps.actions
    assert ps.notice and "unchanged" in ps.notice


def test_very_long_text_is_refused_without_crash():
    ps = parse_sentence("raise your left arm and " * 400)
    assert not ps.actions
    assert "too long" in (ps.notice or "")


def test_many_clauses_are_capped_and_reported():
    ps = parse_sentence(", ".join(["bend your left knee"] * 15))
    assert len(ps.actions) == 12
    assert len(ps.unused) == 3 and all("more than" in (c.reason or "") for c in ps.unused)


def test_unusable_clause_is_reported_not_dropped():
    ps = parse_sentence("Raise your left arm and sing a song")
    assert len(ps.actions) == 1
    assert [c.text for c in ps.unused] == ["sing a song"] and ps.unused[0].reason


def test_ambiguous_side_asks_which():
    ps = parse_sentence("Bend the knee")
    assert not ps.actions and "which knee" in (ps.unused[0].reason or "")


def test_pronoun_without_antecedent_is_reported():
    ps = parse_sentence("raise it")
    assert not ps.actions and "does not refer" in (ps.unused[0].reason or "")


def test_ignored_words_are_listed_but_not_numbers():
    c = parse_sentence("I think you could try to raise your right arm about 6 inches").actions[0]
    assert "think" in c.ignored and "try" in c.ignored and "6" not in c.ignored


@pytest.mark.parametrize("text, goal", [
    ("raise your left arm above your head", "above_head"),
    ("lift both hands up over your head", "above_head"),
    ("reach your right arm to the ceiling", "above_head"),
    ("arms overhead please", "above_head"),
    ("raise your left arm", None),
    ("raise your left knee above your hip", None),   # a leg: no hand goal
])
def test_above_the_head_is_a_goal_not_just_up(text, goal):
    action = parse_sentence(text).actions[0]
    assert action.goal == goal
