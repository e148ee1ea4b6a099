"""Typed instructions for a target pose (:mod:`core_models.captioning.instruct`), the prompt reader's second kind
of training text."""
from __future__ import annotations

import importlib
import re

import numpy as np

from core_models.captioning import posecodes as pc
from core_models.captioning.describe import aggregate, select
from core_models.captioning.instruct import IMPERATIVE, instruct
from core_models.nets.qposer.data import describe_with_codes
from tests.captioning.helpers import poses, random_poses

ds = importlib.import_module("core_models.captioning.describe")  # the package re-exports describe() by that name
P = poses()


def _instruction(name: str, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    pcs = pc.extract(P[name], None)
    return instruct(aggregate(select(pcs, 0, None), None), rng).lower()


def test_every_template_id_is_one_the_describer_states_and_formats():
    assert set(IMPERATIVE) <= set(ds.T)
    for tid, temps in IMPERATIVE.items():
        assert temps, tid
        for t in temps:
            out = t.format(s="your left knee", o="your head", poss="your")
            assert "{" not in out and "[" not in out, (tid, t)


def test_instructions_speak_to_the_person():
    text = _instruction("left_knee_90")
    assert re.search(r"\bbend\b.*\bleft knee\b|\bleft knee\b.*(90|ninety|right angle)", text), text
    assert not re.search(r"\b(their|his|her)\b", text), text  # second person: "your", never "their"
    up = " ".join(_instruction("both_hands_up", s) for s in range(6))
    assert re.search(r"\b(raise|lift|reach|put|get)\b[^.]*\bhands?\b[^.]*\b(above|over)\b", up), up
    kneel = " ".join(_instruction("kneeling", s) for s in range(6))
    assert "kneel" in kneel and "you are" not in kneel.replace("you are kneeling", "")


def test_prompt_sized_texts_state_at_most_max_facts_and_are_reproducible():
    p = random_poses(40, seed=3)
    t1, u1 = describe_with_codes(p, seed=7, max_facts=2, instruct_p=0.5)
    t2, u2 = describe_with_codes(p, seed=7, max_facts=2, instruct_p=0.5)
    full, uf = describe_with_codes(p, seed=7)
    assert t1 == t2 and u1 == u2
    assert all(len(u) <= 2 for u in u1)
    assert all(t.strip() for t in t1)
    assert np.mean([len(t) for t in t1]) < 0.6 * np.mean([len(t) for t in full])  # prompt-sized
    assert sum(len(u) for u in u1) > 0
    for u in u1:  # the labels are real posecode indices and categories
        for ci, cat in u:
            assert 0 <= ci < pc.NUM_CODES and 0 <= cat < int(pc.CODE_NCATS[ci])
