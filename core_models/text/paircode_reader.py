"""Read an instruction into the paircode changes it asks for (text → :data:`core_models.captioning.compare.PAIRS`).

``read_changes(text)`` goes through the human-phrasing parser (:func:`core_models.text.parse.parse_sentence`:
typos, shorthand, references, holds, goal tails) and maps every understood action onto the paircodes that
measure it, with the sign the paircode value ``measure(A) - measure(B)`` must take (``rotation``:
``heading(B) - heading(A)``):

==========================  =====================================================  ======================
clause (part, measure)      paircode                                               "positive" direction
==========================  =====================================================  ======================
arm / leg flexion           ``pair_angle`` shoulder-elbow-wrist / hip-knee-ankle   bend → +1
hand, elbow, foot, knee     ``pair_posY`` / ``pair_posZ`` / ``pair_posX`` of it     raise, forward, left → −1
height / forward / sideways (arm, hand → hand; leg, foot → foot)
both hands / feet apart     ``pair_distance`` left–right                           apart → −1
hand / foot to the body     ``pair_distance`` limb–torso                           closer → +1
torso lean / side lean      ``pair_inclineX`` / ``pair_inclineZ``                  forward, left → −1
torso twist                 ``pair_inclineY``                                      left → +1
turn (no torso word)        ``rotation`` (the heading)                             left → +1
head flexion / turn / tilt  ``pair_rotX`` / ``pair_rotY`` / ``pair_rotZ``         down → −1, left → −1, left → +1
==========================  =====================================================  ======================

The parser does not read "together" / "closer" / "in close to your body": clauses it leaves unused with a part
are read here for those distance changes. Nothing here looks at a pose; an instruction without a usable clause
reads as no change (``[]``)."""
from __future__ import annotations

from dataclasses import dataclass

from core_models.captioning.compare import PAIR_OPS, PAIRS, pair
from core_models.text.parse import LIMB, Action, Clause, normalise, parse_sentence


@dataclass(frozen=True)
class ExpectedChange:
    """One paircode an instruction names: ``code`` (index in ``compare.PAIRS``) must end beyond its "ignored"
    band on the side ``sign`` (+1 / −1 of the value ``measure(A) - measure(B)``)."""
    code: int
    sign: int
    clause: str = ""

    @property
    def key(self) -> str:
        return PAIRS[self.code].key

    def threshold(self) -> float:
        """|value| from which the change counts (the edge of the "ignored" band on the ``sign`` side)."""
        op = PAIR_OPS[PAIRS[self.code].op]
        mid = op.categories.index("ignored")
        return float(op.thresholds[mid] if self.sign > 0 else -op.thresholds[mid - 1])


#: the joint whose position a limb clause moves (arm / hand → the hand, leg / foot → the foot)
_END = {"arm": "hand", "hand": "hand", "elbow": "elbow", "leg": "foot", "foot": "foot", "knee": "knee"}
_POS = {"height": "pair_posY", "forward": "pair_posZ", "sideways": "pair_posX"}
_TORSO_WORDS = frozenset("torso chest trunk spine shoulders hips waist body upper".split())
_TOGETHER = frozenset("together closer join touch touching close".split())
_APART = frozenset("apart further farther wider wide separate spread".split())
_BODY = frozenset("body torso side sides".split())


def _limb_codes(c: Clause, a: Action, words: set[str]) -> list[tuple[int, int]]:
    part, limb = str(c.part), LIMB[str(c.part)]
    sides = c.sides or ("left", "right")
    if a.kind == "flexion":
        chain = ("shoulder", "elbow", "wrist") if limb == "arm" else ("hip", "knee", "ankle")
        return [(pair("pair_angle", *(f"{s}_{j}" for j in chain)), a.direction) for s in sides]
    end = _END[part]
    if a.kind == "sideways":
        if "body" in words and words & {"away", "from"}:  # "move your left foot away from your body"
            return [(pair("pair_distance", f"{s}_{end}", "torso"), -1) for s in sides]
        if len(sides) == 2 and a.direction == 0 and end in ("hand", "elbow", "foot", "knee"):
            return [(pair("pair_distance", f"left_{end}", f"right_{end}"), -1)]  # "move your hands apart"
        dirs = [a.direction or (1 if s == "left" else -1) for s in sides]
        return [(pair("pair_posX", f"{s}_{end}"), -d) for s, d in zip(sides, dirs)]
    if a.kind in _POS:
        return [(pair(_POS[a.kind], f"{s}_{end}"), -a.direction) for s in sides]
    return []


def _centre_codes(c: Clause, a: Action, words: set[str]) -> list[tuple[int, int]]:
    d = a.direction
    if c.part == "head":
        op = {"flexion": "pair_rotX", "turn": "pair_rotY", "tilt": "pair_rotZ"}.get(a.kind)
        if op is None or not d:
            return []
        joints = ("pelvis", "head") if op == "pair_rotY" else ("neck", "head")
        return [(pair(op, *joints), d if op == "pair_rotZ" else -d)]
    if c.part != "torso" or not d:
        return []
    if a.kind == "flexion":
        return [(pair("pair_inclineX", *_WHOLE), -d)]
    if a.kind == "sideways":
        return [(pair("pair_inclineZ", *_WHOLE), -d)]
    if a.kind == "turn":
        if words & _TORSO_WORDS:
            return [(pair("pair_inclineY", *_WHOLE), d)]
        return [(pair("rotation", "pelvis"), d)]  # "turn to the left": the whole body's heading
    return []


_WHOLE = ("left_shoulder", "right_shoulder", "pelvis", "left_ankle", "right_ankle")


def _distance_codes(c: Clause, words: set[str]) -> list[tuple[int, int]]:
    """Clauses the parser leaves unused: "bring your hands together", "tuck your left hand in close to your body"."""
    if c.part not in _END or not words & (_TOGETHER | _APART | {"tuck", "in"}):
        return []
    end = _END[str(c.part)]
    sign = -1 if words & _APART else 1
    if words & _BODY or "tuck" in words or ("in" in words and not words & _TOGETHER):
        return [(pair("pair_distance", f"{s}_{end}", "torso"), sign) for s in (c.sides or ("left", "right"))]
    if len(c.sides) == 2 or words & {"together", "each"}:
        return [(pair("pair_distance", f"left_{end}", f"right_{end}"), sign)]
    return []


def clause_changes(c: Clause) -> list[ExpectedChange]:
    """The paircode changes of one parsed clause (none for holds and clauses without a part)."""
    words = set(normalise(c.text))
    out: list[tuple[int, int]] = []
    if c.role == "action":
        for a in c.actions:
            out += _limb_codes(c, a, words) if c.part in LIMB else _centre_codes(c, a, words)
    elif c.role == "unused" and c.part is not None:
        out = _distance_codes(c, words)
    return [ExpectedChange(code, int(sign), c.text) for code, sign in out if sign]


def read_changes(text: str) -> list[ExpectedChange]:
    """Every paircode change ``text`` asks for, in sentence order, one per code (a later clause on the same code
    wins: "raise your arm … no, lower it"). Empty, nonsense and over-long text give []."""
    found: dict[int, ExpectedChange] = {}
    for c in parse_sentence(text).clauses:
        for ch in clause_changes(c):
            found.pop(ch.code, None)
            found[ch.code] = ch
    return list(found.values())
