"""Is a pose physically plausible?  Joint limits + a capsule model of the body for self-penetration.

``check_pose(body, pose)`` reports
  * joint-limit violations (``Pose``'s Euler-angle boxes, with a small tolerance),
  * a limb passing through the torso / neck / head (limb segment capsule vs core capsule), ignoring the
    torso segment the limb is attached to (upper arm ↔ upper chest, thigh ↔ pelvis),
  * limb–limb interpenetration between different limbs (e.g. a forearm through a thigh).

The capsule model is built once per body from its rest mesh (``capsule_model(body)``, cached): every capsule
is rigidly attached to one joint and defined in rest coordinates by two end points and a radius at each end
(tapered capsule). The torso is wider than deep, so each torso segment is three parallel capsules (centre,
left, right) whose radius is the segment's half-depth. Radii are estimated from the vertices the segment
dominates and shrunk slightly so that ordinary contact (arm resting on the side, belly on the thighs) is not
reported as penetration. A penetration is reported when it is deeper than ``PENETRATION_TOLERANCE_M`` (4 cm;
plus ``ADJACENT_ALLOWANCE_M`` = 3 cm for a limb's first segment against the core segment next to its attachment,
e.g. belly resting on the thighs). About 8 ms per pose on CPU (FK only, no skinning).

``ground_pose(body, pose)`` moves the pose vertically so that its lowest vertex touches the ground plane
``y = body.skinning.floor_height`` (the floor of the zero pose, where the viewport draws its grid).

No Qt here.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from core_models import skeleton as sk
from core_models.pose import Pose, PoseError, limit_violation_deg

J = sk.JOINT_INDEX

#: Default tolerances.
LIMIT_TOLERANCE_DEG = 3.0
PENETRATION_TOLERANCE_M = 0.04

_TORSO_SEGMENTS = (("pelvis", "spine1"), ("spine1", "spine2"), ("spine2", "spine3"), ("spine3", "neck"))
_LIMBS = {
    "left_arm": ("left_shoulder", "left_elbow", "left_wrist"),
    "right_arm": ("right_shoulder", "right_elbow", "right_wrist"),
    "left_leg": ("left_hip", "left_knee", "left_ankle"),
    "right_leg": ("right_hip", "right_knee", "right_ankle"),
}
#: The core segment each limb hangs from: never tested against that limb's first segment.
_ATTACHMENT = {"left_arm": "spine3", "right_arm": "spine3", "left_leg": "pelvis", "right_leg": "pelvis"}
#: Core segments next to the attachment: the limb's first segment rests against them in ordinary poses
#: (belly on the thighs in child's pose, upper arm against the ribs), so they get ``ADJACENT_ALLOWANCE_M`` more.
_ADJACENT = {"left_arm": ("spine2", "neck"), "right_arm": ("spine2", "neck"),
             "left_leg": ("spine1",), "right_leg": ("spine1",)}
ADJACENT_ALLOWANCE_M = 0.03

_NICE = {
    "left_shoulder": "left upper arm", "right_shoulder": "right upper arm",
    "left_elbow": "left forearm", "right_elbow": "right forearm",
    "left_wrist": "left hand", "right_wrist": "right hand",
    "left_hip": "left thigh", "right_hip": "right thigh",
    "left_knee": "left shin", "right_knee": "right shin",
    "left_ankle": "left foot", "right_ankle": "right foot",
    "pelvis": "pelvis", "spine1": "lower torso", "spine2": "mid torso", "spine3": "chest",
    "neck": "neck", "head": "head",
}


@dataclass(frozen=True)
class Capsule:
    """A tapered capsule rigidly attached to joint ``joint``; end points in rest coordinates."""

    name: str  # the segment it belongs to (joint name of the segment's frame)
    joint: int
    p0: np.ndarray  # (3,)
    p1: np.ndarray  # (3,)
    r0: float
    r1: float
    group: str  # "core" or a limb name


@dataclass
class CapsuleModel:
    core: list[Capsule]
    limbs: dict[str, list[Capsule]]  # limb → capsules proximal → distal (one per segment)


@dataclass
class PlausibilityIssue:
    kind: str  # "joint_limit" | "torso_penetration" | "limb_penetration"
    joints: tuple[str, ...]
    amount: float  # degrees for joint limits, metres for penetrations
    message: str


@dataclass
class PlausibilityReport:
    ok: bool
    issues: list[PlausibilityIssue] = field(default_factory=list)

    def __bool__(self) -> bool:  # `if check_pose(...)` reads naturally
        return self.ok

    def summary(self) -> str:
        if self.ok:
            return "plausible"
        return "; ".join(i.message for i in self.issues)


# --- capsule model ------------------------------------------------------------------------------------

def _radius_profile(pts: np.ndarray, a: np.ndarray, b: np.ndarray, pct: float) -> tuple[float, float]:
    """Radii near each end of the segment a→b: a percentile of the vertices' distances to the axis."""
    d = b - a
    L2 = float(d @ d)
    t = np.clip((pts - a) @ d / L2, 0.0, 1.0)
    dist = np.linalg.norm(pts - (a + t[:, None] * d), axis=1)
    near0, near1 = dist[t < 0.4], dist[t > 0.6]
    allr = float(np.percentile(dist, pct)) if len(dist) else 0.03
    r0 = float(np.percentile(near0, pct)) if len(near0) > 8 else allr
    r1 = float(np.percentile(near1, pct)) if len(near1) > 8 else allr
    return r0, r1


