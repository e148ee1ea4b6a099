"""Everyday phrasings of body states read as posecodes (``prompt_states``) and how the prompt refiner scores them
next to the learned posecode reader."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from core_models.captioning import posecodes as pc
from core_models.nets.qposer.prompt_states import read_states, state_codes
from core_models.nets.qposer.train import PROMPT_POSECODES
from tests.nets._stub_reader import StubReader

INCLINE = ("left_shoulder", "right_shoulder", "pelvis", "left_ankle", "right_ankle")
#: a hand on the hip bends its elbow
HANDS_BENT = {("angle", (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist"),
               ("completely_bent", "bent_more", "right_angle", "bent_less")) for s in ("left", "right")}


def _reads(text: str) -> set[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return {(s.op, s.joints, s.cats) for s in read_states(text)}


@pytest.mark.parametrize("text, want", [
    ("arms straigth out to the sides", {("relativeVAxis", ("left_shoulder", "left_elbow"), ("horizontal",)),
                                        ("relativeVAxis", ("right_shoulder", "right_elbow"), ("horizontal",)),
                                        ("angle", ("left_shoulder", "left_elbow", "left_wrist"),
                                         ("straight", "slightly_bent")),
                                        ("angle", ("right_shoulder", "right_elbow", "right_wrist"),
                                         ("straight", "slightly_bent")),
                                        ("relativePosX", ("left_hand", "left_shoulder"), ("at_left",)),
                                        ("relativePosX", ("right_hand", "right_shoulder"), ("at_right",))}),
    ("raise your arms to shoulder height", {("relativeVAxis", ("left_shoulder", "left_elbow"), ("horizontal",)),
                                            ("relativeVAxis", ("right_shoulder", "right_elbow"), ("horizontal",))}),
    ("drop ur left arm down by your side", {("relativeVAxis", ("left_shoulder", "left_elbow"), ("vertical",)),
                                            ("relativePosY", ("left_hand", "left_shoulder"), ("below",))}),
    ("both hands up to the ceiling", {("relativePosY", ("left_hand", "head"), ("above",)),
                                      ("relativePosY", ("right_hand", "head"), ("above",))}),
    ("hands on hips", {("distance", ("left_hand", "left_hip"), ("close",)),
                       ("distance", ("right_hand", "right_hip"), ("close",)), *HANDS_BENT}),
    ("put both hands on your waist", {("distance", ("left_hand", "left_hip"), ("close",)),
                                      ("distance", ("right_hand", "right_hip"), ("close",)), *HANDS_BENT}),
    ("put your left hand on your right shoulder", {("distance", ("left_hand", "right_shoulder"), ("close",))}),
    ("palms together in front of your chest", {("distance", ("left_hand", "right_hand"), ("close",)),
                                               ("relativePosZ", ("left_hand", "torso"), ("front",)),
                                               ("relativePosZ", ("right_hand", "torso"), ("front",))}),
    ("bring your feet together", {("distance", ("left_foot", "right_foot"), ("close",))}),
    ("feet wide apart", {("distance", ("left_foot", "right_foot"), ("spread", "wide"))}),
    ("raise the right foot off the floor", {("relativePosY", ("left_foot", "right_foot"), ("below",))}),
    ("look up at the sky", {("relativeRotX", ("neck", "head"), ("head_backward",)),
                            ("relativeRotX", ("pelvis", "head"), ("head_backward",))}),
    ("chin down to your chest", {("relativeRotX", ("neck", "head"), ("head_forward",)),
                                 ("relativeRotX", ("pelvis", "head"), ("head_forward",))}),
    ("tilt your head to the right", {("relativeRotZ", ("neck", "head"), ("tilt_right",))}),
    ("turn your head to the left", {("relativeRotY", ("pelvis", "head"), ("turn_left", "slightly_turn_left"))}),
    ("lean your upper body over to the right", {("bodyInclineZ", INCLINE, ("lean_right", "slightly_lean_right"))}),
    ("hinge forward at the hips", {("bodyInclineX", INCLINE, ("slightly_forward", "forward"))}),
    ("their left knee sits higher than the right knee", {("relativePosY", ("left_knee", "right_knee"), ("above",))}),
    ("the right forearm is parallel to the floor", {("relativeVAxis", ("right_elbow", "right_wrist"),
                                                     ("horizontal",))}),
])
def test_everyday_phrasings_read_as_posecodes(text, want):
    assert _reads(text) == want


def test_sides_carry_over_and_goal_clauses():
    """A clause without a side takes the previous limb's ("… the right knee … so the thigh is level"); a held
    limb is read ("keep your left leg straight"); a place ("on your right shoulder") is not a moving part."""
    got = _reads("keep your left leg straight and lift the right knee up so the thigh is level with the floor")
    assert ("angle", ("left_hip", "left_knee", "left_ankle"), ("straight", "slightly_bent")) in got
    assert ("relativePosY", ("left_knee", "right_knee"), ("below",)) in got  # the right knee is the higher one
    assert ("relativeVAxis", ("right_hip", "right_knee"), ("horizontal",)) in got
    assert not any(j == ("left_hip", "left_knee") for _, j, _ in got)
    got = _reads("bend your left knee and lift it up")
    assert ("relativePosY", ("left_knee", "right_knee"), ("above",)) in got
    got = _reads("maybe bring the arms up a little, like halfway")
    assert got == {("relativeVAxis", (f"{s}_shoulder", f"{s}_elbow"), ("ignored", "horizontal"))
                   for s in ("left", "right")}


def test_run_on_sentences_do_not_leak_states():
    """The describer's run-on text: "… higher than her right hip the left knee and the left elbow are bent …" —
    the hip sentence's "higher" must not make the left knee a raised knee."""
    text = ("her right knee is bent at 90 degrees and goes higher than her right hip the left knee and the left "
            "elbow are bent the left upper arm is held level her right hand is raised above the left hand")
    got = _reads(text)
    assert ("relativePosY", ("left_knee", "right_knee"), ("above",)) not in got
    assert ("relativeVAxis", ("left_shoulder", "left_elbow"), ("horizontal",)) in got
    assert ("relativePosY", ("left_hand", "right_hand"), ("below",)) in got  # the right hand is the higher one


