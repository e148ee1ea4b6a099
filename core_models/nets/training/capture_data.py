"""Capture training data (lifter, PoseEmbroider): corpus poses → FK joints + synthetic MediaPipe-like
keypoint windows, text cues encoded into slots; cached under ~/.cache/posetailor/capture_data."""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core_models.capture import synth
from core_models.nets.common.text_encoder import get_text_encoder
from core_models.nets.training.common import log

TEXT_SLOTS = 16


MAX_WINDOW = 5


def _cache_root() -> Path:
    d = Path.home() / ".cache" / "posetailor" / "capture_data"
    d.mkdir(parents=True, exist_ok=True)
    return d


def pool_slots(states: torch.Tensor, mask: torch.Tensor, slots: int = TEXT_SLOTS):
    """Token states (B, L, 384) + mask → (B, slots, 384) averages of consecutive valid-token chunks (fewer
    tokens than slots: one token per slot) and the slot mask (B, slots)."""
    B = states.shape[0]
    out = torch.zeros(B, slots, states.shape[-1])
    m = torch.zeros(B, slots, dtype=torch.bool)
    for i in range(B):
        s = states[i][mask[i]]
        L = len(s)
        if L == 0:
            continue
        if L <= slots:
            out[i, :L], m[i, :L] = s, True
        else:
            edges = np.linspace(0, L, slots + 1).astype(int)
            for k in range(slots):
                out[i, k] = s[edges[k]:edges[k + 1]].mean(0)
            m[i] = True
    return out, m


