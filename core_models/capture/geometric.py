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
or the previous frame's, when one is given. Finally the joint limits are applied
(:func:`core_models.pose.clamp_matrices`, the matrix-level :func:`core_models.pose.clamp_to_limits`).
Rotations use :mod:`core_models.pose`'s numpy closed forms (a roma/torch call costs more than a whole frame).
:func:`landmarks_from_joints` is the forward model used by the tests (posed skeleton → the world landmarks
this solver expects).
"""
from __future__ import annotations

import math

import numpy as np

from core_models import skeleton as sk
from core_models.capture.landmarks import LM, NUM_LANDMARKS, Landmarks
from core_models.pose import (
    Pose,
    aa_to_matrix_np,
    clamp_matrices,
    matrix_to_aa_np,
    nearest_rotation_np,
    rotation_between_np,
)

J = sk.JOINT_INDEX
# rest-frame directions of the non-joint landmarks (our frame: x left, y up, z forward)
_REST_FWD_HEAD = np.array([0.0, -0.2, 1.0]) / np.linalg.norm([0.0, -0.2, 1.0])  # ears middle → nose
_ARM_DOWN_DEG = 65.0  # the neutral "relaxed" arm for unseen arms: lowered from the T-pose by this much
_EYE = np.eye(3)
_EYE.flags.writeable = False


def _cross(a, b):
    """3-vector cross product (np.cross is ~20x slower on single vectors)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _norm(v) -> float:
    return math.sqrt(float(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))


def _unit(v, eps=1e-9):
    return v / max(_norm(v), eps)


def _wahba_matrix(pairs):
    """Σ w·b·aᵀ over (a, b, w) direction pairs: its nearest rotation minimises Σ w·|R a − b|² (Wahba)."""
    return sum(w * np.outer(_unit(b), _unit(a)) for a, b, w in pairs)


def _frame(u, v):
    """Orthonormal frame (columns) from a main direction u and a secondary direction v (made ⊥ u)."""
    e1 = _unit(u)
    e2 = _unit(v - np.dot(v, e1) * e1)
    F = np.empty((3, 3))
    F[:, 0], F[:, 1], F[:, 2] = e1, e2, _cross(e1, e2)
    return F


def _share(R, k):
    """The rotation whose k-th power is R (same axis, angle / k)."""
    return aa_to_matrix_np(matrix_to_aa_np(R) / k)


def _slerp(Ra, Rb, t):
    return Ra @ aa_to_matrix_np(matrix_to_aa_np(Ra.T @ Rb) * float(t))


def _limb_table():
    """(ball joints, hinge joints, their parents, rest bend directions, (4, 3) landmarks root/middle/end) of
    the left/right arm and leg."""
    limbs = [(s, "shoulder", "elbow", "wrist", J["spine3"], (0, 0, 1.0)) for s in ("left", "right")] + \
            [(s, "hip", "knee", "ankle", 0, (0, 0, -1.0)) for s in ("left", "right")]
    return (np.array([J[f"{s}_{b}"] for s, b, *_ in limbs]), np.array([J[f"{s}_{h}"] for s, _, h, *_ in limbs]),
            np.array([p for *_, p, _b in limbs]), np.array([b for *_, b in limbs]),
            np.array([[LM[f"{s}_{n}"] for n in names] for s, *names, _p, _b in limbs]))


_LIMBS = _limb_table()


