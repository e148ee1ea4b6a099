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
#: more third persons ("the runner should ..."), all with "their"
THIRD_NOUNS: tuple[str, ...] = (
               "runner", "gymnast", "player", "actor", "performer", "subject", "patient", "climber", "skater",
               "boxer", "swimmer", "trainee", "learner", "participant", "individual", "user", "kid", "child",
               "man", "woman", "guy", "girl", "boy", "lady", "partner", "mannequin", "puppet", "robot", "pupil",
               "beginner", "instructor", "teacher", "volunteer", "cyclist", "skier", "golfer", "wrestler",
               "fighter", "ballerina", "acrobat", "sprinter", "lifter", "rower", "surfer", "hiker",
               "jogger", "tennis player", "footballer", "goalkeeper", "basketball player", "soldier", "nurse",
               "coach", "trainer", "singer", "musician", "grandmother", "grandfather", "teenager", "toddler",
               "adult", "senior", "visitor", "customer", "worker", "driver", "pilot", "referee", "judge", "host",
               "presenter", "speaker", "mime", "statue", "sculpture", "doll", "marionette", "protagonist", "hero",
               "villain", "knight", "ninja", "zombie", "superhero", "astronaut")
PERSON_P = (0.74, 0.04, 0.03, 0.03, 0.03, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.005, 0.005, 0.01)
#: the rest of the probability: "the <THIRD_NOUNS>"
PERSON_OTHER_P = 0.02

# --- frames around an imperative verb phrase {v} (second person) ---------------------------------------

