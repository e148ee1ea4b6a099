"""Which body parts a pose prompt asks to move (QPoser prompting, Latent panel ▸ Prompt).

The prompt model only rewrites the parts a text talks about, so this decides what an edit may touch. People name
the part that moves *and* the places it moves to: in "raise your left arm above your head" the head is a place, not
a part to edit; in "hands on hips" the hips are where the hands go. So a part noun is a **target** (not prompted)
when the word before it — past determiners, possessives and sides — is a place preposition (above, over, behind,
to, toward, at, across …) or a contact verb (touch, reach, grab …); "on" is a place unless a support verb precedes it
("kneeling on the right knee", "standing on the left leg" name the supporting leg). A text that names only targets
keeps them (the old reading). Verbs imply parts when the text names none of that kind ("squat down a bit": the legs;
"clap": the arms). Sides survive common shorthand and typos ("rt knee", "rigth knee", "l arm"), and part words
the typos :func:`core_models.text.parse.normalise` fixes ("kne").
"""
from __future__ import annotations

import re

from core_models.nets.qposer.model import PARTS
from core_models.text.parse import normalise

_ARM_WORDS = ("arm", "arms", "elbow", "elbows", "hand", "hands", "wrist", "wrists", "forearm", "forearms", "shoulder",
              "shoulders", "palm", "palms", "fist", "fists", "finger", "fingers")
_LEG_WORDS = ("leg", "legs", "knee", "knees", "foot", "feet", "ankle", "ankles", "thigh", "thighs", "shin", "shins",
              "calf", "calves", "hip", "hips", "toe", "toes", "heel", "heels")
_HEAD_WORDS = ("head", "neck", "face", "chin", "gaze", "look", "looks", "looking", "nod", "nods")
_TORSO_WORDS = ("torso", "back", "spine", "chest", "trunk", "lean", "leans", "leaning", "bend", "bends", "bending",
                "bows", "bowing", "twist", "twists", "twisted", "hunch", "hunched", "arch", "arched", "waist", "belly",
                "stomach", "fold", "folds", "folding", "hinge", "hinges", "hinging")
#: nouns (not verbs) that can be a place the moving part goes to
_NOUN_TORSO = {"torso", "back", "spine", "chest", "trunk", "waist", "belly", "stomach"}
_NOUN_HEAD = {"head", "neck", "face", "chin"}
_BEND_VERBS = {"bend", "bends", "bending", "bent", "twist", "twists", "twisted", "fold", "folds", "folding"}

#: arm / leg words that take no side from an earlier limb noun ("bend at the hip", "feet" is plural)
_NOT_A_LIMB = {"shoulder", "hip", "feet"}
#: parse.normalise already expands "rt" / "lft" / "rite" and fixes one-edit typos ("rigth", "letf"); these are
#: the short forms it leaves alone
_SIDES = {"left": "left", "right": "right", "lt": "left", "rgt": "right"}
_LETTER_SIDES = {"l": "left", "r": "right"}  # only right before a part noun ("l arm", "r knee")
_FILLER = {"the", "your", "ur", "yr", "his", "her", "their", "my", "its", "a", "an", "both", "each", "opposite",
           "other", "own", "lower", "upper", "top", "of", "front", "one", "same", "chosen"} | set(_SIDES) \
    | set(_LETTER_SIDES)
_PLACE = {"above", "over", "overhead", "below", "under", "underneath", "beneath", "behind", "to", "toward",
          "towards", "against", "beside", "near", "past", "at", "onto", "across", "around", "round", "between",
          "touch", "touches", "touching", "reach", "reaches", "reaching", "grab", "grabs", "grabbing", "clasp",
          "clasps", "clasping", "hug", "hugs", "hugging", "by", "than",
          "beyond"}
#: place verbs whose arm noun is the moving part, not a place
_MOVER_VERBS = {"reach", "reaches", "reaching", "clasp", "clasps", "clasping"}
_SUPPORT = {"kneel", "kneels", "kneeling", "knelt", "stand", "stands", "standing", "balance", "balances",
            "balancing", "down", "sit", "sits", "sitting", "squat", "squats", "squatting", "lie", "lies", "lying",
            "weight", "hop", "hops", "hopping", "land", "lands", "landing"}
_LEG_VERBS = {"squat", "squats", "squatting", "crouch", "crouches", "crouching", "kneel", "kneels", "kneeling",
              "knelt", "lunge", "lunges", "lunging", "sit", "sits", "sitting", "jump", "jumps", "jumping", "hop",
              "hops", "hopping", "kick", "kicks", "kicking", "straddle", "straddling", "stride", "striding"}
_ARM_VERBS = {"clap", "claps", "clapping", "shrug", "shrugs", "shrugging", "touch", "touches", "touching", "reach",
              "reaches", "reaching", "grab", "grabs", "grabbing", "clasp", "clasps", "clasping", "wave", "waves",
              "waving", "hug", "hugs", "hugging"}


