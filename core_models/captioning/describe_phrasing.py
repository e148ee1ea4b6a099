"""Word tables of the human-style pose descriptions (the noisy mode of :mod:`core_models.captioning.describe`),
written for PoseTailor.

Template conventions are those of ``describe.T``: ``{s}`` subject, ``{o}`` object, ``{poss}`` possessive,
``[singular|plural]`` verb agreement; ``{small}`` / ``{large}`` take a size word of that class (only used by
categories whose measured range is of that size); ``{n}`` a measured number with its unit. Every phrase must stay
true for every pose of its posecode category. General tables (hedges, spellings, casual forms, numbers in words)
come from :mod:`core_models.captioning.phrasing` and are imported there, not copied.
"""

from __future__ import annotations

#: more templates per description template id, in people's words (state verbs, "is up", "sits above", ...)
HUMAN_T: dict[str, list[str]] = {
    "angle:completely_bent": [
        "{s} [is|are] bent right up",
        "{s} [is|are] tucked in tight",
        "{s} [is|are] folded up",
        "{s} [is|are] curled up tight",
        "{s} [is|are] fully flexed",
        "{s} [is|are] bent as far as [it goes|they go]",
    ],
    "angle:bent_more": [
        "{s} [is|are] bent a lot",
        "{s} [is|are] bent more than ninety degrees",
        "{s} [is|are] well bent",
        "{s} [is|are] bent tightly",
        "{s} [is|are] strongly bent",
        "{s} [is|are] bent past 90°",
        "{s} [is|are] bent {large}",
    ],
    "angle:right_angle": [
        "{s} [is|are] bent to 90 degrees",
        "{s} [is|are] at ninety degrees",
        "{s} [forms|form] an L shape",
        "{s} [is|are] bent at 90°",
        "{s} [is|are] bent square",
        "{s} [is|are] bent at roughly a right angle",
        "{s} [is|are] bent about 90 deg",
    ],
    "angle:bent_less": [
        "{s} [is|are] loosely bent",
        "{s} [is|are] bent a fair bit",
        "{s} [is|are] somewhat bent",
        "{s} [is|are] moderately bent",
        "{s} [is|are] bent, but less than 90 degrees",
        "{s} [is|are] bent about halfway",
        "{s} [is|are] bent, not quite to a right angle",
        "{s} [is|are] bent {medium}",
    ],
    "angle:slightly_bent": [
        "{s} [is|are] {small} bent",
        "{s} [is|are] nearly straight",
        "{s} [is|are] almost straight",
        "{s} [is|are] not quite straight",
        "{s} [has|have] a soft bend",
        "{s} [has|have] a slight bend",
        "{s} [is|are] mostly straight",
        "{s} [is|are] bent {small}",
    ],
    "angle:straight": [
        "{s} [is|are] dead straight",
        "{s} [is|are] locked out",
        "{s} [is|are] fully straightened",
        "{s} [is|are] extended",
        "{s} [is|are] stretched straight",
        "{s} [is|are] kept straight",
        "{s} [stays|stay] straight",
        "{s} [is|are] unbent",
        "{s} [is|are] straightened out",
    ],
    "dist_pair:close": [
        "{s} [is|are] together",
        "{s} [is|are] kept together",
        "{s} [is|are] next to each other",
        "{s} [is|are] close",
        "{s} [is|are] only a short distance apart",
        "{s} [is|are] held in close",
    ],
    "dist_pair:spread": [
        "{s} [is|are] set apart",
        "{s} [is|are] held apart",
        "{s} [is|are] separated",
        "{s} [is|are] some distance apart",
        "{s} [is|are] fairly far apart",
        "{s} [is|are] parted",
    ],
    "dist_pair:wide": [
        "{s} [is|are] very far apart",
        "{s} [is|are] spread out wide",
        "{s} [is|are] way apart",
        "{s} [is|are] stretched wide apart",
        "{s} [is|are] a long way apart",
        "{s} [is|are] splayed wide",
    ],
    "dist_close": [
        "{s} [is|are] next to {o}",
        "{s} [is|are] close by {o}",
        "{s} [sits|sit] near {o}",
        "{s} [is|are] resting near {o}",
        "{s} [is|are] beside {o}",
        "{s} [is|are] just by {o}",
        "{s} [stays|stay] near {o}",
        "{s} [is|are] kept close to {o}",
        "{s} [is|are] held near {o}",
    ],
    "crossX:hand": ["{s} [is|are] crossed over", "{s} [is|are] criss-crossed", "{s} [is|are] crossed in an X"],
    "crossX:knee": ["{s} [is|are] crossed over", "{s} [is|are] criss-crossed", "{s} [is|are] crossed in an X"],
    "crossX:foot": ["{s} [is|are] crossed over", "{s} [is|are] criss-crossed", "{s} [is|are] crossed in an X"],
    "across:hand": [
        "{s} [reaches|reach] over to the other side",
        "{s} [is|are] over on the other side of the body",
        "{s} [crosses|cross] the midline",
        "{s} [goes|go] across the body",
    ],
    "across:foot": [
        "{s} [is|are] crossed over to the other side",
        "{s} [steps|step] across the body",
        "{s} [crosses|cross] the midline",
    ],
    "higher": [
        "{s} [is|are] above {o}",
        "{s} [is|are] up higher than {o}",
        "{s} [is|are] raised higher than {o}",
        "{s} [is|are] held higher than {o}",
        "{s} [goes|go] higher than {o}",
        "{s} [is|are] further up than {o}",
    ],
    "lower": [
        "{s} [is|are] beneath {o}",
        "{s} [is|are] down below {o}",
        "{s} [sits|sit] lower than {o}",
        "{s} [is|are] under {o}",
        "{s} [is|are] further down than {o}",
        "{s} [drops|drop] below {o}",
    ],
    "above_head": [
        "{s} [is|are] up over {o}",
        "{s} [is|are] over {o}",
        "{s} [goes|go] up over {o}",
        "{s} [is|are] up above {o}",
        "{s} [is|are] raised over {o}",
        "{s} [is|are] lifted up over {o}",
        "{s} [sits|sit] above {o}",
        "{s} [is|are] held overhead",
        "{s} [reaches|reach] overhead",
        "{s} [is|are] up high over {o}",
    ],
    "elbow_above": [
        "{s} [is|are] up above {o}",
        "{s} [is|are] higher than shoulder level",
        "{s} [is|are] raised past shoulder height",
        "{s} [sits|sit] above {o}",
        "{s} [is|are] lifted higher than {o}",
    ],
    "in_front": [
        "{s} [is|are] forward of {o}",
        "{s} [is|are] further out in front than {o}",
        "{s} [is|are] closer to the front than {o}",
        "{s} [sits|sit] in front of {o}",
    ],
    "front_body": [
        "{s} [is|are] out in front",
        "{s} [is|are] held forward",
        "{s} [is|are] in front",
        "{s} [is|are] forward of the body",
        "{s} [is|are] ahead of the body",
        "{s} [sits|sit] in front of the torso",
    ],
    "behind_back": [
        "{s} [is|are] behind",
        "{s} [is|are] back behind the body",
        "{s} [is|are] tucked behind the back",
        "{s} [goes|go] behind the back",
        "{s} [is|are] round the back",
        "{s} [is|are] behind the torso",
    ],
    "foot_forward": [
        "{s} [is|are] forward",
        "{s} [is|are] out in front",
        "{s} [is|are] stepped forward",
        "{s} [is|are] placed ahead",
        "{s} [is|are] in front",
        "{s} [is|are] ahead of the body",
        "{s} [leads|lead]",
    ],
    "foot_back": [
        "{s} [is|are] back",
        "{s} [is|are] stepped back",
        "{s} [is|are] placed behind",
        "{s} [is|are] behind",
        "{s} [trails|trail] behind",
        "{s} [is|are] further back",
    ],
    "vaxis:vertical": [
        "{s} [is|are] straight up and down",
        "{s} [is|are] plumb vertical",
        "{s} [is|are] lined up vertically",
        "{s} [runs|run] vertically",
        "{s} [is|are] vertically aligned",
        "{s} [is|are] at right angles to the floor",
    ],
    "vaxis:horizontal": [
        "{s} [is|are] flat",
        "{s} [is|are] level",
        "{s} [is|are] parallel to the floor",
        "{s} [runs|run] horizontally",
        "{s} [is|are] held level",
        "{s} [is|are] horizontal to the ground",
    ],
    "ground": [
        "{s} [is|are] planted on the ground",
        "{s} [is|are] down on the floor",
        "{s} [is|are] touching the floor",
        "{s} [stays|stay] on the ground",
        "{s} [is|are] grounded",
        "{s} [is|are] resting on the ground",
        "{s} [is|are] in contact with the floor",
        "{s} [is|are] down",
    ],
    "inclX:forward": [
        "{s} [is|are] leaning forward",
        "{s} [leans|lean] well forward",
        "{s} [is|are] bent over",
        "{s} [leans|lean] forward {large}",
        "{s} [is|are] tipped forward",
        "{s} [is|are] folded forward",
    ],
    "inclX:slightly_forward": [
        "{s} [leans|lean] forward {small}",
        "{s} [is|are] leaning {small} forward",
        "{s} [tips|tip] forward {small}",
        "{s} [has|have] a slight forward lean",
    ],
    "inclX:backward": [
        "{s} [is|are] leaning back",
        "{s} [leans|lean] well back",
        "{s} [leans|lean] back {large}",
        "{s} [is|are] tipped back",
        "{s} [is|are] arched back",
    ],
    "inclX:slightly_backward": [
        "{s} [leans|lean] back {small}",
        "{s} [is|are] leaning {small} back",
        "{s} [tips|tip] back {small}",
        "{s} [has|have] a slight backward lean",
    ],
    "twist:twist_left": [
        "{s} [is|are] turned to the left",
        "{s} [twists|twist] left",
        "{s} [is|are] rotated left",
        "{s} [is|are] twisted round to the left",
    ],
    "twist:slightly_twist_left": ["{s} [is|are] twisted {small} to the left", "{s} [turns|turn] {small} left"],
    "twist:twist_right": [
        "{s} [is|are] turned to the right",
        "{s} [twists|twist] right",
        "{s} [is|are] rotated right",
        "{s} [is|are] twisted round to the right",
    ],
    "twist:slightly_twist_right": ["{s} [is|are] twisted {small} to the right", "{s} [turns|turn] {small} right"],
    "lean:lean_left": [
        "{s} [is|are] leaning left",
        "{s} [tips|tip] to the left",
        "{s} [is|are] bent to the left side",
        "{s} [leans|lean] over to the left",
    ],
    "lean:slightly_lean_left": ["{s} [leans|lean] {small} to the left", "{s} [is|are] leaning {small} left"],
    "lean:lean_right": [
        "{s} [is|are] leaning right",
        "{s} [tips|tip] to the right",
        "{s} [is|are] bent to the right side",
        "{s} [leans|lean] over to the right",
    ],
    "lean:slightly_lean_right": ["{s} [leans|lean] {small} to the right", "{s} [is|are] leaning {small} right"],
    "headX:head_forward": [
        "{s} [is|are] tilted down",
        "{s} [is|are] bowed",
        "{s} [is|are] dropped forward",
        "{s} [hangs|hang] forward",
        "{s} [looks|look] down",
        "{s} [is|are] tipped forward",
    ],
    "headX:head_backward": [
        "{s} [is|are] tipped back",
        "{s} [is|are] leaning back",
        "{s} [looks|look] up",
        "{s} [is|are] tilted up",
        "{s} [is|are] dropped back",
    ],
    "headY:turn_left": [
        "{s} [is|are] turned left",
        "{s} [looks|look] to the left",
        "{s} [is|are] facing left",
        "{s} [points|point] left",
        "{s} [turns|turn] to the left",
        "{s} [is|are] turned {large} to the left",
    ],
    "headY:slightly_turn_left": [
        "{s} [is|are] turned {small} to the left",
        "{s} [looks|look] {small} to the left",
        "{s} [turns|turn] {small} left",
    ],
    "headY:turn_right": [
        "{s} [is|are] turned right",
        "{s} [looks|look] to the right",
        "{s} [is|are] facing right",
        "{s} [points|point] right",
        "{s} [turns|turn] to the right",
        "{s} [is|are] turned {large} to the right",
    ],
    "headY:slightly_turn_right": [
        "{s} [is|are] turned {small} to the right",
        "{s} [looks|look] {small} to the right",
        "{s} [turns|turn] {small} right",
    ],
    "headZ:tilt_left": [
        "{s} [is|are] tipped to the left",
        "{s} [is|are] tilted left",
        "{s} [is|are] cocked to the left",
        "{s} [drops|drop] toward the left shoulder",
    ],
    "headZ:tilt_right": [
        "{s} [is|are] tipped to the right",
        "{s} [is|are] tilted right",
        "{s} [is|are] cocked to the right",
        "{s} [drops|drop] toward the right shoulder",
    ],
    "super:lying_on_back": [
        "{s} [is|are] flat on {poss} back",
        "{s} [is|are] lying down face up",
        "{s} [lies|lie] face up",
        "{s} [is|are] on {poss} back",
    ],
    "super:lying_face_down": [
        "{s} [is|are] lying on {poss} front",
        "{s} [lies|lie] prone",
        "{s} [is|are] on {poss} belly",
        "{s} [is|are] face down on the floor",
    ],
    "super:torso_horizontal": ["{s} [is|are] flat", "{s} [is|are] level", "{s} [is|are] parallel to the floor"],
    "super:kneeling": [
        "{s} [is|are] on {poss} knees",
        "{s} [is|are] kneeling down",
        "{s} [is|are] kneeling on both knees",
        "{s} [kneels|kneel] down",
    ],
    "super:kneel_on_left": [
        "{s} [is|are] down on {poss} left knee",
        "{s} [has|have] {poss} left knee on the ground",
        "{s} [is|are] kneeling on one knee, the left",
        "{s} [is|are] on {poss} left knee",
    ],
    "super:kneel_on_right": [
        "{s} [is|are] down on {poss} right knee",
        "{s} [has|have] {poss} right knee on the ground",
        "{s} [is|are] kneeling on one knee, the right",
        "{s} [is|are] on {poss} right knee",
    ],
    "super:shoulder_width": [
        "{s} [is|are] about as wide as the shoulders",
        "{s} [is|are] at shoulder width",
        "{s} [is|are] shoulder width apart",
    ],
    "super:standing": [
        "{s} [is|are] upright",
        "{s} [is|are] on {poss} feet",
        "{s} [stands|stand]",
        "{s} [is|are] standing upright",
    ],
}

