"""The full posecode inventory (≥ 250 elementary codes), its contact / floor-contact codes, the v1 view that keeps
the 98-code inventory exactly, and contacts in descriptions and pair instructions."""
import json
from pathlib import Path

import numpy as np
import pytest

from core_models.captioning import posecodes as pc
from core_models.captioning.compare import correct, modifier
from core_models.captioning.describe import describe
from core_models.captioning.textutil import flip_text
from core_models.library import load_builtin
from core_models.pose import Pose, mirror
from tests.captioning.contact_poses import contact_poses
from tests.captioning.helpers import poses, random_poses

C = contact_poses()
P = poses()
LIB = {p.name.split(" (")[0]: p.pose for p in load_builtin()}
V1 = json.loads((Path(__file__).parent / "data" / "posecodes_v1.json").read_text())


def on(pose: Pose) -> set[str]:
    """Keys of the contact and floor-contact codes that fire (deterministic mode)."""
    r = pc.extract(pose)
    return {c.key for c in pc.CODES if c.op in ("contact", "floorContact") and r.cats[0, c.index] == 0}


def supers(pose: Pose) -> set[str]:
    r = pc.extract(pose)
    return {s.name for s in pc.SUPERS if r.supers[0, s.index]}


def test_inventory_counts():
    full, v1 = pc.inventory_summary(), pc.inventory_summary("v1")
    assert full["total"] == pc.NUM_CODES == sum(v for k, v in full.items() if k not in ("total", "super"))
    assert full["total"] >= 250 and v1["total"] == 98 and v1["super"] == 9 and full["super"] == pc.NUM_SUPERS
    for op in ("angle", "distance", "relativePosX", "relativePosY", "relativePosZ", "relativeVAxis", "onGround",
               "pitch", "roll", "contact", "floorContact", "bodyInclineX", "relativeRotX"):
        assert full[op] >= v1.get(op, 0) and full[op] > 0, op
    assert full["contact"] >= 25 and full["floorContact"] >= 10
    assert len({c.key for c in pc.CODES}) == pc.NUM_CODES
    for c in pc.CODES:  # every code has its mirror twin, and the twins share operator and version
        m = pc.CODES[c.mirror]
        assert m.mirror == c.index and m.op == c.op and m.version == c.version


def test_v1_view_is_the_previous_inventory():
    assert [c.key for c in pc.CODES[:pc.NUM_CODES_V1]] == V1["keys"]
    assert pc.FEATURE_DIM_V1 == V1["feature_dim"] and pc.NUM_SUPERS_V1 == V1["num_supers"]
    batch = Pose.from_full(np.concatenate([random_poses(24, seed=11).full(),
                                           Pose.stack([P[k] for k in V1["helper_poses"]]).full()]))
    full, v1 = pc.extract(batch), pc.extract(batch, inventory="v1")
    np.testing.assert_array_equal(v1.cats, np.array(V1["cats"]))
    np.testing.assert_array_equal(v1.supers, np.array(V1["supers"], bool))
    np.testing.assert_array_equal(full.cats[:, :pc.NUM_CODES_V1], v1.cats)
    f1 = pc.posecode_features(full, inventory="v1")
    assert f1.shape == (len(batch), pc.FEATURE_DIM_V1)
    np.testing.assert_array_equal(f1, pc.posecode_features(batch, inventory="v1"))
    assert pc.posecode_features(full).shape == (len(batch), pc.FEATURE_DIM) and pc.FEATURE_DIM > pc.FEATURE_DIM_V1
    # the noisy mode draws the v1 codes' offsets first: same seed, same v1 categories either way
    a = pc.extract(batch, rng=np.random.default_rng(5))
    b = pc.extract(batch, rng=np.random.default_rng(5), inventory="v1")
    np.testing.assert_array_equal(a.cats[:, :pc.NUM_CODES_V1], b.cats)
    with pytest.raises(ValueError, match="unknown posecode inventory"):
        pc.extract(batch, inventory="v3")
    with pytest.raises(ValueError, match="needs"):
        pc.posecode_features(v1)  # v1 columns cannot give the full features


@pytest.mark.parametrize("pose,key", [
    (C["hands_together"], "contact:left_hand,right_hand"),
    (C["hand_on_head"], "contact:left_hand,head"),
    (C["hand_on_chest"], "contact:left_hand,spine3"),
    (C["hands_on_hips"], "contact:left_hand,left_hip"),
    (C["hands_on_hips"], "contact:right_hand,right_hip"),
    (C["hand_on_knee"], "contact:left_hand,left_knee"),
    (LIB["Seated Forward Bend"], "contact:left_hand,left_foot"),
    (C["feet_together"], "contact:left_foot,right_foot"),
    (C["feet_together"], "contact:left_knee,right_knee"),
    (LIB["Tree"], "contact:left_foot,right_knee"),
    (P["tpose"], "floorContact:left_foot"),
    (C["kneeling"], "floorContact:left_knee"),
    (C["all_fours"], "floorContact:right_hand"),
    (C["sitting"], "floorContact:left_hip"),
    (C["lying_on_back"], "floorContact:spine3"),
    (C["lying_on_back"], "floorContact:head"),
    (LIB["Bridge"], "floorContact:left_elbow"),
])
def test_each_contact_family_fires(pose, key):
    assert key in on(pose)
    mk = pc.CODES[pc.CODES[pc.CODE_INDEX[key]].mirror].key
    assert mk in on(mirror(pose))  # and its twin on the mirrored pose