def _kind(w: str) -> str | None:
    if w in _ARM_WORDS:
        return "arm"
    if w in _LEG_WORDS:
        return "leg"
    if w in _HEAD_WORDS:
        return "head"
    if w in _TORSO_WORDS:
        return "torso"
    return None


def _side(words: list[str], i: int) -> str | None:
    """The side word among the two words before the noun at ``i`` (nearest first)."""
    for k in (i - 1, i - 2):
        if k < 0:
            break
        if words[k] in _SIDES:
            return _SIDES[words[k]]
        if k == i - 1 and words[k] in _LETTER_SIDES:
            return _LETTER_SIDES[words[k]]
    return None


def _is_target(words: list[str], i: int) -> bool:
    """The noun at ``i`` is a place the moving part goes to (see the module docstring)."""
    k = i - 1
    while k >= 0 and words[k] in _FILLER:
        k -= 1
    if k < 0:
        return False
    if words[k] == "in" and words[k + 1] == "front":  # "in front of your chest"
        return True
    if words[k] in _PLACE:
        # "reach your right arm forward", "clasp your hands": the arm a reaching verb names is the one that moves
        return not (words[k] in _MOVER_VERBS and _kind(words[i]) == "arm")
    if words[k] in ("on", "upon"):
        return not any(w in _SUPPORT for w in words[max(0, k - 3):k])
    return False


def _is_adverb_back(words: list[str], i: int) -> bool:
    """'back' as a direction ("tilted back", "step back") rather than the body part ("the back", "arch your
    back")."""
    return words[i] == "back" and (i == 0 or words[i - 1] not in _FILLER | {"arch", "arched", "arching", "round",
                                                                            "rounded", "rounding", "flat", "straight"})


def _limb_bend(words: list[str], i: int) -> bool:
    """A bend / twist verb about a limb ("bending the knees", "knees bent") is not the torso; a limb named as a
    place ("bend at the hips") does not count."""
    near = [j for j in range(max(0, i - 3), min(len(words), i + 4)) if j != i]
    return any(_kind(words[j]) in ("arm", "leg") and not _is_target(words, j) for j in near)


def _torso_word(words: list[str], i: int) -> bool:
    """Whether the torso word at ``i`` is about the torso: not 'back' as a direction, not a limb's bend."""
    w = words[i]
    if w == "back":
        return not _is_adverb_back(words, i)
    if w in _BEND_VERBS:
        return not _limb_bend(words, i)
    return True


def _extra_torso(words: list[str], i: int) -> bool:
    """Torso phrases outside the word list: "bent over / forward", "upper body"."""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if words[i] == "bent" and nxt in ("over", "forward", "forwards", "backward", "backwards", "sideways"):
        return not _limb_bend(words, i)
    return words[i] == "body" and i > 0 and words[i - 1] == "upper"


def _mentions(words: list[str]) -> list[tuple[str, str | None, bool]]:
    """(kind, side, is_target) of every part word of the text. A limb noun without a side, in the singular, after
    a sided noun of the same limb that moves, is that limb ("lift the right knee so the thigh is level": the right
    thigh)."""
    out: list[tuple[str, str | None, bool]] = []
    last_side: dict[str, str] = {}
    for i, w in enumerate(words):
        kind = "torso" if _extra_torso(words, i) else _kind(w)
        if kind is None or (kind == "torso" and not _torso_word(words, i)):
            continue
        target = _is_target(words, i) and (kind in ("arm", "leg") or w in _NOUN_TORSO or w in _NOUN_HEAD)
        side = _side(words, i) if kind in ("arm", "leg") else None
        if kind in ("arm", "leg") and side is None and not w.endswith("s") and w not in _NOT_A_LIMB \
                and not target and kind in last_side:
            other = any(words[k] in ("other", "opposite") for k in range(max(0, i - 2), i))
            side = {"left": "right", "right": "left"}[last_side[kind]] if other else last_side[kind]
        if side is not None and not target:
            last_side[kind] = side
        out.append((kind, side, target))
    return out


def _parts_of(kind: str, side: str | None) -> set[str]:
    if kind in ("head", "torso"):
        return {kind}
    return {f"{side}_{kind}"} if side else {f"left_{kind}", f"right_{kind}"}


def prompted_parts(text: str) -> list[str]:
    """The body parts a prompt asks to move (subset of PARTS, in PARTS order)."""
    t = text.lower().replace("-", " ")
    words = [w for w in normalise(t) if re.fullmatch(r"[a-z]+", w)]  # shorthand expanded, part-word typos fixed
    ments = _mentions(words)
    movers = [(k, s) for k, s, tgt in ments if not tgt]
    found: set[str] = set()
    for k, s in movers:
        found |= _parts_of(k, s)
    kinds = {k for k, _ in movers}
    if "leg" not in kinds and any(w in _LEG_VERBS for w in words):
        found |= {"left_leg", "right_leg"}
    if "arm" not in kinds and any(w in _ARM_VERBS for w in words):
        found |= {"left_arm", "right_arm"}
    if not found:  # only places named ("the head"): read them as the parts
        for k, s, _ in ments:
            found |= _parts_of(k, s)
    return [p for p in PARTS if p in found]
