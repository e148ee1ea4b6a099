"""Test-time text compliance: make the edited pose realise the paircode changes the instruction names.

The editor's mean edit realises about five named changes in six. :func:`realise` takes what the editor already
produces for one instruction — its mean and ``n`` samples — and the changes read from the text
(:func:`core_models.text.paircode_reader.read_changes`), and picks the pose the user gets:

1. candidates: the mean, and the mean with the joints of the parts that the changes the mean leaves unrealised
   act on (an arm, a leg, the spine and root, the neck and head) taken from each sample; every candidate is also
   *scaled*: on those joints its rotation away from A is slerped by each factor of ``scales`` (> 1 extrapolates;
   the joint limits are enforced), every other joint keeps the mean's rotation (a change the mean already
   makes keeps its size);
2. each candidate is scored by how many named changes it realises — the paircode value beyond the edge of
   the "ignored" band times ``margin``, on the asked side — and, among those that realise the most, the one
   closest to the editor's mean (mean geodesic over the 22 joints) wins. With no candidate better than the
   mean, the mean is returned unchanged.

It reads only A, the editor's outputs and the text (never a target pose), so it works on any instruction the
reader understands, human phrasing included (typos, shorthand, references: the parser's). The cost is one
paircode extraction over ``(1 + n) · len(scales)`` candidates (numpy, a few milliseconds)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core_models import skeleton as sk
from core_models.captioning.compare import PAIRS, _measure_pairs, _pair_meta
from core_models.captioning.features import compute_features
from core_models.pose import Pose, aa_to_matrix_np, clamp_matrices, matrix_to_aa_np
from core_models.text.paircode_reader import ExpectedChange


@dataclass(frozen=True)
class RealiseConfig:
    """Settings (chosen on the validation split, see docs/notes/editor_compliance.md)."""
    samples: int = 0                                  # editor samples drawn besides the mean (their named parts)
    scales: tuple[float, ...] = (1.0, 1.15, 1.3, 1.5, 1.75, 2.0)  # slerp factors tried on the named parts' joints
    margin: float = 1.05                              # aim this far past the edge of the "ignored" band
    refine_steps: int = 4                             # finite-difference steps on the changes still unmet


DEFAULT_REALISE = RealiseConfig()

_SPINE = (0, *sk.BODY_PARTS["torso"])


def change_joints(changes: list[ExpectedChange]) -> list[int]:
    """The joints that realise ``changes`` (the parts their paircodes are about, as the coach names them)."""
    out: set[int] = set()
    for ch in changes:
        _, part, _ = _pair_meta(PAIRS[ch.code])
        if part.startswith("both_"):
            out |= {j for s in ("left", "right") for j in sk.BODY_PARTS[f"{s}_{part[5:-1]}"]}
        elif part in sk.BODY_PARTS and part != "torso":
            out |= set(sk.BODY_PARTS[part])
        elif part == "torso":
            out |= set(_SPINE)
        else:  # the whole body's heading
            out.add(0)
    return sorted(out)


def _clamped(R: np.ndarray, joints: list[int]) -> np.ndarray:
    """``R`` (…,22,3,3) with ``joints`` projected into their limits (every other joint exactly as it was)."""
    out = R.copy()
    out[..., joints, :, :] = clamp_matrices(R)[..., joints, :, :]
    return out


def _scaled(A: np.ndarray, cands: np.ndarray, joints: list[int], scales: tuple[float, ...]) -> np.ndarray:
    """(T*K,22,3,3): for each factor t, ``cands`` with ``joints`` slerped from A by t (limits enforced)."""
    out = []
    w = matrix_to_aa_np(np.swapaxes(A, -1, -2)[None, joints] @ cands[:, joints])  # (K,J,3) rotation away from A
    for t in scales:
        R = cands.copy()
        if t != 1.0:
            R[:, joints] = A[None, joints] @ aa_to_matrix_np(t * w)
            R = _clamped(R, joints)
        out.append(R)
    return np.concatenate(out)


def score(A: np.ndarray, cands: np.ndarray, changes: list[ExpectedChange], margin: float = 1.0,
          rest_joints: np.ndarray | None = None) -> np.ndarray:
    """(K, C) margins: ``sign · value / threshold`` of every named change for every candidate (≥ 1: realised)."""
    full = matrix_to_aa_np(np.concatenate([A[None], cands])).astype(np.float32)
    f = compute_features(Pose.from_full(full), rest_joints)
    K = len(cands)
    vals = _measure_pairs(f[np.zeros(K, dtype=np.int64)], f[np.arange(1, K + 1)])
    codes = np.array([c.code for c in changes])
    signs = np.array([c.sign for c in changes], np.float64)
    thr = np.array([c.threshold() for c in changes], np.float64)
    return signs[None] * vals[:, codes].astype(np.float64) / (thr[None] * margin)


def _geodesic_deg(R1: np.ndarray, R2: np.ndarray) -> np.ndarray:
    """(…,22,3,3) × (22,3,3) → (…) mean angle (degrees) between the joint rotations."""
    tr = np.einsum("...jab,jab->...j", R1, R2)
    return np.degrees(np.arccos(np.clip((tr - 1.0) / 2.0, -1.0, 1.0))).mean(-1)


def realise(A: np.ndarray, mean: np.ndarray, samples: np.ndarray | None, changes: list[ExpectedChange],
            config: RealiseConfig = DEFAULT_REALISE, rest_joints: np.ndarray | None = None,
            frozen: list[int] | tuple[int, ...] = ()) -> tuple[np.ndarray, dict]:
    """The pose (22,3,3) among the mean, the samples and their scaled versions that realises the most of
    ``changes`` and, among those, stays closest to ``mean``; plus what happened (``realised``: how many changes
    the pick realises, ``mean_realised``: the mean's, ``pick``: "mean" | "sample" and the scale factor).
    ``frozen`` joints are never scaled (held parts)."""
    A, mean = np.asarray(A, np.float64), np.asarray(mean, np.float64)
    if not changes:
        return mean, {"realised": 0, "mean_realised": 0, "pick": "mean", "scale": 1.0}
    # only the parts of the changes the mean leaves unrealised are scaled or lent by a sample: a change the mean
    # already makes ("look left" in "raise your hand and look left") keeps the mean's size
    m0 = score(A, mean[None], changes, config.margin, rest_joints)[0]
    todo = [c for c, ok in zip(changes, m0 >= 1.0) if not ok]
    joints = [j for j in change_joints(todo) if j not in set(frozen)]
    pool = mean[None]
    if samples is not None and len(samples) and joints:
        pool = np.repeat(mean[None], len(samples) + 1, 0)
        pool[1:, joints] = np.asarray(samples, np.float64)[:, joints]
    cands = _scaled(A, pool, joints, config.scales) if joints else pool
    m = score(A, cands, changes, config.margin, rest_joints)
    hits = (m >= 1.0).sum(1)
    cost = _geodesic_deg(cands, mean)
    best = int(np.lexsort((cost, -hits))[0])
    if hits[best] <= hits[0]:  # nothing beats the mean: keep it bit for bit
        best = 0
    info: dict[str, Any] = {"realised": int(hits[best]), "mean_realised": int(hits[0]),
            "pick": "mean" if best % len(pool) == 0 else "sample",
            "scale": float(config.scales[best // len(pool)]) if joints else 1.0, "refined": False}
    R = cands[best]
    if config.refine_steps and info["realised"] < len(changes) and joints:
        R2, hits2 = refine(A, R, changes, m[best] >= 1.0, config, rest_joints, frozen)
        if hits2 > info["realised"]:
            R, info["realised"], info["refined"] = R2, hits2, True
    return R, info


def refine(A: np.ndarray, R: np.ndarray, changes: list[ExpectedChange], met: np.ndarray,
           config: RealiseConfig = DEFAULT_REALISE, rest_joints: np.ndarray | None = None,
           frozen: list[int] | tuple[int, ...] = ()) -> tuple[np.ndarray, int]:
    """A few steps of finite-difference gradient ascent on the continuous paircode values of the changes ``R``
    leaves unrealised, over the local rotations of the joints the coach would move for them (the knee for a
    knee bend, shoulder and elbow for a hand height, the spine for a lean; ``frozen`` excluded), each step clamped
    into the joint limits; the changes already realised must stay realised. Returns the pose and how many
    changes it realises (the input's count when no step helped)."""
    todo = [c for c, ok in zip(changes, met) if not ok]
    joints = sorted({j for c in todo for j in _pair_meta(PAIRS[c.code])[2]} - set(frozen))
    if not joints:
        return R, int(met.sum())
    P, h = 3 * len(joints), 0.05
    cur, best_hits = R.copy(), int(met.sum())

    def objective(Rs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = score(A, Rs, changes, config.margin, rest_joints)
        dev = _geodesic_deg(Rs, R)
        ok_before = (m[:, met] >= 1.0).all(1)
        return np.minimum(m, 1.0).sum(1) - 0.002 * dev - 10.0 * ~ok_before, (m >= 1.0).sum(1)

    f_cur = float(objective(cur[None])[0][0])
    for _ in range(config.refine_steps):
        eye = np.eye(P).reshape(P, len(joints), 3)
        probes = np.concatenate([eye, -eye]) * h                                     # (2P,J,3)
        batch = np.repeat(cur[None], 2 * P, 0)
        batch[:, joints] = cur[None, joints] @ aa_to_matrix_np(probes)
        f, _ = objective(batch)
        g = (f[:P] - f[P:]).reshape(len(joints), 3) / (2 * h)
        norm = float(np.linalg.norm(g))
        if norm < 1e-9:
            break
        steps = np.array([0.05, 0.1, 0.2, 0.35])                                    # radians along -> g/|g|
        trial = np.repeat(cur[None], len(steps), 0)
        trial[:, joints] = cur[None, joints] @ aa_to_matrix_np(steps[:, None, None] * (g / norm)[None])
        trial = _clamped(trial, joints)
        ft, hits = objective(trial)
        k = int(np.argmax(ft))
        if ft[k] <= f_cur + 1e-3:  # no step helps: a limit or the start pose is in the way
            break
        cur, f_cur = trial[k], float(ft[k])
        if hits[k] > best_hits:
            best_hits = int(hits[k])
        if best_hits == len(changes):
            break
    final = score(A, cur[None], changes, config.margin, rest_joints)[0] >= 1.0
    if int(final.sum()) <= int(met.sum()) or not final[met].all():
        return R, int(met.sum())
    return cur, int(final.sum())
