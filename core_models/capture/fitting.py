"""Fitting steps of the capture pipeline (issue #14 item 4): the regressor's pose, refined so that the body's
landmarks project onto MediaPipe's 2D image landmarks — and, before that, for the direct lifter, onto the lifter's
own lifted 3D joints (:func:`fit_to_lifted`: its learned pose head gives away accuracy those joints had on unusual
poses; docs/notes/capture_fitting.md, "Update (2026-12-08)").

:func:`fit_pose` starts from the regressor's pose (the *init*) and optimises a rotation increment per joint
(root + 21 body joints; ``R_j = R_init,j · exp(δ_j)``, so ``|δ_j|`` is exactly the geodesic distance to the
init) with LBFGS, minimising

* the visibility-weighted robust (Geman-McClure) 2D reprojection error of the body's landmarks — the 12 limb
  joints (with the hips widened by :attr:`FitConfig.hip_width`: BlazePose's hip keypoints sit outside the
  skeleton's hip joints) and the mesh-vertex landmarks of the synthetic landmark model (heels, toes, hands, face;
  :class:`~core_models.capture.synth.LandmarkModel`) — under a **weak-perspective camera** (scale + image offset)
  solved in closed form at every step (variable projection), residuals measured in metres (pixels / scale);
* the geodesic distance to the init (``w_init``), heavier on the root (``w_root``);
* a **depth anchor**: 2D cannot tell a limb pointing forward from one pointing backward, so the camera-depth
  component of every bone is pulled to the init's (``w_depth``) and a bone whose init points clearly forward or
  backward is stopped from crossing to the other side (``w_flip``, hinge on the sign);
* the joint limits of :data:`core_models.skeleton.JOINT_LIMITS_DEG` (hinge on the excess of the better of the two
  exact intrinsic-XYZ decompositions, ``w_limits``).

Everything is batched over joints (forward kinematics level by level of the tree, no Python loop over joints).
Bad input (NaN landmarks or init, too few visible correspondences, a failed optimisation) returns the init
unchanged with the reason in :attr:`FitResult.reason`. :class:`FittingRegressor` wraps any capture regressor
(``predict(landmarks, text) -> (Pose, confidence)``) with this step. Qt-free; torch + roma.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from core_models import skeleton as sk
from core_models.capture.landmarks import LM, NUM_LANDMARKS, Landmarks
from core_models.pose import Pose

#: limb landmark → skeleton joint (the same anatomical place, the person's own left / right)
LIMB_JOINTS: dict[str, str] = {f"{s}_{n}": f"{s}_{n}" for s in ("left", "right")
                               for n in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")}


@dataclass
class FitConfig:
    """Weights and iterations of :func:`fit_pose` (chosen on rendered corpus **val** poses, see
    docs/notes/capture_fitting.md)."""

    iters: int = 10              # LBFGS iterations (at most ``iters * 1.25`` energy evaluations)
    lr: float = 1.0
    robust: float = 0.1          # Geman-McClure scale, metres
    w_init: float = 0.3          # geodesic distance to the init (rad², per joint)
    w_root: float = 0.2          # extra weight on the root's distance to the init
    w_depth: float = 10.0        # bone camera-depth component vs the init's (per unit bone length, squared)
    w_flip: float = 10.0         # hinge: a bone whose init clearly points forward/backward keeps that side
    flip_margin: float = 0.25    # |init depth component| / bone length above which the side is kept
    w_limits: float = 1.0        # joint-limit excess (rad²)
    #: learned pose prior: ‖μ(pose)‖² / d of the baseline pose VAE's encoder (``qposer_vae_baseline``; 0: off)
    w_prior: float = 0.0
    hip_width: float = 1.0       # hip landmark = pelvis centre + hip_width · (hip joint − pelvis centre)
    w_hips: float = 0.0          # weight of the hip landmarks (BlazePose's hips sit off the skeleton's joints)
    #: landmarks never fitted (the thumbs' vertices miss MediaPipe's thumb keypoints by ~6 cm on renders)
    exclude: tuple[str, ...] = ("left_thumb", "right_thumb")
    gate: float = 0.5            # landmarks below this visibility × presence are ignored
    vertex_landmarks: bool = False  # also fit heels, toes, hands, face (mesh-vertex landmarks): worse on val
    min_points: int = 6          # fewer visible correspondences: the init is returned
    #: the fit runs only when the init faces the camera within this yaw (degrees; turned bodies got worse on val:
    #: BlazePose's far-side shoulders / hips sit on the silhouette, and fitting them turns the torso wrongly)
    max_yaw_deg: float = 20.0
    #: "weak" (scale + offset, closed form) or "perspective" (pinhole with the assumed vertical field of view,
    #: the camera translation optimised with the pose)
    camera: str = "weak"
    fov_deg: float = 30.0
    #: before the 2D fit: the regressor's pose refined onto the regressor's own lifted 3D joints
    #: (:func:`fit_to_lifted`; the direct lifter's pose head is a learned IK that gives away accuracy of its
    #: lifted joints on unusual poses). Chosen on rendered val poses (docs/notes/capture_fitting.md, "Update")
    lift_ik: bool = True
    lift_iters: int = 10         # LBFGS iterations of the 3D step
    lift_w_init: float = 0.3     # geodesic distance to the regressor's pose (rad², per joint)
    lift_sigma: float = 0.05     # metres: the joint residual's scale
    fit_2d: bool = True          # False: the 3D step alone (no 2D reprojection fit after it)


@dataclass
class FitResult:
    pose: Pose
    ok: bool
    reason: str = ""
    err_before: float = float("nan")  # mean 2D residual (metres at the body, i.e. pixels / camera scale)
    err_after: float = float("nan")
    seconds: float = 0.0
    camera: tuple[float, float, float] = field(default=(float("nan"),) * 3)  # (scale, tx, ty) in pixels


class BodyLandmarkModel:
    """The 33 BlazePose landmarks of the rest skeleton posed by local rotations, in torch (differentiable):
    limb landmarks at the joints (hips widened), the others at skinned mesh vertices (as the synthetic generator
    places them). ``landmarks(R)``: (..., 22, 3, 3) → (..., 33, 3), ``joints`` (..., 22, 3) too."""

    def __init__(self, rest_joints: np.ndarray, vertex_lm: np.ndarray, rest_vertices: np.ndarray,
                 weights: np.ndarray, hip_width: float = 1.0):
        self.rest = torch.as_tensor(np.asarray(rest_joints, np.float32))
        parents = np.asarray(sk.PARENTS)
        depth = np.zeros(len(parents), np.int64)
        for j in range(1, len(parents)):
            depth[j] = depth[parents[j]] + 1
        self.levels = [np.nonzero(depth == d)[0] for d in range(1, int(depth.max()) + 1)]
        order = np.concatenate([[0], *self.levels])
        self.pos = np.empty_like(order)
        self.pos[order] = np.arange(len(order))          # joint → its place in level order
        self.inv = torch.as_tensor(self.pos)
        self.parents = parents
        self.offsets = self.rest - self.rest[torch.as_tensor(np.maximum(parents, 0))]
        self.vertex_lm = np.asarray(vertex_lm, np.int64)
        self.rest_vertices = torch.as_tensor(np.asarray(rest_vertices, np.float32))
        self.weights = torch.as_tensor(np.asarray(weights, np.float32))
        self.hip_width = float(hip_width)
        self.joint_lm = np.array([LM[n] for n in LIMB_JOINTS])
        self.joint_of_lm = np.array([sk.JOINT_NAMES.index(j) for j in LIMB_JOINTS.values()])
        self._hips = torch.as_tensor([n.endswith("hip") for n in LIMB_JOINTS])[:, None]
        self._par_pos = [torch.as_tensor(self.pos[self.parents[lv]]) for lv in self.levels]
        self._lv = [torch.as_tensor(lv) for lv in self.levels]

    @classmethod
    def default(cls, hip_width: float = 1.0) -> "BodyLandmarkModel":
        """From :class:`~core_models.capture.synth.LandmarkModel` (the default Anny body, as the regressor)."""
        from core_models.capture.synth import LANDMARK_VERTICES, LandmarkModel

        m = LandmarkModel()
        return cls(m.rest_joints, np.array([LM[n] for n in LANDMARK_VERTICES]), m.rest_vertices, m.weights,
                   hip_width)

    def forward(self, R: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(..., 22, 3, 3) local rotations → (global rotations, joints), both in joint order."""
        Rg, tg = R[..., :1, :, :], self.rest[:1].expand(*R.shape[:-3], 1, 3)
        for lv, p in zip(self._lv, self._par_pos):  # one step per tree level (≤ 8), a level's joints at once
            Rp = Rg[..., p, :, :]
            Rg = torch.cat([Rg, Rp @ R[..., lv, :, :]], -3)
            tg = torch.cat([tg, tg[..., p, :] + (Rp @ self.offsets[lv].unsqueeze(-1)).squeeze(-1)], -2)
        return Rg[..., self.inv, :, :], tg[..., self.inv, :]

    def landmarks(self, R: torch.Tensor, vertices: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """(..., 22, 3, 3) → ((..., 33, 3) landmarks (NaN-free; unused ones at the pelvis), (..., 22, 3) joints).
        ``vertices=False``: the mesh-vertex landmarks are left at the pelvis too (no skinning: faster)."""
        Rg, J = self.forward(R)
        out = J[..., :1, :].expand(*J.shape[:-2], NUM_LANDMARKS, 3).clone()
        Jl = J[..., self.joint_of_lm, :]
        centre = (J[..., 1:2, :] + J[..., 2:3, :]) / 2
        Jl = torch.where(self._hips, centre + self.hip_width * (Jl - centre), Jl)
        out[..., self.joint_lm, :] = Jl
        if not vertices:
            return out, J
        skin_t = J - (Rg @ self.rest.unsqueeze(-1)).squeeze(-1)                     # (..., 22, 3)
        M = torch.einsum("vj,...jab->...vab", self.weights, Rg)
        t = torch.einsum("vj,...ja->...va", self.weights, skin_t)
        out[..., self.vertex_lm, :] = (M @ self.rest_vertices.unsqueeze(-1)).squeeze(-1) + t
        return out, J


_MODEL: dict[float, BodyLandmarkModel] = {}
_PRIOR: list = []


def pose_prior():
    """The baseline pose VAE (frozen, CPU), loaded once; raises WeightsError when its weights are missing."""
    if not _PRIOR:
        from core_models.nets.qposer.infer import load_vae_baseline

        vae = load_vae_baseline()
        for p in vae.parameters():
            p.requires_grad_(False)
        _PRIOR.append(vae)
    return _PRIOR[0]


def default_model(hip_width: float) -> BodyLandmarkModel:
    if hip_width not in _MODEL:
        _MODEL[hip_width] = BodyLandmarkModel.default(hip_width)
    return _MODEL[hip_width]


def weak_perspective(X: torch.Tensor, uv: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Weighted least-squares ``u = s x + tx``, ``v = -s y + ty`` of camera-frame points X (K, 3) to pixels
    uv (K, 2) with weights w (K,): (s, tx, ty), differentiable in X."""
    ws = w.sum().clamp_min(1e-9)
    xm, ym = (w * X[:, 0]).sum() / ws, (w * X[:, 1]).sum() / ws
    um, vm = (w * uv[:, 0]).sum() / ws, (w * uv[:, 1]).sum() / ws
    dx, dy = X[:, 0] - xm, X[:, 1] - ym
    num = (w * (dx * (uv[:, 0] - um) - dy * (uv[:, 1] - vm))).sum()
    s = num / (w * (dx * dx + dy * dy)).sum().clamp_min(1e-9)
    return s, um - s * xm, vm + s * ym


def _euler_xyz(R: torch.Tensor) -> torch.Tensor:
    a = torch.atan2(-R[..., 1, 2], R[..., 2, 2])
    b = torch.asin(R[..., 0, 2].clamp(-0.999, 0.999))
    c = torch.atan2(-R[..., 0, 1], R[..., 0, 0])
    return torch.stack([a, b, c], -1)


def limit_excess(R: torch.Tensor, limits_rad: torch.Tensor) -> torch.Tensor:
    """(..., J, 3, 3) local rotations → (..., J) squared excess (rad²) beyond the intrinsic-XYZ box of the
    better of the two exact decompositions (differentiable; the gimbal-aware search of
    :func:`core_models.pose.limit_violation_matrices` is not reproduced)."""
    e = _euler_xyz(R)
    alt = torch.stack([e[..., 0] + math.pi, math.pi - e[..., 1], e[..., 2] + math.pi], -1)
    alt = torch.remainder(alt + math.pi, 2 * math.pi) - math.pi
    lo, hi = limits_rad[..., 0], limits_rad[..., 1]

    def exc(x):
        return (torch.relu(lo - x) + torch.relu(x - hi)).pow(2).sum(-1)

    return torch.minimum(exc(e), exc(alt))


def _check_inputs(init: Pose, lm: Landmarks, cfg: FitConfig) -> tuple[str, np.ndarray]:
    """(reason the fit cannot run or "", per-landmark weights (33,))."""
    full = np.asarray(init.full(), np.float64).reshape(-1)
    if full.size != 66 or not np.all(np.isfinite(full)):
        return "the regressor's pose is not finite", np.zeros(NUM_LANDMARKS)
    w, h = lm.image_size
    if w <= 0 or h <= 0:
        return "the image size is unknown", np.zeros(NUM_LANDMARKS)
    conf = np.nan_to_num(lm.visibility * lm.presence, nan=0.0)
    finite = np.all(np.isfinite(lm.image[:, :2]), axis=1)
    wt = np.where((conf >= cfg.gate) & finite, conf, 0.0)
    keep = np.ones(NUM_LANDMARKS, bool)
    if not cfg.vertex_landmarks:
        keep[:] = False
        keep[[LM[n] for n in LIMB_JOINTS]] = True
    keep[[LM[n] for n in cfg.exclude]] = False
    wt = np.where(keep, wt, 0.0)
    wt[[LM["left_hip"], LM["right_hip"]]] *= cfg.w_hips
    from core_models.pose import heading_of

    yaw = float(np.degrees(heading_of(np.asarray(init.root_orient, np.float32))))
    if abs(yaw) > cfg.max_yaw_deg:
        return (f"the body is turned {yaw:.0f}° from the camera; the fit runs within ±{cfg.max_yaw_deg:g}° "
                "(it made turned bodies worse)"), np.zeros(NUM_LANDMARKS)
    if int((wt > 0).sum()) < cfg.min_points:
        return (f"only {int((wt > 0).sum())} landmarks are visible (finite, visibility × presence ≥ {cfg.gate}); "
                f"the fit needs {cfg.min_points}"), wt
    return "", wt


class _Objective:
    """The fitting energy of one image (see the module docstring)."""

    def __init__(self, R0: torch.Tensor, uv: torch.Tensor, wt: torch.Tensor, model: BodyLandmarkModel,
                 cfg: FitConfig, size: tuple[int, int] = (1, 1)):
        self.R0, self.uv, self.wt, self.model, self.cfg, self.size = R0, uv, wt, model, cfg, size
        self.vertices = bool((wt[model.vertex_lm] > 0).any())
        if cfg.camera == "perspective":
            self.start_camera()
        _, J0 = model.forward(R0)
        par = torch.as_tensor(np.maximum(model.parents, 0))
        bone = (J0 - J0[par])[1:]
        self.blen = bone.norm(dim=-1).clamp_min(1e-3)
        self.par = par
        self.dz0 = bone[:, 2] / self.blen                                # init depth component per bone
        self.side = torch.where(self.dz0.abs() > cfg.flip_margin, torch.sign(self.dz0), torch.zeros_like(self.dz0))
        self.limits = torch.as_tensor(np.radians(sk.JOINT_LIMITS_DEG), dtype=torch.float32)
        jw = torch.ones(22)
        jw[0] += cfg.w_root / max(cfg.w_init, 1e-9)
        self.jw = jw

    def rotations(self, delta: torch.Tensor) -> torch.Tensor:
        import roma

        return self.R0 @ roma.rotvec_to_rotmat(delta)

    def start_camera(self) -> None:
        """The perspective camera's start (from the weak-perspective fit of the init): distance f / s, the
        pelvis placed where the weak camera puts it."""
        with torch.no_grad():
            L, _ = self.model.landmarks(self.R0)
            s, tx, ty = weak_perspective(L, self.uv, self.wt)
        self.focal = (self.size[1] / 2) / math.tan(math.radians(self.cfg.fov_deg) / 2)
        sc = float(s) if float(s) > 1e-6 else 1.0
        self.cam0 = torch.tensor([(float(tx) - self.size[0] / 2) / sc, -(float(ty) - self.size[1] / 2) / sc,
                                  math.log(self.focal / sc)])

    def residuals(self, params: torch.Tensor):
        delta = params[:66].view(22, 3)
        R = self.rotations(delta)
        L, J = self.model.landmarks(R, self.vertices)
        if self.cfg.camera == "perspective":
            c = self.cam0 + params[66:69]
            Z = (torch.exp(c[2]) - L[:, 2]).clamp_min(0.1)
            proj = torch.stack([self.focal * (L[:, 0] + c[0]) / Z + self.size[0] / 2,
                                -self.focal * (L[:, 1] + c[1]) / Z + self.size[1] / 2], -1)
            r = (proj - self.uv).norm(dim=-1) * Z / self.focal
            return R, J, r, (self.focal / float(torch.exp(c[2].detach())), float(c[0].detach()), float(c[1].detach()))
        s, tx, ty = weak_perspective(L, self.uv, self.wt)
        proj = torch.stack([s * L[:, 0] + tx, -s * L[:, 1] + ty], -1)
        r = (proj - self.uv).norm(dim=-1) / s.abs().clamp_min(1e-6)       # metres at the body
        return R, J, r, (s, tx, ty)

    def __call__(self, params: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        delta = params[:66].view(22, 3)
        R, J, r, _ = self.residuals(params)
        x2 = (r / cfg.robust).pow(2)
        data = (self.wt * x2 / (1.0 + x2)).sum() / self.wt.sum()
        geo = cfg.w_init * (self.jw * delta.pow(2).sum(-1)).sum()
        dz = (J - J[self.par])[1:, 2] / self.blen
        depth = cfg.w_depth * (dz - self.dz0).pow(2).mean()
        flip = cfg.w_flip * torch.relu(-self.side * dz).pow(2).sum()
        lim = cfg.w_limits * limit_excess(R[1:], self.limits[1:]).sum()
        total = data + geo + depth + flip + lim
        if cfg.w_prior > 0:
            eye = torch.eye(3).unsqueeze(0)
            mu = pose_prior().encode(torch.cat([eye, R[1:]], 0).unsqueeze(0)).loc
            total = total + cfg.w_prior * mu.pow(2).mean()
        return total


def _mean_residual(obj: _Objective, params: torch.Tensor) -> tuple[float, tuple[float, float, float]]:
    with torch.no_grad():
        _, _, r, cam = obj.residuals(params)
        return float((obj.wt * r).sum() / obj.wt.sum()), tuple(float(c) for c in cam)  # type: ignore[return-value]


def fit_pose(init: Pose, lm: Landmarks, config: FitConfig | None = None,
             model: BodyLandmarkModel | None = None) -> FitResult:
    """Refine ``init`` (camera-aligned frame: facing the camera = +z, as the capture regressors answer) against
    ``lm``'s 2D image landmarks; see the module docstring. Never raises for bad input: the init comes back with
    ``ok=False`` and the reason."""
    import roma

    cfg = config or FitConfig()
    t0 = time.perf_counter()
    reason, wt_np = _check_inputs(init, lm, cfg)
    if reason:
        return FitResult(init, False, reason, seconds=time.perf_counter() - t0)
    model = model or default_model(cfg.hip_width)
    R0 = roma.rotvec_to_rotmat(torch.as_tensor(np.asarray(init.full(), np.float32).reshape(22, 3)))
    if cfg.camera not in ("weak", "perspective"):
        return FitResult(init, False, f"unknown camera model {cfg.camera!r} (weak or perspective)")
    obj = _Objective(R0, torch.as_tensor(lm.pixels(), dtype=torch.float32),
                     torch.as_tensor(wt_np, dtype=torch.float32), model, cfg, lm.image_size)
    delta = torch.zeros(69, requires_grad=True)
    before, _ = _mean_residual(obj, delta.detach())
    opt = torch.optim.LBFGS([delta], lr=cfg.lr, max_iter=cfg.iters, max_eval=int(cfg.iters * 1.25) + 1,
                            line_search_fn="strong_wolfe", tolerance_change=1e-9, tolerance_grad=1e-7)

    def closure():
        opt.zero_grad()
        loss = obj(delta)
        loss.backward()
        return loss

    try:
        with torch.enable_grad():
            opt.step(closure)
    except RuntimeError as e:  # a numerical failure of the optimiser: keep the init
        return FitResult(init, False, f"the fit failed: {e}", before, seconds=time.perf_counter() - t0)
    d = delta.detach()
    after, cam = _mean_residual(obj, d)
    if not (np.isfinite(after) and torch.isfinite(d).all()):
        return FitResult(init, False, "the fit diverged (non-finite result)", before, seconds=time.perf_counter() - t0)
    with torch.no_grad():
        aa = roma.rotmat_to_rotvec(obj.rotations(d[:66].view(22, 3))).numpy().astype(np.float32)
    pose = Pose(aa[0], aa[1:], np.asarray(init.transl, np.float32).copy())
    return FitResult(pose, True, "", before, after, time.perf_counter() - t0, cam)


def fit_to_lifted(init: Pose, lifted: np.ndarray, config: FitConfig | None = None,
                  model: BodyLandmarkModel | None = None) -> FitResult:
    """Refine ``init`` so that its 22 joints match ``lifted`` (22, 3): the lifter's own 3D joints for the same
    image, any frame and size — they are similarity-aligned onto the body at every step (Procrustes, closed form).
    Energy: mean squared joint distance / ``lift_sigma²`` + ``lift_w_init`` · geodesic distance² to the init +
    the joint limits; LBFGS over a rotation increment per joint (as :func:`fit_pose`). Never raises for bad input:
    the init comes back with ``ok=False`` and the reason. ``err_before`` / ``err_after``: mean joint distance (m)."""
    import roma

    cfg = config or FitConfig()
    t0 = time.perf_counter()
    full = np.asarray(init.full(), np.float64).reshape(-1)
    target = np.asarray(lifted, np.float64)
    if full.size != 66 or not np.all(np.isfinite(full)):
        return FitResult(init, False, "the regressor's pose is not finite")
    if target.shape != (22, 3) or not np.all(np.isfinite(target)):
        return FitResult(init, False, f"the lifted joints are not 22 finite 3D points (shape {target.shape})")
    model = model or default_model(cfg.hip_width)
    R0 = roma.rotvec_to_rotmat(torch.as_tensor(full.reshape(22, 3), dtype=torch.float32))
    T = torch.as_tensor(target, dtype=torch.float32)
    Tc = T - T.mean(0)
    limits = torch.as_tensor(np.radians(sk.JOINT_LIMITS_DEG), dtype=torch.float32)
    delta = torch.zeros(22, 3, requires_grad=True)

    def aligned(J: torch.Tensor) -> torch.Tensor:  # the target, similarity-aligned onto J (no gradient)
        Jc = J.detach() - J.detach().mean(0)
        U, S, Vt = torch.linalg.svd(Tc.T @ Jc)
        d = torch.ones(3)
        d[2] = torch.sign(torch.det(U @ Vt))
        scale = (S * d).sum() / Tc.pow(2).sum().clamp_min(1e-12)
        return scale * Tc @ (U * d) @ Vt + J.detach().mean(0)

    def energy(dl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        R = R0 @ roma.rotvec_to_rotmat(dl)
        J = model.forward(R)[1]
        dist = (J - aligned(J)).norm(dim=-1)
        total = dist.pow(2).mean() / cfg.lift_sigma ** 2 + cfg.lift_w_init * dl.pow(2).sum() \
            + cfg.w_limits * limit_excess(R[1:], limits[1:]).sum()
        return total, dist.mean()

    before = float(energy(delta.detach())[1])
    opt = torch.optim.LBFGS([delta], lr=1.0, max_iter=cfg.lift_iters, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = energy(delta)[0]
        loss.backward()
        return loss

    try:
        with torch.enable_grad():
            opt.step(closure)
    except RuntimeError as e:
        return FitResult(init, False, f"the 3D fit failed: {e}", before, seconds=time.perf_counter() - t0)
    d = delta.detach()
    after = float(energy(d)[1])
    if not (np.isfinite(after) and torch.isfinite(d).all()):
        return FitResult(init, False, "the 3D fit diverged", before, seconds=time.perf_counter() - t0)
    with torch.no_grad():
        aa = roma.rotmat_to_rotvec(R0 @ roma.rotvec_to_rotmat(d)).numpy().astype(np.float32)
    pose = Pose(aa[0], aa[1:], np.asarray(init.transl, np.float32).copy())
    return FitResult(pose, True, "", before, after, time.perf_counter() - t0)


class FittingRegressor:
    """Any capture regressor followed by :func:`fit_pose` (a ``PoseRegressor``: ``predict(landmarks, text)``);
    for the ``direct`` lifter, which exposes its lifted joints (``last_lifted``), :func:`fit_to_lifted` runs first
    (``FitConfig.lift_ik``; ``fit_2d=False`` leaves that 3D step alone).
    ``name`` is the inner regressor's (the model that answers; ``label`` adds "+fit"), ``refine`` is True.
    ``last_fit`` holds the last :class:`FitResult` (its ``reason`` says why a fit was skipped: the pose is then
    the inner regressor's unchanged). ``reset()`` and ``fallback_reason`` pass through to the inner one."""

    refine = True

    def __init__(self, inner, config: FitConfig | None = None):
        self.inner = inner
        self.config = config or FitConfig()
        self.name = str(getattr(inner, "name", "?"))
        self.label = f"{self.name}+fit"
        self.fallback_reason = getattr(inner, "fallback_reason", None)
        self.last_fit: FitResult | None = None
        self.last_lift: FitResult | None = None  # the 3D step (fit_to_lifted) of the last predict, when it ran

    def reset(self) -> None:
        reset = getattr(self.inner, "reset", None)
        if callable(reset):
            reset()

    def predict(self, landmarks: Landmarks, text: str | None = None) -> tuple[Pose, float]:
        pose, conf = self.inner.predict(landmarks, text)
        self.last_lift = None
        lifted = getattr(self.inner, "last_lifted", None) if self.config.lift_ik else None
        if lifted is not None and self.name == "direct":  # the 3D step was chosen for the direct lifter only
            self.last_lift = fit_to_lifted(pose, lifted, self.config)
            pose = self.last_lift.pose
        self.last_fit = fit_pose(pose, landmarks, self.config) if self.config.fit_2d else None
        return (self.last_fit.pose if self.last_fit is not None else pose), conf
