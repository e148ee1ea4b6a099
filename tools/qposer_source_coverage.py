"""Why does QPoser miss on an unseen mocap source? Two measurements behind the README's leave-one-source-out text.

1. Per-joint reconstruction error (geodesic angle, degrees) of QPoser weights on the source's poses (the LOSO view
   ``<corpus>/loso/only-<source>``, written by ``eval qposer --loso``; made here when missing), worst joints first.
2. Coverage: per source, how far each joint moves from rest on average; and for the held-out source, the mean
   distance of each joint's rotation to the nearest rotation of that joint in the other sources (a few thousand
   poses each side). A joint the other sources never move (rigid toes, for instance) is uncovered by construction.

    python tools/qposer_source_coverage.py --corpus C --source cmu_iclone [--weights-dir W ...] [--joints a,b]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_models import skeleton as sk  # noqa: E402
from core_models.data.corpus import Corpus  # noqa: E402
from core_models.nets.training import loso  # noqa: E402

#: joint groups whose combined nearest distance is printed too (a whole part, not each joint alone)
COMBINATIONS = (("neck", "head"), ("left_shoulder", "left_elbow", "left_wrist"),
                ("left_hip", "left_knee", "left_ankle"))
DEFAULT_JOINTS = ("neck", "head", "left_foot", "right_foot", "left_ankle", "right_ankle", "left_wrist", "right_wrist")


def joint_angles_deg(P: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    """(N, J) geodesic angle between rotation matrices ``P`` and ``R`` (N, J, 3, 3)."""
    import roma

    return torch.rad2deg(roma.rotmat_geodesic_distance(P, R))


def nearest_rotation_deg(query: np.ndarray, ref: np.ndarray) -> float:
    """Mean over the ``query`` poses of the distance to the nearest ``ref`` pose, degrees: axis-angles (N, 3) /
    (M, 3) of one joint, or (N, K, 3) / (M, K, 3) of K joints together (distance = the mean angle over the K
    joints, so a combination the reference never shows is far even when each joint alone is close)."""
    import roma

    q, r = np.asarray(query)[:, None] if np.ndim(query) == 2 else query, \
        np.asarray(ref)[:, None] if np.ndim(ref) == 2 else ref
    Rq = roma.rotvec_to_rotmat(torch.as_tensor(q, dtype=torch.float32))
    Rr = roma.rotvec_to_rotmat(torch.as_tensor(r, dtype=torch.float32))
    ang = torch.rad2deg(torch.arccos(((torch.einsum("qkij,rkij->qrk", Rq, Rr) - 1) / 2).clamp(-1, 1)))
    return float(ang.mean(-1).min(1).values.mean())


def coverage_table(corpus: Corpus, source: str, joints: list[str], n_query: int = 1500, n_ref: int = 20000,
                   seed: int = 0) -> tuple[dict[str, list[float]], dict[str, float]]:
    """({source: mean angle from rest per joint}, {joint: nearest-neighbour distance of ``source`` to the rest})."""
    a = corpus.arrays
    src = loso.pose_sources(a["clip"], loso.clip_sources(corpus.dir))
    keep = ~a["mirrored"].astype(bool)
    if not (keep & (src == source)).any():
        raise SystemExit(f"error: no poses of source {source!r} in {corpus.dir} (have: {', '.join(sorted(set(src)))})")
    idx = [sk.JOINT_INDEX[j] - 1 for j in joints]
    motion = {s: [float(v) for v in np.degrees(np.linalg.norm(a["body_pose"][keep & (src == s)][:, idx], axis=-1)
                                              ).mean(0)] for s in sorted(set(src))}
    rng = np.random.default_rng(seed)
    q, r = np.flatnonzero(keep & (src == source)), np.flatnonzero(keep & (src != source))
    q = rng.choice(q, min(n_query, len(q)), replace=False)
    r = rng.choice(r, min(n_ref, len(r)), replace=False)
    nn = {j: nearest_rotation_deg(a["body_pose"][q, i], a["body_pose"][r, i]) for j, i in zip(joints, idx)}
    for group in COMBINATIONS:
        gi = [sk.JOINT_INDEX[j] - 1 for j in group]
        nn["+".join(group)] = nearest_rotation_deg(a["body_pose"][q][:, gi], a["body_pose"][r][:, gi])
    return motion, nn


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="corpus folder (the LOSO view is written under <corpus>/loso)")
    p.add_argument("--source", required=True, help="the held-out mocap source")
    p.add_argument("--weights-dir", action="append", default=[], help="QPoser weights folder(s) to break down")
    p.add_argument("--joints", default=",".join(DEFAULT_JOINTS))
    p.add_argument("--max-poses", type=int, default=3000)
    args = p.parse_args(argv)
    joints = [j.strip() for j in args.joints.split(",") if j.strip()]
    unknown = [j for j in joints if j not in sk.JOINT_INDEX or sk.JOINT_INDEX[j] == 0]
    if unknown:
        print(f"error: not body joints: {', '.join(unknown)}")
        return 2
    corpus = Corpus(args.corpus)
    motion, nn = coverage_table(corpus, args.source, joints)
    print("mean angle from rest (deg), non-mirrored poses per source")
    print(f"{'source':24s}" + "".join(f"{j[:11]:>12s}" for j in joints))
    for s, row in motion.items():
        print(f"{s[:24]:24s}" + "".join(f"{v:12.1f}" for v in row))
    print(f"nearest rotation of the same joint in the other sources, mean over {args.source}'s poses (deg)")
    print("".join(f"{j[:11]:>12s}" for j in joints))
    print("".join(f"{nn[j]:12.2f}" for j in joints))
    for key in nn:
        if "+" in key:
            print(f"  together, {key}: {nn[key]:.2f}")
    if args.weights_dir:
        from core_models.nets.qposer.data import corpus_rotmats
        from core_models.nets.qposer.infer import load_qposer

        R = corpus_rotmats(Corpus(loso.make_view(args.corpus, args.source, "test")), "test", with_mirrors=False,
                           max_n=args.max_poses, seed=0)
        names = sk.JOINT_NAMES[1:22]
        for w in args.weights_dir:
            model = load_qposer("qposer", Path(w), "cpu")
            with torch.no_grad():
                ang = joint_angles_deg(torch.cat([model.reconstruct(R[i:i + 2048]) for i in range(0, len(R), 2048)]),
                                       R)
            per_joint, per_pose = ang.mean(0), ang.mean(1)
            worst = torch.argsort(per_joint, descending=True)[:8]
            print(f"{w}: all of {args.source} ({len(R)} poses) {float(ang.mean()):.2f} deg; poses above 5 deg "
                  f"{float((per_pose > 5).float().mean()) * 100:.1f} %; worst joints "
                  + ", ".join(f"{names[i]} {float(per_joint[i]):.1f}" for i in worst))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
