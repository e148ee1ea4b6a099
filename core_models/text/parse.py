"""Sentence understanding for pose instructions written by people.

``parse_sentence(text)`` splits an instruction into clauses and reads, per clause: the body part and side
(the body's own left/right), what should change (a measure from :mod:`core_models.text.measures` and a
direction), how much (words, or numbers with units → metres / degrees), hold clauses ("keep / don't move /
leave / stay" → held parts), references to earlier clauses ("that same leg", "it", "the other one", "the
opposite knee", "do the same on the left") and goal tails ("… until your hands touch", "… so that …", which
only fill in a missing direction or side). Part / side / direction words survive common typos ("rigth",
"elbw", "forwrd"). Every clause that cannot be used is kept with the reason, never dropped silently.

``Clause.rewrite`` is the clause in the vocabulary the editor was trained on ("scoot your left foot out
about six inches" → "move your left foot away from your body"). Pose-dependent words ("front leg",
"standing knee", "back foot") are resolved by :func:`resolve_relative_sides` given the start pose.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

MAX_CHARS = 2000
MAX_CLAUSES = 12

# --- words -------------------------------------------------------------------------------------------

#: part words → part noun (arm, hand, elbow, leg, knee, foot, head, torso); plural nouns mean both sides
_PART_WORD = {
    "arm": "arm", "arms": "arm", "forearm": "arm", "forearms": "arm", "hand": "hand", "hands": "hand",
    "wrist": "hand", "wrists": "hand", "fingertips": "hand", "fingers": "hand", "palm": "hand", "palms": "hand",
    "elbow": "elbow", "elbows": "elbow", "leg": "leg", "legs": "leg", "knee": "knee", "knees": "knee",
    "thigh": "knee", "thighs": "knee", "shin": "knee", "shins": "knee", "foot": "foot", "feet": "foot",
    "ankle": "foot", "ankles": "foot", "heel": "foot", "heels": "foot", "toes": "foot",
    "head": "head", "chin": "head", "neck": "head", "face": "head",
    "torso": "torso", "chest": "torso", "trunk": "torso", "spine": "torso", "body": "torso",
    "shoulders": "torso", "hips": "torso",
}
_PLURALS = frozenset("arms forearms hands wrists fingertips fingers palms elbows legs knees thighs shins feet ankles "
                     "heels toes".split())
_SIDES = {"left": "left", "right": "right"}
_CENTRE = ("head", "torso")
#: limb noun → the limb group used for references and holds
LIMB = {"arm": "arm", "hand": "arm", "elbow": "arm", "leg": "leg", "knee": "leg", "foot": "leg"}

_UP = frozenset("raise raised raising lift lifted lifting up upward upwards higher high above overhead ceiling "
                "sky".split())
_DOWN = frozenset("lower lowered lowering drop dropping down downward downwards hang floor ground sides".split())
_BEND = frozenset("bend bent bending flex flexing fold curl".split())
_STRAIGHT = frozenset("straighten straightened straightening straight extend extended extending lock locked".split())
_FORWARD = frozenset("forward forwards front ahead kick".split())
_BACKWARD = frozenset("back backward backwards behind".split())
_SIDEWAYS = frozenset("out side sideways wide apart away".split())
_TURN = frozenset("turn turns turned twist rotate swivel look looking".split())
_LEAN = frozenset("lean leaning tip tilt".split())
_HOLD = frozenset("keep keeping leave leaving stay stays staying hold remain remains without".split())
_SLIGHT = frozenset("slightly little bit touch abit tad tiny small smidge somewhat".split())
_LARGE = frozenset("lot much deeply completely fully all way far really very big".split())
_PREP = frozenset("to toward towards above over by at near beside of on onto behind below under past "
                  "between against next in across".split())
_FILLER = frozenset("ok okay um uh uhh please pls plz just now so like kinda i guess can you could would "
                    "first finally also then start and cheers".split())

#: shorthand / frequent misspellings that edit distance would not fix safely
_SHORTHAND = {"ur": "your", "yor": "your", "u": "you", "n": "and", "rite": "right", "rt": "right", "lft": "left",
              "fwd": "forward", "bak": "back", "abit": "a bit", "strait": "straight", "straiten": "straighten",
              "kne": "knee", "plz": "", "pls": "", "dont": "don't", "doesnt": "doesn't", "arm's": "arms",
              "centimetres": "cm", "centimeters": "cm", "centimetre": "cm", "centimeter": "cm", "metres": "m",
              "meters": "m", "metre": "m", "meter": "m", "inches": "inch", "in.": "inch", "ft": "feet",
              "degree": "degrees", "deg": "degrees", "°": "degrees", "forwards": "forward", "towards": "toward",
              "backwards": "backward", "upwards": "up", "downwards": "down"}
_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
            "seven": 7.0, "eight": 8.0, "nine": 9.0, "ten": 10.0, "twelve": 12.0, "fifteen": 15.0,
            "twenty": 20.0, "thirty": 30.0, "forty": 40.0, "fifty": 50.0, "sixty": 60.0, "seventy": 70.0,
            "eighty": 80.0, "ninety": 90.0, "half": 0.5, "couple": 2.0, "few": 3.0}
_UNITS = {"inch": ("m", 0.0254), "feet": ("m", 0.3048), "foot": ("m", 0.3048), "cm": ("m", 0.01),
          "mm": ("m", 0.001), "m": ("m", 1.0), "degrees": ("deg", 1.0), "stride": ("m", 0.6),
          "step": ("m", 0.5)}

_LEXICON = tuple(sorted(set(_PART_WORD) | set(_SIDES) | _UP | _DOWN | _BEND | _STRAIGHT | _FORWARD | _BACKWARD
                        | _SIDEWAYS | _TURN | _LEAN | _HOLD | {"other", "opposite", "same", "both", "your",
                                                                 "move", "step", "bring", "put", "take", "reach",
                                                                 "stand", "upright", "still", "where", "again"}))
_KNOWN = frozenset(_LEXICON) | frozenset(_SHORTHAND) | frozenset(_NUMBERS) | _FILLER | _PREP | _SLIGHT | _LARGE | \
    frozenset(
    """the a an and or but while with it its them that this those these is are be should ought needs need must
    more less than as if you your yours yourself my me we do does did don't not no at all same then so until till
    one ones hold there here again about around roughly approximately maybe or so nearly almost halfway
    have has get got make sure let stand standing sit sitting tall taller level parallel horizontal vertical
    shoulder hip hips waist held located chest instead too well also only each other way like looking straight toward up
    inch cm m mm feet degrees stride step steps some angle straighter lower higher hanging point points pointing
    palm palms sides touch touches touching grab hands hand place put goes go going come comes""".split())


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (adjacent transpositions) distance, early exit above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """A known word unchanged; an unknown one replaced by the closest part / side / direction word (distance 1,
    or 2 for words of 7+ letters); otherwise unchanged."""
    if word in _KNOWN or not word.isalpha() or len(word) < 3:
        return word
    limit = 2 if len(word) >= 7 else 1
    best, best_d = word, limit + 1
    for cand in _LEXICON:
        d = _edit_distance(word, cand, limit)
        if d < best_d:
            best, best_d = cand, d
    return best


_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[.,;:!?]|°|\"")


def normalise(text: str) -> list[str]:
    """Lower-cased tokens with shorthand expanded and typos in part / side / direction words corrected."""
    raw = _TOKEN.findall(text.lower().replace("-", " ").replace("’", "'"))
    out: list[str] = []
    for i, t in enumerate(raw):
        if t == '"' and i > 0 and raw[i - 1][0].isdigit():
            t = "inch"
        t = _SHORTHAND.get(t, t)
        out.extend(correct_word(w) for w in t.split())
    return [t for t in out if t and t != '"']


# --- clauses -----------------------------------------------------------------------------------------

@dataclass
class Action:
    """One change a clause asks for: ``kind`` a measure name (or "tilt"), ``direction`` +1/−1 in the body
    frame (sideways: + toward the body's left; 0 = outward, away from the body's midline)."""
    kind: str
    direction: int


@dataclass
class Clause:
    """One understood (or unusable) piece of an instruction."""
    text: str
    role: str = "unused"            # "action" | "hold" | "unused"
    part: str | None = None         # part noun: arm, hand, elbow, leg, knee, foot, head, torso
    sides: tuple[str, ...] = ()     # ("left",), ("right",), ("left", "right"); () for head / torso
    relative: str | None = None     # "front" / "back" / "standing": side resolved from the start pose
    actions: list[Action] = field(default_factory=list)
    amount: float | None = None     # metres or degrees, as asked
    unit: str | None = None         # "m" | "deg"
    absolute: bool = False          # "to 90 degrees" (a target value) rather than "by 90 degrees"
    degree: str = "normal"          # "slight" | "normal" | "large"
    held: list[str] = field(default_factory=list)  # skeleton.BODY_PARTS keys a hold clause holds ("rest": all)
    ignored: list[str] = field(default_factory=list)
    reason: str | None = None
    reference: str | None = None    # "pronoun" | "other" | "same" when the part came from an earlier clause
    goal: str | None = None         # "above_head": raise the hand(s) until above the head

    @property
    def limb_parts(self) -> list[str]:
        """skeleton.BODY_PARTS keys this clause's part covers."""
        if self.part in _CENTRE:
            return [str(self.part)]
        if self.part is None:
            return []
        return [f"{s}_{LIMB[self.part]}" for s in self.sides]