@pytest.mark.parametrize("text", ["", "   ", "asdf qwerty", "bend your right knee", "🙂🙂", "!!!???",
                                  "feet roughly 1 m apart", "the feet are eighteen inches apart",
                                  "raise your left arm 45 degrees"])
def test_texts_without_a_rule_read_nothing(text):
    """Nothing to read, or a measured size the learned reader reads better ("30 cm apart" may be close)."""
    assert read_states(text) == [] and state_codes(text) == []


def test_very_long_text_is_bounded():
    text = "raise your left arm over your head and " * 2000
    t0 = time.perf_counter()
    got = state_codes(text)
    assert time.perf_counter() - t0 < 2.0
    assert got == [(pc.code("relativePosY", "left_hand", "head"), (4,))]


def test_state_codes_are_valid_posecode_categories():
    texts = ["arms out to the sides", "hands on hips", "feet together", "look up", "lean to the left",
             "step your right foot back", "lift the left knee to hip height", "hands behind your back"]
    for t in texts:
        got = state_codes(t)
        assert got, t
        for ci, cats in got:
            assert 0 <= ci < len(pc.CODES)
            assert cats and all(0 <= c < int(pc.CODE_NCATS[ci]) for c in cats)


def _refiner(code: int, cat: int, deps: dict[int, list[str]], **kw):
    from core_models.nets.qposer.infer import PromptRefiner

    n_cats = int(pc.CODE_NCATS[:PROMPT_POSECODES].max())
    dl = [deps.get(ci, []) for ci in range(PROMPT_POSECODES)]
    return PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, code, cat), {}, dl, **kw)


def test_refiner_scores_phrase_states_next_to_the_reader():
    vax = pc.code("relativeVAxis", "left_shoulder", "left_elbow")
    above = pc.code("relativePosY", "left_hand", "head")
    deps = {vax: ["left_arm", "torso"], above: ["left_arm", "head", "torso"]}
    x, m = torch.zeros(1, 1, 384), torch.ones(1, 1, dtype=torch.bool)
    horizontal, vertical = 2, 0
    ref = _refiner(vax, vertical, deps)  # the reader reads the upper arm as vertical (its known misreading)
    base = ref.targets(x, m, ["left_arm"])
    codes, w, logc = ref.with_states(*base, [(vax, (horizontal,))], ["left_arm"])
    assert codes.tolist() == [vax] and float(w[0]) == 1.0  # a conflicting state replaces the reading, full weight
    assert int(np.argmax(logc[0])) == horizontal and np.exp(logc[0][horizontal]) > 0.98
    codes, w, logc = ref.with_states(*base, [(vax, (vertical, 1))], ["left_arm"])
    assert int(np.argmax(logc[0])) == vertical and float(w[0]) == 1.0  # the reader agrees: its row is kept
    assert np.allclose(logc[0], base[2][0])
    codes, w, _ = ref.with_states(*base, [(above, (4,))], ["left_arm"])
    assert codes.tolist() == [vax, above] and w.tolist() == [pytest.approx(0.25), 1.0]  # not down-weighted
    codes, w, _ = ref.with_states(*base, [(above, (4,))], ["right_leg"])
    assert codes.tolist() == [vax]  # nothing of it depends on a prompted part: dropped
    off = _refiner(vax, vertical, deps, phrases=0.0)
    codes, w, logc = off.with_states(*off.targets(x, m, ["left_arm"]), [(vax, (horizontal,))], ["left_arm"])
    assert int(np.argmax(logc[0])) == vertical  # phrases = 0: the reader alone (the weights before)


def test_prompter_passes_the_phrase_states_to_the_refiner(monkeypatch):
    from core_models.nets.qposer import infer

    seen = {}

    class _Ref:
        reader = torch.nn.Linear(1, 1)

        def choose(self, qp, base, logits, x, m, parts, states=None):
            seen["states"] = states
            return {}

    class _Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.p = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x, m):
            return {}

    class _Feats:
        def batch(self, texts):
            return torch.zeros(1, 1, 384), torch.ones(1, 1, dtype=torch.bool)

    pr = infer.Prompter(_Model(), feats=_Feats(), refiner=_Ref())
    pr.part_codes("hands on hips", base=np.zeros(4, np.int64), qp=object())
    assert seen["states"] == state_codes("hands on hips") and len(seen["states"]) == 4


@pytest.mark.parametrize("text, parts", [
    ("lift the right knee up so the thigh is level with the floor", ["right_leg"]),
    ("bend your right knee and the other knee", ["left_leg", "right_leg"]),
    ("raise your left arm and lower the other arm", ["left_arm", "right_arm"]),
    ("bend the knees", ["left_leg", "right_leg"]),
    ("raise the left leg, keep the knee straight", ["left_leg"]),
])
def test_prompted_parts_carry_a_limb_side_to_the_next_singular_noun(text, parts):
    """A side-less singular limb noun after a sided one is that limb ("the thigh" of "the right knee"), "the
    other" the opposite one; before this a side-less noun meant both sides (the other leg was edited too)."""
    from core_models.nets.qposer.prompt_parts import prompted_parts

    assert prompted_parts(text) == parts
