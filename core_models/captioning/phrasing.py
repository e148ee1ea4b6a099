"""Word tables of the widened modifier grammar (:mod:`core_models.captioning.grammar`), written for PoseTailor.

Conventions of the templates: ``{p}`` the body part as a noun phrase ("your left knee"), ``{poss}`` the
possessive of the person spoken to ("your", "their", "her", ...), ``{obj}`` the object pronoun of the part
("it" / "them"). Verb phrases are base forms; :func:`gerund` makes the "-ing" form. Each change *kind* has
verbs, direction phrases, "should be" statements and the names of its body part; every phrase must stay true
for every change of that kind (a size word is only added by the grammar after measuring the change).
"""
from __future__ import annotations

# --- people ---------------------------------------------------------------------------------------------

#: (subject, possessive, modal forms) of the person the instruction is for; the first is "you"
PERSONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("you", "your", ("should", "need to", "have to", "must", "will want to", "ought to", "want to")),
    ("they", "their", ("should", "need to", "have to", "must", "ought to")),
    ("he", "his", ("should", "needs to", "has to", "must", "ought to")),
    ("she", "her", ("should", "needs to", "has to", "must", "ought to")),
    ("the person", "their", ("should", "needs to", "has to", "must")),
    ("the model", "their", ("should", "needs to", "has to")),
    ("the dancer", "their", ("should", "needs to", "has to")),
    ("the athlete", "their", ("should", "needs to", "must")),
    ("the student", "their", ("should", "needs to", "has to")),
    ("the figure", "its", ("should", "needs to", "must")),
    ("the character", "their", ("should", "needs to", "has to")),
    ("my client", "their", ("should", "needs to", "has to")),
    ("the yogi", "their", ("should", "needs to")),
    ("the avatar", "its", ("should", "needs to", "must")),
)
PERSON_P = (0.78, 0.04, 0.03, 0.03, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.005, 0.005, 0.01)

# --- frames around an imperative verb phrase {v} (second person) ---------------------------------------

FRAMES_PLAIN = ("{v}",)
FRAMES_SOFT = (
    "please {v}", "now {v}", "just {v}", "try to {v}", "I'd like you to {v}", "go ahead and {v}", "you need to {v}",
    "you should {v}", "you'll want to {v}", "make sure you {v}", "I want you to {v}", "see if you can {v}",
    "gently {v}", "slowly {v}", "carefully {v}", "you have to {v}", "you must {v}", "let me see you {v}",
    "what I'd like is for you to {v}", "I need you to {v}", "now I'd like you to {v}",
    "the idea is to {v}", "you're going to {v}", "we want to {v}",
    "remember to {v}", "don't forget to {v}", "be sure to {v}", "smoothly {v}", "calmly {v}",
    "in one smooth motion {v}", "with control {v}", "without rushing {v}", "take your time and {v}",
)
FRAMES_QUESTION = (
    "can you {v}?", "could you {v}?", "would you {v}?", "can you please {v}?", "could you please {v}?",
    "could you try to {v}?", "how about you {v}?", "can you just {v}?",
    "are you able to {v}?", "do you think you could {v}?", "why don't you {v}?",
)
#: frames only for the first step of a text / for a later one
FRAMES_FIRST = ("first {v}", "to start {v}", "start by making sure you {v}", "begin to {v}", "first of all {v}",
                "from here {v}", "from this position {v}")
FRAMES_LATER = ("from there {v}", "next {v}", "after that {v}", "finally {v}", "lastly {v}", "also {v}",
                "now also {v}", "at the same time {v}", "while you're at it {v}", "on top of that {v}")
#: openers of a whole text ("Okay, ..." is not used: a comma would make "okay" a clause of its own)
OPENERS = (
    "okay so", "alright", "so", "ok", "now then", "from this position", "from where you are",
    "starting from here", "good so", "great now", "nice now", "perfect so", "lovely so", "brilliant now",
)
#: closers, each a sentence of its own
CLOSERS = (
    "That's it.", "That should do it.", "Hold it there.", "Hold that.", "Stay there.", "Thanks.", "Thank you.",
    "Cheers.", "Good.", "Nice work.", "Hold the position.", "Hold for a breath.", "That's the pose.",
)

