"""Text → paircode reader: human phrasings map to the right paircodes, and each sign is the sign the paircode
value really takes when a pose does what the phrase says (checked on poses moved that way, the meaning taken
from the independent measures of ``core_models.text.measures``)."""
from __future__ import annotations

import numpy as np
import pytest

from core_models import skeleton as sk
from core_models.captioning.compare import PAIRS, extract_pairs, pair
from core_models.pose import Pose
from core_models.text.measures import measure
from core_models.text.paircode_reader import ExpectedChange, read_changes

_J = sk.JOINT_INDEX


def _standing() -> Pose:
    body = np.zeros((21, 3), np.float32)
    body[_J["left_shoulder"] - 1] = [0, 0, -1.2]
    body[_J["right_shoulder"] - 1] = [0, 0, 1.2]
    body[_J["left_elbow"] - 1] = [0, -0.3, 0]
    body[_J["right_elbow"] - 1] = [0, 0.3, 0]
    body[_J["left_knee"] - 1] = [0.3, 0, 0]
    body[_J["right_knee"] - 1] = [0.3, 0, 0]
    return Pose(np.array([0, 0.7, 0], np.float32), body)


def _moved(start: Pose, joint: str, aa: list[float], part: str, kind: str, direction: int) -> Pose:
    """``start`` with ``joint`` rotated by +aa or −aa, whichever moves ``measure(part, kind)`` the asked way."""
    for s in (1.0, -1.0):
        p = start.copy()
        full = p.full().copy()
        full[_J[joint]] += s * np.asarray(aa, np.float32)
        p = Pose.from_full(full, p.transl)
        if direction * (measure(p, part, kind) - measure(start, part, kind)) > 0:
            return p
    raise AssertionError(f"no rotation of {joint} moves {part} {kind} by {direction}")


@pytest.mark.parametrize("text,code,joint,aa,part,kind,direction", [
    ("bend yor rigth knee", ("pair_angle", "right_hip", "right_knee", "right_ankle"), "right_knee", [1.2, 0, 0],
     "right_knee", "flexion", 1),
    ("straighten your left arm all the way", ("pair_angle", "left_shoulder", "left_elbow", "left_wrist"),
     "left_elbow", [0, 0.3, 0], "left_elbow", "flexion", -1),
    ("raise ur left arm a bit more", ("pair_posY", "left_hand"), "left_shoulder", [0, 0, 1.0], "left_wrist",
     "height", 1),
    ("can you drop the right hand down", ("pair_posY", "right_hand"), "right_shoulder", [0, 0, 0.5],
     "right_wrist", "height", -1),
    ("kick your right foot forward", ("pair_posZ", "right_foot"), "right_hip", [1.0, 0, 0], "right_ankle",
     "forward", 1),
    ("scoot your left foot out about six inches", ("pair_posX", "left_foot"), "left_hip", [0, 0, 0.6],
     "left_ankle", "sideways", 1),
    ("look down at the floor", ("pair_rotX", "neck", "head"), "head", [0.7, 0, 0], "head", "flexion", 1),
    ("turn your head to the left", ("pair_rotY", "pelvis", "head"), "neck", [0, 0.9, 0], "head", "turn", 1),
    ("lean forward a little", ("pair_inclineX", "left_shoulder", "right_shoulder", "pelvis", "left_ankle",
                               "right_ankle"), "spine1", [0.6, 0, 0], "torso", "flexion", 1),
])
def test_human_phrasings_map_to_the_paircode_and_the_sign_a_real_edit_gives(text, code, joint, aa, part, kind,
                                                                           direction):
    changes = {c.code: c.sign for c in read_changes(text)}
    idx = pair(*code)
    assert idx in changes, (text, [PAIRS[c].key for c in changes])
    start = _standing()
    moved = _moved(start, joint, aa, part, kind, direction)
    value = float(extract_pairs(start, moved).values[0, idx])
    assert np.sign(value) == changes[idx], (text, value, changes[idx])


def test_sides_plurals_and_whole_body_words():
    def keyed(text):
        return {(PAIRS[c.code].key, c.sign) for c in read_changes(text)}
    both = keyed("bend both knees")
    assert {PAIRS[pair("pair_angle", f"{s}_hip", f"{s}_knee", f"{s}_ankle")].key for s in ("left", "right")} == \
        {k for k, _ in both} and {s for _, s in both} == {1}
    assert keyed("move your hands apart") == {(PAIRS[pair("pair_distance", "left_hand", "right_hand")].key, -1)}
    assert keyed("bring your hands together") == {(PAIRS[pair("pair_distance", "left_hand", "right_hand")].key, 1)}
    assert keyed("move your left foot away from your body") == \
        {(PAIRS[pair("pair_distance", "left_foot", "torso")].key, -1)}
    assert keyed("turn to the left") == {(PAIRS[pair("rotation", "pelvis")].key, 1)}
    assert keyed("twist your torso to the left") == \
        {(PAIRS[pair("pair_inclineY", "left_shoulder", "right_shoulder", "pelvis", "left_ankle", "right_ankle")]
          .key, 1)}
    # two clauses, one of them on the other side through a reference
    two = keyed("raise your left hand, then do the same on the right")
    assert two == {(PAIRS[pair("pair_posY", "left_hand")].key, -1), (PAIRS[pair("pair_posY", "right_hand")].key, -1)}


@pytest.mark.parametrize("text", ["", "   ", "sing a little song", "keep your right leg where it is",
                                  "raise your left arm " * 200])
def test_no_changes_from_empty_nonsense_hold_only_or_over_long_text(text):
    assert read_changes(text) == []


def test_threshold_is_the_edge_of_the_ignored_band():
    knee = pair("pair_angle", "left_hip", "left_knee", "left_ankle")
    assert ExpectedChange(knee, 1).threshold() == pytest.approx(18.0)
    assert ExpectedChange(knee, -1).threshold() == pytest.approx(18.0)
    hand = pair("pair_posY", "left_hand")
    assert ExpectedChange(hand, -1).threshold() == pytest.approx(0.15)
