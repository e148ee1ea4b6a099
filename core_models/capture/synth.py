"""Synthetic MediaPipe-like landmark observations from the pose corpus (training data without a camera).

Pipeline (all numpy, vectorised over a batch):

1. **Pose → 33 BlazePose landmarks in 3D** (:class:`LandmarkModel`): the body's joints where BlazePose has them
   (shoulders, elbows, wrists, hips, knees, ankles) and chosen **surface vertices of the Anny mesh** for the rest
   (nose, eyes inner/centre/outer, ears, mouth corners, index/pinky knuckles, thumb tip, heels, toe tips), skinned
   with the mesh's own LBS weights — so the face follows the head, fingers the wrist, toes the ankle/foot.
   :data:`LANDMARK_VERTICES` lists the vertex ids; they were picked on the rest mesh by :func:`pick_vertices`
   (kept to re-derive them) and a test checks they sit where they should.
2. **Random camera** (:func:`sample_cameras`): azimuth around the body (frontal-biased mixture), elevation, roll,
   distance, field of view, aspect ratio (4:3 / 16:9 / portrait) and framing offset; pinhole projection.
3. **MediaPipe-like corruption** (:class:`SynthConfig`): per-landmark Gaussian jitter proportional to the
   on-screen torso size (calibrated, see below), occasional gross outliers and left/right limb swaps, self-occlusion
   (behind the torso, far-side limbs in profile, face turned away), random occluder boxes, truncation by the image
   border and upper-body framings; visibility/presence values drawn like MediaPipe's; world landmarks (metres,
   camera-aligned, hip-centred, y up as in :class:`~core_models.capture.landmarks.Landmarks`) with their own noise.

Calibration (how the defaults were set; re-run with ``python tools/calibrate_synth.py``): MediaPipe
(``full`` model, video mode) on the real video ``Sports2D/Demo/demo.mp4`` (PyPI ``sports2d``, walking person) and
image mode on ``opencv-doc`` ``basketball1/2.png`` and ``messi5.jpg``. There is no ground truth on those, so the
jitter is measured as the residual of a local quadratic fit over 7 frames (removes the motion, keeps the
frame-to-frame noise), divided by the on-screen torso length (shoulder-centre ↔ hip-centre) —
:func:`jitter_per_landmark`. Visibility statistics (means and 10th percentiles for seen / far-side landmarks) and
world-landmark bone-length spread come from the same run. Measured (torso units): face 0.013, hips 0.018,
shoulders 0.039, elbows/knees 0.06–0.10, wrists/ankles 0.13–0.18, hand/foot landmarks 0.14–0.20 (the walking
person is small, 11 % of the frame height, and seen from the side: an upper bound for a webcam user, hence the
per-sample scale factor ``noise_scale`` in [0.25, 1.0]); visibility ≈ 1.0 for seen landmarks, 0.13–0.6 (p10) for
the far-side arm/leg; world bone lengths vary by ±3–5 cm frame to frame.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from core_models import skeleton as sk
from core_models.capture.landmarks import LANDMARK_NAMES, LM, LM_MIRROR, NUM_LANDMARKS, Landmarks
from core_models.pose import euler_to_matrix

J = sk.JOINT_INDEX


#: left/right landmark map
LM_FLIP = LM_MIRROR

#: landmarks that are body joints
LANDMARK_JOINTS: dict[str, str] = {f"{s}_{n}": f"{s}_{n}" for s in ("left", "right")
                                   for n in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")}

#: landmarks that are Anny mesh vertices (picked on the rest mesh with :func:`pick_vertices`; left/right symmetric)
LANDMARK_VERTICES: dict[str, int] = {
    "nose": 297,
    "left_eye_inner": 6876, "left_eye": 6812, "left_eye_outer": 11437,
    "right_eye_inner": 108, "right_eye": 44, "right_eye_outer": 4835,
    "left_ear": 12160, "right_ear": 5579, "mouth_left": 7144, "mouth_right": 400,
    "left_pinky": 9121, "right_pinky": 2469, "left_index": 9884, "right_index": 3232,
    "left_thumb": 9410, "right_thumb": 2758,
    "left_heel": 12783, "right_heel": 6202, "left_foot_index": 13101, "right_foot_index": 6521,
}

#: calibrated image jitter per landmark, in torso lengths (see the module docstring)
CALIBRATED_SIGMA: np.ndarray = np.array([
    0.014, 0.013, 0.013, 0.013, 0.013, 0.013, 0.013, 0.012, 0.013, 0.014, 0.013,  # face
    0.039, 0.039,            # shoulders
    0.10, 0.10,              # elbows
    0.155, 0.155,            # wrists
    0.174, 0.174, 0.174, 0.174, 0.166, 0.166,  # pinky, index, thumb
    0.018, 0.018,            # hips
    0.073, 0.073,            # knees
    0.153, 0.153,            # ankles
    0.155, 0.155, 0.174, 0.174,  # heels, toes
], dtype=np.float32)

_LIMB_SIDE = np.array([1 if n.startswith("left") or n == "mouth_left" else (-1 if n.startswith("right")
                       or n == "mouth_right" else 0) for n in LANDMARK_NAMES])
_FACE = np.arange(11)
_EARS = np.array([LM["left_ear"], LM["right_ear"]])
_TORSO = np.array([LM["left_shoulder"], LM["right_shoulder"], LM["left_hip"], LM["right_hip"]])
# limb chains whose landmarks swap together in a left/right confusion
_ARM = np.array([LM[f"left_{n}"] for n in ("elbow", "wrist", "pinky", "index", "thumb")])
_LEG = np.array([LM[f"left_{n}"] for n in ("knee", "ankle", "heel", "foot_index")])


@dataclass
class SynthConfig:
    """Camera and corruption parameters (defaults: calibrated, see the module docstring)."""

    # camera
    frontal_prob: float = 0.6          # azimuth ~ N(0, frontal_std) with this probability, else uniform
    frontal_std_deg: float = 35.0
    elevation_std_deg: float = 10.0
    roll_std_deg: float = 3.0
    distance: tuple[float, float] = (1.8, 5.0)     # metres
    hfov_deg: tuple[float, float] = (45.0, 75.0)
    aspects: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720), (720, 1280))
    center_jitter: float = 0.15        # framing offset, fraction of the image
    upper_body_prob: float = 0.12      # webcam close-up: camera aimed at the chest, closer (legs truncated)
    # noise
    sigma: np.ndarray = field(default_factory=lambda: CALIBRATED_SIGMA.copy())
    noise_scale: tuple[float, float] = (0.25, 1.0)  # log-uniform per sample (the calibration video is the worst case)
    occluded_noise_mult: float = 1.6
    outlier_prob: float = 0.01         # per landmark: displaced by 0.3–0.8 torso lengths
    swap_prob: float = 0.01            # per sample: one arm or leg's left/right landmarks exchanged
    occluder_prob: float = 0.15        # per sample: a random box hides the landmarks under it
    world_sigma_m: tuple[float, float, float] = (0.02, 0.02, 0.04)
    world_scale: tuple[float, float] = (0.9, 1.1)   # MediaPipe's world skeleton has its own size
    # visibility
    vis_seen: tuple[float, float] = (0.85, 1.0)
    vis_hidden: tuple[float, float] = (0.05, 0.6)
    vis_truncated: tuple[float, float] = (0.0, 0.3)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["sigma"] = [float(x) for x in np.asarray(self.sigma)]
        return d


# --- pose → 3D landmarks ---------------------------------------------------------------------------------

class LandmarkModel:
    """The 33 BlazePose landmarks of posed bodies: joints + skinned mesh vertices (numpy).

    ``world(rotmats)`` takes local joint rotations (N, 22, 3, 3) and returns (N, 33, 3) in the body frame (y up,
    metres, pelvis at the rest pelvis position, no translation)."""

    def __init__(self, body=None):
        if body is None:
            from core_models.body import load_body

            body = load_body("anny")
        s = body.skinning
        self.rest_joints = np.asarray(s.rest_joints, np.float64)
        self._joint_of = np.full(NUM_LANDMARKS, -1)
        for lm, j in LANDMARK_JOINTS.items():
            self._joint_of[LM[lm]] = J[j]
        self._vert_lm = np.array([LM[n] for n in LANDMARK_VERTICES])
        vid = np.array(list(LANDMARK_VERTICES.values()))
        self.rest_vertices = np.asarray(s.rest_vertices, np.float64)[vid]   # (21, 3)
        self.weights = np.asarray(s.weights, np.float64)[vid]               # (21, 22)

    def world(self, rotmats: np.ndarray) -> np.ndarray:
        from core_models.kinematics import fk_numpy

        R = np.asarray(rotmats, np.float64)
        _, Jp, skin = fk_numpy(R, self.rest_joints)
        M = np.einsum("vj,...jab->...vab", self.weights, skin)                # (..., 21, 3, 4)
        V = np.einsum("...vab,vb->...va", M[..., :3], self.rest_vertices) + M[..., 3]
        out = np.empty(R.shape[:-3] + (NUM_LANDMARKS, 3))
        jl = self._joint_of >= 0
        out[..., jl, :] = Jp[..., self._joint_of[jl], :]
        out[..., self._vert_lm, :] = V
        return out.astype(np.float32)

    def world_from_poses(self, pose, chunk: int = 8192) -> np.ndarray:
        """(N, 33, 3) for a batched :class:`~core_models.pose.Pose` (translation ignored)."""
        mats = pose.matrices()
        mats = mats.reshape(-1, 22, 3, 3)
        return np.concatenate([self.world(mats[i:i + chunk]) for i in range(0, len(mats), chunk)], 0)


def pick_vertices(body) -> dict[str, int]:
    """Re-derive :data:`LANDMARK_VERTICES` on a body's rest mesh (T-pose, x = body's left, y up, z forward) from
    the skin weights and simple geometric rules (front-most head vertex at the eye/mouth heights, extreme lateral
    head vertex for the ears, top-of-hand vertices at the index/pinky knuckles, front-most hand vertex for the
    thumb, back-most / front-most foot vertices for heels / toes)."""
    s = body.skinning
    V = np.asarray(s.rest_vertices, np.float64)
    W = np.asarray(s.weights)
    Jr = np.asarray(s.rest_joints, np.float64)
    head = W[:, J["head"]] > 0.9
    hv = np.nonzero(head)[0]
    H = V[hv]
    out = {"nose": int(hv[np.argmax(H[:, 2] - 5 * np.abs(H[:, 0]))])}
    nose_y = V[out["nose"], 1]
    hj = Jr[J["head"]]

    def front(mask):
        idx = np.nonzero(mask & head)[0]
        return int(idx[np.argmax(V[idx, 2])])

    for sg, s_ in ((1, "left"), (-1, "right")):
        for name, x, dy in (("eye_inner", 0.017, 0.035), ("eye", 0.032, 0.035), ("eye_outer", 0.047, 0.033)):
            out[f"{s_}_{name}"] = front((np.abs(V[:, 0] - sg * x) < 0.005) & (np.abs(V[:, 1] - (nose_y + dy)) < 0.006))
        out[f"mouth_{s_}"] = front((np.abs(V[:, 0] - sg * 0.024) < 0.005)
                                   & (np.abs(V[:, 1] - (nose_y - 0.045)) < 0.008))
        out[f"{s_}_ear"] = int(hv[np.argmax(sg * H[:, 0] - 2 * np.abs(H[:, 1] - (hj[1] + 0.03))
                                            - 2 * np.abs(H[:, 2] - hj[2]))])
        hand = np.nonzero(W[:, J[f"{s_}_wrist"]] > 0.5)[0]
        wx = Jr[J[f"{s_}_wrist"], 0]
        for name, dx, z0 in (("index", 0.095, 0.025), ("pinky", 0.085, -0.03)):
            cand = hand[np.abs(sg * (V[hand, 0] - wx) - dx) < 0.006]
            out[f"{s_}_{name}"] = int(cand[np.argmax(V[cand, 1] - 3 * np.abs(V[cand, 2] - z0))])
        cand = hand[sg * (V[hand, 0] - wx) < 0.10]
        out[f"{s_}_thumb"] = int(cand[np.argmax(V[cand, 2])])
        foot = np.nonzero((W[:, J[f"{s_}_foot"]] + W[:, J[f"{s_}_ankle"]]) > 0.5)[0]
        F = V[foot]
        ax = Jr[J[f"{s_}_ankle"], 0]
        out[f"{s_}_heel"] = int(foot[np.argmax(-F[:, 2] - 2 * np.abs(F[:, 0] - ax) - 0.5 * F[:, 1])])
        out[f"{s_}_foot_index"] = int(foot[np.argmax(F[:, 2] - 0.5 * np.abs(F[:, 0] - ax))])
    return out


# --- cameras ---------------------------------------------------------------------------------------------

@dataclass
class Cameras:
    """N pinhole cameras. ``R`` (N,3,3) maps body-frame directions to our camera-aligned frame (x image-right,
    y up, z towards the camera — the frame of MediaPipe world landmarks in :class:`Landmarks`); the body's
    pelvis sits at ``center`` (N,3) in that frame, ``center[:, 2] = -distance``. ``focal`` in pixels,
    ``principal`` (N,2) pixels, ``size`` (N,2) (width, height)."""

    R: np.ndarray
    center: np.ndarray
    focal: np.ndarray
    principal: np.ndarray
    size: np.ndarray
    azimuth: np.ndarray

    def take(self, i):
        return Cameras(self.R[i], self.center[i], self.focal[i], self.principal[i], self.size[i], self.azimuth[i])


def sample_cameras(n: int, rng: np.random.Generator, cfg: SynthConfig | None = None) -> Cameras:
    cfg = cfg or SynthConfig()
    frontal = rng.random(n) < cfg.frontal_prob
    az = np.where(frontal, rng.normal(0, np.radians(cfg.frontal_std_deg), n), rng.uniform(-np.pi, np.pi, n))
    el = rng.normal(0, np.radians(cfg.elevation_std_deg), n)
    roll = rng.normal(0, np.radians(cfg.roll_std_deg), n)
    # body yaw by -az is the camera moving around the body by az; then the camera tilts (el) and rolls
    R = euler_to_matrix(np.stack([roll, el, -az], -1), "ZXY", degrees=False)  # Rz(roll)·Rx(el)·Ry(-az)
    upper = rng.random(n) < cfg.upper_body_prob
    dist = rng.uniform(*cfg.distance, n)
    dist = np.where(upper, rng.uniform(0.8, 1.4, n), dist)
    sizes = np.array(cfg.aspects, np.float64)[rng.integers(0, len(cfg.aspects), n)]
    hfov = np.radians(rng.uniform(*cfg.hfov_deg, n))
    focal = sizes[:, 0] / 2 / np.tan(hfov / 2)
    principal = sizes / 2
    # the pelvis is seen off-centre; upper-body framings aim at the chest (pelvis low in the image)
    off = rng.uniform(-cfg.center_jitter, cfg.center_jitter, (n, 2))
    off[:, 1] += np.where(upper, -0.45, 0.0)   # pelvis below the centre (y up in our frame)
    center = np.stack([off[:, 0] * sizes[:, 0] * dist / focal, off[:, 1] * sizes[:, 1] * dist / focal, -dist], -1)
    return Cameras(R.astype(np.float64), center, focal, principal, sizes, az)


def project(points_cam: np.ndarray, cams: Cameras) -> np.ndarray:
    """Points in the camera-aligned frame (…, K, 3) with the camera at the origin looking along −z → pixels
    (…, K, 2) (x right, y down)."""
    depth = np.maximum(-points_cam[..., 2], 1e-3)
    f = cams.focal.reshape(cams.focal.shape + (1,) * (points_cam.ndim - 2))
    px = cams.principal[..., None, 0] if points_cam.ndim == 3 else cams.principal[:, None, None, 0]
    py = cams.principal[..., None, 1] if points_cam.ndim == 3 else cams.principal[:, None, None, 1]
    x = px + f * points_cam[..., 0] / depth
    y = py - f * points_cam[..., 1] / depth
    return np.stack([x, y], -1)


# --- observations ----------------------------------------------------------------------------------------

@dataclass
class SynthObservations:
    """A batch of synthetic observations; arrays (N, [T,] 33, …) float32. ``pixels`` image coordinates in pixels
    (x right, y down); ``image`` MediaPipe-normalised (x/w, y/h, relative z); ``world`` MediaPipe-like world
    landmarks (camera-aligned, hip-centred, metres, y up, z towards the camera); ``visibility``/``presence``;
    ``R`` (N,3,3) body → camera-aligned rotation (for targets); ``true_cam`` noise-free landmarks in the
    camera-aligned frame (N, [T,] 33, 3)."""

    pixels: np.ndarray
    image: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    size: np.ndarray
    R: np.ndarray
    true_cam: np.ndarray

    def landmarks(self, i: int, t: int | None = None) -> Landmarks:
        sel = (i,) if t is None else (i, t)
        return Landmarks(self.image[sel], self.world[sel], self.visibility[sel], self.presence[sel],
                         (int(self.size[i][0]), int(self.size[i][1])))


def _point_in_quad(p, quad):
    """p (..., K, 2), quad (..., 4, 2) convex polygon in order → (..., K) bool."""
    inside = np.ones(p.shape[:-1], bool)
    sign = None
    for k in range(4):
        a, b = quad[..., k, :], quad[..., (k + 1) % 4, :]
        cr = (b[..., None, 0] - a[..., None, 0]) * (p[..., 1] - a[..., None, 1]) - \
             (b[..., None, 1] - a[..., None, 1]) * (p[..., 0] - a[..., None, 0])
        s = np.sign(cr)
        sign = s if sign is None else sign
        inside &= (s == sign) | (s == 0)
    return inside


def _camera_view(Wb: np.ndarray, cams: Cameras):
    """→ (rel: camera-aligned hip-centred landmarks, P: camera-frame landmarks, pix: their projection,
    torso: on-screen torso size with a floor from the 3D torso length — a torso seen end-on still has a scale)."""
    N, T = Wb.shape[:2]
    hip_c = (Wb[:, :, LM["left_hip"]] + Wb[:, :, LM["right_hip"]]) / 2          # (N,T,3)
    ref = hip_c[:, T - 1:T]                                                       # the window's last frame
    rel = np.einsum("nab,ntkb->ntka", cams.R, Wb - ref[:, :, None])            # camera-aligned, hip-centred
    P = rel + cams.center[:, None, None]                                          # camera at origin
    pix = project(P.reshape(N, T * NUM_LANDMARKS, 3), cams).reshape(N, T, NUM_LANDMARKS, 2)
    sh_c = (pix[:, :, LM["left_shoulder"]] + pix[:, :, LM["right_shoulder"]]) / 2
    hp_c = (pix[:, :, LM["left_hip"]] + pix[:, :, LM["right_hip"]]) / 2
    torso3d = np.linalg.norm(rel[:, :, _TORSO[:2]].mean(2) - rel[:, :, _TORSO[2:]].mean(2), axis=-1)
    torso = np.maximum(np.linalg.norm(sh_c - hp_c, axis=-1),
                       0.5 * torso3d * cams.focal[:, None] / -cams.center[:, None, 2])
    return rel, P, pix, torso


def _unit_rows(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-6)


def _self_occlusion(rel: np.ndarray, P: np.ndarray, pix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N,T,33) hidden by the body itself: behind the torso, far-side limbs in profile, a turned-away face."""
    N = len(P)
    view = -P / np.linalg.norm(P, axis=-1, keepdims=True)                       # landmark → camera direction
    hidden = np.zeros(P.shape[:-1], bool)
    # behind the torso quad (shoulders, hips), farther than the torso's plane there
    quad = pix[:, :, [LM["left_shoulder"], LM["right_shoulder"], LM["right_hip"], LM["left_hip"]]]
    inside = _point_in_quad(pix, quad)
    torso_depth = P[:, :, _TORSO, 2].mean(-1, keepdims=True)
    hidden |= inside & (P[..., 2] < torso_depth - 0.06)
    hidden[:, :, _TORSO] = False
    # far-side limbs in profile: body's lateral axis (left hip - right hip) against the view direction
    lat = _unit_rows(rel[:, :, LM["left_hip"]] - rel[:, :, LM["right_hip"]]
                     + rel[:, :, LM["left_shoulder"]] - rel[:, :, LM["right_shoulder"]])
    side = np.einsum("ntc,ntc->nt", lat, view[:, :, LM["left_hip"]])                 # >0: left side faces the camera
    far = (_LIMB_SIDE[None, None] * side[..., None]) < -0.55
    hidden |= far & (rng.random((N, 1, NUM_LANDMARKS)) < 0.7) & (_LIMB_SIDE != 0)[None, None]
    # face turned away: nose/eyes/mouth hidden when the face points away; an ear when it faces away
    fwd = _unit_rows(rel[:, :, LM["nose"]] - (rel[:, :, LM["left_ear"]] + rel[:, :, LM["right_ear"]]) / 2)
    facing = np.einsum("ntc,ntc->nt", fwd, view[:, :, LM["nose"]])
    face_front = np.array([i for i in _FACE if i not in _EARS])
    hidden[:, :, face_front] |= (facing < -0.25)[..., None]
    head_c = (rel[:, :, LM["left_ear"]] + rel[:, :, LM["right_ear"]]) / 2
    for e in _EARS:
        out_dir = _unit_rows(rel[:, :, e] - head_c)
        hidden[:, :, e] |= np.einsum("ntc,ntc->nt", out_dir, view[:, :, e]) < -0.35
    return hidden


