"""The widened modifier grammar (noisy mode): vocabulary, truth of sizes, sides, holds and goals, clauses."""
import re

import numpy as np
import pytest

from core_models import skeleton as sk
from core_models.captioning import grammar as gr
from core_models.captioning import modifier
from core_models.captioning.compare import modifier_details
from core_models.captioning.features import EXT_INDEX, compute_features
from core_models.captioning.vocab import modifier_vocabulary, sample_pairs, words_of
from core_models.pose import Pose, aa_to_matrix_np, mirror
from core_models.text.clauses import split_clauses
from tests.captioning.helpers import ARMS_DOWN, make

SMALL_WORDS = ("slightly", "a little", "a tad", "a touch", "a wee bit", "a smidge", "marginally", "fractionally")
LARGE_WORDS = ("a lot", "a great deal", "much more", "way more", "dramatically", "massively", "hugely")


@pytest.fixture(scope="module")
def sampled():
    return sample_pairs(600, seed=3)


@pytest.fixture(scope="module")
def details(sampled):
    pa, pb = sampled
    return [r for s in range(3) for r in modifier_details(pa, pb, seed=100 + s)], (pa, pb)


def _local_change_deg(pa: Pose, pb: Pose) -> np.ndarray:
    ra = aa_to_matrix_np(pa.full().reshape(-1, sk.NUM_JOINTS, 3))
    rb = aa_to_matrix_np(pb.full().reshape(-1, sk.NUM_JOINTS, 3))
    cos = (np.einsum("njab,njab->nj", ra, rb) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def test_vocabulary_at_least_1500_words():
    pa, pb = sample_pairs(2000, seed=0)
    report = modifier_vocabulary(pa, pb, n_texts=3, seed=0, n_examples=20)
    assert report.size >= 1500, report.size
    assert len(report.examples) == 20 and all(report.examples)
    assert "left" in report.words and "right" in report.words
    # British and American spellings both occur
    assert {"toward", "towards"} <= set(report.words)
    assert {"centimeters", "centimetres"} & set(report.words)


def test_stated_numbers_match_the_measured_change(details):
    rendered, _ = details
    n = 0
    for r in rendered:
        for st in r.steps:
            if st.stated is None:
                continue
            n += 1
            val, unit = st.stated
            size = st.move.size
            tol = max(10.0, 0.3 * size) if unit == "deg" else max(0.03, 0.3 * size)
            assert abs(val - size) <= tol, (st.text, val, size)
            assert st.move.size_min >= 0.75 * st.move.size
    assert n > 300


def test_hedges_only_in_their_size_class(details):
    rendered, _ = details
    lo_deg, hi_deg = gr.SIZE_BOUNDS["deg"]
    seen = {"small": 0, "large": 0}
    for r in rendered:
        for st in r.steps:
            if st.move is None or st.hedge is None:
                continue
            assert gr.size_class(st.move) == st.hedge, st.text
            if st.hedge in seen:
                seen[st.hedge] += 1
            if st.move.unit == "deg" and st.move.kind not in ("turn", "turn_around"):
                if st.hedge == "small":
                    assert st.move.size < lo_deg
                if st.hedge == "large":
                    assert st.move.size_min >= hi_deg
    assert seen["small"] > 20 and seen["large"] > 20


def _one_knee_pair(deg: float) -> tuple[Pose, Pose]:
    return make(**ARMS_DOWN), make(left_knee=(deg, 0, 0), **ARMS_DOWN)


def _knee_angle(p: Pose) -> float:
    c = compute_features(p).coords[0]
    a, b, d = (c[EXT_INDEX[j]] for j in ("left_hip", "left_knee", "left_ankle"))
    u, w = a - b, d - b
    return float(np.degrees(np.arccos(np.dot(u, w) / np.linalg.norm(u) / np.linalg.norm(w))))


@pytest.mark.parametrize("deg", [35.0, 70.0])
def test_degrees_in_text_match_an_independent_measure(deg):
    a, b = _one_knee_pair(deg)
    measured = abs(_knee_angle(a) - _knee_angle(b))
    numbers = []
    for s in range(150):
        text = modifier(a, b, seed=s)
        numbers += [int(x) for x in re.findall(r"(\d+)(?:°| degrees| deg\b)", text)]
    assert numbers, "no degrees stated in 150 texts"
    for v in numbers:
        assert abs(v - measured) <= max(10.0, 0.3 * measured), (v, measured)


def test_small_words_never_describe_a_large_change():
    a, b = _one_knee_pair(100.0)
    for s in range(150):
        for r in modifier_details(a, b, seed=s):
            for st in r.steps:
                if st.move is not None and gr.size_class(st.move) == "large":
                    low = st.text.lower()
                    assert not any(w in low for w in SMALL_WORDS), st.text
    a, b = _one_knee_pair(22.0)  # just above the captioner's threshold: never "a lot"
    for s in range(150):
        for r in modifier_details(a, b, seed=s):
            for st in r.steps:
                if st.move is not None and st.move.kind == "bend":
                    assert not any(w in st.text.lower() for w in LARGE_WORDS), st.text


def test_hold_clauses_name_only_parts_that_did_not_move(details):
    rendered, (pa, pb) = details
    turned = _local_change_deg(pa, pb)
    n_pairs = len(pa)
    holds = 0
    for k, r in enumerate(rendered):
        i = k % n_pairs
        for st in r.steps:
            if st.move is not None:
                continue
            holds += 1
            for part in st.held:
                assert turned[i, list(sk.BODY_PARTS[part])].max() < 5.0, (st.text, part)
            named = {p for s in r.steps if s.move is not None for p in s.move.parts}
            assert not set(st.held) & named, (r.text, st.held)
    assert holds > 50


def test_holds_on_a_one_arm_change():
    a = make(**ARMS_DOWN)
    b = make(left_shoulder=(0, 0, 10), right_shoulder=(0, 0, 80))
    texts = []
    for s in range(200):
        for r in modifier_details(a, b, seed=s):
            for st in r.steps:
                if st.move is None:
                    assert "left_arm" not in st.held
                    texts.append(st.text)
    assert texts, "no hold clause in 200 texts"
    assert not any(re.search(r"\bleft (arm|hand)\b", t) for t in texts)


@pytest.mark.parametrize("joint,euler", [("left_knee", (80, 0, 0)), ("left_shoulder", (0, 0, 10)),
                                         ("left_hip", (-60, 0, 0)), ("left_elbow", (0, -90, 0))])
def test_side_words_follow_the_body_on_mirrored_pairs(joint, euler):
    a = make(**ARMS_DOWN)
    kw = dict(ARMS_DOWN)
    kw[joint] = euler
    b = make(**kw)
    side_word = re.compile(r"\b(left|right)\b(?![\s-]+(angle|away|now))")
    for (pa, pb), side in (((a, b), "left"), ((mirror(a), mirror(b)), "right")):
        for s in range(60):
            for r in modifier_details(pa, pb, seed=s):
                holds = [h.text.lower() for h in r.steps if h.move is None]
                for st in r.steps:
                    if st.move is None or st.move.dir_side is not None:
                        continue
                    text = st.text.lower()
                    for h in holds + [st.goal.lower()]:  # a hold tail or a goal may name the other side
                        text = text.replace(h, "") if h else text
                    sides = {m.group(1) for m in side_word.finditer(text)}
                    assert sides <= {side}, (st.text, side)


def test_determinism_and_variety():
    pa, pb = sample_pairs(20, seed=9)
    assert modifier(pa, pb, seed=4) == modifier(pa, pb, seed=4)
    assert modifier(pa[3], pb[3], seed=11) == modifier(pa[3], pb[3], seed=11)
    texts = {modifier(pa[5], pb[5], seed=s) for s in range(10)}
    assert len(texts) >= 8


def test_no_text_repeats_a_step(details):
    rendered, _ = details
    for r in rendered:
        moves = [st for st in r.steps if st.move is not None]
        texts = [st.text for st in moves]
        assert len(texts) == len(set(texts)), r.text
        keys = [(st.move.kind, st.move.noun, st.move.side, st.move.dir_side) for st in moves]
        assert len(keys) == len(set(keys)), r.text


def test_multi_step_texts_split_into_clauses(details):
    rendered, _ = details
    fillers = {"and", "then", "so", "also", "now", "next", "okay", "ok", "alright"}
    for r in rendered:
        clauses = split_clauses(r.text)
        n_moves = sum(st.move is not None for st in r.steps)
        assert len(clauses) >= min(n_moves, 12), (r.text, clauses)
        for c in clauses:
            assert c not in fillers, (r.text, clauses)


def test_goals_are_true_for_the_target(details):
    rendered, (pa, pb) = details
    cb = compute_features(pb).coords
    n_pairs = len(pa)
    checked = 0
    for k, r in enumerate(rendered):
        i = k % n_pairs
        for st in r.steps:
            if not st.goal:
                continue
            checked += 1
            if "touch" in st.goal and "hands" in st.goal:
                assert np.linalg.norm(cb[i, EXT_INDEX["left_hand"]] - cb[i, EXT_INDEX["right_hand"]]) < 0.1
            if "above" in st.goal or "over" in st.goal:
                j = f"{st.move.side}_hand"
                assert cb[i, EXT_INDEX[j], 1] > cb[i, EXT_INDEX["head"], 1]
    assert checked > 20


def test_words_are_words():
    pa, pb = sample_pairs(100, seed=1)
    for t in modifier(pa, pb, seed=2):
        assert "{" not in t and "}" not in t, t
        assert "  " not in t and ".." not in t, t
        assert all(w.isascii() for w in words_of(t))