@dataclass
class ParsedSentence:
    text: str
    clauses: list[Clause]
    notice: str | None = None

    @property
    def actions(self) -> list[Clause]:
        return [c for c in self.clauses if c.role == "action"]

    @property
    def holds(self) -> list[Clause]:
        return [c for c in self.clauses if c.role == "hold"]

    @property
    def unused(self) -> list[Clause]:
        return [c for c in self.clauses if c.role == "unused"]

    @property
    def held_parts(self) -> set[str]:
        return {p for c in self.holds for p in c.held}


_BREAK = frozenset("and then but while also after".split())
_GOAL = frozenset("until till like".split())
_HOLD_START = frozenset("keep keeping leave leaving without".split())
_PUNCT = frozenset(".,;:!?")
_DONT_VERBS = frozenset("move touch change bend lift shift".split())


def _is_goal_start(toks: list[str], i: int) -> bool:
    t = toks[i]
    if t in _GOAL:
        return i > 0 and not (t == "like" and toks[i - 1] in _PUNCT)
    if t == "so":
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        return nxt in ("that", "your", "you", "it", "they", "both", "the", "its")
    return t == "as" and i + 1 < len(toks) and toks[i + 1] in ("if", "though")


_IMPERATIVE = frozenset("bend straighten raise lift lower drop turn twist look lean step put bring move reach kick "
                        "rotate tilt extend stand sit swivel".split())


