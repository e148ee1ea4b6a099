"""The body states a pose prompt names in everyday words, read as posecodes (QPoser prompting, Latent panel).

The learned :class:`~core_models.nets.qposer.infer.PosecodeReader` was trained on the describer's sentences
("the left hand is above the head"). People write the same states otherwise: "arms out to the sides", "hands on
your hips", "feet together", "look up at the sky", "lift the right knee so the thigh is level with the floor" —
and the reader misses them or reads the wrong category (it read "arms straight out to the sides" as vertical
upper arms). This module reads such phrasings with rules and returns, per state, the posecode and the categories
that satisfy it; :class:`~core_models.nets.qposer.infer.PromptRefiner` scores them at full weight, in place of
the reader's reading of the same posecode. Everything else is still read by the learned reader.

Clauses are split at punctuation and at "and" / "then" / "while" / "but" / "so"; each clause's moving
part is its first part word that is not a place (same reading as :mod:`prompt_parts`: "above your head" is where
the hand goes). A clause without a side takes the side of the previous clause's part of the same kind ("lift the
right knee so the thigh is level"), pronouns ("it", "them") take the previous clause's part. A limb named without
a side and in the singular means both sides, as in :func:`prompted_parts`. Side words are the body's own sides.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core_models.nets.qposer.prompt_parts import _ARM_VERBS, _extra_torso, _is_target, _kind, _side, _torso_word
from core_models.text.parse import normalise

_SPLIT = {",", ";", ".", "!", "?", "and", "then", "while", "but", "so", "whilst"}
_PRONOUNS = {"it", "them", "they", "those"}
_ARM_NOUNS = {"arm": "arm", "arms": "arm", "forearm": "forearm", "forearms": "forearm", "hand": "hand", "hands": "hand",
              "wrist": "hand", "wrists": "hand", "palm": "hand", "palms": "hand", "fist": "hand", "fists": "hand",
              "finger": "hand", "fingers": "hand", "fingertips": "hand", "elbow": "elbow", "elbows": "elbow"}
_LEG_NOUNS = {"leg": "leg", "legs": "leg", "knee": "knee", "knees": "knee", "thigh": "knee", "thighs": "knee",
              "foot": "foot", "feet": "foot", "ankle": "foot", "ankles": "foot", "heel": "foot", "heels": "foot",
              "toes": "foot", "shin": "shin", "shins": "shin"}
_BODY_NOUNS = {"head", "neck", "chin", "face", "torso", "chest", "trunk", "spine"}
#: words of a noun phrase before the noun ("her right", "the other", "your left")
_NP_WORDS = {"the", "your", "his", "her", "their", "my", "its", "both", "each", "left", "right", "other",
             "opposite", "ur", "a", "upper", "lower"}
_NOUNS = set(_ARM_NOUNS) | set(_LEG_NOUNS) | _BODY_NOUNS
#: words a statement can end on (nouns and states), after which a noun phrase starts the next one
_CLOSERS = {"hip", "hips", "shoulder", "shoulders", "body", "floor", "ground", "mat", "level", "apart", "straight",
            "bent", "up", "down", "forward", "backward", "back", "degrees", "cm", "m", "inch", "feet", "together",
            "high", "low", "wide", "side", "sides", "front", "behind", "above", "below", "horizontal", "vertical",
            "parallel", "angle", "ceiling", "sky", "open", "closed", "crossed", "out", "in", "away", "toward",
            "each", "other", "too", "again", "ground", "floor", "centre", "center", "width", "height"}
_PLURAL = {"arms", "forearms", "hands", "wrists", "palms", "fists", "fingers", "elbows", "legs", "knees", "thighs",
           "feet", "ankles", "heels", "shins"}
#: a hand's contact target noun → the posecode joint name (None: central)
_TARGETS = {"hip": "hip", "hips": "hip", "waist": "hip", "head": None, "forehead": None, "shoulder": "shoulder",
            "shoulders": "shoulder", "knee": "knee", "knees": "knee", "ankle": "ankle", "ankles": "ankle",
            "foot": "foot", "feet": "foot", "toes": "foot", "toe": "foot", "elbow": "elbow", "elbows": "elbow"}
_CONTACT = {"on", "onto", "to", "touch", "touches", "touching", "against", "grab", "grabs", "grabbing", "hold",
            "holds", "holding", "clasp", "clasping", "reach", "reaching", "rest", "resting", "place", "placed"}
_DET = {"the", "your", "his", "her", "their", "my", "a", "both", "each", "of", "own", "opposite", "other"}
_UP = {"up", "overhead", "ceiling", "sky", "skyward", "skywards", "upward", "high", "higher", "raise", "raised",
       "raising", "lift", "lifted", "lifting"}
_DOWN = {"down", "lower", "lowered", "lowering", "drop", "dropped", "hang", "hanging", "hangs", "relax", "relaxed"}
_STRAIGHT = {"straight", "straighten", "straightened", "extend", "extended", "lock", "locked", "unbend"}
_BENT = {"bend", "bent", "bending", "flex", "flexed", "curl", "fold", "folded", "crook"}
_SLIGHT = {"little", "bit", "slightly", "tad", "touch", "halfway", "half", "partway", "somewhat"}
_FRONT = {"forward", "front", "ahead"}
_BACK = {"back", "backward", "behind"}


@dataclass(frozen=True)
class StateRead:
    """One state a prompt names: posecode ``op`` on ``joints`` in one of ``cats``; ``clause`` is where it was read."""
    op: str
    joints: tuple[str, ...]
    cats: tuple[str, ...]
    clause: str


@dataclass
class _Clause:
    words: list[str]
    kind: str | None = None     # "arm" | "leg" | "head" | "torso"
    noun: str | None = None     # arm, hand, elbow, leg, knee, foot (limbs)
    sides: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def has(self, *phrases: str) -> bool:
        s = f" {self.text} "
        return any(f" {p} " in s for p in phrases)

    def any(self, words: set[str]) -> bool:
        return bool(words & set(self.words))


def _split(words: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for w in words:
        if w in _SPLIT:
            if out[-1]:
                out.append([])
        else:
            out[-1].append(w)
    return [piece for c in out if c for piece in _run_on(c)]


def _run_on(words: list[str]) -> list[list[str]]:
    """Split a clause at each further part noun phrase that is not a place: run-on sentences ("… higher than her
    right hip the left knee is bent …") start a new statement there; the noun's determiners and side go with it."""
    nouns = [i for i, w in enumerate(words) if (w in _ARM_NOUNS or w in _LEG_NOUNS or w in _BODY_NOUNS)
             and not _is_target(words, i)]
    cuts: list[int] = []
    for i in nouns:
        k = i
        while k > 0 and words[k - 1] in _NP_WORDS:
            k -= 1
        # a noun phrase right after a noun or a state word starts a new statement ("… her right hip | the left
        # knee …", "… is held level | her right hand …"); after a verb or a preposition it does not
        if 0 < k < i and (words[k - 1] in _CLOSERS or words[k - 1] in _NOUNS or words[k - 1].isdigit()) \
                and k > (cuts[-1] if cuts else 0):
            cuts.append(k)
    bounds = [0, *cuts, len(words)]
    return [words[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def _mover(words: list[str]) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(kind, limb noun, sides) of the clause's first part word that is not a place."""
    for i, w in enumerate(words):
        kind = "torso" if _extra_torso(words, i) else _kind(w)
        if kind is None or _is_target(words, i) or (kind == "torso" and not _torso_word(words, i)) \
                or _word_before(words, i) in ("than", "of"):  # "forward of the left knee": a reference
            continue
        if kind in ("head", "torso"):
            return kind, None, ()
        noun = _ARM_NOUNS.get(w) or _LEG_NOUNS.get(w)
        if noun is None:
            continue
        side = _side(words, i)
        sides = (side,) if side else (() if w in _PLURAL else ("?",))
        return kind, noun, sides
    return None, None, ()


def _clauses(text: str) -> list[_Clause]:
    t = text.lower().replace("-", " ")
    words = [w for w in normalise(t) if re.fullmatch(r"[a-z]+|\d+(?:\.\d+)?|[,;.!?]", w)]
    out: list[_Clause] = []
    prev: dict[str, _Clause] = {}
    last: _Clause | None = None
    for ws in _split(words):
        c = _Clause(ws)
        c.kind, c.noun, c.sides = _mover(ws)
        if c.kind is None and last is not None and (set(ws) & _PRONOUNS):
            c.kind, c.noun, c.sides = last.kind, last.noun, last.sides
        elif c.kind is None and last is not None and not any(_kind(w) for w in ws):
            last.words = last.words + ws  # "…, like halfway", "…, wider than the shoulders": the last part's
            continue
        if c.kind is None and set(ws) & _ARM_VERBS:
            c.kind, c.noun, c.sides = "arm", "hand", ()
        if c.sides == ("?",):  # singular, no side: the previous limb's side ("the other": its opposite), else both
            p = prev.get(str(c.kind))
            c.sides = p.sides if p is not None and len(p.sides) == 1 else ()
            if c.sides and c.any({"other", "opposite"}):
                c.sides = (_other(c.sides[0]),)
        if c.kind in ("arm", "leg") and not c.sides:
            c.sides = ("left", "right")
        if c.kind is not None:
            prev[c.kind] = last = c
        out.append(c)
    return out


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def _contact_target(c: _Clause) -> tuple[str, str | None] | None:
    """("hip" | "head" | …, side or None) of "on your hips", "touch your left knee", "to your right shoulder"."""
    ws = c.words
    for i, w in enumerate(ws):
        if w not in _CONTACT:
            continue
        k, side = i + 1, None
        while k < len(ws) and (ws[k] in _DET or ws[k] in ("left", "right")):
            side = ws[k] if ws[k] in ("left", "right") else side
            k += 1
        if k < len(ws) and ws[k] in _TARGETS and not (k + 1 < len(ws) and ws[k + 1] in ("height", "level",
                                                                                            "width")):
            return ws[k], side
    return None


_HIGHER = {"higher", "above", "over", "raised", "up"}
_LOWER_THAN = {"lower", "below", "under", "beneath", "underneath", "down"}
_JOINT = {"hand": "hand", "elbow": "elbow", "knee": "knee", "foot": "foot", "arm": "hand", "leg": "foot"}


def _word_before(ws: list[str], i: int) -> str:
    """The word before the noun phrase of the noun at ``i``."""
    k = i - 1
    while k >= 0 and ws[k] in _NP_WORDS:
        k -= 1
    return ws[k] if k >= 0 else ""


def _compare(c: _Clause) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]] | None:
    """"the left knee sits higher than the right knee", "right foot further forward than the left one", "the left
    hand is in front of the right hand": the two sides' same joint against each other (None: no such comparison)."""
    if len(c.sides) != 1 or c.noun not in _JOINT:
        return None
    s, j = c.sides[0], _JOINT[c.noun]
    ws = c.words
    rel = {"than", "of"} | _HIGHER | _LOWER_THAN | _BACK
    tgt = [i for i, w in enumerate(ws) if (_JOINT.get(_ARM_NOUNS.get(w) or _LEG_NOUNS.get(w) or "") == j
                                          or w == "one") and i > 0 and _word_before(ws, i) in rel]
    if not tgt:
        return None
    sign = {"left": 1, "right": -1}[s]  # the codes read left against right
    out: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    if c.any(_HIGHER) and not c.any(_LOWER_THAN):
        out.append(("relativePosY", (f"left_{j}", f"right_{j}"), ("above",) if sign > 0 else ("below",)))
    elif c.any(_LOWER_THAN) and not c.any(_HIGHER):
        out.append(("relativePosY", (f"left_{j}", f"right_{j}"), ("below",) if sign > 0 else ("above",)))
    if c.any(_FRONT) and not c.any(_BACK):
        out.append(("relativePosZ", (f"left_{j}", f"right_{j}"), ("front",) if sign > 0 else ("behind",)))
    elif c.any(_BACK) and not c.any(_FRONT):
        out.append(("relativePosZ", (f"left_{j}", f"right_{j}"), ("behind",) if sign > 0 else ("front",)))
    return out


def _arm_states(c: _Clause) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    cmp = _compare(c)
    if cmp is not None:
        return cmp
    out: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    both = len(c.sides) == 2
    seg = ("elbow", "wrist") if c.noun == "forearm" or c.has("lower arm", "lower arms") else ("shoulder", "elbow")
    tgt = _contact_target(c)
    if tgt is not None:
        noun, tside = tgt
        for s in c.sides:
            joint = "head" if _TARGETS[noun] is None else f"{tside or s}_{_TARGETS[noun]}"
            out.append(("distance", (f"{s}_hand", joint), ("close",)))
            if _TARGETS[noun] in ("hip", None) and (tside or s) == s:  # a hand on the hip / head bends its elbow
                out.append(("angle", (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist"),
                            ("completely_bent", "bent_more", "right_angle", "bent_less")))
        return out
    if both and (c.any({"together", "clasp", "clasped", "join", "joined", "interlace", "interlock", "prayer"})
                 or c.has("palms touching", "hands touching")):
        out.append(("distance", ("left_hand", "right_hand"), ("close",)))
    horizontal = c.has("out to the side", "out to the sides", "out to your side", "out to your sides", "out wide",
                       "to each side", "shoulder height", "shoulder level", "level with your shoulders",
                       "parallel to the floor", "parallel to the ground", "out sideways", "straight out",
                       "like a t", "t shape", "t pose", "held level", "is level", "are level", "out level") \
        or c.any({"sideways", "horizontal", "horizontally"})
    halfway = c.any({"halfway", "partway"}) or c.has("half way")
    if halfway:
        out += [("relativeVAxis", (f"{s}_{seg[0]}", f"{s}_{seg[1]}"), ("ignored", "horizontal")) for s in c.sides]
    elif horizontal:
        out += [("relativeVAxis", (f"{s}_{seg[0]}", f"{s}_{seg[1]}"), ("horizontal",)) for s in c.sides]
        if _out_to_side(c) and c.noun in ("arm", "hand"):  # out to the side, not forward or across the body
            out += [("relativePosX", (f"{s}_hand", f"{s}_shoulder"), (f"at_{s}",)) for s in c.sides]
    if c.noun not in ("arm", "hand"):  # an elbow / a forearm: its own states only
        return out + _straight_arm(c)
    if not (horizontal or halfway):
        out += _arm_height(c)
    if c.has("behind your back", "behind the back", "behind you", "behind your body"):
        out += [("relativePosZ", (f"{s}_hand", "torso"), ("behind",)) for s in c.sides]
    elif c.any(_FRONT) and not halfway:
        out += [("relativePosZ", (f"{s}_hand", "torso"), ("front",)) for s in c.sides]
    return out + _straight_arm(c)


def _out_to_side(c: _Clause) -> bool:
    return c.any({"sideways", "side", "sides", "wide", "t"}) and not c.any(_FRONT | _BACK)


def _arm_height(c: _Clause) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Raised overhead, raised, or lowered to the sides (hands / arms, when no horizontal or halfway word)."""
    if c.any({"overhead", "ceiling", "sky", "skyward", "skywards"}) or c.has(
            "above your head", "above the head", "over your head", "over the head", "up high", "straight up",
            "high up", "all the way up", "above head"):
        return [("relativePosY", (f"{s}_hand", "head"), ("above",)) for s in c.sides]
    if c.any(_UP) and not c.any(_SLIGHT | _FRONT | _BACK | {"floor", "ground", "mat", "chest", "face"}) \
            and not _has_number(c):  # "raise your arm 45 degrees": the learned reader reads the size
        return [("relativePosY", (f"{s}_hand", f"{s}_shoulder"), ("above",)) for s in c.sides]
    if (c.any(_DOWN) or c.has("by your side", "by your sides", "at your side", "at your sides", "to your sides",
                              "to your side")) and not c.any(_SLIGHT | {"floor", "ground", "mat", "chest", "knee",
                                                                          "knees"}):
        return [st for s in c.sides for st in (("relativeVAxis", (f"{s}_shoulder", f"{s}_elbow"), ("vertical",)),
                                                ("relativePosY", (f"{s}_hand", f"{s}_shoulder"), ("below",)))]
    return []


def _straight_arm(c: _Clause) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    if c.any(_STRAIGHT) and not c.any(_BENT) and c.noun in ("arm", "elbow"):
        return [("angle", (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist"), ("straight", "slightly_bent"))
                for s in c.sides]
    return []


_NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "ten", "twelve", "fifteen", "eighteen", "twenty",
                 "thirty", "forty", "fifty", "sixty", "ninety", "cm", "inch", "m", "mm", "feet", "foot", "metre",
                 "meter", "degrees"}


def _has_number(c: _Clause) -> bool:
    """A measured distance ("30 cm apart", "eighteen inches apart") is the learned reader's: it reads the size."""
    return any(w[0].isdigit() for w in c.words) or bool(set(c.words[:-1]) & _NUMBER_WORDS - {"foot", "feet"}) \
        or c.has("cm apart", "inch apart", "m apart")


def _leg_states(c: _Clause) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    cmp = _compare(c)
    if cmp is not None:
        return cmp
    out: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    both, one = len(c.sides) == 2, (c.sides[0] if len(c.sides) == 1 else None)
    pair = "knee" if c.noun == "knee" else "foot"
    if both and (c.any({"together", "closer", "join"}) or c.has("touching each other")):
        out.append(("distance", (f"left_{pair}", f"right_{pair}"), ("close",)))
    elif both and c.has("hip width", "shoulder width", "hips width", "shoulders width"):
        out.append(("distance", (f"left_{pair}", f"right_{pair}"), ("close", "shoulder_width")))
    elif both and c.any({"apart", "wide", "wider", "spread", "straddle"}) and not _has_number(c):
        out.append(("distance", (f"left_{pair}", f"right_{pair}"), ("spread", "wide")))
    level = c.has("parallel to the floor", "parallel to the ground", "level with the floor", "level with the ground",
                  "hip height", "hip level", "level with your hip", "level with your hips", "as high as your hip",
                  "as high as your hips") or c.any({"horizontal", "horizontally"})
    if level and c.noun in ("knee", "leg", "shin"):
        seg = ("knee", "ankle") if c.noun == "shin" else ("hip", "knee")
        out += [("relativeVAxis", (f"{s}_{seg[0]}", f"{s}_{seg[1]}"), ("horizontal",)) for s in c.sides]
    if c.any({"vertical", "vertically"}) and c.noun in ("knee", "leg", "shin") and not level:
        seg = ("knee", "ankle") if c.noun == "shin" else ("hip", "knee")
        return out + [("relativeVAxis", (f"{s}_{seg[0]}", f"{s}_{seg[1]}"), ("vertical",)) for s in c.sides]
    if one is not None and c.noun == "knee" and c.any(_UP | {"chest"}) and not c.any(_DOWN):
        out.append(("relativePosY", ("left_knee", "right_knee"), ("above",) if one == "left" else ("below",)))
        out.append(("angle", (f"{one}_hip", f"{one}_knee", f"{one}_ankle"),
                    ("completely_bent", "bent_more", "right_angle", "bent_less")))
    elif one is not None and c.noun in ("foot", "leg") and (c.has("off the floor", "off the ground", "off the mat")
                                                           or (c.any(_UP) and not c.any(_DOWN))):
        out.append(("relativePosY", ("left_foot", "right_foot"), ("above",) if one == "left" else ("below",)))
    if one is not None and c.noun in ("foot", "leg") and c.any({"step", "steps", "stepping", "move", "put", "place",
                                                               "bring", "forward", "back", "backward", "behind"}):
        fwd = c.any(_FRONT) and not c.any(_BACK)
        if fwd or (c.any(_BACK) and not c.any(_FRONT)):
            front = (one == "left") == fwd
            out.append(("relativePosZ", ("left_foot", "right_foot"), ("front",) if front else ("behind",)))
            if not c.any({"than", "of"}):  # "in front of the other foot" says nothing about the torso
                out.append(("relativePosZ", (f"{one}_foot", "torso"), ("front",) if fwd else ("behind",)))
    if c.any(_STRAIGHT) and not c.any(_BENT) and c.noun in ("leg", "knee"):
        out += [("angle", (f"{s}_hip", f"{s}_knee", f"{s}_ankle"), ("straight", "slightly_bent")) for s in c.sides]
    return out


def _lr(c: _Clause) -> str | None:
    ls, rs = "left" in c.words, "right" in c.words
    return "left" if ls and not rs else ("right" if rs and not ls else None)


def _head_states(c: _Clause) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    side = _lr(c)
    if c.any({"tilt", "tilted", "tilting", "tip", "lean", "cock", "ear"}) and side:
        return [("relativeRotZ", ("neck", "head"), (f"tilt_{side}",))]
    if c.any({"turn", "turned", "turning", "look", "looking", "rotate", "swivel", "glance"}) and side:
        return [("relativeRotY", ("pelvis", "head"), (f"turn_{side}", f"slightly_turn_{side}"))]
    if c.any({"up", "upward", "ceiling", "sky"}) or c.has("chin up", "head back", "tilt your head back",
                                                         "lift your chin", "raise your chin"):
        return [("relativeRotX", ("neck", "head"), ("head_backward",)),
                ("relativeRotX", ("pelvis", "head"), ("head_backward",))]  # the gaze, not only the head on the neck
    if c.any({"down", "downward", "bow", "bowed", "nod", "floor", "ground", "feet", "toes", "mat", "chest"}):
        return [("relativeRotX", ("neck", "head"), ("head_forward",)),
                ("relativeRotX", ("pelvis", "head"), ("head_forward",))]
    return []


_INCLINE = ("left_shoulder", "right_shoulder", "pelvis", "left_ankle", "right_ankle")


def _torso_states(c: _Clause) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    side = _lr(c)
    if c.any({"twist", "twisted", "twisting", "rotate", "rotated", "turn", "turned"}) and side:
        return [("bodyInclineY", _INCLINE, (f"twist_{side}", f"slightly_twist_{side}"))]
    if side and c.any({"lean", "leaning", "bend", "bent", "bending", "tilt", "tilting", "tip", "side"}):
        return [("bodyInclineZ", _INCLINE, (f"lean_{side}", f"slightly_lean_{side}"))]
    if c.any({"forward", "over", "down", "fold", "folding", "hinge", "hinging"}) and not c.any({"backward"}):
        return [("bodyInclineX", _INCLINE, ("slightly_forward", "forward"))]
    if c.any({"backward", "arch", "arching", "arched"}) or c.has("lean back", "leaning back", "bend back",
                                                                   "bending back", "tilt back", "tip back"):
        return [("bodyInclineX", _INCLINE, ("slightly_backward", "backward"))]
    return []


_RULES = {"arm": _arm_states, "leg": _leg_states, "head": _head_states, "torso": _torso_states}
#: clauses longer than this many words are not read (a pasted paragraph is the learned reader's job)
MAX_WORDS = 60


def read_states(text: str) -> list[StateRead]:
    """The states ``text`` names that these rules understand (a posecode may appear once: the first reading
    wins)."""
    out: list[StateRead] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for c in _clauses(text[:2000]):
        if c.kind is None or len(c.words) > MAX_WORDS:
            continue
        for op, joints, cats in _RULES[c.kind](c):
            if (op, joints) not in seen:
                seen.add((op, joints))
                out.append(StateRead(op, joints, cats, c.text))
    return out


def _code_table() -> dict[tuple[str, tuple[str, ...]], tuple[int, tuple[str, ...]]]:
    from core_models.captioning.posecodes import CODES, OPERATORS

    return {(c.op, tuple(c.joints)): (c.index, tuple(OPERATORS[c.op].categories)) for c in CODES}


_TABLE: dict = {}


def state_codes(text: str) -> list[tuple[int, tuple[int, ...]]]:
    """:func:`read_states` as (posecode index, accepted category indices); a state whose posecode is not in the
    inventory (either joint order is looked up) is left out."""
    if not _TABLE:
        _TABLE.update(_code_table())
    out = []
    for s in read_states(text):
        hit = _TABLE.get((s.op, s.joints))
        cats = s.cats
        if hit is None and s.op == "distance":
            hit = _TABLE.get((s.op, s.joints[::-1]))
        if hit is None:
            continue
        index, names = hit
        out.append((index, tuple(names.index(c) for c in cats)))
    return out
