"""`data stats` per-source statistics (issue 18 item 1): clips, frames, selected poses, minutes, retarget error,
joint-limit clamps and pose-space coverage, from a small corpus built from two sources."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core_models.body import load_body
from core_models.data.corpus import Corpus, build_corpus, source_coverage
from core_models.export.bvh import write_bvh
from core_models.pose import Pose, clamp_to_limits


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    body = load_body("anny")
    mocap = tmp_path_factory.mktemp("mocap")
    rng = np.random.default_rng(1)
    for k, (folder, F, amp) in enumerate((("wide", 24, 0.5), ("narrow", 12, 0.05))):
        (mocap / folder).mkdir()
        full = clamp_to_limits(Pose.from_full(rng.normal(0, amp, (F, 22, 3)).astype(np.float32))).full()
        transl = np.c_[np.zeros(F), np.full(F, 0.9), np.zeros(F)].astype(np.float32)
        write_bvh(mocap / folder / f"clip{k}.bvh", Pose.from_full(full, transl), body, fps=30.0)
    out = tmp_path_factory.mktemp("corpus")
    build_corpus(mocap, out, body=body, target=20, log=lambda s: None)
    return out


def test_report_and_stats_carry_per_source_statistics(corpus_dir, capsys):
    from core_models.cli.data import _source_stats

    rep = json.loads((corpus_dir / "report.json").read_text())
    clips = json.loads((corpus_dir / "clips.json").read_text())
    assert all("clamped_frac" in c and 0.0 <= c["clamped_frac"] <= 1.0 for c in clips)
    per = _source_stats(Corpus(corpus_dir))
    out = capsys.readouterr().out
    assert "coverage %" in out and "wide" in out and "narrow" in out
    for s, frames in (("wide", 24), ("narrow", 12)):
        d = per[s]
        assert d["clips"] == 1 and d["frames"] == frames and d["poses"] == 2 * frames
        assert d["minutes"] == pytest.approx(frames / 30.0 / 60.0, abs=0.01)
        assert 0.0 <= d["retarget_mpjpe_mm"] < 30.0 and 0.0 <= d["clamped_pct"] <= 100.0
        assert rep["per_source"][s]["selected"] == d["selected"]
    assert per["wide"]["selected"] + per["narrow"]["selected"] == 20
    # the varied source reaches more of the corpus's pose space than the near-static one
    assert per["wide"]["coverage_pct"] > per["narrow"]["coverage_pct"]


def test_coverage_is_a_share_of_the_diverse_subset(corpus_dir):
    c = Corpus(corpus_dir)
    everything = source_coverage(c, radius_m=10.0)
    assert set(everything) == {"wide", "narrow"} and all(v == 100.0 for v in everything.values())
    nothing = source_coverage(c, radius_m=-1.0)
    assert all(v == 0.0 for v in nothing.values())