def _starts_new(seg: list[str], toks: list[str], i: int) -> bool:
    """Run-on text without punctuation ("step left foot forward bend the knee look down", "right arm up left
    arm out front"): a new command verb, or a new side + part, after a segment that already has a subject
    part and a direction starts a new clause."""
    if not seg or find_subject(seg, set()) is None or not set(seg) & _VERBS:
        return False
    t, nxt = toks[i], toks[i + 1] if i + 1 < len(toks) else ""
    if t in _IMPERATIVE and seg[-1] not in ("to", "and", "don't", "not", "by"):
        return True
    return t in ("left", "right") and nxt in _PART_WORD and seg[-1] not in _PREP | {"your", "the"}


def split_segments(toks: list[str]) -> list[tuple[list[str], bool]]:
    """Token segments (tokens, is_goal) at punctuation, conjunctions, hold verbs and goal markers."""
    segs: list[tuple[list[str], bool]] = [([], False)]
    for i, t in enumerate(toks):
        if t in _PUNCT or t in _BREAK:
            segs.append(([], False))
            continue
        if not segs[-1][1] and _starts_new(segs[-1][0], toks, i):
            segs.append(([], False))
        if _is_goal_start(toks, i):
            segs.append(([], True))
        elif t in _HOLD_START and segs[-1][0] and segs[-1][0][-1] not in ("to", "will"):
            segs.append(([], False))
        if t not in _FILLER or t in ("so", "like", "now") and segs[-1][0]:
            segs[-1][0].append(t)
    return [(s, g) for s, g in segs if [w for w in s if w not in _FILLER]]


