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
