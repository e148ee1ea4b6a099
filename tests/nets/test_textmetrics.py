"""Own BLEU-4 / ROUGE-L / METEOR against hand-computed values."""
from __future__ import annotations

import math

import pytest

from core_models.nets.training import textmetrics as tm


def test_words_lowercase_no_punctuation():
    assert tm.words("Bend your LEFT knee, then stand.") == ["bend", "your", "left", "knee", "then", "stand"]


def test_bleu_identical_is_100_and_hand_example():
    assert tm.bleu4(["bend your left knee a lot"], [["bend your left knee a lot"]]) == pytest.approx(100.0)
    # p1..p4 = 5/6, 4/5, 3/4, 2/3, equal lengths → BP = 1
    got = tm.bleu4(["a b c d e f"], [["a b c d e g"]])
    assert got == pytest.approx(100 * (5 / 6 * 4 / 5 * 3 / 4 * 2 / 3) ** 0.25, rel=1e-9)


def test_bleu_clipping_brevity_and_zero_order():
    # no 4-gram in common → 0 (no smoothing)
    assert tm.bleu4(["the cat sat on the mat"], [["the cat is on the mat"]]) == 0.0
    # brevity penalty: hypothesis 4 words, reference 6 words, all n-grams match
    got = tm.bleu4(["a b c d"], [["a b c d e f"]])
    assert got == pytest.approx(100 * math.exp(1 - 6 / 4))
    # the closest reference length is used
    assert tm.bleu4(["a b c d"], [["a b c d e f", "a b c d x"]]) == pytest.approx(100 * math.exp(1 - 5 / 4))
    # clipping: "the" counts at most twice (its count in the reference): unigram precision 5/8
    h, r = "the the the the the a b c", "the a b c the x y z"
    assert tm.bleu4([h], [[r]], max_n=1) == pytest.approx(100 * 5 / 8)


def test_bleu_is_corpus_level():
    # corpus BLEU pools counts: one perfect + one empty-overlap sentence is not the mean of 100 and 0
    got = tm.bleu4(["a b c d e", "x y z w v"], [["a b c d e"], ["p q r s t"]])
    assert got == pytest.approx(100 * (5 / 10 * 4 / 8 * 3 / 6 * 2 / 4) ** 0.25)


def test_rouge_l():
    assert tm.rouge_l(["a b c d"], [["a c d e"]]) == pytest.approx(75.0)  # LCS 3, P = R = 3/4
    # best reference wins
    assert tm.rouge_l(["a b c d"], [["x y z", "a b c d"]]) == pytest.approx(100.0)
    p, r, b = 2 / 2, 2 / 4, 1.2
    assert tm.rouge_l(["a b"], [["a x b y"]]) == pytest.approx(100 * (1 + b * b) * p * r / (r + b * b * p))
    assert tm.rouge_l(["q"], [["a"]]) == 0.0


def test_meteor_values():
    # identical six words: one chunk → penalty 0.5 * (1/6)^3
    assert tm.meteor(["a b c d e f"], [["a b c d e f"]]) == pytest.approx(100 * (1 - 0.5 / 216))
    # reordered halves: 2 chunks over 4 matches
    got = tm.meteor(["c d a b"], [["a b c d"]])
    assert got == pytest.approx(100 * (1 - 0.5 * (2 / 4) ** 3))
    # the stem stage matches inflections
    assert tm.meteor_sentence("bending knees", ["bend knee"]) > 0.9
    assert tm.meteor_sentence("raise arms", ["lower legs"]) == 0.0
    # P and R weighted 1:9 (recall-heavy): 2 of 2 hyp words in a 4-word reference
    p, r = 1.0, 0.5
    fmean = p * r / (0.9 * p + 0.1 * r)
    assert tm.meteor_sentence("a b", ["a b c d"]) == pytest.approx(fmean * (1 - 0.5 * (1 / 2) ** 3))


def test_all_metrics_keys():
    m = tm.all_metrics(["bend your knee"], [["bend your knee", "flex the knee"]])
    assert set(m) == {"bleu4", "rouge_l", "meteor"}
    assert m["rouge_l"] == pytest.approx(100.0)