# --- joining steps --------------------------------------------------------------------------------------

#: between two steps of one sentence (each one splits into clauses, see core_models.text.clauses)
JOIN_STEP = (", then ", " and ", ", and ", " and then ", ", and then ", " then ", "; ", ", ")
JOIN_STEP_P = (0.22, 0.22, 0.14, 0.12, 0.08, 0.08, 0.07, 0.07)
#: sentence starters after the first sentence (followed by a space)
NEXT_SENTENCE = ("Then", "Next", "After that", "Now", "Also", "Afterwards", "Once that's done", "On top of that",
                 "At the same time", "Meanwhile", "As well as that", "Additionally", "Finally", "And", "Lastly",
                 "Once you've done that", "When that's done", "With that done", "Following that", "Besides that")

# --- size words (used only when the measured change is in their class) ----------------------------------

HEDGE_SMALL_AFTER = ("slightly", "a little", "a bit", "a touch", "a tad", "just a little", "a little bit",
                     "a wee bit", "ever so slightly", "just a touch", "a fraction", "a smidge", "a hair",
                     "a little way", "somewhat")
HEDGE_SMALL_BEFORE = ("slightly", "gently", "just", "subtly", "barely", "lightly", "softly", "marginally")
HEDGE_LARGE_AFTER = ("a lot", "a great deal", "much more", "way more", "a good deal", "quite a lot", "a long way",
                     "significantly", "considerably", "substantially", "loads", "heaps", "by a lot")
HEDGE_MEDIUM_AFTER = ("a fair bit", "a good amount", "noticeably", "moderately", "quite a bit", "some more",
                      "a decent amount", "clearly", "properly")
APPROX = ("about", "around", "roughly", "approximately", "some", "close to", "more or less", "something like",
          "in the region of", "give or take")

# --- numbers in words ----------------------------------------------------------------------------------

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """0..999 in words ("forty-five", "a hundred and twenty")."""
    if n < 0 or n > 999:
        raise ValueError(f"number out of range: {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        return _TENS[t] + ("" if o == 0 else "-" + _ONES[o])
    h, rest = divmod(n, 100)
    head = "a hundred" if h == 1 else f"{_ONES[h]} hundred"
    return head if rest == 0 else f"{head} and {number_words(rest)}"


# --- spelling (US, UK) ---------------------------------------------------------------------------------

SPELLING: dict[str, tuple[str, str]] = {
    "centimeters": ("centimeters", "centimetres"), "centimeter": ("centimeter", "centimetre"),
    "meter": ("meter", "metre"), "meters": ("meters", "metres"), "toward": ("toward", "towards"),
    "center": ("center", "centre"), "while": ("while", "whilst"), "around": ("around", "round"),
    "gray": ("gray", "grey"), "favor": ("favor", "favour"), "straighten up": ("straighten up", "straighten up"),
}

# --- casual and typo forms -------------------------------------------------------------------------------

CASUAL_WORDS = {"your": "ur", "you": "u", "please": "pls", "a little": "a lil", "okay": "ok", "because": "cuz",
                "a bit": "abit", "little": "lil", "right now": "rn", "though": "tho", "going to": "gonna",
                "want to": "wanna", "thanks": "thx"}
TYPOS = {"knee": "kne", "elbow": "elbw", "shoulder": "sholder",
         "straighten": "straigten", "forward": "foward", "raise": "rasie", "slightly": "slighty",
         "towards": "towrds", "little": "litle", "bend": "bnd", "lower": "lowr", "arm": "amr", "head": "haed"}

# --- body parts -----------------------------------------------------------------------------------------

#: names of a body part by (captioner noun, use): "pos" a point that moves, "angle" a joint that bends
PART_WORDS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("hand", "pos"): (("hand", "hands"), ("hand", "hands"), ("wrist", "wrists"), ("arm", "arms"),
                      ("palm", "palms"), ("fingertips", "fingertips"), ("fingers", "fingers"), ("fist", "fists")),
    ("elbow", "pos"): (("elbow", "elbows"), ("elbow", "elbows"), ("upper arm", "upper arms"), ("arm", "arms")),
    ("knee", "pos"): (("knee", "knees"), ("knee", "knees"), ("thigh", "thighs"), ("leg", "legs"),
                      ("kneecap", "kneecaps")),
    ("foot", "pos"): (("foot", "feet"), ("foot", "feet"), ("ankle", "ankles"), ("heel", "heels"),
                      ("toes", "toes"), ("leg", "legs")),
    ("shoulder", "pos"): (("shoulder", "shoulders"),),
    ("knee", "angle"): (("knee", "knees"), ("knee", "knees"), ("leg", "legs"), ("knee joint", "knee joints")),
    ("elbow", "angle"): (("elbow", "elbows"), ("elbow", "elbows"), ("arm", "arms"), ("elbow joint", "elbow joints")),
    ("leg", "angle"): (("leg", "legs"), ("leg", "legs"), ("knee", "knees")),
    ("arm", "angle"): (("arm", "arms"), ("arm", "arms"), ("elbow", "elbows")),
    ("hand", "dist"): (("hand", "hands"), ("wrist", "wrists"), ("palm", "palms"), ("fingertips", "fingertips")),
    ("elbow", "dist"): (("elbow", "elbows"),),
    ("knee", "dist"): (("knee", "knees"), ("knee", "knees"), ("thigh", "thighs")),
    ("foot", "dist"): (("foot", "feet"), ("foot", "feet"), ("ankle", "ankles"), ("heel", "heels")),
}
HEAD_WORDS = ("head", "head", "head", "face", "chin")
TORSO_WORDS = ("torso", "upper body", "trunk", "chest", "body", "upper torso")
TWIST_WORDS = ("torso", "upper body", "trunk", "chest", "shoulders", "ribcage", "upper torso")
#: how a limb is called when the part is referred back to ("that same leg")
LIMB_OF = {"hand": "arm", "elbow": "arm", "arm": "arm", "shoulder": "arm", "wrist": "arm",
           "knee": "leg", "foot": "leg", "leg": "leg"}
