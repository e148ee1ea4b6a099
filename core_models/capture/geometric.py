"""Geometric landmarks → SMPL-H pose solver: the capture pipeline's fallback regressor (no learned weights).

Bone-direction solving on the 22-joint tree, frame by frame, in closed form (no iterations, ~0.3 ms):

* **root** from the hip line (lateral axis, weight 2) and the hip→shoulder line (up axis) — Wahba/SVD;
* **spine1..3** share evenly the rotation from the root frame to the chest frame (shoulder line + up);
* **neck, head** share the rotation from the chest to the head frame (ear line, ears→nose forward);
* **shoulders, hips** (ball joints) take the upper limb's direction *and* its twist from the elbow/knee hinge
  plane (upper × lower limb normal; it is the rest hinge axis −y/+y for the left/right elbow, +x for knees),
  blended towards the swing-only solution when the limb is nearly straight (the plane is then undefined);
* **elbows, knees** the minimal rotation onto the forearm/shin direction (a pure hinge given the parent's twist);
* **wrists** from the hand direction (wrist → index/pinky middle) and the pinky→index line; **ankles** from
  the heel→toe direction; collars and toes stay at rest (MediaPipe does not see them).

Limbs whose landmarks are gated out (low visibility) keep a neutral pose (legs straight, arms relaxed down) —
or the previous frame's, when one is given. Finally the joint limits are applied (:func:`clamp_local_matrices`, the numpy twin of
:func:`core_models.pose.clamp_to_limits`).
:func:`landmarks_from_joints` is the forward model used by the tests (posed skeleton → the world landmarks
this solver expects).
"""
from __future__ import annotations

import math

import numpy as np

from core_models import skeleton as sk
from core_models.capture.landmarks import LM, NUM_LANDMARKS, Landmarks
from core_models.pose import Pose

J = sk.JOINT_INDEX
# rest-frame directions of the non-joint landmarks (our frame: x left, y up, z forward)
_REST_FWD_HEAD = np.array([0.0, -0.2, 1.0]) / np.linalg.norm([0.0, -0.2, 1.0])  # ears middle → nose
_ARM_DOWN_DEG = 65.0  # the neutral "relaxed" arm for unseen arms: lowered from the T-pose by this much