def encode_texts(texts: list[str], batch: int = 128, log=log):
    """Frozen MiniLM → (slots fp16 (N, 16, 384), slot mask (N, 16), pooled fp32 (N, 384))."""

    enc = get_text_encoder()
    S, M, P = [], [], []
    t0 = time.time()
    for i in range(0, len(texts), batch):
        tf = enc.encode_tokens(texts[i:i + batch])
        s, m = pool_slots(tf.states, tf.mask)
        S.append(s.half())
        M.append(m)
        P.append(tf.pooled())
        if (i // batch) % 20 == 0:
            log(f"[text] {min(i + batch, len(texts))}/{len(texts)} ({time.time() - t0:.0f} s)")
    if not texts:
        return (torch.zeros(0, TEXT_SLOTS, 384, dtype=torch.float16), torch.zeros(0, TEXT_SLOTS, dtype=torch.bool),
                torch.zeros(0, 384))
    return torch.cat(S), torch.cat(M), torch.cat(P)


@dataclass
class CaptureData:
    idx: np.ndarray            # (N,) corpus indices of the target frames
    world: np.ndarray          # (N, MAX_WINDOW, 33, 3) body-frame landmarks, oldest first, last = target frame
    joints: np.ndarray         # (N, 22, 3) body-frame joints of the target frame
    root_orient: np.ndarray    # (N, 3) normalised pose (heading removed)
    body_pose: np.ndarray      # (N, 21, 3)
    texts: list                # (N,) one description per pose ('' when none)
    text_slots: torch.Tensor   # (N, 16, 384) fp16
    text_mask: torch.Tensor    # (N, 16) bool
    text_pooled: torch.Tensor  # (N, 384)

    def __len__(self):
        return len(self.idx)

    def subset(self, sel) -> "CaptureData":
        sel = np.asarray(sel)
        ts = torch.as_tensor(sel)
        return CaptureData(self.idx[sel], self.world[sel], self.joints[sel], self.root_orient[sel],
                           self.body_pose[sel], [self.texts[i] for i in sel], self.text_slots[ts],
                           self.text_mask[ts], self.text_pooled[ts])


def window_indices(corpus_arrays: dict, idx: np.ndarray, window: int = MAX_WINDOW) -> np.ndarray:
    """(N, window) corpus indices of the causal window ending at each idx (same clip, same mirroring; clamped to
    the clip's first frame)."""
    clip, mir = corpus_arrays["clip"], corpus_arrays["mirrored"]
    out = np.empty((len(idx), window), np.int64)
    out[:, -1] = idx
    for k in range(1, window):
        prev = out[:, -k] - 1
        ok = (prev >= 0)
        prev_c = np.where(ok, prev, 0)
        ok &= (clip[prev_c] == clip[out[:, -k]]) & (mir[prev_c] == mir[out[:, -k]])
        out[:, -k - 1] = np.where(ok, prev_c, out[:, -k])
    return out


def build_capture_data(corpus_dir: str | Path, split: str, max_n: int | None = None, seed: int = 0,
                       with_text: bool = True, describe_missing: bool = False, log=log) -> CaptureData:
    """Poses of ``split`` that have descriptions (all of the split's selected poses with ``describe_missing``:
    described on the fly, e.g. for ``--mocap`` corpora), subsampled to ``max_n``; cached on disk."""
    from core_models.data.corpus import Corpus

    corpus_dir = Path(corpus_dir)
    c = Corpus(corpus_dir)
    a = c.arrays
    desc_f = corpus_dir / "descriptions.json"
    if desc_f.exists() and (corpus_dir / "descriptions_index.npy").exists():
        didx = np.load(corpus_dir / "descriptions_index.npy", allow_pickle=False)
        descs = json.loads(desc_f.read_text())
        stamp = f"{desc_f.stat().st_mtime_ns}"
    elif describe_missing or not with_text:
        didx, descs, stamp = c.indices(selected_only=True), None, "nodesc"
    else:
        raise FileNotFoundError(f"no descriptions in {corpus_dir}: run python main.py data build first")
    split_id = ("train", "val", "test").index(split)
    keep = np.nonzero(a["split"][didx] == split_id)[0]
    rng = np.random.default_rng(seed)
    if max_n is not None and len(keep) > max_n:
        keep = np.sort(rng.choice(keep, max_n, replace=False))
    key = hashlib.sha1(f"{corpus_dir.resolve()}|{(corpus_dir / 'corpus.npz').stat().st_mtime_ns}|{stamp}|{split}|"
                       f"{max_n}|{seed}|{with_text}|{len(keep)}|v1".encode()).hexdigest()[:16]
    cf = _cache_root() / f"{key}.npz"
    idx = didx[keep]
    if descs is not None:
        texts = [descs[k][int(i) % len(descs[k])] if descs[k] else "" for k, i in zip(keep, idx)]
    elif with_text:
        from core_models.captioning.describe import describe
        from core_models.pose import Pose

        texts = list(describe(Pose(a["root_orient"][idx], a["body_pose"][idx]), seed=seed))
    else:
        texts = [""] * len(idx)
    if cf.exists():
        with np.load(cf, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        log(f"[data] {split}: {len(idx)} poses (cached {cf.name})")
    else:
        lm = synth.LandmarkModel()
        win = window_indices(a, idx)
        uniq, inv = np.unique(win, return_inverse=True)
        from core_models.pose import Pose

        Wu = lm.world_from_poses(Pose(a["root_orient"][uniq], a["body_pose"][uniq]))
        world = Wu[inv.reshape(win.shape)]
        from core_models.kinematics import fk_numpy

        mats = Pose(a["root_orient"][idx], a["body_pose"][idx]).matrices().astype(np.float64)
        joints = fk_numpy(mats, lm.rest_joints)[1].astype(np.float32)
        d = dict(world=world.astype(np.float32), joints=joints)
        if with_text:
            t0 = time.time()
            s, m, p = encode_texts(texts, log=log)
            log(f"[data] {split}: encoded {len(texts)} descriptions in {time.time() - t0:.0f} s")
            d.update(text_slots=s.numpy(), text_mask=m.numpy(), text_pooled=p.numpy())
        np.savez(cf, **d)
        log(f"[data] {split}: {len(idx)} poses → {cf}")
    n = len(idx)
    if "text_slots" in d:
        ts, tm, tp = (torch.from_numpy(d["text_slots"]), torch.from_numpy(d["text_mask"]),
                      torch.from_numpy(d["text_pooled"]))
    else:
        ts, tm, tp = (torch.zeros(n, TEXT_SLOTS, 384, dtype=torch.float16),
                      torch.zeros(n, TEXT_SLOTS, dtype=torch.bool),
                      torch.zeros(n, 384))
    return CaptureData(idx, d["world"], d["joints"], a["root_orient"][idx], a["body_pose"][idx], texts, ts, tm, tp)


def capture_data_from_poses(pose, texts: list[str] | None = None, text_features=None,
                            model: synth.LandmarkModel | None = None) -> CaptureData:
    """In-memory :class:`CaptureData` for a batch of (normalised) poses, static windows (tests, small tools).
    ``text_features``: (slots (N,16,384), mask (N,16), pooled (N,384)) or None (zeros; or encoded with the
    frozen MiniLM when ``texts`` are given)."""
    from core_models.kinematics import fk_numpy

    model = model or synth.LandmarkModel()
    n = len(pose.root_orient)
    W = model.world_from_poses(pose)
    world = np.repeat(W[:, None], MAX_WINDOW, 1)
    joints = fk_numpy(pose.matrices().astype(np.float64), model.rest_joints)[1].astype(np.float32)
    texts = list(texts) if texts is not None else [""] * n
    if text_features is None:
        text_features = encode_texts(texts) if any(texts) else (
            torch.zeros(n, TEXT_SLOTS, 384, dtype=torch.float16), torch.zeros(n, TEXT_SLOTS, dtype=torch.bool),
            torch.zeros(n, 384))
    ts, tm, tp = text_features
    return CaptureData(np.arange(n), world, joints, np.asarray(pose.root_orient, np.float32),
                       np.asarray(pose.body_pose, np.float32), texts, ts, tm, tp)


def make_batch(data: CaptureData, sel, rng: np.random.Generator, window: int, cfg: synth.SynthConfig | None = None):
    """Fresh synthetic observations for rows ``sel``: (kp (B, window, 33, 4), target joints (B, 22, 3)
    root-relative in the camera-aligned frame, obs)."""
    W = data.world[sel][:, MAX_WINDOW - window:]
    obs = synth.synthesize(W, rng, cfg)
    kp = synth.keypoint_features(obs.pixels, obs.visibility, obs.presence)
    J = data.joints[sel]
    tgt = np.einsum("nab,nkb->nka", obs.R, J - J[:, :1])
    return torch.from_numpy(kp), torch.from_numpy(tgt.astype(np.float32)), obs


def mocap_corpus(mocap: str) -> Path:
    """Build a corpus from a mocap folder into a temporary folder; every clip counts as held out."""
    import tempfile

    from core_models.data.corpus import build_corpus

    out = Path(tempfile.mkdtemp(prefix="posetailor_eval_"))
    build_corpus(mocap, out_dir=out, target=5000, log=log)
    with np.load(out / "corpus.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["split"] = np.full_like(arrays["split"], 2)   # all clips unseen: evaluate on all of them
    np.savez(out / "corpus.npz", **arrays)
    return out


def add_capture_eval_args(p: argparse.ArgumentParser) -> None:
    """The options the capture models' evaluations share (lifter, embroider)."""
    p.add_argument("--corpus", default=None)
    p.add_argument("--mocap", default=None, help="evaluate on the clips of this mocap folder (built on the fly)")
    p.add_argument("--n-test", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--threads", type=int, default=1)
