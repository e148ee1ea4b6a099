"""Typed instructions for a target pose ("raise your left arm above your head, bend your knees a lot"): the
facts :func:`core_models.captioning.describe.select` picks, said the way people type a prompt to a pose editor
(imperative, second person, often without articles), for training the prompt reader on what people write as well
as on how poses are described. Every template says what must be *true of the target* for its posecode category,
so the category stays the label whatever the start pose was. Templates written for PoseTailor.

``{s}`` the part ("your left knee", "both arms", "the hands"), ``{o}`` the object part, ``{poss}`` "your";
person facts (leaning, kneeling) take no subject. A fact whose template id has no entry here is said in the
describer's own words (:func:`~core_models.captioning.describe.convert`).
"""
from __future__ import annotations

import numpy as np

from core_models.captioning.describe import PERSON, Ent, Fact, _clause, _Ctx
from core_models.captioning.textutil import capitalize, join_list, tidy

#: template id → imperative templates (true of every target pose in that category)
IMPERATIVE: dict[str, tuple[str, ...]] = {
    "above_head": ("raise {s} above {o}", "put {s} up over {o}", "lift {s} up above {o}", "reach {s} up over {o}",
                   "{s} up above {o}", "get {s} up over {o}"),
    "elbow_above": ("lift {s} above {o}", "raise {s} higher than {o}", "bring {s} up above {o}"),
    "higher": ("raise {s} above {o}", "lift {s} higher than {o}", "put {s} up higher than {o}", "{s} above {o}"),
    "lower": ("lower {s} below {o}", "drop {s} below {o}", "bring {s} down below {o}", "{s} below {o}"),
    "in_front": ("move {s} in front of {o}", "bring {s} forward of {o}", "put {s} ahead of {o}"),
    "front_body": ("reach {s} forward", "hold {s} out in front", "put {s} out in front of you", "{s} forward",
                   "bring {s} in front of you"),
    "behind_back": ("put {s} behind {poss} back", "take {s} behind you", "move {s} behind {poss} back",
                    "{s} behind {poss} back"),
    "foot_forward": ("step {s} forward", "put {s} out in front", "move {s} forward", "{s} forward"),
    "foot_back": ("step {s} back", "put {s} behind you", "move {s} back", "{s} back"),
    "angle:straight": ("straighten {s}", "keep {s} straight", "lock {s} out", "make {s} straight", "{s} straight"),
    "angle:slightly_bent": ("soften {s}", "bend {s} just a little", "keep a slight bend in {s}", "{s} slightly bent"),
    "angle:bent_less": ("bend {s} a bit", "bend {s} halfway", "bend {s} somewhat", "{s} half bent"),
    "angle:right_angle": ("bend {s} to 90 degrees", "bend {s} to a right angle", "make an L with {s}",
                          "{s} at ninety degrees", "bend {s} 90"),
    "angle:bent_more": ("bend {s} a lot", "bend {s} deeply", "bend {s} past 90 degrees", "{s} well bent",
                        "really bend {s}"),
    "angle:completely_bent": ("bend {s} all the way", "fold {s} up completely", "tuck {s} in tight",
                              "{s} fully bent"),
    "dist_pair:close": ("bring {s} together", "put {s} close together", "keep {s} together", "{s} together"),
    "dist_pair:spread": ("move {s} apart", "spread {s} apart", "{s} apart", "separate {s}"),
    "dist_pair:wide": ("spread {s} wide", "put {s} wide apart", "open {s} wide", "{s} far apart"),
    "super:shoulder_width": ("put {s} shoulder-width apart", "set {s} about shoulder width apart",
                             "{s} shoulder width apart"),
    "dist_close": ("bring {s} close to {o}", "put {s} near {o}", "move {s} next to {o}", "{s} by {o}"),
    "contact": ("put {s} on {o}", "touch {o} with {s}", "rest {s} on {o}", "place {s} on {o}", "{s} on {o}"),
    "contact_pair": ("press {s} together", "touch {s} together", "put {s} together", "join {s}"),
    "ground": ("put {s} on the floor", "plant {s} on the ground", "keep {s} on the floor", "{s} down on the floor"),
    "floor": ("put {s} on the floor", "rest {s} on the floor", "bring {s} down to the floor", "{s} on the ground"),
    "vaxis:horizontal": ("hold {s} level", "make {s} horizontal", "bring {s} parallel to the floor", "{s} level"),
    "vaxis:vertical": ("make {s} vertical", "line {s} up vertically", "keep {s} upright", "{s} vertical"),
    "crossX:hand": ("cross {s}", "cross {s} over each other"),
    "crossX:foot": ("cross {s}", "cross {s} over each other"),
    "crossX:knee": ("cross {s}", "cross {s} over each other"),
    "across:hand": ("reach {s} across {poss} body", "bring {s} across {poss} body"),
    "across:foot": ("cross {s} over the midline", "step {s} across"),
    "headX:head_backward": ("tilt {s} back", "look up", "tip {s} back", "lift {poss} chin up", "{s} back"),
    "headX:head_forward": ("bow {s}", "look down", "drop {poss} chin to {poss} chest", "tip {s} forward",
                           "{s} down"),
    "headY:turn_left": ("turn {s} to the left", "look to the left", "turn {s} left", "{s} turned left"),
    "headY:turn_right": ("turn {s} to the right", "look to the right", "turn {s} right", "{s} turned right"),
    "headY:slightly_turn_left": ("turn {s} a little to the left", "look slightly left"),
    "headY:slightly_turn_right": ("turn {s} a little to the right", "look slightly right"),
    "headZ:tilt_left": ("tilt {s} to the left", "tilt {s} toward {poss} left shoulder", "{s} tilted left"),
    "headZ:tilt_right": ("tilt {s} to the right", "tilt {s} toward {poss} right shoulder", "{s} tilted right"),
    "twist:twist_left": ("twist {s} to the left", "rotate {s} left", "turn {s} to the left"),
    "twist:twist_right": ("twist {s} to the right", "rotate {s} right", "turn {s} to the right"),
    "twist:slightly_twist_left": ("twist {s} a little to the left",),
    "twist:slightly_twist_right": ("twist {s} a little to the right",),
    # person facts: no subject
    "inclX:forward": ("lean forward", "bend forward", "tip forward", "lean way forward"),
    "inclX:slightly_forward": ("lean forward a little", "lean slightly forward", "tip forward a bit"),
    "inclX:backward": ("lean back", "arch back", "tip backward"),
    "inclX:slightly_backward": ("lean back a little", "lean slightly back"),
    "lean:lean_left": ("lean to the left", "lean left", "bend sideways to the left"),
    "lean:lean_right": ("lean to the right", "lean right", "bend sideways to the right"),
    "lean:slightly_lean_left": ("lean a little to the left", "tilt slightly left"),
    "lean:slightly_lean_right": ("lean a little to the right", "tilt slightly right"),
    "super:kneeling": ("kneel down", "get down on {poss} knees", "kneel on both knees"),
    "super:kneel_on_left": ("kneel on {poss} left knee", "go down on {poss} left knee"),
    "super:kneel_on_right": ("kneel on {poss} right knee", "go down on {poss} right knee"),
    "super:standing": ("stand up", "stand upright", "stand"),
    "super:lying_on_back": ("lie on {poss} back", "lie down face up"),
    "super:lying_face_down": ("lie face down", "lie on {poss} stomach"),
    "super:sitting_on_floor": ("sit on the floor", "sit down on the ground"),
    "super:on_all_fours": ("get on all fours", "go onto {poss} hands and knees"),
}