def build_capsule_model(body, shrink: float = 0.9) -> CapsuleModel:
    """Estimate the capsules from the body's rest mesh and skinning weights."""
    s = body.skinning
    V = np.asarray(s.rest_vertices, np.float64)
    RJ = np.asarray(s.rest_joints, np.float64)
    dom = np.asarray(s.weights).argmax(1)
    core: list[Capsule] = []

    # torso: 3 parallel capsules per segment (centre, left, right); radius = half-depth
    for a_name, b_name in _TORSO_SEGMENTS:
        j, c = J[a_name], J[b_name]
        pts = V[dom == j]
        a, b = RJ[j], RJ[c]
        zlo, zhi = np.percentile(pts[:, 2], [3, 97])
        xhalf = float(np.percentile(np.abs(pts[:, 0] - a[0]), 97))
        half_depth = 0.5 * float(zhi - zlo)
        zc = 0.5 * float(zlo + zhi)
        a2, b2 = a.copy(), b.copy()
        a2[2] = b2[2] = zc  # centre the axis in depth (the spine joints lie towards the back)
        r = half_depth * shrink
        off = max(xhalf - half_depth, 0.0)
        core.append(Capsule(a_name, j, a2, b2, r, r, "core"))
        if off > 0.01:
            for sgn in (1.0, -1.0):
                o = np.array([sgn * off, 0.0, 0.0])
                core.append(Capsule(a_name, j, a2 + o, b2 + o, r, r, "core"))

    # neck and head
    j = J["neck"]
    pts = V[dom == j]
    r0, r1 = _radius_profile(pts, RJ[j], RJ[J["head"]], 50)
    core.append(Capsule("neck", j, RJ[j], RJ[J["head"]], r0 * shrink, r1 * shrink, "core"))
    j = J["head"]
    pts = V[dom == j]
    lo, hi = np.percentile(pts, 2, axis=0), np.percentile(pts, 98, axis=0)
    ctr = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo)
    r = float(min(half[0], half[2])) * shrink
    h = max(float(half[1]) - r, 0.0)
    core.append(Capsule("head", j, ctr - [0, h, 0], ctr + [0, h, 0], r, r, "core"))

    limbs: dict[str, list[Capsule]] = {}
    for limb, (j0, j1, j2) in _LIMBS.items():
        caps = []
        for a_name, b_name in ((j0, j1), (j1, j2)):
            j, c = J[a_name], J[b_name]
            r0, r1 = _radius_profile(V[dom == j], RJ[j], RJ[c], 50)
            caps.append(Capsule(a_name, j, RJ[j], RJ[c], r0 * shrink, r1 * shrink, limb))
        # distal end effector: hand (wrist frame) or foot (ankle frame incl. toes)
        j = J[j2]
        if limb.endswith("arm"):
            pts = V[dom == j]
            a = RJ[j]
            d = RJ[j] - RJ[J[j1]]
            d /= np.linalg.norm(d)
            ext = float(np.percentile((pts - a) @ d, 97))
            p0 = a + d * 0.02
            p1 = a + d * max(ext - 0.03, 0.05)
            thick = float(np.percentile(np.abs(pts[:, 1] - a[1]), 60))
            caps.append(Capsule(j2, j, p0, p1, max(thick, 0.02) * shrink, max(thick * 0.7, 0.015) * shrink, limb))
        else:
            toe = J["left_foot"] if limb == "left_leg" else J["right_foot"]
            pts = V[(dom == j) | (dom == toe)]
            zlo, zhi = np.percentile(pts[:, 2], [2, 99])
            ylo, yhi = np.percentile(pts[:, 1], [2, 98])
            r = 0.5 * float(yhi - ylo) * shrink * 0.8
            yc = float(ylo) + r
            x = float(RJ[j, 0])
            p0 = np.array([x, yc + 0.02, zlo + r])
            p1 = np.array([float(RJ[toe, 0]), yc, zhi - r])
            caps.append(Capsule(j2, j, p0, p1, r * 1.2, r, limb))
        limbs[limb] = caps
    return CapsuleModel(core, limbs)


