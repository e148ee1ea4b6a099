"""Sequence pools for the study lifter (training side: imports the captioner, MiniLM and the datasets).

A :class:`SeqPool` is a concatenation of sequences: per frame the input features (``infer.frame_features``),
the target joints (root-relative, **canonical frame**: y up, the body's heading removed — camera-invariant),
the sequence bounds (windows are clamped to them: edge frames repeat, as in VideoPose3D), whether the frame is
a training/evaluation target, and the row of its description in a :class:`TextTable`.

Sources:
* :func:`real_pool` — real MediaPipe sequences (``kind == "seq"``) of helper A's landmark dataset
  (``core_models.capture.realdata.load_landmark_dataset``), one split;
* :func:`synth_pool` — corpus clips of one split cut into fixed-length segments, posed with their real heading
  and translation, one random camera per segment and MediaPipe-like noise (``core_models.capture.synth``,
  calibrated jitter), i.e. synthetic landmark *videos*.
Descriptions: the project's captioner (``captioning.describe``, data mode: noisy, seeded) on the canonical pose
of every target frame, encoded once by the frozen MiniLM (token states pooled to 16 slots); cached on disk.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from core_models.nets.textlift.infer import fill_undetected, frame_features
from core_models.nets.training.common import log as default_log


def cache_dir() -> Path:
    import os

    root = Path(os.environ.get("POSETAILOR_CACHE", Path.home() / ".cache" / "posetailor"))
    d = root / "textlift"
    d.mkdir(parents=True, exist_ok=True)
    return d


@dataclass
class SeqPool:
    feats: np.ndarray       # (F, 33, 4) float32
    target: np.ndarray      # (F, 22, 3) float32, root-relative canonical joints (metres)
    root: np.ndarray        # (F, 3) canonical root orientation (heading removed)
    body: np.ndarray        # (F, 21, 3)
    start: np.ndarray       # (F,) int64 first frame of the frame's sequence
    end: np.ndarray         # (F,) int64 last frame (inclusive)
    is_target: np.ndarray   # (F,) bool
    text_row: np.ndarray    # (F,) int64 row in the TextTable, -1 none
    real: np.ndarray        # (F,) bool: real MediaPipe (else synthetic)

    def __len__(self) -> int:
        return len(self.feats)

    @property
    def n_sequences(self) -> int:
        return len(np.unique(self.start))

    def targets(self, real: bool | None = None) -> np.ndarray:
        ok = self.is_target if real is None else self.is_target & (self.real == real)
        return np.nonzero(ok)[0]

    def save(self, path: Path) -> None:
        np.savez(path, **{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, path: Path) -> "SeqPool":
        with np.load(path, allow_pickle=False) as z:
            return cls(**{f.name: z[f.name] for f in fields(cls)})


def concat_pools(pools: list[SeqPool]) -> SeqPool:
    off, parts = 0, []
    for p in pools:
        d = {f.name: getattr(p, f.name) for f in fields(p)}
        d["start"], d["end"] = p.start + off, p.end + off
        parts.append(d)
        off += len(p)
    return SeqPool(**{f.name: np.concatenate([d[f.name] for d in parts]) for f in fields(SeqPool)})


def window_index(pool: SeqPool, rows: np.ndarray, window: int, offset: int) -> np.ndarray:
    """(B, window) frame indices of the windows that lift ``rows`` (the lifted frame at ``offset``), clamped to
    each row's sequence."""
    rows = np.asarray(rows, np.int64)
    idx = rows[:, None] - offset + np.arange(window)[None]
    return np.clip(idx, pool.start[rows][:, None], pool.end[rows][:, None])


def _canonical(root_orient: np.ndarray, body_pose: np.ndarray, joints: np.ndarray):
    """Remove each frame's heading: (canonical root orientation, joints rotated about y by −heading)."""
    from core_models.pose import Pose, aa_to_matrix, apply_heading, heading_of, rot_y

    h = np.asarray(heading_of(root_orient), np.float32)
    R = np.asarray(aa_to_matrix(rot_y(-h)), np.float32)
    Jc = np.einsum("nab,nkb->nka", R, joints - joints[:, :1])
    root = apply_heading(Pose(root_orient, body_pose), -h).root_orient
    return np.asarray(root, np.float32), Jc.astype(np.float32)


