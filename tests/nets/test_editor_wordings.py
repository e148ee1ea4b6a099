"""Editor training text: the clause budget and the coach-style wordings."""
from __future__ import annotations

import numpy as np

from core_models.nets.editor.data import budget_wordings, coach_texts
from core_models.nets.training.pairs import PairData
from core_models.text.clauses import split_clauses


def _texts():
    common = "Raise your left arm. Bend your right knee."
    return [[common, f"Lift the left hand about {k} cm and keep your legs where they are."] for k in range(10, 40)]


def test_budget_keeps_frequent_clauses_and_every_pair_keeps_a_wording():
    texts = _texts()
    out, info = budget_wordings(texts, budget=4, seed=0)
    kept = {c for ts in out for t in ts for c in split_clauses(t)}
    assert len(kept) <= 4 + 2  # the fallback wording may add the few clauses of the cheapest wording
    assert all(len(ts) >= 1 for ts in out)
    # the shared wording (2 clauses, used by every pair) always survives
    assert all(texts[i][0] in out[i] for i in range(len(texts)))
    assert info["wordings_dropped"] == sum(map(len, texts)) - sum(map(len, out)) > 0


def test_budget_none_keeps_everything_and_large_budget_drops_nothing():
    texts = _texts()
    same, info = budget_wordings(texts, None)
    assert same == texts and info["wordings_dropped"] == 0
    out, info = budget_wordings(texts, budget=10_000)
    assert out == texts and info["wordings_dropped"] == 0


def test_coach_texts_name_what_changed():
    from core_models.library import load_builtin
    a = next(p.pose for p in load_builtin() if p.slug == "mountain")
    b = a.copy()
    b.body_pose[16] = np.array([0.0, 0.0, -1.2], np.float32)  # right shoulder (joint 17): arm up and out
    aa = a.full().reshape(22, 3)
    data = PairData(np.stack([aa, aa]), np.stack([aa, b.full().reshape(22, 3)]), [[""], [""]])
    texts = coach_texts(data, seed=0)
    assert texts[0] == ""  # nothing to say for identical poses
    assert "right" in texts[1].lower() and "left" not in texts[1].lower(), texts[1]


def _rare_texts():
    common = "Raise your left arm. Bend your right knee."
    return [[common, f"Lift the left hand about {k} cm. Bend the right knee {k} degrees. Turn your head {k} degrees."]
            for k in range(10, 40)]


def test_budget_fill_spends_the_budget_on_whole_wordings():
    texts = _rare_texts()
    assert len(split_clauses(texts[0][1])) == 3
    budget = 2 + 15  # the shared wording's clauses + room for five 3-clause wordings
    old, old_info = budget_wordings(texts, budget, seed=0)
    out, info = budget_wordings(texts, budget, seed=0, fill=True)
    kept = {c for ts in out for t in ts for c in split_clauses(t)}
    assert len(kept) <= budget and info["clauses"] == len(kept)
    assert all(texts[i][0] in out[i] for i in range(len(texts)))  # the cheap shared wording comes first
    assert sum(map(len, out)) == len(texts) + 5  # exactly the five rare wordings that fit
    # the frequent-clause budget keeps (almost) none of them: its random rare clauses rarely complete a wording
    assert sum(map(len, old)) < sum(map(len, out))
    assert budget_wordings(texts, budget, seed=0, fill=True) == (out, info)  # seeded


def test_budget_fill_keeps_a_wording_per_pair_and_everything_when_it_fits():
    texts = _rare_texts()
    out, info = budget_wordings(texts, 1, seed=0, fill=True)
    assert all(len(ts) >= 1 for ts in out)  # the fallback as without fill
    out, info = budget_wordings(texts, 10_000, seed=0, fill=True)
    assert out == texts and info["wordings_dropped"] == 0