#: template ids where people name the whole limb for its end ("raise your left arm above your head": the hand is
#: above the head; "step your right leg back": the foot is behind) — true for every pose of those categories
LIMB_FOR_END = {"hand": ("arm", ("above_head", "higher", "lower", "front_body", "behind_back", "in_front",
                                 "across:hand")),
                "foot": ("leg", ("foot_forward", "foot_back"))}

#: how a typed prompt may start or end
OPENERS = ("", "", "", "", "now ", "ok ", "please ", "can you ", "try to ", "i want you to ", "just ", "then ")
CLOSERS = ("", "", "", "", " please", " for me", " if you can", " thanks")
JOINS = (", ", " and ", ", then ", ", and ", "; ", ". ")


class _You(_Ctx):
    """The describer's wording context, speaking to the person ("your left knee", "both arms")."""

    def __init__(self, rng: np.random.Generator):
        super().__init__(rng)
        self.poss, self.pron, self.style = "your", "you", "human"

    def det(self) -> str:
        return self.pick(("your", "your", "the", ""))

    def person(self) -> tuple[str, bool]:
        return "you", True

    def noun(self, n: str, plural_form: bool) -> str:
        limb, tids = LIMB_FOR_END.get(n, ("", ()))
        if self.tid in tids and self.chance(0.4):
            return limb + "s" if plural_form else limb
        return super().noun(n, plural_form)


def _np(ctx: _You, e: Ent) -> str:
    return " ".join(ctx.np(e).split())


def _say(ctx: _You, f: Fact) -> tuple[str, bool]:
    """One fact as an instruction, and whether it starts with its verb; the describer's clause where the template
    id has no instruction."""
    if f.preds or f.tid not in IMPERATIVE or (f.subj != (PERSON,) and any(e == PERSON for e in f.subj)):
        return _clause(ctx, f)[0], False
    ctx.tid = f.tid
    t = ctx.pick(IMPERATIVE[f.tid])
    subj = "" if f.subj == (PERSON,) else join_list([_np(ctx, e) for e in f.subj])
    ctx.tid = ""  # the object keeps its own noun ("in front of your left hand", never "... left arm")
    obj = _np(ctx, f.obj) if f.obj is not None else "your head" if f.tid == "above_head" else ""
    return " ".join(t.format(s=subj, o=obj, poss="your").split()), not t.startswith("{")


def instruct(facts: list[Fact], rng: np.random.Generator) -> str:
    """A typed instruction that asks for ``facts`` (as selected / aggregated by the describer)."""
    ctx = _You(rng)
    said = [_say(ctx, f) for f in facts]
    text = said[0][0] if said else ""
    for s, _ in said[1:]:
        text += ctx.pick(JOINS) + s
    opener = ctx.pick(OPENERS) if said and said[0][1] else ""  # "can you bend ...", never "can you your knee ..."
    text = f"{opener}{text}{ctx.pick(CLOSERS)}"
    if rng.random() < 0.5:
        text = capitalize(text)
    if rng.random() < 0.15:
        text = text.lower()
    return tidy(text + ctx.pick(("", "", ".", "!")))

