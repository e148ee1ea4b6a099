"""Poses that coaching needs (issue 14 item 2): authored yoga / stretching / kneeling / floor poses and a training
set made from them.

``resources/train_poses/*.json`` holds poses this project authored (``tools/author_coaching_poses.py``: joint angles
+ the drag solver's IK and refinement, inside the joint limits, grounded); same format as the pose library
(``core_models.library``), plus ``group`` (standing / kneeling / seated / lying) and ``contacts`` (joints resting on
the floor). They are *training* material. The 17 library poses in ``resources/poses/`` are the evaluation set and
are never used here except to keep away from them: every pose :func:`coaching_pose_set` returns is at least
:data:`LIBRARY_EXCLUSION_DEG` from every library pose and from its mirror image (:func:`library_distance`).

:func:`coaching_pose_set` mixes (fractions :data:`MIX`):
  * ``authored`` — the authored poses themselves (cycled in a seeded order);
  * ``perturbed`` — an authored pose with per-joint Euler-angle noise scaled by each joint's range
    (:data:`NOISE_FRACTION` of the range, at most :data:`NOISE_MAX_DEG`), a small root tilt, clamped into the joint
    limits of :mod:`core_models.skeleton`;
  * ``mirrored`` — :func:`core_models.pose.mirror` of a perturbed authored pose;
  * ``interpolated`` — a per-joint slerp (roma) between two authored poses of compatible orientation, or between
    an authored pose and a random corpus *train-split* pose (``name`` ``"interp:a|b"``, ``b`` = ``corpus`` then).
All poses are in the canonical frame (y up, facing +z, heading 0), float32 axis-angle. Deterministic per seed
(with ``corpus=None``, or the same corpus). No Qt here.
"""
from __future__ import annotations

import json
import math
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core_models import skeleton as sk
from core_models.plausibility import PENETRATION_TOLERANCE_M
from core_models.pose import (
    Pose,
    aa_to_matrix_np,
    clamp_to_limits,
    euler_xyz_deg_to_matrix_np,
    limit_euler_deg,
    matrix_to_aa_np,
    mirror_aa,
    quat_to_aa,
)
from core_models.resources import resource_path

#: where the authored poses live
TRAIN_POSES_DIR = resource_path("train_poses")
#: the evaluation poses (never trained on)
LIBRARY_DIR = resource_path("poses")
#: minimum distance (mean per-joint geodesic angle over the root + 21 body joints, degrees) of every returned pose
#: from every library pose and its mirror image; see docs/notes/coaching_poses.md for how it was chosen
LIBRARY_EXCLUSION_DEG = 12.0
KINDS = ("authored", "perturbed", "mirrored", "interpolated")
#: share of each kind in a set (interpolated: half between authored poses, half towards corpus poses when a corpus
#: is given)
MIX = {"authored": 0.05, "perturbed": 0.45, "mirrored": 0.2, "interpolated": 0.3}
#: perturbation noise: this fraction of a joint's range (per Euler axis), capped
NOISE_FRACTION = 0.06
NOISE_MAX_DEG = 10.0
#: small root tilts (degrees, normal sigma) about the body's left and forward axes
ROOT_TILT_DEG = 4.0
#: two poses are interpolated only when their root orientations are this close (degrees)
INTERP_MAX_ROOT_DEG = 50.0
FORMAT = "posetailor-library-pose"


class CoachingPoseError(ValueError):
    """A bad authored pose file or a bad argument (the message names the file / value)."""


@dataclass
class CoachingPoses:
    """A set of poses: root_orient (n,3), body_pose (n,21,3) float32 axis-angle (canonical frame, heading 0);
    name (n,) the authored pose each came from (or ``"interp:a|b"``); kind (n,) one of :data:`KINDS`."""

    root_orient: np.ndarray
    body_pose: np.ndarray
    name: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return int(self.root_orient.shape[0])

    def poses(self) -> Pose:
        return Pose(self.root_orient, self.body_pose)


# --- loading ----------------------------------------------------------------------------------------------------

def _finite(v, shape: tuple[int, ...], what: str, path: Path) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise CoachingPoseError(f"{path.name}: '{what}' must be a {shape} array of numbers") from None
    if a.shape != shape or not np.all(np.isfinite(a)):
        raise CoachingPoseError(f"{path.name}: '{what}' must be a {'x'.join(map(str, shape))} array of finite "
                                f"numbers (got shape {a.shape})")
    return a


