"""Leave-one-source-out (core_models.nets.training.loso): the corpus views that leave a source out of every split
(training) or make it the only test split (evaluation), their pairs, their rebuild when the corpus changes, the
clear errors, and the tiny demonstration through the command line: ``train qposer --exclude-source`` then
``eval qposer --loso`` (refused for weights that saw the source unless --allow-seen-source)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models.data.pairs import PairSet
from core_models.nets.training import loso

ROOT = Path(__file__).resolve().parents[2]
CLIP_SOURCES = ["src_a", "src_a", "src_a", "src_b", "src_b", "src_c"]
CLIP_SPLITS = [0, 1, 2, 0, 2, 0]
PER_CLIP = 30


def make_corpus(d: Path) -> Path:
    """6 clips of 30 poses from 3 sources; pairs inside clips plus one crossing src_a → src_b."""
    rng = np.random.default_rng(0)
    n = len(CLIP_SOURCES) * PER_CLIP
    basis = rng.normal(size=(4, 21, 3)) * 0.35
    aa = np.einsum("nk,kjc->njc", rng.uniform(-1, 1, (n, 4)), basis).astype(np.float32)
    clip = np.repeat(np.arange(len(CLIP_SOURCES)), PER_CLIP).astype(np.int32)
    split = np.asarray(CLIP_SPLITS, np.int8)[clip]
    np.savez(d / "corpus.npz", root_orient=np.zeros((n, 3), np.float32), body_pose=aa, split=split,
             mirrored=np.zeros(n, bool), selected=np.ones(n, bool), clip=clip, frame=np.arange(n) % PER_CLIP,
             heading=np.zeros(n, np.float32))
    (d / "clips.json").write_text(json.dumps([{"name": f"c{k}", "source": s, "split": ("train", "val", "test")[sp]}
                                              for k, (s, sp) in enumerate(zip(CLIP_SOURCES, CLIP_SPLITS))]))
    a = np.r_[np.arange(0, n, PER_CLIP), 10]  # pair k: first → second pose of clip k; the last: clip 0 → clip 3
    b = np.r_[np.arange(1, n, PER_CLIP), 3 * PER_CLIP + 5]
    k = len(a)
    PairSet(a, b, np.zeros(k, np.int8), np.zeros(k, bool), np.r_[split[a[:-1]], 0].astype(np.int8),
            np.full(k, 20, np.int16)).save(d / "pairs.npz")
    (d / "modifiers.json").write_text(json.dumps([["move"]] * k))
    return d


def test_views_leave_the_source_out_or_make_it_the_test_split(tmp_path):
    c = make_corpus(tmp_path)
    assert loso.source_counts(c) == {"src_a": 90, "src_b": 60, "src_c": 30}
    without = loso.make_view(c, "src_b", "train")
    only = loso.make_view(c, "src_b", "test")
    src = np.repeat(CLIP_SOURCES, PER_CLIP)
    with np.load(without / "corpus.npz") as z, np.load(c / "corpus.npz") as o:
        np.testing.assert_array_equal(z["split"][src == "src_b"], loso.EXCLUDED)
        np.testing.assert_array_equal(z["split"][src != "src_b"], o["split"][src != "src_b"])
        np.testing.assert_array_equal(z["body_pose"], o["body_pose"])
    with np.load(only / "corpus.npz") as z:
        assert set(np.nonzero(z["split"] == 2)[0]) == set(np.nonzero(src == "src_b")[0])  # its train clip too
        assert (z["split"][(src != "src_b")] != 2).all()
    pw, po = PairSet.load(without / "pairs.npz"), PairSet.load(only / "pairs.npz")
    assert list(pw.split) == [0, 1, 2, loso.EXCLUDED, loso.EXCLUDED, 0, loso.EXCLUDED]  # the crossing pair too
    assert list(po.split) == [0, 1, loso.EXCLUDED, 2, 2, 0, loso.EXCLUDED]
    assert (only / "modifiers.json").resolve() == (c / "modifiers.json").resolve()
    clips = json.loads((only / "clips.json").read_text())
    assert [x["split"] for x in clips] == ["train", "val", "excluded", "test", "test", "train"]


def test_view_is_reused_and_rebuilt_when_the_corpus_changes(tmp_path):
    c = make_corpus(tmp_path)
    v = loso.make_view(c, "src_a", "train")
    t = (v / "corpus.npz").stat().st_mtime_ns
    assert loso.make_view(c, "src_a", "train") == v and (v / "corpus.npz").stat().st_mtime_ns == t
    os.utime(c / "corpus.npz", ns=(t + 10**9, t + 10**9))  # a rebuilt corpus
    loso.make_view(c, "src_a", "train")
    assert json.loads((v / "view.json").read_text())["stamp"]["corpus.npz"][0] == t + 10**9


def test_unknown_source_and_missing_clip_table_are_clear_errors(tmp_path):
    c = make_corpus(tmp_path)
    with pytest.raises(loso.LosoError, match="unknown source 'hdm05'.*src_a, src_b, src_c"):
        loso.make_view(c, "hdm05", "train")
    (c / "clips.json").unlink()
    with pytest.raises(loso.LosoError, match="clip → source mapping is missing"):
        loso.make_view(c, "src_a", "test")


def _main(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_allow_seen_source_skips_the_manifest_check(tmp_path):
    import argparse

    c = make_corpus(tmp_path)
    args = argparse.Namespace(corpus=str(c), loso="src_c", allow_seen_source=True, weights_dir=str(tmp_path / "no"))
    loso.apply_eval(args, "qposer")
    assert args.corpus.endswith("only-src_c")
    args = argparse.Namespace(corpus=str(c), loso="src_c", allow_seen_source=False, weights_dir=str(tmp_path / "no"))
    with pytest.raises(loso.LosoError, match="does not say it was trained without src_c"):
        loso.apply_eval(args, "qposer")


def test_tiny_loso_demonstration_through_the_command_line(tmp_path, capsys):
    c = make_corpus(tmp_path)
    w_loso, w_all = tmp_path / "w_loso", tmp_path / "w_all"
    r = _main("train", "qposer", "--config", "tiny", "--corpus", str(c), "--weights-dir", str(w_loso), "--steps",
              "20", "--exclude-source", "src_b")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    man = json.loads((w_loso / "qposer.json").read_text())
    assert man["data"]["train_poses"] == 60 and "without-src_b" in man["data"]["corpus"]  # src_a + src_c train
    assert loso.trained_without(json.dumps(man), "src_b")
    common = ["--corpus", str(c), "--max-poses", "200", "--samples", "10", "--no-body"]
    r = _main("eval", "qposer", *common, "--weights-dir", str(w_loso), "--loso", "src_b")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    sets = json.loads(r.stdout.strip().splitlines()[-1])["sets"]
    assert next(iter(sets)) == "test clips (60 poses)"  # every src_b pose, its train clip included
    # weights that saw src_b (here: the same weights, their manifest without the LOSO marks) are refused
    w_all.mkdir()
    (w_all / "qposer.pt").write_bytes((w_loso / "qposer.pt").read_bytes())
    text = (w_loso / "qposer.json").read_text().replace("without-src_b", "all").replace("--exclude-source", "--x")
    (w_all / "qposer.json").write_text(text)
    import main

    assert main.main(["eval", "qposer", *common, "--weights-dir", str(w_all), "--holdout-source", "src_b"]) == 2
    out = capsys.readouterr().out
    assert "does not say it was trained without src_b" in out
    assert "--allow-seen-source" in out  # the way to the in-distribution number
    assert main.main(["eval", "qposer", *common, "--weights-dir", str(w_loso), "--loso", "nowhere"]) == 2
    assert "unknown source 'nowhere'" in capsys.readouterr().out


@pytest.mark.parametrize("verb", ["train", "eval"])
def test_every_model_that_reads_the_corpus_has_the_loso_options(verb):
    from core_models.cli.train_eval import LazyModelParser

    flag = "--exclude-source" if verb == "train" else "--loso"
    for model in ("editor", "corrector", "qposer", "lifter", "embroider", "autopose"):
        p = LazyModelParser(prog=model, verb=verb, model=model)
        p.build()
        opts = {o for a in p._actions for o in a.option_strings}
        assert flag in opts and "--corpus" in opts, (verb, model)
        if verb == "eval":
            assert {"--holdout-source", "--allow-seen-source"} <= opts


def test_source_coverage_tool_measures_motion_and_nearest_rotations(tmp_path, capsys):
    """``tools/qposer_source_coverage.py`` (the README's explanation of the cmu_iclone LOSO miss): a joint that the
    other sources never move is uncovered by exactly its angle, and the nearest-rotation distance is exact."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("cov", ROOT / "tools" / "qposer_source_coverage.py")
    cov = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cov)
    x = np.radians([[10.0, 0, 0]])
    ref = np.radians([[0.0, 0, 0], [30.0, 0, 0], [0, 15.0, 0]])
    assert cov.nearest_rotation_deg(x, ref) == pytest.approx(10, abs=1e-3)
    d = make_corpus(tmp_path)
    z = dict(np.load(d / "corpus.npz"))
    foot = 10 - 1  # left_foot in body_pose
    z["body_pose"][:, foot] = 0.0
    z["body_pose"][z["clip"] == 5, foot] = np.radians([20.0, 0, 0])  # only src_c moves its toes, always by 20°
    np.savez(d / "corpus.npz", **z)
    from core_models.data.corpus import Corpus
    from core_models.skeleton import JOINT_INDEX

    assert JOINT_INDEX["left_foot"] - 1 == foot
    motion, nn = cov.coverage_table(Corpus(d), "src_c", ["left_foot", "head"], n_query=30, n_ref=150)
    assert motion["src_c"][0] == pytest.approx(20, abs=1e-3) and motion["src_a"][0] == 0.0
    assert nn["left_foot"] == pytest.approx(20, abs=1e-2) and 0 <= nn["head"] < 90
    assert cov.joint_angles_deg(torch.eye(3).expand(2, 1, 3, 3), torch.eye(3).expand(2, 1, 3, 3)).abs().max() < 1e-3
    assert cov.main(["--corpus", str(d), "--source", "src_c", "--joints", "left_foot,pelvis"]) == 2
    assert "not body joints: pelvis" in capsys.readouterr().out
