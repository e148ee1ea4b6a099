"""The widened modifier grammar: human-style instructions for a measured pose change A → B (noisy mode).

:mod:`core_models.captioning.compare` turns the paircodes of a pair into :class:`Move` s (what changes, on
which side, by how much, measured), and :func:`render` writes them as people do: verb and part synonyms,
body- and room-relative directions, sizes with units taken from the measured change (degrees, cm, inches,
"a foot", "a hand's width") or hedges ("slightly", "a lot") only in the size class the change is in, goals
that are true for B ("until your hands touch"), "should be" statements, questions, second- and third-person
forms, multi-step sentences, pronoun carry-over ("bend your left knee and lift it", "that same leg") and hold
clauses ("keep your right leg where it is") that only name body parts that did not move.

Every sentence is built from the tables in :mod:`core_models.captioning.phrasing`; :func:`render` returns the
text and its :class:`Step` records (what each step says), which tests use to check the truth of the words.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core_models.captioning import phrasing as ph
from core_models.captioning.features import EXT_INDEX
from core_models.captioning.textutil import capitalize, tidy

#: size classes by unit: below the first bound "small", from the second "large"
SIZE_BOUNDS = {"deg": (22.0, 55.0), "m": (0.12, 0.30), "turn": (35.0, 100.0)}
PROP_HOLD = 0.4          # a text gets hold clauses (when some part did not move)
PROP_AMOUNT = 0.35       # a step states its size in units
PROP_HEDGE = 0.45        # ... or else in words
PROP_GOAL = 0.3          # a step gets a goal clause (when one is true)
PROP_CASUAL = 0.08
PROP_TYPO = 0.03
PROP_UK = 0.35
INCH = 0.0254

PART_GROUPS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")


@dataclass
class Move:
    """One measured change of a pair, as the grammar needs it."""

    kind: str                  # a key of phrasing.KINDS or "super:<name>"
    noun: str | None           # captioner noun ("hand", "knee", "leg", ...) or None (whole body, torso, head)
    side: str | None           # "left" / "right" / "both" / "pair" / None
    size: float                # measured |change| (largest over merged sides), "deg" or "m"
    size_min: float            # smallest over merged sides
    unit: str                  # "deg" / "m" / ""
    parts: tuple[str, ...]     # PART_GROUPS it moves ("body": all)
    joints: tuple[str, ...]    # captioning joints of the measure
    dir_side: str | None = None  # which way for lateral kinds
    legacy: str = ""           # the captioner's template id
    importance: float = 0.0
    obj: tuple[str, str | None] | None = None  # contact moves: (noun, side) of the part touched


@dataclass
class Step:
    """What one step of a text says (for checks): its move (None for a hold), size statements, held parts."""

    text: str
    move: Move | None
    stated: tuple[float, str] | None = None   # a number with unit, converted to degrees / metres
    hedge: str | None = None                  # "small" / "medium" / "large"
    held: tuple[str, ...] = ()                # PART_GROUPS a hold clause names
    goal: str = ""
    statement: bool = False                   # a "should be" statement, not a verb phrase


@dataclass
class Rendered:
    text: str
    steps: list[Step] = field(default_factory=list)


class _Ctx:
    """Random choices and the facts of one pair."""

    def __init__(self, r: random.Random, ca: np.ndarray, cb: np.ndarray, still: set[str]):
        self.r = r
        self.ca, self.cb = ca, cb
        self.still = still
        if r.random() < ph.PERSON_OTHER_P:
            self.subj, self.poss, self.modals = f"the {self.pick(ph.THIRD_NOUNS)}", "their", ph.PERSONS[4][2]
            k = -1
        else:
            k = r.choices(range(len(ph.PERSONS)), weights=ph.PERSON_P)[0]
            self.subj, self.poss, self.modals = ph.PERSONS[k]
        self.you = k == 0
        self.uk = r.random() < PROP_UK
        # "she bends her knee" instead of "she should bend her knee" (singular third persons only)
        self.simple = not self.you and self.subj != "they" and r.random() < 0.5
        self.last_np = ""

    def pick(self, options):
        return options[self.r.randrange(len(options))]

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def y(self, c: np.ndarray, j: str) -> float:
        return float(c[EXT_INDEX[j], 1])

    def dist(self, c: np.ndarray, a: str, b: str) -> float:
        return float(np.linalg.norm(c[EXT_INDEX[a]] - c[EXT_INDEX[b]]))


# --------------------------------------------------------------------------------------------------------
# words for parts, sizes and goals
# --------------------------------------------------------------------------------------------------------

_USE = {"bend": "angle", "straighten": "angle", "closer": "dist", "apart": "dist"}


def part_words(m: Move) -> tuple[tuple[str, str], ...]:
    use = _USE.get(m.kind, "pos")
    if m.noun is None:
        return ()
    return ph.PART_WORDS.get((m.noun, use)) or ((m.noun, m.noun + "s"),)


def part_np(ctx: _Ctx, m: Move) -> str:
    """The body part of a move as a noun phrase: "your left knee", "the right thigh", "both hands"."""
    if m.kind.startswith(("head_",)):
        return f"{ctx.poss} {ctx.pick(ph.HEAD_WORDS if m.kind == 'head_turn' else ('head',))}"
    if m.kind == "twist":
        return f"{ctx.poss} {ctx.pick(ph.TWIST_WORDS)}"
    words = part_words(m)
    if not words:
        return f"{ctx.poss} {ctx.pick(ph.TORSO_WORDS)}"
    sing, plur = ctx.pick(words)
    poss = ctx.poss if ctx.chance(0.7) else "the"
    if m.side in ("left", "right"):
        u = ctx.r.random()
        limb = ph.LIMB_OF.get(sing)
        if u < 0.04 and m.kind == "straighten" and sing in ("knee", "leg", "elbow", "arm") and \
                _angle(ctx.ca, *_chain(m)) < 140:
            return f"{poss} bent {m.side} {sing}"
        if u < 0.08 and sing in ("arm", "leg"):
            return f"{poss} {ctx.pick(('whole', 'entire'))} {m.side} {sing}"
        if u < 0.12 and limb and limb != sing:
            return f"the {sing} of {ctx.poss} {m.side} {limb}"
        if u < 0.16:
            return ctx.pick((f"{ctx.poss} {m.side}-side {sing}", f"{ctx.poss} {sing} on the {m.side}",
                             f"the {sing} on {ctx.poss} {m.side} side"))
        return f"{poss} {m.side} {sing}"
    if m.side == "both":
        return ctx.pick((f"both {plur}", f"{poss} {plur}", f"both of {ctx.poss} {plur}", f"{ctx.poss} two {plur}"))
    return f"{poss} {plur}"


def size_class(m: Move) -> str | None:
    """"small" / "medium" / "large" when every merged side is in that class, else None."""
    key = "turn" if m.kind in ("turn", "turn_around") else m.unit
    if key not in SIZE_BOUNDS:
        return None
    lo, hi = SIZE_BOUNDS[key]

    def cls(v: float) -> str:
        return "small" if v < lo else ("large" if v >= hi else "medium")
    a, b = cls(m.size_min), cls(m.size)
    return a if a == b else None


def round_degrees(v: float) -> int:
    if v < 30:
        return max(5, int(round(v / 5.0)) * 5)
    if 40 <= v <= 50:
        return 45
    if v < 100:
        return int(round(v / 10.0)) * 10
    return int(round(v / 15.0)) * 15


def _num(ctx: _Ctx, n: int) -> str:
    return ph.number_words(n) if ctx.chance(0.35) and n < 1000 else str(n)


def _cm_word(ctx: _Ctx, n: int) -> str:
    long = ("centimetre" if ctx.uk else "centimeter") + ("" if n == 1 else "s")
    return ctx.pick(("cm", "cm", long))


def distance_phrase(ctx: _Ctx, v: float) -> tuple[str, float]:
    """A distance in words close to ``v`` metres and the value it states (metres)."""
    options: list[tuple[str, float]] = []
    if 0.25 <= v <= 0.37:
        options.append((ctx.pick(("a foot", "about a foot", "roughly a foot", "a foot or so")), 0.3048))
    if 0.07 <= v <= 0.13:
        options.append((ctx.pick(("a hand's width", "about a hand's width", "a hand width")), 0.10))
    if 0.42 <= v <= 0.58:
        options.append((ctx.pick(("half a metre", "about half a metre") if ctx.uk else
                                 ("half a meter", "about half a meter")), 0.5))
    if 0.045 <= v <= 0.065:
        options.append(("a couple of inches", 2 * INCH))
    if 0.065 <= v <= 0.12:
        options.append((ctx.pick(("a few inches", "three or four inches")), 3.5 * INCH))
    for lo, hi, val, names in _BODY_UNITS:
        if lo <= v <= hi:
            name = ctx.pick(names)
            options.append((name.format(metre="metre" if ctx.uk else "meter"), val))
    cm = max(1, int(round(v * 100 / 5.0)) * 5) if v >= 0.1 else max(1, int(round(v * 100)))
    options.append((f"{ctx.pick(ph.APPROX)} {_num(ctx, cm)} {_cm_word(ctx, cm)}", cm / 100.0))
    inch = int(round(v / INCH)) if v < 12 * INCH else int(round(v / INCH / 2.0)) * 2
    if inch >= 1:
        unit = "inch" if inch == 1 else "inches"
        options.append((f"{ctx.pick(ph.APPROX)} {_num(ctx, inch)} {unit}", inch * INCH))
    return ctx.pick(options)


#: (min, max, stated value in metres, phrases) of everyday lengths
_BODY_UNITS = (
    (0.025, 0.045, 0.035, ("two fingers' width", "a couple of fingers' width", "two finger widths")),
    (0.08, 0.12, 0.10, ("a fist's width", "about a fist width", "the width of a fist")),
    (0.07, 0.11, 0.09, ("a palm's width", "the width of your palm", "about a palm")),
    (0.15, 0.21, 0.18, ("a pencil's length", "about the length of a pencil")),
    (0.26, 0.36, 0.30, ("a ruler's length", "about a ruler length", "the length of a ruler")),
    (0.22, 0.32, 0.27, ("a forearm's length", "about a forearm", "the length of a shoe", "a shoe's length")),
    (0.55, 0.80, 0.65, ("an arm's length", "about an arm's length")),
    (0.02, 0.04, 0.0254, ("an inch or so", "about an inch", "roughly an inch")),
    (0.015, 0.03, 0.02, ("a couple of centimetres", "a couple of centimeters", "a centimetre or two")),
    (0.12, 0.20, 0.15, ("several inches", "a good few inches", "half a foot or so")),
    (0.85, 1.15, 1.0, ("a {metre}", "about a {metre}", "roughly a yard")),
    (0.40, 0.50, 0.457, ("a foot and a half", "about eighteen inches")),
)
#: (min, max, stated degrees, phrases) for turns of the whole body
_TURN_UNITS = (
    (75, 105, 90.0, ("a quarter turn", "a quarter of a turn", "a ninety-degree turn")),
    (160, 181, 180.0, ("half a turn", "a half turn", "a full half turn")),
    (38, 52, 45.0, ("an eighth of a turn", "a forty-five-degree turn")),
    (110, 130, 120.0, ("a third of a turn",)),
)


def angle_phrase(ctx: _Ctx, v: float) -> tuple[str, float]:
    n = round_degrees(v)
    unit = ctx.pick(("degrees", "degrees", "degrees", "deg", "°"))
    num = str(n) if unit == "°" else _num(ctx, n)
    text = f"{num}°" if unit == "°" else f"{num} {unit}"
    return f"{ctx.pick(ph.APPROX)} {text}", float(n)


def amount(ctx: _Ctx, m: Move) -> tuple[str, tuple[float, str] | None, str | None]:
    """Size words for a move: (phrase, stated number, hedge class); all true to the measured change."""
    cls = size_class(m)
    exact = m.size_min >= 0.75 * m.size and m.unit in ("deg", "m") and not m.kind.startswith("super")
    if exact and ctx.chance(PROP_AMOUNT):
        text, val = (angle_phrase if m.unit == "deg" else distance_phrase)(ctx, m.size)
        if m.kind == "turn" and ctx.chance(0.5):
            units = [(ctx.pick(t[3]), t[2]) for t in _TURN_UNITS if t[0] <= m.size <= t[1]]
            if units:
                text, val = ctx.pick(units)
                return ctx.pick(("through ", "by ", "", "in ")) + text, (val, m.unit), None
        lead = "by " if m.kind in ("closer", "apart") else ctx.pick(("", "by ")) if m.kind != "turn" else ""
        return lead + text, (val, m.unit), None
    if cls is not None and ctx.chance(PROP_HEDGE):
        table = {"small": ph.HEDGE_SMALL_AFTER, "medium": ph.HEDGE_MEDIUM_AFTER, "large": ph.HEDGE_LARGE_AFTER}
        return ctx.pick(table[cls]), None, cls
    return "", None, None


# --------------------------------------------------------------------------------------------------------
# goals that are true for B (and not already for A)
# --------------------------------------------------------------------------------------------------------

def _angle(c: np.ndarray, a: str, b: str, d: str) -> float:
    u = c[EXT_INDEX[a]] - c[EXT_INDEX[b]]
    w = c[EXT_INDEX[d]] - c[EXT_INDEX[b]]
    cosv = float(np.dot(u, w) / max(np.linalg.norm(u) * np.linalg.norm(w), 1e-9))
    return float(np.degrees(np.arccos(np.clip(cosv, -1.0, 1.0))))


def _limb_goals(ctx: _Ctx, m: Move, s: str) -> list[str]:
    limb = "arm" if m.noun in ("elbow", "arm", "hand") else "leg"
    chain = (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist") if limb == "arm" else (f"{s}_hip", f"{s}_knee",
                                                                                   f"{s}_ankle")
    ang_b, ang_a = _angle(ctx.cb, *chain), _angle(ctx.ca, *chain)
    p = ctx.poss
    out = []
    if m.kind == "straighten" and ang_b > 165 and ang_a < 150:
        out += ["it is straight", f"{p} {s} {limb} is straight", f"{p} {limb} is fully extended",
                "it's completely straight"]
    elif m.kind == "straighten" and 150 <= ang_b <= 165 and ang_a < 135:
        out += ["it is almost straight", f"{p} {s} {limb} is nearly straight"]
    if m.kind == "bend" and 80 <= ang_b <= 100 and abs(ang_a - 90) > 25:
        out += ["it is at a right angle", "it makes a right angle", f"{p} {s} {limb} forms an L shape",
                "it's bent to about ninety degrees"]
    if m.kind == "bend" and limb == "arm" and ctx.dist(ctx.cb, f"{s}_hand", f"{s}_shoulder") < 0.12 \
            and ctx.dist(ctx.ca, f"{s}_hand", f"{s}_shoulder") > 0.22:
        out += [f"{p} {s} hand comes up to {p} shoulder", f"{p} hand reaches {p} {s} shoulder"]
    return out


def _height_goals(ctx: _Ctx, m: Move, s: str) -> list[str]:
    p, up = ctx.poss, m.kind == "raise"
    j = f"{s}_{m.noun}"
    yb, ya = ctx.y(ctx.cb, j), ctx.y(ctx.ca, j)
    out = []

    def near(ref: str, c: np.ndarray, tol: float) -> bool:
        return abs(ctx.y(c, j) - ctx.y(c, ref)) < tol
    if m.noun == "hand":
        if up and yb > ctx.y(ctx.cb, "head") + 0.05 and ya < ctx.y(ctx.ca, "head"):
            out += [f"it is above {p} head", f"{p} {s} hand is over {p} head"]
        if near(f"{s}_shoulder", ctx.cb, 0.06) and not near(f"{s}_shoulder", ctx.ca, 0.12):
            out += ["it is at shoulder height", f"{p} {s} hand is level with {p} shoulder"]
        if near(f"{s}_hip", ctx.cb, 0.06) and not near(f"{s}_hip", ctx.ca, 0.12):
            out += ["it is at hip height", f"{p} {s} hand is level with {p} hip"]
        for ref, names in (("spine3", ("chest", "breastbone")), ("spine1", ("waist", "belly button")),
                           ("head", ("eye", "forehead", "ear")), ("neck", ("chin", "collarbone"))):
            if near(ref, ctx.cb, 0.05) and not near(ref, ctx.ca, 0.12):
                out += [f"it is at {ctx.pick(names)} height", f"{p} {s} hand is level with {p} {ctx.pick(names)}"]
    if m.noun == "knee" and near(f"{s}_hip", ctx.cb, 0.06) and not near(f"{s}_hip", ctx.ca, 0.12):
        out += ["it is at hip height", f"{p} {s} knee is level with {p} hip", f"{p} {s} thigh is level"]
    if m.noun == "foot":
        other = "right" if s == "left" else "left"
        if near(f"{other}_knee", ctx.cb, 0.06) and not near(f"{other}_knee", ctx.ca, 0.12):
            out += [f"{p} {s} foot is level with {p} other knee", f"it is at the height of {p} {other} knee"]
    return out


def _pair_goals(ctx: _Ctx, m: Move) -> list[str]:
    n, p = m.noun, ctx.poss
    if n is None:
        return []
    db, da = ctx.dist(ctx.cb, f"left_{n}", f"right_{n}"), ctx.dist(ctx.ca, f"left_{n}", f"right_{n}")
    plural = "feet" if n == "foot" else n + "s"
    out = []
    if m.kind == "closer" and db < (0.08 if n == "hand" else 0.12) and da > 0.2:
        out += [f"{p} {plural} touch", f"{p} {plural} meet", f"{p} {plural} come together"]
    if m.kind == "apart" and n == "foot":
        sw = ctx.dist(ctx.cb, "left_shoulder", "right_shoulder")
        if abs(db - sw) < 0.06 and abs(da - sw) > 0.15:
            out += [f"{p} feet are shoulder-width apart", f"{p} feet are about shoulder width apart"]
    return out


def _place_goals(ctx: _Ctx, m: Move, s: str) -> list[str]:
    if m.noun != "foot" or m.kind not in ("forward", "back"):
        return []
    other = "right" if s == "left" else "left"
    zb = float(ctx.cb[EXT_INDEX[f"{s}_foot"], 2] - ctx.cb[EXT_INDEX[f"{other}_foot"], 2])
    za = float(ctx.ca[EXT_INDEX[f"{s}_foot"], 2] - ctx.ca[EXT_INDEX[f"{other}_foot"], 2])
    p = ctx.poss
    if m.kind == "forward" and zb > 0.12 and za < 0.02:
        return [f"{p} {s} foot is in front of the other one", f"{p} {s} foot is ahead of {p} {other} foot"]
    if m.kind == "back" and zb < -0.12 and za > -0.02:
        return [f"{p} {s} foot is behind the other one", f"{p} {s} foot is behind {p} {other} foot"]
    return []


def goal_clauses(ctx: _Ctx, m: Move) -> list[str]:
    """End states that B reaches and A did not, for this move."""
    s = m.side if m.side in ("left", "right") else None
    if m.kind in ("bend", "straighten") and s:
        return _limb_goals(ctx, m, s)
    if m.kind in ("raise", "lower") and s and m.noun in ("hand", "knee", "foot"):
        return _height_goals(ctx, m, s)
    if m.kind in ("closer", "apart") and m.side == "pair":
        return _pair_goals(ctx, m)
    if m.kind == "upright":
        return ["you are upright", f"{ctx.poss} back is vertical"] if ctx.you else [f"{ctx.poss} back is vertical"]
    if s:
        return _place_goals(ctx, m, s)
    return []


# --------------------------------------------------------------------------------------------------------
# one step
# --------------------------------------------------------------------------------------------------------

SUPER_VERBS: dict[str, tuple[str, ...]] = {
    "kneeling": ("kneel down", "come down onto {poss} knees", "get down on {poss} knees", "drop to {poss} knees",
                 "lower yourself onto both knees", "go down into a kneel"),
    "kneel_on_left": ("kneel on {poss} left knee", "bring {poss} left knee down to the floor",
                      "put {poss} left knee on the ground", "go down onto {poss} left knee"),
    "kneel_on_right": ("kneel on {poss} right knee", "bring {poss} right knee down to the floor",
                       "put {poss} right knee on the ground", "go down onto {poss} right knee"),
    "lying_on_back": ("lie down on {poss} back", "lie flat on {poss} back", "lie on {poss} back",
                      "get down onto {poss} back", "lie back flat"),
    "lying_face_down": ("lie face down", "lie down on {poss} stomach", "lie on {poss} front",
                        "lie flat on {poss} belly", "get down onto {poss} tummy"),
    "standing": ("stand up", "come up to standing", "get up", "get back on {poss} feet", "rise to standing",
                 "come back up to a stand"),
    "torso_horizontal": ("bring {poss} torso parallel to the floor", "level {poss} upper body with the floor",
                         "get {poss} back flat like a table top", "tip {poss} trunk forward until it is level"),
    "sitting_on_floor": ("sit down on the floor", "sit on the floor", "lower yourself to sit on the floor",
                         "come down to sitting on the floor"),
    "on_all_fours": ("get down on all fours", "come onto {poss} hands and knees", "go down on all fours",
                     "drop onto {poss} hands and knees"),
}
#: contact moves (full posecode inventory): "{p}" the moving part, "{o}" the part touched
CONTACT_VERBS: dict[str, tuple[str, ...]] = {
    "contact_make": ("put {p} on {o}", "bring {p} to {o}", "place {p} on {o}", "rest {p} on {o}",
                     "touch {o} with {p}", "reach {p} to {o}"),
    "contact_break": ("take {p} off {o}", "move {p} away from {o}", "lift {p} off {o}"),
    "contact_pair_make": ("bring {p} together until they touch", "press {p} together", "put {p} together",
                          "let {p} touch"),
    "contact_pair_break": ("separate {p}", "move {p} apart so they no longer touch", "open a gap between {p}"),
    "floor_make": ("put {p} on the floor", "place {p} down on the floor", "bring {p} down to the floor",
                   "lower {p} to the floor", "rest {p} on the floor"),
    "floor_break": ("lift {p} off the floor", "take {p} off the floor", "raise {p} off the floor",
                    "bring {p} up off the floor"),
}
_IRREGULAR_ING = {"lie": "lying", "get": "getting", "put": "putting", "set": "setting", "swing": "swinging",
                  "drop": "dropping", "step": "stepping", "tip": "tipping", "sit": "sitting", "nod": "nodding",
                  "hug": "hugging", "stop": "stopping", "plant": "planting", "spin": "spinning", "come": "coming",
                  "make": "making", "take": "taking", "ease": "easing", "rise": "rising", "move": "moving",
                  "slide": "sliding", "scoot": "scooting", "shove": "shoving", "glance": "glancing",
                  "increase": "increasing", "reduce": "reducing", "raise": "raising", "close": "closing",
                  "squeeze": "squeezing", "separate": "separating", "rotate": "rotating", "pivot": "pivoting",
                  "incline": "inclining", "recline": "reclining", "settle": "settling", "sweep": "sweeping",
                  "widen": "widening", "bow": "bowing", "level": "levelling", "drive": "driving",
                  "elevate": "elevating", "leave": "leaving", "lengthen": "lengthening", "have": "having",
                  "do": "doing", "go": "going", "face": "facing", "curl": "curling", "narrow": "narrowing",
                  "shrug": "shrugging", "relax": "relaxing", "press": "pressing", "cock": "cocking",
                  "hinge": "hinging", "pitch": "pitching", "sway": "swaying", "stack": "stacking",
                  "return": "returning", "deepen": "deepening", "draw": "drawing", "open": "opening"}


def _split_head(vp: str) -> tuple[str, str, str]:
    """(leading adverbs, verb, rest): "slightly raise your arm" → ("slightly ", "raise", "your arm")."""
    words = vp.split(" ")
    k = 0
    while k < len(words) - 1 and words[k] in _ADVERBS:
        k += 1
    lead = " ".join(words[:k])
    return (lead + " " if lead else ""), words[k], " ".join(words[k + 1:])


_ADVERBS = set(ph.HEDGE_SMALL_BEFORE) | {"gently", "slowly", "carefully"}


def gerund(vp: str) -> str:
    """"bend your knee" → "bending your knee" (leading adverbs kept in front)."""
    lead, head, rest = _split_head(vp)
    ing = _IRREGULAR_ING.get(head)
    if ing is None:
        ing = head[:-1] + "ing" if head.endswith("e") and not head.endswith("ee") else head + "ing"
    return f"{lead}{ing} {rest}".strip()


_IRREGULAR_S = {"do": "does", "go": "goes", "have": "has", "undo": "undoes"}


def third_person(vp: str) -> str:
    """"bend her knee" → "bends her knee"."""
    lead, head, rest = _split_head(vp)
    s = _IRREGULAR_S.get(head)
    if s is None:
        if head.endswith(("s", "sh", "ch", "x", "z")):
            s = head + "es"
        elif head.endswith("y") and head[-2:-1] not in "aeiou":
            s = head[:-1] + "ies"
        else:
            s = head + "s"
    return f"{lead}{s} {rest}".strip()


def _verbs(ctx: _Ctx, m: Move, np_: str) -> list[str]:
    spec = ph.KINDS[m.kind]
    options = list(spec["verbs"])
    if m.noun is not None and (m.noun not in ("arm", "leg") or np_.endswith((m.noun, m.noun + "s"))):
        options += list(ph.NOUN_VERBS.get((m.kind, m.noun), ()))
    if m.kind == "straighten" and m.legacy == "straighten" and m.side in ("left", "right") and \
            _angle(ctx.cb, *_chain(m)) > 165:
        options += list(ph.FULLY_STRAIGHT)
    if m.legacy == "bend_fully":
        options += list(ph.FULLY_BENT)
    if m.legacy == "bend_right_angle":
        options += list(ph.RIGHT_ANGLE)
    return options


def _chain(m: Move) -> tuple[str, str, str]:
    s = m.side or "left"
    if m.noun in ("elbow", "arm", "hand"):
        return (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist")
    return (f"{s}_hip", f"{s}_knee", f"{s}_ankle")


def verb_phrase(ctx: _Ctx, m: Move, np_: str) -> str:
    """A verb phrase for a move without size words ("lift your left knee up toward the ceiling"); at most one
    direction phrase is added to a complete verb."""
    spec = ph.KINDS[m.kind]
    if "moves" in spec and ctx.chance(0.3):
        vp = ctx.pick(spec["moves"]) + " " + ctx.pick(spec["dirs"])
    else:
        vp = ctx.pick(_verbs(ctx, m, np_))
        extra = _extra_direction(ctx, m, spec) if "{p}" in vp or m.kind.startswith("lean") else ""
        vp += " " + extra if extra else ""
    return vp.format(p=np_, poss=ctx.poss, side=m.dir_side or "", around="round" if ctx.uk else "around")


def _extra_direction(ctx: _Ctx, m: Move, spec: dict) -> str:
    """A room-relative, body-relative or landmark direction true for this move, or ""."""
    u = ctx.r.random()
    limb = m.noun is not None and m.side in ("left", "right")
    if u < 0.12 and m.kind in ph.ROOM:
        room = [r for r in ph.ROOM[m.kind] if ctx.you or "you" not in r]
        return ctx.pick(room) if room else ""
    if u < 0.3 and limb and m.kind in _LANDMARK_KINDS:
        toward = landmark_phrases(ctx, m)
        return ctx.pick(toward) if toward else ""
    if u < 0.4 and limb and m.kind in ("forward", "back"):
        z = ctx.cb[EXT_INDEX[f"{m.side}_{m.noun}"], 2] - ctx.cb[EXT_INDEX["torso"], 2]
        if m.kind == "forward" and z > 0.15:
            return "out in front of you" if ctx.you else "out in front"
        if m.kind == "back" and z < -0.1:
            return "behind you" if ctx.you else "behind the body"
        return ""
    if u < 0.55 and "extra" in spec:
        return ctx.pick(spec["extra"])
    return ""


_LANDMARK_KINDS = {"raise", "lower", "forward", "back", "out", "in"}


def landmark_phrases(ctx: _Ctx, m: Move) -> list[str]:
    """"toward your chest" / "away from your face": body landmarks the moving point gets clearly closer to
    or farther from (measured on A and B)."""
    s, j = m.side, f"{m.side}_{m.noun}"
    out = []
    for words, lm, sided in ph.LANDMARKS:
        ref = f"{s}_{lm}" if sided else lm
        if ref == j or ref not in EXT_INDEX or j not in EXT_INDEX:
            continue
        da, db = ctx.dist(ctx.ca, j, ref), ctx.dist(ctx.cb, j, ref)
        word = ctx.pick(words)
        if db < da - 0.1 and db < 0.7 * da:
            out.append(f"{ctx.pick(('toward', 'towards', 'in toward', 'closer to'))} {ctx.poss} {word}")
        elif db > da + 0.1 and db > 1.4 * da:
            out.append(f"away from {ctx.poss} {word}")
    return out


def should_phrase(ctx: _Ctx, m: Move, np_: str) -> str:
    if m.kind.startswith("super:"):
        state = {"kneeling": "kneeling", "kneel_on_left": "kneeling on {poss} left knee",
                 "kneel_on_right": "kneeling on {poss} right knee", "lying_on_back": "lying on {poss} back",
                 "lying_face_down": "lying face down", "standing": "standing",
                 "torso_horizontal": "leaning forward with {poss} back flat",
                 "sitting_on_floor": "sitting on the floor", "on_all_fours": "on all fours"}[m.kind[6:]]
        return f"{ctx.subj} {ctx.pick(('should', 'need to' if ctx.you else 'should'))} be {state}" \
            .format(poss=ctx.poss)
    t = ctx.pick(ph.KINDS[m.kind]["should"])
    if t.startswith("you ") and not ctx.you:
        t = ctx.subj + t[3:]
    text = t.format(p=np_, poss=ctx.poss, side=m.dir_side or "")
    plural = np_.split(" ")[-1] in _PLURAL_NOUNS or np_.startswith("both")
    if plural:  # "{p} is too low" with a plural part
        text = re.sub(r"\b(is|isn't|has|needs|stays)\b", lambda g: _PL[g.group(1)], text, count=1)
    return text


_COMPARATIVES = {"more", "less", "further", "closer", "higher", "lower", "straighter", "wider", "nearer"}
_SHOULD_HEDGE = {"small": ("slightly", "a little", "a bit", "a touch", "somewhat"),
                 "medium": ("noticeably", "quite a bit", "a fair bit"), "large": ("much", "a lot", "way", "far")}
_PL = {"is": "are", "isn't": "aren't", "has": "have", "needs": "need", "stays": "stay"}
_PLURAL_NOUNS = {"hands", "wrists", "arms", "palms", "fingertips", "fingers", "fists", "elbows", "knees", "thighs",
                 "legs", "kneecaps", "feet", "ankles", "heels", "toes", "shoulders", "joints", "arms"}


def _with_amount(ctx: _Ctx, vp: str, m: Move) -> tuple[str, Step]:
    words, stated, hedge = amount(ctx, m)
    if words and hedge == "small" and ctx.chance(0.25) and " " in vp:
        vp = f"{ctx.pick(ph.HEDGE_SMALL_BEFORE)} {vp}"
    elif words:
        vp = f"{vp} {words}"
    return vp, Step("", m, stated, hedge)


_NO_AMOUNT = {"upright", "upright_side", "turn_around"}
_END_STATE = ("all the way", "completely", "fully", "right angle", "ninety", "90", "L shape", "as far as", "tight",
              "lock out")


def render_step(ctx: _Ctx, m: Move, np_: str | None = None) -> Step:
    """One step: a verb phrase with size words and maybe a goal, or a "should be" statement."""
    if m.kind.startswith("super:"):
        if ctx.chance(0.1):
            return Step(should_phrase(ctx, m, ""), m, statement=True)
        return Step(ctx.pick(SUPER_VERBS[m.kind[6:]]).format(poss=ctx.poss), m)
    if m.kind in CONTACT_VERBS:
        return _contact_step(ctx, m, np_)
    pronoun = np_ in ("it", "them")
    np_ = np_ or part_np(ctx, m)
    if not pronoun:
        ctx.last_np = np_
    if not pronoun and ctx.chance(0.12):
        st = Step(should_phrase(ctx, m, np_), m, statement=True)
        if ctx.chance(0.15):
            st.text = f"{ctx.pick(ph.NOW_WORDS)} {st.text}"
        if st.text.split(" ")[0] in ("I", "there", "there's"):
            return st
        cls = size_class(m)
        after = st.text.partition(" should be ")[2]
        if cls is not None and ctx.chance(0.3) and after.split(" ")[0] in _COMPARATIVES:
            st.text = st.text.replace(" should be ", f" should be {ctx.pick(_SHOULD_HEDGE[cls])} ", 1)
            st.hedge = cls
        if after.split(" ")[0] in ("higher", "lower", "straighter") and ctx.chance(0.2):
            st.text += " " + ctx.pick(("than it is now", "than it is at the moment", "than it currently is",
                                       "than before", "compared with now", "compared to how it is now"))
        return st
    vp = verb_phrase(ctx, m, np_)
    if m.kind in _NO_AMOUNT or any(w in vp for w in _END_STATE):
        st = Step("", m)
    else:
        vp, st = _with_amount(ctx, vp, m)
    if ctx.chance(0.06):
        manner = ctx.pick(ph.MANNER + ph.MANNER_MORE)
        vp += " " + manner if ctx.you or "your" not in manner else ""
    if ctx.you and ctx.chance(0.12):
        images = ph.IMAGERY.get((m.kind, m.noun)) or ph.IMAGERY.get((m.kind, None))
        if images:
            vp += " " + ctx.pick(images)
    goals = goal_clauses(ctx, m) if ctx.chance(PROP_GOAL) else []
    if goals:
        st.goal = ctx.pick(goals)
        if np_.split(" ")[-1] in _PLURAL_NOUNS or np_ == "them":
            st.goal = re.sub(r"^it (is|'s|makes)\b", lambda g: {"is": "they are", "'s": "they're",
                                                               "makes": "they make"}[g.group(1)], st.goal)
        vp += f" {ctx.pick(('until', 'so that', 'so', 'until', 'till', 'to the point where'))} {st.goal}"
    st.text = vp
    return st


def _contact_np(ctx: _Ctx, noun: str, side: str | None) -> str:
    if side in ("left", "right"):
        return f"{ctx.poss} {side} {noun}"
    if side == "same":
        return f"{ctx.poss} {'feet' if noun == 'foot' else noun + 's'}"
    if side == "opposite":
        return f"the opposite {noun}"
    return f"{ctx.poss} {noun}"


def _contact_step(ctx: _Ctx, m: Move, np_: str | None) -> Step:
    """A contact made or broken: "put your left hand on your right knee", "lift your hands off the floor"."""
    options = CONTACT_VERBS[m.kind]
    if m.obj is None:
        options = tuple(t for t in options if "{o}" not in t) or options
    if np_ is None:
        np_ = part_np(ctx, m)
        ctx.last_np = np_
    o = _contact_np(ctx, *m.obj) if m.obj is not None else ""
    return Step(ctx.pick(options).format(p=np_, o=o, poss=ctx.poss), m)


# --------------------------------------------------------------------------------------------------------
# hold clauses (only parts measured as unchanged)
# --------------------------------------------------------------------------------------------------------

HOLD_NAMES: dict[str, tuple[str, ...]] = {
    "left_arm": ("{poss} left arm", "the left arm", "{poss} left hand", "{poss} left arm"),
    "right_arm": ("{poss} right arm", "the right arm", "{poss} right hand", "{poss} right arm"),
    "left_leg": ("{poss} left leg", "the left leg", "{poss} left foot", "{poss} left leg"),
    "right_leg": ("{poss} right leg", "the right leg", "{poss} right foot", "{poss} right leg"),
    "torso": ("{poss} torso", "{poss} upper body", "{poss} back", "{poss} chest", "{poss} trunk", "{poss} spine"),
    "head": ("{poss} head", "{poss} neck", "the head", "{poss} head and neck"),
    "arms": ("{poss} arms", "both arms", "{poss} hands", "both hands", "the arms"),
    "legs": ("{poss} legs", "both legs", "{poss} feet", "{poss} lower body", "the legs", "{poss} stance"),
}
_HOLD_GROUP = {"arms": ("left_arm", "right_arm"), "legs": ("left_leg", "right_leg")}
HOLD_STEP = (
    "keep {p} where {it} {is}", "keep {p} as {it} {is}", "keep {p} still", "keep {p} in place", "don't move {p}",
    "do not move {p}", "leave {p} as {it} {is}", "leave {p} alone", "leave {p} where {it} {is}",
    "{P} {stays} where {it} {is}", "{P} {stays} put", "{P} {doesnt} move", "hold {p} steady",
    "{P} should stay where {it} {is}", "keep {p} exactly the same", "don't change {p}", "{P} {is} fine as {it} {is}",
    "keep {p} the way {it} {is}", "{P} can stay where {it} {is}", "no need to move {p}", "{P} {stays} the same",
    "don't let {p} move", "try not to move {p}", "make sure {p} {doesnt} move", "{P} shouldn't move",
    "keep {p} steady", "hold {p} still", "{P} {stays} exactly where {it} {is}", "leave {p} untouched",
    "keep {p} frozen in place", "{P} {stays} as {it} {is}", "don't shift {p}",
) + ph.HOLD_MORE
HOLD_TAIL = ("without moving {p}", "while keeping {p} still", "but keep {p} where {it} {is}", "but leave {p} alone",
             "keeping {p} still", "and leave {p} as {it} {is}", "with {p} staying where {it} {is}",
             "but don't move {p}", "while {p} {stays} put", "and keep {p} still", "without changing {p}")
HOLD_REST = ("the rest stays the same", "everything else stays the same", "don't move anything else",
             "leave the rest as it is", "keep everything else still", "nothing else moves",
             "the rest of {poss} body stays where it is", "everything else stays put", "leave everything else alone",
             "don't change anything else", "keep the rest of {poss} body still", "the rest stays",
             "the rest of the pose stays the same", "everything else is fine as it is")


def _named_parts(moves: list[Move]) -> set[str]:
    out: set[str] = set()
    for m in moves:
        for p in m.parts:
            if p == "body":
                out.update(PART_GROUPS)
            elif p.startswith("both_"):
                out.update({f"left_{p[5:-1]}", f"right_{p[5:-1]}"})
            else:
                out.add(p)
    return out


def hold_step(ctx: _Ctx, moves: list[Move], tail: bool = False) -> Step | None:
    """A hold clause naming parts that did not move (or "the rest stays" when nothing unnamed moved)."""
    named = _named_parts(moves)
    free = [g for g in PART_GROUPS if g in ctx.still and g not in named]
    if not free or any("body" in m.parts for m in moves):
        return None
    if not tail and len(free) == len([g for g in PART_GROUPS if g not in named]) and ctx.chance(0.3):
        return Step(ctx.pick(HOLD_REST).format(poss=ctx.poss), None, held=tuple(free))
    cands = list(free) + [k for k, gs in _HOLD_GROUP.items() if all(g in free for g in gs)]
    key = ctx.pick(cands)
    held = _HOLD_GROUP.get(key, (key,))
    np_ = ctx.pick(HOLD_NAMES[key]).format(poss=ctx.poss)
    plural = key in _HOLD_GROUP or np_.endswith(("feet", "hands"))
    if not ctx.you and not tail:
        t = ctx.pick([h for h in HOLD_STEP if h.startswith("{P}")])
    else:
        t = ctx.pick(HOLD_TAIL if tail else HOLD_STEP)
    text = t.format(p=np_, P=np_, it="they" if plural else "it", **{
        "is": "are" if plural else "is", "stays": "stay" if plural else "stays",
        "doesnt": "don't" if plural else "doesn't"})
    return Step(text, None, held=held)


# --------------------------------------------------------------------------------------------------------
# sentences
# --------------------------------------------------------------------------------------------------------

def _reference(ctx: _Ctx, m: Move, prev: Move | None) -> tuple[str | None, bool]:
    """(noun phrase referring back to the previous step, joined with "and"?) or (None, False)."""
    if prev is None or m.noun is None or prev.noun is None or m.kind.startswith("super") \
            or prev.kind.startswith("super") or m.side not in ("left", "right", "both", "pair"):
        return None, False
    if prev.noun == m.noun and prev.side == m.side and ctx.chance(0.6):
        plural = m.side in ("both", "pair") or ctx.last_np.split(" ")[-1] in _PLURAL_NOUNS
        return ("them" if plural else "it"), True
    words = part_words(m)
    if m.side in ("left", "right") and prev.side == m.side and words and ctx.chance(0.4) and \
            ph.LIMB_OF.get(prev.noun) == ph.LIMB_OF.get(m.noun):
        sing = [w for w, _ in words if w not in _PLURAL_NOUNS] or ["one"]
        return ctx.pick(ph.SAME_REF).format(n=ctx.pick(sing)), False
    if m.side in ("left", "right") and prev.side in ("left", "right") and prev.side != m.side and \
            prev.kind == m.kind and prev.noun == m.noun and words and ctx.chance(0.5):
        return ctx.pick(ph.OTHER_REF).format(n=ctx.pick(words)[0]), False
    return None, False


def _sentence_sizes(ctx: _Ctx, n: int) -> list[int]:
    sizes = []
    while n > 0:
        k = min(n, ctx.r.choices((1, 2, 3, 4, 5), weights=(0.15, 0.3, 0.3, 0.15, 0.1))[0])
        sizes.append(k)
        n -= k
    return sizes


def _frame(ctx: _Ctx, body: str, first: bool, is_vp: bool, all_vp: bool) -> str:
    if not is_vp:
        return body
    if not ctx.you:
        return f"{ctx.subj} {body}" if ctx.simple else f"{ctx.subj} {ctx.pick(ctx.modals)} {body}"
    u = ctx.r.random()
    if u < 0.55:
        return f"{body} {ctx.pick(ph.POLITE)}" if ctx.chance(0.08) else body
    if u < 0.72:
        return ctx.pick(ph.FRAMES_SOFT).format(v=body)
    if u < 0.8:
        return ctx.pick(ph.FRAMES_FIRST if first else ph.FRAMES_LATER).format(v=body)
    if u < 0.83:
        return ctx.pick(ph.ORDINALS).format(v=body)
    if not all_vp:
        return body
    if u < 0.9 and " " in body:
        return ctx.pick(_GERUND_FRAMES).format(g=gerund(body))
    return ctx.pick(ph.FRAMES_QUESTION).format(v=body)


_GERUND_FRAMES = ("try {g}", "work on {g}", "focus on {g}", "think about {g}", "start {g}", "start by {g}",
                  "how about {g}?", "what about {g}?", "begin by {g}", "practice {g}", "continue by {g}",
                  "follow up by {g}", "finish by {g}", "we'll be {g}", "concentrate on {g}", "I'd start by {g}",
                  "would you mind {g}?", "you'll be {g}", "let's work on {g}", "imagine {g}")


def _join(ctx: _Ctx, steps: list[Step], links: list[bool]) -> str:
    text = steps[0].text
    after_statement = steps[0].statement
    for st, linked in zip(steps[1:], links[1:]):
        if after_statement and not st.statement and st.move is not None and not ctx.you:
            st.text = f"{ctx.subj} {st.text}" if ctx.simple else f"{ctx.subj} {ctx.pick(ctx.modals)} {st.text}"
        after_statement = st.statement
        sep = ctx.pick((" and ", " and then ", ", then ")) if linked else \
            ctx.r.choices(ph.JOIN_STEP, weights=ph.JOIN_STEP_P)[0]
        text += sep + st.text
    return text


def _sentences(ctx: _Ctx, steps: list[Step], links: list[bool], vps: list[bool]) -> list[str]:
    out: list[str] = []
    k = 0
    for size in _sentence_sizes(ctx, len(steps)):
        while k + size < len(steps) and links[k + size]:
            size += 1  # keep "... and lift it" with its antecedent
        body = _join(ctx, steps[k:k + size], links[k:k + size])
        s = _frame(ctx, body, k == 0, vps[k], all(vps[k:k + size]))
        if out and s == body and ctx.chance(0.25):
            s = f"{ctx.pick(ph.NEXT_SENTENCE)} {s}"
        out.append(capitalize(s) + ("" if s.endswith("?") else "."))
        k += size
        if k >= len(steps):
            break
    return out


def _add_holds(ctx: _Ctx, moves: list[Move], steps: list[Step], links: list[bool], vps: list[bool]) -> tuple[
        list[Step], str]:
    """Hold clauses: extra steps, tails on a step, or a lead-in; returns (hold records, lead-in text)."""
    records: list[Step] = []
    lead = ""
    for _ in range(1 + int(ctx.chance(0.25))):
        u = ctx.r.random()
        cand = [k for k, v in enumerate(vps) if v]
        st = hold_step(ctx, moves + [h.move for h in records if h.move is not None], tail=u >= 0.6 and bool(cand))
        if st is None or any(set(st.held) & set(h.held) for h in records):
            break
        records.append(st)
        if u < 0.6 or not cand:
            steps.append(st)
            links.append(False)
            vps.append(ctx.you and not st.text.startswith(("the ", "everything", "nothing", ctx.poss)))
        elif u < 0.88:
            k = ctx.pick(cand)
            steps[k].text += " " + st.text
        elif not lead and st.text.startswith(("keeping", "without")):
            lead = st.text + ", "
        else:
            steps[ctx.pick(cand)].text += " " + st.text
    return records, lead


_UK = ((re.compile(r"\btoward\b"), "towards"), (re.compile(r"\bcenter\b"), "centre"),
       (re.compile(r"\bpractice\b"), "practise"))


def _surface(ctx: _Ctx, text: str) -> str:
    """Spelling, casual forms and the odd typo, applied to the whole text."""
    if ctx.uk:
        for rx, w in _UK:
            text = rx.sub(w, text)
        if ctx.chance(0.3):
            text = text.replace(" while ", " whilst ")
    text = tidy(text)
    if ctx.chance(PROP_TYPO):
        present = [w for w in ph.TYPOS if re.search(rf"\b{w}\b", text)]
        if present:
            w = ctx.pick(present)
            text = re.sub(rf"\b{w}\b", ph.TYPOS[w], text, count=1)
    if ctx.chance(PROP_CASUAL):
        text = text.lower().rstrip(".")
        if ctx.chance(0.3):
            text = f"{ctx.pick(ph.CASUAL_OPENERS)} {text}"
        if ctx.chance(0.3):
            text = f"{text} {ctx.pick(ph.CASUAL_CLOSERS)}"
        for w, c in ph.CASUAL_WORDS.items():
            if ctx.chance(0.5):
                text = re.sub(rf"\b{w}\b", c, text)
    return text


def _decap(s: str) -> str:
    return s if s.startswith(("I ", "I'")) else s[:1].lower() + s[1:]


def render(moves: list[Move], ca: np.ndarray, cb: np.ndarray, still: set[str], seed: int,
           absolutes: Callable[[], list[str]] | None = None) -> Rendered:
    """Text for the moves of one pair (``ca``/``cb``: captioning joint coordinates of A and B, ``still``: the
    PART_GROUPS that did not move; ``absolutes``: makes statements about B in the old grammar, called only
    when they are used)."""
    ctx = _Ctx(random.Random(seed), ca, cb, still)
    steps: list[Step] = []
    links: list[bool] = []
    prev = None
    for m in moves:
        ref, linked = _reference(ctx, m, prev)
        st = render_step(ctx, m, ref)
        steps.append(st)
        links.append(linked)
        prev = m
    vps = [not s.statement for s in steps]
    if ctx.simple:
        for st, is_vp in zip(steps, vps):
            if is_vp and st.move is not None:
                st.text = third_person(st.text)
    holds: list[Step] = []
    lead = ""
    if still and steps and ctx.chance(PROP_HOLD):
        holds, lead = _add_holds(ctx, moves, steps, links, vps)
    sentences = _sentences(ctx, steps, links, vps) if steps else []
    if lead and sentences:
        sentences[0] = capitalize(lead) + _decap(sentences[0])
    if absolutes is not None and ctx.you and (ctx.chance(0.5) or not sentences):
        sentences += [capitalize(a) + "." for a in absolutes()]
    if sentences and ctx.you and not lead and ctx.chance(0.1):
        sentences[0] = capitalize(ctx.pick(ph.OPENERS)) + " " + _decap(sentences[0])
    if sentences and ctx.chance(0.04):
        sentences.append(ctx.pick(ph.CLOSERS))
    return Rendered(_surface(ctx, " ".join(sentences)), [s for s in steps if s.move is not None] + holds)