SAME_REF = ("that same {n}", "the same {n}", "that {n}", "this same {n}", "the {n} on that side",
            "the same side's {n}")
OTHER_REF = ("the other one", "the other {n}", "the opposite {n}", "the {n} on the other side")

# --- change kinds ---------------------------------------------------------------------------------------
# Each kind: "verbs" complete verb phrases; "moves" verbs that need one of the "dirs"; "dirs" direction
# phrases; "extra" optional direction add-ons after a complete verb; "should" statements ({p} is the part).
# Per-noun extras are in NOUN_VERBS.

KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    "bend": {
        "verbs": ("bend {p}", "flex {p}", "bend {p} more", "fold {p}", "curl {p}", "bend {p} further",
                  "flex {p} more", "put more bend in {p}", "add some bend to {p}", "increase the bend in {p}",
                  "deepen the bend in {p}", "close the angle at {p}", "bend at {p}", "draw {p} into a deeper bend"),
        "should": ("{p} should be more bent", "{p} needs more bend", "{p} needs to bend more", "{p} is too straight",
                   "{p} should bend further", "there should be more bend in {p}", "I want more bend in {p}",
                   "{p} should be bent more", "{p} has to be more flexed", "{p} isn't bent enough",
                   "{p} should have a deeper bend"),
    },
    "straighten": {
        "verbs": ("straighten {p}", "extend {p}", "unbend {p}", "straighten {p} out", "open up {p}",
                  "take some bend out of {p}", "bend {p} less", "lengthen {p}", "extend {p} more",
                  "stretch {p} out", "reduce the bend in {p}", "open the angle at {p}", "make {p} straighter"),
        "should": ("{p} should be straighter", "{p} needs to be straighter", "{p} is too bent",
                   "{p} should be less bent", "there's too much bend in {p}", "{p} needs less bend",
                   "{p} should be more extended", "I want {p} straighter", "{p} isn't straight enough",
                   "{p} has to be more extended"),
    },
    "raise": {
        "verbs": ("raise {p}", "lift {p}", "lift {p} up", "bring {p} up", "elevate {p}", "raise {p} up",
                  "move {p} up", "get {p} up", "take {p} up", "pull {p} up", "send {p} up", "draw {p} up",
                  "hoist {p} up", "lift {p} up higher", "bring {p} up higher", "raise {p} higher"),
        "moves": ("move {p}", "bring {p}", "take {p}", "shift {p}", "slide {p}", "reach {p}", "carry {p}"),
        "dirs": ("up", "upward", "upwards", "higher", "up toward the ceiling", "up towards the ceiling",
                 "toward the ceiling", "up toward the sky", "skyward", "up higher", "further up", "upward a bit"),
        "extra": ("toward the ceiling", "towards the ceiling", "higher", "upward"),
        "should": ("{p} should be higher", "{p} needs to be higher", "{p} is too low", "{p} should sit higher",
                   "I want {p} higher", "{p} should be up higher", "{p} needs to come up", "{p} should go higher",
                   "{p} ought to be higher", "{p} has to be higher up", "{p} isn't high enough"),
    },
    "lower": {
        "verbs": ("lower {p}", "drop {p}", "bring {p} down", "let {p} down", "lower {p} down", "drop {p} down",
                  "move {p} down", "take {p} down", "ease {p} down", "let {p} drop", "sink {p}", "put {p} down",
                  "pull {p} down", "settle {p} down"),
        "moves": ("move {p}", "bring {p}", "take {p}", "shift {p}", "slide {p}", "carry {p}"),
        "dirs": ("down", "downward", "downwards", "lower", "down toward the floor", "toward the floor",
                 "towards the ground", "down toward the ground", "down lower", "further down"),
        "extra": ("toward the floor", "towards the floor", "toward the ground", "downward", "lower"),
        "should": ("{p} should be lower", "{p} needs to be lower", "{p} is too high", "{p} should sit lower",
                   "I want {p} lower", "{p} needs to come down", "{p} should go lower", "{p} ought to be lower",
                   "{p} has to be further down", "{p} should be down lower"),
    },
    "forward": {
        "verbs": ("bring {p} forward", "move {p} forward", "push {p} forward", "reach {p} forward",
                  "take {p} forward", "shift {p} forward", "slide {p} forward", "scoot {p} forward",
                  "send {p} forward", "press {p} forward", "move {p} to the front"),
        "moves": ("move {p}", "bring {p}", "take {p}", "shift {p}", "slide {p}", "push {p}", "reach {p}"),
        "dirs": ("forward", "forwards", "to the front", "ahead", "further forward", "toward the front"),
        "should": ("{p} should be further forward", "{p} needs to be further forward", "{p} is too far back",
                   "{p} should come forward", "I want {p} further forward", "{p} needs to come forward more",
                   "{p} should be more to the front"),
    },
    "back": {
        "verbs": ("bring {p} back", "move {p} back", "pull {p} back", "draw {p} back", "take {p} back",
                  "shift {p} back", "slide {p} back", "scoot {p} back", "move {p} backward", "pull {p} backward",
                  "send {p} back"),
        "moves": ("move {p}", "bring {p}", "take {p}", "shift {p}", "slide {p}", "pull {p}", "draw {p}"),
        "dirs": ("back", "backward", "backwards", "to the back", "further back", "rearward", "toward the back"),
        "should": ("{p} should be further back", "{p} needs to be further back", "{p} is too far forward",
                   "{p} should come back", "I want {p} further back", "{p} needs to come back more",
                   "{p} should be more to the back"),
    },
    "out": {
        "verbs": ("move {p} out to the side", "take {p} out to the side", "bring {p} out", "open {p} out",
                  "swing {p} out", "push {p} out to the side", "scoot {p} out", "slide {p} out to the side",
                  "step {p} out"),
        "moves": ("move {p}", "bring {p}", "take {p}", "shift {p}", "slide {p}", "swing {p}", "carry {p}"),
        "dirs": ("out to the side", "outward", "outwards", "out sideways", "sideways", "away from the midline",
                 "out wider", "to the {side}", "out to the {side}", "further out to the {side}", "over to the {side}"),
        "should": ("{p} should be further out to the side", "{p} needs to be further out", "{p} is too far in",
                   "{p} should be wider", "{p} should sit further out"),
    },
    "in": {
        "verbs": ("bring {p} in", "move {p} in", "draw {p} in", "pull {p} in toward the middle",
                  "move {p} toward the midline", "bring {p} in toward the center", "slide {p} in",
                  "scoot {p} in"),
        "moves": ("move {p}", "bring {p}", "take {p}", "shift {p}", "slide {p}", "draw {p}"),
        "dirs": ("inward", "inwards", "in toward the midline", "toward the center", "toward the middle",
                 "in", "to the {side}", "over to the {side}", "in to the {side}"),
        "should": ("{p} should be closer to the midline", "{p} needs to come in", "{p} is too far out",
                   "{p} should be more toward the middle", "{p} should sit further in"),
    },
    "closer": {
        "verbs": ("bring {p} closer together", "move {p} closer together", "draw {p} in toward each other",
                  "bring {p} closer to each other", "move {p} toward each other", "close the gap between {p}",
                  "narrow the gap between {p}", "pull {p} in closer", "reduce the space between {p}",
                  "squeeze {p} closer", "bring {p} in"),
        "should": ("{p} should be closer together", "{p} are too far apart", "{p} need to be closer together",
                   "the gap between {p} should be smaller", "there's too much space between {p}",
                   "{p} should be nearer to each other", "I want {p} closer together"),
    },
    "apart": {
        "verbs": ("move {p} apart", "spread {p}", "spread {p} apart", "separate {p}", "widen {p}",
                  "open {p}", "open {p} up", "move {p} further apart", "take {p} wider", "widen the gap between {p}",
                  "open up the space between {p}", "push {p} apart", "spread {p} out", "move {p} away from each other"),
        "should": ("{p} should be further apart", "{p} are too close together", "{p} need more space between them",
                   "the gap between {p} should be bigger", "{p} should be wider apart", "I want {p} further apart",
                   "{p} need to be spread wider"),
    },
    "shift": {
        "verbs": ("shift {p} to the {side}", "move {p} to the {side}", "slide {p} over to the {side}",
                  "take {p} across to the {side}", "bring {p} over to the {side}", "scoot {p} to the {side}"),
        "should": ("{p} should be further to the {side}", "{p} should sit more to the {side}",
                   "{p} needs to be more to the {side}"),
    },
    "tuck_in": {
        "verbs": ("tuck {p} in", "bring {p} in toward {poss} body", "draw {p} in toward {poss} body",
                  "pull {p} in close to {poss} body", "bring {p} closer to {poss} torso", "hug {p} in",
                  "move {p} in toward {poss} trunk", "keep {p} in tighter to {poss} body"),
        "should": ("{p} should be closer to {poss} body", "{p} is too far from {poss} body",
                   "{p} should be tucked in more", "{p} needs to be in closer to {poss} body"),
    },
    "move_out": {
        "verbs": ("move {p} away from {poss} body", "take {p} out away from {poss} body",
                  "bring {p} away from {poss} torso", "push {p} out away from {poss} body", "open {p} away from {poss} side",
                  "move {p} further from {poss} trunk", "get {p} away from {poss} body"),
        "should": ("{p} should be further from {poss} body", "{p} is too close to {poss} body",
                   "{p} should be away from {poss} body", "{p} needs more space from {poss} torso"),
    },
    "lean_forward": {
        "verbs": ("lean forward", "tip forward", "tilt forward", "incline forward", "hinge forward at the hips",
                  "bend forward", "fold forward", "lean {poss} torso forward", "tip {poss} upper body forward",
                  "tilt {poss} trunk forward", "bring {poss} chest forward", "lower {poss} chest toward the floor",
                  "lean over forward", "pitch {poss} upper body forward", "hinge at the hips"),
        "should": ("{poss} torso should lean further forward", "{poss} upper body should tip forward more",
                   "{poss} chest should be further forward", "{poss} trunk needs more forward lean"),
    },
    "lean_back": {
        "verbs": ("lean back", "lean backward", "tip back", "tilt back", "recline", "lean {poss} torso back",
                  "tip {poss} upper body back", "tilt {poss} trunk backward", "bring {poss} chest back",
                  "take {poss} upper body back", "lean back a little from the hips", "sway back"),
        "should": ("{poss} torso should lean further back", "{poss} upper body should tip back more",
                   "{poss} chest should be further back", "{poss} trunk needs more backward lean"),
    },
    "upright_side": {
        "verbs": ("stop leaning to the side", "bring {poss} torso back to the middle", "undo the side bend",
                  "come back to center from the side bend",
                  "straighten up out of the side bend", "bring {poss} upper body back over {poss} hips"),
        "should": ("{poss} torso should not lean to either side", "{poss} upper body should be centered again"),
    },
    "upright": {
        "verbs": ("straighten up", "come back up to upright", "bring {poss} torso back upright",
                  "straighten {poss} back", "stop leaning", "return to upright", "get {poss} upper body vertical again",
                  "lift {poss} torso back up", "bring {poss} trunk back to vertical", "stack {poss} spine upright",
                  "come up tall", "bring {poss} upper body back to center"),
        "should": ("{poss} back should be upright", "{poss} torso should be vertical", "{poss} upper body should be upright",
                   "{poss} trunk should be straight up and down", "{poss} spine should be vertical again"),
    },
    "twist": {
        "verbs": ("twist {p} to the {side}", "rotate {p} to the {side}", "turn {p} to the {side}",
                  "swivel {p} to the {side}", "twist {p} toward the {side}", "rotate {p} toward {poss} {side}",
                  "turn {p} toward {poss} {side} side", "twist to the {side}", "twist toward {poss} {side}"),
        "should": ("{p} should be turned more to the {side}", "{p} should face more to the {side}",
                   "{p} needs more twist to the {side}", "{p} should rotate further to the {side}"),
    },
    "side_lean": {
        "verbs": ("lean to the {side}", "bend sideways to the {side}", "tilt {poss} upper body to the {side}",
                  "tip {poss} torso over to the {side}", "side bend to the {side}", "lean over to the {side}",
                  "tilt {poss} trunk toward {poss} {side} side", "lean {poss} torso to the {side}",
                  "bend {poss} upper body over to the {side}", "lean toward {poss} {side}"),
        "should": ("{poss} torso should lean more to the {side}", "{poss} upper body should tilt more to the {side}",
                   "{poss} trunk needs more side bend to the {side}"),
    },
    "head_down": {
        "verbs": ("look down", "lower {poss} chin", "tuck {poss} chin toward {poss} chest", "drop {poss} chin",
                  "tilt {poss} head forward", "bow {poss} head", "lower {poss} gaze", "drop {poss} head forward",
                  "bring {poss} chin down", "nod {poss} head down", "tuck {poss} chin in", "look downward",
                  "tip {poss} head down", "drop {poss} gaze"),
        "should": ("{poss} chin should be lower", "{poss} gaze should be lower", "{poss} head should tilt down more",
                   "{poss} chin needs to come down", "{poss} chin is too high"),
    },
    "head_up": {
        "verbs": ("look up", "lift {poss} chin", "raise {poss} chin", "tilt {poss} head back", "raise {poss} head",
                  "lift {poss} gaze", "bring {poss} chin up", "tip {poss} head back", "look upward",
                  "raise {poss} gaze", "lift {poss} head", "bring {poss} head up", "tilt {poss} chin up"),
        "should": ("{poss} chin should be higher", "{poss} gaze should be higher", "{poss} head should tilt up more",
                   "{poss} chin needs to come up", "{poss} chin is too low"),
    },
    "head_turn": {
        "verbs": ("turn {p} to the {side}", "look to the {side}", "rotate {p} to the {side}",
                  "swivel {p} to the {side}", "turn {p} toward {poss} {side}", "look {side}",
                  "look toward {poss} {side}", "turn to look to the {side}", "glance to the {side}",
                  "shift {poss} gaze to the {side}", "turn {p} {side}"),
        "should": ("{p} should be turned more to the {side}", "{poss} gaze should be more to the {side}",
                   "{p} should face more to the {side}", "{p} needs to turn further to the {side}"),
    },
    "head_tilt": {
        "verbs": ("tilt {p} to the {side}", "tip {p} to the {side}", "lean {p} to the {side}",
                  "cock {p} to the {side}", "incline {p} to the {side}", "tilt {p} sideways to the {side}",
                  "drop {poss} {side} ear toward {poss} {side} shoulder", "bring {poss} {side} ear toward {poss} shoulder",
                  "tilt {p} toward {poss} {side} shoulder"),
        "should": ("{p} should tilt more to the {side}", "{p} should lean more to the {side}",
                   "{p} needs more tilt to the {side}"),
    },
    "turn": {
        "verbs": ("turn to the {side}", "turn {side}", "turn {poss} whole body to the {side}", "pivot to the {side}",
                  "rotate to {poss} {side}", "swivel to the {side}", "face more to the {side}",
                  "turn {poss} body toward the {side}", "rotate {poss} whole body to the {side}",
                  "pivot {poss} whole body to the {side}", "turn toward {poss} {side}"),
        "should": ("you should face more to the {side}", "{poss} body should be turned more to the {side}",
                   "{poss} whole body needs to rotate to the {side}"),
    },
    "turn_around": {
        "verbs": ("turn around", "turn {around} to face the other way", "spin {around}", "do a half turn",
                  "face the opposite direction", "turn all the way {around}", "pivot {around} to face backward"),
        "should": ("you should be facing the other way", "{poss} body should face the opposite direction"),
    },
}