@pytest.mark.parametrize("name", ["tpose", "arms_down"])
def test_no_contact_on_the_rest_pose(name):
    fired = on(P[name])
    assert not {k for k in fired if k.startswith("contact:")}
    assert fired == {f"floorContact:{s}_{j}" for s in ("left", "right") for j in ("foot", "ankle")}  # standing


def test_contact_supers():
    assert "sitting_on_floor" in supers(C["sitting"]) and "sitting_on_floor" in supers(LIB["Boat"])
    assert "sitting_on_floor" not in supers(LIB["Cobra"]) and "sitting_on_floor" not in supers(P["tpose"])
    s = supers(C["all_fours"])
    assert "on_all_fours" in s and "on_all_fours" not in supers(C["kneeling"])


def test_noisy_mode_is_seeded():
    batch = Pose.stack([*C.values(), *random_poses(30, seed=3)])
    a = pc.extract(batch, rng=np.random.default_rng(0))
    b = pc.extract(batch, rng=np.random.default_rng(0))
    c = pc.extract(batch, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.cats, b.cats)
    np.testing.assert_array_equal(a.supers, b.supers)
    assert (a.cats != c.cats).any()
    assert describe(batch, seed=4) == describe(batch, seed=4)


def test_captions_state_contacts():
    kneel = describe(C["kneeling"], deterministic=True)
    assert "kneeling" in kneel and "Both knees are on the floor" in kneel
    assert "on all fours" in describe(C["all_fours"], deterministic=True)
    assert "lying face down" not in describe(C["all_fours"], deterministic=True)
    assert "both hands touch the hips" in describe(C["hands_on_hips"], deterministic=True)
    assert "The left hand touches the left knee" in describe(C["hand_on_knee"], deterministic=True)
    assert "the hands touch each other" in describe(C["hands_together"], deterministic=True)
    assert "sitting on the floor" in describe(C["sitting"], deterministic=True)
    noisy = [describe(C["kneeling"], seed=s).lower() for s in range(20)]
    assert sum("floor" in t or "kneel" in t or "on his knees" in t or "on her knees" in t or "on their knees" in t
               for t in noisy) >= 18
    assert "touch" not in describe(P["tpose"], deterministic=True)


@pytest.mark.parametrize("name", list(C))
def test_contact_captions_are_mirror_consistent(name):
    assert describe(mirror(C[name]), deterministic=True) == flip_text(describe(C[name], deterministic=True))


def test_pair_instructions_use_contacts():
    r = correct(P["arms_down"], C["hands_on_hips"])
    assert "put both hands on your hips" in r.text
    assert any(i.body_part == "both_arms" and not i.codes for i in r.instructions)
    assert "take both hands off your hips" in correct(C["hands_on_hips"], P["arms_down"]).text
    assert "put your left hand on your head" in correct(P["arms_down"], C["hand_on_head"]).text
    assert "put your left foot on your right knee" in correct(LIB["Mountain"], LIB["Tree"]).text
    assert "get down on all fours" in correct(C["kneeling"], C["all_fours"]).text.lower()
    # no instruction for a contact that both poses have, nor one only the noise makes
    assert "hip" not in correct(C["hands_on_hips"], C["hands_on_hips"]).text
    texts = [modifier(P["arms_down"], C["hands_on_hips"], seed=s) for s in range(30)]
    assert sum("hip" in t for t in texts) >= 20


def test_unstated_floor_contacts_keep_the_v1_ground_facts():
    # the feet's floor contacts are measured but not stated: they must not remove "the foot is on the ground"
    assert describe(P["left_knee_90"], deterministic=True).startswith("The right foot is on the ground")
    assert "The right foot is on the ground" in describe(P["lunge"], deterministic=True)


def test_fast_binning_equals_digitize():
    rng = np.random.default_rng(0)
    for op in pc.OPERATORS.values():
        th = np.asarray(op.thresholds, np.float32)
        v = np.concatenate([rng.uniform(th[0] - 50, th[-1] + 50, 500), th, np.nextafter(th, -np.inf),
                            [np.nan, np.inf, -np.inf]]).astype(np.float32).reshape(-1, 1)
        np.testing.assert_array_equal(op.bin(v), np.digitize(v, th).astype(np.int16), err_msg=op.name)


def test_describe_refuses_a_v1_view_clearly():
    with pytest.raises(ValueError, match="full inventory"):
        describe(pc.extract(P["tpose"], inventory="v1"))
    assert describe(pc.extract(Pose.stack([P["tpose"]])), deterministic=True)[0].startswith("The person is standing")
