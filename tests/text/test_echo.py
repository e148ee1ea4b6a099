"""What the Text Edit panel shows about a sentence: clause rows (part, side, change, amount; unusable clauses
with the reason, once) and the input's words marked used / ignored / unused."""
from __future__ import annotations

from types import SimpleNamespace

from core_models.text.echo import clause_rows, describe_amount, word_marks
from core_models.text.parse import parse_sentence


def _marks(text: str) -> dict[str, str]:
    return {p.strip(",."): m for p, m in word_marks(text) if p.strip()}


def test_word_marks_rebuild_the_text_and_mark_fillers_unknown_words_and_unusable_clauses():
    text = "Um ok please raise ur rigth arm about 6\" , sing a song, then keep your left leg still lol"
    pieces = word_marks(text)
    assert "".join(p for p, _ in pieces) == text
    m = _marks(text)
    assert m["raise"] == m["ur"] == m["rigth"] == m["arm"] == m["6\""] == "used"
    assert m["Um"] == m["ok"] == m["please"] == m["lol"] == "ignored"
    assert m["sing"] == m["song"] == "unused"
    assert m["then"] == "plain" and m["keep"] == "used"


def test_word_marks_follow_the_clause_the_editor_could_not_do():
    text = "bend your right knee and lower your left arm"
    m = _marks(text)
    assert m["lower"] == "used"
    m = {p: k for p, k in word_marks(text, {"lower your left arm"}) if p.strip()}
    assert m["lower"] == m["arm"] == "unused" and m["bend"] == "used"
    assert word_marks("") == [] and word_marks("   ") == [("   ", "plain")]


def test_unknown_words_make_a_clause_of_their_own():
    """Before: "sing a little song" joined the clause before it as a modifier (because of "little"), so the
    panel could not report it; now it is its own unusable clause with a reason."""
    parsed = parse_sentence("keep your left leg where it is, sing a little song and raise your left arm")
    assert [c.role for c in parsed.clauses] == ["hold", "unused", "action"]
    assert parsed.clauses[1].reason
    # a fragment of known words still modifies the clause before it
    assert [c.role for c in parse_sentence("bend your right knee, to about 45 degrees").clauses] == ["action"]


def _edit(understood, unused):
    return SimpleNamespace(understood=understood, unused=unused)


def test_clause_rows_list_a_failed_clause_once_as_not_used():
    """Before: a clause the editor could not do appeared both as understood and as not used."""
    understood = [
        {"text": "bend your right knee 30 degrees", "role": "action", "part": "knee", "side": ["right"],
         "actions": [{"measure": "flexion", "direction": 1}], "amount": 30.0, "unit": "deg", "absolute": False,
         "degree": "normal", "relative": None, "reference": None, "held": []},
        {"text": "keep your left leg still", "role": "hold", "part": "leg", "side": ["left"], "actions": [],
         "held": ["left_leg"], "relative": None, "reference": None},
        {"text": "lower your left arm", "role": "action", "part": "arm", "side": ["left"],
         "actions": [{"measure": "height", "direction": -1}], "amount": None, "unit": None, "degree": "slight",
         "relative": None, "reference": None, "held": []},
    ]
    rows = clause_rows(_edit(understood, [{"text": "lower your left arm", "reason": "the editor could not"}]))
    assert [(r.status, r.part, r.side, r.change, r.amount) for r in rows] == [
        ("action", "knee", "right", "bend", "30°"), ("hold", "left leg", "left", "keep still", ""),
        ("unused", "—", "—", "not used: the editor could not", "")]


def test_amounts_read_as_people_write_them():
    assert describe_amount({"amount": 0.1524, "unit": "m"}) == "15 cm"
    assert describe_amount({"amount": 90.0, "unit": "deg", "absolute": True}) == "to 90°"
    assert describe_amount({"amount": None, "degree": "slight"}) == "slightly"
    assert describe_amount({"amount": None, "degree": "normal"}) == "default"


def test_a_goal_is_shown_as_the_amount():
    from core_models.text.echo import describe_amount

    assert describe_amount({"goal": "above_head", "amount": None, "unit": None}) == "above the head"