def _occluded_by_boxes(pix: np.ndarray, w: np.ndarray, h: np.ndarray, rng: np.random.Generator,
                       cfg: SynthConfig) -> np.ndarray:
    """(N,T,33) inside a random occluder box (one per sample with probability occluder_prob, shared over
    the window)."""
    N = len(pix)
    occ = rng.random(N) < cfg.occluder_prob
    if not occ.any():
        return np.zeros(pix.shape[:-1], bool)
    bw, bh = rng.uniform(0.15, 0.6, N) * w, rng.uniform(0.15, 0.6, N) * h
    bx, by = rng.uniform(0, 1, N) * w - bw / 2, rng.uniform(0, 1, N) * h - bh / 2
    inb = ((pix[..., 0] > bx[:, None, None]) & (pix[..., 0] < (bx + bw)[:, None, None]) &
           (pix[..., 1] > by[:, None, None]) & (pix[..., 1] < (by + bh)[:, None, None]))
    return inb & occ[:, None, None]


def _noisy_pixels(pix, torso, hidden, outside, rng: np.random.Generator, cfg: SynthConfig):
    """Jitter scaled by the torso (more where unseen), outliers and left/right swaps of a limb
    → (observed pixels, per-landmark sigma, per-sample noise scale)."""
    N, T = pix.shape[:2]
    scale = np.exp(rng.uniform(np.log(cfg.noise_scale[0]), np.log(cfg.noise_scale[1]), N))
    sig = np.asarray(cfg.sigma, np.float64)[None, None] * (scale[:, None, None] * torso[..., None])
    sig = np.where(hidden | outside, sig * cfg.occluded_noise_mult, sig)
    noise = rng.normal(size=pix.shape) * sig[..., None]
    outl = rng.random((N, T, NUM_LANDMARKS)) < cfg.outlier_prob
    ang = rng.uniform(0, 2 * np.pi, (N, T, NUM_LANDMARKS))
    mag = rng.uniform(0.3, 0.8, (N, T, NUM_LANDMARKS)) * torso[..., None]
    noise += outl[..., None] * np.stack([np.cos(ang), np.sin(ang)], -1) * mag[..., None]
    obs = pix + noise
    # left/right confusion of one arm or leg (whole window)
    swap = rng.random(N) < cfg.swap_prob
    if swap.any():
        legs = rng.random(N) < 0.5
        for i in np.nonzero(swap)[0]:
            ch = _LEG if legs[i] else _ARM
            obs[i][:, np.concatenate([ch, LM_FLIP[ch]])] = obs[i][:, np.concatenate([LM_FLIP[ch], ch])]
    return obs, sig, scale