_ADVERBS = frozenset("""up down forward back backward out side sideways wide away apart ahead front behind above
overhead ceiling sky floor ground sides higher high""".split())


_BODY_VERBS = frozenset("look looking bow lean leaning twist rotate swivel turn tilt stand sit squat rise crouch sink "
                        "kneel".split())


def _has_content(toks: list[str]) -> bool:
    """A segment that can stand alone: it names a subject part, a whole-body movement, a hold or a reference;
    otherwise ("to about 45 degrees", "above your head") it belongs to the clause before it."""
    toks = _prepare(toks)
    words = set(toks)
    bend_alone = "bend" in words and bool(words & (_FORWARD | _BACKWARD | {"over", "sideways"}))
    return (find_subject(toks, set()) is not None or bend_alone or bool(words & (_BODY_VERBS | _HOLD))
            or bool(words & {"it", "them", "other", "same", "opposite", "don't"}))


_VERBS = _UP | _DOWN | _BEND | _STRAIGHT | _FORWARD | _BACKWARD | _SIDEWAYS | _TURN | _LEAN | frozenset(
    "stand sit upright bow step".split())


def group_clauses(toks: list[str]) -> list[tuple[list[str], list[str]]]:
    """(main tokens, goal tokens) per clause: goal tails and fragments without any part / action word
    ("to about 45 degrees", only known words) join the clause before them."""
    out: list[tuple[list[str], list[str]]] = []
    for seg, goal in split_segments(toks):
        modifier = any(w in _VERBS or w in _PART_WORD or w in _UNITS or w in _SLIGHT or w in _LARGE
                       or _number(w) is not None and w not in ("a", "an") for w in seg)
        # "sing a little song": words the parser does not know make it a clause of its own (reported as
        # not usable), not a modifier of the clause before it
        modifier = modifier and all(w in _KNOWN or _number(w) is not None for w in seg)
        if out and (goal or not _has_content(seg) and modifier):
            if goal:
                out[-1][1].extend(seg)
            else:
                out[-1][0].extend(seg)
        else:
            out.append((list(seg), []))
    return out


# --- amounts -----------------------------------------------------------------------------------------

def _number(tok: str) -> float | None:
    if tok[0].isdigit():
        return float(tok)
    return _NUMBERS.get(tok)


def read_amount(toks: list[str]) -> tuple[float | None, str | None, bool, set[int]]:
    """(value, unit "m"/"deg", absolute, token indices used) of the first measurement in a clause:
    "about 6 inches" → 0.1524 m; "45 degrees" → 45 deg; "half a metre"; "a foot or so"; "to 90 degrees" /
    "to a right angle" → absolute."""
    for i, t in enumerate(toks):
        if t == "right" and i + 1 < len(toks) and toks[i + 1] == "angle":
            return 90.0, "deg", True, {i, i + 1}
        n = _number(t)
        if n is None:
            continue
        j, used = i + 1, {i}
        while j < len(toks) and toks[j] in ("a", "an", "of", "more", "or", "so") and j - i < 3:
            if toks[j] in ("a", "an") and t == "half":
                used.add(j)
            j += 1
        if j < len(toks) and toks[j] in _UNITS:
            if toks[j] in ("foot", "step") and t not in ("a", "an", "one", "half") and not t[0].isdigit():
                continue
            unit, scale = _UNITS[toks[j]]
            absolute = i > 0 and toks[i - 1] == "to" or i > 1 and toks[i - 2] == "to" and toks[i - 1] == "about"
            return n * scale, unit, absolute, used | {j}
    return None, None, False, set()