#: short fragments people type ("left arm up over the head"): more per template id, no verb
FRAGMENTS: dict[str, list[str]] = {
    "above_head": ["up over {o}", "up", "up above {o}", "raised up", "overhead", "up high"],
    "elbow_above": ["up", "above shoulder height", "raised high"],
    "higher": ["higher than {o}", "up above {o}"],
    "lower": ["below {o}", "lower than {o}", "down under {o}"],
    "angle:right_angle": ["bent 90", "at 90 degrees", "bent at 90°", "in an L shape"],
    "angle:bent_more": ["bent a lot", "well bent", "deeply bent"],
    "angle:completely_bent": ["fully bent", "bent all the way", "tucked in"],
    "angle:bent_less": ["bent a bit", "half bent", "somewhat bent", "bent {medium}"],
    "angle:straight": ["straight", "locked", "straight out"],
    "angle:slightly_bent": ["soft", "nearly straight", "slightly bent"],
    "dist_pair:wide": ["wide", "wide apart", "way apart"],
    "dist_pair:spread": ["apart", "spread"],
    "dist_pair:close": ["together", "close together"],
    "ground": ["down", "on the floor", "on the ground"],
    "front_body": ["forward", "out front", "in front"],
    "foot_forward": ["forward", "in front"],
    "foot_back": ["back", "behind"],
    "behind_back": ["behind the back", "behind"],
    "vaxis:horizontal": ["level", "flat", "horizontal"],
    "vaxis:vertical": ["vertical", "straight up and down"],
}

