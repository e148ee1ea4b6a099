"""Pose pairs (A → B) with their reference texts, for the editor and the corrector (one :class:`PairData`).

A pair set holds its poses in the form it was made in — full axis-angle ``(P, 22, 3)`` numpy (the corpus, the
corrector) or rotation matrices ``(P, 22, 3, 3)`` torch (the editor's part-wise pairs) — and gives the other
form on first use (``a``/``b`` axis-angle, ``A``/``B`` rotation matrices, both float32), so neither model pays
for a round trip it does not need.
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from core_models.nets.common.pose_vae import NUM_JOINTS
from core_models.nets.training.common import log as _log
from core_models.pose import aa_to_matrix, matrix_to_aa

#: corpus split names → the ids stored in pairs.npz
SPLIT_IDS = {"train": 0, "val": 1, "test": 2}


def _is_rotmats(x: np.ndarray | torch.Tensor) -> bool:
    return tuple(x.shape[-2:]) == (3, 3)


class PairData:
    """``P`` pose pairs: ``a``/``b`` (P,22,3) axis-angle or ``A``/``B`` (P,22,3,3) rotation matrices (pass
    either form), ``texts`` (P lists of reference texts), ``kind`` (P,) 0 = in-sequence / 1 = out-of-sequence
    (zeros when unknown), ``pair_index`` (P,) index in the corpus pair set (``arange`` when unknown)."""

    def __init__(self, a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, texts: list,
                 kind: np.ndarray | None = None, pair_index: np.ndarray | None = None):
        if len(a) != len(b) or len(a) != len(texts):
            raise ValueError(f"pair set of {len(a)} A poses, {len(b)} B poses and {len(texts)} text lists")
        self._aa: tuple[np.ndarray, np.ndarray] | None = None
        self._rot: tuple[torch.Tensor, torch.Tensor] | None = None
        if _is_rotmats(a):
            self._rot = (torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32))
        else:
            self._aa = (np.asarray(a, np.float32).reshape(len(a), NUM_JOINTS, 3),
                        np.asarray(b, np.float32).reshape(len(b), NUM_JOINTS, 3))
        self.texts = texts
        self.kind = np.zeros(len(a), np.int8) if kind is None else np.asarray(kind)
        self.pair_index = np.arange(len(a)) if pair_index is None else np.asarray(pair_index)

    def __len__(self) -> int:
        return len(self.texts)

    def _axis_angle(self) -> tuple[np.ndarray, np.ndarray]:
        if self._aa is None:
            assert self._rot is not None
            A, B = self._rot
            self._aa = (np.asarray(matrix_to_aa(A.numpy()), np.float32),
                        np.asarray(matrix_to_aa(B.numpy()), np.float32))
        return self._aa

    def _rotmats(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._rot is None:
            assert self._aa is not None
            a, b = self._aa
            self._rot = (aa_to_matrix(torch.from_numpy(a)).float(), aa_to_matrix(torch.from_numpy(b)).float())
        return self._rot

    @property
    def a(self) -> np.ndarray:
        return self._axis_angle()[0]

    @property
    def b(self) -> np.ndarray:
        return self._axis_angle()[1]

    @property
    def A(self) -> torch.Tensor:
        return self._rotmats()[0]

    @property
    def B(self) -> torch.Tensor:
        return self._rotmats()[1]


def concat_pairs(p: PairData, q: PairData) -> PairData:
    return PairData(torch.cat([p.A, q.A]), torch.cat([p.B, q.B]), p.texts + q.texts,
                    np.concatenate([p.kind, q.kind]), np.concatenate([p.pair_index, q.pair_index]))


def _split_ids(splits: str | int | Iterable[str | int]) -> np.ndarray:
    items = [splits] if isinstance(splits, (str, int)) else list(splits)
    return np.asarray([SPLIT_IDS[s] if isinstance(s, str) else int(s) for s in items])


def load_pairs(corpus_dir: str | Path | None, splits: str | int | Iterable[str | int] | None = "train",
               max_pairs: int | None = None, seed: int = 0, require_texts: bool = True) -> PairData:
    """The corpus pairs of ``splits`` ("train" / "val" / "test" or their ids; None = all), at most
    ``max_pairs`` (a seeded random subset, in corpus order), with their modifier texts (``require_texts=False``:
    a corpus without modifiers.json gives empty texts)."""
    from core_models.data.corpus import Corpus
    from core_models.data.pairs import PairSet, pair_poses

    corpus = Corpus(corpus_dir)
    d = corpus.dir
    if not (d / "pairs.npz").exists():
        raise FileNotFoundError(f"{d} has no pairs.npz yet; run python main.py data build")
    pairs = PairSet.load(d / "pairs.npz")
    mf = d / "modifiers.json"
    if mf.exists():
        texts = json.loads(mf.read_text())
        if len(texts) != len(pairs):
            raise ValueError(f"modifiers.json has {len(texts)} entries for {len(pairs)} pairs (rebuild the corpus)")
    elif require_texts:
        raise FileNotFoundError(f"{mf} is missing (the corpus build writes it after the pairs)")
    else:
        texts = [[""]] * len(pairs)
    idx = np.arange(len(pairs)) if splits is None else np.nonzero(np.isin(pairs.split, _split_ids(splits)))[0]
    if max_pairs and len(idx) > max_pairs:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_pairs, replace=False))
    a, b = [], []
    for s in range(0, len(idx), 8192):  # bounded memory for the FK / heading work of pair_poses
        pa, pb = pair_poses(corpus, pairs, idx[s:s + 8192])
        a.append(pa.full().astype(np.float32))
        b.append(pb.full().astype(np.float32))
    empty = np.zeros((0, NUM_JOINTS, 3), np.float32)
    return PairData(np.concatenate(a) if a else empty, np.concatenate(b) if b else empty,
                    [list(texts[i]) for i in idx], pairs.kind[idx], idx)


def pairs_from_mocap(mocap_dir: str, max_pairs: int | None = None, seed: int = 0) -> PairData:
    """Import a folder of mocap files into a temporary corpus, build its pairs and automatic modifiers the
    way ``data build`` does, and return every pair (the clips are unseen by construction)."""
    from core_models.body import load_body
    from core_models.data.corpus import Corpus, build_corpus
    from core_models.data.pairs import PairSet, build_pairs, caption_pairs, pair_poses

    body = load_body("anny")
    rest = body.skinning.rest_joints
    with tempfile.TemporaryDirectory(prefix="posetailor_eval_") as tmp:
        build_corpus(mocap_dir, tmp, body=body, log=_log)
        corpus = Corpus(tmp)
        pairs = build_pairs(corpus, rest_joints=rest, log=_log)
        if len(pairs) == 0:
            raise ValueError(f"no pose pairs could be built from {mocap_dir} (too few distinct poses)")
        idx = np.arange(len(pairs))
        if max_pairs and len(idx) > max_pairs:
            idx = np.sort(np.random.default_rng(seed).choice(idx, max_pairs, replace=False))
        sub = PairSet(*(getattr(pairs, k)[idx] for k in ("a", "b", "kind", "two_way", "split", "n_diff")))
        texts = caption_pairs(corpus, sub, rest_joints=rest, log=_log)
        pa, pb = pair_poses(corpus, sub)
        return PairData(pa.full().astype(np.float32), pb.full().astype(np.float32), texts, sub.kind, idx)
