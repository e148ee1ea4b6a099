"""Part-mix pose augmentation: new training poses whose body parts come from different poses.

A learned lifter / pose prior trained on whole mocap poses learns which limb configurations go together and pulls
a pose it never saw towards the combinations it did (issue 18: generalise to unseen people and motions; issue 14:
the library's yoga poses are out of the training distribution). :func:`part_mix` keeps a base pose's root
orientation and replaces each body part's local rotations (:data:`core_models.skeleton.BODY_PARTS`: head, torso,
each arm and leg) with those of another random pose of the pool with probability ``p_part`` — a pose whose left
leg is from a kick, the right arm from a dance and the torso from a stretch. Like the coaching poses
(:mod:`core_models.data.coaching_poses`), a mixed pose within ``LIBRARY_EXCLUSION_DEG`` of a library pose (the
evaluation set) or, given a body, self-penetrating deeper than the plausibility tolerance is redrawn. Numpy only.
"""
from __future__ import annotations

import numpy as np

from core_models import skeleton as sk
from core_models.data.coaching_poses import LIBRARY_EXCLUSION_DEG, library_distance, self_penetration_m
from core_models.plausibility import PENETRATION_TOLERANCE_M


class PartMixError(ValueError):
    """The pool cannot give the asked poses (empty, malformed, or every draw rejected)."""


def _mix_once(root: np.ndarray, body: np.ndarray, n: int, rng: np.random.Generator, p_part: float):
    m = len(root)
    base = rng.integers(0, m, n)
    out_root, out_body = root[base].copy(), body[base].copy()
    for joints in sk.BODY_PARTS.values():
        idx = np.asarray(joints) - 1                         # body_pose rows (joint 0 is the root)
        swap = rng.random(n) < p_part
        donor = rng.integers(0, m, n)
        out_body[np.ix_(swap, idx)] = body[donor[swap]][:, idx]
    return out_root, out_body


def part_mix(root_orient: np.ndarray, body_pose: np.ndarray, n: int, rng: np.random.Generator,
             p_part: float = 0.5, body=None, max_rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """``n`` part-mixed poses from the pool (``root_orient`` (M, 3), ``body_pose`` (M, 21, 3) axis-angle):
    (root (n, 3), body (n, 21, 3)) float32. Every returned pose is ≥ ``LIBRARY_EXCLUSION_DEG`` from each library
    pose and, with ``body``, free of self-penetration beyond ``PENETRATION_TOLERANCE_M``. PartMixError for an empty
    or non-finite pool, a ``p_part`` outside [0, 1], or when ``max_rounds`` of draws do not give ``n`` poses."""
    root = np.asarray(root_orient, np.float32).reshape(-1, 3)
    bp = np.asarray(body_pose, np.float32)
    if len(root) == 0 or bp.shape != (len(root), sk.NUM_BODY_JOINTS, 3):
        raise PartMixError(f"the pool must be (M, 3) roots and (M, 21, 3) body poses, got {root.shape} / {bp.shape}")
    if not (np.all(np.isfinite(root)) and np.all(np.isfinite(bp))):
        raise PartMixError("the pool has non-finite rotations")
    if not 0.0 <= p_part <= 1.0:
        raise PartMixError(f"p_part must be in [0, 1], got {p_part}")
    got_r, got_b, have = [], [], 0
    for _ in range(max_rounds):
        if have >= n:
            break
        need = n - have
        r, b = _mix_once(root, bp, need + need // 4 + 1, rng, p_part)
        ok = library_distance(b, r) >= LIBRARY_EXCLUSION_DEG
        if body is not None:
            ok &= self_penetration_m(body, np.concatenate([r[:, None], b], 1)) <= PENETRATION_TOLERANCE_M
        keep = np.nonzero(ok)[0][:need]
        got_r.append(r[keep])
        got_b.append(b[keep])
        have += len(keep)
    if have < n:
        raise PartMixError(f"only {have} of {n} part-mixed poses passed the library / self-penetration checks")
    if n == 0:
        return np.zeros((0, 3), np.float32), np.zeros((0, sk.NUM_BODY_JOINTS, 3), np.float32)
    return np.concatenate(got_r)[:n], np.concatenate(got_b)[:n]