_CACHE: "weakref.WeakKeyDictionary[object, CapsuleModel]" = weakref.WeakKeyDictionary()


def capsule_model(body) -> CapsuleModel:
    """The body's capsule model (built once, cached per body object)."""
    try:
        m = _CACHE.get(body)
    except TypeError:
        return build_capsule_model(body)
    if m is None:
        m = build_capsule_model(body)
        try:
            _CACHE[body] = m
        except TypeError:
            pass
    return m


# --- geometry -----------------------------------------------------------------------------------------

def segment_closest(p1: np.ndarray, q1: np.ndarray, p2: np.ndarray, q2: np.ndarray) -> tuple[float, float, float]:
    """Closest points between segments p1q1 and p2q2 → (distance, s on the first, t on the second)."""
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e, f = float(d1 @ d1), float(d2 @ d2), float(d2 @ r)
    eps = 1e-12
    if a <= eps and e <= eps:
        return float(np.linalg.norm(r)), 0.0, 0.0
    if a <= eps:
        s, t = 0.0, min(max(f / e, 0.0), 1.0)
    else:
        c = float(d1 @ r)
        if e <= eps:
            t, s = 0.0, min(max(-c / a, 0.0), 1.0)
        else:
            b = float(d1 @ d2)
            den = a * e - b * b
            s = min(max((b * f - c * e) / den, 0.0), 1.0) if den > eps else 0.0
            t = (b * s + f) / e
            if t < 0.0:
                t, s = 0.0, min(max(-c / a, 0.0), 1.0)
            elif t > 1.0:
                t, s = 1.0, min(max((b - c) / a, 0.0), 1.0)
    c1, c2 = p1 + d1 * s, p2 + d2 * t
    return float(np.linalg.norm(c1 - c2)), s, t


def _posed_capsules(caps: list[Capsule], skin: np.ndarray) -> list[tuple[Capsule, np.ndarray, np.ndarray]]:
    out = []
    for c in caps:
        A = skin[c.joint]
        out.append((c, A[:, :3] @ c.p0 + A[:, 3], A[:, :3] @ c.p1 + A[:, 3]))
    return out


def _penetration(ca, a0, a1, cb, b0, b1) -> float:
    dist, s, t = segment_closest(a0, a1, b0, b1)
    ra = ca.r0 + (ca.r1 - ca.r0) * s
    rb = cb.r0 + (cb.r1 - cb.r0) * t
    return ra + rb - dist


# --- the check ----------------------------------------------------------------------------------------

def _single(pose: Pose) -> Pose:
    if not isinstance(pose, Pose):
        raise PoseError(f"expected a Pose, got {type(pose).__name__}")
    if pose.batch_shape != ():
        raise PoseError(f"check_pose takes one pose, got a batch of shape {pose.batch_shape}")
    return pose


@dataclass
class Contact:
    """One tested capsule pair: ``depth`` > 0 is overlap (metres); ``allowance`` is extra overlap that
    counts as ordinary soft-tissue contact for this pair."""

    kind: str  # "torso_penetration" | "limb_penetration"
    a: str
    b: str
    depth: float
    allowance: float = 0.0