class GeometricSolver:
    """World landmarks (our frame) → Pose on a rest skeleton (default:
    :data:`core_models.skeleton.DEFAULT_REST_JOINTS`)."""

    def __init__(self, rest_joints: np.ndarray | None = None, gate: float = 0.5, clamp: bool = True):
        self.rest = np.asarray(rest_joints if rest_joints is not None else sk.DEFAULT_REST_JOINTS, np.float64)
        self.gate, self.clamp = float(gate), bool(clamp)
        r = self.rest
        self._rest_dir = {j: _unit(r[c] - r[j]) for j, c in (
            (J["left_shoulder"], J["left_elbow"]), (J["right_shoulder"], J["right_elbow"]),
            (J["left_elbow"], J["left_wrist"]), (J["right_elbow"], J["right_wrist"]),
            (J["left_hip"], J["left_knee"]), (J["right_hip"], J["right_knee"]),
            (J["left_knee"], J["left_ankle"]), (J["right_knee"], J["right_ankle"]))}
        self._rest_dir_table = np.zeros((sk.NUM_JOINTS, 3))
        for j, d in self._rest_dir.items():
            self._rest_dir_table[j] = d
        mid_sh = (r[J["left_shoulder"]] + r[J["right_shoulder"]]) / 2
        mid_hip = (r[J["left_hip"]] + r[J["right_hip"]]) / 2
        self._rest_up = _unit(mid_sh - mid_hip)
        self._rest_head_up = _unit(r[J["head"]] - mid_sh)
        # neutral local rotations for limbs that are not seen
        self._arm_down = {J["left_shoulder"]: aa_to_matrix_np(np.array([0, 0, -np.radians(_ARM_DOWN_DEG)])),
                          J["right_shoulder"]: aa_to_matrix_np(np.array([0, 0, np.radians(_ARM_DOWN_DEG)]))}

    # --- stages ------------------------------------------------------------------------------------------
    def solve_globals(self, world: np.ndarray, ok: np.ndarray | None = None, prev_local: np.ndarray | None = None):
        """(22, 3, 3) global rotations and a (22,) bool of joints actually observed."""
        W = np.asarray(world, np.float64)
        ok = np.ones(NUM_LANDMARKS, bool) if ok is None else np.asarray(ok, bool)
        G = np.tile(np.eye(3), (sk.NUM_JOINTS, 1, 1))
        seen = np.zeros(sk.NUM_JOINTS, bool)
        self._solve_trunk(W, ok, G, seen)
        self._solve_limbs(W, ok, prev_local, G, seen)
        self._solve_hands_feet(W, ok, prev_local, G, seen)
        return G, seen

    def _solve_trunk(self, W, ok, G, seen) -> None:
        """Root, spine (sharing root → chest), neck and head (sharing chest → head), collars at rest."""
        lhip, rhip, lsh, rsh = W[LM["left_hip"]], W[LM["right_hip"]], W[LM["left_shoulder"]], W[LM["right_shoulder"]]
        lear, rear, nose = W[LM["left_ear"]], W[LM["right_ear"]], W[LM["nose"]]
        mid_hip, mid_sh, mid_ear = (lhip + rhip) / 2, (lsh + rsh) / 2, (lear + rear) / 2
        up, x = mid_sh - mid_hip, np.array([1.0, 0, 0])
        root, chest, head = nearest_rotation_np(np.stack([
            _wahba_matrix([(x, lhip - rhip, 2.0), (self._rest_up, up, 1.0)]),
            _wahba_matrix([(x, lsh - rsh, 2.0), (self._rest_up, up, 1.0)]),
            _wahba_matrix([(x, lear - rear, 1.0), (_REST_FWD_HEAD, nose - mid_ear, 1.0),
                           (self._rest_head_up, mid_ear - mid_sh, 0.5)])]))
        # spine1..3 take a third each of root → chest, neck and head half each of chest → head
        L, Lh = aa_to_matrix_np(matrix_to_aa_np(np.stack([root.T @ chest, chest.T @ head])) / [[3.0], [2.0]])
        G[0] = root
        seen[0] = ok[[LM["left_hip"], LM["right_hip"]]].all()
        for j in ("spine1", "spine2", "spine3"):
            G[J[j]] = G[sk.PARENTS[J[j]]] @ L
            seen[J[j]] = ok[[LM["left_shoulder"], LM["right_shoulder"]]].all() and seen[0]
        G3 = G[J["spine3"]]
        G[J["neck"]] = G3 @ Lh
        G[J["head"]] = G[J["neck"]] @ Lh
        seen[J["neck"]] = seen[J["head"]] = ok[[LM["nose"], LM["left_ear"], LM["right_ear"]]].sum() >= 2
        for s in ("left", "right"):
            G[J[f"{s}_collar"]] = G3
            seen[J[f"{s}_collar"]] = seen[J["spine3"]]  # at rest by design: as good as the chest

    def _solve_limbs(self, W, ok, prev, G, seen) -> None:
        """Shoulders/hips (ball joints, batched) then elbows/knees (hinges, batched)."""
        balls, hinges, parents, bends, lms = _LIMBS
        pts, vis = W[lms], ok[lms]  # (4 limbs, 3 landmarks: root, middle, end)
        upper_ok, lower_ok = vis[:, :2].all(1), vis.all(1)
        for k in range(len(balls)):
            G[balls[k]] = G[parents[k]] @ self._neutral(prev, balls[k], self._arm_down.get(balls[k], _EYE))
        i = np.nonzero(upper_ok)[0]
        if len(i):
            G[balls[i]] = self._balls(G[parents[i]], balls[i], pts[i, 1] - pts[i, 0], pts[i, 2] - pts[i, 1], bends[i])
        for k in range(len(balls)):
            G[hinges[k]] = G[balls[k]] @ self._neutral(prev, hinges[k], _EYE)
        i = np.nonzero(lower_ok)[0]
        if len(i):
            Gb = G[balls[i]]
            rest = self._rest_dir_table[hinges[i]]
            G[hinges[i]] = rotation_between_np(np.einsum("nij,nj->ni", Gb, rest), pts[i, 2] - pts[i, 1]) @ Gb
        seen[balls], seen[hinges] = upper_ok, lower_ok

    def _balls(self, Gp, js, upper, lower, bend):
        """(n,3,3) global rotations of shoulders/hips: the upper limb's direction + the twist of the hinge plane
        (upper × lower), blended towards the swing alone when the limb is nearly straight. bend: the rest-frame
        direction the lower limb bends towards (elbows +z, knees −z)."""
        rest_u = self._rest_dir_table[js]
        out = rotation_between_np(np.einsum("nij,nj->ni", Gp, rest_u), upper) @ Gp  # swing
        rel, ws, idx = [], [], []
        for k in range(len(js)):
            n = _cross(_unit(upper[k]), _unit(lower[k]))
            w = np.clip((_norm(n) - 0.1) / 0.25, 0.0, 1.0)
            if w > 0:
                hinge = _frame(upper[k], n) @ _frame(rest_u[k], _unit(_cross(rest_u[k], bend[k]))).T
                rel.append(out[k].T @ hinge)
                ws.append(w)
                idx.append(k)
        if idx:  # slerp swing → hinge by w
            out[idx] = out[idx] @ aa_to_matrix_np(matrix_to_aa_np(np.stack(rel)) * np.array(ws)[:, None])
        return out

    def _solve_hands_feet(self, W, ok, prev, G, seen) -> None:
        """Wrists from the hand landmarks, ankles from heel → toe (batched), toes follow the ankles."""
        ankles, shins, feet = [], [], []
        for s in ("left", "right"):
            el, wr, kn, an = J[f"{s}_elbow"], J[f"{s}_wrist"], J[f"{s}_knee"], J[f"{s}_ankle"]
            idx, pinky, a_wr = W[LM[f"{s}_index"]], W[LM[f"{s}_pinky"]], W[LM[f"{s}_wrist"]]
            if seen[el] and ok[[LM[f"{s}_index"], LM[f"{s}_pinky"]]].all():
                rest_hand = np.array([1.0 if s == "left" else -1.0, 0, 0])
                G[wr] = _frame((idx + pinky) / 2 - a_wr, idx - pinky) @ _frame(rest_hand, np.array([0, 0, 1.0])).T
                seen[wr] = True
            else:
                G[wr] = G[el] @ self._neutral(prev, wr, _EYE)
            G[an] = G[kn] @ self._neutral(prev, an, _EYE)
            if seen[kn] and ok[[LM[f"{s}_heel"], LM[f"{s}_foot_index"]]].all():
                ankles.append(an)
                shins.append(kn)
                feet.append(W[LM[f"{s}_foot_index"]] - W[LM[f"{s}_heel"]])
        if ankles:
            Gk = G[shins]
            G[ankles] = rotation_between_np(Gk[:, :, 2], np.stack(feet)) @ Gk  # rest foot direction: +z
            seen[ankles] = True
        for s in ("left", "right"):
            G[J[f"{s}_foot"]] = G[J[f"{s}_ankle"]]
            seen[J[f"{s}_foot"]] = seen[J[f"{s}_ankle"]]

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
            local = clamp_matrices(local)
        return Pose.from_full(matrix_to_aa_np(local).astype(np.float32)), seen, local


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