#: person fragments (subject left out): template id -> fragments
PERSON_FRAGMENTS: dict[str, list[str]] = {
    "inclX:forward": ["leaning forward", "bent forward", "tipped forward", "leaning well forward"],
    "inclX:slightly_forward": ["leaning forward {small}", "leaning {small} forward", "a slight forward lean"],
    "inclX:backward": ["leaning back", "arched back", "tipped back"],
    "inclX:slightly_backward": ["leaning back {small}", "leaning {small} back", "a slight backward lean"],
    "lean:lean_left": ["leaning left", "leaning to the left", "tilted over to the left"],
    "lean:slightly_lean_left": ["leaning {small} to the left", "tilted {small} left"],
    "lean:lean_right": ["leaning right", "leaning to the right", "tilted over to the right"],
    "lean:slightly_lean_right": ["leaning {small} to the right", "tilted {small} right"],
    "super:kneeling": ["kneeling", "on both knees", "down on the knees"],
    "super:kneel_on_left": ["kneeling on the left knee", "down on the left knee", "on one knee (the left)"],
    "super:kneel_on_right": ["kneeling on the right knee", "down on the right knee", "on one knee (the right)"],
    "super:standing": ["standing", "standing up", "upright"],
    "super:lying_on_back": ["lying on the back", "flat on the back", "face up on the floor"],
    "super:lying_face_down": ["lying face down", "face down", "prone on the floor"],
}