#: extra complete verb phrases of a kind for one noun ("step your left foot forward")
NOUN_VERBS: dict[tuple[str, str], tuple[str, ...]] = {
    ("forward", "foot"): ("step {p} forward", "step forward with {p}", "take a step forward with {p}",
                          "walk {p} forward", "put {p} forward"),
    ("back", "foot"): ("step {p} back", "step back with {p}", "take a step back with {p}", "walk {p} back",
                       "put {p} back"),
    ("out", "foot"): ("step {p} out to the side", "step out with {p}", "take {p} out wide"),
    ("raise", "foot"): ("pick {p} up", "hike {p} up", "lift {p} higher"),
    ("raise", "knee"): ("hike {p} up", "drive {p} up", "pull {p} up"),
    ("raise", "hand"): ("reach {p} up", "reach up with {p}", "float {p} up", "sweep {p} up"),
    ("raise", "shoulder"): ("shrug {p}", "shrug {p} up", "hike {p} up toward {poss} ear"),
    ("lower", "shoulder"): ("relax {p} down", "draw {p} down away from {poss} ear", "settle {p}"),
    ("lower", "foot"): ("put {p} down", "plant {p} down", "set {p} down"),
    ("lower", "hand"): ("let {p} hang lower", "drop {p} down", "sweep {p} down"),
    ("forward", "hand"): ("reach {p} forward", "reach forward with {p}", "extend {p} forward"),
    ("back", "hand"): ("sweep {p} back", "reach {p} back", "draw {p} back"),
    ("apart", "foot"): ("widen {poss} stance", "step {p} wider apart", "take a wider stance"),
    ("closer", "foot"): ("narrow {poss} stance", "step {p} closer together", "take a narrower stance"),
    ("apart", "knee"): ("let {p} fall open", "open {p} out"),
    ("closer", "knee"): ("squeeze {p} in", "draw {p} in toward each other"),
    ("bend", "knee"): ("let {p} bend more", "soften {p} more", "bend deeper at {p}"),
    ("bend", "elbow"): ("fold {p} in", "curl {p} up", "bend {p} in"),
    ("straighten", "knee"): ("push through {p}", "straighten through {p}"),
    ("straighten", "elbow"): ("reach out through {p}", "straighten through {p}"),
    ("straighten", "leg"): ("push {p} long", "lengthen {p} out"),
    ("straighten", "arm"): ("reach {p} long", "lengthen {p} out"),
}

#: verbs that say the end state: only used when the pair reaches it (measured)
FULLY_STRAIGHT = ("lock out {p}", "straighten {p} fully", "straighten {p} all the way", "extend {p} completely",
                  "make {p} completely straight", "straighten {p} out completely", "fully extend {p}")
FULLY_BENT = ("bend {p} all the way", "fold {p} completely", "bend {p} as far as it goes", "curl {p} up tight",
              "bend {p} fully", "fully flex {p}")
RIGHT_ANGLE = ("bend {p} to a right angle", "bend {p} to ninety degrees", "bend {p} to 90 degrees",
               "flex {p} to a right angle", "bring {p} to a right angle", "bend {p} into an L shape")
