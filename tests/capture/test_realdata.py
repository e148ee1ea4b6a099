"""The real-MediaPipe landmark dataset (core_models.capture.realdata): tiny builds on a small stand-in corpus with
the real renderer and landmarker — shapes, ground truth that reprojects onto MediaPipe's landmarks, determinism,
resume, sequences, coaching rows, and clear errors for bad input."""
from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest

from core_models.capture import realdata as rd
from core_models.capture.landmarks import LM

#: renders offscreen (EGL) in this process: run in their own pytest process (scripts/test.sh)
pytestmark = pytest.mark.headless_gl


def _fake_corpus(folder, n_clips: int = 2, frames: int = 12):
    """A corpus.npz + clips.json with standing, gently moving poses (arms down a little), heading turning."""
    rng = np.random.default_rng(3)
    n = n_clips * frames
    body = rng.normal(0, 0.08, (n, 21, 3)).astype(np.float32)
    body[:, 15, 2] -= 1.0  # left shoulder (body joint 16 → index 15): arm lowered
    body[:, 16, 2] += 1.0
    root = np.zeros((n, 3), np.float32)
    arrays = dict(
        version=np.int32(1), root_orient=np.concatenate([root, root]), body_pose=np.concatenate([body, body]),
        heading=np.tile(np.linspace(0, 0.3, frames, dtype=np.float32), 2 * n_clips),
        transl=np.zeros((2 * n, 3), np.float32), joints=np.zeros((2 * n, 22, 3), np.float16),
        clip=np.tile(np.repeat(np.arange(n_clips, dtype=np.int32), frames), 2),
        frame=np.tile(np.arange(frames, dtype=np.int32), 2 * n_clips),
        time=np.tile(np.arange(frames, dtype=np.float32) / 30, 2 * n_clips),
        split=np.tile(np.repeat(np.array([0, 2], np.int8)[:n_clips], frames), 2),
        mirrored=np.repeat([False, True], n), mirror_of=np.concatenate([-np.ones(n, np.int32), np.arange(n)]),
        selected=np.ones(2 * n, bool), fps_order=np.arange(2 * n, dtype=np.int32))
    np.savez(folder / "corpus.npz", **arrays)
    clips = [{"name": f"c{i}", "source": "fake_src", "fps": 30.0, "frames": frames,
              "split": ["train", "test"][i % 2]} for i in range(n_clips)]
    (folder / "clips.json").write_text(json.dumps(clips))
    return folder


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    d = tmp_path / "corpus"
    d.mkdir()
    monkeypatch.setattr(rd, "STILL_SHARD", 3)
    # one phenotype (the default body, cached at set-up) keeps the test fast; the pool is exercised in builds
    monkeypatch.setattr(rd, "PHENOTYPE_POOL", rd.PHENOTYPE_POOL[:1])
    return _fake_corpus(d)


def _build(name, corpus, root, resume=False, **kw):
    s = rd.BuildSettings(**{"n_still": 5, "n_seq_clips": 0, "coaching_fraction": 0.0, "variants": ("lite",),
                            **kw})
    return rd.build_landmark_dataset(name, s, resume=resume, root=root, corpus_dir=corpus, log=lambda m: None)


def test_tiny_build_shapes_and_ground_truth_reprojection(corpus, tmp_path):
    meta = _build("t", corpus, tmp_path / "lm")
    assert meta["complete"] and meta["rows"] == 5 and meta["shards"] == 2
    assert meta["phenotype_labels"] == list(rd.PHENOTYPE_LABELS) and meta["seconds"] > 0
    assert meta["detection"]["variant"]["lite"]["rows"] == 5
    assert 0 < meta["landmark_error_pct_height"]["left_shoulder"] < 5
    ds = rd.load_landmark_dataset("t", root=tmp_path / "lm")
    n = len(ds)
    assert n == 5
    shapes = {"landmarks": (n, 33, 8), "joints": (n, 22, 3), "cam_R": (n, 3, 3), "cam_t": (n, 3),
              "body_pose": (n, 21, 3), "root_orient": (n, 3), "image_size": (n, 2),
              "phenotype": (n, len(rd.PHENOTYPE_LABELS))}
    for k, shape in shapes.items():
        assert getattr(ds, k).shape == shape, k
    assert set(ds.kind) == {"still"} and (ds.seq_id == -1).all() and set(ds.variant) == {"lite"}
    # an in-process build releases its renderer and detectors: none is left for MediaPipe's finaliser at exit
    assert rd._worker is None
    assert set(ds.split) <= {"train", "test"} and set(ds.source) == {"fake_src"}
    np.testing.assert_allclose(ds.joints[:, 0], 0.0, atol=1e-6)  # pelvis-relative
    np.testing.assert_allclose(ds.cam_R @ ds.cam_R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (n, 3, 3)),
                               atol=1e-5)
    assert ds.detected.sum() >= 3
    assert (ds.landmarks[~ds.detected] == 0).all()
    # the stored camera puts the ground-truth joints on MediaPipe's 2D shoulders and hips
    px = rd.project_joints(ds)
    d = ds.detected
    lm = ds.landmarks[d][:, :, :2] * ds.image_size[d][:, None, :]
    pairs = [("left_shoulder", 16), ("right_shoulder", 17), ("left_hip", 1), ("right_hip", 2)]
    err = np.stack([np.linalg.norm(lm[:, LM[a]] - px[d][:, j], axis=1) for a, j in pairs], 1)
    height = ds.image_size[d][:, 1:2]
    assert np.median(err / height) < 0.03, err
    # a left/right swap of the truth would be far off: the check is not vacuous
    swapped = np.linalg.norm(lm[:, LM["left_shoulder"]] - px[d][:, 17], axis=1)
    assert np.median(swapped) > 2 * np.median(err[:, 0])