#: statements with a measured number ("{n}" is filled with the value and unit); key: template-id prefix
NUMBERED: dict[str, list[str]] = {
    "angle": [
        "{s} [is|are] bent to {approx} {n}",
        "{s} [is|are] bent at {approx} {n}",
        "{s} [is|are] at an angle of {approx} {n}",
        "{s} [makes|make] an angle of {approx} {n}",
        "{s} [is|are] bent at an angle of {approx} {n}",
    ],
    "flex": [
        "{s} [is|are] bent by {approx} {n}",
        "{s} [is|are] flexed {approx} {n}",
        "{s} [has|have] {approx} {n} of bend",
        "{s} [is|are] bent {approx} {n} from straight",
    ],
    "inclX:forward": ["{s} [leans|lean] forward {approx} {n}", "{s} [is|are] tipped forward {approx} {n}"],
    "inclX:backward": ["{s} [leans|lean] back {approx} {n}", "{s} [is|are] tipped back {approx} {n}"],
    "headY:left": ["{s} [is|are] turned {approx} {n} to the left", "{s} [is|are] rotated {approx} {n} left"],
    "headY:right": ["{s} [is|are] turned {approx} {n} to the right", "{s} [is|are] rotated {approx} {n} right"],
    "dist": ["{s} [is|are] {approx} {n} apart", "{s} [is|are] {approx} {n} apart", "{s} [is|are] {approx} {n} apart"],
}

