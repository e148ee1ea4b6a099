"""The reader-variant tool's entailment table (tools/qposer_reader_variants.py): a (code, category) entails another
when it almost always co-occurs with it, is frequent enough, and the entailed one is not near-universal."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location(
    "qposer_reader_variants", Path(__file__).resolve().parents[2] / "tools" / "qposer_reader_variants.py")
assert _spec is not None and _spec.loader is not None
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def test_entailments_and_widened_labels():
    rng = np.random.default_rng(0)
    n = 1000
    a = rng.integers(0, 3, n)                      # code 0: three categories
    b = np.where(a == 2, 1, rng.integers(0, 2, n))  # code 1: category 1 whenever code 0 is 2
    c = np.zeros(n, np.int64)                       # code 2: always 0 (near-universal: never entailed)
    cats = np.stack([a, b, c], 1)
    imp = tool.entailments(cats)
    assert imp[(0, 2)] == [(1, 1)]
    assert (1, 1) not in imp  # code 1 = 1 does not entail code 0 = 2
    assert all((2, 0) not in v for v in imp.values())
    rows = np.nonzero(a == 2)[0][:2]
    got = tool.widen([[(0, 2)], [(0, 2), (2, 0)]], rows, cats, imp)
    assert got == [[(0, 2), (1, 1)], [(0, 2), (1, 1), (2, 0)]]
    assert tool.widen([[(0, 0)]], rows[:1], cats, imp) == [[(0, 0)]]  # nothing entailed, nothing added