def _degree(toks: list[str], amount: float | None, unit: str | None) -> str:
    if unit == "m" and amount is not None:
        return "slight" if amount < 0.08 else "large" if amount > 0.35 else "normal"
    if unit == "deg" and amount is not None:
        return "slight" if amount < 15 else "large" if amount >= 60 else "normal"
    words = set(toks)
    if "fair" in words:
        return "normal"
    if words & _SLIGHT:
        return "slight"
    if words & _LARGE or "high" in words and "up" in words:
        return "large"
    return "normal"


# --- reading one clause --------------------------------------------------------------------------------

_LEG_NOUNS = frozenset(w for w, n in _PART_WORD.items() if n in ("leg", "knee", "foot"))
_SIDE_MOD = frozenset("left right both each other opposite same that this front back standing".split())
_ADVERB_NEXT = frozenset("up out down ahead forward back in over above across".split())
_EVERYTHING = frozenset("everything everywhere rest".split())
_STAND = frozenset("stand get rise come".split())


def _prepare(toks: list[str]) -> list[str]:
    """'your back' (not followed by a leg noun) → the torso; 'straight' used as an adverb dropped."""
    out = [t for i, t in enumerate(toks) if not (t == "of" and i > 0 and toks[i - 1] in ("both", "each", "all"))]
    for i, t in enumerate(out):
        nxt = out[i + 1] if i + 1 < len(out) else ""
        if t == "back" and i > 0 and out[i - 1] in ("your", "the", "my") and nxt not in _LEG_NOUNS:
            out[i] = "spine"
        elif t == "straight" and nxt in _ADVERB_NEXT or t == "out" and nxt == "of":
            out[i] = "_"
    return out


def find_subject(toks: list[str], skip: set[int], fallback: bool = False) -> int | None:
    """Index of the clause's subject part word: the first part word that is not the object of a preposition
    ("raise your left arm above your head" → arm); ``fallback`` allows a prepositional object."""
    cands = [i for i, t in enumerate(toks) if (t in _PART_WORD or t == "one" and i > 0) and i not in skip]
    for i in cands:
        if not any(toks[k] in _PREP for k in range(max(0, i - 3), i)):
            return i
    return cands[0] if cands and fallback else None


def _side_mod(toks: list[str], i: int) -> str | None:
    for k in range(i - 1, max(-1, i - 4), -1):
        if toks[k] in _SIDE_MOD:
            if toks[k] == "back" and toks[i] not in _LEG_NOUNS:
                continue
            return toks[k]
        if toks[k] in _VERBS and toks[k] not in ("back",):
            break
    return None


def _last(prev: list[Clause], limb: str | None = None) -> Clause | None:
    for c in reversed(prev):
        if c.part is not None and c.role != "unused" and (limb is None or LIMB.get(c.part) == limb):
            return c
    return None


_MIRROR_SIDES: dict[tuple[str, ...], tuple[str, ...]] = {("left",): ("right",), ("right",): ("left",)}


def resolve_part(toks: list[str], i: int, prev: list[Clause], clause: Clause) -> None:
    """Fill clause.part / sides / relative / reference from the subject word at ``i`` and earlier clauses."""
    word = toks[i]
    mod = _side_mod(toks, i)
    noun = _PART_WORD.get(word)
    if word == "one":
        ref = _last(prev)
        noun = ref.part if ref is not None and ref.part in LIMB else None
        if noun is None:
            clause.reason = "'one' does not refer to an earlier arm or leg"
            return
    clause.part = noun
    if noun in _CENTRE:
        return
    if mod in ("left", "right"):
        clause.sides = (mod,)
    elif mod in ("both", "each") or word in _PLURALS:
        clause.sides = ("left", "right")
    elif mod in ("front", "back", "standing"):
        clause.relative, clause.sides = mod, ("left",)
        toks[toks.index(mod, max(0, i - 3))] = "_"  # "the back foot": not a direction
    else:
        ref = _last(prev, LIMB.get(str(noun))) or (_last(prev) if mod in ("other", "opposite") else None)
        if ref is None or not ref.sides:
            clause.reason = f"which {noun}? (say left or right)"
            return
        other = mod in ("other", "opposite")
        clause.sides = _MIRROR_SIDES.get(ref.sides, ref.sides) if other else ref.sides
        clause.relative = None if other else ref.relative
        clause.reference = "other" if other else "same"