FRAMES_PLAIN = ("{v}",)
FRAMES_SOFT: tuple[str, ...] = (
    "please {v}", "now {v}", "just {v}", "try to {v}", "I'd like you to {v}", "go ahead and {v}", "you need to {v}",
    "you should {v}", "you'll want to {v}", "make sure you {v}", "I want you to {v}", "see if you can {v}",
    "gently {v}", "slowly {v}", "carefully {v}", "you have to {v}", "you must {v}", "let me see you {v}",
    "what I'd like is for you to {v}", "I need you to {v}", "now I'd like you to {v}",
    "the idea is to {v}", "you're going to {v}", "we want to {v}", "I'd love to see you {v}",
    "let's have you {v}", "your next move is to {v}", "the next step is to {v}", "what we need now is to {v}",
    "time to {v}", "your job now is to {v}", "go on and {v}", "aim to {v}", "the goal is to {v}",
    "the cue here is to {v}", "do me a favor and {v}", "do me a favour and {v}", "if you can {v}",
    "when you're ready {v}", "whenever you're ready {v}", "in your own time {v}", "on your next exhale {v}",
    "as you breathe out {v}", "on an inhale {v}", "breathing out {v}", "with your next breath {v}",
    "as you exhale {v}", "on the exhalation {v}", "with an inhalation {v}", "nice and easy {v}",
    "steadily {v}", "deliberately {v}", "gradually {v}", "mindfully {v}", "patiently {v}", "with care {v}",
    "nice and slow {v}", "without forcing it {v}", "in a controlled way {v}", "you can now {v}",
    "it's time to {v}", "what you want to do is {v}", "all you need to do is {v}", "the trick is to {v}",
    "my suggestion is to {v}", "I'd suggest you {v}", "I recommend you {v}", "I'd advise you to {v}",
    "we're going to {v}", "okay now {v}", "right away {v}", "straight away {v}", "quickly {v}",
    "remember to {v}", "don't forget to {v}", "be sure to {v}", "smoothly {v}", "calmly {v}",
    "in one smooth motion {v}", "with control {v}", "without rushing {v}", "take your time and {v}",
)
FRAMES_QUESTION = (
    "can you {v}?", "could you {v}?", "would you {v}?", "can you please {v}?", "could you please {v}?",
    "could you try to {v}?", "how about you {v}?", "can you just {v}?",
    "are you able to {v}?", "do you think you could {v}?", "why don't you {v}?", "is it possible to {v}?",
    "can you manage to {v}?", "could you possibly {v}?", "any chance you could {v}?", "care to {v}?",
    "might you be able to {v}?", "would it be possible to {v}?", "will you {v}?", "can we {v}?",
    "would you be so kind as to {v}?", "could we {v}?",
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
CLOSERS: tuple[str, ...] = (
    "That's it.", "That should do it.", "Hold it there.", "Hold that.", "Stay there.", "Thanks.", "Thank you.",
    "Cheers.", "Good.", "Nice work.", "Hold the position.", "Hold for a breath.", "That's the pose.",
    "Great job.", "Well done.", "Nice one.", "Excellent.", "Fantastic.", "Awesome.", "Superb.", "Wonderful.",
    "Good stuff.", "You're doing great.", "Take it easy.", "Don't strain.", "No rush.", "Easy does it.",
    "Go only as far as is comfortable.", "Listen to your body.", "Don't force anything.", "Breathe normally.",
    "Breathe steadily throughout.", "Stop if anything hurts.", "Stay comfortable.", "Thanks a lot.",
    "Much appreciated.", "Thank you kindly.", "Cheers mate.", "Good luck.", "Have fun with it.",
    "Stay there for a moment.", "Hold it for three breaths.", "Hold steady for a few seconds.",
    "Pause there.", "Freeze there.", "Stay put for a second.", "That's the shape we want.",
    "Lovely work.", "Terrific.", "Marvellous.", "Splendid.", "Outstanding.", "Magnificent.", "Impressive.",
    "Nicely done.", "Good effort.", "Way to go.", "Spot on.", "Bravo.", "Sweet.", "Neat.",
    "Love it.", "Looks great.", "Beautiful form.", "Feel the stretch.", "Relax into it.", "Stay soft in the joints.",
    "Count to five.", "Hold for ten seconds.", "Smile.",
    "Stay balanced.", "Stay grounded.", "Find your balance.", "Take a breath.", "Exhale slowly.",
    "Inhale deeply.", "Enjoy it.", "Easy now.", "Steady.", "Gently does it.", "Careful now.", "Good posture.",
)
#: manner words added after a step now and then (they never change where the body ends up)
MANNER = ("slowly", "smoothly", "gently", "carefully", "steadily", "with control", "nice and slow", "calmly",
          "gradually", "evenly", "softly", "without jerking", "without forcing it", "comfortably", "fluidly",
          "gracefully", "lightly", "patiently", "mindfully", "deliberately", "in one motion", "in one go",
          "at your own pace", "in a controlled manner", "without rushing", "nice and easy", "with ease",
          "little by little", "bit by bit", "step by step", "without strain", "without straining",
          "with a relaxed face", "while breathing out", "as you breathe in", "on the exhale", "on the inhale")

# --- joining steps --------------------------------------------------------------------------------------

#: between two steps of one sentence (each one splits into clauses, see core_models.text.clauses)
JOIN_STEP = (", then ", " and ", ", and ", " and then ", ", and then ", " then ", "; ", ", ")
JOIN_STEP_P = (0.22, 0.22, 0.14, 0.12, 0.08, 0.08, 0.07, 0.07)
#: sentence starters after the first sentence (followed by a space)
NEXT_SENTENCE = ("Then", "Next", "After that", "Now", "Also", "Afterwards", "Once that's done", "On top of that",
                 "At the same time", "Meanwhile", "As well as that", "Additionally", "Finally", "And", "Lastly",
                 "Once you've done that", "When that's done", "With that done", "Following that", "Besides that",
                 "Afterward", "Subsequently", "Plus", "In addition", "Furthermore", "Moreover", "Beyond that",
                 "To finish", "To wrap up", "Last of all", "Second", "Third", "Once you're there",
                 "When you're ready", "While you're there", "From that position", "After you've done that",
                 "Straight after", "Then also", "And also", "And finally", "As a last step",
                 "Simultaneously", "Along with that", "At that point", "On top of this", "For the next part")

# --- size words (used only when the measured change is in their class) ----------------------------------

HEDGE_SMALL_AFTER = ("slightly", "a little", "a bit", "a touch", "a tad", "just a little", "a little bit",
                     "a wee bit", "ever so slightly", "just a touch", "a fraction", "a smidge", "a hair",
                     "a little way", "somewhat", "marginally", "fractionally", "minimally", "the tiniest bit",
                     "a teeny bit", "a hint", "a whisker", "just slightly", "only slightly", "very slightly", "a shade",
                     "a tiny amount", "a small amount", "a smidgen", "a notch")
HEDGE_SMALL_BEFORE = ("slightly", "gently", "just", "subtly", "barely", "lightly", "softly", "marginally")
HEDGE_LARGE_AFTER = ("a lot", "a great deal", "much more", "way more", "a good deal", "quite a lot", "a long way",
                     "significantly", "considerably", "substantially", "loads", "heaps", "by a lot",
                     "dramatically", "hugely", "massively", "tons", "a whole lot", "lots", "a huge amount",
                     "a big amount", "by a wide margin", "generously", "a bunch")
HEDGE_MEDIUM_AFTER = ("a fair bit", "a good amount", "noticeably", "moderately", "quite a bit", "some more",
                      "a decent amount", "clearly", "properly", "a reasonable amount", "a moderate amount",
                      "a solid amount", "a good bit", "a fair amount", "a medium amount")
APPROX = ("about", "around", "roughly", "approximately", "some", "close to", "something like", "in the region of",
          "maybe", "somewhere around", "just about", "near enough", "an estimated", "circa", "approx")

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
    head = f"{_ONES[h]} hundred"
    return head if rest == 0 else f"{head} and {number_words(rest)}"


# --- spelling (US, UK) ---------------------------------------------------------------------------------

SPELLING: dict[str, tuple[str, str]] = {
    "centimeters": ("centimeters", "centimetres"), "centimeter": ("centimeter", "centimetre"),
    "meter": ("meter", "metre"), "meters": ("meters", "metres"), "toward": ("toward", "towards"),
    "center": ("center", "centre"), "while": ("while", "whilst"), "around": ("around", "round"),
    "gray": ("gray", "grey"), "favor": ("favor", "favour"), "straighten up": ("straighten up", "straighten up"),
}

# --- casual and typo forms -------------------------------------------------------------------------------

CASUAL_OPENERS = ("yeah so", "ok so", "um", "uh", "like", "so like", "hmm", "yep so", "hey", "yo",
                  "erm", "well", "okie", "kk", "ah ok", "oh and", "btw", "also like", "honestly", "basically",
                  "anyway", "alrighty", "soo", "so umm")
CASUAL_CLOSERS = ("thx", "ty", "pls", "plz", "lol", "haha", "cheers", "ta", "thanks mate", "k thanks", "ok?",
                  "yeah?", "got it?", "thanks heaps", "ta very much", "nice", "sweet", "cool", "k", "ya",
                  "pretty please", "thank u", "ty ty", "awesome thx", "cheers buddy", "ok bye")
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
                      ("palm", "palms"), ("fingertips", "fingertips"), ("fingers", "fingers"), ("fist", "fists"),
                      ("forearm", "forearms"), ("thumb", "thumbs"), ("knuckles", "knuckles"), ("hand", "hands")),
    ("elbow", "pos"): (("elbow", "elbows"), ("elbow", "elbows"), ("upper arm", "upper arms"), ("arm", "arms"),
                       ("elbow point", "elbow points")),
    ("knee", "pos"): (("knee", "knees"), ("knee", "knees"), ("thigh", "thighs"), ("leg", "legs"),
                      ("kneecap", "kneecaps"), ("upper leg", "upper legs"), ("knee", "knees")),
    ("foot", "pos"): (("foot", "feet"), ("foot", "feet"), ("ankle", "ankles"), ("heel", "heels"),
                      ("toes", "toes"), ("leg", "legs"), ("shin", "shins"), ("lower leg", "lower legs"),
                      ("foot", "feet")),
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
                 "toward the ceiling", "up toward the sky", "skyward", "up higher", "further up"),
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
                   "{p} should sit further out"),
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
                  "move {p} in toward {poss} trunk", "bring {p} in tighter to {poss} body"),
        "should": ("{p} should be closer to {poss} body", "{p} is too far from {poss} body",
                   "{p} should be tucked in more", "{p} needs to be in closer to {poss} body"),
    },
    "move_out": {
        "verbs": ("move {p} away from {poss} body", "take {p} out away from {poss} body",
                  "bring {p} away from {poss} torso", "push {p} out away from {poss} body",
                  "open {p} away from {poss} side",
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
                  "take {poss} upper body back", "lean back from the hips", "sway back"),
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
        "should": ("{poss} back should be upright", "{poss} torso should be vertical",
        "{poss} upper body should be upright",
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
                  "look toward {poss} {side}", "turn to look to the {side}",
                  "shift {poss} gaze to the {side}", "turn {p} {side}"),
        "should": ("{p} should be turned more to the {side}", "{poss} gaze should be more to the {side}",
                   "{p} should face more to the {side}", "{p} needs to turn further to the {side}"),
    },
    "head_tilt": {
        "verbs": ("tilt {p} to the {side}", "tip {p} to the {side}", "lean {p} to the {side}",
                  "cock {p} to the {side}", "incline {p} to the {side}", "tilt {p} sideways to the {side}",
                  "drop {poss} {side} ear toward {poss} {side} shoulder",
                  "bring {poss} {side} ear toward {poss} shoulder",
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


# --- more verbs and statements per kind (merged into KINDS below) --------------------------------------

MORE_VERBS: dict[str, tuple[str, ...]] = {
    "bend": ("crook {p}", "flex {p} further", "bend {p} deeper", "put a deeper bend into {p}",
             "sharpen the angle at {p}", "fold {p} in more", "crease {p} more", "bend {p} in further",
             "hinge more at {p}", "let {p} fold", "give {p} more flexion", "flex at {p}", "work more bend into {p}",
             "allow {p} to bend"),
    "straighten": ("uncurl {p}", "unfold {p}", "lengthen through {p}", "stretch {p} longer", "open out {p}",
                   "ease the bend out of {p}", "release the bend in {p}", "bend {p} less overall",
                   "let {p} extend", "extend through {p}", "smooth out the bend in {p}", "relax the bend in {p}",
                   "give {p} more extension", "undo some of the bend in {p}"),
    "raise": ("heave {p} up", "lift {p} upward", "raise {p} upward", "bring {p} upward", "move {p} upward",
              "inch {p} up", "nudge {p} up", "edge {p} up", "push {p} up", "lift {p} higher",
              "carry {p} up", "swing {p} up", "elevate {p} further"),
    "lower": ("dip {p}", "ease {p} down", "release {p} down", "bring {p} back down", "inch {p} down",
              "nudge {p} down", "edge {p} down", "push {p} down", "swing {p} down", "relax {p} down",
              "let {p} sink", "drop {p} lower", "lower {p} further", "carry {p} down"),
    "forward": ("advance {p}", "inch {p} forward", "nudge {p} forward", "edge {p} forward", "thrust {p} forward",
                "ease {p} forward", "swing {p} forward", "carry {p} forward", "move {p} ahead", "bring {p} ahead",
                "drive {p} forward", "float {p} forward"),
    "back": ("retract {p}", "inch {p} back", "nudge {p} back", "edge {p} back", "ease {p} back",
             "swing {p} back", "carry {p} back", "tuck {p} back", "withdraw {p}", "bring {p} rearward",
             "draw {p} backward", "shift {p} backward"),
    "out": ("splay {p} out", "fan {p} out", "ease {p} outward", "swing {p} outward", "nudge {p} out",
            "inch {p} outward", "widen {p} out to the side"),
    "in": ("ease {p} inward", "nudge {p} in", "inch {p} inward", "draw {p} toward the center line",
           "bring {p} closer to the center line", "swing {p} inward"),
    "closer": ("draw {p} together", "pull {p} toward each other", "ease {p} closer", "inch {p} together",
               "nudge {p} closer together", "converge {p}", "shrink the distance between {p}",
               "close up the space between {p}", "tighten the gap between {p}", "gather {p} in"),
    "apart": ("splay {p}", "fan {p} out", "part {p}", "stretch {p} apart", "ease {p} apart", "inch {p} apart",
              "nudge {p} further apart", "increase the distance between {p}", "enlarge the gap between {p}",
              "put more distance between {p}", "open the gap between {p}", "draw {p} away from each other"),
    "tuck_in": ("draw {p} close to {poss} side", "hug {p} into {poss} side", "tuck {p} in closer",
                "pin {p} in toward {poss} ribs", "ease {p} in toward {poss} body"),
    "move_out": ("ease {p} away from {poss} body", "float {p} away from {poss} side",
                 "create space between {p} and {poss} body", "take {p} away from {poss} ribs"),
    "lean_forward": ("pitch forward", "tilt {poss} chest forward", "bend over more", "lean {poss} chest forward",
                     "bring {poss} shoulders further forward", "tip {poss} trunk forward",
                     "angle {poss} torso forward", "fold further forward", "drop {poss} chest forward",
                     "lean into it more", "incline {poss} upper body forward"),
    "lean_back": ("pitch back", "tilt {poss} chest back", "lean {poss} chest back", "angle {poss} torso back",
                  "bring {poss} shoulders further back", "tip {poss} trunk back",
                  "incline {poss} upper body backward", "rock {poss} torso back", "lean away"),
    "upright": ("sit up straight", "pull {poss} torso up tall", "lift out of the lean", "stand up tall",
                "rise back up", "bring {poss} chest back up", "unfold {poss} upper body", "reset to upright",
                "come back to neutral", "straighten {poss} spine", "lift {poss} chest up again"),
    "twist": ("spiral {p} to the {side}", "wind {p} to the {side}", "rotate {poss} chest toward the {side}",
              "turn {poss} shoulders to face the {side}", "twist {poss} torso toward {poss} {side}",
              "open {p} to the {side}", "swing {p} around to the {side}", "turn {p} over to the {side}",
              "pivot {p} to the {side}"),
    "side_lean": ("curve {poss} torso to the {side}", "side bend toward the {side}", "tip over to the {side}",
                  "lean sideways toward the {side}", "tilt toward the {side}", "sway to the {side}",
                  "arc {poss} upper body to the {side}", "crunch to the {side}"),
    "head_down": ("nod down", "dip {poss} chin", "dip {poss} head", "look toward {poss} chest", "lower {poss} eyes",
                  "drop {poss} eyes", "tip {poss} chin down", "angle {poss} head down", "look lower",
                  "bring {poss} eyes down", "let {poss} head drop forward", "curl {poss} neck forward"),
    "head_up": ("lift {poss} eyes", "raise {poss} eyes", "tip {poss} chin up", "angle {poss} head up",
                "look higher", "bring {poss} eyes up", "lift {poss} face", "tilt {poss} face up",
                "look up and away", "open {poss} throat", "lengthen the front of {poss} neck"),
    "head_turn": ("look over toward the {side}", "swing {p} to the {side}", "pivot {p} to the {side}",
                  "point {poss} nose to the {side}", "turn {poss} nose toward the {side}", "face {p} to the {side}",
                  "look off to the {side}", "cast {poss} eyes to the {side}", "twist {p} to the {side}",
                  "rotate {poss} neck to the {side}", "turn {poss} eyes to the {side}"),
    "head_tilt": ("angle {p} to the {side}", "let {p} fall to the {side}",
    "lean {poss} ear toward {poss} {side} shoulder",
                  "tilt {poss} neck to the {side}", "bend {poss} neck to the {side}", "drop {p} sideways to the {side}",
                  "tip {poss} ear down to the {side}"),
    "turn": ("swing around to the {side}", "swivel {poss} whole body to the {side}", "spin to the {side}",
             "rotate {poss} stance to the {side}", "shift {poss} facing to the {side}",
             "turn {poss} hips and shoulders to the {side}",
             "reorient to the {side}", "wheel around to the {side}", "step around to the {side}",
             "change direction to the {side}"),
    "shift": ("nudge {p} to the {side}", "ease {p} over to the {side}", "inch {p} to the {side}",
              "swing {p} to the {side}", "carry {p} over to the {side}"),
}
MORE_SHOULD: dict[str, tuple[str, ...]] = {
    "bend": ("{p} is supposed to be more bent", "{p} wants a deeper bend", "{p} could use more bend",
             "{p} needs bending more", "{p} isn't flexed enough"),
    "straighten": ("{p} is supposed to be straighter", "{p} could be straighter", "{p} is bent too much",
                   "{p} needs straightening", "{p} is too flexed", "{p} needs more extension"),
    "raise": ("{p} is supposed to be higher", "{p} could be higher", "{p} is sitting too low", "{p} needs raising",
              "{p} needs lifting", "{p} is hanging too low", "{p} would look better higher", "{p} has dropped too low"),
    "lower": ("{p} is supposed to be lower", "{p} could be lower", "{p} is sitting too high", "{p} needs lowering",
              "{p} is hitched too high", "{p} would look better lower", "{p} has crept too high"),
    "forward": ("{p} is supposed to be further forward", "{p} is lagging behind", "{p} could be further forward",
                "{p} needs moving forward"),
    "back": ("{p} is supposed to be further back", "{p} is sticking out too far forward", "{p} could be further back",
             "{p} needs moving back"),
    "closer": ("{p} are supposed to be closer together", "{p} are spread too wide", "{p} could be closer together",
               "{p} need bringing together"),
    "apart": ("{p} are supposed to be further apart", "{p} are bunched too close", "{p} could be further apart",
              "{p} need spreading apart", "{p} are too narrow"),
    "head_down": ("{poss} gaze is too high", "{poss} eyes should be lower"),
    "head_up": ("{poss} gaze is too low", "{poss} eyes should be higher"),
    "head_turn": ("{p} is supposed to be turned more to the {side}", "{poss} nose should point more to the {side}",
                  "{poss} eyes should look more to the {side}"),
    "lean_forward": ("{poss} torso is too upright", "{poss} chest needs to tip further forward"),
    "lean_back": ("{poss} torso is too far forward", "{poss} chest needs to come back"),
    "twist": ("{p} isn't turned enough to the {side}", "{p} is supposed to face more to the {side}"),
}
for _k, _v in MORE_VERBS.items():
    KINDS[_k]["verbs"] = KINDS[_k]["verbs"] + _v
for _k, _v in MORE_SHOULD.items():
    KINDS[_k]["should"] = KINDS[_k]["should"] + _v

#: body landmarks a point can move toward / away from (measured): (words, captioning joint, side-relative)
LANDMARKS: tuple[tuple[tuple[str, ...], str, bool], ...] = (
    (("chest", "breastbone", "sternum"), "spine3", False),
    (("face", "nose", "chin"), "head", False),
    (("belly", "stomach", "belly button", "navel", "tummy"), "spine1", False),
    (("hip", "hip bone"), "hip", True),
    (("shoulder",), "shoulder", True),
    (("bottom", "butt", "seat", "glutes"), "pelvis", False),
)

# --- images people use (direction only: each is added to a step whose change goes that way) ------------

IMAGERY: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("raise", "hand"): ("as if reaching for a high shelf", "like you're hailing a taxi",
                        "as though answering a question in class", "like picking an apple from a tree",
                        "as if waving to a friend far away", "like you're reaching for a light bulb"),
    ("lower", "hand"): ("as if putting a cup down on a table", "like pressing down on a spring",
                        "as though resting it on an invisible desk", "like patting a dog on the head"),
    ("forward", "hand"): ("as if reaching for a door handle", "like you're offering a handshake",
                          "as though pushing a shopping trolley", "like reaching for your coffee mug"),
    ("back", "hand"): ("as if pulling a rope toward you", "like drawing a bowstring",
                       "as though rowing a boat", "like elbowing someone behind you"),
    ("raise", "knee"): ("like you're marching", "as if stepping up onto a tall stair", "like climbing stairs",
                        "as though stepping over a low fence"),
    ("lower", "knee"): ("as if setting it back down", "like finishing a marching step"),
    ("raise", "foot"): ("as if stepping over a puddle", "like you're about to climb a step",
                        "as though lifting it over a box"),
    ("lower", "foot"): ("as if squashing a bug", "like stepping down off a curb", "as though planting a seed"),
    ("forward", "foot"): ("as if taking a step", "like you're about to walk", "as though starting a lunge",
                          "like stepping onto a train"),
    ("back", "foot"): ("as if stepping backward", "like starting a reverse lunge", "as though backing away"),
    ("out", "foot"): ("as if stepping to the side", "like a sideways shuffle"),
    ("bend", "knee"): ("as if sitting down into a chair", "like you're about to sit", "as though skiing",
                       "like a spring compressing"),
    ("bend", "elbow"): ("like curling a dumbbell", "as if doing a bicep curl", "like flexing your biceps",
                        "as though folding a wing"),
    ("straighten", "elbow"): ("as if pushing something away", "like reaching for something far away",
                              "as though pressing against a wall"),
    ("straighten", "arm"): ("as if pushing something away", "like reaching for something far away",
                            "as though handing someone a parcel"),
    ("straighten", "knee"): ("as if pressing into the floor", "like standing up tall on that leg",
                             "as though pushing a pedal"),
    ("straighten", "leg"): ("as if pressing into the floor", "like pushing a sledge away",
                            "as though pushing a pedal"),
    ("closer", "hand"): ("like you're clapping", "as if holding a smaller ball", "like closing a book",
                         "as though about to pray"),
    ("apart", "hand"): ("as if holding a bigger ball", "like opening curtains", "like stretching an elastic band",
                        "as though measuring a big fish"),
    ("apart", "foot"): ("as if bracing for a wave", "like a sumo wrestler", "as though standing on a rocking boat"),
    ("closer", "foot"): ("like a soldier standing to attention", "as if standing on a narrow beam"),
    ("apart", "knee"): ("like a butterfly opening its wings", "as if making room for a ball between them"),
    ("closer", "knee"): ("as if squeezing a ball between them", "like holding a cushion between your knees"),
    ("head_turn", None): ("as if looking over your shoulder", "like someone called your name from that side",
                          "as though checking your blind spot", "like watching a passing car"),
    ("head_down", None): ("as if reading a book in your lap", "like looking at your phone",
                          "as though nodding yes", "like checking your shoelaces"),
    ("head_up", None): ("as if looking at the stars", "like watching a plane fly over",
                        "as though admiring a tall building", "like looking at the top of a tree"),
    ("head_tilt", None): ("like a curious puppy", "as if listening for a sound",
     "as though resting your ear on a pillow"),
    ("lean_forward", None): ("as if bowing", "like peering into a pond", "as though reaching for your toes",
                             "like leaning over a table"),
    ("lean_back", None): ("as if settling into a deckchair", "like leaning back in a recliner",
                          "as though avoiding a low branch"),
    ("twist", None): ("like wringing out a towel", "as if looking behind you", "like a corkscrew",
                      "as though passing something to someone beside you"),
    ("side_lean", None): ("like a tree bending in the wind", "as if reaching for something on a side table",
                          "like a teapot pouring", "as though sliding down a pole"),
    ("turn", None): ("as if turning to face a friend", "like a door swinging on its hinge",
                     "as though following the hand of a clock", "like a ballerina on a music box"),
    ("upright", None): ("like a string is pulling the top of your head up", "as if standing against a wall",
                        "as though balancing a book on your head"),
}
#: room-relative phrases, true in the body's own frame (up = ceiling, forward = the wall faced)
ROOM: dict[str, tuple[str, ...]] = {
    "raise": ("toward the ceiling", "toward the sky", "toward the lights", "toward the roof"),
    "lower": ("toward the floor", "toward the ground", "toward the mat", "toward the carpet"),
    "forward": ("toward the wall in front of you", "toward the front of the room", "toward the wall you're facing",
                "toward the far wall"),
    "back": ("toward the wall behind you", "toward the back of the room", "toward the back wall"),
    "lean_forward": ("toward the floor in front", "toward the wall you face", "toward the front of the room"),
    "lean_back": ("toward the wall behind you", "toward the back of the room"),
}
#: "at the moment ..." before a "should be" statement
NOW_WORDS = ("at the moment", "currently", "as it stands", "at present", "right now", "as things are",
             "for now", "presently")
#: polite tails
POLITE = ("if possible", "if you can", "if that's comfortable", "as best you can", "if it feels okay",
          "if that feels alright", "if you would", "when you're ready", "if your body allows it",
          "without straining", "if it doesn't hurt", "if you don't mind")

IMAGERY.update({
    ("raise", "elbow"): ("as if lifting a heavy bag", "like flapping a wing", "as though elbowing up through water"),
    ("lower", "elbow"): ("as if tucking a newspaper under your arm", "like folding a wing down"),
    ("raise", "shoulder"): ("as if shrugging", "like a shrug"),
    ("lower", "shoulder"): ("as if sliding it into a back pocket", "like letting go of tension"),
    ("out", "hand"): ("as if signalling a turn", "like opening a gate", "as though pointing at a distant door"),
    ("in", "hand"): ("as if closing a gate", "like hugging a tree trunk"),
    ("out", "knee"): ("like opening a book", "as if letting the knee fall open"),
    ("tuck_in", "elbow"): ("as if holding a purse under your arm", "like squeezing a lemon under your armpit"),
    ("tuck_in", "hand"): ("as if holding a baby", "like cradling a puppy"),
    ("move_out", "elbow"): ("as if making chicken wings", "like pushing through a crowd"),
    ("move_out", "hand"): ("as if feeling for a wall beside you", "like making room around you"),
    ("straighten", "knee"): ("as if pressing into the floor", "like standing up tall on that leg",
                             "as though pushing a pedal", "like pushing a car's clutch"),
    ("bend", "leg"): ("as if sitting back onto a stool", "like a frog getting ready to jump"),
    ("bend", "arm"): ("like a chicken wing", "as though hugging a barrel"),
    ("lean_forward", None): ("as if bowing", "like peering into a pond", "as though reaching for your toes",
                             "like leaning over a table", "like a waiter bowing", "as if looking over a railing"),
    ("upright_side", None): ("like a tree standing tall again", "as if a pole ran along your spine"),
    ("turn_around", None): ("as if someone behind you called", "like turning to exit the room"),
})
IMAGERY.update({
    ("raise", "hand"): IMAGERY[("raise", "hand")] + (
        "as if showing off a trophy", "like a student who knows the answer", "as though testing for rain",
        "like reaching up to ring a bell", "as if grabbing a rope above you", "like drawing a rainbow"),
    ("lower", "hand"): IMAGERY[("lower", "hand")] + (
        "as if dribbling a basketball", "like lowering a flag", "as though smoothing a tablecloth"),
    ("forward", "hand"): IMAGERY[("forward", "hand")] + (
        "as if feeding a horse", "like pressing an elevator button", "as though passing the salt"),
    ("bend", "knee"): IMAGERY[("bend", "knee")] + (
        "as if lowering onto a bench", "like a cowboy on a horse", "as though ducking under a rope"),
    ("bend", "elbow"): IMAGERY[("bend", "elbow")] + (
        "as if bringing a cup to your lips", "like answering a telephone", "as though lifting groceries"),
    ("twist", None): IMAGERY[("twist", None)] + (
        "as if swinging a golf club", "like a washing machine drum", "as though reaching for a seatbelt"),
    ("side_lean", None): IMAGERY[("side_lean", None)] + (
        "like a bending reed", "as though peeking around a corner", "like a pendulum swinging"),
    ("head_turn", None): IMAGERY[("head_turn", None)] + (
        "as if watching a tennis rally", "like an owl", "as though searching for a friend in a crowd"),
    ("head_down", None): IMAGERY[("head_down", None)] + (
        "as if praying", "like searching for a dropped coin", "as though staring at your feet"),
    ("head_up", None): IMAGERY[("head_up", None)] + (
        "as if catching snowflakes", "like gazing at fireworks", "as though watching birds"),
    ("turn", None): IMAGERY[("turn", None)] + (
        "as if answering a knock on a side door", "like a weathervane in the wind", "as though a compass needle moved"),
    ("apart", "foot"): IMAGERY[("apart", "foot")] + ("like a cowboy's stance", "as if straddling a puddle"),
    ("closer", "hand"): IMAGERY[("closer", "hand")] + ("as if squashing an accordion", "like cupping water"),
    ("apart", "hand"): IMAGERY[("apart", "hand")] + ("as if unrolling a scroll", "like pulling taffy"),
    ("lean_back", None): IMAGERY[("lean_back", None)] + ("as if limbo dancing", "like gazing at a tall tower"),
    ("raise", "knee"): IMAGERY[("raise", "knee")] + ("as if kneeing a football", "like a flamingo"),
    ("forward", "foot"): IMAGERY[("forward", "foot")] + ("as if testing the water with your toes",
                                                         "like stepping onto an escalator"),
})
#: frames that number the steps of a long instruction
ORDINALS = ("the first thing is to {v}", "the next thing is to {v}", "one more thing {v}", "the last thing is to {v}",
            "step one {v}", "step two {v}", "for step three {v}", "part one is to {v}", "to begin {v}",
            "the second thing is to {v}", "and the final thing is to {v}", "before anything else {v}",
            "once that's in place {v}", "building on that {v}", "moving on {v}", "following on {v}")
HOLD_MORE = ("keep {p} motionless", "{P} {stays} fixed", "{P} should remain unchanged",
             "leave {p} in its current position",
             "{P} {stays} stationary", "don't budge {p}", "{P} shouldn't budge", "keep {p} anchored",
             "keep {p} locked in place", "pin {p} in place", "{P} {stays} exactly as before", "don't adjust {p}",
             "{P} should not change", "ignore {p} for now", "{P} needs no change", "no adjustments to {p}",
             "{P} remains where {it} {is}", "keep {p} completely still", "avoid moving {p}",
             "resist moving {p}", "{P} {is} already good", "{P} {is} correct already")
IMAGERY.update({
    ("lower", "foot"): IMAGERY[("lower", "foot")] + (
        "as if stamping out a campfire", "like pressing a gas pedal", "as though stepping into warm sand",
        "like putting your foot into a slipper"),
    ("back", "foot"): IMAGERY[("back", "foot")] + (
        "as if moonwalking", "like retreating from a wave", "as though making space for someone in front"),
    ("out", "foot"): IMAGERY[("out", "foot")] + ("like a crab scuttling sideways", "as if dodging a puddle"),
    ("raise", "foot"): IMAGERY[("raise", "foot")] + (
        "like a horse lifting its hoof", "as though checking the sole of your shoe", "like climbing into a bathtub"),
    ("straighten", "elbow"): IMAGERY[("straighten", "elbow")] + (
        "as if throwing a dart", "like a boxer's jab", "as though closing a car boot", "like pointing at a star"),
    ("straighten", "arm"): IMAGERY[("straighten", "arm")] + (
        "like a traffic warden signalling", "as though reaching for a handrail", "like casting a fishing line"),
    ("closer", "knee"): IMAGERY[("closer", "knee")] + ("as though riding a horse bareback", "like a knock-kneed foal"),
    ("closer", "foot"): IMAGERY[("closer", "foot")] + ("as if standing on a tightrope", "like a penguin"),
    ("back", "hand"): IMAGERY[("back", "hand")] + (
        "as if starting a bowling throw", "like swinging your arm while walking", "as though reaching for a seatbelt"),
    ("forward", "knee"): ("as if stepping up a stair", "like nudging a door open with your knee"),
    ("back", "knee"): ("as if stepping backward", "like drawing the knee away from a wall"),
    ("lower", "knee"): IMAGERY[("lower", "knee")] + ("as though settling onto a cushion",),
    ("upright", None): IMAGERY[("upright", None)] + (
        "like a soldier on parade", "as if a helium balloon lifted your chest", "like a meerkat on lookout"),
    ("head_tilt", None): IMAGERY[("head_tilt", None)] + (
        "as if tapping water out of your ear", "like a confused dog", "as though thinking hard"),
    ("lean_forward", None): IMAGERY[("lean_forward", None)] + (
        "as if smelling a flower", "like a ski jumper", "as though greeting royalty"),
    ("apart", "knee"): IMAGERY[("apart", "knee")] + ("as though sitting on a wide saddle",),
    ("tuck_in", "elbow"): IMAGERY[("tuck_in", "elbow")] + ("like a sprinter's arms", "as if carrying a rugby ball"),
    ("side_lean", None): IMAGERY[("side_lean", None)] + ("as if picking up a suitcase beside you",),
})
MANNER_MORE = ("with intention", "with purpose", "precisely", "accurately", "cleanly", "quietly", "with poise",
               "in a relaxed way", "with soft knees", "while staying tall", "with easy breathing",
               "with a long spine", "breathing freely", "with grace", "in slow motion",
               "as smoothly as you can", "in a fluid movement", "with good control", "at an easy pace",
               "evenly and slowly")
FRAMES_SOFT = FRAMES_SOFT + (
    "your task is to {v}", "your challenge is to {v}", "I'm asking you to {v}", "we'll now {v}", "let's get you to {v}",
    "it would help to {v}", "it'd be great if you could {v}", "the pose needs you to {v}", "for this one {v}",
    "to match the target {v}", "to get closer to the target pose {v}", "to fix the pose {v}", "to correct this {v}",
    "the correction is to {v}", "the adjustment here is to {v}", "the main fix is to {v}",
    "here's what to do {v}", "so what you do is {v}", "basically just {v}", "simply {v}", "all that's left is to {v}",
    "what's missing is that you {v}", "the change we need is to {v}", "to line things up {v}", "for the photo {v}",
    "for the picture {v}", "for the shot {v}", "in this pose {v}", "for this position {v}", "as a correction {v}",
    "as an adjustment {v}", "as the next move {v}", "for the next part {v}", "coach says {v}", "my tip is to {v}",
    "quick fix {v}", "one tweak {v}", "another tweak {v}",
)
CLOSERS = CLOSERS + (
    "That matches the picture.", "Now you match the target.", "Then you're done.",
    "And you're there.", "That completes the pose.", "That finishes the adjustment.", "Check the mirror.",
    "Have a look in the mirror.", "Compare with the reference.", "See how that feels.", "Notice the difference.",
    "Take a moment to settle.", "Let everything settle.", "Settle into it.", "Own the pose.",
    "Hold still for the photo.", "Hold it for the camera.", "Say cheese.", "Good to go.",
    "Job done.", "All set.", "Ready when you are.", "Let me know how it feels.", "Tell me if it's uncomfortable.",
)
THIRD_NOUNS = THIRD_NOUNS + (
    "fencer", "archer", "diver", "jumper", "catcher", "pitcher", "batter", "bowler", "fielder", "drummer",
    "guitarist", "violinist", "conductor", "painter", "chef", "waiter", "gardener", "farmer", "fisherman",
    "sailor", "captain", "officer", "detective", "scientist", "doctor", "dentist", "mechanic", "builder",
    "carpenter", "plumber", "librarian", "student athlete", "cheerleader", "mascot", "clown", "magician",
    "juggler", "stuntman", "bodybuilder", "powerlifter", "weightlifter", "physio", "therapist", "senior citizen",
)
PERSON_OTHER_P = 0.04
for _k, _v in {
    "raise": ("boost {p} up", "haul {p} up", "scoop {p} up", "sweep {p} upward", "lever {p} up", "pump {p} up",
              "jack {p} up", "hitch {p} up", "prop {p} up higher", "guide {p} up", "steer {p} upward", "glide {p} up",
              "coax {p} up", "lead {p} upward"),
    "lower": ("bring {p} lower", "park {p} lower", "tip {p} down", "lay {p} down lower", "guide {p} down",
              "lead {p} down", "steer {p} down", "coax {p} down", "glide {p} down", "float {p} down",
              "ease {p} downward", "sweep {p} downward"),
    "forward": ("guide {p} forward", "steer {p} forward", "glide {p} forward", "poke {p} forward",
                "project {p} forward", "stretch {p} forward", "lead with {p}", "sweep {p} forward"),
    "back": ("guide {p} back", "steer {p} back", "glide {p} back", "haul {p} back", "tug {p} back", "reel {p} back",
             "sweep {p} backward", "whip {p} back"),
    "closer": ("guide {p} toward each other", "steer {p} together", "glide {p} together", "huddle {p} together",
               "cluster {p} closer", "tighten up the space between {p}", "knit {p} together", "bunch {p} up"),
    "apart": ("guide {p} apart", "steer {p} apart", "glide {p} apart", "fling {p} apart",
              "stretch out the distance between {p}", "broaden the space between {p}", "extend the gap between {p}",
              "scatter {p} wider"),
    "bend": ("flex {p} deeper", "bend {p} tighter", "tighten the angle at {p}", "close {p} up more", "kink {p} more",
             "hinge {p} more", "bend {p} harder", "crank up the bend in {p}"),
    "straighten": ("open {p} up more", "lengthen {p} more", "stretch {p} straighter", "unkink {p}",
                   "flatten out the bend in {p}", "loosen the bend in {p}", "widen the angle at {p}",
                   "ease {p} straighter", "iron out the bend in {p}"),
}.items():
    KINDS[_k]["verbs"] = KINDS[_k]["verbs"] + _v
IMAGERY.update({
    ("raise", "elbow"): IMAGERY[("raise", "elbow")] + ("like a swimmer's recovery stroke", "as if pulling a zip up"),
    ("bend", "knee"): IMAGERY[("bend", "knee")] + ("like a tennis player waiting for a serve",
                                                   "as though hiding behind a low wall"),
    ("closer", "elbow"): ("as if squeezing a beach ball between them", "like closing a pair of doors"),
    ("apart", "elbow"): ("as if opening a wardrobe", "like stretching a resistance band"),
    ("lower", "hand"): IMAGERY[("lower", "hand")] + ("as if calming a crowd", "like sinking into bathwater"),
    ("head_down", None): IMAGERY[("head_down", None)] + ("like a shy child", "as if checking a wristwatch"),
    ("twist", None): IMAGERY[("twist", None)] + ("like a discus thrower winding up", "as though opening a jar lid"),
    ("turn", None): IMAGERY[("turn", None)] + ("like a lighthouse beam sweeping", "as if a carousel carried you"),
})