def _cross(a, b):
    """3-vector cross product (np.cross is ~20x slower on single vectors)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _norm(v) -> float:
    return math.sqrt(float(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))


def _unit(v, eps=1e-9):
    return v / max(_norm(v), eps)


def _exp(w):
    """Rodrigues: rotation vector (3,) → matrix."""
    th = _norm(w)
    if th < 1e-12:
        return np.eye(3)
    k = w / th
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(th) * K + (1 - np.cos(th)) * (K @ K)


def _log(R):
    """matrix → rotation vector (3,)."""
    c = np.clip((np.trace(R) - 1) / 2, -1.0, 1.0)
    th = np.arccos(c)
    if th < 1e-9:
        return np.zeros(3)
    v = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    s = np.sin(th)
    if s < 1e-6:  # ~180°: axis from the symmetric part
        A = (R + np.eye(3)) / 2
        k = _unit(A[np.argmax(np.diag(A))])
        return k * th
    return v * (th / (2 * s))


def _rot_between(a, b):
    """Smallest rotation taking unit direction a onto unit direction b."""
    a, b = _unit(a), _unit(b)
    v = _cross(a, b)
    s, c = _norm(v), float(a @ b)
    if s < 1e-9:
        if c > 0:
            return np.eye(3)
        perp = _unit(_cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0]))
        return _exp(perp * np.pi)
    return _exp(v / s * np.arctan2(s, c))


def _wahba(pairs):
    """Rotation R minimising sum w·|R a − b|² over (a, b, w) direction pairs (SVD)."""
    H = np.zeros((3, 3))
    for a, b, w in pairs:
        H += w * np.outer(_unit(b), _unit(a))
    U, _s, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(U @ Vt)) or 1.0
    return U @ np.diag([1.0, 1.0, d]) @ Vt


def _frame(u, v):
    """Orthonormal frame (columns) from a main direction u and a secondary direction v (made ⊥ u)."""
    e1 = _unit(u)
    e2 = _unit(v - np.dot(v, e1) * e1)
    return np.stack([e1, e2, _cross(e1, e2)], axis=1)


def _share(R, k):
    """The rotation whose k-th power is R (same axis, angle / k)."""
    return _exp(_log(R) / k)


def _slerp(Ra, Rb, t):
    return Ra @ _exp(_log(Ra.T @ Rb) * float(t))


class GeometricSolver:
    """World landmarks (our frame) → Pose on a rest skeleton (default: :data:`core_models.skeleton.DEFAULT_REST_JOINTS`)."""

    def __init__(self, rest_joints: np.ndarray | None = None, gate: float = 0.5, clamp: bool = True):
        self.rest = np.asarray(rest_joints if rest_joints is not None else sk.DEFAULT_REST_JOINTS, np.float64)
        self.gate, self.clamp = float(gate), bool(clamp)
        r = self.rest
        self._rest_dir = {j: _unit(r[c] - r[j]) for j, c in (
            (J["left_shoulder"], J["left_elbow"]), (J["right_shoulder"], J["right_elbow"]),
            (J["left_elbow"], J["left_wrist"]), (J["right_elbow"], J["right_wrist"]),
            (J["left_hip"], J["left_knee"]), (J["right_hip"], J["right_knee"]),
            (J["left_knee"], J["left_ankle"]), (J["right_knee"], J["right_ankle"]))}
        mid_sh = (r[J["left_shoulder"]] + r[J["right_shoulder"]]) / 2
        mid_hip = (r[J["left_hip"]] + r[J["right_hip"]]) / 2
        self._rest_up = _unit(mid_sh - mid_hip)
        self._rest_head_up = _unit(r[J["head"]] - mid_sh)
        # neutral local rotations for limbs that are not seen
        self._arm_down = {J["left_shoulder"]: _exp(np.array([0, 0, -np.radians(_ARM_DOWN_DEG)])),
                          J["right_shoulder"]: _exp(np.array([0, 0, np.radians(_ARM_DOWN_DEG)]))}

    # --- limbs ------------------------------------------------------------------------------------------
    def _ball(self, G_parent, j, upper, lower, bend_dir):
        """Global rotation of a shoulder/hip: direction of the upper limb + twist from the hinge plane.
        bend_dir: the rest-frame direction the lower limb bends towards (elbows +z, knees −z)."""
        rest_u = self._rest_dir[j]
        swing = _rot_between(G_parent @ rest_u, upper) @ G_parent
        n = _cross(_unit(upper), _unit(lower))
        s = _norm(n)
        w = np.clip((s - 0.1) / 0.25, 0.0, 1.0)
        if w <= 0:
            return swing
        n_rest = _unit(_cross(rest_u, bend_dir))
        hinge = _frame(upper, n) @ _frame(rest_u, n_rest).T
        return _slerp(swing, hinge, w)

    def solve_globals(self, world: np.ndarray, ok: np.ndarray | None = None, prev_local: np.ndarray | None = None):
        """(22, 3, 3) global rotations and a (22,) bool of joints actually observed."""
        W = np.asarray(world, np.float64)
        ok = np.ones(NUM_LANDMARKS, bool) if ok is None else np.asarray(ok, bool)
        G = np.tile(np.eye(3), (sk.NUM_JOINTS, 1, 1))
        seen = np.zeros(sk.NUM_JOINTS, bool)
        P = sk.PARENTS
        lhip, rhip, lsh, rsh = W[LM["left_hip"]], W[LM["right_hip"]], W[LM["left_shoulder"]], W[LM["right_shoulder"]]
        mid_hip, mid_sh = (lhip + rhip) / 2, (lsh + rsh) / 2
        up = mid_sh - mid_hip
        # root and spine
        G[0] = _wahba([(np.array([1.0, 0, 0]), lhip - rhip, 2.0), (self._rest_up, up, 1.0)])
        chest = _wahba([(np.array([1.0, 0, 0]), lsh - rsh, 2.0), (self._rest_up, up, 1.0)])
        seen[0] = ok[[LM["left_hip"], LM["right_hip"]]].all()
        L = _share(G[0].T @ chest, 3)
        for j in ("spine1", "spine2", "spine3"):
            G[J[j]] = G[P[J[j]]] @ L
            seen[J[j]] = ok[[LM["left_shoulder"], LM["right_shoulder"]]].all() and seen[0]
        # neck and head
        lear, rear, nose = W[LM["left_ear"]], W[LM["right_ear"]], W[LM["nose"]]
        mid_ear = (lear + rear) / 2
        head = _wahba([(np.array([1.0, 0, 0]), lear - rear, 1.0), (_REST_FWD_HEAD, nose - mid_ear, 1.0),
                       (self._rest_head_up, mid_ear - mid_sh, 0.5)])
        G3 = G[J["spine3"]]
        Lh = _share(G3.T @ head, 2)
        G[J["neck"]] = G3 @ Lh
        G[J["head"]] = G[J["neck"]] @ Lh
        seen[J["neck"]] = seen[J["head"]] = ok[[LM["nose"], LM["left_ear"], LM["right_ear"]]].sum() >= 2
        for s in ("left", "right"):
            G[J[f"{s}_collar"]] = G3
            seen[J[f"{s}_collar"]] = seen[J["spine3"]]  # at rest by design: as good as the chest
            # arm
            sh, el, wr = J[f"{s}_shoulder"], J[f"{s}_elbow"], J[f"{s}_wrist"]
            a_sh, a_el, a_wr = W[LM[f"{s}_shoulder"]], W[LM[f"{s}_elbow"]], W[LM[f"{s}_wrist"]]
            arm_ok = ok[[LM[f"{s}_shoulder"], LM[f"{s}_elbow"]]].all()
            fore_ok = arm_ok and ok[LM[f"{s}_wrist"]]
            if arm_ok:
                G[sh] = self._ball(G3, sh, a_el - a_sh, a_wr - a_el, np.array([0, 0, 1.0]))
            else:
                G[sh] = G3 @ self._neutral(prev_local, sh, self._arm_down[sh])
            if fore_ok:
                G[el] = _rot_between(G[sh] @ self._rest_dir[el], a_wr - a_el) @ G[sh]
            else:
                G[el] = G[sh] @ self._neutral(prev_local, el, np.eye(3))
            idx, pinky = W[LM[f"{s}_index"]], W[LM[f"{s}_pinky"]]
            if fore_ok and ok[[LM[f"{s}_index"], LM[f"{s}_pinky"]]].all():
                hand = (idx + pinky) / 2 - a_wr
                rest_hand = np.array([1.0 if s == "left" else -1.0, 0, 0])
                G[wr] = _frame(hand, idx - pinky) @ _frame(rest_hand, np.array([0, 0, 1.0])).T
                seen[wr] = True
            else:
                G[wr] = G[el] @ self._neutral(prev_local, wr, np.eye(3))
            seen[sh], seen[el] = arm_ok, fore_ok
            # leg
            hp, kn, an, ft = J[f"{s}_hip"], J[f"{s}_knee"], J[f"{s}_ankle"], J[f"{s}_foot"]
            l_hp, l_kn, l_an = W[LM[f"{s}_hip"]], W[LM[f"{s}_knee"]], W[LM[f"{s}_ankle"]]
            leg_ok = ok[[LM[f"{s}_hip"], LM[f"{s}_knee"]]].all()
            shin_ok = leg_ok and ok[LM[f"{s}_ankle"]]
            if leg_ok:
                G[hp] = self._ball(G[0], hp, l_kn - l_hp, l_an - l_kn, np.array([0, 0, -1.0]))
            else:
                G[hp] = G[0] @ self._neutral(prev_local, hp, np.eye(3))
            if shin_ok:
                G[kn] = _rot_between(G[hp] @ self._rest_dir[kn], l_an - l_kn) @ G[hp]
            else:
                G[kn] = G[hp] @ self._neutral(prev_local, kn, np.eye(3))
            heel, toe = W[LM[f"{s}_heel"]], W[LM[f"{s}_foot_index"]]
            if shin_ok and ok[[LM[f"{s}_heel"], LM[f"{s}_foot_index"]]].all():
                G[an] = _rot_between(G[kn] @ np.array([0, 0, 1.0]), toe - heel) @ G[kn]
                seen[an] = True
            else:
                G[an] = G[kn] @ self._neutral(prev_local, an, np.eye(3))
            G[ft] = G[an]
            seen[hp], seen[kn], seen[ft] = leg_ok, shin_ok, seen[an]
        return G, seen

    @staticmethod
    def _neutral(prev_local, j, default):
        return prev_local[j] if prev_local is not None else default

    def solve(self, lm: Landmarks, prev: Pose | np.ndarray | None = None) -> tuple[Pose, np.ndarray]:
        """Pose (transl 0) and (22,) bool of the joints actually observed. ``prev``: the previous frame's Pose
        or its (22, 3, 3) local matrices (unseen limbs hold it)."""
        pose, seen, _local = self.solve_local(lm, prev)
        return pose, seen

    def solve_local(self, lm: Landmarks, prev: Pose | np.ndarray | None = None):
        """:meth:`solve` plus the (22, 3, 3) local rotation matrices (feed them back as ``prev``)."""
        ok = lm.confidence(self.gate)
        if isinstance(prev, Pose):
            prev = prev.matrices().astype(np.float64)
        G, seen = self.solve_globals(lm.world, ok, prev)
        local = np.empty_like(G)
        local[0] = G[0]
        par = sk.PARENTS
        for j in range(1, sk.NUM_JOINTS):
            local[j] = G[par[j]].T @ G[j]
        if self.clamp:
            local = clamp_local_matrices(local)
        return Pose.from_full(matrices_to_aa(local).astype(np.float32)), seen, local


# --- forward model (tests, sanity checks) ---------------------------------------------------------------

def landmarks_from_joints(pose: Pose, rest_joints: np.ndarray | None = None, image_size=(640, 480),
                          focal: float = 1.2, distance: float = 3.0) -> Landmarks:
    """The 33 world landmarks (our frame, hip centre at the origin) of a posed rest skeleton, consistent with
    :class:`GeometricSolver`'s conventions (joints where BlazePose has them; face, hand and foot landmarks at
    fixed offsets in their joint's frame), and their projection through a pinhole camera ``distance`` metres
    in front (+z) of the body. Visibility and presence are 1."""
    from core_models.kinematics import fk_numpy

    rest = np.asarray(rest_joints if rest_joints is not None else sk.DEFAULT_REST_JOINTS, np.float64)
    Rg, Jp, _ = fk_numpy(pose.matrices().astype(np.float64), rest)
    out = np.zeros((NUM_LANDMARKS, 3))

    def at(j, offset):
        return Jp[j] + Rg[j] @ np.asarray(offset, np.float64)

    for s, sg in (("left", 1.0), ("right", -1.0)):
        for name in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            out[LM[f"{s}_{name}"]] = Jp[J[f"{s}_{name}"]]
        wr, an, hd = J[f"{s}_wrist"], J[f"{s}_ankle"], J["head"]
        out[LM[f"{s}_index"]] = at(wr, [sg * 0.09, 0.0, 0.03])
        out[LM[f"{s}_pinky"]] = at(wr, [sg * 0.08, 0.0, -0.03])
        out[LM[f"{s}_thumb"]] = at(wr, [sg * 0.05, 0.0, 0.05])
        out[LM[f"{s}_heel"]] = at(an, [0.0, -0.05, -0.06])
        out[LM[f"{s}_foot_index"]] = at(an, [0.0, -0.05, 0.16])
        out[LM[f"{s}_ear"]] = at(hd, [sg * 0.075, 0.05, -0.02])
        out[LM[f"{s}_eye"]] = at(hd, [sg * 0.032, 0.08, 0.085])
        out[LM[f"{s}_eye_inner"]] = at(hd, [sg * 0.018, 0.08, 0.09])
        out[LM[f"{s}_eye_outer"]] = at(hd, [sg * 0.048, 0.08, 0.08])
        out[LM[f"mouth_{s}"]] = at(hd, [sg * 0.025, 0.0, 0.09])
    # nose: 0.1 in front of the ears' middle and 0.02 below it (the rest ears→nose direction of the solver)
    out[LM["nose"]] = at(J["head"], [0.0, 0.05 - 0.02, -0.02 + 0.10])
    out -= (out[LM["left_hip"]] + out[LM["right_hip"]]) / 2
    # pinhole projection: camera at +z looking at -z; image x right = +x, image y down = -y
    w, h = image_size
    depth = distance - out[:, 2]
    f = focal * max(w, h)
    px = w / 2 + f * out[:, 0] / depth
    py = h / 2 - f * out[:, 1] / depth
    img = np.stack([px / w, py / h, (-out[:, 2]) * f / depth / w], axis=1)
    one = np.ones(NUM_LANDMARKS, np.float32)
    return Landmarks(img, out, one, one, (w, h), 0.0)


# --- fast numpy rotation helpers (the per-frame path avoids torch call overheads) -----------------------

def matrices_to_aa(R: np.ndarray) -> np.ndarray:
    """(N, 3, 3) → (N, 3) rotation vectors (numpy, vectorised; through quaternions by Shepperd's method, so
    rotations near 180° stay exact)."""
    R = np.asarray(R, np.float64)
    m00, m11, m22 = R[:, 0, 0], R[:, 1, 1], R[:, 2, 2]
    tr = m00 + m11 + m22
    q = np.empty((len(R), 4))  # w, x, y, z
    case = np.argmax(np.stack([tr, m00, m11, m22], -1), axis=-1)
    for k in range(4):
        i = case == k
        if not i.any():
            continue
        r = R[i]
        if k == 0:
            t = np.sqrt(1.0 + tr[i]) * 2
            q[i] = np.stack([t / 4, (r[:, 2, 1] - r[:, 1, 2]) / t, (r[:, 0, 2] - r[:, 2, 0]) / t,
                             (r[:, 1, 0] - r[:, 0, 1]) / t], -1)
        elif k == 1:
            t = np.sqrt(1.0 + m00[i] - m11[i] - m22[i]) * 2
            q[i] = np.stack([(r[:, 2, 1] - r[:, 1, 2]) / t, t / 4, (r[:, 0, 1] + r[:, 1, 0]) / t,
                             (r[:, 0, 2] + r[:, 2, 0]) / t], -1)
        elif k == 2:
            t = np.sqrt(1.0 + m11[i] - m00[i] - m22[i]) * 2
            q[i] = np.stack([(r[:, 0, 2] - r[:, 2, 0]) / t, (r[:, 0, 1] + r[:, 1, 0]) / t, t / 4,
                             (r[:, 1, 2] + r[:, 2, 1]) / t], -1)
        else:
            t = np.sqrt(1.0 + m22[i] - m00[i] - m11[i]) * 2
            q[i] = np.stack([(r[:, 1, 0] - r[:, 0, 1]) / t, (r[:, 0, 2] + r[:, 2, 0]) / t,
                             (r[:, 1, 2] + r[:, 2, 1]) / t, t / 4], -1)
    q *= np.where(q[:, :1] < 0, -1.0, 1.0)  # w >= 0: angle in [0, pi]
    n = np.linalg.norm(q[:, 1:], axis=-1)
    ang = 2 * np.arctan2(n, q[:, 0])
    scale = np.where(n > 1e-12, ang / np.maximum(n, 1e-12), 2.0)
    return q[:, 1:] * scale[:, None]


def euler_xyz_deg(R: np.ndarray) -> np.ndarray:
    """(N, 3, 3) → (N, 3) intrinsic XYZ Euler angles in degrees (R = Rx·Ry·Rz), as core_models.pose uses."""
    a = np.arctan2(-R[:, 1, 2], R[:, 2, 2])
    b = np.arcsin(np.clip(R[:, 0, 2], -1.0, 1.0))
    c = np.arctan2(-R[:, 0, 1], R[:, 0, 0])
    return np.degrees(np.stack([a, b, c], axis=-1))


def euler_xyz_to_matrices(e_deg: np.ndarray) -> np.ndarray:
    a, b, c = np.radians(e_deg).T
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    R = np.empty((len(a), 3, 3))
    R[:, 0, 0], R[:, 0, 1], R[:, 0, 2] = cb * cc, -cb * sc, sb
    R[:, 1, 0] = ca * sc + sa * sb * cc
    R[:, 1, 1] = ca * cc - sa * sb * sc
    R[:, 1, 2] = -sa * cb
    R[:, 2, 0] = sa * sc - ca * sb * cc
    R[:, 2, 1] = sa * cc + ca * sb * sc
    R[:, 2, 2] = ca * cb
    return R


def _excess(e, lo, hi):
    return np.maximum(np.maximum(lo - e, e - hi), 0.0).max(-1)


def _wrap(e):
    return (e + 180.0) % 360.0 - 180.0


def clamp_local_matrices(local: np.ndarray, limits: np.ndarray = sk.JOINT_LIMITS_DEG) -> np.ndarray:
    """Joint limits on (22, 3, 3) local matrices (root left free): the numpy twin of
    :func:`core_models.pose.clamp_to_limits`, plus gimbal-lock awareness. A joint is changed only when every
    XYZ decomposition of its rotation is outside its Euler box: the two exact ones and, near gimbal lock
    (|y| > 60°, e.g. an elbow flexed 90° or an arm raised forward — common in capture), the ones that move the
    x/z angle sum or difference onto one axis (kept when within 2° of the rotation). Otherwise the primary
    decomposition is clipped, as core_models.pose does."""
    e = euler_xyz_deg(local)
    alt = _wrap(np.stack([e[:, 0] + 180.0, 180.0 - e[:, 1], e[:, 2] + 180.0], -1))
    lo, hi = limits[..., 0], limits[..., 1]
    fix = np.minimum(_excess(e, lo, hi), _excess(alt, lo, hi)) > 0
    fix[0] = False
    if not fix.any():
        return local
    out = local.copy()
    for j in np.nonzero(fix)[0]:
        cands = [e[j], alt[j]]
        for a, b, c in ((e[j], alt[j]) if abs(e[j, 1]) > 60.0 else ()):
            cands += [_wrap(np.array(x)) for x in ((a + c, b, 0.0), (a - c, b, 0.0), (0.0, b, c + a),
                                                    (0.0, b, c - a))]
        cands = np.stack(cands)
        Rc = euler_xyz_to_matrices(cands)
        cos = (np.einsum("nij,ij->n", Rc, local[j]) - 1) / 2
        close = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) < 2.0
        close[:2] = True
        exc = np.where(close, _excess(cands, lo[j], hi[j]), np.inf)
        if exc.min() > 0:  # no decomposition within the box: clip the primary one (as core_models.pose does)
            out[j] = euler_xyz_to_matrices(np.clip(e[j], lo[j], hi[j])[None])[0]
    return out
