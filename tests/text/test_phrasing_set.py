"""The hand-written human-phrasing evaluation set: schema, sizes, unique ids, start poses that exist."""
from __future__ import annotations

import pytest

from core_models import skeleton as sk
from core_models.text.measures import KINDS, PARTS
from core_models.text.phrasing_eval import DEFAULT_FILES, load_items, resolve_start

STYLES = {"short", "long", "keep", "measure", "goal", "descriptive", "casual", "british", "pronoun"}


@pytest.fixture(scope="module")
def splits():
    return {name: load_items(path) for name, path in DEFAULT_FILES.items()}


def test_counts(splits):
    assert len(splits["dev"]) >= 350
    assert len(splits["heldout"]) >= 150
    assert len(splits["dev"]) + len(splits["heldout"]) >= 500


def test_ids_unique_across_splits(splits):
    ids = [it["id"] for items in splits.values() for it in items]
    assert len(ids) == len(set(ids))


def test_no_duplicate_items_and_heldout_texts_unseen(splits):
    pairs = [(it["start"], it["text"].strip().lower()) for items in splits.values() for it in items]
    assert len(pairs) == len(set(pairs))
    dev_texts = {it["text"].strip().lower() for it in splits["dev"]}
    assert not [it["id"] for it in splits["heldout"] if it["text"].strip().lower() in dev_texts]


def test_schema(splits):
    for items in splits.values():
        for it in items:
            assert set(it) == {"id", "style", "start", "text", "checks", "still"}, it["id"]
            assert it["style"] in STYLES, it["id"]
            assert it["text"].strip(), it["id"]
            assert it["checks"], it["id"]
            for c in it["checks"]:
                assert c["part"] in PARTS and c["measure"] in KINDS, (it["id"], c)
                assert c["direction"] in (1, -1) and c["min"] > 0, (it["id"], c)
            for part in it["still"]:
                assert part in sk.BODY_PARTS, (it["id"], part)


def test_every_style_in_both_splits(splits):
    for items in splits.values():
        assert {it["style"] for it in items} == STYLES


def test_start_poses_exist(splits):
    names = {it["start"] for items in splits.values() for it in items}
    for name in names:
        assert resolve_start(name).batch_shape == ()


def test_unknown_start_pose_is_an_error():
    with pytest.raises(KeyError):
        resolve_start("No Such Pose")