def _first(toks: list[str], groups: list[tuple[frozenset[str], int]]) -> int:
    for t in toks:
        for words, d in groups:
            if t in words:
                return d
    return 0


def _lateral(toks: list[str], subject_side: int | None) -> int | None:
    """+1 / −1 from a 'left' / 'right' word that is not the subject's own side word, else None."""
    for k, t in enumerate(toks):
        if t in ("left", "right") and k != subject_side:
            return 1 if t == "left" else -1
    return None


_VERTICAL = [(_UP, 1), (_DOWN, -1)]
_SAGITTAL = [(_FORWARD, 1), (_BACKWARD, -1)]
_FLEX = [(_BEND, 1), (_STRAIGHT, -1)]


def _limb_actions(noun: str, toks: list[str], side_idx: int | None) -> list[Action]:
    out: list[Action] = []
    flex = _first(toks, _FLEX)
    if flex:
        out.append(Action("flexion", flex))
    vert = _first(toks, _VERTICAL)
    standing_up = bool(set(toks) & _STAND) and "up" in toks
    if vert and not (flex and noun in ("elbow",)) and not standing_up:
        out.append(Action("height", vert))
    sag = _first(toks, _SAGITTAL)
    if sag:
        if sag > 0 and vert > 0 and LIMB.get(noun) == "leg":
            out = [a for a in out if a.kind != "height"]  # "lift your leg forward": a forward lift
        out.append(Action("forward", sag))
    elif set(toks) & _SIDEWAYS or (_lateral(toks, side_idx) is not None and not out):
        lat = _lateral(toks, side_idx)
        out.append(Action("sideways", 0 if lat is None else lat))
    if flex < 0 and len(out) > 1 and not set(toks) & {"straighten", "straight", "straightened"}:
        out = out[1:]  # "extend your arm forward": a direction, not a flexion change
    if not out and noun == "hand" and {"hip", "hips", "shoulder", "shoulders"} & set(toks):
        out.append(Action("flexion", 1))  # "hands on your hips"
    return out


def _head_actions(toks: list[str], side_idx: int | None) -> tuple[list[Action], bool]:
    """(actions, absolute-zero turn) for the head."""
    words = set(toks)
    lat = _lateral(toks, side_idx)
    if words & (_TURN | {"face", "over"}) and lat is not None:
        return [Action("turn", lat)], False
    if words & _LEAN and lat is not None:
        return [Action("tilt", lat)], False
    vert = _first(toks, _VERTICAL + [(frozenset({"bow", "tuck"}), -1), (frozenset({"back"}), 1)])
    if vert:
        return [Action("flexion", -vert)], False
    if words & (_TURN | {"face"}) and words & {"forward", "ahead", "straight", "front"}:
        return [Action("turn", 0)], True
    return [], False


def _torso_actions(toks: list[str], side_idx: int | None) -> list[Action]:
    words = set(toks)
    lat = _lateral(toks, side_idx)
    if words & _TURN and lat is not None:
        return [Action("turn", lat)]
    if words & (_LEAN | _BEND | {"over", "side", "sideways"}) and lat is not None:
        return [Action("sideways", lat)]
    sag = _first(toks, _SAGITTAL + [(_UP | _STRAIGHT | {"upright", "straighter"}, -1), (_BEND, 1)])
    return [Action("flexion", sag)] if sag else []