#: big-size words (only for categories past the operator's largest threshold)
HEDGE_LARGE = ("a lot", "a long way", "strongly", "sharply", "well", "really far", "quite far", "heavily")

#: subjects naming the whole person, by pronoun
PERSON_NOUNS: dict[str, tuple[str, ...]] = {
    "they": (
        "the person",
        "this person",
        "the figure",
        "someone",
        "the subject",
        "the model",
        "the dancer",
        "the character",
        "the athlete",
        "the performer",
        "the body",
    ),
    "he": ("the man", "this man", "the guy", "he", "this guy", "the boy"),
    "she": ("the woman", "this woman", "the lady", "she", "the girl"),
}

#: openers of a description (prose / human styles)
OPENERS = ("in this pose", "here", "in this position", "the pose", "in the picture", "basically", "so")

#: part-name synonyms that stay true for every use of the noun (and that the prompt parser still finds)
NOUN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "hand": ("hand", "hand", "palm", "wrist"),
    "forearm": ("forearm", "lower arm"),
    "upper arm": ("upper arm",),
    "thigh": ("thigh", "upper leg"),
    "shin": ("shin", "lower leg", "calf"),
    "torso": ("torso", "upper body", "trunk"),
    "body": ("body", "torso", "upper body"),
    "elbow": ("elbow", "elbow"),
    "knee": ("knee", "knee"),
    "foot": ("foot",),
}
PLURAL_SYNONYMS = {
    "palm": "palms",
    "wrist": "wrists",
    "lower arm": "lower arms",
    "upper leg": "upper legs",
    "lower leg": "lower legs",
    "calf": "calves",
    "upper body": "upper bodies",
    "trunk": "trunks",
}
#: template ids where "hand" may be called "palm" / "fingers" (positions, not contact or distances to the hand)
HAND_SYNONYM_OK = ("above_head", "higher", "lower", "front_body", "behind_back", "in_front", "across:hand")

