"""Exact-reach refinement: damped Gauss-Newton (Levenberg-Marquardt) in joint space.

Unknowns: a small local rotation per joint (R_j ← R_j·exp(δ_j), root included) and the translation. Cost:
  Σ_hard w_hard·|p_k − t_k|² (the dragged effector and the pins) + Σ_soft w_k·|p_k − t_k|² (hints)
  + Σ_j μ_j·|log(R̂_jᵀ R_j)|² (stay close to the predicted pose R̂) + μ_t·|t − t̂|².
The geometric Jacobian of joint i's position w.r.t. δ_j is −[p_i − p_j]ₓ·G_j for every proper ancestor j of i
(G_j: joint j's world rotation). With limits on, every step is projected into the joint limits
(:func:`core_models.pose.clamp_matrices`, gimbal-aware) and a joint that had to be clamped is frozen for the rest
of the solve (an active set), so the free joints take over the reach. A few iterations converge: numpy, about
0.2 ms each on one core."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core_models import skeleton as sk
from core_models.pose import aa_to_matrix_np, clamp_matrices, matrix_to_aa_np


#: stiffness factor of a joint that had to be clamped at its limits (it still slides along them, but the free
#: joints take over the reach)
FROZEN_STIFFNESS = 100.0
#: the largest rotation (radians) of one joint in one iteration
MAX_STEP_RAD = 0.4
#: weight of a hard constraint (the dragged effector, a pin) against 1 for a hint of weight 1
HARD_WEIGHT = 1000.0


def _ancestor_matrix() -> np.ndarray:
    anc = np.zeros((sk.NUM_JOINTS, sk.NUM_JOINTS), bool)
    for i in range(sk.NUM_JOINTS):
        j = int(sk.PARENTS[i])
        while j >= 0:
            anc[i, j] = True
            j = int(sk.PARENTS[j])
    return anc


#: ANCESTORS[i, j]: joint j is a proper ancestor of joint i
ANCESTORS = _ancestor_matrix()

#: default per-joint stiffness of the stay-close term (relative; the root turns the whole body: stiffer)
DEFAULT_STIFFNESS = np.full(sk.NUM_JOINTS, 1.0)
DEFAULT_STIFFNESS[0] = 20.0
for _n in ("spine1", "spine2", "spine3"):
    DEFAULT_STIFFNESS[sk.JOINT_INDEX[_n]] = 4.0
for _n in ("left_collar", "right_collar"):
    DEFAULT_STIFFNESS[sk.JOINT_INDEX[_n]] = 6.0
for _n in ("left_foot", "right_foot", "left_wrist", "right_wrist", "head"):
    DEFAULT_STIFFNESS[sk.JOINT_INDEX[_n]] = 50.0  # they never move their own effector: keep them


@dataclass
class RefineProblem:
    """Targets of one refinement. joints (m,) skeleton joint indices; targets (m,3) world; weights (m,)."""

    joints: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    hard: np.ndarray  # (m,) bool: the constraints that must be met (reported by the solver)
    stiffness: np.ndarray = field(default_factory=lambda: DEFAULT_STIFFNESS.copy())
    prior_weight: float = 1e-3  # μ scale (per rad²) against a hint of weight 1 (per m²)
    transl_weight: float = 1e-1  # μ_t per m²
    move_transl: bool = True
    tol: float = 2e-4  # stop when every hard constraint is closer than this (m)
    max_iter: int = 12
    min_iter: int = 1  # iterations run even when the hard targets already hold (the hints and the limits)
    retry_free: bool = True  # a stalled solve under limits is retried from the projected unconstrained solution


@dataclass
class RefineResult:
    R: np.ndarray  # (22,3,3)
    transl: np.ndarray  # (3,)
    iterations: int
    hard_error: float  # max distance (m) of the hard constraints
    frozen: np.ndarray  # (22,) joints clamped at their limits


def _jacobian(G: np.ndarray, P: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """(3m, 66) d(position of joints)/d(local rotation increments), columns (joint, axis)."""
    D = P[joints][:, None, :] - P[None, :, :]  # (m,22,3)
    z = np.zeros(D.shape[:-1])
    x, y, w = D[..., 0], D[..., 1], D[..., 2]
    skew = np.stack([z, -w, y, w, z, -x, -y, x, z], -1).reshape(D.shape[:-1] + (3, 3))
    blocks = -skew @ G[None]  # (m,22,3,3)
    blocks *= ANCESTORS[joints][:, :, None, None]
    return blocks.transpose(0, 2, 1, 3).reshape(3 * len(joints), 3 * sk.NUM_JOINTS)


def _weights(prob: RefineProblem) -> np.ndarray:
    return np.repeat(np.where(prob.hard, HARD_WEIGHT, 1.0) * prob.weights, 3)


def _prior_mu(prob: RefineProblem, frozen: np.ndarray) -> np.ndarray:
    mu = np.repeat(prob.prior_weight * prob.stiffness, 3)
    return np.where(np.repeat(frozen, 3), mu * FROZEN_STIFFNESS, mu)


def _depth_levels() -> list[np.ndarray]:
    depth = np.zeros(sk.NUM_JOINTS, int)
    for j in range(1, sk.NUM_JOINTS):
        depth[j] = depth[sk.PARENTS[j]] + 1
    return [np.nonzero(depth == d)[0] for d in range(1, int(depth.max()) + 1)]


#: the joints of the tree by depth (8 levels): FK of one pose in 8 vectorised steps instead of 21
_LEVELS = _depth_levels()


def fk_single(R: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(22,3,3) local rotations → (world rotations (22,3,3), joints (22,3)); :func:`kinematics.fk_numpy` for one
    pose, level by level (≈ 3× faster: the solver's inner loop)."""
    G = np.empty((sk.NUM_JOINTS, 3, 3))
    P = np.empty((sk.NUM_JOINTS, 3))
    G[0], P[0] = R[0], rest[0]
    for lv in _LEVELS:
        p = sk.PARENTS[lv]
        G[lv] = G[p] @ R[lv]
        P[lv] = P[p] + (G[p] @ (rest[lv] - rest[p])[..., None])[..., 0]
    return G, P


