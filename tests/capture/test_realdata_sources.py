"""Leave-one-source-out on the real-landmark datasets: ``load_landmark_dataset(exclude_source=…, only_source=…)``
and the lifter / PoseEmbroider real-landmark trainers passing ``--exclude-source`` through (a LOSO run must not
train on the held-out source's landmark rows). Shards are written directly: no renderer, no landmarker."""
from __future__ import annotations

import types

import numpy as np
import pytest

from core_models.capture import realdata as rd

SOURCES = ("hdm05", "salsa", "coaching")


def _write(root, name="lm"):
    """One shard of 12 rows: sources cycle hdm05 / salsa / coaching, splits train / val / test (coaching: train)."""
    n = 12
    src = np.array([SOURCES[i % 3] for i in range(n)])
    split = np.array([("train", "val", "test")[(i // 3) % 3] if src[i] != "coaching" else "train" for i in range(n)])
    arrays = {k: np.zeros((n,), np.float32) for k in rd.ROW_FIELDS}
    arrays.update(landmarks=np.zeros((n, 33, 8), np.float32), detected=np.ones(n, bool),
                  image_size=np.full((n, 2), 640, np.int32), variant=np.full(n, "lite"), root_orient=np.zeros((n, 3)),
                  body_pose=np.zeros((n, 21, 3)), joints=np.zeros((n, 22, 3)), cam_R=np.tile(np.eye(3), (n, 1, 1)),
                  cam_t=np.zeros((n, 3)), phenotype=np.zeros((n, 2)), split=split, source=src,
                  clip=np.arange(n, dtype=np.int32), frame=np.zeros(n, np.int32), kind=np.full(n, "still"),
                  seq_id=np.full(n, -1), camera_kind=np.full(n, "laptop"), framing=np.full(n, "full"),
                  background=np.full(n, "flat"), phenotype_id=np.zeros(n, np.int32))
    d = root / name
    d.mkdir(parents=True)
    np.savez(d / "shard_0000.npz", **arrays)
    return src, split


def test_exclude_and_only_source_filter_rows(tmp_path):
    src, split = _write(tmp_path)
    every = rd.load_landmark_dataset("lm", root=tmp_path)
    assert len(every) == 12
    without = rd.load_landmark_dataset("lm", root=tmp_path, exclude_source="salsa")
    assert "salsa" not in set(without.source) and len(without) == int((src != "salsa").sum())
    train = rd.load_landmark_dataset("lm", split="train", root=tmp_path, exclude_source="salsa")
    assert set(train.source) == {"hdm05", "coaching"} and set(train.split) == {"train"}
    only = rd.load_landmark_dataset("lm", root=tmp_path, only_source="salsa")
    assert set(only.source) == {"salsa"} and set(only.split) == set(split[src == "salsa"])  # every split
    assert len(only) == 4


def test_unknown_source_is_a_clear_error(tmp_path):
    _write(tmp_path)
    with pytest.raises(rd.LandmarkDataError, match="no rows of source 'karate'.*has: coaching, hdm05, salsa"):
        rd.load_landmark_dataset("lm", root=tmp_path, exclude_source="karate")
    with pytest.raises(rd.LandmarkDataError, match="no rows of source"):
        rd.load_landmark_dataset("lm", root=tmp_path, only_source="karate")


def test_trainers_pass_exclude_source_through(tmp_path, monkeypatch):
    """run_train_real of the lifter and _real_inputs of the PoseEmbroider ask the loader to drop the source."""
    from core_models.nets.embroider import real as emb_real
    from core_models.nets.lifter import real as lif_real

    seen: list[tuple] = []

    class Stop(Exception):
        pass

    def fake_load(name, split=None, kind=None, root=None, exclude_source=None, only_source=None):
        seen.append((split, exclude_source, only_source))
        raise Stop

    monkeypatch.setattr(rd, "load_landmark_dataset", fake_load)
    args = types.SimpleNamespace(landmarks="lm", threads=1, exclude_source="salsa")
    with pytest.raises(Stop):
        lif_real.run_train_real(args)
    with pytest.raises(Stop):
        emb_real._real_inputs("lm", "train", 1, np.zeros((22, 3)), False, "salsa")
    with pytest.raises(Stop):  # eval lifter --landmarks lm --loso salsa: every split of the source
        lif_real.run_compare_real(types.SimpleNamespace(landmarks="lm", split=None, loso="salsa"))
    with pytest.raises(Stop):  # … --split test: the source's test rows alone
        lif_real.run_compare_real(types.SimpleNamespace(landmarks="lm", split="test", loso="salsa"))
    with pytest.raises(Stop):  # no --loso, no --split: the test split
        lif_real.run_compare_real(types.SimpleNamespace(landmarks="lm", split=None, loso=None))
    assert seen == [("train", "salsa", None), ("train", "salsa", None), (None, None, "salsa"),
                    ("test", None, "salsa"), ("test", None, None)]


def test_compare_on_several_datasets_takes_their_rows_together(tmp_path, monkeypatch):
    """``eval lifter --landmarks a,b --loso salsa --split test``: the test rows of salsa of both datasets."""
    from core_models.nets.lifter import real as lif_real

    _write(tmp_path, "a")
    _write(tmp_path, "b")
    real_load = rd.load_landmark_dataset
    got: dict = {}
    monkeypatch.setattr(rd, "load_landmark_dataset",
                        lambda name, **k: real_load(name, root=tmp_path, **k))

    def compare(ds, names, weights_dir=None, rest=None):
        got.update(n=len(ds), sources=set(ds.source), splits=set(ds.split))
        return {"constant": {"pa_mpjpe_mm": 1.0, "mpjpe_mm": 1.0, "ms_per_image": 0.0, "n": len(ds)}}

    monkeypatch.setattr(lif_real, "compare_on_real", compare)
    rc = lif_real.run_compare_real(types.SimpleNamespace(landmarks="a, b", split="test", loso="salsa",
                                                         regressors="constant", weights_dir=None))
    assert rc == 0 and got == {"n": 2, "sources": {"salsa"}, "splits": {"test"}}
    with pytest.raises(ValueError, match="no landmark datasets"):
        rd.LandmarkDataset.concat([])


def test_extra_landmarks_join_the_train_rows_only(tmp_path, monkeypatch):
    """``train lifter --landmarks A --extra-landmarks B``: B's train rows (minus an excluded source) are added to
    A's; val / test come from A alone."""
    from core_models.nets.lifter import real as lif_real

    _write(tmp_path, "a")
    _write(tmp_path, "b")
    real_load = rd.load_landmark_dataset
    calls: list[tuple] = []

    def load(name, split=None, kind=None, root=None, exclude_source=None, only_source=None):
        calls.append((name, split, exclude_source))
        return real_load(name, split=split, root=tmp_path, exclude_source=exclude_source)

    class Stop(Exception):
        pass

    sizes: dict = {}

    def train_real(cfg, real, syn, val, *a, **k):
        sizes.update(real=len(real), val=len(val))
        raise Stop

    monkeypatch.setattr(rd, "load_landmark_dataset", load)
    monkeypatch.setattr(lif_real, "train_real", train_real)
    monkeypatch.setattr(lif_real, "calibrate_from_real", lambda ds: {"world_rms_torso": 0.0})
    monkeypatch.setattr(lif_real, "calibrated_config", lambda c: None)
    monkeypatch.setattr(lif_real, "_streams", lambda *a: [])
    args = types.SimpleNamespace(landmarks="a", extra_landmarks="b", threads=1, exclude_source="salsa",
                                 no_mirror=True, val_split="val", d=32, layers=2, encoder="mlp", init=None,
                                 steps=1, batch=2, lr=1e-3, synth_mix=0.0, seed=0, max_minutes=1.0)
    with pytest.raises(Stop):
        lif_real.run_train_real(args)
    # a's and b's train rows without salsa: hdm05 (train) + coaching = 2 + 4 per dataset; val: a's hdm05 val row
    assert sizes == {"real": 2 * 6, "val": 1}
    assert ("b", "train", "salsa") in calls and not any(c[0] == "b" and c[1] != "train" for c in calls)