def synthesize(world_body: np.ndarray, rng: np.random.Generator, cfg: SynthConfig | None = None,
               cams: Cameras | None = None) -> SynthObservations:
    """Landmark observations of posed bodies. ``world_body`` (N, 33, 3) or (N, T, 33, 3) (a short window of one
    clip; the camera, occluders and noise scale are shared over the window, the jitter is per frame) from
    :meth:`LandmarkModel.world`. Stages (random draws in this order): camera view → self-occlusion → occluder
    boxes → truncation → pixel noise → visibility/presence → image landmarks → world landmarks."""
    cfg = cfg or SynthConfig()
    Wb = np.asarray(world_body, np.float64)
    seq = Wb.ndim == 4
    if not seq:
        Wb = Wb[:, None]
    N, T = Wb.shape[:2]
    cams = cams or sample_cameras(N, rng, cfg)
    rel, P, pix, torso = _camera_view(Wb, cams)
    w, h = cams.size[:, 0], cams.size[:, 1]
    hidden = _self_occlusion(rel, P, pix, rng)
    hidden |= _occluded_by_boxes(pix, w, h, rng, cfg)
    outside = ((pix[..., 0] < 0.0) | (pix[..., 0] > w[:, None, None]) |   # truncation by the image border
               (pix[..., 1] < 0.0) | (pix[..., 1] > h[:, None, None]))
    obs, sig, scale = _noisy_pixels(pix, torso, hidden, outside, rng, cfg)
    # visibility / presence values
    vis = rng.uniform(*cfg.vis_seen, (N, T, NUM_LANDMARKS))
    vis = np.where(hidden, rng.uniform(*cfg.vis_hidden, (N, T, NUM_LANDMARKS)), vis)
    vis = np.where(outside, rng.uniform(*cfg.vis_truncated, (N, T, NUM_LANDMARKS)), vis)
    pres = np.where(outside, rng.uniform(*cfg.vis_truncated, (N, T, NUM_LANDMARKS)),
                    rng.uniform(0.9, 1.0, (N, T, NUM_LANDMARKS)))
    # MediaPipe-normalised image landmarks (relative z on the x scale, hips at 0, closer = negative)
    depth = -P[..., 2]
    zc = depth - (-(P[:, :, LM["left_hip"], 2] + P[:, :, LM["right_hip"], 2]) / 2)[..., None]
    zrel = zc * cams.focal[:, None, None] / depth / w[:, None, None]
    zrel += rng.normal(size=zrel.shape) * 2 * sig / w[:, None, None]
    image = np.stack([obs[..., 0] / w[:, None, None], obs[..., 1] / h[:, None, None], zrel], -1)
    # world landmarks: camera-aligned, hip-centred per frame, own scale and noise
    wl = rel - (rel[:, :, LM["left_hip"]] + rel[:, :, LM["right_hip"]])[:, :, None] / 2
    wl = wl * np.asarray(rng.uniform(*cfg.world_scale, N))[:, None, None, None]
    wsig = np.asarray(cfg.world_sigma_m) * scale[:, None, None, None] * (1 + (hidden | outside)[..., None])
    wl = wl + rng.normal(size=wl.shape) * wsig

    def fix(a):
        return (a if seq else a[:, 0]).astype(np.float32)

    return SynthObservations(pixels=fix(obs), image=fix(image), world=fix(wl), visibility=fix(vis),
                             presence=fix(pres), size=cams.size.astype(np.float32), R=cams.R.astype(np.float32),
                             true_cam=fix(rel))