def _evaluate(R, t, R_hat, t_hat, rest, prob: RefineProblem):
    """(cost, largest hard-constraint distance, G, P with the translation) at (R, t)."""
    G, P = fk_single(R, rest)
    P = P + t
    d = prob.targets - P[prob.joints]
    r = d.reshape(-1)
    dev = matrix_to_aa_np(np.swapaxes(R_hat, -1, -2) @ R).reshape(-1)
    c = float(_weights(prob) @ (r * r)) + float(_prior_mu(prob, np.zeros(sk.NUM_JOINTS, bool)) @ (dev * dev))
    if prob.move_transl:
        c += prob.transl_weight * float(((t - t_hat) ** 2).sum())
    err = float(np.sqrt((d[prob.hard] ** 2).sum(-1)).max()) if prob.hard.any() else 0.0
    return c, err, G, P


def _normal_equations(R, t, G, P, R_hat, t_hat, prob: RefineProblem, frozen):
    """(H, g) of the Gauss-Newton step H·δ = g at (R, t) (G, P: its world rotations and joints)."""
    J = _jacobian(G, P, prob.joints)
    if prob.move_transl:
        J = np.concatenate([J, np.tile(np.eye(3), (len(prob.joints), 1))], 1)
    r = (prob.targets - P[prob.joints]).reshape(-1)
    w = _weights(prob)
    dev = matrix_to_aa_np(np.swapaxes(R_hat, -1, -2) @ R).reshape(-1)  # (66,) deviation from the prediction
    mu = _prior_mu(prob, frozen)
    n = J.shape[1]
    prior, diag = np.zeros(n), np.zeros(n)
    prior[:66], diag[:66] = mu * dev, mu
    if prob.move_transl:
        diag[66:] = prob.transl_weight
        prior[66:] = prob.transl_weight * (t - t_hat)
    return J.T @ (w[:, None] * J) + np.diag(diag), J.T @ (w * r) - prior