def penetrations(body, pose: Pose) -> list[Contact]:
    """Deepest overlap of every (limb segment, core segment) and (limb segment, other limb's segment)
    pair; depth ≤ 0 means apart."""
    pose = _single(pose)
    model = capsule_model(body)
    skin = _skin(body, pose)
    core = _posed_capsules(model.core, skin)
    limbs = {k: _posed_capsules(v, skin) for k, v in model.limbs.items()}
    best: dict[tuple[str, str, str], Contact] = {}

    def keep(kind, ca, cb, d, allowance=0.0):
        key = (kind, ca.name, cb.name)
        if key not in best or d > best[key].depth:
            best[key] = Contact(kind, ca.name, cb.name, float(d), allowance)

    for limb, caps in limbs.items():
        for i, (cl, l0, l1) in enumerate(caps):
            for cc, c0, c1 in core:
                if i == 0 and cc.name == _ATTACHMENT[limb]:
                    continue
                allow = ADJACENT_ALLOWANCE_M if i == 0 and cc.name in _ADJACENT[limb] else 0.0
                keep("torso_penetration", cl, cc, _penetration(cl, l0, l1, cc, c0, c1), allow)
    names = list(limbs)
    for ia in range(len(names)):
        for ib in range(ia + 1, len(names)):
            for ca, a0, a1 in limbs[names[ia]]:
                for cb, b0, b1 in limbs[names[ib]]:
                    keep("limb_penetration", ca, cb, _penetration(ca, a0, a1, cb, b0, b1))
    return list(best.values())


def _skin(body, pose: Pose) -> np.ndarray:
    """Rest→posed rigid transforms per joint (FK only, no skinning of the vertices)."""
    from core_models import kinematics as kin
    from core_models.pose import aa_to_matrix

    R = aa_to_matrix(pose.full().astype(np.float64))
    _, _, skin = kin.fk_numpy(R, np.asarray(body.skinning.rest_joints, np.float64), body.skinning.parents)
    skin = skin.copy()
    skin[..., 3] += pose.transl.astype(np.float64)
    return skin


def check_pose(body, pose: Pose, *, limit_tolerance_deg: float = LIMIT_TOLERANCE_DEG,
               penetration_tolerance_m: float = PENETRATION_TOLERANCE_M) -> PlausibilityReport:
    """Joint limits + self-penetration of one pose on ``body``. Raises PoseError for a batched/invalid pose."""
    pose = _single(pose)
    issues: list[PlausibilityIssue] = []
    viol = limit_violation_deg(pose)
    for j in np.nonzero(viol > limit_tolerance_deg)[0]:
        name = sk.JOINT_NAMES[int(j)]
        issues.append(PlausibilityIssue("joint_limit", (name,), float(viol[j]),
                                        f"{name.replace('_', ' ')} is {viol[j]:.0f}° beyond its range"))
    for c in penetrations(body, pose):
        if c.depth > penetration_tolerance_m + c.allowance:
            what = "passes through the" if c.kind == "torso_penetration" else "intersects the"
            issues.append(PlausibilityIssue(c.kind, (c.a, c.b), c.depth,
                                            f"{_NICE.get(c.a, c.a)} {what} {_NICE.get(c.b, c.b)} "
                                            f"({c.depth * 100:.0f} cm deep)"))
    issues.sort(key=lambda i: (i.kind != "joint_limit", -i.amount))
    return PlausibilityReport(ok=not issues, issues=issues)


def lowest_point(body, pose: Pose) -> float:
    """y of the pose's lowest vertex."""
    return float(body.forward(_single(pose)).vertices[:, 1].min())


def ground_pose(body, pose: Pose, floor: float | None = None) -> Pose:
    """A copy of ``pose`` translated vertically so its lowest vertex touches ``y = floor``
    (default: ``body.skinning.floor_height``, the zero pose's floor)."""
    pose = _single(pose)
    floor = float(body.skinning.floor_height) if floor is None else float(floor)
    out = pose.copy()
    out.transl[1] += floor - lowest_point(body, pose)
    return out
