"""Pose -> natural-language description (PoseScript-style pipeline, our own implementation and wording).

Stages: extraction (posecodes.py) -> selection -> aggregation -> conversion.

* selection: eligible categories only; rare codes are never skipped; ~15% of the other codes are dropped
  at random (data mode); codes made redundant are removed (type-II supports of produced super-codes,
  transitive relations such as "foot above hip" when "foot above knee above hip" is known, and a small
  hand-written rule list);
* aggregation: left/right symmetry ("both knees are bent"), shared interpretation ("the left hand and
  the right foot are on the ground"), shared subject ("the left hand is above the head and near the
  right shoulder"); each happens with probability 0.95 (always in deterministic mode);
* conversion: several templates per code, determiners, sentence transitions.

``deterministic=True`` (what the app uses): no measurement noise, no random skipping, always aggregate,
first template, determiner "the", fixed transitions. In that mode the output is mirror-consistent:
``describe(mirror(p)) == flip_text(describe(p))``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core_models.captioning import describe_phrasing as dp
from core_models.captioning import phrasing as ph
from core_models.captioning import posecodes as pc
from core_models.captioning.posecodes import CODES, OPERATORS, SUPERS, PosecodeSet
from core_models.captioning.textutil import agree, capitalize, join_list, tidy
from core_models.pose import Pose

PROP_SKIP_POSECODES = 0.15
PROP_AGGREGATION_HAPPENS = 0.95
#: noisy mode: share of descriptions in the classic prose, the human phrasing, short fragments ("left arm up, ...")
PROP_PROSE, PROP_HUMAN = 0.5, 0.3
PROP_UK, PROP_CASUAL, PROP_TYPO = 0.3, 0.12, 0.05
TRANSITIONS = (" while ", ", and ", ". ", " and ", " with ")

_PLURAL = {"foot": "feet", "hips": "hips"}


def plural(noun: str) -> str:
    return _PLURAL.get(noun, noun + "s")


#: small-size words that read well before or after a verb / adjective
_SMALL = tuple(w for w in ph.HEDGE_SMALL_AFTER if w not in ("a hint", "a whisker", "a shade", "a hair", "minimally",
                                                            "a fraction", "fractionally", "a little way"))


# ------------------------------------------------------------------------------------------------------
# entities (what a phrase talks about)
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ent:
    """A body part as it will be named: side in {"left","right",None,"both","pair","each","same","opposite"}."""

    noun: str
    side: str | None = None
    many: bool = False  # the noun itself is plural ("hips")

    @property
    def plural(self) -> bool:
        return self.many or self.side in ("both", "pair", "same")


PERSON = Ent("person")


def _noun_of(joint: str) -> tuple[str | None, str]:
    if joint.startswith("left_"):
        return "left", joint[5:]
    if joint.startswith("right_"):
        return "right", joint[6:]
    return None, joint


_NOUN = {"upperarm": "upper arm", "pelvis": "hips", "torso": "body", "spine3": "chest"}


def _ent(joint: str) -> Ent:
    side, n = _noun_of(joint)
    n = _NOUN.get(n, n)
    return Ent(n, side, many=(n == "hips"))


# ------------------------------------------------------------------------------------------------------
# templates (written for PoseTailor). "{s}" subject, "{o}" object, "{poss}" possessive, "{det}" determiner,
# "[singular|plural]" verb agreement with the subject.
# ------------------------------------------------------------------------------------------------------

T: dict[str, list[str]] = {
    # angles of knees / elbows (subject: the joint, or the limb when nearly straight)
    "angle:completely_bent": ["{s} [is|are] fully bent", "{s} [is|are] folded tightly", "{s} [is|are] bent all the way"],
    "angle:bent_more": ["{s} [is|are] sharply bent", "{s} [is|are] bent past a right angle", "{s} [is|are] deeply bent"],
    "angle:right_angle": ["{s} [is|are] bent at a right angle", "{s} [is|are] bent at about ninety degrees",
                          "{s} [makes|make] a right angle"],
    "angle:bent_less": ["{s} [is|are] partly bent", "{s} [is|are] bent at an open angle", "{s} [is|are] half bent"],
    "angle:slightly_bent": ["{s} [is|are] slightly bent", "{s} [is|are] softly bent", "{s} [is|are] bent just a little"],
    "angle:straight": ["{s} [is|are] straight", "{s} [is|are] fully extended", "{s} [is|are] held straight"],
    # distances between the two sides
    "dist_pair:close": ["{s} [is|are] close together", "{s} [is|are] near each other", "{s} [is|are] held close together"],
    "dist_pair:spread": ["{s} [is|are] apart", "{s} [is|are] spread apart", "{s} [is|are] a good distance apart"],
    "dist_pair:wide": ["{s} [is|are] wide apart", "{s} [is|are] far apart", "{s} [is|are] spread wide"],
    "dist_close": ["{s} [is|are] close to {o}", "{s} [is|are] near {o}", "{s} [is|are] right by {o}"],
    # crossings
    "crossX:hand": ["{s} [is|are] crossed", "{s} [crosses|cross] over each other"],
    "crossX:knee": ["{s} [is|are] crossed", "{s} [crosses|cross] over each other"],
    "crossX:foot": ["{s} [is|are] crossed", "{s} [crosses|cross] over each other"],
    "across:hand": ["{s} [reaches|reach] across the body", "{s} [is|are] brought across the body's midline"],
    "across:foot": ["{s} [crosses|cross] over the body's midline", "{s} [is|are] placed across the midline"],
    # heights
    "higher": ["{s} [is|are] higher than {o}", "{s} [is|are] raised above {o}", "{s} [sits|sit] higher than {o}"],
    "lower": ["{s} [is|are] lower than {o}", "{s} [is|are] below {o}", "{s} [hangs|hang] below {o}"],
    "above_head": ["{s} [is|are] above {o}", "{s} [is|are] raised above {o}", "{s} [reaches|reach] up above {o}"],
    "elbow_above": ["{s} [is|are] lifted above shoulder height", "{s} [is|are] higher than {o}",
                    "{s} [is|are] raised above {o}"],
    # depth
    "in_front": ["{s} [is|are] in front of {o}", "{s} [is|are] ahead of {o}", "{s} [is|are] further forward than {o}"],
    "front_body": ["{s} [is|are] in front of the body", "{s} [reaches|reach] forward", "{s} [is|are] held out in front"],
    "behind_back": ["{s} [is|are] behind the back", "{s} [is|are] held behind the body", "{s} [reaches|reach] behind the back"],
    "foot_forward": ["{s} [is|are] in front of the body", "{s} [is|are] placed forward", "{s} [steps|step] forward"],
    "foot_back": ["{s} [is|are] behind the body", "{s} [is|are] placed back", "{s} [steps|step] back"],
    # segment orientation
    "vaxis:vertical": ["{s} [is|are] vertical", "{s} [is|are] perpendicular to the ground", "{s} [is|are] upright"],
    "vaxis:horizontal": ["{s} [is|are] horizontal", "{s} [is|are] parallel to the ground", "{s} [is|are] level with the floor"],
    # ground contact
    "ground": ["{s} [is|are] on the ground", "{s} [rests|rest] on the floor", "{s} [touches|touch] the ground"],
    # contacts (full inventory): a body part on another one, the two sides against each other, a part on the floor
    "contact": ["{s} [touches|touch] {o}", "{s} [rests|rest] on {o}", "{s} [is|are] in contact with {o}",
                "{s} [is|are] placed on {o}"],
    "contact_pair": ["{s} [touches|touch] each other", "{s} [is|are] pressed together", "{s} [is|are] touching",
                     "{s} [is|are] in contact with each other"],
    "floor": ["{s} [is|are] on the floor", "{s} [rests|rest] on the floor", "{s} [touches|touch] the floor",
              "{s} [is|are] down on the floor"],
    # whole body lean / twist
    "inclX:forward": ["{s} [leans|lean] forward", "{s} [is|are] bent forward", "{s} [tips|tip] the upper body forward"],
    "inclX:slightly_forward": ["{s} [leans|lean] slightly forward", "{s} [is|are] tilted a little forward",
                               "{s} [leans|lean] forward a bit"],
    "inclX:backward": ["{s} [leans|lean] back", "{s} [is|are] arched backward", "{s} [tips|tip] the upper body back"],
    "inclX:slightly_backward": ["{s} [leans|lean] slightly back", "{s} [is|are] tilted a little backward",
                                "{s} [leans|lean] back a bit"],
    "twist:twist_left": ["{s} [is|are] twisted to the left", "{s} [is|are] rotated toward the left"],
    "twist:slightly_twist_left": ["{s} [is|are] twisted slightly to the left", "{s} [is|are] turned a little to the left"],
    "twist:twist_right": ["{s} [is|are] twisted to the right", "{s} [is|are] rotated toward the right"],
    "twist:slightly_twist_right": ["{s} [is|are] twisted slightly to the right", "{s} [is|are] turned a little to the right"],
    "lean:lean_left": ["{s} [leans|lean] to the left", "{s} [bends|bend] sideways to the left", "{s} [tilts|tilt] over to the left"],
    "lean:slightly_lean_left": ["{s} [leans|lean] slightly to the left", "{s} [tilts|tilt] a little to the left"],
    "lean:lean_right": ["{s} [leans|lean] to the right", "{s} [bends|bend] sideways to the right", "{s} [tilts|tilt] over to the right"],
    "lean:slightly_lean_right": ["{s} [leans|lean] slightly to the right", "{s} [tilts|tilt] a little to the right"],
    # head
    "headX:head_forward": ["{s} [is|are] bowed forward", "{s} [is|are] tipped down toward the chest", "{s} [is|are] lowered"],
    "headX:head_backward": ["{s} [is|are] tilted back", "{s} [is|are] thrown back", "{s} [is|are] tipped backward"],
    "headY:turn_left": ["{s} [is|are] turned to the left", "{s} [faces|face] left", "{s} [is|are] rotated to the left"],
    "headY:slightly_turn_left": ["{s} [is|are] turned slightly to the left", "{s} [is|are] turned a little to the left"],
    "headY:turn_right": ["{s} [is|are] turned to the right", "{s} [faces|face] right", "{s} [is|are] rotated to the right"],
    "headY:slightly_turn_right": ["{s} [is|are] turned slightly to the right", "{s} [is|are] turned a little to the right"],
    "headZ:tilt_left": ["{s} [is|are] tilted to the left", "{s} [leans|lean] toward the left shoulder"],
    "headZ:tilt_right": ["{s} [is|are] tilted to the right", "{s} [leans|lean] toward the right shoulder"],
    # super-codes
    "super:lying_on_back": ["{s} [is|are] lying on {poss} back", "{s} [lies|lie] flat on {poss} back",
                            "{s} [is|are] stretched out on {poss} back"],
    "super:lying_face_down": ["{s} [is|are] lying face down", "{s} [lies|lie] on {poss} stomach",
                              "{s} [is|are] stretched out face down"],
    "super:torso_horizontal": ["{s} [is|are] horizontal", "{s} [is|are] parallel to the ground", "{s} [is|are] level with the floor"],
    "super:kneeling": ["{s} [is|are] kneeling", "{s} [kneels|kneel] on the floor", "{s} [is|are] down on {poss} knees"],
    "super:kneel_on_left": ["{s} [is|are] kneeling on {poss} left knee", "{s} [kneels|kneel] on {poss} left knee",
                            "{s} [has|have] {poss} left knee down on the floor"],
    "super:kneel_on_right": ["{s} [is|are] kneeling on {poss} right knee", "{s} [kneels|kneel] on {poss} right knee",
                             "{s} [has|have] {poss} right knee down on the floor"],
    "super:shoulder_width": ["{s} [is|are] shoulder-width apart", "{s} [is|are] about shoulder width apart",
                             "{s} [is|are] set roughly shoulder width apart"],
    "super:standing": ["{s} [is|are] standing", "{s} [stands|stand] upright", "{s} [is|are] standing up"],
    "super:sitting_on_floor": ["{s} [is|are] sitting on the floor", "{s} [sits|sit] on the floor",
                               "{s} [is|are] seated on the floor"],
    "super:on_all_fours": ["{s} [is|are] on all fours", "{s} [is|are] on {poss} hands and knees",
                           "{s} [kneels|kneel] on all fours"],
}

_OP_RANK = {"super": 0, "bodyInclineX": 1, "bodyInclineZ": 2, "bodyInclineY": 3, "onGround": 4, "angle": 5,
            "relativeVAxis": 6, "relativePosY": 7, "relativePosZ": 8, "relativePosX": 9, "distance": 10,
            "relativeRotY": 11, "relativeRotX": 12, "relativeRotZ": 13, "facing": 14,
            "floorContact": 4, "contact": 4, "pitch": 15, "roll": 15}
_SUPER_SUBJECT = {"hands_shoulder_width": Ent("hand", "pair"), "feet_shoulder_width": Ent("foot", "pair"),
                  "torso_horizontal": Ent("torso")}


# ------------------------------------------------------------------------------------------------------
# facts
# ------------------------------------------------------------------------------------------------------


@dataclass
class Fact:
    tid: str
    subj: tuple[Ent, ...]
    obj: Ent | None
    key: tuple
    rare: bool = False
    code: int = -1
    sup: int = -1
    cat: int = -1
    preds: list[tuple[str, Ent | None]] = field(default_factory=list)  # (tid, obj) when sharing a subject

    @property
    def plural(self) -> bool:
        return len(self.subj) > 1 or self.subj[0].plural


def _code_fact(ci: int, cat: int) -> Fact | None:
    c = CODES[ci]
    op = OPERATORS[c.op]
    cname = op.categories[cat]
    j = c.joints
    tid: str | None = None
    subj: Ent | None = None
    obj: Ent | None = None
    if c.op == "angle":
        side, n = _noun_of(j[1])
        if cname in ("straight", "slightly_bent"):
            n = {"knee": "leg", "elbow": "arm"}[n]
        tid, subj = f"angle:{cname}", _ent(f"{side}_{n}")
    elif c.op == "distance":
        if c.mirror == c.index:  # left-right pair
            tid, subj = f"dist_pair:{cname}", Ent(_noun_of(j[0])[1], "pair")
        else:
            tid, subj, obj = "dist_close", _ent(j[0]), _ent(j[1])
    elif c.op == "relativePosX":
        if c.mirror == c.index:
            tid, subj = f"crossX:{_noun_of(j[0])[1]}", Ent(_noun_of(j[0])[1], "pair")
        else:
            tid, subj = f"across:{_noun_of(j[0])[1]}", _ent(j[0])
    elif c.op == "relativePosY":
        a, b = j
        if c.mirror == c.index and len(j) == 2 and c.mirror_swapped:
            if cname == "below":
                a, b = b, a
            tid, subj, obj = "higher", _ent(a), _ent(b)
        elif b == "head":
            tid, subj, obj = "above_head", _ent(a), _ent(b)
        elif a.endswith("elbow"):
            tid, subj, obj = "elbow_above", _ent(a), _ent(b)
        elif a.endswith("hip") and cname == "below":
            tid, subj, obj = "higher", _ent(b), _ent(a)
        else:
            tid, subj, obj = ("higher" if cname == "above" else "lower"), _ent(a), _ent(b)
    elif c.op == "relativePosZ":
        a, b = j
        if c.mirror == c.index and c.mirror_swapped:
            if cname == "behind":
                a, b = b, a
            tid, subj, obj = "in_front", _ent(a), _ent(b)
        elif a.endswith("hand"):
            tid, subj = ("front_body" if cname == "front" else "behind_back"), _ent(a)
        else:
            tid, subj = ("foot_forward" if cname == "front" else "foot_back"), _ent(a)
    elif c.op == "relativeVAxis":
        side, n = _noun_of(j[0])
        seg = {"hip": "thigh", "knee": "shin", "shoulder": "upper arm", "elbow": "forearm"}[n]
        tid, subj = f"vaxis:{cname}", Ent(seg, side)
    elif c.op == "onGround":
        tid, subj = "ground", _ent(j[0])
    elif c.op == "floorContact":
        tid, subj = "floor", (Ent("back") if j[0] == "spine3" else _ent(j[0]))
    elif c.op == "contact":
        if c.mirror == c.index:  # the two sides against each other
            tid, subj = "contact_pair", Ent(_noun_of(j[0])[1], "pair")
        else:
            tid, subj, obj = "contact", _ent(j[0]), _ent(j[1])
    elif c.op == "bodyInclineX":
        tid, subj = f"inclX:{cname}", PERSON
    elif c.op == "bodyInclineY":
        tid, subj = f"twist:{cname}", Ent("torso")
    elif c.op == "bodyInclineZ":
        tid, subj = f"lean:{cname}", PERSON
    elif c.op.startswith("relativeRot"):
        tid, subj = f"head{c.op[-1]}:{cname}", Ent("head")
    if tid is None or tid not in T or subj is None:
        return None
    # mirror-invariant ordering key: canonical code, canonical category, then side
    canon = min(ci, c.mirror)
    ccat = (len(op.categories) - 1 - cat) if (op.lateral and c.side == 1) else cat
    key = (_OP_RANK[c.op], canon, ccat, c.side)
    return Fact(tid, (subj,), obj, key, rare=cname in c.rare, code=ci, cat=cat)


def _super_fact(si: int) -> Fact:
    s = SUPERS[si]
    subj = _SUPER_SUBJECT.get(s.name, PERSON)
    rank = _OP_RANK["distance"] if s.name.endswith("shoulder_width") else 0
    key = (rank, min(si, s.mirror), 0, s.side)
    tid = "super:shoulder_width" if s.name.endswith("shoulder_width") else f"super:{s.name}"
    return Fact(tid, (subj,), None, key, rare=s.rare, sup=si)


# ------------------------------------------------------------------------------------------------------
# selection
# ------------------------------------------------------------------------------------------------------

_C = pc.code


def _rules() -> list[tuple[list[tuple[Any, ...]], tuple[Any, ...]]]:
    """Hand-written redundancy rules: if all conditions hold (as produced facts or codes), drop target.

    A condition / target is ("code", index, category-name) or ("super", name)."""
    R: list[tuple[list[tuple[Any, ...]], tuple[Any, ...]]] = []
    for s in ("left", "right"):
        # a hand above the head is obviously above its shoulder
        R.append(([("code", _C("relativePosY", f"{s}_hand", "head"), "above")],
                  ("code", _C("relativePosY", f"{s}_hand", f"{s}_shoulder"), "above")))
        # straight limb: the orientation of the upper segment tells that of the lower one
        for v in ("vertical", "horizontal"):
            R.append(([("cat", _C("angle", f"{s}_hip", f"{s}_knee", f"{s}_ankle"), "straight"),
                       ("cat", _C("relativeVAxis", f"{s}_hip", f"{s}_knee"), v)],
                      ("code", _C("relativeVAxis", f"{s}_knee", f"{s}_ankle"), v)))
            R.append(([("cat", _C("angle", f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist"), "straight"),
                       ("cat", _C("relativeVAxis", f"{s}_shoulder", f"{s}_elbow"), v)],
                      ("code", _C("relativeVAxis", f"{s}_elbow", f"{s}_wrist"), v)))
        # standing: the shins are vertical as well
        R.append(([("super", "standing")], ("code", _C("relativeVAxis", f"{s}_knee", f"{s}_ankle"), "vertical")))
        # kneeling: the feet being on the floor is part of the picture
        R.append(([("super", "kneeling")], ("code", _C("onGround", f"{s}_foot"), "on_ground")))
        # lying: whole-body lean is meaningless
    for sup in ("lying_on_back", "lying_face_down", "torso_horizontal"):
        # with the body horizontal, "in front of / behind" runs along the body: confusing, leave it out
        for c in CODES:
            if c.op == "relativePosZ" and c.acceptable:
                for cat in ("front", "behind"):
                    R.append(([("super", sup)], ("code", c.index, cat)))
    for sup in ("lying_on_back", "lying_face_down"):
        for op in ("bodyInclineX", "bodyInclineZ", "bodyInclineY"):
            ci = [c.index for c in CODES if c.op == op][0]
            for cat in OPERATORS[op].categories:
                R.append(([("super", sup)], ("code", ci, cat)))
    return R + _contact_rules()


def _contact_rules() -> list[tuple[list[tuple[Any, ...]], tuple[Any, ...]]]:
    """Rules of the contact codes (full inventory): a contact replaces the "close to" / "on the ground" codes of
    the same parts, and postures that imply a contact (lying, kneeling, sitting) make it redundant."""
    R: list[tuple[list[tuple[Any, ...]], tuple[Any, ...]]] = []
    for c in CODES:
        if c.op == "contact" and pc.CODE_INDEX.get(pc.code_key("distance", c.joints)) is not None:
            R.append(([("cat", c.index, "touching")], ("code", _C("distance", *c.joints), "close")))
        if c.op == "floorContact" and c.acceptable and pc.code_key("onGround", c.joints) in pc.CODE_INDEX:
            R.append(([("cat", c.index, "on_floor")], ("code", _C("onGround", *c.joints), "on_ground")))
    for sup in ("lying_on_back", "lying_face_down", "torso_horizontal"):
        for j in ("pelvis", "spine3", "head", "left_hip", "right_hip"):
            R.append(([("super", sup)], ("code", _C("floorContact", j), "on_floor")))
    for s in ("left", "right"):  # kneeling on both knees keeps "both knees are on the floor"
        R.append(([("super", f"kneel_on_{s}")], ("code", _C("floorContact", f"{s}_knee"), "on_floor")))
    R.append(([("super", "sitting_on_floor")], ("code", _C("floorContact", "pelvis"), "on_floor")))
    for s in ("left", "right"):  # "both hips and the hips are on the floor": the hip joints say it
        R.append(([("cat", _C("floorContact", f"{s}_hip"), "on_floor")],
                  ("code", _C("floorContact", "pelvis"), "on_floor")))
    return R


RULES = _rules()
#: (code, category) -> may be put into words alone (the codes' acceptable categories), for a fast first pass
_MAX_CATS = max(len(o.categories) for o in OPERATORS.values())
_ELIGIBLE = np.zeros((len(CODES), _MAX_CATS), dtype=bool)
for _c in CODES:
    for _name in _c.acceptable:
        _ELIGIBLE[_c.index, OPERATORS[_c.op].cat_index(_name)] = True
_ARANGE = np.arange(len(CODES))
#: codes whose order relations feed the transitive pruning (the v1 relative positions and any stated one)
_EDGE_CODES = [c for c in CODES if c.op.startswith("relativePos") and (c.version == 1 or c.acceptable)]


def _edges(cats_row: np.ndarray) -> dict[str, set[tuple[str, str]]]:
    """Directed order relations present in the pose (higher->lower, front->back, left->right)."""
    E: dict[str, set] = {"relativePosY": set(), "relativePosZ": set(), "relativePosX": set()}
    pos = {"relativePosY": "above", "relativePosZ": "front", "relativePosX": "at_left"}
    neg = {"relativePosY": "below", "relativePosZ": "behind", "relativePosX": "at_right"}
    for c in _EDGE_CODES:
        if c.op in E:
            name = OPERATORS[c.op].categories[cats_row[c.index]]
            a, b = c.joints
            if name == pos[c.op]:
                E[c.op].add((a, b))
            elif name == neg[c.op]:
                E[c.op].add((b, a))
    return E


def _implied(edges: set[tuple[str, str]], a: str, b: str) -> bool:
    """Is a->b implied by a chain of length >= 2 of the other edges?"""
    succ: dict[str, list[str]] = {}
    for x, y in edges:
        if (x, y) != (a, b):
            succ.setdefault(x, []).append(y)
    stack, seen = [(n, 1) for n in succ.get(a, [])], set()
    while stack:
        n, d = stack.pop()
        if n == b and d >= 2:
            return True
        if n in seen:
            continue
        seen.add(n)
        stack.extend((m, d + 1) for m in succ.get(n, []))
    return False


def select(pcs: PosecodeSet, i: int, rng: np.random.Generator | None) -> list[Fact]:
    """Selection stage for pose i: the facts to verbalise, sorted in a mirror-invariant order."""
    cats = pcs.cats[i]
    sup_on = pcs.supers[i]
    produced = {SUPERS[k].name for k in np.nonzero(sup_on)[0]}
    for k in list(produced):
        produced -= set(SUPERS[pc.SUPER_INDEX[k]].overrides)
    facts: list[Fact] = []
    dropped: set[tuple[int, int]] = set()
    # (a) hand-written rules
    for conds, target in RULES:
        ok = True
        for cond in conds:
            if cond[0] == "super":
                ok &= cond[1] in produced
            else:
                ok &= OPERATORS[CODES[cond[1]].op].categories[cats[cond[1]]] == cond[2]
        if ok:
            if target[0] == "code":
                dropped.add((target[1], OPERATORS[CODES[target[1]].op].cat_index(target[2])))
    # (b) transitive relations
    edges = _edges(cats)
    for ci in np.nonzero(_ELIGIBLE[_ARANGE[:len(cats)], cats])[0]:
        c = CODES[int(ci)]
        cat = int(cats[c.index])
        cname = OPERATORS[c.op].categories[cat]
        if (c.index, cat) in dropped:
            continue
        if cname in c.support2 and any(SUPERS[s].name in produced for s in pc.SUPPORTED_BY.get((c.index, cat), [])):
            continue
        if c.op in edges:
            a, b = c.joints
            pos = cname in ("above", "front", "at_left")
            if _implied(edges[c.op], *(a, b) if pos else (b, a)):
                continue
        f = _code_fact(c.index, cat)
        if f is not None:
            facts.append(f)
    for s in SUPERS:
        if s.name in produced:
            facts.append(_super_fact(s.index))
    # (c) random skip of non-rare codes
    if rng is not None:
        facts = [f for f in facts if f.rare or rng.random() >= PROP_SKIP_POSECODES]
    # nearly straight limb + orientation of its upper segment: talk about the whole limb
    facts = _limb_merge(facts, cats)
    facts.sort(key=lambda f: f.key)
    return facts


def _limb_merge(facts: list[Fact], cats: np.ndarray) -> list[Fact]:
    out = []
    for f in facts:
        if f.tid.startswith("vaxis:") and f.subj[0].noun in ("thigh", "upper arm"):
            s = f.subj[0].side
            chain = (f"{s}_hip", f"{s}_knee", f"{s}_ankle") if f.subj[0].noun == "thigh" else \
                (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist")
            ai = _C("angle", *chain)
            if OPERATORS["angle"].categories[cats[ai]] in ("straight", "slightly_bent"):
                limb = "leg" if f.subj[0].noun == "thigh" else "arm"
                f = Fact(f.tid, (Ent(limb, s),), f.obj, (_OP_RANK["angle"],) + tuple(f.key[1:]), f.rare,
                         f.code, f.sup, f.cat)
        out.append(f)
    return out


# ------------------------------------------------------------------------------------------------------
# aggregation
# ------------------------------------------------------------------------------------------------------


def _mirror_ent(e: Ent | None) -> Ent | None:
    if e is None or e.side not in ("left", "right"):
        return e
    return Ent(e.noun, "right" if e.side == "left" else "left", e.many)


def _sym_merge(facts: list[Fact], agg) -> list[Fact]:
    out: list[Fact] = []
    used = set()
    for a in range(len(facts)):
        if a in used:
            continue
        fa = facts[a]
        merged = None
        if len(fa.subj) == 1 and fa.subj[0].side in ("left", "right"):
            for b in range(a + 1, len(facts)):
                fb = facts[b]
                if b in used or fb.tid != fa.tid or len(fb.subj) != 1:
                    continue
                if fb.subj[0] != _mirror_ent(fa.subj[0]) or fb.obj != _mirror_ent(fa.obj):
                    continue
                if fa.key[:3] != fb.key[:3] and not (fa.sup >= 0 and fb.sup >= 0):
                    continue
                if not agg():
                    break
                if fa.obj is None or fa.obj.side is None:
                    obj, subj = fa.obj, Ent(fa.subj[0].noun, "both")
                elif fa.obj.side == fa.subj[0].side:
                    obj, subj = Ent(fa.obj.noun, "same"), Ent(fa.subj[0].noun, "both")
                else:
                    obj, subj = Ent(fa.obj.noun, "opposite"), Ent(fa.subj[0].noun, "each")
                merged = Fact(fa.tid, (subj,), obj, fa.key, fa.rare or fb.rare, fa.code, fa.sup, fa.cat)
                used.add(b)
                break
        out.append(merged or fa)
    return out


def _shared_interpretation(facts: list[Fact], agg) -> list[Fact]:
    out: list[Fact] = []
    used = set()
    for a in range(len(facts)):
        if a in used:
            continue
        fa = facts[a]
        never_grouped = fa.tid.startswith(("inclX", "lean", "twist", "head", "dist_pair", "crossX", "higher", "in_front"))
        if fa.preds or (fa.tid.startswith("super") and fa.tid != "super:shoulder_width") or never_grouped \
                or fa.subj[0] == PERSON:
            out.append(fa)
            continue
        subj = list(fa.subj)
        for b in range(a + 1, len(facts)):
            fb = facts[b]
            if b in used or fb.preds or fb.tid != fa.tid or fb.obj != fa.obj or len(subj) >= 3:
                continue
            if any(e in subj for e in fb.subj):
                continue
            if not agg():
                break
            subj += list(fb.subj)
            used.add(b)
        grouped = len(subj) > len(fa.subj)
        out.append(Fact(fa.tid, tuple(subj), fa.obj, fa.key, fa.rare, fa.code, fa.sup, fa.cat) if grouped else fa)
    return out


def _shared_subject(facts: list[Fact], agg) -> list[Fact]:
    out: list[Fact] = []
    used = set()
    for a in range(len(facts)):
        if a in used:
            continue
        fa = facts[a]
        group = [fa]
        for b in range(a + 1, len(facts)):
            fb = facts[b]
            if b in used or fb.subj != fa.subj or len(group) >= 3:
                continue
            if not agg():
                break
            group.append(fb)
            used.add(b)
        if len(group) == 1:
            out.append(fa)
        else:
            g = Fact(fa.tid, fa.subj, fa.obj, fa.key, any(x.rare for x in group), fa.code, fa.sup, fa.cat)
            g.preds = [(x.tid, x.obj) for x in group]
            out.append(g)
    return out


def aggregate(facts: list[Fact], rng: np.random.Generator | None) -> list[Fact]:
    def agg() -> bool:
        return True if rng is None else rng.random() < PROP_AGGREGATION_HAPPENS

    facts = _sym_merge(facts, agg)
    facts = _shared_subject(facts, agg)
    return _shared_interpretation(facts, agg)


# ------------------------------------------------------------------------------------------------------
# conversion
# ------------------------------------------------------------------------------------------------------


class _Ctx:
    """Per-description wording choices (determiners, pronouns; in noisy mode also the style: prose / human /
    fragments, British spelling, casual text, a typo)."""

    def __init__(self, rng: np.random.Generator | None, values: np.ndarray | None = None):
        self.rng = rng
        self.values = values  # the pose's measured posecode values (noisy mode: numbers with units)
        self.style, self.uk, self.casual, self.typo = "prose", False, False, False
        self.tid = ""
        if rng is None:
            self.poss, self.pron = "their", "they"
        else:
            self.poss, self.pron = [("their", "they"), ("his", "he"), ("her", "she")][
                int(rng.choice(3, p=[0.6, 0.2, 0.2]))]
            u = rng.random()
            self.style = "prose" if u < PROP_PROSE else ("human" if u < PROP_PROSE + PROP_HUMAN else "fragments")
            self.uk, self.casual, self.typo = (bool(rng.random() < p) for p in (PROP_UK, PROP_CASUAL, PROP_TYPO))
        self.person_named = False

    def pick(self, options: list[str] | tuple[str, ...]) -> str:
        return options[0] if self.rng is None else options[int(self.rng.integers(len(options)))]

    def chance(self, p: float) -> bool:
        return self.rng is not None and self.rng.random() < p

    def template(self, tid: str) -> str:
        """A template for ``tid``: the first one (deterministic), else the classic or the human table."""
        human = dp.HUMAN_T.get(tid)
        if human and self.chance(0.3 if self.style == "prose" else 0.7):
            t = self.sizes(self.pick(human))
        else:
            t = self.pick(T[tid])
        if tid in dp.LOCATIVE_TIDS and t.startswith("{s} [is|are] ") and self.chance(0.3):
            head = t[len("{s} [is|are] "):]
            if head.split(" ", 1)[0] in dp.LOCATIVE_HEADS:
                adv = self.pick(dp.CLEARLY) + " " if self.chance(0.3) else ""
                t = f"{{s}} [is|are] {adv}{self.pick(dp.LOCATIVE_VERBS)} {head}"
        return t

    def sizes(self, t: str) -> str:
        if "{small}" in t:
            t = t.replace("{small}", self.pick(_SMALL))
        if "{large}" in t:
            t = t.replace("{large}", self.pick(dp.HEDGE_LARGE))
        if "{medium}" in t:
            t = t.replace("{medium}", self.pick(ph.HEDGE_MEDIUM_AFTER))
        if "{approx}" in t:
            t = t.replace("{approx}", self.pick(ph.APPROX))
        return t

    def det(self) -> str:
        if self.rng is None or self.rng.random() < 0.5:
            return "the"
        return self.poss

    def person(self) -> tuple[str, bool]:
        if not self.person_named:
            self.person_named = True
            if self.chance(0.5):
                if self.pron == "they" and self.chance(0.4):
                    return ("the " + self.pick(ph.THIRD_NOUNS), False)
                return (self.pick(dp.PERSON_NOUNS[self.pron]), False)
            return (self.pick(["the person", "this person", "the figure"]), False)
        return (self.pron, self.pron == "they")

    def noun(self, n: str, plural_form: bool) -> str:
        """The noun (noisy mode: now and then a synonym that stays true for the current template)."""
        syn = dp.NOUN_SYNONYMS.get(n)
        if syn is not None and self.chance(0.35) and (n != "hand" or self.tid in dp.HAND_SYNONYM_OK):
            w = self.pick(syn)
            return dp.PLURAL_SYNONYMS.get(w, plural(w)) if plural_form and w != n else (plural(n) if plural_form
                                                                                       else w)
        return plural(n) if plural_form else n

    def np(self, e: Ent, as_object: bool = False) -> str:
        if e == PERSON:
            return self.person()[0]
        d = self.det()
        if e.side in ("left", "right"):
            return f"{d} {e.side} {self.noun(e.noun, False)}"
        if e.side == "both":
            if self.rng is None or self.rng.random() < 0.6:
                return f"both {self.noun(e.noun, True)}"
            return f"{d} {self.noun(e.noun, True)}"
        if e.side in ("pair", "same"):
            return f"{d} {self.noun(e.noun, True)}"
        if e.side == "each":
            return f"each {self.noun(e.noun, False)}"
        if e.side == "opposite":
            return f"the opposite {self.noun(e.noun, False)}"
        return f"{d} {self.noun(e.noun, False)}"


def _predicate(ctx: _Ctx, tid: str, obj: Ent | None, plural_subj: bool) -> str:
    ctx.tid = tid
    t = ctx.template(tid)
    assert t.startswith("{s} ")
    t = agree(t[4:], plural_subj)
    return t.format(o=ctx.np(obj, True) if obj is not None else "", poss=ctx.poss)


def _clause(ctx: _Ctx, f: Fact) -> tuple[str, bool]:
    """Render a fact; returns (clause, be_form) where be_form says the clause reads "<subject> is/are ..."."""
    ctx.tid = f.tid
    if f.subj == (PERSON,):
        s, pron_plural = ctx.person()
        plural_s = pron_plural
    else:
        s = join_list([ctx.np(e) for e in f.subj])
        plural_s = f.plural
        if len(f.subj) == 1 and f.subj[0].side == "each":
            plural_s = False
    preds = f.preds or [(f.tid, f.obj)]
    num = _numbered(ctx, f) if ctx.rng is not None and not f.preds else None
    parts = [num] if num else [_predicate(ctx, tid, obj, plural_s) for tid, obj in preds]
    if num:
        parts = [agree(num, plural_s)]
    be = all(p.startswith(("is ", "are ")) for p in parts)
    if be:  # "is above the head and near the shoulder": say the verb once
        parts = [parts[0]] + [p.split(" ", 1)[1] for p in parts[1:]]
    return f"{s} {join_list(parts)}", be


def convert(facts: list[Fact], rng: np.random.Generator | None, values: np.ndarray | None = None) -> str:
    """Sentences for ``facts``; ``values`` (the pose's measured posecode values) lets noisy mode state numbers."""
    if not facts:
        return "The person is in a neutral pose."  # nothing noteworthy was found
    ctx = _Ctx(rng, values)
    if rng is not None and ctx.style == "fragments":
        return _surface(ctx, _fragments(ctx, facts))
    clauses = [_clause(ctx, f) for f in facts]
    out: list[str] = []
    k = 0
    while k < len(clauses):
        text, _ = clauses[k]
        k += 1
        short = " and " not in text and k < len(clauses) and " and " not in clauses[k][0]
        if k < len(clauses) and (short if rng is None else rng.random() < (0.6 if short else 0.25)):
            nxt, be = clauses[k]
            if rng is None:
                tr = " and "
            elif ctx.style == "human" and ctx.chance(0.3):
                tr = ctx.pick(dp.TRANSITIONS_HUMAN)
            else:
                tr = TRANSITIONS[int(rng.integers(len(TRANSITIONS)))]
                if tr == " with " and (not be or facts[k].subj == (PERSON,)):
                    tr = " while "
            if tr == " with ":
                subj, rest = nxt.split(" is ", 1) if " is " in nxt else nxt.split(" are ", 1)
                nxt = f"{subj} {rest}"
            text = text + tr + nxt
            k += 1
        if ctx.style == "human" and ctx.chance(0.1):
            text = ctx.pick(dp.CLAUSE_FRAMES).format(c=text[:1].lower() + text[1:])
        out.append(capitalize(text.strip()) + ".")
    if rng is None:
        return tidy(" ".join(out))
    return _surface(ctx, tidy(" ".join(out)))


# ------------------------------------------------------------------------------------------------------
# noisy mode: human phrasing (numbers with units, fragments, British / casual forms, typos)
# ------------------------------------------------------------------------------------------------------


def _degrees(ctx: _Ctx, n: int) -> str:
    unit = ctx.pick(("degrees", "degrees", "°", "deg", "degrees"))
    if unit == "°":
        return f"{n}°"
    return f"{ph.number_words(n) if ctx.chance(0.3) and n < 1000 else n} {unit}"


def _round_deg(v: float) -> int:
    return max(5, int(round(v / 5.0)) * 5) if v < 100 else int(round(v / 10.0)) * 10


def _distance(ctx: _Ctx, v: float) -> tuple[str, float]:
    """A distance close to ``v`` metres, as said by people, and the value it states (metres)."""
    if v >= 0.9 and ctx.chance(0.4):
        return (ctx.pick(("a metre", "a metre or so")) if ctx.uk else ctx.pick(("a meter", "a yard"))), 1.0
    if ctx.chance(0.35):
        inch = int(round(v / 0.0254 / 2.0)) * 2
        num = ph.number_words(inch) if ctx.chance(0.3) else str(inch)
        return f"{num} inches", inch * 0.0254
    cm = int(round(v * 20.0)) * 5
    unit = ctx.pick(("cm", "cm", "centimetres" if ctx.uk else "centimeters"))
    return f"{cm} {unit}", cm / 100.0


def _numbered(ctx: _Ctx, f: Fact) -> str | None:
    """A statement of ``f`` with its measured number and unit, when the rounded number stays in the fact's own
    category (else None: the words must stay true to the code the description records)."""
    if ctx.values is None or f.code < 0 or len(f.subj) != 1 or not ctx.chance(0.45):
        return None
    c = CODES[f.code]
    op = OPERATORS[c.op]
    v = float(ctx.values[f.code])
    if c.op == "angle" and f.subj[0].side in ("left", "right") and op.categories[f.cat] != "straight":
        if ctx.chance(0.5):
            n = _round_deg(v)
            key, stated = "angle", n
        else:
            n = _round_deg(180.0 - v)
            key, stated = "flex", 180 - n
    elif c.op == "bodyInclineX" and op.categories[f.cat] != "ignored":
        n = _round_deg(abs(v))
        key, stated = ("inclX:forward" if v > 0 else "inclX:backward"), (n if v > 0 else -n)
    elif c.op == "relativeRotY" and op.categories[f.cat] != "ignored":
        n = _round_deg(abs(v))
        key, stated = ("headY:left" if v > 0 else "headY:right"), (n if v > 0 else -n)
    elif c.op == "distance" and f.subj[0].side == "pair":
        text, val = _distance(ctx, v)
        if int(op.bin(np.asarray([val], np.float32))[0]) != f.cat or abs(val - v) > 0.25 * v + 0.03:
            return None
        return ctx.sizes(ctx.pick(dp.NUMBERED["dist"]).replace("{n}", text))[4:]
    else:
        return None
    if int(op.bin(np.asarray([stated], np.float32))[0]) != f.cat:
        return None
    return ctx.sizes(ctx.pick(dp.NUMBERED[key]).replace("{n}", _degrees(ctx, n)))[4:]


def _fragment_subject(ctx: _Ctx, e: Ent) -> str:
    if e.side in ("left", "right"):
        return f"{e.side} {ctx.noun(e.noun, False)}"
    if e.side == "both":
        return f"{ctx.pick(('both ', ''))}{ctx.noun(e.noun, True)}"
    if e.side in ("pair", "same"):
        return ctx.noun(e.noun, True)
    return ctx.np(e)


def _fragment_predicate(ctx: _Ctx, tid: str, obj: Ent | None, plural_subj: bool) -> str | None:
    ctx.tid = tid
    options = list(dp.FRAGMENTS.get(tid, []))
    options += [t[len("{s} [is|are] "):] for t in T[tid] + dp.HUMAN_T.get(tid, []) if t.startswith("{s} [is|are] ")]
    if not options:
        return None
    t = ctx.sizes(ctx.pick(options))
    o = ""
    if obj is not None:
        o = ctx.np(obj, True)
        if o.startswith("the ") and ctx.chance(0.5):
            o = o[4:]
    return agree(t, plural_subj).format(o=o, poss=ctx.poss)


def _fragment(ctx: _Ctx, f: Fact) -> str:
    """One short fragment ("left arm up over the head", "leaning forward a bit"), else a plain clause."""
    ctx.tid = f.tid
    if f.subj == (PERSON,):
        opts = dp.PERSON_FRAGMENTS.get(f.tid)
        return ctx.sizes(ctx.pick(opts)) if opts else _clause(ctx, f)[0]
    preds = f.preds or [(f.tid, f.obj)]
    subj = join_list([_fragment_subject(ctx, e) for e in f.subj])
    num = _numbered(ctx, f) if not f.preds else None
    if num:
        return f"{subj} {agree(num, f.plural)}"
    parts = [_fragment_predicate(ctx, tid, obj, f.plural) for tid, obj in preds]
    if any(p is None for p in parts):
        return _clause(ctx, f)[0]
    return f"{subj} {join_list([p for p in parts if p])}"


def _fragments(ctx: _Ctx, facts: list[Fact]) -> str:
    frags = [_fragment(ctx, f) for f in facts]
    sep = ctx.pick((", ", ", ", "; ", ". "))
    text = sep.join(frags)
    if sep == ". ":
        text = ". ".join(capitalize(x) for x in text.split(". "))
    if sep != ". " and ctx.chance(0.3):
        text = f"{ctx.pick(dp.PROMPT_FRAMES)} {text}"
    return tidy(capitalize(text) + ctx.pick((".", "", ".")))


def _swap_words(text: str, table: dict[str, str], ctx: _Ctx, p: float) -> str:
    for a, b in table.items():
        if re.search(rf"\b{re.escape(a)}\b", text) and ctx.chance(p):
            text = re.sub(rf"\b{re.escape(a)}\b", b, text)
    return text


def _surface(ctx: _Ctx, text: str) -> str:
    """British spelling, casual forms and a typo, by the description's draws (sides and part nouns untouched)."""
    if ctx.uk:
        uk = {a: b for a, (_, b) in ph.SPELLING.items() if a != "around"}
        text = _swap_words(text, {**uk, **dp.UK_FORMS}, ctx, 0.8)
    if ctx.style != "prose" and ctx.chance(0.12):
        text = capitalize(ctx.pick(dp.OPENERS)) + ", " + text[:1].lower() + text[1:]
    if ctx.casual:
        text = text.lower().replace(". ", ctx.pick((" ", ", ", ". "))).rstrip(".")
        text = _swap_words(text, {**ph.CASUAL_WORDS, **dp.CASUAL_MORE}, ctx, 0.5)
        if ctx.chance(0.3):
            text = f"{ctx.pick(ph.CASUAL_OPENERS)} {text}"
        if ctx.chance(0.2):
            text = f"{text} {ctx.pick(ph.CASUAL_CLOSERS)}"
    if ctx.typo:
        present = [w for w in dp.DESCRIPTION_TYPOS if re.search(rf"\b{w}\b", text)]
        if present:
            w = ctx.pick(present)
            text = re.sub(rf"\b{w}\b", dp.DESCRIPTION_TYPOS[w], text, count=1)
    return text


# ------------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------------


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def describe(poses: Pose | PosecodeSet, seed: int | np.random.Generator | None = None,
             deterministic: bool = False, rest_joints: np.ndarray | None = None) -> str | list[str]:
    """Describe one pose (returns a str) or a batch (returns a list of str).

    ``deterministic=True``: no noise, no skipping, always aggregate, fixed wording (the app's mode).
    Otherwise randomness comes from ``seed`` (an int, a Generator, or None for fresh entropy)."""
    single = isinstance(poses, Pose) and poses.batch_shape == ()
    rng = None if deterministic else _rng(seed)
    if isinstance(poses, PosecodeSet) and poses.cats.shape[1] != pc.NUM_CODES:
        raise ValueError(f"describe needs posecodes of the full inventory ({pc.NUM_CODES} columns), got "
                         f"{poses.cats.shape[1]} (a v1 view?): extract them with inventory='full'")
    pcs = poses if isinstance(poses, PosecodeSet) else pc.extract(poses, rng, rest_joints)
    texts = []
    for i in range(len(pcs)):
        facts = select(pcs, i, rng)
        facts = aggregate(facts, rng)
        texts.append(convert(facts, rng, pcs.values[i]))
    return texts[0] if single else texts