#: words people misspell in descriptions (never a part noun or a side, so the part parser still works)
DESCRIPTION_TYPOS = {
    "raised": "rasied",
    "slightly": "slighty",
    "forward": "foward",
    "straight": "staight",
    "behind": "behnid",
    "ground": "groud",
    "degrees": "degres",
    "turned": "turnd",
    "above": "abvoe",
    "bent": "bnet",
    "apart": "appart",
    "together": "togther",
    "stretched": "streched",
    "leaning": "leanin",
    "kneeling": "kneling",
    "towards": "twards",
}
#: extra British forms of description words (phrasing.SPELLING has the shared ones)
UK_FORMS = {"forward": "forwards", "backward": "backwards", "toward": "towards", "gray": "grey"}
#: casual forms of whole phrases (phrasing.CASUAL_WORDS has the shared ones)
CASUAL_MORE = {
    "about": "like",
    "approximately": "approx",
    "degrees": "deg",
    "the ground": "the floor",
    "and": "n",
    "with": "w/",
    "ninety": "90",
}

#: how people start a typed prompt before fragments ("a person with left arm up, right knee bent")
PROMPT_FRAMES = (
    "a pose with",
    "pose:",
    "a person with",
    "someone with",
    "show a figure with",
    "make a pose with",
    "i want a pose with",
    "give me a pose with",
    "generate a pose with",
    "a character with",
    "a model with",
    "posing with",
    "create a pose with",
    "a body with",
    "the figure has",
    "target pose:",
)

#: template ids that place a part somewhere; "{s} is above ..." may become "{s} is positioned above ..."
LOCATIVE_TIDS = ("higher", "lower", "above_head", "in_front", "front_body", "behind_back", "dist_close")
LOCATIVE_VERBS = ("positioned", "placed", "located", "situated", "held", "kept", "set")
LOCATIVE_HEADS = (
    "above",
    "below",
    "beneath",
    "under",
    "over",
    "in",
    "near",
    "close",
    "next",
    "beside",
    "behind",
    "higher",
    "lower",
    "up",
    "out",
    "further",
    "ahead",
    "right",
    "just",
    "forward",
    "back",
    "round",
)
#: adverbs for positions past the operator's margin ("clearly above the head")
CLEARLY = ("clearly", "visibly", "obviously", "definitely", "distinctly", "noticeably")
#: sentence frames of the human style ("you can see that ...")
CLAUSE_FRAMES = (
    "you can see that {c}",
    "notice that {c}",
    "it looks like {c}",
    "note that {c}",
    "we see that {c}",
    "it seems {c}",
    "also, {c}",
    "on top of that {c}",
    "apparently {c}",
    "importantly, {c}",
)
#: extra joiners between two clauses of the human style
TRANSITIONS_HUMAN = (", plus ", " as ", ", and also ", "; meanwhile ", ", and at the same time ", ", whereas ")