def read_authored(path: str | Path) -> dict:
    """One authored pose file, validated: the decoded JSON (CoachingPoseError naming the file otherwise)."""
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CoachingPoseError(f"cannot read {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CoachingPoseError(f"{path.name} is not valid JSON ({e})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise CoachingPoseError(f"{path.name}: not a PoseTailor pose file (format must be {FORMAT!r})")
    if not isinstance(d.get("name"), str) or not d["name"].strip():
        raise CoachingPoseError(f"{path.name}: missing 'name'")
    p = d.get("pose")
    if not isinstance(p, dict):
        raise CoachingPoseError(f"{path.name}: missing 'pose' object")
    aa = _finite(p.get("axis_angle"), (sk.NUM_JOINTS, 3), "pose.axis_angle", path)
    _finite(p.get("transl", [0.0, 0.0, 0.0]), (3,), "pose.transl", path)
    if np.abs(aa).max() > 4 * math.pi:
        raise CoachingPoseError(f"{path.name}: axis-angle values out of range")
    contacts = d.get("contacts", [])
    if not isinstance(contacts, list) or any(c not in sk.JOINT_INDEX for c in contacts):
        raise CoachingPoseError(f"{path.name}: 'contacts' must be a list of joint names")
    return d


def load_authored(folder: str | Path | None = None) -> dict[str, dict]:
    """Every ``*.json`` in ``folder`` (default: the shipped ``resources/train_poses``) by file stem, validated;
    CoachingPoseError for a missing / empty folder or a bad file."""
    folder = Path(folder) if folder is not None else TRAIN_POSES_DIR
    if not folder.is_dir():
        raise CoachingPoseError(f"no authored pose folder at {folder}")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise CoachingPoseError(f"no authored poses (*.json) in {folder}")
    return {f.stem: read_authored(f) for f in files}


def canonical(full: np.ndarray) -> np.ndarray:
    """(…,22,3) axis-angle with the heading (yaw) removed from the root, float32 (the rule of
    :func:`core_models.pose.heading_of` / :func:`~core_models.pose.remove_heading`, in numpy for speed)."""
    full = np.array(full, np.float32)
    R = aa_to_matrix_np(full[..., 0, :].astype(np.float64))
    fwd, left = R[..., :, 2], R[..., :, 0]
    h = np.where(fwd[..., 0] ** 2 + fwd[..., 2] ** 2 >= 0.25, np.arctan2(fwd[..., 0], fwd[..., 2]),
                 np.arctan2(-left[..., 2], left[..., 0]))
    c, s = np.cos(-h), np.sin(-h)
    Ry = np.zeros(h.shape + (3, 3))
    Ry[..., 0, 0], Ry[..., 0, 2], Ry[..., 1, 1], Ry[..., 2, 0], Ry[..., 2, 2] = c, s, 1.0, -s, c
    full[..., 0, :] = matrix_to_aa_np(Ry @ R).astype(np.float32)
    return full


def _full_of(d: dict) -> np.ndarray:
    return np.asarray(d["pose"]["axis_angle"], np.float32)


def authored_arrays(authored: dict[str, dict] | None = None) -> tuple[list[str], np.ndarray]:
    """(names, (K,22,3) canonical axis-angle) of the authored poses."""
    authored = AUTHORED if authored is None else authored
    names = sorted(authored)
    return names, canonical(np.stack([_full_of(authored[n]) for n in names]))


#: how high (m) a joint centre may be above the floor and still count as resting on it (a contact in a pose file)
CONTACT_MAX_M = {"pelvis": 0.24, "spine1": 0.17, "spine2": 0.17, "spine3": 0.17, "head": 0.18, "neck": 0.14,
                 "knee": 0.14, "ankle": 0.13, "foot": 0.07, "wrist": 0.11, "elbow": 0.10, "shoulder": 0.12}


def contact_limit_m(joint: str) -> float:
    return CONTACT_MAX_M.get(joint, CONTACT_MAX_M.get(joint.split("_")[-1], 0.12))


def contact_heights(body, pose: Pose, joints) -> dict[str, float]:
    """Height (m) above ``body``'s floor (``skinning.floor_height``) of each named joint centre of ``pose``."""
    from core_models import kinematics as kin

    R = aa_to_matrix_np(pose.full().astype(np.float64))
    _, P, _ = kin.fk_numpy(R, np.asarray(body.skinning.rest_joints, np.float64))
    P = P + pose.transl.astype(np.float64)
    floor = float(body.skinning.floor_height)
    return {n: float(P[sk.JOINT_INDEX[n], 1] - floor) for n in joints}


def pose_of(d: dict) -> Pose:
    """The Pose (translation included) of a decoded authored / library pose file."""
    return Pose.from_full(np.asarray(d["pose"]["axis_angle"], np.float32),
                          np.asarray(d["pose"].get("transl", [0.0, 0.0, 0.0]), np.float32))


# --- distance to the library ----------------------------------------------------------------------------------

def _quats(aa: np.ndarray) -> np.ndarray:
    """(…,3) axis-angle → (…,4) unit quaternions XYZW (roma's convention; numpy, float32)."""
    aa = np.asarray(aa, np.float64)
    th = np.linalg.norm(aa, axis=-1, keepdims=True)
    k = np.where(th > 1e-8, np.sin(th / 2) / np.maximum(th, 1e-12), 0.5 - th * th / 48.0)
    return np.concatenate([aa * k, np.cos(th / 2)], -1).astype(np.float32)


def pose_distance_deg(full_a: np.ndarray, full_b: np.ndarray) -> np.ndarray:
    """(N,22,3) × (M,22,3) → (N,M) mean per-joint geodesic angle (degrees) over the 22 joints, root included."""
    qa, qb = _quats(full_a), _quats(full_b)
    dot = np.abs(np.einsum("njc,mjc->nmj", qa, qb))
    return np.degrees(2.0 * np.arccos(np.clip(dot, 0.0, 1.0))).mean(-1)


def library_full(folder: str | Path | None = None) -> tuple[list[str], np.ndarray]:
    """(names, (L,22,3) canonical axis-angle) of the library (evaluation) poses."""
    folder = Path(folder) if folder is not None else LIBRARY_DIR
    files = sorted(folder.glob("*.json"))
    if not files:
        raise CoachingPoseError(f"no library poses in {folder}")
    return [f.stem for f in files], canonical(np.stack([_full_of(json.loads(f.read_text("utf-8"))) for f in files]))


def library_distances(body_pose: np.ndarray, root_orient: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """(N,L) distance (degrees, :func:`pose_distance_deg`) of each pose to each library pose, the smaller of the
    library pose and its mirror image; poses are compared in the canonical frame (heading removed)."""
    body_pose = np.asarray(body_pose, np.float32).reshape(-1, sk.NUM_BODY_JOINTS, 3)
    root_orient = np.asarray(root_orient, np.float32).reshape(-1, 3)
    full = canonical(np.concatenate([root_orient[:, None], body_pose], 1))
    _, lib = _library()
    both = np.concatenate([lib, canonical(mirror_aa(lib))])
    out = np.empty((len(full), len(lib)), np.float32)
    for s in range(0, len(full), chunk):
        d = pose_distance_deg(full[s:s + chunk], both)
        out[s:s + chunk] = np.minimum(d[:, :len(lib)], d[:, len(lib):])
    return out


def library_distance(body_pose: np.ndarray, root_orient: np.ndarray) -> np.ndarray:
    """(N,) distance (degrees) of each pose to the nearest library pose or library mirror image."""
    return library_distances(body_pose, root_orient).min(1)


_LIB: tuple[list[str], np.ndarray] | None = None


def _library() -> tuple[list[str], np.ndarray]:
    global _LIB
    if _LIB is None:
        _LIB = library_full()
    return _LIB


# --- self-penetration, batched -----------------------------------------------------------------------------------
# The capsule test of core_models.plausibility.penetrations (same capsules, same pairs, same allowances), vectorised
# over poses: check_pose costs ~8 ms a pose, this ~0.1 ms.

def _segment_distance(p1, q1, p2, q2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched closest points of segments p1q1 and p2q2 (…,3) → (distance, s on the first, t on the second);
    the branches of :func:`core_models.plausibility.segment_closest`."""
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e = (d1 * d1).sum(-1), (d2 * d2).sum(-1)
    b, c, f = (d1 * d2).sum(-1), (d1 * r).sum(-1), (d2 * r).sum(-1)
    a_, e_ = np.maximum(a, 1e-12), np.maximum(e, 1e-12)
    den = a * e - b * b
    s = np.where(den > 1e-12, np.clip((b * f - c * e) / np.maximum(den, 1e-12), 0.0, 1.0), 0.0)
    t = (b * s + f) / e_
    s = np.where(t < 0.0, np.clip(-c / a_, 0.0, 1.0), np.where(t > 1.0, np.clip((b - c) / a_, 0.0, 1.0), s))
    t = np.clip(t, 0.0, 1.0)
    dist = np.linalg.norm(p1 + d1 * s[..., None] - (p2 + d2 * t[..., None]), axis=-1)
    return dist, s, t


def _capsule_arrays(body) -> dict[str, np.ndarray]:
    """The body's capsules as arrays and the tested pairs (index arrays + allowance), cached per body."""
    from core_models.plausibility import _ADJACENT, _ATTACHMENT, ADJACENT_ALLOWANCE_M, capsule_model

    key = id(body.skinning)
    if key in _CAPSULES:
        return _CAPSULES[key]
    model = capsule_model(body)
    caps = list(model.core) + [c for limb in model.limbs.values() for c in limb]
    idx = {id(c): k for k, c in enumerate(caps)}
    ia, ib, allow = [], [], []
    for limb, lcaps in model.limbs.items():
        for i, cl in enumerate(lcaps):
            for cc in model.core:
                if i == 0 and cc.name == _ATTACHMENT[limb]:
                    continue
                ia.append(idx[id(cl)])
                ib.append(idx[id(cc)])
                allow.append(ADJACENT_ALLOWANCE_M if i == 0 and cc.name in _ADJACENT[limb] else 0.0)
    names = list(model.limbs)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            for ca in model.limbs[names[a]]:
                for cb in model.limbs[names[b]]:
                    ia.append(idx[id(ca)])
                    ib.append(idx[id(cb)])
                    allow.append(0.0)
    arr = {"joint": np.array([c.joint for c in caps]), "p0": np.array([c.p0 for c in caps]),
           "p1": np.array([c.p1 for c in caps]), "r0": np.array([c.r0 for c in caps]),
           "r1": np.array([c.r1 for c in caps]), "ia": np.array(ia), "ib": np.array(ib), "allow": np.array(allow)}
    _CAPSULES.clear()
    _CAPSULES[key] = arr
    return arr


_CAPSULES: dict[int, dict[str, np.ndarray]] = {}


def self_penetration_m(body, full: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """(N,22,3) axis-angle → (N,) deepest capsule overlap beyond its allowance (metres; > 0.04 is what
    :func:`core_models.plausibility.check_pose` reports as a penetration) on ``body``."""
    from core_models import kinematics as kin

    full = np.asarray(full, np.float64).reshape(-1, sk.NUM_JOINTS, 3)
    c = _capsule_arrays(body)
    rest = np.asarray(body.skinning.rest_joints, np.float64)
    out = np.empty(len(full))
    for s0 in range(0, len(full), chunk):
        _, _, skin = kin.fk_numpy(aa_to_matrix_np(full[s0:s0 + chunk]), rest, body.skinning.parents)
        A = skin[:, c["joint"]]  # (n,C,3,4)
        p0 = np.einsum("ncij,cj->nci", A[..., :3], c["p0"]) + A[..., 3]
        p1 = np.einsum("ncij,cj->nci", A[..., :3], c["p1"]) + A[..., 3]
        out[s0:s0 + chunk] = _deepest(c, p0.astype(np.float32), p1.astype(np.float32))
    return out


def _deepest(c: dict[str, np.ndarray], p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """(n,C,3) posed capsule ends → (n,) deepest overlap; pairs whose bounding spheres are apart are only bounded
    (their overlap is negative anyway), the others get the exact segment distance."""
    ia, ib = c["ia"], c["ib"]
    mid, half = (p0 + p1) / 2, np.linalg.norm(p1 - p0, axis=-1) / 2
    rmax = np.maximum(c["r0"], c["r1"]).astype(np.float32)
    bound = (half[:, ia] + half[:, ib] + rmax[ia] + rmax[ib] - c["allow"]
             - np.linalg.norm(mid[:, ia] - mid[:, ib], axis=-1))  # ≥ the overlap of the pair
    worst = bound.min(1).astype(np.float64)
    n, k = np.nonzero(bound > -0.02)
    if len(n):
        a, b = ia[k], ib[k]
        dist, sa, tb = _segment_distance(p0[n, a], p1[n, a], p0[n, b], p1[n, b])
        depth = (c["r0"][a] + (c["r1"][a] - c["r0"][a]) * sa + c["r0"][b] + (c["r1"][b] - c["r0"][b]) * tb
                 - dist - c["allow"][k])
        np.maximum.at(worst, n, depth)
    return worst


# --- the set ---------------------------------------------------------------------------------------------------

def _clamp(full: np.ndarray) -> np.ndarray:
    return clamp_to_limits(Pose.from_full(full)).full().astype(np.float32)


def perturb(full: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n,22,3) → (n,22,3): per-joint Euler noise scaled by each joint's range, a small root tilt, clamped into
    the joint limits."""
    n = len(full)
    e = limit_euler_deg(full)
    width = sk.JOINT_LIMITS_DEG[..., 1] - sk.JOINT_LIMITS_DEG[..., 0]
    sigma = np.minimum(width * NOISE_FRACTION, NOISE_MAX_DEG)
    sigma[0] = 0.0
    e = e + rng.standard_normal((n, sk.NUM_JOINTS, 3)) * sigma
    R = euler_xyz_deg_to_matrix_np(e)
    tilt = np.zeros((n, 3))
    tilt[:, [0, 2]] = rng.standard_normal((n, 2)) * ROOT_TILT_DEG
    R[:, 0] = euler_xyz_deg_to_matrix_np(tilt) @ R[:, 0]
    return _clamp(matrix_to_aa_np(R).astype(np.float32))


#: interpolation fractions (a grid, so that each one is a single batched roma slerp)
INTERP_STEPS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def slerp(full_a: np.ndarray, full_b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-joint slerp (``roma.unitquat_slerp``, shortest arc) of (n,22,3) poses at (n,) fractions ``t``, clamped
    into the joint limits."""
    import roma
    import torch

    qa, qb = torch.as_tensor(_quats(full_a)), torch.as_tensor(_quats(full_b))
    t = np.asarray(t, np.float32)
    out = np.empty(qa.shape, np.float32)
    for v in np.unique(t):
        sel = np.nonzero(t == v)[0]
        out[sel] = roma.unitquat_slerp(qa[sel], qb[sel], torch.tensor([float(v)]))[0].numpy()
    return _clamp(np.asarray(quat_to_aa(out), np.float32))


def _root_angle_deg(full_a: np.ndarray, full_b: np.ndarray) -> np.ndarray:
    """(N,22,3) × (M,22,3) → (N,M) geodesic angle (degrees) between the root orientations."""
    qa, qb = _quats(full_a[:, 0]), _quats(full_b[:, 0])
    return np.degrees(2.0 * np.arccos(np.clip(np.abs(qa @ qb.T), 0.0, 1.0)))


def load_corpus_train(corpus="auto") -> np.ndarray | None:
    """(M,22,3) canonical train-split corpus poses: ``corpus`` is "auto" (the default corpus when it is built,
    else None), None, a folder / corpus.npz path, or an (M,22,3) array (taken as given)."""
    if corpus is None:
        return None
    if isinstance(corpus, np.ndarray):
        if corpus.ndim != 3 or corpus.shape[1:] != (sk.NUM_JOINTS, 3):
            raise CoachingPoseError(f"corpus poses must have shape (M, 22, 3), got {corpus.shape}")
        return canonical(corpus)
    from core_models.data.corpus import SPLITS, default_corpus_dir

    path = Path(default_corpus_dir() if isinstance(corpus, str) and corpus == "auto" else corpus)
    f = path / "corpus.npz" if path.is_dir() else path
    if not f.is_file():
        if isinstance(corpus, str) and corpus == "auto":
            return None
        raise CoachingPoseError(f"no corpus at {f}")
    key = (str(f.resolve()), f.stat().st_mtime_ns)
    if key not in _CORPUS_CACHE:
        try:
            with np.load(f, allow_pickle=False) as z:
                train = z["split"] == SPLITS.index("train")
                full = np.concatenate([z["root_orient"][train][:, None], z["body_pose"][train]], 1)
        except (OSError, KeyError, ValueError) as e:
            raise CoachingPoseError(f"cannot read the corpus {f}: {e}") from None
        _CORPUS_CACHE.clear()
        _CORPUS_CACHE[key] = canonical(full)
    return _CORPUS_CACHE[key]


_CORPUS_CACHE: dict[tuple[str, int], np.ndarray] = {}


@dataclass
class _Source:
    names: list[str]
    full: np.ndarray  # (K,22,3) authored poses kept (far enough from the library)
    compat: np.ndarray  # (K,K) bool: root orientations close enough to interpolate (not the pose itself)
    corpus: np.ndarray | None  # (M,22,3) train-split corpus poses
    corpus_root_q: np.ndarray | None = None  # (M,4) their root quaternions
    body: object | None = None  # the body whose capsules reject self-penetrating poses (None: no check)


def _corpus_partners(a: np.ndarray, rng: np.random.Generator, src: _Source) -> np.ndarray:
    """For authored indices ``a``: a random train-split corpus pose whose root is within INTERP_MAX_ROOT_DEG of
    the authored one's (index into src.corpus), -1 where 16 tries found none."""
    if src.corpus is None or src.corpus_root_q is None:
        return np.full(len(a), -1)
    cand = rng.integers(len(src.corpus), size=(len(a), 16))
    qa = _quats(src.full[a, 0])
    qc = src.corpus_root_q[cand]
    ok = np.degrees(2.0 * np.arccos(np.clip(np.abs(np.einsum("nc,nkc->nk", qa, qc)), 0.0, 1.0))) \
        < INTERP_MAX_ROOT_DEG
    first = np.argmax(ok, 1)
    return np.where(ok.any(1), cand[np.arange(len(a)), first], -1)


def _draw_interpolated(m: int, rng: np.random.Generator, src: _Source) -> tuple[np.ndarray, list[str]]:
    i = rng.integers(len(src.names), size=m)
    partner = np.full(m, -1)
    if src.corpus is not None and len(src.corpus):
        odd = np.arange(1, m, 2)
        partner[odd] = _corpus_partners(i[odd], rng, src)
    other = np.empty((m, sk.NUM_JOINTS, 3), np.float32)
    labels = []
    pick = rng.random(m)
    for k, a in enumerate(i):
        if partner[k] >= 0 and src.corpus is not None:
            other[k] = src.corpus[partner[k]]
            labels.append(f"interp:{src.names[a]}|corpus")
            continue
        js = np.nonzero(src.compat[a])[0]
        b = int(js[int(pick[k] * len(js))]) if len(js) else int(a)
        other[k] = src.full[b]
        labels.append(f"interp:{src.names[a]}|{src.names[b]}")
    t = rng.choice(np.asarray(INTERP_STEPS, np.float32), size=m)
    return slerp(src.full[i], other, t), labels


def _draw(kind: str, m: int, rng: np.random.Generator, src: _Source, start: int) -> tuple[np.ndarray, list[str]]:
    """m candidate poses of one kind (before the library exclusion)."""
    K = len(src.names)
    if kind == "authored":
        order = np.concatenate([rng.permutation(K) for _ in range(m // K + 1)])[:m] if start == 0 \
            else rng.integers(K, size=m)
        return src.full[order].copy(), [src.names[i] for i in order]
    if kind == "interpolated":
        return _draw_interpolated(m, rng, src)
    i = rng.integers(K, size=m)
    full = perturb(src.full[i], rng)
    if kind == "mirrored":
        full = mirror_aa(full)
    return full, [src.names[k] for k in i]


def _fill(kind: str, m: int, rng: np.random.Generator, src: _Source) -> tuple[np.ndarray, list[str]]:
    """m poses of one kind, each at least LIBRARY_EXCLUSION_DEG from the library and (with a body) free of
    self-penetration deeper than PENETRATION_TOLERANCE_M (redrawn until enough)."""
    got_full, got_names, have = [], [], 0
    for _round in range(50):
        if have >= m:
            break
        need = m - have
        full, names = _draw(kind, need + need // 4 + 1, rng, src, have)
        full = canonical(full)
        ok = library_distance(full[:, 1:], full[:, 0]) >= LIBRARY_EXCLUSION_DEG
        if src.body is not None:
            ok &= self_penetration_m(src.body, full) <= PENETRATION_TOLERANCE_M
        keep = np.nonzero(ok)[0][:need]
        got_full.append(full[keep])
        got_names += [names[k] for k in keep]
        have += len(keep)
    if have < m:
        raise CoachingPoseError(f"could not draw {m} {kind} poses outside the library exclusion zone")
    if not got_full:
        return np.zeros((0, sk.NUM_JOINTS, 3), np.float32), []
    return np.concatenate(got_full), got_names


def trainable(authored: dict[str, dict] | None = None) -> tuple[list[str], np.ndarray]:
    """(names, (K,22,3) canonical axis-angle) of the authored poses at least LIBRARY_EXCLUSION_DEG from every library
    pose (the ones :func:`coaching_pose_set` builds on; the others are variants of library poses)."""
    names, full = authored_arrays(authored)
    ok = library_distance(full[:, 1:], full[:, 0]) >= LIBRARY_EXCLUSION_DEG
    return [n for n, k in zip(names, ok) if k], full[ok]


def _source(authored, corpus, body) -> _Source:
    names, full = trainable(authored)
    if not names:
        raise CoachingPoseError("every authored pose is within the library exclusion distance")
    compat = _root_angle_deg(full, full) < INTERP_MAX_ROOT_DEG
    np.fill_diagonal(compat, False)
    corp = load_corpus_train(corpus)
    if isinstance(body, str) and body == "default":
        from core_models.body import load_body

        body = load_body("anny")
    return _Source(names, full, compat, corp, None if corp is None else _quats(corp[:, 0]), body)


@contextmanager
def _one_torch_thread():
    """roma's small batched ops are slower on several threads of a busy machine than on one (4.6 s vs 0.02 s
    measured here under load): run them on one and restore the caller's setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def kind_counts(n: int) -> dict[str, int]:
    """How many poses of each kind a set of ``n`` has (:data:`MIX`, rounded; perturbed takes the remainder)."""
    counts = {k: int(round(n * MIX[k])) for k in KINDS if k != "perturbed"}
    counts["perturbed"] = n - sum(counts.values())
    return {k: counts[k] for k in KINDS}


def coaching_pose_set(n: int, seed: int = 0, corpus="auto", authored: dict[str, dict] | None = None,
                      body="default") -> CoachingPoses:
    """``n`` training poses made from the authored coaching poses (see the module doc), shuffled; deterministic for
    a seed (and the same corpus: ``corpus="auto"`` uses the built default corpus when there is one, None none).
    ``body``: poses whose limbs pass through the body or each other deeper than the plausibility check allows
    (:func:`core_models.plausibility.check_pose`, capsules of this body; "default" = the Anny body) are redrawn;
    None keeps them."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise CoachingPoseError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise CoachingPoseError(f"seed must be an integer, got {seed!r}")
    src = _source(authored, corpus, body)
    rng = np.random.default_rng(int(seed))
    fulls, names, kinds = [], [], []
    with _one_torch_thread():
        for kind, m in kind_counts(int(n)).items():
            full, nm = _fill(kind, m, rng, src)
            fulls.append(full)
            names += nm
            kinds += [kind] * len(nm)
    full = np.concatenate(fulls) if fulls else np.zeros((0, sk.NUM_JOINTS, 3), np.float32)
    order = rng.permutation(len(full))
    full = full[order].astype(np.float32)
    return CoachingPoses(root_orient=np.ascontiguousarray(full[:, 0]), body_pose=np.ascontiguousarray(full[:, 1:]),
                         name=np.array([names[i] for i in order], dtype=str).reshape(-1),
                         kind=np.array([kinds[i] for i in order], dtype=str).reshape(-1))


#: the shipped authored poses by file stem (decoded JSON, validated at import). Some are variants of library
#: (evaluation) poses: train on :func:`trainable` / :func:`coaching_pose_set`, not on all of these.
AUTHORED: dict[str, dict] = load_authored() if TRAIN_POSES_DIR.is_dir() else {}