def _whole_body(toks: list[str], clause: Clause) -> None:
    """Clauses without a subject: look → head; twist / turn → torso; lean / bend + direction → torso;
    stand up → both knees straighten; squat / sink → both knees bend."""
    words = set(toks)
    if words & {"look", "looking", "bow", "face"}:
        clause.part = "head"
        clause.actions, clause.absolute = _head_actions(toks, None)
        clause.amount = 0.0 if clause.absolute else clause.amount
    elif words & _TURN:
        clause.part, clause.actions = "torso", _torso_actions(toks, None)
    elif "sit" in words and "up" in words or words & {"upright", "straighter"}:
        clause.part, clause.actions = "torso", [Action("flexion", -1)]
    elif words & _STAND and "up" in words or words & {"rise", "straighten"} and "up" in words or "rise" in words:
        clause.part, clause.sides, clause.actions = "knee", ("left", "right"), [Action("flexion", -1)]
    elif words & (_LEAN | _BEND | {"sit", "upright", "straighter"}) and not words & {"squat", "sink", "crouch"} \
            and (_first(toks, _SAGITTAL) or _lateral(toks, None) is not None or words & {"up", "upright",
                                                                                           "straighter"}):
        clause.part, clause.actions = "torso", _torso_actions(toks, None)
    elif words & {"squat", "sink", "crouch", "sitting", "sit"}:
        clause.part, clause.sides, clause.actions = "knee", ("left", "right"), [Action("flexion", 1)]
    if not clause.actions:
        clause.part, clause.sides = None, ()
        clause.reason = clause.reason or "no body part or movement I know"


def _is_hold(toks: list[str]) -> bool:
    words = set(toks)
    if words & _HOLD:
        return True
    return any(t in ("don't", "not") and i + 1 < len(toks) and toks[i + 1] in _DONT_VERBS
               for i, t in enumerate(toks))


def _read_hold(toks: list[str], prev: list[Clause], clause: Clause) -> None:
    clause.role = "hold"
    if set(toks) & _EVERYTHING:
        clause.held = ["rest"]
        return
    i = find_subject(toks, set(), fallback=True)
    if i is None:
        ref = _last(prev) if set(toks) & {"it", "them", "there"} else None
        if ref is None:
            clause.role, clause.reason = "unused", "nothing named to keep still"
            return
        clause.part, clause.sides, clause.reference = ref.part, ref.sides, "pronoun"
        clause.relative = ref.relative
    else:
        resolve_part(toks, i, prev, clause)
    if clause.reason:
        clause.role = "unused"
        return
    clause.held = clause.limb_parts


def _read_action(toks: list[str], goal: list[str], prev: list[Clause], clause: Clause) -> None:
    i = find_subject(toks, set())
    if i is None and set(toks) & {"it", "them", "they"}:
        ref = _last(prev)
        if ref is not None:
            clause.part, clause.sides, clause.relative, clause.reference = ref.part, ref.sides, ref.relative, "pronoun"
        else:
            clause.reason = "'it' does not refer to an earlier body part"
    elif i is not None:
        resolve_part(toks, i, prev, clause)
    if clause.reason:
        return
    side_idx = i - 1 if i is not None and i > 0 and toks[i - 1] in ("left", "right") else None
    for words in (toks, toks + goal):
        if clause.part is None:
            _whole_body(words, clause)
        elif clause.part == "head":
            clause.actions, clause.absolute = _head_actions(words, side_idx)
            clause.amount = 0.0 if clause.absolute else clause.amount
        elif clause.part == "torso":
            clause.actions = _torso_actions(words, side_idx)
        else:
            clause.actions = _limb_actions(clause.part, words, side_idx)
        if clause.actions:
            clause.reason = None
            break
    if not clause.actions and not clause.reason:
        clause.reason = f"no movement I know for the {clause.part}"