def _bounds(lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    start = np.concatenate([np.full(n, s) for n, s in zip(lengths, np.cumsum([0] + lengths[:-1]))])
    end = np.concatenate([np.full(n, s + n - 1) for n, s in zip(lengths, np.cumsum([0] + lengths[:-1]))])
    return start.astype(np.int64), end.astype(np.int64)


def real_pool(name: str, split: str, target_stride: int = 1) -> SeqPool:
    """The real MediaPipe sequences of ``split`` in dataset ``name`` (a comma-separated list: all of them);
    targets = detected frames (every ``target_stride``-th)."""
    from core_models.capture.realdata import load_landmark_dataset

    pools = []
    for one in name.split(","):
        ds = load_landmark_dataset(one, split=split, kind="seq")
        if len(ds.seq_id):
            pools.append(_real_sequences(ds, target_stride))
    if not pools:
        raise ValueError(f"landmark dataset {name!r} has no {split} sequences")
    return concat_pools(pools)


def _real_sequences(ds, target_stride: int) -> SeqPool:
    order = np.lexsort((ds.frame, ds.seq_id))
    seq = ds.seq_id[order]
    lm = ds.landmarks[order]
    size = ds.image_size[order].astype(np.float32)
    pix = lm[:, :, :2] * size[:, None, :]
    feats = frame_features(pix, lm[:, :, 6], lm[:, :, 7])
    det = ds.detected[order]
    lengths = [int(n) for n in np.unique(seq, return_counts=True)[1]]   # sorted ids = order of appearance
    start, end = _bounds(lengths)
    for s0 in np.unique(start):
        sl = slice(int(s0), int(end[s0]) + 1)
        feats[sl] = fill_undetected(feats[sl], det[sl])
    root, target = _canonical(ds.root_orient[order], ds.body_pose[order], ds.joints[order])
    pos = np.arange(len(seq)) - start
    is_t = det & (pos % target_stride == 0)
    return SeqPool(feats, target, root, ds.body_pose[order].astype(np.float32), start, end, is_t,
                   np.full(len(seq), -1, np.int64), np.ones(len(seq), bool))


def _synth_segments(split: str, seg_len: int, max_segments: int, per_clip: int, rng) -> list[np.ndarray]:
    from core_models.data.corpus import default_corpus_dir

    cdir = default_corpus_dir()
    with np.load(cdir / "corpus.npz", allow_pickle=False) as z:
        clip, spl = z["clip"], z["split"]
    sid = ("train", "val", "test").index(split)
    segs = []
    for c in rng.permutation(np.unique(clip[spl == sid])):
        rows = np.nonzero(clip == c)[0]
        if len(rows) < seg_len:
            continue
        # a clip's mirrored copy shares its clip id: keep one orientation per segment
        n_cand = len(rows) // seg_len
        for k in rng.permutation(n_cand)[:per_clip]:
            segs.append(rows[k * seg_len:(k + 1) * seg_len])
        if len(segs) >= max_segments:
            break
    return segs[:max_segments]


def synth_pool(split: str, seg_len: int = 128, max_segments: int = 120, per_clip: int = 2, seed: int = 0,
               target_stride: int = 3) -> SeqPool:
    """Synthetic landmark videos from corpus clips of ``split`` (see the module docstring)."""
    from core_models.capture import synth
    from core_models.data.corpus import default_corpus_dir
    from core_models.pose import Pose, aa_to_matrix, apply_heading, rot_y

    rng = np.random.default_rng(seed)
    segs = _synth_segments(split, seg_len, max_segments, per_clip, rng)
    if not segs:
        raise ValueError(f"no corpus clip of {split} has {seg_len} frames")
    with np.load(default_corpus_dir() / "corpus.npz", allow_pickle=False) as z:
        a = {k: z[k] for k in ("root_orient", "body_pose", "heading", "transl", "joints", "mirrored")}
    rows = np.concatenate(segs)
    pose = Pose(a["root_orient"][rows], a["body_pose"][rows])
    world_pose = apply_heading(pose, a["heading"][rows])
    lm = synth.LandmarkModel().world_from_poses(world_pose) + a["transl"][rows][:, None, :]
    lm = lm.reshape(len(segs), seg_len, 33, 3)
    mid = seg_len // 2
    mid_rows = np.array([s[mid] for s in segs])
    R = np.asarray(aa_to_matrix(rot_y(-a["heading"][mid_rows])), np.float32)
    lm = np.einsum("sab,stkb->stka", R, lm - a["transl"][mid_rows][:, None, None, :])
    obs = synth.synthesize(lm, rng)
    n = len(rows)
    feats = frame_features(obs.pixels.reshape(n, 33, 2), obs.visibility.reshape(n, 33), obs.presence.reshape(n, 33))
    J = a["joints"][rows].astype(np.float32)
    start, end = _bounds([seg_len] * len(segs))
    is_t = (np.arange(n) - start) % target_stride == 0
    return SeqPool(feats, J - J[:, :1], np.asarray(pose.root_orient, np.float32), a["body_pose"][rows], start, end,
                   is_t, np.full(n, -1, np.int64), np.zeros(n, bool))


@dataclass
class TextTable:
    texts: list
    slots: np.ndarray   # (K, 16, 384) float16
    mask: np.ndarray    # (K, 16) bool


def describe_pool(pool: SeqPool, seed: int = 0, log=default_log) -> TextTable:
    """Describe every target frame's canonical pose (the captioner's data mode, seeded) and encode the distinct
    texts with the frozen MiniLM; sets ``pool.text_row``."""
    from core_models.captioning.describe import describe
    from core_models.nets.training.capture_data import encode_texts
    from core_models.pose import Pose

    rows = pool.targets()
    texts = describe(Pose(pool.root[rows], pool.body[rows]), seed=seed)
    uniq, inv = np.unique(np.array(texts, dtype=object).astype(str), return_inverse=True)
    t0 = time.time()
    s, m, _ = encode_texts(list(uniq), log=log)
    log(f"[textlift] encoded {len(uniq)} distinct descriptions of {len(rows)} frames in {time.time() - t0:.0f} s")
    pool.text_row[:] = -1
    pool.text_row[rows] = inv
    return TextTable(list(uniq), s.numpy().astype(np.float16), m.numpy())


def _key(**kw) -> str:
    return hashlib.sha1(json.dumps(kw, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _corpus_stamp() -> str:
    from core_models.data.corpus import default_corpus_dir

    return str((default_corpus_dir() / "corpus.npz").stat().st_mtime_ns)


def _landmarks_stamp(name: str) -> str:
    """Changes whenever a shard is added to one of the (comma-separated) datasets."""
    out = []
    for one in name.split(","):
        meta = cache_dir().parent / "landmarks" / one / "meta.json"
        out.append(str(meta.stat().st_mtime_ns) if meta.exists() else "nometa")
    return "|".join(out)


def _cached_part(tag: str, key: str, build, log=default_log) -> tuple[SeqPool, TextTable]:
    """One described pool, cached as ``<tag>_<key>.npz`` (+ ``.text.npz``)."""
    f = cache_dir() / f"{tag}_{key}.npz"
    ft = f.with_suffix(".text.npz")
    if f.exists() and ft.exists():
        with np.load(ft, allow_pickle=False) as z:
            table = TextTable(list(z["texts"]), z["slots"], z["mask"])
        log(f"[textlift] {tag}: cached ({f.name})")
        return SeqPool.load(f), table
    t0 = time.time()
    pool, table = build()
    pool.save(f)
    np.savez(ft, texts=np.array(table.texts, dtype=str), slots=table.slots, mask=table.mask)
    log(f"[textlift] {tag}: {len(pool)} frames, {pool.n_sequences} sequences, {pool.targets().size} targets "
        f"({time.time() - t0:.0f} s)")
    return pool, table


def merge_described(parts: list[tuple[SeqPool, TextTable]]) -> tuple[SeqPool, TextTable]:
    """Concatenate described pools (text rows re-indexed into one table)."""
    off, pools = 0, []
    for pool, table in parts:
        p = SeqPool(**{f.name: getattr(pool, f.name) for f in fields(pool)})
        p.text_row = np.where(pool.text_row >= 0, pool.text_row + off, -1)
        pools.append(p)
        off += len(table.texts)
    table = TextTable([t for _, tt in parts for t in tt.texts], np.concatenate([tt.slots for _, tt in parts]),
                      np.concatenate([tt.mask for _, tt in parts]))
    return concat_pools(pools), table


def study_data(landmarks: str | None, n_synth_segments: int = 120, seed: int = 0, log=default_log,
               test_landmarks: str | None = None):
    """(train pool, train texts, test pool, test texts), each part cached. Train = the real train-split
    sequences of ``landmarks`` (every 2nd detected frame a target) + synthetic segments of train-split corpus
    clips (every 3rd frame); test = the real **test-split** sequences (every detected frame). ``landmarks=None``:
    synthetic train and synthetic test-split segments (no real data). ``test_landmarks``: the dataset(s) whose
    test-split sequences are the test set (default ``landmarks``; comma-separated names are pooled)."""
    cs = _corpus_stamp()

    def described(pool: SeqPool, s: int):
        return pool, describe_pool(pool, s, log)

    synth = _cached_part("synth_train", _key(n=n_synth_segments, seed=seed, c=cs, v=1),
                         lambda: described(synth_pool("train", max_segments=n_synth_segments, seed=seed), seed), log)
    if not landmarks:
        n_test = max(8, n_synth_segments // 8)
        test = _cached_part("synth_test", _key(n=n_test, seed=seed, c=cs, v=1),
                            lambda: described(synth_pool("test", max_segments=n_test, seed=seed + 1,
                                                         target_stride=1), seed + 1), log)
        return (*synth, *test)
    ls = _landmarks_stamp(landmarks)
    real = _cached_part(f"real_{landmarks}_train", _key(seed=seed, s=ls, v=1),
                        lambda: described(real_pool(landmarks, "train", target_stride=2), seed), log)
    tl = test_landmarks or landmarks
    test = _cached_part(f"real_{tl.replace(',', '+')}_test", _key(seed=seed, s=_landmarks_stamp(tl), v=1),
                        lambda: described(real_pool(tl, "test", target_stride=1), seed + 1), log)
    return (*merge_described([real, synth]), *test)


def heldout_data(landmarks: str, split: str = "val", seed: int = 0, log=default_log):
    """(pool, texts) of another held-out split's real sequences (every detected frame a target), or None when
    the dataset has none."""
    def build():
        pool = real_pool(landmarks, split, target_stride=1)
        return pool, describe_pool(pool, seed + 2, log)

    try:
        return _cached_part(f"real_{landmarks.replace(',', '+')}_{split}",
                            _key(seed=seed, s=_landmarks_stamp(landmarks), v=1), build, log)
    except ValueError as e:
        log(f"[textlift] no {split} data: {e}")
        return None