# --- model input features (shared by the lifter, the PoseEmbroider and the live regressor) -----------------

KEYPOINT_DIM = 4  # x, y (hip-centred, torso-normalised, y up), visibility, presence
#: with MediaPipe's world landmarks appended (x, y, z, hip-centred, divided by their own torso length)
KEYPOINT_DIM_WORLD = 7


def world_features(world: np.ndarray) -> np.ndarray:
    """(…, 33, 3) world landmarks (camera-aligned, y up, metres) → centred on their hip centre and divided by
    their own torso length (shoulder centre ↔ hip centre, floored at 5 cm): the 3D shape without the size."""
    w = np.asarray(world, np.float32)
    hip = (w[..., LM["left_hip"], :] + w[..., LM["right_hip"], :]) / 2
    sh = (w[..., LM["left_shoulder"], :] + w[..., LM["right_shoulder"], :]) / 2
    torso = np.maximum(np.linalg.norm(sh - hip, axis=-1), 0.05)
    return ((w - hip[..., None, :]) / torso[..., None, None]).astype(np.float32)


def keypoint_features(pixels: np.ndarray, visibility: np.ndarray, presence: np.ndarray | None = None,
                      world: np.ndarray | None = None) -> np.ndarray:
    """(…, [T,] 33, 2) pixel landmarks (x right, y down) → (…, [T,] 33, 4) model input: centred on the hip centre
    of the **last** frame, divided by a robust body scale of that frame (the larger of the shoulder→hip torso
    length and half the shoulder/hip spread), y flipped up; visibility and presence appended. Works for a single
    frame (…, 33, 2) or a window (…, T, 33, 2). ``world`` (…, [T,] 33, 3) MediaPipe world landmarks: appended
    through :func:`world_features` → (…, [T,] 33, 7) (:data:`KEYPOINT_DIM_WORLD`)."""
    p = np.asarray(pixels, np.float32)
    vis = np.asarray(visibility, np.float32)
    pres = np.ones_like(vis) if presence is None else np.asarray(presence, np.float32)
    last = p[..., -1, :, :] if p.ndim >= 4 else p
    hip = (last[..., LM["left_hip"], :] + last[..., LM["right_hip"], :]) / 2
    sh = (last[..., LM["left_shoulder"], :] + last[..., LM["right_shoulder"], :]) / 2
    torso = np.linalg.norm(sh - hip, axis=-1)
    spread = np.maximum(np.linalg.norm(last[..., LM["left_hip"], :] - last[..., LM["right_hip"], :], axis=-1),
                        np.linalg.norm(last[..., LM["left_shoulder"], :] - last[..., LM["right_shoulder"], :], axis=-1))
    s = np.maximum(np.maximum(torso, spread), 1e-3)
    if p.ndim >= 4:
        hip, s = hip[..., None, None, :], s[..., None, None, None]
    else:
        hip, s = hip[..., None, :], s[..., None, None]
    xy = (p - hip) / s
    xy = xy * np.array([1.0, -1.0], np.float32)
    parts = [xy, vis[..., None], pres[..., None]]
    if world is not None:
        parts.append(world_features(world))
    return np.concatenate(parts, -1).astype(np.float32)