def _copy_previous(toks: list[str], prev: list[Clause], clause: Clause) -> bool:
    """"the other one too", "same thing with the left", "do the same on the right side": the previous
    action again on the side named (or the other side)."""
    words = set(toks)
    if not (words & {"same", "other", "opposite"}) or words & (_VERBS - {"side"}):
        return False
    ref = next((c for c in reversed(prev) if c.role == "action" and c.part in LIMB), None)
    if ref is None:
        return False
    lat = [t for t in toks if t in ("left", "right")]
    clause.role, clause.part, clause.reference = "action", ref.part, "other"
    clause.sides = (lat[0],) if lat else _MIRROR_SIDES.get(ref.sides, ref.sides)
    clause.actions = [Action(a.kind, a.direction if a.kind != "sideways" or a.direction == 0 else -a.direction)
                      for a in ref.actions]
    clause.amount, clause.unit, clause.degree = ref.amount, ref.unit, ref.degree
    return True


_ABOVE_HEAD = frozenset("overhead ceiling sky".split())


def _hand_goal(toks: list[str], clause: Clause) -> str | None:
    """"above_head" for an arm/hand raised "above / over your head", "overhead", "to the ceiling"."""
    if clause.role != "action" or clause.part not in ("arm", "hand", "elbow"):
        return None
    if not any(a.kind == "height" and a.direction > 0 for a in clause.actions):
        return None
    words = set(toks)
    over_head = any(t in ("above", "over") and "head" in toks[k + 1:k + 4] for k, t in enumerate(toks))
    return "above_head" if over_head or words & _ABOVE_HEAD else None


def interpret_clause(main: list[str], goal: list[str], prev: list[Clause]) -> Clause:
    """Read one clause (tokens of the main part and of its goal tail) given the clauses before it."""
    amount, unit, absolute, used = read_amount(main)
    toks = _prepare([t if k not in used else "_" for k, t in enumerate(main)])
    clause = Clause(" ".join(main + (["|"] + goal if goal else [])), amount=amount, unit=unit, absolute=absolute)
    clause.degree = _degree(main, amount, unit)
    if _is_hold(toks):
        _read_hold(toks, prev, clause)
    elif not _copy_previous(toks, prev, clause):
        _read_action(toks, _prepare(goal), prev, clause)
        clause.role = "action" if clause.actions and not clause.reason else "unused"
        if clause.role == "action" and ("less" in toks or "too" in toks[:-1]):
            clause.actions = [Action(a.kind, -a.direction) for a in clause.actions]
        clause.goal = _hand_goal(main + goal, clause)
    clause.ignored = [w for w in main if (w not in _KNOWN or w in _FILLER) and w not in _UNITS
                      and _number(w) is None and w not in _PUNCT]
    if clause.role == "unused" and not clause.reason:
        clause.reason = "not understood"
    return clause


def parse_sentence(text: str) -> ParsedSentence:
    """Split and read a whole instruction (see the module docstring). Never raises on odd input: empty,
    nonsense or over-long text gives a ParsedSentence with a notice and no actions."""
    text = text if isinstance(text, str) else ""
    if not text.strip():
        return ParsedSentence(text, [], "No instruction given: the pose is unchanged.")
    if len(text) > MAX_CHARS:
        return ParsedSentence(text, [], f"The instruction is too long ({len(text)} characters, at most {MAX_CHARS}):"
                                        " the pose is unchanged.")
    clauses: list[Clause] = []
    for n, (main, goal) in enumerate(group_clauses(normalise(text))):
        if n >= MAX_CLAUSES:
            clauses.append(Clause(" ".join(main), reason=f"more than {MAX_CLAUSES} instructions"))
            continue
        clauses.append(interpret_clause(main, goal, clauses))
    notice = None
    if not any(c.role == "action" for c in clauses):
        notice = (f"Could not understand \"{text.strip()[:60]}\" as a pose instruction (name a body part and what "
                  "to do, e.g. \"raise your left arm\"): the pose is unchanged.")
    return ParsedSentence(text, clauses, notice)
