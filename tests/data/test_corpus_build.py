"""build_corpus end to end on two small BVH clips (exported from known poses): the stages fit together —
mirrored copies, per-clip splits, the farthest-point subset and the report agree with the saved arrays."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core_models.body import load_body
from core_models.data.corpus import SPLITS, Corpus, build_corpus
from core_models.export.bvh import write_bvh
from core_models.pose import Pose, clamp_to_limits, geodesic_deg


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    body = load_body("anny")
    mocap = tmp_path_factory.mktemp("mocap")
    rng = np.random.default_rng(0)
    (mocap / "src_a").mkdir()
    (mocap / "src_b").mkdir()
    exported = {}
    for k, folder in enumerate(("src_a", "src_b")):
        F = 12
        full = clamp_to_limits(Pose.from_full(rng.normal(0, 0.25, (F, 22, 3)).astype(np.float32))).full()
        exported[f"clip{k}"] = full
        transl = np.c_[np.linspace(0, 0.5, F), np.full(F, 0.9), np.zeros(F)].astype(np.float32)
        write_bvh(mocap / folder / f"clip{k}.bvh", Pose.from_full(full, transl), body, fps=60.0)
    out = tmp_path_factory.mktemp("corpus")
    rep = build_corpus(mocap, out, body=body, target=10, log=lambda s: None)
    return rep, out, exported


def test_corpus_arrays_and_report_agree(built):
    rep, out, _exported = built
    assert rep.clips_ok == 2 and not rep.clips_failed and rep.files == 2
    with np.load(out / "corpus.npz", allow_pickle=False) as z:
        n = len(z["clip"])
        assert n == rep.poses_with_mirrors == 2 * rep.frames
        assert rep.frames == 12  # two 12-frame 60 fps clips resampled to 30 fps
        half = n // 2
        np.testing.assert_array_equal(z["mirrored"], np.r_[np.zeros(half, bool), np.ones(half, bool)])
        np.testing.assert_array_equal(z["mirror_of"][half:], np.arange(half))
        np.testing.assert_array_equal(z["clip"][:half], z["clip"][half:])  # a mirror shares its clip's split
        np.testing.assert_array_equal(z["split"][:half], z["split"][half:])
        assert z["selected"].sum() == rep.selected == 10
        assert sorted(z["fps_order"][z["selected"]]) == list(range(10))
        np.testing.assert_allclose(z["heading"][half:], -z["heading"][:half])
    clips = json.loads((out / "clips.json").read_text())
    assert sorted(c["source"] for c in clips) == ["src_a", "src_b"]
    assert rep.per_source["src_a"]["clips"] == 1 and sum(s["selected"] for s in rep.per_source.values()) == 10
    assert sum(s["poses"] for s in rep.per_split.values()) == 2 * rep.frames
    assert set(rep.per_split) == set(SPLITS)


def test_corpus_poses_are_the_retargeted_clips(built):
    """The un-mirrored poses are close to the exported ones (heading removed): retargeting an SMPL-H BVH
    recovers it."""
    _rep, out, exported = built
    c = Corpus(out)
    assert len(c.clips) == 2
    a = c.arrays
    for cid, clip in enumerate(c.clips):
        rows = np.nonzero((a["clip"] == cid) & ~a["mirrored"])[0]
        np.testing.assert_array_equal(a["frame"][rows], np.arange(0, 12, 2))  # 60 → 30 fps
        want = exported[clip["name"]][::2, 1:]  # body joints (the root's heading is normalised)
        got = a["body_pose"][rows]
        err = geodesic_deg(got.reshape(-1, 3), want.reshape(-1, 3))
        assert np.median(err) < 1.0 and clip["retarget_mpjpe_mm"] < 5.0, (np.median(err), clip)