def landmarks_features(seq: list[Landmarks], world: bool = False) -> np.ndarray:
    """Model input for real MediaPipe output: a list of Landmarks (a window, oldest first; one item = single
    frame) → (T, 33, 4), or (T, 33, 7) with the world landmarks (``world=True``)."""
    pix = np.stack([lm.pixels() if lm.image_size[0] > 0 else lm.image[:, :2] for lm in seq])
    vis = np.stack([lm.visibility for lm in seq])
    pres = np.stack([lm.presence for lm in seq])
    return keypoint_features(pix, vis, pres, np.stack([lm.world for lm in seq]) if world else None)


# --- calibration helpers ---------------------------------------------------------------------------------

def jitter_per_landmark(image_xy: np.ndarray, size: tuple[int, int], window: int = 7) -> np.ndarray:
    """Frame-to-frame jitter of a landmark track (F, 33, 2) normalised image coordinates (NaN rows = missed
    frames), in torso lengths: residual of a local quadratic fit over ``window`` frames (the motion is removed,
    the noise stays), corrected for the fit's degrees of freedom. Returns (33,)."""
    w, h = size
    p = np.asarray(image_xy, np.float64)[..., :2] * np.array([w, h])
    ok = ~np.isnan(p).any(axis=(1, 2))
    torso = np.linalg.norm((p[:, LM["left_shoulder"]] + p[:, LM["right_shoulder"]]) / 2
                           - (p[:, LM["left_hip"]] + p[:, LM["right_hip"]]) / 2, axis=-1)
    K = window
    t = np.arange(K) - K // 2
    A = np.stack([t ** 0, t, t ** 2], 1)
    Hm = A @ np.linalg.pinv(A)
    res = []
    for s0 in range(0, len(p) - K + 1):
        if not ok[s0:s0 + K].all():
            continue
        seg = p[s0:s0 + K]
        r = (seg - np.einsum("ij,j...->i...", Hm, seg))[K // 2] / torso[s0 + K // 2]
        res.append(r)
    if not res:
        return np.full(NUM_LANDMARKS, np.nan)
    r2 = np.array(res) ** 2
    return np.sqrt(np.mean(r2, axis=(0, 2)) / (1 - Hm[K // 2, K // 2]))