def test_build_is_deterministic_and_resumes(corpus, tmp_path):
    _build("a", corpus, tmp_path / "r1")
    _build("a", corpus, tmp_path / "r2")
    a = rd.load_landmark_dataset("a", root=tmp_path / "r1")
    b = rd.load_landmark_dataset("a", root=tmp_path / "r2")
    for k in ("landmarks", "joints", "cam_R", "cam_t", "fov_deg", "body_pose", "image_size", "background"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    with pytest.raises(rd.LandmarkDataError, match="--resume"):
        _build("a", corpus, tmp_path / "r1")  # an existing build is never overwritten silently
    with pytest.raises(rd.LandmarkDataError, match="different settings"):
        _build("a", corpus, tmp_path / "r1", resume=True, seed=5)  # resume needs the same settings
    shard = tmp_path / "r1" / "a" / "shard_0001.npz"
    before = shard.stat().st_mtime_ns
    (tmp_path / "r1" / "a" / "shard_0000.npz").unlink()
    meta = _build("a", corpus, tmp_path / "r1", resume=True)
    assert meta["complete"] and meta["rows"] == 5 and shard.stat().st_mtime_ns == before  # kept, not redone
    c = rd.load_landmark_dataset("a", root=tmp_path / "r1")
    np.testing.assert_array_equal(c.landmarks, b.landmarks)


def test_sequences_and_coaching_rows(corpus, tmp_path, monkeypatch):
    co = types.ModuleType("core_models.data.coaching_poses")

    def coaching_pose_set(n, seed=0):
        r = np.random.default_rng(seed)
        return types.SimpleNamespace(root_orient=np.zeros((n, 3), np.float32),
                                     body_pose=r.normal(0, 0.1, (n, 21, 3)).astype(np.float32))
    co.coaching_pose_set = coaching_pose_set  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "core_models.data.coaching_poses", co)
    _build("s", corpus, tmp_path / "lm", n_still=3, coaching_fraction=0.67, n_seq_clips=1, seq_frames=8)
    ds = rd.load_landmark_dataset("s", root=tmp_path / "lm")
    coach = ds.source == "coaching"
    assert coach.sum() == 2 and (ds.split[coach] == "train").all() and (ds.clip[coach] == -1).all()
    seq = rd.load_landmark_dataset("s", kind="seq", root=tmp_path / "lm")
    assert len(seq) == 8 and (seq.seq_id == 0).all() and np.all(np.diff(seq.frame) == 1)
    np.testing.assert_allclose(np.diff(seq.timestamp), 1 / 30, atol=1e-5)
    assert len({tuple(r) for r in seq.cam_R.reshape(8, -1).round(6)}) == 1  # one camera
    assert len(set(seq.phenotype_id)) == 1 and len(set(seq.variant)) == 1


def test_missing_coaching_module_keeps_the_other_shards(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "core_models.data.coaching_poses", None)  # import fails
    with pytest.raises(rd.LandmarkDataError, match="--resume"):
        _build("m", corpus, tmp_path / "lm", n_still=4, coaching_fraction=0.25)
    ds = rd.load_landmark_dataset("m", root=tmp_path / "lm")
    assert len(ds) == 3 and "coaching" not in set(ds.source)
    assert not json.loads((tmp_path / "lm" / "m" / "meta.json").read_text())["complete"]


def test_bad_input_gives_clear_errors(tmp_path):
    with pytest.raises(rd.LandmarkDataError, match="no corpus"):
        rd.build_landmark_dataset("x", rd.BuildSettings(n_still=2), root=tmp_path, corpus_dir=tmp_path / "none",
                                  log=lambda m: None)
    assert not (tmp_path / "x").exists()
    with pytest.raises(rd.LandmarkDataError, match="no landmark dataset 'nope'"):
        rd.load_landmark_dataset("nope", root=tmp_path)
    with pytest.raises(rd.LandmarkDataError, match="bad dataset name"):
        rd.dataset_dir("../evil")


def test_cli_reports_bad_options(capsys, tmp_path):
    import main

    assert main.main(["data", "landmarks", "--name", "x", "--variants", "tiny", "--root", str(tmp_path)]) == 2
    assert "unknown tiny" in capsys.readouterr().err
    assert main.main(["data", "landmarks", "--name", "x", "--seq-frames", "10", "--root", str(tmp_path)]) == 2
    assert ">= 96" in capsys.readouterr().err