def _solve_step(H: np.ndarray, g: np.ndarray, lam: float, frozen: np.ndarray) -> np.ndarray:
    """Levenberg-Marquardt step (H + λ·diag(H))·δ = g, frozen joints kept, capped at MAX_STEP_RAD per joint."""
    d = np.diag(H)
    delta = np.linalg.solve(H + np.diag(lam * d + 1e-9), g)
    big = float(np.sqrt((delta[:66].reshape(-1, 3) ** 2).sum(-1)).max())
    if big > MAX_STEP_RAD:  # far from the solution or near a singular (straight) limb: a shorter step
        delta *= MAX_STEP_RAD / big
    return delta


def _apply(R, t, delta, prob: RefineProblem, limits, frozen):
    R2 = R @ aa_to_matrix_np(delta[:66].reshape(sk.NUM_JOINTS, 3))
    t2 = t + delta[66:] if prob.move_transl else t
    newly = np.zeros(sk.NUM_JOINTS, bool)
    if limits is not None:
        C = clamp_matrices(R2, limits)
        newly = np.abs(C - R2).reshape(sk.NUM_JOINTS, -1).max(-1) > 1e-9
        R2 = C
    return R2, t2, newly


def refine(R_hat: np.ndarray, t_hat: np.ndarray, rest_joints: np.ndarray, prob: RefineProblem,
           limits: np.ndarray | None = sk.JOINT_LIMITS_DEG, R0: np.ndarray | None = None,
           t0: np.ndarray | None = None) -> RefineResult:
    """Refine the pose (R_hat (22,3,3) local, t_hat (3,)) so that the hard targets are reached; starts from
    (R0, t0) when given (default the prediction itself). Levenberg-Marquardt: a step that raises the cost is
    retried with more damping. With limits, a solve that stalls short of the targets is retried from the
    unconstrained solution projected into the limits (a far start otherwise gets stuck at the first limit)."""
    res = _lm(R_hat, t_hat, rest_joints, prob, limits, R0, t0)
    if limits is None or not prob.retry_free or res.hard_error <= prob.tol * 10:
        return res
    free = _lm(R_hat, t_hat, rest_joints, prob, None, R0, t0)
    again = _lm(R_hat, t_hat, rest_joints, prob, limits, clamp_matrices(free.R, limits), free.transl)
    again.iterations += res.iterations + free.iterations
    return again if again.hard_error < res.hard_error else res


def _lm(R_hat, t_hat, rest_joints, prob: RefineProblem, limits, R0, t0) -> RefineResult:
    rest = np.asarray(rest_joints, np.float64)
    R = np.array(R_hat if R0 is None else R0, np.float64)
    t = np.array(t_hat if t0 is None else t0, np.float64)
    frozen = np.zeros(sk.NUM_JOINTS, bool)
    if limits is not None:  # start inside the limits (a rejected first step must not leave it outside)
        R = clamp_matrices(R, limits)
    lam, it = 1e-3, 0
    cost, err, G, P = _evaluate(R, t, R_hat, t_hat, rest, prob)
    while it < prob.max_iter and (err > prob.tol or it < prob.min_iter):
        it += 1
        H, g = _normal_equations(R, t, G, P, R_hat, t_hat, prob, frozen)
        for _ in range(4):
            R2, t2, newly = _apply(R, t, _solve_step(H, g, lam, frozen), prob, limits, frozen)
            c2, e2, G2, P2 = _evaluate(R2, t2, R_hat, t_hat, rest, prob)
            if c2 <= cost:
                R, t, cost, err, G, P, lam = R2, t2, c2, e2, G2, P2, max(lam / 3.0, 1e-6)
                frozen |= newly
                break
            lam *= 8.0
        else:
            break  # no step lowers the cost: converged as far as it goes
    return RefineResult(R, t, it, err, frozen)
