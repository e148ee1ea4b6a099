"""Part-mix augmentation (core_models.data.part_mix): each body part of a mixed pose is some pool pose's part, the
root is the base pose's, the library's exclusion zone and self-penetration are enforced, bad pools are refused."""
from __future__ import annotations

import numpy as np
import pytest

from core_models import skeleton as sk
from core_models.data import part_mix as pm
from core_models.data.coaching_poses import LIBRARY_EXCLUSION_DEG, library_distance, library_full


def _pool(m: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.2, (m, 3)).astype(np.float32), rng.normal(0, 0.35, (m, 21, 3)).astype(np.float32)


def test_every_part_and_the_root_come_from_pool_poses():
    root, body = _pool()
    r, b = pm.part_mix(root, body, 300, np.random.default_rng(1), p_part=0.5)
    assert r.shape == (300, 3) and b.shape == (300, 21, 3) and r.dtype == np.float32
    mixed = 0
    for i in range(len(r)):
        base = np.nonzero(np.all(root == r[i], axis=1))[0]
        assert len(base) == 1  # the root is one pool pose's
        sources = set()
        for joints in sk.BODY_PARTS.values():
            idx = np.asarray(joints) - 1
            donors = [k for k in range(len(body)) if np.array_equal(body[k][idx], b[i][idx])]
            assert donors, "a part that is no pool pose's"
            sources.add(donors[0])
        mixed += len(sources) > 1
    assert mixed > 250  # with p 0.5 over 6 parts, almost every pose mixes several sources


def test_p_zero_gives_pool_poses_unchanged():
    root, body = _pool()
    r, b = pm.part_mix(root, body, 50, np.random.default_rng(2), p_part=0.0)
    for i in range(50):
        k = np.nonzero(np.all(root == r[i], axis=1))[0][0]
        assert np.array_equal(body[k], b[i])


def test_library_poses_are_never_produced():
    names, full = library_full()
    root, body = full[:, 0].astype(np.float32), full[:, 1:].astype(np.float32)
    with pytest.raises(pm.PartMixError, match="passed the library"):  # a pool of library poses, unmixed
        pm.part_mix(root, body, 5, np.random.default_rng(3), p_part=0.0, max_rounds=3)
    r0, b0 = _pool(200, 4)
    r, b = pm.part_mix(np.concatenate([root, r0]), np.concatenate([body, b0]), 200, np.random.default_rng(5))
    assert np.all(library_distance(b, r) >= LIBRARY_EXCLUSION_DEG)


def test_self_penetrating_mixes_are_redrawn():
    from core_models.body import load_body
    from core_models.data.coaching_poses import self_penetration_m
    from core_models.plausibility import PENETRATION_TOLERANCE_M

    body_model = load_body("anny")
    root, body = _pool(60, 6)
    body = body * 3.0  # wild rotations: many mixes penetrate
    r, b = pm.part_mix(root, body, 40, np.random.default_rng(7), body=body_model)
    depth = self_penetration_m(body_model, np.concatenate([r[:, None], b], 1))
    assert np.all(depth <= PENETRATION_TOLERANCE_M)


@pytest.mark.parametrize("root,body,p,words", [
    (np.zeros((0, 3)), np.zeros((0, 21, 3)), 0.5, "must be"),
    (np.zeros((4, 3)), np.zeros((4, 20, 3)), 0.5, "must be"),
    (np.full((4, 3), np.nan), np.zeros((4, 21, 3)), 0.5, "non-finite"),
    (np.zeros((4, 3)), np.zeros((4, 21, 3)), 1.5, "p_part"),
])
def test_bad_pools_are_refused(root, body, p, words):
    with pytest.raises(pm.PartMixError, match=words):
        pm.part_mix(root, body, 3, np.random.default_rng(0), p_part=p)
